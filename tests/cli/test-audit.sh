#!/bin/bash
# test-audit.sh - `allthreads audit`: a planted process whose threads
# disagree (NO_NEW_PRIVS set on one thread only) is found among the host's
# real processes; a clean multi-threaded one passes; --expect, --comm and
# --user select and judge; processes and threads that vanish mid-read are
# skipped; the JSON follows show's schema; an unprivileged user can run it.
. "$(dirname "$0")/tap.sh"

# The planted one: thread 1 of 4 sets NO_NEW_PRIVS on itself.
planted_fixture 4
nnp_tid=$(grep -l '^NoNewPrivs:	1' /proc/"$BAD"/task/*/status |
	awk -F/ '{ print $5 }')
ok '[ -n "$nnp_tid" ] && [ "$(cat /proc/$BAD/task/*/status |
	grep -c "^NoNewPrivs:	0")" = 4 ]' \
	"the planted process: one thread has NoNewPrivs 1, the others 0"

# The clean one: threads that come and go, all alike.
clean_fixture

at audit
rc_is 1 "audit of the host: something found (the planted process)"
out_like "^ *$BAD +at-threaded +differ +NoNewPrivs +$nnp_tid \(1 of 5\) +1 +0 \(tid $BAD\)" \
	"audit: the planted process, its odd thread, the field and both values"
out_unlike "^ *$GOOD " "audit: the clean multi-threaded process is not listed"
err_like "audit: [0-9]+ process\(es\), [0-9]+ thread\(s\): [1-9][0-9]* with threads that disagree" \
	"audit: a summary on stderr"

at audit -p "$GOOD"
rc_is 0 "audit -p CLEAN: nothing to report"
ok '[ -z "$out" ]' "audit -p CLEAN: no table"
at audit -p "$GOOD,$BAD" --noheadings --raw
rc_is 1 "audit -p CLEAN,BAD"
ok '[ "$(printf "%s\n" "$out" | cut -d" " -f1 | sort -u)" = "$BAD" ] &&
	printf "%s\n" "$out" | grep -q "^$BAD at-threaded differ NoNewPrivs $nnp_tid\\\\x20(1\\\\x20of\\\\x205) 1 0\\\\x20(tid\\\\x20$BAD)\$"' \
	"audit -p CLEAN,BAD --raw --noheadings: only the planted one, raw cells"

# --expect on every thread of every matched process.
at audit -p "$GOOD" --expect NoNewPrivs=0 --expect Seccomp=0
rc_is 0 "audit --expect NoNewPrivs=0 -e Seccomp=0 on the clean process"
at audit -p "$GOOD" --expect NoNewPrivs=1
rc_is 1 "audit --expect NoNewPrivs=1 fails on the clean process"
out_like "^ *$GOOD +at-threaded +expect +NoNewPrivs .* 0 +1\$" \
	"audit --expect: the failing field, its value and the expected one"
at audit --comm at-threaded --expect NoNewPrivs=1
rc_is 1 "audit --comm at-threaded --expect NoNewPrivs=1"
out_like "^ *$BAD +at-threaded +expect +NoNewPrivs +[0-9,]+ \(4 of 5\)" \
	"audit --expect: the planted process's other four threads fail it"
out_like "^ *$GOOD +at-threaded +expect" "audit --comm: the clean one too"
at audit --comm no-such-comm-xyz --expect NoNewPrivs=1
rc_is 0 "audit --comm that matches nothing"
err_like ": 0 process\(es\)" "audit --comm: nothing matched, nothing audited"
at audit --user "$(id -un)" -p "$BAD"
rc_is 1 "audit --user (ours) -p BAD: selected"
at audit --user no-such-user-xyz
rc_is 64 "audit --user: an unknown user"
at audit -e Bogus=1
rc_is 64 "audit --expect: an unknown key"
err_like "unknown key" "audit --expect: says so (check's parser)"
at audit extra
rc_is 64 "audit: no positional arguments"

# JSON: show's schema, one object per process found.
at -J audit -p "$GOOD,$BAD"
rc_is 1 "audit -J"
schema_ok "audit -J: every line follows the schema"
jq_ok "select(.target.pid == $BAD) | (.differ | index(\"NoNewPrivs\")) and
	([.threads[] | select(.attrs.NoNewPrivs == 1) | .tid] == [$nnp_tid]) and
	([.threads[] | select(.error | test(\"NoNewPrivs is 1\"))?] | length == 1)" \
	"audit -J: differ names NoNewPrivs; one thread has it, and its error says so"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 1 ]' "audit -J: the clean one is not printed"

# Vanishing: a named process that is gone, and processes and threads that
# exit while the host is read.
/bin/true &
gone=$!
wait "$gone"
at audit -p "$gone"
rc_is 3 "audit -p GONE: unreachable"
err_like "pid $gone: no such process" "audit -p GONE: says so"
(
	trap - EXIT
	for i in $(seq 2000); do /bin/true; done
) &
spawner=$!
T_PIDS+=("$spawner")
fails=0
for i in $(seq 15); do
	at -q audit
	{ [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -Eq "^ *$BAD " &&
		[ -z "$err" ]; } || fails=$((fails + 1))
done
ok '[ "$fails" = 0 ]' \
	"audit: 15 host-wide runs while processes and threads come and go"
kill "$spawner" 2>/dev/null

# Any user: as nobody, from a directory nobody can read.
if has_cap 6 && has_cap 7 && command -v setpriv >/dev/null; then
	pub=$(mktemp -d)
	chmod 755 "$pub"
	cp "$AT" "$pub/allthreads"
	ldd "$AT" | awk '/liballthreads/ { print $3 }' |
		xargs -r -I{} cp {} "$pub/"
	chmod -R a+rX "$pub"
	run env LD_LIBRARY_PATH="$pub" setpriv --reuid=65534 --regid=65534 \
		--clear-groups -- "$pub/allthreads" audit -p "$GOOD,$BAD"
	rc_is 1 "audit as nobody: works on other users' processes"
	out_like "^ *$BAD .*NoNewPrivs" "audit as nobody: finds the planted one"
	rm -rf "$pub"
else
	skip "audit as nobody" "needs CAP_SETUID and CAP_SETGID"
fi

done_testing
