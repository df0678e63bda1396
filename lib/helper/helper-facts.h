/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * helper-facts.h - what the helper is, as others see it: its file's name
 * (lib/meson.build builds it so) and the names its threads carry
 * (receiver.c sets them).  The command includes it instead of copying
 * these facts (cli/cmd-run.c, cli/target.c).
 */
#ifndef AT_HELPER_FACTS_H
#define AT_HELPER_FACTS_H

/* The helper's file, in the build tree's lib/ and in
 * ALLTHREADS_PKGLIBDIR once installed. */
#define AT_HELPER_FILE "allthreads-helper.so"
/* The receiver thread's name (/proc/PID/task/TID/comm): it blocks every
 * signal by design and is served without one. */
#define AT_RECEIVER_COMM "allthreads-rcv"
/* The thread that runs a request's program for the receiver. */
#define AT_RUNNER_COMM "allthreads-run"

#endif /* AT_HELPER_FACTS_H */
