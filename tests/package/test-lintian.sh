#!/bin/bash
# test-lintian.sh - the .debs .ci/run built are lintian-clean (no error,
# no warning).  $AT_DEB_CHANGES names the .changes file; without it, or
# without lintian, it skips.
changes=${AT_DEB_CHANGES:-}
if [ -z "$changes" ] || ! command -v lintian >/dev/null; then
	echo "1..0 # SKIP no .changes to check (AT_DEB_CHANGES) or no lintian"
	exit 0
fi
echo "1..1"
out=$(timeout -k 5 240 lintian --fail-on error,warning "$changes" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '^running with root privileges' |
	sed 's/^/# /'
if [ "$rc" = 0 ]; then
	echo "ok 1 - lintian --fail-on error,warning $(basename "$changes")"
else
	echo "not ok 1 - lintian --fail-on error,warning $(basename "$changes") (exit $rc)"
fi
