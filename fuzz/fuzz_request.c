/* libFuzzer target: the request parser (src/request.c), fed as a stream.
 *
 * Input: a header, then the body. The header's first byte, modulo 8, is
 * how many split lengths follow it (one byte each; 0 is an empty feed).
 * The body is fed three times: whole, in chunks of those lengths (cycled),
 * and one byte at a time. All three must give the same events (query, bad
 * port, invalid) at the same offsets and leave the parser in the same
 * state: input split anyhow parses exactly as if it came whole (doc/design.md §1).
 * The events must also be those of a plain reference parser of whole
 * lines, written here independently of the state machine. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "limits.h"
#include "request.h"

#define SPLITS_MAX 7

struct event {
	enum req_status status;
	size_t end;             /* offset just after the last byte consumed */
	uint32_t sp, cp;
};

struct run {
	struct event *ev;
	size_t n;
	struct req_parser p;
};

static void check_event(const struct event *e)
{
	if (e->status == REQ_QUERY)
		FUZZ_CHECK(e->sp >= 1 && e->sp <= PORT_MAX && e->cp >= 1 &&
		           e->cp <= PORT_MAX);
	if (e->status == REQ_BAD_PORT)
		FUZZ_CHECK(e->sp <= 99999 && e->cp <= 99999 &&
		           (e->sp < 1 || e->sp > PORT_MAX || e->cp < 1 ||
		            e->cp > PORT_MAX));
}

/* Feeds one chunk until it is used up or the parser dies. Returns false
 * once the parser is dead. */
static bool feed_chunk(struct run *r, const uint8_t *chunk, size_t len,
                       size_t base)
{
	size_t off = 0;

	do {
		struct req_query q = { 0, 0 };
		size_t used = SIZE_MAX;
		enum req_status st = req_feed(&r->p, chunk + off, len - off,
		                              &used, &q);

		FUZZ_CHECK(used <= len - off);
		off += used;
		if (st == REQ_MORE) {
			FUZZ_CHECK(off == len);
			return true;
		}
		FUZZ_CHECK(st == REQ_QUERY || st == REQ_BAD_PORT ||
		           st == REQ_INVALID);
		FUZZ_CHECK(used > 0);
		r->ev[r->n] = (struct event){ st, base + off, q.server_port,
		                              q.client_port };
		if (st == REQ_INVALID) {
			r->ev[r->n].sp = r->ev[r->n].cp = 0;
			r->n++;
			return false;
		}
		check_event(&r->ev[r->n]);
		r->n++;
	} while (off < len);
	return true;
}

/* Feeds body in chunks of the given lengths, cycled; none: whole. */
static void run(struct run *r, const uint8_t *body, size_t len,
                const uint8_t *splits, size_t nsplits)
{
	size_t pos = 0, k = 0;

	r->n = 0;
	req_init(&r->p);
	while (pos < len) {
		size_t chunk = nsplits ? splits[k++ % nsplits] : len - pos;

		if (chunk > len - pos)
			chunk = len - pos;
		if (!feed_chunk(r, body + pos, chunk, pos))
			return;
		pos += chunk;
	}
	/* A dead parser stays dead and consumes nothing. */
}

static bool same(const struct run *a, const struct run *b)
{
	if (a->n != b->n || a->p.state != b->p.state ||
	    a->p.digits != b->p.digits || a->p.line_len != b->p.line_len ||
	    a->p.num[0] != b->p.num[0] || a->p.num[1] != b->p.num[1])
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->ev[i].status != b->ev[i].status ||
		    a->ev[i].end != b->ev[i].end || a->ev[i].sp != b->ev[i].sp ||
		    a->ev[i].cp != b->ev[i].cp)
			return false;
	return true;
}

/* ---- the reference: whole lines, no state machine ---- */

static size_t ref_space(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static size_t ref_number(const uint8_t *s, size_t n, size_t i, uint32_t *v)
{
	size_t start = i;

	*v = 0;
	while (i < n && i - start <= PORT_DIGITS_MAX && s[i] >= '0' &&
	       s[i] <= '9')
		*v = *v * 10 + (uint32_t)(s[i++] - '0');
	if (i == start || i - start > PORT_DIGITS_MAX)
		return SIZE_MAX;
	return i;
}

/* Is s[0..n) a whole request line without its LF: "port , port" with
 * white space around the tokens and an optional CR at the end? */
static bool ref_line(const uint8_t *s, size_t n, uint32_t *sp, uint32_t *cp)
{
	size_t i = ref_space(s, n, 0);

	if ((i = ref_number(s, n, i, sp)) == SIZE_MAX)
		return false;
	i = ref_space(s, n, i);
	if (i == n || s[i] != ',')
		return false;
	i = ref_space(s, n, i + 1);
	if ((i = ref_number(s, n, i, cp)) == SIZE_MAX)
		return false;
	i = ref_space(s, n, i);
	if (i < n && s[i] == '\r')
		i++;
	return i == n;
}

/* Can the unfinished line s[0..n) still become a valid one? */
static bool ref_prefix(const uint8_t *s, size_t n)
{
	static const char *const ends[] = { "", "1", ",1", "1,1" };
	uint8_t buf[REQUEST_LINE_MAX + 8];
	uint32_t a, b;

	if (n > REQUEST_LINE_MAX)
		return false;
	for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++) {
		size_t m = strlen(ends[k]);

		memcpy(buf, s, n);
		memcpy(buf + n, ends[k], m);
		if (ref_line(buf, n + m, &a, &b))
			return true;
	}
	return false;
}

/* The reference's verdict must match the events of run r. */
static void check_reference(const struct run *r, const uint8_t *body,
                            size_t len)
{
	size_t pos = 0, k = 0;

	while (pos < len) {
		const uint8_t *nl = memchr(body + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (body + pos)) : len - pos;
		uint32_t sp, cp;

		if (nl == NULL) {  /* the unfinished last line */
			if (ref_prefix(body + pos, n)) {
				FUZZ_CHECK(k == r->n);
				return;
			}
			break;
		}
		if (n + 1 > REQUEST_LINE_MAX || !ref_line(body + pos, n, &sp, &cp))
			break;
		FUZZ_CHECK(k < r->n);
		FUZZ_CHECK(r->ev[k].end == pos + n + 1);
		FUZZ_CHECK(r->ev[k].sp == sp && r->ev[k].cp == cp);
		FUZZ_CHECK(r->ev[k].status ==
		           (sp >= 1 && sp <= PORT_MAX && cp >= 1 && cp <= PORT_MAX
		                    ? REQ_QUERY : REQ_BAD_PORT));
		k++;
		pos += n + 1;
	}
	if (pos == len) {  /* ended exactly after a line */
		FUZZ_CHECK(k == r->n);
		return;
	}
	/* The line at pos is bad: the parser died inside it. */
	FUZZ_CHECK(k + 1 == r->n);
	FUZZ_CHECK(r->ev[k].status == REQ_INVALID);
	FUZZ_CHECK(r->ev[k].end > pos && r->ev[k].end <= len &&
	           r->ev[k].end <= pos + REQUEST_LINE_MAX + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t one = 1;
	struct run whole, split, bytes;
	size_t nsplits, sum = 0;

	if (size < 1)
		return 0;
	nsplits = data[0] % (SPLITS_MAX + 1);
	if (size < 1 + nsplits)
		return 0;
	const uint8_t *splits = data + 1, *body = data + 1 + nsplits;
	size_t len = size - 1 - nsplits;

	for (size_t i = 0; i < nsplits; i++)
		sum += splits[i];
	if (sum == 0)  /* only empty feeds would never get anywhere */
		nsplits = 0;
	/* Every event consumes at least one byte. */
	whole.ev = calloc(len + 1, sizeof *whole.ev);
	split.ev = calloc(len + 1, sizeof *split.ev);
	bytes.ev = calloc(len + 1, sizeof *bytes.ev);
	FUZZ_CHECK(whole.ev && split.ev && bytes.ev);

	run(&whole, body, len, NULL, 0);
	run(&split, body, len, splits, nsplits);
	run(&bytes, body, len, &one, 1);
	FUZZ_CHECK(same(&whole, &split));
	FUZZ_CHECK(same(&whole, &bytes));
	check_reference(&whole, body, len);

	free(whole.ev);
	free(split.ev);
	free(bytes.ev);
	return 0;
}
