/* The monotonic clock in milliseconds: the time base of every deadline,
 * time-out and back-off in the daemon (never the wall clock, which an
 * administrator or NTP may step). */
#ifndef PRIVIDENT_CLOCK_H
#define PRIVIDENT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
