// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sve-target.c - an aarch64 target whose threads hold SVE state for the
 * ptrace route's test (test-sve.sh).  Built with +sve for this file only.
 *
 * Two threads load known patterns into z0-z31, p0-p15 and FFR inside one
 * asm block: thread 0 then spins in user space (its whole SVE state is
 * live), thread 1 reads one byte with a raw read(2) (its own system call
 * leaves only the low 128 bits of each z register, the FPSIMD v registers,
 * defined: Documentation/arch/arm64/sve.rst).  After the release each
 * thread stores its registers and main compares: every byte of z, p and
 * FFR for thread 0, v0-v31 for thread 1.
 *
 * Prints "nosve" and exits 0 without SVE; else "ready PID TASKS".
 * Commands on stdin, one a line:
 *   release          ends both threads, prints "bad sve I: changed: REGS"
 *                    for each thread whose registers differ, then
 *                    "sve N of 2 intact" and "released READ_RET BYTE"
 *   clobber-release  the same, but thread 0 changes z17 and p3 on purpose
 *   quit             exits
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include <asm/hwcap.h>

#define ZREGS 32
#define PREGS 16
#define VL_MAX 256 /* bytes: SVE's architectural maximum */

/* The asm's one argument; the offsets are named in it. */
struct sargs {
	const uint8_t *wz, *wp, *wf; /* 0, 8, 16 */
	uint8_t *gz, *gp, *gf;	     /* 24, 32, 40 */
	const atomic_int *stop;	     /* 48 */
	atomic_int *loaded;	     /* 56 */
	const atomic_int *clobber;   /* 64 */
	long fd;		     /* 72 */
	char *byte;		     /* 80 */
	long ret;		     /* 88 */
	long spin;		     /* 96 */
};

struct vstate {
	uint8_t z[ZREGS][VL_MAX];
	uint8_t p[PREGS][VL_MAX / 8];
	uint8_t ffr[VL_MAX / 8];
};

static struct vstate want[2], got[2];
static atomic_int stop, clobber, loaded[2];
static int pipefd[2] = { -1, -1 };
static char byte;
static long read_ret = -1;
static unsigned vl;

__attribute__((noinline)) static void sve_hold(struct sargs *a)
{
	__asm__ volatile("mov x9, %0\n\t"
			 /* FFR through p0, then p0 itself below */
			 "ldr x10, [x9, #16]\n\t"
			 "ldr p0, [x10]\n\t"
			 "wrffr p0.b\n\t"
			 "ldr x10, [x9, #0]\n\t"
			 "ldr z0, [x10, #0, mul vl]\n\t"
			 "ldr z1, [x10, #1, mul vl]\n\t"
			 "ldr z2, [x10, #2, mul vl]\n\t"
			 "ldr z3, [x10, #3, mul vl]\n\t"
			 "ldr z4, [x10, #4, mul vl]\n\t"
			 "ldr z5, [x10, #5, mul vl]\n\t"
			 "ldr z6, [x10, #6, mul vl]\n\t"
			 "ldr z7, [x10, #7, mul vl]\n\t"
			 "ldr z8, [x10, #8, mul vl]\n\t"
			 "ldr z9, [x10, #9, mul vl]\n\t"
			 "ldr z10, [x10, #10, mul vl]\n\t"
			 "ldr z11, [x10, #11, mul vl]\n\t"
			 "ldr z12, [x10, #12, mul vl]\n\t"
			 "ldr z13, [x10, #13, mul vl]\n\t"
			 "ldr z14, [x10, #14, mul vl]\n\t"
			 "ldr z15, [x10, #15, mul vl]\n\t"
			 "ldr z16, [x10, #16, mul vl]\n\t"
			 "ldr z17, [x10, #17, mul vl]\n\t"
			 "ldr z18, [x10, #18, mul vl]\n\t"
			 "ldr z19, [x10, #19, mul vl]\n\t"
			 "ldr z20, [x10, #20, mul vl]\n\t"
			 "ldr z21, [x10, #21, mul vl]\n\t"
			 "ldr z22, [x10, #22, mul vl]\n\t"
			 "ldr z23, [x10, #23, mul vl]\n\t"
			 "ldr z24, [x10, #24, mul vl]\n\t"
			 "ldr z25, [x10, #25, mul vl]\n\t"
			 "ldr z26, [x10, #26, mul vl]\n\t"
			 "ldr z27, [x10, #27, mul vl]\n\t"
			 "ldr z28, [x10, #28, mul vl]\n\t"
			 "ldr z29, [x10, #29, mul vl]\n\t"
			 "ldr z30, [x10, #30, mul vl]\n\t"
			 "ldr z31, [x10, #31, mul vl]\n\t"
			 "ldr x10, [x9, #8]\n\t"
			 "ldr p0, [x10, #0, mul vl]\n\t"
			 "ldr p1, [x10, #1, mul vl]\n\t"
			 "ldr p2, [x10, #2, mul vl]\n\t"
			 "ldr p3, [x10, #3, mul vl]\n\t"
			 "ldr p4, [x10, #4, mul vl]\n\t"
			 "ldr p5, [x10, #5, mul vl]\n\t"
			 "ldr p6, [x10, #6, mul vl]\n\t"
			 "ldr p7, [x10, #7, mul vl]\n\t"
			 "ldr p8, [x10, #8, mul vl]\n\t"
			 "ldr p9, [x10, #9, mul vl]\n\t"
			 "ldr p10, [x10, #10, mul vl]\n\t"
			 "ldr p11, [x10, #11, mul vl]\n\t"
			 "ldr p12, [x10, #12, mul vl]\n\t"
			 "ldr p13, [x10, #13, mul vl]\n\t"
			 "ldr p14, [x10, #14, mul vl]\n\t"
			 "ldr p15, [x10, #15, mul vl]\n\t"
			 /* loaded */
			 "ldr x10, [x9, #56]\n\t"
			 "mov w11, #1\n\t"
			 "stlr w11, [x10]\n\t"
			 "ldr x11, [x9, #96]\n\t"
			 "cbz x11, 2f\n\t"
			 /* spin until stop, then maybe change z17 and p3 */
			 "ldr x10, [x9, #48]\n"
			 "1:\n\t"
			 "ldar w11, [x10]\n\t"
			 "cbz w11, 1b\n\t"
			 "ldr x10, [x9, #64]\n\t"
			 "ldar w11, [x10]\n\t"
			 "cbz w11, 3f\n\t"
			 "eor z17.d, z17.d, z17.d\n\t"
			 "pfalse p3.b\n\t"
			 "b 3f\n"
			 /* blocked: read(fd, byte, 1) */
			 "2:\n\t"
			 "ldr x0, [x9, #72]\n\t"
			 "ldr x1, [x9, #80]\n\t"
			 "mov x2, #1\n\t"
			 "mov x8, #63\n\t"
			 "svc #0\n\t"
			 "str x0, [x9, #88]\n"
			 "3:\n\t"
			 "ldr x10, [x9, #24]\n\t"
			 "str z0, [x10, #0, mul vl]\n\t"
			 "str z1, [x10, #1, mul vl]\n\t"
			 "str z2, [x10, #2, mul vl]\n\t"
			 "str z3, [x10, #3, mul vl]\n\t"
			 "str z4, [x10, #4, mul vl]\n\t"
			 "str z5, [x10, #5, mul vl]\n\t"
			 "str z6, [x10, #6, mul vl]\n\t"
			 "str z7, [x10, #7, mul vl]\n\t"
			 "str z8, [x10, #8, mul vl]\n\t"
			 "str z9, [x10, #9, mul vl]\n\t"
			 "str z10, [x10, #10, mul vl]\n\t"
			 "str z11, [x10, #11, mul vl]\n\t"
			 "str z12, [x10, #12, mul vl]\n\t"
			 "str z13, [x10, #13, mul vl]\n\t"
			 "str z14, [x10, #14, mul vl]\n\t"
			 "str z15, [x10, #15, mul vl]\n\t"
			 "str z16, [x10, #16, mul vl]\n\t"
			 "str z17, [x10, #17, mul vl]\n\t"
			 "str z18, [x10, #18, mul vl]\n\t"
			 "str z19, [x10, #19, mul vl]\n\t"
			 "str z20, [x10, #20, mul vl]\n\t"
			 "str z21, [x10, #21, mul vl]\n\t"
			 "str z22, [x10, #22, mul vl]\n\t"
			 "str z23, [x10, #23, mul vl]\n\t"
			 "str z24, [x10, #24, mul vl]\n\t"
			 "str z25, [x10, #25, mul vl]\n\t"
			 "str z26, [x10, #26, mul vl]\n\t"
			 "str z27, [x10, #27, mul vl]\n\t"
			 "str z28, [x10, #28, mul vl]\n\t"
			 "str z29, [x10, #29, mul vl]\n\t"
			 "str z30, [x10, #30, mul vl]\n\t"
			 "str z31, [x10, #31, mul vl]\n\t"
			 "ldr x10, [x9, #32]\n\t"
			 "str p0, [x10, #0, mul vl]\n\t"
			 "str p1, [x10, #1, mul vl]\n\t"
			 "str p2, [x10, #2, mul vl]\n\t"
			 "str p3, [x10, #3, mul vl]\n\t"
			 "str p4, [x10, #4, mul vl]\n\t"
			 "str p5, [x10, #5, mul vl]\n\t"
			 "str p6, [x10, #6, mul vl]\n\t"
			 "str p7, [x10, #7, mul vl]\n\t"
			 "str p8, [x10, #8, mul vl]\n\t"
			 "str p9, [x10, #9, mul vl]\n\t"
			 "str p10, [x10, #10, mul vl]\n\t"
			 "str p11, [x10, #11, mul vl]\n\t"
			 "str p12, [x10, #12, mul vl]\n\t"
			 "str p13, [x10, #13, mul vl]\n\t"
			 "str p14, [x10, #14, mul vl]\n\t"
			 "str p15, [x10, #15, mul vl]\n\t"
			 "ldr x10, [x9, #40]\n\t"
			 "rdffr p0.b\n\t"
			 "str p0, [x10]\n\t"
			 :
			 : "r"(a)
			 : "x0", "x1", "x2", "x8", "x9", "x10", "x11", "memory",
			   "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
			   "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15",
			   "v16", "v17", "v18", "v19", "v20", "v21", "v22",
			   "v23", "v24", "v25", "v26", "v27", "v28", "v29",
			   "v30", "v31", "p0", "p1", "p2", "p3", "p4", "p5",
			   "p6", "p7", "p8", "p9", "p10", "p11", "p12", "p13",
			   "p14", "p15", "ffr");
}

/* Vector memory is addressed in units of the vector length: the patterns
 * sit VL (z) and VL/8 (p) bytes apart, packed at the start of each row. */
static void *worker(void *arg)
{
	long i = (long)arg;
	uint8_t z[ZREGS * VL_MAX], p[PREGS * VL_MAX / 8];
	uint8_t gz[ZREGS * VL_MAX], gp[PREGS * VL_MAX / 8];
	struct sargs a = { z,	       p,     want[i].ffr, gz,	     gp,
			   got[i].ffr, &stop, &loaded[i],  &clobber, pipefd[0],
			   &byte,      -1,    i == 0 };
	unsigned r;

	for (r = 0; r < ZREGS; r++)
		memcpy(z + r * vl, want[i].z[r], vl);
	for (r = 0; r < PREGS; r++)
		memcpy(p + r * vl / 8, want[i].p[r], vl / 8);
	sve_hold(&a);
	for (r = 0; r < ZREGS; r++)
		memcpy(got[i].z[r], gz + r * vl, vl);
	for (r = 0; r < PREGS; r++)
		memcpy(got[i].p[r], gp + r * vl / 8, vl / 8);
	if (i == 1)
		read_ret = a.ret;
	return NULL;
}

static void fill(void)
{
	unsigned i, r, b;

	for (i = 0; i < 2; i++) {
		for (r = 0; r < ZREGS; r++)
			for (b = 0; b < vl; b++)
				want[i].z[r][b] = (uint8_t)(0x5a + 37 * i +
							    11 * r + 3 * b);
		for (r = 0; r < PREGS; r++)
			for (b = 0; b < vl / 8; b++)
				want[i].p[r][b] =
					(uint8_t)(0xa7 ^
						  (13 * i + 29 * r + 7 * b));
		/* FFR must be monotonic: its first VL - 3 bits set */
		for (b = 0; b < vl - 3; b++)
			want[i].ffr[b / 8] |= (uint8_t)(1u << (b % 8));
	}
}

/* The registers of thread I that differ, into OUT. */
static void compare(unsigned i, char *out, size_t len)
{
	unsigned r, zlen = i == 0 ? vl : 16;
	size_t at = 0;

	out[0] = 0;
	for (r = 0; r < ZREGS; r++)
		if (memcmp(want[i].z[r], got[i].z[r], zlen))
			at += (size_t)snprintf(out + at, len - at, " z%u", r);
	if (i == 1)
		return;
	for (r = 0; r < PREGS && at < len; r++)
		if (memcmp(want[i].p[r], got[i].p[r], vl / 8))
			at += (size_t)snprintf(out + at, len - at, " p%u", r);
	if (at < len && memcmp(want[i].ffr, got[i].ffr, vl / 8))
		snprintf(out + at, len - at, " ffr");
}

/* Thread 1 is asleep in its read (bounded wait). */
static void wait_blocked(pid_t tid)
{
	char path[64], buf[256];
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (n = 0; n < 2000; n++) {
		FILE *f = fopen(path, "re");
		char *p = NULL;

		if (f) {
			p = fgets(buf, sizeof(buf), f);
			fclose(f);
		}
		p = p ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		nanosleep(&(struct timespec){ 0, 5000000L }, NULL);
	}
}

static pid_t tid1;

static void *worker1(void *arg)
{
	tid1 = gettid();
	return worker(arg);
}

int main(void)
{
	pthread_t th[2];
	char line[64], bad[512];
	unsigned i, intact = 0;
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(getauxval(AT_HWCAP) & HWCAP_SVE)) {
		puts("nosve");
		return 0;
	}
	__asm__ volatile("rdvl %0, #1" : "=r"(vl));
	if (vl == 0 || vl > VL_MAX || vl % 16 || pipe2(pipefd, O_CLOEXEC)) {
		printf("nosve vl %u\n", vl);
		return 1;
	}
	fill();
	pthread_create(&th[0], NULL, worker, (void *)0L);
	pthread_create(&th[1], NULL, worker1, (void *)1L);
	for (n = 0; n < 20000 && !(loaded[0] && loaded[1] && tid1); n++)
		nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
	wait_blocked(tid1);
	printf("ready %d 3 vl %u\n", (int)getpid(), vl);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strcmp(line, "quit\n"))
			break;
		if (strcmp(line, "release\n") &&
		    strcmp(line, "clobber-release\n"))
			continue;
		atomic_store(&clobber, line[0] == 'c');
		atomic_store(&stop, 1);
		if (write(pipefd[1], "x", 1) != 1)
			return 1;
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < 2; i++) {
			compare(i, bad, sizeof(bad));
			if (bad[0])
				printf("bad sve %u: changed:%s\n", i, bad);
			else
				intact++;
		}
		printf("sve %u of 2 intact\n", intact);
		printf("released %ld %c\n", read_ret, byte ? byte : '-');
		break;
	}
	fflush(stdout);
	/* the threads are gone; wait for quit so the test can stop us */
	while (fgets(line, sizeof(line), stdin))
		if (!strcmp(line, "quit\n"))
			break;
	return 0;
}
