# SPDX-License-Identifier: BSD-3-Clause
"""A real OpenSSH server on 127.0.0.1 inside the sandbox, and an ssh client on a pseudo-terminal
driven by pexpect. sshd runs in the foreground (-D) with its own configuration, host key and pid
file in the sandbox's folder; its PAM service is /etc/pam.d/sshd of the sandbox's /etc overlay.

The sshd binary: PWR_SSHD if set, else /usr/sbin/sshd when openssh-server is installed, else
the one tests/fetch-sshd unpacked (not installed) into PWR_OPENSSH_DIR, with the libraries
unpacked next to it."""

import glob
import io
import os
import sys
import subprocess
import time

import sandbox as sandbox_mod

import pexpect

import smtpserver


def find_sshd():
    """(sshd path, LD_LIBRARY_PATH or None)."""
    if os.environ.get("PWR_SSHD"):
        return os.environ["PWR_SSHD"], os.environ.get("PWR_SSHD_LIBS")
    if os.path.exists("/usr/sbin/sshd"):
        return "/usr/sbin/sshd", None
    top = os.environ.get("PWR_OPENSSH_DIR", "")
    libs = glob.glob(os.path.join(top, "usr/lib/*-linux-gnu")) + \
        glob.glob(os.path.join(top, "lib/*-linux-gnu"))
    return os.path.join(top, "usr/sbin/sshd"), ":".join(libs) or None


class Sshd:
    """sshd on a free loopback port. kbdint: keyboard-interactive (the reset can be offered);
    False: password authentication alone; None: as /etc/ssh/sshd_config.d/*.conf says (read
    first, so what it sets wins)."""

    def __init__(self, sandbox, kbdint=True, pam_auth=None,
                 pam_session="session required pam_permit.so\n"):
        self.s = sandbox
        sshd, libs = find_sshd()
        if not os.path.isfile(sshd):
            print(f"SKIP: no sshd at {sshd} (tests/fetch-sshd could not unpack it there)")
            sys.exit(77)
        self.dir = os.path.join(sandbox.tmp, "sshd")
        os.makedirs(self.dir, exist_ok=True)
        key = os.path.join(self.dir, "host_ed25519")
        if not os.path.exists(key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                           check=True)
        # sshd's privilege separation: its user and its empty directory
        if subprocess.run(["getent", "passwd", "sshd"], capture_output=True).returncode:
            subprocess.run(["useradd", "-r", "-M", "-d", "/run/sshd", "-s",
                            "/usr/sbin/nologin", "sshd"], check=True)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        if pam_auth is not None:
            self.write_pam(pam_auth, pam_session)
        self.port = smtpserver.free_port()
        # the client knows the host key beforehand, as a person who logged in before would
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        with open(key + ".pub") as pub:
            algo, blob = pub.read().split()[:2]
        with open(self.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {algo} {blob}\n")
        self.config = os.path.join(self.dir, "sshd_config")
        methods = ("Include /etc/ssh/sshd_config.d/*.conf\n" if kbdint is None else
                   f"KbdInteractiveAuthentication {'yes' if kbdint else 'no'}\n"
                   f"PasswordAuthentication {'no' if kbdint else 'yes'}\n")
        with open(self.config, "w") as f:
            f.write(methods + f"ListenAddress 127.0.0.1:{self.port}\nHostKey {key}\n"
                    f"PidFile {self.dir}/sshd.pid\nUsePAM yes\n"
                    "PubkeyAuthentication no\nPermitRootLogin no\nStrictModes no\n"
                    "PrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\nMaxAuthTries 3\n"
                    "LoginGraceTime 120\nMaxStartups 50\n")
        self.log = os.path.join(self.dir, "sshd.log")
        env = sandbox_mod.host_env({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        if libs:
            env["LD_LIBRARY_PATH"] = libs
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", self.config],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=env)
        sandbox.cleanups.append(self.stop)
        deadline = time.time() + 10
        while "Server listening" not in self.read_log():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("sshd did not start: " + self.read_log())
            time.sleep(0.02)

    @staticmethod
    def write_pam(pam_auth, pam_session="session required pam_permit.so\n"):
        """/etc/pam.d/sshd: these auth and session lines; sshd reads it at each login."""
        with open("/etc/pam.d/sshd", "w") as f:
            f.write(pam_auth + "account required pam_unix.so\n" + pam_session +
                    "password required pam_deny.so\n")

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def client_argv(self, user, command, kbdint=True):
        """ssh's arguments: only this server's host key trusted, only the one method. Without a
        command: an interactive login on a terminal (sshd shows its login messages then)."""
        method = "keyboard-interactive" if kbdint else "password"
        tail = [f"{user}@127.0.0.1", command] if command else ["-tt", f"{user}@127.0.0.1"]
        return ["-F", "/dev/null", "-p", str(self.port), "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", f"PreferredAuthentications={method}", "-o", "PubkeyAuthentication=no",
                "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10"] + tail

    def ssh(self, user, command="echo LOGGED-IN as $(id -un)", kbdint=True, timeout=60):
        """An ssh client for user on a pseudo-terminal; its transcript in logfile_read."""
        p = pexpect.spawn("ssh", self.client_argv(user, command, kbdint), encoding="utf-8",
                          timeout=timeout, echo=False,
                          # a UTF-8 terminal, as people have: ssh shows other text as '?'
                          env={"PATH": "/usr/bin:/bin", "HOME": self.dir, "TERM": "dumb",
                               "LC_ALL": "C.UTF-8"})
        p.logfile_read = io.StringIO()
        return p

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def finish(p):
    """The whole transcript of an ssh client once it exited, and its exit status."""
    p.expect(pexpect.EOF)
    p.close()
    return p.logfile_read.getvalue(), p.exitstatus
