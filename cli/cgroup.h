/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup.h - a group of processes named by a cgroup v2 directory
 * (--cgroup) or a systemd unit (--unit), found and listed (cgroup.c).
 */
#ifndef AT_CLI_CGROUP_H
#define AT_CLI_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

/* The cgroup v2 directory --cgroup PATH names: PATH itself when it is a
 * directory of a cgroup2 file system, else PATH below the cgroup2 mount
 * (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host).  0 with
 * the real path in DIR, or an exit code after saying why. */
int cgroup_resolve(const char *path, char *dir, size_t size);

/* The cgroup v2 directory of systemd unit NAME (".service" added when
 * NAME has no unit type, as systemctl does): its ControlGroup as
 * `systemctl show` prints it when systemd runs, else system.slice/NAME
 * below the cgroup2 mount.  0 with the path in DIR, or an exit code
 * after saying why. */
int cgroup_unit(const char *name, char *dir, size_t size);

/* Every process of DIR and of the cgroups below it, added to *PIDS (a
 * malloc'ed array of *N, grown as needed) unless already there; kernel
 * threads and allthreads itself (and its children: the ptrace route's
 * tracer) are left out.  The number added, or -errno. */
int cgroup_list(const char *dir, pid_t **pids, unsigned *n);

#endif /* AT_CLI_CGROUP_H */
