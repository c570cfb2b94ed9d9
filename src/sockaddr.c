/* Socket addresses of the Internet families: parsing, formatting,
 * comparing (see sockaddr.h). Everything that reads or writes an address
 * as text goes through here, so that "[fe80::1%eth0]:113" means the same
 * on the command line, in the configuration file and in the log. */
#include "sockaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* How much of a bad value an error message quotes: enough to recognise it,
 * short enough that the reason after it is never cut off (as config.c
 * quotes its values). */
#define SA_SHOW_MAX 48

/* The longest address text with its scope: an IPv6 address, '%', and an
 * interface name (at most IF_NAMESIZE - 1 characters) or index. */
#define SA_HOST_MAX (INET6_ADDRSTRLEN + 1 + IF_NAMESIZE)

/* A scope is an interface index, which the kernel keeps as a positive int. */
#define SA_SCOPE_MAX 2147483647u

/* Writes "'<s>'<why>" into err, s cut to SA_SHOW_MAX characters. */
static int fail(char *err, size_t errsz, const char *s, const char *why)
{
	size_t n = strnlen(s, SA_SHOW_MAX + 1);

	if (err != NULL && errsz > 0)
		snprintf(err, errsz, "'%.*s%s'%s", SA_SHOW_MAX, s,
		         n > SA_SHOW_MAX ? "..." : "", why);
	return -1;
}

/* Decimal digits only, no sign or white space, value in 1..max. */
static bool parse_decimal(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max) /* max < 2^32: stops long before any overflow */
			return false;
	}
	if (v == 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Splits s into the address text and the port text (NULL: none).
 * Returns the address family the address must have (AF_UNSPEC: the
 * any address), or -1 if the shape is wrong. */
static int split_listen(const char *s, char *host, size_t hostsz,
                        const char **port)
{
	const char *colon = strchr(s, ':');
	const char *end;
	size_t n;
	int af;

	*port = NULL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		if (end[1] == ':')
			*port = end + 2;
		s++;
		af = AF_INET6;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		end = colon;  /* exactly one colon: ADDR:PORT */
		*port = colon + 1;
		af = AF_INET;
	} else {
		end = s + strlen(s);  /* no colon: IPv4; several: bare IPv6 */
		af = colon != NULL ? AF_INET6 : AF_INET;
	}
	n = (size_t)(end - s);
	if (n >= hostsz)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (af == AF_INET && (n == 0 || strcmp(host, "*") == 0))
		return AF_UNSPEC;
	return af;
}

/* Whether s can be an interface's name: what the kernel allows
 * (dev_valid_name: no '/', ':' or white space), so that an address label
 * such as "eth0:1", which the kernel would also look up, is not taken. */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '/' || *s == ':' || *s == '%')
			return false;
	return true;
}

/* The interface a scope names: an index, or a name; 0 if there is none. */
static uint32_t scope_index(const char *scope)
{
	char name[IF_NAMESIZE];
	uint32_t idx;

	if (parse_decimal(scope, SA_SCOPE_MAX, &idx))
		return if_indextoname(idx, name) != NULL ? idx : 0;
	return ifname_ok(scope) ? if_nametoindex(scope) : 0;
}

bool sa_is_link_local(const uint8_t a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* An IPv6 address with its optional "%scope": a link-local one must have
 * one (it names the link, RFC 4291 §2.5.6), any other may not (the kernel
 * would ignore it). */
static int parse_v6(const char *s, char *host, uint8_t a[16],
                    uint32_t *scope, char *err, size_t errsz)
{
	char *pct = strchr(host, '%');
	bool link_local;

	if (pct != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET6, host, a) != 1)
		return fail(err, errsz, s, " is not a numeric IPv6 address");
	link_local = sa_is_link_local(a);
	if (link_local && pct == NULL)
		return fail(err, errsz, s, ": a link-local address needs its "
		            "interface, as [fe80::1%eth0]:113");
	if (!link_local && pct != NULL)
		return fail(err, errsz, s, ": only a link-local address "
		            "(fe80::/10) takes an interface (%IF)");
	*scope = pct != NULL ? scope_index(pct + 1) : 0;
	if (pct != NULL && *scope == 0)
		return fail(err, errsz, s, ": no such interface");
	return 0;
}

static void make_addr(struct listen_addr *out, int af, const void *a,
                      unsigned port, uint32_t scope)
{
	memset(out, 0, sizeof *out);
	if (af == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		sin.sin_port = htons((uint16_t)port);
		memcpy(&sin.sin_addr, a, sizeof sin.sin_addr);
		memcpy(&out->addr, &sin, sizeof sin);
		out->len = sizeof sin;
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

		sin6.sin6_port = htons((uint16_t)port);
		memcpy(&sin6.sin6_addr, a, sizeof sin6.sin6_addr);
		sin6.sin6_scope_id = scope;
		memcpy(&out->addr, &sin6, sizeof sin6);
		out->len = sizeof sin6;
	}
}

int sa_parse_listen(const char *s, unsigned default_port,
                    struct listen_addr *out, char *err, size_t errsz)
{
	char host[SA_HOST_MAX];
	uint8_t a[sizeof(struct in6_addr)];
	const char *port;
	uint32_t portnum = default_port, scope = 0;
	int af;

	if (s == NULL || *s == '\0') {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "an address is needed");
		return -1;
	}
	af = split_listen(s, host, sizeof host, &port);
	if (af == -1)
		return fail(err, errsz, s,
		            " is not ADDR[:PORT] or [IPV6ADDR][:PORT]");
	if (port != NULL && !parse_decimal(port, 65535, &portnum))
		return fail(err, errsz, s,
		            ": the port must be a number from 1 to 65535");
	if (af == AF_UNSPEC) {  /* all addresses: "::", made dual-stack */
		af = AF_INET6;
		memcpy(a, &in6addr_any, sizeof in6addr_any);
	} else if (af == AF_INET6) {
		if (parse_v6(s, host, a, &scope, err, errsz) != 0)
			return -1;
	} else if (inet_pton(AF_INET, host, a) != 1) {
		return fail(err, errsz, s, " is not a numeric IPv4 address");
	}
	make_addr(out, af, a, portnum, scope);
	return 0;
}

void sa_any(int family, unsigned port, struct listen_addr *out)
{
	static const uint8_t zero[sizeof(struct in6_addr)];

	make_addr(out, family == AF_INET ? AF_INET : AF_INET6, zero, port, 0);
}

const char *sa_addr_text(int family, const void *addr, char *buf,
                         size_t size)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    inet_ntop(family, addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

int sa_parts(const void *sa, socklen_t len, struct sa_parts *p)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	sa_family_t family;

	memset(p, 0, sizeof *p);
	if (sa == NULL || len < (socklen_t)sizeof family)
		return -1;
	memcpy(&family, (const uint8_t *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof family);
	if (family == AF_INET && len >= (socklen_t)sizeof s4) {
		memcpy(&s4, sa, sizeof s4);
		p->family = AF_INET;
		memcpy(p->addr, &s4.sin_addr, 4);
		p->port = ntohs(s4.sin_port);
		return 0;
	}
	if (family == AF_INET6 && len >= (socklen_t)sizeof s6) {
		memcpy(&s6, sa, sizeof s6);
		p->family = AF_INET6;
		memcpy(p->addr, &s6.sin6_addr, 16);
		p->port = ntohs(s6.sin6_port);
		p->scope = s6.sin6_scope_id;
		return 0;
	}
	return -1;
}

const char *sa_format(const struct sockaddr *sa, socklen_t len,
                      bool with_port, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 12] = "";
	struct sa_parts p;
	bool v6;

	if (sa_parts(sa, len, &p) != 0) {
		snprintf(buf, size, "?");
		return buf;
	}
	v6 = p.family == AF_INET6;
	sa_addr_text(p.family, p.addr, a, sizeof a);
	if (p.scope != 0 && if_indextoname(p.scope, scope + 1) != NULL)
		scope[0] = '%';
	else if (p.scope != 0)
		snprintf(scope, sizeof scope, "%%%u", (unsigned)p.scope);
	if (!with_port)
		snprintf(buf, size, "%s%s", a, scope);
	else
		snprintf(buf, size, v6 ? "[%s%s]:%u" : "%s%s:%u", a, scope, p.port);
	return buf;
}

bool sa_same(const struct sockaddr_storage *a,
             const struct sockaddr_storage *b)
{
	struct sa_parts x, y;

	if (sa_parts(a, sizeof *a, &x) != 0 || sa_parts(b, sizeof *b, &y) != 0)
		return false;
	return x.family == y.family && x.port == y.port && x.scope == y.scope &&
	       memcmp(x.addr, y.addr, sizeof x.addr) == 0;
}

/* Whole, with a port, and with a scope exactly if it is link-local. */
static bool listen_ok(const struct listen_addr *l, struct sa_parts *p)
{
	socklen_t want;

	if (sa_parts(&l->addr, l->len, p) != 0 || p->port == 0)
		return false;
	want = p->family == AF_INET ? sizeof(struct sockaddr_in)
	                            : sizeof(struct sockaddr_in6);
	if (l->len != want)
		return false;
	return p->family == AF_INET ||
	       (p->scope != 0) == sa_is_link_local(p->addr);
}

static bool is_any(const struct sa_parts *p)
{
	static const uint8_t zero[16];

	return memcmp(p->addr, zero, p->family == AF_INET ? 4 : 16) == 0;
}

/* Would binding both fail? The same address twice, or a wildcard and
 * anything on the same port: "::" is made dual-stack, so it covers IPv4
 * too, and "0.0.0.0" covers every IPv4 address. */
static bool overlap(const struct sa_parts *x, const struct sa_parts *y)
{
	bool xany = is_any(x), yany = is_any(y);

	if (x->port != y->port)
		return false;
	if (x->family == y->family && x->scope == y->scope &&
	    memcmp(x->addr, y->addr, sizeof x->addr) == 0)
		return true;
	if ((xany && x->family == AF_INET6) || (yany && y->family == AF_INET6))
		return true;
	return x->family == y->family && (xany || yany);
}

int sa_check_listen(const struct listen_addr *l, unsigned n, char *err,
                    size_t errsz)
{
	char a[SA_TEXT_MAX], b[SA_TEXT_MAX];
	struct sa_parts x, y;

	for (unsigned i = 0; i < n; i++) {
		if (!listen_ok(&l[i], &x)) {
			snprintf(err, errsz, "address %u is malformed", i + 1);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			listen_ok(&l[j], &y); /* checked in an earlier round */
			if (!overlap(&y, &x))
				continue;
			sa_format((const struct sockaddr *)&l[j].addr, l[j].len,
			          true, a, sizeof a);
			sa_format((const struct sockaddr *)&l[i].addr, l[i].len,
			          true, b, sizeof b);
			snprintf(err, errsz, "%s and %s overlap (the same address, "
			         "or all addresses, on the same port)", a, b);
			return -1;
		}
	}
	return 0;
}
