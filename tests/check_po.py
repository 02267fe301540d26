#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The catalogs are complete (SPEC §13): every text marked in the sources (N_, NP_, _, _n in
C; _, ngettext, cockpit.gettext in the page's JavaScript; translate="..." in its HTML, through
po/page.pot) is in the template po/pam_pwreset.pot and translated, not fuzzy, in every
language of po/LINGUAS; every source file that marks a text is in po/POTFILES; po/page.pot is
the page's; msgfmt --check accepts each catalog.

    tests/check_po.py SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
import tempfile

# the same as po/meson.build's
XGETTEXT = ["xgettext", "--from-code=UTF-8", "--keyword=N_", "--keyword=NP_:1,2",
            "--keyword=_", "--keyword=_n:1,2"]
MARK = {".c": re.compile(r"(?<!define )\b(N_|NP_|_|_n)\("),
        ".h": re.compile(r"(?<!define )\b(N_|NP_)\("),
        ".js": re.compile(r"(\b_|\bngettext|\bgettext)\(\s*[\"'`]")}


def main(top):
    problems = []
    po = os.path.join(top, "po")
    listed = [l.strip() for l in open(os.path.join(po, "POTFILES")) if l.strip()
              and not l.startswith("#")]
    for d in ("helper", "pam_module", "cockpit"):
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in files:
                mark = MARK.get(os.path.splitext(f)[1])
                rel = os.path.relpath(os.path.join(root, f), top)
                if mark and mark.search(open(os.path.join(root, f), encoding="utf-8").read()) \
                        and rel not in listed:
                    problems.append(f"{rel} marks texts but is not in po/POTFILES")
    # the page's HTML texts, as po/html2pot.py finds them now
    p = subprocess.run([sys.executable, os.path.join(po, "html2pot.py"), "cockpit/index.html"],
                       cwd=top, capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"cockpit/index.html: {p.stderr.strip()}")
    elif p.stdout != open(os.path.join(po, "page.pot"), encoding="utf-8").read():
        problems.append("po/page.pot is not cockpit/index.html's texts (po/html2pot.py "
                        "cockpit/index.html > po/page.pot)")
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "now.pot")
        subprocess.run(XGETTEXT + ["-o", pot, "-D", top] + listed, check=True)
        # the committed template says what the sources say
        for a, b in ((os.path.join(po, "pam_pwreset.pot"), pot),
                     (pot, os.path.join(po, "pam_pwreset.pot"))):
            p = subprocess.run(["msgcmp", "--use-untranslated", a, b], capture_output=True,
                               text=True)
            if p.returncode != 0:
                problems.append("po/pam_pwreset.pot is not the sources' (ninja "
                                f"pam_pwreset-pot):\n{p.stderr}")
        for lang in open(os.path.join(po, "LINGUAS")).read().split():
            path = os.path.join(po, lang + ".po")
            # untranslated and fuzzy messages count as missing
            p = subprocess.run(["msgcmp", path, pot], capture_output=True, text=True)
            if p.returncode != 0:
                problems.append(f"po/{lang}.po lacks translations:\n{p.stderr}")
            p = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", path],
                               capture_output=True, text=True)
            if p.returncode != 0 or "untranslated" in p.stderr or "fuzzy" in p.stderr:
                problems.append(f"po/{lang}.po: msgfmt --check: {p.stderr.strip()}")
            else:
                print(f"po/{lang}.po: {p.stderr.strip()}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
