#!/bin/bash
# test-auth.sh - who may drive a target's helper, and whom allthreads
# believes: the kernel's ptrace rule, checked through /proc/PID/mem, and
# a socket held by the target itself.
#   - a root process in a user namespace of its own (all capabilities,
#     but only there) may not drive another user's target;
#   - a socket planted under a target's name by another process is not
#     believed: exit 3, and nothing reported as changed.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}"
SERVICE=${AT_SERVICE:?}
. "$(dirname "$0")/../tap.sh"
pids=()
trap 't_kill "${pids[@]}"; rm -rf "$tmp"' EXIT
tmp=$(mktemp -d)
. "$(dirname "$0")/../public.sh"
public_init "$tmp" || exit 1

start() { # OUTFILE CMD... : start a target, wait for "ready PID" -> $p
	local out=$1
	shift
	"$@" >"$out" 2>/dev/null </dev/null &
	pids+=($!)
	for _ in $(seq 200); do
		grep -q '^ready' "$out" && break
		sleep 0.05
	done
	p=$(awk '/^ready/ {print $2}' "$out")
}

# 1. A root process in its own user namespace.
if has_cap 7 && has_cap 6 && command -v setpriv >/dev/null &&
	command -v unshare >/dev/null && unshare -U -r true 2>/dev/null; then
	chmod 755 "$tmp"
	start "$tmp/a.out" setpriv --reuid=1000 --regid=1000 \
		--clear-groups env ALLTHREADS_HELPER="$(public "$AT_HELPER")" \
		"$(public "$AT")" run "$(public "$SERVICE")" 2
	ok '[ -n "$p" ]' "a target of uid 1000 under allthreads run"
	before=$(cat /proc/"$p"/task/*/status | grep -c '^NoNewPrivs:.1')
	unshare -U -r "$AT" -p "$p" prctl NO_NEW_PRIVS 1 >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ]' "root in its own user namespace: refused (exit $rc: $(head -c 150 "$tmp/o"))"
	after=$(cat /proc/"$p"/task/*/status | grep -c '^NoNewPrivs:.1')
	ok '[ "$before" = 0 ] && [ "$after" = 0 ]' "nothing changed ($after threads with NoNewPrivs)"
	# Even with the socket opened up to everyone, the kernel's ptrace
	# rule (through /proc/PID/mem) still says no.
	sock=$(ls /run/allthreads/1000/"$p".sock /tmp/allthreads-1000/"$p".sock \
		2>/dev/null | head -1)
	if [ -S "$sock" ]; then
		chmod 0755 "${sock%/*}" && chmod 0666 "$sock"
		unshare -U -r "$AT" -p "$p" prctl NO_NEW_PRIVS 1 >"$tmp/o" 2>&1
		rc=$?
		chmod 0700 "${sock%/*}" && chmod 0600 "$sock"
		after=$(cat /proc/"$p"/task/*/status | grep -c '^NoNewPrivs:.1')
		ok '[ "$rc" != 0 ] && [ "$after" = 0 ]' \
			"socket open to all, root in a user namespace: still refused (exit $rc: $(head -c 150 "$tmp/o"))"
	else
		skip "the target's socket was not found"
	fi
	"$AT" -p "$p" prctl NO_NEW_PRIVS 1
	rc=$?
	after=$(cat /proc/"$p"/task/*/status | grep -c '^NoNewPrivs:.1')
	ok '[ "$rc" = 0 ] && [ "$after" = "$(ls /proc/$p/task | wc -l)" ]' \
		"real root (CAP_SYS_PTRACE) still drives it (exit $rc)"
else
	for _ in 1 2 3 4 5; do
		skip "needs CAP_SETUID, CAP_SETGID, setpriv and user namespaces"
	done
fi

# 2. A socket planted in place of a target's own (the target has the
#    helper, so the CLI connects): the CLI must see that the socket is not
#    held by the target.
if command -v python3 >/dev/null; then
	start "$tmp/b.out" env ALLTHREADS_HELPER="$AT_HELPER" "$AT" run \
		"$SERVICE" 2
	sock=$(ls /run/allthreads/*/"$p".sock 2>/dev/null | head -1)
	ok '[ -S "$sock" ]' "the target's socket is there ($sock)"
	rm -f "$sock"
	python3 - "$sock" >/dev/null 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(4)
s.settimeout(20)
try:
    while True:
        c, _ = s.accept()
        c.recv(1 << 20)
        c.send(b"\0" * 64)   # whatever: it must not be believed
        c.close()
except Exception:
    pass
PY
	pids+=($!)
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	"$AT" -p "$p" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ] && grep -q "does not belong" "$tmp/o"' \
		"a planted socket is not believed (exit $rc: $(head -c 150 "$tmp/o"))"
else
	skip "needs python3"
	skip "needs python3"
fi
# 3. Silent connections (anyone who can reach the socket may open them)
#    do not lock out a caller who may drive the target.
if command -v python3 >/dev/null; then
	start "$tmp/c.out" env ALLTHREADS_HELPER="$AT_HELPER" "$AT" run \
		"$SERVICE" 2
	sock=$(ls /run/allthreads/*/"$p".sock 2>/dev/null | head -1)
	python3 - "$sock" >/dev/null 2>&1 <<'PY' &
import socket, sys, time
held = []
end = time.time() + 15
while time.time() < end:
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        c.setblocking(False)
        c.connect(sys.argv[1])
        held.append(c)
    except Exception:
        time.sleep(0.01)
    held = held[-200:]
PY
	pids+=($!)
	sleep 0.5
	t0=$(date +%s%N)
	"$AT" -p "$p" --timeout=3000 prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	ok '[ "$rc" = 0 ]' "a flood of silent connections: the caller still gets through (exit $rc, $ms ms)"
else
	skip "needs python3"
fi
tap_end
