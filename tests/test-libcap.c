/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-libcap.c - libcap's state-writing calls go through the engine when
 * liballthreads is linked before libcap: libcap's constructor finds our
 * strong psx_load_syscalls().  This program is linked that way
 * (-Wl,--no-as-needed, liballthreads first) and never calls the engine
 * itself for the changes it checks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define WORKERS 5

static bool tasks_cap_clear(const char *key, int bit)
{
	pid_t tids[64];
	int n = tu_task_list(tids, 64);

	if (n != WORKERS + 1)
		return false;
	for (int i = 0; i < n; i++) {
		long long v = tu_task_status_num(tids[i], key, 16);

		if (v < 0 || ((v >> bit) & 1)) {
			tap_diag("child: tid %d %s %llx", (int)tids[i], key, v);
			return false;
		}
	}
	return true;
}

static int set_proc_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(WORKERS, 20000);
	const cap_value_t raw[] = { CAP_NET_RAW };
	cap_t caps = cap_get_proc();

	(void)arg;
	if (!pool || !caps)
		return 10;
	if (cap_set_flag(caps, CAP_EFFECTIVE, 1, raw, CAP_CLEAR) ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, raw, CAP_CLEAR) ||
	    cap_set_proc(caps))
		return 11;
	cap_free(caps);
	if (!tasks_cap_clear("CapEff", CAP_NET_RAW) ||
	    !tasks_cap_clear("CapPrm", CAP_NET_RAW))
		return 12;
	if (tu_has_cap(CAP_SETPCAP)) {
		if (cap_drop_bound(CAP_NET_RAW) != 0)
			return 13;
		if (!tasks_cap_clear("CapBnd", CAP_NET_RAW))
			return 14;
	}
	return 0;
}

int main(void)
{
	struct tu_pool *pool;
	int rc, ws = 0, err;

	tu_watchdog(60);
	pool = tu_pool_new(WORKERS, 40000);
	if (!pool)
		tap_bail("cannot start workers");

	/* Before any engine call from here: libcap is the only route. */
	rc = cap_prctlw(PR_SET_KEEPCAPS, 1, 0, 0, 0, 0);
	tap_ok(rc == 0 && prctl(PR_GET_KEEPCAPS) == 1 &&
		       tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 1) == 0,
	       "cap_prctlw(PR_SET_KEEPCAPS, 1) reaches every thread");
	rc = cap_prctlw(PR_SET_KEEPCAPS, 0, 0, 0, 0, 0);
	tap_ok(rc == 0 && tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 0) == 0,
	       "cap_prctlw(PR_SET_KEEPCAPS, 0) reaches every thread");
	errno = 0;
	rc = cap_prctlw(PR_SET_KEEPCAPS, 5, 0, 0, 0, 0);
	err = errno;
	tap_ok(rc == -1 && err == EINVAL,
	       "cap_prctlw(PR_SET_KEEPCAPS, 5): -1 with errno EINVAL (%d, %s)",
	       rc, strerror(err));
	tap_ok(tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) == 0 &&
		       tu_pool_keepcaps_wrong(pool, 0) == 0 &&
		       prctl(PR_GET_KEEPCAPS) == 0,
	       "and it changed nothing");

	if (!tu_has_cap(CAP_NET_RAW)) {
		tap_skip(1, "CAP_NET_RAW not in CapEff");
	} else {
		rc = tu_child(set_proc_child, NULL, 20000, &ws);
		tap_ok(rc == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		       "child: cap_set_proc (and cap_drop_bound) drop "
		       "CAP_NET_RAW on every thread (%s)",
		       tu_wstatus(ws));
	}
	tap_ok(tu_pool_free(pool, 5000) == 0, "workers joined");
	return tap_done();
}
