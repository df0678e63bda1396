/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl.h - the helper's side of the control channel: where the socket lives,
 * who may use it, and how one request becomes a run and a reply.  Used by
 * receiver.c.  tests/helper/test-ctl.c, test-ctl-landlock.c and
 * tests/fuzz/fuzz-ctl.c compile ctl.c in and call at_ctl_serve() directly
 * (the fuzzer also at_ctl_call_allowed()).
 */
#ifndef AT_CTL_H
#define AT_CTL_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl-proto.h"

/* Make room for the connections' secrets that at_ctl_authorize() checks
 * (once, at start): 0 or -errno. */
int at_ctl_auth_init(void);
/* May the sender of a request drive this process?  PROOF (LEN bytes, or
 * NULL) is what came before the request on connection SLOT (0 ..
 * AT_CTL_MAX_CONN - 1): a struct at_ctl_proof holding the secret that
 * this connection's hello announced, which only a reader of this live
 * process's memory (/proc/PID/mem, which the kernel lets a caller open
 * only under its PTRACE_MODE_ATTACH rules) can know.  The secret is spent
 * by the check, right or wrong.  0, or -EACCES with a reason in WHY. */
int at_ctl_authorize(unsigned slot, const void *proof, size_t len, char *why,
		     size_t wlen);
/* Connection SLOT is gone: its secret is renewed, unannounced. */
void at_ctl_forget(unsigned slot);

/* Choose, create and check the socket's directory; PATH gets the socket's
 * full name (<dir>/<pid>.sock).  Removes stale sockets found there. */
int at_ctl_socket_path(char *path, size_t len);
/* Bind and listen on PATH (SOCK_SEQPACKET, nonblocking, close-on-exec);
 * returns the descriptor or -errno. */
int at_ctl_listen(const char *path);

/* Memory the receiver reserves once for serving requests. */
struct at_ctl_scratch {
	struct sock_fprog fprog[ALLTHREADS_MAX_STEPS * AT_STEP_MAX_RELOCS];
	unsigned nfprog;
};

/* Where replies go: returns 0 or -errno (then serving stops). */
typedef int (*at_ctl_send_fn)(void *ctx, const void *buf, size_t len);

/*
 * Serve one message MSG of LEN bytes (LEN may exceed AT_CTL_MAX_MSG: the
 * real size of a truncated datagram; then only the error reply is sent).
 * MSG must be writable and stay put while the run lasts: pointer arguments
 * point into it.  AUTHORIZED false: refused with WHY.  RAW_OK: the target
 * opted in to any system call.  OUT (AT_CTL_MAX_DGRAM bytes) holds each
 * reply datagram in turn.  Returns 0 when a reply (an error reply
 * included) went out, or the send error.
 */
int at_ctl_serve(void *msg, size_t len, bool authorized, const char *why,
		 bool raw_ok, struct at_ctl_scratch *scratch, void *out,
		 at_ctl_send_fn send, void *ctx);

/* What the receiver adds around a run (every member may be NULL). */
struct at_ctl_hooks {
	/* Just before the run: 0 to go on, or -errno with *WHY: then the
	 * request is answered with that error and nothing runs. */
	int (*before_run)(void *ctx, uint64_t start_by_ns, const char **why);
	/* Run PROG instead of allthreads_run() on the calling thread;
	 * *HIDE gets the TID of a thread of the helper's own that ran it and
	 * has exited since (left out of the report), or stays 0. */
	int (*run)(void *ctx, const struct allthreads_prog *prog,
		   unsigned timeout_ms, unsigned flags,
		   enum allthreads_mismatch policy,
		   struct allthreads_report **rep, pid_t *hide);
	void *ctx;
};

/* at_ctl_serve() with HOOKS (NULL: none). */
int at_ctl_serve_hooked(void *msg, size_t len, bool authorized, const char *why,
			bool raw_ok, struct at_ctl_scratch *scratch, void *out,
			at_ctl_send_fn send, void *ctx,
			const struct at_ctl_hooks *hooks);

/* The answer to a request that came without a proof on connection SLOT
 * (AT_CTL_REP_HELLO, announcing a fresh secret of SLOT), and a lone error
 * reply. */
int at_ctl_send_hello(unsigned slot, void *out, at_ctl_send_fn send, void *ctx);
int at_ctl_send_error(int err, const char *msg, void *out, at_ctl_send_fn send,
		      void *ctx);

/* Is NR with ARGS one of the credential and hardening calls? */
bool at_ctl_call_allowed(long nr, const long *args);

#endif /* AT_CTL_H */
