#!/bin/bash
# test-matrix-lost.sh - the route's tracer process SIGKILLed at spread
# points of a `--via=ptrace set --nnp` on a big target (issue 16 item 5:
# the CLI said "nothing changed" (exit 1) while hundreds of threads had
# NoNewPrivs 1, and the runner's region stayed mapped in the target).
# After each kill, once the CLI has returned (no waiting):
#   - its exit status is honest: 0 only if every thread changed, 3 only
#     if no thread did, else 2 with what /proc shows (exactly);
#   - no thread of the target is stopped or traced;
#   - nothing of ours stays mapped (its maps read as before the run);
#   - the target is alive and every blocked call came back right.
# The tracer is the CLI's child (its tracer process, forked per run),
# found as the TracerPid of the target's main thread.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 19; then
	echo "1..0 # SKIP needs CAP_SYS_PTRACE"
	exit 0
fi

IDLE=${LOST_IDLE:-600} READ=4 SLEEP=4 POLL=2 BUSY=2
NTHR=$((IDLE + READ + SLEEP + POLL + BUSY + 1))

# The tracer process: whoever traces the main thread of $TPID, once it
# does (read with builtins only: no fork between two looks).
find_tracer() {
	local i k= v=
	for ((i = 0; i < 200000; i++)); do
		while read -r k v; do
			[ "$k" = TracerPid: ] && break
		done 2>/dev/null <"/proc/$TPID/status"
		if [ "$k" = TracerPid: ] && [ "$v" != 0 ]; then
			tracer=$v
			return 0
		fi
		kill -0 "$tool" 2>/dev/null || return 1
	done
	return 1
}

# The tracer is still the CLI's child (never a recycled pid).
tracer_ours() {
	local k= v=
	while read -r k v; do
		[ "$k" = PPid: ] && break
	done 2>/dev/null <"/proc/$tracer/status"
	[ "$k" = PPid: ] && [ "$v" = "$tool" ]
}

# The exit status $st of the CLI, judged by what /proc shows now: 0 only
# if every thread changed, 3 only if none did and none is held, else 2
# with the count /proc shows.  Sets $what: $1, then the counts.
judge_exit() {
	nnp1=$(grep -l '^NoNewPrivs:.1' /proc/"$TPID"/task/*/status 2>/dev/null | wc -l)
	all=$(ls /proc/"$TPID"/task | wc -l)
	what="$1, NoNewPrivs 1 on $nnp1 of $all)"
	sed 's/^/# /' "$T_TMP/tool.err" | head -4
	case $st in
	0) ok '[ "$nnp1" = "$all" ]' "$what: exit 0, every thread changed" ;;
	3) ok '[ "$nnp1" = 0 ] && grep -q "nothing was changed" "$T_TMP/tool.err" && [ "$held" = no ]' \
		"$what: exit 3 only when nothing changed and nothing is held" ;;
	2) ok 'grep -q "/proc shows the change on $nnp1 of $all thread" "$T_TMP/tool.err"' \
		"$what: exit 2 says what /proc shows" ;;
	*) ok false "$what: exit 0, 2 or 3 (not 'failed, nothing changed')" ;;
	esac
}

# What the run leaves: no thread stopped or traced ($held), nothing of ours
# mapped ($before against $after), the target alive, and every blocked
# call back right once it is released; then the target is stopped.
check_left() {
	ok '[ "$held" = no ]' "$what: no thread stopped or traced once the CLI is back"
	ok '[ "$before" = "$after" ]' \
		"$what: nothing of ours stays mapped $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')"
	ok alive "$what: the target is alive $(head -c 160 "$T_TMP/target.err")"
	tcmd release '^released '
	ok "released_ok $NTHR -" \
		"$what: every blocked call came back right ($reply $(target_bad_lines))"
	stop_target
}

n=0
for stub in 1 0; do
	for delay in 0 0.002 0.005 0.01 0.02 0.04 0.08 0.15; do
		[ "$stub" = 0 ] && case $delay in 0.002 | 0.01 | 0.04) continue ;; esac
		n=$((n + 1))
		start_target --idle $IDLE --read $READ --sleep $SLEEP \
			--poll $POLL --busy $BUSY
		before=$(maps)
		ALLTHREADS_PTRACE_STUB=$stub "$AT" -p "$TPID" --via=ptrace \
			set --nnp >/dev/null 2>"$T_TMP/tool.err" &
		tool=$!
		tracer=
		if find_tracer; then
			[ "$delay" = 0 ] || sleep "$delay"
			tracer_ours && kill -KILL "$tracer" 2>/dev/null
		fi
		wait "$tool"
		st=$?
		# what /proc shows the moment the CLI is back
		held=$(untraced >/dev/null && echo no || echo yes)
		after=$(maps)
		judge_exit "kill $n (stub=$stub, tracer ${tracer:-not seen}, +${delay}s, exit $st"
		check_left
	done
done

# A tracer that gets no CPU at all (SIGSTOP: the limit of a machine so
# loaded that it never runs, issue 19): the CLI must not return while it
# holds threads.  It kills and reaps it once the run's time is over, says
# what /proc shows, and leaves no thread stopped or traced, nothing of ours
# mapped.  The old CLI returned exit 3 after timeout + 10 s with the
# threads still held.
# Two stops per injected call (no stub): a longer run to stop in.
TMO=2000
for delay in 0 0 0.005 0.02; do
	n=$((n + 1))
	start_target --idle $IDLE --read $READ --sleep $SLEEP \
		--poll $POLL --busy $BUSY
	before=$(maps)
	t0=$(date +%s%N)
	ALLTHREADS_PTRACE_STUB=0 "$AT" -p "$TPID" --via=ptrace --timeout=$TMO \
		set --nnp >/dev/null 2>"$T_TMP/tool.err" &
	tool=$!
	tracer=
	if find_tracer; then
		[ "$delay" = 0 ] || sleep "$delay"
		tracer_ours && kill -STOP "$tracer" 2>/dev/null
	fi
	# bounded: the old CLI returned after 12 s, the new one kills at 8 s
	for ((i = 0; i < 400; i++)); do
		kill -0 "$tool" 2>/dev/null || break
		sleep 0.1
	done
	held=$(untraced >/dev/null && echo no || echo yes)
	after=$(maps)
	kill -KILL "$tool" 2>/dev/null
	wait "$tool"
	st=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	# a tracer left over by the old CLI: let the target go
	[ -n "$tracer" ] && [ -d "/proc/$tracer" ] && kill -KILL "$tracer" 2>/dev/null
	judge_exit "stop $n (tracer ${tracer:-not seen} stopped at +${delay}s, exit $st in $ms ms"
	ok '[ "$ms" -le $((TMO + 10000)) ]' "$what: back within the timeout + 10 s"
	check_left
done
done_testing
