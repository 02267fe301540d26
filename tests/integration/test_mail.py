# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of mail: the helper's queue delivered by pwreset-mailer (as mail_user) to
real SMTP servers on loopback (aiosmtpd): plain, STARTTLS, AUTH, refused recipients, a server
that is down, hostile servers, and header injection. Run one case: test_mail.py CASE."""

import email
import email.header
import email.policy
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import harness  # noqa: E402
from harness import BOTH, check, eq  # noqa: E402

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


def test_plain_smtp():
    """A request's code mail arrives at once on both transports, with every header of SPEC §7;
    the code in it verifies; the queue says sent, with the server's reply."""
    srv = smtpserver.Server()
    harness.setup_world(config(srv.port, "smtp_starttls = off\n"))
    for n, (t, user) in enumerate(zip(BOTH, ("alice", "bob")), 1):
        t0 = time.time()
        rc, out = S.client([f"request {user} 192.0.2.9 pts/3"], t)
        eq(out, [harness.REQUEST_ANSWER], t)
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


def raw_email_set(user, addr):
    return harness.packet(16, harness.pack_str(user) + harness.pack_str(addr)).hex()


def raw_request(user, rhost, tty="pts/1"):
    return harness.packet(2, harness.pack_str(user) + harness.pack_str(rhost) + harness.pack_str(tty) +
                     harness.pack_str("sshd")).hex()


def headers_of(data):
    return data[:data.index(b"\r\n\r\n")].split(b"\r\n")


def request_and_settle(user, timeout=20):
    """Ask for a code for user and wait until the helper has tried to mail it once."""
    S.client([f"request {user}"])
    return wait_queue(lambda q: any(i["user"] == user and i["attempts"] != "0" for i in q),
                      timeout, f"a try for {user}")


def test_mail_in_the_hosts_language():
    """SPEC §13: with mail_language = ja the code mail comes from templates_dir/ja/: its
    Subject decodes (RFC 2047) to Japanese, its body is UTF-8 in base64 (which every server
    takes) and decodes to Japanese holding the code, which works; every line of the message
    is within 78 characters. With de, the German templates; a request without a remote host
    says so in the mail's language. Without either key, English as before. An account whose
    language is de (pwresetctl email language) gets German mail on the Japanese host."""
    srv = smtpserver.Server()
    harness.setup_world(config(srv.port, "smtp_starttls = off\nmail_language = ja\n"))
    base = open("/etc/pwreset/pwreset.conf").read().replace("mail_language = ja\n", "")
    sent = 0
    for lang, subject, words in (("ja", "パスワードリセットコード", "一度だけ有効です"),
                                 ("de", "Ihr Rücksetzcode", "Der Code gilt bis"),
                                 ("", "Your password reset code", "only once")):
        S.write_config(base + (f"mail_language = {lang}\n" if lang else ""))
        harness.restart_daemon()
        rc, out = S.client(["request alice"])
        sent += 1
        data = srv.wait_for(sent)[-1][2]
        for line in data.split(b"\r\n"):
            check(len(line) <= 78, f"{lang}: a line of {len(line)} bytes: {line[:90]!r}")
        m = parse(data)
        check(subject in str(m["Subject"]), f"{lang}: {m['Subject']}")
        cte = "base64" if lang else "7bit"
        check(b"\r\nContent-Transfer-Encoding: " + cte.encode() + b"\r\n" in data, data[:600])
        body = m.get_content()
        check(words in body, body)
        if lang:
            check(re.search("[^\x00-\x7f]", m["Subject"]) and "Hello" not in body, body)
        local = {"ja": "ローカル端末", "de": "einem lokalen Terminal",
                 "": "a local terminal"}[lang]
        check(local in body, f"{lang}: {body}")
        code = code_in(m)
        rc, out = S.client([f"verify alice {code}"])
        eq(out, ["verify status=0"], f"{lang}: the mailed code works")
        if lang == "ja":
            p = subprocess.run([os.environ["PWR_CTL"], "email", "language", "bob", "de"],
                               capture_output=True, text=True)
            eq(p.returncode, 0, p.stderr)
            S.client(["request bob"])
            sent += 1
            m = parse(srv.wait_for(sent)[-1][2])
            check("Ihr Rücksetzcode" in str(m["Subject"]) and "Der Code gilt bis" in
                  m.get_content(), f"bob's mail: {m['Subject']}")
    srv.stop()


def test_starttls():
    """smtp_starttls = required: mail goes out over TLS with the right smtp_ca_file; without it
    the certificate is not trusted and nothing is sent; a server without STARTTLS gets no mail
    at all, not even MAIL FROM."""
    ca, cert, key = smtpserver.make_ca(S.tmp)
    srv = smtpserver.Server(tls=(cert, key), require_tls=True)
    harness.setup_world(config(srv.port, "smtp_starttls = required\nsmtp_ca_file = " + ca + "\n"))
    q = request_and_settle("alice")
    eq(len(srv.wait_for(1)), 1, f"delivered over STARTTLS: {q}")
    eq(q[0]["state"], "2")
    # the same server, but no CA that vouches for it: refused by us, nothing sent
    S.write_config(config(srv.port, "smtp_starttls = required\n"))
    harness.restart_daemon()
    q = request_and_settle("bob")
    eq(len(srv.messages), 1, "nothing sent to an unverified server")
    bob = [i for i in q if i["user"] == "bob"][0]
    eq(bob["state"], "3", "deferred")
    check("certificate" in bob["reply"].lower() or "ssl" in bob["reply"].lower(), bob["reply"])
    srv.stop()
    # a server that does not offer STARTTLS: not a byte of mail in clear text
    plain = smtpserver.Server()
    S.write_config(config(plain.port, "smtp_starttls = required\nsmtp_ca_file = " + ca + "\n"))
    harness.restart_daemon()
    q = request_and_settle("gina")
    gina = [i for i in q if i["user"] == "gina"][0]
    eq(gina["state"], "3", "deferred")
    check("does not offer STARTTLS" in gina["reply"], gina["reply"])
    eq(plain.handler.mail_from_seen, 0, "the server never saw MAIL FROM")
    eq(plain.messages, [], "nothing sent")
    plain.stop()


def test_auth():
    """AUTH with smtp_user and the password from smtp_password_file (root's, 0600): accepted;
    a wrong password or a file others can read: deferred, with the reason in the queue."""
    srv = smtpserver.Server(auth={"mailer": "s3cret pass"})
    pwfile = "/etc/pwreset/smtp-password"
    with open(pwfile, "w") as f:
        f.write("s3cret pass\n")
    os.chmod(pwfile, 0o600)
    harness.setup_world(config(srv.port, "smtp_starttls = off\nsmtp_user = mailer\n"
                          f"smtp_password_file = {pwfile}\n"))
    request_and_settle("alice")
    eq(len(srv.wait_for(1)), 1, "delivered with AUTH")
    with open(pwfile, "w") as f:
        f.write("wrong\n")
    q = request_and_settle("bob")
    bob = [i for i in q if i["user"] == "bob"][0]
    eq((bob["state"], len(srv.messages)), ("3", 1), "a wrong password: deferred, not sent")
    check(bob["reply"].startswith("535"), bob["reply"])
    os.chmod(pwfile, 0o644)
    q = request_and_settle("gina")
    gina = [i for i in q if i["user"] == "gina"][0]
    eq(gina["state"], "3")
    check("only root can read" in gina["reply"], gina["reply"])
    check("s3cret" not in S.syslog() and "wrong" not in S.log(), "no password in any log")
    srv.stop()


def test_recipient_refused():
    """A 5xx to the recipient is final: the mail is failed, the server's reply in the queue."""
    srv = smtpserver.Server(refuse=["bob@example.org"])
    harness.setup_world(config(srv.port, "smtp_starttls = off\n"))
    q = request_and_settle("bob")
    eq(q[0]["state"], "4", "failed")
    check(q[0]["reply"].startswith("550 5.1.1 <bob@example.org>: no such mailbox"), q[0]["reply"])
    S.client(["queue-flush"])
    time.sleep(0.5)
    eq(queue()[0]["attempts"], "1", "not retried")
    check("event=mail-failed user=bob result=fail" in S.syslog(), "logged")
    srv.stop()


def test_server_down_then_back():
    """20 mails queued while the server is down, the daemon restarted meanwhile: once the
    server is back every mail arrives, each exactly once."""
    port = smtpserver.free_port()
    harness.setup_world(config(port, "smtp_starttls = off\n"))
    users = [f"m{i}" for i in range(20)]
    for u in users:
        S.useradd(u)
    rc, out = S.client([f"email-set {u} {u}@example.org" for u in users])
    out = S.client(["reset nolock 0 " + " ".join(users[:10])])[1]
    out += S.client(["reset nolock 0 " + " ".join(users[10:])])[1]
    eq(sum(1 for l in out if l.startswith("reset ") and "mailed=1" in l), 20, out)
    q = wait_queue(lambda q: len(q) == 20 and all(i["state"] == "3" for i in q), 30,
                   "all deferred")
    check(all("refused" in i["reply"].lower() or "connect" in i["reply"].lower() for i in q),
          q[0]["reply"])
    harness.restart_daemon()
    srv = smtpserver.Server(port=port)
    rc, out = S.client(["queue-flush"])
    check(out[-1].startswith("done status=0 count=20"), out)
    msgs = srv.wait_for(20, 30)
    time.sleep(1)
    S.client(["queue-flush"])
    time.sleep(1)
    got = sorted(r[0] for _, r, _ in srv.messages)
    eq(got, sorted(f"{u}@example.org" for u in users), "each exactly once")
    q = queue()
    eq(sorted({i["state"] for i in q}), ["2"], "all sent")
    srv.stop()


def test_hostile_servers():
    """Garbage replies, an endless line, a server that says nothing: each delivery fails
    within smtp_timeout (3 s here) and the daemon keeps answering meanwhile."""
    for mode in ("garbage", "endless", "stall"):
        bad = smtpserver.Hostile(mode)
        if S.daemon:
            S.stop_daemon()
        S.write_config(config(bad.port, "smtp_starttls = off\nsmtp_timeout = 3s\n"))
        if mode == "garbage":
            harness.setup_world(config(bad.port, "smtp_starttls = off\nsmtp_timeout = 3s\n"))
        else:
            S.start_daemon()
        user = {"garbage": "alice", "endless": "bob", "stall": "gina"}[mode]
        t0 = time.time()
        S.client([f"request {user}"])
        # while the mailer struggles, the daemon answers at once
        time.sleep(0.5)
        t1 = time.time()
        rc, out = S.client(["offer alice"])
        answer = time.time() - t1
        check(out and out[0].startswith("offer status=0"), out)
        check(answer < 1.0, f"{mode}: an offer took {answer:.2f} s")
        q = wait_queue(lambda q: any(i["user"] == user and i["attempts"] == "1" for i in q),
                       25, f"{mode}: the try ended")
        took = time.time() - t0
        it = [i for i in q if i["user"] == user][0]
        eq(it["state"], "3", f"{mode}: deferred")
        check(took < 3 + 15 + 2, f"{mode}: ended after {took:.1f} s")
        print(f"{mode}: delivery ended after {took:.1f} s ({it['reply'][:80]}); "
              f"an offer meanwhile took {answer * 1000:.0f} ms")
        check(bad.connections >= 1, "the server was reached")
        bad.stop()


def test_header_injection():
    """CR/LF through the address, the remote host or a template never makes a header: the
    helper refuses the address, the request's remote host, the broken template; the mailer
    refuses a job that would still carry one. The server shows what it received."""
    srv = smtpserver.Server()
    harness.setup_world(config(srv.port, "smtp_starttls = off\n"))
    # the address: refused when it is registered (the wire carries any byte but NUL)
    rc, out = S.client(["raw " + raw_email_set("alice", "a@example.org\r\nBcc: evil@x.org")])
    check(out and out[0] == "error status=6 text=the address holds a control character", out)
    # a remote host with CR/LF (from reverse DNS, say): the request is answered as always and
    # the mail goes out with the control bytes made '?', in the body only
    # a user name with CR/LF: the uniform answer, and nothing queued (no such account)
    rc, out = S.client(["raw " + raw_request("alice\r\nBcc: evil@x.org", "h")])
    eq(out, [harness.REQUEST_ANSWER])
    eq(queue(), [], "nothing queued for it")
    rc, out = S.client(["raw " + raw_request("bob", "h\r\nBcc: evil@x.org", "t\ty")])
    eq(out, [harness.REQUEST_ANSWER])
    msgs = srv.wait_for(1)
    check(b"h??Bcc: evil@x.org" in msgs[0][2], msgs[0][2])
    check(not any(h.lower().startswith(b"bcc") for h in headers_of(msgs[0][2])), msgs[0][2])
    eq(msgs[0][1], ["bob@example.org"], "one recipient")
    check('rhost="h??Bcc: evil@x.org"' in S.syslog(), "the log line is one line too")
    # a template with a header line in its subject
    with open("/etc/pwreset/mail/code.txt", "w") as f:
        f.write("Subject: Code {user}\nBcc: evil@x.org\n\n{code}\n")
    q = request_and_settle("alice")
    a = [i for i in q if i["user"] == "alice"][0]
    eq(a["state"], "3", "deferred, not sent")
    check("line 2 must be empty" in a["reply"], a["reply"])
    with open("/etc/pwreset/mail/code.txt", "w") as f:
        f.write("Subject: Code for {user} from {rhost}\n\n{code}\n")
    S.client(["queue-flush"])
    srv.wait_for(2)
    eq([r for _, r, _ in srv.messages], [["bob@example.org"], ["alice@example.org"]])
    for _, rcpt, data in srv.messages:
        check(not any(h.lower().startswith(b"bcc") for h in headers_of(data)), data)
    for _, _, data in srv.messages:
        print("the server received:", headers_of(data))
    srv.stop()


def mailer_job(url, to, data, frm="no-reply@example.org"):
    """A job in the helper-mailer codec (helper/mailproto.h), written out independently."""
    def s(x):
        x = x.encode() if isinstance(x, str) else x
        return struct.pack("<I", len(x)) + x + b"\0"
    return (struct.pack("<IIII", 0x50574D31, 0, 2, 5) + s(url) + s("") + s("") + s("") + s(frm) +
            s(to) + s(data))


def test_mailer_refuses_injection():
    """The mailer itself, handed jobs that would inject (as if the helper had been fooled):
    CR/LF in the envelope, a header line without a colon, a bare LF, a control byte in a
    header. Each is refused before libcurl connects; the server sees nothing."""
    srv = smtpserver.Server()
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    mailer = subprocess.Popen(["setpriv", "--reuid=pwreset", "--regid=pwreset",
                               "--clear-groups", "/usr/libexec/pwreset/pwreset-mailer"],
                              stdin=b, env={})
    b.close()
    url = f"smtp://127.0.0.1:{srv.port}"
    good = "From: a@example.org\r\nTo: c@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    bad = [
        ("c@example.org\r\nRCPT TO:<evil@x.org>", good),
        ("c@example.org>\r\nDATA", good),
        ("c@example.org", "Subject: x\r\nBcc evil@x.org\r\n\r\nbody\r\n"),
        ("c@example.org", "Subject: x\nBcc: evil@x.org\r\n\r\nbody\r\n"),
        ("c@example.org", "Subject: x\x1b[2J\r\n\r\nbody\r\n"),
        ("c@example.org", "Subject: x\r\n\r\nbody\rBcc: evil@x.org\r\n"),
        ("c@example.org", "Subject: x\r\nbody without the empty line\r\n"),
    ]
    a.settimeout(20)
    for to, data in bad:
        a.send(mailer_job(url, to, data))
        ans = a.recv(1024)
        outcome = struct.unpack("<I", ans[8:12])[0]
        reply = ans[20:-1].decode()
        eq(outcome, 2, f"{to!r} / {data!r}: refused for good")
        check(reply.startswith("refused:"), reply)
        print(f"mailer: {reply}")
    eq(srv.handler.mail_from_seen, 0, "the server never saw MAIL FROM")
    a.send(mailer_job(url, "c@example.org", good))
    ans = a.recv(1024)
    eq(struct.unpack("<I", ans[8:12])[0], 0, "a clean job is sent")
    eq(len(srv.wait_for(1)), 1)
    a.close()
    mailer.wait(timeout=10)
    srv.stop()


def test_mailer_confined():
    """The mailer the daemon started runs as mail_user: no root ids, no groups, no
    capabilities, no new privileges, an empty environment, no fd of the helper's but its
    socket; as that user the store, the server key and /etc/shadow cannot be read; the helper
    itself links no libcurl and no TLS library."""
    srv = smtpserver.Server()
    harness.setup_world(config(srv.port, "smtp_starttls = off\n"))
    request_and_settle("alice")
    pids = harness.child_pids("pwreset-mailer", S.daemon.pid)
    eq(len(pids), 1, "one mailer, kept for the next mail")
    pw = subprocess.run(["getent", "passwd", "pwreset"], capture_output=True, text=True).stdout
    eq(pw.split(":")[5:], ["/nonexistent", "/usr/sbin/nologin\n"], "made by our sysusers.d file")
    pid = pids[0]
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines())
    uid = subprocess.run(["id", "-u", "pwreset"], capture_output=True, text=True).stdout.strip()
    gid = subprocess.run(["id", "-g", "pwreset"], capture_output=True, text=True).stdout.strip()
    eq(status["Uid"].split(), [uid] * 4)
    eq(status["Gid"].split(), [gid] * 4)
    eq(status["Groups"].strip(), "")
    eq(status["CapEff"].strip(), "0000000000000000")
    eq(status["CapPrm"].strip(), "0000000000000000")
    eq(status["NoNewPrivs"].strip(), "1")
    eq(open(f"/proc/{pid}/environ", "rb").read(), b"", "empty environment")
    fds = {int(f): os.readlink(f"/proc/{pid}/fd/{f}") for f in os.listdir(f"/proc/{pid}/fd")}
    check(fds[0].startswith("socket:"), fds)
    eq(fds[1], "/dev/null")
    eq(fds[2], "/dev/null")
    others = [t for f, t in fds.items() if f > 2 and not t.startswith(("socket:", "anon_inode:"))]
    eq(others, [], "no file of the helper's is open in the mailer")
    # what mail_user may read: none of the secrets
    for path in ("/var/lib/pwreset/server.key", "/var/lib/pwreset/data.mdb", "/etc/shadow",
                 "/etc/pwreset/pwreset.conf"):
        p = subprocess.run(["setpriv", "--reuid=pwreset", "--regid=pwreset", "--clear-groups",
                            "cat", path], capture_output=True, text=True)
        check(p.returncode != 0 and "Permission denied" in p.stderr, f"{path}: {p.stderr}")
    ldd = subprocess.run(["ldd", os.environ["PWR_HELPER"]], capture_output=True,
                         text=True).stdout
    for lib in ("libcurl", "libssl", "libcrypto", "libgnutls", "libnss3"):
        check(lib not in ldd, f"the helper links {lib}")
    ldd = subprocess.run(["ldd", os.environ["PWR_MAILER"]], capture_output=True,
                         text=True).stdout
    check("libcurl" in ldd, "the mailer does")
    # not dumpable: its /proc files are root's, so another process of mail_user cannot read
    # or trace it
    eq(os.stat(f"/proc/{pid}/environ").st_uid, 0, "the mailer is not dumpable")
    p = subprocess.run(["setpriv", "--reuid=pwreset", "--regid=pwreset", "--clear-groups",
                        "cat", f"/proc/{pid}/environ"], capture_output=True, text=True)
    check(p.returncode != 0, f"mail_user cannot read the mailer's /proc: {p.stderr}")
    # it ends with the helper, even one that is killed
    S.daemon.kill()
    S.daemon.wait(timeout=10)
    S.daemon = None
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.05)
    check(not os.path.exists(f"/proc/{pid}/status") or
          "zombie" in open(f"/proc/{pid}/status").read(), "the mailer died with the helper")
    srv.stop()


def main():
    return harness.run_case(globals())


if __name__ == "__main__":
    sys.exit(main())
