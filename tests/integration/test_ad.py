# SPDX-License-Identifier: BSD-3-Clause
"""Active Directory (SPEC §12.1) with a real Samba AD DC in the sandbox (adserver.py): the
domain, its delegated service account, and pwreset-directory speaking AD. Run one case:
test_ad.py CASE."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adserver as ad  # noqa: E402
import harness  # noqa: E402
import ldapserver as ls  # noqa: E402
import smtpserver  # noqa: E402
from harness import check, eq  # noqa: E402

S = None
OLD = "Alice-Old-Pass1"
ALICE = f"CN=ayla,{ad.PEOPLE}"


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
        eq(a[2]["text"], f"{ad.SERVICE_UPN} (Active Directory)")
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


SECRET = "/etc/pwreset/directory.secret"
CTL = os.environ.get("PWR_CTL", "")


def ad_world(dc, srv, names, extra=""):
    """The helper configured for dc as the service account (directory_type = ad, LDAPS, the
    test's CA), mail to srv; names (name, uid) known to NSS with no shadow line (not local)."""
    with open(SECRET, "w") as f:
        f.write(ad.SERVICE_PW + "\n")
    os.chmod(SECRET, 0o600)
    for name, uid in names:
        S.useradd(name, "-u", str(uid))
        S.drop_shadow_line(name)
    harness.setup_world(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                        "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                        "mails_per_minute = 0\ndirectory_type = ad\n"
                        f"directory_url = {dc.url}\ndirectory_ca_file = {dc.ca}\n"
                        f"directory_bind_dn = {ad.SERVICE_UPN}\n"
                        f"directory_password_file = {SECRET}\ndirectory_base = {ad.BASE}\n"
                        + extra)


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
    dc.admin("ldapmodify", input=f"dn: {ad.BASE}\nchangetype: modify\nreplace: minPwdLength\n"
                                 "minPwdLength: 20\n-\n")
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
    reasons = {u["user"]: u["reasons"] for u in __import__("json").loads(p.stdout)["users"]}
    eq((reasons["cora"], reasons["dirk"], reasons["boris"], reasons["ayla"]),
       (["expired"], ["expired"], ["no-address"], []), reasons)
    p = subprocess.run([CTL, "status"], capture_output=True, text=True)
    check(f"bound as {ad.SERVICE_UPN} (Active Directory)" in p.stdout, p.stdout)
    srv.stop()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
