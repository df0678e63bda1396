#!/bin/bash
# test-list.sh - `allthreads list`: the vocabularies, from the running
# system.
. "$(dirname "$0")/tap.sh"

last=$(cat /proc/sys/kernel/cap_last_cap)

at list caps
rc_is 0 "list caps"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = $((last + 1)) ]' \
	"list caps: cap_last_cap + 1 names"
out_like '^cap_net_raw$' "list caps: cap_net_raw"
at -v list caps
out_like '^cap_net_raw	13$' "list -v caps: the number"
at list securebits
out_like '^noroot_locked$' "list securebits"
at list prctl
out_like '^KEEP_CAPS	per-thread$' "list prctl: KEEP_CAPS is per-thread"
out_like '^DUMPABLE	process-wide$' "list prctl: DUMPABLE is process-wide"
at -v list prctl
out_like '^NO_NEW_PRIVS	per-thread; execve never grants' \
	"list -v prctl: with what it does"
at list syscalls
rc_is 0 "list syscalls"
out_like '^setresuid$' "list syscalls: setresuid"
ok '[ "$(printf "%s\n" "$out" | wc -l)" -gt 300 ]' "list syscalls: hundreds"
at list columns
out_like '^CAPEFF$' "list columns"
at list keys
out_like '^NoNewPrivs$' "list keys"
out_like '^Euid$' "list keys: Euid"
at list commands
out_like '^setresuid$' "list commands"
at list sec
rc_is 0 "list: a prefix of at least 3 letters"
at -J list caps
rc_is 0 "list -J"
schema_ok "list -J: the schema"
jq_ok ".items | length == $((last + 1))" "list -J: the items"
at list
rc_is 64 "list without WHAT"
at list bogus
rc_is 64 "list bogus"
err_like 'bogus: unknown' "list bogus: says so"
done_testing
