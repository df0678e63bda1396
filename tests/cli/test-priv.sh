#!/bin/bash
# test-priv.sh - privileged changes on every thread of allthreads itself,
# proven through /proc: set*id, capsets, bounding, ambient, and a 40+ step
# hardening recipe.  Each case skips unless this shell has the capability
# bits it needs (CapEff), whatever its uid.
. "$(dirname "$0")/tap.sh"

need() { # DESC CAP... : true when every CAP is effective, else a skip
	local desc=$1 c
	shift
	for c in "$@"; do
		has_cap "$c" || { skip "$desc" "needs capability $c"; return 1; }
	done
}
SETGID=6 SETUID=7 SETPCAP=8 NET_BIND=10 NET_RAW=13 SYS_ADMIN=21

if need "the hardening recipe" $SETGID $SETUID $SETPCAP; then
	at_threads 4 -J set --bounding-set=-all,+net_bind_service \
		--regid=65534 --reuid=65534 --clear-groups --inh-caps=-all \
		--ambient-caps=-all --nnp --securebits=noroot,noroot_locked
	rc_is 0 "the hardening recipe on 5 threads"
	jq_ok '(.steps | length) >= 40' "40+ steps in one visit"
	jq_ok 'all(.threads[]; .state == "ok")' "every thread ran them"
	jq_ok 'all(.threads[].attrs; .Uid == [65534,65534,65534,65534] and
		.Gid == [65534,65534,65534,65534] and .Groups == [] and
		.CapBnd == ["cap_net_bind_service"] and .CapEff == [] and
		.CapPrm == [] and .CapInh == [] and .CapAmb == [] and
		.NoNewPrivs == 1)' \
		"/proc: every thread is nobody, bounded, without capabilities"
	at_threads 4 set --bounding-set=-all,+net_bind_service \
		--regid=65534 --reuid=65534 --clear-groups --inh-caps=-all \
		--nnp -- sh -c 'cat /proc/$$/status'
	rc_is 0 "the recipe, then PROGRAM"
	out_like '^Uid:	65534	65534	65534	65534$' "PROGRAM runs as nobody"
	out_like '^CapBnd:	0000000000000400$' "PROGRAM's bounding set"
	out_like '^NoNewPrivs:	1$' "PROGRAM has NoNewPrivs"
	at_threads 2 -v set --reuid=nobody --regid=nogroup --init-groups
	rc_is 0 "set --reuid=nobody --init-groups (names)"
	out_like ': Uid 0,0,0,0 -> 65534,65534,65534,65534' \
		"-v: Uid old -> new"
fi

if need "setuid" $SETUID; then
	at_threads 3 -J setuid 65534
	rc_is 0 "setuid 65534 on 4 threads"
	jq_ok 'all(.threads[].attrs; .Uid == [65534,65534,65534,65534])' \
		"setuid: every thread in /proc"
	at_threads 3 -J setresuid 1 2 3
	rc_is 0 "setresuid 1 2 3"
	jq_ok 'all(.threads[].attrs; .Uid == [1,2,3,2])' \
		"setresuid: r, e, s and fs in /proc"
	at_threads 3 -J setfsuid 1234
	rc_is 0 "setfsuid 1234"
	jq_ok 'all(.threads[].attrs; .Uid[3] == 1234)' "setfsuid: fs in /proc"
	at_threads 2 setuid nobody -- id -u
	out_like '^65534$' "setuid by name, then PROGRAM"
fi
if need "setgid and setgroups" $SETGID; then
	at_threads 3 -J setgid 4321
	jq_ok 'all(.threads[].attrs; .Gid == [4321,4321,4321,4321])' \
		"setgid: every thread in /proc"
	at_threads 3 -J setresgid 5 6 7
	jq_ok 'all(.threads[].attrs; .Gid == [5,6,7,6])' "setresgid in /proc"
	at_threads 3 -J setgroups 1,2,3
	rc_is 0 "setgroups 1,2,3"
	jq_ok 'all(.threads[].attrs; .Groups == [1,2,3])' "setgroups in /proc"
	at_threads 3 -J setfsgid 77
	jq_ok 'all(.threads[].attrs; .Gid[3] == 77)' "setfsgid in /proc"
fi
if need "caps and drop" $SETPCAP $NET_BIND $NET_RAW; then
	at_threads 3 -J caps cap_net_bind_service,cap_net_raw=eip
	rc_is 0 "caps TEXT"
	jq_ok 'all(.threads[].attrs; .CapEff == ["cap_net_bind_service","cap_net_raw"]
		and .CapPrm == .CapEff and .CapInh == .CapEff)' \
		"caps: E, P and I on every thread"
	at_threads 3 -J drop net_raw,sys_admin
	rc_is 0 "drop net_raw,sys_admin"
	jq_ok 'all(.threads[].attrs; (.CapEff + .CapPrm + .CapInh + .CapBnd +
		.CapAmb) | index("cap_net_raw") == null)' \
		"drop: gone from every set of every thread"
	at_threads 3 -J drop all
	rc_is 0 "drop all"
	jq_ok 'all(.threads[].attrs; .CapEff == [] and .CapPrm == [] and
		.CapBnd == [] and .CapAmb == [])' "drop all: nothing left"
	at_threads 2 -J set --caps=cap_net_bind_service=eip \
		--ambient-caps=+net_bind_service
	rc_is 0 "caps then ambient +net_bind_service"
	jq_ok 'all(.threads[].attrs; .CapAmb == ["cap_net_bind_service"])' \
		"ambient raise in /proc"
	at_threads 2 -J set --reuid=65534 --caps=cap_net_bind_service=eip
	rc_is 0 "a uid change that keeps a capability (KEEP_CAPS implied)"
	jq_ok 'all(.threads[].attrs; .CapEff == ["cap_net_bind_service"] and
		.Uid[0] == 65534)' "nobody with cap_net_bind_service"
	jq_ok '.notes | any(test("KEEP_CAPS 1 first"))' "the implied step, said"
	at_threads 2 -J bounding -net_raw
	jq_ok 'all(.threads[].attrs; .CapBnd | index("cap_net_raw") == null)' \
		"bounding -net_raw in /proc"
	at_threads 2 -J inheritable +net_raw
	jq_ok 'all(.threads[].attrs; .CapInh == ["cap_net_raw"])' \
		"inheritable +net_raw in /proc"
fi
if need "a refused uid change changes nothing" $SETUID $SETGID; then
	threads_env 2
	run setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"${T_ENV[@]}" "$(public "$AT")" setuid 0 -- echo "$RAN_MARK"
	rc_is 1 "setuid 0 as nobody: exit 1"
	err_like 'refused, nothing changed: predicted: step 1, setuid\(0\)' \
		"refused up front: the step"
	out_unlike "$RAN_MARK" "PROGRAM did not run"
	run setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		"${T_ENV[@]}" "$(public "$AT")" --force setuid 0 -- echo "$RAN_MARK"
	rc_is 1 "--force setuid 0 as nobody: exit 1"
	err_like 'setuid\(0\): Operation not permitted' "--force: the step and errno"
	out_unlike "$RAN_MARK" "--force: PROGRAM did not run"
fi
if need "seccomp with CAP_SYS_ADMIN needs no NO_NEW_PRIVS" $SYS_ADMIN; then
	at_threads 2 -J seccomp --deny=ptrace
	jq_ok 'all(.threads[].attrs; .Seccomp == 2 and .NoNewPrivs == 0)' \
		"seccomp: Seccomp 2, NoNewPrivs untouched"
fi
done_testing
