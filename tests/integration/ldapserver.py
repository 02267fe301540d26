# SPDX-License-Identifier: BSD-3-Clause
"""A real OpenLDAP directory on loopback for the tests of SPEC §12: Debian's slapd, its
cn=config made with slapadd at test time, TLS with a CA made at test time, and then the
project's own examples (conf/directory/slapd-acl.ldif, ppolicy.ldif) applied over ldapi:// as
an administrator would. The binaries: PWR_OPENLDAP_DIR (tests/fetch-ldap unpacks them there,
never installing them), else the system's.

The directory holds dc=example,dc=org with ou=people (posixAccount, inetOrgPerson), the
helper's service entry cn=pwreset,ou=services and the default policy cn=default,ou=policies."""

import os
import re
import sys
import shutil
import socket
import subprocess
import tempfile
import time

import smtpserver

SUFFIX = "dc=example,dc=org"
PEOPLE = "ou=people," + SUFFIX
ADMIN_DN = "cn=admin," + SUFFIX
ADMIN_PW = "Admin-secret-1"
SERVICE_DN = "cn=pwreset,ou=services," + SUFFIX
SERVICE_PW = "Service-secret-1"
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def root():
    """Where slapd and the LDAP tools are: the unpacked tree, or '' for the system's."""
    top = os.environ.get("PWR_OPENLDAP_DIR", "")
    if top and os.path.exists(os.path.join(top, "usr/sbin/slapd")):
        return top
    if os.path.exists("/usr/sbin/slapd"):
        return ""
    print("SKIP: no slapd (tests/fetch-ldap could not unpack it into PWR_OPENLDAP_DIR)")
    sys.exit(77)


def tool_env():
    r = root()
    env = dict(os.environ)
    if r:
        libs = os.path.join(r, "usr/lib/x86_64-linux-gnu")
        env["LD_LIBRARY_PATH"] = libs + (":" + env["LD_LIBRARY_PATH"]
                                         if env.get("LD_LIBRARY_PATH") else "")
    return env


def tool(name):
    r = root()
    for d in ("usr/bin", "usr/sbin"):
        p = os.path.join(r or "/", d, name)
        if os.path.exists(p):
            return p
    raise RuntimeError(f"no {name} under {r or '/'}")


LIMITS = os.path.join(TOP, "conf", "directory", "slapd-limits.ldif")


def run_tool(name, url, ca, args, input=None, check=True):
    """An ldap-utils command against url with the CA ca trusted (and no ldap.conf of this
    machine's); its CompletedProcess, or RuntimeError when it fails and check."""
    env = tool_env()
    env.update(LDAPTLS_CACERT=ca, LDAPCONF="/dev/null", LDAPRC="/dev/null")
    p = subprocess.run([tool(name), "-H", url, *args], input=input, env=env,
                       capture_output=True, text=True)
    if check and p.returncode:
        raise RuntimeError(f"{name} {' '.join(args)}: {p.stderr}{p.stdout}")
    return p


def person(uid, number, mail=None, password=None, cn=None, language=None):
    """The LDIF of one entry under ou=people (language: its preferredLanguage)."""
    lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson",
             "objectClass: posixAccount", f"uid: {uid}", f"cn: {cn or uid}", f"sn: {uid}",
             f"uidNumber: {number}", f"gidNumber: {number}", f"homeDirectory: /home/{uid}",
             "loginShell: /bin/sh"]
    if mail:
        lines += [f"mail: {m}" for m in ([mail] if isinstance(mail, str) else mail)]
    if password:
        lines.append(f"userPassword: {password}")
    if language:
        lines.append(f"preferredLanguage: {language}")
    return "\n".join(lines) + "\n"


class Slapd:
    """slapd on 127.0.0.1 (ldap:// with StartTLS, and ldaps://), in the foreground until
    stop(). people: LDIF entries under ou=people. ppolicy: load the overlay and the default
    policy (conf/directory/ppolicy.ldif); min_length: its pwdMinLength. limits: the service
    account's olcLimits (conf/directory/slapd-limits.ldif); without, slapd's defaults."""

    def __init__(self, sandbox, people="", ppolicy=True, min_length=8, limits=True):
        self.s = sandbox
        self.dir = tempfile.mkdtemp(prefix="slapd-", dir=sandbox.tmp)  # one per server
        os.chmod(self.dir, 0o755)  # mail_user reads the CA here
        self.conf_dir = os.path.join(self.dir, "slapd.d")
        self.db = os.path.join(self.dir, "db")
        for d in (self.dir, self.conf_dir, self.db):
            os.makedirs(d, exist_ok=True)
        # libldap checks the name it resolved the server to (this host's name, for loopback)
        self.ca, self.cert, self.key = smtpserver.make_ca(
            self.dir, (socket.gethostname(), socket.getfqdn(), "IP:127.0.0.1"))
        self.port = smtpserver.free_port()
        self.tls_port = smtpserver.free_port()
        self.ldapi = os.path.join(self.dir, "ldapi")
        self.url = f"ldap://localhost:{self.port}"
        self.ldaps_url = f"ldaps://localhost:{self.tls_port}"
        self.log = os.path.join(self.dir, "slapd.log")
        self._slapadd(0, self._config())
        self._slapadd(1, self._base() + "\n" + people)
        self.start()
        sandbox.cleanups.append(self.stop)
        if ppolicy:
            self.modify(os.path.join(TOP, "conf", "directory", "ppolicy.ldif"),
                        min_length=min_length)
        self.modify(os.path.join(TOP, "conf", "directory", "slapd-acl.ldif"),
                    ppolicy=ppolicy)
        if limits:
            self.modify(LIMITS)

    def _config(self):
        r = root()
        schema = os.path.join(r or "/", "etc/ldap/schema")
        modules = os.path.join(r or "/", "usr/lib/ldap")
        includes = "".join(f"include: file://{schema}/{n}.ldif\n"
                           for n in ("core", "cosine", "nis", "inetorgperson"))
        hashed = subprocess.run([tool("slappasswd"), "-s", ADMIN_PW], env=tool_env(),
                                check=True, capture_output=True, text=True).stdout.strip()
        return (f"dn: cn=config\nobjectClass: olcGlobal\ncn: config\n"
                f"olcPidFile: {self.dir}/slapd.pid\n"
                f"olcTLSCACertificateFile: {self.ca}\nolcTLSCertificateFile: {self.cert}\n"
                f"olcTLSCertificateKeyFile: {self.key}\n\n"
                f"dn: cn=module{{0}},cn=config\nobjectClass: olcModuleList\ncn: module{{0}}\n"
                f"olcModulePath: {modules}\nolcModuleLoad: back_mdb\n\n"
                "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n\n"
                f"{includes}\n"
                "dn: olcDatabase={-1}frontend,cn=config\nobjectClass: olcDatabaseConfig\n"
                "objectClass: olcFrontendConfig\nolcDatabase: {-1}frontend\n\n"
                "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
                "olcDatabase: {0}config\nolcAccess: {0}to * by dn.exact=gidNumber=0+"
                "uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break\n\n"
                "dn: olcDatabase={1}mdb,cn=config\nobjectClass: olcDatabaseConfig\n"
                f"objectClass: olcMdbConfig\nolcDatabase: {{1}}mdb\nolcDbDirectory: {self.db}\n"
                f"olcSuffix: {SUFFIX}\nolcRootDN: {ADMIN_DN}\nolcRootPW: {hashed}\n"
                # room for a real site's entries (the benchmarks' tens of thousands)
                "olcDbMaxSize: 1073741824\n"
                "olcDbIndex: uid,mail eq\nolcDbIndex: uidNumber eq\n"
                "olcAccess: to * by users read by * none\n")

    def _base(self):
        return (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                "dc: example\no: Example\n\n"
                f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
                f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n"
                f"dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies\n\n"
                f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\n"
                "objectClass: simpleSecurityObject\ncn: pwreset\n"
                f"userPassword: {SERVICE_PW}\n")

    def _slapadd(self, n, ldif):
        path = os.path.join(self.dir, f"add-{n}.ldif")
        with open(path, "w") as f:
            f.write(ldif)
        p = subprocess.run([tool("slapadd"), "-n", str(n), "-F", self.conf_dir, "-l", path],
                           env=tool_env(), capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"slapadd -n {n}: {p.stderr}")

    def start(self):
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/ " \
               f"ldapi://{self.ldapi.replace('/', '%2F')}"
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([tool("slapd"), "-d", "0", "-h", urls, "-F",
                                          self.conf_dir], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=tool_env())
        deadline = time.time() + 10
        while not self.answers():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("slapd did not start: " + open(self.log).read())
            time.sleep(0.05)

    def answers(self):
        return self.ldap("ldapwhoami", "-x", check=False).returncode == 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def ldap(self, name, *args, input=None, check=True, url=None):
        """An ldap-utils command against this server (plain ldap:// unless url), with its
        CA trusted."""
        return run_tool(name, url or f"ldap://127.0.0.1:{self.port}", self.ca, args, input,
                        check)

    def admin(self, name, *args, input=None, check=True):
        return self.ldap(name, "-x", "-D", ADMIN_DN, "-w", ADMIN_PW, *args, input=input,
                         check=check)

    def modify(self, path, min_length=8, ppolicy=True):
        """Apply an LDIF of changes as root over ldapi:// (cn=config) or as the directory's
        administrator (the data), the way conf/directory's examples say (without ppolicy:
        leaving out the access rule for its attributes, as slapd-acl.ldif says)."""
        with open(path) as f:
            text = f.read().replace("pwdMinLength: 8", f"pwdMinLength: {min_length}")
        if not ppolicy:
            text = re.sub(r"olcAccess: \{1\}to attrs=pwdAccountLockedTime.*?(?=olcAccess)", "",
                          text, flags=re.S)
        config, data = [], []
        for block in text.split("\n\n"):
            body = "\n".join(line for line in block.splitlines() if not line.startswith("#"))
            if body.strip():
                (config if ",cn=config" in body.split("\n")[0] else data).append(body)
        if config:
            self.ldap("ldapmodify", "-Y", "EXTERNAL", "-Q", input="\n\n".join(config) + "\n",
                      url="ldapi://" + self.ldapi.replace("/", "%2F"))
        if data:
            self.admin("ldapmodify", input="\n\n".join(data) + "\n")

    def add(self, ldif):
        self.admin("ldapadd", input=ldif)

    def attribute(self, dn, attr):
        """The values of attr of the entry dn, as the administrator sees them (operational
        attributes too)."""
        out = self.admin("ldapsearch", "-LLL", "-b", dn, "-s", "base", "(objectClass=*)",
                         attr).stdout
        return [line.split(": ", 1)[1] for line in out.splitlines()
                if line.lower().startswith(attr.lower() + ": ")]


def nslcd_conf(slapd):
    """nslcd.conf's lines for slapd (port, ca): as the service account, over StartTLS."""
    return (f"uri ldap://localhost:{slapd.port}/\nbase {SUFFIX}\n"
            f"binddn {SERVICE_DN}\nbindpw {SERVICE_PW}\n"
            f"ssl start_tls\ntls_reqcert demand\ntls_cacertfile {slapd.ca}\n")


class Nslcd:
    """The client side of a directory host, inside the sandbox: Debian's nslcd (as root, in the
    foreground) with the lines conf (nslcd_conf(), or adserver's for a domain), libnss-ldapd's
    NSS module where glibc looks for it (an overlay of the library folder, in the sandbox only)
    and /etc/nsswitch.conf saying "files ldap" for databases. pam_ldap: its path for a PAM
    stack (ssh_stack)."""

    def __init__(self, sandbox, conf, databases=("passwd", "group")):
        self.s = sandbox
        r = root() or "/"
        libdir = "/usr/lib/x86_64-linux-gnu"
        self.pam_ldap = os.path.join(r, "lib/x86_64-linux-gnu/security/pam_ldap.so")
        if not os.path.exists(os.path.join(libdir, "libnss_ldap.so.2")):
            sandbox.overlay(libdir.lstrip("/"))
            shutil.copy(os.path.join(r, "lib/x86_64-linux-gnu/libnss_ldap.so.2"), libdir)
        # an unreachable server is given up at once, not retried for 10 s after a sleep of 1
        # (nslcd's defaults): the tests that stop the directory would wait that at every login
        with open("/etc/nslcd.conf", "w") as f:
            f.write(conf + "nss_min_uid 1000\nreconnect_sleeptime 0\nreconnect_retrytime 1\n")
        os.chmod("/etc/nslcd.conf", 0o600)
        with open("/etc/nsswitch.conf") as f:
            text = f.read()
        text = re.sub(rf"(?m)^({'|'.join(databases)}):.*$", r"\1: files ldap", text)
        with open("/etc/nsswitch.conf", "w") as f:
            f.write(text)
        os.makedirs("/run/nslcd", exist_ok=True)
        self.log = os.path.join(sandbox.tmp, "nslcd.log")
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([tool("nslcd"), "-n"], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=tool_env())
        sandbox.cleanups.append(self.stop)
        deadline = time.time() + 10
        while not os.path.exists("/run/nslcd/socket"):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("nslcd did not start: " + open(self.log).read())
            time.sleep(0.05)

    def ssh_stack(self, helper):
        """sshd's auth lines on a directory host: pam_unix (local accounts), pam_ldap (the
        directory's, with the same password), then pam_pwreset (with helper)."""
        return ("auth [success=3 default=ignore] pam_unix.so nullok\n"
                f"auth [success=2 default=ignore] {self.pam_ldap} use_first_pass\n"
                f"auth [success=1 default=ignore] {os.environ['PWR_PAM_MODULE']} "
                f"helper={helper}\nauth requisite pam_deny.so\nauth required pam_permit.so\n")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def agent(conf, *requests, timeout=60):
    """pwreset-directory's answers to requests (tests/tools/dirclient.c: CONFIG a file of its
    keys), as the helper would get them, the agent run as its own user: a list of dicts (the
    configuration's answer first)."""
    p = subprocess.run(["setpriv", "--reuid=pwreset-ldap", "--regid=pwreset-ldap",
                        "--clear-groups",
                        os.environ["PWR_DIRCLIENT"], os.environ["PWR_DIRECTORY"], conf,
                        *requests], capture_output=True, text=True, timeout=timeout)
    answers = []
    keys = "status tag more uid count flags dn user address language binding text".split()
    for line in p.stdout.splitlines():
        if line == "gone":
            answers.append({"status": "gone"})
            continue
        m = re.fullmatch(" ".join(f"{k}=(.*)" for k in keys), line)
        answers.append(dict(zip(keys, m.groups())))
    return answers
