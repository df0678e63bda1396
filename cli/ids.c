// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ids.c - user and group names in the target's view.  A process in a
 * container sees its own /etc/passwd; when /proc/PID/root is not our root,
 * names are read from there, and the caller says so.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ids.h"
#include "names.h"

/* The largest id: (uid_t)-1 means "unchanged" to the kernel. */
#define ID_MAX 0xfffffffeL

void idview_init(struct idview *v, pid_t pid)
{
	struct stat ours, theirs;

	memset(v, 0, sizeof(*v));
	v->pid = pid;
	if (!pid)
		return;
	snprintf(v->root, sizeof(v->root), "/proc/%d/root", pid);
	if (stat("/", &ours) == 0 && stat(v->root, &theirs) == 0 &&
	    (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino))
		v->foreign = true;
}

static FILE *open_db(struct idview *v, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/etc/%s", v->root, file);
	v->used_foreign = true;
	return fopen(path, "re");
}

static int parse_id(const char *s, bool allow_keep, long *id)
{
	long n;

	if (parse_long(s, &n))
		return -EINVAL;
	if (n == -1 && allow_keep) {
		*id = -1;
		return 0;
	}
	if (n < 0 || n > ID_MAX)
		return -ERANGE;
	*id = n;
	return 0;
}

static bool is_number(const char *s)
{
	return (*s >= '0' && *s <= '9') || (*s == '-' && s[1]);
}

int resolve_uid(struct idview *v, const char *s, bool allow_keep, long *uid)
{
	struct passwd *pw;
	FILE *f;

	if (is_number(s))
		return parse_id(s, allow_keep, uid);
	if (!v->foreign) {
		pw = getpwnam(s);
		if (!pw)
			return -EINVAL;
		*uid = pw->pw_uid;
		return 0;
	}
	f = open_db(v, "passwd");
	if (!f)
		return -EINVAL;
	while ((pw = fgetpwent(f)))
		if (strcmp(pw->pw_name, s) == 0)
			break;
	if (pw)
		*uid = pw->pw_uid;
	fclose(f);
	return pw ? 0 : -EINVAL;
}

int resolve_gid(struct idview *v, const char *s, bool allow_keep, long *gid)
{
	struct group *gr;
	FILE *f;

	if (is_number(s))
		return parse_id(s, allow_keep, gid);
	if (!v->foreign) {
		gr = getgrnam(s);
		if (!gr)
			return -EINVAL;
		*gid = gr->gr_gid;
		return 0;
	}
	f = open_db(v, "group");
	if (!f)
		return -EINVAL;
	while ((gr = fgetgrent(f)))
		if (strcmp(gr->gr_name, s) == 0)
			break;
	if (gr)
		*gid = gr->gr_gid;
	fclose(f);
	return gr ? 0 : -EINVAL;
}

int resolve_groups(struct idview *v, const char *list, unsigned **gids,
		   unsigned *n, char *bad, size_t badsize)
{
	unsigned *out, count = 0;
	const char *p = list;
	size_t max = 1;
	int err;

	for (; *p; p++)
		max += *p == ',';
	out = calloc(max, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (p = list; *p;) {
		size_t len = strcspn(p, ",");
		char word[256];
		long g;

		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if (!len)
			continue;
		err = resolve_gid(v, word, false, &g);
		if (err) {
			snprintf(bad, badsize, "%s", word);
			free(out);
			return err;
		}
		out[count++] = g;
	}
	*gids = out;
	*n = count;
	return 0;
}

/* Is NAME among MEMBERS? */
static bool is_member(char **members, const char *name)
{
	for (; members && *members; members++)
		if (strcmp(*members, name) == 0)
			return true;
	return false;
}

static int add_gid(unsigned **v, unsigned *n, size_t *cap, unsigned g)
{
	unsigned i, *nv;

	for (i = 0; i < *n; i++)
		if ((*v)[i] == g)
			return 0;
	if (*n == *cap) {
		nv = realloc(*v, (*cap ? *cap * 2 : 16) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = *cap ? *cap * 2 : 16;
	}
	(*v)[(*n)++] = g;
	return 0;
}

int user_groups(struct idview *v, long uid, long gid, unsigned **gids,
		unsigned *n)
{
	char name[256] = "";
	struct passwd *pw;
	struct group *gr;
	unsigned *out = NULL, count = 0;
	size_t cap = 0;
	FILE *f = NULL;
	int err = 0;

	if (v->foreign) {
		f = open_db(v, "passwd");
		while (f && (pw = fgetpwent(f)))
			if ((long)pw->pw_uid == uid) {
				snprintf(name, sizeof(name), "%s", pw->pw_name);
				break;
			}
		if (f)
			fclose(f);
	} else {
		pw = getpwuid(uid);
		if (pw)
			snprintf(name, sizeof(name), "%s", pw->pw_name);
	}
	if (!name[0])
		return -ENOENT;
	if (gid >= 0 && add_gid(&out, &count, &cap, gid))
		return -ENOMEM;
	if (v->foreign) {
		f = open_db(v, "group");
		if (!f) {
			free(out);
			return -ENOENT;
		}
	} else {
		setgrent();
	}
	while (!err && (gr = f ? fgetgrent(f) : getgrent()))
		if (is_member(gr->gr_mem, name))
			err = add_gid(&out, &count, &cap, gr->gr_gid);
	if (f)
		fclose(f);
	else
		endgrent();
	if (err) {
		free(out);
		return err;
	}
	*gids = out;
	*n = count;
	return 0;
}

const char *uid_name(long uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (!pw)
		return NULL;
	snprintf(buf, size, "%s", pw->pw_name);
	return buf;
}
