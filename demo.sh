#!/usr/bin/env bash
# The demo: sets up what it needs (Debian packages, as root), builds, then
# starts a multi-threaded service under `allthreads run`, shows every
# thread's credentials, drops the privileges of all its threads from
# outside with one command, shows them again and checks them.  Then the
# same for the same service started the plain way, WITHOUT the helper:
# the change goes through ptrace.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && { ! command -v meson >/dev/null ||
	! pkg-config --exists libcap libseccomp nettle 2>/dev/null; }; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends gcc libc6-dev meson \
		ninja-build pkg-config libcap-dev libseccomp-dev libsmartcols-dev \
		nettle-dev >/dev/null
fi
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null

at=build/cli/allthreads
out=$(mktemp)
out2=$(mktemp)
pid2=
trap 'kill "$pid" $pid2 2>/dev/null; rm -f "$out" "$out2"' EXIT
"$at" run build/examples/allthreads-demo-service 4 >"$out" &
pid=$!
for _ in $(seq 100); do
	grep -q '^ready' "$out" && break
	sleep 0.05
done
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "A service with $(ls /proc/$pid/task | wc -l) threads (pid $pid), started with \`allthreads run\`:"
say "$at" -p "$pid" show -o +comm
if [ "$(id -u)" = 0 ]; then
	say "$at" -v -p "$pid" set --nnp --bounding-set=-all \
		--clear-groups --regid=nogroup --reuid=nobody
	say "$at" -p "$pid" show -o +comm
	say "$at" -p "$pid" check -e Uid=nobody -e CapEff=none -e CapBnd=none \
		-e NoNewPrivs=1
else
	say "$at" -v -p "$pid" set --nnp --keep-caps=1
	say "$at" -p "$pid" show -o +comm
	say "$at" -p "$pid" check -e NoNewPrivs=1
fi
echo "every thread changed and verified (exit $?)"

# The same service, started the plain way: no helper in it.
build/examples/allthreads-demo-service 4 >"$out2" &
pid2=$!
for _ in $(seq 100); do
	grep -q '^ready' "$out2" && break
	sleep 0.05
done
echo
echo "The same service started plainly, WITHOUT \`allthreads run\` (pid $pid2, $(ls /proc/$pid2/task | wc -l) threads): the change goes through ptrace"
say "$at" -p "$pid2" show -o +comm
if [ "$(id -u)" = 0 ]; then
	say "$at" -v -p "$pid2" --via=ptrace set --nnp --bounding-set=-all \
		--clear-groups --regid=nogroup --reuid=nobody
	say "$at" -p "$pid2" show -o +comm
	say "$at" -p "$pid2" check -e Uid=nobody -e CapEff=none -e CapBnd=none \
		-e NoNewPrivs=1
else
	say "$at" -v -p "$pid2" --via=ptrace set --nnp --keep-caps=1
	say "$at" -p "$pid2" show -o +comm
	say "$at" -p "$pid2" check -e NoNewPrivs=1
fi
echo "every thread changed through ptrace and verified (exit $?)"
