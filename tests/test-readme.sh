#!/bin/bash
# test-readme.sh README CC INCDIR LIBDIR SANITIZE - the README's "library
# in five lines" compiles as printed, links against the built library and
# runs (issue 11.10).
set -u
readme=$1 cc=$2 inc=$3 lib=$4 san=${5:-none}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
awk '/^## The library in five lines/ { on = 1; next }
	on && /^```c$/ { code = 1; next }
	code && /^```$/ { exit }
	code { print }' "$readme" >"$tmp/prog.c"
if [ -s "$tmp/prog.c" ]; then
	echo "ok 1 - the example is in README.md ($(wc -l <"$tmp/prog.c") lines)"
else
	echo "not ok 1 - the example is in README.md"
fi
flags=()
[ "$san" != none ] && [ -n "$san" ] && flags=("-fsanitize=$san")
if $cc "${flags[@]}" -Wall -Werror -I"$inc" "$tmp/prog.c" -L"$lib" \
	-lallthreads -o "$tmp/prog" 2>"$tmp/err"; then
	echo "ok 2 - it compiles as printed, with -Wall -Werror"
else
	echo "not ok 2 - it compiles as printed, with -Wall -Werror"
	sed 's/^/# /' "$tmp/err" | head -10
fi
if [ -x "$tmp/prog" ] && LD_LIBRARY_PATH=$lib "$tmp/prog"; then
	echo "ok 3 - it runs and the call succeeds"
else
	echo "not ok 3 - it runs and the call succeeds"
fi
