#!/usr/bin/env bash
# The demo: sets up what it needs (Debian packages, as root), builds, and
# shows a multi-threaded process whose privileges are changed on every
# thread, per thread, before and after.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && { ! command -v meson >/dev/null ||
	! pkg-config --exists libcap libseccomp 2>/dev/null; }; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends gcc libc6-dev meson \
		ninja-build pkg-config libcap-dev libseccomp-dev >/dev/null
fi
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
exec build/examples/allthreads-demo
