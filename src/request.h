/* The RFC 1413 request parser: a pure byte-at-a-time state machine.
 * Bytes in, queries out; no I/O, no allocation. The same code is unit tested,
 * fuzzed, and run by the network child. */
#ifndef PRIVIDENT_REQUEST_H
#define PRIVIDENT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

enum req_status {
	REQ_MORE,      /* all input consumed, no complete line yet */
	REQ_QUERY,     /* a complete query with both ports in 1..65535 */
	REQ_BAD_PORT,  /* a well-formed line whose port(s) are 0 or > 65535:
	                  reply INVALID-PORT echoing them, keep the connection */
	REQ_INVALID,   /* garbage, NUL, over-long line: the parser is dead;
	                  reply "0 , 0 : ERROR : INVALID-PORT" and close */
};

struct req_query {
	uint32_t server_port; /* port on this host, as parsed (<= 99999) */
	uint32_t client_port; /* port on the querying host, as parsed */
};

struct req_parser {
	uint8_t state;
	uint8_t digits;      /* digits in the current number */
	uint16_t line_len;   /* bytes of the current line so far */
	uint32_t num[2];
};

void req_init(struct req_parser *p);

/* Feeds up to len bytes. Stops right after the byte that completes a line
 * (or makes the input invalid), so that at most one query comes out per
 * call; *used says how many bytes were consumed. After REQ_QUERY and
 * REQ_BAD_PORT the parser is ready for the next line; after REQ_INVALID it
 * stays invalid. Input split anyhow parses exactly as if it came whole. */
enum req_status req_feed(struct req_parser *p, const uint8_t *buf, size_t len,
                         size_t *used, struct req_query *q);

#endif
