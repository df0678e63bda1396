# tests/ptrace/ptt.sh - what the ptrace route's tests share (sourced after
# ../cli/tap.sh).
#
#   start_target ARGS...   starts matrix-target ARGS (commands on a FIFO);
#                          sets $TPID and $TTASKS (start_prog PROG ARGS...
#                          for another program that speaks the same)
#   tcmd CMD RE            sends CMD, waits (bounded) for a line matching RE;
#                          the line is in $reply
#   stop_target            quits and reaps it (also done by the EXIT trap)
#   every_task F V         every task of $TPID shows "F:<tab>V..." in its
#                          status (V an extended regex for the value); the
#                          ones that do not are in $odd, and in a TAP
#                          comment
#   untraced               every task: TracerPid 0 and not in state t
#   untraced_within N      untraced, polled up to N times 50 ms apart
#   maps                   the target's mappings: address, permissions,
#                          inode, one a line
#   task_count             the tasks /proc lists now
#   state_of TID           the State letter of a task
#   sched_mix              gives three tasks of $TPID other scheduling
#                          (SCHED_BATCH, nice 7, SCHED_IDLE)
#   sched_all              every task's "TID policy nice rt-priority"
#                          (/proc/PID/task/TID/stat), one a line
#
# For a target whose threads wait and count how each wait ended
# (eintr-target, sigmask-target: "w NAME COUNTS..." lines on "check"):
#   need_ptrace            skips the whole test without CAP_SYS_PTRACE
#   need_hooks             the same without the library's test hooks
#   start_waiters PROG ARGS...  start_prog, and says if io_uring is not
#                          allowed here
#   waiter_lines N         asks for the counts and prints the last N
#                          waiter lines; fails if the target does not answer
#   route_runs N WHAT [CMD RE]  N runs of the route (prctl KEEP_CAPS), the
#                          stub on and off in turn, CMD sent to the target
#                          before each (tcmd CMD RE); one TAP line for all
#   signal_while_held WANT  arms the target ("arm": it signals its waiters
#                          while the route holds them) and runs the route,
#                          up to 5 times until WANT waiters were signalled;
#                          sets $sent and $tries
PTT_PIDS=()
PTT_FD=
PTT_CLEAN_DIR=
odd=
rc=0 out= err=
trap 'ptt_cleanup' EXIT

ptt_cleanup() {
	[ -n "$PTT_FD" ] && exec 7>&- 2>/dev/null
	t_kill -KILL "${PTT_PIDS[@]}"
	rm -rf "$T_TMP" ${PTT_CLEAN_DIR:+"$PTT_CLEAN_DIR"}
}

# The last line of $T_TMP/target.out matching RE, waiting up to $2 s.
ptt_wait_line() {
	local re=$1 secs=${2:-15} i
	for ((i = 0; i < secs * 20; i++)); do
		reply=$(grep -E -- "$re" "$T_TMP/target.out" 2>/dev/null |
			tail -n 1)
		[ -n "$reply" ] && return 0
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.05
	done
	reply=$(grep -E -- "$re" "$T_TMP/target.out" 2>/dev/null | tail -n 1)
	[ -n "$reply" ]
}

start_target() {
	start_prog "${AT_MATRIX:?AT_MATRIX: the matrix target}" "$@"
}

# start_prog PROG ARGS...: the same for any program that speaks "ready PID
# TASKS" and "quit".
start_prog() {
	local prog=$1
	shift
	[ -n "$PTT_FD" ] && stop_target
	rm -f "$T_TMP/target.in" "$T_TMP/target.out"
	mkfifo "$T_TMP/target.in" || exit 1
	"$prog" "$@" <"$T_TMP/target.in" >"$T_TMP/target.out" 2>"$T_TMP/target.err" &
	TPID=$!
	PTT_PIDS+=("$TPID")
	exec 7>"$T_TMP/target.in"
	PTT_FD=7
	if ! ptt_wait_line '^ready ' 60; then
		echo "Bail out! ${prog##*/} $* did not get ready:" \
			"$(head -c 300 "$T_TMP/target.err")"
		exit 1
	fi
	TTASKS=$(set -- $reply; echo "$3")
}

tcmd() {
	# only lines after this command count
	local before
	before=$(wc -l <"$T_TMP/target.out")
	# in a subshell: if the target died, SIGPIPE ends that, not the test
	(echo "$1" >&7) 2>/dev/null || { reply=; return 1; }
	local i
	for ((i = 0; i < 400; i++)); do
		reply=$(tail -n +"$((before + 1))" "$T_TMP/target.out" |
			grep -E -- "$2" | tail -n 1)
		[ -n "$reply" ] && return 0
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.05
	done
	reply=$(tail -n +"$((before + 1))" "$T_TMP/target.out" |
		grep -E -- "$2" | tail -n 1)
	[ -n "$reply" ]
}

# Lines the target printed after the last command (its "bad ..." lines).
target_bad_lines() {
	grep -E '^bad ' "$T_TMP/target.out" | head -n 10
}

stop_target() {
	[ -n "$PTT_FD" ] || return 0
	kill -CONT "$TPID" 2>/dev/null
	(echo quit >&7) 2>/dev/null
	exec 7>&-
	PTT_FD=
	local i
	for ((i = 0; i < 40; i++)); do
		kill -0 "$TPID" 2>/dev/null || break
		sleep 0.05
	done
	[ "$i" -lt 40 ] || kill -KILL "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
}

task_count() {
	ls "/proc/$TPID/task" 2>/dev/null | wc -l
}

state_of() {
	awk '/^State:/ { print $2; exit }' "/proc/$TPID/task/$1/status" 2>/dev/null
}

every_task() {
	local f=$1 re=$2
	# one awk for all tasks: a task that is gone meanwhile is skipped
	odd=$(awk -v f="$f:" -v re="^($re)\$" '
		FNR == 1 { tid = FILENAME; sub(/\/status$/, "", tid); sub(/.*\//, "", tid) }
		$1 == f { v = $0; sub(/^[^:]*:[ \t]*/, "", v); n++
			  if (v !~ re) printf " %s:%s", tid, v }
		END { if (!n) printf " (no task)" }' \
		/proc/"$TPID"/task/*/status 2>/dev/null)
	[ -n "$odd" ] && echo "# $f is not /$re/ in:${odd:0:300}"
	[ -z "$odd" ]
}

untraced() {
	every_task TracerPid 0 && every_task State '[^t].*'
}

maps() {
	awk '{ print $1, $2, $5 }' "/proc/$TPID/maps" 2>/dev/null
}

untraced_within() {
	local i
	for ((i = 0; i < $1; i++)); do
		untraced >/dev/null && return 0
		sleep 0.05
	done
	return 1
}

sched_mix() {
	local tids
	tids=($(ls "/proc/$TPID/task" | sort -n))
	chrt -b -p 0 "${tids[1]}" >/dev/null &&
		renice -n 7 -p "${tids[2]}" >/dev/null &&
		chrt -i -p 0 "${tids[3]}" >/dev/null
}

sched_all() {
	local t
	for t in /proc/"$TPID"/task/*; do
		# the fields after the name: field N is $(N - 2)
		sed 's/.*) //' "$t/stat" 2>/dev/null |
			awk -v t="${t##*/}" '{ print t, $39, $17, $38 }'
	done
}

# The process is alive: some task of it is not a zombie.
alive() {
	local t
	kill -0 "$TPID" 2>/dev/null || return 1
	for t in /proc/"$TPID"/task/*; do
		grep -Eq '^State:.[^ZX]' "$t/status" 2>/dev/null && return 0
	done
	return 1
}

# released_ok N: the last "release" reply says N threads proved their call
# and none failed; KEEP_CAPS (when the threads read it) as $2 (1 or 0).
released_ok() {
	local want=$1 kc=$2 okc bad ones of
	set -- $reply "" "" "" "" "" ""
	[ "$1" = released ] || return 1
	okc=$2 bad=$3 ones=$5 of=$6
	[ "$okc" = "$want" ] && [ "$bad" = 0 ] || return 1
	case $kc in
	1) [ "$ones" = "$of" ] && [ "$of" -gt 0 ] ;;
	0) [ "$ones" = 0 ] ;;
	*) true ;;
	esac
}

need_ptrace() {
	if ! has_cap 19; then
		echo "1..0 # SKIP needs CAP_SYS_PTRACE"
		exit 0
	fi
}

need_hooks() {
	if [ "${AT_TEST_HOOKS:-0}" != 1 ]; then
		echo "1..0 # SKIP the library is built without its test hook (meson setup -Dtest_hooks=true)"
		exit 0
	fi
}

start_waiters() {
	start_prog "$@"
	case $reply in *no-io_uring*) echo "# io_uring not allowed here: not tested" ;; esac
}

waiter_lines() {
	tcmd check '^end' || return 1
	grep '^w ' "$T_TMP/target.out" | tail -n "$1"
}

route_runs() {
	local n=$1 what=$2 cmd=${3:-} re=${4:-} i fails=0 first=
	for ((i = 1; i <= n; i++)); do
		[ -z "$cmd" ] || tcmd "$cmd" "$re"
		run env ALLTHREADS_PTRACE_STUB=$((i % 2)) \
			"$AT" -p "$TPID" --via=ptrace prctl KEEP_CAPS $((i % 2))
		if [ "$rc" != 0 ]; then
			fails=$((fails + 1))
			[ -n "$first" ] || first="run $i: exit $rc: $(grep -v 'because another' <<<"$err" | head -c 600)"
		fi
		sleep 0.2
	done
	ok '[ "$fails" = 0 ]' "$what: $n runs of the route, each exit 0 ${first:+($first)}"
}

signal_while_held() {
	local want=$1 before j
	sent=0 tries=0
	while [ "$sent" -lt "$want" ] && [ $tries -lt 5 ]; do
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
		sent=${sent:-0}
		sleep 0.5
	done
}
