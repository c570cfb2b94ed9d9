/* identload: a load generator for ident servers (RFC 1413), privident's
 * benchmark tool (doc/design.md §9). It prints figures; it is not a test.
 *
 *   identload query -s ADDR:PORT --pair SP,CP[,EXPECT] ... [options]
 *       C connections, Q queries on each (one at a time, or D pipelined),
 *       the queries cycling through the port pairs; bounded by a count or a
 *       time. Prints queries/s, latency percentiles and a count of every
 *       kind of answer, checked against the expected one.
 *   identload query ... --churn-users U1,U2,.. --churn-local A --churn-peer B
 *       the same, asking about connections that forked children, one per
 *       user, open and close as fast as told: a USERID must name the user
 *       whose connection it is.
 *   identload hold -s ADDR:PORT -N n     hold n idle connections open
 *   identload hold --self-listen ADDR -N n
 *       hold n established loopback connections to itself (2n sockets).
 *
 * Everything is bounded: by a count, a time, a hard cap (--max-secs), the
 * parent's death (PR_SET_PDEATHSIG), or, for hold, the end of a pipe on
 * standard input. The last line of the output is "RESULT {json}". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* Queries in flight on one connection at most (--depth). */
#define DEPTH_MAX 64
/* A reply line longer than this is garbage (RFC 1413 allows 512 octets of
 * user id plus the fixed fields). */
#define LINE_MAX_LEN 1024
/* Latency histogram: 1 µs buckets up to one second; slower replies land in
 * the last bucket (the exact maximum is kept apart). */
#define HIST_BUCKETS 1000000
/* Wrong answers printed to stderr in full, for diagnosis. */
#define WRONG_SHOWN 5
/* Connects in flight at once in hold mode. */
#define HOLD_INFLIGHT 512
/* Live connections per churning user at most. */
#define CHURN_LIVE_MAX 1024
/* Users churning at most. */
#define CHURN_USERS_MAX 64
/* Source addresses at most. */
#define SRC_MAX 4096
/* Distinct expectations at most. */
#define EXPECT_MAX 256
/* Consecutive failed connects before giving up. */
#define CONNECT_FAIL_MAX 2000
/* How long in-flight queries may take to drain after the bound is hit. */
#define DRAIN_NS (5 * NS)

#define NS 1000000000ull
#define US 1000ull

/* ---- small helpers ---- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "identload: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static void die_errno(const char *what)
{
	fprintf(stderr, "identload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("setrlimit(RLIMIT_NOFILE) (run as root, or raise fs.nr_open)");
}

/* "1.2.3.4", "1.2.3.4:113", "::1", "[::1]:113". want_port: -1 port
 * forbidden, 0 optional, 1 required. */
static void parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
                       int want_port)
{
	char host[128];
	const char *port = NULL;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			die("bad address '%s'", s);
		n = (size_t)(e - s - 1);
		memcpy(host, s + 1, n);
		host[n] = 0;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			die("bad address '%s'", s);
	} else {
		const char *c = strchr(s, ':');
		if (c && strchr(c + 1, ':'))
			c = NULL;   /* bare IPv6 */
		n = c ? (size_t)(c - s) : strlen(s);
		if (n >= sizeof(host))
			die("bad address '%s'", s);
		memcpy(host, s, n);
		host[n] = 0;
		if (c)
			port = c + 1;
	}
	if ((want_port == 1 && !port) || (want_port == -1 && port))
		die("bad address '%s' (port)", s);
	unsigned long p = 0;
	if (port) {
		char *end;
		p = strtoul(port, &end, 10);
		if (*port == 0 || *end || p > 65535)
			die("bad port in '%s'", s);
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
	} else {
		die("bad address '%s'", s);
	}
}

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct addr sources[SRC_MAX];
static int nsources;

/* "ADDR" or "ADDR+N": N consecutive IPv4 addresses from ADDR. */
static void add_sources(const char *s)
{
	char buf[128];
	const char *plus = strchr(s, '+');
	unsigned long count = 1;

	snprintf(buf, sizeof(buf), "%s", s);
	if (plus) {
		char *end;
		buf[plus - s] = 0;
		count = strtoul(plus + 1, &end, 10);
		if (!plus[1] || *end || count == 0 || count > SRC_MAX)
			die("bad source range '%s'", s);
	}
	struct addr a;
	parse_addr(buf, &a.ss, &a.len, -1);
	if (count > 1 && a.ss.ss_family != AF_INET)
		die("a range (+N) needs an IPv4 address: '%s'", s);
	for (unsigned long i = 0; i < count; i++) {
		if (nsources >= SRC_MAX)
			die("too many source addresses (%s)", s);
		struct addr b = a;
		if (i) {
			struct sockaddr_in *b4 = (struct sockaddr_in *)&b.ss;
			b4->sin_addr.s_addr = htonl(ntohl(b4->sin_addr.s_addr) + (uint32_t)i);
		}
		sources[nsources++] = b;
	}
}

static int same_addr(const struct addr *a, const struct addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

/* A connecting socket, bound to src (if any) with the port left for
 * connect to choose, so the ephemeral range is per destination. */
static int open_socket(const struct addr *src, int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (src->ss.ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&src->ss, src->len) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

/* Abortive close: RST, no TIME_WAIT left behind. */
static void close_rst(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ---- expectations and answers ---- */

enum exp_kind { EXP_ANY, EXP_USER, EXP_USER_OR_NONE, EXP_ERROR };

struct expect {
	int kind;
	char text[128];   /* user name or error token */
};

static struct expect expects[EXPECT_MAX];
static int nexpects;

static int expect_index(const char *s)
{
	struct expect e;

	memset(&e, 0, sizeof(e));
	size_t n = strlen(s);
	if (n == 0 || strcmp(s, "*") == 0) {
		e.kind = EXP_ANY;
	} else if (!strcmp(s, "NO-USER") || !strcmp(s, "HIDDEN-USER") ||
	           !strcmp(s, "INVALID-PORT") || !strcmp(s, "UNKNOWN-ERROR")) {
		e.kind = EXP_ERROR;
		snprintf(e.text, sizeof(e.text), "%s", s);
	} else if (s[n - 1] == '?') {
		e.kind = EXP_USER_OR_NONE;
		if (n - 1 >= sizeof(e.text))
			die("expected name too long: %s", s);
		memcpy(e.text, s, n - 1);
	} else {
		e.kind = EXP_USER;
		if (n >= sizeof(e.text))
			die("expected name too long: %s", s);
		memcpy(e.text, s, n);
	}
	for (int i = 0; i < nexpects; i++)
		if (expects[i].kind == e.kind && !strcmp(expects[i].text, e.text))
			return i;
	if (nexpects >= EXPECT_MAX)
		die("too many distinct expectations (%s)", s);
	expects[nexpects] = e;
	return nexpects++;
}

struct stats {
	uint64_t replies, ok, userid, nouser, hidden, invalid, unknown, other_err;
	uint64_t unexpected, wrong, bad, dropped, timeouts, connect_fail, opened;
	uint64_t in_window;
	uint64_t max_ns;
	uint64_t shown;
};

static struct stats st;
static uint32_t *hist;

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static void show_wrong(const char *why, unsigned sp, unsigned cp,
                       const struct expect *e, const char *line)
{
	if (st.shown++ >= WRONG_SHOWN)
		return;
	fprintf(stderr, "identload: WRONG (%s): asked %u,%u expecting %s%s, got: %s\n",
	        why, sp, cp, e->kind == EXP_ANY ? "*" : e->text,
	        e->kind == EXP_USER_OR_NONE ? " or NO-USER" : "", line);
}

/* Classifies one reply line (without its line end) to a query. */
static void classify(char *line, unsigned sp, unsigned cp, int expi)
{
	const struct expect *e = &expects[expi];
	char copy[LINE_MAX_LEN + 1];
	char *f[4];
	int nf = 0;
	char *p = line;

	snprintf(copy, sizeof(copy), "%s", line);
	st.replies++;
	/* "sp , cp : USERID : opsys : name" or "sp , cp : ERROR : token"; the
	 * user id is everything after the third colon. */
	f[nf++] = p;
	while (nf < 4 && (p = strchr(p, ':')) != NULL) {
		*p++ = 0;
		f[nf++] = p;
	}
	unsigned a, b;
	char tail;
	if (nf < 3 || sscanf(f[0], " %u , %u %c", &a, &b, &tail) != 2 ||
	    a != sp || b != cp) {
		st.bad++;
		st.wrong++;
		show_wrong("malformed or ports not echoed", sp, cp, e, copy);
		return;
	}
	char *type = trim(f[1]);
	if (!strcmp(type, "USERID") && nf == 4) {
		char *name = f[3];
		while (*name == ' ' || *name == '\t')
			name++;
		size_t n = strlen(name);
		while (n && (name[n - 1] == '\r' || name[n - 1] == '\n'))
			name[--n] = 0;
		/* privident writes "name" with no trailing space; tolerate some. */
		while (n && name[n - 1] == ' ')
			name[--n] = 0;
		st.userid++;
		if (e->kind == EXP_ANY) {
			st.ok++;
		} else if ((e->kind == EXP_USER || e->kind == EXP_USER_OR_NONE) &&
		           !strcmp(name, e->text)) {
			st.ok++;
		} else {
			st.wrong++;
			show_wrong("USERID is not the owner", sp, cp, e, copy);
		}
		return;
	}
	if (!strcmp(type, "ERROR") && nf == 3) {
		char *tok = trim(f[2]);
		if (!strcmp(tok, "NO-USER"))
			st.nouser++;
		else if (!strcmp(tok, "HIDDEN-USER"))
			st.hidden++;
		else if (!strcmp(tok, "INVALID-PORT"))
			st.invalid++;
		else if (!strcmp(tok, "UNKNOWN-ERROR"))
			st.unknown++;
		else
			st.other_err++;
		if (e->kind == EXP_ANY || (e->kind == EXP_ERROR && !strcmp(tok, e->text)) ||
		    (e->kind == EXP_USER_OR_NONE && !strcmp(tok, "NO-USER")))
			st.ok++;
		else
			st.unexpected++;
		return;
	}
	st.bad++;
	st.wrong++;
	show_wrong("malformed", sp, cp, e, copy);
}

static void hist_add(uint64_t ns)
{
	uint64_t us = ns / US;
	if (us >= HIST_BUCKETS)
		us = HIST_BUCKETS - 1;
	hist[us]++;
	if (ns > st.max_ns)
		st.max_ns = ns;
}

static double hist_pct(double pct)
{
	uint64_t total = 0, run = 0;
	for (int i = 0; i < HIST_BUCKETS; i++)
		total += hist[i];
	if (!total)
		return 0;
	uint64_t want = (uint64_t)(pct / 100.0 * (double)total + 0.999999);
	if (want == 0)
		want = 1;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		run += hist[i];
		if (run >= want)
			return i + 0.5;   /* the bucket's middle, µs */
	}
	return HIST_BUCKETS;
}

/* ---- options ---- */

struct pair {
	uint16_t sp, cp;
	int expect;
};

struct pgroup {
	struct addr src;   /* len 0: let the kernel choose */
	struct pair *pairs;
	int npairs, cursor;
};

static struct {
	struct addr server;
	int have_server;
	int conns, queries, depth;
	uint64_t count;
	double secs, warmup, rate, max_secs;
	uint64_t timeout_ms;
	int close_rst;
	/* hold */
	uint32_t hold_n;
	struct addr self_listen;
	int have_self_listen;
	/* churn */
	char *churn_users;
	struct addr churn_local, churn_peer;
	int have_churn_local, have_churn_peer;
	int churn_live;
	double churn_rate;
} opt = {
	.conns = 8, .queries = 1, .depth = 1, .timeout_ms = 5000,
	.max_secs = 600, .churn_live = 32, .churn_rate = 500,
};

static struct pair raw_pairs[65536];
static struct addr raw_pair_src[65536];
static int nraw;

static struct pgroup *groups;
static int ngroups;

static void add_pair(unsigned sp, unsigned cp, const char *expect, const char *src)
{
	if (nraw >= (int)(sizeof(raw_pairs) / sizeof(raw_pairs[0])))
		die("too many pairs%s", "");
	if (sp < 1 || sp > 65535 || cp < 1 || cp > 65535)
		die("bad port pair (%s)", expect ? expect : "");
	raw_pairs[nraw].sp = (uint16_t)sp;
	raw_pairs[nraw].cp = (uint16_t)cp;
	raw_pairs[nraw].expect = expect_index(expect ? expect : "*");
	memset(&raw_pair_src[nraw], 0, sizeof(raw_pair_src[nraw]));
	if (src)
		parse_addr(src, &raw_pair_src[nraw].ss, &raw_pair_src[nraw].len, -1);
	nraw++;
}

/* --pair SP,CP[,EXPECT[,SRC]] */
static void parse_pair_arg(const char *s)
{
	char buf[256], *tok[4] = { 0 }, *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save))
		tok[n++] = t;
	if (n < 2)
		die("bad --pair '%s' (SP,CP[,EXPECT[,SRC]])", s);
	add_pair((unsigned)strtoul(tok[0], NULL, 10), (unsigned)strtoul(tok[1], NULL, 10),
	         tok[2], tok[3]);
}

/* --pairs FILE: "SP CP [EXPECT [SRC]]" a line; '#' starts a comment. */
static void read_pairs(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		die_errno(path);
	while (fgets(line, sizeof(line), f)) {
		char *h = strchr(line, '#');
		if (h)
			*h = 0;
		char e[200] = "", src[128] = "";
		unsigned sp, cp;
		int n = sscanf(line, "%u %u %199s %127s", &sp, &cp, e, src);
		if (n <= 0)
			continue;
		if (n < 2)
			die("bad line in %s", path);
		add_pair(sp, cp, n >= 3 ? e : NULL, n >= 4 ? src : NULL);
	}
	fclose(f);
}

static struct pgroup *group_for(const struct addr *src)
{
	for (int i = 0; i < ngroups; i++)
		if (same_addr(&groups[i].src, src))
			return &groups[i];
	groups = realloc(groups, sizeof(*groups) * (size_t)(ngroups + 1));
	if (!groups)
		die_errno("realloc");
	memset(&groups[ngroups], 0, sizeof(groups[0]));
	groups[ngroups].src = *src;
	return &groups[ngroups++];
}

static void group_add(struct pgroup *g, const struct pair *p)
{
	g->pairs = realloc(g->pairs, sizeof(*p) * (size_t)(g->npairs + 1));
	if (!g->pairs)
		die_errno("realloc");
	g->pairs[g->npairs++] = *p;
}

/* Pairs with a source go to that source's group; pairs without one go to
 * every --src address's group (or to one "any source" group). */
static void build_groups(void)
{
	struct addr none;

	memset(&none, 0, sizeof(none));
	for (int i = 0; i < nraw; i++) {
		if (raw_pair_src[i].len) {
			group_add(group_for(&raw_pair_src[i]), &raw_pairs[i]);
		} else if (nsources) {
			for (int s = 0; s < nsources; s++)
				group_add(group_for(&sources[s]), &raw_pairs[i]);
		} else {
			group_add(group_for(&none), &raw_pairs[i]);
		}
	}
}

/* ---- churn: connections owned by other users, opened and closed ---- */

struct churn_shared {
	_Atomic int stop;
	_Atomic uint64_t opened[CHURN_USERS_MAX];
	_Atomic uint64_t failed[CHURN_USERS_MAX];
	/* Local port of each user's live connections, slot by slot; 0 empty. */
	_Atomic uint32_t port[CHURN_USERS_MAX][CHURN_LIVE_MAX];
};

static struct {
	int n;
	char name[CHURN_USERS_MAX][64];
	uid_t uid[CHURN_USERS_MAX];
	gid_t gid[CHURN_USERS_MAX];
	int lfd[CHURN_USERS_MAX];
	uint16_t lport[CHURN_USERS_MAX];
	pid_t pid[CHURN_USERS_MAX];
	int expect[CHURN_USERS_MAX];
	struct churn_shared *sh;
} churn;

static int listen_on(const struct addr *a, int backlog, uint16_t *port)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	/* Zeroed whole (not "= { 0 }"), so that the analyzer knows the bytes
	 * read back through sockaddr_in are defined. */
	memset(&ss, 0, sizeof(ss));
	if (fd < 0)
		die_errno("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		die_errno("bind (listener)");
	if (listen(fd, backlog) < 0)
		die_errno("listen");
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		die_errno("getsockname");
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* One user: keeps opt.churn_live connections from churn_local to its own
 * listener on churn_peer, replacing the oldest one at opt.churn_rate a
 * second, half closed normally (TIME_WAIT: no owner) and half reset. */
static void churn_child(int u)
{
	struct churn_shared *sh = churn.sh;
	int L = opt.churn_live;
	int cfd[CHURN_LIVE_MAX], afd[CHURN_LIVE_MAX];
	struct addr peer = opt.churn_peer;
	uint64_t interval = opt.churn_rate > 0 ? (uint64_t)(NS / opt.churn_rate) : 0;
	uint64_t next = now_ns();
	pid_t parent = getppid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	if (setgroups(0, NULL) < 0 || setgid(churn.gid[u]) < 0 || setuid(churn.uid[u]) < 0 ||
	    getuid() != churn.uid[u]) {
		fprintf(stderr, "identload: cannot become %s: %s\n", churn.name[u], strerror(errno));
		_exit(1);
	}
	((struct sockaddr_in *)&peer.ss)->sin_port = htons(churn.lport[u]);
	for (int i = 0; i < L; i++)
		cfd[i] = afd[i] = -1;
	int fails = 0;
	for (uint64_t k = 0; !atomic_load(&sh->stop); k++) {
		int slot = (int)(k % (uint64_t)L);
		if (cfd[slot] >= 0) {
			if (k & 1)
				close(cfd[slot]);     /* FIN first: this end TIME_WAITs */
			else
				close_rst(cfd[slot]);
			close(afd[slot]);
			cfd[slot] = afd[slot] = -1;
		}
		int fd = open_socket(&opt.churn_local, AF_INET);
		if (fd < 0)
			goto fail;
		/* Blocking connect and accept, each bounded by a second. */
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval tv = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&peer.ss, peer.len) < 0) {
			close(fd);
			goto fail;
		}
		struct sockaddr_storage me;
		socklen_t ml = sizeof(me);
		getsockname(fd, (struct sockaddr *)&me, &ml);
		int a = -1;
		for (int tries = 0; tries < 1000 && a < 0; tries++) {
			a = accept4(churn.lfd[u], NULL, NULL, SOCK_CLOEXEC);
			if (a < 0 && errno == EAGAIN)
				usleep(1000);
			else if (a < 0)
				break;
		}
		if (a < 0) {
			close_rst(fd);
			goto fail;
		}
		cfd[slot] = fd;
		afd[slot] = a;
		atomic_store(&sh->port[u][slot], ntohs(((struct sockaddr_in *)&me)->sin_port));
		atomic_fetch_add(&sh->opened[u], 1);
		fails = 0;
		goto pace;
	fail:
		atomic_fetch_add(&sh->failed[u], 1);
		if (++fails > 100)
			usleep(10000);
	pace:
		if (interval) {
			next += interval;
			uint64_t now = now_ns();
			if (next > now) {
				struct timespec ts = { (time_t)((next - now) / NS), (long)((next - now) % NS) };
				nanosleep(&ts, NULL);
			} else if (now - next > NS) {
				next = now;   /* fell behind: do not burst to catch up */
			}
		}
	}
	for (int i = 0; i < L; i++) {
		if (cfd[i] >= 0)
			close_rst(cfd[i]);
		if (afd[i] >= 0)
			close_rst(afd[i]);
	}
	_exit(0);
}

static void churn_start(void)
{
	char *save = NULL, *list = strdup(opt.churn_users);

	if (!opt.have_churn_local || !opt.have_churn_peer)
		die("--churn-users needs --churn-local and --churn-peer%s", "");
	if (opt.churn_local.ss.ss_family != AF_INET || opt.churn_peer.ss.ss_family != AF_INET)
		die("churn addresses must be IPv4%s", "");
	if (opt.churn_live < 1 || opt.churn_live > CHURN_LIVE_MAX)
		die("--churn-live out of range%s", "");
	churn.sh = mmap(NULL, sizeof(*churn.sh), PROT_READ | PROT_WRITE,
	                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (churn.sh == MAP_FAILED)
		die_errno("mmap");
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (churn.n >= CHURN_USERS_MAX)
			die("too many churn users%s", "");
		struct passwd *pw = getpwnam(t);
		if (!pw)
			die("no such user: %s", t);
		int u = churn.n++;
		snprintf(churn.name[u], sizeof(churn.name[u]), "%s", t);
		churn.uid[u] = pw->pw_uid;
		churn.gid[u] = pw->pw_gid;
		char e[80];
		snprintf(e, sizeof(e), "%s?", t);
		churn.expect[u] = expect_index(e);
		/* One root-owned listener per user: the remote port of a
		 * connection names its owner, so the oracle is exact whatever
		 * the timing (no other user ever connects to that port). */
		churn.lfd[u] = listen_on(&opt.churn_peer, 4096, &churn.lport[u]);
	}
	free(list);
	if (churn.n == 0)
		die("--churn-users is empty%s", "");
	fflush(NULL);
	for (int u = 0; u < churn.n; u++) {
		pid_t pid = fork();
		if (pid < 0)
			die_errno("fork");
		if (pid == 0)
			churn_child(u);
		churn.pid[u] = pid;
	}
	/* The query side asks from the peer address. */
	struct pgroup *g = group_for(&opt.churn_peer);
	(void)g;
}

static void churn_stop(void)
{
	if (!churn.n)
		return;
	atomic_store(&churn.sh->stop, 1);
	uint64_t deadline = now_ns() + 5 * NS;
	for (int u = 0; u < churn.n; u++) {
		int status;
		while (waitpid(churn.pid[u], &status, WNOHANG) == 0) {
			if (now_ns() > deadline) {
				kill(churn.pid[u], SIGKILL);
				waitpid(churn.pid[u], &status, 0);
				break;
			}
			usleep(10000);
		}
		close(churn.lfd[u]);
	}
}

/* A query about one of the churning users' connections: a random user, a
 * random one of its slots (live, or just closed). */
static int churn_pick(struct pair *p)
{
	for (int tries = 0; tries < 64; tries++) {
		int u = (int)(rng() % (uint64_t)churn.n);
		int slot = (int)(rng() % (uint64_t)opt.churn_live);
		uint32_t port = atomic_load(&churn.sh->port[u][slot]);
		if (!port)
			continue;
		p->sp = (uint16_t)port;
		p->cp = churn.lport[u];
		p->expect = churn.expect[u];
		return 0;
	}
	return -1;
}

/* ---- query mode ---- */

enum { QC_FREE, QC_CONNECTING, QC_OPEN };

struct pend {
	uint16_t sp, cp;
	int expect;
	uint64_t t0;
};

struct qconn {
	int fd, state, group;
	uint32_t issued, answered;   /* on this connection */
	struct pend pend[DEPTH_MAX];
	uint32_t ph, pn;             /* ring head, count */
	char out[DEPTH_MAX * 16];
	uint32_t out_len, out_off;
	char in[LINE_MAX_LEN + 1];
	uint32_t in_len;
};

static struct {
	struct qconn *c;
	int ep;
	uint64_t t_start, measure_start, deadline, hard_deadline, stop_at, last_reply;
	uint64_t issued;
	int stopping, measuring, rate_blocked, next_group, fail_streak;
	uint64_t outstanding;
} q;

static int can_issue(uint64_t now)
{
	if (q.stopping)
		return 0;
	if (opt.count && q.issued >= opt.count)
		return 0;
	if (opt.rate > 0) {
		double allowed = (double)(now - q.t_start) / (double)NS * opt.rate + 1;
		if ((double)q.issued >= allowed) {
			q.rate_blocked = 1;
			return 0;
		}
	}
	return 1;
}

static int next_pair(struct qconn *c, struct pair *p)
{
	if (churn.n)
		return churn_pick(p);
	struct pgroup *g = &groups[c->group];
	*p = g->pairs[g->cursor];
	g->cursor = (g->cursor + 1) % g->npairs;
	return 0;
}

/* Queues as many queries as depth, count and rate allow. */
static void top_up(struct qconn *c, uint64_t now, uint64_t t0)
{
	while (c->pn < (uint32_t)opt.depth && c->issued < (uint32_t)opt.queries &&
	       can_issue(now)) {
		struct pair p;
		if (next_pair(c, &p) < 0)
			break;
		struct pend *e = &c->pend[(c->ph + c->pn) % DEPTH_MAX];
		e->sp = p.sp;
		e->cp = p.cp;
		e->expect = p.expect;
		e->t0 = t0;
		c->pn++;
		c->issued++;
		q.issued++;
		q.outstanding++;
		c->out_len += (uint32_t)snprintf(c->out + c->out_len, sizeof(c->out) - c->out_len,
		                                 "%u , %u\r\n", p.sp, p.cp);
	}
}

static void conn_close(struct qconn *c, int dropped)
{
	if (c->state == QC_FREE)
		return;
	epoll_ctl(q.ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (opt.close_rst)
		close_rst(c->fd);
	else
		close(c->fd);
	if (dropped)
		st.dropped += c->pn;
	q.outstanding -= c->pn;
	c->fd = -1;
	c->state = QC_FREE;
	c->pn = 0;
}

static int flush_conn(struct qconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (uint32_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

static void conn_open(struct qconn *c, uint64_t now)
{
	if (!can_issue(now))
		return;
	c->group = q.next_group++ % ngroups;
	const struct addr *src = groups[c->group].src.len ? &groups[c->group].src : NULL;
	int fd = open_socket(src, opt.server.ss.ss_family);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&opt.server.ss, opt.server.len) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		st.connect_fail++;
		if (++q.fail_streak == CONNECT_FAIL_MAX) {
			fprintf(stderr, "identload: connect keeps failing: %s\n", strerror(errno));
			q.stopping = 1;
		}
		q.rate_blocked = 1;   /* retry on the next pass */
		return;
	}
	c->fd = fd;
	c->state = QC_CONNECTING;
	c->issued = c->answered = 0;
	c->ph = c->pn = 0;
	c->out_len = c->out_off = c->in_len = 0;
	st.opened++;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	                          .data.u32 = (uint32_t)(c - q.c) };
	if (epoll_ctl(q.ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die_errno("epoll_ctl");
	/* The first queries' latency includes the connect. */
	top_up(c, now, now);
}

static void conn_recycle(struct qconn *c, uint64_t now, int dropped)
{
	conn_close(c, dropped);
	conn_open(c, now);
}

static void on_line(struct qconn *c, char *line, uint64_t now)
{
	if (c->pn == 0) {
		st.replies++;
		st.bad++;
		st.wrong++;
		fprintf(stderr, "identload: unsolicited line: %s\n", line);
		return;
	}
	struct pend *e = &c->pend[c->ph];
	c->ph = (c->ph + 1) % DEPTH_MAX;
	c->pn--;
	q.outstanding--;
	c->answered++;
	if (q.measuring) {
		classify(line, e->sp, e->cp, e->expect);
		if (!q.stopping || now <= q.deadline)
			st.in_window++;
		q.last_reply = now;
		hist_add(now - e->t0);
	}
}

static void on_readable(struct qconn *c, uint64_t now)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, LINE_MAX_LEN - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_recycle(c, now, 1);
			return;
		}
		c->in_len += (uint32_t)n;
		c->in[c->in_len] = 0;
		char *start = c->in, *nl;
		while ((nl = memchr(start, '\n', c->in_len - (uint32_t)(start - c->in))) != NULL) {
			*nl = 0;
			on_line(c, start, now);
			start = nl + 1;
		}
		uint32_t rest = c->in_len - (uint32_t)(start - c->in);
		memmove(c->in, start, rest);
		c->in_len = rest;
		if (c->in_len >= LINE_MAX_LEN) {
			st.bad++;
			st.wrong++;
			conn_recycle(c, now, 1);
			return;
		}
	}
	if (c->answered >= (uint32_t)opt.queries && c->pn == 0) {
		conn_recycle(c, now, 0);
		return;
	}
	top_up(c, now, now);
	if (flush_conn(c) < 0)
		conn_recycle(c, now, 1);
}

static void on_event(struct qconn *c, uint32_t events, uint64_t now)
{
	if (c->state == QC_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			/* Not sent: give the queries back. */
			q.issued -= c->pn;
			c->issued = 0;
			q.outstanding -= c->pn;
			c->pn = 0;
			st.connect_fail++;
			if (++q.fail_streak == CONNECT_FAIL_MAX) {
				fprintf(stderr, "identload: connect keeps failing: %s\n", strerror(err));
				q.stopping = 1;
			}
			conn_recycle(c, now, 0);
			return;
		}
		q.fail_streak = 0;
		c->state = QC_OPEN;
	}
	if (c->state != QC_OPEN)
		return;
	if (c->out_len && flush_conn(c) < 0) {
		conn_recycle(c, now, 1);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		on_readable(c, now);
}

static void check_timeouts(uint64_t now)
{
	uint64_t limit = opt.timeout_ms * 1000000ull;
	for (int i = 0; i < opt.conns; i++) {
		struct qconn *c = &q.c[i];
		if (c->state != QC_FREE && c->pn && now - c->pend[c->ph].t0 > limit) {
			st.timeouts += c->pn;
			conn_close(c, 0);
			conn_open(c, now);
		}
	}
}

static void reset_stats(void)
{
	uint64_t fails = st.connect_fail;
	memset(&st, 0, sizeof(st));
	st.connect_fail = fails;
	memset(hist, 0, sizeof(uint32_t) * HIST_BUCKETS);
}

static void print_query_result(void)
{
	uint64_t end = q.stopping && q.stop_at ? q.stop_at : q.last_reply;
	if (opt.secs > 0 && q.deadline < end)
		end = q.deadline;
	double secs = end > q.measure_start ? (double)(end - q.measure_start) / NS : 0;
	double qps = secs > 0 ? (double)st.in_window / secs : 0;
	double p50 = hist_pct(50), p90 = hist_pct(90), p99 = hist_pct(99), p999 = hist_pct(99.9);
	double mx = (double)st.max_ns / US;
	uint64_t churned = 0, churn_fail = 0;
	for (int u = 0; u < churn.n; u++) {
		churned += atomic_load(&churn.sh->opened[u]);
		churn_fail += atomic_load(&churn.sh->failed[u]);
	}

	fprintf(stderr,
	        "identload: %" PRIu64 " replies in %.2f s: %.0f queries/s; latency p50 %.0f us, "
	        "p99 %.0f us, max %.0f us; USERID %" PRIu64 ", NO-USER %" PRIu64
	        ", HIDDEN-USER %" PRIu64 ", other errors %" PRIu64 ", wrong %" PRIu64
	        ", dropped %" PRIu64 ", timeouts %" PRIu64 ", connect failures %" PRIu64 "\n",
	        st.replies, secs, qps, p50, p99, mx, st.userid, st.nouser, st.hidden,
	        st.invalid + st.unknown + st.other_err, st.wrong, st.dropped, st.timeouts,
	        st.connect_fail);
	printf("RESULT {\"mode\":\"query\",\"conns\":%d,\"queries_per_conn\":%d,\"depth\":%d,"
	       "\"replies\":%" PRIu64 ",\"in_window\":%" PRIu64 ",\"secs\":%.3f,\"qps\":%.1f,"
	       "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
	       "\"ok\":%" PRIu64 ",\"userid\":%" PRIu64 ",\"nouser\":%" PRIu64 ",\"hidden\":%" PRIu64
	       ",\"invalid\":%" PRIu64 ",\"unknown\":%" PRIu64 ",\"other_err\":%" PRIu64
	       ",\"unexpected\":%" PRIu64 ",\"wrong\":%" PRIu64 ",\"bad\":%" PRIu64
	       ",\"dropped\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"connect_fail\":%" PRIu64
	       ",\"conns_opened\":%" PRIu64 ",\"churn_users\":%d,\"churned\":%" PRIu64
	       ",\"churn_fail\":%" PRIu64 "}\n",
	       opt.conns, opt.queries, opt.depth, st.replies, st.in_window, secs, qps,
	       p50, p90, p99, p999, mx, st.ok, st.userid, st.nouser, st.hidden, st.invalid,
	       st.unknown, st.other_err, st.unexpected, st.wrong, st.bad, st.dropped,
	       st.timeouts, st.connect_fail, st.opened, churn.n, churned, churn_fail);
	fflush(stdout);
}

static int run_query(void)
{
	if (!opt.have_server)
		die("query needs -s ADDR:PORT%s", "");
	if (!opt.count && opt.secs <= 0)
		die("query needs a bound: -n COUNT and/or -t SECONDS%s", "");
	if (opt.conns < 1 || opt.conns > 60000 || opt.queries < 1 ||
	    opt.depth < 1 || opt.depth > DEPTH_MAX)
		die("-c, -q or -d out of range%s", "");
	if (opt.churn_users)
		churn_start();
	else
		build_groups();
	if (ngroups == 0)
		die("no port pairs to ask about (--pair, --pairs or --churn-users)%s", "");
	raise_nofile((rlim_t)opt.conns + 64);
	hist = calloc(HIST_BUCKETS, sizeof(uint32_t));
	q.c = calloc((size_t)opt.conns, sizeof(*q.c));
	if (!hist || !q.c)
		die_errno("calloc");
	q.ep = epoll_create1(EPOLL_CLOEXEC);
	if (q.ep < 0)
		die_errno("epoll_create1");

	q.t_start = now_ns();
	q.measure_start = q.t_start + (uint64_t)(opt.warmup * NS);
	q.measuring = opt.warmup <= 0;
	q.deadline = opt.secs > 0 ? q.measure_start + (uint64_t)(opt.secs * NS) : UINT64_MAX;
	q.hard_deadline = q.t_start + (uint64_t)(opt.max_secs * NS);
	for (int i = 0; i < opt.conns; i++) {
		q.c[i].fd = -1;
		q.c[i].state = QC_FREE;
	}
	if (churn.n) {
		/* Let every user publish a few connections first. */
		usleep(200000);
	}
	uint64_t drain_until = 0, last_check = q.t_start;
	struct epoll_event evs[256];
	for (int i = 0; i < opt.conns; i++)
		conn_open(&q.c[i], now_ns());
	for (;;) {
		uint64_t now = now_ns();
		if (!q.measuring && now >= q.measure_start) {
			reset_stats();
			q.measuring = 1;
		}
		if (!q.stopping && (now >= q.deadline || (opt.count && q.issued >= opt.count) ||
		                    stop_signal || now >= q.hard_deadline))
			q.stopping = 1;
		if (q.stopping && !q.stop_at) {
			q.stop_at = now;
			drain_until = now + DRAIN_NS;
		}
		if (q.stopping && (q.outstanding == 0 || now >= drain_until || stop_signal))
			break;
		if (q.rate_blocked && !q.stopping) {
			q.rate_blocked = 0;
			for (int i = 0; i < opt.conns; i++) {
				struct qconn *c = &q.c[i];
				if (c->state == QC_FREE) {
					conn_open(c, now);
				} else if (c->state == QC_OPEN && c->pn < (uint32_t)opt.depth) {
					top_up(c, now, now);
					if (flush_conn(c) < 0)
						conn_recycle(c, now, 1);
				}
			}
		}
		int timeout = 100;
		if (q.rate_blocked)
			timeout = 1;
		int n = epoll_wait(q.ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			die_errno("epoll_wait");
		now = now_ns();
		for (int k = 0; k < n; k++)
			on_event(&q.c[evs[k].data.u32], evs[k].events, now);
		if (now - last_check > 50 * 1000000ull) {
			check_timeouts(now);
			last_check = now;
		}
	}
	for (int i = 0; i < opt.conns; i++)
		conn_close(&q.c[i], 1);
	churn_stop();
	print_query_result();
	return st.wrong ? 3 : 0;
}

/* ---- hold mode ---- */

static int run_hold(void)
{
	uint32_t N = opt.hold_n;
	int self = opt.have_self_listen;
	struct addr target;
	int lfd = -1;

	if (N == 0)
		die("hold needs -N COUNT%s", "");
	if (self) {
		uint16_t port;
		target = opt.self_listen;
		lfd = listen_on(&target, 65535, &port);
		if (target.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&target.ss)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&target.ss)->sin6_port = htons(port);
	} else if (opt.have_server) {
		target = opt.server;
	} else {
		die("hold needs -s ADDR:PORT or --self-listen ADDR%s", "");
	}
	raise_nofile((rlim_t)N * (self ? 2 : 1) + 256);
	int *fds = malloc(sizeof(int) * N);
	int *afds = self ? malloc(sizeof(int) * N) : NULL;
	uint8_t *done = calloc(N, 1);
	if (!fds || (self && !afds) || !done)
		die_errno("malloc");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die_errno("epoll_create1");
	/* data: index, or N for the listener, N + 1 for stdin. */
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = N };
	if (self && epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die_errno("epoll_ctl");

	uint64_t t0 = now_ns(), setup_deadline = t0 + (uint64_t)(opt.max_secs * NS);
	uint32_t started = 0, connected = 0, accepted = 0, inflight = 0;
	uint64_t fails = 0;
	int src_i = 0;
	struct epoll_event evs[512];

	while ((connected < N || (self && accepted < N)) && !stop_signal) {
		while (inflight < HOLD_INFLIGHT && started < N) {
			const struct addr *src = nsources ? &sources[src_i++ % nsources] : NULL;
			int fd = open_socket(src, target.ss.ss_family);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&target.ss, target.len) < 0 &&
			    errno != EINPROGRESS) {
				close(fd);
				fd = -1;
			}
			if (fd < 0) {
				if (++fails > CONNECT_FAIL_MAX)
					die_errno("hold: connect keeps failing");
				break;
			}
			fds[started] = fd;
			ev.events = EPOLLOUT | EPOLLRDHUP | EPOLLET;
			ev.data.u32 = started;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
				die_errno("epoll_ctl");
			started++;
			inflight++;
		}
		int n = epoll_wait(ep, evs, 512, 100);
		if (n < 0 && errno != EINTR)
			die_errno("epoll_wait");
		for (int k = 0; k < n; k++) {
			uint32_t i = evs[k].data.u32;
			if (i == N) {  /* registered only when self: afds is there */
				int a;

				if (afds == NULL)
					continue;
				while ((a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (accepted >= N)
						die("hold: more connections than made%s", "");
					afds[accepted++] = a;
				}
				continue;
			}
			if (done[i])
				continue;
			int err = 0;
			socklen_t l = sizeof(err);
			getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &l);
			if (err) {
				errno = err;
				die_errno("hold: connect");
			}
			done[i] = 1;
			connected++;
			inflight--;
			ev.events = EPOLLRDHUP | EPOLLIN | EPOLLET;
			ev.data.u32 = i;
			epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev);
		}
		if (now_ns() > setup_deadline)
			die("hold: not all connections were up in time%s", "");
	}
	double setup = (double)(now_ns() - t0) / NS;
	printf("ready %u connections in %.2f s\n", connected, setup);
	fflush(stdout);
	fprintf(stderr, "identload: holding %u connections (set up in %.2f s)\n", connected, setup);

	/* Hold until the time is up, a signal, or stdin (a pipe) closes. */
	struct stat sb;
	int watch_stdin = fstat(0, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
	if (watch_stdin) {
		ev.events = EPOLLIN | EPOLLHUP;
		ev.data.u32 = N + 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	}
	uint64_t closed = 0;
	uint64_t hold_start = now_ns();
	uint64_t hold_end = hold_start + (uint64_t)(opt.secs > 0 ? opt.secs * NS : opt.max_secs * NS);
	int quit = 0;
	while (!stop_signal && !quit && now_ns() < hold_end) {
		int n = epoll_wait(ep, evs, 512, 200);
		for (int k = 0; k < n; k++) {
			uint32_t i = evs[k].data.u32;
			if (i == N + 1) {
				char b[64];
				if (read(0, b, sizeof(b)) <= 0)
					quit = 1;
			} else if (i < N && done[i] == 1 && (evs[k].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
				done[i] = 2;
				closed++;
			}
		}
	}
	double held = (double)(now_ns() - hold_start) / NS;
	for (uint32_t i = 0; i < started; i++)
		close_rst(fds[i]);
	for (uint32_t i = 0; i < accepted; i++)
		close_rst(afds[i]);
	close(ep);
	if (lfd >= 0)
		close(lfd);
	free(fds);
	free(afds);
	free(done);
	printf("RESULT {\"mode\":\"hold\",\"conns\":%u,\"setup_secs\":%.3f,\"held_secs\":%.3f,"
	       "\"closed_by_peer\":%" PRIu64 ",\"connect_retries\":%" PRIu64 "}\n",
	       connected, setup, held, closed, fails);
	fflush(stdout);
	return 0;
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
"usage: identload query -s ADDR:PORT [--src ADDR[+N]]... (--pair SP,CP[,EXPECT[,SRC]] |\n"
"                       --pairs FILE | --churn-users U1,U2,.. --churn-local A --churn-peer B)\n"
"                       [-c CONNS] [-q QUERIES_PER_CONN] [-d DEPTH] (-n COUNT | -t SECS)\n"
"                       [-w WARMUP_SECS] [-r RATE] [--timeout-ms MS] [--close fin|rst]\n"
"                       [--churn-live L] [--churn-rate CONNS_PER_SEC_PER_USER] [--max-secs S]\n"
"       identload hold (-s ADDR:PORT | --self-listen ADDR) -N COUNT [--src ADDR[+N]]...\n"
"                       [-t HOLD_SECS] [--max-secs S]\n"
"EXPECT: a user name; NAME? (that user or NO-USER); NO-USER, HIDDEN-USER, ...; * (anything).\n"
"A pairs FILE has \"SP CP [EXPECT [SRC]]\" a line. Pairs without SRC are asked from every\n"
"--src address; a connection asks only about pairs of its own source address.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	enum { O_SRC = 256, O_PAIR, O_PAIRS, O_TIMEOUT, O_CLOSE, O_SELF, O_MAXSECS,
	       O_CUSERS, O_CLOCAL, O_CPEER, O_CLIVE, O_CRATE };
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 's' },
		{ "conns", required_argument, NULL, 'c' },
		{ "queries", required_argument, NULL, 'q' },
		{ "depth", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "rate", required_argument, NULL, 'r' },
		{ "hold", required_argument, NULL, 'N' },
		{ "src", required_argument, NULL, O_SRC },
		{ "pair", required_argument, NULL, O_PAIR },
		{ "pairs", required_argument, NULL, O_PAIRS },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "close", required_argument, NULL, O_CLOSE },
		{ "self-listen", required_argument, NULL, O_SELF },
		{ "max-secs", required_argument, NULL, O_MAXSECS },
		{ "churn-users", required_argument, NULL, O_CUSERS },
		{ "churn-local", required_argument, NULL, O_CLOCAL },
		{ "churn-peer", required_argument, NULL, O_CPEER },
		{ "churn-live", required_argument, NULL, O_CLIVE },
		{ "churn-rate", required_argument, NULL, O_CRATE },
		{ NULL, 0, NULL, 0 },
	};

	if (argc < 2)
		usage();
	const char *mode = argv[1];
	if (strcmp(mode, "query") && strcmp(mode, "hold"))
		usage();
	argv++;
	argc--;
	int o;
	while ((o = getopt_long(argc, argv, "s:c:q:d:n:t:w:r:N:", lo, NULL)) != -1) {
		switch (o) {
		case 's':
			parse_addr(optarg, &opt.server.ss, &opt.server.len, 1);
			opt.have_server = 1;
			break;
		case 'c': opt.conns = atoi(optarg); break;
		case 'q': opt.queries = atoi(optarg); break;
		case 'd': opt.depth = atoi(optarg); break;
		case 'n': opt.count = strtoull(optarg, NULL, 10); break;
		case 't': opt.secs = atof(optarg); break;
		case 'w': opt.warmup = atof(optarg); break;
		case 'r': opt.rate = atof(optarg); break;
		case 'N': opt.hold_n = (uint32_t)strtoul(optarg, NULL, 10); break;
		case O_SRC: add_sources(optarg); break;
		case O_PAIR: parse_pair_arg(optarg); break;
		case O_PAIRS: read_pairs(optarg); break;
		case O_TIMEOUT: opt.timeout_ms = strtoull(optarg, NULL, 10); break;
		case O_CLOSE:
			if (!strcmp(optarg, "rst"))
				opt.close_rst = 1;
			else if (strcmp(optarg, "fin"))
				usage();
			break;
		case O_SELF:
			parse_addr(optarg, &opt.self_listen.ss, &opt.self_listen.len, -1);
			opt.have_self_listen = 1;
			break;
		case O_MAXSECS: opt.max_secs = atof(optarg); break;
		case O_CUSERS: opt.churn_users = optarg; break;
		case O_CLOCAL:
			parse_addr(optarg, &opt.churn_local.ss, &opt.churn_local.len, -1);
			opt.have_churn_local = 1;
			break;
		case O_CPEER:
			parse_addr(optarg, &opt.churn_peer.ss, &opt.churn_peer.len, -1);
			opt.have_churn_peer = 1;
			break;
		case O_CLIVE: opt.churn_live = atoi(optarg); break;
		case O_CRATE: opt.churn_rate = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.max_secs <= 0 || opt.max_secs > 3600)
		die("--max-secs must be in (0, 3600]%s", "");

	/* Bounded even if whoever started us dies without a word. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rng_state ^= (uint64_t)getpid() << 17 ^ now_ns();

	return !strcmp(mode, "query") ? run_query() : run_hold();
}
