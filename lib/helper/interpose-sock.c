// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * interpose-sock.c - the socket calls, interposed (interpose.c, 3.): a
 * fixup's EINTR on a socket with a timeout hidden, within that timeout.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compiler.h"
#include "interpose-int.h"
#include "timespec.h"

/* --- sockets ------------------------------------------------------------------ */

/*
 * A blocking socket call fails with EINTR after a handler only when the
 * socket has a timeout (SO_RCVTIMEO for receiving and accept, SO_SNDTIMEO
 * for sending and connect); without one the kernel restarts it.  Made
 * again, the call waits the whole timeout again, so it is made again only
 * while the timeout, counted from the first call, has not run out: the
 * whole wait is at least the timeout and less than twice it.  Once it has
 * run out, the call fails as the timeout would have made it fail (EAGAIN,
 * or EINPROGRESS for connect).  The timeout is read (getsockopt) only on a
 * spurious EINTR; a call costs one more clock read (vDSO) otherwise.
 */
struct sock_wait {
	struct mark m;
	struct timespec start;
};

static void sock_begin(struct sock_wait *w)
{
	at_ts_now(&w->start);
	at_ip_mark(&w->m);
}

/* Make the call again?  When not, R and errno stand, except that errno is
 * EXPIRED when the EINTR was spurious but the timeout OPT has run out. */
static bool sock_again(long r, int fd, int opt, int expired,
		       struct sock_wait *w)
{
	struct timespec end, left;
	socklen_t len;
	struct timeval tv;

	if (r != -1 || !at_ip_spurious(r, &w->m))
		return false;
	len = sizeof(tv);
	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0 ||
	    (tv.tv_sec <= 0 && tv.tv_usec <= 0))
		return true;
	end = w->start;
	at_ts_add(&end, &(struct timespec){ tv.tv_sec, tv.tv_usec * 1000L });
	at_ts_left(&end, &left);
	if (left.tv_sec || left.tv_nsec)
		return true;
	errno = expired;
	return false;
}

AT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recv)(fd, buf, n, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
AT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	if (n > buflen)
		abort();
	return recv(fd, buf, n, flags);
}

AT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   __SOCKADDR_ARG addr, socklen_t *alen)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recvfrom)(fd, buf, n, flags, addr, alen);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       __SOCKADDR_ARG addr, socklen_t *alen);
AT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, __SOCKADDR_ARG addr,
				 socklen_t *alen)
{
	if (n > buflen)
		abort();
	return recvfrom(fd, buf, n, flags, addr, alen);
}

AT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(recvmsg)(fd, msg, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

/* Its own TMO is written back by the kernel with what is left. */
AT_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
		       struct timespec *tmo)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(recvmmsg)(fd, vec, n, flags, tmo);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(send)(fd, buf, n, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(sendto)(fd, buf, n, flags, addr, alen);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sock_wait w;
	ssize_t r;

	sock_begin(&w);
	do
		r = REAL(sendmsg)(fd, msg, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(sendmmsg)(fd, vec, n, flags);
	while (sock_again(r, fd, SO_SNDTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *alen)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(accept)(fd, addr, alen);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

AT_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *alen, int flags)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(accept4)(fd, addr, alen, flags);
	while (sock_again(r, fd, SO_RCVTIMEO, EAGAIN, &w));
	return r;
}

/* Made again, a connect still in progress goes on waiting for it (the
 * kernel's own restart does the same). */
AT_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t alen)
{
	struct sock_wait w;
	int r;

	sock_begin(&w);
	do
		r = REAL(connect)(fd, addr, alen);
	while (sock_again(r, fd, SO_SNDTIMEO, EINPROGRESS, &w));
	return r;
}
