#!/bin/bash
# test-landlock.sh - `allthreads landlock`: one Landlock domain on every
# thread (each thread proves it: reading / fails with EACCES there), then
# PROGRAM, which runs inside it; setpriv's option names; clear errors for
# unknown or too new access rights, bad rules, and -p (not built yet).
. "$(dirname "$0")/tap.sh"

at -n landlock
if [ "$rc" != 0 ]; then
	echo "1..0 # SKIP Landlock is not enabled here: $err"
	exit 0
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir" "$T_TMP"' EXIT
echo allowed-content >"$dir/allowed"
echo secret >"$dir/denied"
mkdir "$dir/sub"
echo inner >"$dir/sub/file"
USR=path-beneath:execute,read-file,read-dir:/usr

at -v --test-threads=4 landlock --landlock-access fs \
	--landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file:$dir/allowed" \
	-- /usr/bin/cat "$dir/allowed"
rc_is 0 "landlock on 5 threads, then cat of the allowed file"
ok '[ "$(printf "%s\n" "$out" |
	grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 5 ]' \
	"landlock -v: each of the 5 threads proved its domain (EACCES)"
out_like '^allowed-content$' "landlock: PROGRAM ran and read the allowed file"

at --test-threads=2 landlock --landlock-rule "$USR" \
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
at -v landlock --landlock-access fs:write-file -- /bin/sh -c \
	'echo x >"$0/new" 2>/dev/null; echo "rc=$?"' "$dir"
out_like '^rc=[1-9]' "landlock fs:write-file: creating a file is denied"

# JSON: the schema; each thread's results: 0, 0, -EACCES.
at -J --test-threads=3 landlock --landlock-rule "$USR"
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
at landlock --test-abi=2 --landlock-access fs:truncate -- /usr/bin/true
rc_is 1 "landlock: a right newer than the kernel's ABI"
err_like "access right truncate needs Landlock ABI 3, the kernel has 2" \
	"landlock: names the right, its ABI and the kernel's"
at landlock --test-abi=4 --landlock-rule "path-beneath:ioctl-dev:/dev" \
	-- /usr/bin/true
err_like "access right ioctl-dev needs Landlock ABI 5, the kernel has 4" \
	"landlock: the same for a rule's right"
at -p $$ landlock --landlock-rule "$USR"
rc_is 3 "landlock -p PID: not built yet"
err_like "not built yet: the ruleset must be built inside the target" \
	"landlock -p: says what is missing"
at landlock --landlock-rule "$USR" -- /nonexistent/program
rc_is 127 "landlock: PROGRAM not found"
at -n landlock --landlock-rule "$USR" -- /usr/bin/true
rc_is 0 "landlock -n"
out_like "landlock_restrict_self\(ruleset, 0\)" "landlock -n: the steps"
ok 'grep -q "^NoNewPrivs:	0" /proc/$$/status' "the test's shell is untouched"

done_testing
