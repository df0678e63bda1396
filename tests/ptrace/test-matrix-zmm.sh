#!/bin/bash
# test-matrix-zmm.sh - vector state survives: two threads keep patterns in
# zmm16-31, k1-k7 (and r12-r15) live inside inline asm, one spinning, one
# blocked in a raw read(2); after the ptrace route changed every thread the
# patterns are compared.  gdb's `call` fails on this CPU writing the
# extended state; the route must never touch it.  Skips without AVX-512.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! grep -qw avx512f /proc/cpuinfo; then
	skip "zmm state across the injection" "the CPU has no AVX-512"
	done_testing
	exit 0
fi
# the checker's own check: a change made on purpose is seen
start_target --zmm --idle 1
tcmd clobber-release '^released '
ok 'grep -q "^bad zmm 1: changed: zmm17 k3$" "$T_TMP/target.out" &&
	grep -q "^zmm 1 of 2 intact" "$T_TMP/target.out"' \
	"the check sees zmm17 and k3 changed on purpose, and only those"
stop_target

start_target --zmm --idle 2 --busy 1
ok '! grep -q "^nozmm" "$T_TMP/target.out"' "the target holds zmm patterns"
at -p "$TPID" --via=ptrace set --nnp --keep-caps=1
rc_is 0 "zmm: set through ptrace"
ok 'every_task NoNewPrivs 1' "zmm: NoNewPrivs 1 on every thread"
ok 'untraced' "zmm: nothing left traced"
tcmd release '^released '
ok 'grep -q "^zmm 2 of 2 intact" "$T_TMP/target.out"' \
	"zmm: zmm16-31, k1-k7, r12-r15 intact in both threads $(target_bad_lines)"
ok 'released_ok 6 1' "zmm: the raw read returned the byte, all came back ($reply)"
stop_target
done_testing
