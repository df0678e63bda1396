#!/bin/bash
# test-matrix-abandon.sh - the stub's own way back (stub.h): a thread that
# finds no tracer at the stub's closing stop puts itself back.  The tracer
# process is made to die (ALLTHREADS_PTRACE_TEST_ABANDON=N: _exit just
# after starting the stub on the N-th thread, a test hook of the tracer
# process only, built in with meson's -Dtest_hooks=true, as CI does) with that thread running the stub, for N = 1..12 over a
# target whose threads wait in futex, read, nanosleep and poll (and its
# control thread in read): each must come back from its interrupted call
# right (the kernel's restart decision applied in advance: no -512, -516
# or EINTR, nanosleep its full time), no thread is left traced, and the
# stub's stop signal never reaches a handler of the target: with
# --catch-urg the target counts SIGURG handler runs (the route must pick
# a stop signal the target does not catch).  Every thread also has its
# own scheduling back (the stub runs at a real-time priority and, when
# no tracer catches its stop, puts the thread's own back itself), three
# of them other than the default (SCHED_BATCH, nice 7, SCHED_IDLE).
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

need_hooks
need_ptrace

NTHR=$((1 + 3 + 2 + 2 + 2)) # the main thread, idle, read, sleep, poll
for urg in "" --catch-urg; do
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		start_target --idle 3 --read 2 --sleep 2 --poll 2 $urg
		sched_mix || echo "# could not vary the threads' scheduling"
		sched_before=$(sched_all)
		ALLTHREADS_PTRACE_TEST_ABANDON=$n "$AT" -p "$TPID" --via=ptrace \
			set --nnp --keep-caps=1 >/dev/null 2>"$T_TMP/tool.err"
		st=$?
		what="tracer gone in the stub of thread $n${urg:+ ($urg)} (tool exit $st)"
		untraced_within 100
		ok 'alive' "$what: the target is alive $(head -c 160 "$T_TMP/target.err")"
		ok 'untraced' "$what: no thread traced or stopped"
		sched_now=$(sched_all)
		ok '[ "$sched_now" = "$sched_before" ]' \
			"$what: every thread's scheduling as before ($(diff <(echo "$sched_before") <(echo "$sched_now") | grep '^>' | head -n 3 | tr '\n' ' '))"
		tcmd release '^released '
		ok "released_ok $NTHR -" \
			"$what: every interrupted call came back right, no handler ran ($reply $(target_bad_lines))"
		stop_target
	done
done
done_testing
