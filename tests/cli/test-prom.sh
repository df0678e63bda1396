#!/bin/bash
# test-prom.sh - `allthreads audit --format=prometheus` and --textfile
# (issue 18, "where a fleet already looks"): the counts of a planted
# process whose threads disagree, of threads failing an --expect, of
# io_uring rings and of unreadable processes, in the text format that
# node_exporter's textfile collector reads, checked by promparse.py (a
# reader written to the format's specification), by promtool and by
# node_exporter itself where they are installed; --per-process's bound;
# --textfile replaces the file at once (a reader polling it never sees
# half of it, while the same reader does see a shell's `>` redirect
# half-done); and examples/systemd/allthreads-audit.{service,timer}: the
# service's ExecStart run as its unit says (its capability bounding set,
# no_new_privs, its umask, /proc read-only with only the process
# directories), under strace against its SystemCallFilter=, then
# systemd-analyze verify.  README's alert rule names metrics the audit
# writes.
. "$(dirname "$0")/tap.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PARSE=(python3 "$HERE/promparse.py")
UNITS=${AT_UNITS:?AT_UNITS: examples/systemd}
README=$UNITS/../../README.md
M=$T_TMP/m.prom
J=$T_TMP/m.json

# prom ARGS...: allthreads ARGS, stdout kept whole in $M (trailing
# newline included), parsed into $J; $prc: the parser's exit status.
prom() {
	timeout -k 5 "$T_LIMIT" "$AT" "$@" >"$M" 2>"$T_TMP/err"
	rc=$?
	err=$(cat "$T_TMP/err")
	out=$(cat "$M")
	"${PARSE[@]}" "$M" >"$J" 2>"$T_TMP/perr"
	prc=$?
	[ "$prc" = 0 ] || sed 's/^/# /' "$T_TMP/perr"
}

# val NAME [LABEL-FILTER]: the value of the first sample of NAME whose
# labels (.) make the jq FILTER true, or "none".
val() {
	jq -r --arg n "$1" \
		"[(.[\$n] // [])[] | select(.[0] | ${2:-true}) | .[1]] |
		 if length == 0 then \"none\" else .[0] end" "$J"
}

# nseries NAME: how many samples NAME has.
nseries() {
	jq -r --arg n "$1" '(.[$n] // []) | length' "$J"
}

NAMES='allthreads_audit_processes allthreads_audit_threads
allthreads_audit_differing_processes allthreads_audit_failing_threads
allthreads_audit_io_uring_processes allthreads_audit_io_uring_unknown_processes
allthreads_audit_unreadable_processes allthreads_audit_duration_seconds
allthreads_audit_last_run_timestamp_seconds'

# every_family DESC: each of $NAMES has one sample, a HELP and TYPE gauge.
every_family() {
	local n bad=
	for n in $NAMES; do
		[ "$(nseries "$n")" = 1 ] &&
			jq -e --arg n "$n" '._type[$n] == "gauge" and
				(._help[$n] | length > 10)' "$J" >/dev/null ||
			bad="$bad $n"
	done
	ok '[ -z "$bad" ]' "$1: every count, one sample, with HELP and TYPE gauge${bad:+ (not:$bad)}"
}

# The planted one: thread 1 of 4 sets NO_NEW_PRIVS on itself; its main
# thread's name (its file's name) has a double quote, a backslash and a
# byte that is not UTF-8, which a label value must escape or replace.
ODD=$T_TMP/$'a"b\\c\377'
cp "$AT_FIXTURE" "$ODD"
AT_FIXTURE=$ODD planted_fixture 4
"$AT_FIXTURE" 2 >"$T_TMP/bad2.out" &
BAD2=$!
T_PIDS+=("$BAD2")
clean_fixture
ready_in "$T_TMP/bad2.out"

before=$(date +%s)
prom audit --format=prometheus -p "$BAD,$GOOD" -e NoNewPrivs=0 --per-process=5
after=$(date +%s)
rc_is 1 "--format=prometheus -p BAD,GOOD -e NoNewPrivs=0: found, as the table"
ok '[ "$prc" = 0 ]' "the output follows the text format (promparse.py)"
ok '[ "$(tail -c 1 "$M" | od -An -c | tr -d " ")" = "\n" ]' \
	"the output ends in a newline"
every_family "-p BAD,GOOD"
ok '[ "$(val allthreads_audit_processes)" = 2 ]' "2 processes audited"
ok '[ "$(val allthreads_audit_differing_processes)" = 1 ]' \
	"1 process whose threads disagree (the planted one)"
ok '[ "$(val allthreads_audit_failing_threads)" = 1 ]' \
	"1 thread fails NoNewPrivs=0 (the planted thread)"
want='.expect == "NoNewPrivs=0"'
ok '[ "$(val allthreads_audit_expectation_failing_threads "$want")" = 1 ]' \
	"allthreads_audit_expectation_failing_threads{expect=\"NoNewPrivs=0\"} 1"
ok '[ "$(val allthreads_audit_unreadable_processes)" = 0 ] &&
	[ "$(val allthreads_audit_io_uring_processes)" = 0 ]' \
	"nothing unreadable, no io_uring"
# Thread 1 has NO_NEW_PRIVS; thread 3 drops CAP_NET_RAW when it has it.
ndiffer=1
has_cap 13 && ndiffer=2
ok '[ "$(val allthreads_audit_process_threads_at_fault ".pid == \"$BAD\" and .check == \"differ\"")" = $ndiffer ] &&
	[ "$(val allthreads_audit_process_threads_at_fault ".pid == \"$BAD\" and .check == \"expect\"")" = 1 ] &&
	[ "$(val allthreads_audit_process_threads_at_fault ".pid == \"$GOOD\"")" = none ]' \
	"--per-process: the planted one's threads at fault, by check; none for the clean one"
ok 'jq -e --arg p "$BAD" '"'"'[.allthreads_audit_process_threads_at_fault[] |
	select(.[0].pid == $p) | .[0].comm] | unique == ["a\"b\\c\ufffd"]'"'"' "$J" >/dev/null' \
	"comm label: the thread's own name (a\"b\\c, unescaped from /proc's a\"b\\\\c), the stray byte U+FFFD"
ok 'grep -qF "comm=\"a\\\"b\\\\c" "$M"' "comm label: quote and backslash escaped as the format says"
ok 'awk -v b="$before" -v a="$after" '"'"'
	$1 == "allthreads_audit_last_run_timestamp_seconds" { t = $2 }
	$1 == "allthreads_audit_duration_seconds" { d = $2 }
	END { exit !(t >= b && t <= a + 1 && d > 0 && d < 30) }'"'"' "$M"' \
	"the timestamp is now (Unix time) and the duration seconds"
if [ -n "${AT_PROMTOOL:-}" ] || command -v promtool >/dev/null; then
	run "${AT_PROMTOOL:-promtool}" check metrics <"$M"
	ok '[ "$rc" = 0 ] && [ -z "$out$err" ]' "promtool check metrics: no problem, no lint"
else
	skip "promtool check metrics" "promtool is not installed (Debian: prometheus)"
fi

prom audit --format=prometheus
ok '[ "$prc" = 0 ] && [ "$rc" = 1 ]' "host-wide: the format holds, exit 1 (found)"
ok '[ "$(val allthreads_audit_processes)" -ge 3 ] &&
	[ "$(val allthreads_audit_differing_processes)" -ge 2 ] &&
	[ "$(nseries allthreads_audit_process_threads_at_fault)" = 0 ] &&
	[ "$(nseries allthreads_audit_expectation_failing_threads)" = 0 ]' \
	"host-wide: the planted ones counted; no per-process series by default, no --expect"

# The bound: --per-process=1 of two processes at fault.
prom audit --format=prometheus -p "$BAD2,$GOOD,$BAD" --per-process=1
first=$BAD
[ "$BAD2" -lt "$first" ] && first=$BAD2
ok '[ "$prc" = 0 ] && [ "$(nseries allthreads_audit_process_threads_at_fault)" = 1 ] &&
	[ "$(val allthreads_audit_process_threads_at_fault ".pid == \"$first\"")" != none ] &&
	[ "$(val allthreads_audit_omitted_processes)" = 1 ]' \
	"--per-process=1: one series (the lower pid), the other counted as omitted"

/bin/true &
gone=$!
wait "$gone"
prom audit --format=prometheus -p "$gone,$GOOD"
ok '[ "$rc" = 3 ] && [ "$prc" = 0 ] && [ "$(val allthreads_audit_unreadable_processes)" = 1 ]' \
	"-p GONE,GOOD: exit 3, allthreads_audit_unreadable_processes 1"

# Usage.
at audit --format=prometheus -J
rc_is 64 "--format=prometheus -J: contradictory"
at audit --textfile "$T_TMP/x.prom" --format=json
rc_is 64 "--textfile --format=json: contradictory"
at audit --format=prometheus -o pid
rc_is 64 "--format=prometheus -o: the table options do not apply"
at audit --per-process=2
rc_is 64 "--per-process without prometheus"
at audit --format=prometheus --per-process=1001
rc_is 64 "--per-process=1001: above the bound"
at audit --format=xml
rc_is 64 "--format=xml: unknown"
at audit --format=json -p "$GOOD,$BAD"
ok '[ "$rc" = 1 ] && [ "$(printf "%s\n" "$out" | jq -r .target.pid)" = "$BAD" ]' \
	"--format=json is -J"
at audit --dry-run --textfile "$T_TMP/dry.prom"
ok '[ "$rc" = 0 ] && [ ! -e "$T_TMP/dry.prom" ]' "--dry-run --textfile: nothing written"

# io_uring: a ring whose personalities this kernel may not list, and an
# SQPOLL ring's kernel thread.
URING=${AT_URING:?AT_URING: the io_uring fixture}
# uring_start WORDS...: the fixture in the background; $UPID, or 77.
uring_start() {
	"$@" >"$T_TMP/uring.out" 2>&1 &
	UPID=$!
	T_PIDS+=("$UPID")
	for i in $(seq 200); do
		grep -q '^ready' "$T_TMP/uring.out" && return 0
		kill -0 "$UPID" 2>/dev/null || { wait "$UPID"; return $?; }
		sleep 0.05
	done
	return 1
}
if uring_start "$URING" 1 personality; then
	prom audit --format=prometheus -p "$UPID,$GOOD"
	ok '[ "$prc" = 0 ] && [ "$(val allthreads_audit_io_uring_processes)" = 1 ] &&
		[ "$(val allthreads_audit_io_uring_unknown_processes)" = 0 ]' \
		"a ring with a personality: allthreads_audit_io_uring_processes 1"
	kill "$UPID"
	uring_start "$URING" 1 sqpoll
	prom audit --format=prometheus -p "$UPID"
	ok '[ "$(val allthreads_audit_io_uring_processes)" = 1 ]' \
		"an SQPOLL ring: allthreads_audit_io_uring_processes 1"
	kill "$UPID"
	# Another user's ring: what the unit's bounding set gives is what
	# it takes (CAP_DAC_READ_SEARCH lists /proc/PID/fd, CAP_SYS_PTRACE
	# reads the links); less, and it is unknown, not 0.
	if has_cap 6 && has_cap 7 && has_cap 8 &&
		uring_start setpriv --reuid=65534 --regid=65534 --clear-groups \
			-- "$(public "$URING")" 1 personality; then
		for caps in "" "+sys_ptrace" "+dac_read_search" \
			"+sys_ptrace,+dac_read_search"; do
			timeout 30 setpriv --bounding-set="-all${caps:+,$caps}" \
				-- "$AT" audit --format=prometheus -p "$UPID" \
				>"$M" 2>/dev/null
			"${PARSE[@]}" "$M" >"$J"
			got="$(val allthreads_audit_io_uring_processes)/$(val allthreads_audit_io_uring_unknown_processes)"
			want=0/1
			[ "$caps" = "+sys_ptrace,+dac_read_search" ] && want=1/0
			ok '[ "$got" = "$want" ]' \
				"nobody's ring, bounding set ${caps:-empty}: io_uring/unknown $want (got $got)"
		done
		kill "$UPID"
	else
		skip "nobody's ring and the capabilities" \
			"needs CAP_SETUID, CAP_SETGID, CAP_SETPCAP and io_uring"
	fi
else
	skip "io_uring counts" "io_uring cannot be set up here"
fi

# --textfile: the file is replaced at once.
D=$T_TMP/textfile
mkdir -p "$D"
F=$D/allthreads.prom
(umask 022 && timeout 30 "$AT" -q audit -p "$BAD" --textfile "$F" >"$T_TMP/tf.out")
rc=$?
rc_is 0 "--textfile: exit 0 once written (though the audit found something)"
ok '[ ! -s "$T_TMP/tf.out" ] && [ "$(stat -c %a "$F")" = 644 ] &&
	"${PARSE[@]}" "$F" >"$J" && [ "$(val allthreads_audit_differing_processes)" = 1 ]' \
	"--textfile: nothing on stdout; FILE mode 644 under umask 022, parses, counts the planted one"
ino=$(stat -c %i "$F")
(umask 027 && timeout 30 "$AT" -q audit -p "$GOOD" --textfile "$F")
ok '[ "$(stat -c %a "$F")" = 640 ] && [ "$(stat -c %i "$F")" != "$ino" ] &&
	"${PARSE[@]}" "$F" >"$J" && [ "$(val allthreads_audit_differing_processes)" = 0 ]' \
	"--textfile again: a new file renamed over the old (new inode), mode from the umask"
ok '[ "$(ls -A "$D")" = allthreads.prom ]' "--textfile: no temporary file left beside it"

# A reader that polls FILE as the collector would, while WRITER runs
# N times: how many reads did not parse whole.
# poll_while DESC N WRITER...: sets $nbad, $nreads.
poll_while() {
	local n=$2 i
	shift 2
	rm -f "$T_TMP/stop" "$T_TMP/polling"
	python3 - "$HERE" "$F" "$T_TMP/stop" >"$T_TMP/poll" <<'EOF' &
import os, sys, time
sys.path.insert(0, sys.argv[1])
import promparse
path, stop = sys.argv[2], sys.argv[3]
reads = bad = 0
end = time.monotonic() + 120
open(stop[:-4] + "polling", "w").close()
while not os.path.exists(stop) and time.monotonic() < end:
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        bad += 1
        continue
    reads += 1
    try:
        out = promparse.parse(data)
        if "allthreads_audit_last_run_timestamp_seconds" not in out:
            bad += 1
    except promparse.Bad:
        bad += 1
print(reads, bad)
EOF
	local poller=$!
	for i in $(seq 600); do
		[ -e "$T_TMP/polling" ] && break
		sleep 0.05
	done
	for i in $(seq "$n"); do
		"$@"
	done
	touch "$T_TMP/stop"
	wait "$poller"
	read -r nreads nbad <"$T_TMP/poll"
}
poll_while "textfile" 8 timeout 30 "$AT" -q audit --textfile "$F"
ok '[ "${nreads:-0}" -gt 8 ] && [ "$nbad" = 0 ]' \
	"8 host-wide --textfile runs: $nreads reads while they wrote, none partial or missing"
shell_redirect() {
	timeout 30 "$AT" -q audit --format=prometheus >"$F"
}
poll_while "redirect" 4 shell_redirect
ok '[ "${nbad:-0}" -gt 0 ]' \
	"control: the same reader catches a shell's > redirect half-done ($nbad of $nreads reads)"

# Failures leave what was there.
mkdir -p "$D/dir.prom"
at -q audit --textfile "$D/dir.prom"
ok '[ "$rc" = 1 ] && [ -d "$D/dir.prom" ] &&
	[ "$(ls -A "$D" | grep -c tmp)" = 0 ]' \
	"--textfile onto a directory: exit 1, it stays, no temporary file left"
err_like "dir.prom: " "--textfile failure: says which file"
at -q audit --textfile "$D/no-such-dir/a.prom"
rc_is 1 "--textfile into a missing directory"

# The units of examples/systemd, their ExecStart run as the unit says.
S=$UNITS/allthreads-audit.service
TM=$UNITS/allthreads-audit.timer
ok '[ -f "$S" ] && [ -f "$TM" ]' "the service and timer examples are there"
# key FILE KEY: the last value of KEY (one-line values only).
key() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
start=$(key "$S" ExecStart)
dir=/var/lib/prometheus/node-exporter
ok '[ "$(key "$S" ReadWritePaths)" = "$dir" ] &&
	[ "$(key "$S" ConditionPathIsDirectory)" = "$dir" ] &&
	[[ "$start" == *"--textfile=$dir/"*.prom* ]] &&
	[ "$(key "$S" Type)" = oneshot ]' \
	"the service writes *.prom into Debian's textfile directory, and only there"
ok '[ -n "$(key "$TM" OnUnitActiveSec)" ] &&
	[ "$(key "$TM" WantedBy)" = timers.target ]' "the timer repeats, and is wanted by timers.target"
caps=$(key "$S" CapabilityBoundingSet)
bset="-all"
for c in $caps; do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done
ok '[ "$bset" = "-all,+sys_ptrace,+dac_read_search" ]' \
	"the unit's bounding set: CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH only"
U=$T_TMP/unitdir
mkdir -p "$U"
line=${start//$dir/$U}
line=${line//\/usr\/bin\/allthreads/$AT}
eval "CMD=($line)"
wrap=(setpriv --no-new-privs --bounding-set="$bset" --)
if [ "$(key "$S" UMask)" = 0022 ] && [ "$(key "$S" ReadOnlyPaths)" = /proc ] &&
	[ "$(key "$S" ProcSubset)" = pid ]; then
	# ProcSubset=pid and ReadOnlyPaths=/proc: a proc of only the process
	# directories, read-only, in a mount namespace of its own.
	ns=0
	unshare -m sh -c 'mount -t proc -o ro,subset=pid proc /proc' \
		2>/dev/null && ns=1
	if [ "$ns" = 1 ]; then
		run unshare -m sh -c 'mount -t proc -o ro,subset=pid proc /proc &&
			[ ! -e /proc/sys ] && umask 0022 && exec "$@"' sh \
			"${wrap[@]}" "${CMD[@]}"
	else
		run sh -c 'umask 0022 && exec "$@"' sh "${wrap[@]}" "${CMD[@]}"
	fi
	rc_is 0 "the service's ExecStart, as the unit runs it$([ "$ns" = 1 ] || echo ' (no mount namespace: /proc as it is)')"
	f=$(ls "$U")
	ok '[[ "$f" == *.prom ]] && [ "$(stat -c %a "$U/$f")" = 644 ] &&
		"${PARSE[@]}" "$U/$f" >"$J" && [ "$(val allthreads_audit_processes)" -ge 3 ] &&
		[ "$(val allthreads_audit_io_uring_unknown_processes)" != none ]' \
		"it leaves one *.prom, mode 644, that parses, with the host's processes"
else
	ok false "the unit sets UMask=0022, ReadOnlyPaths=/proc, ProcSubset=pid"
fi

if command -v systemd-analyze >/dev/null; then
	v=$T_TMP/verify
	mkdir -p "$v"
	for f in "$S" "$TM"; do
		sed "s|/usr/bin/allthreads|$AT|g" "$f" >"$v/${f##*/}"
	done
	run systemd-analyze verify --man=no "$v/allthreads-audit.timer" \
		"$v/allthreads-audit.service"
	ok '[ "$rc" = 0 ] && ! printf "%s\n" "$err" | grep -qiE "unknown|invalid|ignoring"' \
		"systemd-analyze verify: the timer and its service"
else
	skip "systemd-analyze verify" "systemd is not installed"
fi

# The unit's SystemCallFilter= lets through every system call the audit
# makes (strace), and none of them is one it denies.
# expand_calls NAME...: the system calls NAMEs (calls or @groups) hold.
expand_calls() {
	local x
	for x in "$@"; do
		case $x in
		@*)
			expand_calls $(systemd-analyze syscall-filter "$x" \
				2>/dev/null | awk 'NR > 1 && $1 !~ /^#/ { print $1 }')
			;;
		*) echo "$x" ;;
		esac
	done
}
if command -v strace >/dev/null && command -v systemd-analyze >/dev/null; then
	rm -f "$U"/*.prom
	# Traced from its exec on, as systemd starts it (setpriv's own
	# calls are systemd's).
	"${wrap[@]}" strace -f -qq -o "$T_TMP/strace" "${CMD[@]}" 2>/dev/null
	sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$T_TMP/strace" |
		grep -vx -e execve -e exit_group | sort -u >"$T_TMP/used"
	allow=() deny=()
	while read -r f; do
		case $f in
		"~"*) read -ra w <<<"${f#\~}"; deny+=("${w[@]}") ;;
		*) read -ra w <<<"$f"; allow+=("${w[@]}") ;;
		esac
	done < <(sed -n 's/^SystemCallFilter=//p' "$S")
	expand_calls "${allow[@]}" | sort -u >"$T_TMP/allow"
	expand_calls "${deny[@]}" | sort -u >"$T_TMP/deny"
	out="outside: $(comm -23 "$T_TMP/used" "$T_TMP/allow" | tr '\n' ' ') denied: $(comm -12 "$T_TMP/used" "$T_TMP/deny" | tr '\n' ' ')"
	ok '[ -s "$T_TMP/used" ] && [ "$(wc -l <"$T_TMP/allow")" -gt 100 ] &&
		grep -qx ptrace "$T_TMP/deny" && [ "$out" = "outside:  denied: " ] &&
		ls "$U"/*.prom >/dev/null 2>&1' \
		"SystemCallFilter=: each of the $(wc -l <"$T_TMP/used") calls the audit makes is allowed, ptrace is not ($out)"
else
	skip "SystemCallFilter= against the calls the audit makes" "needs strace and systemd-analyze"
fi

# node_exporter itself reads the directory.
NE=${AT_NODE_EXPORTER:-$(command -v prometheus-node-exporter || true)}
if [ -n "$NE" ] && command -v curl >/dev/null; then
	port=$((20000 + $$ % 20000))
	"$NE" --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$U" \
		--web.listen-address="127.0.0.1:$port" >"$T_TMP/ne.log" 2>&1 &
	NEPID=$!
	T_PIDS+=("$NEPID")
	got=
	for i in $(seq 100); do
		got=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) && break
		sleep 0.1
	done
	out=$got
	ok 'printf "%s\n" "$out" | grep -Eq "^allthreads_audit_processes [0-9]+" &&
		printf "%s\n" "$out" | grep -q "^node_textfile_scrape_error 0"' \
		"node_exporter's textfile collector serves the file (scrape error 0)"
	kill "$NEPID"
else
	skip "node_exporter reads the file" "prometheus-node-exporter is not installed"
fi

# README's alert rule: the metrics it names are the audit's.
rules=$T_TMP/rules.yml
awk '/^## Prometheus/ { on = 1 } on && /^ *```yaml$/ { y = 1; next }
	y && /^ *```$/ { exit } y { sub(/^   /, ""); print }' "$README" >"$rules"
ok '[ -s "$rules" ] && python3 -c "
import sys, yaml
g = yaml.safe_load(open(sys.argv[1]))[\"groups\"]
rules = [r for x in g for r in x[\"rules\"]]
assert rules and all(\"alert\" in r and \"expr\" in r for r in rules)
" "$rules"' "README: the alert rule is YAML with groups, alerts and expressions"
names=$(grep -o 'allthreads_[a-z_]*' "$rules" | sort -u)
missing=
for n in $names; do
	grep -q "^# TYPE $n gauge" "$U"/*.prom || missing="$missing $n"
done
ok '[ -n "$names" ] && [ -z "$missing" ]' \
	"README: every metric the alert names is one the audit writes${missing:+ (not:$missing)}"
if [ -n "${AT_PROMTOOL:-}" ] || command -v promtool >/dev/null; then
	run "${AT_PROMTOOL:-promtool}" check rules "$rules"
	rc_is 0 "promtool check rules: README's alert rule"
else
	skip "promtool check rules" "promtool is not installed"
fi

done_testing
