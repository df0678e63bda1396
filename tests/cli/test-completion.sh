#!/bin/bash
# test-completion.sh - the bash completion loads in bash and completes
# from `allthreads list`, so it never drifts from the program.
. "$(dirname "$0")/tap.sh"

comp=${AT_COMPLETION:?AT_COMPLETION: the completion directory}/allthreads.bash
mkdir -p "$T_TMP/bin"
ln -s "$(readlink -f "$AT")" "$T_TMP/bin/allthreads"

# complete LINE: the candidates bash offers for LINE (up to the cursor at
# its end), one a line.
complete_line() {
	PATH="$T_TMP/bin:$PATH" bash --norc --noprofile -c '
		. "$1" || exit 1
		line=$2
		COMP_LINE=$line
		COMP_POINT=${#line}
		# As bash splits it: "=" is a word of its own.
		read -ra COMP_WORDS <<<"${line//=/ = }"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_allthreads allthreads "${COMP_WORDS[COMP_CWORD]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$1"
}

run bash --norc --noprofile -c ". '$comp' && complete -p allthreads"
rc_is 0 "the bash completion loads"
out_like '_allthreads allthreads$' "it completes allthreads"
run bash -n "$comp"
rc_is 0 "bash -n: no syntax errors"

out=$(complete_line "allthreads se")
ok 'printf "%s\n" "$out" | grep -qx set' "commands: se -> set"
ok 'printf "%s\n" "$out" | grep -qx setresuid' "commands: se -> setresuid"
ok '! printf "%s\n" "$out" | grep -qx show' "commands: not show"
out=$(complete_line "allthreads prctl KEEP")
ok '[ "$out" = KEEP_CAPS ]' "prctl names: KEEP -> KEEP_CAPS"
out=$(complete_line "allthreads drop cap_net_r")
ok '[ "$out" = cap_net_raw ]' "drop: cap_net_r -> cap_net_raw"
out=$(complete_line "allthreads drop cap_chown,cap_net_r")
ok '[ "$out" = cap_chown,cap_net_raw ]' "drop: the last of a list"
out=$(complete_line "allthreads bounding -cap_sys_ad")
ok '[ "$out" = -cap_sys_admin ]' "bounding: signed names"
out=$(complete_line "allthreads list ")
ok 'printf "%s\n" "$out" | grep -qx syscalls' "list: its vocabularies"
out=$(complete_line "allthreads syscall setres")
ok 'printf "%s\n" "$out" | grep -qx setresuid' "syscall: names from libseccomp"
out=$(complete_line "allthreads show -o cap")
ok 'printf "%s\n" "$out" | grep -qx capeff' "show -o: columns"
out=$(complete_line "allthreads audit -o fie")
ok '[ "$out" = field ]' "audit -o: its columns, from its --help"
out=$(complete_line "allthreads list prctl --pa")
ok '[ "$out" = --pairs ]' "list: the table options"
out=$(complete_line "allthreads check -e NoNew")
ok '[ "$out" = NoNewPrivs= ]' "check -e: keys"
out=$(complete_line "allthreads set --bounding-")
ok '[ "$out" = --bounding-set ]' "set: its options"
out=$(complete_line "allthreads set --securebits=+noroot_l")
ok '[ "$out" = +noroot_locked ]' "set --securebits=: names"
out=$(complete_line "allthreads --js")
ok '[ "$out" = --json ]' "global options"
n=$(complete_line "allthreads drop " | wc -l)
ok '[ "$n" = $(($(cat /proc/sys/kernel/cap_last_cap) + 2)) ]' \
	"drop: every capability of this kernel, and all"
if command -v zsh >/dev/null; then
	run zsh -n "$AT_COMPLETION/_allthreads"
	rc_is 0 "zsh -n: the zsh completion parses"
else
	skip "zsh -n: the zsh completion parses" "zsh is not installed"
fi
done_testing
