#!/bin/bash
# test-matrix-kill.sh - the tool SIGKILLed mid-run (and SIGTERM and
# SIGINT, which it must handle by restoring first): the target must stay
# alive and running, with no thread left traced or stopped (TracerPid 0,
# state not t), and every blocked call in it must still come back right
# (a thread resumed with injected registers would read garbage or die).
# SIGKILL lands at ten points: as soon as a thread is seen traced, and
# 1-50 ms later (the route's window at 400 threads is some milliseconds;
# ptrace-bugs: a kill 2-20 ms in has aborted the target, 1 run in 3).
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

# The first task to show a tracer: polled on a few tasks (reading 400
# status files per poll would be slower than the route).
first_traced() {
	local t i
	for ((i = 0; i < 4000; i++)); do
		for t in "${probe[@]}"; do
			grep -q '^TracerPid:.[1-9]' "/proc/$TPID/task/$t/status" \
				2>/dev/null && return 0
		done
		kill -0 "$tool" 2>/dev/null || return 1
	done
	return 1
}

for try in KILL:0 KILL:0.001 KILL:0.002 KILL:0.003 KILL:0.005 KILL:0.008 \
	KILL:0.01 KILL:0.015 KILL:0.02 KILL:0.05 TERM:0.002 TERM:0.01 \
	INT:0.002 INT:0.01; do
	sig=${try%:*} delay=${try#*:}
	start_target --idle 380 --read 8 --sleep 6 --poll 2 --busy 2
	mapfile -t all < <(ls "/proc/$TPID/task")
	probe=("${all[0]}" "${all[1]}" "${all[$((${#all[@]} / 2))]}" "${all[-1]}")
	"$AT" -p "$TPID" --via=ptrace set --nnp --keep-caps=1 \
		>/dev/null 2>"$T_TMP/tool.err" &
	tool=$!
	if first_traced; then
		seen=traced
	else
		seen="never saw a tracer"
	fi
	sleep "$delay"
	kill -"$sig" "$tool" 2>/dev/null
	wait "$tool" 2>/dev/null
	st=$?
	for i in $(seq 40); do
		untraced && break
		sleep 0.05
	done
	ok 'alive' "killed at +${delay}s SIG$sig ($seen, tool status $st): the target is alive $(head -c 120 "$T_TMP/target.err")"
	ok 'untraced' "killed at +${delay}s SIG$sig: no thread traced or stopped"
	tcmd ping '^pong'
	ok '[ "$reply" = pong ]' "killed at +${delay}s SIG$sig: the target answers"
	tcmd release '^released '
	ok 'released_ok 399 -' \
		"killed at +${delay}s SIG$sig: every blocked call came back right ($reply $(target_bad_lines))"
	stop_target
done
done_testing
