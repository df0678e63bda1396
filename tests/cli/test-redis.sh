#!/bin/bash
# test-redis.sh - a real service that starts threads of its own while a
# request runs (redis-server with io-threads: jemalloc's background
# thread, the io threads): `set --nnp --bounding-set=-all` 15 times
# through the helper, never PARTIAL (issue 11.3).  Loopback only, a random
# port, no persistence; skipped without redis-server or CAP_SETPCAP.
. "$(dirname "$0")/tap.sh"

redis=$(command -v redis-server)
if [ -z "$redis" ]; then
	skip "redis-server under churn" "redis-server is not installed"
	done_testing
	exit
fi
if [ -z "${AT_HELPER:-}" ] || [ ! -r "$AT_HELPER" ]; then
	skip "redis-server under churn" "no helper in this build"
	done_testing
	exit
fi
# A helper built with AddressSanitizer, preloaded into redis-server
# (jemalloc), crashes it at start: a call through a NULL pointer before
# any thread runs, the same on main before these changes.  The plain
# build runs this test.
if ldd "$AT_HELPER" 2>/dev/null | grep -q libasan; then
	skip "redis-server under churn" "the helper is built with AddressSanitizer"
	done_testing
	exit
fi
if ! has_cap 8; then
	skip "redis-server under churn" "needs CAP_SETPCAP to drop the bounding set"
	done_testing
	exit
fi

RPID=""
stop_redis() {
	[ -n "$RPID" ] && kill -9 "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	RPID=""
}
trap 'stop_redis; rm -rf "$T_TMP"' EXIT

# start_redis: on a random loopback port (a few tries if it is taken).
start_redis() {
	local try i port
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 30000))
		LD_PRELOAD=$AT_HELPER "$redis" --bind 127.0.0.1 --port "$port" \
			--io-threads 4 --save '' --appendonly no \
			--daemonize no --dir "$T_TMP" >"$T_TMP/redis.log" 2>&1 &
		RPID=$!
		for i in $(seq 200); do
			# Ready, and the helper's socket is there.
			grep -q 'Ready to accept' "$T_TMP/redis.log" &&
				grep -q "/$RPID.sock$" /proc/net/unix &&
				return 0
			kill -0 "$RPID" 2>/dev/null || break
			sleep 0.05
		done
		stop_redis
	done
	return 1
}

partial=0 bad=0 first=""
for round in $(seq 15); do
	if ! start_redis; then
		echo "Bail out! redis-server did not start"
		sed 's/^/# /' "$T_TMP/redis.log" | tail -5
		exit 1
	fi
	at -p "$RPID" set --nnp --bounding-set=-all
	if [ "$rc" != 0 ]; then
		bad=$((bad + 1))
		[ "$rc" = 2 ] && partial=$((partial + 1))
		[ -z "$first" ] && first="exit $rc: $err"
	fi
	stop_redis
done
[ -n "$first" ] && printf '# first: %s\n' "$first" | head -8
out="" err=""
ok '[ "$partial" = 0 ]' "15 fresh redis-server --io-threads 4: never PARTIAL ($partial)"
ok '[ "$bad" = 0 ]' "15 fresh redis-server --io-threads 4: every set exits 0 ($bad did not)"
done_testing
