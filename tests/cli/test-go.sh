#!/bin/bash
# test-go.sh - Go programs (issue 11.8).  A static Go binary (no cgo) can
# never load the helper (LD_PRELOAD is read by the dynamic loader): `run`
# says so and refuses, unless --force.  A cgo binary loads it; a thread
# that keeps the helper's signal blocked (as the Go runtime can, with the
# raw system call) is named once its signal has stayed queued a moment,
# not at the deadline, with the ptrace route as the way in, and nothing
# changes.  Skipped without go.
. "$(dirname "$0")/tap.sh"

src=$(cd "$(dirname "$0")/go" && pwd)
if ! command -v go >/dev/null; then
	skip "Go targets" "go is not installed (apt-get install golang-go)"
	done_testing
	exit
fi
if [ -z "${AT_HELPER:-}" ] || [ ! -r "$AT_HELPER" ]; then
	skip "Go targets" "no helper in this build"
	done_testing
	exit
fi
export GOCACHE=$T_TMP/gocache GOPATH=$T_TMP/gopath GO111MODULE=off GOFLAGS=
export ALLTHREADS_HELPER=$AT_HELPER
PIDS=()
trap 't_kill -KILL "${PIDS[@]}"; rm -rf "$T_TMP"' EXIT

cp "$src/plain.go" "$T_TMP/plain.go"
mkdir -p "$T_TMP/cgo" && cp "$src/plain.go" "$src/cgo.go" "$T_TMP/cgo/"
if ! (cd "$T_TMP" && CGO_ENABLED=0 timeout 180 go build -o static plain.go) \
	2>"$T_TMP/build.err" ||
	! (cd "$T_TMP/cgo" && CGO_ENABLED=1 timeout 180 go build -o ../cgo-target .) \
		2>>"$T_TMP/build.err"; then
	sed 's/^/# /' "$T_TMP/build.err" | head -10
	skip "Go targets" "go build failed"
	done_testing
	exit
fi

# start FILE ARGS...: under `allthreads run`; sets $GPID.
start() {
	local out=$1 i
	shift
	"$AT" run "$@" >"$out" 2>"$out.err" &
	GPID=$!
	PIDS+=("$GPID")
	for i in $(seq 200); do
		grep -q '^ready' "$out" && return 0
		kill -0 "$GPID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

at run "$T_TMP/static"
rc_is 126 "run of a static Go binary: refused"
err_like 'statically linked .*the helper cannot load into it' "says why"
err_like '--via=ptrace' "and names the ptrace route"

start "$T_TMP/static.out" --force "$T_TMP/static"
ok '[ $? = 0 ]' "run --force: it runs anyway"
err=$(cat "$T_TMP/static.out.err")
err_like 'warning: .*statically linked' "with a warning"

start "$T_TMP/cgo.out" "$T_TMP/cgo-target" || { echo "Bail out! the cgo target did not start"; exit 1; }
at -p "$GPID" set --nnp
rc_is 0 "a cgo binary under run: set --nnp through the helper"
ok '[ "$(grep -h ^NoNewPrivs /proc/$GPID/task/*/status | sort -u)" = "NoNewPrivs:	1" ]' \
	"every thread has NoNewPrivs 1"

start "$T_TMP/block.out" "$T_TMP/cgo-target" block || { echo "Bail out! the blocking target did not start"; exit 1; }
for i in $(seq 100); do grep -q '^blocker' "$T_TMP/block.out" && break; sleep 0.05; done
blocker=$(awk '/^blocker/ { print $2 }' "$T_TMP/block.out")
# A deadline far beyond T_LIMIT: an answer must not wait for it.
at -p "$GPID" --via=helper --timeout=60000 set --nnp
rc_is 1 "a thread that keeps the signal blocked: exit 1, long before the deadline"
err_like "tid $blocker: has the signal blocked; never ran" "the blocking thread is named"
err_like 'keep the helper.s signal blocked.*ptrace route \(--via=ptrace\)' \
	"the ptrace route is the way in"
err_like 'nothing changed' "nothing changed, and said"
ok '[ "$(grep -h ^NoNewPrivs /proc/$GPID/task/*/status | sort -u)" = "NoNewPrivs:	0" ]' \
	"and indeed no thread changed"
at -n -p "$GPID" set --nnp
err_like "note: tid $blocker had signal [0-9]+ blocked" "-n notes the thread"
done_testing
