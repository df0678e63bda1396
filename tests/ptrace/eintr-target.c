// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * eintr-target.c - a process whose threads wait in the blocking calls the
 * kernel does not restart after a ptrace stop, for the ptrace route's
 * EINTR test (tests/ptrace/test-eintr.sh).
 *
 *   eintr-target [--busy N] [--ms T]
 *
 * Two threads per call (epoll_wait where the architecture has it,
 * epoll_pwait, epoll_pwait2, rt_sigtimedwait, semtimedop, io_uring_enter
 * waiting for a completion when io_uring is allowed): one waits for ever,
 * the other with a timeout of T ms (default 1500), again and again.  No
 * event ever comes.  --busy adds N threads that spin.  SIGUSR1 has a
 * handler installed without SA_RESTART.
 *
 * Each waiter counts: eintr (an EINTR with no SIGUSR1 of its own: what the
 * route must never cause), sig (an EINTR its SIGUSR1 explained), lost (a
 * SIGUSR1 whose call did not end with EINTR), early (a timeout that
 * expired before T), expired (timeouts as asked) and the longest such
 * call in ms; other (any other result).
 *
 * Prints "ready PID TASKS".  Commands, one a line on stdin:
 *   check   one line per waiter, "w NAME MODE eintr sig lost early expired
 *           maxms other", then "end"
 *   arm     a child process (forked before any thread) watches the
 *           waiters that wait for ever and sends each one SIGUSR1
 *           (tgkill) as soon as it sees it in a ptrace stop (state t),
 *           for up to 10 s; prints "armed"; "sent N" once it is done
 *   quit    exits 0
 * End of input exits too, and so does a timeout (300 s).
 */
#include <errno.h>
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
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind {
	K_EPOLL_WAIT,
	K_EPOLL_PWAIT,
	K_EPOLL_PWAIT2,
	K_SIGTIMEDWAIT,
	K_SEMTIMEDOP,
	K_IO_URING,
	NKINDS
};

static const char *const names[NKINDS] = { "epoll_wait",   "epoll_pwait",
					   "epoll_pwait2", "rt_sigtimedwait",
					   "semtimedop",   "io_uring_enter" };

struct waiter {
	enum kind kind;
	bool timed;
	pthread_t th;
	atomic_int tid;
	atomic_ulong eintr, sig, lost, early, expired, maxms, other;
	atomic_int got_sig;
};

static struct waiter w[2 * NKINDS];
static unsigned nw;
static int epfd, semid = -1, ringfd = -1;
static unsigned ms_t = 1500;
static _Thread_local struct waiter *self;
static atomic_bool spin_on = true;
static int armfd[2] = { -1, -1 }, sentfd[2] = { -1, -1 };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_usr1(int sig)
{
	(void)sig;
	if (self)
		self->got_sig = 1;
}

/* One call; -errno or its result.  TIMEOUT_OK: what a timeout returns. */
static long call(struct waiter *x, long *timeout_ok)
{
	struct timespec ts = { ms_t / 1000, (long)(ms_t % 1000) * 1000000 };
	struct timespec *tsp = x->timed ? &ts : NULL;
	int ms = x->timed ? (int)ms_t : -1;
	struct epoll_event ev;
	sigset_t set;
	siginfo_t si;
	long r = -ENOSYS;

	*timeout_ok = 0;
	switch (x->kind) {
	case K_EPOLL_WAIT:
#ifdef SYS_epoll_wait
		r = syscall(SYS_epoll_wait, epfd, &ev, 1, ms);
#endif
		break;
	case K_EPOLL_PWAIT:
		r = syscall(SYS_epoll_pwait, epfd, &ev, 1, ms, NULL, 8);
		break;
	case K_EPOLL_PWAIT2:
		r = syscall(SYS_epoll_pwait2, epfd, &ev, 1, tsp, NULL, 8);
		break;
	case K_SIGTIMEDWAIT:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		r = syscall(SYS_rt_sigtimedwait, &set, &si, tsp, 8);
		*timeout_ok = -EAGAIN;
		break;
	case K_SEMTIMEDOP: {
		struct sembuf sb = { 0, -1, 0 };

		r = syscall(SYS_semtimedop, semid, &sb, 1, tsp);
		*timeout_ok = -EAGAIN;
		break;
	}
	case K_IO_URING: {
		struct io_uring_getevents_arg ga = { 0 };

		ga.ts = (uint64_t)(uintptr_t)tsp;
		r = syscall(SYS_io_uring_enter, ringfd, 0, 1,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &ga,
			    sizeof(ga));
		*timeout_ok = -ETIME;
		break;
	}
	default:
		break;
	}
	return r < 0 ? -errno : r;
}

static void *waiter_main(void *arg)
{
	struct waiter *x = arg;

	self = x;
	x->tid = (int)syscall(SYS_gettid);
	for (;;) {
		uint64_t t0 = now_ms(), dt;
		long ok, r = call(x, &ok);

		dt = now_ms() - t0;
		if (r == -EINTR) {
			if (x->got_sig)
				x->sig++;
			else
				x->eintr++;
		} else if (x->got_sig) {
			x->lost++;
		} else if (x->timed && r == ok) {
			x->expired++;
			if (dt + 1 < ms_t) /* ms granularity */
				x->early++;
			if (dt > x->maxms)
				x->maxms = dt;
		} else {
			x->other++;
			usleep(100000);
		}
		x->got_sig = 0;
	}
	return NULL;
}

static void *spinner(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	while (spin_on)
		n++;
	return NULL;
}

static char state_of(pid_t tid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)getppid(),
		 (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

/* The child: on each byte from armfd (the TIDs follow), watch and send. */
static _Noreturn void sender(void)
{
	pid_t tids[NKINDS], pid = getppid();
	unsigned n;

	for (;;) {
		unsigned sent = 0, i, done = 0;
		uint64_t end;

		if (read(armfd[0], &n, sizeof(n)) != sizeof(n) || n > NKINDS ||
		    read(armfd[0], tids, n * sizeof(pid_t)) !=
			    (ssize_t)(n * sizeof(pid_t)))
			_exit(0);
		end = now_ms() + 10000;
		while (done != (1u << n) - 1 && now_ms() < end) {
			for (i = 0; i < n; i++) {
				if (done & (1u << i) ||
				    state_of(tids[i]) != 't')
					continue;
				if (syscall(SYS_tgkill, pid, tids[i],
					    SIGUSR1) == 0)
					sent++;
				done |= 1u << i;
			}
			usleep(50);
		}
		if (write(sentfd[1], &sent, sizeof(sent)) != sizeof(sent))
			_exit(0);
	}
}

static unsigned count_tasks(void)
{
	char path[64];
	unsigned n = 0;
	FILE *f;
	char line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct io_uring_params p;
	unsigned i, busy = 0;
	pthread_t th;
	sigset_t set;
	char line[64];
	pid_t child;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--busy") && i + 1 < (unsigned)argc)
			busy = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ms") && i + 1 < (unsigned)argc)
			ms_t = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: see eintr-target.c\n");
			return 64;
		}
	}
	alarm(300);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(armfd) < 0 || pipe(sentfd) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		close(armfd[1]);
		close(sentfd[0]);
		sender();
	}
	if (child < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	semid = semget(IPC_PRIVATE, 1, 0600);
	memset(&p, 0, sizeof(p));
	ringfd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (epfd < 0 || semid < 0)
		return 1;
	for (i = 0; i < 2 * NKINDS; i++) {
		enum kind k = (enum kind)(i / 2);

#ifndef SYS_epoll_wait
		if (k == K_EPOLL_WAIT)
			continue;
#endif
		if (k == K_IO_URING && ringfd < 0)
			continue;
		w[nw].kind = k;
		w[nw].timed = i % 2;
		if (pthread_create(&w[nw].th, NULL, waiter_main, &w[nw]))
			return 1;
		nw++;
	}
	for (i = 0; i < busy; i++)
		if (pthread_create(&th, NULL, spinner, NULL))
			return 1;
	for (i = 0; i < nw; i++)
		while (!w[i].tid)
			usleep(1000);
	usleep(100000);
	printf("ready %d %u%s\n", (int)getpid(), count_tasks(),
	       ringfd < 0 ? " no-io_uring" : "");
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "check", 5)) {
			for (i = 0; i < nw; i++)
				printf("w %s %s %lu %lu %lu %lu %lu %lu %lu\n",
				       names[w[i].kind],
				       w[i].timed ? "timed" : "forever",
				       w[i].eintr, w[i].sig, w[i].lost,
				       w[i].early, w[i].expired, w[i].maxms,
				       w[i].other);
			printf("end\n");
		} else if (!strncmp(line, "arm", 3)) {
			pid_t tids[NKINDS];
			unsigned n = 0, sent;

			for (i = 0; i < nw; i++)
				if (!w[i].timed)
					tids[n++] = w[i].tid;
			if (write(armfd[1], &n, sizeof(n)) != sizeof(n) ||
			    write(armfd[1], tids, n * sizeof(pid_t)) !=
				    (ssize_t)(n * sizeof(pid_t)))
				return 1;
			printf("armed\n");
			if (read(sentfd[0], &sent, sizeof(sent)) !=
			    sizeof(sent))
				return 1;
			printf("sent %u\n", sent);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	spin_on = false;
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
