/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* receiver.h - the helper's receiver thread. */
#ifndef AT_RECEIVER_H
#define AT_RECEIVER_H

#include <stdbool.h>

/* Make the socket and start the receiver thread, with every signal it can
 * block blocked.  RAW_OK: serve any system call (the target's opt-in).
 * 0 or -errno (then there is no receiver and no socket). */
int at_receiver_start(bool raw_ok);
/* Remove the socket, if this process made it.  Idempotent. */
void at_receiver_cleanup(void);
/* The application is about to close (or dup over) descriptors FIRST to
 * LAST: move the receiver's out of the way first (fdguard.c). */
void at_receiver_fds_closing(unsigned first, unsigned last);
/* ... and has done so (call after every at_receiver_fds_closing()). */
void at_receiver_fds_done(void);
/* The calling application thread just made the per-thread capability
 * call NR (SYS_capset with HDR and DATA, or SYS_prctl with ARGS[5]): make
 * it on the receiver too, before returning (bounded). */
void at_receiver_mirror(long nr, const long *args, const void *hdr,
			const void *data);
/* In a fork child: the receiver and its socket belong to the parent. */
void at_receiver_forget(void);

#endif /* AT_RECEIVER_H */
