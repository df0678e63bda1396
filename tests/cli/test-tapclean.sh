#!/bin/bash
# test-tapclean.sh - tap.sh's EXIT cleanup signals a pid it recorded only
# while that pid is still a child of the test's shell (t_ours).  A test may
# kill and reap a process long before it exits; by then, with pid_max at
# 32768 and CI starting processes by the thousand, the same pid can be
# another test's target.  Here that reuse is made certain: in a pid
# namespace of its own, a process that is not the test's is started at the
# very pid the test reaped (ns_last_pid), and must survive the test's exit.
# Needs CAP_SYS_ADMIN (a pid namespace, ns_last_pid).
. "$(dirname "$0")/tap.sh"

if ! has_cap 21 || ! command -v unshare >/dev/null; then
	skip "cleanup and a reused pid" "needs CAP_SYS_ADMIN and unshare(1)"
	done_testing
	exit
fi

tap=$(cd "$(dirname "$0")" && pwd)/tap.sh
d=$T_TMP/ns
mkdir -p "$d"
mkfifo -m 600 "$d/go"

# The test, in the namespace: it records a child, kills and reaps it, says
# which pid that was, waits (on a FIFO) until an unrelated process holds
# the pid, and exits, so that tap.sh's cleanup runs.
cat >"$d/inner.sh" <<'EOF'
. "$1" "$2" >/dev/null
sleep 100 &
p=$!
T_PIDS+=("$p")
kill "$p"
wait "$p" 2>/dev/null
echo "$p" >"$3/reaped"
# No process started while waiting: it could take the pid.
read -r -t 20 _ <"$3/go"
EOF

# pid 1 of the namespace: runs the test, then starts a process of its own
# (not the test's) at the pid the test reaped, and reports whether that
# process outlived the test.
cat >"$d/init.sh" <<'EOF'
d=$1
bash "$d/inner.sh" "$2" "$3" "$d" &
t=$!
for i in $(seq 200); do
	[ -s "$d/reaped" ] && break
	sleep 0.05
done
p=$(cat "$d/reaped")
echo $((p - 1)) >/proc/sys/kernel/ns_last_pid
sleep 100 &
o=$!
echo go >"$d/go"
wait "$t"
sleep 0.2
if [ "$o" = "$p" ] && kill -0 "$o" 2>/dev/null; then
	echo "other alive"
elif [ "$o" = "$p" ]; then
	echo "other killed"
else
	echo "pid not reused: $o for $p"
fi
kill "$o" 2>/dev/null
EOF

out=$(timeout -k 5 $((30 * T_SLOW)) unshare -p -f --mount-proc \
	bash "$d/init.sh" "$d" "$tap" "$1" 2>"$d/err")
ok '[ "$out" = "other alive" ]' \
	"a reaped pid taken by another process survives the test's cleanup ($out)"
[ "$out" = "other alive" ] || sed 's/^/# /' "$d/err"

# The cleanup still ends what the test recorded and left running: a child,
# and a child's child (a subshell's, as `start NAME as USER ...` makes
# them in tests/helper/test-matrix.sh).
cat >"$d/live.sh" <<'EOF'
. "$1" "$2" >/dev/null
sleep 100 &
T_PIDS+=("$!")
echo "$!" >"$3/child"
(
	sleep 100 &
	echo "$!" >"$3/grandchild"
	wait
) &
T_PIDS+=("$!")
for i in $(seq 100); do
	[ -s "$3/grandchild" ] && break
	sleep 0.05
done
T_PIDS+=("$(cat "$3/grandchild")")
EOF
rm -f "$d/child" "$d/grandchild"
timeout -k 5 $((30 * T_SLOW)) bash "$d/live.sh" "$tap" "$1" "$d"
for f in child grandchild; do
	p=$(cat "$d/$f" 2>/dev/null)
	gone=no
	for i in $(seq 100); do
		[ -n "$p" ] && ! kill -0 "$p" 2>/dev/null && gone=yes && break
		sleep 0.05
	done
	[ "$gone" = yes ] || kill "$p" 2>/dev/null
	ok '[ "$gone" = yes ]' "a recorded $f still running when the test exits is ended"
done

done_testing
