#!/bin/bash
# test-list.sh - `allthreads list`: the vocabularies, from the running
# system.
. "$(dirname "$0")/tap.sh"

last=$(cat /proc/sys/kernel/cap_last_cap)

at list caps
rc_is 0 "list caps"
out_like '^NAME$' "list caps: a table, NAME its header"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = $((last + 2)) ]' \
	"list caps: the header and cap_last_cap + 1 names"
out_like '^cap_net_raw$' "list caps: cap_net_raw"
at list caps -n
ok '[ "$(printf "%s\n" "$out" | wc -l)" = $((last + 1)) ]' \
	"list caps -n: one name a line, no header"
at -v list caps
out_like '^cap_net_raw +13$' "list -v caps: the number"
at list caps -o description,name -n
out_like '^13 +cap_net_raw$' "list caps -o: the columns asked for"
at list securebits
out_like '^noroot_locked$' "list securebits"
at list prctl
out_like '^NAME +SCOPE$' "list prctl: NAME and SCOPE"
out_like '^KEEP_CAPS +per-thread$' "list prctl: KEEP_CAPS is per-thread"
out_like '^DUMPABLE +process-wide$' "list prctl: DUMPABLE is process-wide"
at -v list prctl
out_like '^NO_NEW_PRIVS +per-thread +execve never grants' \
	"list -v prctl: with what it does"
at list prctl -P -o name,scope
out_like '^NAME="KEEP_CAPS" SCOPE="per-thread"$' "list prctl -P: pairs"
at list caps -o scope
rc_is 64 "list caps -o scope: prctl's column only"
err_like '^allthreads: unknown column: scope' "list caps -o scope: says so"
at list syscalls
rc_is 0 "list syscalls"
out_like '^setresuid$' "list syscalls: setresuid"
ok '[ "$(printf "%s\n" "$out" | wc -l)" -gt 300 ]' "list syscalls: hundreds"
at list columns
out_like '^CAPEFF$' "list columns"
at list columns -r --output-all
out_like '^CAPEFF effective\\x20capabilities$' "list columns -r --output-all"
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
at list caps extra
rc_is 64 "list: one WHAT only"
at list bogus
rc_is 64 "list bogus"
err_like 'bogus: unknown' "list bogus: says so"
done_testing
