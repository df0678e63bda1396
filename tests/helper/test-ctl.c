// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ctl.c - the channel's pure parts, in process: the authorisation
 * check (the hello's challenge answered from this very process's memory,
 * once; nothing else, no copy of it in a forked child), and
 * at_ctl_serve() on hostile input (nothing runs, an error reply goes out).
 */
#include "../tap.h"
#include "ctl.h"
#include "ctl-client.h"
#include "hutil.h"

/* A child that stays alive until killed, so its memory can be opened;
 * returns once it runs its own code (its fork handlers have run).  RAW:
 * made by the clone system call itself (no fork handler runs). */
static pid_t sleeper(bool raw)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = raw ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
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

/* The hello of connection SLOT into H; its op. */
static int hello_for(unsigned slot, struct at_ctl_hello *h)
{
	static char out[AT_CTL_MAX_DGRAM];
	struct capture c = { -1, 0, 0 };

	memset(out, 0, sizeof(*h));
	at_ctl_send_hello(slot, out, capture_send, &c);
	memcpy(h, out, sizeof(*h));
	return c.op;
}

/* H's challenge answered from the memory MEM shows (a client's work). */
static void answer(int mem, const struct at_ctl_hello *h,
		   struct at_ctl_proof *p)
{
	memset(p, 0, sizeof(*p));
	p->hdr.magic = AT_CTL_MAGIC;
	p->hdr.version = AT_CTL_VERSION;
	p->hdr.op = AT_CTL_REQ_PROOF;
	p->hdr.len = sizeof(*p);
	if (pread(mem, p->secret, sizeof(p->secret), (off_t)h->secret_at) !=
	    (ssize_t)sizeof(p->secret))
		memset(p->secret, 0, sizeof(p->secret));
}

/* Does the proof made from child CHILD's memory get through? */
static int child_proof(pid_t child, unsigned slot)
{
	struct at_ctl_hello h;
	struct at_ctl_proof pr;
	char path[64], why[160];
	int fd, r = -1;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && hello_for(slot, &h) == AT_CTL_REP_HELLO) {
		answer(fd, &h, &pr);
		r = at_ctl_authorize(slot, &pr, sizeof(pr), why, sizeof(why));
	}
	if (fd >= 0)
		close(fd);
	return r;
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
	struct at_ctl_hello hello, hello1;
	struct at_ctl_proof proof, proof1;
	uint8_t digest[AT_CTL_DIGEST_LEN];
	char why[160];
	int fd, mem, raw;
	pid_t child;

	alarm(50);
	tap_ok(at_ctl_auth_init() == 0, "room for the secrets");
	tap_ok(at_ctl_authorize(0, NULL, 0, why, sizeof(why)) == -EACCES,
	       "no challenge yet: refused (%s)", why);
	tap_ok(hello_for(0, &hello) == AT_CTL_REP_HELLO,
	       "the hello is a challenge");
	at_ctl_digest((const uint8_t *)(uintptr_t)hello.secret_at, digest);
	tap_ok(memcmp(digest, hello.digest, sizeof(digest)) == 0,
	       "it names where the secret is and its digest");
	tap_ok(at_ctl_authorize(0, NULL, 0, why, sizeof(why)) == -EACCES,
	       "no proof: refused (%s)", why);
	mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	hello_for(0, &hello);
	answer(mem, &hello, &proof);
	tap_ok(at_ctl_authorize(0, &proof, sizeof(proof), why, sizeof(why)) ==
		       0,
	       "the secret read through our own /proc/PID/mem: allowed");
	tap_ok(at_ctl_authorize(0, &proof, sizeof(proof), why, sizeof(why)) ==
		       -EACCES,
	       "the same proof again: refused, a secret serves once (%s)", why);
	hello_for(0, &hello);
	hello_for(1, &hello1);
	answer(mem, &hello1, &proof1);
	answer(mem, &hello, &proof);
	proof.secret[31] ^= 1;
	tap_ok(at_ctl_authorize(0, &proof, sizeof(proof), why, sizeof(why)) ==
		       -EACCES,
	       "one bit wrong: refused (%s)", why);
	proof.secret[31] ^= 1;
	tap_ok(at_ctl_authorize(0, &proof, sizeof(proof), why, sizeof(why)) ==
		       -EACCES,
	       "and the right answer after a wrong one: refused");
	tap_ok(at_ctl_authorize(0, &proof1, sizeof(proof1), why, sizeof(why)) ==
		       -EACCES,
	       "connection 1's answer on connection 0: refused");
	hello_for(1, &hello1);
	answer(mem, &hello1, &proof1);
	at_ctl_forget(1);
	tap_ok(at_ctl_authorize(1, &proof1, sizeof(proof1), why, sizeof(why)) ==
		       -EACCES,
	       "a connection gone: its secret is forgotten");
	tap_ok(hello_for(AT_CTL_MAX_CONN, &hello) == AT_CTL_REP_ERROR,
	       "no secret for a connection out of range: an error reply");
	hello_for(2, &hello);
	answer(mem, &hello, &proof);
	proof.hdr.version = 2;
	tap_ok(at_ctl_authorize(2, &proof, sizeof(proof), why, sizeof(why)) ==
		       -EACCES,
	       "the right secret in a malformed proof: refused");
	close(mem);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	hello_for(0, &hello);
	answer(fd, &hello, &proof);
	tap_ok(at_ctl_authorize(0, &proof, sizeof(proof), why, sizeof(why)) ==
		       -EACCES,
	       "another file's bytes: refused (%s)", why);
	close(fd);
	/* A forked child has a copy of our memory: never of our secrets,
	 * however it was made (the page is wiped on fork, and fork handlers
	 * renew it). */
	for (raw = 0; raw < 2; raw++) {
		child = sleeper(raw);
		tap_ok(child > 0 && child_proof(child, 3) == -EACCES,
		       "a %s child's memory: refused",
		       raw ? "raw-cloned" : "forked");
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		mem = -1;
		hello_for(3, &hello); /* armed while the child is made */
		child = sleeper(raw);
		if (child > 0) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/%d/mem",
				 (int)child);
			mem = open(path, O_RDONLY | O_CLOEXEC);
		}
		answer(mem, &hello, &proof);
		tap_ok(mem >= 0 &&
			       at_ctl_authorize(3, &proof, sizeof(proof), why,
						sizeof(why)) == -EACCES,
		       "a challenge armed before a %s child was made, "
		       "answered from the child: refused",
		       raw ? "raw-cloned" : "forked");
		if (mem >= 0)
			close(mem);
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
	}

	/* A good request, then damaged copies of it. */
	prog = allthreads_prog_new();
	allthreads_prog_add(prog, SYS_prctl, 2, args, ALLTHREADS_JUDGE_EQUAL);
	len = at_ctl_serialize(prog, 1000, 0, 0, buf, sizeof(buf));
	tap_ok(len > 0 && st->ptr[0].list == AT_RELOC_ARGS &&
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
	st->ptr[0].list = AT_RELOC_UNUSED;
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
	st->ptr[0].list = AT_RELOC_UNUSED;
	tap_ok(serve(buf, (size_t)len, true) == AT_CTL_REP_HEAD,
	       "with the raw opt-in, getpid runs");
	allthreads_prog_free(prog);
	return tap_done();
}
