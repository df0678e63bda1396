#!/bin/bash
# test-usage.sh - help, version, and every usage error: exit 64, a clear
# `allthreads: what: why` message, and nothing changed (the PROGRAM after
# -- never runs).
. "$(dirname "$0")/tap.sh"

at --help
rc_is 0 "--help"
out_like '^Usage: allthreads ' "--help prints the usage"
out_like 'prctl NAME' "--help lists the prctl command"
out_like 'syscall NAME' "--help lists the syscall command"
out_like 'Exit status' "--help documents the exit status"
at -h
rc_is 0 "-h is --help"
out_like '^Usage: allthreads ' "-h prints the usage"
at '-?'
rc_is 0 "-? is --help"
at --usage
rc_is 0 "--usage"
out_like '^Usage: allthreads ' "--usage: the usage line"
out_like -- '--json' "--usage lists the options"
at --version
rc_is 0 "--version"
out_like '^allthreads [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
at prctl --help
rc_is 0 "prctl --help"
out_like '^Usage: allthreads prctl ' "prctl --help names the command"
at syscall --help
rc_is 0 "syscall --help"
out_like -- '--judge' "syscall --help shows --judge"

at
rc_is 64 "no command"
err_like 'missing COMMAND' "no command: says what is missing"
at prtcl KEEP_CAPS
rc_is 64 "unknown command"
err_like '^allthreads: prtcl: unknown command \(nearest: prctl' \
	"unknown command: nearest name"
at --bogus prctl KEEP_CAPS
rc_is 64 "unknown option"

# prctl usage errors, each followed by a program that must not run.
bad_prctl() {
	local re=$1 desc=$2
	shift 2
	at "$@" -- echo "$RAN_MARK"
	rc_is 64 "$desc"
	err_like "$re" "$desc: message"
	out_unlike "$RAN_MARK" "$desc: PROGRAM did not run"
}

at prctl
rc_is 64 "prctl without NAME"
err_like '^allthreads: prctl: missing NAME' "prctl without NAME: message"
bad_prctl '^allthreads: prctl: KEEP_CAP: unknown name \(nearest: KEEP_CAPS' \
	"unknown prctl name" prctl KEEP_CAP 1
bad_prctl 'nearest: .*NO_NEW_PRIVS' "misspelt NO_NEW_PRIVS" \
	prctl no_new_priv 1
bad_prctl '^allthreads: KEEP_CAPS: 2: out of range \(0\.\.1\)' \
	"KEEP_CAPS 2 out of range" prctl KEEP_CAPS 2
bad_prctl '^allthreads: KEEP_CAPS: abc: not a valid value' \
	"KEEP_CAPS abc" prctl KEEP_CAPS abc
bad_prctl 'KEEP_CAPS: 1x: not a valid value' "trailing garbage" \
	prctl KEEP_CAPS 1x
bad_prctl 'NO_NEW_PRIVS: 0: can only be set to 1' "NO_NEW_PRIVS 0" \
	prctl NO_NEW_PRIVS 0
bad_prctl 'too many arguments' "KEEP_CAPS 1 1" prctl KEEP_CAPS 1 1
bad_prctl 'reads the value and takes no VALUE' "PR_GET_KEEPCAPS 1" \
	prctl PR_GET_KEEPCAPS 1
bad_prctl 'NAME: .*: longer than 15 bytes' "NAME too long" \
	prctl NAME 0123456789abcdef
bad_prctl 'DUMPABLE: 2: out of range' "DUMPABLE 2" prctl DUMPABLE 2
bad_prctl 'TIMERSLACK: -1: out of range' "TIMERSLACK -1" \
	prctl TIMERSLACK -1
bad_prctl 'PDEATHSIG: NOSUCH: unknown signal' "PDEATHSIG NOSUCH" \
	prctl PDEATHSIG NOSUCH
bad_prctl 'PDEATHSIG: 99: out of range' "PDEATHSIG 99" prctl PDEATHSIG 99
bad_prctl 'SECUREBITS: bogus: not a valid value' "SECUREBITS bogus" \
	prctl SECUREBITS bogus
bad_prctl 'SECUREBITS: 0x10000: out of range' "SECUREBITS 0x10000" \
	prctl SECUREBITS 0x10000
bad_prctl 'CAPBSET_DROP: net_rw: unknown capability \(nearest: .*cap_net_raw' \
	"unknown capability, nearest names" prctl CAPBSET_DROP net_rw
bad_prctl 'CAPBSET_DROP: 99: out of range \(0\.\.[0-9]+, from /proc' \
	"capability 99 out of range" prctl CAPBSET_DROP 99
last=$(cat /proc/sys/kernel/cap_last_cap)
bad_prctl "CAPBSET_DROP: $((last + 1)): out of range" \
	"cap_last_cap + 1 out of range" prctl CAPBSET_DROP $((last + 1))
bad_prctl 'CAP_AMBIENT: FROB: unknown operation' "CAP_AMBIENT FROB" \
	prctl CAP_AMBIENT FROB net_raw
bad_prctl 'CAP_AMBIENT RAISE: missing CAP' "CAP_AMBIENT RAISE alone" \
	prctl CAP_AMBIENT RAISE
bad_prctl 'CAP_AMBIENT CLEAR_ALL: takes no capability' \
	"CAP_AMBIENT CLEAR_ALL net_raw" prctl CAP_AMBIENT CLEAR_ALL net_raw
bad_prctl 'SPECULATION_CTRL: warp: unknown feature' "unknown feature" \
	prctl SPECULATION_CTRL warp
bad_prctl 'SPECULATION_CTRL: sometimes: unknown state' "unknown state" \
	prctl SPECULATION_CTRL store_bypass sometimes

at prctl PDEATHSIG
rc_is 64 "PDEATHSIG cannot be read on every thread"
err_like 'PDEATHSIG: reading it on every thread is not supported' \
	"PDEATHSIG read: says why"
at prctl KEEP_CAPS -- echo "$RAN_MARK"
rc_is 64 "a read followed by -- PROGRAM"
out_unlike "$RAN_MARK" "read with -- PROGRAM: PROGRAM did not run"
at prctl KEEP_CAPS 1 --
rc_is 64 "-- without PROGRAM"
err_like 'missing PROGRAM' "-- without PROGRAM: message"

# Global options.
# A process id is decimal, as /proc and pidof write it: 0x10 is not pid 16.
for bad in 0x10 1e3 +5 '12abc'; do
	at -p "$bad" show
	rc_is 64 "-p $bad: not a decimal process id"
	at -t "$bad" show
	rc_is 64 "-t $bad: not a decimal thread id"
done
err_like 'not a thread id' "-t 12abc: message"
at -p "$$ $$" show
rc_is 0 "-p with the blank-separated list pidof prints"
at --timeout=abc prctl KEEP_CAPS
rc_is 64 "--timeout=abc"
err_like 'timeout: abc' "--timeout=abc: message"
at --timeout=0 prctl KEEP_CAPS
rc_is 64 "--timeout=0"
at --timeout=1000 prctl KEEP_CAPS
rc_is 0 "--timeout=1000"
at --on-mismatch=sometimes prctl KEEP_CAPS
rc_is 64 "--on-mismatch=sometimes"
err_like 'not report, kill or ignore' "--on-mismatch: lists the policies"
for p in report kill ignore; do
	at --on-mismatch=$p prctl KEEP_CAPS 1
	rc_is 0 "--on-mismatch=$p"
done
# Test threads come from a preloaded library (tap.sh's at_threads), not
# from options of the product.
at --test-threads=2 prctl KEEP_CAPS
rc_is 64 "--test-threads: no such option"
at --test-block=1 prctl KEEP_CAPS
rc_is 64 "--test-block: no such option"

# --via names how to reach another process: for allthreads itself, and for
# run, which starts one, it is a usage error, and nothing changes.
at --via=sideways -p 1 prctl KEEP_CAPS
rc_is 64 "--via=sideways"
err_like 'not auto, helper or ptrace' "--via: lists the routes"
for via in helper ptrace; do
	at --via=$via prctl KEEP_CAPS 1 -- echo "$RAN_MARK"
	rc_is 64 "--via=$via without -p"
	err_like "^allthreads: --via=$via: names the route to a running process" \
		"--via=$via without -p: says why"
	out_unlike "$RAN_MARK" "--via=$via without -p: PROGRAM did not run"
	at --via=$via run true
	rc_is 64 "--via=$via run: run starts a process, it takes no route"
done
at --via=auto prctl KEEP_CAPS
rc_is 0 "--via=auto (the default) without -p"
at -q -v prctl KEEP_CAPS 1 -- echo "$RAN_MARK"
rc_is 64 "-q with -v: contradictory"
err_like 'contradictory' "-q -v: message"
out_unlike "$RAN_MARK" "-q -v: PROGRAM did not run"
at -J prctl KEEP_CAPS 1 -- echo "$RAN_MARK"
rc_is 64 "--json with -- PROGRAM: contradictory"
out_unlike "$RAN_MARK" "--json with PROGRAM: PROGRAM did not run"
at prctl -v KEEP_CAPS
rc_is 0 "global options after the command name"
at prctl --judge=any KEEP_CAPS
rc_is 64 "--judge belongs to syscall"

# syscall usage errors.
at syscall
rc_is 64 "syscall without NAME"
at syscall frobnicate
rc_is 64 "unknown system call"
err_like '^allthreads: syscall: frobnicate: unknown system call' \
	"unknown system call: message"
at syscall getpd
err_like 'unknown system call on this architecture \(nearest: getpid' \
	"unknown system call: the nearest names"
if [ "$(uname -m)" = x86_64 ]; then
	at syscall socketcall 1 2
	rc_is 64 "socketcall does not exist on x86_64"
fi
at syscall 5000
rc_is 64 "syscall number out of range"
at syscall getpid zz
rc_is 64 "syscall argument not a number"
err_like 'syscall: zz: not a number' "syscall bad argument: message"
at syscall getpid 1 2 3 4 5 6 7
rc_is 64 "more than six arguments"
at syscall --judge=often getpid
rc_is 64 "--judge=often"

# Every example in --help can be copied as printed: argp must not wrap one
# onto a line of its own (a long one continues with a backslash).
bad=
for c in "" $("$AT" list commands -n); do
	run "$AT" $c --help
	if printf '%s\n' "$out" | awk '
		/^Examples:/ { ex = 1; next }
		ex && /^$/ { ex = 0 }
		ex && !/^  / { bad = 1 }
		ex && /^  allthreads/ && prev ~ /\\$/ { bad = 1 }
		ex && /^      / && prev !~ /\\$/ { bad = 1 }
		{ prev = $0 }
		END { exit !bad }'; then
		bad="$bad ${c:-allthreads}"
	fi
done
ok '[ -z "$bad" ]' "--help examples are whole command lines${bad:+ (not:$bad)}"

done_testing
