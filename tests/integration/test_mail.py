# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of mail: the helper's queue delivered by pwreset-mailer (as mail_user) to
real SMTP servers on loopback (aiosmtpd): plain, STARTTLS, AUTH, refused recipients, a server
that is down, hostile servers, and header injection. Run one case: test_mail.py CASE."""

import email
import email.header
import email.policy
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import test_helper as th  # noqa: E402
from test_helper import BOTH, check, eq  # noqa: E402

S = None


def config(port, extra=""):
    return (f"smtp_url = smtp://localhost:{port}\n"
            "exclude_users = root, excl\nexclude_groups = noreset\n" + extra)


def queue():
    """The queue as the helper lists it: dicts of the mail-item fields."""
    rc, out = S.client(["queue"])
    items = []
    for line in out:
        if line.startswith("mail "):
            head, _, reply = line.partition(" reply=")
            d = dict(f.split("=", 1) for f in head.split()[1:])
            d["reply"] = reply
            items.append(d)
    return items


def wait_queue(pred, timeout=20, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        q = queue()
        if pred(q):
            return q
        time.sleep(0.1)
    raise AssertionError(f"{what}: queue is {queue()}")


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def code_in(msg):
    import re
    m = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", msg.get_content())
    return m.group(1) if m else None


def mailer_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == "pwreset-mailer":
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def test_plain_smtp():
    """A request's code mail arrives at once on both transports, with every header of SPEC §7;
    the code in it verifies; the queue says sent, with the server's reply."""
    srv = smtpserver.Server()
    th.setup_world(config(srv.port, "smtp_starttls = off\n"))
    for n, (t, user) in enumerate(zip(BOTH, ("alice", "bob")), 1):
        t0 = time.time()
        rc, out = S.client([f"request {user} 192.0.2.9 pts/3"], t)
        eq(out, [th.REQUEST_ANSWER], t)
        msgs = srv.wait_for(n)
        eq(len(msgs), n, f"{t}: the mail arrived")
        print(f"{t}: code mail at the server {time.time() - t0:.2f} s after the request")
        mail_from, rcpt, data = msgs[-1]
        eq(rcpt, [f"{user}@example.org"], t)
        check(mail_from.startswith("no-reply@"), mail_from)
        m = parse(data)
        eq(m["To"], f"{user}@example.org")
        check(m["From"].startswith("no-reply@"), m["From"])
        check(f"for {user} on" in m["Subject"], m["Subject"])
        for h in ("Date", "Message-ID"):
            check(m[h], f"{h} present")
        for h in (b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=UTF-8",
                  b"Content-Transfer-Encoding: 7bit", b"Auto-Submitted: auto-generated"):
            check(b"\r\n" + h + b"\r\n" in data, f"{h} in {data[:600]}")
        check(b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b""), "CRLF only")
        body = m.get_content()
        check("192.0.2.9" in body, body)
        code = code_in(m)
        check(code, body)
        rc, out = S.client([f"verify {user} {code}"], t)
        eq(out, ["verify status=0"], f"{t}: the mailed code works")
    q = queue()
    eq([(i["user"], i["kind"], i["state"], i["attempts"]) for i in q],
       [("alice", "1", "2", "1"), ("bob", "1", "2", "1")], "sent, first try")
    check(q[0]["reply"].startswith("250 2.0.0 Ok"), q[0]["reply"])
    log = S.syslog()
    check("event=mail-sent user=alice result=ok" in log, log)
    # the one-shot helper's mail went out without the daemon's help, too
    S.stop_daemon()
    rc, out = S.client(["request alice 192.0.2.9"], "oneshot")
    eq(len(srv.wait_for(3)), 3, "one-shot alone delivers")
    srv.stop()


def main():
    return th.run_case(globals())


if __name__ == "__main__":
    sys.exit(main())
