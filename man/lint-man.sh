#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# lint-man.sh - check the manual pages, printing TAP.
#
#   1. every page formats with `groff -man -ww -z` without a single warning;
#   2. every `.so` alias points at a page that exists;
#   3. every function declared in lib/allthreads.h has a page (`man NAME`);
#   4. every page is installed by man/meson.build.
#
# Usage: man/lint-man.sh [SOURCE_ROOT]   (default: the directory above this
# script).  Needs groff.  Exit status 0 when every check passes.

top=${1:-$(dirname "$0")/..}
man="$top/man"
header="$top/lib/allthreads.h"
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

# Print each line of $1 as a TAP diagnostic.
diag() {
	printf '%s\n' "$1" | sed 's/^/# /'
}

if ! command -v groff >/dev/null 2>&1; then
	echo "1..0 # SKIP groff is not installed"
	exit 0
fi
if [ ! -r "$header" ]; then
	echo "Bail out! $header not found"
	exit 1
fi

pages=$(cd "$man" && ls -- *.1 *.3 *.7 2>/dev/null | LC_ALL=C sort)
funcs=$(grep -o 'allthreads_[a-z0-9_]*(' "$header" | tr -d '(' |
	LC_ALL=C sort -u)

for p in $pages; do
	first=$(head -n 1 "$man/$p")
	case $first in
	.so\ *)
		target=${first#.so }
		if [ -f "$man/${target##*/}" ]; then
			ok "$p: alias of ${target##*/}"
		else
			not_ok "$p: alias of missing page $target"
		fi
		;;
	*)
		out=$(LC_ALL=C groff -man -ww -z "$man/$p" 2>&1)
		if [ -z "$out" ]; then
			ok "$p: groff -man -ww is silent"
		else
			not_ok "$p: groff -man -ww warns"
			diag "$out"
		fi
		;;
	esac
done

for f in $funcs; do
	if [ -f "$man/$f.3" ]; then
		ok "$f has a page"
	else
		not_ok "$f has no page (man/$f.3)"
	fi
done

for p in $pages; do
	if grep -q "'$p'" "$man/meson.build"; then
		ok "$p is installed"
	else
		not_ok "$p is not listed in man/meson.build"
	fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
