/* Pseudonymous tokens (doc/design.md §5, reply mode "token"). Pure: the period
 * number, the keyed hash, the base32 text, and the parsers for durations and
 * times that the daemon and privident-token share. No I/O, no clock: the
 * caller passes the time in. */
#ifndef PRIVIDENT_TOKEN_H
#define PRIVIDENT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* The key: crypto_generichash_KEYBYTES, the size BLAKE2b is designed for. */
#define TOKEN_KEY_BYTES 32
/* The hash is always this long (crypto_generichash_BYTES); a token is a
 * prefix of its base32 text, so a token of any allowed length is checked
 * against the same hash, whatever --token-length the daemon used. */
#define TOKEN_HASH_BYTES 32

/* Token length in base32 characters (5 bits each). 8 (40 bits): below
 * that, tokens of a large host start to collide and a reveal of a random
 * token would often name someone; 26 (130 bits): more tells nobody
 * anything more, and ident user ids are often cut short by clients.
 * Default 10 (50 bits): Solanum, UnrealIRCd and InspIRCd cut an ident at
 * USERLEN, 10 characters, so a longer token is shown cut on IRC. A reveal
 * takes the length from the token itself, so tokens made under the old
 * default of 16 are still found. */
#define TOKEN_LENGTH_MIN 8
#define TOKEN_LENGTH_MAX 26
#define TOKEN_LENGTH_DEFAULT 10

/* Rotation period, seconds. 0 is "never". At least an hour: shorter
 * periods make a token useless for banning one abuser, and a reveal looks
 * only one period either side of the report. At most 366 days: for longer
 * use never. */
#define TOKEN_PERIOD_NEVER 0u
#define TOKEN_PERIOD_MIN 3600u
#define TOKEN_PERIOD_MAX (366u * 86400u)
#define TOKEN_PERIOD_DEFAULT (7u * 86400u)

/* Periods count from 1970-01-05T00:00:00Z, a Monday: daily periods start
 * at midnight UTC and weekly ones on Mondays. */
#define TOKEN_EPOCH 345600

/* What the hash covers, in order: this tag (so the key is never used for
 * another purpose's input by accident, and a new scheme gets a new tag),
 * the uid (4 octets, big-endian), the address family (one octet: 4 or 6),
 * the querier's address (4 or 16 octets), the period number (8 octets,
 * big-endian two's complement). */
#define TOKEN_TAG "privident-token-v1"
#define TOKEN_MESSAGE_MAX (sizeof(TOKEN_TAG) - 1 + 4 + 1 + 16 + 8)

/* The period that contains time now (seconds since the epoch): floor
 * division, so times before TOKEN_EPOCH work too. 0 for never. */
int64_t token_period_number(int64_t now, unsigned period);

/* The first second of period n and the first second after it. */
void token_period_bounds(int64_t n, unsigned period, int64_t *start,
                         int64_t *end);

/* The hashed message for (uid, family, addr, n) into buf (at least
 * TOKEN_MESSAGE_MAX). family is AF_INET (4 octets of addr) or AF_INET6
 * (16). Returns its length, or 0 for another family. */
size_t token_message(uint8_t *buf, uint32_t uid, int family,
                     const uint8_t *addr, int64_t n);

/* RFC 4648 base32, lower case, no padding: the first nchars characters of
 * the encoding of in, the last character padded with zero bits (nchars <=
 * ceil(inlen * 8 / 5)). out gets nchars + 1 bytes.
 * Returns 0, or -1 if in is too short. */
int token_base32(const uint8_t *in, size_t inlen, size_t nchars, char *out);

/* The token: base32(BLAKE2b-256 keyed with key, over token_message), cut to
 * length characters (TOKEN_LENGTH_MIN..MAX). out gets length + 1 bytes.
 * Returns 0, or -1 for a bad length or family. */
int token_make(const uint8_t key[TOKEN_KEY_BYTES], uint32_t uid, int family,
               const uint8_t *addr, int64_t n, unsigned length, char *out);

/* Whether s is a token's text: TOKEN_LENGTH_MIN..MAX characters of the
 * base32 alphabet, either case. */
int token_valid_text(const char *s);

/* "never", or a whole number with a unit: h (hours), d (days), w (weeks),
 * from TOKEN_PERIOD_MIN to TOKEN_PERIOD_MAX. Returns 0 and the seconds (0
 * for never), or -1. */
int token_parse_period(const char *s, unsigned *out);

/* A time: seconds since the epoch (digits only), a date "YYYY-MM-DD"
 * (midnight UTC), or "YYYY-MM-DDTHH:MM:SS" with an optional "Z" (UTC).
 * Returns 0 and the seconds, or -1. */
int token_parse_time(const char *s, int64_t *out);

/* "YYYY-MM-DD" for a time at midnight UTC, else "YYYY-MM-DDTHH:MM:SSZ".
 * buf needs TOKEN_TIME_TEXT bytes. */
#define TOKEN_TIME_TEXT 32
void token_format_time(int64_t t, char *buf, size_t size);

#endif
