/* Parsing RFC 1413 replies from untrusted servers:
 *
 *   <port> , <port> : USERID : <opsys>[,<charset>] : <user id>
 *   <port> , <port> : ERROR : <error>
 *
 * with any white space (space, tab) around the tokens, and CR LF, LF or
 * nothing at the end. Every field is copied only after it has been checked
 * against its own bound, so nothing a server sends can overflow a field. */
#include "replyparse.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Longest reply type keyword: "USERID" ("ERROR" is shorter). */
#define TYPE_MAX 6

/* The unread part of the line. */
struct cursor {
	const char *p;
	const char *end;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

/* White space, then the separator ch. */
static bool expect(struct cursor *c, char ch)
{
	skip_space(c);
	if (c->p == c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* White space, then 1 to PORT_DIGITS_MAX digits. The value is not checked
 * against 1..65535: a server echoing a bad query ("0 , 0 : ERROR :
 * INVALID-PORT") is still a well-formed reply. */
static bool parse_port(struct cursor *c, unsigned *port)
{
	int digits = 0;

	skip_space(c);
	*port = 0;
	while (c->p < c->end && is_digit(*c->p)) {
		if (++digits > PORT_DIGITS_MAX)
			return false;
		*port = *port * 10 + (unsigned)(*c->p - '0');
		c->p++;
	}
	return digits > 0;
}

/* Letters, digits and '-': the reply type and the error name. */
static bool is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       is_digit(c) || c == '-';
}

/* The opsys and charset: RFC 1413 takes them from the assigned numbers
 * lists, whose names hold characters such as '/' and '.' ("OS/2"), so any
 * visible ASCII is accepted except the separators ',' and ':'. */
static bool is_opsys_char(char c)
{
	return c > ' ' && c < 0x7f && c != ',' && c != ':';
}

/* White space, then a token of 1..max characters for which ok() holds,
 * copied NUL terminated into out (max + 1 bytes). */
static bool parse_token(struct cursor *c, bool (*ok)(char), char *out,
                        size_t max)
{
	size_t n = 0;

	skip_space(c);
	while (c->p + n < c->end && ok(c->p[n]))
		n++;
	if (n == 0 || n > max)
		return false;
	memcpy(out, c->p, n);
	out[n] = '\0';
	c->p += n;
	return true;
}

static bool at_end(struct cursor *c)
{
	skip_space(c);
	return c->p == c->end;
}

static void upcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* ": <error>" and nothing more. Names are case-insensitive, so they are
 * reported in upper case; any name is accepted (RFC 1413 allows "X"
 * extensions) as long as it is a token. */
static int parse_error(struct cursor *c, struct ident_reply *r)
{
	if (!expect(c, ':') ||
	    !parse_token(c, is_name_char, r->error, OPSYS_MAX) || !at_end(c))
		return -1;
	upcase(r->error);
	return 0;
}

/* ": <opsys>[,<charset>] : <user id>". The user id is the rest of the line:
 * it may hold colons and white space, but the white space the servers put
 * after the colon is not part of it. */
static int parse_userid(struct cursor *c, struct ident_reply *r)
{
	size_t len;

	if (!expect(c, ':') ||
	    !parse_token(c, is_opsys_char, r->opsys, OPSYS_MAX))
		return -1;
	if (expect(c, ',') &&
	    !parse_token(c, is_opsys_char, r->charset, OPSYS_MAX))
		return -1;
	if (!expect(c, ':'))
		return -1;
	skip_space(c);
	len = (size_t)(c->end - c->p);
	if (len == 0 || len > USERID_MAX)
		return -1;
	memcpy(r->userid, c->p, len);
	r->userid[len] = '\0';
	r->is_userid = true;
	return 0;
}

/* The line without its CR LF, LF or CR. */
static size_t strip_terminator(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/* NUL, CR and LF may not appear inside a reply, in the user id or anywhere. */
static bool has_forbidden(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

static int parse_line(const char *line, size_t len, struct ident_reply *r)
{
	struct cursor c;
	char type[TYPE_MAX + 1];

	len = strip_terminator(line, len);
	if (has_forbidden(line, len))
		return -1;
	c.p = line;
	c.end = line + len;
	if (!parse_port(&c, &r->server_port) || !expect(&c, ',') ||
	    !parse_port(&c, &r->client_port) || !expect(&c, ':') ||
	    !parse_token(&c, is_name_char, type, TYPE_MAX))
		return -1;
	if (strcasecmp(type, "USERID") == 0)
		return parse_userid(&c, r);
	if (strcasecmp(type, "ERROR") == 0)
		return parse_error(&c, r);
	return -1;
}

/* On failure nothing half-parsed is left behind for a careless caller. */
int ident_reply_parse(const char *line, size_t len, struct ident_reply *r)
{
	memset(r, 0, sizeof *r);
	if (line == NULL || parse_line(line, len, r) < 0) {
		memset(r, 0, sizeof *r);
		return -1;
	}
	return 0;
}

/* ---- a user id made visible ------------------------------------------- */

/* Well-formed UTF-8 by its lead octet (The Unicode Standard, Table 3-7):
 * the sequence's length and the range its second octet must be in, which
 * is what keeps out overlong forms, surrogates and values past U+10FFFF.
 * Every later octet is 80..BF. */
static const struct {
	uint8_t lead_lo, lead_hi, len, second_lo, second_hi;
} utf8_forms[] = {
	{ 0xc2, 0xdf, 2, 0x80, 0xbf },
	{ 0xe0, 0xe0, 3, 0xa0, 0xbf },
	{ 0xe1, 0xec, 3, 0x80, 0xbf },
	{ 0xed, 0xed, 3, 0x80, 0x9f },
	{ 0xee, 0xef, 3, 0x80, 0xbf },
	{ 0xf0, 0xf0, 4, 0x90, 0xbf },
	{ 0xf1, 0xf3, 4, 0x80, 0xbf },
	{ 0xf4, 0xf4, 4, 0x80, 0x8f },
};

/* The character at s (n > 0 octets left) into *cp: its length, or 0 if
 * the octets there are not one well-formed UTF-8 character. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	for (size_t f = 0; f < sizeof utf8_forms / sizeof utf8_forms[0]; f++) {
		size_t len = utf8_forms[f].len;

		if (s[0] < utf8_forms[f].lead_lo || s[0] > utf8_forms[f].lead_hi)
			continue;
		if (n < len || s[1] < utf8_forms[f].second_lo ||
		    s[1] > utf8_forms[f].second_hi)
			return 0;
		*cp = s[0] & (0x7fu >> len);
		for (size_t i = 1; i < len; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			*cp = *cp << 6 | (s[i] & 0x3fu);
		}
		return len;
	}
	return 0;
}

/* Code points that a terminal shows as nothing, as something else, or
 * acts on, so that a name holding one can look like another name: */
static const struct { uint32_t lo, hi; } hidden_ranges[] = {
	{ 0x0000, 0x001f },   /* C0 controls (escape sequences, CR, BS...) */
	{ 0x007f, 0x00a0 },   /* DEL, C1 controls (CSI), no-break space */
	{ 0x00ad, 0x00ad },   /* soft hyphen */
	{ 0x034f, 0x034f },   /* combining grapheme joiner */
	{ 0x061c, 0x061c },   /* Arabic letter mark (bidirectional) */
	{ 0x115f, 0x1160 },   /* Hangul fillers */
	{ 0x1680, 0x1680 },   /* Ogham space mark */
	{ 0x17b4, 0x17b5 },   /* Khmer inherent vowels (invisible) */
	{ 0x180b, 0x180f },   /* Mongolian selectors, vowel separator U+180E */
	{ 0x2000, 0x200f },   /* spaces, zero width (non-)joiners, LRM, RLM */
	{ 0x2028, 0x202f },   /* line/paragraph separators, LRE..RLO, narrow
	                         no-break space */
	{ 0x205f, 0x206f },   /* word joiner, invisible operators, isolates
	                         LRI..PDI, deprecated format characters */
	{ 0x3000, 0x3000 },   /* ideographic space */
	{ 0x3164, 0x3164 },   /* Hangul filler */
	{ 0xfe00, 0xfe0f },   /* variation selectors */
	{ 0xfeff, 0xfeff },   /* zero width no-break space (BOM) */
	{ 0xffa0, 0xffa0 },   /* halfwidth Hangul filler */
	{ 0xfff0, 0xfffb },   /* unassigned specials, interlinear annotation */
	{ 0x1bca0, 0x1bca3 }, /* shorthand format controls */
	{ 0x1d173, 0x1d17a }, /* musical symbol format controls */
	{ 0xe0000, 0xe0fff }, /* tags, variation selectors supplement */
};

static bool is_hidden(uint32_t cp)
{
	if (cp >= 0x20 && cp < 0x7f) /* printable ASCII: most of any name */
		return false;
	for (size_t i = 0; i < sizeof hidden_ranges / sizeof hidden_ranges[0]; i++)
		if (cp >= hidden_ranges[i].lo && cp <= hidden_ranges[i].hi)
			return true;
	return false;
}

/* Where ident_visible writes: the rest of the buffer, and whether
 * something did not fit (nothing is written after that). */
struct sink {
	char *p;
	size_t left; /* room, the final NUL included */
	bool full;
};

/* Appends n characters whole (always leaving room for the NUL), or
 * nothing and marks the sink full. */
static void put(struct sink *o, const char *s, size_t n)
{
	if (o->full || n >= o->left) {
		o->full = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		o->p[i] = s[i];
	o->p += n;
	o->left -= n;
}

/* "\xHH" for an octet that is not UTF-8 (open "x", close "", 2 digits),
 * "\u{XXXX}" for a code point (open "u{", close "}", at least 4 digits):
 * upper-case hex, made by hand since this runs for every octet of a
 * hostile reply. */
static void put_escape(struct sink *o, const char *open, const char *close,
                       int min_digits, uint32_t v)
{
	char e[sizeof "\\u{10FFFF}"], digits[8];
	int nd = 0;
	size_t n = 0;

	do {
		digits[nd++] = "0123456789ABCDEF"[v & 0xf];
		v >>= 4;
	} while (v != 0 || nd < min_digits);
	e[n++] = '\\';
	for (; *open; open++)
		e[n++] = *open;
	while (nd > 0)
		e[n++] = digits[--nd];
	for (; *close; close++)
		e[n++] = *close;
	put(o, e, n);
}

int ident_visible(const char *in, size_t len, char *out, size_t size)
{
	const uint8_t *s = (const uint8_t *)in;
	struct sink o = { out, size, size == 0 };
	uint32_t cp;

	for (size_t i = 0; i < len && !o.full;) {
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			put_escape(&o, "x", "", 2, s[i++]);
		else if (is_hidden(cp))
			put_escape(&o, "u{", "}", 4, cp);
		else if (cp == '\\')
			put(&o, "\\\\", 2);
		else
			put(&o, in + i, n);
		i += n;
	}
	if (size > 0)
		*o.p = '\0';
	return o.full ? -1 : 0;
}
