#!/bin/bash
# test-eintr.sh - the ptrace route never makes a blocking call return EINTR
# (issue 19, item 2).  eintr-target's threads wait in the calls the kernel
# does not restart after a ptrace stop (epoll_wait, epoll_pwait,
# epoll_pwait2, rt_sigtimedwait, semtimedop, io_uring_enter), each for ever
# and with a timeout; the route changes the process again and again, on a
# quiet target and on a busy one (threads spinning).  From inside, no call
# may end with EINTR, no timeout may expire early, and each timed call
# ends within its timeout of the last run that cut into it.  Then SIGUSR1
# (a handler without SA_RESTART) is sent to each waiter while the route
# holds it stopped: every one of those calls must still end with EINTR.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

TGT=${AT_EINTR_TARGET:?AT_EINTR_TARGET: the eintr target}
RUNS=${AT_EINTR_RUNS:-6}
MS=1500
need_ptrace

# check_waiters WHAT LIMIT_MS: every waiter's counts (see eintr-target.c).
check_waiters() {
	local what=$1 limit=$2 name mode eintr sig lost early expired maxms other
	local bad= n=0 lines
	lines=$(waiter_lines "$NW") || { ok false "$what: the target answers"; return; }
	while read -r _ name mode eintr sig lost early expired maxms other; do
		n=$((n + 1))
		[ "$eintr" = 0 ] || bad+=" $name/$mode: $eintr EINTR;"
		[ "$lost" = 0 ] || bad+=" $name/$mode: $lost signals lost;"
		[ "$other" = 0 ] || bad+=" $name/$mode: $other other results;"
		if [ "$mode" = timed ]; then
			[ "$early" = 0 ] || bad+=" $name: $early early;"
			[ "$expired" -gt 0 ] || bad+=" $name: never expired;"
			[ "$maxms" -le "$limit" ] ||
				bad+=" $name: took $maxms ms (limit $limit);"
		fi
	done <<<"$lines"
	ok '[ -z "$bad" ] && [ "$n" -gt 0 ]' "$what: $n waiters, no EINTR, none early or late${bad:+:$bad}"
}

for busy in 0 2; do
	start_waiters "$TGT" --busy $busy --ms $MS
	NW=$(((TTASKS - 1 - busy)))
	t0=$(date +%s%N)
	route_runs "$RUNS" "busy $busy"
	span=$((($(date +%s%N) - t0) / 1000000))
	ok 'alive && untraced' "busy $busy: the target is alive, nothing left traced"
	# every timed call ran out at least once after the last run
	sleep $((MS * 2 / 1000 + 1))
	# a timed call ends at most MS after the last run that cut into it
	check_waiters "busy $busy" $((MS + span + 1500))

	# a real signal while the route holds the waiters still interrupts
	signal_while_held 1
	ok '[ "${sent:-0}" -gt 0 ]' "busy $busy: SIGUSR1 sent to $sent waiters while stopped (try $tries)"
	sigs=$(waiter_lines "$NW" | awk '$3 == "forever" { s += $5 } END { print s + 0 }')
	ok '[ "$sigs" -ge "${sent:-1}" ]' "busy $busy: each signal ended its call with EINTR ($sigs of $sent)"
	check_waiters "busy $busy, after the signals" $((MS + span + 60000))
	stop_target
done
done_testing
