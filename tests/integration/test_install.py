# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of the installed tree: meson install into a DESTDIR (the file list, owners
and modes), the whole SSH reset run from that tree laid over /usr inside the sandbox, the
daemon started the way systemd starts it (systemd-socket-activate), and the units checked by
systemd-analyze. Run one case: test_install.py CASE."""

import os
import re
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import sshserver  # noqa: E402
import harness  # noqa: E402
from harness import check, eq, install, installed_world  # noqa: E402

S = None
MULTIARCH = subprocess.run(["gcc", "-print-multiarch"], capture_output=True,
                           text=True).stdout.strip() or "x86_64-linux-gnu"

# every file meson install lays out, with its mode (owner and group: root)
EXPECTED = {
    "etc/pwreset/pwreset.conf": 0o640,
    "etc/pwreset/mail/code.txt": 0o644,
    "etc/pwreset/mail/admin-reset.txt": 0o644,
    "etc/pwreset/mail/changed.txt": 0o644,
    "etc/pwreset/mail/address-confirm.txt": 0o644,
    "etc/pwreset/mail/address-changed.txt": 0o644,
    **{f"etc/pwreset/mail/{lang}/{t}.txt": 0o644 for lang in ("ja", "de")
       for t in ("code", "admin-reset", "changed", "address-confirm", "address-changed")},
    "usr/sbin/pwreset-helper": 0o4755,
    "usr/sbin/pwresetctl": 0o755,
    "usr/bin/pwreset-address": 0o755,
    "usr/libexec/pwreset/pwreset-mailer": 0o755,
    f"usr/lib/{MULTIARCH}/security/pam_pwreset.so": 0o755,
    "usr/lib/sysusers.d/pwreset.conf": 0o644,
    "usr/lib/tmpfiles.d/pwreset.conf": 0o644,
    "usr/share/pam-configs/pwreset": 0o644,
    "usr/share/bash-completion/completions/pwresetctl": 0o644,
    "usr/share/bash-completion/completions/pwreset-address": 0o644,
    "usr/share/man/man1/pwreset-address.1": 0o644,
    "usr/share/man/man5/pwreset.conf.5": 0o644,
    "usr/share/man/man8/pam_pwreset.8": 0o644,
    "usr/share/man/man8/pwreset-helper.8": 0o644,
    "usr/share/man/man8/pwresetctl.8": 0o644,
    "usr/share/cockpit/pwreset/manifest.json": 0o644,
    "usr/share/cockpit/pwreset/index.html": 0o644,
    "usr/share/cockpit/pwreset/pwreset.css": 0o644,
    "usr/share/cockpit/pwreset/pwreset.js": 0o644,
    "usr/share/cockpit/pwreset/accounts.js": 0o644,
    "usr/share/cockpit/pwreset/reset.js": 0o644,
    "usr/share/cockpit/pwreset/queue.js": 0o644,
    "usr/share/cockpit/pwreset/ctl.js": 0o644,
    "usr/share/cockpit/pwreset/dom.js": 0o644,
    "usr/share/cockpit/pwreset/words.js": 0o644,
    "usr/share/cockpit/pwreset/theme.js": 0o644,
    "usr/share/cockpit/pwreset/po.ja.js": 0o644,  # the page's translations (SPEC §13)
    "usr/share/cockpit/pwreset/po.de.js": 0o644,
    "usr/share/doc/pam_pwreset/examples/pam.d-sshd": 0o644,
    "usr/share/doc/pam_pwreset/examples/pam.d-login": 0o644,
    "usr/share/doc/pam_pwreset/examples/sshd_config.d-pwreset.conf": 0o644,
    "usr/share/doc/pam_pwreset/examples/pwreset.conf": 0o644,
    "usr/share/doc/pam_pwreset/examples/slapd-acl.ldif": 0o644,
    "usr/share/doc/pam_pwreset/examples/ppolicy.ldif": 0o644,
    "usr/share/doc/pam_pwreset/examples/slapd-limits.ldif": 0o644,
    "usr/share/doc/pam_pwreset/examples/ad/README": 0o644,
    "usr/share/doc/pam_pwreset/examples/ad/nslcd.conf": 0o644,
    "usr/share/doc/pam_pwreset/examples/ad/sssd.conf": 0o644,
}
for lang in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "po",
                           "LINGUAS")).read().split():  # the catalogs (SPEC §13)
    EXPECTED[f"usr/share/locale/{lang}/LC_MESSAGES/pam_pwreset.mo"] = 0o644
if os.environ.get("PWR_DIRECTORY"):  # built where libldap is found (SPEC §12)
    EXPECTED["usr/libexec/pwreset/pwreset-directory"] = 0o755
    EXPECTED["usr/lib/sysusers.d/pwreset-directory.conf"] = 0o644


def unitdir(destdir):
    found = [os.path.join(root, f) for root, _, files in os.walk(destdir) for f in files
             if f in ("pwreset-helper.socket", "pwreset-helper.service")]
    eq(len(found), 2, f"the two units: {found}")
    return os.path.dirname(found[0])


def installed_files(destdir):
    out = {}
    for root, dirs, files in os.walk(destdir):
        for f in files:
            path = os.path.join(root, f)
            out[os.path.relpath(path, destdir)] = os.lstat(path)
    return out


def test_install_layout():
    """The file list, owners and modes; only the helper is setuid; a reinstall keeps an
    administrator's configuration."""
    d = os.path.join(S.tmp, "destdir")
    install(d)
    files = installed_files(d)
    units = os.path.relpath(unitdir(d), d)
    want = dict(EXPECTED, **{f"{units}/pwreset-helper.socket": 0o644,
                             f"{units}/pwreset-helper.service": 0o644})
    eq(sorted(files), sorted(want), "installed files")
    for path, st in files.items():
        eq((st.st_uid, st.st_gid), (0, 0), f"{path} is root's")
        eq(stat.S_IMODE(st.st_mode), want[path], f"mode of {path}")
        check(not (st.st_mode & (stat.S_ISUID | stat.S_ISGID)) or
              path == "usr/sbin/pwreset-helper", f"{path} is setuid or setgid")
    conf = os.path.join(d, "etc/pwreset/pwreset.conf")
    with open(conf, "a") as f:
        f.write("admin_group = helpdesk\n")
    tmpl = os.path.join(d, "etc/pwreset/mail/code.txt")
    with open(tmpl, "w") as f:
        f.write("Subject: ours\n\n{code}\n")
    install(d)
    check(open(conf).read().endswith("admin_group = helpdesk\n"), "configuration kept")
    eq(open(tmpl).read(), "Subject: ours\n\n{code}\n", "template kept")
    eq(stat.S_IMODE(os.stat(conf).st_mode), 0o640)
    with open(os.path.join(d, units, "pwreset-helper.service")) as f:
        exec_start = re.search(r"^ExecStart=(.*)$", f.read(), re.M).group(1).split()
    eq(exec_start[:3], ["/usr/sbin/pwreset-helper", "--daemon", "--idle-exit"], "ExecStart")
    with open(os.path.join(d, units, "pwreset-helper.socket")) as f:
        check("ListenSequentialPacket=/run/pwreset/helper.sock" in f.read(), "socket path")


def test_installed_ssh_flow():
    """From the installed tree alone: pam-auth-update --enable pwreset writes common-auth with
    the module by its bare name, sshd's PAM file includes it, no daemon runs (the module runs
    the installed setuid helper), and a reset at the ssh prompt works end to end."""
    srv = smtpserver.Server()
    installed_world(srv)
    S.stop_daemon()
    p = subprocess.run(["pam-auth-update", "--enable", "pwreset", "--force"],
                       capture_output=True, text=True)
    eq(p.returncode, 0, p.stderr)
    with open("/etc/pam.d/common-auth") as f:
        auth = f.read()
    check(re.search(r"^auth\s+\[success=1 default=ignore\]\s+pam_pwreset\.so\s*$", auth, re.M),
          auth)
    sshd = sshserver.Sshd(S, pam_auth="@include common-auth\n")
    out, rc = harness.ssh_reset(sshd, srv, "alice", 0)
    check("Password changed." in out, out)
    out, rc = harness.ssh_login(sshd, "alice", harness.NEW)
    check("LOGGED-IN as alice" in out, out)
    eq(rc, 0)
    check(not os.path.exists("/run/pwreset/helper.sock"), "no daemon was used")
    log = S.syslog()
    check("event=password-changed user=alice" in log, log)
    srv.stop()


def activate(*extra):
    """The installed daemon, started as systemd starts it: the socket made by
    systemd-socket-activate and handed over through LISTEN_FDS."""
    os.makedirs("/run/pwreset", mode=0o755, exist_ok=True)
    if os.path.exists("/run/pwreset/helper.sock"):  # left by the last one
        os.unlink("/run/pwreset/helper.sock")
    log = open(S.daemon_log, "a")
    proc = subprocess.Popen(["systemd-socket-activate", "--seqpacket", "-l",
                             "/run/pwreset/helper.sock", "/usr/sbin/pwreset-helper", "--daemon",
                             "--verbose", *extra], stdout=log, stderr=log)
    deadline = time.time() + 10
    while not os.path.exists("/run/pwreset/helper.sock") and time.time() < deadline:
        time.sleep(0.02)
    S.cleanups.append(lambda: proc.poll() is None and (proc.terminate(), proc.wait(10)))
    return proc


def test_socket_activation():
    """systemd-socket-activate hands the daemon its socket (LISTEN_FDS): a reset by code
    completes through it; with --idle-exit it leaves after the quiet period once no mail is
    waiting, and not while a mail is."""
    srv = smtpserver.Server()
    installed_world(srv)
    S.stop_daemon()
    proc = activate("--idle-exit", "3s")  # the unit's 10m, shortened (the unit's own: below)
    rc, out = S.client(["request bob"])
    eq(out, [harness.REQUEST_ANSWER])
    code = harness.mailed_code(srv, 1, "bob")
    rc, out = S.client([f"verify bob {code}", f"setpw bob {harness.NEW}"])
    eq(out, ["verify status=0", "set-password status=0 text="], "reset through the socket")
    check("serving /run/pwreset/helper.sock (the socket systemd handed over)" in S.log(),
          S.log())
    t0 = time.time()
    proc.wait(timeout=30)
    quiet = time.time() - t0
    eq(proc.returncode, 0, S.log())
    check("quiet for 3 s and no mail waiting; exiting" in S.log(), S.log())
    check(2 <= quiet <= 15, f"left {quiet:.1f} s after the last request")
    # a mail that cannot go out keeps it alive past the quiet period
    srv.stop()
    proc = activate("--idle-exit", "2s")
    S.client(["request gina"])
    time.sleep(6)
    check(proc.poll() is None, "still running while a mail is deferred: " + S.log()[-800:])
    proc.terminate()
    proc.wait(timeout=10)
    # and with the installed unit's own command line
    with open(os.path.join(unitdir(os.path.join(S.tmp, "destdir")),
                           "pwreset-helper.service")) as f:
        exec_start = re.search(r"^ExecStart=(.*)$", f.read(), re.M).group(1).split()
    proc = activate(*exec_start[2:])
    rc, out = S.client(["offer alice"])
    check(out and out[0].startswith("offer status=0 enabled=1"), f"{exec_start}: {out}")
    check(proc.poll() is None, S.log()[-800:])


def test_units():
    """systemd-analyze verify finds nothing wrong in the installed units, and the service's
    exposure is at most 3.0, with its mounts private and SSSD's caches writable (sss_cache)."""
    srv = smtpserver.Server()
    d = installed_world(srv)
    units = unitdir(d)
    sock, svc = (os.path.join(units, u) for u in ("pwreset-helper.socket",
                                                  "pwreset-helper.service"))
    p = subprocess.run(["systemd-analyze", "verify", sock, svc], capture_output=True,
                       text=True)
    eq((p.returncode, p.stdout + p.stderr), (0, ""), "systemd-analyze verify")
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=30",
                        svc], capture_output=True, text=True)
    eq(p.returncode, 0, p.stdout + p.stderr)
    m = re.search(r"Overall exposure level for pwreset-helper.service: (\d+\.\d)", p.stdout)
    check(m and float(m.group(1)) <= 3.0, p.stdout[-400:])
    print(m.group(0))
    text = open(svc).read()
    check("\nPrivateMounts=yes\n" in text, "PrivateMounts=yes")
    rw = re.search(r"^ReadWritePaths=(.*)$", text, re.M).group(1).split()
    check("-/var/lib/sss" in rw, f"sss_cache -E may write SSSD's caches: {rw}")
    srv.stop()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
