/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ids.h - user and group names, resolved the way the target sees them:
 * through its own root's /etc/passwd and /etc/group when its root is not
 * ours.
 */
#ifndef AT_CLI_IDS_H
#define AT_CLI_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where names are looked up for a process. */
struct idview {
	pid_t pid;	   /* 0: allthreads itself */
	bool foreign;	   /* its root differs from ours */
	char root[64];	   /* "/proc/PID/root" when foreign */
	bool used_foreign; /* a name was resolved there (say so) */
};

void idview_init(struct idview *v, pid_t pid);
/* A user (or group) name or number; "-1" when ALLOW_KEEP (setresuid's
 * "unchanged").  Returns 0, -EINVAL (unknown name: none such), -ERANGE. */
int resolve_uid(struct idview *v, const char *s, bool allow_keep, long *uid);
int resolve_gid(struct idview *v, const char *s, bool allow_keep, long *gid);
/* A comma-separated list of groups into a new array. */
int resolve_groups(struct idview *v, const char *list, unsigned **gids,
		   unsigned *n, char *bad, size_t badsize);
/* The supplementary groups of the user UID (initgroups(3)): its primary
 * group GID and every group that lists it. */
int user_groups(struct idview *v, long uid, long gid, unsigned **gids,
		unsigned *n);
/* The name of UID, or NULL (no lookups in foreign roots here). */
const char *uid_name(long uid, char *buf, size_t size);

#endif /* AT_CLI_IDS_H */
