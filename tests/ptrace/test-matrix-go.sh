#!/bin/bash
# test-matrix-go.sh - Go programs built with Debian's golang-go, static
# (CGO_ENABLED=0) and with cgo, started WITHOUT the helper.  The Go runtime
# blocks signals with the raw syscall, so the ptrace route is the only way
# in: every thread changed (/proc), every blocked read(2), in Go and in C,
# comes back with its byte.  Both are built once here, bounded, with
# GOCACHE and GOPATH in a temporary directory; skipped without `go`.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! command -v go >/dev/null; then
	skip "Go targets" "no go (apt-get install golang-go)"
	done_testing
	exit 0
fi
src=$(cd "$(dirname "$0")/gotarget" && pwd)
mkdir -p "$T_TMP/go/src" "$T_TMP/go/cache" "$T_TMP/go/path"
cp "$src"/*.go "$src/go.mod" "$T_TMP/go/src/"
gobuild() {
	(cd "$T_TMP/go/src" && env HOME="$T_TMP/go" GOCACHE="$T_TMP/go/cache" \
		GOPATH="$T_TMP/go/path" GOFLAGS= GO111MODULE=on GOPROXY=off \
		GOTOOLCHAIN=local CGO_ENABLED="$1" \
		timeout -k 5 150 go build -o "$2" . 2>"$T_TMP/go/build.err")
}

for variant in static cgo; do
	bin=$T_TMP/go/gotarget-$variant
	if [ "$variant" = static ]; then cgo=0; else cgo=1; fi
	if ! gobuild "$cgo" "$bin"; then
		ok false "Go $variant: built ($(head -c 300 "$T_TMP/go/build.err"))"
		continue
	fi
	want=8
	[ "$variant" = static ] && want=6
	start_prog "$bin"
	n=$(task_count)
	ok '[ "$n" -ge 6 ]' "Go $variant: $n threads"
	at -p "$TPID" --via=ptrace set --nnp
	rc_is 0 "Go $variant: set --nnp through ptrace"
	ok 'every_task NoNewPrivs 1' "Go $variant: NoNewPrivs 1 on every thread"
	ok 'untraced' "Go $variant: nothing left traced"
	at -p "$TPID" set --nnp
	rc_is 0 "Go $variant: --via=auto takes ptrace (no helper)"
	tcmd ping '^pong'
	ok '[ "$reply" = pong ]' "Go $variant: still answers"
	tcmd release '^released '
	ok '[ "$reply" = "released $want 0" ]' \
		"Go $variant: every blocked read came back with its byte ($reply)"
	stop_target
done
done_testing
