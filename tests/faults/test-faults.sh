#!/bin/bash
# test-faults.sh - faults in the middle of requests through the helper:
# the target exits, execs, forks or is stopped; the command is SIGKILLed
# at random points of a `set` on a 500-thread target; a stale socket of a
# dead pid; the socket directory replaced by a symlink or made by another
# user; RLIMIT_SIGPENDING low in the target.  After each: no thread left
# held in the engine's handler, the threads agree (or `check` names the
# ones that differ), the target runs (its heartbeat moves), and nothing
# hangs (every command under a timeout).
#
#   test-faults.sh PATH-TO-ALLTHREADS  (AT_HELPER, AT_FAULTY set;
#                                       AT_FAULT_KILLS: kills, default 30)
set -u
AT_SRC=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_FAULTY:?}"
KILLS=${AT_FAULT_KILLS:-30}
. "$(dirname "$0")/../pids.sh"
n=0 failed=0 faults=0
ok() { # COND DESC (a DESC ending in "# TODO ..." is a known failure)
	n=$((n + 1))
	if eval "$1"; then echo "ok $n - $2"; else
		echo "not ok $n - $2"
		case $2 in *"# TODO "*) ;; *) failed=$((failed + 1)) ;; esac
	fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
has_cap() {
	local eff
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	(( (16#$eff >> $1) & 1 ))
}
U1=1234 U2=1235
pids=()
tmp=$(mktemp -d)
cleanup() {
	t_kill -KILL "${pids[@]}"
	rm -rf "$tmp"
	[ -L /tmp/allthreads-$U1 ] && rm -f /tmp/allthreads-$U1
	[ "$(stat -c %u /tmp/allthreads-$U1 2>/dev/null)" = "$U2" ] &&
		rm -rf /tmp/allthreads-$U1
	[ -n "${stale:-}" ] && rm -f "$stale"
}
trap cleanup EXIT

# Copies other users can run (and root too, for one tree).
d=$tmp/bin
mkdir -p "$d"
cp "$AT_SRC" "$d/allthreads"
cp "$AT_HELPER" "$d/allthreads-helper.so"
cp -L "$(dirname "$AT_HELPER")/liballthreads.so.0" "$d/"
cp "$AT_FAULTY" "$d/faulty"
chmod 755 "$tmp" "$d" "$d"/*
# The copies find their library in their own directory.
export LD_LIBRARY_PATH=$d ALLTHREADS_HELPER=$d/allthreads-helper.so
AT="$d/allthreads"
AT_ANY=$AT
# These cells are the helper route's: where the command can choose its
# route (--via, default auto), pin it, so a target without a helper is
# not reached through ptrace instead (run takes no route: it starts the
# target, through $AT_ANY).
if "$AT" --help 2>&1 | grep -q -- '--via='; then
	printf '#!/bin/sh\nexec "%s" --via=helper "$@"\n' "$AT" >"$d/at-helper"
	chmod 755 "$d/at-helper"
	AT_ANY=$AT
	AT="$d/at-helper"
fi
export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0

# start NAME NTHREADS [WRAPPER...]: a faulty target under `allthreads run`;
# sets $p and $beat (its heartbeat file).
start() {
	local name=$1 nth=$2 out
	shift 2
	out=$tmp/$name.out
	beat=$tmp/$name.beat
	: >"$beat"
	chmod 666 "$beat"
	"$@" "$AT_ANY" run "$d/faulty" "$nth" "$beat" >"$out" 2>"$out.err" </dev/null &
	pids+=($!)
	p=
	# A bound for a hang, not a measure of speed: 200 threads under
	# ASan on a machine whose load is far above its cores may take
	# tens of seconds to start.
	local until=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$until" ]; do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.025
	done
	p=$(awk '/^ready/ {print $2; exit}' "$out")
	[ -n "$p" ] && pids+=("$p")
}

# The engine's signal (SIGRTMAX - 1) is blocked in a thread only while it
# runs the engine's handler (the helper keeps it out of every mask the
# program sets); the receiver thread blocks everything and is left out
# (by its mask: `prctl NAME` renames it too).
held() { # PID: how many threads sit in the engine's handler now
	# Bit 62 of SigBlk is in its first hexadecimal digit (bits 60-63).
	awk '/^SigBlk:/ { d = index("0123456789abcdef", substr($2, 1, 1)) - 1
			  if (int(d / 4) % 2 && $2 !~ /^fffffff/) c++ }
	     END { print c + 0 }' /proc/"$1"/task/*/status 2>/dev/null
}
settled() { # PID: wait (at most 10 s) until no thread is held
	local i
	for i in $(seq 200); do
		[ "$(held "$1")" = 0 ] && return 0
		sleep 0.05
	done
	return 1
}
beats() { tr -d ' \n' <"$1"; }
runs() { # HEARTBEAT-FILE: the heartbeat moves within 10 s
	local a b i
	a=$(beats "$1")
	for i in $(seq 200); do
		sleep 0.05
		b=$(beats "$1")
		[ "$b" != "$a" ] && return 0
	done
	return 1
}
after() { # WHAT: nothing held in $p, its heartbeat moves
	local h=0 r=0
	settled "$p" || h=$(held "$p")
	runs "$beat" || r=1
	ok '[ "$h" = 0 ] && [ "$r" = 0 ]' \
		"$1: nothing held ($h threads), the heartbeat moves ($(beats "$beat"))"
}
named() { cat /proc/"$1"/task/*/comm 2>/dev/null | grep -cx "$2"; }
bounded() { timeout -k 5 30 "$@"; }

# --- the target goes away, changes or stops mid-request ------------------------

# Exits: killed 0-40 ms into a request on 200 threads.
for delay in 0 0.005 0.01 0.02 0.04; do
	start exit 200
	[ -n "$p" ] || { ok false "a 200-thread target started"; continue; }
	bounded "$AT" -p "$p" prctl NAME gone >"$tmp/o" 2>&1 &
	c=$!
	sleep "$delay"
	kill -9 "$p"
	faults=$((faults + 1))
	wait "$c"
	rc=$?
	ok '[ "$rc" = 0 ] || [ "$rc" = 2 ] || [ "$rc" = 3 ]' \
		"target killed ${delay}s into a request: the command ends, exit $rc ($(head -c 100 "$tmp/o" | tr '\n#' '  '))"
done

# Execs: the image changes under the request; afterwards the new image
# has a helper of its own and the threads agree.
for delay in 0 0.01 0.03; do
	start exec 200
	[ -n "$p" ] || { ok false "a 200-thread target started"; continue; }
	bounded "$AT" -p "$p" prctl NAME pre-exec >"$tmp/o" 2>&1 &
	c=$!
	sleep "$delay"
	kill -USR1 "$p"
	faults=$((faults + 1))
	wait "$c"
	rc=$?
	for _ in $(seq 1200); do
		[ "$(grep -c '^ready' "$tmp/exec.out")" -ge 2 ] && break # 30 s
		sleep 0.025
	done
	ok '[ "$rc" -lt 64 ]' "exec ${delay}s into a request: the command ends, exit $rc"
	bounded "$AT" -q -p "$p" prctl NAME post-exec >"$tmp/o2" 2>&1
	rc2=$?
	ok '[ "$rc2" = 0 ] && [ "$(named "$p" post-exec)" = "$(ls /proc/$p/task | wc -l)" ]' \
		"after the exec the new image is reached, every thread changed (exit $rc2)"
	after "after the exec"
	kill -9 "$p"
done

# An exec storm under requests: the target execs itself 40 times in a
# row while a client keeps sending it requests.  An engine signal that
# reaches a thread inside execve(2) must not kill the new image (it did,
# before the helper blocked the signal around exec).
start storm 50 env FAULTY_EXECS=40
if [ -n "$p" ]; then
	( while [ -d /proc/"$p" ] && [ "$(grep -c '^ready' "$tmp/storm.out")" -le 40 ]; do
		timeout 10 "$AT" -q -p "$p" prctl NAME storm >/dev/null 2>&1
	done ) &
	c=$!
	for _ in $(seq 1200); do
		[ "$(grep -c '^ready' "$tmp/storm.out")" -gt 40 ] && break
		[ -d /proc/"$p" ] || break
		sleep 0.025
	done
	kill "$c" 2>/dev/null
	wait "$c" 2>/dev/null
	execs=$(($(grep -c '^ready' "$tmp/storm.out") - 1))
	faults=$((faults + execs))
	ok '[ -d /proc/"$p" ] && [ "$execs" = 40 ]' \
		"exec storm under requests: the target survives every exec ($execs of 40; $(grep -v '^ready' "$tmp/storm.out.err" | head -c 100 | tr '\n#' '  '))"
	after "after the exec storm"
	kill -9 "$p"
else
	ok false "the exec storm target started"
fi

# Forks: a child appears while the request runs; the parent's threads
# all change, the child (its own process) is not counted among them.
start fork 200
bounded "$AT" -p "$p" prctl NAME forked >"$tmp/o" 2>&1 &
c=$!
sleep 0.005
kill -USR2 "$p"
faults=$((faults + 1))
wait "$c"
rc=$?
ok '[ "$rc" = 0 ] && [ "$(named "$p" forked)" = "$(ls /proc/$p/task | wc -l)" ]' \
	"fork during a request: exit $rc, every thread of the parent changed"
after "after the fork"
kill -9 "$p"

# Stopped: the command gives up (exit 3); after SIGCONT the target runs,
# nothing is held, and the abandoned request must not be carried out
# later (issue 12 item 5).
start stop 50
kill -STOP "$p"
faults=$((faults + 1))
bounded "$AT" -p "$p" --timeout=1000 prctl NAME late >"$tmp/o" 2>&1
rc=$?
kill -CONT "$p"
ok '[ "$rc" = 3 ]' "stopped target: the command gives up, exit $rc ($(head -c 100 "$tmp/o" | tr '\n#' '  '))"
after "after SIGCONT"
sleep 0.5
ok '[ "$(named "$p" late)" = 0 ]' \
	"a request the command gave up on is not carried out later ($(named "$p" late) threads changed)"
kill -9 "$p"

# --- the command killed at random points of a recipe --------------------------

start kill500 500
if [ -n "$p" ]; then
	bad_held=0 bad_check=0 bad_beat=0
	for i in $(seq "$KILLS"); do
		v=$((i % 2))
		"$AT" -q -p "$p" set --keep-caps=$v --securebits=0 \
			--bounding-set=-cap_sys_boot >/dev/null 2>&1 &
		c=$!
		sleep "0.$(printf '%03d' $((RANDOM % 150)))"
		kill -9 "$c" 2>/dev/null
		faults=$((faults + 1))
		wait "$c" 2>/dev/null
		settled "$p" || bad_held=$((bad_held + 1))
		# Agree, or check says exactly which differ (one line per
		# thread that differs, exit 1).
		bounded "$AT" -p "$p" check >"$tmp/chk" 2>"$tmp/chk.err"
		rc=$?
		if [ "$rc" = 1 ]; then
			grep -qE '^tid [0-9]+: ' "$tmp/chk" || bad_check=$((bad_check + 1))
		elif [ "$rc" != 0 ]; then
			bad_check=$((bad_check + 1))
		fi
		runs "$beat" || bad_beat=$((bad_beat + 1))
	done
	ok '[ "$bad_held" = 0 ]' "CLI killed $KILLS times mid-recipe on 500 threads: no thread left held ($bad_held times)"
	ok '[ "$bad_check" = 0 ]' "after each kill the threads agree or check names those that differ ($bad_check bad)"
	ok '[ "$bad_beat" = 0 ]' "after each kill the target runs ($bad_beat times stalled)"
	bounded "$AT" -q -p "$p" set --keep-caps=0 >/dev/null 2>&1
	ok '[ $? = 0 ]' "a later recipe on the same target succeeds"
	kill -9 "$p"
else
	ok false "a 500-thread target started"
fi

# --- the socket's place -----------------------------------------------------------

# A stale socket left by a dead pid in root's directory: a new helper
# removes it, and the command says the pid does not exist.
dead=$( (exit 0) & echo $!)
wait 2>/dev/null
while [ -d /proc/"$dead" ]; do dead=$((dead + 1)); done
dir=/run/allthreads/0
[ -d "$dir" ] || dir=/tmp/allthreads-0
if [ -d "$dir" ] && command -v python3 >/dev/null; then
	stale=$dir/$dead.sock
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$stale"
	faults=$((faults + 1))
	start stale 4
	ok '[ -n "$p" ] && [ ! -e "$stale" ]' "a stale socket of dead pid $dead is removed by the next helper"
	bounded "$AT" -p "$dead" prctl NAME x >"$tmp/o" 2>&1
	rc=$?
	ok '[ "$rc" = 3 ]' "the command on the dead pid: exit $rc ($(head -c 100 "$tmp/o" | tr '\n#' '  '))"
	kill -9 "$p"
	rm -f "$stale"
else
	skip "stale socket" "no socket directory or python3"
	skip "stale socket: the command" "no socket directory or python3"
fi

if has_cap 6 && has_cap 7 && command -v setpriv >/dev/null; then
	as() { setpriv --reuid="$1" --regid="$1" --clear-groups "${@:2}"; }
	# The socket directory of U1 replaced by a symlink (to a directory
	# U1 owns, so only the link is wrong): the helper refuses it and
	# creates nothing through it; nothing is changed.
	rm -rf /tmp/allthreads-$U1
	mkdir -p "$tmp/elsewhere"
	chown $U1:$U1 "$tmp/elsewhere"
	chmod 700 "$tmp/elsewhere"
	ln -s "$tmp/elsewhere" /tmp/allthreads-$U1
	faults=$((faults + 1))
	start symlink 4 as $U1
	bounded "$AT" -p "$p" prctl NAME via-link >"$tmp/o" 2>&1
	rc=$?
	ok '[ -n "$p" ] && [ -z "$(ls -A "$tmp/elsewhere")" ] && [ "$rc" = 3 ] && [ "$(named "$p" via-link)" = 0 ]' \
		"socket directory is a symlink: refused, nothing made through it, exit $rc, nothing changed"
	kill -9 "$p"
	rm -f /tmp/allthreads-$U1

	# Made by another user (U2, even private): refused as well.
	mkdir /tmp/allthreads-$U1
	chown $U2:$U2 /tmp/allthreads-$U1
	chmod 777 /tmp/allthreads-$U1
	faults=$((faults + 1))
	start precreated 4 as $U1
	bounded "$AT" -p "$p" prctl NAME in-theirs >"$tmp/o" 2>&1
	rc=$?
	ok '[ -n "$p" ] && [ -z "$(ls -A /tmp/allthreads-$U1)" ] && [ "$rc" = 3 ] && [ "$(named "$p" in-theirs)" = 0 ]' \
		"socket directory made by uid $U2: refused, no socket in it, exit $rc, nothing changed"
	kill -9 "$p"
	rm -rf /tmp/allthreads-$U1
else
	skip "socket directory a symlink" "needs CAP_SETUID, CAP_SETGID and setpriv"
	skip "socket directory made by another user" "needs CAP_SETUID, CAP_SETGID and setpriv"
fi

# --- RLIMIT_SIGPENDING low in the target ----------------------------------------
# 200 threads, at most 4 queued signals: the engine cannot signal every
# thread at once.  Whatever the outcome, it is said (exit 0, or 1/2 with
# the threads named), nothing is left held, check agrees with what was
# said, and the target runs.
if command -v prlimit >/dev/null; then
	start sigpending 200
	if prlimit --pid "$p" --sigpending=4:4 2>/dev/null; then
		faults=$((faults + 1))
		bounded "$AT" -p "$p" --timeout=5000 prctl NAME few-slots >"$tmp/o" 2>&1
		rc=$?
		got=$(named "$p" few-slots)
		all=$(ls /proc/"$p"/task | wc -l)
		ok '[ "$rc" = 0 ] && [ "$got" = "$all" ] || { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } && [ -s "$tmp/o" ]' \
			"RLIMIT_SIGPENDING 4, 200 threads: exit $rc, $got of $all changed ($(head -c 120 "$tmp/o" | tr '\n#' '  '))"
		after "RLIMIT_SIGPENDING 4"
	else
		skip "RLIMIT_SIGPENDING" "prlimit on the target failed"
		skip "RLIMIT_SIGPENDING: after" "prlimit on the target failed"
	fi
	kill -9 "$p"
else
	skip "RLIMIT_SIGPENDING" "no prlimit"
	skip "RLIMIT_SIGPENDING: after" "no prlimit"
fi

echo "# faults injected: $faults"
echo "1..$n"
[ "$failed" = 0 ]
