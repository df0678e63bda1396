// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * receiver.c - the helper's receiver thread: it serves the control socket
 * and takes part in every broadcast without ever taking a signal.
 *
 * It blocks every signal it can (glibc keeps its own 32 and 33 deliverable,
 * so the application's setuid() reaches it as any thread), so no
 * application signal ever lands here.  It is an engine *waiter* (engine.h):
 * every blocking wait is one ppoll() on its sockets, bracketed by
 * at_waiter_begin_wait() and at_waiter_end_wait(), whose signal mask lets
 * in the engine's signal alone; a broadcast that finds it waiting moves its
 * state word to FIXUP and kicks it (that signal, queued for this thread),
 * and the fixup runs here when ppoll returns.  The application's threads
 * ask it for a mirrored capability call (below) the same way.  So nothing
 * wakes it through a descriptor: no number the application can close or
 * reuse is ever written to.  Between waits it never blocks without a
 * bound: sockets are nonblocking, sends wait in the same bracketed ppoll
 * with a deadline, so it reaches a wait point within any broadcast's
 * deadline.  This is Go's sigFixup (runtime/sigqueue.go, golang/go#43149)
 * in C.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "engine.h"
#include "helper-facts.h"
#include "interpose.h"
#include "rawsys.h"
#include "receiver.h"
#include "report.h"
#include "timespec.h"

struct conn {
	int fd;
	struct timespec idle_deadline;
	bool proven;   /* has sent an authorised request */
	bool greeted;  /* has had its hello */
	unsigned slot; /* its secret (ctl.c), 0 .. AT_CTL_MAX_CONN - 1 */
};

struct receiver {
	int listen_fd;
	struct at_waiter w;
	bool raw_ok;
	char path[108];
	pid_t owner;	     /* the process that made the socket */
	_Atomic int started; /* 1 registered as a waiter, -1 could not */
	_Atomic bool cleaned;
	void *msg; /* AT_CTL_MAX_MSG, the request being served */
	void *out; /* AT_CTL_MAX_DGRAM, one reply datagram */
	struct at_ctl_scratch *scratch;
	struct conn conns[AT_CTL_MAX_CONN];
	int nconn;
};

static struct receiver rcv = { .listen_fd = -1 };

/*
 * Mirroring (issue 11.2).  glibc's setuid() and friends run the call on
 * every thread (SIGSETXID) and abort the process if the threads' results
 * differ.  A program that changes capabilities on its own thread only
 * (setpriv, libcap-ng: prctl(PR_SET_KEEPCAPS), then setresuid(), then
 * capset() to get the effective set back, then setresgid()) works while
 * it is single-threaded; with the receiver beside it, the receiver has
 * lost its capabilities at setresuid() and setresgid() fails there: abort.
 * So the receiver follows the application's per-thread capability state:
 * mirror.c hands each successful capset() and capability prctl() to
 * at_receiver_mirror(), and the receiver makes the same call on itself
 * before the application goes on.  (Run threads are made from the
 * receiver and inherit its state.)
 *
 * The mailbox is memory alone: the asking thread fills it, publishes it in
 * the futex word WORD and kicks the receiver (at_waiter_kick(), a signal,
 * not a descriptor).  WORD is a sequence number times 4 plus MIR_*; the
 * receiver copies the request, then claims it by compare-and-swap from
 * exactly the number it read, so a request withdrawn (the asker gave up)
 * or replaced while it was copied is never made.
 */
enum { MIR_IDLE, MIR_ASKED, MIR_DONE, MIR_CLAIMED };
#define MIR_ASK_MS 2000

static struct {
	pthread_mutex_t lock; /* one application thread at a time */
	_Atomic int word;     /* seq * 4 + MIR_* (futex) */
	long nr, args[5];
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
} mir = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * The descriptors the receiver keeps (the listening socket, connections)
 * are numbers in a table the application owns too: a daemon that closes
 * 3-1023, or dup2()s over them, would otherwise leave the receiver using
 * the application's files.  fdguard.c calls at_receiver_fds_closing()
 * before the application's close(), close_range(), closefrom(), dup2() and
 * dup3(): ours are moved out of the way (or, when there is nowhere to move
 * them, given up and made anew), under FD_LOCK, which the receiver holds
 * except while it waits.  For closes behind our back (raw system calls),
 * every use of one of ours (accept, receive, send, close) is preceded by
 * a check of its identity (device and inode, noted when it was made): what
 * is no longer ours is forgotten, never read, written or closed, and what
 * was lost is made anew.
 */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned fd_gen;
static __thread bool in_guard;
static __thread bool guard_held; /* fd_lock taken for the application */
static struct {
	dev_t ldev;
	ino_t lino;
	dev_t cdev[AT_CTL_MAX_CONN];
	ino_t cino[AT_CTL_MAX_CONN];
} ident;

static bool same_file(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
}

static void note_file(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

static bool in_range(int fd, unsigned a, unsigned b)
{
	return fd >= 0 && (unsigned)fd >= a && (unsigned)fd <= b;
}

/* A number for the file of FD outside [A, B], or -1. */
static int move_out(int fd, unsigned a, unsigned b)
{
	int n = -1;

	if (b < 1u << 20)
		n = fcntl(fd, F_DUPFD_CLOEXEC, (int)b + 1);
	if (n < 0 && a > 3) {
		n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (n >= (int)a) {
			at_sys1(SYS_close, n);
			n = -1;
		}
	}
	return n;
}

void at_receiver_fds_closing(unsigned a, unsigned b)
{
	bool ours, lost = false;
	int i;

	if (!rcv.owner || rcv.owner != getpid() || in_guard)
		return;
	ours = in_range(rcv.listen_fd, a, b);
	for (i = 0; i < rcv.nconn; i++)
		ours |= in_range(rcv.conns[i].fd, a, b);
	if (!ours)
		return;
	in_guard = true;
	pthread_mutex_lock(&fd_lock);
	if (in_range(rcv.listen_fd, a, b)) {
		rcv.listen_fd = move_out(rcv.listen_fd, a, b);
		lost |= rcv.listen_fd < 0;
	}
	for (i = 0; i < rcv.nconn; i++)
		if (in_range(rcv.conns[i].fd, a, b))
			rcv.conns[i].fd = move_out(rcv.conns[i].fd, a, b);
	/* Nowhere to go: the receiver's ppoll still holds the old listening
	 * socket, which is about to close; wake it to make a new one. */
	if (lost)
		at_waiter_kick(&rcv.w);
	/* Held until the application's call has run (at_receiver_fds_done()):
	 * nothing of ours may be made anew before the old numbers are gone,
	 * or the call would close the new ones. */
	atomic_fetch_add(&fd_gen, 1);
	guard_held = true;
}

void at_receiver_fds_done(void)
{
	if (!guard_held)
		return;
	guard_held = false;
	atomic_fetch_add(&fd_gen, 1);
	pthread_mutex_unlock(&fd_lock);
	in_guard = false;
}

/* Before each round: what is no longer ours is forgotten (not closed: the
 * number is the application's now) and made anew. */
static void check_fds(void)
{
	int i;

	if (rcv.listen_fd >= 0 &&
	    !same_file(rcv.listen_fd, ident.ldev, ident.lino))
		rcv.listen_fd = -1;
	if (rcv.listen_fd < 0) {
		rcv.listen_fd = at_ctl_listen(rcv.path);
		if (rcv.listen_fd >= 0)
			note_file(rcv.listen_fd, &ident.ldev, &ident.lino);
	}
	for (i = 0; i < rcv.nconn; i++)
		if (!same_file(rcv.conns[i].fd, ident.cdev[i], ident.cino[i]))
			rcv.conns[i].fd = -1; /* dropped below, unclosed */
}

/* Connection I's descriptor if it is still ours, else -1 (forgotten,
 * and dropped unclosed by the main loop).  Called before every use. */
static int conn_fd(int i)
{
	if (rcv.conns[i].fd >= 0 &&
	    !same_file(rcv.conns[i].fd, ident.cdev[i], ident.cino[i]))
		rcv.conns[i].fd = -1;
	return rcv.conns[i].fd;
}

/* The listening socket if it is still ours, else -1 (made anew by the
 * main loop). */
static int listen_fd(void)
{
	if (rcv.listen_fd >= 0 &&
	    !same_file(rcv.listen_fd, ident.ldev, ident.lino))
		rcv.listen_fd = -1;
	return rcv.listen_fd;
}

/* Make the application's pending capability call here, if one is asked. */
static void mirror_serve(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	long nr, args[5];
	int w = atomic_load(&mir.word);

	if ((w & 3) != MIR_ASKED)
		return;
	nr = mir.nr;
	memcpy(args, mir.args, sizeof(args));
	memcpy(&hdr, &mir.hdr, sizeof(hdr));
	memcpy(data, mir.data, sizeof(data));
	/* Claimed only if it is still the request that was copied. */
	if (!atomic_compare_exchange_strong(&mir.word, &w,
					    (w & ~3) | MIR_CLAIMED))
		return;
	if (nr == SYS_capset)
		at_sys2(SYS_capset, &hdr, data);
	else
		at_sys6(nr, args[0], args[1], args[2], args[3], args[4], 0);
	w = (w & ~3) | MIR_CLAIMED;
	if (atomic_compare_exchange_strong(&mir.word, &w, (w & ~3) | MIR_DONE))
		syscall(SYS_futex, &mir.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
			0);
}

void at_receiver_mirror(long nr, const long *args, const void *hdr,
			const void *data)
{
	struct timespec end;
	int seq, w;

	if (!rcv.owner || rcv.owner != getpid() ||
	    atomic_load(&rcv.started) != 1 ||
	    (pid_t)syscall(SYS_gettid) == rcv.w.tid)
		return;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += MIR_ASK_MS / 1000;
	if (pthread_mutex_timedlock(&mir.lock, &end) != 0)
		return;
	mir.nr = nr;
	if (nr == SYS_capset) {
		memcpy(&mir.hdr, hdr, sizeof(mir.hdr));
		mir.hdr.pid = 0;
		memcpy(mir.data, data,
		       mir.hdr.version == _LINUX_CAPABILITY_VERSION_1 ?
			       sizeof(mir.data[0]) :
			       sizeof(mir.data));
	} else {
		memcpy(mir.args, args, sizeof(mir.args));
	}
	seq = (int)(((unsigned)atomic_load(&mir.word) + 4u) & 0x7ffffffcu);
	atomic_store(&mir.word, seq | MIR_ASKED);
	/* Bounded: a receiver that cannot answer in MIR_ASK_MS is left as it
	 * is (the program then fares as it would have without mirroring). */
	at_ts_after_ms(&end, MIR_ASK_MS);
	for (;;) {
		struct timespec slice = { 0, 100000000L };

		w = atomic_load(&mir.word);
		if (w != (seq | MIR_ASKED) && w != (seq | MIR_CLAIMED))
			break; /* done */
		if (at_ts_past(&end))
			break;
		/* Again each slice: a kick the full signal queue refused. */
		if (w == (seq | MIR_ASKED))
			at_waiter_kick(&rcv.w);
		syscall(SYS_futex, &mir.word, FUTEX_WAIT_PRIVATE, w, &slice,
			NULL, 0);
	}
	/* Withdrawn if the receiver has not taken it (a claimed one is made
	 * from its copy, and its answer is then ignored). */
	w = seq | MIR_ASKED;
	atomic_compare_exchange_strong(&mir.word, &w, seq | MIR_IDLE);
	pthread_mutex_unlock(&mir.lock);
}

/*
 * The one way the receiver blocks: ppoll(2) on FDS (which may be none),
 * MS milliseconds at most (-1: no bound), with the engine's signal let in
 * (everything else as blocked as always), so that a kick (a broadcast's, a mirror request's, the run
 * thread's) ends it.  A pending fixup is run before the wait and, if one
 * arrives meanwhile, after it; so is a pending mirror request.  The raw
 * system call: the interposed ppoll would hide the kick's EINTR.
 */
static int rcv_wait(struct pollfd *fds, nfds_t n, int ms)
{
	uint64_t mask = 0;
	unsigned gen = atomic_load(&fd_gen);
	struct timespec t, *tp = NULL;
	nfds_t i;
	long r;
	int k;

	if (ms >= 0) {
		t.tv_sec = ms / 1000;
		t.tv_nsec = (long)(ms % 1000) * 1000000L;
		tp = &t;
	}
	/* Our mask less the engine's signal: glibc's own signals (its
	 * set*id broadcast) stay deliverable, as they are outside waits. */
	at_sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, sizeof(mask));
	mask &= ~(1ULL << (allthreads_signal() - 1));
	mirror_serve();
	/* The application may renumber our descriptors (fds_closing())
	 * only while we wait; the numbers in FDS are then stale. */
	pthread_mutex_unlock(&fd_lock);
	for (k = 0; k < 1000 && !at_waiter_begin_wait(&rcv.w); k++)
		at_waiter_fixup(&rcv.w);
	r = at_sys6(SYS_ppoll, (long)fds, (long)n, (long)tp, (long)&mask,
		    sizeof(mask), 0);
	at_waiter_end_wait(&rcv.w);
	mirror_serve();
	pthread_mutex_lock(&fd_lock);
	if (r < 0) {
		for (i = 0; i < n; i++)
			fds[i].revents = 0;
		errno = (int)-r;
		return -1;
	}
	if (gen != atomic_load(&fd_gen)) {
		for (i = 0; i < n; i++)
			fds[i].revents = 0;
		return 0;
	}
	return (int)r;
}

/* Sending one reply: bounded as a whole by AT_CTL_SEND_MS. */
struct sender {
	int conn; /* its index; the descriptor may be renumbered, or lost */
	struct timespec deadline;
};

static int send_dgram(void *ctx, const void *buf, size_t len)
{
	struct sender *s = ctx;
	int n;

	for (n = 0; n < 10000; n++) {
		int fd = conn_fd(s->conn), ms;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t r;

		if (fd < 0)
			return -EPIPE; /* not ours any more: not a byte */
		r = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r == (ssize_t)len)
			return 0;
		if (r >= 0)
			return -EMSGSIZE; /* cannot happen on SEQPACKET */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -errno;
		ms = at_ts_ms_until(&s->deadline, AT_HOUR_MS);
		if (ms == 0)
			return -ETIMEDOUT;
		rcv_wait(&p, 1, ms);
		if (p.revents & (POLLERR | POLLHUP))
			return -EPIPE;
	}
	return -ETIMEDOUT;
}

static void drop_conn(int i)
{
	if (conn_fd(i) >= 0)
		at_sys1(SYS_close, rcv.conns[i].fd);
	at_ctl_forget(rcv.conns[i].slot);
	rcv.nconn--;
	rcv.conns[i] = rcv.conns[rcv.nconn];
	ident.cdev[i] = ident.cdev[rcv.nconn];
	ident.cino[i] = ident.cino[rcv.nconn];
}

/* FD readable now?  (A negative FD, a lost one, is not.) */
static bool has_data(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Index of the silent connection (no authorised request yet, and nothing
 * waiting to be read) that has waited longest, or -1. */
static int oldest_silent(void)
{
	int i, victim = -1;

	for (i = 0; i < rcv.nconn; i++) {
		/* A greeted client spoke first and is sending its proof. */
		if (rcv.conns[i].proven || rcv.conns[i].greeted ||
		    has_data(conn_fd(i)))
			continue;
		if (victim < 0 ||
		    at_ts_ms_until(&rcv.conns[i].idle_deadline, AT_HOUR_MS) <
			    at_ts_ms_until(&rcv.conns[victim].idle_deadline,
					   AT_HOUR_MS))
			victim = i;
	}
	return victim;
}

/* A secret slot that no live connection has. */
static unsigned free_slot(void)
{
	unsigned slot;
	int i;

	for (slot = 0; slot < AT_CTL_MAX_CONN; slot++) {
		for (i = 0; i < rcv.nconn && rcv.conns[i].slot != slot; i++)
			;
		if (i == rcv.nconn)
			break;
	}
	return slot;
}

/*
 * Take what waits in the backlog.  Anyone who can reach the socket can
 * open connections and say nothing; so that such connections cannot keep
 * out a caller who may drive us, the backlog is drained at once: a new
 * connection whose request is already there (a real client sends as soon
 * as it is connected) takes a slot, evicting a silent one if need be; a
 * silent newcomer gets a free slot or is closed.
 */
static void accept_new(void)
{
	int k, victim;

	for (k = 0; k < 64; k++) {
		int fd;

		/* Every slot busy with a real client: leave the backlog be. */
		victim = rcv.nconn < AT_CTL_MAX_CONN ? -1 : oldest_silent();
		if (rcv.nconn >= AT_CTL_MAX_CONN && victim < 0)
			return;
		if (listen_fd() < 0)
			return; /* made anew by the main loop */
		fd = accept4(rcv.listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (victim >= 0) {
			if (!has_data(fd)) {
				at_sys1(SYS_close,
					fd); /* silent too: no better */
				continue;
			}
			drop_conn(victim);
		}
		rcv.conns[rcv.nconn].fd = fd;
		note_file(fd, &ident.cdev[rcv.nconn], &ident.cino[rcv.nconn]);
		rcv.conns[rcv.nconn].proven = false;
		rcv.conns[rcv.nconn].greeted = false;
		rcv.conns[rcv.nconn].slot = free_slot();
		at_ts_after_ms(&rcv.conns[rcv.nconn].idle_deadline,
			       AT_CTL_FIRST_MS);
		rcv.nconn++;
	}
}

/* The buffers for serving requests, made at the first request: an idle
 * helper costs the program as little memory as it can. */
static bool have_buffers(void)
{
	if (!rcv.msg)
		rcv.msg = malloc(AT_CTL_MAX_MSG);
	if (!rcv.out)
		rcv.out = malloc(AT_CTL_MAX_DGRAM);
	if (!rcv.scratch)
		rcv.scratch = malloc(sizeof(*rcv.scratch));
	return rcv.msg && rcv.out && rcv.scratch;
}

/* One request datagram into rcv.msg (its real length, even if longer than
 * the buffer).  No descriptor is wanted: any that came is closed. */
static ssize_t recv_request(int fd)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = rcv.msg, .iov_len = AT_CTL_MAX_MSG };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t k, nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfd; k++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(f));
			at_sys1(SYS_close, f);
		}
	}
	return n;
}

/* Just before a run: drop a request whose start-by deadline has passed
 * (a client that gave up on it, or a process stopped meanwhile), or whose
 * client has gone. */
static int before_run(void *ctx, uint64_t start_by_ns, const char **why)
{
	struct sender *s = ctx;
	struct pollfd p = { .fd = conn_fd(s->conn), .events = POLLRDHUP };
	struct timespec now;

	at_ts_now(&now);
	if (start_by_ns && at_ts_ns(&now) >= start_by_ns) {
		*why = "the request's deadline passed before it could start: "
		       "nothing changed";
		return -ETIMEDOUT;
	}
	if (p.fd < 0 || (poll(&p, 1, 0) == 1 &&
			 (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
		*why = "the client went away before the run: nothing changed";
		return -ECONNRESET;
	}
	return 0;
}

/*
 * The canary.  allthreads_run() runs the steps on the calling thread
 * first, alone, and stops there if they fail.  Were that the receiver, a
 * one-way recipe failing at a later step (setresuid to another user, then
 * a capability step that fails) would leave the receiver itself changed
 * and unable to undo it or serve the next request.  So every run is made
 * by a fresh thread that the receiver creates for it: it inherits the
 * receiver's credentials (the process's), is the canary, and exits when
 * the run is over, taking any half-made change of its own with it.  The
 * receiver takes part in the run as any thread.  The run thread has the
 * engine's signal deliverable (so an in-process broadcast reaches it) and
 * every other signal blocked.  Its row is left out of the report unless
 * it carries the failure (the thread no longer exists).
 */
struct run_job {
	const struct allthreads_prog *prog;
	unsigned timeout_ms, flags;
	enum allthreads_mismatch policy;
	struct allthreads_report *rep;
	int ret;
	_Atomic pid_t tid;
	_Atomic bool done; /* then the receiver is kicked */
};

static void *run_main(void *arg)
{
	struct run_job *j = arg;

	at_sys2(SYS_prctl, PR_SET_NAME, AT_RUNNER_COMM);
	atomic_store(&j->tid, (pid_t)syscall(SYS_gettid));
	j->ret = allthreads_run(j->prog, j->timeout_ms, j->flags, j->policy,
				&j->rep);
	atomic_store(&j->done, true);
	/* Refused only when the signal queue is full: the receiver looks
	 * again each second anyway. */
	at_waiter_kick(&rcv.w);
	return NULL;
}

static int run_elsewhere(void *ctx, const struct allthreads_prog *prog,
			 unsigned timeout_ms, unsigned flags,
			 enum allthreads_mismatch policy,
			 struct allthreads_report **rep, pid_t *hide)
{
	struct run_job j = { .prog = prog,
			     .timeout_ms = timeout_ms,
			     .flags = flags,
			     .policy = policy };
	pthread_attr_t attr;
	pthread_t th;
	sigset_t mask;
	unsigned i, n;
	int k, r;

	(void)ctx;
	sigfillset(&mask);
	sigdelset(&mask, allthreads_signal());
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	r = pthread_attr_setsigmask_np(&attr, &mask);
	if (r == 0)
		r = pthread_create(&th, &attr, run_main, &j);
	pthread_attr_destroy(&attr);
	if (r != 0)
		goto here;
	/* Wait for it as a waiter (so a broadcast reaches us here); the
	 * run is bounded by its own deadline, so this ends. */
	for (k = 0; k < 1000000 && !atomic_load(&j.done); k++)
		rcv_wait(NULL, 0, 1000);
	pthread_join(th, NULL);
	/* pthread_join() returns once the kernel cleared the thread's TID,
	 * a moment before /proc stops listing it: wait for that (bounded),
	 * so that the caller's /proc check after the reply never sees it. */
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%d",
			 (int)atomic_load(&j.tid));
		for (k = 0; k < 2000 && access(path, F_OK) == 0; k++) {
			struct timespec t = { 0, 50000L };

			nanosleep(&t, NULL);
		}
	}
	*rep = j.rep;
	n = j.rep ? j.rep->nthreads : 0;
	for (i = 0; i < n; i++) {
		struct at_rthread *t = &j.rep->t[i];
		unsigned o;
		bool others = false;

		if (t->tid != atomic_load(&j.tid))
			continue;
		if (t->state != ALLTHREADS_T_FAILED) {
			*hide = t->tid;
			break;
		}
		/* The canary failed and is gone: if it was the only thread
		 * left changed, nothing that still exists changed. */
		for (o = 0; o < n; o++)
			others |= o != i &&
				  (j.rep->t[o].state == ALLTHREADS_T_OK ||
				   j.rep->t[o].left);
		if (t->left && !others) {
			t->left = 0;
			snprintf(t->why, sizeof(t->why), "%s",
				 "the helper's run thread: it failed, and its "
				 "change ended with it");
			j.rep->verdict = ALLTHREADS_FAILED;
		}
		break;
	}
	return j.ret;
here:
	return allthreads_run(prog, timeout_ms, flags, policy, rep);
}

/* Serve what arrived on connection I; false if it is done with. */
static bool serve_conn(int i)
{
	struct conn *c = &rcv.conns[i];
	struct sender s = { .conn = i };
	struct at_ctl_hooks hooks = { .before_run = before_run,
				      .run = run_elsewhere };
	const struct at_ctl_hdr *hdr;
	char why[160] = "";
	char *msg;
	bool ok, proof;
	ssize_t n;

	if (!have_buffers())
		return false;
	if (conn_fd(i) < 0)
		return false; /* not ours any more: never read */
	n = recv_request(c->fd);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		/* EOF, or an empty datagram (SEQPACKET has both); either way
		 * whatever descriptor came with it is closed. */
		struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

		if (poll(&p, 1, 0) == 1 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return false; /* the client went away */
		at_ts_after_ms(&s.deadline, AT_CTL_SEND_MS);
		at_ctl_send_error(-EBADMSG, "empty message", rcv.out,
				  send_dgram, &s);
		return false;
	}
	at_ts_after_ms(&s.deadline, AT_CTL_SEND_MS);
	hdr = rcv.msg;
	proof = n >= (ssize_t)sizeof(struct at_ctl_proof) &&
		hdr->magic == AT_CTL_MAGIC && hdr->op == AT_CTL_REQ_PROOF;
	if (!proof && !c->greeted) {
		/* A request without its proof: the client first wants to
		 * know that it is talking to this process (the kernel puts
		 * our credentials on the hello), and the hello is the
		 * challenge.  It sends the request again, behind the answer,
		 * on this connection. */
		c->greeted = true;
		at_ts_after_ms(&c->idle_deadline, AT_CTL_IDLE_MS);
		return at_ctl_send_hello(c->slot, rcv.out, send_dgram, &s) == 0;
	}
	msg = rcv.msg;
	if (proof) {
		ok = at_ctl_authorize(c->slot, msg, (size_t)n, why,
				      sizeof(why)) == 0;
		msg += sizeof(struct at_ctl_proof);
		/* A truncated datagram stays one (at_ctl_serve() then
		 * reads nothing of it). */
		n = n > AT_CTL_MAX_MSG ?
			    AT_CTL_MAX_MSG + 1 :
			    n - (ssize_t)sizeof(struct at_ctl_proof);
	} else {
		ok = at_ctl_authorize(c->slot, NULL, 0, why, sizeof(why)) == 0;
	}
	hooks.ctx = &s;
	if (at_ctl_serve_hooked(msg, (size_t)n, ok, why, rcv.raw_ok,
				rcv.scratch, rcv.out, send_dgram, &s,
				&hooks) < 0)
		return false;
	if (!ok)
		return false;
	c->proven = true;
	at_ts_after_ms(&c->idle_deadline, AT_CTL_IDLE_MS);
	return true;
}

static void *receiver_main(void *arg)
{
	struct pollfd fds[1 + AT_CTL_MAX_CONN];
	unsigned long loops;

	(void)arg;
	at_sys2(SYS_prctl, PR_SET_NAME, AT_RECEIVER_COMM);
	if (at_waiter_register(&rcv.w) < 0) {
		atomic_store(&rcv.started, -1);
		return NULL;
	}
	/* Our own closes need no moving (and we hold the lock). */
	in_guard = true;
	pthread_mutex_lock(&fd_lock);
	atomic_store(&rcv.started, 1);
	for (loops = 0;; loops++) {
		int i, n = 0, ms = -1, base;

		check_fds();
		for (i = rcv.nconn - 1; i >= 0; i--)
			if (rcv.conns[i].fd < 0)
				drop_conn(i);

		if (rcv.nconn < AT_CTL_MAX_CONN)
			fds[n++] = (struct pollfd){ .fd = rcv.listen_fd,
						    .events = POLLIN };
		base = n;
		for (i = 0; i < rcv.nconn; i++) {
			int left = at_ts_ms_until(&rcv.conns[i].idle_deadline,
						  AT_HOUR_MS);

			fds[n++] = (struct pollfd){ .fd = rcv.conns[i].fd,
						    .events = POLLIN };
			if (ms < 0 || left < ms)
				ms = left;
		}
		if (rcv_wait(fds, (nfds_t)n, ms) < 0 && errno != EINTR) {
			struct timespec rest = { 0, 10000000L };

			nanosleep(&rest, NULL); /* never spin */
			continue;
		}
		/* Connections first (their indices are still good), from the
		 * last so that dropping one moves only served ones. */
		for (i = rcv.nconn - 1; i >= 0; i--) {
			short re = fds[base + i].revents;
			bool keep = true;

			if (re & POLLIN)
				keep = serve_conn(i);
			else if (re & (POLLHUP | POLLERR | POLLNVAL))
				keep = false;
			else if (at_ts_ms_until(&rcv.conns[i].idle_deadline,
						AT_HOUR_MS) == 0)
				/* A stopped process wakes with its deadlines
				 * past: what is already there is still read
				 * (and its own deadline judged). */
				keep = has_data(conn_fd(i)) && serve_conn(i);
			if (!keep)
				drop_conn(i);
		}
		if (base == 1 && (fds[0].revents & POLLIN))
			accept_new();
	}
	return NULL;
}

int at_receiver_start(bool raw_ok)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t th;
	int ret, k;

	rcv.raw_ok = raw_ok;
	ret = at_ctl_auth_init();
	if (ret < 0)
		return ret;
	ret = at_ctl_socket_path(rcv.path, sizeof(rcv.path));
	if (ret < 0)
		goto out_free;
	rcv.listen_fd = at_ctl_listen(rcv.path);
	if (rcv.listen_fd < 0) {
		ret = rcv.listen_fd;
		goto out_free;
	}
	rcv.owner = getpid();
	note_file(rcv.listen_fd, &ident.ldev, &ident.lino);

	/* The thread starts with everything blocked: no window in which a
	 * signal could land on it. */
	sigfillset(&all);
	at_real_pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	ret = -pthread_create(&th, &attr, receiver_main, NULL);
	pthread_attr_destroy(&attr);
	at_real_pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		goto out_listen;
	/* Until it is registered as a waiter, a broadcast would signal it
	 * and wait for ever (it blocks the signal): wait for that, bounded. */
	for (k = 0; k < 20000 && atomic_load(&rcv.started) == 0; k++) {
		struct timespec t = { 0, 100000L };

		nanosleep(&t, NULL);
	}
	return atomic_load(&rcv.started) == 1 ? 0 : -EAGAIN;

out_listen:
	at_receiver_cleanup();
	at_sys1(SYS_close, rcv.listen_fd);
	rcv.listen_fd = -1;
out_free:
	free(rcv.msg);
	free(rcv.out);
	free(rcv.scratch);
	rcv.msg = rcv.out = NULL;
	rcv.scratch = NULL;
	return ret;
}

void at_receiver_cleanup(void)
{
	if (!rcv.owner || rcv.owner != getpid())
		return;
	if (atomic_exchange(&rcv.cleaned, true))
		return;
	unlink(rcv.path);
}

void at_receiver_forget(void)
{
	int i;

	rcv.owner = 0;
	/* Closed only where they are still ours: the parent may have
	 * closed one behind our back and reused its number before the fork. */
	if (listen_fd() >= 0)
		at_sys1(SYS_close, rcv.listen_fd);
	rcv.listen_fd = -1;
	for (i = 0; i < rcv.nconn; i++)
		if (conn_fd(i) >= 0)
			at_sys1(SYS_close, rcv.conns[i].fd);
	rcv.nconn = 0;
	atomic_store(&mir.word, MIR_IDLE);
	atomic_store(&rcv.started, 0);
	atomic_store(&rcv.cleaned, false);
	/* The parent's lock state means nothing here (a child of fork()
	 * has one thread: ours). */
	pthread_mutex_init(&fd_lock, NULL);
	pthread_mutex_init(&mir.lock, NULL);
}
