# SPDX-License-Identifier: BSD-3-Clause
"""What the autopkgtest scripts share: commands, the configuration, an SMTP server on
loopback, users, ssh. Every script runs as root on a machine it may change."""
import email
import email.policy
import os
import re
import subprocess
import sys
import time

CONF = "/etc/pwreset/pwreset.conf"
SMTP_PORT = 2525
SSH_PORT = 2022  # the test's own sshd, on loopback: the machine's ssh.service is left alone


def run(*argv, check=True, **kw):
    """Run argv; its output (stdout and stderr together), or the failure with it."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        fail(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}")
    return p.stdout


def fail(why):
    print(f"FAIL: {why}", file=sys.stderr)
    sys.exit(1)


def check(ok, why):
    if not ok:
        fail(why)


def say(what):
    print(what, flush=True)


def wait_until(pred, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.2)
    fail(f"{what} (waited {seconds} s)")


def active(unit):
    return run("systemctl", "is-active", unit, check=False).strip()


def configure(extra=""):
    """pwreset.conf as installed, for a mail server on this machine's loopback without TLS (a
    test server), plus extra lines; checked like the administrator would. Each test starts
    again from the file as the package installed it."""
    if not os.path.exists(CONF + ".installed"):
        run("cp", "-p", CONF, CONF + ".installed")
    with open(CONF + ".installed") as f:
        text = f.read()
    text += (f"\n# system test\nsmtp_url = smtp://127.0.0.1:{SMTP_PORT}\nsmtp_starttls = off\n"
             "mail_from = reset@example.org\n" + extra)
    with open(CONF, "w") as f:
        f.write(text)
    run("pwreset-helper", "--check-config")
    # each test starts with a daemon of its own (a running one would read the file anyway)
    run("systemctl", "try-restart", "pwreset-helper.service")


def add_user(name, password, address):
    if run("id", name, check=False).startswith("uid="):
        return
    run("useradd", "--create-home", "--shell", "/bin/sh", name)
    run("chpasswd", input=f"{name}:{password}\n")
    run("pwresetctl", "email", "set", name, address)


def journal(since):
    """The helper's audit lines since a time of journalctl's --since form."""
    return run("journalctl", "--no-pager", "-o", "cat", "-t", "pwreset-helper", "--since",
               since, check=False)


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S")


class Smtp:
    """An SMTP server on 127.0.0.1:SMTP_PORT that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        class Handler:
            def __init__(self, box):
                self.box = box

            async def handle_DATA(self, server, session, envelope):
                self.box.append((envelope.rcpt_tos, envelope.content))
                return "250 OK"

        self.box = []
        self.controller = Controller(Handler(self.box), hostname="127.0.0.1", port=SMTP_PORT)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def code_for(self, address, seconds=60):
        """The reset code in the last mail to address (waiting for it)."""
        wait_until(lambda: any(address in r for r, _ in self.box), seconds,
                   f"no mail reached {address}")
        rcpt, data = [m for m in self.box if address in m[0]][-1]
        body = email.message_from_bytes(data, policy=email.policy.default).get_content()
        m = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", body)
        check(m, f"no code in the mail:\n{body}")
        return m.group(1)


class Sshd:
    """sshd with the system's configuration (so the drop-ins the README names), on
    127.0.0.1:SSH_PORT only, in the foreground until stop()."""

    def __init__(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-p", str(SSH_PORT), "-o",
                                   "ListenAddress=127.0.0.1"], stderr=subprocess.DEVNULL)
        import socket

        def up():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", SSH_PORT)) == 0
        wait_until(up, 20, "the test's sshd does not listen")

    def stop(self):
        self.p.terminate()
        self.p.wait(10)


def ssh(user, command="true"):
    """ssh to this machine's sshd, keyboard-interactive only (pexpect). command None: an
    interactive login on a terminal, which is when sshd shows its login messages."""
    import pexpect
    tail = [f"{user}@127.0.0.1", command] if command else ["-tt", f"{user}@127.0.0.1"]
    return pexpect.spawn("ssh", ["-o", "StrictHostKeyChecking=no", "-o",
                                 "UserKnownHostsFile=/dev/null", "-o",
                                 "PreferredAuthentications=keyboard-interactive", "-o",
                                 "NumberOfPasswordPrompts=1", "-p", str(SSH_PORT)] + tail,
                         encoding="utf-8", timeout=60)
