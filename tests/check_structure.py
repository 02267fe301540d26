#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The size rules of the product's C code: no file over MAX_FILE lines of code (blank lines and
comments not counted) and no function over MAX_FUNC lines (from its opening brace to its closing
one). Prints every offender as FILE:LINE: what, and exits 1 when there is one.

Usage: check_structure.py [--report] FILE|DIR...
  --report  print every file's and the longest functions' sizes as well
A directory stands for the .c files in it and in its folders."""
import glob
import os
import re
import sys

MAX_FILE = 600
MAX_FUNC = 90


def code_lines(text):
    """The lines of text that hold code, with comments and string contents blanked."""
    out, i, n = [], 0, len(text)
    buf = []
    state = None  # None, 'block', 'str', 'chr'
    while i < n:
        c = text[i]
        if state == 'block':
            if text.startswith('*/', i):
                state = None
                i += 2
                continue
            if c == '\n':
                buf.append('\n')
            i += 1
            continue
        if state in ('str', 'chr'):
            q = '"' if state == 'str' else "'"
            if c == '\\':
                i += 2
                continue
            if c == q:
                state = None
                buf.append(c)
            elif c == '\n':
                buf.append('\n')
            i += 1
            continue
        if text.startswith('/*', i):
            state = 'block'
            i += 2
            continue
        if text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
            continue
        if c == '"':
            state = 'str'
        elif c == "'":
            state = 'chr'
        buf.append(c)
        i += 1
    return ''.join(buf).split('\n')


FUNC_START = re.compile(r'^[A-Za-z_].*\)\s*(__attribute__.*)?$')


def functions(lines):
    """(name, first line number, length) of each function defined at file level, whose body
    opens with a '{' alone at the start of a line, as this project writes them."""
    out = []
    for i, line in enumerate(lines):
        if line.rstrip() != '{' or i == 0:
            continue
        # the header ends on the line before; find the line that starts it
        j = i - 1
        while j > 0 and not re.match(r'^[A-Za-z_]', lines[j]):
            j -= 1
        m = re.search(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(', lines[j])
        if not m or lines[j].startswith(('struct ', 'enum ', 'union ')) and '(' not in lines[j]:
            continue
        depth, k = 0, i
        while k < len(lines):
            depth += lines[k].count('{') - lines[k].count('}')
            if depth == 0:
                break
            k += 1
        out.append((m.group(1), j + 1, k - i + 1))
    return out


def main(argv):
    report = '--report' in argv
    files = []
    for a in argv:
        if a == '--report':
            continue
        files += sorted(glob.glob(os.path.join(a, '**', '*.c'), recursive=True)) if os.path.isdir(a) else [a]
    bad = 0
    for path in files:
        with open(path, encoding='utf-8') as f:
            lines = code_lines(f.read())
        loc = sum(1 for line in lines if line.strip())
        if loc > MAX_FILE:
            print(f'{path}:1: {loc} lines of code (at most {MAX_FILE})')
            bad += 1
        elif report:
            print(f'{path}: {loc} lines of code')
        for name, line, length in functions(lines):
            if length > MAX_FUNC:
                print(f'{path}:{line}: {name}() is {length} lines (at most {MAX_FUNC})')
                bad += 1
            elif report and length > 60:
                print(f'{path}:{line}: {name}() is {length} lines')
    if bad:
        print(f'{bad} over the limits')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
