#!/bin/bash
# test-matrix-seccomp-late.sh - a seccomp filter that arrives after the
# route's look (issue 16, item 6).  Without CAP_SYS_ADMIN the route refuses
# a target with filters, having looked before the freeze; a thread that
# installs a filter on prctl(2) after that look and before its own stop
# (matrix-target --seccomp-race: it watches the main thread's TracerPid)
# would be killed by the injected call, with the whole process
# (KILL_PROCESS) or alone (KILL_THREAD).  The route must look again once
# every thread is stopped and refuse with nothing changed; the run must
# never exit 0 ("agree") while the target lost a thread (and where it
# did lose one, the run exits 2 naming the thread).  The race is
# tried until it is hit, a bounded number of times.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 21 || ! command -v setpriv >/dev/null; then
	skip "a late seccomp filter" "needs CAP_SYS_ADMIN to drop, and setpriv"
	done_testing
	exit 0
fi

ATTEMPTS=${AT_LATE_ATTEMPTS:-40}
for kind in process thread; do
	hit=0 bad=0 tries=0 seen=
	for ((a = 1; a <= ATTEMPTS && hit == 0; a++)); do
		tries=$a
		start_target --idle 300 --seccomp-race "$kind" --timeout 60
		before=$(task_count)
		run setpriv --bounding-set=-sys_admin --inh-caps=-all -- \
			"$AT" -J -p "$TPID" --via=ptrace prctl KEEP_CAPS 1
		sleep 0.1
		after=$(task_count)
		lost=no
		{ ! alive || [ "$after" -lt "$before" ]; } && lost=yes
		if [ "$lost" = yes ]; then
			# the filter reached an injected call
			hit=1
			seen="exit $rc, tasks $before -> $after: ${err:0:160}"
			# a failure of the run, with the reason: exit 2 (the
			# canary had changed), never 0 or "agree"
			if [ "$rc" != 2 ] ||
				printf '%s' "$out" | grep -q '"verdict": *"agree"' ||
				! printf '%s' "$err" | grep -q 'died in an injected call'; then
				bad=1
			fi
		elif [ "$rc" = 3 ] && printf '%s' "$err" | grep -q 'seccomp filter'; then
			# refused at the second look
			hit=1
			seen="refused: ${err:0:160}"
			tcmd release '^released '
			released_ok 301 0 || {
				bad=1
				seen="$seen; but the target's threads say: $reply"
			}
		fi
		stop_target
	done
	if [ "$hit" = 0 ]; then
		# a machine too loaded for the watcher to run in the window
		skip "KILL_${kind^^}: the late filter" "the race was not hit in $tries attempts"
		continue
	fi
	ok '[ "$bad" = 0 ]' "KILL_${kind^^}: hit in $tries attempt(s); not exit 0/agree with a thread lost; refused with nothing changed ($seen)"
done
done_testing
