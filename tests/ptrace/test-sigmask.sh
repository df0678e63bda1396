#!/bin/bash
# test-sigmask.sh - the ptrace route keeps the signal mask of a thread that
# waits with a temporary one (ppoll, pselect6, epoll_pwait, epoll_pwait2,
# io_uring_enter with EXT_ARG, rt_sigsuspend).  sigmask-target's threads
# block SIGUSR2 and wait with a mask that blocks SIGUSR1 instead; the route
# changes the process while they wait, with the stub and without.  After
# every call, each thread's own mask must be its normal one, and no call
# may end with EINTR.  Then SIGUSR1 is left pending in every waiter (the
# temporary mask holds it) before each run: the program alone sees no
# EINTR for it (its handler runs once the call is over), so with the route
# none may come either.  Last, SIGUSR2 (which the temporary mask lets
# through) still ends every call, with the normal mask after it, sent
# before the run or while the route holds the thread.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

TGT=${AT_SIGMASK_TARGET:?AT_SIGMASK_TARGET: the sigmask target}
RUNS=${AT_SIGMASK_RUNS:-4}
MS=1500
need_ptrace

# check_waiters WHAT [WOKEN]: every waiter's counts (see sigmask-target.c);
# with WOKEN, each call SIGUSR2 ended since the last look, and SIGUSR1 handled.
check_waiters() {
	local what=$1 want=${2:-} name calls bmask eintr woken expired other last usr1
	local bad= n=0 was lines
	lines=$(waiter_lines "$NW") || { ok false "$what: the target answers"; return; }
	while read -r _ name calls bmask eintr woken expired other last usr1; do
		n=$((n + 1))
		[ "$bmask" = 0 ] || bad+=" $name: $bmask calls ended with another mask (last $last);"
		[ "$eintr" = 0 ] || bad+=" $name: $eintr EINTR;"
		[ "$other" = 0 ] || bad+=" $name: $other other results;"
		[ "$name" = sigsuspend ] || [ "$expired" -gt 0 ] ||
			bad+=" $name: never expired;"
		if [ -n "$want" ]; then
			was=${WOKEN[$name]:-0}
			[ "$woken" -gt "$was" ] || bad+=" $name: SIGUSR2 did not end its call;"
			[ "$usr1" -gt 0 ] || bad+=" $name: SIGUSR1 never handled;"
		fi
		WOKEN[$name]=$woken
	done <<<"$lines"
	ok '[ -z "$bad" ] && [ "$n" -gt 0 ]' "$what: $n waiters, the normal mask after every call, no EINTR${want:+, SIGUSR2 ended each call, SIGUSR1 handled}${bad:+:$bad}"
}

start_waiters "$TGT" --ms $MS
NW=$((TTASKS - 1))
declare -A WOKEN

route_runs "$RUNS" quiet
ok 'alive && untraced' "the target is alive, nothing left traced"
# every timed call ran out at least once after the last run
sleep $((MS * 2 / 1000 + 1))
check_waiters "after the runs"

route_runs "$RUNS" "SIGUSR1 pending" pend '^pended'
ok 'alive && untraced' "the target is alive, nothing left traced"
sleep $((MS * 2 / 1000 + 1))
check_waiters "SIGUSR1 pending in each call"
# SIGUSR2 goes through the temporary mask: it ends every call (and lets
# rt_sigsuspend take its pending SIGUSR1 after it)
tcmd wake '^woken'
sleep 0.5
check_waiters "after SIGUSR2" woken

# SIGUSR2 while the route holds them: the handler runs (the temporary mask
# in force) and ends each call with EINTR, the normal mask after it
signal_while_held "$NW"
ok '[ "${sent:-0}" = "$NW" ]' "SIGUSR2 sent to all $NW waiters while stopped (try $tries)"
check_waiters "SIGUSR2 while stopped" woken
stop_target
done_testing
