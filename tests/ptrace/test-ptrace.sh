#!/bin/bash
# test-ptrace.sh - the ptrace route through the allthreads command, on a
# plain multi-threaded process started WITHOUT the helper: every thread
# changes (its /proc and its own view), its blocked read() and nanosleep()
# come back as if nothing happened, another tracer is refused, a stopped
# process stays stopped, a zombie leader works, and the root-only
# hardening recipe (skipped without the capabilities).
. "$(dirname "$0")/../cli/tap.sh"

TARGET=${AT_PTRACE_TARGET:?AT_PTRACE_TARGET: the ptrace fixture}
# The runs' deadlines, multiplied under emulation (tests/arm64/vm.sh): there
# the aarch64 route injects each call alone (two stops each), and the
# hardening recipe on 10 threads took 11 s, the blocked thread's run 1.8 s.
SLOW=${AT_TIMEOUT_FACTOR:-1}
PIDS=()

cleanup() {
	t_kill -KILL "${PIDS[@]}"
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# start N [zombie]: the fixture with its stdin on a FIFO we hold open
# (fd 7); sets TPID and WFD, its output in $T_TMP/target.out.
start() {
	local i
	TALK=$(($1 + 1)) # the idle threads and the main one answer "r"
	rm -f "$T_TMP/cmd" "$T_TMP/target.out"
	mkfifo -m 600 "$T_TMP/cmd"
	"$TARGET" "$@" <"$T_TMP/cmd" >>"$T_TMP/target.out" &
	TPID=$!
	PIDS+=("$TPID")
	exec 7>"$T_TMP/cmd"
	for i in $(seq 200); do
		grep -q '^ready' "$T_TMP/target.out" 2>/dev/null && break
		sleep 0.05
	done
	if ! grep -q '^ready' "$T_TMP/target.out"; then
		echo "Bail out! the ptrace fixture did not start"
		exit 1
	fi
	WFD=$(awk '/^ready/ { print $3 }' "$T_TMP/target.out")
}

stop() {
	echo q >&7
	exec 7>&-
	kill "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
}

# report: the target's own view, one line per thread that answers ("tid T
# keepcaps K nnp N uid U gid G"), into $view.
report() {
	local i
	: >"$T_TMP/target.out"
	echo r >&7
	for i in $(seq 100); do
		view=$(grep '^tid ' "$T_TMP/target.out")
		[ "$(printf '%s\n' "$view" | grep -c '^tid ')" -ge "$TALK" ] &&
			break
		sleep 0.05
	done
}

# every_task FIELD VALUE: every live thread's /proc status shows it.
every_task() {
	local f
	for f in /proc/$TPID/task/*/status; do
		grep -q '^State:.*Z' "$f" && continue
		grep -Eq "^$1:[[:space:]]+$2\$" "$f" || return 1
	done
}

no_tracer_left() {
	every_task TracerPid 0
}

start 4
n=$(ls "/proc/$TPID/task" | wc -l)
at -p "$TPID" -n prctl KEEP_CAPS 1
err_like "route: ptrace" "-n: no helper, so the route is ptrace"
at -p "$TPID" --via=ptrace -v prctl KEEP_CAPS 1
rc_is 0 "--via=ptrace prctl KEEP_CAPS 1 on a process without the helper"
ok '[ "$(printf "%s\n" "$out" | grep -Ec " 0 -> 1$")" = "$n" ]' \
	"every thread ($n) read back 0 -> 1"
ok no_tracer_left "every thread released (TracerPid 0)"
report
ok '[ "$(printf "%s\n" "$view" | grep -c "keepcaps 1")" = "$TALK" ] &&
	! printf "%s\n" "$view" | grep -q "keepcaps 0"' \
	"the target's own view: KEEP_CAPS 1 on every thread"
echo -n x >"/proc/$TPID/fd/$WFD"
for i in $(seq 100); do
	grep -q '^read ' "$T_TMP/target.out" && break
	sleep 0.05
done
ok 'grep -q "^read 1 x errno 0$" "$T_TMP/target.out"' \
	"the blocked read() returned the byte written after (no EINTR, no -512)"

at -p "$TPID" set --nnp --keep-caps=1
rc_is 0 "set --nnp --keep-caps=1 (default route: ptrace)"
ok 'every_task NoNewPrivs 1' "/proc: NoNewPrivs 1 on every thread"
report
ok '[ "$(printf "%s\n" "$view" | grep -c "keepcaps 1 nnp 1")" = "$TALK" ] &&
	! printf "%s\n" "$view" | grep -q "nnp 0"' \
	"the target's own view: NO_NEW_PRIVS and KEEP_CAPS on every thread"
at -p "$TPID" --via=ptrace prctl KEEP_CAPS
ok '[ "$out" = "all 1" ]' "a read /proc cannot answer goes through ptrace"
# Let the sleeper finish at least one whole sleep after the runs.
sleep 1.7
# On aarch64 an interrupted relative sleep starts again from the beginning
# (allthreads_target_run(3)): up to twice 1.5 s, and more when emulated.
full='1[5-9][0-9][0-9]'
[ "$(uname -m)" = aarch64 ] && full='(1[5-9][0-9][0-9]|[2-9][0-9][0-9][0-9])'
failed=$T_FAILED
ok '! grep "^nanosleep" "$T_TMP/target.out" | grep -Evq "^nanosleep 0 errno 0 ms $full$" &&
	grep -q "^nanosleep 0" "$T_TMP/target.out"' \
	"nanosleep() returned 0 after its full 1.5 s every time (no EINTR, no -516)"
[ "$T_FAILED" = "$failed" ] ||
	grep "^nanosleep" "$T_TMP/target.out" | sed 's/^/# /'

# Another tracer holds one thread: refused, nothing touched.
victim=$(ls "/proc/$TPID/task" | sort -n | tail -1)
mkfifo -m 600 "$T_TMP/hold"
"$TARGET" hold "$victim" <"$T_TMP/hold" >"$T_TMP/hold.out" &
HPID=$!
PIDS+=("$HPID")
exec 8>"$T_TMP/hold"
for i in $(seq 100); do
	grep -q holding "$T_TMP/hold.out" && break
	sleep 0.05
done
at -p "$TPID" prctl KEEP_CAPS 0
rc_is 3 "another tracer holds a thread: refused"
err_like "thread $victim is already being traced by pid $HPID" \
	"the reason names the thread and the tracer"
exec 8>&-
wait "$HPID" 2>/dev/null
at -p "$TPID" --via=ptrace prctl KEEP_CAPS
ok '[ "$out" = "all 1" ]' "the refused run changed nothing"

# Stopped by job control: still stopped afterwards, changed once resumed.
kill -STOP "$TPID"
sleep 0.1
at -p "$TPID" --via=ptrace prctl KEEP_CAPS 0
rc_is 0 "a SIGSTOPped process"
ok 'grep -q "^State:.*T (stopped)" "/proc/$TPID/status"' \
	"it is still stopped afterwards"
kill -CONT "$TPID"
report
ok '[ "$(printf "%s\n" "$view" | grep -c "keepcaps 0")" = "$TALK" ] &&
	! printf "%s\n" "$view" | grep -q "keepcaps 1"' \
	"after SIGCONT: KEEP_CAPS 0 on every thread"
# A seccomp filter on every thread, through ptrace: its note names no
# helper (there is none).
at -p "$TPID" --via=ptrace seccomp --deny=ptrace
rc_is 0 "--via=ptrace seccomp --deny=ptrace"
ok 'every_task Seccomp 2' "/proc: Seccomp 2 on every thread"
ok '! printf "%s\n" "$err" | grep -q helper' \
	"seccomp by ptrace: no note about a helper"
ok no_tracer_left "seccomp by ptrace: every thread released"
stop

# A zombie leader (the main thread called pthread_exit).
start 3 zombie
for i in $(seq 100); do
	grep -q '^State:.*Z' "/proc/$TPID/status" && break
	sleep 0.05
done
ok 'grep -q "^State:.*Z" "/proc/$TPID/status"' "the leader is a zombie"
at -p "$TPID" -v set --nnp
rc_is 0 "set --nnp with a zombie leader"
ok 'every_task NoNewPrivs 1' "/proc: every live thread has NoNewPrivs 1"
ok no_tracer_left "every thread released"
stop

# A helper whose signal one thread blocks (with the raw syscall): the
# helper route cannot change it; the default route hands it to ptrace.
if [ -n "${AT_HELPER:-}" ] && [ -n "${AT_HTARGET:-}" ]; then
	LD_PRELOAD=$AT_HELPER "$AT_HTARGET" 2 "$T_TMP/hstatus" &
	HT=$!
	PIDS+=("$HT")
	for i in $(seq 100); do
		[ -s "$T_TMP/hstatus" ] && [ -S "/run/allthreads/$(id -u)/$HT.sock" ] && break
		sleep 0.05
	done
	kill -INT "$HT" # a new thread blocks the engine's signal
	for i in $(seq 100); do
		grep -q "hrtimer_nanosleep" /proc/$HT/task/*/wchan 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.2
	at -p "$HT" --via=helper --timeout=500 prctl KEEP_CAPS 1
	rc_is 1 "--via=helper: a thread blocks the helper's signal: nothing changed"
	at -p "$HT" -n prctl KEEP_CAPS 1
	err_like "route: its allthreads helper" "-n: the target has a helper"
	at -p "$HT" --timeout=$((500 * SLOW)) -v prctl KEEP_CAPS 1
	rc_is 0 "the default route hands the blocked thread to ptrace"
	ok '! printf "%s\n" "$err" | grep -q ": failed$"' \
		"a thread that failed says why"
	n=$(ls "/proc/$HT/task" | wc -l)
	ok '[ "$(printf "%s\n" "$out" | grep -Ec " 0 -> 1$")" = "$n" ]' \
		"every thread ($n), the blocked one included, 0 -> 1"
	kill "$HT" 2>/dev/null
	wait "$HT" 2>/dev/null
else
	skip "the helper's blocked threads handed to ptrace" "no helper in this build"
fi

# Predicted from /proc: one thread lacks a capability the others have
# (python3, one of whose threads switched its euid away): refused before
# anything changes, instead of changing the others only.
if has_cap 7 && has_cap 8 && has_cap 19 && command -v python3 >/dev/null; then
	python3 -c '
import ctypes, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def lesser():
    libc.syscall(117, -1, 1000, -1)  # setresuid: this thread only
    time.sleep(60)
threading.Thread(target=lesser, daemon=True).start()
threading.Thread(target=lambda: time.sleep(60), daemon=True).start()
time.sleep(0.3)
print("ready", os.getpid(), flush=True)
time.sleep(60)
' >"$T_TMP/py.out" &
	PY=$!
	PIDS+=("$PY")
	for i in $(seq 100); do
		grep -q '^ready' "$T_TMP/py.out" && break
		sleep 0.05
	done
	at -p "$PY" --via=ptrace prctl CAPBSET_DROP net_broadcast
	rc_is 1 "a thread lacks CAP_SETPCAP: refused"
	err_like "lacks CAP_SETPCAP, which thread [0-9]+ has" \
		"the reason names the thread and the capability"
	ok '! grep -h "^CapBnd:" /proc/$PY/task/*/status | grep -qv "$(grep "^CapBnd:" /proc/$PY/status | cut -f2)"' \
		"nothing changed: every thread keeps its bounding set"
	kill "$PY" 2>/dev/null
	wait "$PY" 2>/dev/null
else
	skip "a thread that lacks a capability" "needs root and python3"
fi

# The hardening recipe, as root: every thread becomes nobody.
if has_cap 6 && has_cap 7 && has_cap 8 && has_cap 19 && getent passwd nobody >/dev/null &&
	getent group nogroup >/dev/null; then
	start 6
	nobody=$(id -u nobody)
	nogroup=$(getent group nogroup | cut -d: -f3)
	at -p "$TPID" --timeout=$((5000 * SLOW)) set --nnp --bounding-set=-all \
		--reuid=nobody --regid=nogroup --clear-groups
	rc_is 0 "set --nnp --bounding-set=-all --reuid=nobody --regid=nogroup --clear-groups"
	ok '! printf "%s\n" "$err" | grep -q ": failed$"' \
		"a thread that failed says why"
	ok "every_task Uid '$nobody\s+$nobody\s+$nobody\s+$nobody'" \
		"/proc: every thread's uids are nobody"
	ok "every_task Gid '$nogroup\s+$nogroup\s+$nogroup\s+$nogroup'" \
		"/proc: every thread's gids are nogroup"
	ok "every_task Groups ''" "/proc: no supplementary groups"
	ok "every_task CapBnd 0000000000000000" "/proc: empty bounding set"
	ok "every_task NoNewPrivs 1" "/proc: NoNewPrivs 1"
	ok no_tracer_left "every thread released"
	report
	ok '[ "$(printf "%s\n" "$view" | grep -c "uid $nobody gid $nogroup")" = "$TALK" ]' \
		"the target's own view: uid nobody, gid nogroup on every thread"
	echo -n y >"/proc/$TPID/fd/$WFD"
	for i in $(seq 100); do
		grep -q '^read ' "$T_TMP/target.out" && break
		sleep 0.05
	done
	ok 'grep -q "^read 1 y errno 0$" "$T_TMP/target.out"' \
		"its blocked read() still returns the right byte"
	stop
else
	skip "the root-only hardening recipe" "needs CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_SYS_PTRACE"
fi

# A process in a pid namespace of its own: its thread ids there are not
# ours, so the stub asks the kernel for them before its stop
# (ptrace-steps.c); sent to ours, its stop would fail (SIGILL).
if has_cap 21 && command -v unshare >/dev/null &&
	unshare -p -f true 2>/dev/null; then
	TALK=5
	rm -f "$T_TMP/cmd" "$T_TMP/target.out"
	mkfifo -m 600 "$T_TMP/cmd"
	unshare -p -f --kill-child "$TARGET" 4 <"$T_TMP/cmd" \
		>>"$T_TMP/target.out" &
	UPID=$!
	PIDS+=("$UPID")
	exec 7>"$T_TMP/cmd"
	for i in $(seq 200); do
		grep -q '^ready' "$T_TMP/target.out" 2>/dev/null && break
		sleep 0.05
	done
	TPID=$(awk '{ print $1 }' "/proc/$UPID/task/$UPID/children")
	n=$(ls "/proc/$TPID/task" | wc -l)
	ok 'grep -q "^NSpid:.*[[:space:]]1$" "/proc/$TPID/status"' \
		"the fixture is pid 1 of its own pid namespace"
	at -p "$TPID" --via=ptrace -v prctl KEEP_CAPS 1
	rc_is 0 "--via=ptrace prctl KEEP_CAPS 1 on a process in another pid namespace"
	ok '[ "$(printf "%s\n" "$out" | grep -Ec " 0 -> 1$")" = "$n" ]' \
		"every thread ($n) read back 0 -> 1"
	ok no_tracer_left "every thread released (TracerPid 0)"
	report
	ok '[ "$(printf "%s\n" "$view" | grep -c "keepcaps 1")" = "$TALK" ]' \
		"the target's own view: KEEP_CAPS 1 on every thread"
	echo q >&7
	exec 7>&-
	kill "$UPID" 2>/dev/null
	wait "$UPID" 2>/dev/null
else
	for _ in 1 2 3 4 5; do
		skip "a process in another pid namespace" "needs CAP_SYS_ADMIN and unshare -p"
	done
fi
done_testing
