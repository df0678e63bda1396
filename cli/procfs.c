// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * procfs.c - per-thread credentials from /proc/PID/task/TID/status.  A
 * thread can exit between the listing and the read: it is counted as
 * vanished, never an error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"
#include "proctext.h"

/* A status file is a few kilobytes; Groups can be long. */
#define STATUS_MAX (256 * 1024)

/* The task flags of a kernel worker (include/linux/sched.h; not in the
 * uapi headers), as field 9 of /proc/PID/task/TID/stat shows them. */
#define PF_IO_WORKER 0x00000010ul
#define PF_USER_WORKER 0x00004000ul

const char *capset_key(enum capset_index set)
{
	static const char *const keys[NR_CAPSETS] = {
		[CAP_INH] = PROCFS_KEY_CAPINH, [CAP_PRM] = PROCFS_KEY_CAPPRM,
		[CAP_EFF] = PROCFS_KEY_CAPEFF, [CAP_BND] = PROCFS_KEY_CAPBND,
		[CAP_AMB] = PROCFS_KEY_CAPAMB,
	};

	return keys[set];
}

void task_path(char *buf, size_t size, pid_t pid, pid_t tid, const char *file)
{
	if (pid)
		snprintf(buf, size, "/proc/%d/task/%d/%s", pid, tid, file);
	else
		snprintf(buf, size, "/proc/self/task/%d/%s", tid, file);
}

/* Read all of PATH into a new NUL-terminated buffer. */
static int read_all(const char *path, char **out)
{
	size_t len = 0, cap = 8192;
	char *buf, *nb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		goto out_nomem;
	for (;;) {
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			n = -errno;
			free(buf);
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
		if (len + 1 == cap) {
			if (cap >= STATUS_MAX)
				break;
			nb = realloc(buf, cap * 2);
			if (!nb)
				goto out_nomem;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
out_nomem:
	free(buf);
	close(fd);
	return -ENOMEM;
}

int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* The value after "FIELD:" in TEXT (lib/common's reader), its length up
 * to the end of the line in *LEN, or NULL. */
static const char *find_field(const char *text, const char *field, size_t *len)
{
	const char *v = at_proc_field(text, field);

	if (v)
		*len = strcspn(v, "\n");
	return v;
}

int proc_status_field(pid_t pid, pid_t tid, const char *field, char *out,
		      size_t size)
{
	const char *v;
	char path[64];
	char *text;
	size_t len;
	int err;

	task_path(path, sizeof(path), pid, tid, "status");
	err = read_all(path, &text);
	if (err)
		return err;
	v = find_field(text, field, &len);
	if (v)
		snprintf(out, size, "%.*s", (int)len, v);
	free(text);
	return v ? 0 : -ENOENT;
}

static void parse_ids(const char *v, long ids[4])
{
	char *end;
	int i;

	for (i = 0; i < 4; i++) {
		ids[i] = v ? strtol(v, &end, 10) : -1;
		if (v)
			v = end;
	}
}

/* The kernel writes the Name: of /proc/PID/status with a backslash before
 * a backslash and a newline as \n (proc_task_name(), seq_escape_str with
 * "\n\\"); /proc/PID/comm and PR_GET_NAME give the name as set.  T->comm
 * holds the name as set, so a name with a backslash compares equal to
 * what was asked. */
static void unescape_name(const char *v, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < size; i++) {
		char c = v[i];

		if (c == '\\' && i + 1 < len) {
			c = v[++i];
			if (c == 'n')
				c = '\n';
		}
		out[n++] = c;
	}
	out[n] = '\0';
}

/* Groups' list, V (LEN bytes), into T. */
static void parse_groups(const char *v, size_t len, struct tstatus *t)
{
	const char *p;

	free(t->groups);
	t->groups = NULL;
	t->ngroups = 0;
	if (!len)
		return;
	t->groups = calloc(len / 2 + 1, sizeof(*t->groups));
	if (!t->groups)
		return;
	for (p = v; p < v + len;) {
		char *end;
		unsigned long g = strtoul(p, &end, 10);

		if (end == p)
			break;
		t->groups[t->ngroups++] = g;
		p = end;
	}
}

/* One line of a status file, KEY (KLEN bytes) and its value V (LEN
 * bytes), into T. */
static void parse_line(const char *key, size_t klen, const char *v, size_t len,
		       struct tstatus *t)
{
	unsigned i;

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
	/* By the first letter: audit reads some 50 lines a thread for every
	 * thread of the host. */
	switch (key[0]) {
	case 'N':
		if (KEY("Name"))
			unescape_name(v, len, t->comm, sizeof(t->comm));
		else if (KEY("NoNewPrivs"))
			t->nnp = atoi(v);
		break;
	case 'S':
		if (KEY("State"))
			t->state = len ? *v : '?';
		else if (KEY("Seccomp"))
			t->seccomp = atoi(v);
		else if (KEY("Seccomp_filters"))
			t->filters = atoi(v);
		break;
	case 'U':
		if (KEY("Uid"))
			parse_ids(v, t->uid);
		break;
	case 'G':
		if (KEY("Gid"))
			parse_ids(v, t->gid);
		else if (KEY("Groups"))
			parse_groups(v, len, t);
		break;
	case 'C':
		if (klen != 6 || memcmp(key, "Cap", 3))
			break;
		for (i = 0; i < NR_CAPSETS; i++)
			if (!memcmp(key, capset_key(i), klen))
				t->cap[i] = strtoull(v, NULL, 16);
		break;
	}
#undef KEY
}

/* One pass over TEXT, each line read by lib/common's reader. */
void parse_status(const char *text, struct tstatus *t)
{
	const char *key, *v;
	size_t pos = 0, klen, len;
	unsigned i;

	t->comm[0] = '\0';
	t->state = '?';
	parse_ids(NULL, t->uid);
	parse_ids(NULL, t->gid);
	for (i = 0; i < NR_CAPSETS; i++)
		t->cap[i] = 0;
	t->nnp = t->seccomp = t->filters = -1;
	parse_groups(NULL, 0, t);
	while (at_proc_next(text, &pos, &key, &klen, &v, &len))
		parse_line(key, klen, v, len, t);
}

unsigned proc_task_worker(pid_t pid, pid_t tid)
{
	char path[64], buf[1024];
	unsigned long flags;
	const char *p;

	task_path(path, sizeof(path), pid, tid, "stat");
	if (read_small(path, buf, sizeof(buf)))
		return 0;
	/* After the name, which may hold anything: state ppid pgrp
	 * session tty_nr tpgid flags. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return 0;
	if (flags & PF_IO_WORKER)
		return PROCFS_WORKER_IO;
	if (flags & PF_USER_WORKER)
		return PROCFS_WORKER_USER;
	return 0;
}

int proc_read_tstatus(pid_t pid, pid_t tid, struct tstatus *t)
{
	char path[64];
	char *text;
	int err;

	task_path(path, sizeof(path), pid, tid, "status");
	err = read_all(path, &text);
	if (err)
		return err;
	t->tid = tid;
	parse_status(text, t);
	free(text);
	t->worker = proc_task_worker(pid, tid);
	return 0;
}

/* The personalities in a ring's fdinfo TEXT into R (kernels that list
 * them: "Personalities:", then per id its number and indented Uid, Gid,
 * Groups and CapEff lines). */
static int parse_personalities(const char *text, struct uring *r)
{
	const char *line = strstr(text, "\nPersonalities:\n");
	struct kept_cred *c = NULL, *nc;
	char *end;

	r->npers = -1;
	if (!line)
		return 0;
	r->npers = 0;
	for (line = strchr(line + 1, '\n'); line && line[1];
	     line = strchr(line + 1, '\n')) {
		const char *l = line + 1;
		const char *v = l + strspn(l, " \t");
		size_t len;

		if (l[0] != ' ' && l[0] != '\t')
			break; /* the next section */
		if (*v >= '0' && *v <= '9') {
			nc = realloc(r->pers, (r->npers + 1) * sizeof(*nc));
			if (!nc)
				return -ENOMEM;
			r->pers = nc;
			c = &nc[r->npers++];
			memset(c, 0, sizeof(*c));
			c->id = strtoul(v, &end, 10);
			memset(c->uid, -1, sizeof(c->uid));
			memset(c->gid, -1, sizeof(c->gid));
			continue;
		}
		if (!c)
			continue;
		len = strcspn(v, "\n");
		if (!strncmp(v, "Uid:", 4))
			parse_ids(v + 4, c->uid);
		else if (!strncmp(v, "Gid:", 4))
			parse_ids(v + 4, c->gid);
		else if (!strncmp(v, "Groups:", 7))
			snprintf(c->groups, sizeof(c->groups), "%.*s",
				 (int)(len - 7 - strspn(v + 7, " \t")),
				 v + 7 + strspn(v + 7, " \t"));
		else if (!strncmp(v, "CapEff:", 7))
			c->capeff = strtoull(v + 7, NULL, 16);
	}
	return 0;
}

static void free_rings(struct snapshot *snap)
{
	unsigned i;

	for (i = 0; i < snap->nrings; i++)
		free(snap->rings[i].pers);
	free(snap->rings);
	snap->rings = NULL;
	snap->nrings = 0;
}

int proc_read_rings(pid_t pid, struct snapshot *snap)
{
	char path[320], link[64];
	struct uring *r, *nr;
	struct dirent *de;
	const char *v;
	char *text;
	size_t len;
	ssize_t n;
	DIR *dir;
	int err = 0;

	free_rings(snap);
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/fd");
	dir = opendir(path);
	if (!dir) {
		snap->rings_err = errno == ENOENT ? -ESRCH : -errno;
		return snap->rings_err;
	}
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s",
			 pid ? pid : getpid(), de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed meanwhile */
		link[n] = '\0';
		if (strcmp(link, URING_LINK))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s",
			 pid ? pid : getpid(), de->d_name);
		if (read_all(path, &text))
			continue;
		nr = realloc(snap->rings, (snap->nrings + 1) * sizeof(*nr));
		if (!nr) {
			free(text);
			err = -ENOMEM;
			break;
		}
		snap->rings = nr;
		r = &nr[snap->nrings++];
		memset(r, 0, sizeof(*r));
		r->fd = atoi(de->d_name);
		v = find_field(text, "SqThread", &len);
		r->sq_thread = v && atoi(v) > 0 ? atoi(v) : 0;
		err = parse_personalities(text, r);
		free(text);
		if (err)
			break;
	}
	closedir(dir);
	snap->rings_err = err;
	return err;
}

unsigned snapshot_kept(const struct snapshot *snap)
{
	unsigned i, n = snap->nrings;

	for (i = 0; i < snap->n; i++)
		n += snap->t[i].worker != 0;
	return n;
}

void worker_words(const struct snapshot *snap, const struct tstatus *t,
		  char *buf, size_t size)
{
	unsigned i;

	for (i = 0; i < snap->nrings; i++) {
		if (snap->rings[i].sq_thread != t->tid)
			continue;
		snprintf(buf, size, "io_uring SQPOLL thread of ring fd %d",
			 snap->rings[i].fd);
		return;
	}
	if (t->worker == PROCFS_WORKER_USER)
		snprintf(buf, size, "kernel worker of the process (vhost)");
	else if (!strncmp(t->comm, "iou-sqp-", 8))
		snprintf(buf, size, "io_uring SQPOLL thread");
	else
		snprintf(buf, size, "io_uring worker");
}

/* Every TID the task directory DIR lists, into a new array (no bound):
 * the count or -errno.  Closes DIR. */
static int list_dir_tasks(DIR *dir, pid_t **tids)
{
	size_t n = 0, cap = 64;
	struct dirent *de;
	pid_t *v, *nv;

	v = malloc(cap * sizeof(*v));
	if (!v)
		goto out_nomem;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			nv = realloc(v, 2 * cap * sizeof(*v));
			if (!nv)
				goto out_nomem;
			v = nv;
			cap *= 2;
		}
		v[n++] = atoi(de->d_name);
	}
	closedir(dir);
	*tids = v;
	return n;
out_nomem:
	free(v);
	closedir(dir);
	return -ENOMEM;
}

int proc_list_tasks(pid_t pid, pid_t **tids)
{
	char path[64];
	DIR *dir;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/task");
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ESRCH : -errno;
	return list_dir_tasks(dir, tids);
}

int proc_list_tasks_fd(int taskfd, pid_t **tids)
{
	int fd = fcntl(taskfd, F_DUPFD_CLOEXEC, 0);
	DIR *dir;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	/* The duplicate shares the offset: list from the start. */
	rewinddir(dir);
	return list_dir_tasks(dir, tids);
}

static int cmp_tid(const void *a, const void *b)
{
	const struct tstatus *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* The TIDs of every thread of PID (only TID when TID != 0; listed from
 * TASKFD when it is >= 0), into SNAP, the other fields zero. */
static int list_into(pid_t pid, pid_t tid, int taskfd, struct snapshot *snap)
{
	pid_t *tids = NULL;
	int n, i;

	memset(snap, 0, sizeof(*snap));
	snap->pid = pid;
	if (tid) {
		n = 1;
	} else {
		n = taskfd >= 0 ? proc_list_tasks_fd(taskfd, &tids) :
				  proc_list_tasks(pid, &tids);
		if (n < 0)
			return n;
	}
	snap->t = calloc(n ? n : 1, sizeof(*snap->t));
	if (!snap->t) {
		free(tids);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		snap->t[i].tid = tid ? tid : tids[i];
	snap->n = (unsigned)n;
	free(tids);
	return 0;
}

/*
 * Does /proc name tasks as our system calls do (its pid namespace is
 * ours)?  Then a TID it lists can be given to a call that takes one.
 */
static bool proc_is_ours(void)
{
	char link[32], want[32];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);

	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(want, sizeof(want), "%d", (int)getpid());
	return strcmp(link, want) == 0;
}

/*
 * Can task TID be a kernel worker?  A kernel worker never runs in user
 * space, so it never registers a robust futex list: the kernel starts
 * every task without one, and set_robust_list(2) sets only the caller's
 * own.  glibc registers one for every thread it starts and for the main
 * thread, so in most processes no thread is read on this account.  A
 * thread without one (musl, Go, a raw clone()) is read as any other; so
 * is every thread once get_robust_list(2) is refused (*USABLE goes
 * false: not allowed, or not there).
 */
static bool may_be_worker(pid_t tid, bool *usable)
{
	void *head = NULL;
	size_t len = 0;

	if (!*usable)
		return true;
	if (syscall(SYS_get_robust_list, tid, &head, &len) == 0)
		return head == NULL;
	if (errno != ESRCH)
		*usable = false;
	return true;
}

/*
 * The status of each task SNAP lists, in place; those that exited since
 * the listing are dropped (counted in vanished).  LOOK: only the tasks
 * that may be kernel workers are read (may_be_worker()); the others keep
 * their TID alone, state '?'.  0, or -errno with SNAP freed.
 */
static int read_statuses(pid_t pid, struct snapshot *snap, bool look)
{
	bool usable = look && pid && proc_is_ours();
	unsigned i, kept = 0;
	int err;

	for (i = 0; i < snap->n; i++) {
		pid_t tid = snap->t[i].tid;
		struct tstatus *t = &snap->t[kept];

		if (look && !may_be_worker(tid, &usable)) {
			memset(t, 0, sizeof(*t));
			t->tid = tid;
			t->state = '?';
			kept++;
			continue;
		}
		err = proc_read_tstatus(pid, tid, t);
		if (err == -ENOENT || err == -ESRCH) {
			/* Exited since the listing. */
			snap->vanished++;
			continue;
		}
		if (err) {
			snap->n = kept;
			snapshot_free(snap);
			return err;
		}
		kept++;
	}
	snap->n = kept;
	return 0;
}

int proc_snapshot(pid_t pid, pid_t tid, struct snapshot *snap)
{
	int err;

	err = list_into(pid, tid, -1, snap);
	if (!err)
		err = read_statuses(pid, snap, false);
	if (err)
		return err;
	if (tid && snap->n == 0) {
		snapshot_free(snap);
		return -ESRCH;
	}
	qsort(snap->t, snap->n, sizeof(*snap->t), cmp_tid);
	/* A process's rings, unless only one thread was asked for (then
	 * unread: -ENODATA); a process whose fds we may not read keeps
	 * rings_err. */
	snap->rings_err = -ENODATA;
	if (!tid && proc_read_rings(pid, snap) == -ENOMEM) {
		snapshot_free(snap);
		return -ENOMEM;
	}
	return 0;
}

int proc_look(pid_t pid, struct snapshot *snap)
{
	int err;

	err = list_into(pid, 0, -1, snap);
	if (!err)
		err = read_statuses(pid, snap, true);
	if (err)
		return err;
	qsort(snap->t, snap->n, sizeof(*snap->t), cmp_tid);
	snap->rings_err = -ENODATA;
	if (proc_read_rings(pid, snap) == -ENOMEM) {
		snapshot_free(snap);
		return -ENOMEM;
	}
	return 0;
}

const struct tstatus *snapshot_find(const struct snapshot *snap, pid_t tid)
{
	struct tstatus want = { .tid = tid };

	if (!snap->n)
		return NULL;
	return bsearch(&want, snap->t, snap->n, sizeof(*snap->t), cmp_tid);
}

int snapshot_tids(const struct snapshot *snap, pid_t **tids)
{
	unsigned i;

	*tids = malloc((snap->n ? snap->n : 1) * sizeof(**tids));
	if (!*tids)
		return -ENOMEM;
	for (i = 0; i < snap->n; i++)
		(*tids)[i] = snap->t[i].tid;
	return (int)snap->n;
}

static int list_sorted(pid_t pid, int taskfd, struct snapshot *snap)
{
	int err = list_into(pid, 0, taskfd, snap);

	snap->rings_err = -ENODATA; /* not read */
	if (!err)
		qsort(snap->t, snap->n, sizeof(*snap->t), cmp_tid);
	return err;
}

int proc_snapshot_tids(pid_t pid, struct snapshot *snap)
{
	return list_sorted(pid, -1, snap);
}

int proc_snapshot_tids_fd(int taskfd, struct snapshot *snap)
{
	return list_sorted(0, taskfd, snap);
}

void snapshot_free(struct snapshot *snap)
{
	unsigned i;

	for (i = 0; i < snap->n; i++)
		free(snap->t[i].groups);
	free(snap->t);
	snap->t = NULL;
	snap->n = 0;
	free_rings(snap);
}

pid_t proc_tgid(pid_t tid)
{
	char path[64];
	const char *v;
	size_t len;
	char *text;
	pid_t pid;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (read_all(path, &text))
		return -ESRCH;
	v = find_field(text, "Tgid", &len);
	pid = v ? atoi(v) : -ESRCH;
	free(text);
	return pid;
}
