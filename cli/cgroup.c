// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cgroup.c - a group of processes named by a cgroup v2 directory
 * (--cgroup PATH) or a systemd unit (--unit NAME): the directory found, as
 * systemd records it where systemd runs, and every process in it and in
 * the cgroups below it listed from their cgroup.procs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "names.h"
#include "procfs.h"
#include "target.h"
#include "usage.h"

/* Deepest cgroup tree walked: the kernel's own default has no limit, and
 * a service's is a few levels. */
#define CGROUP_MAX_DEPTH 32
/* How long `systemctl show` may take. */
#define SYSTEMCTL_MS 5000

extern char **environ;

static bool is_cgroup2(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Mountinfo's octal escapes (\040 a blank) undone in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
			continue;
		}
		*w++ = *s;
	}
	*w = '\0';
}

/* Where the cgroup2 file system is mounted: 0, or -ENOENT. */
static int cgroup2_mount(char *out, size_t size)
{
	char line[4096], *sep, *mnt, *end;
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - TYPE ... */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		mnt = line;
		for (int i = 0; i < 4 && mnt; i++) {
			mnt = strchr(mnt, ' ');
			if (mnt)
				mnt++;
		}
		if (!mnt)
			continue;
		end = strchr(mnt, ' ');
		if (!end)
			continue;
		*end = '\0';
		unescape(mnt);
		if (strlen(mnt) < size) {
			snprintf(out, size, "%s", mnt);
			err = 0;
		}
	}
	fclose(f);
	return err;
}

int cgroup_resolve(const char *path, char *dir, size_t size)
{
	char mnt[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX];
	int err;

	if (!*path)
		return usage_error("--cgroup: an empty path names no cgroup");
	if (path[0] == '/' && realpath(path, real) && is_cgroup2(real))
		goto found;
	err = cgroup2_mount(mnt, sizeof(mnt));
	if (err) {
		fprintf(stderr,
			"allthreads: --cgroup %s: no cgroup v2 file system is "
			"mounted (/proc/self/mountinfo)\n",
			path);
		return EXIT_UNREACHABLE;
	}
	snprintf(full, sizeof(full), "%s/%s", mnt, path + strspn(path, "/"));
	if (!realpath(full, real)) {
		/* A directory, only not a cgroup's: a mistake, not a group
		 * gone. */
		if (path[0] == '/' && access(path, F_OK) == 0)
			return usage_error("--cgroup %s: not a cgroup v2 "
					   "directory (nor is %s)",
					   path, full);
		fprintf(stderr, "allthreads: --cgroup %s: %s: %s\n", path, full,
			strerror(errno));
		return EXIT_UNREACHABLE;
	}
	if (!is_cgroup2(real))
		return usage_error("--cgroup %s: %s is not a cgroup v2 "
				   "directory",
				   path, real);
found:
	snprintf(full, sizeof(full), "%s/cgroup.procs", real);
	if (access(full, R_OK) < 0) {
		fprintf(stderr, "allthreads: --cgroup %s: %s: %s\n", path, full,
			strerror(errno));
		return EXIT_UNREACHABLE;
	}
	if (strlen(real) >= size)
		return usage_error("--cgroup %s: path too long", path);
	snprintf(dir, size, "%s", real);
	return 0;
}

/* Does NAME end in a unit type systemctl knows? */
static bool has_unit_type(const char *name)
{
	static const char *const types[] = {
		".service",   ".socket", ".device", ".mount",
		".automount", ".swap",	 ".target", ".path",
		".timer",     ".slice",	 ".scope",
	};
	size_t len = strlen(name), tl;
	unsigned i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tl = strlen(types[i]);
		if (len > tl && strcmp(name + len - tl, types[i]) == 0)
			return true;
	}
	return false;
}

/* A unit name systemd could have made: letters, digits and ":-_.\@",
 * at most 255 bytes. */
static bool is_unit_name(const char *name)
{
	size_t len = strlen(name);

	return len && len < 256 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789:-_.\\@") == len &&
	       name[0] != '.';
}

/* Is systemd the service manager here (its own test: this directory)? */
static bool systemd_runs(void)
{
	struct stat sb;

	return lstat("/run/systemd/system", &sb) == 0 && S_ISDIR(sb.st_mode);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `systemctl show -p ControlGroup --value UNIT`'s first line into OUT:
 * 0, or -errno (-ETIMEDOUT when it took too long; it is killed). */
static int systemctl_cgroup(const char *unit, char *out, size_t size)
{
	char *argv[] = { "systemctl", "show", "-p",	    "ControlGroup",
			 "--value",   "--",   (char *)unit, NULL };
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	long deadline = now_ms() + SYSTEMCTL_MS;
	int fds[2], err, status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	err = -posix_spawnp(&pid, "systemctl", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		return err;
	}
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0) {
			err = -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			err = -errno;
			kill(pid, SIGKILL);
			break;
		}
		if (!p.revents)
			continue;
		r = read(fds[0], out + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == size - 1)
			break;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[len] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (!err && (!WIFEXITED(status) || WEXITSTATUS(status)))
		err = -ENOENT;
	return err;
}

int cgroup_unit(const char *name, char *dir, size_t size)
{
	char unit[300], cg[PATH_MAX + 320], mnt[PATH_MAX];
	int err;

	if (!is_unit_name(name))
		return usage_error("--unit %s: not a unit name", name);
	snprintf(unit, sizeof(unit), "%s%s", name,
		 has_unit_type(name) ? "" : ".service");
	if (systemd_runs()) {
		err = systemctl_cgroup(unit, cg, sizeof(cg));
		if (err) {
			fprintf(stderr,
				"allthreads: --unit %s: systemctl show: %s\n",
				unit, strerror(-err));
			return EXIT_UNREACHABLE;
		}
		if (!cg[0]) {
			fprintf(stderr,
				"allthreads: --unit %s: no control group "
				"(is it running?  systemctl status %s)\n",
				unit, unit);
			return EXIT_UNREACHABLE;
		}
		return cgroup_resolve(cg, dir, size);
	}
	/* Not under systemd (a container, a test): where systemd would put
	 * a system service, below the cgroup2 mount. */
	err = cgroup2_mount(mnt, sizeof(mnt));
	snprintf(cg, sizeof(cg), "%s/system.slice/%s", err ? "" : mnt, unit);
	if (err || access(cg, F_OK) < 0) {
		fprintf(stderr,
			"allthreads: --unit %s: systemd does not run here, and "
			"there is no %s\n",
			unit, cg);
		return EXIT_UNREACHABLE;
	}
	return cgroup_resolve(cg, dir, size);
}

/* PID's parent, from /proc/PID/stat; -1 when unknown. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)) || !buf[0])
		return -1;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static bool has_pid(const pid_t *pids, unsigned n, pid_t pid)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

static int add_pid(pid_t **pids, unsigned *n, pid_t pid)
{
	pid_t *grown;

	if (has_pid(*pids, *n, pid))
		return 0;
	if (pid == getpid() || parent_of(pid) == getpid() ||
	    is_kernel_thread(pid))
		return 0;
	grown = realloc(*pids, (*n + 1) * sizeof(**pids));
	if (!grown)
		return -ENOMEM;
	*pids = grown;
	grown[(*n)++] = pid;
	return 1;
}

/* The processes of the cgroup open at DFD, and of those below it. */
static int list_at(int dfd, unsigned depth, pid_t **pids, unsigned *n)
{
	char line[32];
	struct dirent *de;
	int fd, added = 0, r;
	FILE *f;
	DIR *d;

	fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* removed meanwhile */
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long v;

		line[strcspn(line, "\n")] = '\0';
		if (parse_decimal(line, &v) || !v || v > INT_MAX)
			continue;
		r = add_pid(pids, n, (pid_t)v);
		if (r < 0) {
			fclose(f);
			return r;
		}
		added += r;
	}
	fclose(f);
	if (depth >= CGROUP_MAX_DEPTH)
		return added;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return added;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return added;
	}
	while ((de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue; /* removed meanwhile */
		r = list_at(sub, depth + 1, pids, n);
		close(sub);
		if (r < 0) {
			closedir(d);
			return r;
		}
		added += r;
	}
	closedir(d);
	return added;
}

int cgroup_list(const char *dir, pid_t **pids, unsigned *n)
{
	int dfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = list_at(dfd, 0, pids, n);
	close(dfd);
	return r;
}
