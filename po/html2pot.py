#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The texts of an HTML page that cockpit.translate() translates, as a gettext template:
an element's text when its translate attribute holds "yes", an attribute's value when it
names that attribute ("placeholder", "aria-label"). xgettext reads no HTML; po/POTFILES lists
the template this writes (po/page.pot), and tests/check_po.py checks it is the page's.

    po/html2pot.py cockpit/index.html > po/page.pot

An element to translate must hold text alone: cockpit.translate() replaces its content.
"""
import html.parser
import sys


class Texts(html.parser.HTMLParser):
    def __init__(self, name):
        super().__init__(convert_charrefs=True)
        self.name = name
        self.found = {}  # msgid → [line, ...], in the page's order
        self.open = None  # (tag, line, text so far) of an element whose text is wanted
        self.problems = []

    def add(self, text, line):
        if not text.strip() or text != text.strip():
            self.problems.append(f"{self.name}:{line}: a text to translate is empty or has "
                                 "blanks around it")
        self.found.setdefault(text, []).append(line)

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        if self.open:
            self.problems.append(f"{self.name}:{line}: <{tag}> inside <{self.open[0]}>, whose "
                                 "text is translated (and replaced whole)")
        a = dict(attrs)
        for what in (a.get("translate") or "").split():
            if what in ("yes", "translate"):
                self.open = [tag, line, ""]
            elif what != "no":
                if a.get(what) is None:
                    self.problems.append(f"{self.name}:{line}: translate names {what}, "
                                         "which the element lacks")
                else:
                    self.add(a[what], line)

    def handle_data(self, data):
        if self.open:
            self.open[2] += data

    def handle_endtag(self, tag):
        if self.open and tag == self.open[0]:
            self.add(self.open[2], self.open[1])
            self.open = None


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(path):
    page = Texts(path)
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    page.close()
    if page.problems:
        print("\n".join(page.problems), file=sys.stderr)
        return 1
    out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for text, lines in page.found.items():
        out += ["#: " + " ".join(f"{path}:{n}" for n in lines), "msgid " + quote(text),
                'msgstr ""', ""]
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
