# tests/pids.sh - which pids a shell test recorded are still its own
# (sourced by tests/tap.sh and tests/cli/tap.sh, for their EXIT cleanups):
#
#   t_ours PID          PID descends from this shell: its parents, followed
#                       up through /proc, reach it
#   t_kill [-SIG] PID...  of the PIDs, those that are ours (all looked at
#                       before any is signalled: a child killed first
#                       would leave its own to init) get SIG (SIGTERM by
#                       default), then the children among them are reaped
#
# A test may kill and reap a process long before it exits, and bash reaps
# a child the moment it dies.  With pid_max at 32768 and CI starting
# processes by the thousand, such a pid can by the test's exit be another
# process's, another test's target among them: a cleanup signals only its
# own (tests/cli/test-tapclean.sh proves it).  No process is started here:
# one could take the very pid being looked at.

t_ours() {
	local p=$1 s i
	for ((i = 0; i < 64; i++)); do
		read -r s 2>/dev/null <"/proc/$p/stat" || return 1
		s=${s##*) }
		set -- $s
		p=${2:-0}
		[ "$p" = "$BASHPID" ] && return 0
		[ "$p" -gt 1 ] || return 1
	done
	return 1
}

t_kill() {
	local sig=-TERM p mine=()
	case ${1:-} in -*) sig=$1; shift ;; esac
	for p in "$@"; do
		t_ours "$p" && mine+=("$p")
	done
	for p in "${mine[@]}"; do
		kill "$sig" "$p" 2>/dev/null
	done
	for p in "${mine[@]}"; do
		wait "$p" 2>/dev/null
	done
	return 0
}
