// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ctl.c - the channel's pure parts, in process: the ptrace-like
 * authorisation rule, the status parser, and at_ctl_serve() on hostile
 * input (nothing runs, an error reply goes out).
 */
#include "../tap.h"
#include "ctl.h"
#include "ctl-client.h"
#include "hutil.h"

static struct at_ctl_cred cred(uint32_t uid, uint32_t gid, uint64_t eff,
			       uint64_t prm, bool count)
{
	struct at_ctl_cred c;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < 4; i++) {
		c.uid[i] = uid;
		c.gid[i] = gid;
	}
	c.cap_eff = eff;
	c.cap_prm = prm;
	c.caps_count = count;
	return c;
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
	struct at_ctl_cred t = cred(1000, 1000, 0, 0, true);
	struct at_ctl_cred p = cred(1000, 1000, 0, 0, true);
	struct at_ctl_cred c;
	static char buf[AT_CTL_MAX_MSG];
	struct at_ctl_req *req = (struct at_ctl_req *)buf;
	struct at_ctl_step *st = (struct at_ctl_step *)(req + 1);
	struct allthreads_prog *prog;
	long len, args[2] = { PR_SET_NAME, (long)"abc" };
	int r;

	alarm(50);
	tap_ok(at_ctl_may_drive(&p, &t, true), "same ids, no caps: allowed");
	tap_ok(!at_ctl_may_drive(&p, &t, false), "not dumpable: refused");
	p.uid[0] = 1001;
	tap_ok(!at_ctl_may_drive(&p, &t, true), "other real uid: refused");
	p = cred(1000, 1000, 0, 0, true);
	t.uid[2] = 0;
	tap_ok(!at_ctl_may_drive(&p, &t, true),
	       "target's saved uid differs: refused");
	t = cred(1000, 1000, 0, 0, true);
	t.gid[1] = 5;
	tap_ok(!at_ctl_may_drive(&p, &t, true), "other gid: refused");
	t = cred(1000, 1000, 0, 1ULL << 12, true);
	tap_ok(!at_ctl_may_drive(&p, &t, true),
	       "target holds a capability the peer lacks: refused");
	p = cred(1000, 1000, 1ULL << 12, 1ULL << 12, true);
	tap_ok(at_ctl_may_drive(&p, &t, true),
	       "peer holds the target's capabilities: allowed");
	p = cred(0, 0, 1ULL << 19, 1ULL << 19, true);
	t = cred(1000, 1000, 0, 0, true);
	tap_ok(at_ctl_may_drive(&p, &t, false),
	       "CAP_SYS_PTRACE: allowed, even not dumpable");
	p.caps_count = false;
	tap_ok(!at_ctl_may_drive(&p, &t, true),
	       "CAP_SYS_PTRACE in another user namespace: refused");
	p = cred(65534, 65534, ~0ULL, ~0ULL, false);
	t = cred(65534, 65534, 0, 1, true);
	tap_ok(!at_ctl_may_drive(&p, &t, true),
	       "foreign-namespace capabilities do not count");

	r = at_ctl_parse_status("Name:\tx\nUid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n"
				"CapPrm:\t00000000000000ff\n"
				"CapEff:\t0000000000000001\n",
				&c);
	tap_ok(r == 0 && c.uid[0] == 1 && c.uid[3] == 4 && c.gid[2] == 7 &&
		       c.cap_prm == 0xff && c.cap_eff == 1,
	       "status parsed");
	tap_ok(at_ctl_parse_status("Name:\tx\nUid:\t1\t2\n", &c) < 0,
	       "a short status is refused");

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
