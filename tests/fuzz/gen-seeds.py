#!/usr/bin/env python3
# gen-seeds.py - writes the seed corpus of tests/fuzz (run once; the files
# are in the tree).  Each ctl seed: an options byte (see fuzz-ctl.c), then a
# request as ctl-client.c would build it.  Each cli seed: a parser number
# (see fuzz-cli.c's enum), then text.
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
MAGIC, VERSION, REQ_RUN, REQ_PROOF = 0x31637461, 3, 1, 3
SYS = dict(prctl=157, setuid=105, setresuid=117, setgroups=116, capset=126,
           capget=125, seccomp=317, getpid=39, setfsuid=122)
UNUSED = 0xff


def step(nr, args=(), judge=0, save=None, undo=None, ptrs=()):
    a = list(args) + [0] * (6 - len(args))
    s_nr, s_args = (save if save else (-1, []))
    u_nr, u_args = (undo if undo else (-1, []))
    s_args = list(s_args) + [0] * (6 - len(s_args))
    u_args = list(u_args) + [0] * (6 - len(u_args))
    b = struct.pack('<q6q', nr, *a)
    b += struct.pack('<q6q', s_nr, *s_args)
    b += struct.pack('<q6q', u_nr, *u_args)
    b += struct.pack('<IIII', len(args), judge, 1 if (save or undo) else 0, 0)
    p = list(ptrs) + [(UNUSED, 0, 0, 0, 0)] * (6 - len(ptrs))
    for lst, arg, kind, off, ln in p:
        b += struct.pack('<BBHIII', lst, arg, kind, off, ln, 0)
    assert len(b) == 280
    return b


def req(steps, data=b'', timeout=1000, flags=0, policy=0):
    body = struct.pack('<IIIIIIQ', len(steps), timeout, flags, policy,
                       len(data), 0, 0) + b''.join(steps) + data
    total = 16 + len(body)
    return struct.pack('<IHHII', MAGIC, VERSION, REQ_RUN, total, 0) + body


def put(name, opt, msg):
    with open(os.path.join(here, 'corpus', 'ctl', name), 'wb') as f:
        f.write(bytes([opt]) + msg)


PR_SET_KEEPCAPS, PR_GET_KEEPCAPS, PR_SET_NAME = 8, 7, 15
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_CAPBSET_DROP = 38, 22, 24
put('keepcaps', 0x08, req([step(SYS['prctl'], [PR_SET_KEEPCAPS, 1],
                                save=(SYS['prctl'], [PR_GET_KEEPCAPS]),
                                undo=(SYS['prctl'], [PR_SET_KEEPCAPS, -4095]))]))
put('name', 0x10, req([step(SYS['prctl'], [PR_SET_NAME, 0],
                            ptrs=[(0, 1, 0, 0, 8)])], b'worker\0\0'))
put('nnp-many-threads', 0xf8, req([step(SYS['prctl'],
                                         [PR_SET_NO_NEW_PRIVS, 1])] * 3))
hdr = struct.pack('<Ii', 0x20080522, 0)
data = struct.pack('<6I', 0, 0, 0, 0, 0, 0)
put('capset', 0x18, req([step(SYS['capset'], [0, 0], judge=1,
                              ptrs=[(0, 0, 0, 0, 8), (0, 1, 0, 8, 24)])],
                        hdr + data))
put('setgroups', 0x20, req([step(SYS['setgroups'], [3, 0],
                                 ptrs=[(0, 1, 0, 0, 12)])],
                           struct.pack('<3I', 0, 4, 27) + b'\0' * 4))
# seccomp(SET_MODE_FILTER, 0, prog): one instruction, RET ALLOW.
insn = struct.pack('<HBBI', 0x06, 0, 0, 0x7fff0000)
put('seccomp', 0x08, req([step(SYS['seccomp'], [1, 0, 0],
                               ptrs=[(0, 2, 1, 0, 8)])], insn))
put('prctl-seccomp', 0x08, req([step(SYS['prctl'], [PR_SET_SECCOMP, 2, 0],
                                     ptrs=[(0, 2, 1, 0, 8)])], insn))
put('raw-getpid', 0x09, req([step(SYS['getpid'], [], judge=2)]))
put('refused-getpid', 0x08, req([step(SYS['getpid'], [], judge=2)]))
put('unauthorized', 0x0a, req([step(SYS['prctl'], [PR_SET_KEEPCAPS, 1])]))
put('truncated', 0x0c, req([step(SYS['prctl'], [PR_SET_KEEPCAPS, 1])]))
put('bounding-drops', 0x28, req([step(SYS['prctl'], [PR_CAPBSET_DROP, c])
                                 for c in range(20)]))
put('setresuid-undo', 0x08, req([step(SYS['setresuid'], [1000, 1000, 0],
                                       undo=(SYS['setresuid'], [0, 0, 0]))],
                                policy=2, flags=1))
put('fsuid', 0x08, req([step(SYS['setfsuid'], [0], judge=2)]))
put('empty', 0x00, b'')
# A proof (a guessed secret: always refused), then the request.
proof = struct.pack('<IHHII', MAGIC, VERSION, REQ_PROOF, 48, 0) + b'\x5a' * 32
put('proof-guessed', 0x08, proof + req([step(SYS['prctl'],
                                            [PR_SET_KEEPCAPS, 1])]))
put('proof-alone', 0x10, proof)

cli = {
    'cap': (0, 'cap_net_raw'), 'cap-num': (0, '13'),
    'capsets': (1, 'all,-cap_sys_admin'), 'capsets-hex': (1, '000001ffffffffff'),
    'capedits': (1, '+cap_net_raw,-all'),
    'secbits': (2, 'noroot,keep_caps_locked,SECBIT_NO_SETUID_FIXUP'),
    'secbits-num': (2, '0x2f'),
    'prctl-name': (3, 'PR_SET_NO_NEW_PRIVS'), 'prctl-alias': (3, 'nnp'),
    'words-signal': (4, 'RTMIN+3'), 'words-syscall': (4, 'process_vm_writev'),
    'words-ambient': (4, 'PR_CAP_AMBIENT_RAISE'),
    'pids': (5, '1 23,456'),
    'prctl-plan': (6, 'KEEP_CAPS\n1'), 'prctl-plan-ambient': (6, 'CAP_AMBIENT\nRAISE\nnet_raw'),
    'prctl-plan-name': (6, 'NAME\nworker'), 'prctl-plan-spec': (6, 'SPECULATION_CTRL\nstore_bypass\ndisable'),
    'set-ids': (7, 'reuid=nobody\nregid=nogroup\nclear-groups\nnnp'),
    'set-caps': (7, 'caps=cap_net_raw+ep\ninh-caps=-all\nbounding-set=-all\nambient-caps=+net_raw'),
    'set-resuid': (7, 'resuid=0,1000,-1\nresgid=0,0,0\nsecurebits=+noroot\nkeep-caps=1\ndumpable=0'),
    'set-foreign': (0x87, 'setuid=1000\ngroups=0,4\nfsuid=0\nseccomp\ndeny=ptrace'),
    'seccomp': (8, 'deny=ptrace,process_vm_writev\nerrno=EACCES\ndefault-action=log'),
    'seccomp-kill': (8, 'deny=mount\ndefault-action=errno:EPERM'),
    'check': (9, 'NoNewPrivs=0\nCapBnd=all\nUid=0,0,0,*\nGroups=none\nSeccomp=disabled\nName=fuzz'),
    'status': (10, 'Name:\tfoo\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t0 4 27 \nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n'),
    'ids': (11, 'root,daemon,65534'),
}
for name, (sel, text) in cli.items():
    with open(os.path.join(here, 'corpus', 'cli', name), 'wb') as f:
        f.write(bytes([sel]) + text.encode())
print('seeds written', file=sys.stderr)
