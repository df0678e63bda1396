// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-client.c - the client's side of the control channel: find the
 * helper's socket of a process, turn a step program into a request (with
 * its pointer arguments' buffers inline), and read the reply back into a
 * struct allthreads_report.  Part of the internal library (lib/meson.build):
 * allthreads_target_*() (target.c) and the tests call it; see ctl-client.h.
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

static void set_why(char *why, size_t len, const char *fmt, const char *arg)
{
	if (why && len)
		snprintf(why, len, fmt, arg);
}

/* --- serialising a program ------------------------------------------------ */

static void put_list(int64_t *dst, const long *src)
{
	int i;

	for (i = 0; i < ALLTHREADS_MAX_ARGS; i++)
		dst[i] = src[i];
}

long at_ctl_serialize(const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      void *buf, size_t len)
{
	struct at_ctl_step *steps;
	struct at_pack_area area;
	struct at_ctl_req *req;
	size_t head;
	unsigned i;
	int r;

	if (!prog || !prog->n || prog->n > ALLTHREADS_MAX_STEPS || !buf ||
	    timeout_ms > AT_CTL_MAX_TIMEOUT_MS)
		return -EINVAL;
	head = sizeof(struct at_ctl_req) + prog->n * sizeof(*steps);
	if (len < head)
		return -ENOBUFS;
	memset(buf, 0, head);
	req = buf;
	steps = (struct at_ctl_step *)(req + 1);
	area.data = (uint8_t *)buf + head;
	area.len = 0;
	area.cap = len - head < AT_CTL_MAX_DATA ? len - head : AT_CTL_MAX_DATA;
	for (i = 0; i < prog->n; i++) {
		const struct at_step *s = &prog->steps[i];
		struct at_ctl_step *st = &steps[i];

		st->nr = s->nr;
		put_list(st->args, s->args);
		st->nargs = ALLTHREADS_MAX_ARGS;
		st->judge = (uint32_t)s->judge;
		st->has_undo = s->has_undo;
		st->save_nr = s->has_save ? s->save_nr : -1;
		put_list(st->save_args, s->save_args);
		st->undo_nr = s->has_undo ? s->undo_nr : -1;
		put_list(st->undo_args, s->undo_args);
		r = at_step_pack(s, st->ptr, &area);
		if (r < 0)
			return r;
	}
	req->hdr.magic = AT_CTL_MAGIC;
	req->hdr.version = AT_CTL_VERSION;
	req->hdr.op = AT_CTL_REQ_RUN;
	req->hdr.len = (uint32_t)(head + area.len);
	req->nsteps = prog->n;
	req->timeout_ms = timeout_ms;
	req->flags = flags;
	req->policy = (uint32_t)policy;
	req->data_len = (uint32_t)area.len;
	return (long)(head + area.len);
}

/* --- finding the socket ------------------------------------------------------- */

/* Read FILE under BASE (a /proc directory; small) into BUF; length or
 * -errno. */
static int read_file(const char *base, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, file);
	return at_proc_read(path, buf, len);
}

/*
 * The /proc directory through which process PID is looked at: that of a
 * thread that is still alive, "/proc/PID/task/TID".  A main thread that
 * called pthread_exit() is a zombie with no root, no mm and no
 * environment; its live threads still have them.  The main thread is
 * preferred.  0, or -ESRCH.
 */
static int proc_base(pid_t pid, char *base, size_t len)
{
	char dir[64], link[96];
	struct dirent *de;
	int n = 0, r = -ESRCH;
	DIR *d;

	snprintf(base, len, "/proc/%d/task/%d", (int)pid, (int)pid);
	snprintf(link, sizeof(link), "%s/root", base);
	if (readlink(link, dir, 1) >= 0 || errno == EACCES)
		return errno == EACCES ? -EACCES : 0;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (r < 0 && (de = readdir(d)) && n++ < 65536) {
		char c;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(base, len, "/proc/%d/task/%.20s", (int)pid,
			 de->d_name);
		snprintf(link, sizeof(link), "%s/root", base);
		if (readlink(link, &c, 1) >= 0)
			r = 0;
	}
	closedir(d);
	if (r < 0)
		snprintf(base, len, "/proc/%d", (int)pid);
	return r;
}

/* Whose files the client believes: root's and the target's. */
struct trust {
	uid_t uid[5]; /* root, then the target's own */
	int n;
	uid_t own[4]; /* the target's distinct uids, in status order */
	int nown;
};

static bool trusted_uid(const struct trust *tr, uid_t uid)
{
	int i;

	for (i = 0; i < tr->n; i++)
		if (tr->uid[i] == uid)
			return true;
	return false;
}

/* A directory on the way to the socket: owned by a trusted user and
 * writable by nobody else; or root's with the sticky bit (/tmp), where
 * nobody else can remove or rename what is in it. */
static bool dir_trusted(const struct trust *tr, const struct stat *st)
{
	if (!trusted_uid(tr, st->st_uid))
		return false;
	return !(st->st_mode & 022) ||
	       (st->st_uid == 0 && (st->st_mode & S_ISVTX));
}

/*
 * Walk PATH one component at a time, never following a symbolic link,
 * from the target's root (the /proc/.../root prefix, a magic link the
 * kernel resolves to the target's own root) or from "/".  Every directory
 * must be trusted (dir_trusted()), and the last component must be a
 * socket owned by a trusted user with no write access for anyone else.
 * 0 with *DIRFD (an O_PATH descriptor of the socket's directory), *NAME
 * (its last component, in PATH) and *SOCK; -ENOENT nothing there; -EPERM
 * there but not trusted (WHY says why); -EACCES we may not look.
 */
static int walk_trusted(const char *path, const struct trust *tr, int *dirfd,
			const char **name, struct stat *sock, char *why,
			size_t whylen)
{
	char prefix[PATH_MAX], comp[NAME_MAX + 1], seen[PATH_MAX] = "";
	const char *rest = path, *root;
	struct stat st;
	int fd, next, r;

	*dirfd = -1;
	root = strncmp(path, "/proc/", 6) == 0 ? strstr(path, "/root/") : NULL;
	if (root) {
		if ((size_t)(root - path) + 5 >= sizeof(prefix))
			return -ENAMETOOLONG;
		memcpy(prefix, path, (size_t)(root - path) + 5);
		prefix[root - path + 5] = 0;
		rest = root + 5;
	} else {
		strcpy(prefix, "/");
	}
	fd = open(prefix, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ENOENT;
	for (;;) {
		size_t k;

		while (*rest == '/')
			rest++;
		k = strcspn(rest, "/");
		if (k == 0 || k > NAME_MAX) {
			r = -ENOENT;
			goto fail;
		}
		memcpy(comp, rest, k);
		comp[k] = 0;
		if (fstat(fd, &st) < 0 || !dir_trusted(tr, &st)) {
			snprintf(why, whylen,
				 "the socket directory %s is owned by uid "
				 "%u with mode %04o: not trusted (only the "
				 "target's user or root, writable by no "
				 "one else)",
				 seen[0] ? seen : "/", (unsigned)st.st_uid,
				 (unsigned)(st.st_mode & 07777));
			r = -EPERM;
			goto fail;
		}
		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			r = -ENOENT;
			goto fail;
		}
		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			r = errno == EACCES || errno == EPERM ? -EACCES :
								-ENOENT;
			goto fail;
		}
		if (fstat(next, &st) < 0) {
			close(next);
			r = -ENOENT;
			goto fail;
		}
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen),
			 "/%s", comp);
		rest += k;
		while (*rest == '/')
			rest++;
		if (S_ISLNK(st.st_mode)) {
			close(next);
			snprintf(why, whylen,
				 "%s is a symbolic link: not followed", seen);
			r = -EPERM;
			goto fail;
		}
		if (!*rest)
			break;
		close(fd);
		fd = next;
		if (!S_ISDIR(st.st_mode)) {
			r = -ENOENT;
			goto fail;
		}
	}
	close(next);
	if (!S_ISSOCK(st.st_mode)) {
		r = -ENOENT;
		goto fail;
	}
	if (!trusted_uid(tr, st.st_uid) || (st.st_mode & 022)) {
		snprintf(why, whylen,
			 "the socket %s is owned by uid %u with mode %04o: "
			 "not trusted",
			 seen, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 07777));
		r = -EPERM;
		goto fail;
	}
	*dirfd = fd;
	*name = path + strlen(path) - strlen(comp);
	*sock = st;
	return 0;
fail:
	close(fd);
	return r;
}

/* The target's uids (real, effective, saved, fs) and root; 0 or -errno. */
static int read_trust(const char *base, struct trust *tr, char *status,
		      size_t len)
{
	unsigned long u[4];
	const char *p;
	int r, i;

	r = read_file(base, "status", status, len);
	if (r < 0)
		return r;
	p = at_proc_field(status, "Uid");
	if (!p || sscanf(p, "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
		return -EINVAL;
	tr->n = 0;
	tr->nown = 0;
	tr->uid[tr->n++] = 0;
	for (i = 0; i < 4; i++) {
		int k;

		if (!trusted_uid(tr, (uid_t)u[i]))
			tr->uid[tr->n++] = (uid_t)u[i];
		for (k = 0; k < tr->nown; k++)
			if (tr->own[k] == (uid_t)u[i])
				break;
		if (k == tr->nown)
			tr->own[tr->nown++] = (uid_t)u[i];
	}
	return 0;
}

/* TRY is a candidate; 0 if a trusted socket is there (PATH filled), else
 * -errno (-EPERM: there, but not trusted, with WHY). */
static int probe(const char *try, const struct trust *tr, char *path,
		 size_t len, char *why, size_t whylen)
{
	struct stat st;
	const char *name;
	int dfd, r;

	r = walk_trusted(try, tr, &dfd, &name, &st, why, whylen);
	if (r < 0)
		return r;
	close(dfd);
	if (strlen(try) >= len)
		return -ENAMETOOLONG;
	strcpy(path, try);
	return 0;
}

struct search {
	const struct trust *tr;
	char *path;
	size_t len;
	int denied;
	char untrusted[AT_REASON_LEN];
};

static int consider(struct search *s, const char *try)
{
	char why[AT_REASON_LEN] = "";
	int r = probe(try, s->tr, s->path, s->len, why, sizeof(why));

	s->denied |= r == -EACCES;
	if (r == -EPERM && !s->untrusted[0])
		snprintf(s->untrusted, sizeof(s->untrusted), "%s", why);
	return r;
}

static int scan_run_dir(const char *base, unsigned long nspid, struct search *s)
{
	char dir[128], try[256];
	struct dirent *de;
	int n = 0, r = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/root/run/allthreads", base);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (r != 0 && (de = readdir(d)) && n++ < 4096) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(try, sizeof(try), "%s/%.32s/%lu.sock", dir, de->d_name,
			 nspid);
		r = consider(s, try);
	}
	closedir(d);
	return r;
}

/* UID as the target sees it inside its user namespace, through MAP (the
 * text of its uid_map as we read it: "inside outside count" lines, the
 * outside uids in our namespace); UID itself where no line maps it. */
static uid_t uid_inside(const char *map, uid_t uid)
{
	unsigned long in, out, count;
	const char *p = map;
	int i, used;

	for (i = 0; i < 340 && *p; i++) {
		if (sscanf(p, "%lu %lu %lu%n", &in, &out, &count, &used) != 3)
			break;
		if (uid >= out && uid - out < count)
			return (uid_t)(in + (uid - out));
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return uid;
}

/* The uids whose names the target's socket directory may carry: each of
 * its own uids as seen here and, for a target in a user namespace of its
 * own, as seen there (the helper names its directory by getuid()). */
static int socket_uids(const char *base, const struct trust *tr,
		       unsigned long *uids)
{
	char map[4096];
	int i, k, n = 0;

	for (i = 0; i < tr->nown; i++)
		uids[n++] = tr->own[i];
	if (read_file(base, "uid_map", map, sizeof(map)) <= 0)
		return n;
	for (i = 0; i < tr->nown; i++) {
		unsigned long in = uid_inside(map, tr->own[i]);

		for (k = 0; k < n && uids[k] != in; k++)
			;
		if (k == n)
			uids[n++] = in;
	}
	return n;
}

int at_ctl_find_socket(pid_t pid, char *path, size_t len, char *why,
		       size_t whylen)
{
	char status[4096], env[8192], try[PATH_MAX], xdg[512] = "";
	char base[64];
	unsigned long nspid = 0, uids[8];
	struct trust tr;
	struct search s = { .tr = &tr, .path = path, .len = len };
	const char *p;
	int r, i, j, nenv, nuids;

	if (pid <= 0) {
		set_why(why, whylen, "%s", "bad process id");
		return -ESRCH;
	}
	r = proc_base(pid, base, sizeof(base));
	if (r == -ESRCH && kill(pid, 0) < 0 && errno == ESRCH) {
		set_why(why, whylen, "%s", "no such process");
		return -ESRCH;
	}
	r = read_trust(base, &tr, status, sizeof(status));
	if (r < 0) {
		set_why(why, whylen, "%s",
			r == -ENOENT ? "no such process" :
			r == -EINVAL ? "cannot read the target's status" :
				       strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	/* The socket is named by the pid the target sees: the innermost
	 * one in NStgid (a thread's status: NSpid names the thread). */
	p = at_proc_field(status, "NStgid");
	if (p) {
		char *end;

		for (i = 0; i < 32; i++) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			nspid = v;
			p = end;
		}
	}
	if (!nspid)
		nspid = (unsigned long)pid;
	/* The target's own XDG_RUNTIME_DIR, if we may read its environment. */
	nenv = read_file(base, "environ", env, sizeof(env));
	for (i = 0; i < nenv; i += (int)strlen(env + i) + 1)
		if (!strncmp(env + i, "XDG_RUNTIME_DIR=/", 17)) {
			snprintf(xdg, sizeof(xdg), "%s", env + i + 16);
			break;
		}

	nuids = socket_uids(base, &tr, uids);
	for (i = 0; i < nuids; i++) {
		const char *fmt[] = { "%s/root/run/allthreads/%lu/%lu.sock",
				      "%s/root/run/user/%lu/allthreads/"
				      "%lu.sock",
				      "%s/root/tmp/allthreads-%lu/%lu.sock" };

		for (j = 0; j < 3; j++) {
			snprintf(try, sizeof(try), fmt[j], base, uids[i],
				 nspid);
			if (consider(&s, try) == 0)
				return 0;
			if (j == 0 && xdg[0]) {
				snprintf(try, sizeof(try),
					 "%s/root%s/allthreads/%lu.sock", base,
					 xdg, nspid);
				if (consider(&s, try) == 0)
					return 0;
			}
		}
	}
	/* A target that changed its uids since it started (a root process
	 * that dropped to another user) keeps its socket under the uid it
	 * started with: look through every /run/allthreads/<uid>/. */
	if (scan_run_dir(base, nspid, &s) == 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		set_why(why, whylen, "%s", "no such process");
		return -ESRCH;
	}
	if (s.untrusted[0]) {
		set_why(why, whylen, "%s", s.untrusted);
		return -EPERM;
	}
	if (s.denied) {
		set_why(why, whylen, "%s",
			"permission denied (cannot reach the helper's socket)");
		return -EACCES;
	}
	set_why(why, whylen, "%s",
		"no helper (start the target with `allthreads run`)");
	return -ENOENT;
}

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
	r = read_file("/", name + 1, buf, sizeof(buf));
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

	if (read_file(base, "stat", buf, sizeof(buf)) <= 0)
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
		if (read_file(base, "status", buf, sizeof(buf)) <= 0)
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

	if (read_file("/proc/self", "timens_offsets", a, sizeof(a)) <= 0 ||
	    read_file(base, "timens_offsets", b, sizeof(b)) <= 0)
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

int at_ctl_call(pid_t pid, const char *path, const void *req, size_t reqlen,
		unsigned timeout_ms, struct at_ctl_result *out)
{
	struct allthreads_report *rep = NULL;
	struct at_ctl_rep_head head;
	struct timespec deadline;
	struct who w = { .pid = pid, .pidfd = -1 };
	struct trust tr;
	struct stat sst;
	const char *name;
	char status[4096];
	uint64_t start_by;
	unsigned next = 0, m;
	struct at_ctl_hello hello;
	struct at_ctl_proof proof;
	struct nsmap ns = { 0 };
	bool nested;
	void *buf;
	long n = 0;
	int fd = -1, dfd = -1, mem = -1, r, tries;

	memset(out, 0, sizeof(*out));
	if (pid <= 0 || !req || reqlen < sizeof(struct at_ctl_req)) {
		snprintf(out->why, sizeof(out->why), "bad arguments");
		return -EINVAL;
	}
	if (!timeout_ms)
		timeout_ms = ALLTHREADS_DEFAULT_TIMEOUT_MS;
	at_ts_now(&deadline);
	deadline.tv_sec += timeout_ms / 1000 + 5;
	/* The run must start early enough to end, and be answered, before
	 * we stop waiting: at the latest its own timeout plus a second
	 * before our deadline. */
	start_by = at_ts_ns(&deadline) -
		   (uint64_t)(timeout_ms + 1000) * 1000000ULL;
	buf = malloc(AT_CTL_MAX_DGRAM);
	if (!buf)
		return -ENOMEM;
	/* Fix the target first: everything after is checked against it. */
	w.pidfd = pidfd_open_(pid);
	if (w.pidfd < 0 && errno != ENOSYS) {
		r = -ESRCH;
		snprintf(out->why, sizeof(out->why), "no such process");
		goto out_buf;
	}
	r = proc_base(pid, w.base, sizeof(w.base));
	w.start = start_time(w.base);
	if (r == 0)
		r = read_trust(w.base, &tr, status, sizeof(status));
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -ESRCH || r == -ENOENT ? "no such process" :
						       strerror(-r));
		r = r == -ENOENT ? -ESRCH : r;
		goto out_buf;
	}
	/* The target's memory, opened before we trust anything of the
	 * helper's, and only while the process is still the one we fixed:
	 * its challenge is answered from this descriptor, which never leaves
	 * us. */
	{
		char mpath[96];

		snprintf(mpath, sizeof(mpath), "%s/mem", w.base);
		mem = open(mpath, O_RDONLY | O_CLOEXEC);
	}
	if (mem < 0) {
		r = -errno;
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EACCES || r == -EPERM ?
				 "permission denied: you may not ptrace "
				 "this process" :
				 "cannot open the target's memory");
		r = r == -EPERM ? -EACCES : r;
		goto out_buf;
	}
	if (!still_there(&w)) {
		r = -ESRCH;
		snprintf(out->why, sizeof(out->why), "no such process");
		goto out_buf;
	}
	nested = is_nested(status);
	if (nested)
		nsmap_scan(&ns, pid);
	start_by += (uint64_t)mono_offset(w.base);
	r = walk_trusted(path, &tr, &dfd, &name, &sst, out->why,
			 sizeof(out->why));
	if (r < 0) {
		if (r != -EPERM)
			snprintf(out->why, sizeof(out->why),
				 "cannot reach the helper's socket: %s",
				 strerror(-r));
		goto out_buf;
	}
	for (tries = 0;; tries++) {
		struct timespec pause = { 0, 2000000L * (tries + 1) };

		fd = connect_to(dfd, name, &deadline);
		if (fd < 0) {
			r = fd;
			snprintf(out->why, sizeof(out->why),
				 "cannot connect to the helper: %s",
				 strerror(-r));
			goto out_buf;
		}
		r = check_listener(fd, &w);
		if (r < 0) {
			snprintf(out->why, sizeof(out->why),
				 "the socket does not belong to process %d's "
				 "helper",
				 (int)pid);
			goto out_fd;
		}
		/* The request without the proof: the helper answers with a
		 * hello, which tells us who is at the other end. */
		r = send_req(fd, req, reqlen, start_by, NULL);
		if (r < 0 && r != -EPIPE) {
			snprintf(out->why, sizeof(out->why),
				 "cannot send to the helper: %s", strerror(-r));
			goto out_fd;
		}
		if (r == 0)
			r = read_hello(fd, &w, buf, AT_CTL_MAX_DGRAM, &n,
				       &deadline);
		/* Closed before any answer: a helper whose every slot is
		 * busy turns away a connection whose request has not yet
		 * arrived (receiver.c, accept_new).  Nothing was asked, no
		 * proof went out: connect again, a bounded number of times
		 * and only while the deadline leaves room. */
		if (r != -EPIPE || tries == AT_CTL_GREET_TRIES ||
		    at_ts_ms_until(&deadline, AT_HOUR_MS) < 100)
			break;
		close(fd);
		fd = -1;
		nanosleep(&pause, NULL);
	}
	if (r == -EPIPE) {
		snprintf(out->why, sizeof(out->why),
			 "the helper closed every connection before answering "
			 "(%d tries): nothing changed",
			 tries + 1);
		goto out_fd;
	}
	if (r == -EPROTO) {
		/* An error reply instead (a helper that refused the request
		 * as it stands, or speaks another version): nothing ran. */
		goto reply;
	}
	if (r < 0) {
		if (r == -EACCES)
			snprintf(out->why, sizeof(out->why),
				 "the socket does not belong to process %d's "
				 "helper (another process answered)",
				 (int)pid);
		else
			reply_why(out, r);
		goto out_fd;
	}
	/* Only now the proof: the answer to the hello's challenge, read
	 * through the descriptor we opened at the start. */
	memcpy(&hello, buf, sizeof(hello));
	r = answer(mem, &hello, &proof);
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 still_there(&w) ?
				 "the helper's challenge is not in the "
				 "target's memory (the target ran another "
				 "program, or another process answered): "
				 "nothing was sent" :
				 "the target exited");
		r = still_there(&w) ? -EACCES : -ESRCH;
		goto out_fd;
	}
	r = send_req(fd, req, reqlen, start_by, &proof);
	explicit_bzero(&proof, sizeof(proof));
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 "cannot send to the helper");
		goto out_fd;
	}
	out->sent = true;
	n = recv_dgram(fd, buf, AT_CTL_MAX_DGRAM, &deadline);
	if (n < 0) {
		r = (int)n;
		reply_why(out, r);
		goto out_fd;
	}
reply:
	if (hdr_ok(buf, n, AT_CTL_REP_ERROR, 0) &&
	    n == sizeof(struct at_ctl_rep_error)) {
		const struct at_ctl_rep_error *e = buf;

		r = at_is_error(e->err) ? e->err : -EPROTO;
		snprintf(out->why, sizeof(out->why), "%.119s", e->msg);
		/* Refused: as unreachable as a process without a helper.
		 * Anything else: the helper read the request and said no. */
		out->reached = r != -EACCES;
		goto out_fd;
	}
	if (!hdr_ok(buf, n, AT_CTL_REP_HEAD, 0) || n != sizeof(head)) {
		r = -EPROTO;
		snprintf(out->why, sizeof(out->why), "%s",
			 "malformed reply from the helper");
		goto out_fd;
	}
	memcpy(&head, buf, sizeof(head));
	if (head.nthreads == 0 || head.nthreads > AT_CTL_MAX_THREADS ||
	    head.nsteps == 0 || head.nsteps > ALLTHREADS_MAX_STEPS ||
	    head.verdict > ALLTHREADS_FAILED || head.ret > 0 ||
	    head.ret < -AT_MAX_ERRNO || head.nmsgs > head.nthreads) {
		r = -EPROTO;
		snprintf(out->why, sizeof(out->why), "%s",
			 "malformed reply from the helper");
		goto out_fd;
	}
	rep = at_report_new(head.nthreads, head.nsteps);
	if (!rep) {
		r = -ENOMEM;
		goto out_fd;
	}
	rep->verdict = head.verdict;
	out->ret = head.ret;
	for (m = 0, r = 0; r == 0 && m < head.nmsgs; m++) {
		n = recv_dgram(fd, buf, AT_CTL_MAX_DGRAM, &deadline);
		if (n < 0)
			r = (int)n;
		else if (!hdr_ok(buf, n, AT_CTL_REP_ROWS, m + 1))
			r = -EPROTO;
		else
			r = read_rows(buf, n, rep, &next);
	}
	if (r == 0 && next != rep->nthreads)
		r = -EPROTO;
	if (r == 0) {
		n = recv_dgram(fd, buf, AT_CTL_MAX_DGRAM, &deadline);
		if (n < 0)
			r = (int)n;
		else if (!hdr_ok(buf, n, AT_CTL_REP_END, head.nmsgs + 1) ||
			 n != sizeof(struct at_ctl_hdr))
			r = -EPROTO;
	}
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EPIPE ? "the target exited during the request" :
			 r == -ETIMEDOUT ? "the helper did not answer in time" :
					   "malformed reply from the helper");
		at_report_free(rep);
		goto out_fd;
	}
	if (nested) {
		nsmap_scan(&ns, pid);
		nsmap_translate(&ns, rep);
	}
	out->report = rep;
	out->reached = true;
	r = 0;
out_fd:
	close(fd);
out_buf:
	if (mem >= 0)
		close(mem);
	if (dfd >= 0)
		close(dfd);
	if (w.pidfd >= 0)
		close(w.pidfd);
	free(ns.pair);
	free(buf);
	return r;
}
