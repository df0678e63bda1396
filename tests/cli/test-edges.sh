#!/bin/bash
# test-edges.sh - what a CI gate meets at the edges (issue 11.10): an
# empty -p list is "no such process" (exit 3); -n checks that the target
# can be reached; a kernel thread is named as such; the KEEP_CAPS a recipe
# implies is put back; --regid needs a word on the groups (as setpriv);
# bold only on a terminal that wants it.
. "$(dirname "$0")/tap.sh"

at check -p ""
rc_is 3 "check -p \"\" (pidof found nothing)"
err_like 'no such process' "says no such process"
at -p " , " show
rc_is 3 "-p of blanks and commas only: no such process too"

pid=$(sh -c 'echo $$')
at -n -p "$pid" set --nnp
rc_is 3 "-n of a process that is gone"

if [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
	at -n -p 2 prctl KEEP_CAPS 1
	rc_is 3 "-n on a kernel thread: predicts exit 3"
	err_like '^allthreads: 2: kernel thread: cannot be changed$' \
		"-n: kernel thread, not \"start it with allthreads run\""
	at -p 2 set --nnp
	rc_is 3 "set on a kernel thread"
	err_like 'kernel thread: cannot be changed' "named as a kernel thread"
	at -p 2 show
	rc_is 0 "show of a kernel thread still reads /proc"
else
	skip "kernel thread" "pid 2 is not kthreadd here"
fi

fixture 2
at -n --via=helper -p "$FPID" set --nnp
rc_is 3 "-n --via=helper on a process without a helper: predicts exit 3"
err_like 'no helper \(start the target with .allthreads run.\)' "says why"
at -n -J --via=helper -p "$FPID" set --nnp
jq_ok '.exit == 3' "-J -n --via=helper: \"exit\":3"
at -n -p "$FPID" prctl NO_NEW_PRIVS
rc_is 0 "-n of a read /proc answers: needs no helper"
stop_fixture

# -n as another user on root's pid 1: the real run would be refused.
# What nobody runs is copied to a directory nobody can read.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] && has_cap 6 &&
	has_cap 7 && [ "$(stat -c %u /proc/1)" = 0 ]; then
	nb=$(mktemp -d)
	chmod 755 "$nb"
	cp "$AT" "$nb/allthreads"
	for l in "$(dirname "$AT")"/../lib/liballthreads.so*; do
		[ -f "$l" ] && cp -L "$l" "$nb/"
	done
	chmod -R a+rX "$nb"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		env LD_LIBRARY_PATH="$nb" "$nb/allthreads" -n --via=helper -p 1 set --nnp
	rc_is 3 "-n as nobody on root's pid 1: predicts exit 3"
	err_like '^allthreads: 1: permission denied' "says permission denied"
	rm -rf "$nb"
else
	skip "-n without permission" "needs setpriv, root, and pid 1 owned by root"
fi

at -n set --regid=1000 --reuid=1000
rc_is 64 "--regid without a groups option: refused"
err_like '^allthreads: --regid requires --keep-groups, --clear-groups, --init-groups, or --groups$' \
	"with setpriv's words"
at -n set --regid=1000 --reuid=1000 --keep-groups
rc_is 0 "--regid --keep-groups: fine"

# Bold marks differing cells on a terminal only.
if command -v script >/dev/null && [ -n "${AT_FIXTURE:-}" ]; then
	fixture 4
	bold() {
		env -u NO_COLOR "$@" script -qec "$AT -p $FPID show" /dev/null \
			</dev/null | grep -c $'\e\\['
	}
	ok '[ "$(bold TERM=xterm)" -gt 0 ]' "a terminal: differing cells in bold"
	ok '[ "$(bold TERM=xterm NO_COLOR=1)" = 0 ]' "NO_COLOR=1: no escapes"
	ok '[ "$(bold TERM=dumb)" = 0 ]' "TERM=dumb: no escapes"
	ok '[ "$(TERM=xterm "$AT" -p "$FPID" show | grep -c $'"'"'\e\['"'"')" = 0 ]' \
		"not a terminal: no escapes"
	stop_fixture
else
	skip "bold" "no script(1)"
fi

# KEEP_CAPS implied by --reuid with --caps is put back.
if [ -n "${AT_HELPER:-}" ] && [ -r "$AT_HELPER" ] && [ "$(id -u)" = 0 ] &&
	has_cap 7 && has_cap 8; then
	LD_PRELOAD=$AT_HELPER "$AT_FIXTURE" 2 >"$T_TMP/fixture.out" &
	FPID=$!
	ready_in "$T_TMP/fixture.out"
	at -p "$FPID" prctl KEEP_CAPS
	ok '[ "$out" = "all 0" ]' "the target starts with KEEP_CAPS 0"
	at -p "$FPID" set --reuid=1000 --caps=cap_net_bind_service=eip
	rc_is 0 "set --reuid=1000 --caps=...: KEEP_CAPS implied"
	at -p "$FPID" prctl KEEP_CAPS
	ok '[ "$out" = "all 0" ]' "KEEP_CAPS is back to 0 afterwards ($out)"
	stop_fixture
else
	skip "implied KEEP_CAPS" "needs the helper and root with CAP_SETUID, CAP_SETPCAP"
fi
done_testing
