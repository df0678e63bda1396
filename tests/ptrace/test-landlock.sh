#!/bin/bash
# test-landlock.sh - `allthreads -p PID landlock` by the ptrace route, on a
# multi-threaded process started WITHOUT the helper: the ruleset is built
# in the target by injected calls, every thread restricts itself, and each
# thread, asked from inside the target, then reads the allowed file and
# gets EACCES on the other; no descriptor is left behind there.  A rule
# whose path the target lacks, and a target another tracer holds, are
# refused with the process unchanged; a ruleset that denies reading
# directories everywhere (/proc too: the go-landlock#39 trap) still
# reaches every thread; a rule's path is resolved in the target's mount
# namespace; the same without the stub (one injection per call), and on a
# process stopped by job control (which stays stopped).
. "$(dirname "$0")/../cli/tap.sh"

LLT=${AT_LL_TARGET:?AT_LL_TARGET: the landlock fixture}
PT=${AT_PTRACE_TARGET:?AT_PTRACE_TARGET: the ptrace fixture}

if ! has_cap 19; then
	echo "1..0 # SKIP needs CAP_SYS_PTRACE"
	exit 0
fi
at -n landlock
if [ "$rc" != 0 ]; then
	echo "1..0 # SKIP Landlock is not enabled here: $err"
	exit 0
fi

dir=$(mktemp -d)
chmod 755 "$dir"
echo allowed-content >"$dir/allowed"
echo secret >"$dir/denied"
USR=path-beneath:execute,read-file,read-dir:/usr
ALLOW="path-beneath:read-file:$dir/allowed"
LPID= HPID=

# ll_start N [CMD...]: at-ll-target with N threads (under CMD... if given),
# its stdin a FIFO on fd 3; sets LPID, its output in $T_TMP/ll.out.
ll_start() {
	local n=$1 i
	shift
	rm -f "$T_TMP/in" "$T_TMP/ll.out"
	mkfifo "$T_TMP/in"
	"$@" "$LLT" "$n" "$dir/allowed" "$dir/denied" <"$T_TMP/in" \
		>"$T_TMP/ll.out" 2>&1 &
	LPID=$!
	exec 3>"$T_TMP/in"
	for i in $(seq 100); do
		grep -q '^ready' "$T_TMP/ll.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "Bail out! at-ll-target did not start: $(head -c 200 "$T_TMP/ll.out")"
	exit 1
}
# ll_probe: every thread of the target tries both files itself; $view
# gets one line per thread, "TID ALLOWED DENIED".
ll_probe() {
	local want i
	want=$(($(grep -c '^done$' "$T_TMP/ll.out") + 1))
	echo probe >&3
	for i in $(seq 100); do
		[ "$(grep -c '^done$' "$T_TMP/ll.out")" -ge "$want" ] && break
		sleep 0.05
	done
	view=$(awk -v n="$want" '/^done$/ { k++; next } k == n - 1 && /^[0-9]/' \
		"$T_TMP/ll.out")
}
ll_stop() {
	exec 3>&-
	[ -n "$LPID" ] && kill "$LPID" 2>/dev/null
	[ -n "$LPID" ] && wait "$LPID" 2>/dev/null
	LPID=
}
# count RE: how many lines of $view match RE.
count() {
	printf '%s\n' "$view" | grep -c -- "$1"
}
# nnp V: how many threads of $LPID have NoNewPrivs V.
nnp() {
	cat /proc/"$LPID"/task/*/status 2>/dev/null | grep -c "^NoNewPrivs:	$1$"
}
fds() {
	ls /proc/"$LPID"/fd | sort -n | tr '\n' ' '
}
untraced() {
	! grep -h '^TracerPid:' /proc/"$LPID"/task/*/status | grep -vq '	0$'
}
cleanup() {
	ll_stop
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	rm -rf "$dir" "$T_TMP"
}
trap cleanup EXIT

# --- every thread, checked from inside the target ----------------------------
ll_start 4
ll_probe
ok '[ "$(count "^[0-9]* ok ok$")" = 5 ]' \
	"before: each of the 5 threads reads both files"
before=$(fds)
at -v -p "$LPID" landlock --landlock-rule "$USR" --landlock-rule "$ALLOW"
rc_is 0 "landlock -p on a process without the helper (the ptrace route)"
ok '[ "$(printf "%s\n" "$out" |
	grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 5 ]' \
	"landlock -p -v: each of the 5 threads proved its domain"
ll_probe
ok '[ "$(count "^[0-9]* ok EACCES$")" = 5 ]' \
	"after: each of the 5 threads reads the allowed file, EACCES on the other"
ok '[ "$(nnp 1)" = 5 ]' "/proc: NoNewPrivs 1 on every thread"
ok '[ "$(fds)" = "$before" ]' \
	"no descriptor left in the target (ruleset, rules, proofs closed): $(fds)"
ok untraced "every thread released (TracerPid 0)"
at -J -p "$LPID" --via=ptrace landlock --landlock-rule "$USR"
rc_is 0 "landlock -J --via=ptrace: a second domain"
schema_ok "landlock -p -J by ptrace follows the schema"
jq_ok ".target.pid == $LPID and (.threads | length) == 5 and
	all(.threads[]; .results == [0, 0, -13] and .state == \"ok\")" \
	"landlock -p -J: each of the 5 threads 0, 0, -EACCES"
ll_probe
ok '[ "$(count "^[0-9]* EACCES EACCES$")" = 5 ]' \
	"the domains stack: now each thread is denied the allowed file too"
ok '[ "$(fds)" = "$before" ]' "still no descriptor left in the target"
ll_stop

# --- the same by one injection per call (no stub) ------------------------------
ll_start 3
before=$(fds)
run env ALLTHREADS_PTRACE_STUB=0 "$AT" -v -p "$LPID" landlock \
	--landlock-rule "$USR" --landlock-rule "$ALLOW"
rc_is 0 "landlock -p with ALLTHREADS_PTRACE_STUB=0 (each call injected)"
ok '[ "$(printf "%s\n" "$out" |
	grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 4 ]' \
	"without the stub: each of the 4 threads proved its domain"
ll_probe
ok '[ "$(count "^[0-9]* ok EACCES$")" = 4 ]' \
	"without the stub: each thread reads the allowed file, EACCES on the other"
ok '[ "$(fds)" = "$before" ]' "without the stub: no descriptor left"
ll_stop

# --- stopped by job control: stays stopped, restricted once resumed -----------
ll_start 2
kill -STOP "$LPID"
for i in $(seq 100); do
	grep -q '^State:.*T (stopped)' "/proc/$LPID/status" && break
	sleep 0.05
done
at -p "$LPID" landlock --landlock-rule "$USR" --landlock-rule "$ALLOW"
rc_is 0 "landlock -p on a SIGSTOPped process"
ok 'grep -q "^State:.*T (stopped)" "/proc/$LPID/status"' \
	"it is still stopped afterwards"
kill -CONT "$LPID"
ll_probe
ok '[ "$(count "^[0-9]* ok EACCES$")" = 3 ]' \
	"after SIGCONT: each of the 3 threads is in the domain"
ll_stop

# --- a rule's path the target lacks: refused, nothing changed -----------------
ll_start 3
before=$(fds)
at -p "$LPID" landlock --landlock-rule "$USR" \
	--landlock-rule "path-beneath:read-file:$dir/nonexistent"
rc_is 1 "landlock -p: the second rule's path is missing in the target"
err_like "nonexistent: No such file or directory \(in the target\); nothing changed" \
	"landlock -p: names the path"
ll_probe
ok '[ "$(count "^[0-9]* ok ok$")" = 4 ]' \
	"afterwards each of the 4 threads still reads both files"
ok '[ "$(nnp 0)" = 4 ]' "/proc: NoNewPrivs still 0 on every thread"
ok '[ "$(fds)" = "$before" ]' \
	"the ruleset and the first rule's descriptor were closed again"
ok untraced "every thread released"

# --- another tracer holds a thread: refused, nothing changed ------------------
victim=$(ls "/proc/$LPID/task" | sort -n | tail -1)
mkfifo -m 600 "$T_TMP/hold"
"$PT" hold "$victim" <"$T_TMP/hold" >"$T_TMP/hold.out" &
HPID=$!
exec 8>"$T_TMP/hold"
for i in $(seq 100); do
	grep -q holding "$T_TMP/hold.out" && break
	sleep 0.05
done
at -p "$LPID" landlock --landlock-rule "$USR" --landlock-rule "$ALLOW"
rc_is 3 "landlock -p on a process another tracer holds: refused"
err_like "thread $victim is already being traced by pid $HPID" \
	"the reason names the thread and the tracer"
exec 8>&-
wait "$HPID" 2>/dev/null
HPID=
ll_probe
ok '[ "$(count "^[0-9]* ok ok$")" = 4 ]' \
	"the refused run changed nothing: every thread reads both files"
ok '[ "$(nnp 0)" = 4 ]' "/proc: NoNewPrivs 0 on every thread"
ll_stop

# --- go-landlock#39: directory reads denied everywhere, /proc included --------
ll_start 16
at -v -p "$LPID" landlock --landlock-access fs:read-dir
rc_is 0 "landlock -p --landlock-access fs:read-dir (no rule: no directory readable)"
ok '[ "$(printf "%s\n" "$out" |
	grep -c "^[0-9]* restricted (reading / denied: EACCES)$")" = 17 ]' \
	"each of the 17 threads was reached and proved its domain"
err_like '^$' "and no thread was missed (no note, no error)"
ll_probe
ok '[ "$(count "^[0-9]* ok ok$")" = 17 ]' \
	"files stay readable on every thread (read-file not handled)"
ok '[ "$(nnp 1)" = 17 ]' "/proc: NoNewPrivs 1 on all 17 threads"
ll_stop

# --- the rule's path in the target's mount namespace ---------------------------
if has_cap 21 && command -v unshare >/dev/null; then
	mnt=$(mktemp -d)
	rm -f "$T_TMP/in" "$T_TMP/ll.out"
	mkfifo "$T_TMP/in"
	unshare -m --propagation private sh -c \
		'mount -t tmpfs none "$1" && echo inner >"$1/inner" &&
		exec "$2" 2 "$1/inner" /etc/passwd' sh "$mnt" "$LLT" \
		<"$T_TMP/in" >"$T_TMP/ll.out" 2>&1 &
	LPID=$!
	exec 3>"$T_TMP/in"
	for i in $(seq 100); do
		grep -q '^ready' "$T_TMP/ll.out" 2>/dev/null && break
		sleep 0.05
	done
	ok '[ ! -e "$mnt/inner" ] && grep -q "^ready" "$T_TMP/ll.out"' \
		"mount namespace: the target's $mnt/inner does not exist here"
	at -p "$LPID" landlock --landlock-rule "$USR" \
		--landlock-rule "path-beneath:read-file,read-dir:$mnt"
	rc_is 0 "landlock -p: a rule on a path of the target's namespace"
	ll_probe
	ok '[ "$(count "^[0-9]* ok EACCES$")" = 3 ]' \
		"each of its 3 threads reads its own $mnt/inner, not /etc/passwd"
	ll_stop
	rmdir "$mnt"
else
	skip "landlock -p in another mount namespace" "needs CAP_SYS_ADMIN"
fi

done_testing
