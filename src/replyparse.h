/* Parsing RFC 1413 replies, for privident-query (pure). Replies come from
 * untrusted servers: tolerant of white space variants such as oidentd's
 * "a,b:USERID:UNIX:x" and Twisted's "a, b : USERID : UNIX : x", strict in
 * what it reports. */
#ifndef PRIVIDENT_REPLYPARSE_H
#define PRIVIDENT_REPLYPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include "limits.h"

struct ident_reply {
	unsigned server_port, client_port;
	bool is_userid;                 /* USERID, else ERROR */
	char opsys[OPSYS_MAX + 1];      /* USERID: "UNIX", "OTHER", ... */
	char charset[OPSYS_MAX + 1];    /* USERID: "UTF-8" or "" */
	char userid[USERID_MAX + 1];    /* USERID: the user id */
	char error[OPSYS_MAX + 1];      /* ERROR: "NO-USER", ... */
};

/* Parses one reply line (with or without its CR LF / LF). Returns 0, or -1
 * if the line is not an RFC 1413 reply. */
int ident_reply_parse(const char *line, size_t len, struct ident_reply *r);

/* Room for any user id made visible: "\u{XXXX}" (8 characters) for a
 * one-octet control is the widest any octet becomes. */
#define IDENT_VISIBLE_MAX (USERID_MAX * 8 + 1)

/* Writes the len octets of a server's user id into out as text that shows
 * on a terminal what they are, so that no reply can make one name look
 * like another: valid UTF-8 as it is, except that a control (C0, DEL, C1),
 * a format or bidirectional character, an invisible filler or selector or
 * a space other than U+0020 becomes "\u{XXXX}" (its code point in upper
 * case hex, at least 4 digits); an octet that is not part of well-formed
 * UTF-8 (overlong, surrogate, past U+10FFFF, cut short) becomes "\xHH";
 * a backslash becomes "\\", so that the text reads back unambiguously.
 * out is always NUL-terminated. Returns 0, or -1 if size is too small (out
 * then holds the escapes that fit whole). */
int ident_visible(const char *in, size_t len, char *out, size_t size);

#endif
