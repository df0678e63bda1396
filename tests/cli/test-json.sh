#!/bin/bash
# test-json.sh - -J/--json: one parsable object with stable keys, for
# reads, changes, calls, dry runs and failures.  Parsed with python3's
# json module, and with jq where it is installed.
. "$(dirname "$0")/tap.sh"

# jsq EXPR: evaluate a Python expression over the object in $out as `j`;
# true when it holds.
jsq() {
	printf '%s' "$out" | python3 -c '
import json, os, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}

keys="command target name action process_wide dry_run steps verdict exit value threads program differ notes kept items"

at -J prctl KEEP_CAPS
rc_is 0 "-J read"
ok 'jsq "True"' "-J read: parsable JSON"
ok "jsq \"sorted(j) == sorted('$keys'.split())\"" "-J read: the stable keys"
ok 'jsq "j[\"command\"] == \"prctl\" and j[\"name\"] == \"KEEP_CAPS\""' \
	"-J read: command and name"
ok 'jsq "j[\"action\"] == \"read\" and j[\"verdict\"] == \"agree\""' \
	"-J read: action and verdict"
ok 'jsq "j[\"value\"] == \"0\" and j[\"exit\"] == 0"' "-J read: folded value"
ok "jsq \"j['target']['pid'] > 0 and j['target']['self'] is True\"" \
	"-J read: target"
ok 'jsq "len(j[\"threads\"]) == 1 and j[\"threads\"][0][\"state\"] == \"ok\""' \
	"-J read: one thread, ok"
ok "jsq \"j['threads'][0]['tid'] == j['target']['pid']\"" \
	"-J read: thread 0 is the calling thread"
ok "jsq \"sorted(j['threads'][0]) == ['attrs', 'error', 'old', 'results', 'state', 'tid', 'value', 'worker']\"" \
	"-J read: thread keys"
if command -v jq >/dev/null; then
	ok '[ "$(printf "%s" "$out" | jq -r .verdict)" = agree ]' \
		"-J read: jq parses it"
else
	skip "-J read: jq parses it" "jq is not installed"
fi

at_threads 3 -J prctl KEEP_CAPS 1
rc_is 0 "-J change on 4 threads"
ok 'jsq "j[\"action\"] == \"change\" and j[\"verdict\"] == \"agree\""' \
	"-J change: action and verdict"
ok 'jsq "len(j[\"threads\"]) == 4"' "-J change: four threads"
ok 'jsq "all(t[\"state\"] == \"ok\" and t[\"results\"] == [0, 0, 1] for t in j[\"threads\"])"' \
	"-J change: per-thread results of old, change, check"
ok 'jsq "all(t[\"old\"] == \"0\" and t[\"value\"] == \"1\" for t in j[\"threads\"])"' \
	"-J change: old and new values"
ok 'jsq "[s[\"role\"] for s in j[\"steps\"]] == [\"old\", \"change\", \"check\"]"' \
	"-J change: the steps' roles"
ok 'jsq "j[\"steps\"][1][\"undo\"].startswith(\"PR_SET_KEEPCAPS(saved\")"' \
	"-J change: the undo"
ok 'jsq "len(set(t[\"tid\"] for t in j[\"threads\"])) == 4"' \
	"-J change: distinct TIDs"

at -J prctl DUMPABLE
ok 'jsq "j[\"process_wide\"] is True"' "-J: DUMPABLE is process_wide"

at -J -n prctl NO_NEW_PRIVS 1
rc_is 0 "-J --dry-run"
ok 'jsq "j[\"dry_run\"] is True and j[\"verdict\"] is None and j[\"threads\"] == []"' \
	"-J --dry-run: no verdict, no threads"
ok 'jsq "j[\"steps\"][1][\"call\"] == \"PR_SET_NO_NEW_PRIVS(1)\" and j[\"steps\"][1][\"undo\"] is None"' \
	"-J --dry-run: the one-way step"
at -J -n prctl NO_NEW_PRIVS 1 -- env FOO=bar true
ok 'jsq "j[\"program\"] == [\"env\", \"FOO=bar\", \"true\"]"' \
	"-J --dry-run: the program"

at_threads 2 -J syscall getpid
rc_is 0 "-J syscall"
ok 'jsq "j[\"action\"] == \"call\" and j[\"name\"] == \"getpid\""' \
	"-J syscall: action and name"
ok 'jsq "j[\"value\"] == str(j[\"target\"][\"pid\"])"' \
	"-J syscall: the folded result"

# Strings that need escaping.
at -J -n prctl NAME 'a"b\c'
E='PR_SET_NAME("a"b\c")' \
ok 'jsq "j[\"steps\"][0][\"call\"] == os.environ[\"E\"]"' \
	"-J: quotes and backslashes escaped"
at -J prctl NAME $'tab\there'
rc_is 0 "-J NAME with a tab"
ok 'jsq "True"' "-J NAME with a tab: parsable"

# Failures are reported in the object too.
at_threads 2:1 -J --timeout=1500 prctl KEEP_CAPS 1
rc_is 1 "-J failure"
ok 'jsq "j[\"verdict\"] == \"failed\" and j[\"exit\"] == 1"' \
	"-J failure: verdict and exit"
ok 'jsq "any(t[\"state\"] == \"blocked\" and \"blocked\" in t[\"error\"] for t in j[\"threads\"])"' \
	"-J failure: the blocked thread and why"
at -J syscall lseek 99 0 0
rc_is 1 "-J syscall error"
ok 'jsq "j[\"threads\"][0][\"results\"] == [-9] and \"Bad file descriptor\" in j[\"threads\"][0][\"error\"]"' \
	"-J syscall error: -errno and the reason"


# One schema for every command, checked with jq against SCHEMA (tap.sh):
# the same keys, the same types, whatever the command.
if command -v jq >/dev/null; then
	# @N: in an allthreads with N test threads (at_threads).
	for args in "prctl KEEP_CAPS" "@2 prctl KEEP_CAPS 1" \
		"-n prctl NO_NEW_PRIVS 1" "prctl CAPBSET" "syscall getpid" \
		"@2 show" "check" "check -e Seccomp=2" \
		"list caps" "list prctl" "@2 set --nnp" \
		"-n set --nnp --keep-caps" "syscall close 9999" \
		"seccomp --deny=ptrace" "-n seccomp --deny=ptrace"; do
		# shellcheck disable=SC2086
		case $args in
		@*)
			spec=${args%% *}
			at_threads "${spec#@}" -J ${args#* }
			;;
		*) at -J $args ;;
		esac
		schema_ok "-J $args: the one schema (exit $rc)"
	done
	at -J check -e NoNewPrivs=9
	ok '[ -z "$out" ]' "-J: a usage error prints no JSON"
	at_threads 2 -J set --keep-caps=1
	jq_ok '.action == "change" and .verdict == "agree" and .exit == 0' \
		"-J set: action, verdict, exit"
	jq_ok 'all(.threads[]; .attrs != null and (.results | length) == 1)' \
		"-J set: per-thread results and attrs"
else
	skip "the one schema" "jq is not installed"
fi
done_testing
