#!/bin/bash
# test-remote.sh - -p PID: reads straight from /proc for any process;
# changes through the allthreads helper in the target (exit 3 with a
# one-line reason when there is none); never a false success.
. "$(dirname "$0")/tap.sh"

fixture 4
at -p "$FPID" prctl NO_NEW_PRIVS
rc_is 0 "-p read from /proc: NO_NEW_PRIVS"
ok '[ "$(printf "%s\n" "$out" | grep -c " 1$")" = 1 ]' \
	"-p read: one thread has NO_NEW_PRIVS (they differ)"
at -p "$FPID" prctl NAME
out_like ' odd-one$' "-p read: thread names"
at -p "$FPID" prctl CAPBSET_READ net_bind_service
rc_is 0 "-p read: CAPBSET_READ from CapBnd"
at -p "$FPID" -J prctl CAPBSET
schema_ok "-p read -J: the schema"
at -p "$FPID" --via=helper prctl KEEP_CAPS
rc_is 3 "--via=helper: a read /proc does not show needs the helper"
err_like "^allthreads: $FPID: no allthreads helper in this process \(start it with \`allthreads run\`\)$" \
	"no helper: the one-line reason"
at -p "$FPID" --via=helper prctl KEEP_CAPS 1
rc_is 3 "--via=helper: a change without a helper: exit 3"
at -p "$FPID" --via=helper set --nnp
rc_is 3 "--via=helper: set without a helper: exit 3"
at -p "$FPID" --via=helper setuid 0
rc_is 3 "--via=helper: setuid without a helper: exit 3"
at -p "$FPID" check -e NoNewPrivs=0
rc_is 1 "nothing changed: one thread still has NoNewPrivs 1 only"
at -p "$FPID" -n set --nnp --keep-caps
rc_is 0 "-p --dry-run needs no helper"
out_like "On every thread of pid $FPID" "-p --dry-run: names the target"
at -p "$FPID" -n --via=helper prctl KEEP_CAPS 1
err_like "route: none: no helper" "--dry-run --via=helper: says there is no route"
stop_fixture

pid=$(sh -c 'echo $$')
at -p "$pid" prctl KEEP_CAPS 1
rc_is 3 "-p of a process that is gone"
err_like "^allthreads: $pid: no such process$" "no such process"
at -p "$pid" set --nnp
rc_is 3 "-p set of a process that is gone"

if [ -n "${AT_HELPER:-}" ] && [ -r "$AT_HELPER" ]; then
	LD_PRELOAD=$AT_HELPER "$AT_FIXTURE" 2 >"$T_TMP/fixture.out" &
	FPID=$!
	if ! ready_in "$T_TMP/fixture.out"; then
		echo "Bail out! the fixture did not start with the helper"
		exit 1
	fi
	at -p "$FPID" -v prctl KEEP_CAPS 1
	rc_is 0 "through the helper: KEEP_CAPS 1"
	n=$(ls /proc/$FPID/task | wc -l)
	ok '[ "$n" -ge 3 ] && [ "$(printf "%s\n" "$out" | grep -Ec " [01] -> 1$")" = "$n" ]' \
		"through the helper: every thread ($n), old -> new"
	at -p "$FPID" prctl KEEP_CAPS
	ok '[ "$out" = "all 1" ]' "through the helper: read KEEP_CAPS back"
	at -p "$FPID" --timeout 60001 prctl KEEP_CAPS 0
	rc_is 1 "through the helper: a timeout over its limit fails"
	err_like "over the helper's limit \(60000 ms\); nothing changed$" \
		"through the helper: the limit is named"
	at -p "$FPID" prctl KEEP_CAPS
	ok '[ "$out" = "all 1" ]' "through the helper: the refused timeout changed nothing"
	at -p "$FPID" -J set --nnp --keep-caps=0
	rc_is 0 "through the helper: set --nnp"
	jq_ok '(.threads | length) >= 3 and all(.threads[]; .attrs.NoNewPrivs == 1)' \
		"through the helper: NoNewPrivs on every thread (/proc)"
	schema_ok "through the helper: the schema"
	at -p "$FPID" seccomp --deny=ptrace
	rc_is 0 "through the helper: seccomp"
	at -p "$FPID" check -e NoNewPrivs=1 -e Seccomp=2
	rc_is 0 "check: every thread hardened"
	if command -v setpriv >/dev/null && has_cap 7; then
		run setpriv --reuid=65534 --regid=65534 --clear-groups -- \
			"$(public "$AT")" -p "$FPID" prctl KEEP_CAPS 1
		rc_is 3 "another user may not drive the helper"
	else
		skip "another user may not drive the helper" "no setpriv"
	fi
	stop_fixture

	# The helper's report is believed only where /proc/PID/task agrees
	# (cli/execute.c): the CLI's reading of it (the shim in the CLI)
	# misses the last thread, or names the test's shell as that thread.
	# 250 threads, so that the last is one among many.
	LD_PRELOAD=$AT_HELPER "$AT_FIXTURE" 250 >"$T_TMP/fixture.out" &
	FPID=$!
	ready_in "$T_TMP/fixture.out" 10
	at -p "$FPID" prctl KEEP_CAPS 1
	rc_is 0 "through the helper: 250 threads"
	run env AT_TEST_HIDE_LAST=1 "LD_PRELOAD=$AT_HIDE_THREAD_SHIM" \
		"$AT" -p "$FPID" prctl KEEP_CAPS 1
	rc_is 2 "a report missing a thread of the target: outcome unknown"
	err_like "the report is not believed: tid [0-9]+ is a thread of the target missing from the report" \
		"a report missing a thread: not believed, the thread named"
	run env "AT_TEST_REPORT_TID=$$" "LD_PRELOAD=$AT_HIDE_THREAD_SHIM" \
		"$AT" -p "$FPID" prctl KEEP_CAPS 1
	rc_is 2 "a report naming another process's task: outcome unknown"
	err_like "the report is not believed: tid $$ is not a thread of the target" \
		"a report naming another process's task: not believed"
	stop_fixture
else
	skip "through the helper" "this build has no helper"
fi

# allthreads run: the same process, with the helper preloaded.
at run
rc_is 64 "run without PROGRAM: usage"
at -p 1 run true
rc_is 64 "run takes no target"
at run /nonexistent/program
rc_is 127 "run: PROGRAM not found"
if [ -n "${AT_HELPER:-}" ] && [ -r "$AT_HELPER" ]; then
	ALLTHREADS_HELPER=$AT_HELPER "$AT" run -- "$AT_FIXTURE" 3 \
		>"$T_TMP/run.out" &
	FPID=$!
	ready_in "$T_TMP/run.out"
	ok 'grep -q "^ready" "$T_TMP/run.out"' "run: the fixture started"
	ok 'grep -q allthreads-helper "/proc/$FPID/maps"' \
		"run: the same pid (\$!) has the helper mapped"
	at -p "$FPID" prctl KEEP_CAPS 1
	rc_is 0 "run then -p: KEEP_CAPS 1 on every thread"
	at -p "$FPID" prctl KEEP_CAPS
	ok '[ "$out" = "all 1" ]' "run then -p: read back"
	at -p "$FPID" syscall getppid
	rc_is 1 "run without --allow-raw: a raw syscall is refused"
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
	ALLTHREADS_HELPER=$AT_HELPER "$AT" run --allow-raw "$AT_FIXTURE" 2 \
		>"$T_TMP/run2.out" &
	FPID=$!
	ready_in "$T_TMP/run2.out"
	at -p "$FPID" syscall getppid
	rc_is 0 "run --allow-raw: the raw syscall is served"
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
else
	skip "allthreads run" "this build has no helper"
fi
# A one-way step that fails on one thread only: the threads that made it
# keep it, and are not said to have been undone.  The target is python3
# with the helper preloaded; one of its threads gave up its effective
# capabilities (euid 1000), so it cannot drop from the bounding set.
if [ -n "${AT_HELPER:-}" ] && [ -r "$AT_HELPER" ] &&
	command -v python3 >/dev/null && has_cap 7 && has_cap 8; then
	ALLTHREADS_HELPER=$AT_HELPER "$AT" run python3 -c '
import ctypes, os, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def lesser():
    libc.syscall(117, -1, 1000, -1)  # setresuid: this thread only
    time.sleep(120)
def plain():
    time.sleep(120)
threading.Thread(target=plain, daemon=True).start()
threading.Thread(target=lesser, daemon=True).start()
time.sleep(0.3)
print("ready", os.getpid(), flush=True)
time.sleep(120)
' >"$T_TMP/py.out" &
	FPID=$!
	if ready_in "$T_TMP/py.out"; then
		at -p "$FPID" prctl CAPBSET_DROP net_broadcast
		rc_is 2 "one-way step failing on one thread: partial"
		err_like '^allthreads: tid [0-9]+: PR_CAPBSET_DROP\(cap_net_broadcast\): Operation not permitted$' \
			"partial: the thread that failed is named"
		err_like 'step\(s\) without an undo stay in force here$' \
			"partial: the others keep the one-way step"
		ok '! printf "%s\n" "$err" | grep -q "then undone"' \
			"partial: no thread is said to be undone"
		at -v -p "$FPID" show -o tid,capbnd
		ok '[ "$(printf "%s\n" "$out" | grep -c -- "-cap_net_broadcast")" -ge 3 ]' \
			"partial: /proc agrees, the others dropped it"
	else
		skip "one-way step failing on one thread" "python3 did not start"
	fi
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
else
	skip "one-way step failing on one thread" "needs the helper, python3, root"
fi
done_testing
