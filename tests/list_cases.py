#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The cases of an integration test script, one a line, in the order the script defines them:
every top-level function named test_*. tests/meson.build makes one meson test of each, so the
list of cases is the scripts' own and cannot drift from them.

Usage: list_cases.py SCRIPT"""
import re
import sys

if len(sys.argv) != 2:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
with open(sys.argv[1], encoding="utf-8") as f:
    for name in re.findall(r"^def (test_\w+)\(", f.read(), re.M):
        print(name)
