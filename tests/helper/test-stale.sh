#!/bin/bash
# test-stale.sh - issue 12.5: a request the CLI gave up on is never run
# later.  The target is stopped; `--timeout=1000 prctl KEEP_CAPS 1` gives
# up (exit 3: the helper never answered, so the proof was never sent);
# after SIGCONT no thread has KEEP_CAPS 1.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_TARGET:?}"
. "$(dirname "$0")/../tap.sh"
tmp=$(mktemp -d)
p=
trap '[ -n "$p" ] && { kill -CONT $p; kill $p; wait $p; } 2>/dev/null; rm -rf "$tmp"' EXIT

# Ask the target for its per-thread KEEP_CAPS; prints how many have 1.
keepcaps_ones() {
	local gen
	gen=$(awk '/^gen/ {print $2}' "$tmp/status" 2>/dev/null)
	kill -USR1 "$p"
	for _ in $(seq 100); do
		[ "$(awk '/^gen/ {print $2}' "$tmp/status" 2>/dev/null)" != "${gen:-}" ] && break
		sleep 0.05
	done
	awk '/^tid/ && $4 == 1 {k++} END {print k + 0}' "$tmp/status"
}

LD_PRELOAD=$AT_HELPER "$AT_TARGET" 3 "$tmp/status" </dev/null >/dev/null 2>&1 &
p=$!
for _ in $(seq 100); do
	"$AT" -p "$p" prctl KEEP_CAPS 0 >/dev/null 2>&1 && break
	sleep 0.05
done
ok '[ "$(keepcaps_ones)" = 0 ]' "the target runs, KEEP_CAPS 0 on every thread"
kill -STOP "$p"
"$AT" -p "$p" --timeout=1000 prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
rc=$?
kill -CONT "$p"
ok '[ "$rc" = 3 ] && grep -q "did not answer" "$tmp/o"' \
	"a stopped target: exit 3, the helper did not answer ($rc: $(head -c 200 "$tmp/o"))"
sleep 1.5
ones=$(keepcaps_ones)
ok '[ "$ones" = 0 ]' "after SIGCONT the abandoned request did not run ($ones threads with KEEP_CAPS 1)"
"$AT" -p "$p" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
rc=$?
ok '[ "$rc" = 0 ] && [ "$(keepcaps_ones)" -gt 3 ]' "the helper still serves the next request (exit $rc)"
tap_end
