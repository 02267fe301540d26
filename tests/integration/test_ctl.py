# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of pwresetctl against a real helper in the sandbox, over the daemon's
socket and through the one-shot helper: every command and option, plain and --json (parsed),
the exit statuses, an admin_group member, an ordinary user, and no helper at all.
Run one case: test_ctl.py CASE."""

import io
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import harness  # noqa: E402
from harness import BOTH, check, eq  # noqa: E402

S = None
CTL = os.environ.get("PWR_CTL", "")
CODE = re.compile(r"\b[0-9A-Z]{5}-[0-9A-Z]{5}\b")


def ctl(*args, transport="socket", user=None, stdin=None):
    """Run pwresetctl; (exit status, stdout, stderr)."""
    helper = S.helper
    argv = [CTL, "--helper", helper, *args]
    if transport == "oneshot":
        argv = [CTL, "--socket", "/run/pwreset/none.sock", "--helper", helper, *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, input=stdin, timeout=60)
    return p.returncode, p.stdout, p.stderr


def ctl_json(*args, **kw):
    rc, out, err = ctl("--json", *args, **kw)
    try:
        return rc, json.loads(out), err
    except json.JSONDecodeError as e:
        raise AssertionError(f"not JSON ({e}): {out!r} {err!r}")


def one_line_error(err, what):
    check(err.count("\n") == 1 and err.startswith("pwresetctl: "), f"{what}: {err!r}")


def shadow_of(user):
    with open("/etc/shadow") as f:
        for line in f:
            if line.startswith(user + ":"):
                return line.split(":")
    return None


def test_ctl_reset():
    """Three users in one call, one of them unknown: two done, one reported, exit 1; a user
    without address gets a hand-over sheet; --print, --no-lock, --ttl; --json parsed; the
    printed code works at the helper."""
    harness.setup_world()
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        rc, out, err = ctl("reset", "alice", "nosuchuser", "dave", transport=t)
        eq(rc, 1, f"{t}: {out} {err}")
        check(re.search(r"^alice: password locked; a code was queued for mail", out, re.M),
              out)
        check("==== Password reset: hand this to dave ====" in out, out)
        check(re.search(r"^code: +[0-9A-Z]{5}-[0-9A-Z]{5}$", out, re.M), out)
        check("expires: " in out and "Log in as dave" in out, out)
        one_line_error(err, t)
        check("nosuchuser" in err, err)
        check(shadow_of("alice")[1].startswith("!") and shadow_of("dave")[1].startswith("!"),
              "both locked")
        code = CODE.search(out).group(0)
        rc2, ans = S.client([f"verify dave {code}"], t)
        eq(ans, ["verify status=0"], f"{t}: the handed-over code works")
    harness.restart_daemon()
    before = shadow_of("bob")[1]
    t0 = time.time()
    rc, js, err = ctl_json("reset", "--print", "--no-lock", "--ttl", "2h", "bob", "ghost")
    eq(rc, 1, err)
    res = js["results"]
    eq([r["user"] for r in res], ["bob", "ghost"])
    eq((res[0]["ok"], res[0]["locked"], res[0]["mailed"]), (True, False, False))
    check(CODE.fullmatch(res[0]["code"]), res[0])
    from datetime import datetime
    expires = datetime.fromisoformat(res[0]["expires"]).timestamp()
    check(abs(expires - (t0 + 7200)) < 60, f"--ttl 2h: {res[0]['expires']}")
    eq((res[1]["ok"], bool(res[1]["error"])), (False, True), res[1])
    eq(shadow_of("bob")[1], before, "--no-lock left the password")
    # for a page to print: the sheet's words, and the QR code as an SVG document that a
    # reader decodes to the code
    check(res[0]["code"] in res[0]["sheet"] and "Log in as bob" in res[0]["sheet"], res[0])
    # and laid out for paper (SPEC §13): the same words in parts, who issued it and when
    paper = res[0]["paper"]
    eq((paper["language"], paper["title"], paper["code_label"], paper["code"]),
       ("en", "Password reset for bob", "Reset code", res[0]["code"]))
    login = open("/proc/self/loginuid").read().strip()
    import pwd
    issuer = pwd.getpwuid(0 if login == "4294967295" else int(login)).pw_name
    eq([(f["label"], f["value"]) for f in paper["facts"]][:2] + [paper["facts"][3]["label"]],
       [("Account", "bob"), ("Host", os.uname().nodename), "Issued by"])
    eq(paper["facts"][3]["value"], issuer, "issued by the administrator's login")
    eq(paper["facts"][4]["label"], "Issued on")
    issued = time.mktime(time.strptime(paper["facts"][4]["value"][:16], "%Y-%m-%d %H:%M"))
    check(-120 < issued - time.time() < 60, f"issued now: {paper['facts'][4]}")
    eq(paper["steps"], ["Log in as bob and type any password.",
                        'At "Forgot your password? ..." type the code above.',
                        "Choose a new password and type it twice.",
                        "Log in with the new password."])
    eq((paper["once"], paper["private"]), ("The code works once, until it expires.",
                                           "Keep this sheet private; destroy it once used."))
    eq(qr_decode(res[0]["qr_svg"]), res[0]["code"], "the QR code holds the code")
    rc, js, err = ctl_json("reset", "gina")
    eq(rc, 0, err)
    eq((js["results"][0]["mailed"], js["results"][0]["code"], js["results"][0]["qr_svg"]),
       (True, None, None))
    # the steps name the prompt the person will see: the offer, or with self-service off the
    # prompt for an administrator's code (SPEC §3)
    offer = '2. At "Forgot your password? ..." type the code above.'
    admin = '2. At "Enter the reset code from your administrator" type the code above.'
    for t in BOTH:
        for self_reset, want, other in (("no", admin, offer), ("yes", offer, admin)):
            eq(ctl("policy", "set", "self_reset", self_reset)[0], 0, self_reset)
            rc, out, err = ctl("reset", "--print", "--no-lock", "erin", transport=t)
            check(want in out and other not in out, f"{t}, self_reset = {self_reset}: {out}")
    # SPEC §13: the sheet in --language, else the account's mail language, else the host's;
    # the prompt it names quoted in the host's language, as the person will see it there
    ja_title = "==== パスワードのリセット: erin さんにお渡しください ===="
    de_title = "==== Passwort zurücksetzen: an erin aushändigen ===="
    rc, out, err = ctl("reset", "--print", "--no-lock", "--language", "ja", "erin")
    check(ja_title in out and offer.replace("2. At", "") not in out and
          '「Forgot your password? ...」' in out, f"a Japanese sheet on an English host: {out}")
    rc, js, err = ctl_json("reset", "--print", "--no-lock", "--language", "ja", "erin")
    paper = js["results"][0]["paper"]
    eq((paper["language"], paper["title"], paper["private"]),
       ("ja", "erin さんのパスワードのリセット", "この用紙は他人に見せず、使用後は破棄してください。"))
    eq(paper["steps"][1], "「Forgot your password? ...」と表示されたら、上のコードを入力します。")
    with open("/etc/pwreset/pwreset.conf", "a") as f:
        f.write("language = ja\n")
    eq(ctl("policy", "set", "self_reset", "no")[0], 0)
    rc, out, err = ctl("reset", "--print", "--no-lock", "erin")
    check(ja_title in out and "「管理者から受け取ったリセットコードを入力してください」" in out, out)
    eq(ctl("email", "language", "erin", "de")[0], 0)
    rc, out, err = ctl("reset", "--print", "--no-lock", "erin")
    check(de_title in out and 'Geben Sie bei "管理者から受け取ったリセットコードを入力してください" '
          "den Code oben ein." in out, f"erin's own language, the host's prompt: {out}")


def qr_decode(svg):
    """The text of the QR code an SVG document of pwresetctl draws (one unit square per dark
    module), read by zbarimg from the same picture as a PGM image, 8 pixels per module."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)}
    scale = 8
    rows = bytes(0 if (x // scale, y // scale) in dark else 255
                 for y in range(size * scale) for x in range(size * scale))
    path = os.path.join(S.tmp, "qr.pgm")
    with open(path, "wb") as f:
        f.write(b"P5 %d %d 255\n" % (size * scale, size * scale) + rows)
    p = subprocess.run(["zbarimg", "--quiet", "--raw", path], capture_output=True, text=True)
    eq(p.returncode, 0, p.stderr)
    return p.stdout.strip()


def test_ctl_reset_sheet_on_terminal():
    """On a terminal the hand-over sheet carries the code as a QR code (built with
    libqrencode)."""
    import pexpect
    harness.setup_world()
    p = pexpect.spawn(CTL, ["--helper", S.helper, "reset", "--print", "alice"],
                      encoding="utf-8", timeout=30)
    p.logfile_read = io.StringIO()
    p.expect(pexpect.EOF)
    p.close()
    out = p.logfile_read.getvalue()
    eq(p.exitstatus, 0, out)
    check("code:" in out and "\u2588" in out and "\u2580" in out, out)


def test_ctl_email():
    """set (with the warnings of a shared and a host-only address on stderr, exit 0), show
    (the address alone), unset; errors for unknown users and bad addresses; --json."""
    harness.setup_world()
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        rc, out, err = ctl("email", "set", "dave", "dave@example.org", transport=t)
        eq((rc, out, err), (0, "", ""), t)
        rc, out, err = ctl("email", "show", "dave", transport=t)
        eq((rc, out), (0, "dave@example.org\nsource: admin\n"
                          "confirmed: never (set by an administrator)\n"
                          "language: default (mail_language)\n"), t)
        rc, out, err = ctl("email", "set", "dave", "TEAM@example.org", transport=t)
        eq(rc, 0, t)
        check("warning" in err and "carol" in err and "erin" in err, err)
        rc, out, err = ctl("email", "set", "dave", "dave@localhost", transport=t)
        eq(rc, 0)
        check("warning" in err and "only be read on this host" in err, err)
        rc, js, err = ctl_json("email", "set", "dave", "dave@localhost", transport=t)
        eq(js, {"user": "dave", "address": "dave@localhost",
                "warnings": ["local-only-address"]})
        rc, js, err = ctl_json("email", "show", "dave", transport=t)
        eq(js, {"user": "dave", "address": "dave@localhost", "source": "admin",
                "confirmed": None, "language": None})
        # the language of its mail (SPEC §13): chosen, shown, kept with a new address,
        # forgotten with default; a name that is not a language is refused
        eq(ctl("email", "language", "dave", "de", transport=t)[:2], (0, ""), t)
        eq(ctl_json("email", "show", "dave", transport=t)[1]["language"], "de", t)
        eq(ctl("email", "set", "dave", "dave@example.org", transport=t)[0], 0, t)
        check("language: de\n" in ctl("email", "show", "dave", transport=t)[1], t)
        eq(ctl("email", "set", "--language", "ja_JP.UTF-8", "dave", "dave@localhost",
               transport=t)[0], 0, t)
        eq(ctl_json("email", "show", "dave", transport=t)[1]["language"], "ja_JP.UTF-8", t)
        for bad in ("../de", "de ja", "x" * 70):
            rc, out, err = ctl("email", "language", "dave", bad, transport=t)
            eq(rc, 1 if len(bad) < 64 else 2, f"{t}: {bad}")
            one_line_error(err, t)
        eq(ctl_json("email", "language", "dave", "default", transport=t)[1],
           {"user": "dave", "language": None}, t)
        eq(ctl_json("email", "show", "dave", transport=t)[1]["language"], None, t)
        rc, out, err = ctl("email", "unset", "dave", transport=t)
        eq((rc, out, err), (0, "", ""))
        rc, out, err = ctl("email", "show", "dave", transport=t)
        eq(rc, 1, t)
        one_line_error(err, t)
        check("no address" in err, err)
        rc, out, err = ctl("email", "set", "nosuchuser", "x@example.org", transport=t)
        eq(rc, 1)
        one_line_error(err, t)
        rc, out, err = ctl("email", "set", "dave", "not an address", transport=t)
        eq(rc, 1)
        one_line_error(err, t)
        rc, out, err = ctl("email", "unset", "dave", transport=t)
        eq(rc, 1, "nothing to remove")


IMPORT = """# recovery addresses
dave dave@example.org

hank hank@new.example.org
nosuchuser x@example.org
gina
gina gina@example.org extra
frank not-an-address
"""


def test_ctl_import_export():
    """import reports each refused line with its number and reason and imports the rest;
    --dry-run changes nothing; a NUL byte or an over-long line is refused by number too;
    export prints the import format back."""
    harness.setup_world()
    path = os.path.join(S.tmp, "addresses.txt")
    with open(path, "wb") as f:
        f.write(IMPORT.encode() + b"bob bob\x00@example.org\n" + b"x" * 5000 + b"\n" +
                b"erin erin@example.org\n")
    rc, before, _ = ctl("email", "export")
    rc, out, err = ctl("email", "import", "--dry-run", path)
    eq(rc, 1)
    check("3 addresses would be imported, 6 lines refused (dry run" in out, out)
    eq(ctl("email", "export")[1], before, "dry run changed nothing")
    rc, js, err = ctl_json("email", "import", path)
    eq(rc, 1)
    eq(js["imported"], 3)
    eq(js["dry_run"], False)
    eq([r["line"] for r in js["rejected"]], [5, 6, 7, 8, 9, 10])
    for r in js["rejected"]:
        check(r["reason"], r)
    check("NUL" in js["rejected"][4]["reason"], js["rejected"][4])
    check("longer" in js["rejected"][5]["reason"], js["rejected"][5])
    rc, out, err = ctl("email", "import", path)
    lines = err.splitlines()
    eq(len(lines), 6, err)
    check(all(re.match(rf"pwresetctl: {re.escape(path)}:\d+: .+", l) for l in lines), err)
    rc, out, err = ctl("email", "show", "hank")
    eq(out.splitlines()[:2], ["hank@new.example.org", "source: admin"])
    rc, exported, _ = ctl("email", "export")
    check("dave dave@example.org\n" in exported and "erin erin@example.org\n" in exported,
          exported)
    rc, js, _ = ctl_json("email", "export")
    eq(len(js["addresses"]), len(exported.splitlines()))
    check({"user": "hank", "address": "hank@new.example.org"} in js["addresses"], js)
    # export's output imports cleanly
    rc, out, err = ctl("email", "import", "-", stdin=exported)
    eq((rc, err), (0, ""), out)
    rc, out, err = ctl("email", "import", "/nonexistent/file")
    eq(rc, 1)
    one_line_error(err, "missing file")


def test_ctl_overview():
    """overview: one document whose keys hold what status, policy, email export, tokens, check
    and queue print with --json; its check also holds each account with an address that the
    listing of every account does not (root's, below min_uid), as `check NAME` gives it."""
    harness.setup_world(harness.BASE_CONFIG + "min_uid = 1000\n")
    rc, out, err = ctl("email", "set", "root", "root@example.org")
    eq(rc, 0, err)
    ctl("reset", "--print", "dave")  # a pending code
    for t in ("socket", "oneshot"):
        rc, out, err = ctl("overview", transport=t)
        eq((rc, err), (0, ""), t)
        ov = json.loads(out)
        eq(sorted(ov), ["addresses", "check", "policy", "queue", "status", "tokens"])
        for key, args in (("policy", ["policy"]), ("addresses", ["email", "export"]),
                          ("tokens", ["tokens"]), ("queue", ["queue"])):
            eq(ov[key], ctl_json(*args, transport=t)[1], f"{t}: {key}")
        status = ctl_json("status", transport=t)[1]
        eq(sorted(ov["status"]), sorted(status), t)
        eq(ov["status"]["codes"], status["codes"], t)
        every = ctl_json("check", transport=t)[1]["users"]
        listed = {u["user"] for u in every}
        others = sorted(a["user"] for a in ov["addresses"]["addresses"]
                        if a["user"] not in listed)
        check("root" in others and "sysacct" in others, others)
        more = ctl_json("check", *others, transport=t)[1]["users"]
        eq(ov["check"]["users"], every + more, t)
        eq(ov["check"]["summary"]["users"], len(every) + len(others), t)
    eq(ctl("--json", "overview")[1], ctl("overview")[1], "the same with --json")


def test_ctl_check():
    """Every reason of SPEC §5 in one listing (and 'disabled' with self_reset = no), in plain
    form (TAB, then a summary) and JSON; exit 0 only when everyone looked at is eligible."""
    harness.setup_world(harness.BASE_CONFIG + "min_uid = 1000\n")
    rc, out, err = ctl("check", "alice", "dave", "carol", "frank", "excl", "grp", "sysacct",
                       "expd", "ldapish", "nosuchuser", "root")
    eq(rc, 1, err)
    got = dict(l.split("\t") for l in out.splitlines()[:-1])
    eq(got, {"alice": "eligible", "dave": "no-address", "carol": "shared-address:erin",
             "frank": "local-only-address", "excl": "excluded", "grp": "excluded",
             "sysacct": "system-account", "expd": "expired", "ldapish": "not-local-shadow",
             "nosuchuser": "no-account,no-address",
             "root": "system-account,excluded,no-address"})
    check(out.splitlines()[-1].startswith("11 users: 1 eligible, 10 cannot reset ("),
          out.splitlines()[-1])
    rc, js, err = ctl_json("check", "carol", "alice", "nosuchuser")
    eq(js["users"][0], {"user": "carol", "uid": th_uid("carol"), "eligible": False,
                        "reasons": ["shared-address:erin"]})
    eq(js["users"][1]["eligible"], True)
    eq(js["users"][2], {"user": "nosuchuser", "uid": None, "eligible": False,
                        "reasons": ["no-account", "no-address"]})
    eq(js["summary"]["reasons"], {"no-account": 1, "no-address": 1, "shared-address": 1})
    eq(ctl("check", "alice")[0], 0, "all eligible")
    # every local account: min_uid <= uid <= UID_MAX of login.defs (so not nobody, 65534)
    rc, js, err = ctl_json("check")
    users = {u["user"] for u in js["users"]}
    check({"alice", "bob", "carol", "dave"} <= users, users)
    check(not users & {"root", "sysacct", "nobody"}, users)
    # pwresetctl takes many accounts a packet (PWR_ITEM_CHECKS); the same as one an item
    rc, singles = S.client(["check"])
    eq([(u["user"], u["uid"], u["eligible"], ",".join(u["reasons"])) for u in js["users"]],
       [(f["user"], int(f["uid"]), f["eligible"] == "1", f["reasons"]) for f in
        (dict(x.split("=", 1) for x in line.split(" ", 1)[1].split(" ")) for line in singles
         if line.startswith("check "))])
    # --json-seq (RFC 7464): the same users, a text each, then the summary; on both transports
    for t in ("socket", "oneshot"):
        rc, out, err = ctl("--json-seq", "check", transport=t)
        eq(rc, 1, err)
        check(out.startswith("\x1e") and out.endswith("\n"), repr(out[:40]))
        texts = [json.loads(r) for r in out.split("\x1e")[1:]]
        check(all(r.endswith("}\n") and r.count("\n") == 1 for r in out.split("\x1e")[1:]),
              "one line a text")
        eq(texts[:-1], js["users"], t)
        eq(texts[-1], {"summary": js["summary"]}, t)
    rc, out, err = ctl("--json-seq", "status")
    eq((rc, out, err), (2, "", "pwresetctl: status: --json-seq does not apply here (see "
                            "pwresetctl status --help)\n"))
    S.write_config(harness.BASE_CONFIG + "self_reset = no\n")
    harness.restart_daemon()
    rc, out, err = ctl("check", "alice")
    eq(out.splitlines()[0], "alice\tdisabled")


def th_uid(user):
    import pwd
    return pwd.getpwnam(user).pw_uid


def test_ctl_tokens_and_revoke():
    """tokens lists self and admin codes with their expiry and tries; revoke voids one."""
    harness.setup_world()
    S.client(["request alice"])
    ctl("reset", "bob")
    S.client(["verify alice ABCDE-FGHJK"])
    rc, out, err = ctl("tokens")
    eq(rc, 0, err)
    lines = out.splitlines()
    check(lines[0].split() == ["USER", "KIND", "ISSUED", "EXPIRES", "TRIES", "LEFT"], lines)
    check(re.match(r"alice +self +\d{4}-\d\d-\d\d \d\d:\d\d \S+ +\d{4}-.* +4$", lines[1]),
          lines)
    check(re.match(r"bob +admin .* +5$", lines[2]), lines)
    rc, js, err = ctl_json("tokens")
    eq([(t["user"], t["kind"], t["failures"], t["tries_left"]) for t in js["tokens"]],
       [("alice", "self", 1, 4), ("bob", "admin", 0, 5)])
    check(js["tokens"][0]["expires"] > js["tokens"][0]["issued"], js)
    eq(ctl("revoke", "alice")[:2], (0, ""))
    rc, js, err = ctl_json("tokens")
    eq([t["user"] for t in js["tokens"]], ["bob"])
    rc, out, err = ctl("revoke", "alice")
    eq(rc, 1)
    one_line_error(err, "revoke twice")
    rc, js, err = ctl_json("revoke", "bob")
    eq(js, {"user": "bob", "revoked": True})
    eq(ctl("tokens")[1], "No pending codes.\n")


def test_ctl_queue():
    """A mail deferred while the SMTP server is down shows as deferred with the reason; once
    the server is up, queue flush sends it at once; queue then shows it sent."""
    port = smtpserver.free_port()
    harness.setup_world(f"smtp_url = smtp://127.0.0.1:{port}\nsmtp_starttls = off\n"
                   "smtp_timeout = 5s\nexclude_users = root\n")
    eq(ctl("queue")[1], "The mail queue is empty.\n")
    S.client(["request alice"])
    deadline = time.time() + 30
    while time.time() < deadline:
        rc, js, err = ctl_json("queue")
        if js["mails"] and js["mails"][0]["state"] == "deferred":
            break
        time.sleep(0.2)
    m = js["mails"][0]
    eq((m["user"], m["to"], m["kind"], m["state"]),
       ("alice", "alice@example.org", "code", "deferred"), m)
    check(m["attempts"] >= 1 and m["next_try"] and m["reply"], m)
    rc, out, err = ctl("queue")
    lines = out.splitlines()
    check(lines[0].split()[:5] == ["ID", "USER", "TO", "KIND", "STATE"], lines)
    check(re.match(r"\d+ +alice +alice@example\.org +code +deferred +\d+ +\d{4}-", lines[1]),
          lines)
    srv = smtpserver.Server(port=port)
    rc, out, err = ctl("queue", "flush")
    eq(rc, 0, err)
    check(out.startswith("1 mail waiting for a retry is due now"), out)
    eq(len(srv.wait_for(1)), 1, "flushed mail delivered")
    deadline = time.time() + 10
    while time.time() < deadline:
        rc, js, err = ctl_json("queue")
        if js["mails"][0]["state"] == "sent":
            break
        time.sleep(0.1)
    eq(js["mails"][0]["state"], "sent")
    check(js["mails"][0]["reply"].startswith("250"), js)
    rc, js, err = ctl_json("queue", "flush", "alice")
    eq(js, {"flushed": 0})
    srv.stop()


def test_ctl_status():
    """status: version, mode, policy and counts, plain and JSON, daemon and one-shot."""
    harness.setup_world(harness.BASE_CONFIG + "admin_group = pwadmin\nhelp_message = Call 4242\n")
    S.client(["request alice"])
    ctl("reset", "--print", "dave")
    rc, out, err = ctl("status")
    eq(rc, 0, err)
    check(re.search(r"^helper: +pwreset-helper \S+, daemon running since", out, re.M), out)
    check("self-service:   on" in out and "Call 4242" in out and "pwadmin" in out, out)
    check("pending codes:  1 self-service, 1 administrator's" in out, out)
    rc, js, err = ctl_json("status")
    eq((js["mode"], js["self_reset"], js["admin_group"], js["help_message"]),
       ("daemon", True, "pwadmin", "Call 4242"))
    eq(js["codes"], {"self": 1, "admin": 1})
    eq(js["addresses"], 12)
    check(js["mail"]["queued"] + js["mail"]["deferred"] + js["mail"]["sent"] +
          js["mail"]["failed"] == 1, js)
    check(js["code_ttl"] == 600 and js["admin_code_ttl"] == 259200 and js["store_bytes"] > 0,
          js)
    eq(js["problems"], [], "a host that can complete resets")
    check("PROBLEM" not in out, out)
    S.stop_daemon()
    rc, js, err = ctl_json("status", transport="oneshot")
    eq(js["mode"], "one-shot")
    rc, out, err = ctl("status", transport="oneshot")
    check("one-shot (no daemon answers at /run/pwreset/none.sock)" in out, out)


COMMANDS = [
    ("reset", "--no-lock", "alice"),
    ("email", "set", "dave", "dave@example.org"),
    ("email", "show", "alice"),
    ("email", "unset", "hank"),
    ("email", "import", "IMPORTFILE"),
    ("email", "export"),
    ("check",),
    ("check", "alice"),
    ("tokens",),
    ("revoke", "bob"),
    ("queue",),
    ("queue", "flush"),
    ("status",),
]


def state():
    """What an administrator's command could change (the courier's own tries aside)."""
    with open("/etc/shadow") as f:
        shadow = f.read()
    mails = [(m["id"], m["user"], m["kind"]) for m in ctl_json("queue")[1]["mails"]]
    return shadow, ctl("email", "export")[1], ctl("--json", "tokens")[1], mails


def test_ctl_permissions():
    """A member of admin_group can run every command; an ordinary user gets exit 3 and a
    one-line refusal for each, on both transports, the helper logs each attempt, and nothing
    changes."""
    harness.setup_world(harness.BASE_CONFIG + "admin_group = pwadmin\n")
    subprocess.run(["usermod", "-aG", "pwadmin", "gina"], check=True)
    path = os.path.join(S.tmp, "import.txt")
    with open(path, "w") as f:
        f.write("dave dave@example.org\n")
    os.chmod(path, 0o644)
    ctl("reset", "bob")
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        before = state()
        for cmd in COMMANDS:
            args = [path if a == "IMPORTFILE" else a for a in cmd]
            rc, out, err = ctl(*args, transport=t, user="alice")
            eq(rc, 3, f"{t}: alice: {cmd}: {out} {err}")
            one_line_error(err, f"{t}: {cmd}")
            check("permission denied" in err, err)
        rc, out, err = ctl("--json", "reset", "bob", transport=t, user="alice")
        eq((rc, out), (3, ""), f"{t}: no half JSON document on a refusal")
        eq(state(), before, f"{t}: nothing changed")
        log = S.syslog()
        check(log.count(f"by={th_uid('alice')} result=refused reason=not-admin") >=
              len(COMMANDS), f"{t}: each refusal logged")
    harness.restart_daemon()
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        ctl("reset", "--no-lock", "bob")
        for cmd in COMMANDS:
            args = [path if a == "IMPORTFILE" else a for a in cmd]
            rc, out, err = ctl(*args, transport=t, user="gina")
            check(rc in (0, 1) and "permission denied" not in err,
                  f"{t}: gina (pwadmin): {cmd}: {rc} {out} {err}")


def test_ctl_admin_group_cannot_reach_root():
    """A member of admin_group (gina) cannot reset, re-address or revoke for root, an
    excluded account (excl, grp in noreset), a system account (sysacct), another member
    (hank) or a member of a group that grants root (opsadmin, in sudo: admin_protected_groups
    by default): exit 3, the rule named, nothing changed, each refusal logged; check shows her
    those two as `protected` and nothing more. She can for alice; root can for all of them.
    --check-config names the protected groups this host lacks."""
    harness.setup_world(harness.BASE_CONFIG + "admin_group = pwadmin\n")  # excludes root, excl, noreset
    for u in ("gina", "hank"):
        subprocess.run(["usermod", "-aG", "pwadmin", u], check=True)
    S.useradd("opsadmin", "-G", "sudo")
    rules = {"root": "its uid is 0", "excl": "it is in exclude_users",
             "grp": "it is in a group of exclude_groups",
             "sysacct": "its uid 500 is below min_uid 1000",
             "hank": "it is a member of admin_group pwadmin",
             "opsadmin": "it is in a group that grants root (admin_protected_groups)"}
    path = os.path.join(S.tmp, "import.txt")
    with open(path, "w") as f:
        f.write("".join(f"{u} {u}@example.org\n" for u in rules))
    os.chmod(path, 0o644)
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        before = state()
        for user, rule in rules.items():
            want = f"only root may act on {user}: {rule}"
            for cmd in (("reset", "--print", user), ("reset", user),
                        ("email", "set", user, "new@example.org"), ("email", "unset", user),
                        ("revoke", user)):
                rc, out, err = ctl(*cmd, transport=t, user="gina")
                eq(rc, 3, f"{t}: {cmd}: {out} {err}")
                check(want in err and "code:" not in out, f"{t}: {cmd}: {out} {err}")
        rc, out, err = ctl("email", "import", path, transport=t, user="gina")
        eq(rc, 1, f"{t}: import: {out} {err}")
        eq(err.count("only root may act on"), len(rules), err)
        eq(state(), before, f"{t}: nothing changed")
        check(S.syslog().count("result=refused reason=root-only-account") >= 5 * len(rules),
              f"{t}: each refusal logged")
        rc, out, err = ctl("reset", "--print", "--no-lock", "alice", transport=t, user="gina")
        eq(rc, 0, f"{t}: gina may reset alice: {err}")
        # what check tells her of them: only that they are protected
        for args in (["opsadmin", "hank", "alice"], []):
            rc, js, err = ctl_json("check", *args, transport=t, user="gina")
            seen = {u["user"]: u for u in js["users"]}
            for user in ("opsadmin", "hank"):
                eq((seen[user]["eligible"], seen[user]["reasons"]), (False, ["protected"]),
                   f"{t}: {args}: {user}")
            eq(seen["alice"]["eligible"], True, t)
        rc, js, err = ctl_json("check", "opsadmin", transport=t)
        eq(js["users"][0]["reasons"], ["no-address"], f"{t}: root is told all")
    rc, out, err = ctl("reset", "--print", "--no-lock", *rules, transport="oneshot")
    eq(rc, 0, f"root may reset them all: {out} {err}")
    p = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    missing = [g for g in ("root", "sudo", "wheel", "admin")
               if subprocess.run(["getent", "group", g], capture_output=True).returncode]
    eq((p.returncode, p.stderr),
       (0, "".join(f"pwreset-helper: warning: admin_protected_groups: no group '{g}' on this "
                   "host\n" for g in missing)))


def test_ctl_reset_many():
    """One pwresetctl reset of 60 users is one request answered with 60 items, more than the
    kernel queues unread where net.unix.max_dgram_qlen is 10: the daemon waits for an
    administrator to read, so every user is reset, on both transports."""
    harness.setup_world()
    with open("/etc/passwd", "a") as pw, open("/etc/shadow", "a") as sh:
        for i in range(60):
            pw.write(f"many{i}:x:{20000 + i}:100::/nonexistent:/bin/sh\n")
            sh.write(f"many{i}:$6$salt$" + "h" * 86 + ":19000:0:99999:7:::\n")
    names = [f"many{i}" for i in range(60)]
    for t in BOTH:
        if t == "oneshot":
            S.stop_daemon()
        rc, js, err = ctl_json("reset", "--print", "--no-lock", *names, transport=t)
        eq(rc, 0, f"{t}: {err}")
        eq(sorted(r["user"] for r in js["results"] if r["ok"]), sorted(names), t)


def test_ctl_unreachable_and_usage():
    """No daemon and no helper to run: exit 4 and a one-line message. Usage errors: exit 2."""
    harness.setup_world()
    S.stop_daemon()
    p = subprocess.run([CTL, "--helper", "/nonexistent/pwreset-helper", "status"],
                       capture_output=True, text=True)
    eq(p.returncode, 4, p.stderr)
    one_line_error(p.stderr, "unreachable")
    check("cannot reach the helper" in p.stderr and "/run/pwreset/helper.sock" in p.stderr,
          p.stderr)
    for args in (["bogus"], ["reset"], ["email"], ["email", "set", "alice"],
                 ["check", "--print"], ["tokens", "extra"], ["reset", "--ttl", "soon", "a"],
                 ["--frobnicate", "status"], ["email", "show", "a", "b"]):
        p = subprocess.run([CTL, *args], capture_output=True, text=True)
        eq(p.returncode, 2, f"{args}: {p.stderr}")
        one_line_error(p.stderr, str(args))
    p = subprocess.run([CTL], capture_output=True, text=True)
    eq(p.returncode, 2)
    p = subprocess.run([CTL, "--version"], capture_output=True, text=True)
    check(p.returncode == 0 and re.fullmatch(r"pwresetctl \S+\n", p.stdout), p.stdout)
    for args in (["--help"], ["reset", "--help"], ["email", "import", "--help"]):
        p = subprocess.run([CTL, *args], capture_output=True, text=True)
        eq(p.returncode, 0, args)
        check(p.stdout.startswith("Usage: pwresetctl"), p.stdout)


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
