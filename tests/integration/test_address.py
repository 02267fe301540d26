# SPDX-License-Identifier: BSD-3-Clause
"""pwreset-address (SPEC §11) against a real helper in the sandbox, run as the user whose address
it is, the current password on standard input, the code read from a real SMTP server: set,
confirm, show, remove, on both transports; and its refusals. Run one case: test_address.py CASE."""

import email
import email.policy
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import harness  # noqa: E402
from harness import address, BOTH, check, eq  # noqa: E402

S = None
ADDRESS = os.environ.get("PWR_ADDRESS", "")
CTL = os.environ.get("PWR_CTL", "")


def config(srv, extra="", window=20, mails=0):
    return (f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
            "exclude_users = root, excl\nexclude_groups = noreset\n"
            f"user_requests_per_hour = {window}\nmails_per_minute = {mails}\n" + extra)


def world(srv, extra="", window=20, mails=0):
    harness.setup_world(config(srv, extra, window, mails))


def last_mail(srv, count):
    msgs = srv.wait_for(count)
    eq(len(msgs), count, "mails at the server")
    _, rcpt, data = msgs[count - 1]
    return rcpt, email.message_from_bytes(data, policy=email.policy.default)


def mailed_code(srv, count, to):
    """The confirmation code in the count-th mail, which must have gone to to."""
    rcpt, msg = last_mail(srv, count)
    eq(rcpt, [to], "the code goes to the address being set")
    return re.search(r"confirm ([0-9A-Z]{5}-[0-9A-Z]{5})", msg.get_content()).group(1)


def test_address_set_confirm_remove():
    srv = smtpserver.Server()
    world(srv)
    sent = 0
    for t in BOTH:
        new = f"alice.{t}@example.org"
        rc, out, err = address("set", new, password="Old-password-1", transport=t)
        eq(rc, 0, f"{t}: {err}")
        check(new in out, out)
        sent += 1
        rcpt, msg = last_mail(srv, sent)
        eq(rcpt, [new], "the code goes to the new address")
        code = re.search(r"confirm ([0-9A-Z]{5}-[0-9A-Z]{5})", msg.get_content()).group(1)
        rc, out, err = address("confirm", code.lower(), transport=t)
        eq(rc, 0, f"{t}: {err}")
        sent += 1
        rcpt, msg = last_mail(srv, sent)
        check("replaced" in msg["Subject"], msg["Subject"])
        check(rcpt != [new], "the old address is told")
        check(re.search(r"\(.\*\*\*@example\.org\)", out), f"the old one masked: {out}")
        p = subprocess.run([CTL, "--json", "email", "show", "alice"], capture_output=True,
                           text=True)
        js = json.loads(p.stdout)
        eq((js["address"], js["source"]), (new, "user"), t)
        check(js["confirmed"], js)
        rc, out, err = address("--json", transport=t)
        js = json.loads(out)
        eq((js["address"], js["source"], js["pending"]), (new, "user", None), t)
        rc, out, err = address(transport=t)
        check(re.fullmatch(rf"{re.escape(new)}\nset by:    you \(confirmed \d{{4}}-\d\d-\d\d "
                           r"\d\d:\d\d[^\n]*\)\n", out), out)
    rc, out, err = address("remove", password="Old-password-1")
    eq(rc, 0, err)
    rcpt, msg = last_mail(srv, sent + 1)
    eq(rcpt, ["alice.oneshot@example.org"], "the removed address is told")
    check("removed" in msg["Subject"], msg["Subject"])
    rc, out, err = address()
    eq((rc, out), (0, "none\n"))
    srv.stop()


def test_address_language():
    """SPEC §13: a user chooses the language of their own mail, with no password, on both
    transports; it shows in pwreset-address and in pwresetctl email show; with set
    --language the confirmation mail is in it already; default forgets it; a name that is not
    a language is refused in one line; each choice counts toward the hourly window."""
    srv = smtpserver.Server()
    world(srv, window=5)
    for t in BOTH:
        rc, out, err = address("language", "de", transport=t)
        eq((rc, out, err), (0, "Your mail will be written in de.\n", ""), t)
        eq(json.loads(address("--json", transport=t)[1])["language"], "de", t)
        check("language:  de\n" in address(transport=t)[1], t)
        p = subprocess.run([CTL, "--json", "email", "show", "alice"], capture_output=True,
                           text=True)
        eq(json.loads(p.stdout)["language"], "de", t)
    rc, out, err = address("--language", "ja", "set", "alice.ja@example.org",
                           password="Old-password-1")
    eq(rc, 0, err)
    rcpt, msg = last_mail(srv, 1)
    check("回復用アドレスの確認" in msg["Subject"], f"in Japanese: {msg['Subject']}")
    for bad in ("../de", "de ja"):
        for args in (("language", bad), ("--language", bad, "set", "alice.x@example.org")):
            rc, out, err = address(*args, password="Old-password-1")
            eq((rc, out), (1, ""), args)
            eq(err.count("\n"), 1, err)
            check("is not a language name" in err, err)
    rc, out, err = address("language", "default")
    eq((rc, out), (0, "Your mail will be written in this host's language.\n"), err)
    eq(json.loads(address("--json")[1])["language"], None, "default")
    eq(address("language", "de")[0], 0, "the fifth change this hour")
    rc, out, err = address("language", "ja")  # the sixth: past user_requests_per_hour = 5
    eq(rc, 1, out)
    check("Too many requests" in err, err)
    srv.stop()


def columns(text):
    """The columns a terminal gives text: East Asian wide and full-width characters two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_address_in_the_callers_language():
    """SPEC §13: pwreset-address and pwresetctl speak the caller's locale (Japanese, German),
    the helper's answers included; LANGUAGE first, as gettext has it; --json the same in every
    language; English in the C locale and in a locale that is not generated. pwresetctl
    status lines its values up on a terminal in Japanese too."""
    srv = smtpserver.Server()
    world(srv)
    ja, de = harness.locale("ja_JP.UTF-8"), harness.locale("de_DE.UTF-8")
    for t in BOTH:
        eq(address("language", "de", env=ja, transport=t),
           (0, "メールは de で作成されます。\n", ""), t)
        rc, out, err = address("set", "x@example.org", password="wrong", env=ja, transport=t)
        eq((rc, out, err), (1, "", "pwreset-address: 現在のパスワードが正しくありません。\n"), t)
    rc, out, err = address(env=ja)
    check("設定者:    管理者\n" in out and "言語:      de\n" in out, out)
    eq(address("--json", env=ja), address("--json"), "--json is the same in Japanese")
    rc, out, err = address("--help", env=ja)
    check(out.startswith("使い方: pwreset-address [--json]") and "回復用アドレス" in out, out)
    rc, out, err = address("set", "alice.de@example.org", password="Old-password-1", env=de)
    eq((rc, out), (0, "Ein Bestätigungscode wurde an alice.de@example.org gesendet. Er läuft in "
                      "10 Minuten ab.\n"), err)
    rc, out, err = address("confirm", "nonsense", env=de)
    eq((rc, err), (1, "pwreset-address: Das ist kein Code.\n"))
    # LANGUAGE before the locale's own, as gettext; not in the C locale, not without UTF-8
    eq(address("language", "default", env=dict(de, LANGUAGE="ja"))[1],
       "メールはこのホストの言語で作成されます。\n")
    eq(address("language", "default", env={"LANGUAGE": "ja"})[1],
       "Your mail will be written in this host's language.\n")
    eq(address("language", "default", env={"LC_ALL": "ja_JP.UTF-8"})[1],
       "Your mail will be written in this host's language.\n", "a locale not generated")
    # pwresetctl, as root: its own texts and the helper's counts
    env = dict(os.environ, **ja)
    p = subprocess.run([CTL, "status"], capture_output=True, text=True, env=env)
    eq(p.returncode, 0, p.stderr)
    lines = p.stdout.splitlines()
    check(lines[1].startswith("セルフサービス:") and lines[1].endswith("オン"), lines)
    for line in lines:
        label, value = line.split(":", 1)
        eq(columns(label) + 1 + len(value) - len(value.lstrip(" ")),
           max(16, columns(label) + 2), f"aligned: {line!r}")
    p = subprocess.run([CTL, "check", "alice"], capture_output=True, text=True,
                       env=dict(os.environ, **de))
    eq(p.stdout.splitlines()[-1], "1 Benutzer: 1 berechtigt, 0 können nicht zurücksetzen")
    p = subprocess.run([CTL, "frobnicate"], capture_output=True, text=True, env=env)
    eq((p.returncode, p.stderr), (2, "pwresetctl: 不明なコマンド「frobnicate」（pwresetctl --help "
                                     "を参照）\n"))
    plain = subprocess.run([CTL, "--json", "status"], capture_output=True, text=True).stdout
    p = subprocess.run([CTL, "--json", "status"], capture_output=True, text=True, env=env)
    eq(re.sub(r'"started":"[^"]*"', "", p.stdout), re.sub(r'"started":"[^"]*"', "", plain),
       "--json is the same in Japanese")
    srv.stop()


def test_address_refusals():
    srv = smtpserver.Server()
    world(srv)
    rc, out, err = address("set", "x@example.org", password="wrong")
    eq(rc, 1, err)
    check("current password is not right" in err, err)
    check("event=address-set-requested user=alice" in S.log() and "wrong-password" in S.log(),
          S.log()[-2000:])
    # header injection and over-long input, refused like email set (before the helper)
    for bad in ("a@b.org\r\nBcc: e@x.org", "a@" + "b" * 300 + ".org"):
        rc, out, err = address("set", bad, password="Old-password-1")
        eq(rc, 2, err)
    # another user's address only for root
    rc, out, err = address("--user", "bob")
    eq(rc, 2, err)
    check(err.startswith("pwreset-address: ") and err.count("\n") == 1, err)
    rc, out, err = address("--user", "bob", user=None)
    eq(rc, 0, err)
    srv.stop()


def test_address_taken_told_at_confirm():
    """The review's reproduction (SPEC §11): `set` of an address another account has (bob's)
    answers as `set` of a fresh one, and mails the code there; only `confirm`, once the code
    shows the mailbox is alice's, refuses it, in the generic words, the reason in the log;
    alice's address is unchanged. Confirmation mails count in mails_per_minute."""
    srv = smtpserver.Server()
    world(srv, mails=3)
    answers = []
    for n, addr in enumerate(("alice.fresh@example.org", "BOB@example.org")):
        rc, out, err = address("set", addr, password="Old-password-1")
        eq(rc, 0, err)
        answers.append(out.replace(addr, "ADDR"))
        code = mailed_code(srv, n + 1, addr)
    eq(answers[0], answers[1], "the same answer for a fresh and a taken address")
    check(not re.search(r"event=address-set-requested user=alice .*shared-address", S.log()),
          "set does not even log it")
    rc, out, err = address("confirm", code)
    eq((rc, err), (1, "pwreset-address: This address cannot be used for password reset.\n"))
    check(re.search(r"event=address-confirmed user=alice .*shared-address:bob", S.log()),
          S.log()[-2000:])
    rc, out, err = address("--json")
    eq(json.loads(out)["address"], "alice@example.org", "unchanged")
    # the host's window of mails: two sets so far and one more, then refused
    rc, out, err = address("set", "alice.third@example.org", password="Old-password-1")
    eq(rc, 0, err)
    rc, out, err = address("set", "alice.fourth@example.org", password="Old-password-1")
    eq((rc, err), (1, "pwreset-address: Too many mails are being sent from this host; try "
                      "again in a minute.\n"))
    check(re.search(r"event=address-set-requested user=alice .*rate-limit-host", S.log()),
          S.log()[-2000:])
    eq(len(srv.wait_for(3)), 3, "three mails, not four")
    srv.stop()


def test_address_codes_are_bound():
    """A code confirms only the account and the address it was mailed for: not another
    account's pending address, and not once a newer set replaced its address."""
    srv = smtpserver.Server()
    world(srv)
    rc, out, err = address("set", "alice.a@example.org", password="Old-password-1")
    eq(rc, 0, err)
    code_a = mailed_code(srv, 1, "alice.a@example.org")
    rc, out, err = address("set", "bob.b@example.org", user="bob", password="Old-password-1")
    eq(rc, 0, err)
    code_b = mailed_code(srv, 2, "bob.b@example.org")
    rc, out, err = address("confirm", code_a, user="bob")
    eq(rc, 1, f"alice's code for bob: {err}")
    check("not valid" in err, err)
    rc, out, err = address("set", "alice.c@example.org", password="Old-password-1")
    eq(rc, 0, err)
    code_c = mailed_code(srv, 3, "alice.c@example.org")
    rc, out, err = address("confirm", code_a)
    eq(rc, 1, f"a code voided by a newer set: {err}")
    rc, out, err = address("--json")
    js = json.loads(out)
    eq((js["address"], js["pending"]), ("alice@example.org", "alice.c@example.org"),
       "nothing changed yet")
    rc, out, err = address("confirm", code_c)
    eq(rc, 0, err)
    rc, out, err = address("confirm", code_b, user="bob")
    eq(rc, 0, err)
    for user, want in (("alice", "alice.c@example.org"), ("bob", "bob.b@example.org")):
        rc, out, err = address("--json", user=user)
        eq(json.loads(out)["address"], want, user)
    srv.stop()


def test_address_window_and_policy():
    """Wrong current passwords are refused, logged and counted: once the account's request
    window is used up even the right one is refused, and nothing is mailed. A host-only
    address is refused in the generic words, the log naming why. With user_addresses = no,
    set, confirm and remove are refused with the administrators' words, on both transports."""
    srv = smtpserver.Server()
    world(srv, window=3)
    for n in range(3):
        rc, out, err = address("set", "alice.new@example.org", password=f"Wrong-{n}")
        eq((rc, err), (1, "pwreset-address: The current password is not right.\n"))
    eq(S.log().count("event=address-set-requested user=alice"), 3, "each one logged")
    rc, out, err = address("set", "alice.new@example.org", password="Old-password-1")
    eq(rc, 1, err)
    check("Too many requests" in err, err)
    check("rate-limit" in S.log(), S.log()[-2000:])
    rc, out, err = address("set", "bob@localhost", user="bob", password="Old-password-1")
    eq((rc, err), (1, "pwreset-address: This address cannot be used for password reset.\n"))
    check(re.search(r"event=address-set-requested user=bob .*local-only-address", S.log()),
          S.log()[-2000:])
    eq(len(srv.handler.messages), 0, "nothing mailed")
    S.write_config(config(srv, "user_addresses = no\n"
                                "help_message = Write to it-desk@example.org.\n"))
    S.stop_daemon()
    S.start_daemon()
    refusal = ("pwreset-address: Recovery addresses are set by your administrator. "
               "Write to it-desk@example.org.\n")
    for t in BOTH:
        for args, pw in ((("set", "bob.new@example.org"), "Old-password-1"),
                         (("confirm", "ABCDE-12345"), None), (("remove",), "Old-password-1")):
            rc, out, err = address(*args, user="bob", password=pw, transport=t)
            eq((rc, err), (1, refusal), f"{t} {args[0]}")
    rc, out, err = address(user="bob")
    eq((rc, out), (0, "bob@example.org\nset by:    your administrator\n"), "show still works")
    eq(len(srv.handler.messages), 0, "nothing mailed")
    srv.stop()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
