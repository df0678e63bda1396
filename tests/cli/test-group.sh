#!/bin/bash
# test-group.sh - targets that name a group of processes: -p as pidof and
# pgrep print it, --cgroup (a cgroup v2 directory, recursively) and --unit
# (a systemd unit's control group); one verdict and one exit status for
# the group; a mixed outcome exits 2 and one predicted refuses up front;
# the race with a service that forks while it changes is closed (a
# fixture forking workers, and nginx when it is installed).
#
#   test-group.sh ALLTHREADS
. "$(dirname "$0")/tap.sh"

KIDS=()
CG=
UNIT_DIR=
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	local p
	for p in "${KIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	[ -f "$T_TMP/nginx.pid" ] && kill -9 "$(cat "$T_TMP/nginx.pid")" \
		2>/dev/null
	[ -n "$CG" ] && remove_cgroup "$CG"
	[ -n "$UNIT_DIR" ] && remove_cgroup "$UNIT_DIR"
	wait 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# Kill every process of cgroup $1 and below, then remove them (bounded).
remove_cgroup() {
	local i d
	for i in $(seq 100); do
		find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null |
			xargs -r kill -9 2>/dev/null
		find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$1" ] || return 0
		sleep 0.05
	done
}

nnp() {
	awk '/^NoNewPrivs:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Does process $1's bounding set hold capability $2?
bnd_has() {
	local b
	b=$(awk '/^CapBnd:/ { print $2 }' "/proc/$1/status")
	(((0x$b >> $2) & 1))
}

# A process that sleeps, started in cgroup $1 (or none): its pid in $KID.
start_kid() {
	if [ -n "${1:-}" ]; then
		(echo "$BASHPID" >"$1/cgroup.procs" && exec sleep 120) &
	else
		sleep 120 &
	fi
	KID=$!
	KIDS+=("$KID")
}

# Wait (bounded) until cgroup $1 holds $2 processes.
has_procs() {
	[ "$(wc -l <"$1/cgroup.procs")" -ge "$2" ]
}
wait_procs() {
	wait_until 5 has_procs "$1" "$2"
}

# -p as pidof and pgrep print it: blanks, newlines, commas; duplicates
# folded; decimal only.
start_kid
A=$KID
start_kid
B=$KID
at -J -p "$A
$B" check
rc_is 0 "-p with pgrep's newline-separated list"
jq_ok '.processes | length == 2' "one group, both processes in it"
jq_ok '.verdict == "agree" and .exit == 0' "the group's one verdict"
at -J -p "$A $B $A,$B" show
rc_is 0 "-p with duplicates"
jq_ok '[.processes[].pid] == ['"$A,$B"']' "duplicates folded"
at -p "$A x$B" set --nnp
rc_is 64 "-p with a word that is not a pid"
err_like 'not a process id' "-p x$B: says why"
ok '[ "$(nnp "$A")" = 0 ]' "a bad -p list changes nothing"
at -p "$A,0x10" set --nnp
rc_is 64 "-p with a hexadecimal pid"
ok '[ "$(nnp "$A")" = 0 ]' "0x10 in the list changes nothing"

# A mixed outcome: a root process and a nobody one lacking CAP_SETPCAP;
# dropping from the bounding set works on the first only.
if ! has_cap 8 || ! has_cap 19 || ! command -v setpriv >/dev/null; then
	skip "mixed outcome" "needs CAP_SETPCAP, CAP_SYS_PTRACE and setpriv"
else
	start_kid
	R=$KID
	setpriv --reuid=65534 --regid=65534 --clear-groups sleep 120 &
	U=$!
	KIDS+=("$U")
	sleep 0.2
	at -p "$R $U" set --bounding-set=-net_raw
	rc_is 1 "a change predicted to fail on one process is refused"
	err_like "refused, nothing changed in any process" "refusal: says so"
	err_like "CAP_SETPCAP" "refusal: says why"
	ok 'bnd_has "$R" 13' "refused: the root process kept cap_net_raw too"
	at -J --force -p "$R $U" set --bounding-set=-net_raw
	rc_is 2 "--force: some changed, some did not: threads differ"
	jq_ok '.verdict == "partial" and .exit == 2' "JSON: partial, exit 2"
	jq_ok '[.processes[] | select(.outcome == "changed") | .pid] == ['"$R"']' \
		"JSON: the root process changed"
	jq_ok '[.processes[] | select(.outcome == "unchanged") | .pid] == ['"$U"']' \
		"JSON: the nobody process did not"
	jq_ok 'all(.processes[]; .report.command == "set")' \
		"JSON: each process's own report"
	ok '! bnd_has "$R" 13' "--force: the root process lost cap_net_raw"
	start_kid
	R=$KID
	at --force -p "$R $U" set --bounding-set=-net_raw
	rc_is 2 "--force, words: exit 2"
	err_like "not changed: $U" "words: names the process not changed"
	err_like "changed: $R" "words: names the process changed"
	err_like "PROCESSES DIFFER" "words: says the group differs"
fi

CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break;
	if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
if [ -z "$CG2" ] || ! has_cap 19 || ! has_cap 21 ||
	! mkdir "$CG2/at-test-group-$$" 2>/dev/null; then
	skip "--cgroup, --unit and the fork race" \
		"needs a writable cgroup v2 mount, CAP_SYS_PTRACE, CAP_SYS_ADMIN"
	done_testing
	exit
fi
CG=$CG2/at-test-group-$$
NAME=at-test-group-$$
mkdir "$CG/a" "$CG/a/b"
start_kid "$CG"
start_kid "$CG/a"
start_kid "$CG/a/b"
wait_procs "$CG/a/b" 1

at -J --cgroup "$NAME" check
rc_is 0 "--cgroup relative to the cgroup2 mount"
jq_ok '.processes | length == 3' "--cgroup: every process, recursively"
jq_ok '.group.cgroup == "'"$CG"'"' "JSON: the cgroup's directory"
at --cgroup "$CG" check -e NoNewPrivs=1
rc_is 1 "check -e NoNewPrivs=1 before: fails"
at --cgroup "$CG" set --nnp
rc_is 0 "--cgroup set --nnp"
ok '[ "$(cat "$CG"/cgroup.procs "$CG"/a/cgroup.procs "$CG"/a/b/cgroup.procs |
	while read -r p; do nnp "$p"; done | sort -u)" = 1 ]' \
	"every process of the cgroup has NoNewPrivs 1"
at --cgroup "$CG" check -e NoNewPrivs=1
rc_is 0 "check -e NoNewPrivs=1 on the group"
at --cgroup "$NAME" audit --expect NoNewPrivs=1
rc_is 0 "audit --cgroup --expect NoNewPrivs=1 after the change"
err_like "audit: 3 process\(es\)" "audit --cgroup: the group's three processes"
at --cgroup "$NAME" audit --expect NoNewPrivs=0 --noheadings --raw
rc_is 1 "audit --cgroup --expect NoNewPrivs=0: every process fails"
ok '[ "$(printf "%s\n" "$out" | grep -c " expect NoNewPrivs ")" = 3 ]' \
	"audit --cgroup: each of the three named"
at --cgroup /tmp show
rc_is 64 "--cgroup of a directory that is not a cgroup"
at --cgroup "$NAME/none" show
rc_is 3 "--cgroup that does not exist"
mkdir "$CG/empty"
at --cgroup "$CG/empty" show
rc_is 3 "--cgroup with no process"
err_like "no process in this cgroup" "empty cgroup: says so"

# Each process through its own route: one under the helper (allthreads
# run), one without (ptrace), both threaded.
if [ -n "${AT_HELPER:-}" ] && [ -r "$AT_HELPER" ]; then
	mkdir "$CG/routes"
	(echo "$BASHPID" >"$CG/routes/cgroup.procs" &&
		ALLTHREADS_HELPER=$AT_HELPER exec "$AT" run -- \
			"$AT_FIXTURE" 3 >"$T_TMP/helped.out") &
	HELPED=$!
	KIDS+=("$HELPED")
	(echo "$BASHPID" >"$CG/routes/cgroup.procs" &&
		exec "$AT_FIXTURE" 3 >"$T_TMP/plain.out") &
	PLAIN=$!
	KIDS+=("$PLAIN")
	for i in $(seq 100); do
		grep -q '^ready' "$T_TMP/helped.out" "$T_TMP/plain.out" \
			2>/dev/null && [ "$(grep -l '^ready' "$T_TMP/helped.out" \
			"$T_TMP/plain.out" | wc -l)" = 2 ] && break
		sleep 0.05
	done
	# The fixture's thread 1 has set NoNewPrivs on itself.
	nnps() {
		cat /proc/"$HELPED"/task/*/status /proc/"$PLAIN"/task/*/status |
			awk '/^NoNewPrivs:/ { print $2 }'
	}
	before=$(nnps)
	at -J --via=helper --cgroup "$CG/routes" set --nnp
	rc_is 1 "--via=helper, one process without a helper: refused"
	jq_ok '.verdict == "refused"' "JSON: refused"
	jq_ok '[.processes[] | select(.outcome == "refused") | .pid] == ['"$PLAIN"']' \
		"JSON: the process without a helper is the one refused"
	ok '[ "$(nnps)" = "$before" ] && [ "$(nnps | sort -u)" != 1 ]' \
		"refused: no thread of either process changed"
	at --cgroup "$CG/routes" set --nnp
	rc_is 0 "--via=auto: the helper for one, ptrace for the other"
	ok '[ "$(nnps | sort -u)" = 1 ]' \
		"every thread of both processes changed"
	ok '[ "$(ls /proc/"$PLAIN"/task | wc -l)" -ge 4 ] &&
		[ "$(ls /proc/"$HELPED"/task | wc -l)" -ge 5 ]' \
		"the processes were threaded (the helper's receiver too)"
else
	skip "routes in a group" "no helper in this build"
fi

# --unit, where systemd does not run: system.slice/NAME.service.
at --unit 'a/b' show
rc_is 64 "--unit with a slash"
if [ -d /run/systemd/system ]; then
	skip "--unit's fallback" "systemd runs here: --unit asks it"
elif [ ! -d "$CG2/system.slice" ] && ! mkdir "$CG2/system.slice"; then
	skip "--unit's fallback" "cannot make $CG2/system.slice"
else
	UNIT_DIR=$CG2/system.slice/$NAME.service
	mkdir "$UNIT_DIR"
	start_kid "$UNIT_DIR"
	wait_procs "$UNIT_DIR" 1
	at --unit "$NAME" check -e NoNewPrivs=0
	rc_is 0 "--unit NAME: NAME.service's cgroup"
	at --unit "$NAME.service" set --nnp
	rc_is 0 "--unit NAME.service set --nnp"
	at --unit "$NAME" check -e NoNewPrivs=1
	rc_is 0 "--unit: the change is there"
	at --unit "$NAME-none" show
	rc_is 3 "--unit that is not there"
	err_like "systemd does not run here" "--unit not there: says where it looked"
fi

# The fork race: a master that forks a long-lived worker every 20 ms.
# Workers forked before the master changed keep NoNewPrivs 0 unless the
# group is listed again after the change.
mkdir "$CG/race"
(
	echo "$BASHPID" >"$CG/race/cgroup.procs" || exit 1
	for i in $(seq 300); do
		sleep 60 &
		sleep 0.02
	done
	wait
) &
KIDS+=("$!")
wait_procs "$CG/race" 20
T_LIMIT=60 at --timeout=30000 --cgroup "$CG/race" -v set --nnp
rc_is 0 "a pre-fork master forking workers during the change"
out_like "listed again [0-9]+ time\(s\), the last finding none unchanged" \
	"the group was listed again until none was unchanged"
left=$(cat "$CG/race/cgroup.procs" | while read -r p; do
	[ "$(nnp "$p")" = 0 ] && echo "$p"
done)
ok '[ -z "$left" ]' "no process of the group kept NoNewPrivs 0 ($left)"
ok '[ "$(cat "$CG/race/cgroup.procs" | wc -l)" -gt 20 ]' \
	"the workers were there to be changed"
at --cgroup "$CG/race" check -e NoNewPrivs=1
rc_is 0 "check -e NoNewPrivs=1 on the forking group"

# nginx, a real pre-fork server: its master and workers, reloaded (new
# workers forked) while it changes.
if ! command -v nginx >/dev/null || ! command -v curl >/dev/null; then
	skip "nginx" "nginx or curl not installed"
else
	mkdir "$CG/nginx" "$T_TMP/nginx"
	PORT=$((20000 + $$ % 20000))
	cat >"$T_TMP/nginx.conf" <<-EOF
		daemon off;
		master_process on;
		worker_processes 4;
		user nobody nogroup;
		pid $T_TMP/nginx.pid;
		error_log $T_TMP/nginx/error.log info;
		events { worker_connections 64; }
		http {
			access_log off;
			client_body_temp_path $T_TMP/nginx;
			proxy_temp_path $T_TMP/nginx;
			fastcgi_temp_path $T_TMP/nginx;
			uwsgi_temp_path $T_TMP/nginx;
			scgi_temp_path $T_TMP/nginx;
			server {
				listen 127.0.0.1:$PORT;
				location / { return 200 "allthreads-ok\\n"; }
			}
		}
	EOF
	(echo "$BASHPID" >"$CG/nginx/cgroup.procs" &&
		exec nginx -c "$T_TMP/nginx.conf" -p "$T_TMP/nginx") &
	KIDS+=("$!")
	wait_procs "$CG/nginx" 5
	(for i in $(seq 10); do
		nginx -c "$T_TMP/nginx.conf" -p "$T_TMP/nginx" -s reload \
			2>/dev/null
		sleep 0.1
	done) &
	RELOADS=$!
	# Clients all through the change: every request answered, and
	# answered right (at most 60 s, until told to stop).
	client() {
		local good=0 bad=0 end=$((SECONDS + 60))

		while [ ! -e "$T_TMP/stop-clients" ] && [ $SECONDS -lt $end ]; do
			if [ "$(curl -s --max-time 10 "http://127.0.0.1:$PORT/")" = \
				allthreads-ok ]; then
				good=$((good + 1))
			else
				bad=$((bad + 1))
			fi
		done
		echo "$good $bad" >"$T_TMP/client.$1"
	}
	client 1 &
	C1=$!
	client 2 &
	C2=$!
	T_LIMIT=60 at --timeout=30000 --cgroup "$CG/nginx" -v set --nnp
	rc_is 0 "nginx master and workers, reloading: set --nnp"
	wait "$RELOADS"
	sleep 0.5
	touch "$T_TMP/stop-clients"
	wait "$C1" "$C2"
	read -r g1 b1 <"$T_TMP/client.1"
	read -r g2 b2 <"$T_TMP/client.2"
	ok '[ $((b1 + b2)) = 0 ] && [ $((g1 + g2)) -gt 10 ]' \
		"nginx under two clients: $((g1 + g2)) requests answered, $((b1 + b2)) lost"
	ok '! grep -E "failed \(4: Interrupted|\[(alert|crit|emerg)\]" "$T_TMP/nginx/error.log"' \
		"nginx's error log: no call interrupted (EINTR), nothing alarming"
	grep -E "\[(alert|crit|emerg|error)\]" "$T_TMP/nginx/error.log" |
		head -5 | sed 's/^/# /'
	at --cgroup "$CG/nginx" check -e NoNewPrivs=1
	rc_is 0 "nginx: every process and thread has NoNewPrivs 1"
fi

done_testing
