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

if ! has_cap 19; then
	echo "1..0 # SKIP needs CAP_SYS_PTRACE"
	exit 0
fi

# check_waiters WHAT [WOKEN]: every waiter's counts (see sigmask-target.c);
# with WOKEN, each call SIGUSR2 ended since the last look, and SIGUSR1 handled.
check_waiters() {
	local what=$1 want=${2:-} name calls bmask eintr woken expired other last usr1
	local bad= n=0 was
	tcmd check '^end' || { ok false "$what: the target answers"; return; }
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
	done <<<"$(grep '^w ' "$T_TMP/target.out" | tail -n "$NW")"
	ok '[ -z "$bad" ] && [ "$n" -gt 0 ]' "$what: $n waiters, the normal mask after every call, no EINTR${want:+, SIGUSR2 ended each call, SIGUSR1 handled}${bad:+:$bad}"
}

# routes N [pend]: N runs of the route, the stub on and off in turn
routes() {
	local i fails=0 first=
	for ((i = 1; i <= $1; i++)); do
		[ -z "$2" ] || tcmd pend '^pended'
		run env ALLTHREADS_PTRACE_STUB=$((i % 2)) \
			"$AT" -p "$TPID" --via=ptrace prctl KEEP_CAPS $((i % 2))
		if [ "$rc" != 0 ]; then
			fails=$((fails + 1))
			[ -n "$first" ] || first="run $i: exit $rc: $(head -c 600 <<<"$err")"
		fi
		sleep 0.3
	done
	ok '[ "$fails" = 0 ]' "$3: $1 runs of the route, each exit 0 ${first:+($first)}"
}

start_prog "$TGT" --ms $MS
case $reply in *no-io_uring*) echo "# io_uring not allowed here: not tested" ;; esac
NW=$((TTASKS - 1))
declare -A WOKEN

routes "$RUNS" "" "quiet"
ok 'alive && untraced' "the target is alive, nothing left traced"
# every timed call ran out at least once after the last run
sleep $((MS * 2 / 1000 + 1))
check_waiters "after the runs"

routes "$RUNS" pend "SIGUSR1 pending"
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
sent=0 tries=0
while [ "$sent" -lt "$NW" ] && [ $tries -lt 5 ]; do
	tries=$((tries + 1))
	before=$(grep -c '^sent ' "$T_TMP/target.out")
	tcmd arm '^armed' || break
	run env ALLTHREADS_PTRACE_STUB=$((tries % 2)) \
		"$AT" -p "$TPID" --via=ptrace prctl KEEP_CAPS 1
	# the watcher gives up 10 s after it was armed
	for ((j = 0; j < 300; j++)); do
		[ "$(grep -c '^sent ' "$T_TMP/target.out")" -gt "$before" ] && break
		sleep 0.05
	done
	reply=$(grep '^sent ' "$T_TMP/target.out" | tail -n 1)
	sent=${reply#sent }
	sleep 0.5
done
ok '[ "${sent:-0}" = "$NW" ]' "SIGUSR2 sent to all $NW waiters while stopped (try $tries)"
check_waiters "SIGUSR2 while stopped" woken
stop_target
done_testing
