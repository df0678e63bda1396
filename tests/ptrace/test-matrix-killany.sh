#!/bin/bash
# test-matrix-killany.sh - the tool SIGKILLed at any point of a
# `--via=ptrace set --nnp --keep-caps=1` (issue 8: "the tool killed at any
# point ... leaves the target running"; ptrace-bugs bug 1).  30 kills at
# spread delays, half of them with the route's two-stops-per-call path
# (ALLTHREADS_PTRACE_STUB=0: every injected call is a window), half with
# the stub (its mmap, mprotect and munmap are).  After each: the target is
# alive, no thread is traced or stopped, every blocked call came back
# right (read its byte, nanosleep 0 after its full time, poll 1, the idle
# futex waiters no error: no -512/-516/EINTR, no abort), and the threads
# agree on NoNewPrivs (or `check` names exactly the ones that differ).  The delays are spread over the run, not tuned to a speed: a
# kill after the run ended checks the same things.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 19; then
	echo "1..0 # SKIP needs CAP_SYS_PTRACE"
	exit 0
fi

IDLE=24 READ=4 SLEEP=4 POLL=2 BUSY=2
NTHR=$((IDLE + READ + SLEEP + POLL + BUSY + 1))

first_traced() {
	local i
	for ((i = 0; i < 20000; i++)); do
		grep -q '^TracerPid:.[1-9]' "/proc/$TPID/task/$probe/status" \
			2>/dev/null && return 0
		kill -0 "$tool" 2>/dev/null || return 1
	done
	return 1
}

# The threads agree on NoNewPrivs, or `check` (exit 1, one line per
# failing thread) names every thread of one side.
agree() {
	local n0 n1 out rc v t named
	n0=$(grep -l '^NoNewPrivs:.0' /proc/"$TPID"/task/*/status 2>/dev/null | wc -l)
	n1=$(grep -l '^NoNewPrivs:.1' /proc/"$TPID"/task/*/status 2>/dev/null | wc -l)
	{ [ "$n0" = 0 ] || [ "$n1" = 0 ]; } && return 0
	echo "# NoNewPrivs differs: $n0 threads 0, $n1 threads 1"
	out=$("$AT" -p "$TPID" check 2>&1)
	rc=$?
	printf '%s\n' "$out" | head -5 | sed 's/^/# check: /'
	[ "$rc" = 1 ] || return 1
	for v in 0 1; do
		named=yes
		for t in $(grep -l "^NoNewPrivs:.$v" /proc/"$TPID"/task/*/status |
			sed 's,/status$,,; s,.*/,,'); do
			grep -qw "$t" <<<"$out" || named=no
		done
		[ $named = yes ] && return 0
	done
	return 1
}

n=0
for stub in 0 1; do
	for delay in 0 0.001 0.002 0.003 0.004 0.005 0.007 0.01 0.013 0.017 \
		0.022 0.03 0.04 0.06 0.1; do
		n=$((n + 1))
		start_target --idle $IDLE --read $READ --sleep $SLEEP \
			--poll $POLL --busy $BUSY
		probe=$TPID
		ALLTHREADS_PTRACE_STUB=$stub "$AT" -p "$TPID" --via=ptrace \
			set --nnp --keep-caps=1 >/dev/null 2>"$T_TMP/tool.err" &
		tool=$!
		if first_traced; then seen=traced; else seen="no tracer seen"; fi
		sleep "$delay"
		kill -KILL "$tool" 2>/dev/null
		wait "$tool" 2>/dev/null
		st=$?
		what="kill $n (stub=$stub, +${delay}s, $seen, tool status $st)"
		# the run's own deadline bounds how long a tracer may go on
		untraced_within 200
		ok 'alive' "$what: the target is alive $(head -c 160 "$T_TMP/target.err")"
		ok 'untraced' "$what: no thread traced or stopped"
		ok 'agree' "$what: the threads agree on NoNewPrivs (or check names who differ)"
		tcmd release '^released '
		ok "released_ok $NTHR -" \
			"$what: every blocked call came back right ($reply $(target_bad_lines))"
		stop_target
	done
done
done_testing
