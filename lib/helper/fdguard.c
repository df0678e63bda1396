// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fdguard.c - the application's close(), close_range(), closefrom(),
 * dup2() and dup3(), seen by the helper first: when they would close or
 * replace a descriptor the receiver keeps, the receiver moves its own out
 * of the way (receiver.c, at_receiver_fds_closing()), then the call goes
 * ahead exactly as asked.  So a daemon that closes 3-1023 and opens a log
 * file never has the helper read or write its log or its sockets.  What
 * is closed behind these functions' back (the raw system calls) the
 * receiver finds by checking each descriptor's identity before each use
 * (receiver.c); nothing wakes it through a descriptor at all.  The
 * helper closes its own descriptors with the raw system call (ctl.c,
 * ctl-landlock.c, receiver.c): these wrappers are the application's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "receiver.h"

static int (*next_close)(int);

/* The call has run: the receiver may use (and remake) its own again. */
static void done(void)
{
	int saved = errno;

	at_receiver_fds_done();
	errno = saved;
}
static int (*next_dup2)(int, int);
static int (*next_dup3)(int, int, int);

AT_EXPORT int close(int fd)
{
	if (!next_close)
		next_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	int r;

	if (fd >= 0)
		at_receiver_fds_closing((unsigned)fd, (unsigned)fd);
	if (!next_close)
		r = (int)syscall(SYS_close, fd);
	else
		r = next_close(fd); /* a cancellation point, as libc's */
	done();
	return r;
}

int close_range(unsigned first, unsigned last, int flags);
AT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int r;

	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
		at_receiver_fds_closing(first, last);
	r = (int)syscall(SYS_close_range, first, last, flags);
	done();
	return r;
}

void closefrom(int low);
AT_EXPORT void closefrom(int low)
{
	unsigned first = low < 0 ? 0 : (unsigned)low;
	int saved = errno;

	at_receiver_fds_closing(first, ~0u);
	if (syscall(SYS_close_range, first, ~0u, 0) < 0) {
		/* Old kernels: one by one, as glibc does. */
		long max = sysconf(_SC_OPEN_MAX);
		long fd;

		for (fd = first; fd < max && fd < (1L << 20); fd++)
			syscall(SYS_close, fd);
	}
	at_receiver_fds_done();
	errno = saved;
}

/* The kernel's dup2 where it has one; aarch64 has only dup3, which
 * refuses OLD == NEW (dup2 then only checks OLD). */
static int raw_dup2(int old, int new)
{
#ifdef SYS_dup2
	return (int)syscall(SYS_dup2, old, new);
#else
	if (old == new)
		return fcntl(old, F_GETFD) < 0 ? -1 : new;
	return (int)syscall(SYS_dup3, old, new, 0);
#endif
}

AT_EXPORT int dup2(int old, int new)
{
	int r;

	if (!next_dup2)
		next_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
	if (new >= 0 && new != old)
		at_receiver_fds_closing((unsigned)new, (unsigned)new);
	r = next_dup2 ? next_dup2(old, new) : raw_dup2(old, new);
	done();
	return r;
}

AT_EXPORT int dup3(int old, int new, int flags)
{
	int r;

	if (!next_dup3)
		next_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
	if (new >= 0 && new != old)
		at_receiver_fds_closing((unsigned)new, (unsigned)new);
	r = next_dup3 ? next_dup3(old, new, flags) :
			(int)syscall(SYS_dup3, old, new, flags);
	done();
	return r;
}
