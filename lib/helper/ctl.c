// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl.c - the helper's side of the control channel: the socket's place,
 * who may drive this process, and one request checked, run and answered.
 *
 * Nothing here prints: the process we live in owns stdout and stderr.  A
 * request that is malformed in any way gets an AT_CTL_REP_ERROR reply and
 * changes nothing; every length is checked before it is used.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/memops.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl-landlock.h"
#include "rawsys.h"
#include "sysret.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

/* --- who may drive us ------------------------------------------------------ */

static void set_why(char *why, size_t len, const char *what)
{
	if (why && len)
		snprintf(why, len, "%s", what);
}

/*
 * Who may drive this process: whoever could ptrace it, as the kernel
 * decides.  The hello on each connection is a challenge: a fresh random
 * secret of that connection lies in our memory, and the hello says where,
 * with its digest.  The client reads it through its own /proc/PID/mem of
 * this process, which the kernel let it open only if it passes
 * PTRACE_MODE_ATTACH on us (same ids, no capabilities it lacks, dumpable,
 * or CAP_SYS_PTRACE over our user namespace; Yama's rules too), and sends
 * back the bytes.  Only a reader of this live memory knows them: no
 * guessing about ids, capabilities or user namespaces here.  Nothing of
 * the client's but those bytes ever reaches us (no descriptor: whoever
 * holds the connection must not get a way into the memory the client
 * opened, whatever that memory has become since).
 *
 * The secrets live in a page of their own that the kernel wipes in a
 * child made by any kind of fork (MADV_WIPEONFORK: fork, _Fork, clone and
 * the raw system call alike), and pthread_atfork() renews them too; so a
 * forked child, whatever it does since (drop to another user and turn
 * dumpable again), shows none of ours in its memory.  Each secret serves
 * one proof: it is renewed once checked and when its connection goes.
 */
struct secret {
	uint8_t bytes[AT_CTL_SECRET_LEN];
	bool armed; /* announced, not yet checked */
};

static struct secret *secrets; /* AT_CTL_MAX_CONN of them, in one page */

static void renew(struct secret *sec)
{
	sec->armed = false;
	if (getrandom(sec->bytes, sizeof(sec->bytes), 0) !=
	    (ssize_t)sizeof(sec->bytes))
		memset(sec->bytes, 0, sizeof(sec->bytes));
}

static void renew_all(void)
{
	unsigned i;

	for (i = 0; secrets && i < AT_CTL_MAX_CONN; i++)
		renew(&secrets[i]);
}

int at_ctl_auth_init(void)
{
	static bool once;
	void *page;

	if (!secrets) {
		page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE),
			    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		if (page == MAP_FAILED)
			return -ENOMEM;
		/* Linux 4.14 and later; before, pthread_atfork() alone. */
		madvise(page, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK);
		secrets = page;
	}
	renew_all();
	if (!once && pthread_atfork(NULL, NULL, renew_all) == 0)
		once = true;
	return once ? 0 : -EIO;
}

void at_ctl_forget(unsigned slot)
{
	if (secrets && slot < AT_CTL_MAX_CONN)
		renew(&secrets[slot]);
}

/* A fresh secret for SLOT, announced in H: 0, or -EIO without one. */
static int challenge(unsigned slot, struct at_ctl_hello *h)
{
	struct secret *sec;

	if (!secrets || slot >= AT_CTL_MAX_CONN)
		return -EIO;
	sec = &secrets[slot];
	sec->armed = false;
	if (getrandom(sec->bytes, sizeof(sec->bytes), 0) !=
	    (ssize_t)sizeof(sec->bytes))
		return -EIO;
	h->secret_at = (uint64_t)(uintptr_t)sec->bytes;
	at_ctl_digest(sec->bytes, h->digest);
	sec->armed = true;
	return 0;
}

int at_ctl_authorize(unsigned slot, const void *proof, size_t len, char *why,
		     size_t wlen)
{
	struct at_ctl_proof p;
	struct secret *sec;
	bool same;

	if (!secrets || slot >= AT_CTL_MAX_CONN || !secrets[slot].armed) {
		set_why(why, wlen,
			"permission denied: no proof that the peer may ptrace "
			"this process (no challenge to answer)");
		return -EACCES;
	}
	sec = &secrets[slot];
	if (!proof || len < sizeof(p)) {
		renew(sec);
		set_why(why, wlen,
			"permission denied: no proof that the peer may ptrace "
			"this process (/proc/PID/mem)");
		return -EACCES;
	}
	memcpy(&p, proof, sizeof(p));
	/* Constant time: how far a wrong guess matched must not show. */
	same = p.hdr.magic == AT_CTL_MAGIC && p.hdr.version == AT_CTL_VERSION &&
	       p.hdr.op == AT_CTL_REQ_PROOF && p.hdr.len == sizeof(p) &&
	       memeql_sec(p.secret, sec->bytes, sizeof(p.secret));
	/* One proof per secret, right or wrong. */
	renew(sec);
	if (!same) {
		set_why(why, wlen,
			"permission denied: the proof is not this process's "
			"memory");
		return -EACCES;
	}
	return 0;
}

/* --- the socket's place -------------------------------------------------- */

/* Open DIR, creating it with MODE if missing; it must be a real directory
 * (no symlink), owned by UID, and grant nothing to group or others unless
 * SHARED (then it must be owned by root and writable only by root). */
static int open_dir(const char *dir, mode_t mode, uid_t uid, bool shared)
{
	struct stat st;
	int fd;

	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != uid ||
	    (st.st_mode & (shared ? 022 : 077))) {
		at_sys1(SYS_close, fd);
		return -EPERM;
	}
	return fd;
}

static bool is_dead_socket(int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *end;
	long pid;
	int fd, r;

	pid = strtol(name, &end, 10);
	if (end == name || strcmp(end, ".sock") || pid <= 0)
		return false;
	/* Our own pid: an earlier image of this process (exec), unless a
	 * process in another pid namespace that shares the directory has the
	 * same number; the probe below tells. */
	if (pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
		return false;
	/* Gone by pid; and nobody listens there (another pid namespace may
	 * share the directory). */
	if (strlen(name) > 64)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%.64s",
		 dirfd, name);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	r = r < 0 && errno == ECONNREFUSED;
	at_sys1(SYS_close, fd);
	return r;
}

/* Remove the sockets of processes that are gone (bounded). */
static void clean_stale(int dirfd)
{
	struct dirent *de;
	DIR *d;
	int n = 0, fd = dup(dirfd);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		at_sys1(SYS_close, fd);
		return;
	}
	while ((de = readdir(d)) && n++ < 4096)
		if (is_dead_socket(dirfd, de->d_name))
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

static int try_dir(char *path, size_t len, const char *dir, uid_t uid)
{
	int fd, n;

	fd = open_dir(dir, 0700, uid, false);
	if (fd < 0)
		return fd;
	clean_stale(fd);
	at_sys1(SYS_close, fd);
	n = snprintf(path, len, "%s/%d.sock", dir, (int)getpid());
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Where the socket goes, first that works:
 *   /run/allthreads/<uid>/        (root makes /run/allthreads 0755 and the
 *                                  per-uid directory 0700)
 *   $XDG_RUNTIME_DIR/allthreads/  (only if XDG_RUNTIME_DIR is ours, 0700)
 *   /tmp/allthreads-<uid>/
 * <uid> is the real uid.  Each directory is 0700 and owned by that uid, so
 * no other user can even reach the socket.  The client (ctl-client.c)
 * looks in the same places through /proc/PID/root.
 */
int at_ctl_socket_path(char *path, size_t len)
{
	uid_t uid = getuid();
	char dir[PATH_MAX];
	const char *xdg;
	int fd;

	if (geteuid() == 0 && uid == 0) {
		fd = open_dir("/run/allthreads", 0755, 0, true);
		if (fd >= 0)
			at_sys1(SYS_close, fd);
	}
	snprintf(dir, sizeof(dir), "/run/allthreads/%u", (unsigned)uid);
	if (try_dir(path, len, dir, uid) == 0)
		return 0;
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && xdg[0] == '/') {
		int xfd = open_dir(xdg, 0700, uid, false);

		if (xfd >= 0) {
			at_sys1(SYS_close, xfd);
			snprintf(dir, sizeof(dir), "%s/allthreads", xdg);
			if (try_dir(path, len, dir, uid) == 0)
				return 0;
		}
	}
	snprintf(dir, sizeof(dir), "/tmp/allthreads-%u", (unsigned)uid);
	return try_dir(path, len, dir, uid);
}

static bool listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	bool yes;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	yes = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	      errno == EAGAIN;
	at_sys1(SYS_close, fd);
	return yes;
}

int at_ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Ours from before an exec, or stale: remove it, unless someone
	 * listens there (a process of another pid namespace with our number,
	 * sharing the directory): never take over a live socket. */
	if (listening(path)) {
		ret = -EADDRINUSE;
		goto out_close;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		goto out_close;
	}
	return fd;
out_close:
	at_sys1(SYS_close, fd);
	return ret;
}

/* --- what may be asked ------------------------------------------------- */

static bool prctl_allowed(const long *a)
{
	switch (a[0]) {
	case PR_GET_DUMPABLE:
	case PR_GET_KEEPCAPS:
	case PR_SET_KEEPCAPS:
	case PR_SET_NAME:
	case PR_GET_SECCOMP:
	case PR_CAPBSET_READ:
	case PR_CAPBSET_DROP:
	case PR_GET_SECUREBITS:
	case PR_SET_SECUREBITS:
	case PR_GET_TIMERSLACK:
	case PR_SET_TIMERSLACK:
	case PR_SET_NO_NEW_PRIVS:
	case PR_GET_NO_NEW_PRIVS:
	case PR_CAP_AMBIENT:
	case PR_GET_SPECULATION_CTRL:
	case PR_SET_SPECULATION_CTRL:
		return true;
	case PR_SET_DUMPABLE:
		/* ALLTHREADS_SAVED: an undo back to what PR_GET_DUMPABLE
		 * read, which is 0 or 1 too. */
		return a[1] == 0 || a[1] == 1 || a[1] == ALLTHREADS_SAVED;
	case PR_SET_SECCOMP:
		/* Strict mode would kill the receiver at its next poll. */
		return a[1] == SECCOMP_MODE_FILTER;
	}
	return false;
}

bool at_ctl_call_allowed(long nr, const long *a)
{
	const unsigned long seccomp_flags = SECCOMP_FILTER_FLAG_TSYNC |
					    SECCOMP_FILTER_FLAG_LOG |
					    SECCOMP_FILTER_FLAG_SPEC_ALLOW |
					    SECCOMP_FILTER_FLAG_TSYNC_ESRCH;

	switch (nr) {
	case SYS_setuid:
	case SYS_setgid:
	case SYS_setreuid:
	case SYS_setregid:
	case SYS_setresuid:
	case SYS_setresgid:
	case SYS_setfsuid:
	case SYS_setfsgid:
	case SYS_setgroups:
	case SYS_capset:
	case SYS_capget:
	case SYS_getuid:
	case SYS_geteuid:
	case SYS_getgid:
	case SYS_getegid:
		return true;
	case SYS_prctl:
		return prctl_allowed(a);
	case SYS_seccomp:
		/* No NEW_LISTENER: it would hand out a descriptor. */
		return a[0] == SECCOMP_SET_MODE_FILTER &&
		       ((unsigned long)a[1] & ~seccomp_flags) == 0;
	}
	return false;
}

/* --- one request ----------------------------------------------------------- */

struct request {
	struct at_ctl_req *req;
	struct at_ctl_step *steps;
	uint8_t *data;
	bool raw_ok;
	struct at_ctl_scratch *scratch;
	const char *why; /* the first problem found */
};

/* The version in the inline capability header of list LIST of step ST,
 * or 0 without one. */
static uint32_t cap_version(const struct request *rq,
			    const struct at_ctl_step *st, unsigned list)
{
	unsigned k;

	/* The header is the buffer of argument 0. */
	for (k = 0; k < AT_STEP_MAX_RELOCS; k++) {
		const struct at_reloc *p = &st->ptr[k];
		uint32_t v;

		if (p->list == list && p->arg == 0 && p->len == 8) {
			memcpy(&v, rq->data + p->off, sizeof(v));
			return v;
		}
	}
	return 0;
}

/* Check the buffers of list LIST of step ST against the call's pointer
 * arguments and point them into our copy; ARGS is a copy to fill. */
static int place_pointers(struct request *rq, const struct at_ctl_step *st,
			  unsigned list, long nr, long *args)
{
	struct at_ptrspec spec[AT_STEP_MAX_RELOCS];
	bool used[AT_STEP_MAX_RELOCS] = { false };
	bool allowed = at_ctl_call_allowed(nr, args);
	uint32_t capver;
	int nspec, i;
	unsigned k;

	if (!allowed && !rq->raw_ok) {
		rq->why = "system call not allowed (raw system calls need "
			  "ALLTHREADS_ALLOW_RAW=1 in the target)";
		return -EPERM;
	}
	capver = (nr == SYS_capset || nr == SYS_capget) ?
			 cap_version(rq, st, list) :
			 0;
	if ((nr == SYS_capset || nr == SYS_capget) && capver == 0 && allowed) {
		rq->why = "capset/capget needs its header inline";
		return -EINVAL;
	}
	nspec = allowed ? at_pointer_args(nr, args, capver, spec) : 0;

	for (k = 0; k < AT_STEP_MAX_RELOCS; k++) {
		const struct at_reloc *p = &st->ptr[k];
		void *where;

		if (p->list != list)
			continue;
		where = rq->data + p->off;
		for (i = 0; i < nspec; i++)
			if (spec[i].arg == p->arg)
				break;
		if (i == nspec && !rq->raw_ok) {
			rq->why = "a buffer for an argument that takes none";
			return -EINVAL;
		}
		if (i < nspec) {
			if (used[i] || p->kind != spec[i].kind ||
			    p->len < spec[i].minlen ||
			    p->len > spec[i].maxlen ||
			    (spec[i].nul && !memchr(where, 0, p->len)) ||
			    (p->kind == AT_RELOC_FPROG && p->len % 8)) {
				rq->why = "a buffer of the wrong size or kind";
				return -EINVAL;
			}
			used[i] = true;
		}
		if (p->kind == AT_RELOC_FPROG) {
			struct sock_fprog *fp;

			if (rq->scratch->nfprog >=
				    sizeof(rq->scratch->fprog) /
					    sizeof(rq->scratch->fprog[0]) ||
			    p->len % 8 || p->len == 0) {
				rq->why = "a bad filter";
				return -EINVAL;
			}
			fp = &rq->scratch->fprog[rq->scratch->nfprog++];
			fp->len = (unsigned short)(p->len / 8);
			fp->filter = where;
			args[p->arg] = (long)fp;
		} else {
			args[p->arg] = (long)where;
		}
	}
	/* Every pointer argument of an allowed call must have come inline:
	 * a number from the wire is never used as an address. */
	for (i = 0; i < nspec; i++) {
		if (used[i])
			continue;
		if (!(spec[i].nullable && args[spec[i].arg] == 0)) {
			rq->why = "a pointer argument must travel inline";
			return -EINVAL;
		}
	}
	return 0;
}

/* The save or undo call NR (list LIST) of step ST, if it has one (NR >=
 * 0): a number we accept, its pointer arguments placed into ARGS.  0, or
 * -errno with BAD as the reason for a number out of range. */
static int place_call(struct request *rq, const struct at_ctl_step *st,
		      unsigned list, int64_t nr, long *args, const char *bad)
{
	if (nr < 0)
		return 0;
	if (nr > AT_MAX_SYSCALL_NR) {
		rq->why = bad;
		return -EINVAL;
	}
	return place_pointers(rq, st, list, (long)nr, args);
}

static void copy_list(long *dst, const int64_t *src)
{
	int i;

	for (i = 0; i < ALLTHREADS_MAX_ARGS; i++)
		dst[i] = (long)src[i];
}

/* Check the request's frame: sizes, counts, offsets.  0 or -errno. */
static int check_frame(struct request *rq, void *msg, size_t len)
{
	struct at_ctl_req *req = msg;
	size_t need;
	uint32_t i, k;

	if (len < sizeof(struct at_ctl_hdr)) {
		rq->why = "truncated header";
		return -EBADMSG;
	}
	if (req->hdr.magic != AT_CTL_MAGIC) {
		rq->why = "bad magic";
		return -EBADMSG;
	}
	if (req->hdr.version != AT_CTL_VERSION) {
		rq->why = "unsupported protocol version";
		return -EPROTONOSUPPORT;
	}
	if (len > AT_CTL_MAX_MSG) {
		rq->why = "message too big";
		return -EMSGSIZE;
	}
	if (req->hdr.op != AT_CTL_REQ_RUN) {
		rq->why = "unknown operation";
		return -EOPNOTSUPP;
	}
	if (len < sizeof(*req) || req->hdr.len != len) {
		rq->why = "length mismatch";
		return -EBADMSG;
	}
	if (req->nsteps == 0 || req->nsteps > ALLTHREADS_MAX_STEPS ||
	    req->data_len > AT_CTL_MAX_DATA) {
		rq->why = "bad step count or data length";
		return -EINVAL;
	}
	need = sizeof(*req) + (size_t)req->nsteps * sizeof(struct at_ctl_step) +
	       req->data_len;
	if (need != len) {
		rq->why = "length mismatch";
		return -EBADMSG;
	}
	if (req->timeout_ms > AT_CTL_MAX_TIMEOUT_MS ||
	    (req->flags & ~(uint32_t)(ALLTHREADS_HOLD | ALLTHREADS_NO_HOLD)) ||
	    req->policy > ALLTHREADS_MISMATCH_IGNORE) {
		rq->why = "bad timeout, flags or policy";
		return -EINVAL;
	}
	rq->req = req;
	rq->steps = (struct at_ctl_step *)(req + 1);
	rq->data = (uint8_t *)(rq->steps + req->nsteps);
	for (i = 0; i < req->nsteps; i++) {
		const struct at_ctl_step *st = &rq->steps[i];

		if (st->nargs > ALLTHREADS_MAX_ARGS ||
		    st->judge > ALLTHREADS_JUDGE_ANY || st->has_undo > 1 ||
		    st->nr < 0 || st->nr > AT_MAX_SYSCALL_NR) {
			rq->why = "bad step";
			return -EINVAL;
		}
		for (k = 0; k < AT_STEP_MAX_RELOCS; k++) {
			const struct at_reloc *p = &st->ptr[k];

			if (p->list == AT_RELOC_UNUSED)
				continue;
			if (p->list > AT_RELOC_UNDO ||
			    p->arg >= ALLTHREADS_MAX_ARGS ||
			    p->kind > AT_RELOC_FPROG || p->off % 8 ||
			    p->off > req->data_len ||
			    p->len > req->data_len - p->off) {
				rq->why = "bad buffer";
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Build the program; 0 or -errno with rq->why. */
static int build_prog(struct request *rq, struct allthreads_prog *prog)
{
	uint32_t i;
	int r;

	rq->scratch->nfprog = 0;
	for (i = 0; i < rq->req->nsteps; i++) {
		const struct at_ctl_step *st = &rq->steps[i];
		long args[ALLTHREADS_MAX_ARGS], save[ALLTHREADS_MAX_ARGS];
		long undo[ALLTHREADS_MAX_ARGS];

		copy_list(args, st->args);
		r = place_pointers(rq, st, AT_RELOC_ARGS, (long)st->nr, args);
		if (r < 0)
			return r;
		r = allthreads_prog_add(prog, (long)st->nr, ALLTHREADS_MAX_ARGS,
					args, (enum allthreads_judge)st->judge);
		if (r < 0) {
			rq->why = "bad step";
			return r;
		}
		if (!st->has_undo)
			continue;
		copy_list(save, st->save_args);
		copy_list(undo, st->undo_args);
		r = place_call(rq, st, AT_RELOC_SAVE, st->save_nr, save,
			       "bad save call");
		if (r < 0)
			return r;
		r = place_call(rq, st, AT_RELOC_UNDO, st->undo_nr, undo,
			       "bad undo call");
		if (r < 0)
			return r;
		r = allthreads_prog_set_undo(
			prog, i, st->save_nr < 0 ? -1 : (long)st->save_nr, save,
			st->undo_nr < 0 ? -1 : (long)st->undo_nr, undo);
		if (r < 0) {
			rq->why = "bad undo";
			return r;
		}
	}
	return 0;
}

static void put_hdr(struct at_ctl_hdr *h, uint16_t op, size_t len, uint32_t seq)
{
	h->magic = AT_CTL_MAGIC;
	h->version = AT_CTL_VERSION;
	h->op = op;
	h->len = (uint32_t)len;
	h->seq = seq;
}

static int send_error(int err, const char *msg, void *out, at_ctl_send_fn send,
		      void *ctx)
{
	struct at_ctl_rep_error *e = out;

	memset(e, 0, sizeof(*e));
	put_hdr(&e->hdr, AT_CTL_REP_ERROR, sizeof(*e), 0);
	e->err = err;
	snprintf(e->msg, sizeof(e->msg), "%s", msg ? msg : "error");
	return send(ctx, e, sizeof(*e));
}

int at_ctl_send_hello(unsigned slot, void *out, at_ctl_send_fn send, void *ctx)
{
	struct at_ctl_hello *h = out;

	memset(h, 0, sizeof(*h));
	if (challenge(slot, h) < 0)
		return send_error(-EACCES,
				  "the helper has no secret to check against",
				  out, send, ctx);
	put_hdr(&h->hdr, AT_CTL_REP_HELLO, sizeof(*h), 0);
	h->pid = (int32_t)getpid();
	return send(ctx, h, sizeof(*h));
}

int at_ctl_send_error(int err, const char *msg, void *out, at_ctl_send_fn send,
		      void *ctx)
{
	return send_error(err, msg, out, send, ctx);
}

/* The report's rows, less the thread HIDE (0: none). */
static int send_report(int ret, const struct allthreads_report *rep, pid_t hide,
		       void *out, at_ctl_send_fn send, void *ctx)
{
	unsigned total = allthreads_report_nthreads(rep), n = total;
	unsigned ns = allthreads_report_nsteps(rep);
	size_t rowsz = sizeof(struct at_ctl_row) + (size_t)ns * 8;
	unsigned per =
		(unsigned)((AT_CTL_MAX_DGRAM - sizeof(struct at_ctl_rep_rows)) /
			   rowsz);
	struct at_ctl_rep_head *h = out;
	unsigned i, first, seq = 0, src = 0;
	int r;

	for (i = 0; hide && i < total; i++)
		if (allthreads_report_tid(rep, i) == hide)
			n--;
	memset(h, 0, sizeof(*h));
	put_hdr(&h->hdr, AT_CTL_REP_HEAD, sizeof(*h), seq++);
	h->ret = ret;
	h->verdict = allthreads_report_verdict(rep);
	h->nthreads = n;
	h->nsteps = ns;
	h->nmsgs = (n + per - 1) / per;
	r = send(ctx, h, sizeof(*h));
	if (r < 0)
		return r;
	for (first = 0; first < n; first += per) {
		struct at_ctl_rep_rows *rows = out;
		unsigned count = n - first < per ? n - first : per;
		uint8_t *p = (uint8_t *)(rows + 1);
		size_t len = sizeof(*rows) + count * rowsz;

		memset(out, 0, len);
		put_hdr(&rows->hdr, AT_CTL_REP_ROWS, len, seq++);
		rows->first = first;
		rows->count = count;
		for (i = first; i < first + count; i++, src++) {
			struct at_ctl_row *row = (struct at_ctl_row *)p;
			int64_t *res = (int64_t *)(row + 1);
			unsigned s;

			while (hide && allthreads_report_tid(rep, src) == hide)
				src++;

			row->tid = allthreads_report_tid(rep, src);
			row->state = allthreads_report_state(rep, src);
			row->nrun =
				(int32_t)allthreads_report_steps_run(rep, src);
			row->failed_step =
				allthreads_report_failed_step(rep, src);
			row->left = (int32_t)allthreads_report_left_changed(
				rep, src);
			snprintf(row->why, sizeof(row->why), "%s",
				 allthreads_report_why(rep, src));
			for (s = 0; s < ns; s++)
				res[s] = allthreads_report_result(rep, src, s);
			p += rowsz;
		}
		r = send(ctx, out, len);
		if (r < 0)
			return r;
	}
	{
		struct at_ctl_hdr *end = out;

		put_hdr(end, AT_CTL_REP_END, sizeof(*end), seq);
		return send(ctx, end, sizeof(*end));
	}
}

int at_ctl_serve(void *msg, size_t len, bool authorized, const char *why,
		 bool raw_ok, struct at_ctl_scratch *scratch, void *out,
		 at_ctl_send_fn send, void *ctx)
{
	return at_ctl_serve_hooked(msg, len, authorized, why, raw_ok, scratch,
				   out, send, ctx, NULL);
}

int at_ctl_serve_hooked(void *msg, size_t len, bool authorized, const char *why,
			bool raw_ok, struct at_ctl_scratch *scratch, void *out,
			at_ctl_send_fn send, void *ctx,
			const struct at_ctl_hooks *hooks)
{
	struct request rq = { .raw_ok = raw_ok, .scratch = scratch };
	const char *stop = NULL;
	pid_t hide = 0;
	struct allthreads_report *rep = NULL;
	struct allthreads_prog *prog;
	int ret, r;

	if (!authorized)
		return send_error(-EACCES, why, out, send, ctx);
	/* Issue 10: Landlock is its own request (lib/helper/ctl-landlock.c). */
	if (len >= sizeof(struct at_ctl_hdr) && len <= AT_CTL_MAX_MSG &&
	    ((struct at_ctl_hdr *)msg)->op == AT_CTL_REQ_LANDLOCK) {
		const struct at_ctl_landlock_req *ll = msg;
		char whybuf[120];
		const char *llwhy = NULL;

		/* Its start-by deadline and its client, as for a run. */
		if (len >= sizeof(*ll) && hooks && hooks->before_run) {
			ret = hooks->before_run(hooks->ctx, ll->start_by_ns,
						&stop);
			if (ret < 0)
				return send_error(ret, stop, out, send, ctx);
		}
		ret = at_ctl_landlock(msg, len, &rep, &llwhy, whybuf,
				      sizeof(whybuf));
		if (!rep)
			return send_error(ret, llwhy, out, send, ctx);
		r = send_report(ret, rep, 0, out, send, ctx);
		allthreads_report_free(rep);
		return r;
	}
	ret = check_frame(&rq, msg, len);
	if (ret < 0)
		return send_error(ret, rq.why, out, send, ctx);
	prog = allthreads_prog_new();
	if (!prog)
		return send_error(-ENOMEM, "out of memory", out, send, ctx);
	ret = build_prog(&rq, prog);
	if (ret < 0) {
		r = send_error(ret, rq.why, out, send, ctx);
		goto out_prog;
	}
	/* Last chance to drop it: its deadline passed, or the client gave
	 * up and went away.  Nothing has changed yet. */
	if (hooks && hooks->before_run) {
		ret = hooks->before_run(hooks->ctx, rq.req->start_by_ns, &stop);
		if (ret < 0) {
			r = send_error(ret, stop, out, send, ctx);
			goto out_prog;
		}
	}
	if (hooks && hooks->run)
		ret = hooks->run(hooks->ctx, prog, rq.req->timeout_ms,
				 rq.req->flags,
				 (enum allthreads_mismatch)rq.req->policy, &rep,
				 &hide);
	else
		ret = allthreads_run(prog, rq.req->timeout_ms, rq.req->flags,
				     (enum allthreads_mismatch)rq.req->policy,
				     &rep);
	if (!rep)
		r = send_error(ret, "the run failed before it started", out,
			       send, ctx);
	else
		r = send_report(ret, rep, hide, out, send, ctx);
	allthreads_report_free(rep);
out_prog:
	allthreads_prog_free(prog);
	return r;
}
