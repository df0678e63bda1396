#!/bin/bash
# test-prctl.sh - `allthreads prctl` reads and changes, on allthreads' own
# threads (at_threads starts idle ones), in every spelling.
. "$(dirname "$0")/tap.sh"

N=4 # idle threads: with allthreads' own, 5 in all
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)

# Reads.
at prctl KEEP_CAPS
rc_is 0 "read KEEP_CAPS"
ok '[ "$out" = "all 0" ]' "read KEEP_CAPS: one folded line"
at_threads $N prctl KEEP_CAPS
rc_is 0 "read KEEP_CAPS on $((N + 1)) threads"
ok '[ "$out" = "all 0" ]' "read on $((N + 1)) threads: folded"
at_threads $N -v prctl KEEP_CAPS
rc_is 0 "-v read"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ 0$")" = $((N + 1)) ]' \
	"-v read: one 'TID VALUE' line per thread"
ok '[ "$(printf "%s\n" "$out" | cut -d" " -f1 | sort -u | wc -l)" = $((N + 1)) ]' \
	"-v read: distinct TIDs"
for name in keep_caps keepcaps KEEPCAPS PR_SET_KEEPCAPS PR_GET_KEEPCAPS \
	    pr_get_keepcaps keep-caps; do
	at prctl "$name"
	ok '[ $rc = 0 ] && [ "$out" = "all 0" ]' "the name $name reads KEEP_CAPS"
done
at prctl NO_NEW_PRIVS
ok '[ $rc = 0 ] && [ "$out" = "all $nnp" ]' "read NO_NEW_PRIVS ($nnp)"
at prctl nnp
ok '[ $rc = 0 ] && [ "$out" = "all $nnp" ]' "nnp is NO_NEW_PRIVS"

# Thread names differ: one line per thread, never folded.
at_threads 3 prctl NAME
rc_is 0 "read NAME"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 4 ]' "NAME: a line per thread"
out_like '^[0-9]+ allthreads$' "NAME: allthreads' own thread"
out_like '^[0-9]+ at-test-0$' "NAME: an idle thread"
at prctl comm
out_like '^all allthreads$' "comm is NAME"

# Changes: silent on success, verified, -v shows old -> new.
at_threads $N prctl KEEP_CAPS 1
rc_is 0 "KEEP_CAPS 1 on $((N + 1)) threads"
ok '[ -z "$out" ]' "a change is silent on success"
at_threads $N -v prctl KEEP_CAPS 1
rc_is 0 "-v KEEP_CAPS 1"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ 0 -> 1$")" = $((N + 1)) ]' \
	"-v KEEP_CAPS 1: 'TID 0 -> 1' on every thread"
at_threads $N -v prctl NAME renamed
rc_is 0 "NAME renamed on every thread"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ .+ -> renamed$")" = $((N + 1)) ]' \
	"-v NAME: 'TID old -> renamed' on every thread"
out_like ' at-test-0 -> renamed$' "-v NAME: an idle thread's old name"
at_threads $N -v prctl NO_NEW_PRIVS 1
rc_is 0 "NO_NEW_PRIVS 1 on every thread"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ $nnp -> 1$")" = $((N + 1)) ]' \
	"-v NO_NEW_PRIVS: '$nnp -> 1' on every thread"
at_threads $N -v prctl TIMERSLACK 123456
rc_is 0 "TIMERSLACK 123456"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ [0-9]+ -> 123456$")" = $((N + 1)) ]' \
	"-v TIMERSLACK: '-> 123456' on every thread"
at prctl TIMERSLACK 0
rc_is 0 "TIMERSLACK 0 (back to the default)"
at prctl TIMERSLACK
out_like '^all [0-9]+$' "read TIMERSLACK"
at prctl PDEATHSIG KILL
rc_is 0 "PDEATHSIG KILL"
at prctl PDEATHSIG sigusr1
rc_is 0 "PDEATHSIG sigusr1"
at prctl PDEATHSIG 0
rc_is 0 "PDEATHSIG 0"

# DUMPABLE is process-wide, and says so.
at prctl DUMPABLE
rc_is 0 "read DUMPABLE"
out_like '^all [01]$' "read DUMPABLE: a value"
err_like 'DUMPABLE is process-wide' "DUMPABLE: says it is process-wide"
at -q prctl DUMPABLE
ok '[ -z "$err" ]' "-q: no note"
at_threads 2 -v prctl DUMPABLE 0
rc_is 0 "DUMPABLE 0"
ok '[ "$(printf "%s\n" "$out" | grep -Ec "^[0-9]+ [01] -> 0$")" = 3 ]' \
	"-v DUMPABLE 0 on every thread"

# SECUREBITS: numbers and names.
at prctl SECUREBITS
rc_is 0 "read SECUREBITS"
out_like '^all 0x[0-9a-f]+' "read SECUREBITS: a mask"
if has_cap 8; then
	at -v prctl SECUREBITS keep_caps,noroot
	rc_is 0 "SECUREBITS keep_caps,noroot (CAP_SETPCAP)"
	out_like ' -> 0x11\(noroot,keep_caps\)$' "SECUREBITS: read back"
	at prctl SECUREBITS 0x10
	rc_is 0 "SECUREBITS 0x10"
else
	at prctl SECUREBITS keep_caps -- echo "$RAN_MARK"
	rc_is 1 "SECUREBITS without CAP_SETPCAP fails"
	err_like 'Operation not permitted' "SECUREBITS: EPERM named"
	err_like 'nothing changed' "SECUREBITS: nothing changed"
	out_unlike "$RAN_MARK" "SECUREBITS: PROGRAM did not run"
fi

# The bounding set: read it whole, one capability, drop one.
at prctl CAPBSET_DROP
rc_is 0 "read the bounding set"
out_like '^all (all|none|cap_[a-z_]+(,cap_[a-z_0-9]+)*)$' \
	"bounding set: names"
bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
raw=$(( (0x$bnd >> 13) & 1 ))
for spelling in net_raw cap_net_raw CAP_NET_RAW 13; do
	at prctl CAPBSET_READ $spelling
	ok '[ $rc = 0 ] && [ "$out" = "all $raw" ]' \
		"CAPBSET_READ $spelling: $raw"
done
if has_cap 8 && [ "$raw" = 1 ]; then
	at_threads 3 -v prctl CAPBSET_DROP net_raw -- \
		awk '/^CapBnd:/ { print $2 }' /proc/self/status
	rc_is 0 "CAPBSET_DROP net_raw"
	ok '[ $(( (0x$(tail -n1 <<<"$out") >> 13) & 1 )) = 0 ]' \
		"CAPBSET_DROP: PROGRAM's CapBnd lacks cap_net_raw"
else
	at prctl CAPBSET_DROP net_raw -- echo "$RAN_MARK"
	rc_is 1 "CAPBSET_DROP without CAP_SETPCAP fails"
	err_like 'tid [0-9]+: PR_CAPBSET_DROP\(cap_net_raw\): Operation not permitted' \
		"CAPBSET_DROP: the TID and the error"
	out_unlike "$RAN_MARK" "CAPBSET_DROP: PROGRAM did not run"
fi

# The ambient set.
at prctl CAP_AMBIENT
rc_is 0 "read the ambient set"
out_like '^all ' "ambient set: folded"
at prctl CAP_AMBIENT IS_SET net_raw
ok '[ $rc = 0 ] && [ "$out" = "all 0" ]' "CAP_AMBIENT IS_SET net_raw"
at_threads 2 prctl CAP_AMBIENT CLEAR_ALL
rc_is 0 "CAP_AMBIENT CLEAR_ALL"
inh=$(awk '/^CapInh:/ { print $2 }' /proc/self/status)
if [ $(( (0x$inh >> 13) & 1 )) = 0 ]; then
	at_threads 2 prctl CAP_AMBIENT RAISE net_raw -- \
		echo "$RAN_MARK"
	rc_is 1 "CAP_AMBIENT RAISE without the inheritable bit fails"
	err_like 'PR_CAP_AMBIENT\(RAISE, cap_net_raw\): Operation not permitted' \
		"CAP_AMBIENT RAISE: the error"
	out_unlike "$RAN_MARK" "CAP_AMBIENT RAISE: PROGRAM did not run"
else
	skip "CAP_AMBIENT RAISE failure" "cap_net_raw is inheritable here"
fi
at prctl CAP_AMBIENT LOWER net_raw
rc_is 0 "CAP_AMBIENT LOWER net_raw"

# Speculation control: reads always work; changes depend on the CPU.
at prctl SPECULATION_CTRL
rc_is 0 "read SPECULATION_CTRL"
out_like '^all store_bypass=[a-z_,:A-Z]+ indirect_branch=' \
	"SPECULATION_CTRL: every feature"
at prctl speculation_ctrl store_bypass
out_like '^all [a-z_,:A-Z]+$' "SPECULATION_CTRL store_bypass"
at prctl SPECULATION_CTRL store_bypass disable
ok '[ $rc = 0 ] || [ $rc = 1 ]' \
	"SPECULATION_CTRL store_bypass disable: done or refused, never partial"

# IO_FLUSHER needs CAP_SYS_RESOURCE even to read.
if has_cap 24; then
	at prctl IO_FLUSHER
	ok '[ $rc = 0 ] && [ "$out" = "all 0" ]' "read IO_FLUSHER"
	at -v prctl IO_FLUSHER 1
	rc_is 0 "IO_FLUSHER 1"
	out_like ' 0 -> 1$' "IO_FLUSHER: 0 -> 1"
else
	at prctl IO_FLUSHER
	rc_is 1 "read IO_FLUSHER without CAP_SYS_RESOURCE"
	ok '[ "$out" = "all error:EPERM" ]' "IO_FLUSHER: the error as the value"
	err_like 'tid [0-9]+: PR_GET_IO_FLUSHER\(\): Operation not permitted' \
		"IO_FLUSHER: the TID and the error"
fi

# --dry-run prints the steps and changes nothing.
at_threads 2 -n prctl KEEP_CAPS 1
rc_is 0 "--dry-run"
out_like '^dry run: nothing changes' "--dry-run: says so"
out_like '1\. PR_GET_KEEPCAPS\(\) +old' "--dry-run: step 1 reads the old value"
out_like '2\. PR_SET_KEEPCAPS\(1\) +change .*undo: PR_SET_KEEPCAPS\(saved' \
	"--dry-run: step 2 changes, with its undo"
out_like '3\. PR_GET_KEEPCAPS\(\) +check .*expect 1' \
	"--dry-run: step 3 checks"
at -n prctl NO_NEW_PRIVS 1 -- sh -c "echo $RAN_MARK"
rc_is 0 "--dry-run with PROGRAM"
out_like 'undo: none \(one-way\)' "--dry-run: NO_NEW_PRIVS is one-way"
out_like 'then verify /proc/self/task/\*/status: NoNewPrivs is 1' \
	"--dry-run: the /proc verification"
out_like '^then exec: sh -c' "--dry-run: the program"
out_unlike "^$RAN_MARK" "--dry-run: PROGRAM did not run"
at -n prctl NO_NEW_PRIVS 1 -- sh -c 'grep NoNewPrivs /proc/self/status'
out_unlike 'NoNewPrivs:' "--dry-run: nothing executed"
at -n prctl CAPBSET_DROP
out_like "PR_CAPBSET_READ\\($(cat /proc/sys/kernel/cap_last_cap)\\)" \
	"--dry-run: a bounding-set read is one step per capability"

# A thread that blocks every signal: named, nothing changed, no hang.
at_threads 3:1 --timeout=2000 prctl KEEP_CAPS 1 -- \
	echo "$RAN_MARK"
rc_is 1 "a blocking thread: failed"
err_like 'tid [0-9]+: has the signal blocked; never ran: signal blocked \(SigBlk\) \(state [A-Z]' \
	"a blocking thread: named with what the engine saw (SigBlk, state)"
err_like 'KEEP_CAPS: nothing changed' "a blocking thread: nothing changed"
out_unlike "$RAN_MARK" "a blocking thread: PROGRAM did not run"

done_testing
