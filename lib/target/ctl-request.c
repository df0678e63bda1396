// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl-request.c - a step program turned into the control channel's run
 * request (ctl-proto.h), its buffers marshalled (step-pack.h), for
 * at_ctl_call() (ctl-client.c) to send; see ctl-client.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ctl-client.h"
#include "ctl-proto.h"
#include "step-pack.h"

static void put_list(int64_t *dst, const long *src)
{
	int i;

	for (i = 0; i < ALLTHREADS_MAX_ARGS; i++)
		dst[i] = src[i];
}

long at_ctl_serialize(const struct allthreads_prog *prog, unsigned timeout_ms,
		      unsigned flags, enum allthreads_mismatch policy,
		      void *buf, size_t len)
{
	struct at_ctl_step *steps;
	struct at_pack_area area;
	struct at_ctl_req *req;
	size_t head;
	unsigned i;
	int r;

	if (!prog || !prog->n || prog->n > ALLTHREADS_MAX_STEPS || !buf ||
	    timeout_ms > AT_CTL_MAX_TIMEOUT_MS)
		return -EINVAL;
	head = sizeof(struct at_ctl_req) + prog->n * sizeof(*steps);
	if (len < head)
		return -ENOBUFS;
	memset(buf, 0, head);
	req = buf;
	steps = (struct at_ctl_step *)(req + 1);
	area.data = (uint8_t *)buf + head;
	area.len = 0;
	area.cap = len - head < AT_CTL_MAX_DATA ? len - head : AT_CTL_MAX_DATA;
	for (i = 0; i < prog->n; i++) {
		const struct at_step *s = &prog->steps[i];
		struct at_ctl_step *st = &steps[i];

		st->nr = s->nr;
		put_list(st->args, s->args);
		st->nargs = ALLTHREADS_MAX_ARGS;
		st->judge = (uint32_t)s->judge;
		st->has_undo = s->has_undo;
		st->save_nr = s->has_save ? s->save_nr : -1;
		put_list(st->save_args, s->save_args);
		st->undo_nr = s->has_undo ? s->undo_nr : -1;
		put_list(st->undo_args, s->undo_args);
		r = at_step_pack(s, st->ptr, &area);
		if (r < 0)
			return r;
	}
	req->hdr.magic = AT_CTL_MAGIC;
	req->hdr.version = AT_CTL_VERSION;
	req->hdr.op = AT_CTL_REQ_RUN;
	req->hdr.len = (uint32_t)(head + area.len);
	req->nsteps = prog->n;
	req->timeout_ms = timeout_ms;
	req->flags = flags;
	req->policy = (uint32_t)policy;
	req->data_len = (uint32_t)area.len;
	return (long)(head + area.len);
}
