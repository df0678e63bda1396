#!/bin/bash
# test-plant.sh - issue 12.1: a planted socket plus pid reuse must not get
# root's proof.  The attacker's fake helper records whether a descriptor
# (the /proc/PID/mem proof) ever reached it.
#   1. uid 1234 creates /tmp/allthreads-0/, listens there under the pid a
#      child of its had, keeps the listening socket after that child has
#      gone; root's next process gets that pid (ns_last_pid), has no
#      helper, and root runs `allthreads -p V prctl KEEP_CAPS 1`: exit 3,
#      no descriptor sent, KEEP_CAPS unchanged.
#   2. The same listener planted by root in a trusted directory
#      (/run/allthreads/0/): SO_PEERCRED names the reused pid, the pidfd
#      check does not: exit 3, no descriptor sent.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
. "$(dirname "$0")/../tap.sh"
pids=()
tmp=$(mktemp -d)
cleanup() {
	t_kill "${pids[@]}"
	[ -n "${planted_dir:-}" ] && rm -rf "$planted_dir"
	[ -n "${planted_sock:-}" ] && rm -f "$planted_sock"
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
# The system's python (another user cannot use one under /root).
PY=/usr/bin/python3

if ! has_cap 21 || ! has_cap 6 || ! has_cap 7 || [ "$(id -u)" != 0 ] ||
	! [ -x /usr/bin/python3 ] || ! command -v setpriv >/dev/null ||
	! [ -w /proc/sys/kernel/ns_last_pid ]; then
	for _ in 1 2 3 4 5 6; do
		skip "needs root with CAP_SYS_ADMIN (ns_last_pid), setpriv and python3"
	done
	echo "1..$n"
	exit 0
fi

# The fake helper: listen in DIR under the pid of a child that then exits
# (the listening socket lives on here), print "planted PID", and for every
# connection record "fd" in LOG if a descriptor came with a message.
cat >"$tmp/fake.py" <<'PY'
import array, os, socket, sys, time
d, log = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
kid = os.fork()
if kid == 0:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind("%s/%d.sock" % (d, os.getpid()))
    s.listen(8)
    socket.send_fds(b, [b"x"], [s.fileno()])
    os._exit(0)
os.waitpid(kid, 0)
_, fds, _, _ = socket.recv_fds(a, 16, 1)
srv = socket.socket(fileno=fds[0])
print("planted", kid, flush=True)
srv.settimeout(1)
end = time.time() + 40
while time.time() < end:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    c.settimeout(3)
    try:
        for _ in range(3):
            msg, anc, fl, _ = c.recvmsg(1 << 18, socket.CMSG_SPACE(64))
            for lvl, typ, data in anc:
                if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    with open(log, "a") as f:
                        f.write("fd\n")
            if not msg:
                break
            # whatever it answers: nothing it says may be believed
            c.send(msg[:64])
    except Exception:
        pass
    c.close()
PY
chmod 644 "$tmp/fake.py"

# Start "sleep" as pid WANT (ns_last_pid; other processes on the machine
# may take it first, so a few tries) -> $target, or empty.
start_as_pid() {
	local want=$1 i
	target=
	for i in $(seq 50); do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null ||
			return
		sleep 30 &
		if [ "$!" = "$want" ]; then
			target=$!
			pids+=("$target")
			return
		fi
		kill "$!" 2>/dev/null
		wait "$!" 2>/dev/null
	done
}

plant() { # DIR LOG AS... -> $planted
	local d=$1 log=$2
	shift 2
	: >"$log"
	chmod 666 "$log"
	"$@" "$PY" "$tmp/fake.py" "$d" "$log" >"$tmp/plant.out" 2>&1 &
	pids+=($!)
	planted=
	for _ in $(seq 100); do
		planted=$(awk '/^planted/ {print $2}' "$tmp/plant.out")
		[ -n "$planted" ] && break
		sleep 0.05
	done
}

# 1. An unprivileged user's directory in /tmp.
if [ -e /tmp/allthreads-0 ]; then
	for _ in 1 2 3; do skip "/tmp/allthreads-0 exists already"; done
else
	planted_dir=/tmp/allthreads-0
	plant /tmp/allthreads-0 "$tmp/log1" setpriv --reuid=1234 \
		--regid=1234 --clear-groups
	ok '[ -n "$planted" ] && [ "$(stat -c %u /tmp/allthreads-0)" = 1234 ]' \
		"uid 1234 planted /tmp/allthreads-0/$planted.sock"
	start_as_pid "$planted"
	if [ -n "$target" ]; then
		"$AT" --via=helper -p "$target" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
		rc=$?
		ok '[ "$rc" = 3 ]' "root's -p on the reused pid: exit 3 ($rc: $(head -c 200 "$tmp/o"))"
		sleep 0.3
		ok '! grep -q fd "$tmp/log1"' \
			"the attacker never received a descriptor ($(wc -l <"$tmp/log1") received)"
	else
		skip "could not get pid $planted for the target"
		skip "could not get pid $planted for the target"
	fi
	kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	pids=()
	rm -rf /tmp/allthreads-0
	planted_dir=
fi

# 2. A listener that outlived its pid, in a directory the client trusts.
mkdir -p /run/allthreads/0 && chmod 700 /run/allthreads/0
plant /run/allthreads/0 "$tmp/log2" env
ok '[ -n "$planted" ]' "a listener planted as pid $planted in /run/allthreads/0"
planted_sock=/run/allthreads/0/$planted.sock
start_as_pid "$planted"
if [ -n "$target" ]; then
	"$AT" --via=helper -p "$target" prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ]' "the listener's pid is reused: exit 3 ($rc: $(head -c 200 "$tmp/o"))"
	sleep 0.3
	ok '! grep -q fd "$tmp/log2"' \
		"the planted listener never received a descriptor ($(wc -l <"$tmp/log2") received)"
else
	skip "could not get pid $planted for the target"
	skip "could not get pid $planted for the target"
fi
tap_end
