# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of pwreset-helper: a real helper, reached through both transports (the
daemon's socket and the setuid one-shot mode), real accounts made with useradd, a real store,
all inside the sandbox of sandbox.py. Run one case: test_helper.py CASE."""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (  # noqa: E402
    BASE_CONFIG,
    BOTH,
    check,
    code_for,
    eq,
    offer_packet,
    pack_str,
    packet,
    REQUEST_ANSWER,
    restart_daemon,
    setup_world,
    uid,
    wrong_code)

S = None  # the Sandbox


# ---- a minimal codec for the raw tests (the real one is tested in unit/test_wire.c) ----


# ---------------------------------------------------------------- the cases

def test_offer_both_transports():
    setup_world()
    for t in BOTH:
        rc, out = S.client(["offer alice", "offer nosuchuser"], t)
        eq(rc, 0, t)
        check(out[0].startswith("offer status=0 enabled=1 ttl=600 help="), out)
        eq(out[1], out[0], f"{t}: an unknown user is offered the same")


def test_request_uniform_and_queued():
    setup_world()
    users = ["alice", "dave", "carol", "frank", "excl", "grp", "sysacct", "expd", "ldapish",
             "nosuchuser", "root"]
    for t in BOTH:
        rc, out = S.client([f"request {u} 192.0.2.{i}" for i, u in enumerate(users)], t)
        eq(rc, 0)
        eq(out, [REQUEST_ANSWER] * len(users), f"{t}: every request gets the same answer")
    mails = S.mails()
    eq(sorted(m["user"] for m in mails), ["alice", "alice"], "only the eligible user gets mail")
    eq(mails[0]["to"], "alice@example.org")
    # queued, or deferred already: no SMTP server listens in these tests
    check(all(m["kind"] == "1" and m["state"] in ("1", "3") for m in mails), mails)
    check(mails[0]["code"] != mails[1]["code"], "each request makes a new code")
    log = S.log()
    for reason in ("no-address", "shared-address:erin", "local-only-address", "excluded",
                   "system-account", "expired", "not-local-shadow", "no-account"):
        check(f"reason={reason}" in log, f"refusal {reason} logged")
    check("event=request user=alice rhost=192.0.2.0 tty=pts/9 by=0 result=ok" in log, log)


def test_verify_flow():
    setup_world()
    rc, out = S.client(["request alice"], "oneshot")
    code = code_for("alice")
    wrong = wrong_code(code)
    rc, out = S.client([
        f"verify alice {wrong}",
        f"verify bob {code}",          # another user's code
        "verify alice reset",          # cannot be a code: no attempt counted
        "verify alice ABCDE-FGHJU",
        f"verify alice {code.lower().replace('-', '')}",
    ], "socket")
    eq(out, ["verify status=7", "verify status=7", "verify status=8", "verify status=8",
             "verify status=0"])
    rc, out = S.client(["tokens"])
    eq(out[0], "token user=alice kind=1 failures=1 tries_left=4 ttl=600", "one failure counted")
    # a new request replaces the code
    S.client(["request alice"], "oneshot")
    new = code_for("alice")
    rc, out = S.client([f"verify alice {code}", f"verify alice {new}"])
    eq(out, ["verify status=7", "verify status=0"])
    # revoked: dead
    rc, out = S.client(["revoke alice", f"verify alice {new}", "revoke alice"])
    eq(out[0], "done status=0 count=1 more=0 next=0 text=")
    eq(out[1], "verify status=7")
    check(out[2].startswith("error status=5"), out)
    log = S.syslog()
    check("event=verify user=alice" in log and "result=fail reason=malformed" in log, log)
    check("event=request user=alice rhost=\"\" tty=pts/9 by=0 result=ok reason=code-queued"
          in log, "the one-shot request is logged")
    for c in (code, new):
        for form in (c, c.replace("-", ""), c.lower().replace("-", "")):
            check(form not in log, "no code in the log")


def test_rate_limits():
    setup_world(BASE_CONFIG + "rhost_requests_per_hour = 4\nmails_per_minute = 6\n")
    # per user: 3 an hour, across both transports and a restart of the daemon
    S.client(["request alice 198.51.100.1"], "socket")
    restart_daemon()
    S.client(["request alice 198.51.100.2", "request alice 198.51.100.3"], "oneshot")
    rc, out = S.client(["request alice 198.51.100.4"], "socket")
    eq(out, [REQUEST_ANSWER])
    eq(len([m for m in S.mails() if m["user"] == "alice"]), 3, "user limit")
    # per remote host: 4 an hour, whatever the users
    rc, out = S.client([f"request {u} 203.0.113.7" for u in ("bob", "gina", "dave", "hank")])
    eq(out, [REQUEST_ANSWER] * 4)
    eq(sorted(m["user"] for m in S.mails() if m["user"] != "alice"), ["bob", "gina", "hank"])
    rc, out = S.client(["request bob 203.0.113.7"])  # the 5th from this host
    eq(out, [REQUEST_ANSWER])
    eq(len(S.mails()), 6, "remote host limit")
    # the whole host: 6 mails a minute, all spent
    rc, out = S.client(["request gina 203.0.113.99"])
    eq(out, [REQUEST_ANSWER])
    eq(len(S.mails()), 6, "host mail limit")
    log = S.log()
    for reason in ("rate-limit-user", "rate-limit-rhost", "rate-limit-host"):
        check(f"reason={reason}" in log, f"{reason} logged")


def test_address_ops():
    setup_world()
    for t in BOTH:
        rc, out = S.client([
            "email-set hank hank2@example.org",
            "email-show hank",
            "email-set hank team@Example.org",
            "email-set hank hank@intranet",
            "email-set hank not-an-address",
            "email-set nosuchuser x@example.org",
            "email-unset hank",
            "email-show hank",
            "email-unset hank",
        ], t)
        eq(rc, 0)
        eq(out[0], "email-set status=0 warnings=0 shared=", t)
        eq(out[1], "email-show status=0 addr=hank2@example.org")
        eq(out[2], "email-set status=0 warnings=1 shared=carol,erin", "shared warned")
        eq(out[3], "email-set status=0 warnings=2 shared=", "host-only warned")
        eq(out[4], "error status=6 text=the address must hold exactly one '@'")
        eq(out[5], "error status=5 text=no such user: nosuchuser")
        eq(out[6], "done status=0 count=1 more=0 next=0 text=")
        eq(out[7], "error status=5 text=no address is registered for hank")
        eq(out[8], "error status=5 text=no address is registered for hank")
    check("event=email-set user=hank by=0 result=ok" in S.log(), S.log())


def test_import_export():
    setup_world()
    path = os.path.join(S.tmp, "import.txt")
    with open(path, "w") as f:
        f.write("# recovery addresses\n"
                "alice alice.new@example.org\n"
                "\n"
                "bob\n"
                "gina gina@\n"
                "nosuchuser x@example.org\n"
                "  hank   hank.new@example.org  \n"
                "dave dave@example.org extra\n"
                "dave dave@example.org\n")
    rc, out = S.client([f"email-import {path} dry", "email-show alice"])
    eq(out[-1], "email-show status=0 addr=alice@example.org", "a dry run changes nothing")
    eq(out[-2], "done status=0 count=3 more=0 next=0 text=3 imported, 4 rejected")
    rc, out = S.client([f"email-import {path}"], "oneshot")
    eq(out, [
        "reject line=4 reason=expected 'user address'",
        "reject line=5 reason=no domain after the '@'",
        "reject line=6 reason=no such user: nosuchuser",
        "reject line=8 reason=expected 'user address'",
        "done status=0 count=3 more=0 next=0 text=3 imported, 4 rejected",
    ])
    rc, out = S.client(["email-export"])
    emails = {}
    for line in out:
        if line.startswith("email "):
            fields = dict(f.split("=", 1) for f in line.split()[1:])
            emails[fields["user"]] = fields["addr"]
    eq(emails["alice"], "alice.new@example.org")
    eq(emails["hank"], "hank.new@example.org")
    eq(emails["dave"], "dave@example.org")
    eq(len(emails), 13)
    eq(out[-1], "done status=0 count=13 more=0 next=0 text=")
    # more than a page: 150 accounts, exported over three pages, each once
    for i in range(150):
        S.useradd(f"p{i:03d}")
    lines = [f"p{i:03d} p{i:03d}@example.org" for i in range(150)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, out = S.client([f"email-import {path}"])
    eq(out[-1], "done status=0 count=150 more=0 next=0 text=150 imported, 0 rejected")
    rc, out = S.client(["email-export"], "oneshot")
    users = [l.split()[1] for l in out if l.startswith("email ")]
    eq(len(users), 163)
    eq(len(set(users)), 163)
    eq(len([l for l in out if l.startswith("done ")]), 3)


def test_check_reasons():
    setup_world()
    want = {
        "alice": "eligible=1 reasons=",
        "dave": "eligible=0 reasons=no-address",
        "carol": "eligible=0 reasons=shared-address:erin",
        "erin": "eligible=0 reasons=shared-address:carol",
        "frank": "eligible=0 reasons=local-only-address",
        "excl": "eligible=0 reasons=excluded",
        "grp": "eligible=0 reasons=excluded",
        "sysacct": "eligible=0 reasons=system-account",
        "expd": "eligible=0 reasons=expired",
        "ldapish": "eligible=0 reasons=not-local-shadow",
        "nosuchuser": "eligible=0 reasons=no-account,no-address",
        "+": "eligible=0 reasons=no-account,no-address",
        "-alice": "eligible=0 reasons=no-account,no-address",
    }
    for t in BOTH:
        rc, out = S.client([f"check {u}" for u in want], t)
        items = [l for l in out if l.startswith("check ")]
        for u, line in zip(want, items):
            check(line.startswith(f"check user={u} ") and line.endswith(want[u]),
                  f"{t}: {line} vs {want[u]}")
    # every local account with uid >= min_uid, once each
    rc, out = S.client(["check"])
    users = [l.split()[1][5:] for l in out if l.startswith("check ")]
    for u in ("alice", "bob", "carol", "dave", "erin", "excl", "expd", "frank", "gina", "grp",
              "hank", "ldapish"):
        eq(users.count(u), 1, u)
    check("sysacct" not in users and "root" not in users, users)
    # in one pass and one answer, each account with the verdict `check USER` gives it
    for t in BOTH:
        rc, out = S.client(["check"], t)
        eq([l for l in out if l.startswith("done ")],
           [f"done status=0 count={len(users)} more=0 next=0 text="], t)
        rc, each = S.client([f"check {u}" for u in users], t)
        eq([l for l in out if l.startswith("check ")],
           [l for l in each if l.startswith("check ")], t)
    # policy off: every account says so
    S.stop_daemon()
    S.write_config(BASE_CONFIG + "self_reset = no\n")
    rc, out = S.client(["check alice"], "oneshot")
    check(out[0].endswith("eligible=0 reasons=disabled"), out)


def test_unprivileged_peer():
    setup_world()
    for t in BOTH:
        rc, out = S.client(["offer alice"], t, user="alice")
        eq(rc, 0)
        check(out[0].startswith("offer status=0 enabled=1"), f"{t}: own account: {out}")
        rc, out = S.client(["request alice"], t, user="alice")
        eq(out, [REQUEST_ANSWER])
        rc, out = S.client(["offer bob", "offer alice"], t, user="alice")
        eq(rc, 3, f"{t}: dropped after a refusal")
        eq(out[0], "error status=2 text=uid %d may not act for bob" % uid("alice"), t)
        eq(len(out), 2, f"{t}: nothing answered after the refusal: {out}")
        check(out[1].startswith(("closed", "send-failed")), out)
        for cmd in ("email-show alice", "email-set alice a@example.org", "check alice",
                    "tokens", "revoke alice", "email-export", "email-unset alice"):
            rc, out = S.client([cmd, "offer alice"], t, user="alice")
            eq(out[0], "error status=2 text=permission denied: root or a member of "
                       "admin_group only", f"{t}: {cmd}")
            eq(rc, 3, f"{t}: {cmd} drops the peer")
            eq(len(out), 2, f"{t}: {cmd}: nothing served after the refusal: {out}")
    rc, out = S.client(["email-show alice"])
    eq(out, ["email-show status=0 addr=alice@example.org"], "nothing changed")
    # refusals are logged by both transports: the one-shot helper's lines reach syslog only
    log = S.syslog()
    eq(log.count(f"event=offer user=bob by={uid('alice')} result=refused reason=not-permitted"),
       2, "one refusal logged per transport")
    eq(log.count(f"event=email-show by={uid('alice')} result=refused reason=not-admin"), 2,
       "admin refusals logged per transport")
    check("<84>" in log or "<85>" in log or "<83>" in log, "logged under LOG_AUTHPRIV")


def rate_keys():
    """The keys of the store's rate windows, as mdb_dump prints them."""
    out = subprocess.run(["mdb_dump", "-p", "-s", "rate", "/var/lib/pwreset"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    data = out[out.index("HEADER=END") + 1:out.index("DATA=END")]
    return [line[1:] for line in data[0::2]]


def test_forged_rhost():
    """An unprivileged peer is not believed about the remote host: its requests count in a
    window of its uid. Twelve with no remote host leave the console's "local" window alone
    (root's request for bob still gets a code); 3,000 with a new 255-byte remote host each
    leave one window in the store, not one a name; root's requests for names that are no
    account leave no window at all; the audit lines carry no forged remote host."""
    setup_world()
    alice = uid("alice")
    lines = ["request alice"] * 12 + [f"request alice {'x' * 250}{i:05d}" for i in range(3000)]
    rc, out = S.client(lines, user="alice", timeout=300)
    eq((rc, set(out)), (0, {REQUEST_ANSWER}), "the uniform answer, every time")
    rc, out = S.client(["request bob"])
    check(code_for("bob"), "root's console request is served")
    S.client([f"request nosuchuser{i}" for i in range(300)])
    keys = rate_keys()
    check(f"p:{alice}" in keys, keys)
    eq([k for k in keys if k.startswith("r:x") or k.startswith("u:nosuch")], [], "no window")
    check(len(keys) <= 5, f"a handful of windows: {keys}")
    log = S.syslog()
    check(re.search(f'event=request user=alice rhost="" tty=\\S* by={alice} result=refused '
                    'reason=rate-limit-rhost', log), log[-1000:])
    check("rhost=xxxxx" not in log, "no forged remote host in the log")


def test_admin_group():
    setup_world(BASE_CONFIG + "admin_group = pwadmin\n")
    subprocess.run(["usermod", "-aG", "pwadmin", "bob"], check=True)
    for t in BOTH:
        rc, out = S.client(["email-show alice", "check alice"], t, user="bob")
        eq(out[0], "email-show status=0 addr=alice@example.org", t)
        check(out[1].startswith("check user=alice"), out)
        rc, out = S.client(["email-show alice"], t, user="gina")
        check(out[0].startswith("error status=2"), f"{t}: not a member: {out}")


def test_garbage_peer_dropped():
    setup_world()
    bad = [
        b"\x01\x00",                           # shorter than a header
        os.urandom(64),                        # noise
        packet(1, b"\xff\xff"),                # a string length beyond the packet
        packet(1, pack_str("a" * 300) + pack_str("") * 3),  # user over its maximum
        packet(0x8001, struct.pack("=III", 0, 1, 600) + pack_str("")),  # an answer as request
        packet(1, pack_str("alice") + pack_str("") * 3, version=2),
        b"\x01\x00\x01\x00" + struct.pack("=I", 5000) + b"x" * 5000,  # over PWR_MSG_MAX
        packet(1, pack_str("al\x00ce") + pack_str("") * 3),  # NUL in a string
    ]
    for pkt in bad:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect("/run/pwreset/helper.sock")
        s.send(pkt)
        s.settimeout(5)
        answer = s.recv(8192)
        check(answer[:2] == b"\x01\x00" and answer[2:4] == b"\x00\x80",
              f"an error answer for {pkt[:16]!r}")
        status = struct.unpack("=I", answer[8:12])[0]
        eq(status, 1, "PWR_E_PROTO")
        eq(s.recv(8192), b"", "then the connection is closed")
        s.close()
        # the daemon still serves everyone else
        rc, out = S.client(["offer alice"])
        check(out and out[0].startswith("offer status=0"), out)
    eq(S.daemon.poll(), None, "the daemon is still running")
    check(S.log().count("reason=malformed") >= len(bad) - 1, S.log())
    # the one-shot helper drops it too, and exits
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    p = subprocess.Popen([S.helper], stdin=b, stdout=subprocess.DEVNULL)
    b.close()
    a.send(os.urandom(100))
    a.settimeout(5)
    check(a.recv(8192)[2:4] == b"\x00\x80", "one-shot answers an error")
    eq(a.recv(8192), b"")
    eq(p.wait(timeout=10), 0)


def test_readers_that_stop():
    """Two one-shot helpers whose callers never read (their other answers block), side by
    side: one listing every account, 2,000 of them; one answering the review's import of
    1,900 bad lines. The import's rejections are answered after the store's transaction is
    closed, so the daemon's writes go on at once meanwhile; each helper gives its answers up
    after 10 s, says why, and ends."""
    setup_world()
    with open("/etc/passwd", "a") as f:
        f.writelines(f"many{i}:x:{30000 + i}:100::/nonexistent:/bin/sh\n" for i in range(2000))
    requests = (packet(21, struct.pack("=I", 0) + pack_str("")),  # check, every account
                packet(19, struct.pack("=II", 1, 0) + pack_str("x\n" * 1900)))  # email import
    callers, helpers = [], []
    t0 = time.monotonic()
    for req in requests:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        helpers.append(subprocess.Popen([S.helper], stdin=b, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env={}))
        b.close()
        a.send(req)
        callers.append(a)
    time.sleep(1)
    for n in range(3):
        t = time.monotonic()
        rc, out = S.client([f"email-set alice alice{n}@example.org"])
        eq(out[0], "email-set status=0 warnings=0 shared=", "the store is free")
        check(time.monotonic() - t < 3, f"a write took {time.monotonic() - t:.1f} s")
    for helper in helpers:
        helper.wait(timeout=30)
    took = time.monotonic() - t0
    check(9 <= took < 15, f"the helpers ended after {took:.1f} s")
    log = S.syslog()
    for op in ("check-item", "reject-item"):
        check(re.search(rf"cannot send {op}: Resource temporarily unavailable|cannot send {op}: "
                        r"Connection timed out", log), f"{op}: said why")
    for a in callers:
        a.close()


def test_hosts_cannot_fill_the_store():
    """The review's reproduction (SPEC §4), as sshd would send requests through the daemon:
    3,000 from new IPv6 addresses of one /64 count in one window (the store grew 83 bytes an
    address before); then 100,000 from as many networks: past 20,000 buckets new hosts share
    one window, so the store stays small and codes keep their room; alice, from the host she
    always uses, still gets her code. (The store is on a tmpfs: 100,000 durable commits on a
    disk would take minutes.)"""
    setup_world()
    S.stop_daemon()
    subprocess.run(["cp", "-a", "/var/lib/pwreset", S.tmp + "/store"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700", "tmpfs", "/var/lib/pwreset"],
                   check=True)
    subprocess.run(f"cp -a {S.tmp}/store/. /var/lib/pwreset/", shell=True, check=True)
    S.start_daemon(verbose=False)
    rc, out = S.client(["request alice 192.0.2.7"])  # her usual host, seen before
    eq(out, [REQUEST_ANSWER])
    code_for("alice")

    def flood(hosts):
        p = subprocess.run([os.environ["PWR_TCLIENT"], "--socket", "/run/pwreset/helper.sock"],
                           input="".join(f"request nosuchuser {h}\n" for h in hosts),
                           capture_output=True, text=True, timeout=600)
        eq(p.stdout.count(REQUEST_ANSWER), len(hosts), p.stdout[-300:])

    def used():
        return ctl_status()["store_bytes"]

    def buckets():
        """The rate windows in the store (mdb_stat reads it beside the daemon)."""
        p = subprocess.run(["mdb_stat", "-s", "rate", "/var/lib/pwreset"],
                           capture_output=True, text=True, check=True)
        return int(re.search(r"Entries: (\d+)", p.stdout).group(1))

    before, windows = used(), buckets()
    flood([f"2001:db8:0:1:{i >> 16:x}:{i & 0xffff:x}::1" for i in range(3000)])
    # one window for the /64, not one an address (the store's pages, which LMDB reuses as
    # readers let it, are only reported)
    eq(buckets() - windows, 1, "3,000 addresses of one /64: new rate windows")
    grew = used() - before
    print(f"# 3,000 addresses of one /64 grew the store by {grew} bytes")
    flood([f"2001:db8:{i >> 16:x}:{i & 0xffff:x}::1" for i in range(100000)])
    size = used()
    print(f"# store: {before} bytes before, {size} after 103,000 requests")
    check(size < 4 * 1024 * 1024, f"the store holds {size} bytes")
    check("requests from new hosts now share one window" in S.syslog(), "said once")
    rc, out = S.client(["request alice 192.0.2.7"])
    eq(out, [REQUEST_ANSWER])
    deadline = time.time() + 5
    while len([m for m in S.mails() if m["user"] == "alice"]) < 2 and time.time() < deadline:
        time.sleep(0.05)
    eq(len([m for m in S.mails() if m["user"] == "alice"]), 2, "alice's second code is queued")


def ctl_status():
    p = subprocess.run([os.environ["PWR_CTL"], "--json", "status"], capture_output=True,
                       text=True, check=True)
    return json.loads(p.stdout)


def test_lists_match_the_accounts_own_name():
    """SPEC §2: a name is matched against a list as the account's own name (pw_name), never as
    typed. With case-insensitive NSS (tests/tools/nsscase.c, as sssd's case_sensitive = false),
    `Excl` is excl (exclude_users) and `Hank` is hank (a member of admin_group): check says
    excluded, a request sends nothing, and a member of admin_group who is not root cannot
    reset either."""
    setup_world(BASE_CONFIG + "admin_group = pwadmin\n")
    for u in ("gina", "hank"):
        subprocess.run(["usermod", "-aG", "pwadmin", u], check=True)
    S.stop_daemon()
    preload = [os.environ.get("PWR_SANITIZER_PRELOAD", ""), os.environ["PWR_NSSCASE"]]
    S.start_daemon(env=dict(os.environ, LD_PRELOAD=" ".join(filter(None, preload))))
    rc, out = S.client(["check Excl", "check EXCL", "check Alice"])
    checks = [line for line in out if line.startswith("check ")]
    for line in checks[:2]:
        check(re.search(r"eligible=0 reasons=.*excluded", line), line)
    check(checks[2].endswith("eligible=1 reasons="), f"NSS finds Alice as alice: {checks[2]}")
    rc, out = S.client(["request Excl", "request EXCL"])
    eq(out, [REQUEST_ANSWER] * 2)
    time.sleep(0.5)
    eq([m for m in S.mails() if m["user"].lower() == "excl"], [], "nothing sent for excl")
    for name, rule in (("Excl", "it is in exclude_users"),
                       ("Hank", "it is a member of admin_group pwadmin")):
        rc, out = S.client([f"reset print,nolock 0 {name}"], user="gina")
        check(out and "status=2 " in out[0] and " code= " in out[0] and rule in out[0],
              f"{name}: {out}")


def test_silent_peer_does_not_block():
    setup_world()
    silent = []
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect("/run/pwreset/helper.sock")
        silent.append(s)
    # a peer that asks and never reads its answers
    greedy = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    greedy.connect("/run/pwreset/helper.sock")
    for _ in range(50):
        greedy.send(offer_packet("alice"))
    t0 = time.monotonic()
    for _ in range(10):
        rc, out = S.client(["offer alice", "request alice"])
        eq(out[1], REQUEST_ANSWER)
    took = time.monotonic() - t0
    check(took < 10, f"10 clients took {took:.1f} s beside 21 silent peers")
    for s in silent + [greedy]:
        s.close()


HOLDER = r"""
import socket, sys, time
# as the user: hold N connections to the daemon, each having asked one offer; print how many
# got an answer, then keep them open until stdin closes
n, packet = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
held, answered = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect("/run/pwreset/helper.sock")
        s.settimeout(5)
        s.send(packet)
        answered += bool(s.recv(8192))
    except OSError:
        pass
    held.append(s)
print(answered, flush=True)
sys.stdin.read()
"""


def test_connection_slots():
    """One uid cannot take the daemon's connections: alice opens 300 (each asks an offer) and
    8 are answered, the rest closed unanswered and logged; root's request is still served;
    alice's own PAM application and an admin_group member's pwresetctl, refused by the
    daemon, run the one-shot helper instead; a connection that asks nothing is closed within
    SILENT_SECONDS."""
    setup_world(BASE_CONFIG + "admin_group = pwadmin\n")
    subprocess.run(["usermod", "-aG", "pwadmin", "alice"], check=True)
    holder = subprocess.Popen(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups",
                               sys.executable, "-c", HOLDER, "300",
                               offer_packet("alice").hex()],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        eq(holder.stdout.readline().strip(), "8", "alice's connections answered")
        check("reason=too-many-connections" in S.syslog(), S.syslog()[-800:])
        rc, out = S.client(["offer alice", "request bob"], timeout=10)
        eq(out[1:], [REQUEST_ANSWER], f"root is served: {out}")
        check(code_for("bob"), "bob's code is queued")
        ctl = subprocess.run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups",
                              os.environ["PWR_CTL"], "--helper", S.helper, "status"],
                             capture_output=True, text=True, timeout=60)
        eq(ctl.returncode, 0, ctl.stderr)
        check("one-shot" in ctl.stdout, f"pwresetctl ran the helper itself: {ctl.stdout}")
        with open("/etc/pam.d/pwrpam", "w") as f:
            f.write(f"auth required {os.environ['PWR_PAM_MODULE']} helper={S.helper}\n")
        pam = subprocess.run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups",
                              os.environ["PWR_PAMJUNK"], "pwrpam", "alice"], input="\n",
                             capture_output=True, text=True, timeout=60)
        check("prompt: Forgot your password?" in pam.stdout,
              f"the module ran the helper itself: {pam.stdout} {pam.stderr}")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # a peer that says nothing is closed early
    quiet = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    quiet.connect("/run/pwreset/helper.sock")
    quiet.settimeout(30)
    t0 = time.monotonic()
    eq(quiet.recv(100), b"", "closed by the daemon")
    took = time.monotonic() - t0
    check(8 < took < 20, f"a silent peer is closed after about 10 s: {took:.1f} s")


def test_root_helper_asks_no_resolver():
    """The root helper makes no network query: with this host's name in no line of
    /etc/hosts and a resolver at 127.0.0.77 that notes what it is asked, the daemon's start,
    a request whose mail is composed (its From and Message-ID name the host), eligibility
    (which knows the host's own domains) and a one-shot request ask it nothing."""
    if os.path.lexists("/etc/resolv.conf"):
        os.unlink("/etc/resolv.conf")  # the sandbox's overlay: the host's stays
    with open("/etc/resolv.conf", "w") as f:
        f.write("nameserver 127.0.0.77\noptions timeout:1 attempts:1\n")
    with open("/etc/hosts", "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
    resolver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    resolver.bind(("127.0.0.77", 53))
    asked = []

    def listen():
        while True:
            try:
                asked.append(resolver.recv(512))
            except OSError:
                return
    threading.Thread(target=listen, daemon=True).start()
    # a probe that the resolver is where the C library looks (so that silence means something)
    try:
        socket.getaddrinfo("probe.invalid", None)
    except OSError:
        pass
    time.sleep(0.3)
    check(asked, "the probe reached the test resolver")
    asked.clear()
    setup_world()
    S.client(["request alice"])
    check(code_for("alice"), "alice's code is queued")
    S.client(["request bob", "check alice"], "oneshot")
    rc, out = S.client(["queue"])
    check(any("attempts=" in l for l in out), f"the mails were tried: {out}")
    time.sleep(1)
    resolver.close()
    eq(asked, [], "queries the resolver got")


def test_concurrent_wrong_codes():
    # 60 attempts: the first 50 wrong codes, sent at once by the daemon's and one-shot
    # helpers' callers, must all be counted (no update lost) while the code is alive
    setup_world(BASE_CONFIG + "code_attempts = 60\n")
    S.client(["request alice"])
    code = code_for("alice")

    def guess_at_once(n):
        wrongs = [wrong_code(code) for _ in range(n)]
        results = [None] * n

        def one(i):
            t = "socket" if i % 2 == 0 else "oneshot"
            results[i] = S.client([f"verify alice {wrongs[i]}"], t)[1]

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        eq(results, [["verify status=7"]] * n, "every wrong code refused")

    guess_at_once(50)
    rc, out = S.client(["tokens"])
    eq(out[0], "token user=alice kind=1 failures=50 tries_left=10 ttl=600",
       "exactly 50 failures counted")
    # 20 more at once: the 60th kills the code; the rest change nothing
    guess_at_once(20)
    rc, out = S.client(["tokens"])
    eq(out, ["done status=0 count=0 more=0 next=0 text="], "the code is dead after 60")
    rc, out = S.client([f"verify alice {code}"], "oneshot")
    eq(out, ["verify status=7"], "the right code is refused after the 60th failure")
    dump = subprocess.run(["mdb_dump", "-s", "code", "/var/lib/pwreset"], capture_output=True,
                          text=True, check=True).stdout.split("\n")
    # the record follows the key line for 'alice' (hex 616c696365)
    value = dump[dump.index(" 616c696365") + 1].strip()
    failures = struct.unpack("=I", bytes.fromhex(value)[24:28])[0]
    eq(failures, 60, "counted up to the limit, and no further")


def test_no_plaintext_code_in_store():
    setup_world()
    users = ["alice", "bob", "gina", "hank"]
    for t in BOTH:
        S.client([f"request {u} 192.0.2.{i}" for i, u in enumerate(users)], t)
    codes = [m["code"] for m in S.mails()]
    eq(len(codes), 8)
    blobs = b""
    for root, _, files in os.walk("/var/lib/pwreset"):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                blobs += fh.read()
    check(len(blobs) > 0, "the store has files")
    for c in codes:
        for form in (c, c.replace("-", ""), c.lower(), c.replace("-", "").lower()):
            check(form.encode() not in blobs, f"code {form} found in the store's files")


def oneshot_raw(argv, env, user="alice", close=()):
    """Run the setuid helper with a socket on fd 0, as user, with env; offer alice; return
    (exit status, answer bytes)."""
    import pwd
    pw = pwd.getpwnam(user)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)

    def demote():
        for fd in close:
            os.close(fd)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    p = subprocess.Popen(argv, stdin=b, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, preexec_fn=demote)
    b.close()
    a.settimeout(10)
    try:
        a.send(offer_packet(user))
        answer = a.recv(8192)
    except socket.timeout:
        answer = b"timeout"
    except (BrokenPipeError, ConnectionResetError):
        answer = b""  # the helper refused and exited without reading
    a.close()
    return p.wait(timeout=10), answer


def test_hostile_oneshot_environment():
    setup_world()
    S.stop_daemon()
    clean = oneshot_raw([S.helper], {})
    eq(clean[0], 0)
    check(clean[1][2:4] == b"\x01\x80", f"an offer answer: {clean}")
    evil_conf = os.path.join(S.tmp, "evil.conf")
    with open(evil_conf, "w") as f:
        f.write("self_reset = no\nhelp_message = PWNED\n")
    lib = os.path.join(S.tmp, "evil.so")
    open(lib, "w").close()
    hostile = {"LD_PRELOAD": lib, "LD_LIBRARY_PATH": S.tmp, "PATH": S.tmp,
               "PWRESET_CONFIG": evil_conf, "PWRESET_STATE_DIR": S.tmp, "IFS": "x",
               "LISTEN_FDS": "1", "LISTEN_PID": "1", "MALLOC_CHECK_": "3", "TZ": "../../x"}
    eq(oneshot_raw([S.helper], hostile), clean, "hostile environment")
    eq(oneshot_raw([S.helper], {}, close=(1, 2)), clean, "fds 1 and 2 closed")
    eq(oneshot_raw([os.environ["PWR_ARGC0"], S.helper], hostile), clean, "argc == 0")
    # a caller may not choose the configuration or the mode
    for args in (["--config", evil_conf], ["--daemon"], ["--check-config", "/etc/shadow"],
                 ["--verbose"]):
        rc, answer = oneshot_raw([S.helper] + args, {})
        eq(rc, 2, f"{args} refused for a user")
        eq(answer, b"", f"{args}: nothing answered")
    # fd 0 closed (or not a socket): refused
    import pwd
    pw = pwd.getpwnam("alice")

    def demote_close0():
        os.close(0)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    p = subprocess.run([S.helper], preexec_fn=demote_close0, capture_output=True, text=True)
    eq(p.returncode, 1, "fd 0 closed")
    check("not a SOCK_SEQPACKET socket" in p.stderr, p.stderr)
    check(f"event=refused by={uid('alice')} result=refused reason=fd0-not-a-socket"
          in S.syslog(), "the refusal is logged")
    p = subprocess.run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups", S.helper],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    eq(p.returncode, 1, "fd 0 not a socket")


def test_broken_config():
    setup_world()
    S.stop_daemon()
    S.write_config(BASE_CONFIG + "code_ttl = forever\nbogus = 1\n")
    p = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    eq(p.returncode, 1)
    eq(p.stdout, "")
    eq(p.stderr.splitlines(), [
        "/etc/pwreset/pwreset.conf:6: code_ttl: 'forever' is not a duration "
        "(a number with s, m, h or d)",
        "/etc/pwreset/pwreset.conf:7: bogus: unknown key",
    ])
    p = subprocess.run([S.helper, "--daemon"], capture_output=True, text=True, timeout=10)
    eq(p.returncode, 1, "the daemon refuses to start")
    check("bogus: unknown key" in p.stderr, p.stderr)
    for user in (None, "alice"):
        rc, out = S.client(["offer alice"], "oneshot", user=user)
        check(out[0].startswith("error status=3"), f"one-shot answers a configuration error: {out}")
    # a configuration that others may write is refused too
    S.write_config(BASE_CONFIG)
    os.chmod("/etc/pwreset/pwreset.conf", 0o666)
    rc, out = S.client(["offer alice"], "oneshot")
    check(out[0].startswith("error status=3"), out)
    os.chmod("/etc/pwreset/pwreset.conf", 0o640)
    p = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    eq((p.returncode, p.stdout, p.stderr), (0, "", ""), "a good file")
    good = os.path.join(S.tmp, "other.conf")
    with open(good, "w") as f:
        f.write("code_ttl = 5m\n")
    p = subprocess.run([S.helper, "--check-config", good], capture_output=True, text=True)
    eq((p.returncode, p.stderr), (0, ""), "root may check another file")


def test_check_config_secrets_and_agent():
    """--check-config reads the password files it names (it aborted doing so once), and says
    plainly, as a warning that does not fail the check, that a directory is configured while
    its agent (the package pwreset-directory) is not installed; the daemon starts all the
    same and says it in its log."""
    setup_world()
    S.stop_daemon()
    secret = os.path.join(S.tmp, "ldap-password")
    with open(secret, "w") as f:
        f.write("not-a-real-password\n")
    os.chmod(secret, 0o600)
    agent = "/usr/libexec/pwreset/pwreset-directory"
    if os.path.exists(agent):
        os.remove(agent)  # as apt-get remove pwreset-directory leaves the host
    S.write_config(BASE_CONFIG + "directory_url = ldap://127.0.0.1:3899\n"
                   "directory_base = dc=example,dc=org\n"
                   "directory_bind_dn = cn=reset,dc=example,dc=org\n"
                   f"directory_password_file = {secret}\ndirectory_starttls = off\n")
    p = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    eq((p.returncode, p.stdout), (0, ""), p.stderr)
    eq(p.stderr, "pwreset-helper: warning: directory_url is set, but pwreset-directory is not "
       f"installed ({agent}: No such file or directory): directory accounts cannot be reset "
       "until the package pwreset-directory is installed, or directory_url is emptied\n")
    S.start_daemon()
    rc, out = S.client(["offer alice"])
    check(out[0].startswith("offer status=0"), out)
    check("pwreset-directory is not installed" in S.log(), S.log()[-2000:])


def test_daemon_sigterm():
    setup_world()
    d = S.daemon
    # a peer in the middle of a conversation does not keep it from stopping
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/run/pwreset/helper.sock")
    d.send_signal(signal.SIGTERM)
    eq(d.wait(timeout=10), 0, "clean exit on SIGTERM")
    s.close()
    S.daemon = None
    # systemd-style start: the socket handed over in LISTEN_FDS
    if subprocess.run(["which", "systemd-socket-activate"], capture_output=True).returncode:
        return
    os.unlink("/run/pwreset/helper.sock")
    act = subprocess.Popen(["systemd-socket-activate", "--seqpacket", "-l",
                            "/run/pwreset/helper.sock", S.helper, "--daemon", "--verbose"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists("/run/pwreset/helper.sock") and time.time() < deadline:
            time.sleep(0.05)
        rc, out = S.client(["offer alice", "request alice"])
        check(out[0].startswith("offer status=0 enabled=1"), out)
        eq(len(S.wait_mails(1)), 1, "the code is queued (after the answer, so waited for)")
    finally:
        act.terminate()
        act.wait(timeout=10)


def test_policy_off():
    """Self-service off: nothing can be requested, and the offer is the same for every
    account, whether or not an administrator's code is pending for it (alice's)."""
    setup_world(BASE_CONFIG + "self_reset = no\nhelp_message = Call the help desk, #4242\n")
    rc, out = S.client(["reset print,nolock 0 alice"])
    check(out[0].startswith("reset user=alice status=0"), out)
    admin = out[0].split("code=")[1].split()[0]
    for t in BOTH:
        rc, out = S.client(["offer alice", "offer bob", "offer nosuchuser", "request bob"], t)
        eq(out, ["offer status=0 enabled=0 ttl=600 help=Call the help desk, #4242"] * 3 +
           [REQUEST_ANSWER], t)
    eq(S.mails(), [], "nothing sent")
    check("reason=disabled" in S.log(), S.log())
    rc, out = S.client([f"verify alice {admin}"])
    eq(out, ["verify status=0"], "the administrator's code is still taken")


def test_shadow_change_voids_code():
    setup_world()
    S.client(["request alice"])
    code = code_for("alice")
    rc, out = S.client([f"verify alice {code}"])
    eq(out, ["verify status=0"])
    S.set_password("alice", "Changed-by-passwd-2")   # chpasswd, as an admin would
    rc, out = S.client([f"verify alice {code}"], "oneshot")
    eq(out, ["verify status=7"], "a code issued before the change is void")


def test_example_files():
    """conf/pwreset.conf names every key of SPEC §9 with its default and checks clean, as it
    is and with every key uncommented; pam-auth-update puts the profile after pam_unix."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    text = open(os.path.join(top, "conf", "pwreset.conf")).read()
    keys = ("self_reset user_addresses help_message admin_group admin_protected_groups min_uid "
            "exclude_users exclude_groups "
            "local_domains code_ttl admin_code_ttl code_attempts user_requests_per_hour "
            "rhost_requests_per_hour mails_per_minute min_length hash_method notify_on_change "
            "smtp_url smtp_starttls smtp_user smtp_password_file smtp_ca_file smtp_timeout "
            "mail_from mail_max_age templates_dir state_dir socket mail_user directory_url "
            "directory_starttls directory_ca_file directory_bind_dn directory_password_file "
            "directory_base directory_user_filter directory_address_attribute "
            "directory_timeout language mail_language").split()
    for k in keys:
        check(f"\n# {k} =" in text, f"{k} in the example")
    for name, body in (("as-is.conf", text),
                       ("uncommented.conf", re.sub(r"(?m)^# ([a-z_]+ =)", r"\1", text))):
        path = os.path.join(S.tmp, name)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o600)
        p = subprocess.run([S.helper, "--check-config", path], capture_output=True, text=True)
        eq((p.returncode, p.stderr), (0, ""), name)
    # the Debian profile, through pam-auth-update itself
    shutil.copy(os.path.join(top, "conf", "pam-configs-pwreset"),
                "/usr/share/pam-configs/pwreset")
    subprocess.run(["pam-auth-update", "--enable", "pwreset", "--force"], check=True,
                   capture_output=True)
    auth = [l.split() for l in open("/etc/pam.d/common-auth") if l.startswith("auth")]
    mods = [next(w for w in l if w.endswith(".so")) for l in auth]
    check(mods.index("pam_pwreset.so") == mods.index("pam_unix.so") + 1, auth)
    check(auth[mods.index("pam_unix.so")][1] == "[success=2", auth)
    eq(auth[mods.index("pam_pwreset.so")][1:], ["[success=1", "default=ignore]",
                                                "pam_pwreset.so"])
    # the session hint (SPEC §11): interactive sessions only, never deciding one
    session = [l.split() for l in open("/etc/pam.d/common-session") if l.startswith("session")]
    check(["session", "optional", "pam_pwreset.so"] in session, session)
    check("pam_pwreset.so" not in open("/etc/pam.d/common-session-noninteractive").read(),
          "no hint for cron and the like")


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
