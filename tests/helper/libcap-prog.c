// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcap-prog.c - an unmodified libcap program: four threads, then one
 * cap_prctlw(PR_SET_NO_NEW_PRIVS).  Run with the helper preloaded, every
 * thread must end up with NoNewPrivs 1.  Exit 0 if so; 1 if some thread
 * missed it; 2 if libcap's psx hook is not the helper's.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	sleep(20);
	return NULL;
}

int main(void)
{
	char path[300], line[256];
	pthread_t th;
	Dl_info info;
	void *hook = dlsym(RTLD_DEFAULT, "psx_load_syscalls");
	int i, bad = 0, n = 0;
	FILE *ls;

	alarm(30);
	if (!hook || !dladdr(hook, &info) ||
	    !strstr(info.dli_fname, "allthreads-helper"))
		return 2;
	for (i = 0; i < 4; i++)
		pthread_create(&th, NULL, idle, NULL);
	if (cap_prctlw(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) != 0) {
		fprintf(stderr, "libcap-prog: cap_prctlw: %m\n");
		return 1;
	}
	snprintf(path, sizeof(path), "ls /proc/%d/task", (int)getpid());
	ls = popen(path, "re");
	while (ls && fgets(line, sizeof(line), ls) && n < 64) {
		char st[96];
		FILE *f;

		snprintf(st, sizeof(st), "/proc/%d/task/%d/status",
			 (int)getpid(), atoi(line));
		f = fopen(st, "re");
		n++;
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "NoNewPrivs:", 11) &&
			    !strstr(line, "1")) {
				fprintf(stderr, "libcap-prog: %s: %s", st,
					line);
				bad++;
			}
		if (f)
			fclose(f);
	}
	if (ls)
		pclose(ls);
	if (n < 6)
		fprintf(stderr, "libcap-prog: only %d threads\n", n);
	return bad || n < 6 ? 1 : 0;
}
