/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tap.h - a tiny Test Anything Protocol (version 13) emitter for the test
 * programs.  Header only.  Every line is flushed as it is written, so a test
 * that forks never prints the same line twice and a test that dies still
 * shows what it got to.
 *
 * Use:
 *	tap_ok(x == 1, "x is one");
 *	tap_diag("x is %d", x);
 *	tap_skip(2, "needs CAP_SETUID");
 *	return tap_done();	(prints the plan at the end if none was given)
 */
#ifndef AT_TESTS_TAP_H
#define AT_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct tap_state {
	int planned; /* -1 until tap_plan() */
	int count;
	int failed;
};

static inline struct tap_state *tap_state(void)
{
	static struct tap_state state = { .planned = -1 };

	return &state;
}

static inline void tap_vline(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stdout);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Announce N tests up front. */
static inline void tap_plan(int n)
{
	tap_state()->planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* Report one test; returns COND so callers can chain diagnostics. */
__attribute__((format(printf, 2, 3))) static inline bool
tap_ok(bool cond, const char *fmt, ...)
{
	struct tap_state *t = tap_state();
	va_list ap;

	t->count++;
	if (!cond)
		t->failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", t->count);
	va_start(ap, fmt);
	tap_vline("", fmt, ap);
	va_end(ap);
	return cond;
}

/* A comment line; meson shows it in the log. */
__attribute__((format(printf, 1, 2))) static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline("# ", fmt, ap);
	va_end(ap);
}

/* Skip N tests with REASON; they count as run, not as passed or failed. */
static inline void tap_skip(int n, const char *reason)
{
	struct tap_state *t = tap_state();

	for (int i = 0; i < n; i++) {
		t->count++;
		printf("ok %d # SKIP %s\n", t->count, reason);
	}
	fflush(stdout);
}

/* Skip the whole program; never returns.  Exits 0: meson reads the skip
 * from the plan line. */
static inline void tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(0);
}

/* Stop everything; never returns. */
__attribute__((format(printf, 1, 2), noreturn)) static inline void
tap_bail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline("Bail out! ", fmt, ap);
	va_end(ap);
	exit(1);
}

/* Finish: print the plan if none was given, return the exit status. */
static inline int tap_done(void)
{
	struct tap_state *t = tap_state();

	if (t->planned < 0) {
		printf("1..%d\n", t->count);
	} else if (t->planned != t->count) {
		printf("# planned %d tests but ran %d\n", t->planned, t->count);
		fflush(stdout);
		return 1;
	}
	fflush(stdout);
	return t->failed ? 1 : 0;
}

#endif /* AT_TESTS_TAP_H */
