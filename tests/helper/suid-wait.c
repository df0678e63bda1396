// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * suid-wait.c - the set-user-ID-root program of tests/helper/test-exec.sh:
 * it keeps a random secret in its memory, prints where (and nothing of
 * what), and waits, bounded, as passwd(1) waits on its terminal.  The test
 * installs a copy owned by root with mode 4755; a process that execs it
 * becomes root's, and its memory is no longer its caller's to read.
 */
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

static unsigned char secret[32];

int main(void)
{
	unsigned k;

	alarm(60);
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret))
		return 1;
	printf("secret at %#lx, euid %d\n", (unsigned long)secret,
	       (int)geteuid());
	fflush(stdout);
	for (k = 0; k < 600; k++)
		usleep(100000);
	return secret[0] == 0x5a && secret[1] == 0xa5;
}
