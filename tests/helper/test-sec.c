// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-sec.c - issue 12's attacks on the helper channel, performed against
 * sec-target (the helper preloaded):
 *   12.2  a raw-forked child's memory offered as proof; the child's copy of
 *         the listening socket taken with pidfd_getfd and used to accept
 *         root's next call (the thief must never get a descriptor);
 *   12.4  25,000 empty datagrams, each with a descriptor, from a caller
 *         who sends no proof: the target's descriptor count stays flat,
 *         and an empty datagram is answered with an error, not EOF;
 *   12.5  a request whose start-by deadline passes while the target is
 *         stopped is dropped, not run, when the target goes on.
 * Built against protocol version 3 or later (the challenge; each attack
 * was shown succeeding on the code before its fix with the version of the
 * day).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tap.h"
#include "allthreads.h"
#include "ctl-client.h"
#include "ctl-proto.h"
#include "proof.h"
#include "remote.h"

static pid_t kids[8];
static int nkids;

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static void kill_all(void)
{
	int i;

	for (i = 0; i < nkids; i++) {
		kill(kids[i], SIGCONT);
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nkids = 0;
}

/* Start sec-target MODE with the helper preloaded; its pid, and the
 * second number of its "ready" line in *CHILD.  0 or -errno. */
static char first_line[128];

static pid_t start_args(const char *mode, const char *a1, const char *a2,
			pid_t *child);

static pid_t start(const char *mode, pid_t *child)
{
	return start_args(mode, NULL, NULL, child);
}

static pid_t start_args(const char *mode, const char *a1, const char *a2,
			pid_t *child)
{
	const char *helper = getenv("AT_HELPER");
	const char *target = getenv("AT_SEC_TARGET");
	char line[128], why[200], path[PATH_MAX];
	/* Long enough for three broadcasts that time out (the bug). */
	long long end = now_ms() + 25000;
	size_t got = 0;
	int p[2], a = 0, b = 0;
	pid_t pid;

	if (!helper || !target || pipe2(p, O_CLOEXEC) < 0)
		return -ENOENT;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("LD_PRELOAD", helper, 1);
		execl(target, target, mode, a1, a2, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	kids[nkids++] = pid;
	while (now_ms() < end && got < sizeof(line) - 1) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		n = read(p[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = 0;
		if (strstr(line, "ready ") &&
		    strchr(strstr(line, "ready "), '\n'))
			break;
	}
	close(p[0]);
	line[got] = 0;
	snprintf(first_line, sizeof(first_line), "%.*s",
		 (int)strcspn(line, "\n"), line);
	if (!strstr(line, "ready ") ||
	    sscanf(strstr(line, "ready "), "ready %d %d", &a, &b) < 1 ||
	    a != pid)
		return -EIO;
	if (child)
		*child = b;
	while (now_ms() < end &&
	       at_ctl_find_socket(pid, path, sizeof(path), why, sizeof(why)))
		sleep_ms(5);
	return pid;
}

static int connect_helper(pid_t pid, char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[200];
	int fd;

	if (at_ctl_find_socket(pid, path, len, why, sizeof(why)) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static ssize_t send_with_fd(int fd, const void *msg, size_t len, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (passfd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

/* The op of the next reply within MS (its error in *ERR); 0 on EOF, -1
 * on silence. */
static int reply_op(int fd, int ms, int *err)
{
	struct at_ctl_rep_error rep;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ssize_t n;

	*err = 0;
	if (poll(&pf, 1, ms) != 1)
		return -1;
	memset(&rep, 0, sizeof(rep));
	n = recv(fd, &rep, sizeof(rep), MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	if (rep.hdr.op == AT_CTL_REP_ERROR)
		*err = rep.err;
	return rep.hdr.op;
}

/* Threads of PID that show NoNewPrivs 1; -1 if unreadable. */
static int nnp_threads(pid_t pid)
{
	char dir[64], path[128], line[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/status", dir,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strcmp(line, "NoNewPrivs:\t1\n"))
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static int count_fds(pid_t pid)
{
	char dir[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static long nnp_request(void *buf, size_t len)
{
	struct allthreads_prog *p = allthreads_prog_new();
	long a[2] = { PR_SET_NO_NEW_PRIVS, 1 }, n;

	allthreads_prog_add(p, SYS_prctl, 2, a, ALLTHREADS_JUDGE_EQUAL);
	n = at_ctl_serialize(p, 1000, 0, ALLTHREADS_MISMATCH_REPORT, buf, len);
	allthreads_prog_free(p);
	return n;
}

/* 12.2: the raw-forked child's memory is no proof: the challenge answered
 * from it (16.1: a challenge, no descriptor) is refused. */
static void test_child_memory(pid_t t, pid_t c)
{
	static char buf[AT_CTL_MAX_MSG];
	struct at_ctl_proof pr;
	char path[PATH_MAX];
	long len = nnp_request(buf, sizeof(buf));
	int fd, op, err;

	fd = connect_helper(t, path, sizeof(path));
	tap_ok(fd >= 0 && len > 0 &&
		       h_challenge(fd, buf, (size_t)len, c, &pr) == 0,
	       "the parent's helper's challenge, answered from child %d's "
	       "memory",
	       (int)c);
	h_send_proved(fd, &pr, buf, (size_t)len);
	op = reply_op(fd, 5000, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -EACCES,
	       "the raw-forked child's memory is refused as proof (op %#x, "
	       "%d)",
	       op, err);
	sleep_ms(100);
	tap_ok(nnp_threads(t) == 0,
	       "nothing changed: %d threads with "
	       "NoNewPrivs",
	       nnp_threads(t));
	close(fd);
}

/* 12.2: the child's copy of the listening socket, taken and used to
 * accept root's next call. */
static void test_stolen_socket(pid_t t, pid_t c)
{
	const char *cli = getenv("AT_CLI");
	char path[PATH_MAX], want[64];
	int pidfd, lfd = -1, k, status = -1;
	bool got_fd = false, accepted = false;
	long long end;
	pid_t run;

	snprintf(want, sizeof(want), "/%d.sock", (int)t);
	pidfd = (int)syscall(SYS_pidfd_open, c, 0);
	for (k = 0; pidfd >= 0 && k < 64 && lfd < 0; k++) {
		struct sockaddr_un sa;
		socklen_t sl = sizeof(sa);
		int f = (int)syscall(SYS_pidfd_getfd, pidfd, k, 0), acc = 0;
		socklen_t al = sizeof(acc);
		size_t pl;

		if (f < 0)
			continue;
		memset(&sa, 0, sizeof(sa));
		if (getsockname(f, (struct sockaddr *)&sa, &sl) == 0 &&
		    sa.sun_family == AF_UNIX &&
		    getsockopt(f, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) == 0 &&
		    acc && (pl = strlen(sa.sun_path)) >= strlen(want) &&
		    !strcmp(sa.sun_path + pl - strlen(want), want)) {
			lfd = f;
			break;
		}
		close(f);
	}
	tap_ok(lfd >= 0, "took the parent's listening socket from the child "
			 "(pidfd_getfd)");
	if (lfd < 0 || !cli) {
		tap_skip(2, "nothing to accept on");
		return;
	}
	(void)path;
	/* The thief wins every race while the parent is stopped. */
	kill(t, SIGSTOP);
	run = fork();
	if (run == 0) {
		char pid[16];
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(devnull, 2);
		snprintf(pid, sizeof(pid), "%d", (int)t);
		execl(cli, cli, "-p", pid, "--timeout=1000", "prctl",
		      "NO_NEW_PRIVS", "1", (char *)NULL);
		_exit(127);
	}
	end = now_ms() + 8000;
	while (now_ms() < end && !accepted) {
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		int cfd, m;

		if (poll(&pf, 1, 100) != 1)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		accepted = true;
		for (m = 0; m < 2; m++) {
			static char msg[AT_CTL_MAX_MSG];
			union {
				char b[CMSG_SPACE(8 * sizeof(int))];
				struct cmsghdr align;
			} u;
			struct iovec iov = { .iov_base = msg,
					     .iov_len = sizeof(msg) };
			struct msghdr mh = { .msg_iov = &iov,
					     .msg_iovlen = 1,
					     .msg_control = u.b,
					     .msg_controllen = sizeof(u.b) };
			struct pollfd cp = { .fd = cfd, .events = POLLIN };
			struct cmsghdr *cm;
			ssize_t n;

			if (poll(&cp, 1, 3000) != 1)
				break;
			n = recvmsg(cfd, &mh, MSG_CMSG_CLOEXEC);
			if (n <= 0)
				break;
			for (cm = CMSG_FIRSTHDR(&mh); cm;
			     cm = CMSG_NXTHDR(&mh, cm))
				if (cm->cmsg_level == SOL_SOCKET &&
				    cm->cmsg_type == SCM_RIGHTS) {
					int f;

					memcpy(&f, CMSG_DATA(cm), sizeof(f));
					close(f);
					got_fd = true;
				}
#ifdef AT_CTL_HAS_HELLO
			{
				/* A hello as the real helper would send it:
				 * only the kernel's credentials on it differ. */
				struct at_ctl_hello h = { 0 };

				h.hdr.magic = AT_CTL_MAGIC;
				h.hdr.version = AT_CTL_VERSION;
				h.hdr.op = AT_CTL_REP_HELLO;
				h.hdr.len = sizeof(h);
				h.pid = (int32_t)t;
				send(cfd, &h, sizeof(h), MSG_NOSIGNAL);
			}
#endif
		}
		close(cfd);
	}
	for (k = 0; k < 200 && waitpid(run, &status, WNOHANG) == 0; k++)
		sleep_ms(50);
	if (k == 200) {
		kill(run, SIGKILL);
		waitpid(run, &status, 0);
	}
	kill(t, SIGCONT);
	tap_ok(accepted && !got_fd,
	       "the thief accepted root's call and never got a descriptor "
	       "(accepted %d, descriptor %d)",
	       accepted, got_fd);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 3,
	       "the CLI exits 3 (status %#x)", status);
	close(lfd);
	close(pidfd);
}

/* 12.4 and 12.9: empty datagrams with a descriptor each. */
static void test_empty(pid_t t)
{
	char path[PATH_MAX];
	int before, after, k, op = -2, err = 0, nul, silent = 0, first = -2;
	long long t0 = now_ms();

	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds(t);
	for (k = 0; k < 25000 && silent < 20; k++) {
		int fd = connect_helper(t, path, sizeof(path));

		if (fd < 0) {
			silent++;
			continue;
		}
		send_with_fd(fd, "", 0, nul);
		/* Wait until the helper has read it: its answer, or EOF. */
		op = reply_op(fd, 500, &err);
		if (k == 0)
			first = op;
		silent = op == -1 ? silent + 1 : 0;
		close(fd);
	}
	sleep_ms(100);
	after = count_fds(t);
	tap_ok(first == AT_CTL_REP_ERROR,
	       "an empty datagram gets an error reply, not EOF (op %#x)",
	       first);
	tap_ok(k == 25000 && before > 0 && after <= before + 2,
	       "%d empty datagrams with a descriptor each in %lld ms: the "
	       "target's descriptors %d -> %d",
	       k, now_ms() - t0, before, after);
	close(nul);
}

/* Until every thread of PID is stopped (bounded). */
static void wait_stopped(pid_t pid)
{
	char dir[64], path[128], line[256];
	int k;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	for (k = 0; k < 400; k++) {
		struct dirent *de;
		bool all = true;
		DIR *d = opendir(dir);

		if (!d)
			return;
		while ((de = readdir(d))) {
			FILE *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%.20s/status", dir,
				 de->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			while (fgets(line, sizeof(line), f))
				if (!strncmp(line, "State:", 6) &&
				    !strchr(line, 'T'))
					all = false;
			fclose(f);
		}
		closedir(d);
		if (all)
			return;
		sleep_ms(5);
	}
}

/* 12.5: a request stopped past its deadline is dropped. */
static void test_deadline(pid_t t)
{
	static char buf[AT_CTL_MAX_MSG];
	struct at_ctl_req *req = (struct at_ctl_req *)buf;
	struct at_ctl_proof pr;
	struct timespec now;
	char path[PATH_MAX];
	long len = nnp_request(buf, sizeof(buf));
	int fd, op = -1, err = 0;

	fd = connect_helper(t, path, sizeof(path));
	clock_gettime(CLOCK_MONOTONIC, &now);
	req->start_by_ns = (uint64_t)now.tv_sec * 1000000000ULL +
			   (uint64_t)now.tv_nsec + 300000000ULL;
	tap_ok(fd >= 0 && h_challenge(fd, buf, (size_t)len, t, &pr) == 0,
	       "the hello, and its challenge answered");
	kill(t, SIGSTOP);
	wait_stopped(t);
	h_send_proved(fd, &pr, buf, (size_t)len);
	sleep_ms(800);
	kill(t, SIGCONT);
	op = reply_op(fd, 5000, &err);
	tap_ok(op == AT_CTL_REP_ERROR && err == -ETIMEDOUT,
	       "the request whose deadline passed while the target was "
	       "stopped is answered -ETIMEDOUT (op %#x, %d)",
	       op, err);
	sleep_ms(100);
	tap_ok(nnp_threads(t) == 0, "and not run: %d threads with NoNewPrivs",
	       nnp_threads(t));
	close(fd);
}

static int count_tasks(pid_t pid)
{
	char dir[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Threads of PID whose status Uid line is not "0 0 0 0". */
static int non_root_threads(pid_t pid)
{
	char dir[64], path[128], line[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%.20s/status", dir,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Uid:", 4) &&
			    strcmp(line, "Uid:\t0\t0\t0\t0\n"))
				n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* 12.6: a one-way recipe that fails at its second step on the canary
 * leaves the helper able to serve (and undo) afterwards. */
static void test_canary(pid_t t)
{
	struct allthreads_report *rep = NULL;
	struct at_remote_status st;
	struct allthreads_prog *p = allthreads_prog_new();
	long to_user[3] = { 1234, 1234, 1234 }, to_root[3] = { 0, 0, 0 };
	long ambient[3] = { PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 13 };
	int r, v = -1;

	allthreads_prog_add(p, SYS_setresuid, 3, to_user,
			    ALLTHREADS_JUDGE_EQUAL);
	allthreads_prog_add(p, SYS_prctl, 3, ambient, ALLTHREADS_JUDGE_EQUAL);
	r = at_remote_run(t, p, 3000, 0, ALLTHREADS_MISMATCH_REPORT, &rep, &st);
	if (rep)
		v = (int)allthreads_report_verdict(rep);
	tap_ok(r < 0 && v == ALLTHREADS_FAILED,
	       "setresuid 1234 then an ambient raise: fails on the canary "
	       "(%d, verdict %d: %s)",
	       r, v, st.why);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
	tap_ok(non_root_threads(t) == 0,
	       "every thread is still uid 0 (%d "
	       "are not)",
	       non_root_threads(t));

	p = allthreads_prog_new();
	allthreads_prog_add(p, SYS_setresuid, 3, to_root,
			    ALLTHREADS_JUDGE_EQUAL);
	rep = NULL;
	r = at_remote_run(t, p, 3000, 0, ALLTHREADS_MISMATCH_REPORT, &rep, &st);
	tap_ok(r == 0 && rep &&
		       allthreads_report_verdict(rep) == ALLTHREADS_AGREE &&
		       (int)allthreads_report_nthreads(rep) == count_tasks(t),
	       "the helper still serves: setresuid 0 0 0 agrees on %d "
	       "threads, /proc lists %d (%d: %s)",
	       rep ? (int)allthreads_report_nthreads(rep) : -1, count_tasks(t),
	       r, st.why);
	allthreads_report_free(rep);
	allthreads_prog_free(p);
}

/* 12.3: a daemon-style start closes every descriptor and opens its
 * own; the helper's eventfd write must never land in its log file, and
 * both routes keep working. */
static void test_closefds(bool range)
{
	const char *cli = getenv("AT_CLI");
	char log[64], cmd[256];
	long r0 = -1, r1 = -1, r2 = -1;
	struct stat st;
	pid_t t;
	int rc;

	snprintf(log, sizeof(log), "/tmp/at-sec-log-%d", (int)getpid());
	unlink(log);
	t = start_args("closefds", log, range ? "range" : NULL, NULL);
	if (t < 0) {
		tap_skip(3, "sec-target closefds did not start");
		return;
	}
	sscanf(first_line, "syscall %ld %ld %ld", &r0, &r1, &r2);
	tap_ok(r0 == 0 && r1 == 0 && r2 == 0,
	       "%s: in-process allthreads_syscall() works after (%s)",
	       range ? "close_range(3, ~0)" : "close() of 3..1023", first_line);
	snprintf(cmd, sizeof(cmd), "%s -p %d prctl KEEP_CAPS 1 >/dev/null",
		 cli ? cli : "false", (int)t);
	rc = system(cmd);
	tap_ok(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	       "-p works after (status %#x)", rc);
	tap_ok(stat(log, &st) == 0 && st.st_size == 0,
	       "the log file got no stray bytes (%lld)",
	       stat(log, &st) == 0 ? (long long)st.st_size : -1LL);
	unlink(log);
	kill_all();
}

int main(void)
{
	pid_t t, c = 0;

	alarm(250);
	if (geteuid() != 0)
		tap_skip_all("needs root (pidfd_getfd, the child's memory)");
	t = start("rawfork", &c);
	if (t < 0 || c <= 0)
		tap_bail("cannot start sec-target rawfork: %s", strerror(-t));
	test_child_memory(t, c);
	test_stolen_socket(t, c);
	kill_all();

	t = start("rawfork", &c);
	if (t < 0)
		tap_bail("cannot start sec-target: %s", strerror(-t));
	test_deadline(t);
	test_empty(t);
	kill_all();

	t = start("rawfork", &c);
	if (t < 0)
		tap_bail("cannot start sec-target: %s", strerror(-t));
	test_canary(t);
	kill_all();

	test_closefds(false);
	test_closefds(true);
	tap_done();
	return 0;
}
