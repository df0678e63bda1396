// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * receiver.c - the helper's receiver thread: it serves the control socket
 * and takes part in every broadcast without ever taking a signal.
 *
 * It blocks every signal it can (glibc keeps its own 32 and 33 deliverable,
 * so the application's setuid() reaches it as any thread), so no
 * application signal ever lands here and the engine cannot signal it
 * either.  Instead it is an engine *waiter* (engine.h): every blocking wait
 * is a poll() on [eventfd, ...] bracketed by at_waiter_begin_wait() and
 * at_waiter_end_wait(); a broadcast that finds it waiting moves its state
 * word to FIXUP and writes the eventfd, and the fixup runs here when poll
 * returns.  Between waits it never blocks without a bound: sockets are
 * nonblocking, sends wait in the same bracketed poll with a deadline, so it
 * reaches a wait point within any broadcast's deadline.  This is Go's
 * sigFixup (runtime/sigqueue.go, golang/go#43149) in C.
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
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "engine.h"
#include "interpose.h"
#include "proctext.h"
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
	int efd;
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

static struct receiver rcv = { .listen_fd = -1, .efd = -1 };

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
 */
static struct {
	pthread_mutex_t lock; /* one application thread at a time */
	_Atomic int state;    /* 0 idle, 1 asked, 2 done (futex) */
	long nr, args[5];
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int efd;
} mir = { .lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1 };

/*
 * The descriptors the receiver keeps (eventfd, listening socket,
 * connections) are numbers in a table the application owns too: a daemon
 * that closes 3-1023, or dup2()s over them, would otherwise leave the
 * receiver (and the engine's wake-up write) using the application's
 * files.  fdguard.c calls at_receiver_fds_closing() before the
 * application's close(), close_range(), closefrom(), dup2() and dup3():
 * ours are moved out of the way (or, when there is nowhere to move them,
 * given up and made anew), under FD_LOCK, which the receiver holds except
 * while it waits.  For closes behind our back (raw system calls), the
 * receiver checks the identity of each descriptor before it uses it
 * (inode, or the eventfd's id) and makes anew what is no longer ours,
 * never closing a number that is not.
 */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned fd_gen;
static __thread bool in_guard;
static __thread bool guard_held; /* fd_lock taken for the application */
static struct {
	dev_t ldev;
	ino_t lino;
	long efd_id, mir_id;
	dev_t cdev[AT_CTL_MAX_CONN];
	ino_t cino[AT_CTL_MAX_CONN];
} ident;

/* The eventfd-id of FD's fdinfo (Linux 6.0), or -1. */
static long eventfd_id(int fd)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (at_proc_read(path, buf, sizeof(buf)) <= 0)
		return -1;
	return at_proc_field_long(buf, "eventfd-id", -2);
}

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
			close(n);
			n = -1;
		}
	}
	return n;
}

void at_receiver_fds_closing(unsigned a, unsigned b)
{
	bool ours;
	int i;

	if (!rcv.owner || rcv.owner != getpid() || in_guard)
		return;
	ours = in_range(rcv.efd, a, b) || in_range(rcv.listen_fd, a, b) ||
	       in_range(mir.efd, a, b);
	for (i = 0; i < rcv.nconn; i++)
		ours |= in_range(rcv.conns[i].fd, a, b);
	if (!ours)
		return;
	in_guard = true;
	pthread_mutex_lock(&fd_lock);
	if (in_range(rcv.efd, a, b)) {
		int n = move_out(rcv.efd, a, b);
		uint64_t one = 1;

		if (n < 0) {
			/* Nowhere to go: the receiver makes a new one; wake it
			 * (its poll holds the old file) and let no broadcast
			 * write to the number meanwhile. */
			rcv.w.wake_fd = -1;
			if (write(rcv.efd, &one, sizeof(one)) < 0)
				n = -1;
		}
		rcv.efd = n;
		rcv.w.wake_fd = n;
	}
	if (in_range(mir.efd, a, b))
		mir.efd = move_out(mir.efd, a, b); /* else made anew */
	if (in_range(rcv.listen_fd, a, b))
		rcv.listen_fd = move_out(rcv.listen_fd, a, b);
	for (i = 0; i < rcv.nconn; i++)
		if (in_range(rcv.conns[i].fd, a, b))
			rcv.conns[i].fd = move_out(rcv.conns[i].fd, a, b);
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

	if (rcv.efd >= 0 && eventfd_id(rcv.efd) != ident.efd_id)
		rcv.efd = rcv.w.wake_fd = -1;
	if (rcv.efd < 0) {
		rcv.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ident.efd_id = rcv.efd >= 0 ? eventfd_id(rcv.efd) : -1;
		rcv.w.wake_fd = rcv.efd;
	}
	if (mir.efd >= 0 && eventfd_id(mir.efd) != ident.mir_id)
		mir.efd = -1;
	if (mir.efd < 0) {
		mir.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ident.mir_id = mir.efd >= 0 ? eventfd_id(mir.efd) : -1;
	}
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

static void mirror_serve(void)
{
	uint64_t drain;

	while (read(mir.efd, &drain, sizeof(drain)) > 0)
		;
	if (atomic_load(&mir.state) != 1)
		return;
	if (mir.nr == SYS_capset)
		at_sys2(SYS_capset, &mir.hdr, mir.data);
	else
		at_sys6(mir.nr, mir.args[0], mir.args[1], mir.args[2],
			mir.args[3], mir.args[4], 0);
	atomic_store(&mir.state, 2);
	syscall(SYS_futex, &mir.state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void at_receiver_mirror(long nr, const long *args, const void *hdr,
			const void *data)
{
	struct timespec t, end;
	int k;

	if (!rcv.owner || rcv.owner != getpid() || mir.efd < 0 ||
	    atomic_load(&rcv.started) != 1 ||
	    (pid_t)syscall(SYS_gettid) == rcv.w.tid)
		return;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += 2;
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
	atomic_store(&mir.state, 1);
	{
		uint64_t one = 1;

		if (write(mir.efd, &one, sizeof(one)) < 0)
			atomic_store(&mir.state, 0);
	}
	/* Bounded: a receiver that cannot answer in 2 s is left as it is
	 * (the program then fares as it would have before). */
	for (k = 0; k < 20 && atomic_load(&mir.state) == 1; k++) {
		t = (struct timespec){ 0, 100000000L };
		syscall(SYS_futex, &mir.state, FUTEX_WAIT_PRIVATE, 1, &t, NULL,
			0);
	}
	atomic_store(&mir.state, 0);
	pthread_mutex_unlock(&mir.lock);
}

/*
 * The one way the receiver blocks.  FDS[0] is the eventfd.  A pending
 * fixup is run before the wait and, if one arrives meanwhile, after it.
 */
static int rcv_wait(struct pollfd *fds, nfds_t n, int ms)
{
	uint64_t drain;
	int r, k;

	unsigned gen = atomic_load(&fd_gen);
	struct pollfd all[8];
	nfds_t i;

	/* Every wait also serves the mirroring mailbox. */
	if (n + 1 > sizeof(all) / sizeof(all[0]))
		return -1;
	memcpy(all, fds, n * sizeof(*fds));
	all[n] = (struct pollfd){ .fd = mir.efd, .events = POLLIN };

	/* The application may renumber our descriptors (fds_closing())
	 * only while we wait; the numbers in FDS are then stale. */
	pthread_mutex_unlock(&fd_lock);
	for (k = 0; k < 1000 && !at_waiter_begin_wait(&rcv.w); k++)
		at_waiter_fixup(&rcv.w);
	r = at_real_poll(all, n + 1, ms);
	at_waiter_end_wait(&rcv.w);
	for (i = 0; i < n; i++)
		fds[i].revents = all[i].revents;
	if (r > 0 && (all[n].revents & POLLIN)) {
		mirror_serve();
		r--;
	}
	pthread_mutex_lock(&fd_lock);
	if (gen != atomic_load(&fd_gen)) {
		for (i = 0; i < n; i++)
			fds[i].revents = 0;
		return 0;
	}
	/* A wake-up for a fixup that already ran: drop it, or poll would
	 * return at once for ever.  The state word, not the counter, says
	 * whether a fixup is due, so nothing is lost. */
	if (r > 0 && (fds[0].revents & POLLIN))
		while (read(rcv.efd, &drain, sizeof(drain)) > 0)
			;
	return r;
}

/* Sending one reply: bounded as a whole by AT_CTL_SEND_MS. */
struct sender {
	int *fdp; /* the connection's descriptor, which may be renumbered */
	struct timespec deadline;
};

static int send_dgram(void *ctx, const void *buf, size_t len)
{
	struct sender *s = ctx;
	int n;

	for (n = 0; n < 10000; n++) {
		struct pollfd p[2] = {
			{ .fd = rcv.efd, .events = POLLIN },
			{ .fd = *s->fdp, .events = POLLOUT },
		};
		ssize_t r =
			send(*s->fdp, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int ms;

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
		rcv_wait(p, 2, ms);
		if (p[1].revents & (POLLERR | POLLHUP))
			return -EPIPE;
	}
	return -ETIMEDOUT;
}

static void drop_conn(int i)
{
	if (rcv.conns[i].fd >= 0)
		close(rcv.conns[i].fd);
	at_ctl_forget(rcv.conns[i].slot);
	rcv.nconn--;
	rcv.conns[i] = rcv.conns[rcv.nconn];
	ident.cdev[i] = ident.cdev[rcv.nconn];
	ident.cino[i] = ident.cino[rcv.nconn];
}

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
		    has_data(rcv.conns[i].fd))
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
		fd = accept4(rcv.listen_fd, NULL, NULL,
			     SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (victim >= 0) {
			if (!has_data(fd)) {
				close(fd); /* silent too: no better */
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
			close(f);
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
	struct pollfd p = { .fd = *s->fdp, .events = POLLRDHUP };
	struct timespec now;

	at_ts_now(&now);
	if (start_by_ns && at_ts_ns(&now) >= start_by_ns) {
		*why = "the request's deadline passed before it could start: "
		       "nothing changed";
		return -ETIMEDOUT;
	}
	if (poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
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
	int done_fd;
};

static void *run_main(void *arg)
{
	struct run_job *j = arg;
	uint64_t one = 1;

	prctl(PR_SET_NAME, "allthreads-run", 0, 0, 0);
	atomic_store(&j->tid, (pid_t)syscall(SYS_gettid));
	j->ret = allthreads_run(j->prog, j->timeout_ms, j->flags, j->policy,
				&j->rep);
	if (write(j->done_fd, &one, sizeof(one)) < 0)
		abort(); /* an eventfd write of 1 cannot fail */
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
	j.done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j.done_fd < 0)
		goto here;
	sigfillset(&mask);
	sigdelset(&mask, allthreads_signal());
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	r = pthread_attr_setsigmask_np(&attr, &mask);
	if (r == 0)
		r = pthread_create(&th, &attr, run_main, &j);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		close(j.done_fd);
		goto here;
	}
	/* Wait for it as a waiter (so a broadcast reaches us here); the
	 * run is bounded by its own deadline, so this ends. */
	for (k = 0; k < 1000000; k++) {
		struct pollfd p[2] = {
			{ .fd = rcv.efd, .events = POLLIN },
			{ .fd = j.done_fd, .events = POLLIN },
		};

		rcv_wait(p, 2, 1000);
		if (p[1].revents & POLLIN)
			break;
	}
	pthread_join(th, NULL);
	close(j.done_fd);
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
	struct sender s = { .fdp = &c->fd };
	struct at_ctl_hooks hooks = { .before_run = before_run,
				      .run = run_elsewhere };
	const struct at_ctl_hdr *hdr;
	char why[160] = "";
	char *msg;
	bool ok, proof;
	ssize_t n;

	if (!have_buffers())
		return false;
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
	struct pollfd fds[2 + AT_CTL_MAX_CONN];
	unsigned long loops;

	(void)arg;
	prctl(PR_SET_NAME, "allthreads-rcv", 0, 0, 0);
	rcv.w.wake_fd = rcv.efd;
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

		fds[n++] = (struct pollfd){ .fd = rcv.efd, .events = POLLIN };
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
				keep = has_data(rcv.conns[i].fd) &&
				       serve_conn(i);
			if (!keep)
				drop_conn(i);
		}
		if (base == 2 && (fds[1].revents & POLLIN))
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
	mir.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rcv.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rcv.efd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = at_ctl_socket_path(rcv.path, sizeof(rcv.path));
	if (ret < 0)
		goto out_efd;
	rcv.listen_fd = at_ctl_listen(rcv.path);
	if (rcv.listen_fd < 0) {
		ret = rcv.listen_fd;
		goto out_efd;
	}
	rcv.owner = getpid();
	ident.efd_id = eventfd_id(rcv.efd);
	ident.mir_id = eventfd_id(mir.efd);
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
	close(rcv.listen_fd);
	rcv.listen_fd = -1;
out_efd:
	close(rcv.efd);
	rcv.efd = -1;
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
	if (rcv.listen_fd >= 0)
		close(rcv.listen_fd);
	rcv.listen_fd = -1;
	for (i = 0; i < rcv.nconn; i++)
		if (rcv.conns[i].fd >= 0)
			close(rcv.conns[i].fd);
	rcv.nconn = 0;
	/* The eventfds too: a child makes its own when it starts one. */
	if (rcv.efd >= 0)
		close(rcv.efd);
	if (mir.efd >= 0)
		close(mir.efd);
	rcv.efd = mir.efd = -1;
	rcv.w.wake_fd = -1;
	atomic_store(&rcv.started, 0);
	atomic_store(&rcv.cleaned, false);
	/* The parent's lock state means nothing here (a child of fork()
	 * has one thread: ours). */
	pthread_mutex_init(&fd_lock, NULL);
	pthread_mutex_init(&mir.lock, NULL);
}
