#!/bin/bash
# test-output.sh - the exit status and the output agree (issue 11.9):
# output that cannot be written is an error; the JSON carries the real
# exit code; a name with a backslash passes its own /proc check.
. "$(dirname "$0")/tap.sh"

run bash -c '"$0" -J show >/dev/full' "$AT"
rc_is 1 "-J show >/dev/full: a write error is an error"
err_like '^allthreads: write error: No space left on device$' "and says so"
run bash -c '"$0" show >/dev/full' "$AT"
rc_is 1 "show >/dev/full: the same in text"
threads_env 2
run bash -c '"$@" >/dev/full' bash "${T_ENV[@]}" "$AT" -J prctl KEEP_CAPS 0
rc_is 1 "a change whose report cannot be written: exit 1"
at -J show
rc_is 0 "-J show to a pipe: exit 0"

# Predicted to fail even as root: ambient needs permitted and inheritable.
at -J -n set --ambient-caps=+net_raw
rc_is 1 "-J -n with a predicted failure: exit 1"
jq_ok '.exit == 1' "the JSON says \"exit\":1 too"
at -J -n set --nnp
rc_is 0 "-J -n with no predicted failure: exit 0"
jq_ok '.exit == 0' "the JSON says \"exit\":0"

at_threads 2 prctl NAME 'a"b\c'
rc_is 0 "prctl NAME 'a\"b\\c': set, and its /proc check passes"
at_threads 2 -J prctl NAME 'a"b\c'
jq_ok '[.threads[].value] | length == 3 and all(. == "a\"b\\c")' \
	"-J: every thread's value is the name as set"
done_testing
