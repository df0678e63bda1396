#!/bin/bash
# test-matrix.sh - the permission matrix: who may change whose threads.
# Each cell: a caller, a target, the expected exit status written beside
# it, and /proc read afterwards: a change shows on every thread (exit 0),
# a refusal leaves no thread changed (exit 3).  The change is the threads'
# name (PR_SET_NAME), unique per cell, so it can be read back from
# /proc/PID/task/*/comm whoever made it.
#
#   test-matrix.sh PATH-TO-ALLTHREADS   (AT_HELPER, AT_SERVICE set)
#
# Other users run copies of the binaries in a world-readable mktemp
# directory, never the build tree.  Needs root (CAP_SETUID, CAP_SETGID,
# CAP_SYS_PTRACE); cells skip one by one when a tool or a kernel feature
# is missing.
set -u
AT_SRC=${1:?usage: $0 PATH-TO-ALLTHREADS}
: "${AT_HELPER:?}" "${AT_SERVICE:?}"
. "$(dirname "$0")/../tap.sh"
U1=1234 U2=1235
pids=()
tmp=$(mktemp -d)
cleanup() {
	t_kill -KILL "${pids[@]}"
	rm -rf "$tmp"
	# A target in a user namespace of U1 made /tmp/allthreads-0 (its
	# uid 0) in the real /tmp: the name root's helper would fall back
	# to.  Remove it (only when U1 owns it).
	if [ "$(stat -c %u /tmp/allthreads-0 2>/dev/null)" = "$U1" ]; then
		rm -rf /tmp/allthreads-0
	fi
}
trap cleanup EXIT

if ! has_cap 6 || ! has_cap 7 || ! has_cap 19 ||
	! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs CAP_SETUID, CAP_SETGID, CAP_SYS_PTRACE and setpriv"
	exit 0
fi

# The copies other users can run.
d=$tmp/bin
mkdir -p "$d"
cp "$AT_SRC" "$d/allthreads"
cp "$AT_HELPER" "$d/allthreads-helper.so"
cp -L "$(dirname "$AT_HELPER")/liballthreads.so.0" "$d/"
cp "$AT_SERVICE" "$d/service"
chmod 755 "$tmp" "$d"
chmod 755 "$d"/*
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
as() { # UID CMD...: run as another user (no groups, no capabilities)
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}

# start NAME CMD...: a target under `allthreads run` (or CMD as given);
# waits for "ready PID" -> $p ("" when it never got ready).
start() {
	local out=$tmp/$1.out
	shift
	"$@" >"$out" 2>"$out.err" </dev/null &
	pids+=($!)
	p=
	for _ in $(seq 200); do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.05
	done
	p=$(awk '/^ready/ {print $2}' "$out")
	[ -n "$p" ] && pids+=("$p")
}

named() { # PID NAME: how many of PID's threads are called NAME
	cat /proc/"$1"/task/*/comm 2>/dev/null | grep -cx "$2"
}
nthreads() { ls /proc/"$1"/task 2>/dev/null | wc -l; }

# cell DESC EXPECTED PID CALLER...: CALLER is `as UID` or `root` or a
# wrapper such as `unshare -U -r`; the caller runs
# `allthreads -p PID prctl NAME <unique>`.
cell_no=0
cell() {
	local desc=$1 want=$2 pid=$3 name rc got all
	shift 3
	cell_no=$((cell_no + 1))
	name=matrix-$cell_no
	if [ -z "$pid" ] || [ ! -d /proc/"$pid" ]; then
		ok false "$desc: the target did not start"
		return
	fi
	if [ "$1" = root ]; then
		shift
	elif [ "$1" = as ]; then
		set -- setpriv --reuid="$2" --regid="$2" --clear-groups "${@:3}"
	fi
	timeout -k 5 30 "$@" "${CELL_AT[@]}" -p "$pid" prctl NAME "$name" \
		>"$tmp/cell.out" 2>"$tmp/cell.err"
	rc=$?
	got=$(named "$pid" "$name")
	all=$(nthreads "$pid")
	why=$(head -c 120 "$tmp/cell.err" | tr '\n#' '  ')
	if [ "$want" = 0 ]; then
		ok '[ "$rc" = 0 ] && [ "$got" = "$all" ]' \
			"$desc: expected 0, changed; exit $rc, $got of $all threads named ($why)${TODO:+ # TODO $TODO}"
	else
		ok '[ "$rc" = "$want" ] && [ "$got" = 0 ]' \
			"$desc: expected $want, nothing changed; exit $rc, $got of $all threads named ($why)${TODO:+ # TODO $TODO}"
	fi
}
TODO=
CELL_AT=("$AT")

# --- the helper route -------------------------------------------------------

start root-target "$AT_ANY" run "$d/service" 2
T_ROOT=$p
start u1-target as $U1 "$AT_ANY" run "$d/service" 2
T_U1=$p
start u2-target as $U2 "$AT_ANY" run "$d/service" 2
T_U2=$p

cell "same uid: root -> root" 0 "$T_ROOT" root
cell "same uid: $U1 -> $U1" 0 "$T_U1" as $U1
cell "other uid: $U2 -> $U1" 3 "$T_U1" as $U2
cell "root -> user $U1" 0 "$T_U1" root
cell "user $U1 -> root" 3 "$T_ROOT" as $U1

# A caller with CAP_SYS_PTRACE alone (ambient, as uid U1): the kernel
# would let it open the root target's memory, but the root target's
# socket directory is root's and 0700, so it cannot connect.  Expected:
# refused (issue 12 item 9: the manual is to say so).
if setpriv --help 2>&1 | grep -q -- --ambient-caps; then
	cell "user $U1 with only CAP_SYS_PTRACE -> root" 3 "$T_ROOT" \
		setpriv --reuid=$U1 --regid=$U1 --clear-groups \
		--inh-caps=-all,+sys_ptrace --ambient-caps=-all,+sys_ptrace
else
	skip "user with only CAP_SYS_PTRACE" "setpriv has no --ambient-caps"
fi

# A caller that is root only inside its own user namespace.
if command -v unshare >/dev/null && unshare -U -r true 2>/dev/null; then
	cell "root in its own user namespace -> user $U1" 3 "$T_U1" \
		unshare -U -r
	cell "root in its own user namespace -> root" 3 "$T_ROOT" unshare -U -r
else
	skip "caller root in its own user namespace" "no user namespaces"
	skip "caller root in its own user namespace -> root" "no user namespaces"
fi

# A non-dumpable target (uid U1): its owner may no longer open its
# memory; root (CAP_SYS_PTRACE) still may.
start nodump as $U1 "$AT_ANY" run "$d/service" 2
T_ND=$p
if [ -n "$T_ND" ] && "$AT" -q -p "$T_ND" prctl DUMPABLE 0 >/dev/null 2>&1 &&
	grep -q . /proc/"$T_ND"/status; then
	cell "non-dumpable target: $U1 -> $U1" 3 "$T_ND" as $U1
	cell "non-dumpable target: root -> $U1" 0 "$T_ND" root
else
	skip "non-dumpable target: owner" "could not make the target non-dumpable"
	skip "non-dumpable target: root" "could not make the target non-dumpable"
fi

# A target with file capabilities (uid U1 runs a copy with cap_net_raw+ep):
# a secure exec, so the loader ignores LD_PRELOAD and the target has no
# helper; nobody reaches it through this route.  Expected: 3, for its
# owner and for root.
if command -v setcap >/dev/null && cp "$d/service" "$d/service-fcap" &&
	setcap cap_net_raw+ep "$d/service-fcap" 2>/dev/null; then
	start fcap as $U1 "$AT_ANY" run "$d/service-fcap" 2
	T_FC=$p
	cell "file-capability target: $U1 -> $U1" 3 "$T_FC" as $U1
	cell "file-capability target: root -> $U1 (no helper loads)" 3 "$T_FC" root
else
	skip "file-capability target: owner" "setcap unavailable"
	skip "file-capability target: root" "setcap unavailable"
fi

# A target in a user namespace of its own (created by uid U1): root
# outside holds CAP_SYS_PTRACE over it; another user does not.
if command -v unshare >/dev/null && as $U1 unshare -U -r true 2>/dev/null; then
	start userns as $U1 unshare -U -r "$AT_ANY" run "$d/service" 2
	T_NS=$p
	# The helper names its socket directory by the uid it sees inside
	# (/tmp/allthreads-0); the client looks under both names.
	cell "target in its own user namespace: root -> it" 0 "$T_NS" root
	cell "target in its own user namespace: $U2 -> it" 3 "$T_NS" as $U2
else
	skip "target in another user namespace: root" "no user namespaces for $U1"
	skip "target in another user namespace: other user" "no user namespaces for $U1"
fi

# Yama: ptrace_scope 0-2 where the machine has Yama (3 is one-way until
# reboot: never set).  Restored by the trap whatever happens.
yama=/proc/sys/kernel/yama/ptrace_scope
if [ -w "$yama" ]; then
	old=$(cat "$yama")
	trap 'echo "$old" >"$yama"; cleanup' EXIT
	for scope in 0 1 2; do
		echo "$scope" >"$yama" || { skip "Yama $scope" "cannot set"; continue; }
		# 0: classic rules; 1: only descendants (our caller is not
		# the target's ancestor); 2: only CAP_SYS_PTRACE.
		want=0
		[ "$scope" -ge 1 ] && want=3
		cell "Yama ptrace_scope $scope: $U1 -> $U1" $want "$T_U1" as $U1
		cell "Yama ptrace_scope $scope: root -> $U1" 0 "$T_U1" root
	done
	echo "$old" >"$yama"
	skip "Yama ptrace_scope 3" "one-way until reboot: never set by a test"
else
	skip "Yama ptrace_scope 0-3" "no Yama on this kernel ($yama)"
fi

# --- the ptrace route -------------------------------------------------------
# The same callers through --via=ptrace, on targets started without the
# helper, where the command has that route (skipped otherwise).  The
# kernel's ptrace rule alone decides.
ptrace_cells() {
	CELL_AT=("$AT_ANY" --via=ptrace)
	start p-u1 as $U1 "$d/service" 2
	P_U1=$p
	cell "ptrace: same uid: root -> root" 0 "$P_ROOT" root
	cell "ptrace: same uid: $U1 -> $U1" 0 "$P_U1" as $U1
	cell "ptrace: other uid: $U2 -> $U1" 3 "$P_U1" as $U2
	cell "ptrace: root -> user $U1" 0 "$P_U1" root
	cell "ptrace: user $U1 -> root" 3 "$P_ROOT" as $U1
	if setpriv --help 2>&1 | grep -q -- --ambient-caps; then
		# CAP_SYS_PTRACE is what the kernel asks of a tracer of
		# another user's process.
		cell "ptrace: user $U1 with only CAP_SYS_PTRACE -> root" 0 \
			"$P_ROOT" setpriv --reuid=$U1 --regid=$U1 \
			--clear-groups --inh-caps=-all,+sys_ptrace \
			--ambient-caps=-all,+sys_ptrace
	else
		skip "ptrace: CAP_SYS_PTRACE only" "setpriv has no --ambient-caps"
	fi
	if unshare -U -r true 2>/dev/null; then
		cell "ptrace: root in its own user namespace -> $U1" 3 "$P_U1" unshare -U -r
	else
		skip "ptrace: root in its own user namespace" "no user namespaces"
	fi
	start p-nodump as $U1 "$d/service" 2
	if [ -n "$p" ] && "$AT_ANY" -q --via=ptrace -p "$p" prctl DUMPABLE 0 \
		>/dev/null 2>&1; then
		cell "ptrace: non-dumpable target: $U1 -> $U1" 3 "$p" as $U1
		cell "ptrace: non-dumpable target: root -> $U1" 0 "$p" root
	else
		skip "ptrace: non-dumpable target: owner" "could not make it non-dumpable"
		skip "ptrace: non-dumpable target: root" "could not make it non-dumpable"
	fi
	if [ -x "$d/service-fcap" ]; then
		start p-fcap as $U1 "$d/service-fcap" 2
		cell "ptrace: file-capability target: $U1 -> $U1" 3 "$p" as $U1
		cell "ptrace: file-capability target: root -> $U1" 0 "$p" root
	else
		skip "ptrace: file-capability target: owner" "setcap unavailable"
		skip "ptrace: file-capability target: root" "setcap unavailable"
	fi
	if as $U1 unshare -U -r true 2>/dev/null; then
		start p-userns as $U1 unshare -U -r "$d/service" 2
		cell "ptrace: target in its own user namespace: root -> it" 0 "$p" root
		cell "ptrace: target in its own user namespace: $U2 -> it" 3 "$p" as $U2
	else
		skip "ptrace: target in another user namespace: root" "no user namespaces"
		skip "ptrace: target in another user namespace: other" "no user namespaces"
	fi
	CELL_AT=("$AT")
}
# Has the command the route?  A read of a plain target through it.
start p-root "$d/service" 2
P_ROOT=$p
if [ -n "$P_ROOT" ] && "$AT_ANY" -q --via=ptrace -p "$P_ROOT" prctl KEEP_CAPS \
	>/dev/null 2>&1; then
	ptrace_cells
else
	skip "ptrace route cells" "no working --via=ptrace on this branch"
fi

tap_end
