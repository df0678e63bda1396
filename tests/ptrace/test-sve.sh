#!/bin/bash
# test-sve.sh - SVE state survives the ptrace route (aarch64): one thread
# of sve-target spins with patterns in z0-z31, p0-p15 and FFR, another
# waits in a raw read(2) with patterns in v0-v31; after the route changed
# every thread the patterns are compared.  Every system call the route
# injects would discard the spinning thread's SVE state (the kernel keeps
# only v0-v31 across a system call), so the route must save and restore
# it.  Skips without SVE.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! grep -qw sve /proc/cpuinfo; then
	skip "SVE state across the injection" "the CPU has no SVE"
	done_testing
	exit 0
fi
# the checker's own check: a change made on purpose is seen
start_prog "${AT_SVE_TARGET:?AT_SVE_TARGET: the SVE target}"
tcmd clobber-release '^released '
ok 'grep -q "^bad sve 0: changed: z17 p3$" "$T_TMP/target.out" &&
	grep -q "^sve 1 of 2 intact" "$T_TMP/target.out"' \
	"the check sees z17 and p3 changed on purpose, and only those"
stop_target

start_prog "$AT_SVE_TARGET"
ok 'grep -q "^ready .* vl [0-9]*$" "$T_TMP/target.out"' \
	"the target holds SVE patterns ($(head -n 1 "$T_TMP/target.out"))"
at -p "$TPID" --via=ptrace set --nnp --keep-caps=1
rc_is 0 "sve: set through ptrace"
ok 'every_task NoNewPrivs 1' "sve: NoNewPrivs 1 on every thread"
ok 'untraced' "sve: nothing left traced"
tcmd release '^released '
ok 'grep -q "^sve 2 of 2 intact" "$T_TMP/target.out"' \
	"sve: z0-z31, p0-p15, FFR of the spinning thread and v0-v31 of the blocked one intact $(target_bad_lines)"
ok '[ "$reply" = "released 1 x" ]' \
	"sve: the raw read returned the byte ($reply)"
stop_target
done_testing
