#!/bin/bash
# test-seccomp.sh - `allthreads seccomp`: a filter from libseccomp or a
# file, on every thread at once (TSYNC), proven through /proc.
. "$(dirname "$0")/tap.sh"

at_threads 3 -J seccomp --deny=ptrace
rc_is 0 "seccomp --deny=ptrace on 4 threads"
jq_ok 'all(.threads[]; .attrs.Seccomp == 2 and .attrs.Seccomp_filters == 1)' \
	"/proc: every thread has one filter, Seccomp 2"
schema_ok "seccomp -J: the schema"
at seccomp --deny=uname -- uname
ok '[ $rc != 0 ]' "a denied call fails in PROGRAM"
err_like 'Operation not permitted' "denied with EPERM"
at seccomp --deny=uname --errno=EACCES -- uname
err_like 'Permission denied' "--errno=EACCES"
at seccomp --deny=uname --errno=13 -- uname
err_like 'Permission denied' "--errno=13"
at_threads 2 seccomp --deny=ptrace -- sh -c 'grep ^Seccomp: /proc/$$/status'
rc_is 0 "seccomp then PROGRAM"
out_like '^Seccomp:	2$' "PROGRAM runs filtered"
at seccomp --default-action=log --deny=mount -- true
rc_is 0 "--default-action=log"

# A raw filter file: return ALLOW (BPF_RET|BPF_K, SECCOMP_RET_ALLOW).
printf '\006\000\000\000\000\000\377\177' >"$T_TMP/allow.bpf"
at_threads 2 -J seccomp --bpf="$T_TMP/allow.bpf"
rc_is 0 "seccomp --bpf FILE"
jq_ok 'all(.threads[]; .attrs.Seccomp == 2)' "--bpf: Seccomp 2 everywhere"
at_threads 2 -J set --nnp --seccomp-filter="$T_TMP/allow.bpf"
rc_is 0 "set --seccomp-filter (setpriv's name)"
jq_ok 'all(.threads[]; .attrs.Seccomp == 2 and .attrs.NoNewPrivs == 1)' \
	"set: NoNewPrivs and Seccomp on every thread"

at -n seccomp --deny=ptrace
rc_is 0 "seccomp --dry-run"
out_like 'SECCOMP_FILTER_FLAG_TSYNC, [0-9]+ instructions' \
	"--dry-run: one TSYNC call"
out_like 'Seccomp is 2' "--dry-run: the read-back"

# Bad input: exit 64.
at seccomp --deny=ptrcae
rc_is 64 "unknown system call"
err_like 'ptrcae: unknown system call on this architecture \(nearest: .*ptrace' \
	"unknown system call: nearest names"
at seccomp
rc_is 64 "nothing to filter"
at seccomp --bpf="$T_TMP/nope"
rc_is 64 "--bpf: no such file"
printf 'abc' >"$T_TMP/short.bpf"
at seccomp --bpf="$T_TMP/short.bpf"
rc_is 64 "--bpf: not a BPF program"
err_like 'not a BPF program' "--bpf: says so"
at seccomp --bpf="$T_TMP/allow.bpf" --deny=ptrace
rc_is 64 "--bpf with --deny"
at seccomp --errno=EPERM
rc_is 64 "--errno alone"
at seccomp --deny=ptrace --errno=EBOGUS
rc_is 64 "--errno unknown"
at seccomp --deny=ptrace --default-action=bogus
rc_is 64 "--default-action unknown"
done_testing
