# bash completion for allthreads(1)                    -*- shell-script -*-
#
# The vocabularies (commands, capabilities, prctl names, system calls,
# securebits, check's keys) come from `allthreads list`, and a table's
# columns from `allthreads COMMAND --help`, when you press TAB, so this
# file never drifts from the program.

# _allthreads_list WHAT: one name a line, from the allthreads being
# completed.
_allthreads_list()
{
	"${_allthreads_cmd:-allthreads}" list "$1" --noheadings --output name \
		2>/dev/null
}

# _allthreads_columns COMMAND: the columns of COMMAND's table, from the
# list its --help ends with.
_allthreads_columns()
{
	"${_allthreads_cmd:-allthreads}" "$1" --help 2>/dev/null |
		sed -n 's/^ [ *]\([A-Z][A-Z_]*\) .*/\1/p'
}

# _allthreads_csv CUR WORDS [PREFIXES]: complete the last element of a
# comma-separated list; PREFIXES (e.g. "+ -") are offered before names.
_allthreads_csv()
{
	local cur=$1 words=$2 signs=${3:-} head last w s cands=()

	if [[ $cur == *,* ]]; then
		head=${cur%,*},
		last=${cur##*,}
	else
		head=
		last=$cur
	fi
	for w in $words; do
		if [[ -n $signs ]]; then
			for s in $signs; do
				cands+=("$s$w")
			done
		else
			cands+=("$w")
		fi
	done
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "${cands[*]}" -- "$last"))
	COMPREPLY=("${COMPREPLY[@]/#/$head}")
	compopt -o nospace 2>/dev/null
}

# Complete the value of OPTION (given without its '=').
_allthreads_value()
{
	local opt=$1 cur=$2

	case $opt in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
		;;
	-t | --tid)
		COMPREPLY=($(compgen -W "$(ls /proc/*/task 2>/dev/null |
			grep -E '^[0-9]+$')" -- "$cur"))
		;;
	--on-mismatch)
		COMPREPLY=($(compgen -W "report kill ignore" -- "$cur"))
		;;
	--cgroup)
		COMPREPLY=($(compgen -d -- "$cur"))
		;;
	--unit)
		COMPREPLY=($(compgen -W "$(systemctl list-units --plain \
			--no-legend 2>/dev/null | awk '{ print $1 }')" -- "$cur"))
		;;
	--judge)
		COMPREPLY=($(compgen -W "equal success any" -- "$cur"))
		;;
	-o | --output)
		_allthreads_csv "$cur" "$(_allthreads_columns "${cmd:-show}" |
			tr 'A-Z' 'a-z')"
		;;
	-e | --expect)
		COMPREPLY=($(compgen -W "$(_allthreads_list keys |
			sed 's/$/=/')" -- "$cur"))
		compopt -o nospace 2>/dev/null
		;;
	--inh-caps | --ambient-caps | --bounding-set)
		_allthreads_csv "$cur" "all $(_allthreads_list caps)" "+ -"
		;;
	--drop-caps)
		_allthreads_csv "$cur" "all $(_allthreads_list caps)"
		;;
	--securebits)
		_allthreads_csv "$cur" "$(_allthreads_list securebits)" "+ -"
		;;
	--deny | --seccomp-deny)
		_allthreads_csv "$cur" "$(_allthreads_list syscalls)"
		;;
	--default-action | --seccomp-default)
		COMPREPLY=($(compgen -W "allow log kill kill-process trap \
			errno:" -- "$cur"))
		;;
	--bpf | --seccomp-filter | --textfile)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	--format)
		COMPREPLY=($(compgen -W "table json prometheus" -- "$cur"))
		;;
	--reuid | --ruid | --euid | --fsuid)
		COMPREPLY=($(compgen -u -- "$cur"))
		;;
	--regid | --rgid | --egid | --fsgid)
		COMPREPLY=($(compgen -g -- "$cur"))
		;;
	--groups)
		_allthreads_csv "$cur" "$(compgen -g)"
		;;
	--keep-caps | --dumpable)
		COMPREPLY=($(compgen -W "0 1" -- "$cur"))
		;;
	*)
		return 1
		;;
	esac
	return 0
}

_allthreads()
{
	local cur prev cmd i nargs=0 _allthreads_cmd=${COMP_WORDS[0]}
	local global="-p --pid -t --tid --cgroup --unit -J --json -v --verbose -q --quiet
		-n --dry-run --force --timeout --on-mismatch --help --usage --version"
	# The table options of show, check, audit and list (after the command,
	# -n is --noheadings).
	local tables=" -o --output --output-all -r --raw -P --pairs --noheadings"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --opt=value arrives as "--opt" "=" "value".
	if [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		# '=' is not a word break here: complete after it, keep it.
		prev=${cur%%=*}
		cur=${cur#*=}
		if _allthreads_value "$prev" "$cur"; then
			COMPREPLY=("${COMPREPLY[@]/#/$prev=}")
			return 0
		fi
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--)
			# PROGRAM and its arguments: commands, then files.
			if ((i == COMP_CWORD - 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return 0
			;;
		-p | --pid | -t | --tid | --cgroup | --unit | --timeout | \
			--on-mismatch | -o | \
			--output | -e | --expect | --judge)
			[[ -n $cmd ]] || ((i++))
			;;
		=) ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${COMP_WORDS[i]}
			elif [[ ${COMP_WORDS[i - 1]} != = ]]; then
				((nargs++))
			fi
			;;
		esac
	done
	_allthreads_value "$prev" "$cur" && return 0
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_allthreads_list commands)" \
				-- "$cur"))
		fi
		return 0
	fi
	# -cap is a value of ambient, bounding and inheritable.
	if [[ $cur == -* && ! ($cur != --* &&
		($cmd == ambient || $cmd == bounding || $cmd == inheritable)) ]]
	then
		local opts=$global
		case $cmd in
		show | list) opts+=$tables ;;
		check) opts+=" -e --expect$tables" ;;
		audit) opts+=" -e --expect -u --user -c --comm --format --textfile
			--per-process$tables" ;;
		landlock) opts+=" --landlock-access --landlock-rule" ;;
		syscall) opts+=" --judge" ;;
		seccomp) opts+=" --deny --errno --default-action --bpf" ;;
		set)
			opts+=" --reuid --ruid --euid --regid --rgid --egid
				--fsuid --fsgid --groups --clear-groups
				--init-groups --keep-groups --caps --inh-caps
				--ambient-caps --bounding-set --drop-caps
				--securebits --keep-caps --nnp --no-new-privs
				--dumpable --seccomp-deny --seccomp-errno
				--seccomp-default --seccomp-filter"
			;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi
	case $cmd in
	prctl)
		((nargs == 0)) &&
			COMPREPLY=($(compgen -W "$(_allthreads_list prctl)" \
				-- "$cur"))
		;;
	syscall)
		((nargs == 0)) &&
			COMPREPLY=($(compgen -W "$(_allthreads_list syscalls)" \
				-- "$cur"))
		;;
	list)
		((nargs == 0)) &&
			COMPREPLY=($(compgen -W "caps securebits prctl syscalls
				columns keys commands" -- "$cur"))
		;;
	check | audit)
		_allthreads_value --expect "$cur"
		;;
	drop)
		_allthreads_csv "$cur" "all $(_allthreads_list caps)"
		;;
	ambient | bounding | inheritable)
		_allthreads_csv "$cur" "all $(_allthreads_list caps)" "+ -"
		;;
	setuid | setresuid | setfsuid)
		COMPREPLY=($(compgen -u -- "$cur"))
		;;
	setgid | setresgid | setfsgid)
		COMPREPLY=($(compgen -g -- "$cur"))
		;;
	setgroups)
		_allthreads_csv "$cur" "$(compgen -g)"
		;;
	esac
	return 0
}

complete -F _allthreads allthreads
