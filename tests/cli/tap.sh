# tests/cli/tap.sh - a small TAP emitter for the CLI tests (sourced).
#
#   AT=path/to/allthreads; . tap.sh
#   run CMD...          runs CMD under `timeout`; sets $out, $err, $rc
#   rc_is N DESC        the last run exited N
#   out_like RE DESC    its stdout matches the extended regex RE
#   err_like RE DESC    its stderr matches RE
#   out_unlike RE DESC  its stdout does not match RE
#   ok COND DESC        COND (a shell expression) is true
#   skip DESC WHY       a skipped test
#   done_testing        prints the plan; exits 1 if anything failed
set -u

AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
T_NUM=0
T_FAILED=0
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT
# Every command is bounded: a hung test is a failing test.
T_LIMIT=${T_LIMIT:-30}
export LC_ALL=C

run() {
	out=$(timeout -k 5 "$T_LIMIT" "$@" 2>"$T_TMP/err")
	rc=$?
	err=$(cat "$T_TMP/err")
}

# The allthreads under test.
at() {
	run "$AT" "$@"
}

t_result() {
	T_NUM=$((T_NUM + 1))
	if [ "$1" = 0 ]; then
		echo "ok $T_NUM - $2"
	else
		echo "not ok $T_NUM - $2"
		T_FAILED=$((T_FAILED + 1))
		echo "# rc=$rc"
		printf '%s\n' "$out" | sed 's/^/# out: /' | head -20
		printf '%s\n' "$err" | sed 's/^/# err: /' | head -20
	fi
}

rc_is() {
	[ "$rc" = "$1" ]
	t_result $? "$2 (exit $1)"
}

out_like() {
	printf '%s\n' "$out" | grep -Eq -- "$1"
	t_result $? "$2"
}

out_unlike() {
	! printf '%s\n' "$out" | grep -Eq -- "$1"
	t_result $? "$2"
}

err_like() {
	printf '%s\n' "$err" | grep -Eq -- "$1"
	t_result $? "$2"
}

ok() {
	eval "$1"
	t_result $? "$2"
}

skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2"
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" = 0 ]
}

# has_cap N: the effective set of this shell holds capability N.
has_cap() {
	local eff
	eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(( (0x$eff >> $1) & 1 ))
}

# A change that fails (EPERM) must leave no trace: the program after --
# never runs, and the exit status is 1.
RAN_MARK="PROGRAM-RAN"
