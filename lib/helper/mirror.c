// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mirror.c - the application's capset() and capability prctl()s, seen by
 * the helper first: after the call succeeds on the calling thread, the
 * receiver makes it on itself too (receiver.c, at_receiver_mirror()), so
 * glibc's next set*id() finds the receiver in the same state as the
 * thread that asked and does not abort the process (issue 11.2).
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "receiver.h"

static int (*next_capset)(void *, const void *);
static int (*next_prctl)(int, unsigned long, unsigned long, unsigned long,
			 unsigned long);

/* Is a capset for this header the calling thread's own? */
static bool own_thread(const struct __user_cap_header_struct *h)
{
	return h->pid == 0 || h->pid == (int)syscall(SYS_gettid);
}

int capset(void *hdr, const void *data);
AT_EXPORT int capset(void *hdr, const void *data)
{
	int r;

	if (!next_capset)
		next_capset = (int (*)(void *, const void *))dlsym(RTLD_NEXT,
								   "capset");
	r = next_capset ? next_capset(hdr, data) :
			  (int)syscall(SYS_capset, hdr, data);
	if (r == 0 && hdr && data && own_thread(hdr)) {
		int saved = errno;

		at_receiver_mirror(SYS_capset, NULL, hdr, data);
		errno = saved;
	}
	return r;
}

AT_EXPORT int prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;
	int i, r;

	va_start(ap, option);
	for (i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (!next_prctl)
		next_prctl = (int (*)(int, unsigned long, unsigned long,
				      unsigned long,
				      unsigned long))dlsym(RTLD_NEXT, "prctl");
	r = next_prctl ?
		    next_prctl(option, a[0], a[1], a[2], a[3]) :
		    (int)syscall(SYS_prctl, option, a[0], a[1], a[2], a[3]);
	if (r == 0 &&
	    (option == PR_SET_KEEPCAPS || option == PR_SET_SECUREBITS ||
	     option == PR_CAPBSET_DROP ||
	     (option == PR_CAP_AMBIENT && a[0] != PR_CAP_AMBIENT_IS_SET))) {
		long args[5] = { option, (long)a[0], (long)a[1], (long)a[2],
				 (long)a[3] };
		int saved = errno;

		at_receiver_mirror(SYS_prctl, args, NULL, NULL);
		errno = saved;
	}
	return r;
}
