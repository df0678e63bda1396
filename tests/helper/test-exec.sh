#!/bin/bash
# test-exec.sh - issue 16.1: an exec must not turn root's proof against
# root.  An unprivileged process X (nobody) plays a helper: it listens where
# the CLI looks for X's socket, answers root's first request with a genuine
# hello (the kernel's credentials and pidfd on it really are X's; for the
# current protocol even a real challenge over X's own memory), hands the
# connection to a partner process of the same user, and execs a
# set-user-ID-root program that keeps a secret and waits.  Root then runs
# `allthreads --via=helper -p X prctl KEEP_CAPS 1`.  The partner reads every
# message root sends, tries every descriptor that comes with one at the
# address where the set-user-ID program keeps its secret, and logs it all.
# X runs SCHED_FIFO on the CLI's CPU, so its exec completes before the CLI
# goes on after the hello: the race the attacker wins by luck, won each time.
# Passes when the partner got no descriptor and no byte of the setuid
# process, and the CLI did not claim success.
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
SUID_SRC=${2:?usage: $0 PATH-TO-ALLTHREADS PATH-TO-SUID-WAIT}
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../tap.sh"
NTESTS=5
pids=()
tmp=$(mktemp -d)
trap 't_kill "${pids[@]}"; rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
dir=/tmp/allthreads-65534

if [ "$(id -u)" != 0 ] || ! has_cap 6 || ! has_cap 7 || ! has_cap 23 ||
	! has_cap 19 || ! [ -x "$PY" ] || ! command -v setpriv >/dev/null ||
	! command -v chrt >/dev/null || ! command -v taskset >/dev/null; then
	for _ in $(seq $NTESTS); do
		skip "needs root with CAP_SETUID, CAP_SETGID, CAP_SYS_NICE, CAP_SYS_PTRACE; python3, setpriv, chrt, taskset"
	done
	echo "1..$n"
	exit 0
fi
if [ -e "$dir" ] && [ "$(stat -c %u:%a "$dir")" != 65534:700 ]; then
	for _ in $(seq $NTESTS); do skip "$dir exists and is not nobody's 0700"; done
	echo "1..$n"
	exit 0
fi

. "$here/../public.sh"
public_init "$tmp" || exit 1
cp "$SUID_SRC" "$PUB/suid-wait" && chown 0:0 "$PUB/suid-wait" &&
	chmod 4755 "$PUB/suid-wait" || exit 1
log=$PUB/partner.log out=$PUB/x.out
: >"$log" && : >"$out" && chmod 666 "$log" "$out"

cat >"$PUB/fake.py" <<'PY'
import array, ctypes, hashlib, os, re, socket, struct, sys, time
d, log, suid, out = sys.argv[1:5]
MAGIC, HELLO = 0x31637461, 0x100
os.makedirs(d, mode=0o700, exist_ok=True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.fork() == 0:
    # The partner: takes the connection, reads what root sends.
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    def note(s):
        with open(log, "a") as f:
            f.write(s + "\n")
    b.settimeout(20)
    try:
        _, fds, _, _ = socket.recv_fds(b, 16, 1)
    except Exception:
        os._exit(0)
    c = socket.socket(fileno=fds[0])
    note("connection")
    addr = 0
    for _ in range(100):
        m = re.search(r"secret at (0x[0-9a-f]+)", open(out).read())
        if m:
            addr = int(m.group(1), 16)
            break
        time.sleep(0.05)
    note("secret-address %#x" % addr)
    c.settimeout(3)
    for _ in range(4):
        try:
            msg, anc, fl, _ = c.recvmsg(1 << 18, socket.CMSG_SPACE(64))
        except Exception:
            break
        note("msg %d %s" % (len(msg), msg.hex()))
        for lvl, typ, data in anc:
            if lvl != socket.SOL_SOCKET or typ != socket.SCM_RIGHTS:
                continue
            got = array.array("i")
            got.frombytes(data[: len(data) - len(data) % 4])
            for fd in got:
                note("fd")
                try:
                    note("read " + os.pread(fd, 32, addr).hex())
                except OSError as e:
                    note("read-error %d" % e.errno)
                os.close(fd)
        if not msg:
            break
    note("done")
    os._exit(0)
b.close()
secret = ctypes.create_string_buffer(os.urandom(32), 32)
digest = hashlib.sha256(b"allthreads proof v3" + secret.raw).digest()
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
path = "%s/%d.sock" % (d, os.getpid())
try:
    os.unlink(path)
except OSError:
    pass
s.bind(path)
s.listen(4)
print("ready", os.getpid(), flush=True)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(10)
msg = c.recv(1 << 18)
ver = struct.unpack_from("<IHHII", msg)[1] if len(msg) >= 16 else 2
if ver <= 2:
    hello = struct.pack("<IHHIIiI", MAGIC, ver, HELLO, 24, 0, os.getpid(), 0)
else:
    hello = struct.pack("<IHHIIiIQ", MAGIC, ver, HELLO, 64, 0, os.getpid(),
                        0, ctypes.addressof(secret)) + digest
c.send(hello)
socket.send_fds(a, [b"c"], [c.fileno()])
os.unlink(path)
os.execv(suid, [suid])
PY
chmod 644 "$PUB/fake.py"

chrt -f 50 taskset -c 0 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PY" "$PUB/fake.py" "$dir" "$log" "$PUB/suid-wait" "$out" >>"$out" 2>&1 &
x=$!
pids+=("$x")
for _ in $(seq 200); do
	grep -q '^ready' "$out" && break
	sleep 0.05
done
ok 'grep -q "^ready $x" "$out"' "X (pid $x, nobody) listens in $dir"
taskset -c 0 timeout 30 "$AT" --via=helper --timeout=1000 -p "$x" \
	prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
rc=$?
addr=$(sed -n 's/.*secret at \(0x[0-9a-f]*\), euid 0.*/\1/p' "$out")
secret=
if [ -n "$addr" ] && [ -d "/proc/$x" ]; then
	secret=$("$PY" -c 'import os,sys
f = os.open("/proc/%s/mem" % sys.argv[1], os.O_RDONLY)
print(os.pread(f, 32, int(sys.argv[2], 16)).hex())' "$x" "$addr" 2>/dev/null)
fi
# The partner gives up 3 s after root's last message.
for _ in $(seq 200); do
	grep -q '^done' "$log" && break
	sleep 0.05
done
ok '[ -n "$addr" ]' "X exec'd the set-user-ID program (euid 0, secret at ${addr:-?})"
ok '[ "$rc" != 0 ]' "the CLI does not claim success: exit $rc ($(head -c 200 "$tmp/o" | tr '\n' ' '))"
ok '! grep -q "^fd" "$log"' \
	"the partner received no descriptor ($(grep -c '^fd' "$log") received, $(grep -c '^read ' "$log") read)"
leaked=0
[ -n "$secret" ] && grep -q "$secret" "$log" && leaked=1
grep -q '^read [0-9a-f]' "$log" && leaked=1
ok '[ -n "$secret" ] && [ "$leaked" = 0 ]' \
	"no byte of the set-user-ID process reached the partner (secret ${secret:0:16}...)"
tap_end
