# SPDX-License-Identifier: BSD-3-Clause
"""The try-it walk-through (tests/try-it): in the sandbox, a demo user who forgot their
password, a loopback SMTP server that prints each mail it receives, the helper daemon, and a
real sshd on 127.0.0.1 with pam_pwreset in its PAM stack. From a terminal, the person logs in
with ssh and does the reset themselves; otherwise the same conversation is scripted and
printed step by step. Nothing outlives it."""

import os
import pwd
import re
import secrets
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
import smtpserver  # noqa: E402
import sshserver  # noqa: E402

NEW = "Correct-Horse-42"
COMMAND = 'echo "Logged in as $(id -un) on $(hostname), with the new password."'


def step(text):
    print(f"\n== {text}", flush=True)


def show_mail(mail_from, rcpts, data):
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    print(f"\n---- the SMTP server on 127.0.0.1 received a mail for {', '.join(rcpts)} ----\n"
          f"{text.rstrip()}\n---- end of mail ----\n", flush=True)


class Transcript:
    """pexpect's output as a person would have seen it on the terminal."""

    def write(self, data):
        sys.stdout.write(data.replace("\r\n", "\n").replace("\r", ""))

    def flush(self):
        sys.stdout.flush()


def typed(p, text, shown=None):
    print(f"   [types: {shown or text}]", flush=True)
    p.sendline(text)


def scripted(sshd, srv):
    import pexpect
    step("ssh demo@127.0.0.1: a wrong password (the real one is forgotten), then 'reset'")
    p = sshd.ssh("demo", COMMAND)
    p.logfile_read = Transcript()
    p.expect_exact("Password: ")
    typed(p, "I-forgot-it", "a wrong password")
    p.expect_exact("(Enter to skip): ")
    typed(p, "reset")
    p.expect_exact("Reset code: ")
    msgs = srv.wait_for(1)
    if not msgs:
        raise SystemExit("no mail arrived at the SMTP server")
    code = re.search(rb"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", msgs[0][2]).group(1).decode()
    step("the code from the mail, typed at the same prompt")
    typed(p, code)
    p.expect_exact("New password: ")
    typed(p, NEW)
    p.expect_exact("Retype new password: ")
    typed(p, NEW)
    p.expect(pexpect.EOF)
    p.close()
    srv.wait_for(2)
    time.sleep(0.5)  # the "password changed" notice, printed by the server's thread
    step("a fresh ssh with the new password")
    p = sshd.ssh("demo", COMMAND)
    p.logfile_read = Transcript()
    p.expect_exact("Password: ")
    typed(p, NEW)
    p.expect(pexpect.EOF)
    p.close()
    if p.exitstatus != 0:
        raise SystemExit(f"the login with the new password failed (ssh exit {p.exitstatus})")


def interactive(sshd):
    ssh = ["ssh"] + sshd.client_argv("demo", COMMAND)
    step("your turn. At 'Password:' type anything (demo's password is forgotten).\n"
         "   At the offer type: reset   The mail with the code appears here; type the code,\n"
         "   then a new password twice (at least 8 characters, not too simple).")
    subprocess.run(ssh)
    step("now log in again with your new password (ssh demo@127.0.0.1)")
    subprocess.run(ssh)


def main():
    s = sandbox.enter()
    srv = smtpserver.Server(on_message=show_mail)
    s.cleanups.append(srv.stop)
    try:
        step("the sandbox: /etc, /var and /run of this machine overlaid; nothing here stays")
        home = os.path.join(s.tmp, "home-demo")
        s.useradd("demo", "-d", home)
        os.makedirs(home)
        pw = pwd.getpwnam("demo")
        os.chown(home, pw.pw_uid, pw.pw_gid)
        s.set_password("demo", secrets.token_urlsafe(24))
        print("   user 'demo', with a password nobody knows, and the address demo@example.org")
        s.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n")
        s.start_daemon(verbose=False)
        rc, out = s.client(["email-set demo demo@example.org"])
        if rc != 0 or not out[0].startswith("email-set status=0"):
            raise SystemExit(f"registering the address failed: {out}")
        module = os.environ["PWR_PAM_MODULE"]
        stack = ("auth [success=2 default=ignore] pam_unix.so nullok\n"
                 f"auth [success=1 default=ignore] {module} helper={s.helper}\n"
                 "auth requisite pam_deny.so\nauth required pam_permit.so\n")
        sshd = sshserver.Sshd(s, pam_auth=stack)
        print(f"   pwreset-helper --daemon; an SMTP server on 127.0.0.1:{srv.port}; "
              f"sshd on 127.0.0.1:{sshd.port}")
        print("   /etc/pam.d/sshd (auth):\n" +
              "".join(f"     {line}\n" for line in stack.splitlines()), end="")
        if os.isatty(0) and os.isatty(1):
            interactive(sshd)
        else:
            scripted(sshd, srv)
        step("the helper's audit log (syslog, LOG_AUTHPRIV)")
        for line in s.syslog().splitlines():
            if "event=" in line:
                print("  ", line[line.index("event="):])
    finally:
        s.close()
    print("\nDone; the sandbox is gone and nothing on this machine changed.")


if __name__ == "__main__":
    main()
