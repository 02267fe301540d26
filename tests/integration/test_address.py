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
import test_helper as th  # noqa: E402
from test_helper import BOTH, check, eq  # noqa: E402

S = None
ADDRESS = os.environ.get("PWR_ADDRESS", "")
CTL = os.environ.get("PWR_CTL", "")


def world(srv):
    th.setup_world(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                   "exclude_users = root, excl\nexclude_groups = noreset\n"
                   "user_requests_per_hour = 20\nmails_per_minute = 0\n")


def address(*args, user="alice", password=None, transport="socket"):
    """pwreset-address as user; (exit status, stdout, stderr)."""
    argv = [ADDRESS, "--helper", S.helper, *args]
    if transport == "oneshot":
        argv[1:1] = ["--socket", "/run/pwreset/none.sock"]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + argv
    p = subprocess.run(argv, capture_output=True, text=True,
                       input=None if password is None else password + "\n", timeout=60)
    return p.returncode, p.stdout, p.stderr


def last_mail(srv, count):
    msgs = srv.wait_for(count)
    eq(len(msgs), count, "mails at the server")
    _, rcpt, data = msgs[count - 1]
    return rcpt, email.message_from_bytes(data, policy=email.policy.default)


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
    rc, out, err = address("remove", password="Old-password-1")
    eq(rc, 0, err)
    rcpt, msg = last_mail(srv, sent + 1)
    eq(rcpt, ["alice.oneshot@example.org"], "the removed address is told")
    check("removed" in msg["Subject"], msg["Subject"])
    rc, out, err = address()
    eq((rc, out), (0, "none\n"))
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
    # a shared address: the generic words, the reason in the log
    rc, out, err = address("set", "BOB@example.org", password="Old-password-1")
    eq(rc, 1)
    check("cannot be used for password reset" in err, err)
    check("shared-address:bob" in S.log(), S.log()[-2000:])
    eq(len(srv.handler.messages), 0, "nothing mailed")
    srv.stop()


if __name__ == "__main__":
    sys.exit(th.run_case(globals()))
