#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# lint-layout.sh SRCDIR
#
# The layout promises of doc/design.md, checked over cli/ and lib/ with
# its product folders (lib/common, lib/engine, lib/helper, lib/target):
#   - each file opens with a comment that names it and says in one
#     sentence what it holds ("name.c - what it holds"), within 6 lines;
#   - no include cycle between modules (foo.c and foo.h of one folder are
#     one module): the include graph goes one way, which tsort(1) proves;
#     lib's folders share one include path, so an include in lib/ is
#     looked up in its own folder, then lib/, then each product folder;
#   - README.md's Layout names every file of lib/ (as name.c, name.h or
#     name.c/.h);
#   - nothing in the tree points to a design page outside it (the brief's
#     pages are not shipped: doc/design.md is the project's).
# Output: TAP.

set -u
top=${1:?usage: $0 SRCDIR}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

(cd "$top" && ls cli/*.[ch] lib/*.[ch] lib/*/*.[ch] 2>/dev/null) >"$tmp/files"
n=$(wc -l <"$tmp/files")
if [ "$n" -eq 0 ]; then
	echo "Bail out! no C files under $top/cli or $top/lib"
	exit 1
fi
echo "1..$((n + 3))"
i=0
while read -r f; do
	i=$((i + 1))
	name=${f##*/}
	if head -n 6 "$top/$f" | grep -Eq "^(/\*| \*) $name - [^ ].*"; then
		echo "ok $i - $f says what it holds"
	else
		echo "not ok $i - $f: no head comment \" * $name - what it holds\""
	fi
done <"$tmp/files"

# One edge per include of a file of the tree: "module included".
while read -r f; do
	dir=${f%/*}
	from=${f%.?}
	case $dir in
	lib | lib/*) path="$dir lib lib/common lib/engine lib/helper lib/target" ;;
	*) path=$dir ;;
	esac
	sed -n 's/^#include "\([^"/]*\)".*/\1/p' "$top/$f" |
		while read -r inc; do
			# Only a header of the same tree: lib's allthreads.h
			# is not cli's allthreads.c.
			for d in $path; do
				[ -e "$top/$d/$inc" ] || continue
				[ "$d/${inc%.?}" = "$from" ] ||
					echo "$from $d/${inc%.?}"
				break
			done
		done
done <"$tmp/files" >"$tmp/edges"
i=$((i + 1))
if tsort "$tmp/edges" >/dev/null 2>"$tmp/loop"; then
	echo "ok $i - no include cycle among $(wc -l <"$tmp/edges") includes"
else
	echo "not ok $i - an include cycle:"
	sed 's/^/# /' "$tmp/loop"
fi
i=$((i + 1))
awk '/^## Layout/ { on = 1; next } on && /^## / { exit } on' \
	"$top/README.md" >"$tmp/layout"
: >"$tmp/unnamed"
while read -r f; do
	case $f in lib/*) ;; *) continue ;; esac
	b=${f##*/}
	grep -qF -e "$b" -e "${b%.?}.c/.h" "$tmp/layout" ||
		echo "$f" >>"$tmp/unnamed"
done <"$tmp/files"
if [ -s "$tmp/unnamed" ]; then
	echo "not ok $i - README.md's Layout does not name:"
	sed 's/^/# /' "$tmp/unnamed"
else
	echo "ok $i - README.md's Layout names every file of lib/"
fi
i=$((i + 1))
# (Written so that this line does not match itself.)
outside='(DESIGN|STYLE|ANCHORS)\.md|(ptrace-floor|mechanisms|cli-ecosystem|aesthetics)\.md|shared/(design|research)'
if (cd "$top" && git ls-files 2>/dev/null || find . -type f) |
	grep -v '^\(\./\)\?\(build\|\.git\)' |
	(cd "$top" && xargs grep -IEn "$outside" 2>/dev/null) >"$tmp/outside"; then
	echo "not ok $i - files point to design pages outside the tree:"
	sed 's/^/# /' "$tmp/outside"
else
	echo "ok $i - nothing points to a design page outside the tree"
fi
exit 0
