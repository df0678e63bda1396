#!/bin/bash
# test-uring.sh - credentials a process keeps in io_uring, apart from its
# threads (issue 16 item 4): an SQPOLL ring's kernel thread (iou-sqp-PID,
# a task of the process that no route reaches) and the personalities a
# ring may hold.  A credential change on such a process is refused with
# the reason (exit 1, nothing changed) unless --force, and then reported
# as not changed (exit 2), never as verified; show, check and audit show
# what is kept, in words and in -J.  On both routes: the ptrace route (a
# plain process) and the helper (under `allthreads run`).  A process
# without rings is unaffected.  Root only (skips by capability bit); skips
# where io_uring is disabled.
. "$(dirname "$0")/tap.sh"

URING=${AT_URING:?AT_URING: the io_uring fixture}
# The runs' deadline (the default), multiplied under emulation.
TMO=--timeout=$((5000 * T_SLOW))
# What is said of a ring's personalities: a kernel that does not list
# them in fdinfo (6.18), one that does (6.1, on emulated arm64).
UNSHOWN='may hold registered personalities|holds 1 personality whose Groups fdinfo does not show'
HELD='may hold registered personalities|holds personality [0-9]+ '
RECIPE=(set --bounding-set=-all --regid=nogroup --reuid=nobody --clear-groups)
UPID=
UOUT=$T_TMP/uring.out

stop_uring() {
	[ -n "$UPID" ] && kill "$UPID" 2>/dev/null && wait "$UPID" 2>/dev/null
	UPID=
}
trap 'stop_uring; rm -rf "$T_TMP"' EXIT

# start_uring VIA ARGS...: the fixture with ARGS, under `allthreads run`
# when VIA is helper; sets $UPID.  Returns 77 when io_uring is not there.
start_uring() {
	local via=$1 i
	shift
	stop_uring
	: >"$UOUT"
	if [ "$via" = helper ]; then
		ALLTHREADS_HELPER=$AT_HELPER "$AT" run -- "$URING" "$@" \
			>"$UOUT" 2>"$UOUT.err" &
	else
		"$URING" "$@" >"$UOUT" 2>"$UOUT.err" &
	fi
	UPID=$!
	for i in $(seq 200); do
		grep -q '^ready' "$UOUT" && return 0
		if ! kill -0 "$UPID" 2>/dev/null; then
			wait "$UPID"
			i=$?
			UPID=
			return $i
		fi
		sleep 0.05
	done
	echo "Bail out! the io_uring fixture did not start"
	exit 1
}

# The SQPOLL thread of $UPID, by its name.
sqpoll_tid() {
	grep -l '^iou-sqp-' /proc/"$UPID"/task/*/comm 2>/dev/null |
		head -n 1 | cut -d/ -f5
}

# uids_of: "TID:UID" of each task of $UPID, one a line.
uids_of() {
	local t
	for t in /proc/"$UPID"/task/*; do
		echo "${t##*/}:$(awk '/^Uid:/ { print $2 }' "$t/status")"
	done
}

# probe: what the fixture opens now, directly and through its ring.
probe() {
	local i n
	n=$(grep -c '^probe' "$UOUT")
	kill -USR1 "$UPID"
	for i in $(seq 100); do
		[ "$(grep -c '^probe' "$UOUT")" -gt "$n" ] && break
		sleep 0.05
	done
	grep '^probe' "$UOUT" | tail -n 1
}

if ! has_cap 7 || ! has_cap 6 || ! has_cap 8; then
	skip "io_uring: kept credentials" "needs CAP_SETUID, CAP_SETGID, CAP_SETPCAP"
	done_testing
	exit
fi
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
	skip "io_uring: kept credentials" "io_uring is disabled here"
	done_testing
	exit
fi
start_uring ptrace 1 sqpoll personality
r=$?
if [ "$r" = 77 ]; then
	skip "io_uring: kept credentials" "io_uring cannot be set up here"
	done_testing
	exit
fi
[ "$r" = 0 ] || { echo "Bail out! the io_uring fixture failed: $r"; exit 1; }

for via in ptrace helper; do
	if [ "$via" = helper ] && [ -z "${AT_HELPER:-}" ]; then
		skip "$via: io_uring" "this build has no helper"
		continue
	fi
	start_uring "$via" 3 sqpoll personality ||
		{ echo "Bail out! the fixture did not start"; exit 1; }
	W=$(sqpoll_tid)
	ok '[ -n "$W" ]' "$via: the SQPOLL ring has its kernel thread iou-sqp-$UPID"
	before=$(uids_of)

	# (c) show, check and audit show what is kept.
	at -p "$UPID" show
	rc_is 0 "$via: show"
	out_like "^pid $UPID keeps, apart from its threads" "$via: show: what the process keeps"
	out_like "^  tid $W iou-sqp-$UPID: kernel worker, io_uring SQPOLL thread of ring fd [0-9]+: uid 0 0 0 0" \
		"$via: show: the SQPOLL task, a kernel worker, with its uid"
	out_like "^  io_uring ring fd [0-9]+: personalit" "$via: show: the ring's personalities"
	at -p "$UPID" show -J
	schema_ok "$via: show -J follows the schema"
	jq_ok ".threads[] | select(.tid == $W) | .worker | test(\"SQPOLL\")" \
		"$via: show -J: the SQPOLL task is marked a kernel worker"
	jq_ok ".threads[] | select(.tid == $W) | .attrs.Uid == [0,0,0,0]" \
		"$via: show -J: with its credentials"
	jq_ok "[.threads[] | select(.worker != null)] | length == 1" \
		"$via: show -J: no other task is marked"
	jq_ok "(.kept.rings | length) == 1 and .kept.rings[0].sq_thread == $W" \
		"$via: show -J: the ring, with its SQPOLL thread"
	jq_ok '.kept.rings[0] | has("personalities")' \
		"$via: show -J: and its personalities (null: not listed here)"
	# A kernel that lists a ring's personalities (6.1 does, 6.18 not)
	# shows their uid (0 here, as the threads'), never their groups.
	at -p "$UPID" check -e Uid=0 -e Groups=
	rc_is 1 "$via: check -e Uid=0 -e Groups=: a ring whose personalities cannot be shown fails"
	out_like "io_uring fd [0-9]+ +($UNSHOWN)" \
		"$via: check: names the ring"
	at -p "$UPID" check -J -e Uid=0 -e Groups=
	jq_ok '.exit == 1 and (.kept.rings | length) == 1' "$via: check -J: the ring in kept"
	at -p "$UPID" audit -e Uid=0 -e Groups=
	rc_is 1 "$via: audit -e Uid=0 -e Groups=: the ring fails"
	out_like "^ *$UPID .* expect +io_uring fd [0-9]+ .*($UNSHOWN)" \
		"$via: audit: a row for the ring"

	# (a) refused up front, nothing changed.
	at -p "$UPID" --via="$via" "$TMO" "${RECIPE[@]}"
	rc_is 1 "$via: set --reuid=nobody ...: refused"
	err_like "refused, nothing changed: pid $UPID keeps credentials that no change of its threads reaches: task $W \(iou-sqp-$UPID\) is a kernel worker" \
		"$via: says why: the SQPOLL task"
	err_like "io_uring ring fd [0-9]+ ($HELD)" \
		"$via: and the ring's personalities"
	err_like 'hint: restart the process .*before it creates its io_uring rings' \
		"$via: and how to close the hole"
	ok '[ "$(uids_of)" = "$before" ]' "$via: nothing changed"
	at -p "$UPID" --via="$via" drop all
	rc_is 1 "$via: drop all: refused too"
	at -p "$UPID" --via="$via" -J "$TMO" "${RECIPE[@]}"
	schema_ok "$via: refused -J follows the schema"
	jq_ok '.exit == 1 and .kept.rings[0].sq_thread != null' "$via: refused -J: exit 1, what is kept"
	at -n -p "$UPID" --via="$via" "$TMO" "${RECIPE[@]}"
	rc_is 1 "$via: -n predicts the refusal"
	out_like "^predicted: refused: pid $UPID keeps" "$via: -n says why"
	ok '[ "$(uids_of)" = "$before" ]' "$via: still nothing changed"

	# (b) --force: runs, and says what it could not change.
	if [ "$via" = helper ]; then
		# The helper's run cannot go on while a task never takes its
		# signal: nothing changes; the default route takes ptrace.
		at -p "$UPID" --via=helper --force "$TMO" "${RECIPE[@]}"
		rc_is 1 "$via: --force --via=helper: nothing changed"
		err_like "tid $W: kernel worker \(io_uring SQPOLL thread of ring fd [0-9]+\)" \
			"$via: names the worker"
		err_like 'ptrace route \(the default' "$via: and the way that goes on"
		ok '[ "$(uids_of)" = "$before" ]' "$via: nothing changed"
		at -p "$UPID" --force -J "$TMO" "${RECIPE[@]}"
	else
		at -p "$UPID" --via=ptrace --force -J "$TMO" "${RECIPE[@]}"
	fi
	rc_is 2 "$via: --force: exit 2 (the tasks differ), never 0"
	schema_ok "$via: --force -J follows the schema"
	jq_ok '.verdict == "partial"' "$via: --force -J: verdict partial"
	jq_ok ".threads[] | select(.tid == $W) | (.worker | test(\"SQPOLL\")) and (.error | test(\"kernel worker.*not changed\"))" \
		"$via: --force -J: the worker's row says it was not changed"
	jq_ok "[.threads[] | select(.tid != $W and .error != null)] | length == 0" \
		"$via: --force -J: every other thread changed"
	ok '[ "$(uids_of | grep -v "^$W:" | cut -d: -f2 | sort -u)" = 65534 ]' \
		"$via: --force: /proc: every thread is nobody"
	ok '[ "$(uids_of | grep "^$W:" | cut -d: -f2)" = 0 ]' \
		"$via: --force: /proc: the SQPOLL task keeps uid 0"
	p=$(probe)
	ok '[[ "$p" == "probe open=13 ring=0" ]]' \
		"$via: the hole reported is real: open() EACCES, the ring still opens /etc/shadow ($p)"
	at -p "$UPID" check
	rc_is 1 "$via: check after --force: fails"
	out_like "^ *$W +worker +kernel worker \(io_uring SQPOLL thread of ring fd [0-9]+\)" \
		"$via: check: the worker row says what it is"
	at -p "$UPID" audit
	rc_is 1 "$via: audit after --force: the process is at fault"
	out_like "^ *$UPID .* kept +worker +$W .*io_uring SQPOLL thread" \
		"$via: audit: a kept row for the worker"
	at -p "$UPID" audit -J
	jq_ok ".threads[] | select(.tid == $W) | .worker != null and (.error | test(\"kernel worker\"))" \
		"$via: audit -J: the worker marked, with its reason"
	stop_uring
done

# A ring with a registered personality and no SQPOLL thread: a credential
# change cannot reach the personality (the kernel may not list it).
start_uring ptrace 2 personality || { echo "Bail out! no fixture"; exit 1; }
before=$(uids_of)
at -p "$UPID" "$TMO" "${RECIPE[@]}"
rc_is 1 "personality: set --reuid=nobody ...: refused"
err_like "io_uring ring fd [0-9]+ ($HELD)" "personality: says why"
ok '[ "$(uids_of)" = "$before" ]' "personality: nothing changed"
at -p "$UPID" prctl NO_NEW_PRIVS 1
rc_is 0 "personality: a change that is no credential is not refused"
at -p "$UPID" --force -J "$TMO" "${RECIPE[@]}"
rc_is 2 "personality: --force: exit 2, not verified"
jq_ok '[.threads[] | select(.error != null)] | length == 0' \
	"personality: --force: every thread changed"
ok '[ "$(uids_of | cut -d: -f2 | sort -u)" = 65534 ]' \
	"personality: /proc: every thread is nobody"
p=$(probe)
ok '[[ "$p" == "probe open=13 ring=0" ]]' \
	"personality: the ring still opens /etc/shadow as root ($p)"
stop_uring

# A Landlock domain is part of the credentials too: neither the SQPOLL
# thread nor a personality is in it.
LL=(landlock --landlock-rule path-beneath:read-file,read-dir:/usr)
for kind in sqpoll personality; do
	start_uring ptrace 2 "$kind" || { echo "Bail out! no fixture"; exit 1; }
	at -p "$UPID" --via=ptrace "$TMO" "${LL[@]}"
	rc_is 1 "landlock, $kind: refused"
	err_like 'landlock: refused, nothing changed: .*io_uring' "landlock, $kind: says why"
	ok '[ "$(grep -h ^NoNewPrivs /proc/"$UPID"/task/*/status | sort -u)" = "NoNewPrivs:	0" ]' \
		"landlock, $kind: nothing changed"
	at -p "$UPID" --via=ptrace --force "$TMO" "${LL[@]}"
	rc_is 2 "landlock, $kind: --force: exit 2, never 0"
	stop_uring
done

# (d) No ring: unaffected, on both routes.
for via in ptrace helper; do
	if [ "$via" = helper ] && [ -z "${AT_HELPER:-}" ]; then
		skip "$via: no ring" "this build has no helper"
		continue
	fi
	start_uring "$via" 3 || { echo "Bail out! no fixture"; exit 1; }
	at -p "$UPID" show
	out_unlike 'keeps, apart from its threads' "$via: no ring: show lists nothing kept"
	at -p "$UPID" show -J
	jq_ok '.kept.rings == [] and all(.threads[]; .worker == null)' \
		"$via: no ring: -J: no ring, no worker"
	at -p "$UPID" --via="$via" "$TMO" "${RECIPE[@]}"
	rc_is 0 "$via: no ring: set --reuid=nobody ...: every thread changed"
	ok '[ "$(uids_of | cut -d: -f2 | sort -u)" = 65534 ]' \
		"$via: no ring: /proc: every thread is nobody"
	p=$(probe)
	ok '[[ "$p" == "probe open=13 ring=2" ]]' "$via: no ring: nothing opens /etc/shadow ($p)"
	stop_uring
done

done_testing
