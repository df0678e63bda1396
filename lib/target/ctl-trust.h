/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-trust.h - where a target's helper socket is (target.c asks), and
 * what the helper's client (ctl-client.c) takes from the trust in its
 * path (ctl-trust.c).
 */
#ifndef AT_CTL_TRUST_H
#define AT_CTL_TRUST_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Whose files the client believes: root's and the target's. */
struct at_ctl_trust {
	uid_t uid[5]; /* root, then the target's own */
	int n;
	uid_t own[4]; /* the target's distinct uids, in status order */
	int nown;
};

/* Read FILE under BASE (a /proc directory; small) into BUF; length or
 * -errno. */
int at_ctl_read_file(const char *base, const char *file, char *buf, size_t len);
/* The /proc directory through which process PID is looked at (that of a
 * live thread); 0, or -ESRCH. */
int at_ctl_proc_base(pid_t pid, char *base, size_t len);
/* The target's uids (real, effective, saved, fs) and root, from its
 * status (read into STATUS); 0 or -errno. */
int at_ctl_read_trust(const char *base, struct at_ctl_trust *tr, char *status,
		      size_t len);
/* Walk PATH one component at a time from the target's root, never
 * following a symbolic link, every directory and the socket trusted: 0
 * with *DIRFD, *NAME and *SOCK; -ENOENT, -EPERM (WHY says why), -EACCES. */
int at_ctl_walk_trusted(const char *path, const struct at_ctl_trust *tr,
			int *dirfd, const char **name, struct stat *sock,
			char *why, size_t whylen);

/*
 * Find the helper socket of process PID (as this process sees it), through
 * /proc/PID/root so it works across mount namespaces.  Searched, for each
 * distinct uid U of the target's real, effective, saved and fs uids, with
 * N the target's own pid (the last NSpid field):
 *   /run/allthreads/U/N.sock, $XDG_RUNTIME_DIR/allthreads/N.sock (the
 *   target's, if its environment is readable), /run/user/U/allthreads/
 *   N.sock, /tmp/allthreads-U/N.sock; then /run/allthreads/ * /N.sock (a
 *   target that changed its uids keeps the socket it started with).
 * 0 with PATH set; -ESRCH no such process, -EACCES not allowed to look,
 * -ENOENT no helper; WHY gets a one-line reason.
 */
int at_ctl_find_socket(pid_t pid, char *path, size_t len, char *why,
		       size_t whylen);

#endif /* AT_CTL_TRUST_H */
