// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-helper-priv.c - privileged helper tests (skip by capability bit):
 * another uid is refused and nothing changes; setresuid on a root target
 * through the channel, verified through /proc/PID/task/ * /status.
 */
#include "../tap.h"
#include "ctl-client.h"
#include "ctl-proto.h"
#include "hutil.h"

/* In a child that became uid 65534: try the channel both ways. */
static int as_nobody(pid_t target, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	struct at_ctl_rep_error e;
	struct allthreads_prog *p;
	char buf[4096];
	struct pollfd pf;
	long len;
	int fd, r;

	if (setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return 10;
	r = h_remote_prctl(target, PR_SET_KEEPCAPS, 0, 1000, &rep, &rs);
	if (r == 0 || rs.reached)
		return 11;
	/* Straight at the socket (the test opened its directory up). */
	p = h_prctl_prog(PR_SET_KEEPCAPS, 0);
	len = at_ctl_serialize(p, 1000, 0, 0, buf, sizeof(buf));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 12;
	/* The first request without a proof gets the hello; the second, a
	 * refusal. */
	for (r = 0; r < 2; r++) {
		if (send(fd, buf, (size_t)len, 0) != len)
			return 13;
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		memset(&e, 0, sizeof(e));
		if (poll(&pf, 1, 5000) != 1 ||
		    recv(fd, &e, sizeof(e), 0) < (ssize_t)sizeof(e.hdr))
			return 14;
		if (r == 0 && e.hdr.op != AT_CTL_REP_HELLO)
			return 16;
	}
	if (e.hdr.op != AT_CTL_REP_ERROR || e.err != -EACCES)
		return 15;
	return 0;
}

static bool uids_are(pid_t pid, const char *want)
{
	int tids[H_MAX_THREADS], n, i;

	n = h_tasks(pid, tids, H_MAX_THREADS);
	for (i = 0; i < n; i++) {
		char v[64];

		if (h_task_status(pid, tids[i], "Uid", v, sizeof(v)) < 0 ||
		    strcmp(v, want)) {
			tap_diag("tid %d Uid %s", tids[i], v);
			return false;
		}
	}
	return n > 5;
}

int main(void)
{
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	struct h_target t;
	struct h_status st;
	char sock[100], dir[64];
	int r, status = -1;
	pid_t c;

	alarm(100);
	if (!h_has_cap(7) || !h_has_cap(6) || geteuid() != 0)
		tap_skip_all("needs CAP_SETUID and CAP_SETGID as root");
	r = h_start(&t, 4, NULL);
	if (r < 0)
		tap_bail("cannot start the target: %s", strerror(-r));
	r = h_remote_prctl(t.pid, PR_SET_KEEPCAPS, 1, 3000, &rep, &rs);
	tap_ok(r == 0, "root drives a root target");
	allthreads_report_free(rep);

	snprintf(dir, sizeof(dir), "/run/allthreads/0");
	snprintf(sock, sizeof(sock), "%s/%d.sock", dir, (int)t.pid);
	chmod(dir, 0755);
	chmod(sock, 0777);
	c = fork();
	if (c == 0) {
		alarm(20);
		_exit(as_nobody(t.pid, sock));
	}
	r = h_wait(c, 20000, &status);
	chmod(sock, 0600);
	chmod(dir, 0700);
	tap_ok(r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "uid 65534 is refused, by path and by the receiver (%s)",
	       r == 0 ? h_status_str(status) : "timeout");
	r = h_refresh(&t, &st);
	tap_ok(r == 0 && st.n > 0 && st.keepcaps[0] == 1 &&
		       st.keepcaps[st.n - 1] == 1,
	       "nothing changed: KEEP_CAPS still 1");

	r = h_remote_prctl(t.pid, PR_SET_KEEPCAPS, 1, 3000, &rep, &rs);
	allthreads_report_free(rep);
	{
		struct allthreads_prog *p = allthreads_prog_new();
		long a[3] = { 1000, 1000, 1000 };

		allthreads_prog_add(p, SYS_setresgid, 3, a,
				    ALLTHREADS_JUDGE_EQUAL);
		allthreads_prog_add(p, SYS_setresuid, 3, a,
				    ALLTHREADS_JUDGE_EQUAL);
		rep = NULL;
		r = at_remote_run(t.pid, p, 3000, 0, ALLTHREADS_MISMATCH_REPORT,
				  &rep, &rs);
		allthreads_prog_free(p);
	}
	tap_ok(r == 0 && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_AGREE,
	       "setresgid + setresuid(1000) through the channel: %d %s", r,
	       rs.why);
	allthreads_report_free(rep);
	tap_ok(uids_are(t.pid, "1000\t1000\t1000\t1000"),
	       "/proc: every task has uid 1000");
	rep = NULL;
	r = h_remote_prctl(t.pid, PR_SET_KEEPCAPS, 0, 3000, &rep, &rs);
	tap_ok(r == 0, "root (CAP_SYS_PTRACE) still drives it: %d %s", r,
	       rs.why);
	allthreads_report_free(rep);
	h_stop(&t);

	return tap_done();
}
