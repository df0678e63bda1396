/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * names.h - the CLI's vocabularies: prctl options, capabilities, signals,
 * securebits, system calls and numbers, spelled the forgiving way.
 *
 * Parsers return 0 on success and -EINVAL (unknown or malformed) or
 * -ERANGE (out of range); they never print.
 */
#ifndef AT_CLI_NAMES_H
#define AT_CLI_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* What the VALUE of a prctl looks like. */
enum value_kind {
	VAL_NUMBER,  /* a number in [min, max] */
	VAL_STRING,  /* a thread name, at most 15 bytes */
	VAL_SIGNAL,  /* a signal name or number, 0 clears */
	VAL_SECBITS, /* a mask, or securebit names joined by ',' */
	VAL_CAP,     /* one capability */
	VAL_AMBIENT, /* RAISE|LOWER CAP, CLEAR_ALL, IS_SET CAP */
	VAL_SPEC,    /* FEATURE [STATE] */
};

enum prctl_flags {
	PF_PROCESS_WIDE = 1u << 0,   /* one value per process, not per thread */
	PF_ONE_WAY = 1u << 1,	     /* a change that can never be undone */
	PF_EXEC_RESETS = 1u << 2,    /* execve(2) resets it */
	PF_GET_BY_POINTER = 1u << 3, /* the GET form writes through a pointer */
};

/* One prctl option, under all its spellings. */
struct prctl_desc {
	const char *name;     /* canonical, e.g. "KEEP_CAPS" */
	const char *set_name; /* the kernel's name: "PR_SET_KEEPCAPS" */
	const char *get_name; /* kernel name of the read, or NULL */
	const char *aliases;  /* more spellings, ' '-separated, or NULL */
	int set_op;
	int get_op; /* -1: no GET form */
	enum value_kind kind;
	long min, max;		/* for VAL_NUMBER */
	unsigned flags;		/* enum prctl_flags */
	const char *proc_field; /* /proc/.../status field that shows it */
	const char *summary;
};

/* The table, terminated by an entry whose name is NULL. */
extern const struct prctl_desc at_prctl_table[];

/* Find NAME under any spelling; *IS_GET tells whether the user spelled
 * the read form (PR_GET_*, CAPBSET_READ...).  NULL if unknown. */
const struct prctl_desc *find_prctl(const char *name, bool *is_get);
/* The entry whose SET form is prctl option SET_OP, or NULL. */
const struct prctl_desc *prctl_by_op(int set_op);
/* Write into BUF the valid names nearest to NAME (", "-separated). */
void suggest_prctl(const char *name, char *buf, size_t size);

/* Numbers: decimal, or hexadecimal with 0x; an optional leading '-'. */
int parse_long(const char *s, long *out);
int parse_ulong(const char *s, unsigned long *out);
/* FMT appended to the string in BUF (SIZE bytes), cut to fit. */
void text_append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Digits only: a process or thread id is never written in hex. */
int parse_decimal(const char *s, unsigned long *out);

/* Capabilities: cap_net_raw, net_raw, CAP_NET_RAW, 13; checked against
 * /proc/sys/kernel/cap_last_cap. */
int last_cap(void);
int parse_cap(const char *s, int *cap);
void suggest_cap(const char *name, char *buf, size_t size);
/* The lower-case libcap name of CAP into BUF. */
void format_cap(int cap, char *buf, size_t size);
/* Comma-separated names of the bits in MASK ("none" when empty, "all"
 * when every capability up to cap_last_cap is in it). */
void format_capset(unsigned long long mask, char *buf, size_t size);

/* Every capability up to cap_last_cap, as a mask. */
unsigned long long all_caps_mask(void);
/* A comma- (or space-) separated list of capabilities, or "all"; on an
 * unknown name, the name is copied into BAD. */
int parse_cap_list(const char *s, unsigned long long *mask, char *bad,
		   size_t badsize);

/* setpriv's edits of a set: "+cap_a,-cap_b,-all": the new set is
 * (current & keep) | add. */
struct cap_edit {
	unsigned long long keep;
	unsigned long long add;
};

/* -EDOM: an entry without its + or - (copied into BAD). */
int parse_cap_edits(const char *s, struct cap_edit *edit, char *bad,
		    size_t badsize);
unsigned long long apply_cap_edit(const struct cap_edit *edit,
				  unsigned long long current);
/* A set as show prints it or a user writes it: "none", "all",
 * "all,-cap_x", "cap_a,cap_b", 16 hexadecimal digits as /proc shows. */
int parse_capset_text(const char *s, unsigned long long *mask, char *bad,
		      size_t badsize);
/* Like format_capset(), but a set missing only a few capabilities is
 * written "all,-cap_x,-cap_y". */
void format_capset_fold(unsigned long long mask, char *buf, size_t size);

/* Signals: KILL, SIGKILL, sigkill, 9, RTMIN+3; 0 means none. */
int parse_signal(const char *s, int *sig);

/* Securebits: a number, or names such as noroot,keep_caps_locked
 * (SECBIT_ prefix, '-' or '_', any case). */
/* The securebits, by bit number (bit i is secbit_names[i]). */
#define NR_SECBITS 12
extern const char *const secbit_names[NR_SECBITS];
int parse_secbits(const char *s, long *mask);
void format_secbits(long mask, char *buf, size_t size);

/* Speculation control features and states. */
int parse_spec_feature(const char *s, long *feature);
int parse_spec_state(const char *s, long *state);
const char *spec_feature_name(long feature);
void format_spec(long value, char *buf, size_t size);

/* Ambient sub-operations: RAISE, LOWER, CLEAR_ALL, IS_SET (PR_CAP_AMBIENT_
 * prefix optional). */
int parse_ambient_op(const char *s, long *op);
const char *ambient_op_name(long op);

/* A system call by libseccomp name (native architecture) or number. */
int parse_syscall(const char *s, long *nr);
void suggest_syscall(const char *name, char *buf, size_t size);
/* The name of NR, or NULL; the caller frees it. */
char *syscall_name(long nr);

/* The distance between two strings, ignoring case, '_' and '-'. */
unsigned name_distance(const char *a, const char *b);

/* Candidate I of a vocabulary into BUF; false to skip it. */
typedef bool name_of_fn(unsigned i, const void *ctx, char *buf, size_t size);
/* SLACK for a large vocabulary: one, but none while the nearest is within
 * one of NAME. */
#define SUGGEST_SLACK_FAR (-1)
/* Write into BUF (", "-separated) the candidates 0..N-1 nearest to NAME:
 * those at most SLACK further from it than the nearest one. */
void suggest_nearest(const char *name, unsigned n, name_of_fn *name_of,
		     const void *ctx, int slack, char *buf, size_t size);

#endif /* AT_CLI_NAMES_H */
