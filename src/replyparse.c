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
