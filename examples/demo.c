// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * demo.c - the per-thread credential problem, and allthreads fixing it.
 *
 * Starts a few worker threads, shows every thread's credentials, changes
 * them the ordinary way (one raw system call: only the calling thread
 * changes), then with one allthreads step program on every thread, and
 * shows every thread again.  As root it drops to nobody with an empty
 * bounding set; without privileges it sets NO_NEW_PRIVS and KEEP_CAPS.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <allthreads.h>

#define WORKERS 6

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool done;

static void *worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "worker-%ld", (long)arg);
	prctl(PR_SET_NAME, name);
	pthread_mutex_lock(&lock);
	while (!done)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* The value of KEY in /proc/self/task/TID/status, first word only. */
static void field(pid_t tid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) || line[kl] != ':')
			continue;
		sscanf(line + kl + 1, "%255s", line);
		line[len - 1] = 0;
		memcpy(out, line, strlen(line) + 1);
		break;
	}
	fclose(f);
}

static void show(const char *title, const struct allthreads_report *rep)
{
	unsigned i;

	printf("\n%s\n", title);
	printf("  %-8s %-10s %-6s %-6s %-17s %-17s %s\n", "TID", "THREAD",
	       "UID", "GID", "CapEff", "CapBnd", "NoNewPrivs");
	for (i = 0; i < allthreads_report_nthreads(rep); i++) {
		pid_t tid = allthreads_report_tid(rep, i);
		char comm[32], uid[16], gid[16], eff[24], bnd[24], nnp[8];
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/comm",
			 (int)tid);
		comm[0] = 0;
		f = fopen(path, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		field(tid, "Uid", uid, sizeof(uid));
		field(tid, "Gid", gid, sizeof(gid));
		field(tid, "CapEff", eff, sizeof(eff));
		field(tid, "CapBnd", bnd, sizeof(bnd));
		field(tid, "NoNewPrivs", nnp, sizeof(nnp));
		printf("  %-8d %-10s %-6s %-6s %-17s %-17s %s\n", (int)tid,
		       comm, uid, gid, eff, bnd, nnp);
	}
}

/* A read-only program: lists every thread without changing anything. */
static struct allthreads_report *census(void)
{
	struct allthreads_prog *p = allthreads_prog_new();
	struct allthreads_report *rep = NULL;
	int r;

	if (!p)
		return NULL;
	allthreads_prog_add(p, SYS_gettid, 0, NULL, ALLTHREADS_JUDGE_ANY);
	allthreads_prog_set_undo(p, 0, -1, NULL, -1, NULL);
	r = allthreads_run(p, 2000, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	allthreads_prog_free(p);
	if (r < 0)
		fprintf(stderr, "demo: census: %s\n", strerror(-r));
	return rep;
}

static bool has_cap_setuid(void)
{
	char eff[24];

	field((pid_t)syscall(SYS_gettid), "CapEff", eff, sizeof(eff));
	return (strtoull(eff, NULL, 16) >> 7) & 1; /* CAP_SETUID */
}

static void add(struct allthreads_prog *p, long nr, unsigned n, long a0,
		long a1, long a2)
{
	long args[3] = { a0, a1, a2 };

	allthreads_prog_add(p, nr, n, args, ALLTHREADS_JUDGE_EQUAL);
}

int main(void)
{
	struct allthreads_report *rep;
	struct allthreads_prog *p;
	pthread_t t[WORKERS];
	bool root = has_cap_setuid();
	long cap, last;
	FILE *f;
	int r;
	long i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_NAME, "main");
	for (i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	usleep(50000);

	rep = census();
	show("Before: a process with 7 threads", rep);
	allthreads_report_free(rep);

	/* The ordinary way: one system call changes one thread. */
	syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	rep = census();
	show("After prctl(PR_SET_NO_NEW_PRIVS, 1) in main: only main changed",
	     rep);
	allthreads_report_free(rep);

	/* The allthreads way: one step program, every thread, one visit. */
	p = allthreads_prog_new();
	add(p, SYS_prctl, 2, PR_SET_NO_NEW_PRIVS, 1, 0);
	if (root) {
		last = 40;
		f = fopen("/proc/sys/kernel/cap_last_cap", "re");
		if (f) {
			if (fscanf(f, "%ld", &last) != 1)
				last = 40;
			fclose(f);
		}
		for (cap = 0; cap <= last; cap++)
			add(p, SYS_prctl, 2, PR_CAPBSET_DROP, cap, 0);
		add(p, SYS_setgroups, 2, 0, 0, 0);
		add(p, SYS_setresgid, 3, 65534, 65534, 65534);
		add(p, SYS_setresuid, 3, 65534, 65534, 65534);
	} else {
		add(p, SYS_prctl, 2, PR_SET_KEEPCAPS, 1, 0);
	}
	printf("\nallthreads_run(): %u steps on every thread...\n",
	       allthreads_prog_len(p));
	r = allthreads_run(p, 2000, 0, ALLTHREADS_MISMATCH_REPORT, &rep);
	printf("  result %d (%s), verdict %s, %u threads\n", r,
	       r < 0 ? strerror(-r) : "ok",
	       allthreads_verdict_name(allthreads_report_verdict(rep)),
	       allthreads_report_nthreads(rep));
	allthreads_report_free(rep);
	allthreads_prog_free(p);

	rep = census();
	show(root ? "After allthreads: every thread is nobody, no capabilities, "
		    "NoNewPrivs" :
		    "After allthreads: every thread has NoNewPrivs",
	     rep);
	allthreads_report_free(rep);

	pthread_mutex_lock(&lock);
	done = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	return r < 0 ? 1 : 0;
}
