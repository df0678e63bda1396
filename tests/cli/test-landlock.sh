#!/bin/bash
# test-landlock.sh - `allthreads landlock`: one Landlock domain on every
# thread (each thread proves it: reading / fails with EACCES there), then
# PROGRAM, which runs inside it; another process through its helper, the
# ruleset built there (in its mount namespace), each of its threads
# checking its own access; setpriv's option names; clear errors for
# unknown or too new access rights and bad rules.
. "$(dirname "$0")/tap.sh"

at -n landlock
if [ "$rc" != 0 ]; then
	echo "1..0 # SKIP Landlock is not enabled here: $err"
	exit 0
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir" "$T_TMP"' EXIT
chmod 755 "$dir"
echo allowed-content >"$dir/allowed"
echo secret >"$dir/denied"
mkdir "$dir/sub"
echo inner >"$dir/sub/file"
USR=path-beneath:execute,read-file,read-dir:/usr

at_threads 4 -v landlock --landlock-access fs \
	--landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file:$dir/allowed" \
	-- /usr/bin/cat "$dir/allowed"
rc_is 0 "landlock on 5 threads, then cat of the allowed file"
ok '[ "$(printf "%s\n" "$out" |
	grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 5 ]' \
	"landlock -v: each of the 5 threads proved its domain (EACCES)"
out_like '^allowed-content$' "landlock: PROGRAM ran and read the allowed file"

at_threads 2 landlock --landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file:$dir/allowed" \
	-- /usr/bin/cat "$dir/denied"
rc_is 1 "landlock: PROGRAM reading outside the rules fails (cat's exit)"
err_like "cat: .*/denied: Permission denied" "landlock: EACCES in PROGRAM"
at landlock --landlock-rule "$USR" -- /usr/bin/cat /proc/self/status
rc_is 1 "landlock: /proc is outside the rules too"
at landlock --landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file,read-dir:$dir/sub" \
	-- /usr/bin/cat "$dir/sub/file"
rc_is 0 "landlock: a rule on a directory covers what is beneath it"
out_like '^inner$' "landlock: read beneath the rule's directory"
at landlock --landlock-access fs:write-file --landlock-rule "$USR" \
	-- /usr/bin/cat "$dir/denied"
rc_is 64 "landlock: a rule's right must be handled"
at landlock --landlock-access fs:write-file \
	-- /usr/bin/cat "$dir/denied"
rc_is 0 "landlock --landlock-access fs:write-file: reading stays allowed"
out_like '^secret$' "landlock: rights not handled are not denied"
err_like "note: landlock: the ruleset does not deny reading /" \
	"landlock: says when it cannot prove the domain by a read"
ln -s / "$dir/rootlink"
at_threads 2 landlock --landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file,read-dir:$dir/rootlink" \
	-- /usr/bin/cat "$dir/denied"
rc_is 0 "landlock: read-dir on a symlink to / is no false THREADS NOW DIFFER"
err_like "note: landlock: the ruleset does not deny reading /" \
	"landlock: a rule on a symlink to / is a rule on /, and it says so"
at -v landlock --landlock-access fs:write-file -- /bin/sh -c \
	'echo x >"$0/new" 2>/dev/null; echo "rc=$?"' "$dir"
out_like '^rc=[1-9]' "landlock fs:write-file: creating a file is denied"

# JSON: the schema; each thread's results: 0, 0, -EACCES.
at_threads 3 -J landlock --landlock-rule "$USR"
rc_is 0 "landlock -J"
schema_ok "landlock -J follows the schema"
jq_ok '(.threads | length) == 4 and
	all(.threads[]; .results == [0, 0, -13] and .state == "ok") and
	.verdict == "agree" and .action == "change"' \
	"landlock -J: every thread: NNP 0, restrict 0, reading / -EACCES"

# Bad input: a clear message, nothing changed.
at landlock --landlock-access fs:read-file,frob -- /usr/bin/true
rc_is 64 "landlock: unknown access right"
err_like "frob: unknown access right \(known: execute, " "landlock: lists the known ones"
at landlock --landlock-rule "path-beneath:read-file" -- /usr/bin/true
rc_is 64 "landlock: a rule without PATH"
at landlock --landlock-rule "beneath:read-file:/usr" -- /usr/bin/true
rc_is 64 "landlock: a rule that is not path-beneath"
at landlock --landlock-rule "path-beneath:read-file:$dir/nonexistent" \
	-- /usr/bin/true
rc_is 1 "landlock: a rule's path that does not exist"
err_like "nonexistent: No such file or directory; nothing changed" \
	"landlock: names the path"
at landlock --landlock-rule "path-beneath:read-dir:$dir/allowed" \
	-- /usr/bin/true
rc_is 64 "landlock: read-dir on a file"
err_like "not a directory, and read-dir apply to directories only" \
	"landlock: says which rights need a directory"
# An older kernel's Landlock ABI: the test's preload library lowers the
# version landlock_create_ruleset() reports (tests/cli/ll-abi-shim.c).
abi_at() { # ABI ARGS...: `at ARGS` with the kernel's ABI reported as ABI
	local abi=$1
	shift
	LD_PRELOAD="$AT_LL_ABI_SHIM" AT_TEST_LL_ABI=$abi at "$@"
}
abi_at 2 landlock --landlock-access fs:truncate -- /usr/bin/true
rc_is 1 "landlock: a right newer than the kernel's ABI"
err_like "access right truncate needs Landlock ABI 3, the kernel has 2" \
	"landlock: names the right, its ABI and the kernel's"
abi_at 4 landlock --landlock-rule "path-beneath:ioctl-dev:/dev" \
	-- /usr/bin/true
err_like "access right ioctl-dev needs Landlock ABI 5, the kernel has 4" \
	"landlock: the same for a rule's right"
at landlock --test-abi=2 -- /usr/bin/true
rc_is 64 "landlock: no hidden --test-abi in the product (the preload does it)"
abi_at 2 -n landlock
err_like "^allthreads: note: ruleset \(Landlock ABI 2\): handles .*,refer$" \
	"landlock -n under ABI 2: handles exactly ABI 2's rights (up to refer)"
# TSYNC (ABI 8) on allthreads itself: one call puts every thread in the
# domain before the visit, whose second step then holds its place.
abi_at 8 -n landlock --landlock-rule "$USR"
out_like "^  2\. sched_yield\(\) \(in the domain by TSYNC\)" \
	"landlock -n under ABI 8: the domain by TSYNC, before the visit"
err_like "note: the calling thread puts every thread in the domain first" \
	"landlock -n under ABI 8: says how the domain comes"
at -n landlock
kabi=$(printf '%s\n' "$err" |
	sed -n 's/^allthreads: note: ruleset (Landlock ABI \([0-9]*\)).*/\1/p')
# A ruleset of ABI 8 handles the file rights up to ABI 5's (ioctl-dev): an
# older kernel refuses it at landlock_create_ruleset, before TSYNC.
if [ "${kabi:-0}" -lt 5 ]; then
	skip "landlock under ABI 8 on a kernel without TSYNC" \
		"this kernel's Landlock ABI ${kabi:-0} lacks ABI 5's rights"
elif [ "$kabi" -lt 8 ]; then
	abi_at 8 landlock --landlock-rule "$USR" -- /usr/bin/true
	rc_is 1 "landlock under ABI 8: TSYNC chosen, refused by this kernel"
	err_like "landlock_restrict_self\(TSYNC\): Invalid argument; no thread has the domain" \
		"landlock under ABI 8: the one TSYNC call, named"
else
	skip "landlock under ABI 8 on a kernel without TSYNC" "this kernel has TSYNC"
fi
# Another process, through its helper: each of its threads checks its own
# access before and after (at-ll-target prints one line per thread).
LPID=
ll_start() { # OUT ARGS...: start at-ll-target under the helper, stdin a fifo
	local out=$1
	shift
	rm -f "$T_TMP/in"
	mkfifo "$T_TMP/in"
	"$@" <"$T_TMP/in" >"$out" 2>&1 &
	LPID=$!
	exec 3>"$T_TMP/in"
	ready_in "$out"
}
ll_done() { # OUT N: OUT has N "done" lines
	[ "$(grep -c '^done$' "$1")" -ge "$2" ]
}
ll_probe() { # OUT N: ask for the Nth probe; $out gets its lines
	echo probe >&3
	wait_until 5 ll_done "$1" "$2"
	out=$(awk -v n="$2" '/^done$/ { k++; next } k == n - 1 && /^[0-9]/' "$1")
}
ll_stop() {
	exec 3>&-
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	[ -n "$LPID" ] && wait "$LPID" 2>/dev/null
	LPID=
}
trap 'll_stop; rm -rf "$dir" "$T_TMP"' EXIT

if [ -n "${AT_HELPER:-}" ] && [ -n "${AT_LL_TARGET:-}" ]; then
	ll_start "$T_TMP/ll.out" env ALLTHREADS_HELPER="$AT_HELPER" "$AT" run \
		-- "$AT_LL_TARGET" 4 "$dir/allowed" "$dir/denied"
	ok '[ $? = 0 ]' "-p: the target started under the helper"
	ll_probe "$T_TMP/ll.out" 1
	ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok ok$")" = 5 ]' \
		"-p: before: each of the 5 threads reads both files"
	at -v -p "$LPID" landlock --landlock-rule "$USR" \
		--landlock-rule "path-beneath:read-file:$dir/allowed"
	rc_is 0 "landlock -p PID: through the target's helper"
	ok '[ "$(printf "%s\n" "$out" |
		grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 6 ]' \
		"landlock -p -v: 6 threads (the helper's too) proved the domain"
	ll_probe "$T_TMP/ll.out" 2
	ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok EACCES$")" = 5 ]' \
		"-p: after: each of the 5 threads may read the allowed file and gets EACCES on the other"
	at -p "$LPID" check -e NoNewPrivs=1
	rc_is 0 "landlock -p: every thread of the target has NO_NEW_PRIVS"
	at -J -p "$LPID" landlock --landlock-rule "$USR"
	schema_ok "landlock -p -J follows the schema"
	jq_ok ".target.pid == $LPID and .target.self == false and
		all(.threads[]; .results == [0, 0, -13])" \
		"landlock -p -J: the target's threads, each 0, 0, -EACCES"
	if has_cap 19; then
		at -J --via=ptrace -p "$LPID" landlock --landlock-rule "$USR"
		rc_is 0 "landlock --via=ptrace on a process with a helper"
		jq_ok '(.threads | length) == 6 and
			all(.threads[]; .results == [0, 0, -13])' \
			"landlock --via=ptrace: the 6 threads (the helper's too), each 0, 0, -EACCES"
	else
		skip "landlock --via=ptrace on a process with a helper" \
			"needs CAP_SYS_PTRACE"
	fi
	at -p "$LPID" landlock --landlock-rule "path-beneath:read-file:usr"
	rc_is 64 "landlock -p: a relative rule path is refused"
	err_like "usr: with -p the PATH must be absolute" \
		"landlock -p: says the rule path must be absolute"
	at -p "$LPID" landlock --landlock-rule "$USR" \
		--landlock-rule "path-beneath:read-file,read-dir:$dir/rootlink"
	rc_is 0 "landlock -p: read-dir on a symlink to / is no false THREADS NOW DIFFER"
	err_like "note: landlock: the ruleset does not deny reading /" \
		"landlock -p: a symlink to / allows reading /, and it says so"
	at -p "$LPID" landlock --landlock-rule "path-beneath:read-file:$dir/nonexistent"
	rc_is 1 "landlock -p: a path missing in the target"
	err_like "nonexistent: No such file or directory \(in the target\); nothing changed" \
		"landlock -p: the helper names the path"
	ll_stop
	# A kernel with TSYNC (Landlock ABI 8), as the helper sees it: it
	# restricts itself once with LANDLOCK_RESTRICT_SELF_TSYNC instead of
	# broadcasting the domain; this kernel ($kabi) refuses that flag,
	# which shows the choice without pretending TSYNC ran.
	if [ "${kabi:-0}" -lt 8 ]; then
		ll_start "$T_TMP/ts.out" env ALLTHREADS_HELPER="$AT_HELPER" \
			LD_PRELOAD="$AT_LL_ABI_SHIM" AT_TEST_LL_ABI=8 "$AT" run \
			-- "$AT_LL_TARGET" 2 "$dir/allowed" "$dir/denied"
		at -p "$LPID" landlock --landlock-rule "$USR"
		rc_is 1 "landlock -p, the helper seeing ABI 8: TSYNC chosen, refused by this kernel"
		err_like "landlock_restrict_self\(TSYNC\): Invalid argument; no thread has the domain" \
			"landlock -p under ABI 8: the helper's one TSYNC call, named"
		ll_probe "$T_TMP/ts.out" 1
		ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok ok$")" = 3 ]' \
			"landlock -p under ABI 8: no thread of the target is in a domain"
		ok '[ "$(cat /proc/$LPID/task/*/status | grep -c "^NoNewPrivs:	1")" = 1 ]' \
			"landlock -p under ABI 8: only the helper's own thread has NO_NEW_PRIVS"
		ll_stop
	else
		skip "landlock -p, the helper seeing ABI 8" "this kernel has TSYNC"
	fi
else
	skip "landlock -p PID" "no helper in this build"
fi

# A process without a helper: --via=helper says how to start one (exit 3)
# and leaves it as it was; the default route is then ptrace
# (tests/ptrace/test-landlock.sh checks that route thread by thread).
# start_sleep: a sleep 60 in $SPID, once it has executed sleep (until
# then it is still a copy of this shell).
sleep_execed() {
	[ "$(readlink "/proc/$SPID/exe")" = /usr/bin/sleep ]
}
start_sleep() {
	/usr/bin/sleep 60 &
	SPID=$!
	wait_until 5 sleep_execed
}
start_sleep
LPID=$SPID
at --via=helper -p "$LPID" landlock --landlock-rule "$USR"
rc_is 3 "landlock --via=helper on a process without a helper"
err_like "no allthreads helper in this process \(start it with .allthreads run.\)" \
	"landlock --via=helper: says how to start one, as every command does"
ok 'grep -q "^NoNewPrivs:	0" /proc/$LPID/status' \
	"landlock --via=helper without a helper: the process is untouched"
if has_cap 19; then
	at -v -p "$LPID" landlock --landlock-rule "$USR"
	rc_is 0 "landlock -p on a process without a helper: by ptrace"
	out_like "^$LPID restricted \(reading / denied: EACCES\)$" \
		"landlock -p by ptrace: its thread proved the domain"
	ok 'grep -q "^NoNewPrivs:	1" /proc/$LPID/status' \
		"landlock -p by ptrace: NoNewPrivs 1"
else
	skip "landlock -p on a process without a helper: by ptrace" \
		"needs CAP_SYS_PTRACE"
fi
ll_stop

# The rule's paths are resolved in the target's mount namespace: a
# directory that holds a file only there.
if [ -n "${AT_HELPER:-}" ] && has_cap 21 && command -v unshare >/dev/null; then
	mnt=$(mktemp -d)
	ll_start "$T_TMP/ns.out" unshare -m --propagation private sh -c \
		'mount -t tmpfs none "$1" && echo inner >"$1/inner" &&
		exec env ALLTHREADS_HELPER="$2" "$3" run -- "$4" 2 "$1/inner" \
			/etc/passwd' sh "$mnt" "$AT_HELPER" "$AT" "$AT_LL_TARGET"
	ok '[ $? = 0 ] && [ ! -e "$mnt/inner" ]' \
		"mount namespace: the target's $mnt/inner does not exist here"
	at -p "$LPID" landlock --landlock-rule "$USR" \
		--landlock-rule "path-beneath:read-file,read-dir:$mnt"
	rc_is 0 "landlock -p: a rule on a path of the target's namespace"
	ll_probe "$T_TMP/ns.out" 1
	ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok EACCES$")" = 3 ]' \
		"mount namespace: each of its 3 threads reads its own $mnt/inner, not /etc/passwd"
	ll_stop
	rmdir "$mnt"
else
	skip "landlock -p in another mount namespace" "needs the helper and CAP_SYS_ADMIN"
fi
# Kernels without Landlock, simulated with a seccomp filter that fails
# landlock_create_ruleset() as such a kernel does.
at seccomp --deny=landlock_create_ruleset --errno=ENOSYS -- \
	"$AT" landlock --landlock-rule "$USR" -- /usr/bin/true
rc_is 1 "landlock on a kernel without Landlock (ENOSYS)"
err_like "this kernel has no Landlock \(Function not implemented\); nothing changed" \
	"landlock: ENOSYS: says so"
at seccomp --deny=landlock_create_ruleset --errno=EOPNOTSUPP -- \
	"$AT" landlock --landlock-rule "$USR" -- /usr/bin/true
rc_is 1 "landlock with Landlock disabled (EOPNOTSUPP)"
err_like "Landlock is built into this kernel but not enabled \(add landlock to the lsm= boot parameter\)" \
	"landlock: EOPNOTSUPP: says how to enable it"
at -t $$ landlock --landlock-rule "$USR"
rc_is 64 "landlock -t: refused"
at landlock --landlock-rule "$USR" -- /nonexistent/program
rc_is 127 "landlock: PROGRAM not found"
at -n landlock --landlock-rule "$USR" -- /usr/bin/true
rc_is 0 "landlock -n"
out_like "landlock_restrict_self\(ruleset, 0\)" "landlock -n: the steps"
ok 'grep -q "^NoNewPrivs:	0" /proc/$$/status' "the test's shell is untouched"

# The final sweep: every thread the task directory lists after the run
# (opened before the change: the domain denies /proc) is judged, however
# many there are.  The shim hides the last thread the report holds; it is
# the last one /proc lists too, past the 4096th with 4200 threads (an old
# sweep stopped at 4096, silently).  As for every command, a thread the
# engine's run (which holds every thread until a sweep finds no new one)
# did not report was born of a thread already changed: it is listed with
# -v, judged by that hold ("ok"), not by a result it never had.
hidden_run() {
	run env "AT_TEST_THREADS=$1" AT_TEST_HIDE_LAST=1 \
		"LD_PRELOAD=$(public "$AT_TEST_THREADS_SO") $AT_HIDE_THREAD_SHIM" \
		"$AT" --timeout=120000 -v landlock --landlock-rule "$USR"
}
hidden_run 2
rc_is 0 "landlock: a thread missing from the report (3 threads)"
ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok$")" = 1 ] &&
	[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* restricted")" = 2 ]' \
	"landlock: the final sweep lists the thread missing from the report"
hidden_run 4200
rc_is 0 "landlock: a thread missing from the report among 4201"
ok '[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* ok$")" = 1 ] &&
	[ "$(printf "%s\n" "$out" | grep -c "^[0-9]* restricted")" = 4200 ]' \
	"landlock: the final sweep finds it past the 4096th thread"
run env AT_TEST_THREADS=4200 "LD_PRELOAD=$(public "$AT_TEST_THREADS_SO")" \
	"$AT" --timeout=120000 landlock --landlock-rule "$USR"
rc_is 0 "landlock: 4201 threads, every one in the domain"

# The common executor: landlock's -n, -J and verdict are every change's.
at -n -J landlock --landlock-rule "$USR"
rc_is 0 "landlock -n -J"
schema_ok "landlock -n -J: the plan as JSON, the schema every command's"
jq_ok '.dry_run == true and .verdict == null and
	([.steps[].role] == ["change", "change", "check"]) and
	.steps[1].call == "landlock_restrict_self(ruleset, 0)" and
	any(.notes[]; startswith("ruleset (Landlock ABI "))' \
	"landlock -n -J: its three steps and its ruleset"
at -J prctl KEEPCAPS 1
prctl_keys=$(printf '%s\n' "$out" | jq -c '[keys, (.threads[0] | keys)]')
at -J landlock --landlock-rule "$USR"
ok '[ "$(printf "%s\n" "$out" | jq -c "[keys, (.threads[0] | keys)]")" = "$prctl_keys" ]' \
	"landlock -J: the same fields as prctl's, object and threads"
at -n landlock --landlock-rule "$USR"
out_like "^dry run: nothing changes.  On every thread of allthreads itself \(pid [0-9]+\), in one visit:$" \
	"landlock -n: the per-thread plan every change prints"
out_like "^  3\. openat\(AT_FDCWD, \"/\", O_RDONLY\|O_DIRECTORY\) +check +judge any, expect -13$" \
	"landlock -n: the proof, a check step"
# A kernel thread cannot be changed: -n predicts exit 3 as for any change.
at -n -p 2 landlock --landlock-rule "$USR"
rc_is 3 "landlock -n -p KTHREAD: predicted unreachable, as every change"
# A group: predicted on every process first; one that cannot be reached
# refuses the change everywhere (exit 1), the others left as they were.
if has_cap 19; then
	start_sleep
	GPID=$SPID
	at -p "$GPID" -p 2 landlock --landlock-rule "$USR"
	rc_is 1 "landlock on a group with a kernel thread: refused everywhere"
	err_like "landlock: refused, nothing changed in any process: 1 of 2 predicted to fail" \
		"landlock on a group: the group's prediction"
	ok 'grep -q "^NoNewPrivs:	0" /proc/$GPID/status' \
		"landlock on a group, refused: the reachable process is untouched"
	at -J -p "$GPID" -p 2 --force landlock --landlock-rule "$USR"
	rc_is 2 "landlock on a group, --force: one changed, one not: exit 2"
	jq_ok ".verdict == \"partial\" and (.processes | length) == 2 and
		(.processes[] | select(.pid == $GPID) |
			.outcome == \"changed\" and .report.command == \"landlock\" and
			all(.report.threads[]; .results == [0, 0, -13]))" \
		"landlock on a group -J: the group verdict, each process's report"
	kill "$GPID" 2>/dev/null
	wait "$GPID" 2>/dev/null
else
	skip "landlock on a group" "needs CAP_SYS_PTRACE"
fi

done_testing
