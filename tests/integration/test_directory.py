# SPDX-License-Identifier: BSD-3-Clause
"""pwreset-directory (SPEC §12) against a real slapd in the sandbox, driven the way the helper
drives it (tests/tools/dirclient, as the agent's user): looking an account up, counting an address,
Password Modify (the directory's policy refusing, then accepting; the lockout cleared), the
administrative lock and its fallback without ppolicy, a paged listing, TLS required and
verified, a server that does not answer. Run one case: test_directory.py CASE."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldapserver as ls  # noqa: E402
import sshserver  # noqa: E402
import smtpserver  # noqa: E402
import harness  # noqa: E402
from harness import check, eq, reset_rounds, SENT, ssh_login  # noqa: E402

S = None
LENA = f"uid=lena,{ls.PEOPLE}"
OLD = "Old-password-1"
NEW = "Tulip-Gravel-Orbit-93"


def people():
    return (ls.person("lena", 10001, "lena@example.org", OLD) + "\n" +
            ls.person("max", 10002, None, OLD) + "\n" +
            ls.person("ann", 10003, "team@example.org", OLD) + "\n" +
            ls.person("ben", 10004, "TEAM@example.org", OLD) + "\n" +
            ls.person("zoe", 10005, "zoe@example.org", OLD) + "\n")  # not in passwd


def config(d, urls=None, starttls=0, ca=True, password=ls.SERVICE_PW, timeout=5):
    path = os.path.join(S.tmp, "dirclient.conf")
    with open(path, "w") as f:
        f.write(f"urls {urls or d.url}\nca_file {d.ca if ca else ''}\n"
                f"bind_dn {ls.SERVICE_DN}\npassword {password}\nbase {ls.PEOPLE}\n"
                "filter (&(objectClass=posixAccount)(uid=%u))\nattr mail\n"
                "lang_attr preferredLanguage\n"
                f"starttls {starttls}\ntimeout {timeout}\n")
    os.chmod(path, 0o644)
    return path


def ask(conf, *requests, timeout=60):
    return ls.agent(conf, *requests, timeout=timeout)


def test_directory_lookup_count_list():
    d = ls.Slapd(S, people())
    conf = config(d)
    a = ask(conf, "lookup:lena:10001", "lookup:lena:999", "lookup:nobody:10001",
            "lookup:*:10001", "count:team@example.org", "count:lena@example.org", "list",
            "status")
    eq(a[0]["status"], "ok", "the configuration")
    eq((a[1]["status"], a[1]["dn"], a[1]["address"], a[1]["uid"]),
       ("ok", LENA, "lena@example.org", "10001"), "lena")
    check(a[1]["binding"].startswith("entryCSN:"), a[1])  # no password change yet
    eq(a[2]["status"], "not-found", "another uidNumber")
    eq(a[3]["status"], "not-found", "no such user")
    eq(a[4]["status"], "not-found", "a * in the name matches nothing (escaped)")
    eq((a[5]["count"], a[5]["text"]), ("2", "ann,ben"), "a shared address, any case")
    eq(a[6]["count"], "1", "lena's")
    listed = [x for x in a[7:] if x.get("more") == "1"]
    eq(sorted(x["user"] for x in listed), ["ann", "ben", "lena", "max", "zoe"], "the listing")
    eq(a[7 + len(listed)]["status"], "ok", "the listing's end")
    eq((a[-1]["text"], a[-1]["count"]), ("dn:" + ls.SERVICE_DN, "0"),
       "whom we are bound as, and the type (OpenLDAP)")


def test_directory_password_and_lock():
    d = ls.Slapd(S, people(), min_length=12)
    conf = config(d)
    for _ in range(4):  # ppolicy locks lena out
        d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", "wrong", check=False)
    check(d.attribute(LENA, "pwdAccountLockedTime"), "locked out")
    a = ask(conf, f"passwd:{LENA}:Short-1", f"passwd:{LENA}:{NEW}", "lookup:lena:10001")
    eq(a[1]["status"], "refused", "pwdMinLength 12")
    check("quality" in a[1]["text"], a[1])
    eq(a[2]["status"], "ok", a[2])
    check(a[3]["binding"].startswith("pwdChangedTime:"), a[3])
    eq(d.attribute(LENA, "pwdAccountLockedTime"), [], "the lockout is gone")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", NEW, check=False).returncode, 0, "new")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", OLD, check=False).returncode, 49, "old")
    a = ask(conf, f"lock:{LENA}", f"unlock:{LENA}")
    eq((a[1]["status"], a[1]["count"]), ("ok", "1"), "ppolicy's administrative lock")
    eq(a[2]["status"], "ok", "unlocked")
    a = ask(conf, f"lock:{LENA}")
    eq(d.attribute(LENA, "pwdAccountLockedTime"), ["000001010000Z"], "locked for good")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", NEW, check=False).returncode, 49,
       "a locked entry does not bind")


def test_directory_lock_without_ppolicy():
    d = ls.Slapd(S, people(), ppolicy=False)
    a = ask(config(d), f"lock:{LENA}", f"passwd:{LENA}:{NEW}")
    eq((a[1]["status"], a[1]["count"]), ("ok", "2"), "a random password instead")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", OLD, check=False).returncode, 49, "old")
    eq(a[2]["status"], "ok")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", NEW, check=False).returncode, 0, "new")


def test_directory_tls_and_failures():
    d = ls.Slapd(S, people())
    # ldaps, and a list whose first server is down: the next one answers
    dead = f"ldap://127.0.0.1:{smtpserver.free_port()}"  # nothing listens there
    a = ask(config(d, urls=f"{dead},{d.ldaps_url}"), "status")
    eq(a[1]["status"], "ok", a)
    # StartTLS required with a CA the server's certificate is not from: refused, and nothing
    # is sent in the clear (no bind reaches the server)
    other_ca = os.path.join(S.tmp, "other")
    os.makedirs(other_ca)
    ca, _, _ = smtpserver.make_ca(other_ca)
    conf = config(d)
    text = open(conf).read().replace(d.ca, ca)
    with open(conf, "w") as f:
        f.write(text)
    a = ask(conf, "lookup:lena:10001")
    eq(a[1]["status"], "unreachable", a)
    check("StartTLS" in a[1]["text"], a[1])
    # a wrong bind password: unreachable, and said so
    a = ask(config(d, password="wrong"), "lookup:lena:10001")
    eq(a[1]["status"], "unreachable", a)
    check("Invalid credentials" in a[1]["text"], a[1])
    # a server that accepts and never answers: that request fails within the timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(silent.accept()) for _ in range(4)],
                     daemon=True).start()
    url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
    t0 = time.monotonic()
    a = ask(config(d, urls=url, starttls=1, timeout=2), "lookup:lena:10001", "status")
    took = time.monotonic() - t0
    eq((a[1]["status"], a[2]["status"]), ("unreachable", "unreachable"), a)
    check(took < 2 * 2 + 3, f"{took:.1f} s for two requests with a 2 s timeout")
    # not a request: refused, and the program ends
    a = ask(config(d), "junk")
    eq((a[1]["status"], a[1]["text"]), ("failed", "pwreset-directory got a malformed request"))
    silent.close()


def test_directory_only_here():
    """libldap and the TLS libraries are linked by pwreset-directory, never by the root
    helper, the PAM module or the command lines."""
    for env in ("PWR_HELPER", "PWR_PAM_MODULE", "PWR_CTL", "PWR_ADDRESS"):
        out = subprocess.run(["ldd", os.environ[env]], capture_output=True, text=True).stdout
        for lib in ("libldap", "liblber", "libgnutls", "libssl", "libcrypto"):
            check(lib not in out, f"{env} links {lib}:\n{out}")
    out = subprocess.run(["ldd", os.environ["PWR_DIRECTORY"]], capture_output=True,
                         text=True).stdout
    check("libldap" in out, out)


def test_directory_refuses_root():
    p = subprocess.run([os.environ["PWR_DIRECTORY"]], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    eq((p.returncode, p.stderr), (1, "pwreset-directory: refusing to run as root\n"))


# ---- the helper with a directory (SPEC §12); its accounts known to NSS by /etc/passwd ----

def directory_world(d, srv, extra=""):
    """The helper configured for d (StartTLS, the CA made for it), mail to srv; the directory's
    people known to NSS (a passwd line, no shadow line: not local), and local alice."""
    harness.directory_helper(srv, keys(d) + extra, ls.SERVICE_PW,
                             (("lena", 10001), ("max", 10002), ("ann", 10003), ("ben", 10004),
                              ("gone", 10009)))


def keys(d):
    """The directory keys for d, bound as the service DN."""
    return (f"directory_url = {d.url}\ndirectory_ca_file = {d.ca}\n"
            f"directory_bind_dn = {ls.SERVICE_DN}\ndirectory_base = {ls.PEOPLE}\n")


def test_directory_reset_through_helper():
    """A directory account, on both transports: the request mails the entry's address, the
    code verifies, the new password is set in the directory (the old one no longer binds, the
    new one does, pwdChangedTime moved), the audit lines say source=directory."""
    import smtpserver as sm
    d = ls.Slapd(S, people())
    srv = sm.Server()
    directory_world(d, srv)
    sent = 0
    for transport, new in (("socket", NEW), ("oneshot", "Copper-Lantern-Shelf-58")):
        time.sleep(1.1)  # pwdChangedTime counts seconds
        before = d.attribute(LENA, "pwdChangedTime")
        rc, out = S.client(["request lena 192.0.2.5"], transport)
        msgs = srv.wait_for(sent + 1)
        eq(msgs[sent][1], ["lena@example.org"], "the entry's mail")
        code = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", msgs[sent][2].decode()).group(1)
        rc, out = S.client([f"verify lena {code}", f"setpw lena {new}"], transport)
        eq(out, ["verify status=0", "set-password status=0 text="], transport)
        sent += 2  # the code, then the notice of the change (to the entry's mail)
        eq(srv.wait_for(sent)[sent - 1][1], ["lena@example.org"], "the notice")
        eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", new, check=False).returncode, 0, new)
        check(d.attribute(LENA, "pwdChangedTime") != before, "pwdChangedTime moved")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", OLD, check=False).returncode, 49, "old")
    p = subprocess.run([os.environ["PWR_CTL"], "status"], capture_output=True, text=True)
    check(f"directory:      {d.url}, bound as dn:{ls.SERVICE_DN} (OpenLDAP)\n" in p.stdout,
          p.stdout)
    p = subprocess.run([os.environ["PWR_CTL"], "--json", "status"], capture_output=True,
                       text=True)
    eq(json.loads(p.stdout)["directory"],
       {"url": d.url, "answers": True, "bound_as": "dn:" + ls.SERVICE_DN, "type": "openldap"},
       p.stdout)
    log = S.syslog()
    check(re.search(r"event=password-changed user=lena .*source=directory", log), log)
    check(re.search(r"event=request user=lena .*result=ok .*source=directory", log), log)
    srv.stop()


def test_directory_mail_language():
    """SPEC §13: a directory account's preferredLanguage (the first of its list) is the
    language of its mail and its sheet: the code and the notice of the change come in
    Japanese; its own choice (email language) comes first; with directory_language_attribute
    empty, the host's. The agent names the language as a catalog does (ja-JP: ja_JP)."""
    import email
    import email.policy
    mia = ls.person("mia", 10006, "mia@example.org", OLD, language="ja-JP, en;q=0.5")
    d = ls.Slapd(S, people() + "\n" + mia)
    srv = smtpserver.Server()
    directory_world(d, srv)
    S.useradd("mia", "-u", "10006")
    S.drop_shadow_line("mia")
    a = ask(config(d), "lookup:mia:10006", "lookup:lena:10001")
    eq((a[1]["language"], a[2]["language"]), ("ja_JP", ""), a)

    def mail(n):
        msg = email.message_from_bytes(srv.wait_for(n)[n - 1][2], policy=email.policy.default)
        return str(msg["Subject"]), msg.get_content()

    def code_of(body):
        return re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", body).group(1)

    rc, out = S.client(["request mia 192.0.2.5"])
    subject, body = mail(1)
    eq(subject, "vm のアカウント mia のパスワードリセットコード".replace("vm", os.uname().nodename))
    rc, out = S.client([f"verify mia {code_of(body)}", f"setpw mia {NEW}"])
    eq(out, ["verify status=0", "set-password status=0 text="])
    check(mail(2)[0].endswith("のアカウント mia のパスワードが変更されました"), mail(2)[0])
    ctl = os.environ["PWR_CTL"]
    p = subprocess.run([ctl, "reset", "--print", "--no-lock", "mia"], capture_output=True,
                       text=True)
    check("==== パスワードのリセット: mia さんにお渡しください ====" in p.stdout, p.stdout)
    eq(subprocess.run([ctl, "revoke", "mia"]).returncode, 0)
    # its own language first
    eq(subprocess.run([ctl, "email", "language", "mia", "de"]).returncode, 0)
    S.client(["request mia 192.0.2.5"])
    check(mail(3)[0].startswith("Ihr Rücksetzcode für das Passwort von mia"), mail(3)[0])
    # no attribute: the host's language
    eq(subprocess.run([ctl, "email", "language", "mia", "default"]).returncode, 0)
    with open("/etc/pwreset/pwreset.conf", "a") as f:
        f.write("directory_language_attribute =\n")
    harness.restart_daemon()
    S.client(["request mia 192.0.2.5"])
    check(mail(4)[0].startswith("Your password reset code for mia"), mail(4)[0])
    srv.stop()


def as_mailer(*argv):
    return subprocess.run(["setpriv", "--reuid=pwreset", "--regid=pwreset", "--clear-groups",
                           *argv], capture_output=True, text=True, timeout=10)


def test_directory_agent_apart_from_mailer():
    """The agent holds the bind password; the mailer meets hostile SMTP servers. They run as
    two users, each from its own sysusers file, so the mailer's uid cannot read the agent's
    /proc files (environ, mem, fd): not after the agent made itself non-dumpable, and not in
    the moment before, when its files are still its own uid's."""
    import smtpserver as sm
    d = ls.Slapd(S, people())
    srv = sm.Server()
    directory_world(d, srv)
    rc, out = S.client(["request lena 192.0.2.5", "request alice 192.0.2.5"], "socket")
    srv.wait_for(2)
    mailers = harness.child_pids("pwreset-mailer", S.daemon.pid)
    agents = harness.child_pids("pwreset-directory", S.daemon.pid)
    eq((len(mailers), len(agents)), (1, 1), "the daemon's mailer and agent, kept running")
    ids = {}
    for user in ("pwreset", "pwreset-ldap"):
        pw = subprocess.run(["getent", "passwd", user], capture_output=True,
                            text=True).stdout.rstrip("\n").split(":")
        eq(pw[5:], ["/nonexistent", "/usr/sbin/nologin"], f"{user}: made by a sysusers file")
        ids[user] = (pw[2], pw[3])
    check(ids["pwreset"][0] != ids["pwreset-ldap"][0] and
          ids["pwreset"][1] != ids["pwreset-ldap"][1], f"two users, two groups: {ids}")
    for pid, user in ((mailers[0], "pwreset"), (agents[0], "pwreset-ldap")):
        status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines())
        eq((status["Uid"].split(), status["Gid"].split(), status["Groups"].strip()),
           ([ids[user][0]] * 4, [ids[user][1]] * 4, ""), f"{pid} runs as {user}")
    agent = agents[0]
    for argv in (["cat", f"/proc/{agent}/environ"], ["cat", f"/proc/{agent}/mem"],
                 ["ls", f"/proc/{agent}/fd"]):
        p = as_mailer(*argv)
        check(p.returncode != 0 and "Permission denied" in p.stderr,
              f"the mailer's uid: {' '.join(argv)}: {p.returncode} {p.stdout} {p.stderr}")
    # the moment before prctl(PR_SET_DUMPABLE, 0): a process of the agent's user still owns
    # its /proc files; the mailer's uid cannot read them either (one of its own uid could)
    env = {"PWR_STANDS_FOR": "the bind password"}
    for user, readable in (("pwreset-ldap", False), ("pwreset", True)):
        sleeper = subprocess.Popen(["setpriv", f"--reuid={user}", f"--regid={user}",
                                    "--clear-groups", "sleep", "30"], env=env)
        try:
            deadline = time.time() + 5
            while open(f"/proc/{sleeper.pid}/comm").read() != "sleep\n":  # setpriv is done
                check(time.time() < deadline, "the sleeper did not start")
                time.sleep(0.01)
            for argv in (["cat", f"/proc/{sleeper.pid}/environ"],
                         ["ls", f"/proc/{sleeper.pid}/fd"]):
                p = as_mailer(*argv)
                eq(p.returncode == 0, readable, f"{user}'s dumpable {argv}: {p.stderr}")
        finally:
            sleeper.kill()
            sleeper.wait()
    # one uid for both again: the helper refuses to start the agent, and says so
    conf = os.path.join(S.tmp, "same-uid.conf")
    with open("/etc/pwreset/pwreset.conf") as f, open(conf, "w") as g:
        g.write(f.read() + "mail_user = pwreset-ldap\n")
    p = subprocess.run([os.environ["PWR_HELPER"], "--check-config", conf], capture_output=True,
                       text=True)
    check("warning: mail_user pwreset-ldap has the uid of the directory agent's user "
          f"pwreset-ldap ({ids['pwreset-ldap'][0]}): the mailer could read the directory's "
          "bind password; refusing to start pwreset-directory" in p.stderr, p.stderr)
    srv.stop()


def test_directory_policy_and_eligibility():
    """The directory's policy refuses a password the local rules accept (its words reach the
    person, the entry is unchanged); check's reasons for directory accounts; a code is void
    once the password was changed in the directory by other means."""
    import smtpserver as sm
    d = ls.Slapd(S, people(), min_length=20)
    srv = sm.Server()
    directory_world(d, srv)
    S.client(["request lena"])
    code = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b",
                     srv.wait_for(1)[0][2].decode()).group(1)
    rc, out = S.client([f"verify lena {code}", "setpw lena Quartz-Lamp-58"])  # 14 < 20
    eq(out[0], "verify status=0")
    eq(out[1], "set-password status=10 text=Password fails quality checking policy",
       "BAD PASSWORD, in the directory's words")
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", OLD, check=False).returncode, 0,
       "the entry is unchanged")
    log = S.syslog()
    check(re.search(r"event=set-password user=lena .*reason=directory-policy", log), log)
    # an administrator changes the password by other means: the code is void
    d.admin("ldappasswd", "-s", "Changed-elsewhere-by-admin-1", LENA)
    rc, out = S.client([f"verify lena {code}"])
    eq(out, ["verify status=7"], "void once the entry's password changed")
    # who can reset, and why not
    rc, out = S.client(["check lena", "check max", "check ann", "check gone", "check alice"])
    # ann's address is ben's in the directory, and carol's and erin's here (any case)
    eq([line for line in out if line.startswith("check ")],
       ["check user=lena uid=10001 eligible=1 reasons=",
        "check user=max uid=10002 eligible=0 reasons=no-address",
        "check user=ann uid=10003 eligible=0 reasons=shared-address:ben,carol,erin",
        "check user=gone uid=10009 eligible=0 reasons=not-in-directory,no-address",
        "check user=alice uid=" + str(harness.uid("alice")) + " eligible=1 reasons="], out)
    # every account: the passwd file's, then the directory's that it does not hold
    rc, out = S.client(["check"])
    users = [re.match(r"check user=(\S+)", line).group(1) for line in out
             if line.startswith("check ")]
    eq(users.count("lena"), 1, out)
    eq(users[-1], "zoe", "the directory's own accounts come last")
    # one pass over every account gives each account the verdict of `check USER`; zoe, whom
    # this host's NSS does not know, is taken as the directory describes her
    everyone = sorted(line for line in out if line.startswith("check "))
    rc, one_by_one = S.client([f"check {u}" for u in users if u != "zoe"])
    one_by_one = [line for line in one_by_one if line.startswith("check ")]
    eq(everyone, sorted(one_by_one + ["check user=zoe uid=10005 eligible=1 reasons="]))
    # email set and pwreset-address refuse a directory account
    rc, out = S.client(["email-set lena other@example.org"])
    check("comes from the directory (mail)" in out[0], out)
    p = subprocess.run(["setpriv", "--reuid=lena", "--regid=lena", "--clear-groups",
                        os.environ["PWR_ADDRESS"], "set", "other@example.org"],
                       input=OLD + "\n", capture_output=True, text=True)
    eq((p.returncode, p.stderr), (1, "pwreset-address: the address of lena comes from the "
                                     "directory (mail)\n"), "pwreset-address refuses too")
    # shown as the directory's
    p = subprocess.run([os.environ["PWR_CTL"], "email", "show", "lena"], capture_output=True,
                       text=True)
    eq(p.stdout, "lena@example.org\nsource: directory\nconfirmed: never (the directory's)\n"
                 "language: default (mail_language)\n")
    p = subprocess.run(["setpriv", "--reuid=lena", "--regid=lena", "--clear-groups",
                        os.environ["PWR_ADDRESS"]], capture_output=True, text=True)
    eq(p.stdout, "lena@example.org\nset by:    the directory\n")
    d.stop()
    rc, out = S.client(["check lena"])
    eq(out[0], "check user=lena uid=10001 eligible=0 reasons=directory-unreachable")
    rc, out = S.client(["check alice"])
    check(out[0].endswith("eligible=1 reasons="), "local accounts are not held up")
    p = subprocess.run([os.environ["PWR_CTL"], "status"], capture_output=True, text=True)
    check(re.search(r"directory: +ldap://\S+, NOT ANSWERING: .*Can't contact LDAP server",
                    p.stdout), p.stdout)
    # every account: nothing listed, and the error says the directory did not answer
    p = subprocess.run([os.environ["PWR_CTL"], "check"], capture_output=True, text=True)
    eq((p.returncode, p.stdout), (1, ""))
    check(re.fullmatch(r"pwresetctl: check: cannot check accounts: the directory did not "
                       r"answer: .*Can't contact LDAP server.*\n", p.stderr), p.stderr)
    srv.stop()


def test_directory_check_limits():
    """check of every account, 600 of them in the directory: with slapd's default limits it
    fails, saying which limit stopped the listing and what to allow; with the shipped olcLimits
    (conf/directory/slapd-limits.ldif) it lists all 600."""
    import smtpserver as sm
    many = "\n".join(ls.person(f"u{i:04d}", 20000 + i, f"u{i:04d}@example.org")
                     for i in range(600))
    d = ls.Slapd(S, people() + "\n" + many, limits=False)
    srv = sm.Server()
    directory_world(d, srv)
    for transport in ("socket", "oneshot"):
        p = subprocess.run([os.environ["PWR_CTL"], "--helper", S.helper, "check"] +
                           (["--socket", "/run/pwreset/none.sock"] if transport == "oneshot"
                            else []), capture_output=True, text=True)
        eq((p.returncode, p.stdout), (1, ""), p.stderr)
        eq(p.stderr, "pwresetctl: check: cannot check accounts: the directory stopped the "
           "listing at 500 entries (size limit): allow the service account "
           "size.prtotal=unlimited (olcLimits; see conf/directory/)\n", transport)
    check(re.search(r"directory: cannot list its accounts: the directory stopped the listing "
                    r"at 500 entries \(size limit\)", S.syslog()), "logged")
    d.modify(ls.LIMITS)
    p = subprocess.run([os.environ["PWR_CTL"], "--json-seq", "check"], capture_output=True,
                       text=True)
    texts = [json.loads(r) for r in p.stdout.split("\x1e")[1:]]
    listed = [t["user"] for t in texts[:-1] if t["user"].startswith("u0")]
    eq((len(listed), len(set(listed))), (600, 600), p.stderr)
    eq([t["eligible"] for t in texts[:-1] if t["user"] == "u0599"], [True])
    srv.stop()


def admin_reset(d, srv, sent):
    """pwresetctl reset lena: the code mailed to the entry's address, then used to set a new
    password. pwresetctl's result (JSON), and the mails the server then has."""
    p = subprocess.run([os.environ["PWR_CTL"], "--json", "reset", "lena"], capture_output=True,
                       text=True)
    eq(p.returncode, 0, p.stderr)
    out = json.loads(p.stdout)["results"]
    msgs = srv.wait_for(sent + 1)
    eq(msgs[sent][1], ["lena@example.org"], "the code goes to the entry's mail")
    code = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", msgs[sent][2].decode()).group(1)
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", OLD, check=False).returncode, 49,
       "the old password no longer binds")
    rc2, out2 = S.client([f"verify lena {code}", f"setpw lena {NEW}"])
    eq(out2, ["verify status=0", "set-password status=0 text="])
    eq(d.ldap("ldapwhoami", "-x", "-D", LENA, "-w", NEW, check=False).returncode, 0,
       "the new password binds: the lock is gone")
    eq(d.attribute(LENA, "pwdAccountLockedTime"), [], "no lock left")
    return out[0], sent + 2


def test_directory_admin_reset():
    """pwresetctl reset of a directory account: ppolicy's administrative lock (the old password
    no longer binds), the code mailed to the entry's address sets a new password and unlocks;
    without the ppolicy overlay, the random-password fallback, said in the result."""
    import smtpserver as sm
    srv = sm.Server()
    d = ls.Slapd(S, people())
    directory_world(d, srv)
    res, sent = admin_reset(d, srv, 0)
    eq((res["ok"], res["locked"], res["random_password"], res["mailed"]),
       (True, True, False, True), res)
    log = S.syslog()
    check(re.search(r"event=admin-reset user=lena .*result=ok .*source=directory", log), log)
    d.stop()
    S.stop_daemon()
    S.start_daemon()
    d2 = ls.Slapd(S, people(), ppolicy=False)
    with open("/etc/pwreset/pwreset.conf") as f:
        text = f.read().replace(d.url, d2.url).replace(d.ca, d2.ca)
    S.write_config(text)
    S.stop_daemon()
    S.start_daemon()
    res, sent = admin_reset(d2, srv, sent)
    eq((res["ok"], res["locked"], res["random_password"], res["mailed"]),
       (True, True, True, True), res)
    # and in words, for an administrator at a terminal (a second reset, mailed again)
    p = subprocess.run([os.environ["PWR_CTL"], "reset", "lena"], capture_output=True,
                       text=True)
    check(p.stdout.startswith("lena: password replaced by a random one (the directory offers "
                              "no lock); a code was queued"), p.stdout)
    srv.stop()


# ---- a directory host: nslcd, pam_ldap and sshd in the sandbox (SPEC §12 at the prompt) ----

ZOE = f"uid=zoe,{ls.PEOPLE}"


def directory_host(d, srv, extra="", world=True):
    """This sandbox as a host of the directory's: nslcd, NSS and the helper configured (and the
    local accounts of test_helper's world, unless world is False)."""
    nslcd = ls.Nslcd(S, ls.nslcd_conf(d))
    harness.directory_helper(srv, keys(d) + extra, ls.SERVICE_PW, world=world)
    return nslcd


def test_directory_protected_groups():
    """A delegated administrator and a directory account in a directory group that grants root
    (issue 29): with admin_protected_groups = ldapadmins, a posixGroup of the directory that NSS
    reads through nslcd, gina (admin_group) cannot reset zoe and check shows her zoe as
    protected; root can."""
    import smtpserver as sm
    group = (f"dn: cn=ldapadmins,{ls.PEOPLE}\nobjectClass: posixGroup\ncn: ldapadmins\n"
             "gidNumber: 5000\nmemberUid: zoe\n")
    d = ls.Slapd(S, people() + "\n" + group)
    srv = sm.Server()
    directory_host(d, srv, "admin_group = pwadmin\nadmin_protected_groups = ldapadmins\n")
    subprocess.run(["usermod", "-aG", "pwadmin", "gina"], check=True)
    groups = subprocess.run(["id", "-Gn", "zoe"], capture_output=True, text=True).stdout
    check("ldapadmins" in groups.split(), f"zoe's group comes from the directory: {groups}")
    as_gina = ["setpriv", "--reuid=gina", "--regid=gina", "--init-groups"]
    p = subprocess.run(as_gina + [os.environ["PWR_CTL"], "reset", "--print", "zoe"],
                       capture_output=True, text=True)
    eq((p.returncode, p.stderr), (3, "pwresetctl: reset: zoe: only root may act on zoe: it is "
                                     "in a group that grants root (admin_protected_groups)\n"))
    p = subprocess.run(as_gina + [os.environ["PWR_CTL"], "--json", "check", "zoe"],
                       capture_output=True, text=True)
    eq(json.loads(p.stdout)["users"][0]["reasons"], ["protected"])
    p = subprocess.run([os.environ["PWR_CTL"], "reset", "--print", "--no-lock", "zoe"],
                       capture_output=True, text=True)
    eq(p.returncode, 0, f"root may: {p.stderr}")
    srv.stop()


def test_directory_ssh_reset():
    """A directory user at a real sshd (keyboard-interactive), known to the host through nslcd:
    locked out by ppolicy after wrong binds; wrong password, reset, the code from the SMTP
    server (sent to the entry's mail), a password the directory's policy refuses (BAD
    PASSWORD and its words), then one it takes; a fresh ssh logs in with it through pam_ldap,
    ldapwhoami binds with it and not the old one, pwdChangedTime moved, the lockout is
    gone."""
    import smtpserver as sm
    d = ls.Slapd(S, people(), min_length=16)  # above this host's 8
    srv = sm.Server()
    nslcd = directory_host(d, srv)
    eq(subprocess.run(["getent", "passwd", "zoe"], capture_output=True, text=True).stdout,
       "zoe:*:10005:10005:zoe:/home/zoe:/bin/sh\n", "zoe is known through nslcd")
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    out, rc = ssh_login(sshd, "zoe", OLD)
    eq(rc, 0, f"pam_ldap logs zoe in: {out}")
    for _ in range(4):
        d.ldap("ldapwhoami", "-x", "-D", ZOE, "-w", "wrong", check=False)
    check(d.attribute(ZOE, "pwdAccountLockedTime"), "locked out")
    before = d.attribute(ZOE, "pwdChangedTime")
    time.sleep(1.1)
    # the directory's policy refuses a password this host accepts: its words, then again
    out, rc = harness.ssh_reset(sshd, srv, "zoe", 0, passwords=("Quartz-Lamp-58", NEW))
    check("Password changed." in out, out)
    check("BAD PASSWORD: Password fails quality checking policy" in out, out)
    out, rc = ssh_login(sshd, "zoe", NEW)
    check("LOGGED-IN as zoe" in out, out)
    eq(rc, 0, "the new password logs in through pam_ldap")
    eq(d.ldap("ldapwhoami", "-x", "-D", ZOE, "-w", NEW, check=False).returncode, 0, "new")
    eq(d.ldap("ldapwhoami", "-x", "-D", ZOE, "-w", OLD, check=False).returncode, 49, "old")
    check(d.attribute(ZOE, "pwdChangedTime") != before, "pwdChangedTime moved")
    eq(d.attribute(ZOE, "pwdAccountLockedTime"), [], "the lockout is gone")
    check(re.search(r"event=password-changed user=zoe .*source=directory", S.syslog()),
          S.syslog()[-2000:])
    sshd.stop()
    srv.stop()


def test_directory_texts_and_timing():
    """At the ssh prompt of a directory host, an eligible directory user (lena) and local one
    (alice), a directory user without mail (max), one whose mail another entry has (ann), one
    NSS knows that is not under the search base (gone), and, with slapd stopped, a directory
    user whose passwd line this host keeps (kim: directory-unreachable): the same transcript,
    only the eligible are mailed, and the time from "reset" to the next prompt within 20 ms
    (medians of 10)."""
    import smtpserver as sm
    d = ls.Slapd(S, people() + "\n" + ls.person("kim", 10006, "kim@example.org", OLD))
    srv = sm.Server()
    for name, uid in (("gone", "10009"), ("kim", "10006")):
        S.useradd(name, "-u", uid)
        S.drop_shadow_line(name)
    nslcd = directory_host(d, srv)
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    users = ("lena", "alice", "max", "ann", "gone")
    texts, medians = reset_rounds(sshd, users)
    d.stop()
    texts2, medians2 = reset_rounds(sshd, ("alice", "kim"))
    print("reset → next prompt, medians of 10:",
          ", ".join(f"{u} {m:.1f} ms" for u, m in medians.items()),
          "| slapd stopped:", ", ".join(f"{u} {m:.1f} ms" for u, m in medians2.items()))
    for u in users:
        eq(texts[u], texts["alice"], f"{u}'s transcript and alice's")
    eq(texts2["kim"], texts["alice"], "kim's with the directory down")
    check(SENT in next(iter(texts["alice"])), texts["alice"])
    spread = max(medians.values()) - min(medians.values())
    check(spread <= 20, f"medians {spread:.1f} ms apart")
    check(abs(medians2["kim"] - medians2["alice"]) <= 20, medians2)
    time.sleep(2)
    got = sorted({r[0] for _, r, _ in srv.messages})
    eq(got, ["alice@example.org", "lena@example.org"], "only the eligible are mailed")
    log = S.syslog()
    for u, why in (("max", "no-address"), ("ann", "shared-address:ben"),
                   ("gone", "not-in-directory"), ("kim", "directory-unreachable")):
        check(re.search(rf"event=request user={u} .*reason=\S*{why}", log), f"{u}: {why}")
    sshd.stop()
    srv.stop()


def test_directory_two_hosts():
    """The directory is the fleet's one source of truth: a password reset at this host logs in
    at a second host (another sandbox: its own /etc, nslcd, helper and store, the same slapd),
    and one reset there logs in here."""
    import smtpserver as sm
    d = ls.Slapd(S, people())
    srv = sm.Server()
    nslcd = directory_host(d, srv)
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    check("Password changed." in harness.ssh_reset(sshd, srv, "zoe", 0, passwords=(NEW,))[0],
          "zoe's reset")
    harness.as_second_host(__file__, {"port": d.port, "ca": d.ca, "login": NEW,
                                      "reset": "Second-host-77"})
    out, rc = ssh_login(sshd, "zoe", "Second-host-77")
    eq(rc, 0, f"the password set at the second host logs in here: {out}")
    sshd.stop()
    srv.stop()


def part_as_second_host():
    """Run by test_directory_two_hosts in a sandbox of its own (PWR_SECOND_HOST says where the
    directory is): log zoe in with the password set at the first host, then reset it here,
    with this host's own store and mail server."""
    import smtpserver as sm
    given = json.loads(os.environ["PWR_SECOND_HOST"])
    d = type("Remote", (), {"port": given["port"], "ca": given["ca"],
                            "url": f"ldap://localhost:{given['port']}"})()
    srv = sm.Server()
    nslcd = directory_host(d, srv, "state_dir = /var/lib/pwreset-second\n", world=False)
    harness.second_host_round(nslcd.ssh_stack(S.helper), srv, "zoe", given)


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
