// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-client.c - the client's side of the control channel: one call to
 * a helper with a request (ctl-request.c makes it), phase by phase (the
 * target fixed, the socket's path trusted (ctl-trust.c), the greeting,
 * the proof, the reply read back into a struct allthreads_report).  Part of the internal library
 * (lib/meson.build): allthreads_target_*() (target.c) and the tests call
 * it; see ctl-client.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl-client.h"
#include "ctl-trust.h"
#include "ctl-proto.h"
#include "proctext.h"
#include "report.h"
#include "step-pack.h"
#include "sysret.h"
#include "timespec.h"

/* Older headers: the numbers are the kernel's (include/uapi/asm-generic/
 * socket.h, include/linux/socket.h, include/uapi/linux/magic.h). */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
#ifdef PID_FS_MAGIC
#define AT_PIDFS_MAGIC PID_FS_MAGIC
#else
#define AT_PIDFS_MAGIC 0x50494446
#endif

/* Connections a client opens for one request when the helper closes
 * them before answering (every slot busy): each try waits a little
 * longer, 2 ms more than the last. */
#define AT_CTL_GREET_TRIES 30

/* --- one call ------------------------------------------------------------------ */

/* Connect to NAME in the directory DIRFD (an O_PATH descriptor of a
 * directory already checked, so any length works and nothing is looked
 * up again by name on the way), nonblocking, asking for the peer's
 * credentials and pidfd on every message; waits while the helper's
 * backlog is full. */
static int connect_to(int dirfd, const char *name,
		      const struct timespec *deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r, n, one = 1;

	if (strlen(name) > 64)
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd,
		 name);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Linux 6.5 and later: a pidfd of the sender with each message. */
	setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one));
	for (n = 0; n < 100000; n++) {
		struct timespec rest = { 0, 2000000L };

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
		if (at_ts_ms_until(deadline, AT_HOUR_MS) == 0) {
			errno = ETIMEDOUT;
			break;
		}
		nanosleep(&rest, NULL);
	}
	r = -errno;
	close(fd);
	return r;
}

/* A nonblocking receive on FD failed (errno says why): 0 once FD may have
 * more to read (a wait bounded by DEADLINE), or -errno to give up with. */
static int recv_wait(int fd, const struct timespec *deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ms;

	if (errno == ECONNRESET)
		return -EPIPE;
	if (errno != EAGAIN && errno != EINTR)
		return -errno;
	ms = at_ts_ms_until(deadline, AT_HOUR_MS);
	if (ms == 0)
		return -ETIMEDOUT;
	poll(&p, 1, ms);
	return 0;
}

/* One datagram into BUF (LEN bytes); its size, or -errno. */
static long recv_dgram(int fd, void *buf, size_t len,
		       const struct timespec *deadline)
{
	int n, w;

	for (n = 0; n < 100000; n++) {
		ssize_t r = recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);

		if (r > (ssize_t)len)
			return -EMSGSIZE;
		if (r == 0)
			return -EPIPE; /* the helper went away */
		if (r > 0)
			return r;
		w = recv_wait(fd, deadline);
		if (w < 0)
			return w;
	}
	return -ETIMEDOUT;
}

static bool hdr_ok(const void *buf, long n, uint16_t op, uint32_t seq)
{
	const struct at_ctl_hdr *h = buf;

	return n >= (long)sizeof(*h) && h->magic == AT_CTL_MAGIC &&
	       h->version == AT_CTL_VERSION && h->op == op &&
	       h->len == (uint32_t)n && h->seq == seq;
}

static int read_rows(const struct at_ctl_rep_rows *rows, long n,
		     struct allthreads_report *rep, unsigned *next)
{
	size_t rowsz = sizeof(struct at_ctl_row) + (size_t)rep->nsteps * 8;
	const uint8_t *p = (const uint8_t *)(rows + 1);
	unsigned i, s;

	if (n < (long)sizeof(*rows) || rows->first != *next ||
	    rows->count == 0 || rows->count > rep->nthreads - *next ||
	    (size_t)n != sizeof(*rows) + rows->count * rowsz)
		return -EBADMSG;
	for (i = 0; i < rows->count; i++, p += rowsz) {
		const struct at_ctl_row *row = (const struct at_ctl_row *)p;
		const int64_t *res = (const int64_t *)(row + 1);
		struct at_rthread *t = &rep->t[*next];

		t->tid = row->tid;
		t->state = row->state;
		t->nrun = row->nrun;
		t->failed_step = row->failed_step;
		t->left = row->left;
		_Static_assert(sizeof(row->why) == AT_WHY_LEN &&
				       sizeof(t->why) == AT_WHY_LEN,
			       "a row's diagnosis is a report's");
		memcpy(t->why, row->why, sizeof(t->why));
		t->why[sizeof(t->why) - 1] = 0;
		for (s = 0; s < rep->nsteps; s++)
			rep->res[(size_t)*next * rep->nsteps + s] = res[s];
		(*next)++;
	}
	return 0;
}

/* --- whom we talk to ------------------------------------------------------ */

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* The pid a pidfd names in our pid namespace (its fdinfo "Pid:"): -1 once
 * the process is gone, 0 if it is outside our namespace, or -errno. */
static long pidfd_pid(int pidfd)
{
	char name[64], buf[1024];
	const char *p;
	int r;

	snprintf(name, sizeof(name), "/proc/self/fdinfo/%d", pidfd);
	r = at_ctl_read_file("/", name + 1, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = at_proc_field(buf, "Pid");
	if (!p)
		return -EINVAL;
	return strtol(p, NULL, 10);
}

/* Do pidfds OURS and THEIRS name the same, live process PID?  On pidfs
 * (Linux 6.9 and later) a process has one inode for all its pidfds; on
 * older kernels, the live pid a pidfd names cannot be another
 * process's. */
static bool same_process(int ours, int theirs, pid_t pid)
{
	struct stat a, b;
	struct statfs fs;

	if (pidfd_pid(theirs) != pid || pidfd_pid(ours) != pid)
		return false;
	if (fstatfs(ours, &fs) == 0 && fs.f_type == AT_PIDFS_MAGIC)
		return fstat(ours, &a) == 0 && fstat(theirs, &b) == 0 &&
		       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	return true;
}

/* Field 22 of /proc/PID/stat: when the process started (clock ticks
 * since boot); 0 if unreadable. */
static unsigned long long start_time(const char *base)
{
	char buf[1024];
	unsigned long long v = 0;
	const char *p;
	int i;

	if (at_ctl_read_file(base, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

/*
 * Who the target is, fixed before we look for anything: a pidfd (so a
 * recycled pid is never mistaken for it), and its start time (for kernels
 * without pidfds).
 */
struct who {
	pid_t pid;
	int pidfd;
	char base[64];
	unsigned long long start;
};

/* Is the process WHO names still the one we opened? */
static bool still_there(const struct who *w)
{
	if (w->pidfd >= 0) {
		struct pollfd p = { .fd = w->pidfd, .events = POLLIN };

		/* A pidfd polls readable once the process has exited. */
		return poll(&p, 1, 0) == 0;
	}
	return w->start && start_time(w->base) == w->start;
}

/* Does the socket's listener name the target?  SO_PEERCRED names the
 * process that called listen(), by a pid that may have been reused since;
 * SO_PEERPIDFD (Linux 6.5) names it by pidfd, which cannot be. */
static int check_listener(int fd, const struct who *w)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);
	int peer;
	bool same;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) < 0)
		return -errno;
	if (uc.pid != w->pid)
		return -EACCES;
	sl = sizeof(peer);
	if (w->pidfd < 0)
		return still_there(w) ? 0 : -EACCES;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &peer, &sl) < 0)
		/* ENOPROTOOPT: a kernel before 6.5 (the hello's credentials
		 * decide).  Anything else: the listener is gone. */
		return errno == ENOPROTOOPT && still_there(w) ? 0 : -EACCES;
	same = same_process(w->pidfd, peer, w->pid);
	close(peer);
	return same ? 0 : -EACCES;
}

/* Close every descriptor that came in MH's control data (a helper that
 * is not one may send any). */
static void close_fds(struct msghdr *mh, int keep)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k, nfd;

		if (cm->cmsg_level != SOL_SOCKET ||
		    (cm->cmsg_type != SCM_RIGHTS && cm->cmsg_type != SCM_PIDFD))
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nfd; k++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(f));
			if (f != keep)
				close(f);
		}
	}
}

/*
 * The helper's hello, and whether the process that SENT it is the
 * target: the kernel attaches the sender's credentials (a pid it checked)
 * and, since Linux 6.5, a pidfd of the sender.  Whoever accepted our
 * connection (a process that took the listening socket from the target's
 * child, say) cannot pass for the target here.  0, -EACCES not the
 * target, or -errno (a reply other than a hello: *OTHER set, BUF holds
 * it, N its size).
 */
static int read_hello(int fd, const struct who *w, void *buf, size_t len,
		      long *nout, const struct timespec *deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(4 * sizeof(int)) + 64];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct ucred uc = { 0 };
	bool have_uc = false;
	int pidfd = -1, k, r;
	ssize_t n = -1;

	for (k = 0; k < 100000; k++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		n = recvmsg(fd, &mh,
			    MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
		if (n >= 0)
			break;
		r = recv_wait(fd, deadline);
		if (r < 0)
			return r;
	}
	if (n < 0)
		return -ETIMEDOUT;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			have_uc = true;
		}
		if (cm->cmsg_type == SCM_PIDFD &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int)) && pidfd < 0)
			memcpy(&pidfd, CMSG_DATA(cm), sizeof(int));
	}
	close_fds(&mh, pidfd);
	*nout = n;
	if (n == 0)
		r = -EPIPE;
	else if (n > (ssize_t)len)
		r = -EMSGSIZE;
	else if (!hdr_ok(buf, n, AT_CTL_REP_HELLO, 0) ||
		 n != sizeof(struct at_ctl_hello))
		r = -EPROTO; /* maybe an error reply: the caller looks */
	else if (!have_uc || uc.pid != w->pid)
		r = -EACCES;
	else if (pidfd >= 0 && w->pidfd >= 0)
		r = same_process(w->pidfd, pidfd, w->pid) ? 0 : -EACCES;
	else
		r = still_there(w) ? 0 : -EACCES;
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

/*
 * Thread ids of a target in a pid namespace of its own (issue 16.8).  Its
 * helper reports them as that namespace numbers them; /proc, and every
 * check of the report against it, numbers them as ours does.  The NSpid
 * line of /proc/PID/task/TID/status holds both: first ours, last the
 * innermost namespace's.  Taken before the request and after the reply,
 * so every thread that lived at either moment translates; a thread born
 * and gone in between does not, and its row gets tid -1 (refused when the
 * report is checked against /proc).
 */
struct nsmap {
	pid_t (*pair)[2]; /* { ours, its own } */
	unsigned n, cap;
};

/* Is the process whose status is STATUS in a pid namespace under ours? */
static bool is_nested(const char *status)
{
	const char *p = at_proc_field(status, "NStgid");
	char *end;
	int k;

	for (k = 0; p && k < 3; k++, p = end) {
		strtol(p, &end, 10);
		if (end == p)
			break;
	}
	return k > 1;
}

static void nsmap_add(struct nsmap *m, pid_t ours, pid_t inner)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->pair[i][0] == ours)
			return;
	if (m->n == m->cap) {
		unsigned cap = m->cap ? m->cap * 2 : 64;
		void *p = realloc(m->pair, cap * sizeof(*m->pair));

		if (!p)
			return;
		m->pair = p;
		m->cap = cap;
	}
	m->pair[m->n][0] = ours;
	m->pair[m->n][1] = inner;
	m->n++;
}

/* Add every thread /proc lists for PID now (bounded). */
static void nsmap_scan(struct nsmap *m, pid_t pid)
{
	char dir[64], base[96], buf[4096];
	struct dirent *de;
	unsigned k = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && k++ < AT_CTL_MAX_THREADS) {
		const char *p;
		char *end;
		long first = -1, last = -1, v;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(base, sizeof(base), "%s/%.20s", dir, de->d_name);
		if (at_ctl_read_file(base, "status", buf, sizeof(buf)) <= 0)
			continue;
		p = at_proc_field(buf, "NSpid");
		for (v = 0; p && v < 32; v++, p = end) {
			long id = strtol(p, &end, 10);

			if (end == p)
				break;
			if (first < 0)
				first = id;
			last = id;
		}
		if (first > 0 && last > 0)
			nsmap_add(m, (pid_t)first, (pid_t)last);
	}
	closedir(d);
}

/* Every row of REP renumbered from the target's namespace into ours. */
static void nsmap_translate(const struct nsmap *m,
			    struct allthreads_report *rep)
{
	unsigned i, j;

	for (i = 0; i < rep->nthreads; i++) {
		pid_t tid = rep->t[i].tid, ours = -1;

		for (j = 0; j < m->n && ours < 0; j++)
			if (m->pair[j][1] == tid)
				ours = m->pair[j][0];
		rep->t[i].tid = ours;
	}
}

/* CLOCK_MONOTONIC of the target minus ours, in ns (time namespaces
 * offset it); 0 when either cannot be read. */
static long long mono_offset(const char *base)
{
	char a[512], b[512];
	long long sa = 0, na = 0, sb = 0, nb = 0;
	const char *p;

	if (at_ctl_read_file("/proc/self", "timens_offsets", a, sizeof(a)) <=
		    0 ||
	    at_ctl_read_file(base, "timens_offsets", b, sizeof(b)) <= 0)
		return 0;
	p = strstr(a, "monotonic");
	if (!p || sscanf(p + 9, "%lld %lld", &sa, &na) != 2)
		return 0;
	p = strstr(b, "monotonic");
	if (!p || sscanf(p + 9, "%lld %lld", &sb, &nb) != 2)
		return 0;
	return (sb - sa) * 1000000000LL + (nb - na);
}

/*
 * Send REQ (with START_BY set in a copy of its head), behind PROOF when
 * it is not NULL: the secret the helper's hello announced, as read
 * through our own /proc/PID/mem.  Never a descriptor: whoever holds the
 * connection must get nothing of the target that it did not know.
 */
static int send_req(int fd, const void *req, size_t reqlen, uint64_t start_by,
		    const struct at_ctl_proof *proof)
{
	union {
		struct at_ctl_hdr hdr;
		struct at_ctl_req run;
		struct at_ctl_landlock_req landlock;
	} head;
	size_t headlen, prooflen = proof ? sizeof(*proof) : 0;
	struct iovec iov[3];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };

	/* Each kind of request carries its start-by deadline in a field of
	 * its own head. */
	memcpy(&head.hdr, req, sizeof(head.hdr));
	headlen = head.hdr.op == AT_CTL_REQ_LANDLOCK ? sizeof(head.landlock) :
						       sizeof(head.run);
	if (reqlen < headlen)
		return -EINVAL;
	memcpy(&head, req, headlen);
	if (head.hdr.op == AT_CTL_REQ_LANDLOCK)
		head.landlock.start_by_ns = start_by;
	else
		head.run.start_by_ns = start_by;
	iov[0] = (struct iovec){ .iov_base = (void *)proof,
				 .iov_len = prooflen };
	iov[1] = (struct iovec){ .iov_base = &head, .iov_len = headlen };
	iov[2] = (struct iovec){ .iov_base = (char *)req + headlen,
				 .iov_len = reqlen - headlen };
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(prooflen + reqlen))
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Answer the challenge of HELLO with what MEM (our own /proc/PID/mem of
 * the target, opened before we trusted anything) shows at the announced
 * address, into PROOF, but only if its digest is the announced one.  So
 * only bytes whose digest the helper already had leave us, and only a
 * process that knows what the memory we opened holds passes: an exec of
 * the target since we opened it leaves us a descriptor of memory that no
 * longer reads, one before it a descriptor of a program that never said
 * hello.  0, or -EACCES.
 */
static int answer(int mem, const struct at_ctl_hello *hello,
		  struct at_ctl_proof *proof)
{
	uint8_t digest[AT_CTL_DIGEST_LEN];
	ssize_t n;

	memset(proof, 0, sizeof(*proof));
	if (hello->secret_at > (uint64_t)INT64_MAX)
		return -EACCES;
	n = pread(mem, proof->secret, sizeof(proof->secret),
		  (off_t)hello->secret_at);
	if (n != (ssize_t)sizeof(proof->secret))
		goto refuse;
	at_ctl_digest(proof->secret, digest);
	if (memcmp(digest, hello->digest, sizeof(digest)) != 0)
		goto refuse;
	proof->hdr.magic = AT_CTL_MAGIC;
	proof->hdr.version = AT_CTL_VERSION;
	proof->hdr.op = AT_CTL_REQ_PROOF;
	proof->hdr.len = sizeof(*proof);
	return 0;
refuse:
	explicit_bzero(proof, sizeof(*proof));
	return -EACCES;
}

static void reply_why(struct at_ctl_result *out, int r)
{
	snprintf(out->why, sizeof(out->why), "%s",
		 r == -EPIPE	 ? "the target exited during the request" :
		 r == -ETIMEDOUT ? "the helper did not answer in time" :
				   strerror(-r));
}

/* One call to a helper, through its phases. */
struct call {
	pid_t pid;
	const void *req;
	size_t reqlen;
	struct at_ctl_result *out;
	struct timespec deadline;
	uint64_t start_by;
	struct who w;
	struct at_ctl_trust tr;
	char status[4096];
	bool nested;
	struct nsmap ns;
	int mem, dfd, fd;
	const char *name;
	void *buf;    /* AT_CTL_MAX_DGRAM bytes */
	long n;	      /* what buf holds */
	bool refused; /* the greeting got an error reply (in buf) */
};

/* The target fixed first (a pidfd, its /proc directory, its uids), then
 * its memory opened: everything after is checked against it, and its
 * challenge is answered from that descriptor, which never leaves us. */
static int fix_target(struct call *cl)
{
	struct at_ctl_result *out = cl->out;
	char mpath[sizeof(cl->w.base) + 8];
	int r;

	cl->w.pidfd = pidfd_open_(cl->pid);
	if (cl->w.pidfd < 0 && errno != ENOSYS) {
		snprintf(out->why, sizeof(out->why), "no such process");
		return -ESRCH;
	}
	r = at_ctl_proc_base(cl->pid, cl->w.base, sizeof(cl->w.base));
	cl->w.start = start_time(cl->w.base);
	if (r == 0)
		r = at_ctl_read_trust(cl->w.base, &cl->tr, cl->status,
				      sizeof(cl->status));
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -ESRCH || r == -ENOENT ? "no such process" :
						       strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	snprintf(mpath, sizeof(mpath), "%s/mem", cl->w.base);
	cl->mem = open(mpath, O_RDONLY | O_CLOEXEC);
	if (cl->mem < 0) {
		r = -errno;
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EACCES || r == -EPERM ?
				 "permission denied: you may not ptrace "
				 "this process" :
				 "cannot open the target's memory");
		return r == -EPERM ? -EACCES : r;
	}
	if (!still_there(&cl->w)) {
		snprintf(out->why, sizeof(out->why), "no such process");
		return -ESRCH;
	}
	cl->nested = is_nested(cl->status);
	if (cl->nested)
		nsmap_scan(&cl->ns, cl->pid);
	cl->start_by += (uint64_t)mono_offset(cl->w.base);
	return 0;
}

/* The request without the proof, on a fresh connection to a listener
 * that is the target: the helper answers with a hello (in cl->buf), which
 * tells us who is at the other end.  A helper whose every slot is busy
 * closes a connection whose request has not yet arrived (receiver.c,
 * accept_new): nothing was asked, no proof went out, so it is tried
 * again, a bounded number of times and only while the deadline leaves
 * room.  An error reply instead: cl->refused, the reply in cl->buf. */
static int greet(struct call *cl)
{
	struct at_ctl_result *out = cl->out;
	int r, tries;

	for (tries = 0;; tries++) {
		struct timespec pause = { 0, 2000000L * (tries + 1) };

		cl->fd = connect_to(cl->dfd, cl->name, &cl->deadline);
		if (cl->fd < 0) {
			r = cl->fd;
			snprintf(out->why, sizeof(out->why),
				 "cannot connect to the helper: %s",
				 strerror(-r));
			return r;
		}
		r = check_listener(cl->fd, &cl->w);
		if (r < 0) {
			snprintf(out->why, sizeof(out->why),
				 "the socket does not belong to process %d's "
				 "helper",
				 (int)cl->pid);
			return r;
		}
		r = send_req(cl->fd, cl->req, cl->reqlen, cl->start_by, NULL);
		if (r < 0 && r != -EPIPE) {
			snprintf(out->why, sizeof(out->why),
				 "cannot send to the helper: %s", strerror(-r));
			return r;
		}
		if (r == 0)
			r = read_hello(cl->fd, &cl->w, cl->buf,
				       AT_CTL_MAX_DGRAM, &cl->n, &cl->deadline);
		if (r != -EPIPE || tries == AT_CTL_GREET_TRIES ||
		    at_ts_ms_until(&cl->deadline, AT_HOUR_MS) < 100)
			break;
		close(cl->fd);
		cl->fd = -1;
		nanosleep(&pause, NULL);
	}
	/* An error reply instead of the hello (a helper that refused the
	 * request as it stands, or speaks another version): nothing ran. */
	cl->refused = r == -EPROTO;
	if (r == -EPIPE)
		snprintf(out->why, sizeof(out->why),
			 "the helper closed every connection before answering "
			 "(%d tries): nothing changed",
			 tries + 1);
	else if (r == -EACCES)
		snprintf(out->why, sizeof(out->why),
			 "the socket does not belong to process %d's "
			 "helper (another process answered)",
			 (int)cl->pid);
	else if (r < 0 && r != -EPROTO)
		reply_why(out, r);
	return r;
}

/* Only now the proof: the answer to the hello's challenge, read through
 * the descriptor opened at the start, sent behind the request; then the
 * first datagram of the reply, in cl->buf. */
static int prove(struct call *cl)
{
	struct at_ctl_result *out = cl->out;
	struct at_ctl_hello hello;
	struct at_ctl_proof proof;
	int r;

	memcpy(&hello, cl->buf, sizeof(hello));
	r = answer(cl->mem, &hello, &proof);
	if (r < 0) {
		bool there = still_there(&cl->w);

		snprintf(out->why, sizeof(out->why), "%s",
			 there ? "the helper's challenge is not in the "
				 "target's memory (the target ran another "
				 "program, or another process answered): "
				 "nothing was sent" :
				 "the target exited");
		return there ? -EACCES : -ESRCH;
	}
	r = send_req(cl->fd, cl->req, cl->reqlen, cl->start_by, &proof);
	explicit_bzero(&proof, sizeof(proof));
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 "cannot send to the helper");
		return r;
	}
	out->sent = true;
	cl->n = recv_dgram(cl->fd, cl->buf, AT_CTL_MAX_DGRAM, &cl->deadline);
	if (cl->n < 0) {
		reply_why(out, (int)cl->n);
		return (int)cl->n;
	}
	return 0;
}

/* The helper's error reply in cl->buf, if it is one: 1, with the error
 * in *ERR. */
static int error_reply(struct call *cl, int *err)
{
	const struct at_ctl_rep_error *e = cl->buf;

	if (!hdr_ok(cl->buf, cl->n, AT_CTL_REP_ERROR, 0) ||
	    cl->n != sizeof(struct at_ctl_rep_error))
		return 0;
	*err = at_is_error(e->err) ? e->err : -EPROTO;
	snprintf(cl->out->why, sizeof(cl->out->why), "%.*s",
		 (int)sizeof(e->msg) - 1, e->msg);
	/* Refused: as unreachable as a process without a helper.  Anything
	 * else: the helper read the request and said no. */
	cl->out->reached = *err != -EACCES;
	return 1;
}

/* The reply's head, in cl->buf: checked, and a report made for it. */
static int read_head(struct call *cl, struct at_ctl_rep_head *head,
		     struct allthreads_report **rep)
{
	if (!hdr_ok(cl->buf, cl->n, AT_CTL_REP_HEAD, 0) ||
	    cl->n != sizeof(*head))
		return -EPROTO;
	memcpy(head, cl->buf, sizeof(*head));
	if (head->nthreads == 0 || head->nthreads > AT_CTL_MAX_THREADS ||
	    head->nsteps == 0 || head->nsteps > ALLTHREADS_MAX_STEPS ||
	    head->verdict > ALLTHREADS_FAILED || head->ret > 0 ||
	    head->ret < -AT_MAX_ERRNO || head->nmsgs > head->nthreads)
		return -EPROTO;
	*rep = at_report_new(head->nthreads, head->nsteps);
	if (!*rep)
		return -ENOMEM;
	(*rep)->verdict = head->verdict;
	return 0;
}

/* The rows that follow the head, then the end. */
static int read_body(struct call *cl, const struct at_ctl_rep_head *head,
		     struct allthreads_report *rep)
{
	unsigned next = 0, m;
	int r = 0;

	for (m = 0; r == 0 && m < head->nmsgs; m++) {
		cl->n = recv_dgram(cl->fd, cl->buf, AT_CTL_MAX_DGRAM,
				   &cl->deadline);
		if (cl->n < 0)
			r = (int)cl->n;
		else if (!hdr_ok(cl->buf, cl->n, AT_CTL_REP_ROWS, m + 1))
			r = -EPROTO;
		else
			r = read_rows(cl->buf, cl->n, rep, &next);
	}
	if (r == 0 && next != rep->nthreads)
		r = -EPROTO;
	if (r)
		return r;
	cl->n = recv_dgram(cl->fd, cl->buf, AT_CTL_MAX_DGRAM, &cl->deadline);
	if (cl->n < 0)
		return (int)cl->n;
	if (!hdr_ok(cl->buf, cl->n, AT_CTL_REP_END, head->nmsgs + 1) ||
	    cl->n != sizeof(struct at_ctl_hdr))
		return -EPROTO;
	return 0;
}

/* The reply whose first datagram is in cl->buf: an error, or the head,
 * the rows and the end, into out->report. */
static int read_reply(struct call *cl)
{
	struct at_ctl_result *out = cl->out;
	struct allthreads_report *rep = NULL;
	struct at_ctl_rep_head head;
	int r;

	if (error_reply(cl, &r))
		return r;
	r = read_head(cl, &head, &rep);
	if (r == -EPROTO)
		snprintf(out->why, sizeof(out->why), "%s",
			 "malformed reply from the helper");
	if (r)
		return r;
	out->ret = head.ret;
	r = read_body(cl, &head, rep);
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EPIPE ? "the target exited during the request" :
			 r == -ETIMEDOUT ? "the helper did not answer in time" :
					   "malformed reply from the helper");
		at_report_free(rep);
		return r;
	}
	if (cl->nested) {
		nsmap_scan(&cl->ns, cl->pid);
		nsmap_translate(&cl->ns, rep);
	}
	out->report = rep;
	out->reached = true;
	return 0;
}

/* The phases in order: the target fixed, the socket's path trusted, the
 * greeting, the proof, the reply. */
static int call_phases(struct call *cl, const char *path)
{
	struct at_ctl_result *out = cl->out;
	struct stat sst;
	int r;

	r = fix_target(cl);
	if (r)
		return r;
	r = at_ctl_walk_trusted(path, &cl->tr, &cl->dfd, &cl->name, &sst,
				out->why, sizeof(out->why));
	if (r < 0) {
		if (r != -EPERM)
			snprintf(out->why, sizeof(out->why),
				 "cannot reach the helper's socket: %s",
				 strerror(-r));
		return r;
	}
	r = greet(cl);
	if (r == 0)
		r = prove(cl);
	if (r == 0 || cl->refused)
		r = read_reply(cl);
	return r;
}

int at_ctl_call(pid_t pid, const char *path, const void *req, size_t reqlen,
		unsigned timeout_ms, struct at_ctl_result *out)
{
	struct call *cl;
	int r;

	memset(out, 0, sizeof(*out));
	if (pid <= 0 || !req || reqlen < sizeof(struct at_ctl_req)) {
		snprintf(out->why, sizeof(out->why), "bad arguments");
		return -EINVAL;
	}
	if (!timeout_ms)
		timeout_ms = ALLTHREADS_DEFAULT_TIMEOUT_MS;
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->buf = malloc(AT_CTL_MAX_DGRAM);
	if (!cl || !cl->buf) {
		free(cl);
		return -ENOMEM;
	}
	cl->pid = pid;
	cl->req = req;
	cl->reqlen = reqlen;
	cl->out = out;
	cl->w.pid = pid;
	cl->w.pidfd = cl->mem = cl->dfd = cl->fd = -1;
	at_ts_now(&cl->deadline);
	cl->deadline.tv_sec += timeout_ms / 1000 + 5;
	/* The run must start early enough to end, and be answered, before
	 * we stop waiting: at the latest its own timeout plus a second
	 * before our deadline. */
	cl->start_by = at_ts_ns(&cl->deadline) -
		       (uint64_t)(timeout_ms + 1000) * 1000000ULL;
	r = call_phases(cl, path);
	if (cl->fd >= 0)
		close(cl->fd);
	if (cl->mem >= 0)
		close(cl->mem);
	if (cl->dfd >= 0)
		close(cl->dfd);
	if (cl->w.pidfd >= 0)
		close(cl->w.pidfd);
	free(cl->ns.pair);
	free(cl->buf);
	free(cl);
	return r;
}
