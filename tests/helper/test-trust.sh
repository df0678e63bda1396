#!/bin/bash
# test-trust.sh - issue 12.9: who may drive a helper, and what the CLI
# says when it cannot.
#   1. a socket directory pre-created by another user: the helper starts
#      no socket there, and the CLI names the untrusted directory (not
#      "start it with allthreads run");
#   2. a caller of another uid with only CAP_SYS_PTRACE: refused, exit 3
#      (it may open /proc/PID/mem, but cannot reach the 0700 socket
#      directory), and nothing changes;
#   3. a helper ended by SIGTERM leaves its socket; the next helper that
#      starts in that directory removes it.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}"
. "$(dirname "$0")/../tap.sh"
pids=()
tmp=$(mktemp -d)
planted=
trap 't_kill "${pids[@]}"; [ -n "$planted" ] && rm -rf "$planted"; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
# What another user needs, where it may read it.
libdir=$(dirname "$AT_HELPER")
cp "$AT_HELPER" "$libdir"/liballthreads.so.0 "$tmp"/
cp "$AT" "$tmp"/allthreads
chmod 755 "$tmp"/*

if [ "$(id -u)" != 0 ] || ! has_cap 6 || ! has_cap 7 || ! command -v setpriv >/dev/null; then
	for _ in $(seq 6); do skip "needs root with CAP_SETUID and CAP_SETGID, and setpriv"; done
	echo "1..$n"
	exit 0
fi

# 1. uid 1234 makes /tmp/allthreads-4321 before uid 4321's helper starts.
if [ -e /tmp/allthreads-4321 ] || [ -e /run/allthreads/4321 ]; then
	skip "a socket directory of uid 4321 exists already"
	skip "a socket directory of uid 4321 exists already"
else
	planted=/tmp/allthreads-4321
	setpriv --reuid=1234 --regid=1234 --clear-groups mkdir -m 0777 "$planted"
	setpriv --reuid=4321 --regid=4321 --clear-groups env -u XDG_RUNTIME_DIR \
		LD_LIBRARY_PATH="$tmp" LD_PRELOAD="$tmp/allthreads-helper.so" sleep 30 &
	t=$!
	pids+=("$t")
	sleep 0.5
	ok '[ -z "$(ls -A "$planted")" ]' "the helper of uid 4321 made no socket in uid 1234's directory"
	"$AT" --via=helper -p "$t" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ] && grep -q "not trusted" "$tmp/o" && grep -q 1234 "$tmp/o"' \
		"the CLI says why: exit $rc ($(head -c 240 "$tmp/o"))"
	kill "$t"
	rm -rf "$planted"
	planted=
fi

# 2. Only CAP_SYS_PTRACE, as uid 1000, against a root target.
LD_PRELOAD=$AT_HELPER sleep 30 &
t=$!
pids+=("$t")
for _ in $(seq 100); do "$AT" -p "$t" prctl KEEP_CAPS 0 >/dev/null 2>&1 && break; sleep 0.05; done
before=$(grep -c '^NoNewPrivs:.1' /proc/"$t"/task/*/status | awk -F: '{s += $2} END {print s + 0}')
LD_LIBRARY_PATH=$tmp setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+sys_ptrace \
	--ambient-caps=+sys_ptrace "$tmp/allthreads" --via=helper -p "$t" prctl NO_NEW_PRIVS 1 >"$tmp/o" 2>&1
rc=$?
after=$(grep -c '^NoNewPrivs:.1' /proc/"$t"/task/*/status | awk -F: '{s += $2} END {print s + 0}')
ok '[ "$rc" = 3 ] && grep -q "permission denied" "$tmp/o"' \
	"uid 1000 with only CAP_SYS_PTRACE: exit $rc ($(head -c 200 "$tmp/o"))"
ok '[ "$before" = 0 ] && [ "$after" = 0 ]' "nothing changed ($after threads with NoNewPrivs)"

# 3. SIGTERM leaves the socket; the next start cleans it.
sock=$(ls /run/allthreads/0/"$t".sock 2>/dev/null)
kill -TERM "$t"
wait "$t" 2>/dev/null
ok '[ -n "$sock" ] && [ -S "$sock" ]' "after SIGTERM the socket of $t is still there ($sock)"
LD_PRELOAD=$AT_HELPER sleep 30 &
t2=$!
pids+=("$t2")
for _ in $(seq 100); do [ -S /run/allthreads/0/"$t2".sock ] && break; sleep 0.05; done
ok '[ -n "$sock" ] && ! [ -e "$sock" ]' "the next helper to start removed it"
tap_end
