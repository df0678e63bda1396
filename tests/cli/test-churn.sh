#!/bin/bash
# test-churn.sh - threads born during a request: a thread started by one
# that had already changed carries the new state and must count as
# changed, never as a failure (issue 11.3, 12.8).  50 idle threads and 4
# that keep starting short-lived threads, 200 `set --nnp` through the
# helper: every one exits 0.
. "$(dirname "$0")/tap.sh"

if [ -z "${AT_HELPER:-}" ] || [ ! -r "$AT_HELPER" ]; then
	skip "churn through the helper" "no helper in this build"
	done_testing
	exit
fi
LD_PRELOAD=$AT_HELPER "$AT_FIXTURE" 50 churn 4 >"$T_TMP/fixture.out" &
FPID=$!
trap 'kill $FPID 2>/dev/null; wait $FPID 2>/dev/null; rm -rf "$T_TMP"' EXIT
ready_in "$T_TMP/fixture.out" ||
	{ echo "Bail out! the fixture did not start"; exit 1; }

bad=0 partial=0 first=""
for i in $(seq 200); do
	at -p "$FPID" set --nnp
	if [ "$rc" != 0 ]; then
		bad=$((bad + 1))
		[ "$rc" = 2 ] && partial=$((partial + 1))
		[ -z "$first" ] && first="exit $rc: $err"
	fi
done
out="" err=""
ok '[ "$bad" = 0 ]' "200 set --nnp under churn: $bad failed ($partial partial)"
[ -n "$first" ] && printf '# first: %s\n' "$first" | head -5

# -J: the verdict and the exit code agree on every run.
disagree=0
for i in $(seq 20); do
	at -p "$FPID" -J set --nnp
	v=$(printf '%s' "$out" | jq -r '"\(.verdict) \(.exit)"')
	case "$v:$rc" in
	"agree 0:0" | "partial 2:2" | "failed 1:1") ;;
	*) disagree=$((disagree + 1)); echo "# -J: verdict exit = $v, exit status $rc" ;;
	esac
done
out="" err=""
ok '[ "$disagree" = 0 ]' "-J under churn: verdict, \"exit\" and the exit code agree"
done_testing
