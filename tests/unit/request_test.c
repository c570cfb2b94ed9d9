/* Unit tests for the request parser: every accepted and refused form, and
 * every split of each input giving the same result as the whole of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "request.h"

/* Enough events for any input below: one per line, plus the final one. */
#define EVENTS_MAX 8
/* Room for the longest test input (over-long lines and some slack). */
#define INPUT_MAX 600
/* Inputs up to this length are tried in all 2^(n-1) partitions; longer ones
 * byte at a time and in every 2- and 3-split (2^(n-1) grows too fast). */
#define ALL_PARTITIONS_MAX 16

/* What the parser reported, and after which byte of the whole input. */
struct event {
	enum req_status status;
	uint32_t server_port, client_port;
	size_t end;
};

struct run {
	struct event ev[EVENTS_MAX];
	int n;
	enum req_status last; /* REQ_MORE or REQ_INVALID when input ran out */
};

struct req_case {
	const char *in;
	size_t len;
	int n;
	struct event ev[EVENTS_MAX];
	enum req_status last;
};

#define S(s) (s), sizeof(s) - 1
#define Q(sp, cp, end) { REQ_QUERY, (sp), (cp), (end) }
#define BAD(sp, cp, end) { REQ_BAD_PORT, (sp), (cp), (end) }
#define INV(end) { REQ_INVALID, 0, 0, (end) }

/* Feeds one chunk, recording every line it completes. Returns 0 when the
 * parser died. */
static int feed_chunk(struct req_parser *p, const uint8_t *buf, size_t len,
                      size_t base, struct run *r)
{
	size_t pos = 0;

	while (pos < len) {
		struct req_query q = { 0, 0 };
		size_t used = (size_t)-1;
		enum req_status st = req_feed(p, buf + pos, len - pos, &used, &q);

		assert_true(used <= len - pos);
		pos += used;
		if (st == REQ_MORE) {
			assert_int_equal(pos, len); /* REQ_MORE eats it all */
			return 1;
		}
		assert_true(used > 0);
		assert_true(r->n < EVENTS_MAX);
		r->ev[r->n++] = (struct event){ st, st == REQ_INVALID ? 0 : q.server_port,
		                                st == REQ_INVALID ? 0 : q.client_port,
		                                base + pos };
		if (st == REQ_INVALID)
			return 0;
	}
	return 1;
}

/* Feeds in[0..len) cut before each offset in cuts[0..ncuts), ascending. */
static void run_split(const uint8_t *in, size_t len, const size_t *cuts,
                      int ncuts, struct run *r)
{
	struct req_parser p;
	size_t start = 0;

	req_init(&p);
	memset(r, 0, sizeof *r);
	r->last = REQ_MORE;
	for (int i = 0; i <= ncuts; i++) {
		size_t stop = i < ncuts ? cuts[i] : len;

		if (!feed_chunk(&p, in + start, stop - start, start, r)) {
			r->last = REQ_INVALID;
			return;
		}
		start = stop;
	}
}

static void run_whole(const uint8_t *in, size_t len, struct run *r)
{
	run_split(in, len, NULL, 0, r);
}

static int same_run(const struct run *a, const struct run *b)
{
	if (a->n != b->n || a->last != b->last)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->ev[i].status != b->ev[i].status ||
		    a->ev[i].server_port != b->ev[i].server_port ||
		    a->ev[i].client_port != b->ev[i].client_port ||
		    a->ev[i].end != b->ev[i].end)
			return 0;
	return 1;
}

static void check_split(const uint8_t *in, size_t len, const struct run *whole,
                        const size_t *cuts, int ncuts)
{
	struct run r;

	run_split(in, len, cuts, ncuts, &r);
	if (!same_run(&r, whole)) {
		print_message("split differs: input length %zu, cuts:", len);
		for (int i = 0; i < ncuts; i++)
			print_message(" %zu", cuts[i]);
		print_message("\n");
		fail();
	}
}

/* Every way of cutting the input: each of the n-1 gaps cut or not. */
static void check_all_partitions(const uint8_t *in, size_t len,
                                 const struct run *whole)
{
	size_t cuts[ALL_PARTITIONS_MAX];

	for (unsigned long mask = 0; mask < 1ul << (len - 1); mask++) {
		int n = 0;

		for (size_t gap = 1; gap < len; gap++)
			if (mask & 1ul << (gap - 1))
				cuts[n++] = gap;
		check_split(in, len, whole, cuts, n);
	}
}

static void check_long_splits(const uint8_t *in, size_t len,
                              const struct run *whole)
{
	static size_t cuts[INPUT_MAX];

	for (size_t i = 1; i < len; i++)
		cuts[i - 1] = i;
	check_split(in, len, whole, cuts, (int)len - 1); /* byte at a time */
	for (size_t a = 1; a < len; a++) {
		check_split(in, len, whole, (size_t[]){ a }, 1);
		for (size_t b = a + 1; b < len; b++)
			check_split(in, len, whole, (size_t[]){ a, b }, 2);
	}
}

/* Any split of the input must give exactly what the whole input gives. */
static void check_every_split(const char *in, size_t len)
{
	const uint8_t *u = (const uint8_t *)in;
	struct run whole;

	assert_true(len > 0 && len <= INPUT_MAX);
	run_whole(u, len, &whole);
	if (len <= ALL_PARTITIONS_MAX)
		check_all_partitions(u, len, &whole);
	else
		check_long_splits(u, len, &whole);
}

static void check_case(const struct req_case *c)
{
	struct run r;
	struct run want = { .n = c->n, .last = c->last };

	memcpy(want.ev, c->ev, sizeof want.ev);
	run_whole((const uint8_t *)c->in, c->len, &r);
	if (!same_run(&r, &want)) {
		print_message("input \"%.*s\" (%zu bytes): got %d events, last %d\n",
		              (int)c->len, c->in, c->len, r.n, (int)r.last);
		for (int i = 0; i < r.n; i++)
			print_message("  status %d ports %u,%u end %zu\n",
			              (int)r.ev[i].status, r.ev[i].server_port,
			              r.ev[i].client_port, r.ev[i].end);
		fail();
	}
	check_every_split(c->in, c->len);
}

static void check_cases(const struct req_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_case(&cases[i]);
}

static void test_rfc_examples(void **state)
{
	static const struct req_case cases[] = {
		{ S("6191, 23\r\n"), 1, { Q(6191, 23, 10) }, REQ_MORE },
		{ S("6193, 23\r\n"), 1, { Q(6193, 23, 10) }, REQ_MORE },
		{ S("6195, 23\r\n"), 1, { Q(6195, 23, 10) }, REQ_MORE },
		{ S("23, 6191\r\n"), 1, { Q(23, 6191, 10) }, REQ_MORE },
		{ S("6191,23\n"), 1, { Q(6191, 23, 8) }, REQ_MORE },
	};
	(void)state;
	check_cases(cases, sizeof cases / sizeof cases[0]);
}

/* White space of each kind before and after each token, with each line end. */
static void test_white_space_variants(void **state)
{
	static const char *const spaces[] = { "", " ", "\t", " \t", "\t \t  " };
	static const char *const ends[] = { "\r\n", "\n" };
	const size_t nsp = sizeof spaces / sizeof spaces[0];
	char line[64];

	(void)state;
	for (size_t e = 0; e < 2; e++)
		for (int where = 0; where < 4; where++)
			for (size_t s = 0; s < nsp; s++) {
				const char *w[4] = { "", "", "", "" };
				int n;

				w[where] = spaces[s];
				n = snprintf(line, sizeof line, "%s6193%s,%s23%s%s",
				             w[0], w[1], w[2], w[3], ends[e]);
				struct req_case c = { line, (size_t)n, 1,
				                      { Q(6193, 23, (size_t)n) }, REQ_MORE };
				check_case(&c);
			}
	static const struct req_case all[] = {
		{ S("  6191 ,  23  \r\n"), 1, { Q(6191, 23, 16) }, REQ_MORE },
		{ S("\t6191\t,\t23\t\r\n"), 1, { Q(6191, 23, 13) }, REQ_MORE },
		{ S(" \t6191 \t, \t23 \t\n"), 1, { Q(6191, 23, 16) }, REQ_MORE },
	};
	check_cases(all, sizeof all / sizeof all[0]);
}

static void test_pipelining(void **state)
{
	static const struct req_case cases[] = {
		{ S("6191, 23\r\n6193, 23\n 6195 , 23\r\n"), 3,
		  { Q(6191, 23, 10), Q(6193, 23, 19), Q(6195, 23, 31) }, REQ_MORE },
		{ S("1,2\n0,5\n3,4\r\n"), 3,
		  { Q(1, 2, 4), BAD(0, 5, 8), Q(3, 4, 13) }, REQ_MORE },
		{ S("1,2\n3,4\r\nx"), 3,
		  { Q(1, 2, 4), Q(3, 4, 9), INV(10) }, REQ_INVALID },
		{ S("1,2\n3,"), 1, { Q(1, 2, 4) }, REQ_MORE },
		{ S("1,2\n\n"), 2, { Q(1, 2, 4), INV(5) }, REQ_INVALID },
		{ S("1,2\r\n3,4\r"), 1, { Q(1, 2, 5) }, REQ_MORE },
	};
	(void)state;
	check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_port_values(void **state)
{
	static const struct req_case cases[] = {
		{ S("1,1\n"), 1, { Q(1, 1, 4) }, REQ_MORE },
		{ S("65535,65535\r\n"), 1, { Q(65535, 65535, 13) }, REQ_MORE },
		{ S("0,23\n"), 1, { BAD(0, 23, 5) }, REQ_MORE },
		{ S("23,0\n"), 1, { BAD(23, 0, 5) }, REQ_MORE },
		{ S("00000 , 00000\r\n"), 1, { BAD(0, 0, 15) }, REQ_MORE },
		{ S("65536,23\n"), 1, { BAD(65536, 23, 9) }, REQ_MORE },
		{ S("23,65536\n"), 1, { BAD(23, 65536, 9) }, REQ_MORE },
		{ S("99999, 99999\r\n"), 1, { BAD(99999, 99999, 14) }, REQ_MORE },
		{ S("0023,00080\n"), 1, { Q(23, 80, 11) }, REQ_MORE },
		{ S("00001,065535\n"), 1, { INV(12) }, REQ_INVALID },
	};
	(void)state;
	check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_invalid(void **state)
{
	static const struct req_case cases[] = {
		{ S("\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("\r\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("   \r\n"), 1, { INV(4) }, REQ_INVALID },
		{ S("\t\n"), 1, { INV(2) }, REQ_INVALID },
		{ S("\0"), 1, { INV(1) }, REQ_INVALID },
		{ S("6191\0, 23\r\n"), 1, { INV(5) }, REQ_INVALID },
		{ S("6191, 23\0\r\n"), 1, { INV(9) }, REQ_INVALID },
		{ S("6191, 23\rX"), 1, { INV(10) }, REQ_INVALID },
		{ S("6191, 23\r\r\n"), 1, { INV(10) }, REQ_INVALID },
		{ S("6191\r, 23\n"), 1, { INV(5) }, REQ_INVALID },
		{ S("abc, 23\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("6191, 2x3\n"), 1, { INV(8) }, REQ_INVALID },
		{ S("123456,1\n"), 1, { INV(6) }, REQ_INVALID },
		{ S("1,123456\n"), 1, { INV(8) }, REQ_INVALID },
		{ S("6191 23\n"), 1, { INV(6) }, REQ_INVALID },
		{ S("6191\n"), 1, { INV(5) }, REQ_INVALID },
		{ S("6191,\n"), 1, { INV(6) }, REQ_INVALID },
		{ S("6191, \r\n"), 1, { INV(7) }, REQ_INVALID },
		{ S(",23\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("6191,,23\n"), 1, { INV(6) }, REQ_INVALID },
		{ S("6191, 23 x\n"), 1, { INV(10) }, REQ_INVALID },
		{ S("6191, 23, 5\n"), 1, { INV(9) }, REQ_INVALID },
		{ S("+6191, 23\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("-1,2\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("6191; 23\n"), 1, { INV(5) }, REQ_INVALID },
		{ S("6191\v,23\n"), 1, { INV(5) }, REQ_INVALID },
		{ S("6191,\f23\n"), 1, { INV(6) }, REQ_INVALID },
		{ S("\xef\xbc\x91,2\n"), 1, { INV(1) }, REQ_INVALID },
		{ S("1,2\n\xff"), 2, { Q(1, 2, 4), INV(5) }, REQ_INVALID },
	};
	(void)state;
	check_cases(cases, sizeof cases / sizeof cases[0]);
}

/* pad blanks, then body: a line of exactly pad + strlen(body) bytes. */
static size_t padded(char *buf, size_t pad, const char *body)
{
	memset(buf, ' ', pad);
	strcpy(buf + pad, body);
	return pad + strlen(body);
}

static void test_line_limit(void **state)
{
	static char buf[INPUT_MAX];
	const size_t crlf = sizeof "6191,23\r\n" - 1;
	const size_t lf = sizeof "6191,23\n" - 1;
	size_t n;

	(void)state;
	/* Exactly REQUEST_LINE_MAX bytes, terminator included: accepted. */
	n = padded(buf, REQUEST_LINE_MAX - crlf, "6191,23\r\n");
	assert_int_equal(n, REQUEST_LINE_MAX);
	check_case(&(struct req_case){ buf, n, 1, { Q(6191, 23, n) }, REQ_MORE });
	n = padded(buf, REQUEST_LINE_MAX - lf, "6191,23\n");
	check_case(&(struct req_case){ buf, n, 1, { Q(6191, 23, n) }, REQ_MORE });
	/* One more: refused at the byte that passes the limit, the LF. */
	n = padded(buf, REQUEST_LINE_MAX - crlf + 1, "6191,23\r\n");
	check_case(&(struct req_case){ buf, n, 1, { INV(REQUEST_LINE_MAX + 1) },
	                               REQ_INVALID });
	n = padded(buf, REQUEST_LINE_MAX - lf + 1, "6191,23\n");
	check_case(&(struct req_case){ buf, n, 1, { INV(REQUEST_LINE_MAX + 1) },
	                               REQ_INVALID });
	/* White space inside the line counts the same. */
	n = padded(buf, 0, "6191,");
	memset(buf + n, '\t', REQUEST_LINE_MAX - n - 3);
	strcpy(buf + REQUEST_LINE_MAX - 3, "2\r\n");
	check_case(&(struct req_case){ buf, REQUEST_LINE_MAX, 1,
	                               { Q(6191, 2, REQUEST_LINE_MAX) }, REQ_MORE });
	/* No line end at all: refused without waiting for one. */
	n = padded(buf, REQUEST_LINE_MAX + 40, "");
	check_case(&(struct req_case){ buf, n, 1, { INV(REQUEST_LINE_MAX + 1) },
	                               REQ_INVALID });
	/* The count starts again with each line. */
	n = padded(buf + 4, REQUEST_LINE_MAX - crlf, "6191,23\r\n") + 4;
	memcpy(buf, "1,2\n", 4);
	check_case(&(struct req_case){ buf, n, 2,
	                               { Q(1, 2, 4), Q(6191, 23, n) }, REQ_MORE });
}

/* After REQ_INVALID nothing, not even a good line, brings it back. */
static void test_dead_stays_dead(void **state)
{
	static const uint8_t bad[] = "x";
	static const uint8_t good[] = "6191, 23\r\n";
	struct req_parser p;
	struct req_query q;
	size_t used;

	(void)state;
	req_init(&p);
	assert_int_equal(req_feed(&p, bad, 1, &used, &q), REQ_INVALID);
	assert_int_equal(used, 1);
	assert_int_equal(req_feed(&p, good, sizeof good - 1, &used, &q),
	                 REQ_INVALID);
	assert_int_equal(used, 0);
	assert_int_equal(req_feed(&p, good, 0, &used, &q), REQ_INVALID);
	req_init(&p);
	assert_int_equal(req_feed(&p, good, sizeof good - 1, &used, &q),
	                 REQ_QUERY);
	assert_int_equal(used, sizeof good - 1);
	assert_int_equal(q.server_port, 6191);
	assert_int_equal(q.client_port, 23);
}

/* Stops after the first line, leaving the rest for the next call. */
static void test_one_query_per_call(void **state)
{
	static const uint8_t in[] = "1,2\r\n3,4\n5,";
	struct req_parser p;
	struct req_query q;
	size_t used;

	(void)state;
	req_init(&p);
	assert_int_equal(req_feed(&p, in, 0, &used, &q), REQ_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(req_feed(&p, in, sizeof in - 1, &used, &q), REQ_QUERY);
	assert_int_equal(used, 5);
	assert_int_equal(q.server_port, 1);
	assert_int_equal(req_feed(&p, in + 5, sizeof in - 6, &used, &q),
	                 REQ_QUERY);
	assert_int_equal(used, 4);
	assert_int_equal(q.client_port, 4);
	assert_int_equal(req_feed(&p, in + 9, sizeof in - 10, &used, &q),
	                 REQ_MORE);
	assert_int_equal(used, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_white_space_variants),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_port_values),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_dead_stays_dead),
		cmocka_unit_test(test_one_query_per_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
