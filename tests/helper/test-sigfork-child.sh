#!/bin/bash
# test-sigfork-child.sh - issue 18: a child forked inside a signal handler,
# which lives its whole life in that handler (PostgreSQL 15's walwriter and
# launchers), gets a helper of its own: -p CHILD --via=helper changes every
# thread of the child, and none of the parent's.  Before the fix the
# child's helper waited for the handler to return, and --via=helper exited
# 3 ("no helper").  Then, if PostgreSQL is installed, the same for the
# children of a real postmaster run under `allthreads run`.
#
#   test-sigfork-child.sh PATH-TO-ALLTHREADS PATH-TO-FIXTURE
set -u
AT=${1:?usage: $0 PATH-TO-ALLTHREADS PATH-TO-FIXTURE}
FIX=${2:?usage: $0 PATH-TO-ALLTHREADS PATH-TO-FIXTURE}
: "${AT_HELPER:?}"
n=0 failed=0
ok() {
	n=$((n + 1))
	if eval "$1"; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# AddressSanitizer's allocator keeps no fork handlers: a child of a
# threaded parent that makes a thread may wait for ever on a lock another
# thread held at fork (test-forked.sh has seen it).  glibc's malloc resets
# its locks in the child.
if ldd "$FIX" 2>/dev/null | grep -q libasan; then
	echo "1..0 # SKIP AddressSanitizer's allocator is not fork-safe for threads"
	exit 0
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
	t_kill "${pids[@]}"
	[ -n "${pgpid:-}" ] && t_kill -INT "$pgpid"
	rm -rf "$tmp"
}
trap cleanup EXIT

# -p PID --via=helper ARGS, retried for up to 8 s (the child's helper
# starts at its first wait); its exit status in $rc, its output in $tmp/o.
drive() {
	local pid=$1 end=$((SECONDS + 8))
	shift
	rc=1
	while :; do
		"$AT" -p "$pid" --via=helper "$@" >"$tmp/o" 2>&1
		rc=$?
		[ "$rc" = 0 ] || [ "$SECONDS" -ge "$end" ] && return
		sleep 0.2
	done
}

# Threads of PID whose /proc status shows NoNewPrivs 1, and all of them.
nnp() { grep -l '^NoNewPrivs:.1' /proc/"$1"/task/*/status 2>/dev/null | wc -l; }
nthreads() { ls /proc/"$1"/task 2>/dev/null | wc -l; }

for mode in sleep threads; do
	: >"$tmp/$mode"
	ALLTHREADS_HELPER=$AT_HELPER "$AT" run -- "$FIX" "$mode" \
		>"$tmp/$mode" 2>/dev/null </dev/null &
	pids+=($!)
	p= c=
	for _ in $(seq 200); do
		read -r _ p c < <(grep '^ready' "$tmp/$mode")
		[ -n "$c" ] && break
		sleep 0.05
	done
	ok '[ -n "$p" ] && [ -n "$c" ]' \
		"$mode: a parent ${p:-?} under allthreads run, its child ${c:-?} forked in a handler"
	[ -n "$c" ] || continue
	want=2
	[ "$mode" = threads ] && want=5
	drive "$c" prctl KEEP_CAPS 1
	ok '[ "$rc" = 0 ]' \
		"$mode: -p CHILD --via=helper prctl KEEP_CAPS 1: exit $rc ($(head -c 200 "$tmp/o" | tr '\n' ' '))"
	"$AT" -p "$c" --via=helper -J prctl KEEP_CAPS >"$tmp/j" 2>&1
	rc=$?
	ones=$(grep -o '"results":\[1\]' "$tmp/j" | wc -l)
	ok '[ "$rc" = 0 ] && [ "$ones" -ge "$want" ] && [ "$ones" = "$(nthreads "$c")" ]' \
		"$mode: KEEP_CAPS reads 1 on $ones of $(nthreads "$c") threads (exit $rc, $want or more wanted)"
	drive "$c" set --nnp
	cn=$(nnp "$c") ct=$(nthreads "$c") pn=$(nnp "$p")
	ok '[ "$rc" = 0 ] && [ "$cn" = "$ct" ] && [ "$ct" -ge "$want" ] && [ "$pn" = 0 ]' \
		"$mode: set --nnp (exit $rc): /proc shows it on every thread of the child ($cn of $ct), none of the parent's ($pn)"
	ok 'kill -0 "$p" && kill -0 "$c"' "$mode: parent and child still alive"
done

# The start stays out of handlers that interrupted the child itself: a
# child back from the handler it was forked in, now in one of its own
# (which may have interrupted malloc()), has no helper until it returns.
ALLTHREADS_HELPER=$AT_HELPER "$AT" run -- "$FIX" returns "$tmp/flag" \
	>"$tmp/returns" 2>/dev/null </dev/null &
pids+=($!)
p= c=
for _ in $(seq 200); do
	read -r _ p c < <(grep '^ready' "$tmp/returns")
	[ -n "$c" ] && grep -q '^nested' "$tmp/returns" && break
	sleep 0.05
done
ok '[ -n "$c" ] && grep -q "^nested" "$tmp/returns"' \
	"returns: a child ${c:-?}, back from the handler it was forked in, is in one of its own"
if [ -n "$c" ]; then
	sleep 1 # its wait in there is 20 ms: a start would have happened
	"$AT" -p "$c" --via=helper prctl KEEP_CAPS 1 >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ] && [ "$(nthreads "$c")" = 1 ]' \
		"returns: no helper inside it: exit $rc, $(nthreads "$c") thread(s) ($(head -c 120 "$tmp/o" | tr '\n' ' '))"
	touch "$tmp/flag"
	drive "$c" set --nnp
	cn=$(nnp "$c") ct=$(nthreads "$c")
	ok '[ "$rc" = 0 ] && [ "$cn" = "$ct" ] && [ "$ct" -ge 2 ]' \
		"returns: out of it, its helper: set --nnp, exit $rc, on $cn of $ct threads"
fi

# Many children, forked in handlers that interrupted the locks the start
# takes in pthread_create(): each must start its helper there, none hang.
ALLTHREADS_HELPER=$AT_HELPER timeout 60 "$AT" run -- "$FIX" storm 5 \
	>"$tmp/storm" 2>&1 </dev/null
rc=$?
read -r _ forks started bad hung < <(grep '^storm' "$tmp/storm")
ok '[ "$rc" = 0 ] && [ "${forks:-0}" -ge 20 ] && [ "$started" = "$forks" ] && [ "$bad" = 0 ] && [ "$hung" = 0 ]' \
	"storm: ${forks:-?} children forked in handlers, ${started:-?} started their helper there, ${bad:-?} did not, ${hung:-?} hung (exit $rc)"

# A real PostgreSQL: its postmaster starts the walwriter and the launchers
# from its SIGCHLD handler, where they stay.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
caps=$(awk '/^CapEff/ {print $2}' /proc/self/status)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ] || ! id postgres >/dev/null 2>&1; then
	skip "PostgreSQL's children under allthreads run" "PostgreSQL is not installed"
elif ! command -v setpriv >/dev/null || (( !((16#$caps >> 6) & 1) || !((16#$caps >> 7) & 1) )); then
	skip "PostgreSQL's children under allthreads run" "needs setpriv, CAP_SETUID and CAP_SETGID"
else
	pg=$tmp/pg
	# setpriv execs (runuser would stay as the parent), and so does
	# allthreads run: started so, $! is the postmaster.
	as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups
		--reset-env --)
	chmod 0711 "$tmp"
	mkdir -p "$pg/bin" "$pg/sock"
	cp "$AT" "$pg/bin/allthreads"
	cp "$AT_HELPER" "$pg/bin/allthreads-helper.so"
	cp -L "$(dirname "$AT_HELPER")/liballthreads.so.0" "$pg/bin/"
	chmod -R a+rX "$pg/bin"
	chown postgres "$pg" "$pg/sock"
	cd "$pg" || exit 1
	"${as_pg[@]}" "$pgbin/initdb" -D "$pg/data" -A trust >"$tmp/initdb" 2>&1
	rc=$?
	ok '[ "$rc" = 0 ]' "initdb of a PostgreSQL ($pgbin): exit $rc"
	"${as_pg[@]}" env LD_LIBRARY_PATH="$pg/bin" \
		ALLTHREADS_HELPER="$pg/bin/allthreads-helper.so" \
		"$pg/bin/allthreads" run -- "$pgbin/postgres" -D "$pg/data" \
		-k "$pg/sock" -c listen_addresses= >"$tmp/pglog" 2>&1 </dev/null &
	pgpid=$!
	kids=
	for _ in $(seq 600); do
		kids=$(ps --ppid "$pgpid" -o pid=,args= 2>/dev/null |
			grep -E 'walwriter|autovacuum launcher|logical replication launcher')
		[ "$(printf '%s\n' "$kids" | grep -c .)" = 3 ] && break
		sleep 0.1
	done
	ok '[ "$(printf "%s\n" "$kids" | grep -c .)" = 3 ]' \
		"a postmaster $pgpid under allthreads run, with its walwriter and launchers"
	while read -r kid what; do
		[ -n "$kid" ] || continue
		drive "$kid" set --nnp
		cn=$(nnp "$kid") ct=$(nthreads "$kid")
		ok '[ "$rc" = 0 ] && [ "$cn" = "$ct" ] && [ "$ct" -ge 2 ]' \
			"${what#postgres: }: --via=helper set --nnp, exit $rc, on $cn of $ct threads ($(head -c 120 "$tmp/o" | tr '\n' ' '))"
	done <<<"$kids"
	pn=$(nnp "$pgpid")
	ok '[ "$pn" = 0 ]' "none of the postmaster's threads changed ($pn)"
	kill -INT "$pgpid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
	ok '! kill -0 "$pgpid" 2>/dev/null' "the postmaster stops at SIGINT"
	pgpid=
fi
echo "1..$n"
[ "$failed" = 0 ]
