#!/bin/bash
# test-check.sh - `allthreads check`: exit 0 only when every thread
# agrees and matches every --expect; 1 with a table of the failing
# threads, a row per reason.
. "$(dirname "$0")/tap.sh"

uid=$(id -u)
user=$(id -un)
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)
eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)

at_threads 4 check
rc_is 0 "check on allthreads itself"
ok '[ -z "$out" ]' "check: silent when all is well"
at_threads 4 -v check
out_like '5 thread\(s\) agree' "check -v: says so"
at check --expect "Uid=$uid" --expect "NoNewPrivs=$nnp" -e "CapEff=$eff"
rc_is 0 "check --expect Uid, NoNewPrivs, CapEff (hex)"
at check -e "Uid=$user" -e "Euid=$uid" -e "Fsuid=$user"
rc_is 0 "check: user names and Euid/Fsuid"
at check "Uid=$uid,$uid,$uid,*"
rc_is 0 "check: four ids, * for any; KEY=VALUE as an argument"
at check -e NoNewPrivs=$((1 - nnp))
rc_is 1 "check: a failing expectation"
out_like '^ *TID +FIELD +REASON$' "check: a table: TID, FIELD, REASON"
out_like "^ *[0-9]+ +NoNewPrivs +NoNewPrivs is $nnp, expected $((1 - nnp))\$" \
	"check: the reason, per thread"
at_threads 3 check -e Seccomp=filter
rc_is 1 "check: Seccomp=filter fails"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^ *[0-9]+ +Seccomp ")" = 4 ]' \
	"check: one row per failing thread"
at_threads 3 check -e Name=no-such-name -e NoNewPrivs=$((1 - nnp)) -o tid -n
rc_is 1 "check -o tid -n"
ok '[ "$(printf "%s\n" "$out" | sort -u | wc -l)" = 4 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 8 ]' \
	"check -o tid -n: a row per reason, two per thread"
at_threads 1 check -e NoNewPrivs=$((1 - nnp)) -P
out_like "^TID=\"[0-9]+\" FIELD=\"NoNewPrivs\" REASON=\"NoNewPrivs is $nnp, expected $((1 - nnp))\"\$" \
	"check -P: NAME=\"value\" pairs"
at check -e NoNewPrivs=$((1 - nnp)) -o bogus
rc_is 64 "check -o bogus"
err_like '^allthreads: unknown column: bogus' "check -o bogus: says which"
groups=$(awk '/^Groups:/ { $1 = ""; print }' /proc/self/status |
	xargs | tr ' ' ,)
at check -e CapAmb=none -e Groups="${groups:-none}" -e Seccomp=0
rc_is 0 "check: CapAmb=none, Groups, Seccomp=0"

if has_cap 10 && has_cap 13; then
	at check -e CapEff=all,-cap_sys_resource -e CapBnd=cap_chown
	rc_is 1 "check: CapBnd=cap_chown fails as root"
	out_like 'CapBnd is .*, expected cap_chown' "check: names what it saw"
else
	skip "check: CapBnd=cap_chown" "not privileged"
	skip "check: names what it saw" "not privileged"
fi

# A process whose threads differ.
fixture 5
at -p "$FPID" check
rc_is 1 "check -p: threads that differ"
out_like "NoNewPrivs is 1, thread $FPID has 0" "check: the differing thread"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^ *[0-9]+ +NoNewPrivs ")" -ge 1 ]' \
	"check: a row per thread"
err_like 'thread\(s\) fail' "check: a summary on stderr"
tid=$(ls /proc/$FPID/task | sort -n | sed -n 2p)
at -t "$tid" check -e NoNewPrivs=1
rc_is 0 "check -t: one thread, NNP=1"
at -J -p "$FPID" check -e Seccomp=0
rc_is 1 "check -J"
schema_ok "check -J: the schema"
jq_ok '.command == "check" and .verdict == "differ" and .exit == 1' \
	"check -J: verdict and exit"
jq_ok '[.threads[] | select(.error != null)] | length >= 1' \
	"check -J: the failing threads have an error"
stop_fixture

# Bad expectations: exit 64.
at check -e Bogus=1
rc_is 64 "check: unknown key"
err_like 'Bogus: unknown key \(nearest' "check: unknown key: nearest keys"
at check -e CapEff=cap_net_rwa
rc_is 64 "check: unknown capability"
err_like 'nearest: cap_net_raw' "check: unknown capability: nearest name"
at check -e NoNewPrivs=2
rc_is 64 "check: NoNewPrivs=2"
at check -e Uid=no-such-user-here
rc_is 64 "check: unknown user"
err_like 'no such user' "check: says so"
at check -e NoNewPrivs
rc_is 64 "check: not KEY=VALUE"
at check -e Seccomp=9
rc_is 64 "check: Seccomp out of range"
done_testing
