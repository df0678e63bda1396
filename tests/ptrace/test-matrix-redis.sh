#!/bin/bash
# test-matrix-redis.sh - a real service from Debian, redis-server, started
# the ordinary way on 127.0.0.1 (a free port, no persistence): every thread
# of it dropped through ptrace (as root: NO_NEW_PRIVS, empty bounding set,
# no groups, nobody/nogroup; otherwise NO_NEW_PRIVS), checked in /proc, and
# it still answers PING, SET and GET afterwards.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	skip "redis-server" "not installed (apt-get install redis-server)"
	done_testing
	exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T_TMP/redis"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --dir "$T_TMP/redis" --logfile "$T_TMP/redis/log" \
	--protected-mode yes >/dev/null 2>&1 &
TPID=$!
PTT_PIDS+=("$TPID")
rcli() { timeout -k 2 10 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1; }
for i in $(seq 100); do
	[ "$(rcli PING)" = PONG ] && break
	sleep 0.05
done
ok '[ "$(rcli PING)" = PONG ]' "redis-server answers before"
ok '[ "$(rcli SET before 1)" = OK ]' "redis SET before"
n=$(task_count)
ok '[ "$n" -ge 2 ]' "redis-server has $n threads"
if has_cap 6 && has_cap 7 && has_cap 8; then
	at -p "$TPID" --via=ptrace set --nnp --bounding-set=-all \
		--reuid=nobody --regid=nogroup --clear-groups
	rc_is 0 "redis: dropped through ptrace"
	ok 'every_task Uid "65534.65534.65534.65534"' "redis: every thread is nobody"
	ok 'every_task Gid "65534.65534.65534.65534"' "redis: every thread is nogroup"
	ok 'every_task CapBnd 0000000000000000' "redis: empty bounding set everywhere"
	ok 'every_task CapEff 0000000000000000' "redis: no effective capabilities"
	ok 'every_task Groups ""' "redis: no supplementary groups"
else
	at -p "$TPID" --via=ptrace set --nnp
	rc_is 0 "redis: NO_NEW_PRIVS through ptrace"
fi
ok 'every_task NoNewPrivs 1' "redis: NoNewPrivs 1 on every thread"
ok 'untraced' "redis: nothing left traced"
ok '[ "$(rcli PING)" = PONG ]' "redis answers PING afterwards"
ok '[ "$(rcli SET after 2)" = OK ] && [ "$(rcli GET before)" = 1 ] && [ "$(rcli GET after)" = 2 ]' \
	"redis SET and GET afterwards, the data intact"
ok '[ "$(task_count)" = "$n" ]' "redis: still $n threads"
done_testing
