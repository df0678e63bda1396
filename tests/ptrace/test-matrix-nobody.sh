#!/bin/bash
# test-matrix-nobody.sh - an unprivileged caller (nobody) against root's
# process: refused with exit 3 and a reason, nothing changed, nothing left
# traced.  The CLI and its libraries are copied to a world-readable
# directory first: the build tree may be one nobody cannot enter.
. "$(dirname "$0")/../cli/tap.sh"
. "$(dirname "$0")/ptt.sh"

if ! has_cap 6 || ! has_cap 7 || ! command -v setpriv >/dev/null; then
	skip "nobody against root's process" "needs CAP_SETUID, CAP_SETGID and setpriv"
	done_testing
	exit 0
fi
pub=$(mktemp -d)
PTT_CLEAN_DIR=$pub
chmod 755 "$pub"
cp "$AT" "$pub/allthreads"
for lib in $(ldd "$AT" | awk '/liballthreads/ { print $3 }'); do
	cp "$lib" "$pub/"
done
chmod -R a+rX "$pub"

start_target --idle 2 --read 2 --sleep 1
for via in ptrace auto; do
	run setpriv --reuid=65534 --regid=65534 --clear-groups -- \
		env LD_LIBRARY_PATH="$pub" "$pub/allthreads" -p "$TPID" \
		--via=$via set --nnp --keep-caps=1
	rc_is 3 "nobody, --via=$via: refused"
	err_like "^allthreads: $TPID: " "nobody, --via=$via: a one-line reason"
	ok 'every_task NoNewPrivs 0' "nobody, --via=$via: nothing changed"
	ok 'untraced' "nobody, --via=$via: nothing traced"
done
tcmd release '^released '
ok 'released_ok 6 0' "the target still works, KEEP_CAPS still 0 ($reply)"
stop_target
rm -rf "$pub"
done_testing
