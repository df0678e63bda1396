// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * step-pack.c - marshalling a step's pointer arguments into bytes plus
 * relocations (step-pack.h).
 */
#include <errno.h>
#include <linux/filter.h>
#include <string.h>

#include "step-pack.h"

/* Copy LEN bytes from SRC into the data area, 8-aligned; offset or -E2BIG. */
static long pack_bytes(struct at_pack_area *a, const void *src, size_t len)
{
	size_t off = (a->len + 7) & ~(size_t)7;

	if (off > a->cap || len > a->cap - off)
		return -E2BIG;
	memset(a->data + a->len, 0, off - a->len);
	memcpy(a->data + off, src, len);
	a->len = off + len;
	return (long)off;
}

/* The buffers of one argument list of a step (the caller's own pointers,
 * copied); *NP counts the relocations used. */
static int pack_list(struct at_pack_area *a, struct at_reloc *relocs,
		     unsigned *np, unsigned list, long nr, const long *args)
{
	struct at_ptrspec spec[2];
	uint32_t capver = 0;
	int n, i;

	if ((nr == SYS_capset || nr == SYS_capget) && args[0])
		memcpy(&capver, (const void *)args[0], sizeof(capver));
	n = at_pointer_args(nr, args, capver, spec);
	for (i = 0; i < n; i++) {
		const void *src = (const void *)args[spec[i].arg];
		struct at_reloc *p;
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
		if (spec[i].kind == AT_RELOC_FPROG) {
			const struct sock_fprog *fp = src;

			if (!fp->filter || fp->len == 0 ||
			    fp->len > AT_MAX_FILTER)
				return -EINVAL;
			src = fp->filter;
			len = (size_t)fp->len * 8;
		}
		if (*np >= AT_STEP_MAX_RELOCS)
			return -E2BIG;
		off = pack_bytes(a, src, len);
		if (off < 0)
			return (int)off;
		p = &relocs[(*np)++];
		p->list = (uint8_t)list;
		p->arg = (uint8_t)spec[i].arg;
		p->kind = (uint16_t)spec[i].kind;
		p->off = (uint32_t)off;
		p->len = (uint32_t)len;
	}
	return 0;
}

int at_step_pack(const struct at_step *s, struct at_reloc *relocs,
		 struct at_pack_area *area)
{
	unsigned np = 0, k;
	int r;

	memset(relocs, 0, AT_STEP_MAX_RELOCS * sizeof(*relocs));
	for (k = 0; k < AT_STEP_MAX_RELOCS; k++)
		relocs[k].list = AT_RELOC_UNUSED;
	r = pack_list(area, relocs, &np, AT_RELOC_ARGS, s->nr, s->args);
	if (r == 0 && s->has_save)
		r = pack_list(area, relocs, &np, AT_RELOC_SAVE, s->save_nr,
			      s->save_args);
	if (r == 0 && s->has_undo && s->undo_nr >= 0)
		r = pack_list(area, relocs, &np, AT_RELOC_UNDO, s->undo_nr,
			      s->undo_args);
	return r;
}
