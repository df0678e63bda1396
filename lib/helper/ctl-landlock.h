/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-landlock.h - the helper's AT_CTL_REQ_LANDLOCK (ctl-proto.h): a
 * Landlock ruleset built inside this process, applied to every thread.
 */
#ifndef AT_CTL_LANDLOCK_H
#define AT_CTL_LANDLOCK_H

#include <stddef.h>

#include "allthreads.h"

/*
 * Serve the landlock request MSG (LEN bytes, its header's op being
 * AT_CTL_REQ_LANDLOCK).  Returns what allthreads_run() returned with
 * *REPORT set, or -errno with *REPORT NULL and *WHY a one-line reason
 * (WHYBUF, WHYLEN hold it when it names a path).
 */
int at_ctl_landlock(const void *msg, size_t len,
		    struct allthreads_report **report, const char **why,
		    char *whybuf, size_t whylen);

#endif /* AT_CTL_LANDLOCK_H */
