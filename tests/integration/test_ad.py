# SPDX-License-Identifier: BSD-3-Clause
"""Active Directory (SPEC §12.1) with a real Samba AD DC in the sandbox (adserver.py): the
domain, its delegated service account, and pwreset-directory speaking AD. Run one case:
test_ad.py CASE."""

import json
import os
import re
import subprocess
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adserver as ad  # noqa: E402
import harness  # noqa: E402
import ldapserver as ls  # noqa: E402
import smtpserver  # noqa: E402
import sshserver  # noqa: E402
from harness import check, eq, ssh_login  # noqa: E402

S = None
OLD = "Alice-Old-Pass1"
NEW = "Tulip-Gravel-Orbit-93"  # 21 characters: the domain's minimum is raised to 20
ALICE = f"CN=ayla,{ad.PEOPLE}"
CORA = f"CN=cora,{ad.PEOPLE}"


def people():
    return (ad.person("ayla", 20001, "ayla@example.test", OLD) + "\n" +
            ad.person("boris", 20002, None, "Bob-Old-Pass1") + "\n")


def test_ad_delegation():
    """The service account binds, resets a password in its OU (unicodePwd over LDAPS) and
    writes lockoutTime there; it cannot reset Administrator's, nor write any other attribute;
    a simple bind in the clear is refused."""
    dc = ad.DC(S, people())
    eq(dc.binds(ALICE, OLD)[0], True, "ayla as provisioned")
    eq(dc.binds(ad.SERVICE_UPN, ad.SERVICE_PW)[0], True, "the service account")

    def modify(dn, attr, value, b64=False):
        sep = ":: " if b64 else ": "
        return dc.ldap("ldapmodify", "-x", "-D", ad.SERVICE_UPN, "-w", ad.SERVICE_PW,
                       input=f"dn: {dn}\nchangetype: modify\nreplace: {attr}\n{attr}{sep}"
                             f"{value}\n-\n", check=False)

    p = modify(ALICE, "unicodePwd", ad.quoted_password("Alice-New-Pass2"), True)
    eq(p.returncode, 0, p.stderr)
    eq((dc.binds(ALICE, "Alice-New-Pass2")[0], dc.binds(ALICE, OLD)[0]), (True, False))
    eq(modify(ALICE, "lockoutTime", "0").returncode, 0)
    p = modify(f"CN=Administrator,CN=Users,{ad.BASE}", "unicodePwd",
               ad.quoted_password("X-Pass-98765"), True)
    check(p.returncode == 50, f"outside its OU: {p.returncode} {p.stderr}")
    p = modify(ALICE, "mail", "x@example.test")
    check(p.returncode == 50, f"an attribute not delegated: {p.returncode} {p.stderr}")
    p = dc.ldap("ldapsearch", "-x", "-D", ad.SERVICE_UPN, "-w", ad.SERVICE_PW, "-b", "",
                "-s", "base", "1.1", url="ldap://127.0.0.1", check=False)
    check(p.returncode == 8 and "Strong(er) authentication required" in p.stderr, p.stderr)


def agent_conf(dc, type_=1, url=None, filter_=""):
    """dirclient's configuration of the agent for dc: as the service account, AD (type 1)."""
    path = os.path.join(S.tmp, "dirclient.conf")
    with open(path, "w") as f:
        f.write(f"urls {url or dc.url}\nca_file {dc.ca}\nbind_dn {ad.SERVICE_UPN}\n"
                f"password {ad.SERVICE_PW}\nbase {ad.BASE}\nfilter {filter_}\nattr mail\n"
                f"lang_attr preferredLanguage\nstarttls 0\ntimeout 5\ntype {type_}\n")
    os.chmod(path, 0o644)
    return path


def test_ad_agent():
    """pwreset-directory speaking AD as the delegated service account, over LDAPS and over
    StartTLS, told the type or finding it (auto): the entry by sAMAccountName and uidNumber,
    bound to pwdLastSet; a new password (unicodePwd) binds and the old one does not, the
    lockout cleared; AD's refusals as reasons (too short, not complex); disabled and expired
    accounts flagged; an administrator's reset is a random password, unlocked; the status
    names the service account."""
    dc = ad.DC(S, people() + "\n" +
               ad.person("cora", 20003, "cora@example.test", "Carol-Old-Pass1",
                         uac=514) + "\n" +
               ad.person("dirk", 20004, "dirk@example.test", "Dave-Old-Pass1",
                         extra=["accountExpires: 116444736000000000"]))  # 1970
    for type_, url in ((1, None), (2, None), (1, dc.starttls_url)):
        a = ls.agent(agent_conf(dc, type_, url), "lookup:ayla:20001", "status")
        eq((a[0]["status"], a[1]["status"], a[1]["dn"], a[1]["address"], a[1]["flags"]),
           ("ok", "ok", ALICE, "ayla@example.test", "0"), a)
        check(a[1]["binding"].startswith("pwdLastSet:1"), a[1])
        eq((a[2]["text"], a[2]["count"]), (ad.SERVICE_UPN, "1"), "as whom, and AD")
    conf = agent_conf(dc)
    a = ls.agent(conf, "lookup:cora:20003", "lookup:dirk:20004", "lookup:ayla:99")
    eq([x["flags"] for x in a[1:3]], ["1", "2"], "disabled, expired")
    eq(a[3]["status"], "not-found", "another uidNumber")
    before = a and ls.agent(conf, "lookup:ayla:20001")[1]["binding"]
    time.sleep(1.1)  # pwdLastSet counts 100 ns, but the test reads it back
    a = ls.agent(conf, f"passwd:{ALICE}:Ab1!", f"passwd:{ALICE}:alllowercaseletters",
                 f"passwd:{ALICE}:Alice-New-Pass2", "lookup:ayla:20001")
    eq([(x["status"], x["text"]) for x in a[1:4]],
       [("refused", "too-short"), ("refused", "not-complex"), ("ok", "")])
    check(a[4]["binding"] != before, "the binding moved with the password")
    eq((dc.binds(ALICE, "Alice-New-Pass2")[0], dc.binds(ALICE, OLD)[0]), (True, False))
    eq(dc.attribute(ALICE, "lockoutTime"), ["0"])
    a = ls.agent(conf, f"lock:{ALICE}")
    eq((a[1]["status"], a[1]["count"]), ("ok", "2"), "a random password")
    eq(dc.binds(ALICE, "Alice-New-Pass2")[0], False, "the password is gone")
    check(a[1]["binding"].startswith("pwdLastSet:"), a[1])


CTL = os.environ.get("PWR_CTL", "")


def ad_world(dc, srv, names, extra="", world=True):
    """The helper configured for dc as the service account (directory_type = ad, LDAPS, the
    test's CA), mail to srv; names (name, uid) known to NSS with no shadow line (not local);
    the local accounts of harness.setup_world unless world is False (a second host, whose /etc
    is the first one's)."""
    harness.directory_helper(srv, f"directory_type = ad\ndirectory_url = {dc.url}\n"
                             f"directory_ca_file = {dc.ca}\ndirectory_bind_dn = "
                             f"{ad.SERVICE_UPN}\ndirectory_base = {ad.BASE}\n" + extra,
                             ad.SERVICE_PW, names, world)


def test_ad_reset_through_helper():
    """An AD account through the helper: the code goes to its mail; a password the domain
    refuses (too short, not complex) is said in words and another can be tried; the new one
    binds, the old one does not, lockoutTime is 0; a disabled and an expired account are
    expired in check; status names the service account and the type."""
    dc = ad.DC(S, people() + "\n" +
               ad.person("cora", 20003, "cora@example.test", "Carol-Old-Pass1", uac=514) +
               "\n" + ad.person("dirk", 20004, "dirk@example.test", "Dave-Old-Pass1",
                                extra=["accountExpires: 116444736000000000"]))
    srv = smtpserver.Server()
    ad_world(dc, srv, (("ayla", 20001), ("boris", 20002), ("cora", 20003), ("dirk", 20004)))
    rc, out = S.client(["request ayla 192.0.2.5"])
    msgs = srv.wait_for(1)
    eq(msgs[0][1], ["ayla@example.test"], "the entry's mail")
    code = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", msgs[0][2].decode()).group(1)
    # the domain's rules stricter than this host's, so that they are the ones that refuse
    dc.replace(ad.BASE, minPwdLength=20)
    rc, out = S.client([f"verify ayla {code}", "setpw ayla Copper-Lantern-58",
                        "setpw ayla zqxjvkwpmhtrbnfdglcsyae", "setpw ayla Tulip-Gravel-Orbit-93"])
    eq(out, ["verify status=0",
             "set-password status=10 text=The directory refused it: the password is too short.",
             "set-password status=10 text=The directory refused it: the password is not "
             "complex enough (mix upper and lower case letters, digits and symbols).",
             "set-password status=0 text="])
    eq((dc.binds(ALICE, "Tulip-Gravel-Orbit-93")[0], dc.binds(ALICE, OLD)[0]), (True, False))
    eq(dc.attribute(ALICE, "lockoutTime"), ["0"])
    p = subprocess.run([CTL, "--json", "check", "cora", "dirk", "boris", "ayla"],
                       capture_output=True, text=True)
    reasons = {u["user"]: u["reasons"] for u in json.loads(p.stdout)["users"]}
    eq((reasons["cora"], reasons["dirk"], reasons["boris"], reasons["ayla"]),
       (["expired"], ["expired"], ["no-address"], []), reasons)
    p = subprocess.run([CTL, "status"], capture_output=True, text=True)
    check(f"bound as {ad.SERVICE_UPN} (Active Directory)\n" in p.stdout, p.stdout)
    p = subprocess.run([CTL, "--json", "status"], capture_output=True, text=True)
    eq(json.loads(p.stdout)["directory"], {"url": dc.url, "answers": True,
                                           "bound_as": ad.SERVICE_UPN, "type": "ad"})
    srv.stop()


def test_ad_admin_reset():
    """pwresetctl reset of an AD account: its password replaced by a random one, and said so
    (AD has no administrative lock); the old one no longer binds; the code mailed to the
    entry's mail sets a new one. A password an administrator sets on the DC (samba-tool user
    setpassword) voids a pending code."""
    emil = f"CN=emil,{ad.PEOPLE}"
    dc = ad.DC(S, people() + "\n" + ad.person("emil", 20005, "emil@example.test",
                                              "Emil-Old-Pass1"))
    srv = smtpserver.Server()
    ad_world(dc, srv, (("ayla", 20001), ("emil", 20005)))
    p = subprocess.run([CTL, "reset", "ayla"], capture_output=True, text=True)
    eq(p.returncode, 0, p.stderr)
    check(p.stdout.startswith("ayla: password replaced by a random one (the directory offers "
                              "no lock); a code was queued"), p.stdout)
    ok, why = dc.binds(ALICE, OLD)
    check(not ok and "data 52e" in why, f"the old password no longer binds: {why}")
    code = harness.mailed_code(srv, 1, "ayla", "ayla@example.test")
    rc, out = S.client([f"verify ayla {code}", f"setpw ayla {NEW}"])
    eq(out, ["verify status=0", "set-password status=0 text="])
    eq(dc.binds(ALICE, NEW)[0], True, "the code set a new password")
    check(re.search(r"event=admin-reset user=ayla .*result=ok .*source=directory",
                    S.syslog()), S.syslog()[-2000:])
    sent = len(srv.wait_for(2))  # the code, and the notice of the change
    S.client(["request emil 192.0.2.5"])
    code = harness.mailed_code(srv, sent + 1, "emil", "emil@example.test")
    ad.samba_tool(dc.conf, "user", "setpassword", "emil", "--newpassword=Set-On-The-DC-77")
    eq(dc.binds(emil, "Set-On-The-DC-77")[0], True, "the DC's administrator set it")
    rc, out = S.client([f"verify emil {code}"])
    eq(out, ["verify status=7"], "void once pwdLastSet moved")
    srv.stop()


def test_ad_outside_the_delegation():
    """An account the helper finds but may not reset (in CN=Users, outside the delegated OU;
    directory_base the whole domain): the new password is not set, the person is told reset
    is not available (PWR_E_INTERNAL: the module's "not available right now"), the log has
    the domain's reason; an administrator's reset fails and says why; the password stays."""
    zed = f"CN=zed,CN=Users,{ad.BASE}"
    dc = ad.DC(S, people() + "\n" + ad.person("zed", 20009, "zed@example.test",
                                              "Zed-Old-Pass1").replace(
        f"CN=zed,{ad.PEOPLE}", zed))
    srv = smtpserver.Server()
    ad_world(dc, srv, (("zed", 20009),))
    S.client(["request zed 192.0.2.5"])
    code = harness.mailed_code(srv, 1, "zed", "zed@example.test")
    rc, out = S.client([f"verify zed {code}", f"setpw zed {NEW}"])
    eq(out, ["verify status=0", "set-password status=4 text=the password could not be set; "
                                "see the helper's log"])
    check(re.search(r"event=set-password user=zed .*result=error reason=\"password modify: "
                    r"Insufficient access", S.syslog()), S.syslog()[-1500:])
    p = subprocess.run([CTL, "reset", "zed"], capture_output=True, text=True)
    check(p.returncode == 1 and p.stderr.startswith(
        "pwresetctl: reset: zed: lock with a random password: Insufficient access"), p.stderr)
    eq(dc.binds(zed, "Zed-Old-Pass1")[0], True, "zed's password is unchanged")
    srv.stop()


def test_ad_ssh_reset():
    """An AD user at a real sshd, known to the host through nslcd (conf/directory/ad/
    nslcd.conf) and logging in through pam_ldap: locked out by wrong binds (775), she resets
    with the code mailed to her mail; a password the domain refuses is said in words and
    another is taken in the same conversation; the new one binds, the old one is refused as
    wrong (52e, not a lockout), lockoutTime is 0, and a fresh ssh logs in. A user who must
    change (pwdLastSet 0: 773) resets alike and is no longer forced to change. NSS's shadow
    database answers for them too (nslcd's shadow map), and they stay directory accounts."""
    dc = ad.DC(S, people() + "\n" + ad.person("cora", 20003, "cora@example.test",
                                              "Carol-Old-Pass1"))
    dc.replace(ad.BASE, lockoutThreshold=3, minPwdLength=20)
    dc.replace(CORA, pwdLastSet=0)
    srv = smtpserver.Server()
    # with the shadow map many AD hosts have, NSS's shadow database answers for AD users: an
    # account is local only by a line in the file /etc/shadow itself
    nslcd = ls.Nslcd(S, dc.nslcd_conf() + "filter shadow (&(objectClass=user)(uidNumber=*))\n"
                     "map shadow uid sAMAccountName\nmap shadow shadowLastChange pwdLastSet\n",
                     ("passwd", "group", "shadow"))
    ad_world(dc, srv, ())
    p = subprocess.run(["getent", "passwd", "ayla"], capture_output=True, text=True)
    eq(p.stdout, "ayla:*:20001:20001::/home/ayla:/bin/sh\n", "ayla is known through nslcd")
    p = subprocess.run(["getent", "shadow", "ayla"], capture_output=True, text=True)
    check(p.stdout.startswith("ayla:"), f"NSS's shadow answers for ayla: {p.stdout}")
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    out, rc = ssh_login(sshd, "ayla", OLD)
    eq(rc, 0, f"pam_ldap logs ayla in: {out}")
    for _ in range(3):
        dc.binds(ALICE, "Not-her-password-1")
    ok, why = dc.binds(ALICE, OLD)
    check(not ok and "data 775" in why, f"locked out: {why}")
    out, rc = ssh_login(sshd, "ayla", OLD)
    check(rc != 0 and "LOGGED-IN" not in out, f"the lockout holds at ssh: {out}")
    out, rc = harness.ssh_reset(sshd, srv, "ayla", 0, "ayla@example.test",
                                ("Copper-Lantern-58", NEW))
    check("BAD PASSWORD: The directory refused it: the password is too short." in out, out)
    check("Password changed." in out, out)
    ok, why = dc.binds(ALICE, OLD)
    check(not ok and "data 52e" in why, f"the old password is wrong, not locked: {why}")
    eq(dc.binds(ALICE, NEW)[0], True, "the new password binds")
    eq(dc.attribute(ALICE, "lockoutTime"), ["0"])
    out, rc = ssh_login(sshd, "ayla", NEW)
    check(rc == 0 and "LOGGED-IN as ayla" in out, f"a fresh ssh logs in: {out}")
    ok, why = dc.binds(CORA, "Carol-Old-Pass1")
    check(not ok and "data 773" in why, f"cora must change her password: {why}")
    out, rc = harness.ssh_reset(sshd, srv, "cora", 2, "cora@example.test", (NEW,))
    check("Password changed." in out, out)
    check(dc.attribute(CORA, "pwdLastSet") != ["0"], dc.attribute(CORA, "pwdLastSet"))
    eq(dc.binds(CORA, NEW)[0], True, "cora's new password binds")
    out, rc = ssh_login(sshd, "cora", NEW)
    check(rc == 0 and "LOGGED-IN as cora" in out, f"cora logs in: {out}")
    for who in ("ayla", "cora"):
        check(re.search(rf"event=password-changed user={who} .*source=directory", S.syslog()),
              S.syslog()[-2000:])
    sshd.stop()
    srv.stop()


def test_ad_texts_and_timing():
    """At the ssh prompt of a host of the domain (nslcd): an eligible AD user (ayla) and a
    local one (alice), one without mail (boris), a disabled one (cora), an expired one (dirk),
    one whose mail another account has (emil, fritz): the same transcript, only the eligible
    are mailed, and the time from "reset" to the next prompt within 20 ms (medians of 6);
    check gives each its reason."""
    dc = ad.DC(S, people() + "\n" + "\n".join((
        ad.person("cora", 20003, "cora@example.test", "Carol-Old-Pass1", uac=514),
        ad.person("dirk", 20004, "dirk@example.test", "Dave-Old-Pass1",
                  extra=["accountExpires: 116444736000000000"]),
        ad.person("emil", 20005, "team@example.test", "Emil-Old-Pass1"),
        ad.person("fritz", 20006, "TEAM@example.test", "Fritz-Old-Pass1"))))
    srv = smtpserver.Server()
    nslcd = ls.Nslcd(S, dc.nslcd_conf())
    ad_world(dc, srv, ())
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    users = ("ayla", "alice", "boris", "cora", "dirk", "emil")
    texts, medians = harness.reset_rounds(sshd, users, rounds=6)
    print("reset → next prompt, medians of 6:",
          ", ".join(f"{u} {m:.1f} ms" for u, m in medians.items()))
    for u in users:
        eq(texts[u], texts["alice"], f"{u}'s transcript and alice's")
    check(harness.SENT in next(iter(texts["alice"])), texts["alice"])
    spread = max(medians.values()) - min(medians.values())
    check(spread <= 20, f"medians {spread:.1f} ms apart")
    time.sleep(2)
    eq(sorted({r[0] for _, r, _ in srv.messages}), ["alice@example.org", "ayla@example.test"],
       "only the eligible are mailed")
    p = subprocess.run([CTL, "--json", "check", *users[2:]], capture_output=True, text=True)
    reasons = {u["user"]: u["reasons"] for u in json.loads(p.stdout)["users"]}
    eq(reasons, {"boris": ["no-address"], "cora": ["expired"], "dirk": ["expired"],
                 "emil": ["shared-address:fritz"]})
    sshd.stop()
    srv.stop()


def test_ad_protected_groups():
    """A group of the domain that grants root, named as NSS sees it through nslcd ("Domain
    Admins", given a gidNumber; a name with a space): a delegated administrator (gina,
    admin_group) cannot reset ayla, a member, and check says protected; boris, not a member,
    she can; root can reset ayla."""
    dc = ad.DC(S, people())
    dc.admin("ldapmodify", input=f"dn: CN=Domain Admins,CN=Users,{ad.BASE}\n"
                                 "changetype: modify\nadd: gidNumber\ngidNumber: 20512\n-\n"
                                 f"add: member\nmember: {ALICE}\n-\n")
    srv = smtpserver.Server()
    ls.Nslcd(S, dc.nslcd_conf())
    ad_world(dc, srv, (), "admin_group = pwadmin\n"
                          "admin_protected_groups = root, sudo, Domain Admins\n")
    subprocess.run(["usermod", "-aG", "pwadmin", "gina"], check=True)
    p = subprocess.run(["id", "-Gn", "ayla"], capture_output=True, text=True)
    check("Domain Admins" in p.stdout, f"ayla's groups come from the domain: {p.stdout}")
    as_gina = ["setpriv", "--reuid=gina", "--regid=gina", "--init-groups", CTL]
    p = subprocess.run(as_gina + ["reset", "--print", "ayla"], capture_output=True, text=True)
    eq((p.returncode, p.stderr), (3, "pwresetctl: reset: ayla: only root may act on ayla: it "
                                     "is in a group that grants root (admin_protected_groups)\n"))
    p = subprocess.run(as_gina + ["--json", "check", "ayla", "boris"], capture_output=True,
                       text=True)
    eq([u["reasons"] for u in json.loads(p.stdout)["users"]], [["protected"], ["no-address"]])
    p = subprocess.run(as_gina + ["reset", "--print", "boris"], capture_output=True, text=True)
    eq(p.returncode, 0, f"gina may reset boris: {p.stderr}")
    p = subprocess.run([CTL, "reset", "--print", "ayla"], capture_output=True, text=True)
    eq(p.returncode, 0, f"root may reset ayla: {p.stderr}")
    check("no group" not in S.syslog(), S.syslog()[-2000:])
    srv.stop()


def test_ad_two_hosts():
    """The domain is the fleet's one source of truth: a password reset at this host logs in at
    a second host (another sandbox: its own /etc, nslcd, helper and store, the same DC), and
    one reset there logs in here."""
    dc = ad.DC(S, people())
    srv = smtpserver.Server()
    nslcd = ls.Nslcd(S, dc.nslcd_conf())
    ad_world(dc, srv, ())
    sshd = sshserver.Sshd(S, pam_auth=nslcd.ssh_stack(S.helper))
    out, rc = harness.ssh_reset(sshd, srv, "ayla", 0, "ayla@example.test", (NEW,))
    check("Password changed." in out, out)
    harness.as_second_host(__file__, {"ca": dc.ca, "login": NEW,
                                      "reset": "Second-Host-Lantern-77"})
    out, rc = ssh_login(sshd, "ayla", "Second-Host-Lantern-77")
    check(rc == 0 and "LOGGED-IN as ayla" in out, f"the second host's password here: {out}")
    sshd.stop()
    srv.stop()


def part_as_second_host():
    """Run by test_ad_two_hosts in a sandbox of its own (PWR_SECOND_HOST: the DC's CA and the
    passwords): log ayla in with the password set at the first host, then reset it here, with
    this host's own store and mail server."""
    given = json.loads(os.environ["PWR_SECOND_HOST"])
    dc = types.SimpleNamespace(url="ldaps://localhost", ca=given["ca"])
    srv = smtpserver.Server()
    nslcd = ls.Nslcd(S, ad.nslcd_conf(dc.ca))
    ad_world(dc, srv, (), "state_dir = /var/lib/pwreset-second\n", world=False)
    harness.second_host_round(nslcd.ssh_stack(S.helper), srv, "ayla", given, "ayla@example.test")


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
