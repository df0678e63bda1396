#!/bin/bash
# test-drop.sh - issue 11.2: a program that drops privileges itself,
# changing capabilities on its own thread (setpriv; a daemon's
# KEEP_CAPS -> setuid -> capset -> setgid; libcap-ng's capng_change_id),
# works with the helper as it does without: glibc's set*id reaches the
# receiver too, which follows the program's per-thread capability calls.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_DROP_PROG:?}"
. "$(dirname "$0")/../tap.sh"
eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
if ! (( (16#$eff >> 6) & 1 && (16#$eff >> 7) & 1 )) || [ "$(id -u)" != 0 ]; then
	for _ in $(seq 9); do skip "needs root with CAP_SETUID and CAP_SETGID"; done
	echo "1..$n"
	exit 0
fi
export ALLTHREADS_HELPER=$AT_HELPER

try() { # NAME CMD...: without, under allthreads run, preloaded
	local name=$1 out rc
	shift
	out=$("$@" 2>&1); rc=$?
	ok '[ "$rc" = 0 ]' "$name without the helper: exit $rc (${out:0:80})"
	out=$("$AT" run -- "$@" 2>&1); rc=$?
	ok '[ "$rc" = 0 ]' "$name under allthreads run: exit $rc (${out:0:80})"
	out=$(LD_PRELOAD=$AT_HELPER "$@" 2>&1); rc=$?
	ok '[ "$rc" = 0 ]' "$name with the helper preloaded: exit $rc (${out:0:80})"
}

if command -v setpriv >/dev/null; then
	try setpriv setpriv --reuid=nobody --regid=nogroup --clear-groups id
else
	for _ in 1 2 3; do skip "no setpriv"; done
fi
try "KEEP_CAPS, setuid, capset, setgid" "$AT_DROP_PROG" daemon
"$AT_DROP_PROG" capng >/dev/null 2>&1
if [ $? = 77 ]; then
	for _ in 1 2 3; do skip "built without libcap-ng"; done
else
	try capng_change_id "$AT_DROP_PROG" capng
fi
tap_end
