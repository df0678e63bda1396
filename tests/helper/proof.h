/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proof.h - what a helper test needs to prove itself the way the client
 * does (lib/target/ctl-client.c): ask for the hello, answer its challenge from a
 * /proc/PID/mem, and send a message behind the answer.  Header only; every
 * wait has a deadline.
 */
#ifndef AT_TESTS_PROOF_H
#define AT_TESTS_PROOF_H

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctl-proto.h"

/*
 * Send MSG (LEN bytes) on FD without a proof, wait (5 s) for the hello,
 * and fill P with the answer to its challenge as /proc/MEMPID/mem shows it
 * (zeros where it cannot be read: a wrong answer).  0, or -1 when no hello
 * came.
 */
static inline int h_challenge(int fd, const void *msg, size_t len, pid_t mempid,
			      struct at_ctl_proof *p)
{
	struct at_ctl_hello h;
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char path[64];
	int mem;

	memset(p, 0, sizeof(*p));
	p->hdr.magic = AT_CTL_MAGIC;
	p->hdr.version = AT_CTL_VERSION;
	p->hdr.op = AT_CTL_REQ_PROOF;
	p->hdr.len = sizeof(*p);
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    poll(&pf, 1, 5000) != 1 ||
	    recv(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.hdr.op != AT_CTL_REP_HELLO)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)mempid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0)
		return 0;
	if (pread(mem, p->secret, sizeof(p->secret), (off_t)h.secret_at) !=
	    (ssize_t)sizeof(p->secret))
		memset(p->secret, 0, sizeof(p->secret));
	close(mem);
	return 0;
}

/* Send P and then MSG (LEN bytes) as one datagram; the bytes of MSG sent,
 * or -1. */
static inline ssize_t h_send_proved(int fd, const struct at_ctl_proof *p,
				    const void *msg, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)p, .iov_len = sizeof(*p) },
		{ .iov_base = (void *)msg, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

	return n < (ssize_t)sizeof(*p) ? -1 : n - (ssize_t)sizeof(*p);
}

#endif /* AT_TESTS_PROOF_H */
