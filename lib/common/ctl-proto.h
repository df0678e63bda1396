/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-proto.h - the control channel's wire format, shared by the helper's
 * receiver (ctl.c) and the client (ctl-client.c).
 *
 * Transport: a SOCK_SEQPACKET Unix socket, so every message arrives whole or
 * not at all.  Every message starts with struct at_ctl_hdr; hdr.len is the
 * message's total size and must equal what recv() returned.  All integers
 * are host order (both ends run on the same machine).  Version 3:
 *
 *   client -> helper   AT_CTL_REQ_RUN: struct at_ctl_req, nsteps x struct
 *                      at_ctl_step, then data_len bytes of inline buffers,
 *                      first WITHOUT a proof
 *   helper -> client   AT_CTL_REP_HELLO, a challenge: where a fresh random
 *                      secret of this connection lies in the helper's
 *                      memory, and its digest (at_ctl_digest()).  The
 *                      kernel attaches the sender's credentials and, since
 *                      Linux 6.5, a pidfd of it: the client checks them
 *   client -> helper   struct at_ctl_proof (the secret, read by the client
 *                      through its own /proc/PID/mem of the target, opened
 *                      before it trusted anything, and sent only if its
 *                      digest matched), then the same request again, in
 *                      one datagram.  Never a descriptor.
 *   helper -> client   AT_CTL_REP_HEAD, then nmsgs x AT_CTL_REP_ROWS, then
 *                      AT_CTL_REP_END; or one AT_CTL_REP_ERROR instead
 *
 * A connection's secret serves one proof: it is renewed once checked, and
 * forgotten with the connection.  Version 2 added the hello and
 * at_ctl_req.start_by_ns; version 3 replaced the proof by descriptor (an
 * open /proc/PID/mem, which an exec could swap for another program's
 * memory) with the challenge.
 *
 * Pointer arguments never travel as numbers: a step names which argument
 * is a buffer (struct at_reloc, step.h, marshalled by step-pack.c) and the
 * bytes travel in the data area; the receiver points the argument into
 * its own copy.  Which arguments of which calls are pointers is decided
 * by at_pointer_args() (step.h), on both ends, from the call alone.
 */
#ifndef AT_CTL_PROTO_H
#define AT_CTL_PROTO_H

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "allthreads.h"
#include "report.h"
#include "step.h"

#define AT_CTL_MAGIC 0x31637461u /* "atc1" */
#define AT_CTL_VERSION 3
#define AT_CTL_HAS_HELLO 1     /* for tests built against either version */
#define AT_CTL_HAS_CHALLENGE 1 /* version 3 and later */
/* The challenge: a secret of this many bytes, and the text its digest
 * starts with (so that the digest of a secret is no digest anyone computes
 * for another purpose). */
#define AT_CTL_SECRET_LEN 32
#define AT_CTL_DIGEST_LEN 32 /* SHA-256 */
#define AT_CTL_DIGEST_TAG "allthreads proof v3"

/* Bounds: the biggest message either way, the data area of a request, the
 * biggest reply datagram, live connections, a step's inline buffers. */
#define AT_CTL_MAX_MSG (160 * 1024)
#define AT_CTL_MAX_DATA AT_STEP_MAX_DATA
#define AT_CTL_MAX_DGRAM (60 * 1024)
#define AT_CTL_MAX_CONN 4
#define AT_CTL_MAX_TIMEOUT_MS 60000u
/* Most threads a reply may describe (the client refuses more). */
#define AT_CTL_MAX_THREADS 262144u
/* How long a connection may stay silent, and how long a reply may take. */
#define AT_CTL_IDLE_MS 3000
/* How long a new connection may stay silent before its first request. */
#define AT_CTL_FIRST_MS 500
#define AT_CTL_SEND_MS 2000

enum at_ctl_op {
	AT_CTL_REQ_RUN = 1,
	AT_CTL_REQ_PROOF = 3, /* AT_CTL_REQ_LANDLOCK is 2, below */
	AT_CTL_REP_HELLO = 0x100,
	AT_CTL_REP_HEAD = 0x101,
	AT_CTL_REP_ROWS = 0x102,
	AT_CTL_REP_END = 0x103,
	AT_CTL_REP_ERROR = 0x1ff,
};

struct at_ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t len; /* the whole message, this header included */
	uint32_t seq; /* datagram number within one reply, from 0 */
};

struct at_ctl_step {
	int64_t nr;
	int64_t args[ALLTHREADS_MAX_ARGS];
	int64_t save_nr; /* < 0: none */
	int64_t save_args[ALLTHREADS_MAX_ARGS];
	int64_t undo_nr; /* < 0: none (with has_undo: nothing to undo) */
	int64_t undo_args[ALLTHREADS_MAX_ARGS];
	uint32_t nargs;
	uint32_t judge;
	uint32_t has_undo;
	uint32_t pad;
	struct at_reloc ptr[AT_STEP_MAX_RELOCS];
};

struct at_ctl_req {
	struct at_ctl_hdr hdr;
	uint32_t nsteps;
	uint32_t timeout_ms;
	uint32_t flags;	 /* enum allthreads_flags */
	uint32_t policy; /* enum allthreads_mismatch */
	uint32_t data_len;
	uint32_t pad;
	/* CLOCK_MONOTONIC (the target's clock), ns: the helper starts the run
	 * only before this instant, and only while the client is still
	 * connected; later, it answers -ETIMEDOUT and changes nothing.  0:
	 * no deadline. */
	uint64_t start_by_ns;
};

/* The helper's answer to a request without a proof: the challenge. */
struct at_ctl_hello {
	struct at_ctl_hdr hdr;
	int32_t pid; /* the helper's own getpid() (its pid namespace) */
	uint32_t pad;
	uint64_t secret_at; /* the secret's address in the helper's memory */
	uint8_t digest[AT_CTL_DIGEST_LEN]; /* at_ctl_digest() of it */
};

/* What the client sends back: the secret it read at secret_at through its
 * own /proc/PID/mem.  hdr.len is sizeof(struct at_ctl_proof); the request
 * follows it, whole, in the same datagram. */
struct at_ctl_proof {
	struct at_ctl_hdr hdr; /* AT_CTL_REQ_PROOF */
	uint8_t secret[AT_CTL_SECRET_LEN];
};

_Static_assert(sizeof(struct at_ctl_hello) == 64, "hello size");
_Static_assert(sizeof(struct at_ctl_proof) % 8 == 0, "proof alignment");

/* The digest a hello announces for SECRET: SHA-256 of AT_CTL_DIGEST_TAG
 * (without its NUL) followed by the secret.  The users link nettle. */
static inline void at_ctl_digest(const uint8_t *secret, uint8_t *digest)
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, sizeof(AT_CTL_DIGEST_TAG) - 1,
		      (const uint8_t *)AT_CTL_DIGEST_TAG);
	sha256_update(&c, AT_CTL_SECRET_LEN, secret);
	sha256_digest(&c, AT_CTL_DIGEST_LEN, digest);
}

struct at_ctl_rep_head {
	struct at_ctl_hdr hdr;
	int32_t ret; /* what allthreads_run() returned in the target */
	uint32_t verdict;
	uint32_t nthreads;
	uint32_t nsteps;
	uint32_t nmsgs; /* AT_CTL_REP_ROWS datagrams that follow */
	uint32_t pad;
};

/* One thread; nsteps int64_t results follow each row. */
struct at_ctl_row {
	int32_t tid;
	int32_t state;
	int32_t nrun;
	int32_t failed_step;
	int32_t left;
	uint32_t pad;
	char why[AT_WHY_LEN];
};

struct at_ctl_rep_rows {
	struct at_ctl_hdr hdr;
	uint32_t first; /* index of the first row */
	uint32_t count;
};

struct at_ctl_rep_error {
	struct at_ctl_hdr hdr;
	int32_t err; /* -errno */
	uint32_t pad;
	char msg[120]; /* NUL-terminated */
};

_Static_assert(sizeof(struct at_ctl_step) % 8 == 0, "step alignment");
_Static_assert(sizeof(struct at_ctl_req) % 8 == 0, "request alignment");
_Static_assert(sizeof(struct at_ctl_proof) + sizeof(struct at_ctl_req) +
			       ALLTHREADS_MAX_STEPS *
				       sizeof(struct at_ctl_step) +
			       AT_CTL_MAX_DATA <=
		       AT_CTL_MAX_MSG,
	       "the biggest request fits, behind its proof");

/* --- Landlock (issue 10) ---------------------------------------------------
 * One more request, served by lib/helper/ctl-landlock.c:
 *
 *   client -> helper   AT_CTL_REQ_LANDLOCK: struct at_ctl_landlock_req,
 *                      nrules x struct at_ctl_landlock_rule, then data_len
 *                      bytes holding each rule's path, NUL-terminated
 *   helper -> client   a run's reply (AT_CTL_REP_HEAD ...), or REP_ERROR
 *
 * The helper opens the paths itself, so they are resolved in the target's
 * mount namespace and root; it builds the ruleset, and every thread runs,
 * in one visit: PR_SET_NO_NEW_PRIVS, landlock_restrict_self(ruleset, 0),
 * and with AT_CTL_LL_PROVE openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY)
 * judged ANY (the client wants -EACCES there).
 */
#define AT_CTL_REQ_LANDLOCK 2
#define AT_CTL_LL_MAX_RULES 64
#define AT_CTL_LL_PROVE 1u

struct at_ctl_landlock_req {
	struct at_ctl_hdr hdr;
	uint64_t handled; /* handled_access_fs */
	uint32_t nrules;
	uint32_t timeout_ms;
	uint32_t policy;   /* enum allthreads_mismatch */
	uint32_t ll_flags; /* AT_CTL_LL_* */
	uint32_t data_len;
	uint32_t pad;
	uint64_t start_by_ns; /* as in struct at_ctl_req */
};

struct at_ctl_landlock_rule {
	uint64_t access; /* allowed_access */
	uint32_t off;	 /* the path, in the data area */
	uint32_t len;	 /* its length, the NUL included */
};

_Static_assert(sizeof(struct at_ctl_landlock_req) % 8 == 0,
	       "landlock request alignment");
_Static_assert(sizeof(struct at_ctl_proof) +
			       sizeof(struct at_ctl_landlock_req) +
			       AT_CTL_LL_MAX_RULES *
				       sizeof(struct at_ctl_landlock_rule) +
			       AT_CTL_MAX_DATA <=
		       AT_CTL_MAX_MSG,
	       "the biggest landlock request fits");

#endif /* AT_CTL_PROTO_H */
