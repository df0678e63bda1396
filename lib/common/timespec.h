/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timespec.h - CLOCK_MONOTONIC deadlines, the one set of helpers every part
 * of the library uses.  Static inline and free of libc but for
 * clock_gettime(), so signal context (sigctx.c) may use the arithmetic.
 */
#ifndef AT_TIMESPEC_H
#define AT_TIMESPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define AT_NS_PER_SEC 1000000000L
#define AT_NS_PER_MS 1000000L
/* The longest single wait the library asks of poll() and the like. */
#define AT_HOUR_MS 3600000

static inline void at_ts_now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

/* T += NS (NS >= 0). */
static inline void at_ts_add_ns(struct timespec *t, long ns)
{
	t->tv_sec += ns / AT_NS_PER_SEC;
	t->tv_nsec += ns % AT_NS_PER_SEC;
	if (t->tv_nsec >= AT_NS_PER_SEC) {
		t->tv_nsec -= AT_NS_PER_SEC;
		t->tv_sec++;
	}
}

/* T += D (a normalized interval). */
static inline void at_ts_add(struct timespec *t, const struct timespec *d)
{
	t->tv_sec += d->tv_sec;
	at_ts_add_ns(t, d->tv_nsec);
}

/* T += MS milliseconds. */
static inline void at_ts_add_ms(struct timespec *t, unsigned long ms)
{
	t->tv_sec += (time_t)(ms / 1000);
	at_ts_add_ns(t, (long)(ms % 1000) * AT_NS_PER_MS);
}

/* T = now + MS milliseconds: a deadline. */
static inline void at_ts_after_ms(struct timespec *t, unsigned long ms)
{
	at_ts_now(t);
	at_ts_add_ms(t, ms);
}

/* Is A strictly earlier than B? */
static inline bool at_ts_before(const struct timespec *a,
				const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Has DEADLINE come? */
static inline bool at_ts_past(const struct timespec *deadline)
{
	struct timespec n;

	at_ts_now(&n);
	return !at_ts_before(&n, deadline);
}

/* LEFT = DEADLINE - now, at least zero. */
static inline void at_ts_left(const struct timespec *deadline,
			      struct timespec *left)
{
	struct timespec n;

	at_ts_now(&n);
	left->tv_sec = deadline->tv_sec - n.tv_sec;
	left->tv_nsec = deadline->tv_nsec - n.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_nsec += AT_NS_PER_SEC;
		left->tv_sec--;
	}
	if (left->tv_sec < 0)
		left->tv_sec = left->tv_nsec = 0;
}

/* Milliseconds until DEADLINE, rounded up (a wait never ends early), at
 * least 0 and at most MAX. */
static inline int at_ts_ms_until(const struct timespec *deadline, int max)
{
	struct timespec l;
	long long ms;

	at_ts_left(deadline, &l);
	ms = (long long)l.tv_sec * 1000 +
	     (l.tv_nsec + AT_NS_PER_MS - 1) / AT_NS_PER_MS;
	return ms > max ? max : (int)ms;
}

/* T in nanoseconds. */
static inline uint64_t at_ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * (uint64_t)AT_NS_PER_SEC +
	       (uint64_t)t->tv_nsec;
}

#endif /* AT_TIMESPEC_H */
