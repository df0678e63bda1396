#!/bin/bash
# test-creds.sh - the one-change commands (setuid, setgid, setresuid,
# setresgid, setgroups, setfsuid, setfsgid, caps, drop, ambient, bounding,
# inheritable): what they compile to, their bad input, and the changes
# anyone may make.  The privileged runs are in test-priv.sh.
. "$(dirname "$0")/tap.sh"

uid=$(id -u)
gid=$(id -g)

# What each compiles to (--dry-run).
dry() { # RE DESC ARGS...
	local re=$1 desc=$2
	shift 2
	at -n "$@"
	ok '[ $rc = 0 ] || [ $rc = 1 ]' "$desc: a plan"
	out_like "$re" "$desc: $re"
}
dry '1\. setuid\(0\)' "setuid root" setuid root
dry '1\. setuid\(65534\)' "setuid by number" setuid 65534
dry '1\. setgid\(0\)' "setgid" setgid 0
dry '1\. setresuid\(1, 2, -1\)' "setresuid - for unchanged" setresuid 1 2 -
dry '1\. setresuid\(-1, 2, -1\)' "setresuid keep" setresuid keep 2 -1
dry '1\. setresgid\(3, 3, 3\)' "setresgid" setresgid 3 3 3
dry '1\. setgroups\(3, \[1,2,3\]\)' "setgroups" setgroups 1,2,3
dry '1\. setgroups\(0, \[\]\)' "setgroups ''" setgroups ''
dry '1\. setfsuid\(0\) +change judge success, undo: setfsuid\(saved' \
	"setfsuid: judged SUCCESS, undone by the saved value" setfsuid 0
dry '1\. setfsgid\(0\) +change judge success' "setfsgid" setfsgid 0
dry 'capset\(e=cap_net_bind_service p=cap_net_bind_service i=cap_net_bind_service\)' \
	"caps TEXT" caps cap_net_bind_service=eip
dry 'capset\(e=none p=none i=none\)' "caps =" caps =
dry '1\. PR_CAPBSET_DROP\(cap_net_raw\)' "drop: bounding first" drop net_raw
dry '2\. capset\(e=' "drop: then capset" drop CAP_NET_RAW
dry '3\. PR_CAP_AMBIENT\(LOWER, cap_net_raw\)' "drop: then ambient" drop 13
dry 'PR_CAP_AMBIENT\(CLEAR_ALL\)' "drop all: clears ambient" drop all
dry '1\. PR_CAP_AMBIENT\(CLEAR_ALL\)' "ambient -all" ambient -all
dry 'PR_CAP_AMBIENT\(RAISE, cap_net_raw\)' "ambient -all,+net_raw" \
	ambient -all,+net_raw
dry '1\. PR_CAPBSET_DROP\(cap_sys_admin\)' "bounding -sys_admin" \
	bounding -sys_admin
dry 'capset\(.*i=cap_net_raw\)' "inheritable -all,+net_raw" \
	inheritable -all,+net_raw
at -n drop all
ok '[ "$(printf "%s\n" "$out" | grep -c PR_CAPBSET_DROP)" -ge 1 ]' \
	"drop all: every bounding capability"

# Changes anyone may make: to the ids one already has, the ambient set.
at_threads 3 -v setresuid "$uid" "$uid" "$uid"
rc_is 0 "setresuid to one's own ids on every thread"
out_like ': unchanged$' "setresuid: -v says unchanged"
at_threads 3 setgid "$gid" -- sh -c "echo $RAN_MARK"
rc_is 0 "setgid to one's own gid, then PROGRAM"
out_like "$RAN_MARK" "PROGRAM ran"
at_threads 3 -J setfsuid "$uid"
rc_is 0 "setfsuid to one's own uid"
jq_ok "all(.threads[]; .attrs.Uid[3] == $uid)" \
	"setfsuid: every thread's fsuid in /proc"
at_threads 2 ambient -all
rc_is 0 "ambient -all"
at_threads 2 inheritable -all -- sh -c 'grep CapInh /proc/$$/status'
rc_is 0 "inheritable -all"
out_like 'CapInh:	0000000000000000' "inheritable -all: PROGRAM's CapInh"

# Bad input: exit 64, nothing changed.
bad() { # RE DESC ARGS...
	local re=$1 desc=$2
	shift 2
	at "$@" -- echo "$RAN_MARK"
	rc_is 64 "$desc"
	err_like "$re" "$desc: the message"
	out_unlike "$RAN_MARK" "$desc: PROGRAM did not run"
}
bad 'setuid: no-such-user-x: no such user' "setuid unknown user" \
	setuid no-such-user-x
bad 'out of range' "setuid 4294967295" setuid 4294967295
bad 'setresuid: missing arguments' "setresuid with two ids" setresuid 1 2
bad 'too many arguments' "setuid with two ids" setuid 1 2
bad 'no such group' "setgid unknown group" setgid no-such-group-x
bad 'setgroups: .*no such group' "setgroups unknown group" \
	setgroups 0,no-such-group-x
bad 'caps: cap_net_rw: unknown capability \(nearest: cap_net_raw' \
	"caps: a misspelt name" caps cap_net_rw=eip
bad 'not libcap text' "caps: not libcap text" caps 'cap_chown=q'
bad 'drop: net_rwa: unknown capability \(nearest: cap_net_raw\)' \
	"drop: unknown capability" drop net_rwa
bad 'drop: 99: out of range \(0\.\.' "drop: out of range" drop 99
bad 'each entry needs \+ or -' "ambient: no sign" ambient net_raw
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
missing=
for c in $(seq 0 "$(cat /proc/sys/kernel/cap_last_cap)"); do
	(( (0x$bnd >> c) & 1 )) || { missing=$c; break; }
done
if [ -n "$missing" ]; then
	bad 'bounding set only shrinks' "bounding: +cap it lacks" \
		bounding -all,+$missing
else
	skip "bounding: +cap it lacks" "the bounding set is full"
fi
bad 'missing arguments' "caps without TEXT" caps
done_testing
