# SPDX-License-Identifier: BSD-3-Clause
"""Render each man page given on the command line with man -l, as a person would read it, and
fail on any warning man or groff prints, or on a page without its sections."""

import os
import subprocess
import sys

failed = 0
for page in sys.argv[1:]:
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings=w", "-l", page], capture_output=True, text=True,
                       env=env)
    problems = []
    if p.returncode != 0:
        problems.append(f"man exited {p.returncode}")
    if p.stderr.strip():
        problems.append("warnings:\n" + p.stderr)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
        if f"\n{section}\n" not in "\n" + p.stdout:
            problems.append(f"no {section} section")
    name = os.path.basename(page)
    if problems:
        failed += 1
        print(f"not ok - {name}: " + "; ".join(problems))
    else:
        print(f"ok - {name}: {len(p.stdout.splitlines())} lines")
sys.exit(1 if failed else 0)
