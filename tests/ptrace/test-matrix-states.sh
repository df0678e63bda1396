#!/bin/bash
# test-matrix-states.sh - the ptrace route on processes started WITHOUT the
# helper: threads idle, busy, blocked in read, nanosleep, poll, epoll_wait,
# sigwaitinfo and raw-clone threads; a zombie main thread; thread churn; a
# SIGSTOPped target (stays stopped).  Each thread's scheduling is its own
# again afterwards (the stub runs at a real-time priority), three of them
# other than the default.  Every thread is checked in
# /proc/PID/task/TID/status, and the target proves afterwards that each
# blocked call came back with the right result (no EINTR where the kernel
# promises none, no -512/-516, no time lost, the queued signal's payload).
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

# The route's default deadline (5 s), longer under emulation: there, on
# a loaded host, 19 threads with two stops a step once ran out of it
# (thread 251 of the first case failed, "no time was left to undo it"),
# and once every thread's report after the release took longer than
# tcmd's 20 s (a thread that hangs still fails).
ms=$((5000 * T_SLOW))

# 1. every kind of thread at once
start_target --idle 3 --busy 2 --read 3 --sleep 2 --poll 2 --epoll 2 \
	--sigwait 2 --rawclone 2
n=$(task_count)
sched_mix || echo "# could not vary the threads' scheduling"
sched_before=$(sched_all)
at -p "$TPID" --via=ptrace --timeout="$ms" -v set --nnp --keep-caps=1
rc_is 0 "mixed states: set --nnp --keep-caps=1 through ptrace"
ok '[ "$(sched_all)" = "$sched_before" ]' \
	"mixed states: every thread's scheduling as before"
ok 'every_task NoNewPrivs 1' "mixed states: NoNewPrivs 1 on every thread ($n)"
ok 'untraced' "mixed states: no thread left traced or stopped"
ok '[ "$(printf "%s\n" "$out" | grep -c -- "->")" -ge "$n" ]' \
	"mixed states: -v names every thread"
tcmd release '^released ' ||
	ptt_wait_line '^released ' $((20 * T_SLOW))
# 16 workers + main + 2 raw threads report
ok 'released_ok 19 1' \
	"mixed states: every blocked call came back right, KEEP_CAPS 1 ($reply $(target_bad_lines))"
stop_target

# 2. the main thread is a zombie (it called pthread_exit)
start_target --zombie-main --idle 2 --read 2 --sleep 1
for i in $(seq 40); do
	[ "$(state_of "$TPID")" = Z ] && break
	sleep 0.05
done
ok '[ "$(state_of "$TPID")" = Z ]' "zombie main: the leader is a zombie"
at -p "$TPID" --via=ptrace --timeout="$ms" set --nnp --keep-caps=1
rc_is 0 "zombie main: set through ptrace"
ok 'every_task NoNewPrivs 1 || [ "$odd" = " $TPID:0" ]' \
	"zombie main: NoNewPrivs 1 on every live thread"
ok 'every_task TracerPid 0' "zombie main: nothing left traced"
ok '[ "$(state_of "$TPID")" = Z ]' "zombie main: the leader is still a zombie"
tcmd release '^released ' ||
	ptt_wait_line '^released ' $((20 * T_SLOW))
ok 'released_ok 5 1' "zombie main: the threads' calls came back right ($reply)"
stop_target

# 3. threads come and go while the route works
start_target --churn --idle 2 --read 1
tcmd ping '^pong'
at -p "$TPID" --via=ptrace --timeout="$ms" set --nnp --keep-caps=1
rc_is 0 "churn: set through ptrace while threads come and go"
tcmd churn-stop '^churn-stopped '
r1=${reply#churn-stopped }
sleep 0.1
ok 'every_task NoNewPrivs 1' "churn: NoNewPrivs 1 on every thread left"
ok 'untraced' "churn: nothing left traced"
ok '[ "${r1:-0}" -gt 0 ]' "churn: the churner kept making threads ($r1 rounds)"
tcmd release '^released ' ||
	ptt_wait_line '^released ' $((20 * T_SLOW))
ok 'released_ok 4 1' "churn: the calls came back right ($reply)"
stop_target

# 4. a job-control-stopped target stays stopped
start_target --idle 2 --read 2 --sleep 1
kill -STOP "$TPID"
for i in $(seq 40); do
	every_task State 'T.*' && break
	sleep 0.05
done
ok 'every_task State "T.*"' "SIGSTOP: every thread stopped before"
at -p "$TPID" --via=ptrace --timeout="$ms" set --nnp --keep-caps=1
rc_is 0 "SIGSTOP: set through ptrace"
ok 'every_task NoNewPrivs 1' "SIGSTOP: NoNewPrivs 1 on every thread"
ok 'every_task TracerPid 0' "SIGSTOP: nothing left traced"
sleep 0.2
ok 'every_task State "T .stopped."' \
	"SIGSTOP: every thread is still stopped afterwards"
kill -CONT "$TPID"
tcmd release '^released ' ||
	ptt_wait_line '^released ' $((20 * T_SLOW))
ok 'released_ok 6 1' "SIGSTOP: after SIGCONT the calls came back right ($reply)"
stop_target

done_testing
