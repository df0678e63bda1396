#!/bin/bash
# test-cli-storm.sh - issue 3's scenario, from the command line: the
# fixture target (idle workers, a sigwait thread, a poll() thread, a
# read() thread) started with `allthreads run`, then 101 alternating
# `allthreads -p PID prctl KEEP_CAPS 0|1`.  Afterwards every thread holds
# the last value (its own read and nothing in /proc missed), and the
# application saw no signal it did not ask for and no EINTR.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_TARGET:?}" "${AT_HELPER:?}"
. "$(dirname "$0")/../tap.sh"
status=$(mktemp -u /tmp/at-storm-XXXXXX)
trap 'kill "$pid" 2>/dev/null; rm -f "$status" "$status.tmp"' EXIT

ALLTHREADS_HELPER=$AT_HELPER "$AT" run -- "$AT_TARGET" 6 "$status" &
pid=$!
# The fixture writes its first status once every thread is up.
for _ in $(seq 200); do
	[ -s "$status" ] && grep -q '^tid' "$status" && break
	sleep 0.05
done
ok '[ -s "$status" ]' "the fixture started under allthreads run (pid $pid)"
ok 'grep -q allthreads-helper "/proc/$pid/maps"' "same pid, helper mapped"

bad=0
for i in $(seq 1 101); do
	timeout 20 "$AT" -q -p "$pid" prctl KEEP_CAPS $((i % 2)) || bad=$((bad + 1))
done
ok '[ "$bad" = 0 ]' "101 alternating KEEP_CAPS broadcasts: $bad failed"

out=$(timeout 20 "$AT" -p "$pid" prctl KEEP_CAPS)
ok '[ "$out" = "all 1" ]' "read back through the helper: every thread 1 ($out)"

# A fresh status: every thread reads its own value, and the counters.
gen=$(awk '/^gen/ {print $2}' "$status")
kill -USR1 "$pid"
for _ in $(seq 200); do
	g=$(awk '/^gen/ {print $2}' "$status" 2>/dev/null)
	[ -n "$g" ] && [ "$g" -gt "$gen" ] && break
	sleep 0.05
done
ok '[ "$(awk "/^gen/ {print \$2}" "$status")" -gt "$gen" ]' "fresh status"
ok '[ "$(awk "/^eintr/ {print \$2}" "$status")" = 0 ]' \
	"no EINTR in the poll, read and sigwait threads"
ok '[ "$(awk "/^unexpected/ {print \$2}" "$status")" = 0 ]' \
	"no signal the application did not ask for"
threads=$(ls "/proc/$pid/task" | wc -l)
sampled=$(grep -c '^tid' "$status")
wrong=$(awk '/^tid/ && $4 != 1' "$status" | wc -l)
ok '[ "$wrong" = 0 ] && [ "$sampled" -ge $((threads - 1)) ]' \
	"every thread reads KEEP_CAPS 1 itself ($sampled sampled of $threads tasks, $wrong wrong)"
tap_end
