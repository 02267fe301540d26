# SPDX-License-Identifier: BSD-3-Clause
"""The whole login flow through real PAM applications in the sandbox: OpenSSH's sshd on
127.0.0.1 with ssh driven by pexpect (keyboard-interactive, and password authentication alone),
and su run by an unprivileged user. Codes are read from a real SMTP server's mailbox; pam_unix
and a fresh login are the judges of the new password. Run one case: test_ssh.py CASE."""

import gettext
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
import smtpserver  # noqa: E402
import sshserver  # noqa: E402
import harness  # noqa: E402
from harness import (  # noqa: E402
    auth_stack,
    check,
    eq,
    mailed_code,
    MODULE,
    NEW,
    NO_LIMITS,
    OLD,
    SENT,
    ssh_login,
    ssh_reset,
    world,
    wrong_password_then)

S = None

# The English of the prompts (SPEC §3): the catalogs' keys
EN = {
    "offer": ('Forgot your password? Enter a reset code, or type "reset" to have one e-mailed '
              "(Enter to skip): "),
    "sent": ("If this account can be reset, a reset code has been sent to its recovery address. "
             "It expires in %u minute.",
             "If this account can be reset, a reset code has been sent to its recovery address. "
             "It expires in %u minutes."),
    "code": "Reset code: ",
    "new": "New password: ",
    "retype": "Retype new password: ",
    "changed": "Password changed.",
    "login": "Log in with your new password.",
    "bad": "BAD PASSWORD: %s",
    "short": ("The password is shorter than %ld character",
              "The password is shorter than %ld characters"),
}


def words(lang):
    """What the prompts say in lang, from the built catalog (read by Python's gettext, not
    by the code under test), each checked to be a translation."""
    t = gettext.translation("pam_pwreset", os.path.join(os.environ["PWR_BUILD_ROOT"], "po"),
                            [lang])
    out = {k: t.gettext(v) for k, v in EN.items() if isinstance(v, str)}
    out["sent"] = t.ngettext(*EN["sent"], 10) % 10
    out["short"] = t.ngettext(*EN["short"], 8) % 8  # min_length
    for k, v in out.items():
        check(v not in (EN[k], EN["sent"][1] % 10, EN["short"][1] % 8),
              f"{lang}: {k} is not translated")
    return out


def ssh_unescaped(out):
    """The transcript as the person reads it, but for one thing: OpenSSH's client (9.2) prints
    a keyboard-interactive message that no prompt follows (what ends the conversation:
    "Password changed.") through its log, which writes each non-ASCII byte in octal
    (openssh-portable pull request 452); those bytes, decoded."""
    return re.sub(r"(?:\\[0-3][0-7]{2})+",
                  lambda m: bytes(int(o, 8) for o in m.group(0).split("\\")[1:]).decode(),
                  out)


def to_code_prompt(sshd, user, w):
    """ssh as user: a wrong password, "reset" at the offer in w's words, up to the code
    prompt."""
    p = sshd.ssh(user)
    p.expect_exact("Password: ")
    p.sendline("Not-the-password-9")
    p.expect_exact(w["offer"])
    p.sendline("reset")
    p.expect_exact(w["sent"])
    p.expect_exact(w["code"])
    return p


def transcript_to_code_prompt(sshd, user, w):
    """To the code prompt, then Enter: the transcript (user's name replaced), ssh's status."""
    p = to_code_prompt(sshd, user, w)
    p.sendline("")
    out, rc = sshserver.finish(p)
    return out.replace(user, "USER"), rc


def ssh_flow(transport):
    """wrong password → reset → the mailed code → a new password; then a fresh ssh runs a
    command with it, and the old password no longer logs in."""
    srv = smtpserver.Server()
    world(srv)
    if transport == "oneshot":
        S.stop_daemon()
    sshd = sshserver.Sshd(S, pam_auth=auth_stack())
    out, rc = ssh_reset(sshd, srv, "alice", 0)
    check("Password changed." in out and "Log in with your new password." in out, out)
    check("Permission denied" in out, out)
    eq(rc, 255, "ssh after the reset (no login_after_reset)")
    out, rc = ssh_login(sshd, "alice", NEW)
    check("LOGGED-IN as alice" in out, out)
    eq(rc, 0, f"the new password logs in: {out}")
    out, rc = ssh_login(sshd, "alice", OLD)
    check("LOGGED-IN" not in out and "Permission denied" in out, out)
    eq(rc, 255, "the old password")
    eq(os.path.exists("/run/pwreset/helper.sock"), transport == "socket", "transport used")
    mails = srv.wait_for(2)
    check(b"password" in mails[1][2].lower() and len(mails) == 2, "the 'changed' notice")
    log = S.syslog()
    check(re.search(r"event=password-changed user=alice rhost=127\.0\.0\.1 .*result=ok", log),
          log)
    sshd.stop()
    srv.stop()


def test_ssh_reset_daemon():
    ssh_flow("socket")


def test_ssh_reset_oneshot():
    """No daemon: the module runs the setuid helper, which also delivers the mail."""
    ssh_flow("oneshot")


def test_ssh_login_after_reset():
    """With login_after_reset the same conversation ends logged in, running the command."""
    srv = smtpserver.Server()
    world(srv)
    sshd = sshserver.Sshd(S, pam_auth=auth_stack("login_after_reset"))
    out, rc = ssh_reset(sshd, srv, "bob", 0)
    check("Password changed." in out and "LOGGED-IN as bob" in out, out)
    eq(rc, 0, out)
    sshd.stop()
    srv.stop()


def test_ssh_password_auth_only():
    """sshd with password authentication alone: a wrong password fails as usual, nothing is
    offered or mailed, and the module logs once how to enable the offer."""
    srv = smtpserver.Server()
    world(srv)
    sshd = sshserver.Sshd(S, kbdint=False, pam_auth=auth_stack())
    p = sshd.ssh("alice", kbdint=False)
    p.expect_exact("password: ")
    p.sendline("Not-the-password-9")
    out, rc = sshserver.finish(p)
    check("Permission denied" in out and "reset" not in out.lower(), out)
    eq(rc, 255)
    p = sshd.ssh("alice", kbdint=False)
    p.expect_exact("password: ")
    p.sendline(OLD)
    out, rc = sshserver.finish(p)
    check("LOGGED-IN as alice" in out, out)
    time.sleep(2)
    eq(srv.messages, [], "no mail")
    eq(S.mails(), [], "nothing queued")
    log = S.syslog()
    check("enable KbdInteractiveAuthentication" in log, log)
    check("event=request" not in log, "no request reached the helper")
    sshd.stop()
    srv.stop()


def test_ssh_texts_and_timing():
    """An eligible user, one without address, one sharing an address, an unknown user (sshd
    hands PAM a junk stand-in for what is typed) and root (not permitted to log in: junk too)
    read the same transcript; only the eligible one is mailed. The time from 'reset' to the
    next prompt: medians of 10 within 20 ms of each other. In Japanese (SPEC §13): the
    language is the host's, so it tells no account from another either."""
    srv = smtpserver.Server()
    world(srv, NO_LIMITS + "language = ja\n")
    w = words("ja")
    sshd = sshserver.Sshd(S, pam_auth=auth_stack())
    users = ("alice", "dave", "carol", "nosuchuser", "root")
    times = {u: [] for u in users}
    texts = {u: set() for u in users}
    for n in range(10):
        for u in users:
            p = sshd.ssh(u)
            p.expect_exact("Password: ")
            p.sendline("Not-the-password-9")
            p.expect_exact(w["offer"])
            p.sendline("reset")
            t0 = time.monotonic()
            p.expect_exact(w["code"])
            times[u].append(time.monotonic() - t0)
            if n == 0:  # the whole transcript, to its end (PAM's fail delay: 2 s)
                p.sendline("")
                out, rc = sshserver.finish(p)
            else:  # up to the code prompt, then hang up
                out, rc = p.logfile_read.getvalue(), None
                p.close(force=True)
            texts[u].add((out.replace(u, "USER"), rc))
    for u in users:
        eq(len(texts[u]), 2, f"{u}'s transcript changed between rounds: {texts[u]}")
    for u in users:
        eq(texts[u], texts["alice"], f"{u}'s transcript and alice's")
    check(w["sent"] in next(iter(texts["alice"]))[0], texts["alice"])
    medians = {u: statistics.median(t) * 1000 for u, t in times.items()}
    print("reset → next prompt, medians of 10:",
          ", ".join(f"{u} {m:.1f} ms" for u, m in medians.items()))
    spread = max(medians.values()) - min(medians.values())
    check(spread <= 20, f"medians {spread:.1f} ms apart")
    msgs = srv.wait_for(10)
    time.sleep(1)
    eq(sorted({r[0] for _, r, _ in srv.messages}), ["alice@example.org"], "only alice")
    eq(len(srv.messages), 10, "one mail per request of alice")
    sshd.stop()
    srv.stop()


def test_ssh_languages():
    """The prompts in the host's language (SPEC §13), through sshd: with language = ja an
    eligible account, one without an address and an unknown name read byte-identical Japanese
    transcripts, and alice's reset completes in Japanese; the same in German with language = de,
    and with language empty on a host whose /etc/default/locale says LANG=de_DE.UTF-8. The
    module never touches its application's locale: it does not even import setlocale."""
    srv = smtpserver.Server()
    world(srv, NO_LIMITS + "language = ja\n")
    sshd = sshserver.Sshd(S, pam_auth=auth_stack())
    base = open("/etc/pwreset/pwreset.conf").read().replace("language = ja\n", "")
    mails = 0
    for lang, config, system in (("ja", "language = ja\n", None),
                                 ("de", "language = de\n", None),
                                 ("de", "", "LANG=de_DE.UTF-8\n")):
        if system:
            with open("/etc/default/locale", "w") as f:
                f.write(system)
        S.write_config(base + config)
        harness.restart_daemon()
        w = words(lang)
        seen = {u: transcript_to_code_prompt(sshd, u, w) for u in ("alice", "dave", "nosuchuser")}
        mails += 1
        for u in ("dave", "nosuchuser"):
            eq(seen[u], seen["alice"], f"{lang} {config or system}: {u}'s transcript")
        check(re.search("[^\x00-\x7f]", seen["alice"][0]), seen["alice"])
        # alice's reset, to its end
        p = to_code_prompt(sshd, "alice", w)
        mails += 1
        p.sendline(mailed_code(srv, mails, "alice"))
        p.expect_exact(w["new"])
        p.sendline("Ab1-x")  # the helper's refusal, in the host's language too
        p.expect_exact(w["retype"])
        p.sendline("Ab1-x")
        p.expect_exact(w["bad"] % w["short"])
        p.expect_exact(w["new"])
        p.sendline(NEW)
        p.expect_exact(w["retype"])
        p.sendline(NEW)
        out, rc = sshserver.finish(p)
        out = ssh_unescaped(out)
        check(w["changed"] in out and w["login"] in out, out)
        for english in EN.values():
            for e in (english if isinstance(english, tuple) else (english,)):
                check(e.split("%")[0] not in out, f"{lang}: English left: {e!r} in {out}")
        mails += 1  # the notice of the change
        out, rc = ssh_login(sshd, "alice", NEW)
        eq(rc, 0, f"{lang}: the new password logs in: {out}")
        S.set_password("alice", OLD)  # for the next language's round
    # no locale of the application's is changed: the module imports none of the calls
    syms = subprocess.run(["nm", "-D", "--undefined-only", os.environ["PWR_PAM_MODULE"]],
                          capture_output=True, text=True, check=True).stdout
    for fn in ("setlocale", "uselocale", "newlocale", "textdomain", "bindtextdomain",
               "gettext", "dgettext", "dcgettext"):
        check(not re.search(rf"\b{fn}(@|$)", syms, re.M), f"the module imports {fn}")
    sshd.stop()
    srv.stop()


def test_su_reset():
    """su run by an unprivileged user, once with the daemon and once without: the module
    (effective uid 0 in su) resets alice's password in the same conversation; su then accepts
    the new password."""
    srv = smtpserver.Server()
    world(srv)
    with open("/etc/pam.d/su", "w") as f:
        f.write("auth sufficient pam_rootok.so\n" + auth_stack() +
                "account required pam_unix.so\nsession required pam_unix.so\n")
    preload = os.environ.get("PWR_SANITIZER_PRELOAD")
    if preload:  # su is setuid: the loader ignores LD_PRELOAD there, not /etc/ld.so.preload
        with open("/etc/ld.so.preload", "w") as f:
            f.write(preload.replace(" ", "\n") + "\n")
    env = sandbox.host_env()
    for n, (transport, user) in enumerate((("socket", "alice"), ("oneshot", "gina"))):
        if transport == "oneshot":
            S.stop_daemon()
        argv = ["--reuid=bob", "--regid=bob", "--init-groups", "su", user, "-c",
                "echo SU-OK as $(id -un)"]
        p = pexpect.spawn("setpriv", argv, encoding="utf-8", timeout=60, echo=False, env=env)
        p.logfile_read = io.StringIO()
        wrong_password_then(p, "reset")
        p.expect_exact(SENT)
        p.expect_exact("Reset code: ")
        p.sendline(mailed_code(srv, 2 * n + 1, user))
        p.expect_exact("New password: ")
        p.sendline(NEW)
        p.expect_exact("Retype new password: ")
        p.sendline(NEW)
        out, rc = sshserver.finish(p)
        check("Password changed." in out and "Log in with your new password." in out, out)
        check("Authentication failure" in out, out)
        eq(rc, 1, f"{transport}: su after the reset")
        p = pexpect.spawn("setpriv", argv, encoding="utf-8", timeout=60, echo=False, env=env)
        p.logfile_read = io.StringIO()
        p.expect_exact("Password: ")
        p.sendline(NEW)
        out, rc = sshserver.finish(p)
        check(f"SU-OK as {user}" in out, out)
        eq(rc, 0, f"{transport}: su with the new password")
        srv.wait_for(2 * n + 2)
    srv.stop()


# ---- SPEC §11 at the ssh prompt: addresses users register, and the session hint ----

HINT = "No recovery address is set for {}. Run: pwreset-address set you@example.org"
NO_SESSION_LINE = "session required pam_permit.so\n"


def session_line(options=""):
    return f"session optional {MODULE} helper={S.helper} {options}\n"


def interactive_login(sshd, user, password):
    """An interactive ssh login on a terminal (sshd shows its login messages then): the shell
    says who it runs as and exits. (transcript, exit status, seconds from the password sent
    to the shell's prompt)."""
    p = sshd.ssh(user, command=None)
    p.expect_exact("Password: ")
    t0 = time.monotonic()
    p.sendline(password)
    p.expect_exact("$ ")  # dash's prompt: the login is done
    t = time.monotonic() - t0
    p.sendline("echo LOGGED-IN as $(id -un); exit")
    out, rc = sshserver.finish(p)
    return out, rc, t


def register(user, address, transport, srv, sent):
    """user registers address with pwreset-address: set (the current password), the code from
    the mail, confirm. How many mails the server then has."""
    rc, out, err = harness.address("set", address, user=user, password=OLD, transport=transport)
    eq(rc, 0, f"{transport}: {err}")
    code = mailed_code(srv, sent + 1, user, address)
    rc, out, err = harness.address("confirm", code, user=user, transport=transport)
    eq(rc, 0, f"{transport}: {err}")
    return sent + 1 + ("was told" in out)


def test_ssh_reset_to_user_address():
    """A user registers an address of their own (pwreset-address set, the mailed code,
    confirm); pwresetctl email show says source user; a reset at the ssh prompt mails that
    address and not the old one. On both transports."""
    srv = smtpserver.Server()
    world(srv)
    sshd = sshserver.Sshd(S, pam_auth=auth_stack())
    sent = 0
    for transport, user in (("socket", "alice"), ("oneshot", "gina")):
        if transport == "oneshot":
            S.stop_daemon()
        own = f"{user}.own@example.net"
        sent = register(user, own, transport, srv, sent)
        eq(srv.wait_for(sent)[sent - 1][1], [f"{user}@example.org"], "the old address told")
        p = subprocess.run([os.environ["PWR_CTL"], "--helper", S.helper, "--json", "email",
                            "show", user], capture_output=True, text=True)
        eq(p.returncode, 0, p.stderr)
        js = json.loads(p.stdout)
        eq((js["address"], js["source"]), (own, "user"), transport)
        out, rc = ssh_reset(sshd, srv, user, sent, to=own)
        check("Password changed." in out, out)
        sent += 2  # the code, then the notice that the password changed
        eq(srv.wait_for(sent)[sent - 1][1], [own], "the notice goes to the new address too")
        out, rc = ssh_login(sshd, user, NEW)
        eq(rc, 0, f"{transport}: the new password logs in: {out}")
    sshd.stop()
    srv.stop()


def test_ssh_session_hint():
    """Through real sshd, after an interactive login: a user without a recovery address reads
    the hint once, and the daemon was asked one read-only question; a user with one does not;
    nohint silences it (the daemon is not even asked); once the user registered an address the
    hint is gone."""
    srv = smtpserver.Server()
    world(srv)
    S.useradd("nina")
    for u in ("dave", "nina"):
        S.set_password(u, OLD)
    sshd = sshserver.Sshd(S, pam_auth=auth_stack(), pam_session=session_line())
    out, rc, _ = interactive_login(sshd, "dave", OLD)
    check("LOGGED-IN as dave" in out, out)
    eq(out.count(HINT.format("dave")), 1, f"the hint once: {out}")
    check(re.search(r"event=address-show user=dave .*result=ok", S.log()), S.log()[-2000:])
    eq(S.mails(), [], "nothing queued by a session")
    out, rc, _ = interactive_login(sshd, "alice", OLD)
    check("LOGGED-IN as alice" in out and "No recovery address" not in out, out)
    sshserver.Sshd.write_pam(auth_stack(), session_line("nohint"))
    out, rc, _ = interactive_login(sshd, "nina", OLD)
    check("LOGGED-IN as nina" in out and "No recovery address" not in out, out)
    check("user=nina" not in S.log(), "nohint: the daemon is not asked")
    sshserver.Sshd.write_pam(auth_stack(), session_line())
    out, rc, _ = interactive_login(sshd, "nina", OLD)
    eq(out.count(HINT.format("nina")), 1, f"without nohint nina is told: {out}")
    register("dave", "dave.own@example.net", "socket", srv, 0)
    out, rc, _ = interactive_login(sshd, "dave", OLD)
    check("LOGGED-IN as dave" in out and "No recovery address" not in out, out)
    sshd.stop()
    srv.stop()


def test_ssh_session_hint_without_helper():
    """With the helper's daemon gone, the session line costs a login nothing a person would
    notice: no message, the one-shot helper not run, and the median of 10 logins within 50 ms
    of the median of the same logins without the line (taken in turn)."""
    srv = smtpserver.Server()
    world(srv)
    S.set_password("dave", OLD)
    S.stop_daemon()
    sshd = sshserver.Sshd(S, pam_auth=auth_stack(), pam_session=session_line())
    times = {"with": [], "without": []}
    for n in range(10):
        for kind, line in (("with", session_line()), ("without", NO_SESSION_LINE)):
            sshserver.Sshd.write_pam(auth_stack(), line)
            out, rc, t = interactive_login(sshd, "dave", OLD)
            check("LOGGED-IN as dave" in out and "No recovery address" not in out, out)
            times[kind].append(t * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"password → shell prompt, medians of 10: with the session line {med['with']:.1f} ms,"
          f" without {med['without']:.1f} ms")
    check(med["with"] - med["without"] <= 50, med)
    check("event=address-show" not in S.syslog(), "the one-shot helper was run for a hint")
    sshd.stop()
    srv.stop()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
