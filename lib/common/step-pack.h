/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * step-pack.h - a step program's pointer arguments marshalled into bytes
 * plus relocations (step.h), the one form both routes carry into another
 * process: the helper's request (lib/target/ctl-request.c) and the ptrace
 * route's scratch region (lib/target/ptrace-scratch.c).
 */
#ifndef AT_STEP_PACK_H
#define AT_STEP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "step.h"

/* The data area the buffers are copied into. */
struct at_pack_area {
	uint8_t *data;
	size_t len; /* used so far */
	size_t cap;
};

/* Copy the buffers that step S's arguments point at (this process's own
 * memory) into AREA, 8-aligned, and say where each goes in RELOCS
 * (AT_STEP_MAX_RELOCS of them; the unused ones AT_RELOC_UNUSED).  A
 * seccomp filter travels as its instructions alone (AT_RELOC_FPROG).
 * 0, or -EFAULT (a NULL buffer), -EINVAL (a bad filter), -E2BIG. */
int at_step_pack(const struct at_step *s, struct at_reloc *relocs,
		 struct at_pack_area *area);

#endif /* AT_STEP_PACK_H */
