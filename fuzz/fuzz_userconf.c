/* libFuzzer target: the reader of a user's ~/.oidentd.conf (userconf_parse
 * and userconf_match in src/userconf.c).
 *
 * Input: a file's bytes. The first 38 octets (if there are as many) also
 * make a connection to match: family bit, two addresses, two ports.
 *
 * Checked: a refused file leaves no rule and says why; an accepted one
 * keeps its counts within their limits, every rule's filters and replies
 * within theirs (ports 1..65535 with lo <= hi, addresses of a known
 * family, each reply NUL-terminated at its stored length, fits exactly
 * when nothing was cut), an unsupported rule with a reason and a listed
 * ignored item, and the matcher returns one of the parsed rules (or
 * NULL) which does match the connection, with no later rule matching.
 *
 * userconf_parse_for (what the helper runs), for the fuzzed connection and
 * for one made from a rule's filters: where the full parse succeeds, it
 * keeps exactly (byte for byte) the rule userconf_match picks, and the same
 * ignored items; where the full parse stops at "more rules than we keep",
 * it reads on and succeeds, or fails later in the file for another reason;
 * any other failure is the full parse's, at the same line. */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "userconf.h"

static void check_rule(const struct userconf_rule *r)
{
	const struct userconf_ports *p[2] = { &r->fport, &r->lport };
	const bool has_p[2] = { r->has_fport, r->has_lport };
	const struct userconf_addr *a[2] = { &r->to, &r->from };
	const bool has_a[2] = { r->has_to, r->has_from };

	for (int i = 0; i < 2; i++) {
		if (has_p[i])
			FUZZ_CHECK(p[i]->lo >= 1 && p[i]->lo <= p[i]->hi);
		else
			FUZZ_CHECK(p[i]->lo == 0 && p[i]->hi == 0);
		if (has_a[i])
			FUZZ_CHECK(a[i]->family == AF_INET ||
			           a[i]->family == AF_INET6 ||
			           (a[i]->family == AF_UNSPEC &&
			            r->action == USERCONF_UNSUPPORTED));
	}
	FUZZ_CHECK(r->line >= 1);
	FUZZ_CHECK(r->nreplies <= USERCONF_REPLIES_MAX);
	FUZZ_CHECK((r->action == USERCONF_UNSUPPORTED) == (r->reason != NULL));
	if (r->action == USERCONF_REPLY)
		FUZZ_CHECK(r->nreplies > 0);
	if (r->action == USERCONF_HIDE)
		FUZZ_CHECK(r->nreplies == 0);
	for (unsigned i = 0; i < r->nreplies; i++) {
		const struct userconf_reply *rep = &r->replies[i];

		FUZZ_CHECK(rep->len <= USERCONF_REPLY_MAX);
		FUZZ_CHECK(rep->name[rep->len] == '\0');
		if (!rep->fits)
			FUZZ_CHECK(rep->len == USERCONF_REPLY_MAX);
		if (userconf_reply_ok(rep))
			FUZZ_CHECK(rep->fits && rep->len >= 1 &&
			           strlen(rep->name) == rep->len &&
			           strspn(rep->name, "abcdefghijklmnopqrstuvwxyz"
			                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
			           == rep->len);
	}
}

static bool addr_eq(const struct userconf_addr *a, int family,
                    const uint8_t *b)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == AF_UNSPEC)
		return true;
	if (a->family == family)
		return memcmp(a->bytes, b, family == AF_INET ? 4 : 16) == 0;
	if (a->family == AF_INET)  /* family AF_INET6 */
		return memcmp(b, mapped, 12) == 0 &&
		       memcmp(a->bytes, b + 12, 4) == 0;
	return memcmp(a->bytes, mapped, 12) == 0 &&
	       memcmp(a->bytes + 12, b, 4) == 0;
}

/* The matcher's answer, worked out again the slow way. */
static bool matches(const struct userconf_rule *r,
                    const struct userconf_conn *k)
{
	return (!r->has_to || addr_eq(&r->to, k->family, k->remote)) &&
	       (!r->has_from || addr_eq(&r->from, k->family, k->local)) &&
	       (!r->has_fport || (k->remote_port >= r->fport.lo &&
	                          k->remote_port <= r->fport.hi)) &&
	       (!r->has_lport || (k->local_port >= r->lport.lo &&
	                          k->local_port <= r->lport.hi));
}

/* A connection every filter of r lets through (the addresses of r's
 * family; an IPv4 filter alone gives an IPv4 connection). */
static void conn_of(const struct userconf_rule *r, struct userconf_conn *k)
{
	memset(k, 0, sizeof *k);
	k->family = r->has_to && r->to.family == AF_INET6 ? AF_INET6 :
	            r->has_from && r->from.family == AF_INET6 ? AF_INET6 :
	            AF_INET;
	if (r->has_to && r->to.family == k->family)
		memcpy(k->remote, r->to.bytes, 16);
	if (r->has_from && r->from.family == k->family)
		memcpy(k->local, r->from.bytes, 16);
	k->remote_port = r->has_fport ? r->fport.hi : 1;
	k->local_port = r->has_lport ? r->lport.lo : 1;
}

/* userconf_parse_for on the same octets against the full parse *c. */
static void check_parse_for(const uint8_t *data, size_t size,
                            const struct userconf *c,
                            const struct userconf_conn *k)
{
	static struct userconf one;
	int rc = userconf_parse_for((const char *)data, size, k, &one);

	if (rc != 0) {
		FUZZ_CHECK(!one.valid && one.nrules == 0 && one.error != NULL);
		FUZZ_CHECK(one.nignored == 0 && one.ignored_more == 0);
		FUZZ_CHECK(strcmp(one.error, "more rules than we keep") != 0);
	} else {
		FUZZ_CHECK(one.valid && one.error == NULL && one.nrules <= 1);
	}
	if (!c->valid) {
		if (strcmp(c->error, "more rules than we keep") == 0) {
			/* The full parse stopped there; this one reads on. */
			FUZZ_CHECK(rc == 0 || one.error_line >= c->error_line);
			return;
		}
		FUZZ_CHECK(rc != 0 && one.error == c->error &&
		           one.error_line == c->error_line);
		return;
	}
	FUZZ_CHECK(rc == 0);
	const struct userconf_rule *m = userconf_match(c, k);
	FUZZ_CHECK(one.nrules == (m != NULL));
	if (m != NULL) {
		FUZZ_CHECK(memcmp(&one.rules[0], m, sizeof *m) == 0);
		FUZZ_CHECK(userconf_match(&one, k) == &one.rules[0]);
	}
	FUZZ_CHECK(one.nignored == c->nignored &&
	           one.ignored_more == c->ignored_more &&
	           memcmp(one.ignored, c->ignored, sizeof one.ignored) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct userconf c;
	struct userconf_conn k;
	const struct userconf_rule *m;
	size_t ignored = 0;

	memset(&k, 0, sizeof k);
	if (size >= 38) {
		k.family = data[0] & 1 ? AF_INET6 : AF_INET;
		memcpy(k.local, data + 1, 16);
		memcpy(k.remote, data + 17, 16);
		k.local_port = (uint16_t)(data[33] << 8 | data[34]);
		k.remote_port = (uint16_t)(data[35] << 8 | data[36]);
	} else {
		k.family = AF_INET;
	}
	if (userconf_parse((const char *)data, size, &c) != 0) {
		FUZZ_CHECK(!c.valid && c.nrules == 0 && c.error != NULL);
		FUZZ_CHECK(c.nignored == 0 && c.ignored_more == 0);
		check_parse_for(data, size, &c, &k);
		return 0;
	}
	FUZZ_CHECK(c.valid && c.error == NULL);
	check_parse_for(data, size, &c, &k);
	/* And a connection some rule (chosen by the input's size) lets
	 * through, so that the kept rule is often not NULL. */
	if (c.nrules > 0) {
		struct userconf_conn kr;

		conn_of(&c.rules[size % c.nrules], &kr);
		check_parse_for(data, size, &c, &kr);
	}
	FUZZ_CHECK(size <= USERCONF_FILE_MAX);
	FUZZ_CHECK(c.nrules <= USERCONF_RULES_MAX);
	FUZZ_CHECK(c.nignored <= USERCONF_IGNORED_MAX);
	FUZZ_CHECK(c.ignored_more == 0 || c.nignored == USERCONF_IGNORED_MAX);
	for (size_t i = 0; i < c.nrules; i++) {
		check_rule(&c.rules[i]);
		ignored += c.rules[i].action == USERCONF_UNSUPPORTED;
		if (i > 0)
			FUZZ_CHECK(c.rules[i].line >= c.rules[i - 1].line);
	}
	FUZZ_CHECK(c.nignored + c.ignored_more >= ignored);

	m = userconf_match(&c, &k);
	if (m != NULL) {
		FUZZ_CHECK(m >= c.rules && m < c.rules + c.nrules);
		FUZZ_CHECK(matches(m, &k));
	}
	for (const struct userconf_rule *r = m ? m + 1 : c.rules;
	     r < c.rules + c.nrules; r++)
		FUZZ_CHECK(!matches(r, &k));
	/* Every rule matches a connection made from its own filters. */
	for (size_t i = 0; i < c.nrules; i++) {
		const struct userconf_rule *r = &c.rules[i];

		conn_of(r, &k);
		if (matches(r, &k)) {
			m = userconf_match(&c, &k);
			FUZZ_CHECK(m != NULL && m >= r);
		}
	}
	return 0;
}
