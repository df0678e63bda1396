// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * names.c - the CLI's vocabularies.  Every name is accepted in the
 * spellings users bring from setpriv, capsh, systemd and the kernel
 * headers; capability ranges come from /proc at run time.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "names.h"
#include "procfs.h"

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#define PR_GET_IO_FLUSHER 58
#endif
#ifndef PR_SPEC_L1D_FLUSH
#define PR_SPEC_L1D_FLUSH 2
#endif

/* Longest name any vocabulary holds, normalised. */
#define NAME_MAX_LEN 64

/* An option's SET and GET forms, by number and by the kernel's name. */
#define PRCTL_OPS(set, get)                                                    \
	.set_name = #set, .get_name = #get, .set_op = set, .get_op = get

/*
 * Aliases starting with '?' spell the read form (CAPBSET_READ reads the
 * bounding set; it must never be taken as a request to drop).
 */
const struct prctl_desc at_prctl_table[] = {
	{
		.name = "KEEP_CAPS",
		PRCTL_OPS(PR_SET_KEEPCAPS, PR_GET_KEEPCAPS),
		.kind = VAL_NUMBER,
		.min = 0,
		.max = 1,
		.flags = PF_EXEC_RESETS,
		.summary = "keep permitted capabilities across a change of "
			   "uid (0|1)",
	},
	{
		.name = "NO_NEW_PRIVS",
		.aliases = "NNP",
		PRCTL_OPS(PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS),
		.kind = VAL_NUMBER,
		.min = 1,
		.max = 1,
		.flags = PF_ONE_WAY,
		.proc_field = "NoNewPrivs",
		.summary = "execve never grants privileges again (1; one-way)",
	},
	{
		.name = "NAME",
		.aliases = "COMM",
		PRCTL_OPS(PR_SET_NAME, PR_GET_NAME),
		.kind = VAL_STRING,
		.flags = PF_EXEC_RESETS | PF_GET_BY_POINTER,
		.summary = "the thread name, at most 15 bytes",
	},
	{
		.name = "DUMPABLE",
		PRCTL_OPS(PR_SET_DUMPABLE, PR_GET_DUMPABLE),
		.kind = VAL_NUMBER,
		.min = 0,
		.max = 1,
		.flags = PF_PROCESS_WIDE,
		.summary = "core dumps and ptrace by the same user (0|1; "
			   "process-wide)",
	},
	{
		.name = "TIMERSLACK",
		.aliases = "TIMER_SLACK SLACK",
		PRCTL_OPS(PR_SET_TIMERSLACK, PR_GET_TIMERSLACK),
		.kind = VAL_NUMBER,
		.min = 0,
		.max = LONG_MAX,
		.summary = "timer slack in nanoseconds (0: back to the "
			   "default)",
	},
	{
		.name = "PDEATHSIG",
		.aliases = "PARENT_DEATH_SIGNAL DEATHSIG",
		PRCTL_OPS(PR_SET_PDEATHSIG, PR_GET_PDEATHSIG),
		.kind = VAL_SIGNAL,
		.flags = PF_ONE_WAY | PF_GET_BY_POINTER,
		.summary = "signal sent when the parent thread exits (name "
			   "or number, 0)",
	},
	{
		.name = "SECUREBITS",
		.aliases = "SECBITS",
		PRCTL_OPS(PR_SET_SECUREBITS, PR_GET_SECUREBITS),
		.kind = VAL_SECBITS,
		.summary = "securebits: a mask or names such as "
			   "noroot,keep_caps_locked",
	},
	{
		.name = "CAPBSET_DROP",
		.aliases = "?CAPBSET_READ CAPBSET BOUNDING_SET BOUNDING",
		PRCTL_OPS(PR_CAPBSET_DROP, PR_CAPBSET_READ),
		.kind = VAL_CAP,
		.flags = PF_ONE_WAY,
		.proc_field = "CapBnd",
		.summary = "drop a capability from the bounding set (one-way)",
	},
	{
		.name = "CAP_AMBIENT",
		.aliases = "AMBIENT",
		PRCTL_OPS(PR_CAP_AMBIENT, PR_CAP_AMBIENT),
		.kind = VAL_AMBIENT,
		.flags = PF_ONE_WAY,
		.proc_field = "CapAmb",
		.summary = "the ambient set: RAISE CAP, LOWER CAP, "
			   "CLEAR_ALL, IS_SET CAP",
	},
	{
		.name = "SPECULATION_CTRL",
		.aliases = "SPECULATION",
		PRCTL_OPS(PR_SET_SPECULATION_CTRL, PR_GET_SPECULATION_CTRL),
		.kind = VAL_SPEC,
		.flags = PF_ONE_WAY,
		.summary = "speculation control: FEATURE "
			   "[enable|disable|force_disable|disable_noexec]",
	},
	{
		.name = "IO_FLUSHER",
		PRCTL_OPS(PR_SET_IO_FLUSHER, PR_GET_IO_FLUSHER),
		.kind = VAL_NUMBER,
		.min = 0,
		.max = 1,
		.summary = "the thread flushes I/O for memory reclaim (0|1)",
	},
	{ .name = NULL },
};

/* Upper-case S without '_' and '-' into OUT (at most SIZE - 1 bytes). */
static void squash(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (*s == '_' || *s == '-')
			continue;
		out[n++] = toupper((unsigned char)*s);
	}
	out[n] = '\0';
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

unsigned name_distance(const char *a, const char *b)
{
	char sa[NAME_MAX_LEN], sb[NAME_MAX_LEN];
	unsigned row[NAME_MAX_LEN];
	size_t la, lb, i, j;

	squash(a, sa, sizeof(sa));
	squash(b, sb, sizeof(sb));
	la = strlen(sa);
	lb = strlen(sb);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (sa[i - 1] != sb[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Does the squashed name KEY match any of the ' '-separated ALIASES?
 * *IS_GET is set when the matching alias is a read form. */
static bool match_alias(const char *key, const char *aliases, bool *is_get)
{
	const char *p = aliases;

	while (p && *p) {
		char word[NAME_MAX_LEN], sq[NAME_MAX_LEN];
		size_t len = strcspn(p, " ");
		bool get = *p == '?';

		if (len >= sizeof(word))
			len = sizeof(word) - 1;
		memcpy(word, p + get, len - get);
		word[len - get] = '\0';
		squash(word, sq, sizeof(sq));
		if (strcmp(sq, key) == 0) {
			*is_get = get;
			return true;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Skip PR_ and SET_/GET_ in S; *GET tells whether GET_ was there. */
static const char *strip_kernel(const char *s, bool *get)
{
	*get = false;
	if (has_prefix(s, "PR_"))
		s += 3;
	if (has_prefix(s, "GET_") && s[4]) {
		*get = true;
		s += 4;
	} else if (has_prefix(s, "SET_") && s[4]) {
		s += 4;
	}
	return s;
}

static bool match_prctl(const struct prctl_desc *d, const char *user,
			bool *is_get)
{
	char key[NAME_MAX_LEN], sq[NAME_MAX_LEN];
	bool get, unused;

	squash(strip_kernel(user, &get), key, sizeof(key));
	squash(d->name, sq, sizeof(sq));
	if (strcmp(key, sq) == 0)
		goto found;
	/* The kernel's own spellings: PR_SET_KEEPCAPS, PR_CAPBSET_READ. */
	squash(strip_kernel(d->set_name, &unused), sq, sizeof(sq));
	if (strcmp(key, sq) == 0)
		goto found;
	squash(strip_kernel(d->get_name, &unused), sq, sizeof(sq));
	if (strcmp(key, sq) == 0) {
		get = true;
		goto found;
	}
	if (match_alias(key, d->aliases, is_get)) {
		*is_get = *is_get || get;
		return true;
	}
	return false;
found:
	*is_get = get;
	return true;
}

const struct prctl_desc *find_prctl(const char *name, bool *is_get)
{
	const struct prctl_desc *d;

	for (d = at_prctl_table; d->name; d++)
		if (match_prctl(d, name, is_get))
			return d;
	return NULL;
}

const struct prctl_desc *prctl_by_op(int set_op)
{
	const struct prctl_desc *d;

	for (d = at_prctl_table; d->name; d++)
		if (d->set_op == set_op)
			return d;
	return NULL;
}

/* Append WORD to the ", "-separated list in BUF. */
static void append_word(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", word);
}

void suggest_nearest(const char *name, unsigned n, name_of_fn *name_of,
		     const void *ctx, int slack, char *buf, size_t size)
{
	char word[NAME_MAX_LEN];
	unsigned best = UINT_MAX, limit, d, i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!name_of(i, ctx, word, sizeof(word)))
			continue;
		d = name_distance(name, word);
		if (d < best)
			best = d;
	}
	if (best == UINT_MAX)
		return;
	if (slack == SUGGEST_SLACK_FAR)
		limit = best + (best > 1);
	else
		limit = best + slack;
	for (i = 0; i < n; i++) {
		size_t len = strlen(buf);

		if (!name_of(i, ctx, word, sizeof(word)) ||
		    name_distance(name, word) > limit)
			continue;
		/* A whole word or none. */
		if (len + strlen(word) + 3 > size)
			break;
		append_word(buf, size, word);
	}
}

static bool prctl_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	(void)ctx;
	snprintf(buf, size, "%s", at_prctl_table[i].name);
	return true;
}

void suggest_prctl(const char *name, char *buf, size_t size)
{
	unsigned n = 0;

	while (at_prctl_table[n].name)
		n++;
	suggest_nearest(name, n, prctl_name_of, NULL, 1, buf, size);
}

int parse_long(const char *s, long *out)
{
	unsigned long mag;
	bool neg = *s == '-';
	int err;

	err = parse_ulong(s + neg, &mag);
	if (err)
		return err;
	if (neg ? mag > (unsigned long)LONG_MAX + 1 : mag > LONG_MAX)
		return -ERANGE;
	*out = neg ? (long)(0 - mag) : (long)mag;
	return 0;
}

int parse_ulong(const char *s, unsigned long *out)
{
	unsigned long v;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

void text_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

int parse_decimal(const char *s, unsigned long *out)
{
	if (!isdigit((unsigned char)*s) || s[strspn(s, "0123456789")])
		return -EINVAL;
	return parse_ulong(s, out);
}

static int read_last_cap(void)
{
	char buf[32];
	long v;

	if (read_small("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) ||
	    parse_long(buf, &v) || v < 0 || v > 63)
		return CAP_LAST_CAP;
	return v;
}

/* Read once: the kernel's last capability does not change while we run
 * (every parse and format asks, some for each capability). */
int last_cap(void)
{
	static int last = -1;

	if (last < 0)
		last = read_last_cap();
	return last;
}

int parse_cap(const char *s, int *cap)
{
	char full[NAME_MAX_LEN];
	cap_value_t v;
	long n;

	if (isdigit((unsigned char)*s)) {
		if (parse_long(s, &n))
			return -EINVAL;
	} else {
		if (has_prefix(s, "cap_"))
			s += 4;
		if (!*s || strlen(s) + 5 > sizeof(full) || strchr(s, ','))
			return -EINVAL;
		snprintf(full, sizeof(full), "cap_%s", s);
		if (cap_from_name(full, &v) < 0 || !isalpha((unsigned char)*s))
			return -EINVAL;
		n = v;
	}
	if (n < 0 || n > last_cap())
		return -ERANGE;
	*cap = n;
	return 0;
}

void format_cap(int cap, char *buf, size_t size)
{
	char *name = cap_to_name(cap);

	snprintf(buf, size, "%s", name ? name : "?");
	cap_free(name);
}

static bool cap_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	(void)ctx;
	format_cap(i, buf, size);
	return true;
}

void suggest_cap(const char *name, char *buf, size_t size)
{
	char full[NAME_MAX_LEN];

	if (has_prefix(name, "cap_"))
		name += 4;
	snprintf(full, sizeof(full), "cap_%s", name);
	suggest_nearest(full, last_cap() + 1, cap_name_of, NULL, 1, buf, size);
}

void format_capset(unsigned long long mask, char *buf, size_t size)
{
	int cap, last = last_cap();
	unsigned long long all = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
	char name[NAME_MAX_LEN];
	size_t len = 0;

	buf[0] = '\0';
	if (mask == 0) {
		snprintf(buf, size, "none");
		return;
	}
	if ((mask & all) == all && !(mask & ~all)) {
		snprintf(buf, size, "all");
		return;
	}
	for (cap = 0; cap < 64; cap++) {
		if (!(mask & (1ULL << cap)))
			continue;
		format_cap(cap, name, sizeof(name));
		len += snprintf(buf + len, len < size ? size - len : 0, "%s%s",
				len ? "," : "", name);
	}
}

int parse_signal(const char *s, int *sig)
{
	const char *name = s;
	long n;
	int i;

	if (isdigit((unsigned char)*s)) {
		if (parse_long(s, &n))
			return -EINVAL;
		if (n < 0 || n > SIGRTMAX)
			return -ERANGE;
		*sig = n;
		return 0;
	}
	if (has_prefix(name, "SIG"))
		name += 3;
	if (has_prefix(name, "RTMIN") || has_prefix(name, "RTMAX")) {
		bool max = toupper((unsigned char)name[3]) == 'A';
		const char *off = name + 5;

		n = 0;
		if (*off && ((*off != '+' && *off != '-') ||
			     parse_long(off + 1, &n) || n < 0))
			return -EINVAL;
		if (*off == '-')
			n = -n;
		n += max ? SIGRTMAX : SIGRTMIN;
		if (n < SIGRTMIN || n > SIGRTMAX)
			return -ERANGE;
		*sig = n;
		return 0;
	}
	for (i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*sig = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *const secbit_names[] = {
	"noroot",
	"noroot_locked",
	"no_setuid_fixup",
	"no_setuid_fixup_locked",
	"keep_caps",
	"keep_caps_locked",
	"no_cap_ambient_raise",
	"no_cap_ambient_raise_locked",
	"exec_restrict_file",
	"exec_restrict_file_locked",
	"exec_deny_interactive",
	"exec_deny_interactive_locked",
};

int parse_secbits(const char *s, long *mask)
{
	const char *p = s;
	long m = 0;

	if (isdigit((unsigned char)*s)) {
		if (parse_long(s, &m))
			return -EINVAL;
		if (m < 0 || m >= (1L << NR_SECBITS))
			return -ERANGE;
		*mask = m;
		return 0;
	}
	while (*p) {
		char word[NAME_MAX_LEN], a[NAME_MAX_LEN], b[NAME_MAX_LEN];
		size_t len = strcspn(p, ",");
		const char *w = word;
		unsigned i;

		if (len == 0 || len >= sizeof(word))
			return -EINVAL;
		memcpy(word, p, len);
		word[len] = '\0';
		if (has_prefix(w, "SECBIT_"))
			w += 7;
		squash(w, a, sizeof(a));
		for (i = 0; i < NR_SECBITS; i++) {
			squash(secbit_names[i], b, sizeof(b));
			if (strcmp(a, b) == 0)
				break;
		}
		if (i == NR_SECBITS)
			return -EINVAL;
		m |= 1L << i;
		p += len;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	*mask = m;
	return 0;
}

void format_secbits(long mask, char *buf, size_t size)
{
	size_t len;
	unsigned i;

	len = snprintf(buf, size, "0x%lx", mask);
	for (i = 0; i < NR_SECBITS && len < size; i++)
		if (mask & (1L << i))
			len += snprintf(buf + len, size - len, "%s%s",
					strchr(buf, '(') ? "," : "(",
					secbit_names[i]);
	if (strchr(buf, '(') && len + 1 < size)
		strcat(buf, ")");
}

static const char *const spec_features[] = {
	[PR_SPEC_STORE_BYPASS] = "store_bypass",
	[PR_SPEC_INDIRECT_BRANCH] = "indirect_branch",
	[PR_SPEC_L1D_FLUSH] = "l1d_flush",
};

#define NR_SPEC_FEATURES (sizeof(spec_features) / sizeof(spec_features[0]))

/* Find S, squashed, among NAMES; -1 if absent. */
static int find_word(const char *s, const char *const *names, unsigned n)
{
	char a[NAME_MAX_LEN], b[NAME_MAX_LEN];
	unsigned i;

	squash(s, a, sizeof(a));
	for (i = 0; i < n; i++) {
		if (!names[i])
			continue;
		squash(names[i], b, sizeof(b));
		if (strcmp(a, b) == 0)
			return i;
	}
	return -1;
}

int parse_spec_feature(const char *s, long *feature)
{
	int i;

	if (has_prefix(s, "PR_SPEC_"))
		s += 8;
	if (isdigit((unsigned char)*s))
		return parse_long(s, feature) ? -EINVAL : 0;
	i = find_word(s, spec_features, NR_SPEC_FEATURES);
	if (i < 0)
		return -EINVAL;
	*feature = i;
	return 0;
}

const char *spec_feature_name(long feature)
{
	if (feature >= 0 && (size_t)feature < NR_SPEC_FEATURES)
		return spec_features[feature];
	return "?";
}

/* PR_SPEC_* bits, lowest first. */
static const char *const spec_bits[] = {
	"prctl", "enable", "disable", "force_disable", "disable_noexec",
};

int parse_spec_state(const char *s, long *state)
{
	int i;

	if (has_prefix(s, "PR_SPEC_"))
		s += 8;
	if (isdigit((unsigned char)*s))
		return parse_long(s, state) ? -EINVAL : 0;
	i = find_word(s, spec_bits, 5);
	if (i <= 0)
		return -EINVAL;
	*state = 1L << i;
	return 0;
}

void format_spec(long value, char *buf, size_t size)
{
	size_t len = 0;
	unsigned i;

	buf[0] = '\0';
	if (value == 0) {
		snprintf(buf, size, "not_affected");
		return;
	}
	for (i = 0; i < 5 && len < size; i++)
		if (value & (1L << i))
			len += snprintf(buf + len, size - len, "%s%s",
					len ? "," : "", spec_bits[i]);
	if (value & ~31L && len < size)
		snprintf(buf + len, size - len, "%s0x%lx", len ? "," : "",
			 value & ~31L);
}

static const char *const ambient_ops[] = {
	[PR_CAP_AMBIENT_IS_SET] = "IS_SET",
	[PR_CAP_AMBIENT_RAISE] = "RAISE",
	[PR_CAP_AMBIENT_LOWER] = "LOWER",
	[PR_CAP_AMBIENT_CLEAR_ALL] = "CLEAR_ALL",
};

int parse_ambient_op(const char *s, long *op)
{
	int i;

	if (has_prefix(s, "PR_CAP_AMBIENT_"))
		s += 15;
	i = find_word(s, ambient_ops, 5);
	if (i <= 0)
		return -EINVAL;
	*op = i;
	return 0;
}

const char *ambient_op_name(long op)
{
	if (op > 0 && op <= PR_CAP_AMBIENT_CLEAR_ALL)
		return ambient_ops[op];
	return "?";
}

int parse_syscall(const char *s, long *nr)
{
	int n;

	if (isdigit((unsigned char)*s)) {
		if (parse_long(s, nr))
			return -EINVAL;
		return *nr >= 0 && *nr < 4096 ? 0 : -ERANGE;
	}
	n = seccomp_syscall_resolve_name(s);
	/* Negative: unknown, or a pseudo number for a call this
	 * architecture does not have. */
	if (n < 0)
		return -EINVAL;
	*nr = n;
	return 0;
}

static bool syscall_name_of(unsigned i, const void *ctx, char *buf, size_t size)
{
	char *s = syscall_name(i);

	(void)ctx;
	if (!s)
		return false;
	snprintf(buf, size, "%s", s);
	free(s);
	return true;
}

void suggest_syscall(const char *name, char *buf, size_t size)
{
	/* The native table: some 400 names, so within one of the nearest
	 * only while the nearest is far. */
	suggest_nearest(name, 1024, syscall_name_of, NULL, SUGGEST_SLACK_FAR,
			buf, size);
}

char *syscall_name(long nr)
{
	if (nr < 0 || nr > INT_MAX)
		return NULL;
	return seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}

unsigned long long all_caps_mask(void)
{
	int last = last_cap();

	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

/* Copy the next SEP-separated word of *P into WORD; advance *P. */
static bool next_word(const char **p, const char *sep, char *word, size_t size)
{
	size_t len;

	*p += strspn(*p, sep);
	if (!**p)
		return false;
	len = strcspn(*p, sep);
	snprintf(word, size, "%.*s", (int)len, *p);
	*p += len;
	return true;
}

int parse_cap_list(const char *s, unsigned long long *mask, char *bad,
		   size_t badsize)
{
	char word[NAME_MAX_LEN];
	unsigned long long m = 0;
	const char *p = s;
	int cap, e;

	while (next_word(&p, ", ", word, sizeof(word))) {
		if (strcasecmp(word, "all") == 0) {
			m |= all_caps_mask();
			continue;
		}
		e = parse_cap(word, &cap);
		if (e) {
			snprintf(bad, badsize, "%s", word);
			return e;
		}
		m |= 1ULL << cap;
	}
	if (!m && strcasecmp(s, "none") && !strchr(s, ',')) {
		snprintf(bad, badsize, "%s", s);
		return -EINVAL;
	}
	*mask = m;
	return 0;
}

int parse_cap_edits(const char *s, struct cap_edit *edit, char *bad,
		    size_t badsize)
{
	char word[NAME_MAX_LEN];
	const char *p = s;
	unsigned long long m;
	int cap, e;

	edit->keep = ~0ULL;
	edit->add = 0;
	if (!*s) {
		snprintf(bad, badsize, "(empty)");
		return -EINVAL;
	}
	while (next_word(&p, ",", word, sizeof(word))) {
		const char *name = word + 1;

		if (word[0] != '+' && word[0] != '-') {
			snprintf(bad, badsize, "%s", word);
			return -EDOM;
		}
		if (strcasecmp(name, "all") == 0) {
			m = all_caps_mask();
		} else {
			e = parse_cap(name, &cap);
			if (e) {
				snprintf(bad, badsize, "%s", name);
				return e;
			}
			m = 1ULL << cap;
		}
		if (word[0] == '+') {
			edit->add |= m;
		} else {
			edit->add &= ~m;
			edit->keep &= ~m;
		}
	}
	return 0;
}

unsigned long long apply_cap_edit(const struct cap_edit *edit,
				  unsigned long long current)
{
	return ((current & edit->keep) | edit->add) & all_caps_mask();
}

int parse_capset_text(const char *s, unsigned long long *mask, char *bad,
		      size_t badsize)
{
	char word[NAME_MAX_LEN];
	unsigned long long m = 0;
	const char *p = s;
	size_t n = strspn(s, "0123456789abcdefABCDEF");
	int cap, e;

	/* As /proc shows it: 16 hexadecimal digits, or 0x... */
	if ((n == 16 && !s[n]) ||
	    (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		*mask = strtoull(s, NULL, 16);
		return 0;
	}
	if (!*s || strcasecmp(s, "none") == 0 || strcmp(s, "=") == 0) {
		*mask = 0;
		return 0;
	}
	while (next_word(&p, ", ", word, sizeof(word))) {
		bool minus = word[0] == '-';
		const char *name = word + (word[0] == '-' || word[0] == '+');
		unsigned long long bit;

		if (strcasecmp(name, "all") == 0) {
			bit = all_caps_mask();
		} else {
			e = parse_cap(name, &cap);
			if (e) {
				snprintf(bad, badsize, "%s", name);
				return e;
			}
			bit = 1ULL << cap;
		}
		if (minus)
			m &= ~bit;
		else
			m |= bit;
	}
	*mask = m;
	return 0;
}

void format_capset_fold(unsigned long long mask, char *buf, size_t size)
{
	unsigned long long all = all_caps_mask(), missing = all & ~mask;
	char name[NAME_MAX_LEN];
	size_t len;
	int cap;

	if (mask == 0 || (mask & ~all) || (mask & all) == all ||
	    __builtin_popcountll(missing) >= __builtin_popcountll(mask)) {
		format_capset(mask, buf, size);
		return;
	}
	len = snprintf(buf, size, "all");
	for (cap = 0; cap < 64 && len < size; cap++) {
		if (!(missing & (1ULL << cap)))
			continue;
		format_cap(cap, name, sizeof(name));
		len += snprintf(buf + len, size - len, ",-%s", name);
	}
}
