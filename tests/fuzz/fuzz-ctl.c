// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-ctl.c - the helper's request decoder under libFuzzer: at_ctl_serve()
 * (lib/helper/ctl.c) fed arbitrary messages, every reply checked.
 *
 * Input: one byte of options, then the message as it came off the socket.
 * A message that starts with a proof (AT_CTL_REQ_PROOF) is served as the
 * receiver serves it: a challenge is made for connection (options >> 3) %
 * AT_CTL_MAX_CONN, at_ctl_authorize() checks the proof (which must never
 * pass: the secret is fresh and random), and the rest is served as the
 * request.
 *   bit 0  the target opted in to raw system calls (ALLTHREADS_ALLOW_RAW)
 *   bit 1  the sender was not authorized (an error reply, nothing run)
 *   bit 2  the datagram was truncated: LEN says more than AT_CTL_MAX_MSG
 *   bits 3-7  how many threads the fake run reports (0..31 x 97)
 *
 * The engine is a test double.  The harness links lib/helper/ctl.c and lib/engine/api.c
 * (the real program builder and report accessors) but not broadcast.c or
 * sigctx.c: at_broadcast() below is what allthreads_run() calls, and it
 * runs nothing.  A real run would make set*id, capset and seccomp calls on
 * the fuzzer's own threads, which changes its credentials for every later
 * input (and seccomp would kill it).  Instead the double checks the
 * program the decoder built, which is the promise that matters: only
 * allowed calls unless raw calls were opted in to, and every pointer
 * argument of an allowed call points into the message itself (or at a
 * struct sock_fprog in the scratch area whose filter does), with the bytes
 * it claims; a number from the wire is never an address.  It then returns a
 * report of made-up threads, so the reply builder runs too.
 *
 * The send callback checks every reply datagram: magic, version, length,
 * sequence, and the order ERROR alone, or HEAD, ROWS..., END with the
 * counts HEAD announced.  Any broken promise aborts (a crash to libFuzzer).
 * tests/fuzz/replay.c runs the same entry point over the corpus in the
 * normal test suite.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "report.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz-ctl: %s:%d: %s\n", __FILE__,     \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Descriptors the double hands out as proofs, at most, per input. */
#define AT_FUZZ_MAX_PROOFS 16

/* What the current input is, for the double and the checker. */
static struct {
	const uint8_t *msg;
	size_t msglen; /* bytes really there */
	bool raw_ok;
	unsigned nthreads;
	struct at_ctl_scratch *scratch;
	bool ran;
	unsigned nsteps;
	int proof[AT_FUZZ_MAX_PROOFS]; /* descriptors the proofs "opened" */
	unsigned nproof;
} cur;

/* --- the engine double ----------------------------------------------------- */

static bool inside(long p, size_t len)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)cur.msg;

	return a >= lo && len <= cur.msglen && a - lo <= cur.msglen - len;
}

static uint32_t cap_header_version(long hdr)
{
	uint32_t v;

	if (!inside(hdr, 8))
		return 0;
	memcpy(&v, (const void *)hdr, sizeof(v));
	return v;
}

/* One call as the engine would make it: allowed (or raw), and every
 * pointer argument inside the message.  With raw calls opted in to,
 * nothing is promised about arguments: any number may be an address, and
 * a buffer may stand for any argument (the fuzzer found setgroups() whose
 * count became a pointer that way: corpus/ctl/regress-raw-buffer-for-
 * count), so only the call number is checked. */
/* Is the message being served a landlock request? */
static bool is_landlock(void)
{
	return cur.msglen >= sizeof(struct at_ctl_hdr) &&
	       ((const struct at_ctl_hdr *)cur.msg)->op == AT_CTL_REQ_LANDLOCK;
}

static void check_call(long nr, const long *args)
{
	struct at_ptrspec spec[AT_STEP_MAX_RELOCS];
	uint32_t capver = 0;
	int n, i;

	CHECK(nr >= 0 && nr <= 4095);
	if (cur.raw_ok)
		return;
	/* A landlock request (lib/helper/ctl-landlock.c) runs its own three steps
	 * on a ruleset the helper built: PR_SET_NO_NEW_PRIVS,
	 * landlock_restrict_self(fd, 0) and the proving openat("/"). */
	if (is_landlock()) {
		CHECK((nr == SYS_prctl && args[0] == PR_SET_NO_NEW_PRIVS) ||
		      nr == SYS_landlock_restrict_self || nr == SYS_openat);
		return;
	}
	CHECK(at_ctl_call_allowed(nr, args));
	if (nr == SYS_capset || nr == SYS_capget) {
		capver = cap_header_version(args[0]);
		CHECK(capver != 0);
	}
	n = at_pointer_args(nr, args, capver, spec);
	for (i = 0; i < n; i++) {
		long v = args[spec[i].arg];

		if (spec[i].nullable && v == 0)
			continue;
		if (spec[i].kind == AT_RELOC_FPROG) {
			const struct sock_fprog *fp = (const void *)v;
			uintptr_t lo = (uintptr_t)cur.scratch->fprog;

			CHECK((uintptr_t)v >= lo &&
			      (uintptr_t)v < lo + sizeof(cur.scratch->fprog) &&
			      ((uintptr_t)v - lo) % sizeof(*fp) == 0);
			CHECK(fp->len >= 1 && fp->len <= AT_MAX_FILTER);
			CHECK(inside((long)fp->filter, (size_t)fp->len * 8));
			continue;
		}
		CHECK(inside(v, spec[i].minlen));
		if (spec[i].nul)
			CHECK(memchr((const void *)v, 0,
				     cur.msglen -
					     (size_t)((uintptr_t)v -
						      (uintptr_t)cur.msg)));
	}
}

/* A made-up result, except for a landlock request's proving openat("/"):
 * a thread that ran it and has no domain returns a real descriptor, which
 * the helper must close, and a thread that never ran it must have none
 * closed for it (its slot reads 0: the harness's stdin).  A raw openat of
 * a run request is the caller's own: its made-up result is no descriptor
 * (the helper leaves what a raw call returns to its caller). */
static long result_of(const struct at_step *st, unsigned i, unsigned s,
		      int nrun)
{
	int fd;

	if (st->nr != SYS_openat || !is_landlock())
		return (long)(i * 31 + s);
	if (nrun <= (int)s)
		return 0;
	if (i % 2 == 0 || cur.nproof == AT_FUZZ_MAX_PROOFS)
		return -EACCES;
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	cur.proof[cur.nproof++] = fd;
	return fd;
}

int at_broadcast(const struct at_step *steps, unsigned nsteps,
		 unsigned timeout_ms, bool hold,
		 enum allthreads_mismatch policy,
		 struct allthreads_report **reportp, long *first);
int at_broadcast(const struct at_step *steps, unsigned nsteps,
		 unsigned timeout_ms, bool hold,
		 enum allthreads_mismatch policy,
		 struct allthreads_report **reportp, long *first)
{
	struct allthreads_report *rep;
	unsigned i, s;

	CHECK(!cur.ran);
	cur.ran = true;
	CHECK(reportp && !first);
	CHECK(nsteps >= 1 && nsteps <= ALLTHREADS_MAX_STEPS);
	CHECK(timeout_ms <= AT_CTL_MAX_TIMEOUT_MS);
	CHECK((unsigned)policy <= ALLTHREADS_MISMATCH_IGNORE);
	(void)hold;
	for (i = 0; i < nsteps; i++) {
		const struct at_step *st = &steps[i];

		CHECK((unsigned)st->judge <= ALLTHREADS_JUDGE_ANY);
		check_call(st->nr, st->args);
		if (st->has_undo && st->has_save)
			check_call(st->save_nr, st->save_args);
		if (st->has_undo && st->undo_nr >= 0)
			check_call(st->undo_nr, st->undo_args);
	}
	cur.nsteps = nsteps;
	rep = at_report_new(cur.nthreads, nsteps);
	if (!rep)
		return -ENOMEM;
	rep->verdict = cur.nthreads % 3 ? ALLTHREADS_AGREE : ALLTHREADS_PARTIAL;
	for (i = 0; i < cur.nthreads; i++) {
		rep->t[i].tid = (pid_t)(1000 + i);
		rep->t[i].state = (int)(i % 9);
		rep->t[i].nrun = (int)(i % (nsteps + 1));
		rep->t[i].failed_step = -1;
		/* A diagnosis that fills the field: the reply must cut it. */
		memset(rep->t[i].why, 'w', sizeof(rep->t[i].why) - 1);
		for (s = 0; s < nsteps; s++)
			rep->res[(size_t)i * nsteps + s] =
				result_of(&steps[s], i, s, rep->t[i].nrun);
	}
	*reportp = rep;
	return 0;
}

int at_engine_signal(void);
int at_engine_signal(void)
{
	return 0;
}

/* --- the reply checker ------------------------------------------------------- */

struct replies {
	unsigned n;	/* datagrams seen */
	bool error;	/* the first was an error */
	bool head;	/* the first was a head */
	bool end;	/* the end came */
	unsigned nmsgs; /* rows datagrams the head announced */
	unsigned rows;	/* rows datagrams seen */
	unsigned next;	/* next row index expected */
	unsigned nthreads, nsteps;
};

static int check_send(void *ctx, const void *buf, size_t len)
{
	struct replies *r = ctx;
	struct at_ctl_hdr h;

	CHECK(len >= sizeof(h) && len <= AT_CTL_MAX_DGRAM);
	memcpy(&h, buf, sizeof(h));
	CHECK(h.magic == AT_CTL_MAGIC && h.version == AT_CTL_VERSION);
	CHECK(h.len == len);
	CHECK(h.seq == r->n);
	CHECK(!r->error && !r->end); /* nothing after an error or the end */
	if (r->n++ == 0) {
		if (h.op == AT_CTL_REP_ERROR) {
			const struct at_ctl_rep_error *e = buf;

			CHECK(len == sizeof(*e));
			CHECK(e->err < 0 && e->err >= -4095);
			CHECK(memchr(e->msg, 0, sizeof(e->msg)));
			CHECK(e->msg[0] != 0);
			r->error = true;
			return 0;
		}
		CHECK(h.op == AT_CTL_REP_HEAD);
		{
			const struct at_ctl_rep_head *hd = buf;

			CHECK(len == sizeof(*hd));
			CHECK(cur.ran);
			CHECK(hd->nthreads == cur.nthreads);
			CHECK(hd->nsteps == cur.nsteps);
			CHECK(hd->verdict <= ALLTHREADS_FAILED);
			CHECK((hd->nthreads == 0) == (hd->nmsgs == 0));
			r->head = true;
			r->nmsgs = hd->nmsgs;
			r->nthreads = hd->nthreads;
			r->nsteps = hd->nsteps;
		}
		return 0;
	}
	CHECK(r->head);
	if (h.op == AT_CTL_REP_END) {
		CHECK(len == sizeof(h));
		CHECK(r->rows == r->nmsgs && r->next == r->nthreads);
		r->end = true;
		return 0;
	}
	CHECK(h.op == AT_CTL_REP_ROWS);
	{
		const struct at_ctl_rep_rows *rw = buf;
		size_t rowsz =
			sizeof(struct at_ctl_row) + (size_t)r->nsteps * 8;
		const uint8_t *p = (const uint8_t *)(rw + 1);
		unsigned i;

		CHECK(len >= sizeof(*rw));
		CHECK(rw->first == r->next && rw->count > 0);
		CHECK(rw->count <= r->nthreads - r->next);
		CHECK(len == sizeof(*rw) + rw->count * rowsz);
		for (i = 0; i < rw->count; i++, p += rowsz) {
			struct at_ctl_row row;

			memcpy(&row, p, sizeof(row));
			CHECK(row.tid == (int32_t)(1000 + rw->first + i));
			CHECK(memchr(row.why, 0, sizeof(row.why)));
		}
		r->next += rw->count;
		r->rows++;
	}
	return 0;
}

static int ignore_send(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	CHECK(len == sizeof(struct at_ctl_hello));
	return 0;
}

/* --- the entry point ------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct at_ctl_scratch scratch;
	static uint8_t out[AT_CTL_MAX_DGRAM];
	static bool std_open[3], std_seen;
	struct replies r = { 0 };
	uint8_t opt;
	size_t len, buflen;
	uint8_t *msg;
	int ret;

	if (!std_seen) {
		for (int fd = 0; fd <= 2; fd++)
			std_open[fd] = fcntl(fd, F_GETFD) >= 0;
		std_seen = true;
	}
	if (size < 1)
		return 0;
	opt = data[0];
	data++;
	size--;
	/* A datagram is never bigger than the receiver's buffer; a
	 * truncated one (MSG_TRUNC) fills it and LEN says how big it was. */
	buflen = size > AT_CTL_MAX_MSG ? AT_CTL_MAX_MSG : size;
	if (opt & 4)
		buflen = AT_CTL_MAX_MSG;
	len = opt & 4 ? AT_CTL_MAX_MSG + 1 + size : buflen;
	/* Exactly the message's bytes, so any read past them is caught. */
	msg = calloc(1, buflen ? buflen : 1);
	if (!msg)
		return 0;
	memcpy(msg, data, size < buflen ? size : buflen);

	memset(&cur, 0, sizeof(cur));
	cur.msg = msg;
	cur.msglen = buflen;
	cur.raw_ok = opt & 1;
	cur.nthreads = (unsigned)(opt >> 3) * 97;
	cur.scratch = &scratch;

	if (buflen >= sizeof(struct at_ctl_proof) &&
	    ((struct at_ctl_hdr *)msg)->op == AT_CTL_REQ_PROOF) {
		unsigned slot = (unsigned)(opt >> 3) % AT_CTL_MAX_CONN;
		char why[160];

		CHECK(at_ctl_auth_init() == 0);
		CHECK(at_ctl_send_hello(slot, out, ignore_send, NULL) == 0);
		CHECK(((struct at_ctl_hello *)out)->hdr.op == AT_CTL_REP_HELLO);
		CHECK(at_ctl_authorize(slot, msg, len, why, sizeof(why)) ==
		      -EACCES);
		CHECK(memchr(why, 0, sizeof(why)) && why[0]);
		/* Spent: even the right secret no longer passes. */
		CHECK(at_ctl_authorize(slot, msg, len, why, sizeof(why)) ==
		      -EACCES);
		opt |= 2;
		cur.msg += sizeof(struct at_ctl_proof);
		cur.msglen -= sizeof(struct at_ctl_proof);
		len = len > AT_CTL_MAX_MSG ? AT_CTL_MAX_MSG + 1 :
					     len - sizeof(struct at_ctl_proof);
	}
	ret = at_ctl_serve((uint8_t *)cur.msg, len, !(opt & 2),
			   "not authorized (fuzz)", cur.raw_ok, &scratch, out,
			   check_send, &r);
	CHECK(ret == 0);
	if (getenv("FUZZ_CTL_VERBOSE"))
		fprintf(stderr, "fuzz-ctl: %s\n",
			cur.ran ? "ran" :
				  ((struct at_ctl_rep_error *)out)->msg);
	/* Exactly one complete answer. */
	CHECK(r.error || r.end);
	CHECK(r.error == !cur.ran);
	if (opt & 2 || opt & 4)
		CHECK(r.error && !cur.ran);
	/* Every proof's descriptor closed, and nothing else: the standard
	 * descriptors that were open at the start still are. */
	for (unsigned i = 0; i < cur.nproof; i++)
		CHECK(fcntl(cur.proof[i], F_GETFD) < 0 && errno == EBADF);
	for (int fd = 0; fd <= 2; fd++)
		CHECK(!std_open[fd] || fcntl(fd, F_GETFD) >= 0);
	free(msg);
	return 0;
}
