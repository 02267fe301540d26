#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The include graph of the product's C files, checked against the privilege lines.

A node is a module: foo.c and foo.h together (a header without a .c is a node of its own).
A module includes another when its .c or .h includes the other's header with #include "...".
It fails, printing each offence as FILE:LINE: what, on:
  - a cycle between modules (each one is printed once, as the path that closes it);
  - an include that crosses a line: pam_module/, helper/ctl/, helper/mailer/ and
    helper/directory/ include only their own folder and helper/common/; helper/core/ includes
    only itself and helper/common/; helper/common/ only itself. config.h (made by meson) is
    allowed everywhere;
  - an include that names no header of the tree;
  - a header that declares a function its own file does not define: foo.h declares only what
    foo.c (or foo_*.c, the same job in parts) defines, so a header is where its definitions
    are, and an include says which file is used.
With --dot it prints the graph for Graphviz instead.

Usage: check_includes.py [--dot] SOURCE_ROOT"""
import os
import re
import sys

# folder -> the folders its files may include from
ALLOWED = {
    "helper/common": {"helper/common"},
    "helper/core": {"helper/core", "helper/common"},
    "helper/mailer": {"helper/mailer", "helper/common"},
    "helper/directory": {"helper/directory", "helper/common"},
    "helper/ctl": {"helper/ctl", "helper/common"},
    "pam_module": {"pam_module", "helper/common"},
}
GENERATED = {"config.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    """Every .c and .h file of the product folders, as paths relative to root."""
    out = []
    for folder in ALLOWED:
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                out.append(f"{folder}/{name}")
    return out


def module(path):
    return os.path.splitext(path)[0]


def graph(root):
    """(edges, offences): edges maps a module to {module: (file, line)} of its includes."""
    files = sources(root)
    headers = {}  # header name -> path; the same name in two folders is an offence
    offences = []
    for f in files:
        if f.endswith(".h"):
            name = os.path.basename(f)
            if name in headers:
                offences.append(f"{f}:1: the header name {name} is also {headers[name]}")
            headers[name] = f
    edges = {module(f): {} for f in files}
    for f in files:
        folder = os.path.dirname(f)
        text = open(os.path.join(root, f), encoding="utf-8").read()
        for m in INCLUDE.finditer(text):
            name, line = m.group(1), text.count("\n", 0, m.start()) + 1
            if name in GENERATED:
                continue
            target = headers.get(name)
            if target is None:
                offences.append(f"{f}:{line}: includes \"{name}\", which is no header here")
                continue
            if os.path.dirname(target) not in ALLOWED[folder]:
                offences.append(f"{f}:{line}: includes {target}: {folder}/ may include only "
                                + " and ".join(f"{a}/" for a in sorted(ALLOWED[folder])))
            if module(target) != module(f):
                edges[module(f)].setdefault(module(target), (f, line))
    return edges, offences


PROTO = re.compile(r"^(?!static|typedef|extern|#|\s)[^;{}()]*?\b(\w+)\s*\([^;{}]*\)\s*"
                   r"(?:__attribute__\s*\(\(.*?\)\)\s*)?;", re.M | re.S)
FN_DECL = re.compile(r"^(\w+_fn)\s+([\w\s,]+);", re.M)
DEFN = re.compile(r"^(?!static)[^;{}()#\s][^;{}()]*?\b(\w+)\s*\([^;{}]*\)\s*\{", re.M | re.S)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def declarations(root, files):
    """Offences: functions a header declares that neither its file nor its parts define."""
    offences = []
    for h in files:
        if not h.endswith(".h"):
            continue
        text = strip_comments(open(os.path.join(root, h), encoding="utf-8").read())
        declared = [(m.group(1), m.start()) for m in PROTO.finditer(text)]
        for m in FN_DECL.finditer(text):
            declared += [(n.strip(), m.start()) for n in m.group(2).split(",") if n.strip()]
        if not declared:
            continue
        stem = module(h)
        parts = [f for f in files if f.endswith(".c") and
                 (module(f) == stem or module(f).startswith(stem + "_"))]
        defined = set()
        for c in parts:
            body = strip_comments(open(os.path.join(root, c), encoding="utf-8").read())
            defined |= {m.group(1) for m in DEFN.finditer(body)}
        for name, at in declared:
            if name not in defined:
                line = text.count("\n", 0, at) + 1
                where = " or ".join(parts) if parts else f"{stem}.c (there is none)"
                offences.append(f"{h}:{line}: declares {name}, which {where} does not define")
    return offences


def cycles(edges):
    """Each cycle once, as a list of modules whose last includes the first."""
    found, seen_sets = [], set()
    state = {}  # module -> 1 on the stack, 2 done
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, {})):
            if state.get(m) == 1:
                loop = stack[stack.index(m):]
                key = frozenset(loop)
                if key not in seen_sets:
                    seen_sets.add(key)
                    found.append(loop)
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n)
    return found


def main(argv):
    dot = "--dot" in argv
    args = [a for a in argv if a != "--dot"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = args[0]
    edges, offences = graph(root)
    offences += declarations(root, sources(root))
    if not edges:
        print(f"check_includes: no C files under {root}", file=sys.stderr)
        return 2
    if dot:
        print("digraph includes {")
        for n in sorted(edges):
            for m in sorted(edges[n]):
                print(f'\t"{n}" -> "{m}";')
        print("}")
        return 0
    for loop in cycles(edges):
        f, line = edges[loop[-1]][loop[0]]
        offences.append(f"{f}:{line}: include cycle: " + " -> ".join(loop + [loop[0]]))
    for o in offences:
        print(o)
    n = sum(len(v) for v in edges.values())
    print(f"check_includes: {len(edges)} modules, {n} includes, {len(offences)} offence(s)")
    return 1 if offences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
