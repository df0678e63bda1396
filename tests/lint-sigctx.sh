#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# lint-sigctx.sh NM OBJECT ALLOWLIST SOURCE [SANITIZE]
#
# The signal-context code (lib/engine/sigctx.c, built alone as OBJECT) may call
# only what ALLOWLIST names: async-signal-safe symbols.  Its source, with
# comments and strings removed, must not mention malloc, stdio or locks.
# SANITIZE is meson's b_sanitize: in a sanitizer build the compiler's own
# instrumentation symbols (__asan_*, __ubsan_*...) are set aside, and only
# those.  Output: TAP.

set -u
nm_prog=$1 object=$2 allowlist=$3 source=$4 sanitize=${5:-none}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..4"

# 1: the object is the one we think it is.
if "$nm_prog" --defined-only "$object" 2>/dev/null |
	grep -qw 'at_sigctx_handler'; then
	echo "ok 1 - $(basename "$object") defines at_sigctx_handler"
else
	echo "not ok 1 - $(basename "$object") does not define at_sigctx_handler"
fi

# 2: every undefined symbol is allowed.
"$nm_prog" -u "$object" 2>"$tmp/err" | awk 'NF >= 2 { print $2 }' |
	sed 's/@.*//' | sort -u >"$tmp/undef"
if [ "$sanitize" != none ]; then
	grep -E '^(__(asan|ubsan|lsan|tsan|msan|sanitizer)_|_GLOBAL_OFFSET_TABLE_$)' \
		"$tmp/undef" | sed 's/^/# instrumentation ('"$sanitize"'): /'
	grep -vE '^(__(asan|ubsan|lsan|tsan|msan|sanitizer)_|_GLOBAL_OFFSET_TABLE_$)' \
		"$tmp/undef" >"$tmp/undef2"
	mv "$tmp/undef2" "$tmp/undef"
fi
sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$allowlist" | sort -u >"$tmp/allow"
comm -23 "$tmp/undef" "$tmp/allow" >"$tmp/extra"
if [ -s "$tmp/err" ]; then
	echo "not ok 2 - nm failed"
	sed 's/^/# /' "$tmp/err"
elif [ -s "$tmp/extra" ]; then
	echo "not ok 2 - sigctx calls symbols outside the allowlist"
	sed 's/^/# not allowed: /' "$tmp/extra"
else
	echo "ok 2 - $(wc -l <"$tmp/undef") undefined symbols, all allowed"
fi
sed 's/^/# undefined: /' "$tmp/undef"

# 3 and 4: the source, without comments and string literals.
perl -0777 -pe 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g; s{"(?:\\.|[^"\\])*"}{""}g' \
	"$source" >"$tmp/code"
words='malloc|calloc|realloc|free|printf|fprintf|sprintf|snprintf|dprintf'
words="$words|puts|fputs|syslog|exit"
if grep -nwE "$words" "$tmp/code" >"$tmp/bad"; then
	echo "not ok 3 - sigctx.c mentions allocation, stdio or exit"
	sed 's/^/# /' "$tmp/bad"
else
	echo "ok 3 - sigctx.c: no malloc, stdio or exit"
fi
if grep -nE '\<pthread_(mutex|cond|rwlock|spin)|\<(sem_wait|flockfile)\>' \
	"$tmp/code" >"$tmp/bad"; then
	echo "not ok 4 - sigctx.c mentions locks"
	sed 's/^/# /' "$tmp/bad"
else
	echo "ok 4 - sigctx.c: no pthread mutexes, condition variables or locks"
fi
