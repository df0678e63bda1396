#!/bin/bash
# test-systemd.sh - the units in examples/systemd, without systemd as PID
# 1: the ExecStart= and ExecStartPost= lines are read out of the unit files
# (and the drop-in), $MAINPID substituted, and run as systemd would run
# them (NoNewPrivileges=yes through setpriv --no-new-privs); every
# ExecStartPost must succeed, and must fail when what it guards is not so.
# `systemd-analyze verify` checks the units where systemd is installed.
#
#   test-systemd.sh ALLTHREADS   (env: AT_UNITS, the examples/systemd dir)
. "$(dirname "$0")/tap.sh"
UNITS=${AT_UNITS:?AT_UNITS: examples/systemd}
if [ ! -x "$AT" ]; then
	echo "1..0 # SKIP $AT is not installed"
	exit 0
fi
MAIN=
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	[ -n "$MAIN" ] && kill "$MAIN" 2>/dev/null && wait "$MAIN" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# KEY's values in FILE... (later files append; an empty value resets).
unit_values() {
	local key=$1 file line
	shift
	for file in "$@"; do
		while IFS= read -r line; do
			case $line in
			"$key=") echo "<reset>" ;;
			"$key="*) echo "${line#"$key="}" ;;
			esac
		done <"$file"
	done | awk '/^<reset>$/ { n = 0; next } { v[n++] = $0 }
		END { for (i = 0; i < n; i++) print v[i] }'
}

# A unit's command line as words in CMD (systemd's quoting is the
# shell's for these lines): $$ is $, $MAINPID the main pid, and the
# allthreads under test stands for /usr/bin/allthreads.
to_words() {
	local line=${1//\$\$/@DOLLAR@}
	line=${line//\$\{MAINPID\}/$2}
	line=${line//\$MAINPID/$2}
	line=${line//@DOLLAR@/\$}
	line=${line//\/usr\/bin\/allthreads/$AT}
	eval "CMD=($line)"
}

# start_main FILE...: ExecStart, as the unit says, in the background.
start_main() {
	local start nnp
	start=$(unit_values ExecStart "$@" | tail -1)
	nnp=$(unit_values NoNewPrivileges "$@" | tail -1)
	to_words "$start" ""
	[ "$nnp" = yes ] && CMD=(setpriv --no-new-privs "${CMD[@]}")
	[ -n "${SUBST_PROGRAM:-}" ] &&
		CMD=("${CMD[@]/\/usr\/bin\/sleep/$SUBST_PROGRAM}")
	[ -n "${SUBST_PROGRAM:-}" ] && CMD=("${CMD[@]/infinity/2}")
	"${CMD[@]}" >"$T_TMP/main.out" 2>&1 &
	MAIN=$!
	export MAINPID=$MAIN
}

stop_main() {
	kill "$MAIN" 2>/dev/null
	wait "$MAIN" 2>/dev/null
	MAIN=
}

# run_posts DESC FILE...: every ExecStartPost in order; each must exit 0.
run_posts() {
	local desc=$1 post n=0 bad=0
	shift
	while IFS= read -r post; do
		n=$((n + 1))
		to_words "$post" "$MAIN"
		run "${CMD[@]}"
		if [ "$rc" != 0 ]; then
			bad=$n
			break
		fi
	done < <(unit_values ExecStartPost "$@")
	local why=
	[ "$bad" = 0 ] || why=" (line $bad: exit $rc)"
	ok "[ $n -gt 0 ] && [ $bad = 0 ]" "$desc: $n ExecStartPost line(s) succeed$why"
}

# The helper must answer before anything is judged (the main process
# may still be in allthreads run's exec when ExecStartPost starts; the
# check lines read /proc and need no helper).
wait_exec() {
	local i
	for i in $(seq 100); do
		grep -q allthreads-helper "/proc/$MAIN/maps" 2>/dev/null &&
			return 0
		sleep 0.05
	done
	return 1
}

U=$UNITS/allthreads-example.service
ok '[ -f "$U" ]' "the example unit is there"
start_main "$U"
wait_exec
ok '[ $? = 0 ]' "example unit: ExecStart runs the service under the helper"
run_posts "example unit" "$U"
at -p "$MAIN" check --expect NoNewPrivs=1
rc_is 0 "example unit: every thread has NO_NEW_PRIVS"
stop_main

# The same post-start check must fail when the unit lacks the setting.
grep -v '^NoNewPrivileges=' "$U" >"$T_TMP/no-nnp.service"
start_main "$T_TMP/no-nnp.service"
wait_exec
to_words "$(unit_values ExecStartPost "$T_TMP/no-nnp.service")" "$MAIN"
run "${CMD[@]}"
rc_is 1 "example unit without NoNewPrivileges=yes: the ExecStartPost check fails"
stop_main

D=$UNITS/exampled.service
DROP=$UNITS/exampled.service.d/allthreads.conf
start_main "$D" "$DROP"
wait_exec
ok '[ $? = 0 ]' "drop-in: the daemon now starts under the helper"
run_posts "drop-in" "$D" "$DROP"
run grep -E '^(NoNewPrivs|CapBnd):' "/proc/$MAIN/status"
bnd=$(printf '%s\n' "$out" | awk '/^CapBnd/ { print $2 }')
ok '[ -n "$bnd" ] && (( !((0x$bnd >> 16) & 1) && !((0x$bnd >> 17) & 1) ))' \
	"drop-in: the running daemon lost CAP_SYS_MODULE and CAP_SYS_RAWIO"
stop_main

# The drop-in on a threaded daemon: the threads differ before, all agree
# after (the fixture's thread 1 alone sets NO_NEW_PRIVS).
if has_cap 8; then
	SUBST_PROGRAM=$AT_FIXTURE start_main "$D" "$DROP"
	for i in $(seq 100); do
		grep -q '^ready' "$T_TMP/main.out" 2>/dev/null && break
		sleep 0.05
	done
	at -p "$MAIN" check --expect NoNewPrivs=1
	rc_is 1 "threaded daemon before the drop-in's change: the check fails"
	run_posts "drop-in on a threaded daemon" "$D" "$DROP"
	# The bounding set it started with (this shell's: a host's may lack
	# some already) less CAP_SYS_MODULE and CAP_SYS_RAWIO (16, 17).
	bnd=$(awk '/^CapBnd/ { print $2 }' /proc/self/status)
	bnd=$(printf '%016x' $((0x$bnd & ~(3 << 16))))
	at -p "$MAIN" -v check --expect NoNewPrivs=1 -e "CapBnd=$bnd"
	out_like '4 thread\(s\) agree' "threaded daemon: all 4 threads (2 workers, main, the helper's) hardened"
	stop_main
else
	skip "drop-in on a threaded daemon" "needs CAP_SETPCAP"
fi

# systemd's own reading of the units (executables resolved: a copy that
# names the allthreads under test).
if command -v systemd-analyze >/dev/null; then
	v=$T_TMP/verify
	mkdir -p "$v/exampled.service.d"
	for f in allthreads-example.service exampled.service \
		exampled.service.d/allthreads.conf; do
		sed "s|/usr/bin/allthreads|$AT|g" "$UNITS/$f" >"$v/$f"
	done
	run systemd-analyze verify --man=no "$v/allthreads-example.service" \
		"$v/exampled.service"
	ok '[ "$rc" = 0 ] && ! printf "%s\n" "$err" | grep -qiE "unknown|invalid|ignoring"' \
		"systemd-analyze verify: the units and the drop-in"
else
	skip "systemd-analyze verify" "systemd is not installed"
fi

done_testing
