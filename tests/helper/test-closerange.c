// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-closerange.c - issue 16.7: a program that closes every descriptor
 * with the raw close_range system call (past the helper's close_range()),
 * then opens a log file and a socketpair, which get the numbers the helper
 * had, then makes the capability calls the helper mirrors on its receiver
 * (lib/helper/mirror.c) and a broadcast of its own.  Not a byte may reach the log
 * or the sockets, no call may wait out the mirror's bound, the receiver
 * must have made each call too, and `allthreads -p` must still reach the
 * process through the helper.
 * The test re-executes itself with the helper preloaded.
 */
#include <dirent.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>

#include "../tap.h"
#include "hutil.h"

/* A call answered this late waited for the mirror's bound (2 s) instead of
 * being served; a quiet run answers in well under a millisecond. */
#define CALL_MS 1500

int capset(cap_user_header_t hdr, const cap_user_data_t data);
int capget(cap_user_header_t hdr, cap_user_data_t data);

/* The TID of the helper's receiver thread (its name), or -1. */
static pid_t receiver_tid(void)
{
	struct dirent *de;
	pid_t tid = -1;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -1;
	while (tid < 0 && (de = readdir(d))) {
		char path[96], name[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm",
			 atoi(de->d_name));
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    strcmp(name, "allthreads-rcv\n") == 0)
			tid = atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* What a thread's credentials look like in /proc: its Cap* lines. */
static void caps_of(pid_t tid, char *out, size_t len)
{
	static const char *const keys[] = { "CapInh", "CapPrm", "CapEff",
					    "CapBnd", "CapAmb" };
	size_t i, at = 0;

	out[0] = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && at < len; i++) {
		char v[64] = "?";

		h_task_status(getpid(), tid, keys[i], v, sizeof(v));
		at += (size_t)snprintf(out + at, len - at, "%s%s=%s",
				       i ? " " : "", keys[i], v);
	}
}

/* Bytes that reached the log (its size) and each end of the pair. */
static long stray_bytes(int log, const int sv[2])
{
	struct stat st;
	int a = 0, b = 0;

	if (fstat(log, &st) < 0 || ioctl(sv[0], FIONREAD, &a) < 0 ||
	    ioctl(sv[1], FIONREAD, &b) < 0)
		return -1;
	return (long)st.st_size + a + b;
}

static long long timed_call(int (*fn)(void), int *r)
{
	long long t0 = tu_now_ms();

	*r = fn();
	return tu_now_ms() - t0;
}

static int call_capset(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (capget(&h, d) < 0)
		return -1;
	d[CAP_NET_BIND_SERVICE / 32].inheritable |=
		1u << (CAP_NET_BIND_SERVICE % 32);
	return capset(&h, d);
}

static int call_ambient(void)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
		     0, 0);
}

static int call_drop_boot(void)
{
	return prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0);
}

static int call_drop_alarm(void)
{
	return prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM, 0, 0, 0);
}

static int call_keep_on(void)
{
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
}

static int call_keep_off(void)
{
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

static const struct {
	const char *name;
	int (*fn)(void);
} calls[] = {
	{ "capset (+inheritable net_bind_service)", call_capset },
	{ "prctl(PR_CAP_AMBIENT, RAISE)", call_ambient },
	{ "prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT)", call_drop_boot },
	{ "prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM)", call_drop_alarm },
	{ "prctl(PR_SET_KEEPCAPS, 1)", call_keep_on },
	{ "prctl(PR_SET_KEEPCAPS, 0)", call_keep_off },
};

/* `allthreads --via=helper -p SELF prctl KEEP_CAPS 1`; its wait status. */
static int run_cli(const char *cli)
{
	char pid[16];
	int status = -1;
	pid_t c;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	c = fork();
	if (c == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1);
		execl(cli, "allthreads", "--via=helper", "-p", pid, "prctl",
		      "KEEP_CAPS", "1", (char *)NULL);
		_exit(127);
	}
	if (c < 0)
		return -1;
	if (h_wait(c, 60000, &status) < 0) {
		kill(c, SIGKILL);
		h_wait(c, 5000, &status);
		return -1;
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *cli = getenv("AT_CLI");
	char logpath[64], mine[256], rcvs[256];
	long long worst = 0;
	int log, sv[2], status, r;
	size_t i;
	pid_t rtid;

	(void)argc;
	alarm(200);
	if (!getenv("LD_PRELOAD")) {
		const char *h = getenv("AT_HELPER");

		if (!h)
			tap_bail("AT_HELPER not set");
		setenv("LD_PRELOAD", h, 1);
		execv("/proc/self/exe", argv);
		tap_bail("cannot re-execute: %s", strerror(errno));
	}
	if (!h_has_cap(CAP_SETPCAP))
		tap_skip_all("needs CAP_SETPCAP (bounding-set drops)");
	if (!cli)
		tap_bail("AT_CLI not set");
	rtid = receiver_tid();
	if (rtid < 0)
		tap_bail("the helper's receiver thread is not there");

	/* What systemd-style code does at start: every descriptor above
	 * stderr closed by the kernel, no libc function in between. */
	r = (int)syscall(SYS_close_range, 3, ~0U, 0);
	tap_ok(r == 0, "raw close_range(3, ~0U, 0): %d", r);
	snprintf(logpath, sizeof(logpath), "/tmp/at-closerange-%d.log",
		 (int)getpid());
	log = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	unlink(logpath);
	r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	if (log < 0 || r < 0)
		tap_bail("cannot open the log or the socketpair: %s",
			 strerror(errno));
	tap_diag("the log is fd %d, the socketpair fds %d and %d", log, sv[0],
		 sv[1]);

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long long ms = timed_call(calls[i].fn, &r);

		tap_ok(r == 0 && ms < CALL_MS, "%s: %d, answered in %lld ms",
		       calls[i].name, r, ms);
		if (ms > worst)
			worst = ms;
	}
	tap_diag("the slowest mirrored call took %lld ms", worst);
	r = (int)stray_bytes(log, sv);
	tap_ok(r == 0, "not a byte reached the log or the socketpair (%d)", r);

	caps_of((pid_t)syscall(SYS_gettid), mine, sizeof(mine));
	caps_of(rtid, rcvs, sizeof(rcvs));
	tap_ok(strcmp(mine, rcvs) == 0,
	       "the receiver made every call too: [%s] vs [%s]", mine, rcvs);

	/* A broadcast of the program's own reaches the receiver too (the
	 * engine's poke, which wrote to an eventfd number before). */
	{
		long long t0 = tu_now_ms(), ms;
		long b = allthreads_syscall(SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0,
					    0, 0);

		ms = tu_now_ms() - t0;
		tap_ok(b == 0,
		       "an in-process allthreads_syscall() (%ld, %lld ms)", b,
		       ms);
		r = (int)stray_bytes(log, sv);
		tap_ok(r == 0,
		       "not a byte in the log or the socketpair after it (%d)",
		       r);
	}

	status = run_cli(cli);
	tap_ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "allthreads --via=helper -p SELF prctl KEEP_CAPS 1 still works "
	       "(%s)",
	       status == -1 ? "no answer in 60 s" : h_status_str(status));
	tap_ok(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) == 1,
	       "... and this thread has KEEP_CAPS 1 from it");
	r = (int)stray_bytes(log, sv);
	tap_ok(r == 0,
	       "still not a byte in the log or the socketpair after it (%d)",
	       r);
	return tap_done();
}
