#!/bin/bash
# test-matrix-load.sh - many ptrace calls in a row on a busy service, on a
# machine loaded far above its core count (issue 19: at load average 35 to
# 120 calls ended with exit 3 after 15 s with threads of memcached still
# stopped and traced by our tracer; the next calls found them "already
# being traced").
#
# The load: 4 busy loops per CPU at nice 0, one per CPU at nice -5 (with
# CAP_SYS_NICE), and every tenth call a SCHED_FIFO busy loop at real-time
# priority 5 on CPU 0, ended after 2 s (the tracer's own priority is above
# it).  Then a few calls with the CLI on CPU 0 (so its tracer works there)
# while such a hog holds CPU 0 for the whole call (killed when the call
# returns, 25 s at most; only with 2 CPUs or more, so the rest of the
# machine keeps one): the old tracer, SCHED_OTHER, got a few ms a second
# there and the call gave up after 15 s with threads left stopped.  The service: redis-server with 4 I/O threads under redis-benchmark
# (or, without redis, the matrix target with busy threads).  The calls
# flip an inheritable capability (+/-cap_net_raw), which /proc shows, so
# each exit status is checked against what /proc shows:
#   0   every thread shows the new value
#   1   none does ("failed, nothing changed", the change undone)
#   3   none does (nothing was touched)
#   2   anything (the message says)
# and after each call, the moment it returned, no thread of the target is
# stopped or traced, and the call took at most its timeout + 10 s.  The
# invariants are checked, not speed.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 19 || ! has_cap 8; then
	echo "1..0 # SKIP needs CAP_SYS_PTRACE and CAP_SETPCAP"
	exit 0
fi
CALLS=${LOAD_CALLS:-30} PINNED=${LOAD_PINNED:-3}
TMO=5000
ncpu=$(nproc)

hog() { # hog NICE: a busy loop at that nice value
	nice -n "$1" bash -c 'while :; do :; done' &
	PTT_PIDS+=($!)
}
for ((i = 0; i < 4 * ncpu; i++)); do hog 0; done
if has_cap 23; then
	for ((i = 0; i < ncpu; i++)); do hog -5; done
fi
# This script and its checks ahead of the load (the calls, the service and
# its load generator are put back at nice 0), so the load slows the calls,
# not the test.
NICE=()
if has_cap 23 && renice -n -10 -p $$ >/dev/null 2>&1; then
	NICE=(nice -n 10)
fi
sleep 0.5

port=
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$T_TMP/redis"
	"${NICE[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --dir "$T_TMP/redis" --logfile "$T_TMP/redis/log" \
		--io-threads 4 --protected-mode yes >/dev/null 2>&1 &
	TPID=$!
	PTT_PIDS+=("$TPID")
	for ((i = 0; i < 200; i++)); do
		[ "$(timeout 5 redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && break
		sleep 0.05
	done
	# its own load, for the whole run (bounded by its request count and
	# by the cleanup)
	"${NICE[@]}" redis-benchmark -p "$port" -q -c 20 -n 100000000 -t set,get \
		--threads 2 >/dev/null 2>&1 &
	PTT_PIDS+=($!)
	what=redis
else
	start_target --idle 20 --busy 6 --read 2 --sleep 2 --timeout 600
	what=matrix-target
fi
ok 'alive' "$what: started ($(task_count) threads), load average $(cut -d' ' -f1 /proc/loadavg)"

# call N PREFIX...: one flip through ptrace (PREFIX runs the CLI), then
# the checks.
call() {
	local n=$1 v edit want t0 t1 st held ms have all f desc
	shift
	# the flip of what the main thread has now
	v=$(awk '/^CapInh:/ { print $2 }' "/proc/$TPID/status")
	if [ $(((16#$v >> 13) & 1)) = 0 ]; then
		edit=+cap_net_raw want=1
	else
		edit=-cap_net_raw want=0
	fi
	t0=$(date +%s%N)
	"$@" timeout -k 5 60 "${NICE[@]}" "$AT" -p "$TPID" --via=ptrace \
		--timeout=$TMO set --inh-caps=$edit >/dev/null 2>"$T_TMP/call.err"
	st=$?
	t1=$(date +%s%N)
	[ -n "$hogpid" ] && kill -KILL "$hogpid" 2>/dev/null
	# the moment it is back
	held=yes
	untraced >/dev/null && held=no
	ms=$(((t1 - t0) / 1000000))
	# threads whose CapInh has cap_net_raw (bit 13) as wanted
	have=0 all=0
	for f in /proc/"$TPID"/task/*/status; do
		v=$(awk '/^CapInh:/ { print $2 }' "$f" 2>/dev/null) || continue
		[ -n "$v" ] || continue
		all=$((all + 1))
		[ $(((16#$v >> 13) & 1)) = "$want" ] && have=$((have + 1))
	done
	desc="call $n$fifo: exit $st in $ms ms, $have of $all threads show the change, load $(cut -d' ' -f1 /proc/loadavg)"
	[ "$st" = 0 ] || sed 's/^/# /' "$T_TMP/call.err" | head -3
	ok '[ "$held" = no ]' "$desc: no thread stopped or traced once it returned"
	case $st in
	0) ok '[ "$have" = "$all" ]' "$desc: exit 0 and every thread changed" ;;
	1 | 3) ok '[ "$have" = 0 ]' "$desc: exit $st and no thread changed" ;;
	2) ok true "$desc: exit 2, outcome said" ;;
	*) ok false "$desc: an exit status the call may give" ;;
	esac
	ok '[ "$ms" -le $((TMO + 10000)) ]' "$desc: within the timeout + 10 s"
	# threads left stopped or different: made right again
	for ((i = 0; i < 100; i++)); do
		untraced >/dev/null && break
		sleep 0.2
	done
	if [ "$have" != 0 ] && [ "$have" != "$all" ]; then
		timeout -k 5 60 "$AT" -p "$TPID" --via=ptrace \
			set --inh-caps=$edit >/dev/null 2>&1
	fi
}

# rthog S: a busy loop at SCHED_FIFO priority 5 on CPU 0 that ends itself
# after S seconds ($! is that loop itself: chrt and taskset exec it).
rthog() {
	chrt -f 5 taskset -c 0 bash -c \
		'end=$((SECONDS + '"$1"')); while [ $SECONDS -lt $end ]; do :; done' &
	PTT_PIDS+=($!)
}

hogpid=
for ((n = 1; n <= CALLS; n++)); do
	fifo=
	if has_cap 23 && [ $((n % 10)) = 5 ]; then
		rthog 2
		fifo=" (a SCHED_FIFO hog on CPU 0 for 2 s)"
	fi
	call $n
done
if has_cap 23 && [ "$ncpu" -ge 2 ]; then
	for ((n = 1; n <= PINNED; n++)); do
		rthog 25
		hogpid=$!
		fifo=" (on CPU 0 with a SCHED_FIFO hog there)"
		call "pinned $n" taskset -c 0
		wait "$hogpid" 2>/dev/null
		hogpid=
	done
else
	skip "calls beside a SCHED_FIFO hog" "needs CAP_SYS_NICE and 2 CPUs"
fi
ok 'alive' "$what: alive after $CALLS + $PINNED calls"
if [ -n "$port" ]; then
	ok '[ "$(timeout 5 redis-cli -p "$port" PING 2>/dev/null)" = PONG ]' "redis answers PING afterwards"
fi
done_testing
