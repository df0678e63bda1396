# tests/tap.sh - the TAP pieces the shell tests of tests/helper share
# (sourced; tests/cli and tests/ptrace have tests/cli/tap.sh):
#
#   ok COND DESC     counts a test: COND (eval'ed) true is "ok"; a DESC that
#                    holds "# TODO ..." is a known failure, not counted
#   skip WHY         a skipped test;  skip DESC WHY  the same, named
#   has_cap N        this shell's effective set holds capability N
#                    (privileged tests skip by the bit, never by uid)
#   tap_end          the plan line, and the exit status: 0 unless one failed
#   t_ours, t_kill   for cleanups: tests/pids.sh
n=0 failed=0
. "${BASH_SOURCE[0]%/*}/pids.sh"

ok() {
	n=$((n + 1))
	if eval "$1"; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		case $2 in *"# TODO "*) ;; *) failed=$((failed + 1)) ;; esac
	fi
}

skip() {
	n=$((n + 1))
	if [ $# -ge 2 ]; then
		echo "ok $n - $1 # SKIP $2"
	else
		echo "ok $n # SKIP $1"
	fi
}

has_cap() {
	local eff
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	(( (16#$eff >> $1) & 1 ))
}

tap_end() {
	echo "1..$n"
	[ "$failed" = 0 ]
}
