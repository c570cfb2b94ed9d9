/* The RFC 1413 request parser: "<port> , <port>" and CR LF or LF, one byte
 * at a time. Every byte moves the state machine by exactly one step, so any
 * split of the input gives the same result as the whole of it. */
#include "request.h"

#include <stdbool.h>

#include "limits.h"

enum req_state {
	S_BEFORE_SP,  /* white space before port-on-server */
	S_SP,         /* in port-on-server */
	S_AFTER_SP,   /* white space before the comma */
	S_BEFORE_CP,  /* white space after the comma */
	S_CP,         /* in port-on-client */
	S_AFTER_CP,   /* white space before the line end */
	S_CR,         /* a CR: only LF may follow */
	S_DEAD,       /* invalid input seen: no way back */
};

/* What one byte did to the line. */
enum step {
	STEP_MORE,
	STEP_DONE,
	STEP_INVALID,
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static void start_line(struct req_parser *p)
{
	p->state = S_BEFORE_SP;
	p->digits = 0;
	p->line_len = 0;
	p->num[0] = 0;
	p->num[1] = 0;
}

void req_init(struct req_parser *p)
{
	start_line(p);
}

/* Appends a digit to number n; a sixth digit is not a port. */
static enum step add_digit(struct req_parser *p, int n, uint8_t c)
{
	if (p->digits == PORT_DIGITS_MAX)
		return STEP_INVALID;
	p->digits++;
	p->num[n] = p->num[n] * 10 + (uint32_t)(c - '0');
	return STEP_MORE;
}

static enum step begin_number(struct req_parser *p, int n, uint8_t c,
                              enum req_state next)
{
	p->state = next;
	p->digits = 0;
	return add_digit(p, n, c);
}

/* The end of the line: LF, or CR then LF. */
static enum step line_end(struct req_parser *p, uint8_t c)
{
	if (c == '\n')
		return STEP_DONE;
	if (c == '\r') {
		p->state = S_CR;
		return STEP_MORE;
	}
	return STEP_INVALID;
}

/* White space or the comma after port-on-server. */
static enum step after_server_port(struct req_parser *p, uint8_t c)
{
	if (is_space(c)) {
		p->state = S_AFTER_SP;
		return STEP_MORE;
	}
	if (c == ',') {
		p->state = S_BEFORE_CP;
		return STEP_MORE;
	}
	return STEP_INVALID;
}

/* White space or the line end after port-on-client. */
static enum step after_client_port(struct req_parser *p, uint8_t c)
{
	if (is_space(c)) {
		p->state = S_AFTER_CP;
		return STEP_MORE;
	}
	return line_end(p, c);
}

static enum step step(struct req_parser *p, uint8_t c)
{
	switch (p->state) {
	case S_BEFORE_SP:
		if (is_space(c))
			return STEP_MORE;
		return is_digit(c) ? begin_number(p, 0, c, S_SP) : STEP_INVALID;
	case S_SP:
		return is_digit(c) ? add_digit(p, 0, c) : after_server_port(p, c);
	case S_AFTER_SP:
		return after_server_port(p, c);
	case S_BEFORE_CP:
		if (is_space(c))
			return STEP_MORE;
		return is_digit(c) ? begin_number(p, 1, c, S_CP) : STEP_INVALID;
	case S_CP:
		return is_digit(c) ? add_digit(p, 1, c) : after_client_port(p, c);
	case S_AFTER_CP:
		return after_client_port(p, c);
	case S_CR:
		return c == '\n' ? STEP_DONE : STEP_INVALID;
	default:
		return STEP_INVALID;
	}
}

static bool port_ok(uint32_t port)
{
	return port >= 1 && port <= PORT_MAX;
}

/* A complete line: hand out its ports and get ready for the next one. */
static enum req_status finish_line(struct req_parser *p, struct req_query *q)
{
	q->server_port = p->num[0];
	q->client_port = p->num[1];
	start_line(p);
	if (port_ok(q->server_port) && port_ok(q->client_port))
		return REQ_QUERY;
	return REQ_BAD_PORT;
}

/* A dead parser consumes nothing and keeps saying REQ_INVALID. */
enum req_status req_feed(struct req_parser *p, const uint8_t *buf, size_t len,
                         size_t *used, struct req_query *q)
{
	size_t i = 0;

	while (i < len && p->state != S_DEAD) {
		enum step s;

		/* The limit counts every byte, the terminator too, and
		 * strikes as soon as it is passed. */
		p->line_len++;
		s = p->line_len > REQUEST_LINE_MAX ? STEP_INVALID
		                                   : step(p, buf[i]);
		i++;
		if (s == STEP_INVALID)
			p->state = S_DEAD;
		else if (s == STEP_DONE) {
			*used = i;
			return finish_line(p, q);
		}
	}
	*used = i;
	return p->state == S_DEAD ? REQ_INVALID : REQ_MORE;
}
