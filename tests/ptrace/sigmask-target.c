// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sigmask-target.c - a process whose threads wait in the calls that wait
 * with a temporary signal mask, for the ptrace route's signal mask test
 * (tests/ptrace/test-sigmask.sh).
 *
 *   sigmask-target [--ms T]
 *
 * Every thread's own mask blocks SIGUSR2 (the normal mask).  One thread
 * per call (ppoll, pselect6, epoll_pwait, epoll_pwait2, io_uring_enter
 * with IORING_ENTER_EXT_ARG when io_uring is allowed) waits, again and
 * again, with a timeout of T ms (default 1500) and a temporary mask that
 * blocks SIGUSR1 and not SIGUSR2; one more waits in rt_sigsuspend with
 * that mask, until a signal it does not block comes.  No event ever
 * comes.  SIGUSR1 and SIGUSR2 have handlers without SA_RESTART.
 *
 * After each call returns, the thread reads its own mask: it must be the
 * normal one.  Each waiter counts: calls, bad (a mask after the call that
 * is not the normal one), eintr (an EINTR while only signals the
 * temporary mask blocked were sent: the program alone never sees it),
 * woken (an EINTR a SIGUSR2 explained), expired (timeouts as asked),
 * other (any other result); "last" is the last mask it read (hex), usr1
 * the SIGUSR1 handlers it ran.
 *
 * Prints "ready PID TASKS".  Commands, one a line on stdin:
 *   check   one line per waiter, "w NAME calls bad eintr woken expired
 *           other last usr1", then "end"
 *   pend    SIGUSR1 (tgkill) to every waiter: in its call the temporary
 *           mask holds it pending until the call ends; prints "pended"
 *   wake    SIGUSR2 (which the temporary mask lets through) to every
 *           waiter: its call ends with EINTR; prints "woken"
 *   arm     a child process (forked before any thread) sends SIGUSR2 to
 *           each waiter as soon as it sees it in a ptrace stop (state t),
 *           for up to 10 s; prints "armed", then "sent N" once done
 *   quit    exits 0
 * End of input exits too, and so does a timeout (300 s).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum kind {
	K_PPOLL,
	K_PSELECT6,
	K_EPOLL_PWAIT,
	K_EPOLL_PWAIT2,
	K_IO_URING,
	K_SIGSUSPEND,
	NKINDS
};

static const char *const names[NKINDS] = { "ppoll",	  "pselect6",
					   "epoll_pwait", "epoll_pwait2",
					   "io_uring",	  "sigsuspend" };

struct waiter {
	enum kind kind;
	pthread_t th;
	_Atomic int tid;
	atomic_ulong calls, bad, eintr, woken, expired, other, last, usr1;
	atomic_bool got_usr2;
};

static struct waiter w[NKINDS];
static unsigned nw;
static int epfd, ringfd = -1;
static unsigned ms = 1500;
static __thread struct waiter *self;
static int armfd[2] = { -1, -1 };

/* The kernel's 64-bit view of a sigset_t (the first word). */
static unsigned long word(const sigset_t *s)
{
	unsigned long v;

	memcpy(&v, s, sizeof(v));
	return v;
}

static void on_usr1(int sig)
{
	(void)sig;
	if (self)
		self->usr1++;
}

static void on_usr2(int sig)
{
	(void)sig;
	if (self)
		self->got_usr2 = true;
}

static long call(struct waiter *x, const sigset_t *tmp, long *timeout_ok)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	long r = -1;

	*timeout_ok = 0;
	switch (x->kind) {
	case K_PPOLL:
		r = syscall(SYS_ppoll, NULL, 0, &ts, tmp, 8);
		break;
	case K_PSELECT6: {
		struct {
			const sigset_t *ss;
			size_t len;
		} sm = { tmp, 8 };

		r = syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &sm);
		break;
	}
	case K_EPOLL_PWAIT: {
		struct epoll_event ev;

		r = syscall(SYS_epoll_pwait, epfd, &ev, 1, (int)ms, tmp, 8);
		break;
	}
	case K_EPOLL_PWAIT2: {
		struct epoll_event ev;

		r = syscall(SYS_epoll_pwait2, epfd, &ev, 1, &ts, tmp, 8);
		break;
	}
	case K_IO_URING: {
		struct io_uring_getevents_arg ga = { 0 };

		ga.sigmask = (uint64_t)(uintptr_t)tmp;
		ga.sigmask_sz = 8;
		ga.ts = (uint64_t)(uintptr_t)&ts;
		r = syscall(SYS_io_uring_enter, ringfd, 0, 1,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &ga,
			    sizeof(ga));
		*timeout_ok = -ETIME;
		break;
	}
	case K_SIGSUSPEND:
		r = syscall(SYS_rt_sigsuspend, tmp, 8);
		*timeout_ok = 1; /* never times out */
		break;
	default:
		break;
	}
	return r < 0 ? -errno : r;
}

static void *waiter_main(void *arg)
{
	struct waiter *x = arg;
	sigset_t tmp, cur;

	self = x;
	sigemptyset(&tmp);
	sigaddset(&tmp, SIGUSR1);
	x->tid = (int)syscall(SYS_gettid);
	for (;;) {
		long ok, r = call(x, &tmp, &ok);

		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		x->last = word(&cur);
		if (!sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGUSR1))
			x->bad++;
		if (r == -EINTR && x->got_usr2)
			x->woken++;
		else if (r == -EINTR)
			x->eintr++;
		else if (r == ok)
			x->expired++;
		else
			x->other++;
		x->got_usr2 = false;
		x->calls++;
	}
	return NULL;
}

/* Is TID of PID in a ptrace stop? */
static int traced(pid_t pid, int tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 't';
}

/* The child: for each list of TIDs from armfd, watch and send. */
static void watcher(pid_t pid)
{
	int tids[NKINDS], n, i, k, sent;
	bool done[NKINDS];
	char msg[32];

	for (;;) {
		if (read(armfd[0], &n, sizeof(n)) != sizeof(n) || n < 0 ||
		    n > NKINDS ||
		    read(armfd[0], tids, (size_t)n * sizeof(int)) !=
			    (ssize_t)((size_t)n * sizeof(int)))
			_exit(0);
		memset(done, 0, sizeof(done));
		sent = 0;
		for (k = 0; k < 10000 && sent < n; k++) {
			for (i = 0; i < n; i++)
				if (!done[i] && traced(pid, tids[i]) &&
				    syscall(SYS_tgkill, pid, tids[i],
					    SIGUSR2) == 0) {
					done[i] = true;
					sent++;
				}
			usleep(1000);
		}
		snprintf(msg, sizeof(msg), "sent %d\n", sent);
		if (write(1, msg, strlen(msg)) < 0)
			_exit(0);
	}
}

int main(int argc, char **argv)
{
	struct io_uring_params p;
	struct sigaction sa;
	sigset_t normal;
	char line[64];
	unsigned i;

	for (i = 1; i + 1 < (unsigned)argc; i += 2)
		if (!strcmp(argv[i], "--ms"))
			ms = (unsigned)atoi(argv[i + 1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(300);
	if (pipe(armfd) < 0)
		return 1;
	if (fork() == 0) {
		close(armfd[1]);
		alarm(300);
		watcher(getppid());
	}
	close(armfd[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	/* Inherited by every thread created after this. */
	sigemptyset(&normal);
	sigaddset(&normal, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &normal, NULL);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	memset(&p, 0, sizeof(p));
	ringfd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (epfd < 0)
		return 1;
	for (i = 0; i < NKINDS; i++) {
		if (i == K_IO_URING && ringfd < 0)
			continue;
		w[nw].kind = (enum kind)i;
		if (pthread_create(&w[nw].th, NULL, waiter_main, &w[nw]))
			return 1;
		nw++;
	}
	for (i = 0; i < nw; i++)
		while (!w[i].tid)
			usleep(1000);
	usleep(100000);
	printf("ready %d %u%s\n", (int)getpid(), nw + 1,
	       ringfd < 0 ? " no-io_uring" : "");
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "check", 5)) {
			for (i = 0; i < nw; i++)
				printf("w %s %lu %lu %lu %lu %lu %lu %lx %lu\n",
				       names[w[i].kind], w[i].calls, w[i].bad,
				       w[i].eintr, w[i].woken, w[i].expired,
				       w[i].other, w[i].last, w[i].usr1);
			printf("end\n");
		} else if (!strncmp(line, "pend", 4)) {
			for (i = 0; i < nw; i++)
				syscall(SYS_tgkill, getpid(), w[i].tid,
					SIGUSR1);
			printf("pended\n");
		} else if (!strncmp(line, "wake", 4)) {
			for (i = 0; i < nw; i++)
				syscall(SYS_tgkill, getpid(), w[i].tid,
					SIGUSR2);
			printf("woken\n");
		} else if (!strncmp(line, "arm", 3)) {
			int tids[NKINDS], n = (int)nw;

			for (i = 0; i < nw; i++)
				tids[i] = w[i].tid;
			if (write(armfd[1], &n, sizeof(n)) != sizeof(n) ||
			    write(armfd[1], tids, nw * sizeof(int)) !=
				    (ssize_t)(nw * sizeof(int)))
				return 1;
			printf("armed\n");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	return 0;
}
