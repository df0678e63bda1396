// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * rseq-target.c - a process whose threads add to per-CPU counters in real
 * restartable sequence (rseq) critical sections, for the ptrace route's
 * rseq test (x86_64 and aarch64: the section is inline asm for each).
 *
 *   rseq-target --busy N | --idle N [--timeout S]
 *
 * Each of N threads adds 1 to the counter of the CPU it runs on, with a
 * plain load, a short delay and a store (the commit) inside a critical
 * section registered through glibc's rseq area (__rseq_offset from the
 * thread pointer); the section's abort handler carries the signature glibc
 * registered (RSEQ_SIG).  A thread counts its own commits.  --busy threads
 * add without pause; --idle threads add 1000 times, then sleep 1 ms.
 *
 * While no one resumes a thread inside a section it was stopped in, every
 * commit adds exactly one: the counters' sum equals the commits' sum.  A
 * thread that resumes inside a section after the kernel cleared its
 * rseq_cs (a ptrace route that moved its instruction pointer and put it
 * back) stores a stale value and loses other threads' additions.
 *
 * Prints "norseq" and exits 0 when glibc did not register rseq, else
 * "ready PID TASKS".  Commands, one a line on stdin:
 *   ping    "pong"
 *   check   stops and joins the threads, prints
 *           "rseq SUM COMMITS ABORTS": the counters' sum, the commits'
 *           sum, how many sections were aborted
 *   quit    exits 0
 * End of input exits too, and so does the timeout (default 120 s).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_CPUS 1024

struct slot {
	uint64_t v;
	char pad[56];
};

struct adder {
	pthread_t th;
	uint64_t commits, aborts;
};

static struct slot counters[MAX_CPUS] __attribute__((aligned(64)));
static struct adder adders[MAX_THREADS];
static unsigned nadders, timeout_s = 120;
static bool idle;
static atomic_bool stop;
static atomic_uint started;

static void on_alarm(int sig)
{
	static const char msg[] = "rseq-target: timeout\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static struct rseq *my_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() +
			       __rseq_offset);
}

/* The critical section's descriptor at local label 7: version, flags,
 * start (label 1), length (to label 2), abort handler (label 4). */
#define RSEQ_CS_7                                                              \
	"	.pushsection __rseq_cs, \"aw\"\n"                                    \
	"	.balign 32\n"                                                        \
	"7:	.long 0, 0\n"                                                      \
	"	.quad 1f, 2f - 1f, 4f\n"                                             \
	"	.popsection\n"

/*
 * One addition to the counter of CPU, inside a critical section: 0 when it
 * committed, 1 when the kernel aborted it (preemption, migration, signal)
 * or the thread is not on CPU any more.
 */
static int add_on(struct rseq *rs, uint32_t cpu)
{
	uint64_t *v = &counters[cpu].v;
	int ret;

#if defined(__x86_64__)
	__asm__ __volatile__(
		RSEQ_CS_7
		"	leaq 7b(%%rip), %%rax\n"
		"	movq %%rax, %[cs]\n"
		"1:	cmpl %[cpu], %[cpu_id]\n"
		"	jne 4f\n"
		"	movq (%[v]), %%rax\n"
		/* a window for a stop between the load and the commit */
		"	movl $40, %%ecx\n"
		"3:	decl %%ecx\n"
		"	jnz 3b\n"
		"	incq %%rax\n"
		"	movq %%rax, (%[v])\n"
		"2:	xorl %[ret], %[ret]\n"
		"	jmp 6f\n"
		/* the abort handler, the registered signature before it
		 * (as the operand of an ud1, so it never runs as code) */
		"	.pushsection __rseq_failure, \"ax\"\n"
		"	.byte 0x0f, 0xb9, 0x3d\n"
		"	.long %c[sig]\n"
		"4:	movl $1, %[ret]\n"
		"	jmp 6f\n"
		"	.popsection\n"
		"6:\n"
		: [ret] "=&r"(ret), [cs] "=m"(rs->rseq_cs)
		: [cpu] "r"(cpu), [cpu_id] "m"(rs->cpu_id), [v] "r"(v),
		  [sig] "i"(RSEQ_SIG)
		: "rax", "rcx", "memory", "cc");
#elif defined(__aarch64__)
	__asm__ __volatile__(
		RSEQ_CS_7
		"	adrp x9, 7b\n"
		"	add x9, x9, :lo12:7b\n"
		"	str x9, [%[cs]]\n"
		"1:	ldr w9, [%[cpu_id]]\n"
		"	cmp w9, %w[cpu]\n"
		"	b.ne 4f\n"
		"	ldr x9, [%[v]]\n"
		/* a window for a stop between the load and the commit */
		"	mov w10, #40\n"
		"3:	subs w10, w10, #1\n"
		"	b.ne 3b\n"
		"	add x9, x9, #1\n"
		"	str x9, [%[v]]\n"
		"2:	mov %w[ret], #0\n"
		"	b 6f\n"
		/* the abort handler, the registered signature before it as a
		 * data word (glibc's RSEQ_SIG reads as a brk instruction;
		 * nothing runs into it) */
		"	.pushsection __rseq_failure, \"ax\"\n"
		"	.long %c[sig]\n"
		"4:	mov %w[ret], #1\n"
		"	b 6f\n"
		"	.popsection\n"
		"6:\n"
		: [ret] "=&r"(ret)
		: [cs] "r"(&rs->rseq_cs), [cpu] "r"(cpu),
		  [cpu_id] "r"(&rs->cpu_id), [v] "r"(v), [sig] "i"(RSEQ_SIG)
		: "x9", "x10", "memory", "cc");
#else
#error "rseq-target: no critical section for this architecture"
#endif
	return ret;
}

static void *adder_main(void *arg)
{
	struct adder *a = arg;
	struct rseq *rs = my_rseq();
	struct timespec nap = { 0, 1000000 };
	unsigned n = 0;

	atomic_fetch_add(&started, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t cpu =
			__atomic_load_n(&rs->cpu_id_start, __ATOMIC_RELAXED);

		if (cpu >= MAX_CPUS)
			break;
		if (add_on(rs, cpu) == 0)
			a->commits++;
		else
			a->aborts++;
		if (idle && ++n % 1000 == 0)
			nanosleep(&nap, NULL);
	}
	return NULL;
}

static void check(void)
{
	uint64_t sum = 0, commits = 0, aborts = 0;
	unsigned i;

	atomic_store(&stop, true);
	for (i = 0; i < nadders; i++) {
		pthread_join(adders[i].th, NULL);
		commits += adders[i].commits;
		aborts += adders[i].aborts;
	}
	nadders = 0;
	for (i = 0; i < MAX_CPUS; i++)
		sum += counters[i].v;
	printf("rseq %llu %llu %llu\n", (unsigned long long)sum,
	       (unsigned long long)commits, (unsigned long long)aborts);
}

static unsigned count_tasks(void)
{
	unsigned n = 0;
	char line[256];
	FILE *p = fopen("/proc/self/status", "re");

	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(p);
	return n;
}

int main(int argc, char **argv)
{
	struct timespec pause = { 0, 1000000 };
	char line[128];
	unsigned i, n = 0;

	for (i = 1; i < (unsigned)argc; i++) {
		if ((!strcmp(argv[i], "--busy") ||
		     !strcmp(argv[i], "--idle")) &&
		    i + 1 < (unsigned)argc) {
			idle = !strcmp(argv[i], "--idle");
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--timeout") &&
			   i + 1 < (unsigned)argc) {
			timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
		} else {
			n = 0;
			break;
		}
	}
	if (n == 0 || n > MAX_THREADS) {
		fprintf(stderr, "usage: see the head of rseq-target.c\n");
		return 64;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (__rseq_size == 0 || (int32_t)my_rseq()->cpu_id < 0) {
		printf("norseq\n");
		return 0;
	}
	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
	for (i = 0; i < n; i++) {
		if (pthread_create(&adders[i].th, NULL, adder_main,
				   &adders[i])) {
			fprintf(stderr, "rseq-target: pthread_create failed\n");
			return 1;
		}
		nadders++;
	}
	for (i = 0; i < 30000 && atomic_load(&started) < n; i++)
		nanosleep(&pause, NULL);
	if (atomic_load(&started) < n) {
		fprintf(stderr, "rseq-target: threads did not start\n");
		return 1;
	}
	printf("ready %d %u\n", (int)getpid(), count_tasks());
	for (i = 0; i < 10000 && fgets(line, sizeof(line), stdin); i++) {
		if (!strncmp(line, "ping", 4))
			printf("pong\n");
		else if (!strncmp(line, "check", 5))
			check();
		else if (!strncmp(line, "quit", 4))
			break;
		else
			printf("error unknown command\n");
	}
	atomic_store(&stop, true);
	for (i = 0; i < nadders; i++)
		pthread_join(adders[i].th, NULL);
	return 0;
}
