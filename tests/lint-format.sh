#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# lint-format.sh SRCDIR
#
# Every C file of the tree is formatted as .clang-format says (kernel style:
# tabs, 80 columns): `clang-format --dry-run --Werror`, one TAP line per
# file.  The files are those git tracks under SRCDIR, or, outside a git
# checkout, those under its source directories.  Skipped without
# clang-format.

set -u
top=${1:?usage: $0 SRCDIR}

fmt=
for c in clang-format clang-format-19 clang-format-18 clang-format-17 \
	clang-format-16 clang-format-15 clang-format-14; do
	if command -v "$c" >/dev/null 2>&1; then
		fmt=$c
		break
	fi
done
if [ -z "$fmt" ]; then
	echo "1..0 # SKIP clang-format is not installed"
	exit 0
fi
if [ ! -r "$top/.clang-format" ]; then
	echo "Bail out! no $top/.clang-format"
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -- '*.c' '*.h' >"$tmp/files"
else
	(cd "$top" && find cli lib tests examples -name '*.[ch]' 2>/dev/null |
		sort) >"$tmp/files"
fi
n=$(wc -l <"$tmp/files")
if [ "$n" -eq 0 ]; then
	echo "Bail out! no C files under $top"
	exit 1
fi

echo "1..$n"
i=0
while read -r f; do
	i=$((i + 1))
	if (cd "$top" && "$fmt" --dry-run --Werror "$f") >"$tmp/out" 2>&1; then
		echo "ok $i - $f"
	else
		echo "not ok $i - $f is not formatted as .clang-format says"
		sed 's/^/# /' "$tmp/out" | head -20
	fi
done <"$tmp/files"
exit 0
