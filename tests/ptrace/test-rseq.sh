#!/bin/bash
# test-rseq.sh - the ptrace route and restartable sequences (issue 16,
# item 3).  rseq-target's threads add to per-CPU counters in real rseq
# critical sections (registered by glibc) and count their commits.  A
# thread the route stops inside a section must come back as after any
# preemption: aborted to its abort handler.  One resumed inside its
# section after the kernel cleared its rseq_cs commits a stale value, and
# the counters' sum falls behind the commits' sum.  Many runs of the route
# on a busy target (threads always in their sections) and on an idle one
# (threads mostly asleep), with the runner and without it (one injection
# a call); then every commit must be in the counters.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

RSEQ=${AT_RSEQ_TARGET:?AT_RSEQ_TARGET: the rseq target}
# Under emulation (AT_TIMEOUT_FACTOR, tests/arm64/vm.sh) a run takes some
# 1.3 s (5-9 s at a host load of 20-100): 12 runs there, and the
# target's own alarm scaled.  With the abort turned off, 20 runs there lost
# 1.5 million commits busy (40 runs, 9,000 idle): 12 still catch it.
RUNS=${AT_RSEQ_RUNS:-$((T_SLOW > 1 ? 12 : 40))}

case $(uname -m) in
x86_64 | aarch64) ;;
*)
	echo "1..0 # SKIP rseq-target is x86_64 and aarch64 code"
	exit 0
	;;
esac
probe=$(timeout 20 "$RSEQ" --busy 1 </dev/null 2>&1)
case $probe in
norseq*)
	echo "1..0 # SKIP glibc registered no rseq area (glibc < 2.35 or glibc.pthread.rseq=0)"
	exit 0
	;;
ready*) ;;
*)
	echo "Bail out! rseq-target: $probe"
	exit 1
	;;
esac

for mode in busy idle; do
	start_prog "$RSEQ" --$mode 3 --timeout $((120 * T_SLOW))
	fails=0 first=
	for ((i = 1; i <= RUNS; i++)); do
		# every other pair without the runner: one injection a call
		run env ALLTHREADS_PTRACE_STUB=$(((i / 2) % 2)) \
			"$AT" -p "$TPID" --via=ptrace prctl KEEP_CAPS $((i % 2))
		if [ "$rc" != 0 ]; then
			fails=$((fails + 1))
			[ -n "$first" ] || first="run $i: exit $rc: ${err:0:200}"
		fi
	done
	ok '[ "$fails" = 0 ]' "$mode: $RUNS runs of the route, each exit 0 ${first:+($first)}"
	ok 'alive && untraced' "$mode: the target is alive, nothing left traced"
	tcmd check '^rseq '
	set -- $reply "" "" "" ""
	sum=$2 commits=$3 aborts=$4
	ok '[ -n "$commits" ] && [ "$commits" -gt 0 ] && [ "$sum" = "$commits" ]' \
		"$mode: every commit is in the per-CPU counters: sum $sum, commits $commits ($aborts sections aborted; $((${commits:-0} - ${sum:-0})) lost)"
	stop_target
done
done_testing
