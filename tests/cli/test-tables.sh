#!/bin/bash
# test-tables.sh - the tables of show, check, audit and list, through
# libsmartcols with the options of lsblk, lsns and lslocks: -o COLUMNS,
# -o +COLUMNS, --output-all, -r, -P, -n; an unknown column is a usage
# error; -J keeps its one schema whatever the table options say.
. "$(dirname "$0")/tap.sh"

nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)

# nf LINE: how many blank-separated fields LINE has.
nf() {
	printf '%s\n' "$1" | awk '{ print NF }'
}

# --- show -----------------------------------------------------------------
at show -o nnp,tid
rc_is 0 "show -o nnp,tid"
out_like '^NNP +TID$' "show -o: the columns asked for, in that order"
ok '[ "$(printf "%s\n" "$out" | sed -n 2p | awk "{print \$1}")" = "$nnp" ]' \
	"show -o: NNP is what /proc says"
at show -o NoNewPrivs,CapEff
out_like '^NNP +CAPEFF$' "show -o: /proc keys name columns too"
at show -o +comm
out_like '^ *TID +THREADS .* FILTERS +COMM$' "show -o +comm: the default, then COMM"
at show --output-all
out_like '^ *TID +THREADS +COMM +UID .* FILTERS$' "show --output-all: every column"
ok '[ "$(nf "$(printf "%s\n" "$out" | head -1)")" = 14 ]' \
	"show --output-all: 14 columns"
at show --output-all -o +tid
ok '[ "$(nf "$(printf "%s\n" "$out" | head -1)")" = 14 ]' \
	"show --output-all -o +tid: a column shows once"
at show -o tid,nnp -n
rc_is 0 "show -n (after the command: --noheadings)"
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && [ "$(nf "$out")" = 2 ]' \
	"show -n: no header, one row"
at show -o tid,nnp --noheadings
ok '[ "$(printf "%s\n" "$out" | wc -l)" = 1 ]' "show --noheadings"
at -n show -o tid
out_like '^dry run: show reads' "-n before the command is still --dry-run"
# A process named with a blank: -r writes it as \x20.
# (read, a builtin, waits on a FIFO no one writes: no child to outlive it.)
mkfifo "$T_TMP/fifo"
bash -c 'printf "a b" >/proc/$$/comm; read -r -t 20 <>"$0"' "$T_TMP/fifo" \
	</dev/null >/dev/null 2>&1 &
named=$!
for i in $(seq 100); do
	[ "$(cat /proc/$named/comm 2>/dev/null)" = "a b" ] && break
	sleep 0.05
done
at -p "$named" show -o tid,comm -r
rc_is 0 "show -r"
out_like '^TID COMM$' "show -r: one space between names"
out_like "^$named a\\\\x20b\$" "show -r: a blank in a cell as \\x20"
ok '[ "$(printf "%s\n" "$out" | awk "NF != 2" | wc -l)" = 0 ]' \
	"show -r: two fields on every line"
at -p "$named" show -o comm -P
out_like '^COMM="a b"$' "show -P: the blank as it is, quoted"
kill "$named" 2>/dev/null
wait "$named" 2>/dev/null
at_threads 2 show -o tid,comm -r
out_like '^TID COMM$' "show -r: no differ mark"
at show -o tid,nnp,capeff -P
rc_is 0 "show -P"
out_like "^TID=\"[0-9]+\" NNP=\"$nnp\" CAPEFF=\"[^\"]*\"\$" "show -P: NAME=\"value\" pairs"
ok "eval \"\$(printf '%s\n' \"\$out\" | sed -n 1p)\" && [ \"\$NNP\" = $nnp ]" \
	"show -P: a row evaluates in the shell"
at_threads 3 show -o tid,comm -P
ok '[ "$(printf "%s\n" "$out" | grep -c "^TID=")" = 4 ]' \
	"show -P: one line a row, no header"
out_unlike '\*' "show -P: no differ mark in the names"

# On a terminal (a pseudo-terminal from script(1), 30 columns wide): the
# table fits, and the column that differs is bold unless NO_COLOR or
# TERM=dumb says no.  To a pipe nothing is cut.
if command -v script >/dev/null; then
	threads_env 2
	onterm() {
		run env "$@" script -qec "stty cols 30; $(printf '%q ' "${T_ENV[@]}" "$AT") show -o tid,comm,capeff,groups" /dev/null
		out=$(printf '%s\n' "$out" | tr -d '\r')
	}
	onterm TERM=xterm
	rc_is 0 "show on a 30-column terminal"
	ok '[ "$(printf "%s\n" "$out" | sed "s/\x1b\[[0-9;]*m//g" | awk "length > 30" | wc -l)" = 0 ]' \
		"show on a terminal: every line fits in 30 columns"
	ok 'printf "%s\n" "$out" | grep -q "$(printf "\x1b\\[1m")"' \
		"show on a terminal: the differing COMM is bold"
	onterm TERM=xterm NO_COLOR=1
	ok '! printf "%s\n" "$out" | grep -q "$(printf "\x1b")"' "NO_COLOR: no bold"
	onterm TERM=dumb
	ok '! printf "%s\n" "$out" | grep -q "$(printf "\x1b")"' "TERM=dumb: no bold"
else
	for d in "fits" "bold" "NO_COLOR" "TERM=dumb" "exit"; do
		skip "show on a terminal: $d" "script(1) is not installed"
	done
fi
at_threads 2 show -o tid,comm,capeff,groups
ok '[ "$(printf "%s\n" "$out" | grep -c " at-test-[01] ")" = 2 ]' \
	"show to a pipe: whole names, nothing cut"

# Bad columns and contradictions: usage errors, nothing printed.
at show -o tid,bogus
rc_is 64 "show -o bogus"
err_like '^allthreads: unknown column: bogus \(nearest' "show -o bogus: says which"
ok '[ -z "$out" ]' "show -o bogus: prints nothing"
at show -o capef
err_like 'nearest: CAPEFF' "show -o capef: the nearest column"
at show -o ,
rc_is 64 "show -o ,: no columns"
at show -r -P
rc_is 64 "show -r -P: contradictory"
at -J show -r
rc_is 64 "show -J -r: contradictory"
at show --help
out_like '^ \*CAPEFF +effective capabilities$' "show --help: the columns, defaults marked"
out_like '^  COMM +thread name$' "show --help: COMM is not a default"

# -J: the one schema, whatever -o and -n say.
at -J show -o tid -n
rc_is 0 "show -J -o tid -n"
schema_ok "show -J -o tid: the schema (every key unchanged)"
jq_ok '.threads[0].attrs | has("CapEff") and has("NoNewPrivs")' \
	"show -J -o tid: every attribute still"

# --- check ----------------------------------------------------------------
at -J check -e NoNewPrivs=$((1 - nnp)) -o tid -n
rc_is 1 "check -J -o tid -n: a failing expectation"
schema_ok "check -J -o tid: the schema (every key unchanged)"
jq_ok ".threads[0].error == \"NoNewPrivs is $nnp, expected $((1 - nnp))\"" \
	"check -J: the reason, as before the table"

# --- audit ----------------------------------------------------------------
fixture 4
at -q audit -p "$FPID" -o field,pid
rc_is 1 "audit -o field,pid: a process whose threads differ"
out_like '^FIELD +PID$' "audit -o: the columns asked for"
out_like "^NoNewPrivs +$FPID\$" "audit -o: NoNewPrivs differs"
at -q audit -p "$FPID" -o +field
out_like '^ *PID +COMM +CHECK +FIELD +TIDS +VALUE +WANT$' \
	"audit -o +field: the default; a column shows once"
at -q audit -p "$FPID" -n
rc_is 1 "audit -n"
out_unlike 'PID +COMM' "audit -n: no header"
out_like "^ *$FPID " "audit -n: the rows"
at -q audit -p "$FPID" -P
out_like "^PID=\"$FPID\" COMM=\"[^\"]*\" CHECK=\"differ\" FIELD=\"NoNewPrivs\" TIDS=\"[^\"]*\" VALUE=\"1\" WANT=\"0 \\(tid $FPID\\)\"\$" \
	"audit -P: every column as NAME=\"value\""
at -q audit -p "$FPID" -o tids -r -n
ok '! printf "%s\n" "$out" | grep -q " "' "audit -r: blanks in cells as \\x20"
at audit -o bogus
rc_is 64 "audit -o bogus"
err_like '^allthreads: unknown column: bogus' "audit -o bogus: says which"
at -J audit -p "$FPID" -o pid -n
schema_ok "audit -J -o pid -n: the schema (keys unchanged)"
stop_fixture

# --- list -----------------------------------------------------------------
at list caps -o bogus
rc_is 64 "list -o bogus"
at -J list caps -o name -n
schema_ok "list -J -o name: the schema (items keep name and description)"
jq_ok '.items[0] | keys == ["description", "name"]' "list -J: the item keys"

done_testing
