# SPDX-License-Identifier: BSD-3-Clause
"""An Active Directory domain controller for the tests of SPEC §12.1: Debian 12's Samba 4.17,
unpacked by tests/fetch-samba (PWR_SAMBA_DIR) and laid over /usr inside the sandbox, never
installed on this machine. The domain example.test is provisioned once a build (with
--use-rfc2307, in PWR_BUILD_ROOT/ad-template: about 6 s) and copied for each DC: an OU People,
the service account svc-pwreset and its delegation (Reset Password, and read/write of
lockoutTime and pwdLastSet, for user objects of that OU alone). The DC serves LDAP and LDAPS
only (server services = ldap), on 127.0.0.1 (its ports are AD's own: 389, 636, 3268, 3269),
with a certificate of the test's own CA; its state stays in the sandbox's folder.

The people of a test are added over LDAPS as Administrator (person() makes their LDIF)."""

import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import ldapserver as ls
import smtpserver

TOP = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REALM, DOMAIN = "EXAMPLE.TEST", "EXAMPLE"
BASE = "DC=example,DC=test"
PEOPLE = f"OU=People,{BASE}"
ADMIN, ADMIN_PW = "Administrator@example.test", "Adm1n-Passw0rd!"
SERVICE = "svc-pwreset"
SERVICE_UPN, SERVICE_PW = "svc-pwreset@example.test", "Svc-Reset-Pass1"
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"  # the extended right
LOCKOUT_TIME = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET = "bf967a0a-0de6-11d0-a285-00aa003049e2"
PORTS = (389, 636, 3268, 3269)


def unpacked():
    return os.environ.get("PWR_SAMBA_DIR") or os.path.join(TOP, "build", "samba")


def lay_over():
    """Samba's programs under /usr in this sandbox: the unpacked tree over /usr (once), or
    the system's own. Exits 77 (skipped) when neither has them."""
    if os.path.exists("/usr/sbin/samba") and os.path.exists("/usr/bin/samba-tool"):
        return
    top = unpacked()
    if not os.path.exists(os.path.join(top, "usr/sbin/samba")):
        print(f"SKIP: no Samba (tests/fetch-samba could not unpack it into {top})")
        sys.exit(77)
    # the sandbox's own mounts under /usr (its writable /usr/libexec, /usr/share/locale) are
    # held aside and put back over the new /usr, or it would hide them
    with open("/proc/self/mounts") as f:
        under = [line.split()[1] for line in f if line.split()[1].startswith("/usr/")]
    hold = tempfile.mkdtemp(prefix="usr-mounts-")
    for i, where in enumerate(under):
        os.mkdir(os.path.join(hold, str(i)))
        subprocess.run(["mount", "--bind", where, os.path.join(hold, str(i))], check=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={top}/usr:/usr", "/usr"], check=True)
    for i, where in enumerate(under):
        subprocess.run(["mount", "--bind", os.path.join(hold, str(i)), where], check=True)


def samba_tool(conf, *args):
    p = subprocess.run(["samba-tool", *args, "-s", conf], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"samba-tool {' '.join(args)}: {p.stderr}{p.stdout}")
    return p.stdout


def template():
    """The provisioned domain, made once a build; its folder."""
    where = os.path.join(os.environ.get("PWR_BUILD_ROOT") or os.path.join(TOP, "build"),
                         "ad-template")
    if os.path.exists(os.path.join(where, "ready")):
        return where
    shutil.rmtree(where, ignore_errors=True)
    os.makedirs(where)
    subprocess.run(
        ["samba-tool", "domain", "provision", f"--targetdir={where}", f"--realm={REALM}",
         f"--domain={DOMAIN}", "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
         f"--adminpass={ADMIN_PW}", "--host-name=dc1", "--host-ip=127.0.0.1",
         "--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes",
         "--option=server services = ldap"],
        check=True, capture_output=True, text=True)
    conf = os.path.join(where, "etc", "smb.conf")
    # else the old password binds for an hour after a reset (README, an AD site)
    with open(conf) as f:
        text = f.read().replace("[global]\n", "[global]\n\told password allowed period = 0\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    samba_tool(conf, "ou", "create", PEOPLE)
    samba_tool(conf, "user", "create", SERVICE, SERVICE_PW, "--description=password reset")
    samba_tool(conf, "user", "setexpiry", SERVICE, "--noexpiry")
    sid = [l.split()[1] for l in samba_tool(conf, "user", "show", SERVICE,
                                            "--attributes=objectSid").splitlines()
           if l.startswith("objectSid:")][0]
    # inherit-only, for user objects below the OU: the delegation of conf/directory/ad/
    sddl = "".join(f"(OA;CIIO;{right};{guid};{USER_CLASS};{sid})"
                   for right, guid in (("CR", RESET_PASSWORD), ("RPWP", LOCKOUT_TIME),
                                       ("RPWP", PWD_LAST_SET)))
    samba_tool(conf, "dsacl", "set", f"--objectdn={PEOPLE}", f"--sddl={sddl}")
    open(os.path.join(where, "ready"), "w").close()
    return where


def quoted_password(pw):
    """unicodePwd's value: the password in double quotes, UTF-16LE, as LDIF's base64."""
    return base64.b64encode(f'"{pw}"'.encode("utf-16-le")).decode()


def person(name, number, mail=None, password=None, language=None, uac=512, extra=()):
    """The LDIF of one user under OU=People, with its RFC 2307 attributes; uac its
    userAccountControl (512: enabled, 514: disabled)."""
    lines = [f"dn: CN={name},{PEOPLE}", "objectClass: user", f"sAMAccountName: {name}",
             f"userPrincipalName: {name}@example.test", f"uidNumber: {number}",
             f"gidNumber: {number}", f"unixHomeDirectory: /home/{name}",
             "loginShell: /bin/sh", f"userAccountControl: {uac}"]
    if mail:
        lines.append(f"mail: {mail}")
    if password:
        lines.append(f"unicodePwd:: {quoted_password(password)}")
    if language:
        lines.append(f"preferredLanguage: {language}")
    return "\n".join(lines + list(extra)) + "\n"


def nslcd_conf(ca):
    """conf/directory/ad/nslcd.conf as a host of the test's DC would have it: its address, the
    test's CA, bound as the service account (the example's svc-lookup is a second account a
    site may make; any account of the domain can read users); nslcd runs as root in the
    sandbox, so no uid and gid lines."""
    given = {"uri": "ldaps://localhost/", "binddn": SERVICE_UPN, "bindpw": SERVICE_PW,
             "tls_cacertfile": ca, "uid": None, "gid": None}
    lines = []
    with open(os.path.join(TOP, "conf", "directory", "ad", "nslcd.conf")) as f:
        for line in f:
            key = line.split(" ", 1)[0]
            if key in given:
                if given[key] is not None:
                    lines.append(f"{key} {given[key]}\n")
            elif not line.startswith("#"):
                lines.append(line)
    return "".join(lines)


class DC:
    """A copy of the template domain, started; people: LDIF added as Administrator."""

    def __init__(self, sandbox, people=""):
        self.s = sandbox
        lay_over()
        for port in PORTS:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"127.0.0.1:{port} is taken: an AD DC needs AD's ports")
        self.dir = tempfile.mkdtemp(prefix="samba-", dir=sandbox.tmp)
        os.chmod(self.dir, 0o755)  # mail_user and pwreset-ldap read the CA here
        tmpl = template()
        self.state = os.path.join(self.dir, "dc")
        shutil.copytree(tmpl, self.state, symlinks=True)
        self.ca, self.cert, self.key = smtpserver.make_ca(
            self.dir, (socket.gethostname(), socket.getfqdn(), "IP:127.0.0.1"))
        os.chmod(self.key, 0o600)
        self.conf = os.path.join(self.state, "etc", "smb.conf")
        with open(self.conf) as f:
            text = f.read().replace(tmpl, self.state)
        text = text.replace("[global]\n", "[global]\n"
                            f"\ttls enabled = yes\n\ttls keyfile = {self.key}\n"
                            f"\ttls certfile = {self.cert}\n\ttls cafile = {self.ca}\n", 1)
        with open(self.conf, "w") as f:
            f.write(text)
        self.url = "ldaps://localhost"
        self.starttls_url = "ldap://localhost"
        self.log = os.path.join(self.dir, "samba.log")
        self.start()
        sandbox.cleanups.append(self.stop)
        if people:
            self.admin("ldapadd", input=people)

    def start(self):
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(["samba", "-F", "--debug-stdout", "-d1", "-s",
                                          self.conf], stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log)
        deadline = time.time() + 30
        while self.ldap("ldapsearch", "-x", "-b", "", "-s", "base", "1.1",
                        check=False).returncode != 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("samba did not start: " + open(self.log).read()[-3000:])
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def ldap(self, name, *args, input=None, check=True, url=None):
        """An ldap-utils command against this DC (LDAPS unless url), its CA trusted."""
        return ls.run_tool(name, url or self.url, self.ca, args, input, check)

    def admin(self, name, *args, input=None, check=True):
        return self.ldap(name, "-x", "-D", ADMIN, "-w", ADMIN_PW, *args, input=input,
                         check=check)

    def replace(self, dn, **values):
        """Attributes of the entry dn replaced as Administrator (the domain's head, BASE, holds
        its password and lockout rules)."""
        self.admin("ldapmodify", input=f"dn: {dn}\nchangetype: modify\n" + "".join(
            f"replace: {k}\n{k}: {v}\n-\n" for k, v in values.items()))

    def binds(self, who, password):
        """Whether who (a UPN or DN) binds with password: a base search of the root DSE
        (Samba has no WhoAmI); the server's words when it does not."""
        p = self.ldap("ldapsearch", "-x", "-D", who, "-w", password, "-b", "", "-s", "base",
                      "1.1", check=False)
        return p.returncode == 0, p.stderr

    def nslcd_conf(self):
        return nslcd_conf(self.ca)

    def attribute(self, dn, attr):
        out = self.admin("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", dn, "-s", "base",
                         attr).stdout
        return [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith(attr + ": ")]
