#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""promparse.py - a strict reader of the Prometheus text exposition format
(version 0.0.4), as node_exporter's textfile collector takes it, for
test-prom.sh.

    promparse.py [FILE]     (standard input without FILE)

Checks, line by line, what the format's specification says:
  - every line ends in a newline (the last one too); a line is blank, a
    comment, `# HELP name text`, `# TYPE name type`, or a sample;
  - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
    [a-zA-Z_][a-zA-Z0-9_]* and do not start with __;
  - HELP text escapes only backslash and newline; a label value escapes
    only backslash, double quote and newline, and is UTF-8;
  - at most one HELP and one TYPE per family, TYPE before the family's
    first sample, a family's lines together (not split by another's),
    a gauge's samples named as the family;
  - a value is a float (Go's ParseFloat: decimal, exponent, NaN, +Inf,
    -Inf); no timestamp (the textfile collector refuses them);
  - no series twice, no label twice in one sample.
Prints the samples as JSON, {"name": [[{labels}, value], ...], ...},
with "_help" and "_type" maps; on the first error, prints
`promparse: line N: why` on standard error and exits 1.
"""
import json
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[Nn][Aa][Nn]|[Ii][Nn][Ff](?:[Ii][Nn][Ii][Tt][Yy])?)$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Bad(Exception):
    pass


def unescape(text, allowed):
    """TEXT with its escapes undone; ALLOWED: the characters that may
    follow a backslash."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in allowed:
                raise Bad("invalid escape in %r" % text)
            out.append("\n" if text[i + 1] == "n" else text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_labels(s, i):
    """The labels of a sample from S[i] (just after '{'): (dict, index
    after '}')."""
    labels = {}
    while True:
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = re.compile(LABEL).match(s, i)
        if not m:
            raise Bad("bad label name at %r" % s[i:])
        name = m.group(0)
        if name.startswith("__"):
            raise Bad("label name %s is reserved" % name)
        if name in labels:
            raise Bad("label %s twice" % name)
        i = m.end()
        while i < len(s) and s[i] in " \t":
            i += 1
        if s[i:i + 2] != '="':
            raise Bad("label %s: no =\"" % name)
        i += 2
        j = i
        while j < len(s) and s[j] != '"':
            j += 2 if s[j] == "\\" else 1
        if j >= len(s):
            raise Bad("label %s: unterminated value" % name)
        labels[name] = unescape(s[i:j], '\\"n')
        i = j + 1
        while i < len(s) and s[i] in " \t":
            i += 1
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            return labels, i + 1
        else:
            raise Bad("label %s: neither , nor } after the value" % name)


def parse(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad("not UTF-8 at byte %d" % e.start) from None
    if text and not text.endswith("\n"):
        raise Bad("the last line does not end in a newline")
    helps, types, samples = {}, {}, {}
    seen_series = set()
    current, done = None, set()

    def family(name, lineno):
        nonlocal current
        if name != current:
            if name in done:
                raise Bad("family %s is split by another" % name)
            if current is not None:
                done.add(current)
            current = name

    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    name = parts[2]
                    if not re.fullmatch(NAME, name):
                        raise Bad("bad metric name %r" % name)
                    family(name, lineno)
                    rest = parts[3] if len(parts) > 3 else ""
                    if parts[1] == "HELP":
                        if name in helps:
                            raise Bad("a second HELP for %s" % name)
                        helps[name] = unescape(rest, "\\n")
                    else:
                        if name in types:
                            raise Bad("a second TYPE for %s" % name)
                        if name in samples:
                            raise Bad("TYPE of %s after its samples" % name)
                        if rest not in TYPES:
                            raise Bad("unknown type %r" % rest)
                        types[name] = rest
                continue
            m = re.compile(NAME).match(line)
            if not m:
                raise Bad("a sample without a metric name")
            name, i = m.group(0), m.end()
            labels = {}
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i + 1)
            fields = line[i:].split()
            if not line[i:i + 1] in (" ", "\t") or not fields:
                raise Bad("no value after the name and labels")
            if len(fields) > 1:
                raise Bad("a timestamp (or more): the textfile collector "
                          "refuses them")
            if not FLOAT.match(fields[0]):
                raise Bad("value %r is not a float" % fields[0])
            value = float(fields[0])
            base = name
            if types.get(name) is None:
                for suf in ("_bucket", "_sum", "_count"):
                    b = name[:-len(suf)] if name.endswith(suf) else None
                    if b and types.get(b) in ("histogram", "summary"):
                        base = b
            family(base, lineno)
            if types.get(base) == "gauge" and name != base:
                raise Bad("gauge sample %s" % name)
            key = (name, tuple(sorted(labels.items())))
            if key in seen_series:
                raise Bad("series %s%s twice" % (name, labels))
            seen_series.add(key)
            samples.setdefault(name, []).append(
                [labels, None if math.isnan(value) else value])
        except Bad as e:
            raise Bad("line %d: %s" % (lineno, e)) from None
    samples["_help"] = helps
    samples["_type"] = types
    return samples


def main():
    data = (open(sys.argv[1], "rb").read() if len(sys.argv) > 1
            else sys.stdin.buffer.read())
    try:
        out = parse(data)
    except Bad as e:
        print("promparse: %s" % e, file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
