#!/bin/bash
# tests/arm64/package.sh - the arm64 .debs in the emulated machine
# (tests/arm64/vm.sh, tests/arm64/deb.sh): installed with `dpkg -i`, their
# Depends met by what the root's dpkg database holds (nothing forced),
# then the package suite's tests run against the installed
# /usr/bin/allthreads, then the packages purged.  One TAP stream: each
# test's results follow, numbered on and named after it.
#
#   package.sh DEBDIR TESTS
#
# TESTS holds the package suite's command lines as vm.sh writes them
# ("at_run NAME TIMEOUT WORKDIR ENV CMD...").
set -u
debs=${1:?usage: $0 DEBDIR TESTS}
tests=${2:?usage: $0 DEBDIR TESTS}
PKGS="allthreads liballthreads0 liballthreads-dev"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		[ -s "$tmp/out" ] && sed 's/^/# /' "$tmp/out" | tail -20
	fi
}

# The machine is arm64 and so are the packages.
arch=$(dpkg --print-architecture 2>&1)
[ "$arch" = arm64 ]
result $? "dpkg --print-architecture: arm64 (got: $arch)"
set -- "$debs"/liballthreads0_*_arm64.deb "$debs"/allthreads_*_arm64.deb \
	"$debs"/liballthreads-dev_*_arm64.deb
timeout -k 5 300 dpkg -i "$@" >"$tmp/out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/out"
result $rc "dpkg -i ${*##*/}"
st=$(dpkg-query -W -f='${db:Status-Abbrev}${Architecture} ' $PKGS 2>&1)
[ "$st" = "ii arm64 ii arm64 ii arm64 " ]
result $? "dpkg-query: $PKGS installed, arm64 (got: $st)"
timeout -k 5 60 dpkg --audit >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]
rc=$?
[ "$rc" = 0 ] || grep -H . /var/lib/dpkg/triggers/* | sed 's/^/# /'
result $rc "dpkg --audit: nothing half-installed or unconfigured"
# libc-bin's ldconfig trigger ran: the loader's cache knows the library.
ldconfig -p >"$tmp/out" 2>&1
grep -Eq 'liballthreads\.so\.0 .*=> (/usr)?/lib/aarch64-linux-gnu/liballthreads\.so\.0$' \
	"$tmp/out"
result $? "ldconfig -p: the trigger put liballthreads.so.0 in the cache"
[ -f /usr/include/allthreads.h ] &&
	[ -e /usr/lib/aarch64-linux-gnu/liballthreads.so ]
result $? "liballthreads-dev: the header and the development symlink"

# Each test in turn, as vm.sh would run it, its results numbered on.
at_run() {
	local name=$1 tmo=$2 wd=$3 env=$4 rc line head desc
	shift 4
	(cd "$wd" && eval "exec env $env timeout -k 10 $tmo \"\$@\"") \
		</dev/null >"$tmp/test" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) head=ok ;;
		"not ok "*"# TODO"*) head="not ok" ;;
		"not ok "*) head="not ok" failed=$((failed + 1)) ;;
		*) echo "# $line"; continue ;;
		esac
		# "ok 3 - what" becomes "ok N - NAME: what".
		n=$((n + 1))
		desc=${line#"$head "}
		desc=${desc#"${desc%%[!0-9]*}"}
		desc=${desc# }
		desc=${desc#- }
		case $desc in "$name:"*) ;; *) desc="$name: $desc" ;; esac
		echo "$head $n - $desc"
	done <"$tmp/test"
	: >"$tmp/out"
	# A test that ended badly without saying so (77: skipped).
	[ "$rc" = 0 ] || [ "$rc" = 77 ] || grep -q '^not ok' "$tmp/test"
	result $? "$name: its exit status (rc $rc) agrees with its results"
}
. "$tests"

# And out again.
timeout -k 5 300 dpkg --purge $PKGS >"$tmp/out" 2>&1 &&
	[ ! -e /usr/bin/allthreads ] && ! dpkg-query -W $PKGS >/dev/null 2>&1
result $? "dpkg --purge $PKGS: gone"

echo "1..$n"
[ "$failed" = 0 ]
