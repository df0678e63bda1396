/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * interpose.h - what the rest of the helper needs from interpose.c: the
 * real (next) definitions of the functions we interpose.
 */
#ifndef AT_INTERPOSE_H
#define AT_INTERPOSE_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>

/* Resolve the next definitions; call once from the constructor, before
 * anything else of ours runs.  SIG is the engine's signal; START_IN_CHILD
 * starts this process's own helper if it is a fork child that has none
 * yet (helper.c; called from the blocking wrappers, outside handlers). */
void at_interpose_init(int sig, void (*start_in_child)(void));
/* From the atfork child handler: the application handlers the forking
 * thread is in belong to the parent's past, and are no bar to that start. */
void at_interpose_forked(void);

int at_real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
int at_real_poll(struct pollfd *fds, nfds_t n, int ms);

#endif /* AT_INTERPOSE_H */
