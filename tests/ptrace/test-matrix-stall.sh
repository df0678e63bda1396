#!/bin/bash
# test-matrix-stall.sh - a tracer the caller kills as late, in the middle
# of an injected call: the target must live on with every thread as it
# was.  The tracer process is made to stall (ALLTHREADS_PTRACE_TEST_STALL=N,
# a test hook built in with meson's -Dtest_hooks=true: sleep at the N-th
# injected call's entry stop, or just after starting the stub on a thread,
# the two counted together) until the caller, past the run's deadline,
# let-go and grace, kills it (lib/target/ptrace-worker.c); the kernel then
# lets the thread go on with what the tracer had set.  x86_64's stub puts
# such a thread back by itself (stub.h); aarch64's injected calls return
# into rt_sigreturn from a frame of the thread's own state (the way back,
# arch-aarch64.h), and before the region is there (its own mmap and
# mprotect, calls 1 and 2, and its munmap) into the same from the
# target's own `svc #0; ret` and the vDSO's sigreturn trampoline.  A
# tracer stalled at call 1 or 2 leaves the region mapped, and the caller
# must remove it (the tracer shares its address once the mmap is
# entered).
# Each must come back from its interrupted call right, the
# spinning ones go on, no thread is left traced, nothing of ours stays
# mapped; on aarch64 with SVE, sve-target's spinning thread keeps z0-z31,
# p0-p15 and FFR and its blocked one v0-v31.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

need_hooks
need_ptrace

# The run's deadline: the tracer must reach the N-th call well before it
# (under emulation too), and the caller kills it some 6 s after it.
ms=$((2000 * T_SLOW))

# stalled N WHAT: run the tool with its tracer stalling at N; WHAT names it.
stalled() {
	local n=$1
	ALLTHREADS_PTRACE_TEST_STALL=$n "$AT" -p "$TPID" --via=ptrace \
		--timeout="$ms" set --nnp --keep-caps=1 \
		>/dev/null 2>"$T_TMP/tool.err"
	st=$?
	what="$2 (tool exit $st)"
	ok 'grep -q "did not answer in time and was killed after it began" "$T_TMP/tool.err"' \
		"$what: the tracer stalled and was killed as late ($(tail -n 2 "$T_TMP/tool.err" | tr '\n' ' ' | head -c 300))"
	untraced_within 100
	ok 'alive' "$what: the target is alive $(head -c 160 "$T_TMP/target.err")"
	ok 'untraced' "$what: no thread traced or stopped"
}

# Each stall costs the run's deadline plus let-go and grace (18 s under
# emulation, where AT_TIMEOUT_FACTOR is above 1): there only the region's
# mprotect and a thread's last call, each of which killed the target
# before its way back (tests/arm64/vm.sh), so the emulated run stays near
# its budget.  Call 1, the region's mmap, from a sleeping thread: it
# must see its sleep end as a sleep, and the caller must remove the
# region (the tracer makes it at a place of its own and shares that once
# the call is entered).
matrix_at="1 2 3 4 6 9 11 14" sve_at="1 2 3 5 6 8 9 11"
if [ "$T_SLOW" -gt 1 ]; then
	matrix_at="2 9" sve_at="2 8"
fi

NTHR=$((1 + 3 + 2 + 2 + 2 + 2)) # the main thread, idle, read, sleep, poll, busy
for n in $matrix_at; do
	start_target --idle 3 --read 2 --sleep 2 --poll 2 --busy 2
	before=$(maps)
	stalled "$n" "tracer stalled at call $n"
	after=$(maps)
	ok '[ "$before" = "$after" ]' \
		"$what: its region removed, nothing of ours mapped $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')"
	tcmd ping '^pong'
	ok '[ "$reply" = pong ]' "$what: the target answers"
	# Every thread reports: slow under emulation on a loaded host, where
	# tcmd's 20 s may not be enough (a thread that hangs still fails).
	tcmd release '^released ' ||
		ptt_wait_line '^released ' $((20 * T_SLOW))
	ok "released_ok $NTHR -" \
		"$what: every interrupted call came back right ($reply $(target_bad_lines))"
	stop_target
done

if [ -n "${AT_SVE_TARGET:-}" ] && grep -qw sve /proc/cpuinfo; then
	# three calls a thread after the region's two: each thread's first
	# and last
	for n in $sve_at; do
		start_prog "$AT_SVE_TARGET"
		stalled "$n" "sve: tracer stalled at call $n"
		tcmd release '^released ' ||
			ptt_wait_line '^released ' $((20 * T_SLOW))
		ok 'grep -q "^sve 2 of 2 intact" "$T_TMP/target.out"' \
			"$what: z0-z31, p0-p15, FFR of the spinning thread and v0-v31 of the blocked one intact $(target_bad_lines)"
		ok '[ "$reply" = "released 1 x" ]' \
			"$what: the raw read returned the byte ($reply)"
		stop_target
	done
fi
done_testing
