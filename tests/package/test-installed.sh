#!/bin/bash
# test-installed.sh - the Debian packages, installed: /usr/bin/allthreads
# from the allthreads package, its library and helper from /usr/lib, run
# against a target started with `allthreads run`.  .ci/run builds the
# .debs, installs them, then runs this suite (meson test --setup package);
# without the packages installed, it skips.
#
#   test-installed.sh VERSION
. "$(dirname "$0")/../cli/tap.sh" /usr/bin/allthreads
VERSION=${2:?usage: $0 /usr/bin/allthreads VERSION}
AT=/usr/bin/allthreads

if ! dpkg-query -W -f='${Status}' allthreads 2>/dev/null |
	grep -q 'install ok installed'; then
	echo "1..0 # SKIP the allthreads package is not installed"
	exit 0
fi

run dpkg-query -W -f='${Version} ' allthreads liballthreads0
ok '[ "$out" = "$VERSION $VERSION " ]' \
	"allthreads and liballthreads0 $VERSION are installed (got: $out)"
run dpkg -S /usr/bin/allthreads
out_like '^allthreads: /usr/bin/allthreads$' "/usr/bin/allthreads is the package's"
run ldd /usr/bin/allthreads
out_like 'liballthreads\.so\.0 => /(usr/)?lib/[^ ]*/liballthreads\.so\.0 ' \
	"it loads the packaged liballthreads.so.0"
helper=$(dpkg -L allthreads | grep '/allthreads-helper\.so$')
ok '[ -n "$helper" ] && [ -f "$helper" ]' "the helper is in the allthreads package"
run man -w allthreads
out_like '^/usr/share/man/man1/allthreads\.1' "man allthreads finds the page"
at --version
out_like "^allthreads $VERSION\$" "allthreads --version"

# A target started through the installed helper.
"$AT" run -- sleep 60 &
TPID=$!
trap 'kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; rm -rf "$T_TMP"' EXIT
for i in $(seq 100); do
	grep -q allthreads-helper "/proc/$TPID/maps" 2>/dev/null && break
	sleep 0.05
done
run grep -c "$helper" "/proc/$TPID/maps"
ok '[ "${out:-0}" -ge 1 ]' "allthreads run: the target has $helper mapped"
at -p "$TPID" show
rc_is 0 "installed: -p PID show"
at -p "$TPID" prctl NO_NEW_PRIVS 1
rc_is 0 "installed: -p PID prctl NO_NEW_PRIVS 1 (through the helper)"
at -p "$TPID" check --expect NoNewPrivs=1
rc_is 0 "installed: -p PID check --expect NoNewPrivs=1"
at audit -p "$TPID" --expect NoNewPrivs=1
rc_is 0 "installed: audit -p PID --expect NoNewPrivs=1"

# The Prometheus timer example: shipped, documented, and what it runs
# works with the installed command.
ex=/usr/share/doc/allthreads/examples
run dpkg -L allthreads
for f in "$ex/allthreads-audit.service" "$ex/allthreads-audit.timer" \
	/usr/share/doc/allthreads/README.Debian; do
	ok 'printf "%s\n" "$out" | grep -qx "$f" && [ -s "$f" ]' \
		"the package ships $f"
done
run grep -c allthreads-audit.timer /usr/share/doc/allthreads/README.Debian
ok '[ "${out:-0}" -ge 1 ]' "README.Debian says how to enable the timer"
if command -v systemd-analyze >/dev/null; then
	run systemd-analyze verify --man=no "$ex/allthreads-audit.timer" \
		"$ex/allthreads-audit.service"
	ok '[ "$rc" = 0 ] && ! printf "%s\n" "$err" | grep -qiE "unknown|invalid|ignoring"' \
		"systemd-analyze verify: the shipped timer and service"
else
	skip "systemd-analyze verify: the shipped units" "no systemd"
fi
tf=$T_TMP/textfile
mkdir -p "$tf"
line=$(sed -n 's/^ExecStart=//p' "$ex/allthreads-audit.service")
line=${line//\/var\/lib\/prometheus\/node-exporter/$tf}
eval "cmd=($line)"
run "${cmd[@]}"
ok '[ "$rc" = 0 ] && grep -q "^allthreads_audit_processes [1-9]" "$tf"/*.prom' \
	"installed: the service's ExecStart writes the textfile"

done_testing
