#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The integration tests read like the code: no test script imports another (what they share
is harness.py's, or a server module's), and every script that uses the harness runs its cases
through harness.run_case. Prints each offence as FILE:LINE: what; exits 1 when there is one.

Usage: check_tests.py INTEGRATION_DIR"""
import glob
import os
import re
import sys

IMPORT = re.compile(r"^\s*(?:import|from)\s+(test_\w+)", re.M)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    scripts = sorted(glob.glob(os.path.join(argv[0], "test_*.py")))
    bad = []
    for path in scripts:
        text = open(path, encoding="utf-8").read()
        for m in IMPORT.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            bad.append(f"{path}:{line}: imports the test script {m.group(1)}; "
                       "put what is shared in harness.py")
        if "import harness" in text and "harness.run_case(globals())" not in text:
            bad.append(f"{path}:1: does not run its cases through harness.run_case")
    for b in bad:
        print(b)
    print(f"check_tests: {len(scripts)} scripts, {len(bad)} offence(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
