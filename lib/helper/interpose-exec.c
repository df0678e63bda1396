// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * interpose-exec.c - the exec family, interposed (interpose.c, 1.): the
 * engine's signal blocked across every exec.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compiler.h"
#include "interpose-int.h"
#include "timespec.h"

/* --- exec ----------------------------------------------------------------------- */

/*
 * An engine signal that reaches a thread while it is inside execve(2)
 * stays pending across the exec, and the new image, whose disposition of
 * it is the default, is killed by it before any of its code runs (found
 * by tests/faults: a request in flight when the target execs).  So the
 * signal is blocked around every exec: a pending one then waits in the
 * new image until its helper has installed the handler and unblocks it
 * (at_helper_init), which takes it as the stray it is; without a helper
 * there, it stays blocked.  On failure the mask is put back.  Raw execve
 * system calls bypass this, as they bypass everything here.
 */
static void exec_begin(sigset_t *old)
{
	sigset_t one;

	sigemptyset(&one);
	if (at_ip_engine_sig)
		sigaddset(&one, at_ip_engine_sig);
	at_ip_in_exec = true;
	REAL(pthread_sigmask)(SIG_BLOCK, &one, old);
}

static int exec_failed(const sigset_t *old)
{
	int e = errno;

	REAL(pthread_sigmask)(SIG_SETMASK, old, NULL);
	at_ip_in_exec = false;
	errno = e;
	return -1;
}

AT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execve)(path, argv, envp);
	return exec_failed(&old);
}

AT_EXPORT int execv(const char *path, char *const argv[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execv)(path, argv);
	return exec_failed(&old);
}

AT_EXPORT int execvp(const char *file, char *const argv[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execvp)(file, argv);
	return exec_failed(&old);
}

AT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(execvpe)(file, argv, envp);
	return exec_failed(&old);
}

AT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	sigset_t old;

	exec_begin(&old);
	REAL(fexecve)(fd, argv, envp);
	return exec_failed(&old);
}

/* execl, execlp, execle: the arguments into an array of their size,
 * then the v forms above (glibc's own call execve internally, past any
 * interposition). */
#define EXECL_MAX 65536u

/* How many arguments up to the NULL (more than EXECL_MAX: E2BIG). */
static size_t count_args(const char *arg0, va_list ap)
{
	size_t n = 1;
	va_list c;

	if (!arg0)
		return 0;
	va_copy(c, ap);
	while (n <= EXECL_MAX && va_arg(c, char *))
		n++;
	va_end(c);
	return n;
}

static void fill_args(const char *arg0, va_list ap, char **argv, size_t n)
{
	size_t i;

	if (n)
		argv[0] = (char *)arg0;
	for (i = 1; i < n; i++)
		argv[i] = va_arg(ap, char *);
	if (n)
		(void)va_arg(ap, char *); /* the NULL */
	argv[n] = NULL;
}

enum execl_form { EXECL_V, EXECL_VP, EXECL_VE };

/* The arguments after ARG0 (AP, up to the NULL; for execle the
 * environment follows it) as an array of their size, to the v form FORM
 * of PATH. */
static int execl_to_v(enum execl_form form, const char *path, const char *arg0,
		      va_list ap)
{
	size_t n = count_args(arg0, ap);

	if (n > EXECL_MAX) {
		errno = E2BIG;
		return -1;
	}
	{
		char *argv[n + 1];

		fill_args(arg0, ap, argv, n);
		switch (form) {
		case EXECL_VP:
			return execvp(path, argv);
		case EXECL_VE:
			return execve(path, argv, va_arg(ap, char *const *));
		default:
			return execv(path, argv);
		}
	}
}

/* In an execl-family function: its arguments after ARG, to FORM. */
#define EXECL_TO_V(form, path, arg)                                            \
	({                                                                     \
		va_list ap_;                                                   \
		int r_;                                                        \
                                                                               \
		va_start(ap_, arg);                                            \
		r_ = execl_to_v(form, path, arg, ap_);                         \
		va_end(ap_);                                                   \
		r_;                                                            \
	})

AT_EXPORT int execl(const char *path, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_V, path, arg);
}

AT_EXPORT int execlp(const char *file, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_VP, file, arg);
}

AT_EXPORT int execle(const char *path, const char *arg, ...)
{
	return EXECL_TO_V(EXECL_VE, path, arg);
}
