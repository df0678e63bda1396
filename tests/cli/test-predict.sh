#!/bin/bash
# test-predict.sh - set refuses a change its own prediction says would
# fail (exit 1, nothing changed, the step, the reason and the TID), unless
# --force; and setresuid that keeps the old ids among the new ones is
# undone everywhere when one thread fails (issue 11.5, 12.6).  The target
# runs under the helper; one of its threads lacks CAP_SETUID and
# CAP_SETGID in its effective set.
. "$(dirname "$0")/tap.sh"

if [ -z "${AT_HELPER:-}" ] || [ ! -r "$AT_HELPER" ]; then
	skip "predictions through the helper" "no helper in this build"
	done_testing
	exit
fi
if [ "$(id -u)" != 0 ] || ! has_cap 7 || ! has_cap 6; then
	skip "predictions through the helper" "needs root with CAP_SETUID and CAP_SETGID"
	done_testing
	exit
fi
LD_PRELOAD=$AT_HELPER "$AT_FIXTURE" 6 nosetuid >"$T_TMP/fixture.out" &
FPID=$!
trap 'kill $FPID 2>/dev/null; wait $FPID 2>/dev/null; rm -rf "$T_TMP"' EXIT
ready_in "$T_TMP/fixture.out" ||
	{ echo "Bail out! the fixture did not start"; exit 1; }
# The thread without CAP_SETUID.
weak=""
for t in /proc/$FPID/task/*; do
	eff=$(awk '/^CapEff:/ { print $2 }' "$t/status")
	(( (0x$eff >> 7) & 1 )) || weak=${t##*/}
done
ok '[ -n "$weak" ]' "the fixture has a thread without CAP_SETUID ($weak)"

# All threads' "Uid:" lines, one distinct line expected.
uids() { awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$FPID/task/*/status | sort -u; }

at -n -p "$FPID" set --reuid=1000
rc_is 1 "-n predicts the failure"
out_like "would fail on tid $weak" "-n names the thread"

at -p "$FPID" set --reuid=1000
rc_is 1 "the predicted failure is refused up front"
err_like "would fail on tid $weak" "the refusal names the thread"
err_like "needs CAP_SETUID" "and says why"
err_like "nothing changed" "and that nothing changed"
err_like "--force" "and how to run it anyway"
ok '[ "$(uids)" = "0 0 0 0" ]' "nothing changed: every thread still uid 0"

at -p "$FPID" setresuid 0 1000 0
rc_is 1 "setresuid 0 1000 0: refused up front too"
ok '[ "$(uids)" = "0 0 0 0" ]' "every thread still uid 0 0 0 0"

at -n -p "$FPID" setresuid 0 1000 0
out_like '1\. setresuid\(0, 1000, 0\) .*undo: setresuid\(0, 0, 0\)' \
	"setresuid 0 1000 0 keeps uid 0: planned with an undo"
at -n -p "$FPID" set --reuid=1000
out_like 'setresuid\(1000, 1000, 1000\) .*undo: none \(one-way\)' \
	"--reuid=1000 keeps nothing to go back to: one-way"

at -p "$FPID" --force setresuid 0 1000 0
rc_is 1 "--force: the run goes ahead, a thread fails, nothing stays changed"
err_like "tid $weak" "the failing thread is named"
ok '[ "$(uids)" = "0 0 0 0" ]' "undone everywhere: every thread uid 0 0 0 0 again"

at -p "$FPID" --force setresgid 0 1000 0
rc_is 1 "--force setresgid 0 1000 0: undone everywhere too"
ok '[ "$(awk "/^Gid:/ { print \$2, \$3, \$4, \$5 }" /proc/$FPID/task/*/status | sort -u)" = "0 0 0 0" ]' \
	"every thread gid 0 0 0 0 again"

at -p "$FPID" --force set --reuid=1000
rc_is 2 "--force on a one-way change: the threads now differ, said so"
done_testing
