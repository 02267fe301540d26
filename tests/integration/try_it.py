# SPDX-License-Identifier: BSD-3-Clause
"""The try-it walk-through: a demo user, the helper daemon, a reset code requested, read from
the mail queue and verified, all inside the sandbox. (The PAM module, the mailer and the
password change arrive with their issues; until then the helper's requests stand in.)"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402


def step(text):
    print(f"\n== {text}")


def main():
    s = sandbox.enter()
    try:
        step("a demo user 'demo' with a forgotten password, and a recovery address")
        s.useradd("demo")
        s.set_password("demo", "Forgotten-password-1")
        s.write_config("smtp_url = smtp://127.0.0.1:2525\nsmtp_starttls = off\n")
        s.start_daemon()
        for line in s.client(["email-set demo demo@example.org", "check demo"])[1]:
            print("  helper:", line)
        step("at the login prompt the module asks the helper whether to offer a reset")
        for line in s.client(["offer demo 192.0.2.10"])[1]:
            print("  helper:", line)
        step("the person types 'reset': the answer is the same for every user")
        for user in ("demo", "nosuchuser"):
            print(f"  request for {user}:", s.client([f"request {user} 192.0.2.10"])[1][0])
        step("the mail queue (codes are stored sealed; this is what the mailer will send)")
        mails = s.mails()
        for m in mails:
            print(f"  to {m['to']}: code {m['code']}")
        code = mails[-1]["code"]
        step("a wrong code, then the right one typed in lower case")
        for line in s.client([f"verify demo ABCDE-FGHJK", f"verify demo {code.lower()}"])[1]:
            print("  helper:", line)
        step("pending codes, as an administrator sees them")
        for line in s.client(["tokens"])[1]:
            print("  helper:", line)
        step("the audit log")
        for line in s.log().splitlines():
            print("  ", line)
    finally:
        s.close()
    print("\nDone; the sandbox is gone and nothing on this machine changed.")


if __name__ == "__main__":
    main()
