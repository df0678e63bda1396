#!/bin/bash
# test-set.sh - `allthreads set`: several changes in one visit per thread,
# in the documented order, proven through /proc; --dry-run and its
# predictions; contradictory options change nothing.  Unprivileged parts
# only (test-priv.sh has the rest).
. "$(dirname "$0")/tap.sh"

status_of() { # FIELD: from the PROGRAM's own /proc status
	printf '%s\n' "$out" | awk -v f="$1:" '$1 == f { print $2 }'
}

at_threads 3 set --nnp --keep-caps --dumpable=1 -- \
	sh -c 'cat /proc/$$/status'
rc_is 0 "set --nnp --keep-caps --dumpable=1 -- PROGRAM"
ok '[ "$(status_of NoNewPrivs)" = 1 ]' "PROGRAM runs with NoNewPrivs 1"
at_threads 3 -v set --nnp
rc_is 0 "set -v --nnp"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+: (NoNewPrivs [01] -> 1|unchanged)$")" = 4 ]' \
	"set -v: 'TID: NoNewPrivs old -> 1' on every thread"

# The 44-step recipe anyone may run: lower every ambient capability one
# by one, NO_NEW_PRIVS, KEEP_CAPS, DUMPABLE; proven on every thread
# through /proc (the JSON attrs) and in PROGRAM.
lower=$("$AT" list caps -n | sed 's/^/-/' | paste -sd, -)
at_threads 4 -J set --ambient-caps="$lower" --nnp --keep-caps=1 \
	--dumpable=1
rc_is 0 "a recipe of 40+ steps"
jq_ok '(.steps | length) >= 40' "the recipe has 40+ steps"
jq_ok '(.threads | length) == 5 and all(.threads[]; .state == "ok")' \
	"every thread ran every step"
jq_ok 'all(.threads[]; .attrs.NoNewPrivs == 1 and .attrs.CapAmb == [])' \
	"/proc: every thread has NoNewPrivs 1 and no ambient capability"
jq_ok '[.steps[].role] | all(. == "change")' "the steps are changes"
schema_ok "set -J: the schema"
n=$(printf '%s' "$out" | jq '.steps | length')
jq_ok "all(.threads[]; (.results | length) == $n)" \
	"every thread reports all $n results"
at_threads 4 set --ambient-caps="$lower" --nnp --keep-caps=1 \
	--dumpable=1 -- sh -c 'cat /proc/$$/status'
rc_is 0 "the recipe, then PROGRAM"
ok '[ "$(status_of NoNewPrivs)" = 1 ] && [ "$(status_of CapAmb)" = 0000000000000000 ]' \
	"PROGRAM's /proc: NoNewPrivs 1, CapAmb empty"

# --dry-run: the order, and nothing changes.
at -n set --nnp --securebits=noroot --bounding-set=-net_raw --groups=0 \
	--regid=0 --reuid=0 --fsuid=0 --inh-caps=-all --ambient-caps=-all \
	--dumpable=0 --keep-caps=1 --seccomp-deny=ptrace -- true
rc_is_dry=$rc
order=$(printf '%s\n' "$out" | grep -Eo '^  [0-9]+\. [A-Za-z_]+' |
	awk '{ print $2 }' | uniq | paste -sd' ' -)
ok '[ "$order" = "PR_SET_SECUREBITS PR_SET_KEEPCAPS PR_CAPBSET_DROP setgroups setresgid setresuid setfsuid capset PR_CAP_AMBIENT PR_SET_DUMPABLE PR_SET_NO_NEW_PRIVS" ]' \
	"--dry-run: the documented order ($order)"
out_like 'SECCOMP_FILTER_FLAG_TSYNC' "--dry-run: seccomp last, with TSYNC"
out_like '^then verify /proc/self/task/\*/status: NoNewPrivs is 1$' \
	"--dry-run: the read-back"
out_like '^then exec: true$' "--dry-run: then exec"
out_unlike "$RAN_MARK" "--dry-run: nothing ran"

# Predictions from the target's /proc state: run without privileges.
if command -v setpriv >/dev/null && has_cap 7 && has_cap 6; then
	unpriv() {
		run setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all -- ${T_ENV[@]+"${T_ENV[@]}"} \
			"$(public "$AT")" "$@"
	}
	unpriv -n set --bounding-set=-net_raw
	rc_is 1 "--dry-run predicts a failure (exit 1)"
	out_like 'predicted: step 1, PR_CAPBSET_DROP\(cap_net_raw\), would fail on tid [0-9]+: needs CAP_SETPCAP' \
		"--dry-run: no CAP_SETPCAP for a bounding drop"
	unpriv -n setuid 0
	out_like 'would fail on tid [0-9]+: needs CAP_SETUID' \
		"--dry-run: no CAP_SETUID for setuid 0"
	unpriv -n set --groups=0
	out_like 'needs CAP_SETGID' "--dry-run: no CAP_SETGID for setgroups"
	unpriv -n set --nnp --keep-caps
	rc_is 0 "--dry-run: what anyone may do"
	out_like 'predicted: every step can succeed' "--dry-run: says so"
	threads_env 2
	unpriv bounding -net_raw -- echo "$RAN_MARK"
	rc_is 1 "a refused change: exit 1"
	err_like 'refused, nothing changed: predicted: step 1, PR_CAPBSET_DROP\(cap_net_raw\), would fail on tid [0-9]+: needs CAP_SETPCAP' \
		"a refused change: refused up front, with the step, TID and why"
	out_unlike "$RAN_MARK" "a refused change: PROGRAM did not run"
	unpriv --force bounding -net_raw -- echo "$RAN_MARK"
	rc_is 1 "--force: tried anyway, and refused by the kernel: exit 1"
	err_like 'PR_CAPBSET_DROP\(cap_net_raw\): Operation not permitted' \
		"--force: names the step and the error"
	err_like 'nothing changed' "--force: nothing changed"
	out_unlike "$RAN_MARK" "--force: PROGRAM did not run"
	T_ENV=()
	unpriv -n seccomp --deny=ptrace
	err_like 'NO_NEW_PRIVS set on every thread first' \
		"seccomp without CAP_SYS_ADMIN: NO_NEW_PRIVS first, and said"
else
	skip "--dry-run predictions" "needs setpriv and CAP_SETUID/SETGID"
fi

# A thread that cannot be reached: named, and nothing changes.
at_threads 3:1 --timeout=500 set --keep-caps --nnp -- \
	echo "$RAN_MARK"
rc_is 1 "a thread with the signal blocked: exit 1"
err_like '^allthreads: tid [0-9]+: has the signal blocked; never ran' \
	"the blocked thread is named"
err_like '^allthreads: set: nothing changed$' "nothing changed, and said"
out_unlike "$RAN_MARK" "PROGRAM did not run"

# Contradictory and bad options: exit 64, nothing changed.
bad_set() {
	local re=$1 desc=$2
	shift 2
	at_threads 2 "$@" -- sh -c "echo $RAN_MARK"
	rc_is 64 "$desc"
	err_like "$re" "$desc: the message"
	out_unlike "$RAN_MARK" "$desc: PROGRAM did not run"
}
bad_set 'contradictory' "--reuid with --ruid" set --nnp --reuid=0 --ruid=1
bad_set 'contradictory' "--groups with --clear-groups" \
	set --groups=0 --clear-groups
bad_set 'contradictory' "--seccomp-filter with --seccomp-deny" \
	set --seccomp-filter=/dev/null --seccomp-deny=ptrace
bad_set 'nothing to change' "set with no change" set
bad_set 'keep-caps: 2: not 0 or 1' "--keep-caps=2" set --keep-caps=2
bad_set 'net_raw: each entry needs \+ or -' "--inh-caps without a sign" \
	set --inh-caps=net_raw
bad_set 'unknown capability \(nearest: cap_net_raw' "--bounding-set typo" \
	set --bounding-set=-net_rwa
bad_set 'no such user' "--reuid unknown user" set --reuid=no-such-user-x
bad_set 'out of range' "--reuid out of range" set --reuid=4294967295
bad_set 'no such group' "--groups unknown group" set --groups=no-such-grp-x
bad_set 'unexpected argument' "set with an argument" set --nnp extra
bad_set 'securebits: bogus' "--securebits unknown" set --securebits=bogus
bad_set 'init-groups: needs the user' "--init-groups without a uid" \
	set --init-groups
at -p $$ set --nnp -- true
rc_is 64 "-p with -- PROGRAM"
err_like 'contradictory' "-p with -- PROGRAM: says so"
at -q -v set --nnp
rc_is 64 "-q with -v"
at -J set --nnp -- true
rc_is 64 "-J with -- PROGRAM"
done_testing
