// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ctl.c - the channel's pure parts, in process: the authorisation
 * check (a /proc/PID/mem of this very process, nothing else), and
 * at_ctl_serve() on hostile input (nothing runs, an error reply goes out).
 */
#include "../tap.h"
#include "ctl.h"
#include "ctl-client.h"
#include "hutil.h"

/* A child that stays alive until killed, so its memory can be opened;
 * returns once it runs its own code (its fork handlers have run). */
static pid_t sleeper(void)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		alarm(20);
		(void)!write(p[1], &c, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0)
		(void)!read(p[0], &c, 1);
	close(p[0]);
	return pid;
}

struct capture {
	int op, err, n;
};

static int capture_send(void *ctx, const void *buf, size_t len)
{
	struct capture *c = ctx;
	const struct at_ctl_rep_error *e = buf;

	if (c->n++ == 0) {
		c->op = e->hdr.op;
		c->err = e->hdr.op == AT_CTL_REP_ERROR && len == sizeof(*e) ?
				 e->err :
				 0;
	}
	return 0;
}

static int serve(void *msg, size_t len, bool raw)
{
	static struct at_ctl_scratch scratch;
	static char out[AT_CTL_MAX_DGRAM];
	struct capture c = { -1, 0, 0 };

	at_ctl_serve(msg, len, true, NULL, raw, &scratch, out, capture_send,
		     &c);
	return c.op == AT_CTL_REP_ERROR ? c.err : c.op;
}

int main(void)
{
	static char buf[AT_CTL_MAX_MSG];
	struct at_ctl_req *req = (struct at_ctl_req *)buf;
	struct at_ctl_step *st = (struct at_ctl_step *)(req + 1);
	struct allthreads_prog *prog;
	long len, args[2] = { PR_SET_NAME, (long)"abc" };
	char why[160], path[64];
	int fd;
	pid_t child;

	alarm(50);
	tap_ok(at_ctl_auth_init() == 0, "a secret to check against");
	tap_ok(at_ctl_authorize(-1, why, sizeof(why)) == -EACCES,
	       "no proof: refused (%s)", why);
	fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	tap_ok(fd >= 0 && at_ctl_authorize(fd, why, sizeof(why)) == 0,
	       "our own /proc/PID/mem, which the kernel let us open: allowed");
	close(fd);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	tap_ok(at_ctl_authorize(fd, why, sizeof(why)) == -EACCES,
	       "another file: refused (%s)", why);
	close(fd);
	/* A forked child has a copy of our memory: its secret must differ. */
	child = sleeper();
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	tap_ok(fd >= 0 && at_ctl_authorize(fd, why, sizeof(why)) == -EACCES,
	       "a forked child's memory: refused (%s)", why);
	if (fd >= 0)
		close(fd);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* A good request, then damaged copies of it. */
	prog = allthreads_prog_new();
	allthreads_prog_add(prog, SYS_prctl, 2, args, ALLTHREADS_JUDGE_EQUAL);
	len = at_ctl_serialize(prog, 1000, 0, 0, buf, sizeof(buf));
	tap_ok(len > 0 && st->ptr[0].list == AT_CTL_ARGS &&
		       st->ptr[0].arg == 1 && st->ptr[0].len == 4,
	       "PR_SET_NAME's string travels inline (%ld bytes)", len);
	tap_ok(serve(buf, 3, false) == -EBADMSG, "3 bytes: EBADMSG");
	tap_ok(serve(buf, (size_t)len + 8, false) == -EBADMSG,
	       "length mismatch: EBADMSG");
	tap_ok(serve(buf, AT_CTL_MAX_MSG + 100, false) == -EMSGSIZE,
	       "oversized: EMSGSIZE");
	req->hdr.magic ^= 1;
	tap_ok(serve(buf, (size_t)len, false) == -EBADMSG, "bad magic");
	req->hdr.magic ^= 1;
	req->hdr.op = 77;
	tap_ok(serve(buf, (size_t)len, false) == -EOPNOTSUPP, "unknown op");
	req->hdr.op = AT_CTL_REQ_RUN;
	req->policy = 9;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL, "bad policy");
	req->policy = 0;
	req->timeout_ms = 1000000;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL, "huge timeout");
	req->timeout_ms = 1000;
	st->ptr[0].len = 17;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL,
	       "a buffer running past the data area");
	st->ptr[0].len = 4;
	st->ptr[0].off = 3;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL,
	       "a misaligned buffer");
	st->ptr[0].off = 0;
	memset(buf + len - req->data_len, 'x', req->data_len);
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL,
	       "a name without its NUL");
	st->ptr[0].list = AT_CTL_UNUSED;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL,
	       "a pointer sent as a number");
	st->nr = SYS_getpid;
	tap_ok(serve(buf, (size_t)len, false) == -EPERM,
	       "a call off the allowlist: EPERM");
	st->nr = SYS_prctl;
	st->args[0] = PR_SET_SECCOMP;
	st->args[1] = 1; /* strict */
	tap_ok(serve(buf, (size_t)len, false) == -EPERM,
	       "seccomp strict mode: EPERM");
	st->args[0] = PR_SET_KEEPCAPS;
	st->args[1] = 0;
	st->judge = 7;
	tap_ok(serve(buf, (size_t)len, false) == -EINVAL, "bad judge");
	st->judge = 0;
	st->nr = SYS_getpid;
	st->ptr[0].list = AT_CTL_UNUSED;
	tap_ok(serve(buf, (size_t)len, true) == AT_CTL_REP_HEAD,
	       "with the raw opt-in, getpid runs");
	allthreads_prog_free(prog);
	return tap_done();
}
