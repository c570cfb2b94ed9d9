/* libFuzzer target: privident-query's parser of the replies of untrusted
 * ident servers (ident_reply_parse in src/replyparse.c).
 *
 * Input: one reply line, as a server might send it.
 *
 * Checked: every field comes back NUL-terminated within its bound, a user
 * id holds no NUL, CR or LF, an error name is upper case; a failed parse
 * leaves nothing behind. And a round trip: a USERID reply that
 * reply_format_userid accepts (src/reply.c, what privident itself sends)
 * parses back to the same ports, operating system and user id, with
 * ",UTF-8" exactly when the user id is not ASCII. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "limits.h"
#include "reply.h"
#include "replyparse.h"

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		if (s[i])
			return false;
	return true;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void check_fields(const struct ident_reply *r)
{
	FUZZ_CHECK(r->server_port <= 99999 && r->client_port <= 99999);
	FUZZ_CHECK(strnlen(r->opsys, sizeof r->opsys) < sizeof r->opsys);
	FUZZ_CHECK(strnlen(r->charset, sizeof r->charset) < sizeof r->charset);
	FUZZ_CHECK(strnlen(r->userid, sizeof r->userid) < sizeof r->userid);
	FUZZ_CHECK(strnlen(r->error, sizeof r->error) < sizeof r->error);
	if (r->is_userid) {
		FUZZ_CHECK(r->opsys[0] != '\0' && r->userid[0] != '\0');
		FUZZ_CHECK(strpbrk(r->userid, "\r\n") == NULL);
		FUZZ_CHECK(r->error[0] == '\0');
	} else {
		FUZZ_CHECK(r->error[0] != '\0' && r->userid[0] == '\0');
		for (const char *p = r->error; *p; p++)
			FUZZ_CHECK(!(*p >= 'a' && *p <= 'z'));
	}
}

static void round_trip(const struct ident_reply *r)
{
	char line[REPLY_MAX];
	struct ident_reply back;
	size_t ulen = strlen(r->userid);
	int n = reply_format_userid(line, sizeof line, r->server_port,
	                            r->client_port, r->opsys, r->userid, ulen);

	if (n < 0)
		return;  /* not something privident would send */
	FUZZ_CHECK((size_t)n < sizeof line && line[n] == '\0');
	FUZZ_CHECK(ident_reply_parse(line, (size_t)n, &back) == 0);
	FUZZ_CHECK(back.is_userid);
	FUZZ_CHECK(back.server_port == r->server_port &&
	           back.client_port == r->client_port);
	FUZZ_CHECK(strcmp(back.opsys, r->opsys) == 0);
	FUZZ_CHECK(strcmp(back.userid, r->userid) == 0);
	FUZZ_CHECK(strcmp(back.charset, ascii(r->userid) ? "" : "UTF-8") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ident_reply r;

	/* A sentinel, to see that a failure clears what it touched. */
	memset(&r, 0xa5, sizeof r);
	if (ident_reply_parse((const char *)data, size, &r) != 0) {
		FUZZ_CHECK(is_zero(&r, sizeof r));
		return 0;
	}
	check_fields(&r);
	if (r.is_userid)
		round_trip(&r);
	return 0;
}
