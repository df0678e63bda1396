// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * uring.c - a multi-threaded target that keeps credentials in io_uring,
 * for test-uring.sh.
 *
 *   at-uring N [sqpoll] [personality]
 *
 * Sets up one io_uring ring by the raw system calls: with "sqpoll" the
 * ring has a kernel submission thread (iou-sqp-PID, a task of this
 * process that keeps the credentials the ring was made with); with
 * "personality" it registers this thread's credentials as a personality.
 * Without either word it has no ring at all.  Then it starts N idle
 * threads and prints "ready PID [personality ID]".
 *
 * On SIGUSR1 it tries /etc/shadow twice and prints one line:
 * "probe open=R ring=R" (R is 0 for opened, else an errno name's number):
 * open() as the threads now are, and an IORING_OP_OPENAT through the ring
 * (with the personality when there is one).  Exits after 120 seconds
 * (times AT_TIMEOUT_FACTOR: emulation, tests/arm64/vm.sh).
 *
 * Exit 77 when io_uring cannot be set up here (disabled, ENOSYS, EPERM).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/io_uring.h>

#define MAX_THREADS 64

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *sq_flags;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int setup(struct ring *r, int sqpoll)
{
	struct io_uring_params p;
	void *sq, *cq;

	memset(&p, 0, sizeof(p));
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 1000;
	}
	r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL,
		  p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
		return -errno;
	r->sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	r->sq_flags = (unsigned *)((char *)sq + p.sq_off.flags);
	r->cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	return 0;
}

/* Open PATH through the ring: 0 (closed again) or -errno. */
static int ring_open(struct ring *r, const char *path, int personality,
		     int sqpoll)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	unsigned flags = IORING_ENTER_GETEVENTS;
	int res, i;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)path;
	sqe->open_flags = O_RDONLY | O_CLOEXEC;
	sqe->personality = (unsigned short)personality;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (sqpoll && (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) &
		       IORING_SQ_NEED_WAKEUP))
		flags |= IORING_ENTER_SQ_WAKEUP;
	for (i = 0; i < 100; i++) {
		if (syscall(SYS_io_uring_enter, r->fd, sqpoll ? 0 : 1, 1, flags,
			    NULL, 0) < 0 &&
		    errno != EINTR)
			return -errno;
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
			break;
		usleep(10000);
	}
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -ETIMEDOUT;
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	if (res >= 0) {
		close(res);
		res = 0;
	}
	return res;
}

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int main(int argc, char **argv)
{
	int sqpoll = 0, perso = 0, personality = 0, n, i, sig, fd, err;
	struct ring r = { .fd = -1 };
	char buf[16];
	sigset_t set;
	pthread_t th;
	const char *env = getenv("AT_TIMEOUT_FACTOR");
	int factor = atoi(env ? env : "1");

	n = argc > 1 ? atoi(argv[1]) : 3;
	if (n < 0 || n > MAX_THREADS) {
		fprintf(stderr,
			"usage: at-uring [0..%d] [sqpoll] "
			"[personality]\n",
			MAX_THREADS);
		return 64;
	}
	for (i = 2; i < argc; i++) {
		sqpoll |= !strcmp(argv[i], "sqpoll");
		perso |= !strcmp(argv[i], "personality");
	}
	fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t len = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		if (len > 0 && buf[0] != '0') {
			fprintf(stderr, "at-uring: io_uring is disabled\n");
			return 77;
		}
	}
	if (sqpoll || perso) {
		err = setup(&r, sqpoll);
		if (err == -ENOSYS || err == -EPERM) {
			fprintf(stderr, "at-uring: io_uring_setup: %s\n",
				strerror(-err));
			return 77;
		}
		if (err) {
			fprintf(stderr, "at-uring: setup: %s\n",
				strerror(-err));
			return 1;
		}
	}
	if (perso) {
		personality = (int)syscall(SYS_io_uring_register, r.fd,
					   IORING_REGISTER_PERSONALITY, NULL,
					   0);
		if (personality < 0) {
			fprintf(stderr, "at-uring: personality: %s\n",
				strerror(errno));
			return 1;
		}
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++)
		if (pthread_create(&th, NULL, idle, NULL))
			return 1;
	if (personality)
		printf("ready %d personality %d\n", getpid(), personality);
	else
		printf("ready %d\n", getpid());
	fflush(stdout);
	alarm(120 * (unsigned)(factor < 1 ? 1 : factor > 100 ? 100 : factor));
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		printf("probe open=%d ring=%d\n", err,
		       r.fd < 0 ? ENOENT :
				  -ring_open(&r, "/etc/shadow", personality,
					     sqpoll));
		fflush(stdout);
	}
}
