# SPDX-License-Identifier: BSD-3-Clause
"""Integration tests of pam_pwreset.so through a real PAM stack (pamtester on a
pseudo-terminal, driven by pexpect) in the sandbox: the texts of SPEC §3, the return codes,
and pam_unix as the judge of the new password. Run one case: test_pam.py CASE."""

import glob
import io
import json
import os
import struct
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
import harness  # noqa: E402
from harness import check, code_for, eq  # noqa: E402

S = None
OLD = "Old-password-1"
NEW = "Brand-new-Passw0rd!"
OFFER = ('Forgot your password? Enter a reset code, or type "reset" to have one e-mailed '
         '(Enter to skip): ')
SENT = ("If this account can be reset, a reset code has been sent to its recovery address. "
        "It expires in 10 minutes.")
MODULE = os.environ.get("PWR_PAM_MODULE", "")


def stack(options="", alone=True):
    """/etc/pam.d/pwrpam: the module alone (its own return code is what pamtester reports),
    or after pam_unix as pam-auth-update puts it."""
    line = f"{MODULE} helper={S.helper} {options}".strip()
    with open("/etc/pam.d/pwrpam", "w") as f:
        if alone:
            f.write(f"auth required {line}\n")
        else:
            f.write("auth [success=2 default=ignore] pam_unix.so nullok nodelay\n"
                    f"auth [success=1 default=ignore] {line}\n"
                    "auth requisite pam_deny.so\nauth required pam_permit.so\n")
        f.write("account required pam_permit.so\n")


def session(user):
    p = pexpect.spawn("pamtester", ["pwrpam", user, "authenticate"], encoding="utf-8",
                      timeout=30, echo=False, env=sandbox.host_env())
    p.logfile_read = io.StringIO()  # the whole transcript, for finish()
    return p


def finish(p):
    """Everything pamtester said, from the start until it exited, and its exit status."""
    p.expect(pexpect.EOF)
    p.close()
    return p.logfile_read.getvalue(), p.exitstatus


def pam_unix_ok(user, password):
    with open("/etc/pam.d/pwrunix", "w") as f:
        f.write("auth required pam_unix.so nodelay\naccount required pam_permit.so\n")
    r = subprocess.run(["pamtester", "pwrunix", user, "authenticate"], input=password + "\n",
                       text=True, capture_output=True)
    return r.returncode == 0


def test_module_links_and_exports():
    """Only pam_sm_* leave the module (auth, and the session hint of SPEC §11); it links no
    store, crypto, curl, TLS or LDAP library; it loads with dlopen and every entry point
    resolves."""
    nm = subprocess.run(["nm", "-D", "--defined-only", MODULE], capture_output=True,
                        text=True).stdout.split()
    eq(sorted(w for w in nm if not all(c in "0123456789abcdef" for c in w) and len(w) > 1),
       ["pam_sm_authenticate", "pam_sm_close_session", "pam_sm_open_session",
        "pam_sm_setcred"])
    ldd = subprocess.run(["ldd", MODULE], capture_output=True, text=True).stdout
    for lib in ("liblmdb", "libsodium", "libcurl", "libssl", "libcrypto", "libgnutls",
                "libpwquality", "libcrypt.", "libldap", "liblber"):
        check(lib not in ldd, f"the module links {lib}")
    # loaded in a process of its own, as a host program loads it
    r = subprocess.run([sys.executable, "-c", "import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); "
                        "lib.pam_sm_authenticate; lib.pam_sm_setcred; lib.pam_sm_open_session; "
                        "lib.pam_sm_close_session", MODULE],
                       env=sandbox.host_env(), capture_output=True, text=True)
    eq(r.returncode, 0, f"dlopen and every entry point: {r.stderr}")


def test_enter_skips():
    harness.setup_world()
    stack()
    p = session("alice")
    p.expect_exact(OFFER)
    p.sendline("")
    out, rc = finish(p)
    check("Authentication failure" in out, out)
    eq(S.mails(), [], "nothing sent")


def run_reset(user, code_reader, options="", passwords=((NEW, NEW),)):
    """A whole conversation: reset, the code, then the password pairs; returns the
    transcript and pamtester's exit status."""
    stack(options)
    p = session(user)
    p.expect_exact(OFFER)
    p.sendline("reset")
    p.expect_exact(SENT)
    p.expect_exact("Reset code: ")
    p.sendline(code_reader())
    for new, again in passwords:
        p.expect_exact("New password: ")
        p.sendline(new)
        p.expect_exact("Retype new password: ")
        p.sendline(again)
    return finish(p)


def test_reset_flow():
    """reset → code → a weak password (BAD PASSWORD), a mismatch, a good one: Password
    changed, Log in with your new password, PAM_AUTH_ERR; pam_unix takes the new password.
    With login_after_reset the module returns success."""
    harness.setup_world()
    out, rc = run_reset("alice", lambda: code_for("alice"),
                        passwords=(("abc", "abc"), (NEW, NEW + "x"), (NEW, NEW)))
    check("BAD PASSWORD: The password is shorter than 8 characters" in out, out)
    check("Sorry, passwords do not match." in out, out)
    check("Password changed." in out and "Log in with your new password." in out, out)
    check("Authentication failure" in out, out)
    check(pam_unix_ok("alice", NEW) and not pam_unix_ok("alice", OLD), "pam_unix agrees")
    out, rc = run_reset("gina", lambda: code_for("gina"), "login_after_reset")
    check("Password changed." in out and "Log in with" not in out, out)
    check("successfully authenticated" in out, out)
    eq(rc, 0)


def test_wrong_codes():
    """Three wrong codes, 2 s apart at least: 'That code is not valid.' each time, then
    PAM_MAXTRIES. Enter at the code prompt ends the conversation."""
    harness.setup_world()
    stack()
    p = session("alice")
    p.expect_exact(OFFER)
    t0 = time.time()
    p.sendline("AAAAA-AAAAA")
    for _ in range(2):
        p.expect_exact("That code is not valid.")
        p.expect_exact("Reset code: ")
        p.sendline("12345")  # cannot be a code: a try of the conversation all the same
    out, rc = finish(p)
    took = time.time() - t0
    eq(out.count("That code is not valid."), 3, out)
    check("Have exhausted maximum number of retries" in out, out)
    check(took >= 6, f"three wrong codes took {took:.1f} s")
    p = session("alice")
    p.expect_exact(OFFER)
    p.sendline("reset")
    p.expect_exact("Reset code: ")
    p.sendline("")
    out, rc = finish(p)
    check("Authentication failure" in out, out)


def transcript(user):
    stack()
    p = session(user)
    p.expect_exact(OFFER)
    t0 = time.time()
    p.sendline("reset")
    p.expect_exact("Reset code: ")
    took = time.time() - t0
    p.sendline("")
    out, rc = finish(p)
    return out, rc, took


def test_texts_do_not_tell_users_apart():
    """An eligible user, one without an address, one sharing an address and an unknown user
    see the same words; only the eligible one gets a mail."""
    harness.setup_world()
    seen = {u: transcript(u) for u in ("alice", "dave", "carol", "nosuchuser")}
    outs = {u: (o.replace(u, "USER"), rc) for u, (o, rc, _) in seen.items()}
    eq(len(set(outs.values())), 1, f"transcripts differ: {outs}")
    eq([m["user"] for m in S.mails()], ["alice"], "only alice is mailed")
    print({u: f"{t * 1000:.0f} ms" for u, (_, _, t) in seen.items()})


ADMIN_PROMPT = "Enter the reset code from your administrator (Enter to skip): "


def test_policy_off_and_helper_gone():
    """Self-service off: the administrators' help message, then the same prompt for an
    administrator's code for every account (alice has one pending, bob none, nosuchuser is
    no account): Enter skips, "reset" is no request, a wrong code is not valid, alice's code
    works. The helper unreachable: 'Password reset is not available right now.'"""
    harness.setup_world(harness.BASE_CONFIG + "self_reset = no\nhelp_message = Call the desk on 4242\n")
    rc, out = S.client(["reset print,nolock 0 alice"])
    admin = out[0].split("code=")[1].split()[0]
    stack()
    for answers in ([""], ["reset", ""], ["ABCDE-FGHJK", ""]):
        seen = [pamjunk(u, answers, False) for u in ("alice", "bob")] + \
            [pamjunk("nosuchuser", answers, True)]
        eq(seen[1], seen[0], f"{answers}: bob against alice")
        eq(seen[2], seen[0], f"{answers}: nosuchuser against alice")
        check(seen[0].startswith(f"error: Call the desk on 4242\nprompt: {ADMIN_PROMPT}\n"),
              seen[0])
        check("Forgot" not in seen[0] and "has been sent" not in seen[0], seen[0])
        check(seen[0].endswith("result: Authentication failure\n"), seen[0])
    eq(S.mails(), [], "nothing requested")
    out = pamjunk("alice", [admin, NEW, NEW], False)
    check("info: Password changed." in out, out)
    check(pam_unix_ok("alice", NEW), "the administrator's code set the password")
    S.stop_daemon()
    stack("helper=/nonexistent")  # the later option wins
    p = session("alice")
    out, rc = finish(p)
    check("Password reset is not available right now." in out, out)
    check("Authentication failure" in out, out)


def test_expired_and_other_users_code():
    """Another user's code and an expired code read exactly like a wrong one. (The shortest
    lifetime is 60 s: this case waits that long.)"""
    harness.setup_world()
    rc, out = S.client(["reset print,nolock 60 alice"])
    t0 = time.time()
    expired = [l for l in out if l.startswith("reset ")][0].split("code=")[1].split()[0]
    S.client(["request bob"])
    bobs = code_for("bob")
    stack()
    p = session("alice")
    p.expect_exact(OFFER)
    p.sendline(bobs)
    p.expect_exact("That code is not valid.")
    p.expect_exact("Reset code: ")
    time.sleep(max(0, t0 + 61 - time.time()))
    p.sendline(expired)
    p.expect_exact("That code is not valid.")
    p.expect_exact("Reset code: ")
    p.sendline("")
    out, rc = finish(p)
    check("Authentication failure" in out, out)
    eq(out.count("That code is not valid."), 2, out)
    rc, out = S.client([f"verify bob {bobs}"])
    eq(out, ["verify status=0"], "bob's code was not spent on alice")


def fake_helper(behaviour):
    """A stand-in daemon on the helper's socket: "garbage" answers noise, "dies" answers the
    offer properly and then hangs up in the middle of the conversation, "silent" (a helper
    that is stopped or stuck) never answers and keeps the connection open."""
    import socket
    import threading
    S.stop_daemon()
    os.makedirs("/run/pwreset", exist_ok=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind("/run/pwreset/helper.sock")
    srv.listen(4)
    held = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.recv(8192)
            if behaviour == "silent":
                held.append(c)
                continue
            if behaviour == "slow":  # a proper offer; each code answered "not valid" late
                c.send(harness.packet(0x8001, struct.pack("=III", 0, 1, 600) + harness.pack_str("")))
                while c.recv(8192):
                    time.sleep(1.5)
                    c.send(harness.packet(0x8003, struct.pack("=I", 7)))
                c.close()
                continue
            if behaviour == "garbage":
                c.send(b"\x01\x00\x01\x80" + b"\xff" * 40)
            else:
                c.send(harness.packet(0x8001, struct.pack("=III", 0, 1, 600) + harness.pack_str("")))
                c.recv(8192)
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_wrong_code_deadline():
    """"That code is not valid." comes 2 s after the code was sent, however long the helper
    took (here 1.5 s): a deadline, not a delay added to the helper's time, so what the helper
    does for one account or another cannot be timed."""
    harness.setup_world()
    srv = fake_helper("slow")
    stack()
    p = session("alice")
    p.expect_exact(OFFER)
    took = []
    for code in ("ABCDE-FGHJK", "BCDEF-GHJKM"):
        t0 = time.monotonic()
        p.sendline(code)
        p.expect_exact("That code is not valid.")
        took.append(time.monotonic() - t0)
        p.expect_exact("Reset code: ")
    p.sendline("")
    finish(p)
    srv.close()
    for t in took:
        check(1.9 < t < 2.4, f"told after {t:.2f} s, not 2 s + the helper's 1.5 s")


def test_helper_garbage_or_dying():
    """A helper that answers garbage, dies in the middle of the conversation, or never
    answers: the person reads 'Password reset is not available right now.' (for the silent
    one once the module's timeout, here 3 s, has run out), the module returns PAM_AUTH_ERR."""
    harness.setup_world()
    for behaviour in ("garbage", "dies", "silent"):
        srv = fake_helper(behaviour)
        stack("timeout=3")
        t0 = time.monotonic()
        p = session("alice")
        if behaviour == "dies":
            p.expect_exact(OFFER)
            p.sendline("reset")
        out, rc = finish(p)
        took = time.monotonic() - t0
        check("Password reset is not available right now." in out, f"{behaviour}: {out}")
        check("Authentication failure" in out and "success" not in out, out)
        if behaviour == "silent":
            check(2.5 < took < 10, f"the module gave up after its timeout: {took:.1f} s")
            check("offer: the helper did not answer within 3 s" in S.syslog(),
                  S.syslog()[-1500:])
        srv.close()
        os.unlink("/run/pwreset/helper.sock")


UNAVAILABLE = "Password reset is not available right now."
DICT_MISSING = ("the password dictionary /var/cache/cracklib/cracklib_dict.pwi cannot be read "
                "(No such file or directory); install the package cracklib-runtime")


def test_no_password_dictionary():
    """The password dictionary removed (in the sandbox's /var): the person sees that reset is
    not available, never a library's text, before anything is asked or sent; a code from
    before stays valid but writes nothing; the administrator reads the file and the package in
    --check-config, pwresetctl status and one log line; an admin reset is refused rather than
    lock an account whose owner could not choose a new password. Put back, all works again."""
    harness.setup_world()
    S.client(["request alice"])
    code = code_for("alice")
    saved = {}
    for name in glob.glob("/var/cache/cracklib/cracklib_dict.*"):
        with open(name, "rb") as f:
            saved[name] = f.read()
        os.unlink(name)
    check(len(saved) >= 2, f"the dictionary was there to remove (cracklib-runtime): {saved}")
    time.sleep(2.1)  # the daemon looks at the dictionary again every 2 s
    with open("/etc/shadow") as f:
        before = f.read()
    stack()
    ctl = os.environ["PWR_CTL"]
    for t in harness.BOTH:
        if t == "oneshot":
            S.stop_daemon()
        # the person: told at once, whoever they are; nothing requested, nothing mailed
        for user in ("alice", "bob", "nosuchuser"):
            out, rc = finish(session(user))
            check(UNAVAILABLE in out and "Forgot" not in out and "dictionary" not in out,
                  f"{t} {user}: {out}")
            check("Authentication failure" in out, out)
        rc, out = S.client(["request bob", f"verify alice {code}", f"setpw alice {NEW}"], t)
        eq(out[0].split()[:2], ["request", "status=0"], f"{t}: the uniform answer")
        eq(out[1], "verify status=0", f"{t}: the code from before is still valid")
        eq(out[2], "set-password status=11 text=", f"{t}: refused, and no library text")
        check(not [m for m in S.mails() if m["user"] == "bob"], f"{t}: no code mailed to bob")
        # the administrator
        argv = [ctl, "--helper", S.helper] + (["--socket", "/nonexistent"] if t == "oneshot"
                                              else [])
        r = subprocess.run(argv + ["status"], capture_output=True, text=True)
        eq(r.returncode, 0, r.stderr)
        check(f"PROBLEM:        {DICT_MISSING}\n" in r.stdout, f"{t}: {r.stdout}")
        r = subprocess.run(argv + ["--json", "status"], capture_output=True, text=True)
        eq(json.loads(r.stdout)["problems"], [DICT_MISSING], t)
        r = subprocess.run(argv + ["reset", "bob"], capture_output=True, text=True)
        eq((r.returncode, r.stdout), (1, ""), r.stderr)
        eq(r.stderr, f"pwresetctl: reset: {DICT_MISSING}; nobody was reset\n", t)
        with open("/etc/shadow") as f:
            eq(f.read(), before, f"{t}: /etc/shadow untouched (bob not locked)")
    r = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    eq((r.returncode, r.stderr), (1, f"pwreset-helper: {DICT_MISSING}\n"), "--check-config")
    log = S.syslog()
    reasons = [l for l in log.splitlines()
               if "password reset is refused until this is fixed: " + DICT_MISSING in l]
    # the daemon once (it served three offers, a request, a set-password, two status and a
    # reset); each one-shot helper once
    pids = [l.split("[")[1].split("]")[0] for l in reasons]
    eq(len(pids), len(set(pids)), f"one line per helper process: {reasons}")
    check(len(pids) >= 2, f"the daemon's line and the one-shot helpers': {reasons}")
    check("event=offer" in log and "reason=no-password-dictionary" in log, log[-2000:])
    check("event=admin-reset" in log, log[-2000:])
    # put back: the same code goes through
    for name, data in saved.items():
        with open(name, "wb") as f:
            f.write(data)
    S.start_daemon()  # a new one: at once
    r = subprocess.run([S.helper, "--check-config"], capture_output=True, text=True)
    eq((r.returncode, r.stderr), (0, ""), "--check-config with the dictionary back")
    p = session("alice")  # the code from before, at the first prompt
    p.expect_exact(OFFER)
    p.sendline(code)
    for prompt in ("New password: ", "Retype new password: "):
        p.expect_exact(prompt)
        p.sendline(NEW)
    out, rc = finish(p)
    check("Password changed." in out, out)
    check(pam_unix_ok("alice", NEW), "pam_unix takes the new password")


def pamjunk(user, answers, junk):
    """A conversation through the pwrpam stack as sshd holds it: for an account sshd does not
    know (junk), every answer is replaced by junk of the same length. The transcript."""
    argv = [os.environ["PWR_PAMJUNK"], "pwrpam", user] + (["--junk"] if junk else [])
    p = subprocess.run(argv, input="".join(a + "\n" for a in answers), text=True,
                       capture_output=True, env=sandbox.host_env(), timeout=60)
    eq(p.returncode, 0, p.stderr)
    return p.stdout


def test_sshd_junk_answers():
    """What sshd passes for an unknown user is junk of the typed length: the module chooses
    by length alone, for every user, so every first answer gives the same transcript for an
    account that exists (bob, eligible; dave, without an address) and for one that does not:
    five bytes ask for a mail, whatever the letters; anything else is a code, not valid."""
    harness.setup_world()
    stack()
    for first in ("reset", "abcde", "ZZZZZ", "12345", "ABCDE-FGHJK", "abcdefghij", "x",
                  "not-a-code-at-all-and-long"):
        seen = {(user, junk): pamjunk(user, [first, ""], junk)
                for user, junk in (("bob", False), ("dave", False), ("nosuchuser", True))}
        want = seen[("bob", False)]
        for key, got in seen.items():
            eq(got, want, f"{first!r}: {key} against bob")
        if len(first) == 5:
            check(SENT in want and "not valid" not in want, f"{first!r}: {want}")
        else:
            check(SENT not in want and "error: That code is not valid." in want,
                  f"{first!r}: {want}")
        check(want.endswith("prompt: Reset code: \nresult: Authentication failure\n"), want)


IMPOSTOR = r"""
import os, socket, struct, sys
# as another user, on the helper's socket: every request answered "yes"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind("/run/pwreset/helper.sock")
srv.listen(4)
print("listening", flush=True)
yes = {1: struct.pack("=III", 0, 1, 600) + struct.pack("=H", 0), 3: struct.pack("=I", 0),
       4: struct.pack("=I", 0) + struct.pack("=H", 0)}
while True:
    c, _ = srv.accept()
    while True:
        m = c.recv(8192)
        if not m:
            break
        op = struct.unpack("=HHI", m[:8])[1]
        payload = yes.get(op, struct.pack("=I", 0))
        c.send(struct.pack("=HHI", 1, 0x8000 | op, len(payload)) + payload)
"""


def test_socket_served_by_another_user():
    """Only root may serve the helper's socket: an impostor of alice's there, which answers
    every request "yes" (a code valid, a password written), is not believed; the module
    logs it and runs the helper itself, which finds the code not valid."""
    harness.setup_world()
    S.stop_daemon()
    os.makedirs("/run/pwreset", exist_ok=True)
    os.chmod("/run/pwreset", 0o777)  # the sandbox's /run: how alice could get there
    imp = subprocess.Popen(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups",
                            sys.executable, "-c", IMPOSTOR], stdout=subprocess.PIPE, text=True)
    try:
        eq(imp.stdout.readline().strip(), "listening")
        stack("login_after_reset")
        p = session("bob")
        p.expect_exact(OFFER)
        p.sendline("ABCDE-FGHJK")
        p.expect_exact("That code is not valid.")
        p.expect_exact("Reset code: ")
        p.sendline("")
        out, rc = finish(p)
        check("Password changed" not in out and "Authentication failure" in out, out)
        check(f"is served by uid {harness.uid('alice')}, not root" in S.syslog(), S.syslog()[-800:])
    finally:
        imp.kill()
        imp.wait()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
