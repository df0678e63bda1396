#!/bin/bash
# test-show.sh - `allthreads show`: every thread's credentials from /proc,
# folded, with differences marked; on allthreads itself and on a real
# multi-threaded process whose threads changed themselves.
. "$(dirname "$0")/tap.sh"

nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)

at show
rc_is 0 "show on allthreads itself"
out_like '^ *TID +THREADS +UID +GID +GROUPS +CAPEFF +CAPPRM +CAPINH +CAPBND +CAPAMB +NNP +SECCOMP +FILTERS$' \
	"show: the header (every credential; names with -o +comm)"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 2 ]' "show: one thread, one row"

at_threads 5 show -o threads,uid,nnp
rc_is 0 "show -o on 6 threads"
ok '[ "$(printf "%s\n" "$out" | sed -n 2p | awk "{print \$1}")" = 6 ]' \
	"show: 6 threads that agree fold into one row"
at_threads 3 show -o tid,comm
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 5 ]' \
	"show -o tid,comm: names differ, a row each"
out_like '^ *TID +COMM\*$' "show: a differing column is marked with *"
at_threads 3 -v show -o tid,uid
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 5 ]' "show -v: a row per thread"

# A real process whose threads changed themselves.
fixture 6
at -p "$FPID" show
rc_is 0 "show -p on the fixture"
out_like "^$FPID " "show -p: the main thread's row"
out_like '^ *TID +THREADS +UID .* NNP\* ' "show -p: NNP differs"
ok '[ "$(printf "%s\n" "$out" | wc -l)" -lt "$(ls /proc/$FPID/task | wc -l)" ]' \
	"show -p: threads that agree fold, whatever their names"
at -p "$FPID" show -o all
out_like 'odd-one' "show -p -o all: the renamed thread"
out_like '^ *TID +THREADS +COMM\* .* NNP\* ' "show -p -o all: COMM and NNP differ"
at -p "$FPID" show
ntasks=$(ls /proc/$FPID/task | wc -l)
sum=$(printf "%s\n" "$out" | awk 'NR > 1 { n += $2 } END { print n }')
ok '[ "$sum" = "$ntasks" ]' "show -p: THREADS add up to every thread ($ntasks)"
# Truth, thread by thread, against /proc.
at -p "$FPID" -v show -o tid,nnp,capeff --raw --noheadings
rc_is 0 "show -v --raw --noheadings"
bad=0
for t in /proc/$FPID/task/*; do
	tid=${t##*/}
	want=$(awk '/^NoNewPrivs:/ { print $2 }' "$t/status")
	got=$(printf "%s\n" "$out" | awk -v t="$tid" '$1 == t { print $2 }')
	[ "$want" = "$got" ] || bad=$((bad + 1))
done
ok '[ $bad = 0 ]' "show: every thread's NNP is what /proc says"
ok '[ "$(printf "%s\n" "$out" | awk "\$2 == 1" | wc -l)" = 1 ]' \
	"show: exactly one thread has NoNewPrivs"
if has_cap 13; then
	out_like ' all,-cap_net_raw' "show: the thread that dropped cap_net_raw"
else
	skip "show: the thread that dropped cap_net_raw" "no CAP_NET_RAW"
fi
# -t: one thread.
tid=$(ls /proc/$FPID/task | sort -n | sed -n 3p)
at -t "$tid" show -o tid,comm --noheadings
rc_is 0 "show -t TID"
ok '[ "$(printf "%s\n" "$out" | awk "{print \$1}")" = "$tid" ]' \
	"show -t: that thread only"
at -p "$FPID" -t "$tid" show -o tid --noheadings
ok '[ "$out" = "$tid" ]' "show -p PID -t TID"
at -p "$FPID" -t 1 show
rc_is 3 "show -t of a thread not in PID"

# -J: every thread, decoded.
at -J -p "$FPID" show
rc_is 0 "show -J"
schema_ok "show -J: the schema"
jq_ok '.verdict == "differ" and (.differ | index("NoNewPrivs"))' \
	"show -J: verdict differ, NoNewPrivs among the differences"
jq_ok "(.threads | length) == $ntasks" "show -J: every thread"
jq_ok '[.threads[].attrs.NoNewPrivs] | add == 1' "show -J: one NoNewPrivs"
jq_ok '.threads[0].attrs.Uid | length == 4' "show -J: four uids"
jq_ok '.threads[0].attrs.CapBnd | all(startswith("cap_"))' \
	"show -J: capability names"
at -J show
jq_ok '.verdict == "agree" and .target.self == true' "show -J on itself: agree"

# Several pids.
at -p "$FPID,$$" show -o tid --noheadings
rc_is 0 "show -p PID,PID"
out_like "^$FPID\$" "show -p PID,PID: the first"
out_like "^$$\$" "show -p PID,PID: the second"
stop_fixture

# Threads that come and go while they are read: skipped, never an error.
fixture 3 churn
fails=0
for i in $(seq 30); do
	at -p "$FPID" show -o tid,comm
	[ $rc = 0 ] || fails=$((fails + 1))
done
ok '[ $fails = 0 ]' "show while threads come and go: 30 reads, exit 0"
at -p "$FPID" check -e Seccomp=0
ok '[ $rc = 0 ] || [ $rc = 1 ]' "check while threads come and go: an answer"
stop_fixture

# Errors.
at show -o tid,bogus
rc_is 64 "show -o unknown column"
err_like '^allthreads: unknown column: bogus \(nearest: ' "show -o: names the column, and the nearest"
at show extra
rc_is 64 "show takes no argument"
at -p 999999999 show
rc_is 64 "show -p out of range"
at -p abc show
rc_is 64 "show -p not a number"
pid=$(sh -c 'echo $$')
at -p "$pid" show
rc_is 3 "show -p of a process that is gone"
err_like "^allthreads: $pid: no such process$" "show: no such process"
at show -- true
rc_is 64 "show -- PROGRAM"
done_testing
