#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Cockpit page's translations (SPEC §13): from po/LANG.po, the messages the page uses
(those whose references name cockpit/), as po.LANG.js, the file Cockpit's bridge serves for
the page's "po.js" when the session's language is LANG. It calls cockpit.locale() as
Cockpit's own po.LANG.js files do: a header with the plural rule as a function, and for each
message [msgid_plural or null, translation, ...]. Untranslated and fuzzy messages are left
out (the page shows the English).

    po/po2js.py po/ja.po po.ja.js
"""
import json
import re
import sys

STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
# what a plural expression of gettext may hold; it becomes JavaScript as it is
PLURAL = re.compile(r"^[n0-9\s()<>=!&|?:%+*/-]+$")


def unquote(s, where):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            if i + 1 >= len(s) or s[i + 1] not in ESCAPES:
                raise ValueError(f"{where}: an escape this script does not know: {s[i:i + 2]}")
            out.append(ESCAPES[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def entries(path):
    """Each message of a .po: dict of refs, fuzzy, msgid, msgid_plural, msgstr (a list)."""
    with open(path, encoding="utf-8") as f:
        blocks = f.read().split("\n\n")
    for n, block in enumerate(blocks):
        e = {"refs": [], "fuzzy": False, "msgstr": {}}
        key = None
        for line in block.splitlines():
            where = f"{path}: message {n + 1}"
            if line.startswith("#:"):
                e["refs"] += line[2:].split()
            elif line.startswith("#,"):
                e["fuzzy"] |= "fuzzy" in line
            elif line.startswith("#") or not line.strip():
                continue
            else:
                m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
                if m:
                    key = m.group(1) if not m.group(2) else ("msgstr", int(m.group(2)))
                    text = m.group(3)
                elif line.startswith('"'):
                    text = line
                else:
                    raise ValueError(f"{where}: a line this script does not read: {line}")
                if key is None:
                    raise ValueError(f"{where}: a string before any keyword")
                s = unquote(STRING.fullmatch(text.strip()).group(1), where)
                if key == "msgstr":
                    key = ("msgstr", 0)
                if isinstance(key, tuple):
                    e["msgstr"][key[1]] = e["msgstr"].get(key[1], "") + s
                else:
                    e[key] = e.get(key, "") + s
        if "msgid" in e:
            yield e


def main(po, out):
    header, messages = None, {}
    for e in entries(po):
        if e["msgid"] == "":
            header = e["msgstr"].get(0, "")
            continue
        forms = [e["msgstr"][i] for i in sorted(e["msgstr"])]
        if e["fuzzy"] or "msgctxt" in e or not all(forms):
            continue
        if not any(r.startswith("cockpit/") for r in e["refs"]):
            continue
        messages[e["msgid"]] = [e.get("msgid_plural"), *forms]
    if header is None:
        raise SystemExit(f"{po}: no header")
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    language = fields.get("Language", "").strip()
    plural = re.search(r"plural\s*=\s*([^;]+);?", fields.get("Plural-Forms", "plural=(n != 1);"))
    rule = plural.group(1).strip() if plural else "(n != 1)"
    if not PLURAL.match(rule) or not re.fullmatch(r"[A-Za-z_@]+", language):
        raise SystemExit(f"{po}: Language {language!r} or plural rule {rule!r} is not one "
                         "this script takes")
    lines = ['"": {"plural-forms": n => (' + rule + '), "language": ' + json.dumps(language) +
             ', "language-direction": "ltr"}']
    for msgid in sorted(messages):
        lines.append(json.dumps(msgid, ensure_ascii=False) + ": " +
                     json.dumps(messages[msgid], ensure_ascii=False))
    with open(out, "w", encoding="utf-8") as f:
        f.write("// Made by po/po2js.py from " + po.split("/")[-1] + "; do not edit.\n")
        f.write("cockpit.locale({\n" + ",\n".join(lines) + "\n});\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
