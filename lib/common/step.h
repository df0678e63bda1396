/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * step.h - the step program, the one format every route runs: its steps,
 * and which of a step's arguments point at buffers (so that a route that
 * runs the program in another process carries the bytes, never the
 * address).  lib/common/step-pack.c marshals the buffers into bytes plus
 * relocations; the helper's wire (ctl-proto.h) and the ptrace route's
 * scratch region (lib/target/ptrace-scratch.c) both carry that form.
 */
#ifndef AT_STEP_H
#define AT_STEP_H

#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "allthreads.h"

struct at_step {
	long nr;
	long args[ALLTHREADS_MAX_ARGS];
	int judge;
	bool has_save;
	bool has_undo;
	long save_nr;
	long save_args[ALLTHREADS_MAX_ARGS];
	long undo_nr;
	long undo_args[ALLTHREADS_MAX_ARGS];
};

struct allthreads_prog {
	unsigned n;
	struct at_step steps[ALLTHREADS_MAX_STEPS];
};

/* allthreads_prog_new(), _free(), _add() and _set_undo() (allthreads.h),
 * for every product (step.c). */
struct allthreads_prog *at_prog_new(void);
void at_prog_free(struct allthreads_prog *prog);
int at_prog_add(struct allthreads_prog *prog, long nr, unsigned nargs,
		const long *args, enum allthreads_judge judge);
int at_prog_set_undo(struct allthreads_prog *prog, unsigned step, long save_nr,
		     const long *save_args, long undo_nr,
		     const long *undo_args);

/* Which argument list of a step a buffer belongs to. */
enum at_reloc_list {
	AT_RELOC_ARGS = 0,
	AT_RELOC_SAVE = 1,
	AT_RELOC_UNDO = 2,
	AT_RELOC_UNUSED = 0xff,
};

/* How the bytes become the argument. */
enum at_reloc_kind {
	AT_RELOC_BUF = 0,   /* the argument points at the bytes */
	AT_RELOC_FPROG = 1, /* the bytes are struct sock_filter[]; the argument
			     * points at a struct sock_fprog built around them */
};

/* One buffer of a step: argument ARG of list LIST points at LEN bytes at
 * OFF in the program's data area.  The helper's wire carries it as is. */
struct at_reloc {
	uint8_t list;  /* enum at_reloc_list */
	uint8_t arg;   /* 0 .. ALLTHREADS_MAX_ARGS - 1 */
	uint16_t kind; /* enum at_reloc_kind */
	uint32_t off;  /* into the data area; a multiple of 8 */
	uint32_t len;
	uint32_t pad;
};

/* Most buffers a step has (two per argument list), and most bytes a
 * program's buffers take. */
#define AT_STEP_MAX_RELOCS 6
#define AT_STEP_MAX_DATA (64 * 1024)

/* One pointer argument of a call: which, and what the buffer must hold. */
struct at_ptrspec {
	int arg;
	int kind;	 /* enum at_reloc_kind */
	uint32_t minlen; /* bytes */
	uint32_t maxlen;
	bool nul;      /* must hold a NUL (a string) */
	bool nullable; /* 0 is fine instead of a buffer */
};

#define AT_CAP_V1_BYTES 12u /* one struct __user_cap_data_struct */
#define AT_CAP_V3_BYTES 24u /* two of them */
#define AT_MAX_GROUPS 65536u
#define AT_MAX_FILTER 4096u /* BPF_MAXINSNS */

/*
 * The pointer arguments of NR called with ARGS, into OUT (at most
 * 2); returns how many.  For capset/capget the data's size
 * depends on the header's version, which CAPVER gives (0 when unknown: both
 * sizes are accepted).  Calls not listed take no pointers.
 */
static inline int at_pointer_args(long nr, const long *args, uint32_t capver,
				  struct at_ptrspec *out)
{
	uint32_t datalen;

	switch (nr) {
	case SYS_prctl:
		if (args[0] == PR_SET_NAME) {
			out[0] = (struct at_ptrspec){
				.arg = 1, .minlen = 1, .maxlen = 16, .nul = true
			};
			return 1;
		}
		if (args[0] == PR_SET_SECCOMP &&
		    args[1] == SECCOMP_MODE_FILTER) {
			out[0] = (struct at_ptrspec){ .arg = 2,
						      .kind = AT_RELOC_FPROG,
						      .minlen = 8,
						      .maxlen = 8 *
								AT_MAX_FILTER };
			return 1;
		}
		return 0;
	case SYS_seccomp:
		if (args[0] != SECCOMP_SET_MODE_FILTER)
			return 0;
		out[0] = (struct at_ptrspec){ .arg = 2,
					      .kind = AT_RELOC_FPROG,
					      .minlen = 8,
					      .maxlen = 8 * AT_MAX_FILTER };
		return 1;
	case SYS_setgroups: {
		unsigned long n = (unsigned long)args[0];

		if (n > AT_MAX_GROUPS)
			n = AT_MAX_GROUPS + 1; /* refused by the length */
		out[0] = (struct at_ptrspec){ .arg = 1,
					      .minlen = (uint32_t)n * 4,
					      .maxlen = (uint32_t)n * 4,
					      .nullable = n == 0 };
		return 1;
	}
	case SYS_capset:
	case SYS_capget:
		datalen = capver == _LINUX_CAPABILITY_VERSION_1 ?
				  AT_CAP_V1_BYTES :
				  AT_CAP_V3_BYTES;
		out[0] = (struct at_ptrspec){ .arg = 0,
					      .minlen = 8,
					      .maxlen = 8 };
		out[1] = (struct at_ptrspec){
			.arg = 1,
			.minlen = capver ? datalen : AT_CAP_V1_BYTES,
			.maxlen = capver ? datalen : AT_CAP_V3_BYTES
		};
		return 2;
	}
	return 0;
}

#endif /* AT_STEP_H */
