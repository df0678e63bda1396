#!/bin/bash
# test-zombie-helper.sh - issue 11.6: a process whose main thread called
# pthread_exit() (a zombie leader, without root, maps or mm of its own) is
# still reached through its helper, by way of a live thread's /proc files.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_SEC_TARGET:?}"
. "$(dirname "$0")/../tap.sh"
tmp=$(mktemp -d)
p=
trap '[ -n "$p" ] && kill $p 2>/dev/null; rm -rf "$tmp"' EXIT
LD_PRELOAD=$AT_HELPER "$AT_SEC_TARGET" zombie >"$tmp/out" 2>/dev/null </dev/null &
for _ in $(seq 100); do
	p=$(awk '/^ready/ {print $2}' "$tmp/out")
	[ -n "$p" ] && [ "$(awk '/^State/ {print $2}' /proc/"$p"/status 2>/dev/null)" = Z ] && break
	sleep 0.05
done
ok '[ -n "$p" ] && grep -q "^State:.Z" /proc/$p/status' "the main thread of $p is a zombie"
"$AT" -p "$p" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
rc=$?
ok '[ "$rc" = 0 ]' "prctl KEEP_CAPS 1 through the helper (exit $rc: $(head -c 200 "$tmp/o"))"
"$AT" -p "$p" set --nnp >"$tmp/o" 2>&1
rc=$?
live=$(grep -L '^State:.Z' /proc/"$p"/task/*/status | wc -l)
nnp=$(grep -l '^NoNewPrivs:.1' /proc/"$p"/task/*/status | wc -l)
ok '[ "$rc" = 0 ] && [ "$nnp" = "$live" ] && [ "$live" -ge 4 ]' \
	"set --nnp: exit $rc, $nnp of $live live threads have NoNewPrivs ($(head -c 200 "$tmp/o"))"
tap_end
