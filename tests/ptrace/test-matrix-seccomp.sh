#!/bin/bash
# test-matrix-seccomp.sh - a target whose seccomp filter kills the process
# on prctl(2): an injected prctl would kill it, so the route must refuse
# (exit 3, a reason, nothing changed) and the target must live on.  With
# CAP_SYS_ADMIN the route may instead suspend the filter for its own calls
# (PTRACE_O_SUSPEND_SECCOMP, issue 8): then every thread must be changed.
# The target installs its filter without NO_NEW_PRIVS (it needs
# CAP_SYS_ADMIN for that), so NoNewPrivs in /proc shows any change.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 21; then
	skip "seccomp-killing target" "no CAP_SYS_ADMIN to install the filter without NO_NEW_PRIVS"
	done_testing
	exit 0
fi

# without CAP_SYS_ADMIN the filter cannot be suspended: refused
if command -v setpriv >/dev/null; then
	start_target --seccomp-kill-prctl --idle 2 --read 2 --sleep 1
	ok 'every_task Seccomp 2' "the target runs under a seccomp filter"
	run setpriv --bounding-set=-sys_admin --inh-caps=-all -- \
		"$AT" -p "$TPID" --via=ptrace set --nnp
	rc_is 3 "no CAP_SYS_ADMIN: refused"
	err_like "^allthreads: $TPID: .*seccomp" "no CAP_SYS_ADMIN: the reason names seccomp"
	ok 'alive' "no CAP_SYS_ADMIN: the target is alive"
	ok 'every_task NoNewPrivs 0' "no CAP_SYS_ADMIN: nothing changed"
	ok 'untraced' "no CAP_SYS_ADMIN: nothing left traced"
	run setpriv --bounding-set=-sys_admin --inh-caps=-all -- \
		"$AT" -p "$TPID" set --nnp
	rc_is 3 "no CAP_SYS_ADMIN, --via=auto: refused"
	ok 'alive && every_task NoNewPrivs 0' "--via=auto: alive, nothing changed"
	tcmd release '^released '
	ok 'released_ok 6 -' "the target still works: its calls came back ($reply)"
	stop_target
else
	skip "seccomp without CAP_SYS_ADMIN" "no setpriv"
fi

# with CAP_SYS_ADMIN: refused, or suspended and done; never killed
start_target --seccomp-kill-prctl --idle 2 --read 2 --sleep 1
at -p "$TPID" --via=ptrace set --nnp
first=$rc
ok '[ "$rc" = 3 ] || [ "$rc" = 0 ]' "CAP_SYS_ADMIN: refused (3) or done with the filter suspended (0): $rc"
ok 'alive' "CAP_SYS_ADMIN: the target is alive"
if [ "$first" = 0 ]; then
	ok 'every_task NoNewPrivs 1' "suspended: every thread changed"
else
	ok 'every_task NoNewPrivs 0' "refused: nothing changed"
fi
ok 'untraced' "CAP_SYS_ADMIN: nothing left traced"
tcmd release '^released '
ok 'released_ok 6 -' "the target still works: its calls came back ($reply)"
stop_target
done_testing
