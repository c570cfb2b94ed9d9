/* Log folding: a linear search of a small fixed table (no hashing, so no
 * address a peer picks can make its search slower). */
#include "lograte.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* What one IPv6 host is: its /64 (hosts.c, host_keys). */
#define IPV6_PREFIX_BITS 64

void lograte_init(struct lograte *lr)
{
	memset(lr, 0, sizeof(*lr));
}

static bool window_over(const struct lograte_slot *s, uint64_t now_ms)
{
	return now_ms - s->start_ms >= LOGRATE_WINDOW_MS;
}

/* A slot free for a new peer: never used, or its window over with nothing
 * folded (a window with folded lines waits for lograte_take). */
static bool reusable(const struct lograte_slot *s, uint64_t now_ms)
{
	return !s->used || (s->folded == 0 && window_over(s, now_ms));
}

static struct lograte_slot *slot_of(struct lograte *lr, const uint8_t *host,
                                    uint64_t now_ms)
{
	struct lograte_slot *free_slot = NULL;

	if (host == NULL)
		return &lr->other;
	for (size_t i = 0; i < LOGRATE_SLOTS; i++) {
		struct lograte_slot *s = &lr->slot[i];
		if (s->used && memcmp(s->host, host, HOST_KEY_LEN) == 0)
			return s;
		if (free_slot == NULL && reusable(s, now_ms))
			free_slot = s;
	}
	if (free_slot == NULL)
		return &lr->other;
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->host, host, HOST_KEY_LEN);
	free_slot->start_ms = now_ms;
	free_slot->used = true;
	return free_slot;
}

bool lograte_admit(struct lograte *lr, const uint8_t *host, uint64_t now_ms)
{
	struct lograte_slot *s = slot_of(lr, host, now_ms);

	if (!s->used || (s->folded == 0 && window_over(s, now_ms))) {
		s->used = true;
		s->start_ms = now_ms;
		s->lines = 0;
	}
	if (s->lines < LOGRATE_BURST) {
		s->lines++;
		return true;
	}
	s->folded++;
	return false;
}

static bool take_slot(struct lograte_slot *s, bool other, uint64_t now_ms,
                      bool all, struct lograte_summary *out)
{
	if (!s->used || (!all && !window_over(s, now_ms)))
		return false;
	s->used = false;
	if (s->folded == 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->other = other;
	memcpy(out->host, s->host, HOST_KEY_LEN);
	out->folded = s->folded;
	out->ms = now_ms - s->start_ms;
	s->folded = 0;
	return true;
}

bool lograte_take(struct lograte *lr, uint64_t now_ms, bool all,
                  struct lograte_summary *out)
{
	for (size_t i = 0; i < LOGRATE_SLOTS; i++)
		if (take_slot(&lr->slot[i], false, now_ms, all, out))
			return true;
	return take_slot(&lr->other, true, now_ms, all, out);
}

static int64_t due_in(const struct lograte_slot *s, uint64_t now_ms)
{
	if (!s->used || s->folded == 0)
		return -1;
	uint64_t end = s->start_ms + LOGRATE_WINDOW_MS;
	return end > now_ms ? (int64_t)(end - now_ms) : 0;
}

int64_t lograte_next_ms(const struct lograte *lr, uint64_t now_ms)
{
	int64_t best = due_in(&lr->other, now_ms);

	for (size_t i = 0; i < LOGRATE_SLOTS; i++) {
		int64_t d = due_in(&lr->slot[i], now_ms);
		if (d >= 0 && (best < 0 || d < best))
			best = d;
	}
	return best;
}

const char *lograte_peer_name(const struct lograte_summary *s, char *buf,
                              size_t size)
{
	static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	char a[INET6_ADDRSTRLEN];

	if (s->other)
		snprintf(buf, size, "other");
	else if (memcmp(s->host, mapped, sizeof(mapped)) == 0 &&
	         inet_ntop(AF_INET, s->host + 12, a, sizeof(a)))
		snprintf(buf, size, "%s", a);
	else if (inet_ntop(AF_INET6, s->host, a, sizeof(a)))
		snprintf(buf, size, "%s/%d", a, IPV6_PREFIX_BITS);
	else
		snprintf(buf, size, "?");
	return buf;
}
