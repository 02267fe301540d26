# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of setting the password and of admin resets: a real helper, a real
/etc/shadow (in the sandbox's overlay), and pam_unix as the judge of whether a password works.
Run one case: test_password.py CASE."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BOTH, check, code_for, eq  # noqa: E402

S = None
NEW = "Brand-new-Passw0rd!"
OLD = "Old-password-1"


def pam_ok(user, password):
    """Whether pam_unix accepts password for user, through a real PAM stack."""
    with open("/etc/pam.d/pwrtest", "w") as f:
        f.write("auth required pam_unix.so nodelay\naccount required pam_unix.so\n")
    p = subprocess.run(["pamtester", "pwrtest", user, "authenticate"], input=password + "\n",
                       text=True, capture_output=True)
    return p.returncode == 0


def faillock_entries(user):
    """How many failures pam_faillock holds for user, as faillock(8) lists them."""
    out = subprocess.run(["faillock", "--user", user], capture_output=True, text=True).stdout
    return sum(1 for l in out.splitlines() if l.rstrip().endswith(("V", "I")))


def fail_logins(user, n):
    """n failed logins through pam_faillock, so that the user has a tally."""
    with open("/etc/pam.d/pwrfail", "w") as f:
        f.write("auth required pam_faillock.so preauth deny=50\n"
                "auth [success=1 default=bad] pam_unix.so nodelay\n"
                "auth [default=die] pam_faillock.so authfail deny=50\n"
                "auth sufficient pam_faillock.so authsucc deny=50\n")
    for _ in range(n):
        subprocess.run(["pamtester", "pwrfail", user, "authenticate"], input="wrong\n",
                       text=True, capture_output=True)


def shadow_line(user):
    with open("/etc/shadow") as f:
        for line in f:
            if line.startswith(user + ":"):
                return line.rstrip("\n")
    return None


def test_reset_then_pam_unix():
    harness.setup_world()
    # libpwquality looks for the user name only when it has four letters or more
    for t, user in zip(BOTH, ("alice", "gina")):
        S.client([f"request {user} 192.0.2.1"], t)
        code = code_for(user)
        fail_logins(user, 3)
        eq(faillock_entries(user), 3, f"{user} has a pam_faillock tally")
        rc, out = S.client([
            f"verify {user} {code}",
            f"setpw {user} -",
            f"setpw {user} abc",
            f"setpw {user} {OLD}",
            f"setpw {user} {user}-{user}-1234",
            f"setpw {user} {NEW} 192.0.2.1",
            f"verify {user} {code}",
        ], t)
        eq(out[0], "verify status=0", t)
        eq(out[1], "set-password status=10 text=The password is empty", t)
        check(out[2].startswith("set-password status=10 text=The password is shorter than 8"),
              out[2])
        eq(out[3], "set-password status=10 text=The password is the same as the current one")
        check(out[4].startswith("set-password status=10 text="), f"user name in it: {out[4]}")
        eq(out[5], "set-password status=0 text=", t)
        eq(out[6], "verify status=7", f"{t}: the code is spent")
        eq(faillock_entries(user), 0, f"{t}: the tally is cleared as faillock --reset does")
        check(pam_ok(user, NEW), f"{t}: pam_unix accepts the new password")
        check(not pam_ok(user, OLD), f"{t}: and refuses the old one")
        line = shadow_line(user)
        eq(line.split(":")[2], str(int(__import__("time").time()) // 86400), "last change today")
        check(line.split(":")[1].startswith("$y$"), "hashed with libxcrypt's preferred method")
    kinds = sorted((m["user"], m["kind"]) for m in S.mails())
    eq(kinds, [("alice", "1"), ("alice", "3"), ("gina", "1"), ("gina", "3")],
       "a notification after each change")
    log = S.syslog()
    check("event=password-changed user=alice rhost=192.0.2.1" in log, log)
    check(NEW not in log and OLD not in log, "no password in the log")


def test_refusals_in_the_hosts_language():
    """Why a new password is refused reaches the prompt in the host's language (SPEC §13): the
    helper's own words from its catalog, with the number in its plural form, and cracklib's
    reason from cracklib's catalog; the same in English without a language."""
    import gettext
    ours = os.path.join(os.environ["PWR_BUILD_ROOT"], "po")
    harness.setup_world(harness.BASE_CONFIG + "language = ja\n")
    for lang in ("ja", "de", ""):
        S.write_config(harness.BASE_CONFIG + (f"language = {lang}\n" if lang else ""))
        harness.restart_daemon()
        t = gettext.translation("pam_pwreset", ours, [lang], fallback=not lang)
        crack = gettext.translation("cracklib", "/usr/share/locale", [lang], fallback=True)
        S.client(["request alice 192.0.2.1"])
        rc, out = S.client([f"verify alice {code_for('alice')}", "setpw alice Ab1-x",
                            "setpw alice password"])
        eq(out[0], "verify status=0", lang)
        short = t.ngettext("The password is shorter than %ld character",
                           "The password is shorter than %ld characters", 8) % 8
        eq(out[1], f"set-password status=10 text={short}", lang)
        dictionary = t.gettext("The password fails the dictionary check: %s") % \
            crack.gettext("it is based on a dictionary word")
        eq(out[2], f"set-password status=10 text={dictionary}", lang)
        if lang:  # both catalogs had the words (libcrack2 ships ja and de)
            check("shorter" not in short and "dictionary" not in dictionary and
                  "dictionary word" not in out[2], f"{lang}: {out}")


def test_set_password_needs_a_verified_code():
    harness.setup_world()
    S.client(["request alice"])
    code = code_for("alice")
    for t in BOTH:
        rc, out = S.client([f"setpw alice {NEW}", "offer alice"], t)
        eq(rc, 3, t)
        eq(out[0], "error status=2 text=no valid code was shown for alice on this connection")
        # verified for alice on one connection, then a password for bob: refused
        rc, out = S.client([f"verify alice {code}", f"setpw bob {NEW}"], t)
        eq(out[1], "error status=2 text=no valid code was shown for bob on this connection")
        # verified, then the code replaced by a newer one: refused
        S.client(["request alice"], t)
        new = code_for("alice")
        rc, out = S.client([f"verify alice {new}"], t)
        eq(out, ["verify status=0"])
    check(pam_ok("alice", OLD), "nothing changed")
    # verified, then the entry changed by passwd on the side: the code is void
    rc, out = S.client([f"verify alice {new}"])
    S.set_password("alice", "Set-by-chpasswd-3")
    rc, out = S.client([f"verify alice {new}", f"setpw alice {NEW}"])
    eq(out[0], "verify status=7")


def test_admin_reset():
    harness.setup_world()
    before = shadow_line("gina")
    rc, out = S.client(["reset - 0 gina dave nosuchuser ldapish"])
    eq(rc, 0)
    items = [dict(f.split("=", 1) for f in l.split()[1:] if "=" in f) for l in out
             if l.startswith("reset ")]
    eq([(i["user"], i["status"], i["locked"], i["mailed"]) for i in items],
       [("gina", "0", "1", "1"), ("dave", "0", "1", "0"), ("nosuchuser", "5", "0", "0"),
        ("ldapish", "6", "0", "0")])
    eq(items[0]["code"], "", "a mailed code is not shown")
    check(len(items[1]["code"]) == 11 and items[1]["code"][5] == "-", "dave's code handed over")
    check(int(items[1]["ttl"]) > 72 * 3600 - 60, "admin codes live admin_code_ttl")
    eq(out[-1].split()[:3], ["done", "status=0", "count=2"])
    # locked the way usermod -L does: '!' in front, the last-change field untouched
    after = shadow_line("gina").split(":")
    eq(after[1], "!" + before.split(":")[1])
    eq(after[2], before.split(":")[2])
    check(not pam_ok("gina", OLD), "the old password no longer works")
    eq([(m["user"], m["kind"], m["to"]) for m in S.mails()], [("gina", "2", "gina@example.org")])
    # a self-service request does not replace a pending admin code
    rc, out = S.client(["request gina"])
    eq(len(S.mails()), 1)
    check("reason=admin-code-pending" in S.syslog(), "logged")
    rc, out = S.client(["tokens"])
    check(any(l.startswith("token user=gina kind=2 failures=0 tries_left=5") for l in out), out)
    # the lock does not void the code it came with; a password replaces the whole field
    for user, code in (("gina", code_for("gina")), ("dave", items[1]["code"])):
        rc, out = S.client([f"verify {user} {code}", f"setpw {user} {NEW}"], "oneshot")
        eq(out, ["verify status=0", "set-password status=0 text="], user)
        check(pam_ok(user, NEW), f"{user} logs in with the new password")
        check(not shadow_line(user).split(":")[1].startswith("!"), "unlocked")
    # --print hands the code over even with an address; --no-lock leaves the entry alone
    before = shadow_line("hank")
    rc, out = S.client(["reset print,nolock 3600 hank"])
    check(out[0].startswith("reset user=hank status=0 locked=0 mailed=0 ttl=3"), out)
    eq(shadow_line("hank"), before)
    check(pam_ok("hank", OLD), "not locked")
    check("event=admin-reset user=hank by=0 result=ok reason=code-handed-over" in S.syslog(), "")


def test_shadow_fixture_byte_identical():
    """1,000 more lines of every odd kind in the real /etc/shadow, no final newline: after a
    reset through the helper every other byte is as it was, owner, group and mode too."""
    harness.setup_world()
    with open("/etc/shadow", "a") as f:
        for i in range(1000):
            kind = i % 5
            if kind == 0:
                f.write(f"+nis{i}::::::::\n")
            elif kind == 1:
                f.write(f"-@group{i}\n")
            elif kind == 2:
                f.write(f"   odd line {i} :: \t with blanks\n")
            elif kind == 3:
                f.write(f"fx{i}:$6$s{i}$h{i}:19000:0:99999:7:::\n")
            else:
                f.write("\n")
        f.write("last:$6$last$hash:19000:0:99999:7:::")  # no newline
    os.chown("/etc/shadow", 0, 42)
    os.chmod("/etc/shadow", 0o640)
    st0 = os.stat("/etc/shadow")
    old = open("/etc/shadow", "rb").read()
    S.client(["request alice"])
    rc, out = S.client([f"verify alice {code_for('alice')}", f"setpw alice {NEW}"])
    eq(out[1], "set-password status=0 text=")
    new = open("/etc/shadow", "rb").read()
    old_lines, new_lines = old.split(b"\n"), new.split(b"\n")
    eq(len(new_lines), len(old_lines))
    diff = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    eq(len(diff), 1, "one line changed")
    check(new_lines[diff[0]].startswith(b"alice:$y$"), new_lines[diff[0]])
    check(not new.endswith(b"\n"), "still no final newline")
    st1 = os.stat("/etc/shadow")
    eq((st1.st_uid, st1.st_gid, st1.st_mode), (st0.st_uid, st0.st_gid, st0.st_mode))
    eq(open("/etc/shadow-", "rb").read(), old, "/etc/shadow- holds the previous content")
    left = [f for f in os.listdir("/etc") if "pwreset" in f or f.startswith("shadow.")]
    eq(left, ["pwreset"], "no temporary or lock file left")


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
