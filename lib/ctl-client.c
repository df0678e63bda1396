// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-client.c - the client's side of the control channel: find the
 * helper's socket of a process, turn a step program into a request (with
 * its pointer arguments' buffers inline), and read the reply back into a
 * struct allthreads_report.  Exported in ALLTHREADS_PRIVATE for the CLI
 * (cli/remote.c) and the tests; see ctl-client.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl-client.h"
#include "ctl-proto.h"
#include "report.h"
#include "run.h"

static void set_why(char *why, size_t len, const char *fmt, const char *arg)
{
	if (why && len)
		snprintf(why, len, fmt, arg);
}

/* --- serialising a program ------------------------------------------------ */

struct packer {
	uint8_t *buf;
	size_t cap;
	struct at_ctl_req *req;
	uint8_t *data;
	size_t data_len;
	size_t data_cap;
};

/* Copy LEN bytes from SRC into the data area, 8-aligned; offset or -E2BIG. */
static long pack_bytes(struct packer *pk, const void *src, size_t len)
{
	size_t off = (pk->data_len + 7) & ~(size_t)7;

	if (off > pk->data_cap || len > pk->data_cap - off)
		return -E2BIG;
	memset(pk->data + pk->data_len, 0, off - pk->data_len);
	memcpy(pk->data + off, src, len);
	pk->data_len = off + len;
	return (long)off;
}

/* The buffers of one argument list of a step (the client's own pointers,
 * copied). */
static int pack_list(struct packer *pk, struct at_ctl_step *st, unsigned *np,
		     unsigned list, long nr, const long *args)
{
	struct at_ctl_ptrspec spec[2];
	uint32_t capver = 0;
	int n, i;

	if ((nr == SYS_capset || nr == SYS_capget) && args[0])
		memcpy(&capver, (const void *)args[0], sizeof(capver));
	n = at_ctl_pointer_args(nr, args, capver, spec);
	for (i = 0; i < n; i++) {
		const void *src = (const void *)args[spec[i].arg];
		struct at_ctl_ptr *p;
		size_t len = spec[i].maxlen;
		long off;

		if (!src) {
			if (spec[i].nullable)
				continue;
			return -EFAULT;
		}
		if (spec[i].minlen > spec[i].maxlen)
			return -E2BIG; /* e.g. too many groups */
		if (spec[i].nul)
			len = strnlen(src, spec[i].maxlen - 1) + 1;
		if (spec[i].kind == AT_CTL_FPROG) {
			const struct sock_fprog *fp = src;

			if (!fp->filter || fp->len == 0 ||
			    fp->len > AT_CTL_MAX_FILTER)
				return -EINVAL;
			src = fp->filter;
			len = (size_t)fp->len * 8;
		}
		if (*np >= AT_CTL_MAX_PTRS)
			return -E2BIG;
		off = pack_bytes(pk, src, len);
		if (off < 0)
			return (int)off;
		p = &st->ptr[(*np)++];
		p->list = (uint8_t)list;
		p->arg = (uint8_t)spec[i].arg;
		p->kind = (uint16_t)spec[i].kind;
		p->off = (uint32_t)off;
		p->len = (uint32_t)len;
	}
	return 0;
}

static void put_list(int64_t *dst, const long *src)
{
	int i;

	for (i = 0; i < ALLTHREADS_MAX_ARGS; i++)
		dst[i] = src[i];
}

AT_EXPORT long at_ctl_serialize(const struct allthreads_prog *prog,
				unsigned timeout_ms, unsigned flags,
				enum allthreads_mismatch policy, void *buf,
				size_t len)
{
	struct at_ctl_step *steps;
	struct packer pk;
	size_t head;
	unsigned i, k;
	int r;

	if (!prog || !prog->n || prog->n > ALLTHREADS_MAX_STEPS || !buf ||
	    timeout_ms > AT_CTL_MAX_TIMEOUT_MS)
		return -EINVAL;
	head = sizeof(struct at_ctl_req) + prog->n * sizeof(*steps);
	if (len < head)
		return -ENOBUFS;
	memset(buf, 0, head);
	pk.buf = buf;
	pk.cap = len;
	pk.req = buf;
	steps = (struct at_ctl_step *)(pk.req + 1);
	pk.data = (uint8_t *)buf + head;
	pk.data_len = 0;
	pk.data_cap = len - head < AT_CTL_MAX_DATA ? len - head :
						     AT_CTL_MAX_DATA;
	for (i = 0; i < prog->n; i++) {
		const struct at_step *s = &prog->steps[i];
		struct at_ctl_step *st = &steps[i];
		unsigned np = 0;

		for (k = 0; k < AT_CTL_MAX_PTRS; k++)
			st->ptr[k].list = AT_CTL_UNUSED;
		st->nr = s->nr;
		put_list(st->args, s->args);
		st->nargs = ALLTHREADS_MAX_ARGS;
		st->judge = (uint32_t)s->judge;
		st->has_undo = s->has_undo;
		st->save_nr = s->has_save ? s->save_nr : -1;
		put_list(st->save_args, s->save_args);
		st->undo_nr = s->has_undo ? s->undo_nr : -1;
		put_list(st->undo_args, s->undo_args);
		r = pack_list(&pk, st, &np, AT_CTL_ARGS, s->nr, s->args);
		if (r == 0 && s->has_save)
			r = pack_list(&pk, st, &np, AT_CTL_SAVE, s->save_nr,
				      s->save_args);
		if (r == 0 && s->has_undo && s->undo_nr >= 0)
			r = pack_list(&pk, st, &np, AT_CTL_UNDO, s->undo_nr,
				      s->undo_args);
		if (r < 0)
			return r;
	}
	pk.req->hdr.magic = AT_CTL_MAGIC;
	pk.req->hdr.version = AT_CTL_VERSION;
	pk.req->hdr.op = AT_CTL_REQ_RUN;
	pk.req->hdr.len = (uint32_t)(head + pk.data_len);
	pk.req->nsteps = prog->n;
	pk.req->timeout_ms = timeout_ms;
	pk.req->flags = flags;
	pk.req->policy = (uint32_t)policy;
	pk.req->data_len = (uint32_t)pk.data_len;
	return (long)(head + pk.data_len);
}

/* --- finding the socket ------------------------------------------------------- */

/* Read /proc/PID/FILE (small) into BUF; length or -errno. */
static int read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	size_t got = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < 256 && got + 1 < len; i++) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	return (int)got;
}

/* TRY is a candidate; 0 if a socket is there (PATH filled), else -errno. */
static int probe(const char *try, char *path, size_t len)
{
	struct stat st;

	if (stat(try, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOENT;
	if (strlen(try) >= len)
		return -ENAMETOOLONG;
	strcpy(path, try);
	return 0;
}

static int scan_run_dir(pid_t pid, unsigned long nspid, char *path, size_t len,
			int *denied)
{
	char dir[64], try[PATH_MAX];
	struct dirent *de;
	int n = 0, r = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/root/run/allthreads", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (r != 0 && (de = readdir(d)) && n++ < 4096) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(try, sizeof(try), "%s/%.32s/%lu.sock", dir, de->d_name,
			 nspid);
		r = probe(try, path, len);
		*denied |= r == -EACCES || r == -EPERM;
	}
	closedir(d);
	return r;
}

AT_EXPORT int at_ctl_find_socket(pid_t pid, char *path, size_t len, char *why,
				 size_t whylen)
{
	char status[4096], env[8192], try[PATH_MAX], xdg[PATH_MAX] = "";
	unsigned long uids[4], nspid = 0;
	const char *p;
	int r, i, j, nenv, denied = 0;

	if (pid <= 0) {
		set_why(why, whylen, "%s", "bad process id");
		return -ESRCH;
	}
	r = read_proc(pid, "status", status, sizeof(status));
	if (r < 0) {
		set_why(why, whylen, "%s",
			r == -ENOENT ? "no such process" : strerror(-r));
		return r == -ENOENT ? -ESRCH : r;
	}
	p = strstr(status, "\nUid:");
	if (!p || sscanf(p + 5, "%lu %lu %lu %lu", &uids[0], &uids[1], &uids[2],
			 &uids[3]) != 4) {
		set_why(why, whylen, "%s", "cannot read the target's status");
		return -EINVAL;
	}
	/* The socket is named by the pid the target sees: the innermost
	 * one in NSpid. */
	p = strstr(status, "\nNSpid:");
	if (p) {
		char *end;

		p += 7;
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
	nenv = read_proc(pid, "environ", env, sizeof(env));
	for (i = 0; i < nenv; i += (int)strlen(env + i) + 1)
		if (!strncmp(env + i, "XDG_RUNTIME_DIR=/", 17)) {
			snprintf(xdg, sizeof(xdg), "%s", env + i + 16);
			break;
		}

	for (i = 0; i < 4; i++) {
		const char *fmt[] = {
			"/proc/%d/root/run/allthreads/%lu/%lu.sock",
			"/proc/%d/root/run/user/%lu/allthreads/"
			"%lu.sock",
			"/proc/%d/root/tmp/allthreads-%lu/%lu.sock"
		};

		for (j = 0; j < i; j++)
			if (uids[j] == uids[i])
				break;
		if (j < i)
			continue; /* seen */
		for (j = 0; j < 3; j++) {
			snprintf(try, sizeof(try), fmt[j], (int)pid, uids[i],
				 nspid);
			r = probe(try, path, len);
			if (r == 0)
				return 0;
			denied |= r == -EACCES || r == -EPERM;
			if (j == 0 && xdg[0]) {
				snprintf(try, sizeof(try),
					 "/proc/%d/root%s/allthreads/%lu.sock",
					 (int)pid, xdg, nspid);
				r = probe(try, path, len);
				if (r == 0)
					return 0;
				denied |= r == -EACCES || r == -EPERM;
			}
		}
	}
	/* A target that changed its uids since it started (a root process
	 * that dropped to another user) keeps its socket under the uid it
	 * started with: look through every /run/allthreads/<uid>/. */
	r = scan_run_dir(pid, nspid, path, len, &denied);
	if (r == 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH) {
		set_why(why, whylen, "%s", "no such process");
		return -ESRCH;
	}
	if (denied) {
		set_why(why, whylen, "%s",
			"permission denied (cannot reach the helper's socket)");
		return -EACCES;
	}
	set_why(why, whylen, "%s",
		"no helper (start the target with `allthreads run`)");
	return -ENOENT;
}

/* --- one call ------------------------------------------------------------------ */

static void mono(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static int ms_until(const struct timespec *t)
{
	struct timespec n;
	long long ms;

	mono(&n);
	ms = (long long)(t->tv_sec - n.tv_sec) * 1000 +
	     (t->tv_nsec - n.tv_nsec + 999999) / 1000000;
	return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Connect to the socket at PATH (through its directory, so any length
 * works), nonblocking; waits while the helper's backlog is full. */
static int connect_to(const char *path, const struct timespec *deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/');
	int dfd, fd, r, n;

	if (!base || (size_t)(base - path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, (size_t)(base - path));
	dir[base - path] = 0;
	dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd,
		 base + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto out_dir;
	}
	for (n = 0; n < 100000; n++) {
		struct timespec rest = { 0, 2000000L };

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			r = fd;
			goto out_dir;
		}
		if (errno != EAGAIN && errno != EINTR)
			break;
		if (ms_until(deadline) == 0) {
			errno = ETIMEDOUT;
			break;
		}
		nanosleep(&rest, NULL);
	}
	r = -errno;
	close(fd);
out_dir:
	close(dfd);
	return r;
}

/* One datagram into BUF (LEN bytes); its size, or -errno. */
static long recv_dgram(int fd, void *buf, size_t len,
		       const struct timespec *deadline)
{
	int n;

	for (n = 0; n < 100000; n++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r = recv(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC);
		int ms;

		if (r > (ssize_t)len)
			return -EMSGSIZE;
		if (r == 0)
			return -EPIPE; /* the helper went away */
		if (r > 0)
			return r;
		if (errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		ms = ms_until(deadline);
		if (ms == 0)
			return -ETIMEDOUT;
		poll(&p, 1, ms);
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
		memcpy(t->why, row->why, sizeof(t->why));
		t->why[sizeof(t->why) - 1] = 0;
		for (s = 0; s < rep->nsteps; s++)
			rep->res[(size_t)*next * rep->nsteps + s] = res[s];
		(*next)++;
	}
	return 0;
}

/* The socket must be held by PID itself (SO_PEERCRED names the process
 * that bound it, in our pid namespace): anyone can create a socket in a
 * directory they own, so the name alone proves nothing. */
static int check_peer(int fd, pid_t pid)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) < 0)
		return -errno;
	return uc.pid == pid ? 0 : -EACCES;
}

/*
 * Send REQ with an open /proc/PID/mem: the kernel lets us open it only if
 * we pass its PTRACE_MODE_ATTACH check on PID, which is exactly the rule
 * for driving the helper; the helper reads a secret of its own through
 * the descriptor to know it is its memory.
 */
static int send_with_proof(int fd, pid_t pid, const void *req, size_t reqlen)
{
	char path[64];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = reqlen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int mem, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0)
		return -errno;
	memset(&u, 0, sizeof(u));
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &mem, sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)reqlen)
		r = errno ? -errno : -EIO;
	close(mem);
	return r;
}

AT_EXPORT int at_ctl_call(pid_t pid, const char *path, const void *req,
			  size_t reqlen, unsigned timeout_ms,
			  struct at_ctl_result *out)
{
	struct allthreads_report *rep = NULL;
	struct at_ctl_rep_head head;
	struct timespec deadline;
	unsigned next = 0, m;
	void *buf;
	long n;
	int fd, r;

	memset(out, 0, sizeof(*out));
	mono(&deadline);
	deadline.tv_sec += (timeout_ms ? timeout_ms : 5000) / 1000 + 5;
	buf = malloc(AT_CTL_MAX_DGRAM);
	if (!buf)
		return -ENOMEM;
	fd = connect_to(path, &deadline);
	if (fd < 0) {
		r = fd;
		snprintf(out->why, sizeof(out->why),
			 "cannot connect to the helper: %s", strerror(-r));
		goto out_buf;
	}
	r = check_peer(fd, pid);
	if (r < 0) {
		snprintf(out->why, sizeof(out->why),
			 "the socket does not belong to process %d's helper",
			 (int)pid);
		goto out_fd;
	}
	r = send_with_proof(fd, pid, req, reqlen);
	if (r < 0) {
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EACCES || r == -EPERM ?
				 "permission denied: you may not ptrace "
				 "this process" :
				 "cannot send to the helper");
		goto out_fd;
	}
	n = recv_dgram(fd, buf, AT_CTL_MAX_DGRAM, &deadline);
	if (n < 0) {
		r = (int)n;
		snprintf(out->why, sizeof(out->why), "%s",
			 r == -EPIPE ? "the target exited during the request" :
			 r == -ETIMEDOUT ? "the helper did not answer in time" :
					   strerror(-r));
		goto out_fd;
	}
	if (hdr_ok(buf, n, AT_CTL_REP_ERROR, 0) &&
	    n == sizeof(struct at_ctl_rep_error)) {
		const struct at_ctl_rep_error *e = buf;

		r = e->err < 0 && e->err >= -4095 ? e->err : -EPROTO;
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
	    head.ret < -4095 || head.nmsgs > head.nthreads) {
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
		allthreads_report_free(rep);
		goto out_fd;
	}
	out->report = rep;
	out->reached = true;
	r = 0;
out_fd:
	close(fd);
out_buf:
	free(buf);
	return r;
}
