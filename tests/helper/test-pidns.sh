#!/bin/bash
# test-pidns.sh - issue 16.8: a target in a pid namespace of its own,
# started with `allthreads run` there, changed from the host through its
# helper.  The helper numbers threads as its namespace does; the CLI must
# translate them (NSpid) before it checks the report against
# /proc/HOSTPID/task, so the change is exit 0 and every thread verified,
# not exit 2 "tid N is not a thread of the target".
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_TARGET:?}"
. "$(dirname "$0")/../tap.sh"
tmp=$(mktemp -d)
outer=
p=
trap '[ -n "$p" ] && kill -9 "$p" 2>/dev/null; [ -n "$outer" ] && kill -9 "$outer" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

if ! has_cap 21 || ! command -v unshare >/dev/null ||
	! unshare -p -f --mount-proc true 2>/dev/null; then
	for _ in 1 2 3 4; do skip "needs CAP_SYS_ADMIN and unshare -p"; done
	echo "1..$n"
	exit 0
fi

# The fixture is not the namespace's init: a shell is, as in a container.
# (--kill-child: the namespace, and the fixture with it, ends with us.)
ALLTHREADS_HELPER=$AT_HELPER unshare -p -f --kill-child --mount-proc \
	sh -c '"$1" run -- "$2" 5 "$3" & wait' sh \
	"$AT" "$AT_TARGET" "$tmp/status" </dev/null >/dev/null 2>&1 &
outer=$!
# The fixture's pid here: a process whose NStgid says it is not ours.
for _ in $(seq 200); do
	for c in $(pgrep -f "^$AT_TARGET 5 $tmp/status"); do
		grep -q "^NStgid:.*[0-9][[:space:]]\+[0-9]" "/proc/$c/status" 2>/dev/null &&
			grep -qs allthreads-helper "/proc/$c/maps" && p=$c
	done
	[ -n "$p" ] && [ "$(ls "/proc/$p/task" | wc -l)" -ge 9 ] && break
	sleep 0.05
done
inner=$(awk '/^NStgid/ {print $NF}' "/proc/${p:-0}/status" 2>/dev/null)
ok '[ -n "$p" ] && [ "$inner" != "$p" ]' \
	"the fixture runs in its own pid namespace: pid $p here, ${inner:-?} there"

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

for _ in $(seq 100); do
	"$AT" --via=helper -p "$p" prctl KEEP_CAPS 0 >/dev/null 2>&1 && break
	sleep 0.05
done
"$AT" --via=helper -v -p "$p" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
rc=$?
ok '[ "$rc" = 0 ]' "changed from the host through the helper: exit $rc ($(head -c 300 "$tmp/o" | tr '\n' ' '))"
threads=$(awk '/^tid/ {k++} END {print k + 0}' "$tmp/status")
ones=$(keepcaps_ones)
ok '[ "$threads" -ge 9 ] && [ "$ones" = "$threads" ]' \
	"every thread has KEEP_CAPS 1 ($ones of $threads, each read by the thread itself)"
# Every thread /proc lists here is in the report, by the number we use.
missing=0
for t in $(ls "/proc/$p/task"); do
	grep -qw "$t" "$tmp/o" || missing=$((missing + 1))
done
ok '[ "$missing" = 0 ]' "the report names every thread by its pid here ($missing missing)"
tap_end
