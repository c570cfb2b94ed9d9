/* Reading a user's ~/.oidentd.conf: see userconf.h and doc/design.md §5.
 * The tokens are oidentd's: '{', '}', a quoted string (one line, with
 * backslash escapes), or a word (a run of anything but white space and
 * braces); "#" to the end of the line and C comments are skipped. */
#include "userconf.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* Longest address literal we hand to inet_pton: INET6_ADDRSTRLEN (46)
 * and room to spare; anything longer is not an address. */
#define ADDR_TEXT_MAX 64

#define STR_(x) #x
#define STR(x) STR_(x)

enum tok_kind { T_EOF, T_OPEN, T_CLOSE, T_STRING, T_WORD, T_ERROR };

struct tok {
	enum tok_kind kind;
	const char *p;  /* T_STRING: between the quotes; T_WORD: the word */
	size_t len;
	unsigned line;
};

struct lexer {
	const char *buf;
	size_t len, pos;
	unsigned line;
	const char *error;      /* T_ERROR: why */
};

enum keyword {
	K_NONE, K_TO, K_FPORT, K_FROM, K_LPORT, K_GLOBAL, K_DEFAULT, K_USER,
	K_REPLY, K_HIDE, K_FORWARD, K_OTHER
};

/* oidentd's keywords (case-insensitive, as its scanner). The ones past
 * "hide" are known to oidentd and not followed here. */
static const struct {
	const char *word;
	enum keyword kw;
} keywords[] = {
	{ "to", K_TO }, { "fport", K_FPORT }, { "from", K_FROM },
	{ "lport", K_LPORT }, { "global", K_GLOBAL }, { "default", K_DEFAULT },
	{ "user", K_USER }, { "reply", K_REPLY }, { "hide", K_HIDE },
	{ "allow", K_OTHER }, { "deny", K_OTHER }, { "force", K_OTHER },
	{ "random", K_OTHER }, { "numeric", K_OTHER },
	{ "random_numeric", K_OTHER }, { "spoof", K_OTHER },
	{ "spoof_all", K_OTHER }, { "spoof_privport", K_OTHER },
	{ "forward", K_FORWARD },
};

static bool is_space(char c)
{
	/* oidentd takes only space, tab and newline; CR too here, so that a
	 * file saved with CR LF reads the same. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ends_word(char c)
{
	return is_space(c) || c == '{' || c == '}';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static enum keyword keyword(const struct tok *t)
{
	if (t->kind != T_WORD)
		return K_NONE;
	for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		const char *w = keywords[i].word;
		size_t n = strlen(w), j;

		if (n != t->len)
			continue;
		for (j = 0; j < n && lower(t->p[j]) == w[j]; j++)
			;
		if (j == n)
			return keywords[i].kw;
	}
	return K_NONE;
}

/* Skips white space and comments. Returns false on an unterminated C
 * comment (oidentd would read on to the end; we refuse the file). */
static bool skip_blank(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];

		if (is_space(c)) {
			lx->line += c == '\n';
			lx->pos++;
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->buf[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && lx->pos + 1 < lx->len &&
		           lx->buf[lx->pos + 1] == '*') {
			lx->pos += 2;
			for (;;) {
				if (lx->pos + 1 >= lx->len)
					return false;
				if (lx->buf[lx->pos] == '*' &&
				    lx->buf[lx->pos + 1] == '/')
					break;
				lx->line += lx->buf[lx->pos] == '\n';
				lx->pos++;
			}
			lx->pos += 2;
		} else {
			return true;
		}
	}
	return true;
}

/* The rest of a quoted string, from just past its opening quote. */
static struct tok lex_string(struct lexer *lx, struct tok t)
{
	t.kind = T_STRING;
	t.p = lx->buf + lx->pos;
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];

		if (c == '"') {
			t.len = (size_t)(lx->buf + lx->pos - t.p);
			lx->pos++;
			return t;
		}
		if (c == '\n')
			break;
		/* An escape is kept as written (userconf_reply_ok refuses
		 * it); what matters here is that \" does not end the string.
		 * A backslash before the newline does not continue it. */
		if (c == '\\' && lx->pos + 1 < lx->len &&
		    lx->buf[lx->pos + 1] != '\n')
			lx->pos++;
		lx->pos++;
	}
	t.kind = T_ERROR;
	lx->error = "unterminated string";
	return t;
}

static struct tok lex(struct lexer *lx)
{
	struct tok t = { T_EOF, NULL, 0, 0 };

	if (!skip_blank(lx)) {
		t.kind = T_ERROR;
		t.line = lx->line;
		lx->error = "unterminated comment";
		return t;
	}
	t.line = lx->line;
	if (lx->pos >= lx->len)
		return t;
	switch (lx->buf[lx->pos]) {
	case '{':
		lx->pos++;
		t.kind = T_OPEN;
		return t;
	case '}':
		lx->pos++;
		t.kind = T_CLOSE;
		return t;
	case '"':
		lx->pos++;
		return lex_string(lx, t);
	default:
		t.kind = T_WORD;
		t.p = lx->buf + lx->pos;
		while (lx->pos < lx->len && !ends_word(lx->buf[lx->pos]))
			lx->pos++;
		t.len = (size_t)(lx->buf + lx->pos - t.p);
		return t;
	}
}

static struct tok peek(const struct lexer *lx)
{
	struct lexer copy = *lx;

	return lex(&copy);
}

/* A value: a quoted string or a word that is no keyword. */
static bool is_value(const struct tok *t)
{
	return t->kind == T_STRING ||
	       (t->kind == T_WORD && keyword(t) == K_NONE);
}

struct parser {
	struct lexer lx;
	struct userconf *c;
	const struct userconf_conn *want; /* keep only its last rule */
	unsigned error_line;
	const char *error;
};

static int fail(struct parser *ps, unsigned line, const char *why)
{
	if (ps->error == NULL) {
		ps->error = why;
		ps->error_line = line;
	}
	return -1;
}

/* The next token, a lexical error turned into a parse error. */
static int next(struct parser *ps, struct tok *t)
{
	*t = lex(&ps->lx);
	if (t->kind == T_ERROR)
		return fail(ps, t->line, ps->lx.error);
	return 0;
}

static void ignore(struct userconf *c, unsigned line, const char *why)
{
	if (c->nignored < USERCONF_IGNORED_MAX) {
		c->ignored[c->nignored].line = line;
		c->ignored[c->nignored].reason = why;
		c->nignored++;
	} else {
		c->ignored_more++;
	}
}

static bool has_alpha(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((lower(p[i]) >= 'a' && lower(p[i]) <= 'z'))
			return true;
	return false;
}

/* A host name as oidentd would resolve it: letters, digits, '.', '-',
 * '_', with at least one letter (else it is a bad address). */
static bool host_name(const char *p, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = lower(p[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return has_alpha(p, n);
}

/* Returns 0 (a->family AF_UNSPEC for a host name), or -1. */
static int parse_addr(const struct tok *t, struct userconf_addr *a)
{
	char text[ADDR_TEXT_MAX];

	memset(a, 0, sizeof *a);
	if (t->len > 0 && t->len < sizeof text &&
	    memchr(t->p, '\0', t->len) == NULL) {
		memcpy(text, t->p, t->len);
		text[t->len] = '\0';
		if (inet_pton(AF_INET, text, a->bytes) == 1) {
			a->family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, text, a->bytes) == 1) {
			a->family = AF_INET6;
			return 0;
		}
	}
	if (host_name(t->p, t->len)) {
		a->family = AF_UNSPEC;
		return 0;
	}
	return -1;
}

/* Digits p[0..n) as a port 1-65535; n == 0 gives dflt. -1 if bad. */
static long port_value(const char *p, size_t n, long dflt)
{
	long v = 0;

	if (n == 0)
		return dflt;
	if (n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535 ? v : -1;
}

/* PORT, LO:HI, LO: or :HI (oidentd's forms). Returns 0, 1 for a service
 * name (oidentd would look it up; it then matches every port and makes
 * its rule unsupported), or -1. */
static int parse_ports(const struct tok *t, struct userconf_ports *r)
{
	const char *colon = memchr(t->p, ':', t->len);
	size_t n1 = colon ? (size_t)(colon - t->p) : t->len;
	long lo = port_value(t->p, n1, 1), hi = lo;

	if (colon)
		hi = port_value(colon + 1, t->len - n1 - 1, 65535);
	if (lo > 0 && hi > 0 && lo <= hi) {
		r->lo = (uint16_t)lo;
		r->hi = (uint16_t)hi;
		return 0;
	}
	if (!colon && host_name(t->p, t->len)) {
		r->lo = 1;
		r->hi = 65535;
		return 1;
	}
	return -1;
}

static void unsupported(struct userconf_rule *r, const char *why)
{
	if (r->reason == NULL)
		r->reason = why;
}

/* One filter's value into the rule. */
static int range_value(struct parser *ps, struct userconf_rule *r,
                       enum keyword kw, const struct tok *v)
{
	struct userconf_addr *a = kw == K_TO ? &r->to : &r->from;
	struct userconf_ports *p = kw == K_FPORT ? &r->fport : &r->lport;

	if (kw == K_TO || kw == K_FROM) {
		if (parse_addr(v, a) != 0)
			return fail(ps, v->line, "bad address");
		if (a->family == AF_UNSPEC)
			unsupported(r, "host name (would need a DNS lookup)");
		return 0;
	}
	switch (parse_ports(v, p)) {
	case 0:
		return 0;
	case 1:
		unsupported(r, "service name instead of a port number");
		return 0;
	default:
		return fail(ps, v->line, "bad port or port range");
	}
}

/* [to A] [fport P] [from A] [lport P], first already read, in this order
 * (oidentd's grammar); leaves the token after them in *t. */
static int parse_range(struct parser *ps, struct userconf_rule *r,
                       struct tok *t)
{
	int last = -1;

	for (;;) {
		enum keyword kw = keyword(t);
		int order = kw == K_TO ? 0 : kw == K_FPORT ? 1 :
		            kw == K_FROM ? 2 : kw == K_LPORT ? 3 : -1;
		struct tok v;

		if (order < 0)
			return 0;
		if (order <= last)
			return fail(ps, t->line,
			            "filters repeated or out of order");
		last = order;
		if (next(ps, &v) != 0)
			return -1;
		if (!is_value(&v))
			return fail(ps, v.line, "filter without a value");
		if (range_value(ps, r, kw, &v) != 0)
			return -1;
		*(kw == K_TO ? &r->has_to : kw == K_FPORT ? &r->has_fport :
		  kw == K_FROM ? &r->has_from : &r->has_lport) = true;
		if (next(ps, t) != 0)
			return -1;
	}
}

static void add_reply(struct userconf_rule *r, const struct tok *v,
                      bool *dropped)
{
	struct userconf_reply *rep;
	size_t n = v->len < USERCONF_REPLY_MAX ? v->len : USERCONF_REPLY_MAX;

	if (r->nreplies == USERCONF_REPLIES_MAX) {
		*dropped = true;
		return;
	}
	rep = &r->replies[r->nreplies++];
	memcpy(rep->name, v->p, n);
	rep->name[n] = '\0';
	rep->len = n;
	rep->fits = v->len <= USERCONF_REPLY_MAX;
}

/* "forward ADDR PORT" (oidentd's user_forward), the keyword read. */
static int parse_forward(struct parser *ps, struct userconf_rule *r,
                         unsigned line)
{
	struct tok a, p;
	long port;

	if (next(ps, &a) != 0)
		return -1;
	if (!is_value(&a) || next(ps, &p) != 0 || !is_value(&p))
		return fail(ps, line, "forward without an address and a port");
	if (parse_addr(&a, &r->fwd) != 0 ||
	    (port = port_value(p.p, p.len, -1)) < 0)
		return fail(ps, line, "bad forward address or port");
	r->fwd_port = (uint16_t)port;
	if (r->fwd.family == AF_UNSPEC)
		unsupported(r, "forward to a host name");
	return 0;
}

/* A block's statements up to its '}', its opening '{' already read. */
static int parse_block(struct parser *ps, struct userconf_rule *r)
{
	bool hide = false, forward = false, dropped = false, skipping = false;
	struct tok t;

	for (;;) {
		if (next(ps, &t) != 0)
			return -1;
		if (t.kind == T_CLOSE)
			break;
		if (t.kind == T_EOF)
			return fail(ps, r->line, "block not closed");
		if (t.kind == T_OPEN)
			return fail(ps, t.line, "block inside a block");
		if (skipping)
			continue;
		switch (keyword(&t)) {
		case K_HIDE:
			hide = true;
			break;
		case K_FORWARD:
			if (forward)
				unsupported(r, "more than one forward in a block");
			forward = true;
			if (parse_forward(ps, r, t.line) != 0)
				return -1;
			break;
		case K_REPLY: {
			struct tok v = peek(&ps->lx);

			if (v.kind == T_ERROR)
				return next(ps, &v); /* reports the lexer's */
			if (!is_value(&v))
				return fail(ps, t.line, "reply without a name");
			while (is_value(&v)) {
				(void)lex(&ps->lx);
				add_reply(r, &v, &dropped);
				v = peek(&ps->lx);
			}
			break;
		}
		default:
			/* random, forward, force, allow ... : the whole block
			 * is not followed. */
			unsupported(r, "a statement other than reply, hide or forward");
			skipping = true;
			break;
		}
	}
	if (dropped)
		ignore(ps->c, r->line, "more than " STR(USERCONF_REPLIES_MAX)
		       " replies: the further ones dropped (as oidentd)");
	if ((hide ? 1 : 0) + (forward ? 1 : 0) + (r->nreplies > 0) > 1)
		unsupported(r, "more than one of hide, reply and forward in one block");
	if (!hide && !forward && r->nreplies == 0)
		unsupported(r, "empty block");
	r->action = r->reason ? USERCONF_UNSUPPORTED :
	            hide ? USERCONF_HIDE : forward ? USERCONF_FORWARD : USERCONF_REPLY;
	return 0;
}

/* Skips a directive we do not read: tokens up to a block, the block
 * (braces balanced). */
static int skip_directive(struct parser *ps, unsigned line)
{
	unsigned depth = 0;
	struct tok t;

	do {
		if (next(ps, &t) != 0)
			return -1;
		if (t.kind == T_EOF)
			return fail(ps, line, "directive without a closed block");
		if (t.kind == T_CLOSE && depth == 0)
			return fail(ps, t.line, "'}' without '{'");
		depth += t.kind == T_OPEN;
		depth -= t.kind == T_CLOSE;
	} while (depth > 0 || t.kind != T_CLOSE);
	return 0;
}

static bool rule_matches(const struct userconf_rule *r,
                         const struct userconf_conn *conn);

static int add_rule(struct parser *ps, const struct userconf_rule *r)
{
	struct userconf *c = ps->c;

	if (ps->want != NULL) {
		/* Only the last rule that applies counts: keep that one. */
		if (rule_matches(r, ps->want)) {
			memcpy(&c->rules[0], r, sizeof *r);
			c->nrules = 1;
		}
		if (r->action == USERCONF_UNSUPPORTED)
			ignore(c, r->line, r->reason);
		return 0;
	}
	if (c->nrules == USERCONF_RULES_MAX)
		return fail(ps, r->line, "more rules than we keep");
	memcpy(&c->rules[c->nrules++], r, sizeof *r); /* padding too */
	if (r->action == USERCONF_UNSUPPORTED)
		ignore(c, r->line, r->reason);
	return 0;
}

/* One top-level directive, its first token in *t. */
static int parse_directive(struct parser *ps, struct tok *t)
{
	struct userconf_rule r;
	enum keyword kw = keyword(t);

	memset(&r, 0, sizeof r);
	r.line = t->line;
	switch (kw) {
	case K_GLOBAL:
	case K_DEFAULT:
		if (next(ps, t) != 0)
			return -1;
		break;
	case K_TO:
	case K_FPORT:
	case K_FROM:
	case K_LPORT:
		if (parse_range(ps, &r, t) != 0)
			return -1;
		break;
	case K_USER:
		ignore(ps->c, r.line, "user directive (system-wide file only)");
		return skip_directive(ps, r.line);
	default:
		if (t->kind == T_OPEN)
			return fail(ps, t->line, "block without a directive");
		if (t->kind == T_CLOSE)
			return fail(ps, t->line, "'}' without '{'");
		ignore(ps->c, r.line, "unknown directive");
		return skip_directive(ps, r.line);
	}
	if (t->kind != T_OPEN)
		return fail(ps, t->line, "expected '{'");
	if (parse_block(ps, &r) != 0)
		return -1;
	/* oidentd refuses "default" in a user's file (it takes it in the
	 * system-wide one only): it may withhold a name, never give one. */
	if (kw == K_DEFAULT) {
		r.reason = "default block (oidentd takes it only in the "
		           "system-wide file)";
		r.action = USERCONF_UNSUPPORTED;
	}
	return add_rule(ps, &r);
}

static int parse(const char *buf, size_t len, const struct userconf_conn *want,
                 struct userconf *c)
{
	struct parser ps = { { buf, len, 0, 1, NULL }, c, want, 0, NULL };
	struct tok t;

	memset(c, 0, sizeof *c);
	if (len > USERCONF_FILE_MAX) {
		fail(&ps, 0, "file longer than we read");
	} else {
		while (next(&ps, &t) == 0 && t.kind != T_EOF)
			if (parse_directive(&ps, &t) != 0)
				break;
	}
	if (ps.error != NULL) {
		memset(c, 0, sizeof *c);
		c->error = ps.error;
		c->error_line = ps.error_line;
		return -1;
	}
	c->valid = true;
	return 0;
}

int userconf_parse(const char *buf, size_t len, struct userconf *c)
{
	return parse(buf, len, NULL, c);
}

int userconf_parse_for(const char *buf, size_t len,
                       const struct userconf_conn *conn, struct userconf *c)
{
	return parse(buf, len, conn, c);
}

/* An IPv4-mapped IPv6 address as the IPv4 address it carries. */
static void normalize(int family, const uint8_t in[16], int *fam,
                      uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                    0xff, 0xff };

	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(in, mapped, 12) == 0) {
		*fam = AF_INET;
		memcpy(out, in + 12, 4);
	} else {
		*fam = family;
		memcpy(out, in, family == AF_INET ? 4 : 16);
	}
}

static bool addr_match(const struct userconf_addr *a, int family,
                       const uint8_t bytes[16])
{
	int fa, fb;
	uint8_t ba[16], bb[16];

	if (a->family == AF_UNSPEC)
		return true; /* a host name: its rule is unsupported */
	normalize(a->family, a->bytes, &fa, ba);
	normalize(family, bytes, &fb, bb);
	return fa == fb && memcmp(ba, bb, 16) == 0;
}

static bool ports_match(const struct userconf_ports *p, uint16_t port)
{
	return port >= p->lo && port <= p->hi;
}

static bool rule_matches(const struct userconf_rule *r,
                         const struct userconf_conn *conn)
{
	if (conn->family != AF_INET && conn->family != AF_INET6)
		return false;
	return (!r->has_to || addr_match(&r->to, conn->family, conn->remote)) &&
	       (!r->has_fport || ports_match(&r->fport, conn->remote_port)) &&
	       (!r->has_from || addr_match(&r->from, conn->family, conn->local)) &&
	       (!r->has_lport || ports_match(&r->lport, conn->local_port));
}

const struct userconf_rule *userconf_match(const struct userconf *c,
                                           const struct userconf_conn *conn)
{
	if (!c->valid)
		return NULL;
	for (size_t i = c->nrules; i-- > 0;)
		if (rule_matches(&c->rules[i], conn))
			return &c->rules[i];
	return NULL;
}

bool userconf_name_ok(const char *name)
{
	size_t n = strnlen(name, USERCONF_REPLY_MAX + 1);

	if (n == 0 || n > USERCONF_REPLY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

bool userconf_reply_ok(const struct userconf_reply *r)
{
	return r->fits && r->len > 0 && r->len <= USERCONF_REPLY_MAX &&
	       strlen(r->name) == r->len && userconf_name_ok(r->name);
}
