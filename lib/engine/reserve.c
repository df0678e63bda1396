// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * reserve.c - the memory a run needs, reserved before its first signal:
 * between the first tgkill and the last release the initiator allocates
 * nothing.  Everything only grows.  Slot tables and result arrays are
 * never unmapped while a thread may still use them (see run.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "broadcast.h"

/* The smallest slot table. */
#define AT_MIN_SLOTS 256u

static struct at_reserve rsv;

static int reserve_table(uint32_t want)
{
	uint32_t cap = AT_MIN_SLOTS;
	struct at_slot *t;
	uint32_t *o;
	pid_t *k;

	while (cap < want)
		cap <<= 1;
	if (cap <= rsv.cap)
		return 0;
	/* One slot more in front: it holds the table's mask, so a handler
	 * always reads a mask that goes with the slots it reads (see
	 * lookup() in sigctx.c). */
	t = mmap(NULL, (size_t)(cap + 1) * sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -ENOMEM;
	atomic_store(&t[0].word, cap - 1);
	o = malloc((size_t)cap * sizeof(*o));
	k = realloc(rsv.known, (size_t)cap * sizeof(*k));
	if (!o || !k) {
		free(o);
		if (k)
			rsv.known = k;
		munmap(t, (size_t)(cap + 1) * sizeof(*t));
		return -ENOMEM;
	}
	free(rsv.order);
	rsv.order = o;
	rsv.known = k;
	rsv.table = t + 1;
	rsv.cap = cap;
	return 0;
}

static void *map_bytes(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int reserve_arrays(size_t longs, size_t nwhy)
{
	if (longs > rsv.arr_cap) {
		long *r = map_bytes(longs * sizeof(long));
		long *v = map_bytes(longs * sizeof(long));

		if (!r || !v) {
			if (r)
				munmap(r, longs * sizeof(long));
			if (v)
				munmap(v, longs * sizeof(long));
			return -ENOMEM;
		}
		if (rsv.res) {
			munmap(rsv.res, rsv.arr_cap * sizeof(long));
			munmap(rsv.saved, rsv.arr_cap * sizeof(long));
		}
		rsv.res = r;
		rsv.saved = v;
		rsv.arr_cap = longs;
	}
	if (nwhy > rsv.why_cap) {
		char(*w)[AT_WHY_LEN] = map_bytes(nwhy * sizeof(*w));

		if (!w)
			return -ENOMEM;
		if (rsv.why)
			munmap(rsv.why, rsv.why_cap * sizeof(*rsv.why));
		rsv.why = w;
		rsv.why_cap = nwhy;
	}
	return 0;
}

int at_reserve(uint32_t nthreads, unsigned nsteps, struct at_reserve **rsp)
{
	int ret;

	if (!rsv.sweep_buf && !(rsv.sweep_buf = malloc(AT_SWEEP_BUF)))
		return -ENOMEM;
	/* Room for several times today's threads: churn during the run
	 * (threads released early may start new ones, found by later
	 * sweeps).  The table is mapped lazily; untouched pages cost
	 * nothing.  At most half the slots are used (the load factor). */
	ret = reserve_table(nthreads * 8 + 8192);
	if (ret < 0)
		return ret;
	ret = reserve_arrays((size_t)(rsv.cap / 2) * nsteps, rsv.cap / 2);
	if (ret < 0)
		return ret;
	*rsp = &rsv;
	return 0;
}

void at_reserve_leave(void)
{
	rsv.table = NULL;
	rsv.cap = 0;
	rsv.res = rsv.saved = NULL;
	rsv.arr_cap = 0;
}

void at_reserve_forget(void)
{
	rsv.nknown = 0;
}
