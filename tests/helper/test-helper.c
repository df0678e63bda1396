// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-helper.c - drive the fixture target through its helper: the
 * receiver, the channel, the interposed signal functions.
 */
#include "../tap.h"
#include "hutil.h"
#include "proof.h"
#include "ctl-client.h"
#include "ctl-proto.h"

static pid_t receiver_of(pid_t pid)
{
	int tids[H_MAX_THREADS], n, i, found = 0;
	pid_t rcv = -1;

	n = h_tasks(pid, tids, H_MAX_THREADS);
	for (i = 0; i < n; i++) {
		char path[96], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
			 tids[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strcmp(comm, "allthreads-rcv\n")) {
			rcv = tids[i];
			found++;
		}
		fclose(f);
	}
	return found == 1 ? rcv : -1;
}

/* Every TID of /proc/PID/task is in REP with state OK. */
static bool covers_all(pid_t pid, const struct allthreads_report *rep)
{
	int tids[H_MAX_THREADS], n, i;
	unsigned j;

	n = h_tasks(pid, tids, H_MAX_THREADS);
	for (i = 0; i < n; i++) {
		for (j = 0; j < allthreads_report_nthreads(rep); j++)
			if (allthreads_report_tid(rep, j) == tids[i])
				break;
		if (j == allthreads_report_nthreads(rep) ||
		    allthreads_report_state(rep, j) != ALLTHREADS_T_OK) {
			tap_diag("tid %d not reported ok", tids[i]);
			return false;
		}
	}
	return n > 0;
}

static bool keepcaps_all(const struct h_status *st, long want)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (st->keepcaps[i] != want || !st->fresh[i]) {
			tap_diag("tid %d keepcaps %ld fresh %d", st->tid[i],
				 st->keepcaps[i], st->fresh[i]);
			return false;
		}
	return st->n > 0;
}

static void test_basics(struct h_target *t)
{
	pid_t rcv = receiver_of(t->pid);
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	struct h_status st;
	int i, r, bad = 0;
	unsigned j;
	bool rcv_ok = true;

	tap_ok(rcv > 0, "exactly one allthreads-rcv thread");
	for (i = 1; i <= 101; i++) {
		r = h_remote_prctl(t->pid, PR_SET_KEEPCAPS, i & 1, h_ms(3000),
				   &rep, &rs);
		if (r != 0 || !rep ||
		    allthreads_report_verdict(rep) != ALLTHREADS_AGREE) {
			if (bad++ < 3)
				tap_diag("run %d: %d (%s)", i, r, rs.why);
		} else {
			for (j = 0; j < allthreads_report_nthreads(rep); j++)
				if (allthreads_report_tid(rep, j) == rcv)
					break;
			if (j == allthreads_report_nthreads(rep) ||
			    allthreads_report_state(rep, j) != ALLTHREADS_T_OK)
				rcv_ok = false;
		}
		if (i == 101)
			tap_ok(rep && covers_all(t->pid, rep),
			       "the last run reports every /proc task ok");
		allthreads_report_free(rep);
		rep = NULL;
	}
	tap_ok(bad == 0, "101 alternating KEEP_CAPS broadcasts through the "
			 "channel all agree");
	tap_ok(rcv_ok, "the receiver took part in every one");
	r = h_refresh(t, &st);
	tap_ok(r == 0 && keepcaps_all(&st, 1),
	       "every thread reads KEEP_CAPS 1 itself");
	tap_ok(r == 0 && st.eintr == 0, "no EINTR in poll/read/sigwait (%lu)",
	       st.eintr);
	tap_ok(r == 0 && st.unexpected == 0, "no unexpected signal (%lu)",
	       st.unexpected);
}

static void test_nnp_proc(struct h_target *t)
{
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	int tids[H_MAX_THREADS], n, i, bad = 0;
	int r;

	r = h_remote_prctl(t->pid, PR_SET_NO_NEW_PRIVS, 1, h_ms(3000), &rep,
			   &rs);
	tap_ok(r == 0, "NO_NEW_PRIVS through the channel: %d %s", r, rs.why);
	allthreads_report_free(rep);
	n = h_tasks(t->pid, tids, H_MAX_THREADS);
	for (i = 0; i < n; i++) {
		char v[32];

		if (h_task_status(t->pid, tids[i], "NoNewPrivs", v, sizeof(v)) <
			    0 ||
		    strcmp(v, "1"))
			bad++;
	}
	tap_ok(n > 5 && bad == 0, "/proc: NoNewPrivs 1 on all %d tasks", n);
}

static void test_concurrent(struct h_target *t)
{
	struct h_status st;
	int i, r, bad = 0;
	long long end;

	/* The application's own broadcasts (200, from its broadcaster
	 * thread) and ours, at the same time, both orders. */
	for (i = 0; i < 2; i++) {
		struct allthreads_report *rep = NULL;
		struct at_remote_status rs;

		if (i == 1)
			kill(t->pid, SIGHUP);
		r = h_remote_prctl(t->pid, PR_SET_KEEPCAPS, 0, h_ms(3000), &rep,
				   &rs);
		bad += r != 0;
		allthreads_report_free(rep);
		if (i == 0)
			kill(t->pid, SIGHUP);
		h_sleep_ms(50); /* two pending SIGHUPs would be one */
	}
	for (i = 0; i < 60; i++) {
		struct allthreads_report *rep = NULL;
		struct at_remote_status rs;

		r = h_remote_prctl(t->pid, PR_SET_KEEPCAPS, i & 1, h_ms(5000),
				   &rep, &rs);
		if (r != 0 && bad++ < 3)
			tap_diag("concurrent run %d: %d %s", i, r, rs.why);
		allthreads_report_free(rep);
	}
	tap_ok(bad == 0, "channel broadcasts agree while the application "
			 "broadcasts too");
	end = tu_now_ms() + h_ms(20000);
	do {
		r = h_refresh(t, &st);
		if (r == 0 && st.app_runs >= 400)
			break;
		h_sleep_ms(50);
	} while (tu_now_ms() < end);
	tap_ok(r == 0 && st.app_runs >= 400 && st.app_fail == 0,
	       "400 application broadcasts ran, none failed (%lu, %lu)",
	       st.app_runs, st.app_fail);
	tap_ok(st.app_rcv == st.app_runs,
	       "the receiver took part in each application broadcast "
	       "(%lu/%lu)",
	       st.app_rcv, st.app_runs);
	tap_ok(r == 0 && keepcaps_all(&st, 1) && st.eintr == 0 &&
		       st.unexpected == 0,
	       "afterwards: KEEP_CAPS 1 everywhere, no EINTR, no signal");
}

/* Send MSG on FD; when PROOF, as the real client does: first for the
 * hello, then behind the answer to its challenge (read from the target's
 * /proc/PID/mem), so the helper gets past authorisation and its parser is
 * what answers. */
static ssize_t send_msg(int fd, pid_t pid, const void *msg, size_t len,
			bool proof)
{
	struct at_ctl_proof pr;

	if (!proof)
		return send(fd, msg, len, MSG_NOSIGNAL);
	if (h_challenge(fd, msg, len, pid, &pr) < 0)
		return -1;
	return h_send_proved(fd, &pr, msg, len);
}

/* Send raw bytes; the reply's op and error (if any). */
static int raw_exchange_proof(pid_t pid, const void *msg, size_t len, int *err,
			      bool proof)
{
	char path[PATH_MAX], why[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct at_ctl_rep_error rep;
	struct pollfd p;
	int fd, sz = 1 << 20, op = -1;
	ssize_t n;

	*err = 0;
	if (at_ctl_find_socket(pid, path, sizeof(path), why, sizeof(why)) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -2;
	}
	if (send_msg(fd, pid, msg, len, proof) != (ssize_t)len) {
		tap_diag("send %zu: %s", len, strerror(errno));
		close(fd);
		return -3;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, (int)h_ms(5000)) == 1) {
		n = recv(fd, &rep, sizeof(rep), 0);
		if (n >= (ssize_t)sizeof(rep.hdr)) {
			op = rep.hdr.op;
			if (op == AT_CTL_REP_ERROR && n == sizeof(rep))
				*err = rep.err;
		}
	}
	close(fd);
	return op;
}

/* The same request twice without proof on one connection: the hello,
 * then the answer to the second; the second reply's op and error. */
static int raw_twice_without_proof(pid_t pid, const void *msg, size_t len,
				   int *err)
{
	char path[PATH_MAX], why[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct at_ctl_rep_error rep;
	struct pollfd p;
	int fd, k, op = -1;
	ssize_t n;

	*err = 0;
	if (at_ctl_find_socket(pid, path, sizeof(path), why, sizeof(why)) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -2;
	}
	for (k = 0; k < 2; k++) {
		if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
			break;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		op = -1;
		if (poll(&p, 1, (int)h_ms(5000)) != 1)
			break;
		n = recv(fd, &rep, sizeof(rep), 0);
		if (n >= (ssize_t)sizeof(rep.hdr)) {
			op = rep.hdr.op;
			if (op == AT_CTL_REP_ERROR && n == sizeof(rep))
				*err = rep.err;
		}
	}
	close(fd);
	return op;
}

static int raw_exchange(pid_t pid, const void *msg, size_t len, int *err)
{
	return raw_exchange_proof(pid, msg, len, err, true);
}

static void test_hostile(struct h_target *t)
{
	static char big[200 * 1024];
	struct allthreads_prog *p;
	char buf[AT_CTL_MAX_MSG];
	struct at_ctl_req *req = (struct at_ctl_req *)buf;
	struct at_ctl_step *st = (struct at_ctl_step *)(req + 1);
	struct h_status hs;
	long len;
	int err, op, i;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	op = raw_exchange(t->pid, big, 64, &err);
	tap_ok(op == AT_CTL_REP_ERROR, "garbage gets an error reply (%d)", err);
	p = h_prctl_prog(PR_SET_KEEPCAPS, 0);
	len = at_ctl_serialize(p, 1000, 0, 0, buf, sizeof(buf));
	op = raw_exchange_proof(t->pid, buf, (size_t)len, &err, false);
	tap_ok(op == AT_CTL_REP_HELLO,
	       "a good request without proof gets the helper's hello "
	       "(op %#x)",
	       op);
	op = raw_twice_without_proof(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EACCES,
	       "asked again without proof that the peer may ptrace the "
	       "target: refused (%d)",
	       err);
	op = raw_exchange(t->pid, buf, (size_t)len - 8, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EBADMSG,
	       "a truncated request gets an error reply (%d)", err);
	op = raw_exchange(t->pid, buf, 10, &err);
	tap_ok(op == AT_CTL_REP_ERROR,
	       "a truncated header gets an error "
	       "reply (%d)",
	       err);
	memcpy(big, buf, (size_t)len);
	op = raw_exchange(t->pid, big, sizeof(big), &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EMSGSIZE,
	       "an oversized message gets an error reply (%d)", err);
	req->hdr.version = 99;
	op = raw_exchange(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EPROTONOSUPPORT,
	       "a bad version gets an error reply (%d)", err);
	req->hdr.version = AT_CTL_VERSION;
	req->nsteps = 300;
	op = raw_exchange(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR, "300 steps get an error reply (%d)",
	       err);
	req->nsteps = 1;
	st->nr = SYS_kill;
	st->args[0] = 1;
	st->args[1] = 9;
	op = raw_exchange(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EPERM,
	       "a raw kill() is refused without the opt-in (%d)", err);
	st->nr = SYS_prctl;
	st->args[0] = PR_SET_NAME;
	st->args[1] = 0x400000; /* a pointer from the wire */
	op = raw_exchange(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EINVAL,
	       "a pointer argument given as a number is refused (%d)", err);
	st->args[0] = PR_SET_KEEPCAPS;
	st->args[1] = 0;
	st->ptr[0].list = AT_RELOC_ARGS;
	st->ptr[0].arg = 1;
	st->ptr[0].off = 4096;
	st->ptr[0].len = 8;
	op = raw_exchange(t->pid, buf, (size_t)len, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EINVAL,
	       "a buffer outside the data area is refused (%d)", err);
	allthreads_prog_free(p);
	tap_ok(h_refresh(t, &hs) == 0 && keepcaps_all(&hs, 1),
	       "nothing changed: KEEP_CAPS still 1 everywhere");
}

static void test_killed_client(struct h_target *t)
{
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	int i, r, bad = 0;

	for (i = 0; i < 5; i++) {
		pid_t c = fork();

		if (c == 0) {
			alarm(10 * tu_factor());
			h_remote_prctl(t->pid, PR_SET_KEEPCAPS, 1, h_ms(3000),
				       NULL, &rs);
			_exit(0);
		}
		h_sleep_ms((unsigned)i); /* before, during, after the send */
		kill(c, SIGKILL);
		h_wait(c, h_ms(5000), NULL);
	}
	for (i = 0; i < 5; i++) {
		r = h_remote_prctl(t->pid, PR_SET_KEEPCAPS, 1, h_ms(3000), &rep,
				   &rs);
		bad += r != 0;
		allthreads_report_free(rep);
		rep = NULL;
	}
	tap_ok(bad == 0, "the channel still works after killed clients");
}

/* A request the helper refused unrun because it reached the front of the
 * queue after its start-by deadline (the client leaves 4 s for that,
 * whatever the timeout: ctl-client.c, at_ctl_call()). */
static bool refused_late(int r, const struct at_remote_status *rs)
{
	return r == -EINVAL && rs->reached &&
	       strstr(rs->why, "before it could start: nothing changed");
}

/*
 * Twenty clients, five requests each, against one receiver that runs one
 * request at a time.  Natively every request must succeed at once.  When
 * the machine is slower (AT_TIMEOUT_FACTOR above 1: emulated arm64, where
 * a run on 8 threads takes some 200 ms and 19 runs can be queued ahead),
 * a request may reach the front after its fixed start-by window: the
 * helper then refuses it with nothing changed, a right answer, and the
 * client sends it again, a bounded number of times; every other failure
 * still counts, and every request must be served in the end.
 */
static void test_many_clients(struct h_target *t)
{
	pid_t kids[20];
	int i, ok = 0;
	long long t0 = tu_now_ms();

	for (i = 0; i < 20; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct at_remote_status rs;
			int k, bad = 0, late = 0, again;

			alarm(30 * tu_factor());
			for (k = 0; k < 5; k++) {
				struct allthreads_report *rep = NULL;
				int r;

				again = tu_factor() > 1 ? 10 : 0;
				for (;;) {
					r = h_remote_prctl(t->pid,
							   PR_SET_KEEPCAPS, 1,
							   h_ms(5000), &rep,
							   &rs);
					if (r == 0 || !refused_late(r, &rs) ||
					    again-- == 0)
						break;
					late++;
				}
				/* The first failure of each client, why. */
				if (r != 0 && !bad++)
					tap_diag("client %d, request %d: %d %s "
						 "(%d refused late)",
						 i, k, r, rs.why, late);
				allthreads_report_free(rep);
			}
			if (late && !bad)
				tap_diag("client %d: %d requests refused late "
					 "and sent again",
					 i, late);
			_exit(bad ? 1 : 0);
		}
	}
	for (i = 0; i < 20; i++) {
		int status = -1;

		if (kids[i] > 0 && h_wait(kids[i], h_ms(30000), &status) == 0 &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	tap_ok(ok == 20, "20 clients at once, 5 requests each: %d ok, %lld ms",
	       ok, tu_now_ms() - t0);
}

static void test_target_exits(struct h_target *t)
{
	struct allthreads_report *rep = NULL;
	struct at_remote_status rs;
	long long t0;
	pid_t c;
	int r, status = -1;

	kill(t->pid, SIGINT); /* a thread now blocks the engine's signal */
	h_sleep_ms(100);
	c = fork();
	if (c == 0) {
		alarm(20 * tu_factor());
		h_sleep_ms(300);
		kill(t->pid, SIGKILL);
		_exit(0);
	}
	t0 = tu_now_ms();
	r = h_remote_prctl(t->pid, PR_SET_KEEPCAPS, 0, h_ms(10000), &rep, &rs);
	tap_ok(r < 0 && !rs.reached && tu_now_ms() - t0 < h_ms(3000),
	       "the target exiting mid-request: %d, unreachable, %lld ms "
	       "(%s)",
	       r, tu_now_ms() - t0, rs.why);
	allthreads_report_free(rep);
	h_wait(c, h_ms(5000), &status);
	h_wait(t->pid, h_ms(5000), &status);
	t->pid = 0;
	r = h_remote_prctl(getpid() + 0, PR_SET_KEEPCAPS, 0, h_ms(1000), &rep,
			   &rs);
	tap_ok(r < 0 && !rs.reached, "a process without a helper: %s", rs.why);
}

int main(void)
{
	struct h_target t;
	int r;

	alarm(240 * tu_factor());
	r = h_start(&t, 8, NULL);
	if (r < 0)
		tap_bail("cannot start the target: %s", strerror(-r));
	test_basics(&t);
	test_concurrent(&t);
	test_hostile(&t);
	test_killed_client(&t);
	test_many_clients(&t);
	test_nnp_proc(&t);
	test_target_exits(&t);
	h_stop(&t);
	return tap_done();
}
