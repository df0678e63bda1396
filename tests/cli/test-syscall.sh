#!/bin/bash
# test-syscall.sh - `allthreads syscall NAME|NR [ARG...]` on allthreads'
# own threads: names through libseccomp, numbers, judging, errors.
. "$(dirname "$0")/tap.sh"

at syscall getpid
rc_is 0 "syscall getpid"
out_like '^all [0-9]+$' "getpid: one folded result"
at_threads 3 syscall getpid
rc_is 0 "getpid on 4 threads"
out_like '^all [0-9]+$' "getpid on 4 threads: every thread returns the pid"
at_threads 3 -v syscall getpid
ok '[ "$(printf "%s\n" "$out" | awk "{ print \$2 }" | sort -u | wc -l)" = 1 ] &&
    [ "$(printf "%s\n" "$out" | wc -l)" = 4 ]' \
	"-v getpid: four lines, one value"

# Per-thread results: judged equal by default, so gettid differs.
at_threads 3 -v syscall --judge=any gettid
rc_is 0 "--judge=any gettid"
ok '[ "$(printf "%s\n" "$out" | awk "\$1 == \$2" | wc -l)" = 4 ]' \
	"gettid: every thread returns its own TID"
at_threads 3 syscall --judge=success gettid
rc_is 0 "--judge=success gettid"
at_threads 3 syscall gettid
rc_is 2 "gettid judged equal: threads differ"
err_like 'PARTIAL' "gettid judged equal: PARTIAL, loudly"
err_like 'hint: gettid returns a different value on each thread' \
	"gettid judged equal: a hint"

# Numbers and hexadecimal, with a change proven through PROGRAM.
at_threads 2 syscall prctl 0x26 1 0 0 0 -- \
	grep NoNewPrivs /proc/self/status
rc_is 0 "syscall prctl 0x26 1 (PR_SET_NO_NEW_PRIVS)"
out_like '^NoNewPrivs:	1$' "syscall prctl: PROGRAM runs with NoNewPrivs 1"
at syscall prctl 8 1
ok '[ $rc = 0 ] && [ "$out" = "all 0" ]' "syscall prctl 8 1 (decimal)"
if [ "$(uname -m)" = x86_64 ]; then
	at syscall 39
	rc_is 0 "syscall 39 (getpid on x86_64)"
	out_like '^all [0-9]+$' "syscall 39: a pid"
	at -n syscall 39
	out_like 'getpid\(\)' "syscall 39 is named getpid"
fi

# Errors: the calling thread fails first, nothing else is touched.
at_threads 2 syscall lseek 99 -1 0
rc_is 1 "lseek on a closed fd fails"
err_like '^allthreads: tid [0-9]+: lseek\(99, -1, 0\): Bad file descriptor' \
	"the error names the TID, the call and the reason"
out_like 'error:EBADF|not-run' "the result shows the error"
at_threads 2 syscall --judge=any lseek 99 0 0
rc_is 0 "--judge=any accepts errors"
out_like '^all error:EBADF$' "--judge=any: every thread's error"
if ! has_cap 7; then
	at syscall setuid 0 -- echo "$RAN_MARK"
	rc_is 1 "setuid 0 without CAP_SETUID fails"
	out_unlike "$RAN_MARK" "setuid 0: PROGRAM did not run"
else
	skip "setuid 0 without CAP_SETUID" "running with CAP_SETUID"
fi

# --dry-run.
at -n syscall kill 0 0
rc_is 0 "--dry-run syscall"
out_like '1\. kill\(0, 0\) +call +judge equal, undo: none' \
	"--dry-run syscall: the step"

done_testing
