#!/bin/bash
# test-exec.sh - the setpriv form: change every thread, verify, then run
# PROGRAM in place of allthreads; 126 and 127 when it cannot run.
. "$(dirname "$0")/tap.sh"

at prctl NO_NEW_PRIVS 1 -- sh -c 'grep NoNewPrivs /proc/self/status'
rc_is 0 "NO_NEW_PRIVS 1 -- sh"
ok '[ "$out" = "NoNewPrivs:	1" ]' "PROGRAM runs with NoNewPrivs 1"
at_threads 8 prctl NO_NEW_PRIVS 1 -- \
	sh -c 'grep NoNewPrivs /proc/self/status'
rc_is 0 "NO_NEW_PRIVS 1 from 9 threads -- sh"
ok '[ "$out" = "NoNewPrivs:	1" ]' "9 threads: PROGRAM has NoNewPrivs 1"
at prctl KEEP_CAPS 1 -- cat /proc/self/status
rc_is 0 "KEEP_CAPS 1 -- cat /proc/self/status"
out_like '^Name:	cat$' "PROGRAM replaced allthreads (same process)"
err_like 'execve resets KEEP_CAPS' "KEEP_CAPS: warns that execve resets it"
at -q prctl KEEP_CAPS 1 -- true
ok '[ -z "$err" ]' "-q: no warning"
at prctl KEEP_CAPS 1 -- sh -c 'echo $$'
ok '[ $rc = 0 ] && [ -n "$out" ]' "PROGRAM runs"
at prctl TIMERSLACK 4242 -- sh -c 'cat /proc/self/timerslack_ns'
ok '[ "$out" = 4242 ]' "TIMERSLACK survives execve"
at prctl NAME somename -- true
rc_is 0 "NAME -- true"
err_like 'execve resets NAME' "NAME: warns that execve resets it"

# PROGRAM's own options and arguments reach it untouched.
at prctl KEEP_CAPS 1 -- sh -c 'printf "%s " "$@"; echo' sh -n -v --help -- x
ok '[ "$out" = "-n -v --help -- x " ]' "PROGRAM's options pass through"
at prctl KEEP_CAPS 1 -- ls -d /
ok '[ "$out" = / ]' "PROGRAM found in PATH"
at prctl KEEP_CAPS 1 -- sh -c 'exit 7'
rc_is 7 "PROGRAM's exit status is allthreads' exit status"

# Not found: 127; not executable: 126; nothing runs, nothing changes.
at prctl NO_NEW_PRIVS 1 -- no-such-program-at-all
rc_is 127 "PROGRAM not found"
err_like '^allthreads: no-such-program-at-all: command not found' \
	"not found: message"
at prctl NO_NEW_PRIVS 1 -- /nonexistent/dir/prog
rc_is 127 "PROGRAM path does not exist"
touch "$T_TMP/plain"
chmod 644 "$T_TMP/plain"
at prctl NO_NEW_PRIVS 1 -- "$T_TMP/plain"
rc_is 126 "PROGRAM not executable"
err_like 'plain: not executable' "not executable: message"
at prctl NO_NEW_PRIVS 1 -- "$T_TMP"
rc_is 126 "PROGRAM is a directory"
printf '#!/nonexistent/interpreter\n' >"$T_TMP/badinterp"
chmod 755 "$T_TMP/badinterp"
at prctl KEEP_CAPS 1 -- "$T_TMP/badinterp"
rc_is 126 "PROGRAM found, its interpreter not"
err_like 'badinterp: No such file or directory \(its interpreter\?\)' \
	"missing interpreter: message"
mkdir "$T_TMP/bin"
printf '#!/bin/sh\necho from-path\n' >"$T_TMP/bin/mine"
chmod 755 "$T_TMP/bin/mine"
run env PATH="$T_TMP/bin:/usr/bin:/bin" "$AT" prctl KEEP_CAPS 1 -- mine
ok '[ $rc = 0 ] && [ "$out" = from-path ]' "PROGRAM found through \$PATH"
chmod 644 "$T_TMP/bin/mine"
run env PATH="$T_TMP/bin" "$AT" prctl KEEP_CAPS 1 -- mine
rc_is 126 "PROGRAM in \$PATH but not executable"

# The test threads are allthreads' own: PROGRAM starts without them and
# without the library that made them.
at_threads 3 prctl KEEP_CAPS 0 -- sh -c \
	'echo "${AT_TEST_THREADS-unset} ${LD_PRELOAD-unset}"; grep ^Threads: /proc/$$/status'
rc_is 0 "test threads, then PROGRAM"
out_like '^unset unset$' "PROGRAM: AT_TEST_THREADS and LD_PRELOAD are gone"
out_like '^Threads:	1$' "PROGRAM: one thread"
threads_env 0
run "${T_ENV[@]}" LD_PRELOAD="$(public "$AT_TEST_THREADS_SO") /lib/none.so" \
	AT_TEST_THREADS=2 sh -c 'echo "$LD_PRELOAD"' 2>/dev/null
out_like '^/lib/none.so$' "only the library itself leaves LD_PRELOAD"
run env AT_TEST_THREADS=3:4 LD_PRELOAD="$(public "$AT_TEST_THREADS_SO")" \
	"$AT" prctl KEEP_CAPS
rc_is 99 "AT_TEST_THREADS=3:4: more blocked than started is a hard error"

# A failed change never runs PROGRAM.
at_threads 2:1 --timeout=1500 prctl NO_NEW_PRIVS 1 -- \
	echo "$RAN_MARK"
rc_is 1 "a change that cannot reach every thread"
out_unlike "$RAN_MARK" "failed change: PROGRAM did not run"
err_like 'not running echo' "failed change: says PROGRAM is not run"

done_testing
