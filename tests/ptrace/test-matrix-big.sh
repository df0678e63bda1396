#!/bin/bash
# test-matrix-big.sh - 2000 threads (most idle, some blocked in read and
# nanosleep), started WITHOUT the helper: every one changed through ptrace,
# and every blocked call comes back right.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

start_target --idle 1980 --read 10 --sleep 8
n=$(task_count)
ok '[ "$n" -ge 2000 ]' "the target has $n threads"
T_LIMIT=60 at -p "$TPID" --via=ptrace set --nnp --keep-caps=1
rc_is 0 "2000 threads: set through ptrace"
ok 'every_task NoNewPrivs 1' "2000 threads: NoNewPrivs 1 on every thread"
ok 'untraced' "2000 threads: no thread left traced or stopped"
tcmd release '^released '
ok 'released_ok 1999 1' "2000 threads: every thread reports, KEEP_CAPS 1 ($reply)"
stop_target
done_testing
