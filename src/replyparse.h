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

#endif
