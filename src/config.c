/* Configuration: defaults, then the file, then the command line (which
 * cli.c has parsed into a struct cli).
 *
 * Every value goes through config_set, which finds its key in the option
 * table (config_opts.h) and checks it by its kind; config_validate then
 * checks the settings together, the ranges again from that same table.
 * Nothing here prints: errors go back to the caller as one line of text. */
#include "config_opts.h"
#include "forward.h"
#include "keyfile.h"
#include "token.h"
#include "userconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Room for one reason ("'<value>' is not ..."): the quoted value plus the
 * longest fixed text, rounded up. */
#define REASON_MAX 256

_Static_assert(sizeof(DEFAULT_USER) - 1 <= USERNAME_MAX,
               "DEFAULT_USER must fit in config.user");

#define AS_ROW(n, fl, k, o, mi, ma, w, a, h) {n, fl, k, o, mi, ma, w},
const struct opt config_opts[NOPTS] = {OPTIONS(AS_ROW)};

/* --- small helpers ------------------------------------------------------ */

void config_seterr(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

const char *config_show(const char *s, char buf[SHOW_MAX + 4])
{
	size_t n = strnlen(s, SHOW_MAX + 1);

	if (n <= SHOW_MAX)
		return s;
	memcpy(buf, s, SHOW_MAX);
	memcpy(buf + SHOW_MAX, "...", 4);
	return buf;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool cli_only(const struct opt *o)
{
	return o->kind == K_CONFIG || o->kind == K_HELP || o->kind == K_VERSION;
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(config_opts[i].name, name) == 0)
			return &config_opts[i];
	return NULL;
}

static unsigned *uint_field(struct config *c, const struct opt *o)
{
	return (unsigned *)((char *)c + o->off);
}

static bool *bool_field(struct config *c, const struct opt *o)
{
	return (bool *)((char *)c + o->off);
}

/* Decimal digits only, no sign or white space, value in [min, max]. */
static bool parse_uint(const char *s, unsigned min, unsigned max,
                       unsigned *out)
{
	unsigned long n = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned)(*s - '0');
		if (n > max)  /* max <= UINT_MAX: stops before any overflow */
			return false;
	}
	if (n < min)
		return false;
	*out = (unsigned)n;
	return true;
}

/* --- setters, one per kind ---------------------------------------------- */

/* Each checks value and, only if it is good, stores it; on failure it
 * writes the reason (without the key: config_set adds that). */
typedef int setter_fn(struct config *c, const struct opt *o,
                      enum config_source src, const char *v, char *why);

static int set_bool(struct config *c, const struct opt *o,
                    enum config_source src, const char *v, char *why)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	char sb[SHOW_MAX + 4];

	(void)src;
	if (v == NULL) {
		*bool_field(c, o) = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*bool_field(c, o) = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	config_seterr(why, REASON_MAX,
	              "'%s' is not yes, no, true, false, on, off, 1 or 0",
	              config_show(v, sb));
	return -1;
}

static int set_uint(struct config *c, const struct opt *o,
                    enum config_source src, const char *v, char *why)
{
	char sb[SHOW_MAX + 4];

	(void)src;
	if (!parse_uint(v, o->min, o->max, uint_field(c, o))) {
		config_seterr(why, REASON_MAX, "'%s' is not %s from %u to %u",
		              config_show(v, sb), o->what, o->min, o->max);
		return -1;
	}
	return 0;
}

/* A portable user name: [A-Za-z0-9._-], not starting with '-'. */
static bool valid_user(const char *s)
{
	size_t n = strnlen(s, USERNAME_MAX + 1);

	if (n == 0 || n > USERNAME_MAX || s[0] == '-')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789._-") == n;
}

static int set_user(struct config *c, const struct opt *o,
                    enum config_source src, const char *v, char *why)
{
	char sb[SHOW_MAX + 4];

	(void)o, (void)src;
	if (!valid_user(v)) {
		config_seterr(why, REASON_MAX,
		              "'%s' is not a user name (1 to %d of A-Z a-z 0-9 . _ -, "
		              "not starting with '-')",
		              config_show(v, sb), USERNAME_MAX);
		return -1;
	}
	strcpy(c->user, v);
	c->user_set = true;
	return 0;
}

/* A fixed reply name: 1..USERID_MAX printable ASCII characters (so the
 * reply needs no character set and holds no NUL, CR or LF), no space at
 * either end (a client would trim it). */
static bool valid_fixed(const char *s)
{
	size_t n = strnlen(s, USERID_MAX + 1);

	if (n == 0 || n > USERID_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

#define FIXED_PREFIX "fixed:"

/* The reply modes that take no argument. */
static const struct { const char *name; enum reply_mode mode; } modes[] = {
	{"user", MODE_USER}, {"uid", MODE_UID}, {"token", MODE_TOKEN},
	{"hidden", MODE_HIDDEN},
};

static int set_reply(struct config *c, const struct opt *o,
                     enum config_source src, const char *v, char *why)
{
	const char *name = v + strlen(FIXED_PREFIX);
	char sb[SHOW_MAX + 4];

	(void)o, (void)src;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(v, modes[i].name) == 0) {
			c->mode = modes[i].mode;
			c->fixed_name[0] = '\0';
			return 0;
		}
	}
	if (strncmp(v, FIXED_PREFIX, strlen(FIXED_PREFIX)) != 0) {
		config_seterr(why, REASON_MAX,
		              "'%s' is not user, uid, token, hidden or fixed:NAME",
		              config_show(v, sb));
		return -1;
	}
	if (!valid_fixed(name)) {
		config_seterr(why, REASON_MAX,
		              "'%s': NAME must be 1 to %d printable ASCII characters, "
		              "with no space at either end",
		              config_show(v, sb), USERID_MAX);
		return -1;
	}
	c->mode = MODE_FIXED;
	strcpy(c->fixed_name, name);
	return 0;
}

/* An absolute path: the daemon re-reads the key on SIGHUP from "/". */
static int set_keypath(struct config *c, const struct opt *o,
                       enum config_source src, const char *v, char *why)
{
	char sb[SHOW_MAX + 4];

	(void)o, (void)src;
	if (v[0] != '/' || strlen(v) > TOKEN_KEY_PATH_MAX) {
		config_seterr(why, REASON_MAX, "'%s' is not an absolute path of at most "
		              "%d characters", config_show(v, sb), TOKEN_KEY_PATH_MAX);
		return -1;
	}
	strcpy(c->token_key, v);
	return 0;
}

static int set_period(struct config *c, const struct opt *o,
                      enum config_source src, const char *v, char *why)
{
	char sb[SHOW_MAX + 4];

	(void)o, (void)src;
	if (token_parse_period(v, &c->token_period) != 0) {
		config_seterr(why, REASON_MAX, "'%s' is not 'never' or a whole number of "
		              "hours, days or weeks (Nh, Nd, Nw) from 1h to 366d",
		              config_show(v, sb));
		return -1;
	}
	return 0;
}

/* A uid: decimal, 0 to 4294967294 ((uid_t)-1 is "no uid"). */
#define UID_VALID_MAX 4294967294u

bool config_parse_uid_range(const char *s, struct uid_range *r)
{
	char buf[2 * 10 + 2];
	char *dash;
	unsigned lo, hi;

	if (strlen(s) >= sizeof buf)
		return false;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (!parse_uint(buf, 0, UID_VALID_MAX, &lo))
		return false;
	hi = lo;
	if (dash != NULL && !parse_uint(dash + 1, 0, UID_VALID_MAX, &hi))
		return false;
	if (lo > hi)
		return false;
	r->lo = lo;
	r->hi = hi;
	return true;
}

/* The place for a repeatable key's next value: a source's first value
 * replaces what earlier sources gave, later ones in the same source add to
 * it. Returns the index, or -1 with why when the list is full; nothing
 * changes until the caller stores the value (and count and source). */
static int list_next(unsigned count, enum config_source list_src,
                     enum config_source src, unsigned max, const char *what,
                     char *why)
{
	unsigned n = list_src == src ? count : 0;

	if (n >= max) {
		config_seterr(why, REASON_MAX, "more than %u %s", max, what);
		return -1;
	}
	return (int)n;
}

/* Like listen: a source's first hide-uid replaces earlier sources' list. */
static int set_uids(struct config *c, const struct opt *o,
                    enum config_source src, const char *v, char *why)
{
	struct uid_range r;
	char sb[SHOW_MAX + 4];

	(void)o;
	if (!config_parse_uid_range(v, &r)) {
		config_seterr(why, REASON_MAX, "'%s' is not a uid or a range of uids "
		              "such as 1-999 (0 to %u, the first no larger)",
		              config_show(v, sb), UID_VALID_MAX);
		return -1;
	}
	int i = list_next(c->nhide_uid, c->hide_uid_src, src, HIDE_UID_MAX,
	                  "ranges", why);
	if (i < 0)
		return -1;
	c->hide_uid[i] = r;
	c->nhide_uid = (unsigned)i + 1;
	c->hide_uid_src = src;
	return 0;
}

/* A source's first listen replaces what earlier sources gave; later ones
 * in the same source add to it. */
static int set_listen(struct config *c, const struct opt *o,
                      enum config_source src, const char *v, char *why)
{
	struct listen_addr la;

	(void)o;
	if (sa_parse_listen(v, DEFAULT_PORT, &la, why, REASON_MAX) != 0)
		return -1;
	int i = list_next(c->nlisten, c->listen_src, src, LISTEN_MAX, "addresses", why);
	if (i < 0)
		return -1;
	c->listen[i] = la;
	c->nlisten = (unsigned)i + 1;
	c->listen_src = src;
	return 0;
}

/* One user-replies entry: an account name, or "@" and a group name. */
static int add_name(struct config *c, const char *v, size_t n, char *why)
{
	char name[USERNAME_MAX + 2], sb[SHOW_MAX + 4];
	size_t at = n > 0 && v[0] == '@';

	snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), v);
	if (n >= sizeof name || !valid_user(name + at)) {
		config_seterr(why, REASON_MAX, "'%s' is not an account or @group name "
		              "(1 to %d of A-Z a-z 0-9 . _ -, not starting with '-')",
		              config_show(name, sb), USERNAME_MAX);
		return -1;
	}
	if (c->nuser_replies >= USER_REPLIES_MAX) {
		config_seterr(why, REASON_MAX, "more than %d names", USER_REPLIES_MAX);
		return -1;
	}
	strcpy(c->user_replies[c->nuser_replies++], name);
	return 0;
}

/* Names separated by commas or white space. Like listen: a source's first
 * user-replies replaces earlier sources' list. */
static int set_names(struct config *c, const struct opt *o,
                     enum config_source src, const char *v, char *why)
{
	/* On a copy: a refused value leaves the configuration as it was. */
	struct config t = *c;

	(void)o;
	if (t.user_replies_src != src) {
		t.nuser_replies = 0;
		t.user_replies_src = src;
	}
	size_t before = t.nuser_replies;
	for (const char *p = v; *p != '\0';) {
		size_t n = strcspn(p, ", \t");
		if (n > 0 && add_name(&t, p, n, why) != 0)
			return -1;
		p += n;
		p += strspn(p, ", \t");
	}
	if (t.nuser_replies == before) {
		config_seterr(why, REASON_MAX, "needs at least one account or @group");
		return -1;
	}
	memcpy(c->user_replies, t.user_replies, sizeof(c->user_replies));
	c->nuser_replies = t.nuser_replies;
	c->user_replies_src = t.user_replies_src;
	return 0;
}

/* --- forward-network ----------------------------------------------------- */

/* Networks no relayed connection comes from, refused in a forward-network:
 * loopback (the forwarder would ask this host's own services, privident
 * included, which nothing there checks), multicast (no TCP), and IPv6
 * link-local (an address there means nothing without its link, which a
 * forward-network does not name). */
static const struct {
	int family;
	uint8_t addr[16];
	unsigned prefix;
	const char *what;
} forward_refused[] = {
	{AF_INET, {127}, 8, "loopback"},
	{AF_INET, {224}, 4, "multicast"},
	{AF_INET6, {[15] = 1}, 128, "loopback"},
	{AF_INET6, {0xff}, 8, "multicast"},
	{AF_INET6, {0xfe, 0x80}, 10, "link-local"},
	{AF_INET6, {[10] = 0xff, [11] = 0xff}, 96, "IPv4-mapped"},
};

/* Whether two networks share an address: the shorter prefix holds the
 * longer. */
static bool nets_overlap(int fa, const uint8_t *a, unsigned pa, int fb,
                         const uint8_t *b, unsigned pb)
{
	return fa == fb && forward_prefix_match(a, b, pa < pb ? pa : pb);
}

/* One word of a value: its start and length. */
struct word {
	const char *p;
	size_t n;
};

/* The next white-space separated word at *s, or n == 0 at the end. */
static struct word next_word(const char **s)
{
	struct word w;

	*s += strspn(*s, " \t");
	w.p = *s;
	w.n = strcspn(*s, " \t");
	*s += w.n;
	return w;
}

static bool word_is(struct word w, const char *lit)
{
	return w.n == strlen(lit) && memcmp(w.p, lit, w.n) == 0;
}

/* Room for a word quoted in a reason: SHOW_MAX characters and "...". */
static const char *show_word(struct word w, char buf[SHOW_MAX + 4])
{
	size_t n = w.n < SHOW_MAX ? w.n : SHOW_MAX;

	memcpy(buf, w.p, n);
	memcpy(buf + n, w.n > SHOW_MAX ? "..." : "", w.n > SHOW_MAX ? 4 : 1);
	return buf;
}

/* "ADDRESS/LENGTH" into n's family, addr and prefix. */
static int parse_cidr(struct word w, struct forward_net *n, char *why)
{
	char text[INET6_ADDRSTRLEN + 1], sb[SHOW_MAX + 4];
	const char *slash = memchr(w.p, '/', w.n);
	size_t alen = slash ? (size_t)(slash - w.p) : w.n;
	unsigned max;

	if (alen >= sizeof text)
		goto bad;
	memcpy(text, w.p, alen);
	text[alen] = '\0';
	if (inet_pton(AF_INET, text, n->addr) == 1)
		n->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, text, n->addr) == 1)
		n->family = AF_INET6, max = 128;
	else
		goto bad;
	if (slash == NULL) {
		config_seterr(why, REASON_MAX, "'%s' has no prefix length (for one "
		              "host: %s/%u)", show_word(w, sb), text, max);
		return -1;
	}
	char plen[4] = "";
	size_t llen = w.n - alen - 1;
	if (llen < sizeof plen)
		memcpy(plen, slash + 1, llen), plen[llen] = '\0';
	if (llen == 0 || llen >= sizeof plen ||
	    !parse_uint(plen, 0, max, &n->prefix)) {
		config_seterr(why, REASON_MAX, "'%s': the prefix length must be 0 to "
		              "%u", show_word(w, sb), max);
		return -1;
	}
	return 0;
bad:
	config_seterr(why, REASON_MAX, "'%s' is not a network such as "
	              "192.168.0.0/16 or fd00::/8", show_word(w, sb));
	return -1;
}

/* The network's own checks: host bits, the refused ranges. */
static int check_cidr(struct word w, const struct forward_net *n, char *why)
{
	char sb[SHOW_MAX + 4], text[INET6_ADDRSTRLEN];
	struct forward_net net = *n;
	unsigned bits = n->family == AF_INET ? 32 : 128;

	for (unsigned b = n->prefix; b < bits; b++)
		net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	if (memcmp(net.addr, n->addr, sizeof net.addr) != 0) {
		config_seterr(why, REASON_MAX, "'%s' has host bits set (the network "
		              "is %s/%u)", show_word(w, sb),
		              sa_addr_text(n->family, net.addr, text, sizeof text),
		              n->prefix);
		return -1;
	}
	for (size_t i = 0; i < sizeof forward_refused / sizeof forward_refused[0];
	     i++) {
		if (nets_overlap(n->family, n->addr, n->prefix,
		                 forward_refused[i].family, forward_refused[i].addr,
		                 forward_refused[i].prefix)) {
			config_seterr(why, REASON_MAX, "'%s' holds %s addresses%s",
			              show_word(w, sb), forward_refused[i].what,
			              forward_refused[i].prefix == 96 ?
			              " (write the IPv4 network: a mapped address "
			              "counts as IPv4)" : "");
			return -1;
		}
	}
	return 0;
}

/* One of the words after the network: PORT, reply=NAME or token. */
static int parse_option(struct word w, struct forward_net *n, bool *has_port,
                        char *why)
{
	static const char reply_eq[] = "reply=";
	const size_t rlen = sizeof reply_eq - 1;
	char sb[SHOW_MAX + 4], num[8] = "";

	if (word_is(w, "token")) {
		if (n->token)
			goto twice;
		n->token = true;
		return 0;
	}
	if (w.n >= rlen && memcmp(w.p, reply_eq, rlen) == 0) {
		char name[FORWARD_NAME_MAX + 1] = "";

		if (n->reply[0] != '\0')
			goto twice;
		if (w.n - rlen <= FORWARD_NAME_MAX)
			memcpy(name, w.p + rlen, w.n - rlen), name[w.n - rlen] = '\0';
		if (w.n - rlen > FORWARD_NAME_MAX || !userconf_name_ok(name)) {
			config_seterr(why, REASON_MAX, "'%s': NAME must be 1 to %d of "
			              "A-Z a-z 0-9 . _ -", show_word(w, sb),
			              FORWARD_NAME_MAX);
			return -1;
		}
		strcpy(n->reply, name);
		return 0;
	}
	if (w.n > 0 && strspn(w.p, "0123456789") >= w.n) {
		if (*has_port)
			goto twice;
		if (w.n < sizeof num)
			memcpy(num, w.p, w.n), num[w.n] = '\0';
		if (w.n >= sizeof num || !parse_uint(num, 1, PORT_MAX, &n->port)) {
			config_seterr(why, REASON_MAX, "'%s' is not a port from 1 to %u",
			              show_word(w, sb), PORT_MAX);
			return -1;
		}
		*has_port = true;
		return 0;
	}
	config_seterr(why, REASON_MAX, "'%s' is not a port, reply=NAME or token",
	              show_word(w, sb));
	return -1;
twice:
	config_seterr(why, REASON_MAX, "'%s': only one %s may be given",
	              show_word(w, sb), word_is(w, "token") ? "token" :
	              w.n >= rlen && memcmp(w.p, reply_eq, rlen) == 0 ?
	              "reply=NAME" : "port");
	return -1;
}

int config_parse_forward(const char *s, struct forward_net *out, char *why,
                         size_t whysz)
{
	struct forward_net n = {.port = FORWARD_DEFAULT_PORT};
	char reason[REASON_MAX];
	bool has_port = false;
	struct word w = next_word(&s);

	if (w.n == 0) {
		config_seterr(why, whysz, "needs a network such as 192.168.0.0/16 "
		              "or fd00::/8");
		return -1;
	}
	if (parse_cidr(w, &n, reason) != 0 || check_cidr(w, &n, reason) != 0)
		goto fail;
	for (w = next_word(&s); w.n > 0; w = next_word(&s))
		if (parse_option(w, &n, &has_port, reason) != 0)
			goto fail;
	if (has_port && n.reply[0] != '\0') {
		config_seterr(why, whysz, "a port and reply=NAME exclude each other "
		              "(reply=NAME asks nobody)");
		return -1;
	}
	if (n.reply[0] != '\0')
		n.port = 0;
	*out = n;
	return 0;
fail:
	config_seterr(why, whysz, "%s", reason);
	return -1;
}

void config_format_forward(const struct forward_net *n, char *buf,
                           size_t size)
{
	char text[INET6_ADDRSTRLEN], port[8] = "";

	if (n->reply[0] == '\0' && n->port != FORWARD_DEFAULT_PORT)
		snprintf(port, sizeof port, " %u", n->port % 100000);
	snprintf(buf, size, "%s/%u%s%s%s%s",
	         sa_addr_text(n->family, n->addr, text, sizeof text), n->prefix,
	         port, n->reply[0] ? " reply=" : "", n->reply,
	         n->token ? " token" : "");
}

/* The same network as one already listed: which would apply could only be
 * guessed. Its index, or -1. */
static int forward_dup(const struct forward_net *list, unsigned n,
                       const struct forward_net *f)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].family == f->family && list[i].prefix == f->prefix &&
		    forward_prefix_match(list[i].addr, f->addr, f->prefix))
			return (int)i;
	return -1;
}

/* Like listen: a source's first forward-network replaces earlier sources'
 * list. Networks may nest (the longest prefix applies); the same network
 * twice is refused. */
static int set_forward(struct config *c, const struct opt *o,
                       enum config_source src, const char *v, char *why)
{
	struct forward_net f;
	char text[FORWARD_NET_TEXT_MAX];

	(void)o;
	if (config_parse_forward(v, &f, why, REASON_MAX) != 0)
		return -1;
	int i = list_next(c->nforward, c->forward_src, src, FORWARD_NETWORKS_MAX,
	                  "networks", why);
	if (i < 0)
		return -1;
	unsigned n = (unsigned)i;
	if (forward_dup(c->forward, n, &f) >= 0) {
		config_format_forward(&f, text, sizeof text);
		config_seterr(why, REASON_MAX, "'%s': that network is listed already",
		              text);
		return -1;
	}
	c->forward_src = src;
	c->forward[n] = f;
	c->nforward = n + 1;
	return 0;
}

/* A proxy address: IPv4 or IPv6, no port, no scope. A v4-mapped one is
 * kept as IPv4, as the helper sees such a peer. Not the unspecified
 * address (no peer has it) and not a link-local one (a relayed connection
 * leaves the link, so the gateway asks from an address that does too).
 * Like listen: a source's first proxy replaces earlier sources' list. */
static int set_proxy(struct config *c, const struct opt *o,
                     enum config_source src, const char *v, char *why)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	struct proxy_addr p;
	char sb[SHOW_MAX + 4];

	(void)o;
	memset(&p, 0, sizeof p);
	p.family = inet_pton(AF_INET, v, p.addr) == 1 ? AF_INET :
	           inet_pton(AF_INET6, v, p.addr) == 1 ? AF_INET6 : AF_UNSPEC;
	if (p.family == AF_INET6 && memcmp(p.addr, mapped, sizeof mapped) == 0) {
		memmove(p.addr, p.addr + sizeof mapped, 4);
		memset(p.addr + 4, 0, sizeof p.addr - 4);
		p.family = AF_INET;
	}
	if (p.family == AF_UNSPEC ||
	    memcmp(p.addr, zero, p.family == AF_INET ? 4 : 16) == 0 ||
	    (p.family == AF_INET6 && sa_is_link_local(p.addr))) {
		config_seterr(why, REASON_MAX, "'%s' is not an IPv4 or IPv6 address "
		              "(no port, not link-local, not unspecified)",
		              config_show(v, sb));
		return -1;
	}
	int i = list_next(c->nproxy, c->proxy_src, src, PROXY_MAX, "addresses", why);
	if (i < 0)
		return -1;
	c->proxy[i] = p;
	c->nproxy = (unsigned)i + 1;
	c->proxy_src = src;
	return 0;
}

bool config_is_proxy(const struct config *c, int family, const uint8_t *addr)
{
	size_t n = family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < c->nproxy && i < PROXY_MAX; i++)
		if (c->proxy[i].family == family &&
		    memcmp(c->proxy[i].addr, addr, n) == 0)
			return true;
	return false;
}

static int set_cli_only(struct config *c, const struct opt *o,
                        enum config_source src, const char *v, char *why)
{
	(void)c, (void)o, (void)src, (void)v;
	config_seterr(why, REASON_MAX,
	              "allowed only on the command line, not as a configuration key");
	return -1;
}

static setter_fn *const setters[] = {
	[K_BOOL] = set_bool,         [K_UINT] = set_uint,
	[K_USER] = set_user,         [K_REPLY] = set_reply,
	[K_LISTEN] = set_listen,     [K_CONFIG] = set_cli_only,
	[K_KEYPATH] = set_keypath,   [K_PERIOD] = set_period,
	[K_UIDS] = set_uids,         [K_NAMES] = set_names,
	[K_FORWARD] = set_forward,
	[K_HELP] = set_cli_only,     [K_VERSION] = set_cli_only,
	[K_PROXY] = set_proxy,
};

/* --- the public interface ----------------------------------------------- */

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->user, DEFAULT_USER);
	c->timeout = DEFAULT_TIMEOUT;
	c->lookup_timeout = DEFAULT_LOOKUP_TIMEOUT;
	c->max_connections = DEFAULT_MAX_CONNECTIONS;
	c->max_per_host = DEFAULT_MAX_PER_HOST;
	c->max_queries = DEFAULT_MAX_QUERIES;
	c->mode = MODE_USER;
	c->listen_src = SRC_DEFAULT;
	strcpy(c->token_key, DEFAULT_TOKEN_KEY_PATH);
	c->token_period = TOKEN_PERIOD_DEFAULT;
	c->token_length = TOKEN_LENGTH_DEFAULT;
	c->hide_uid[0] = (struct uid_range){0, 0};
	c->nhide_uid = 1;
	c->hide_uid_src = SRC_DEFAULT;
	c->forward_src = SRC_DEFAULT;
	c->forward_timeout = DEFAULT_FORWARD_TIMEOUT;
}

int config_set(struct config *c, enum config_source src, const char *key,
               const char *value, char *err, size_t errsz)
{
	const char *dash = src == SRC_CLI ? "--" : "";
	char why[REASON_MAX], sb[SHOW_MAX + 4];
	const struct opt *o = key != NULL ? find_opt(key) : NULL;

	if (o == NULL) {
		config_seterr(err, errsz, "unknown key '%s'",
		              key ? config_show(key, sb) : "");
		return -1;
	}
	if (value == NULL && o->kind != K_BOOL && !cli_only(o)) {
		config_seterr(err, errsz, "%s%s: needs a value", dash, o->name);
		return -1;
	}
	if (setters[o->kind](c, o, src, value, why) != 0) {
		config_seterr(err, errsz, "%s%s: %s", dash, o->name, why);
		return -1;
	}
	return 0;
}

/* Cuts a trailing comment (a '#' at the start or after white space) and
 * the white space at both ends; returns the start of what is left. */
static char *strip_line(char *s)
{
	char *end;

	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || is_space(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	while (is_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		*--end = '\0';
	return s;
}

/* One line's text, without its newline, NUL-terminated in buf. */
static int parse_line(struct config *c, char *buf, char *why, size_t whysz)
{
	char *line = strip_line(buf), *eq, *key, *value;

	if (*line == '\0')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL) {
		config_seterr(why, whysz, "expected 'key = value', found no '='");
		return -1;
	}
	*eq = '\0';
	key = strip_line(line);
	value = strip_line(eq + 1);
	if (*key == '\0') {
		config_seterr(why, whysz, "no key before '='");
		return -1;
	}
	return config_set(c, SRC_FILE, key, value, why, whysz);
}

/* Why a raw line (without its newline) cannot be parsed at all, or NULL. */
static const char *bad_raw_line(const char *line, size_t n)
{
	if (n > CONFIG_LINE_MAX)
		return "line longer than " STR(CONFIG_LINE_MAX) " characters";
	if (memchr(line, '\0', n) != NULL)
		return "NUL byte in line";
	return NULL;
}

static int parse_text(struct config *c, const char *text, size_t len,
                      const char *fname, char *err, size_t errsz)
{
	char buf[CONFIG_LINE_MAX + 1], why[REASON_MAX + 64];
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		const char *bad = bad_raw_line(text + pos, n);

		lineno++;
		if (bad != NULL) {
			config_seterr(err, errsz, "%s:%u: %s", fname, lineno, bad);
			return -1;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')  /* a CR LF line end */
			buf[n - 1] = '\0';
		if (parse_line(c, buf, why, sizeof why) != 0) {
			config_seterr(err, errsz, "%s:%u: %s", fname, lineno, why);
			return -1;
		}
		pos += n + 1;
	}
	return 0;
}

int config_parse_text(struct config *c, const char *text, size_t len,
                      const char *fname, char *err, size_t errsz)
{
	struct config tmp = *c;  /* all or nothing */

	if (parse_text(&tmp, text, len, fname, err, errsz) != 0)
		return -1;
	/* Replies are chosen in the user files: naming who may choose them
	 * turns the files on. */
	if (tmp.nuser_replies > 0)
		tmp.user_files = true;
	*c = tmp;
	return 0;
}

/* Reads up to cap bytes of fd into buf. Returns the count, or -1. */
static ssize_t read_upto(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int config_load_file(struct config *c, const char *path, bool must_exist,
                     char *err, size_t errsz)
{
	char *buf;
	ssize_t n;
	int fd, e, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		config_seterr(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);  /* one more: to see "too large" */
	if (buf == NULL) {
		config_seterr(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = read_upto(fd, buf, CONFIG_FILE_MAX + 1);
	e = errno;
	close(fd);
	if (n < 0)
		config_seterr(err, errsz, "%s: %s", path, strerror(e));
	else if (n > CONFIG_FILE_MAX)
		config_seterr(err, errsz, "%s: larger than %d bytes", path,
		              CONFIG_FILE_MAX);
	rc = n < 0 || n > CONFIG_FILE_MAX
	         ? -1
	         : config_parse_text(c, buf, (size_t)n, path, err, errsz);
	free(buf);
	return rc;
}

static int validate_ranges(const struct config *c, char *err, size_t errsz)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &config_opts[i];
		unsigned v;

		if (o->kind != K_UINT)
			continue;
		v = *(const unsigned *)((const char *)c + o->off);
		if (v < o->min || v > o->max) {
			config_seterr(err, errsz, "%s: %u is not %s from %u to %u",
			              o->name, v, o->what, o->min, o->max);
			return -1;
		}
	}
	return 0;
}

static int validate_listen(const struct config *c, char *err, size_t errsz)
{
	char why[REASON_MAX];

	if (c->nlisten > LISTEN_MAX) {
		config_seterr(err, errsz, "listen: more than %d addresses", LISTEN_MAX);
		return -1;
	}
	if (sa_check_listen(c->listen, c->nlisten, why, sizeof why) != 0) {
		config_seterr(err, errsz, "listen: %s", why);
		return -1;
	}
	return 0;
}

bool config_uid_hidden(const struct config *c, uint32_t uid)
{
	if (uid == 0)
		return true;
	for (unsigned i = 0; i < c->nhide_uid && i < HIDE_UID_MAX; i++)
		if (uid >= c->hide_uid[i].lo && uid <= c->hide_uid[i].hi)
			return true;
	return false;
}

bool config_reads_home(const struct config *c)
{
	return c->noident || c->opt_in || c->user_files || c->nuser_replies > 0;
}

static int validate_token(const struct config *c, char *err, size_t errsz)
{
	if (c->token_period != TOKEN_PERIOD_NEVER &&
	    (c->token_period < TOKEN_PERIOD_MIN ||
	     c->token_period > TOKEN_PERIOD_MAX)) {
		config_seterr(err, errsz, "token-period: %u seconds is not from %u to %u",
		              c->token_period, TOKEN_PERIOD_MIN, TOKEN_PERIOD_MAX);
		return -1;
	}
	if (c->token_key[0] != '/' || strnlen(c->token_key, sizeof c->token_key)
	                                  > TOKEN_KEY_PATH_MAX) {
		config_seterr(err, errsz, "token-key: not an absolute path");
		return -1;
	}
	return 0;
}

static int validate_hide_uid(const struct config *c, char *err, size_t errsz)
{
	if (c->nhide_uid > HIDE_UID_MAX) {
		config_seterr(err, errsz, "hide-uid: more than %d ranges", HIDE_UID_MAX);
		return -1;
	}
	for (unsigned i = 0; i < c->nhide_uid; i++) {
		if (c->hide_uid[i].lo > c->hide_uid[i].hi ||
		    c->hide_uid[i].hi > UID_VALID_MAX) {
			config_seterr(err, errsz, "hide-uid: range %u is malformed", i + 1);
			return -1;
		}
	}
	return 0;
}

/* The combinations of doc/design.md §5's rules that cannot mean anything. The
 * token options without reply = token are allowed: privident-token
 * reveal reads them from the same file, also after a switch away from
 * tokens. */
static int validate_user_files(const struct config *c, char *err, size_t errsz)
{
	if ((c->user_reply_any_name || c->user_reply_overrides) &&
	    c->nuser_replies == 0) {
		config_seterr(err, errsz, "%s makes no difference without user-replies "
		              "(nobody may choose a reply)", c->user_reply_any_name ?
		              "user-reply-any-name" : "user-reply-overrides");
		return -1;
	}
	return 0;
}

static int validate_privacy(const struct config *c, char *err, size_t errsz)
{
	const char *file = c->noident ? "noident" : c->opt_in ? "opt-in" :
	                   c->user_files ? "user-files" : "user-replies";

	if (validate_token(c, err, errsz) != 0 ||
	    validate_hide_uid(c, err, errsz) != 0 ||
	    validate_user_files(c, err, errsz) != 0)
		return -1;
	if (c->noident && c->opt_in) {
		config_seterr(err, errsz, "noident and opt-in exclude each other (opt-in "
		              "already hides everyone without ~/.ident)");
		return -1;
	}
	if (config_reads_home(c) && c->mode == MODE_FIXED) {
		config_seterr(err, errsz, "%s makes no sense with reply = fixed:NAME, "
		              "which looks nothing up and so never knows whose "
		              "connection it is", file);
		return -1;
	}
	if (config_reads_home(c) && c->mode == MODE_HIDDEN) {
		config_seterr(err, errsz, "%s makes no difference with reply = hidden, "
		              "which hides everyone", file);
		return -1;
	}
	if (c->hide_uid_src != SRC_DEFAULT && c->mode == MODE_FIXED) {
		config_seterr(err, errsz, "hide-uid makes no sense with reply = "
		              "fixed:NAME, which looks nothing up and so never knows "
		              "whose connection it is");
		return -1;
	}
	return 0;
}

bool config_forwarding(const struct config *c)
{
	return c->nforward > 0;
}

bool config_needs_token_key(const struct config *c)
{
	if (c->mode == MODE_TOKEN)
		return true;
	for (unsigned i = 0; i < c->nforward && i < FORWARD_NETWORKS_MAX; i++)
		if (c->forward[i].token)
			return true;
	return false;
}

/* A forward_net as config_parse_forward leaves it. */
static bool forward_net_ok(const struct forward_net *f)
{
	unsigned bits = f->family == AF_INET ? 32 : f->family == AF_INET6 ? 128 : 0;

	if (bits == 0 || f->prefix > bits)
		return false;
	if (f->reply[0] != '\0')
		return f->port == 0 && userconf_name_ok(f->reply) &&
		       strnlen(f->reply, sizeof f->reply) < sizeof f->reply;
	return f->port >= 1 && f->port <= PORT_MAX;
}

/* doc/design.md §5: forwarding answers for connections no local socket
 * owns, which the modes that look nothing up never find. */
static int validate_forward(const struct config *c, char *err, size_t errsz)
{
	char text[FORWARD_NET_TEXT_MAX];

	if (c->nforward > FORWARD_NETWORKS_MAX) {
		config_seterr(err, errsz, "forward-network: more than %d networks",
		              FORWARD_NETWORKS_MAX);
		return -1;
	}
	for (unsigned i = 0; i < c->nforward; i++) {
		if (!forward_net_ok(&c->forward[i])) {
			config_seterr(err, errsz, "forward-network: network %u is "
			              "malformed", i + 1);
			return -1;
		}
		if (forward_dup(c->forward, i, &c->forward[i]) >= 0) {
			config_format_forward(&c->forward[i], text, sizeof text);
			config_seterr(err, errsz, "forward-network: '%s' is listed "
			              "twice", text);
			return -1;
		}
	}
	if (c->nforward > 0 && c->mode == MODE_FIXED) {
		config_seterr(err, errsz, "forward-network makes no sense with reply = "
		              "fixed:NAME, which looks nothing up and so never finds "
		              "a connection this host only relays");
		return -1;
	}
	if (c->nforward > 0 && c->mode == MODE_HIDDEN) {
		config_seterr(err, errsz, "forward-network makes no sense with reply = "
		              "hidden, which hides everyone");
		return -1;
	}
	return 0;
}

int config_validate(const struct config *c, char *err, size_t errsz)
{
	if (validate_ranges(c, err, errsz) != 0 ||
	    validate_listen(c, err, errsz) != 0)
		return -1;
	if (c->inetd && c->nlisten > 0) {
		config_seterr(err, errsz, "listen makes no sense with inetd (the "
		              "connection comes on standard input)");
		return -1;
	}
	if (!valid_user(c->user)) {
		config_seterr(err, errsz, "user: not a valid user name");
		return -1;
	}
	if (c->mode != MODE_USER && c->mode != MODE_UID && c->mode != MODE_FIXED &&
	    c->mode != MODE_TOKEN && c->mode != MODE_HIDDEN) {
		config_seterr(err, errsz, "reply: unknown mode %d", (int)c->mode);
		return -1;
	}
	if (c->mode == MODE_FIXED && !valid_fixed(c->fixed_name)) {
		config_seterr(err, errsz, "reply: fixed needs a valid NAME");
		return -1;
	}
	if (validate_forward(c, err, errsz) != 0)
		return -1;
	return validate_privacy(c, err, errsz);
}

int config_build(struct config *c, const struct cli *cli, char *err,
                 size_t errsz)
{
	struct config tmp;  /* all or nothing: c is untouched on failure */
	int rc;

	const char *path = cli->config_path ? cli->config_path : DEFAULT_CONFIG_PATH;
	config_defaults(&tmp);
	rc = config_load_file(&tmp, path, cli->config_path != NULL, err, errsz);
	if (rc != 0)
		return -1;
	struct config file_only = tmp;
	for (unsigned i = 0; i < cli->nargs && i < CLI_ARGS_MAX; i++)
		if (config_set(&tmp, SRC_CLI, cli->args[i].key, cli->args[i].value,
		               err, errsz) != 0)
			return -1;
	if (config_validate(&tmp, err, errsz) != 0) {
		/* A clash no single line makes: name the file when the file
		 * alone makes the same one (defaults always pass, so a missing
		 * default file is never blamed). */
		char alone[512];
		if (config_validate(&file_only, alone, sizeof alone) != 0 &&
		    strncmp(alone, err, sizeof alone) == 0)
			config_seterr(err, errsz, "%s: %s", path, alone);
		return -1;
	}
	/* Replies are chosen in the user files: naming who may choose them
	 * turns the files on. */
	if (tmp.nuser_replies > 0)
		tmp.user_files = true;
	*c = tmp;
	return 0;
}
