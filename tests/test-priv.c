/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-priv.c - privileged changes on every thread: setresgid+setresuid,
 * capset dropping a capability, PR_CAPBSET_DROP, and setfsuid judged by
 * SUCCESS and by EQUAL with an undo.  Each runs in a child process (most
 * are one-way).  Each skips when this thread lacks the capability bit it
 * needs (CapEff in /proc/self/status), never by uid.
 *
 * Verification is per thread twice over: each worker reads its own ids, and
 * /proc/self/task/TID/status is read for every TID.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allthreads.h"
#include "tap.h"
#include "testutil.h"

#define WORKERS 6
#define NEW_UID 1000
#define NEW_GID 2000
#define ODD 2
#define ODD_FSUID 1234

/* Every TID's status line KEY must read WANT (e.g. "1000\t1000..."). */
static int tasks_status_is(const char *key, const char *want)
{
	pid_t tids[64];
	int n = tu_task_list(tids, 64);
	char v[256];

	if (n != WORKERS + 1)
		return -1;
	for (int i = 0; i < n; i++) {
		if (tu_task_status(tids[i], key, v, sizeof(v)) < 0 ||
		    strcmp(v, want) != 0) {
			tap_diag("child: tid %d %s: '%s', want '%s'",
				 (int)tids[i], key, v, want);
			return -1;
		}
	}
	return 0;
}

/* Bit BIT of every TID's capability line KEY must be SET. */
static int tasks_cap_is(const char *key, int bit, bool set)
{
	pid_t tids[64];
	int n = tu_task_list(tids, 64);

	if (n != WORKERS + 1)
		return -1;
	for (int i = 0; i < n; i++) {
		unsigned long long v = tu_task_status_num(tids[i], key, 16);

		if ((bool)((v >> bit) & 1) != set) {
			tap_diag("child: tid %d %s %llx: bit %d not %s",
				 (int)tids[i], key, v, bit,
				 set ? "set" : "clear");
			return -1;
		}
	}
	return 0;
}

static int setid_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(WORKERS, 20000);
	struct allthreads_prog *prog = allthreads_prog_new();
	const long gids[] = { NEW_GID, NEW_GID, NEW_GID };
	const long uids[] = { NEW_UID, NEW_UID, NEW_UID };
	char want[64];

	(void)arg;
	if (!pool || !prog)
		return 10;
	allthreads_prog_add(prog, SYS_setresgid, 3, gids,
			    ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_add(prog, SYS_setresuid, 3, uids,
			    ALLTHREADS_JUDGE_EQUAL);
	if (tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL) != 0)
		return 11;
	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) != 0)
		return 12;
	for (unsigned i = 0; i < WORKERS; i++) {
		const struct tu_sample *s = tu_pool_sample(pool, i);

		for (int k = 0; k < 3; k++)
			if (s->uid[k] != NEW_UID || s->gid[k] != NEW_GID)
				return 13;
	}
	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", NEW_UID, NEW_UID,
		 NEW_UID, NEW_UID);
	if (tasks_status_is("Uid", want))
		return 14;
	snprintf(want, sizeof(want), "%d\t%d\t%d\t%d", NEW_GID, NEW_GID,
		 NEW_GID, NEW_GID);
	if (tasks_status_is("Gid", want))
		return 15;
	/* Root is gone on every thread: getting it back fails everywhere. */
	if (tasks_cap_is("CapEff", CAP_SETUID, false))
		return 16;
	return 0;
}

static int capset_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(WORKERS, 20000);
	struct allthreads_prog *prog = allthreads_prog_new();
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];
	long args[2];

	(void)arg;
	if (!pool || !prog || syscall(SYS_capget, &hdr, data) != 0)
		return 10;
	data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	data[CAP_NET_RAW / 32].permitted &= ~(1u << (CAP_NET_RAW % 32));
	data[CAP_NET_RAW / 32].inheritable &= ~(1u << (CAP_NET_RAW % 32));
	args[0] = (long)&hdr;
	args[1] = (long)data;
	allthreads_prog_add(prog, SYS_capset, 2, args, ALLTHREADS_JUDGE_EQUAL);
	if (tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL) != 0)
		return 11;
	if (tasks_cap_is("CapEff", CAP_NET_RAW, false) ||
	    tasks_cap_is("CapPrm", CAP_NET_RAW, false))
		return 12;
	/* Only that one was dropped. */
	if (tasks_cap_is("CapEff", CAP_SETUID, true) ||
	    tasks_cap_is("CapPrm", CAP_SETUID, true))
		return 13;
	return 0;
}

static int bounding_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(WORKERS, 20000);
	struct allthreads_prog *prog = allthreads_prog_new();
	const long args[] = { PR_CAPBSET_DROP, CAP_NET_RAW };
	const long read_args[] = { PR_CAPBSET_READ, CAP_NET_RAW };

	(void)arg;
	if (!pool || !prog)
		return 10;
	if (tasks_cap_is("CapBnd", CAP_NET_RAW, true))
		return 11;
	allthreads_prog_add(prog, SYS_prctl, 2, args, ALLTHREADS_JUDGE_EQUAL);
	/* Each thread reads its own bounding set back: must be 0. */
	allthreads_prog_add(prog, SYS_prctl, 2, read_args,
			    ALLTHREADS_JUDGE_EQUAL);
	if (tu_run(prog, 5000, 0, ALLTHREADS_MISMATCH_REPORT, NULL) != 0)
		return 12;
	if (prctl(PR_CAPBSET_READ, CAP_NET_RAW) != 0)
		return 13;
	if (tasks_cap_is("CapBnd", CAP_NET_RAW, false) ||
	    tasks_cap_is("CapBnd", CAP_SETUID, true))
		return 14;
	return 0;
}

static void set_fsuid(long v)
{
	syscall(SYS_setfsuid, v);
}

/* The fsuid of every thread: ODD's is ODD_WANT, the rest WANT. */
static int fsuids_are(struct tu_pool *pool, long odd_want, long want)
{
	if (tu_pool_ask(pool, TU_ALL, NULL, 0, 5000) != 0)
		return -1;
	for (unsigned i = 0; i < WORKERS; i++) {
		long got = tu_pool_sample(pool, i)->fsuid;

		if (got != (i == ODD ? odd_want : want)) {
			tap_diag("child: worker %u fsuid %ld", i, got);
			return -1;
		}
	}
	return syscall(SYS_setfsuid, -1L) == want ? 0 : -1;
}

static int fsuid_child(void *arg)
{
	struct tu_pool *pool = tu_pool_new(WORKERS, 20000);
	struct allthreads_prog *relaxed = allthreads_prog_new();
	struct allthreads_prog *strict = allthreads_prog_new();
	struct allthreads_report *r = NULL;
	const long to4321[] = { 4321 }, to555[] = { 555 };
	const long save[ALLTHREADS_MAX_ARGS] = { -1 };
	const long back[ALLTHREADS_MAX_ARGS] = { ALLTHREADS_SAVED };
	char want[64];
	int rc, odd;

	(void)arg;
	if (!pool || !relaxed || !strict)
		return 10;
	if (tu_pool_ask(pool, ODD, set_fsuid, ODD_FSUID, 5000) != 0 ||
	    fsuids_are(pool, ODD_FSUID, 0))
		return 11;

	/* setfsuid returns the previous value: differs, and that is fine. */
	allthreads_prog_add(relaxed, SYS_setfsuid, 1, to4321,
			    ALLTHREADS_JUDGE_SUCCESS);
	rc = tu_run(relaxed, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	if (rc != 0)
		return 12;
	odd = tu_report_find(r, tu_pool_tid(pool, ODD));
	if (odd <= 0 || allthreads_report_result(r, odd, 0) != ODD_FSUID ||
	    allthreads_report_result(r, 0, 0) != 0)
		return 13;
	allthreads_report_free(r);
	if (fsuids_are(pool, 4321, 4321))
		return 14;
	snprintf(want, sizeof(want), "0\t0\t0\t4321");
	if (tasks_status_is("Uid", want))
		return 15;

	/* Judged EQUAL it is a mismatch; the undo restores each thread's own
	 * fsuid (setfsuid(-1) saves it without changing it). */
	if (tu_pool_ask(pool, ODD, set_fsuid, ODD_FSUID, 5000) != 0)
		return 16;
	allthreads_prog_add(strict, SYS_setfsuid, 1, to555,
			    ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_set_undo(strict, 0, SYS_setfsuid, save, SYS_setfsuid,
				 back);
	r = NULL;
	rc = allthreads_run(strict, 5000, 0, ALLTHREADS_MISMATCH_REPORT, &r);
	if (rc != -EIO || !r ||
	    allthreads_report_verdict(r) != ALLTHREADS_FAILED) {
		tap_diag("child: EQUAL setfsuid returned %d", rc);
		tu_report_dump(r);
		return 17;
	}
	allthreads_report_free(r);
	if (fsuids_are(pool, ODD_FSUID, 4321))
		return 18;
	return 0;
}

static const char *cap_name(int bit)
{
	switch (bit) {
	case CAP_SETGID:
		return "CAP_SETGID";
	case CAP_SETUID:
		return "CAP_SETUID";
	case CAP_SETPCAP:
		return "CAP_SETPCAP";
	case CAP_NET_RAW:
		return "CAP_NET_RAW";
	default:
		return "a capability";
	}
}

struct priv_case {
	const char *what;
	int (*fn)(void *);
	int caps[2]; /* needed bits, -1 for none */
};

int main(void)
{
	static const struct priv_case cases[] = {
		{ "setresgid+setresuid on every thread",
		  setid_child,
		  { CAP_SETUID, CAP_SETGID } },
		{ "capset drops CAP_NET_RAW on every thread",
		  capset_child,
		  { CAP_NET_RAW, -1 } },
		{ "PR_CAPBSET_DROP CAP_NET_RAW on every thread",
		  bounding_child,
		  { CAP_SETPCAP, CAP_NET_RAW } },
		{ "setfsuid: SUCCESS accepts, EQUAL mismatches and undoes",
		  fsuid_child,
		  { CAP_SETUID, -1 } },
	};

	tu_watchdog(50);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct priv_case *c = &cases[i];
		bool can = true;
		char reason[96];
		int ws = 0, rc;

		for (int k = 0; k < 2; k++) {
			if (c->caps[k] >= 0 && !tu_has_cap(c->caps[k])) {
				snprintf(reason, sizeof(reason),
					 "%s (%d) not in CapEff",
					 cap_name(c->caps[k]), c->caps[k]);
				can = false;
			}
		}
		if (!can) {
			tap_skip(1, reason);
			continue;
		}
		rc = tu_child(c->fn, NULL, 20000, &ws);
		tap_ok(rc == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		       "%s (%s)", c->what, tu_wstatus(ws));
	}
	return tap_done();
}
