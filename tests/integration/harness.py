# SPDX-License-Identifier: BSD-3-Clause
"""What the integration test scripts share, and nothing else: the case runner (run_case, which
gives each case a fresh sandbox of sandbox.py as S, here and in the script), the assertions,
the world of accounts every script starts from, the raw codec for hostile peers, the ssh
conversation at the prompt, pwreset-address run as a user, the installed tree laid over /usr,
and a directory's host (its helper, a second host beside it). No test script imports another;
each imports this."""

import email
import email.policy
import json
import os
import random
import re
import statistics
import struct
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox  # noqa: E402
import sshserver  # noqa: E402

S = None  # the Sandbox of the case being run (run_case)
ADDRESS = os.environ.get("PWR_ADDRESS", "")
BUILD = os.environ.get("PWR_BUILD_ROOT", "")
MODULE = os.environ.get("PWR_PAM_MODULE", "")

BASE_CONFIG = """\
# integration test configuration
smtp_url = smtp://127.0.0.1:2525
smtp_starttls = off
exclude_users = root, excl
exclude_groups = noreset
"""
REQUEST_ANSWER = "request status=0 ttl=600"
BOTH = ("socket", "oneshot")

# the ssh conversation (SPEC §3)
OLD = "Old-password-1"
NEW = "Brand-new-Passw0rd!"
OFFER = "(Enter to skip): "
SENT = ("If this account can be reset, a reset code has been sent to its recovery address. "
        "It expires in 10 minutes.")
NO_LIMITS = "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\nmails_per_minute = 0\n"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def child_pids(program, parent):
    """The processes of program (its name as /proc shows it, 15 characters) that parent
    started (not another sandbox's, which a test run beside this one may have)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    comm = f.read().strip()
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if comm == program[:15] and ppid == parent:
                pids.append(int(d))
    return pids


def setup_world(config=BASE_CONFIG):
    """Accounts with every eligibility case, their addresses, and a running daemon."""
    S.groupadd("noreset")
    S.groupadd("pwadmin")
    for u in ("alice", "bob", "gina", "carol", "erin", "dave", "frank", "excl", "hank",
              "ldapish"):
        S.useradd(u)
    S.useradd("grp", "-G", "noreset")
    S.useradd("sysacct", "-u", "500")
    S.useradd("expd", "-e", "2001-01-01")
    S.drop_shadow_line("ldapish")
    with open("/etc/shadow", "a") as f:  # a NIS compat line must never count as an account
        f.write("+::::::::\n")
    for u in ("alice", "bob", "gina", "hank"):
        S.set_password(u, "Old-password-1")
    S.write_config(config)
    S.start_daemon()
    rc, out = S.client([
        "email-set alice alice@example.org",
        "email-set bob bob@example.org",
        "email-set gina gina@example.org",
        "email-set hank hank@example.org",
        "email-set carol team@example.org",
        "email-set erin TEAM@example.org",
        "email-set frank frank@localhost",
        "email-set excl excl@example.org",
        "email-set grp grp@example.org",
        "email-set sysacct sysacct@example.org",
        "email-set expd expd@example.org",
        "email-set ldapish ldapish@example.org",
    ])
    eq(rc, 0, "registering addresses")
    check(all(l.startswith("email-set status=0") for l in out), out)


def restart_daemon():
    S.stop_daemon()
    S.start_daemon()


def code_for(user):
    """The code of user's last mail; the first one may still be on its way (a request is
    answered before its worker queues the code)."""
    end = time.time() + 5
    codes = [m["code"] for m in S.mails() if m["user"] == user]
    while not codes and time.time() < end:
        time.sleep(0.02)
        codes = [m["code"] for m in S.mails() if m["user"] == user]
    check(codes, f"no mail for {user}: {S.mails()}")
    return codes[-1]


def wrong_code(right):
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    while True:
        c = "".join(random.choice(alphabet) for _ in range(10))
        if c != right.replace("-", ""):
            return c[:5] + "-" + c[5:]


def pack_str(s):
    b = s.encode()
    return struct.pack("=H", len(b)) + b


def packet(op, payload, version=1):
    return struct.pack("=HHI", version, op, len(payload)) + payload


def offer_packet(user):
    return packet(1, pack_str(user) + pack_str("") + pack_str("") + pack_str("raw"))


def uid(user):
    import pwd
    return pwd.getpwnam(user).pw_uid


def world(srv, extra=""):
    setup_world(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                   "exclude_users = root, excl\nexclude_groups = noreset\n" + extra)


def auth_stack(options=""):
    """The auth lines of conf/pam.d/sshd.example, with this build's module and helper."""
    return ("auth [success=2 default=ignore] pam_unix.so nullok\n"
            f"auth [success=1 default=ignore] {MODULE} helper={S.helper} {options}\n"
            "auth requisite pam_deny.so\nauth required pam_permit.so\n")


def mailed_code(srv, count, user, to=None):
    """The code in the count-th mail the SMTP server received, which must be user's (sent to
    to, by default user@example.org)."""
    msgs = srv.wait_for(count)
    eq(len(msgs), count, "mails at the server")
    mail_from, rcpt, data = msgs[count - 1]
    eq(rcpt, [to or f"{user}@example.org"], "recipient")
    body = email.message_from_bytes(data, policy=email.policy.default).get_content()
    m = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", body)
    check(m, body)
    return m.group(1)


def wrong_password_then(p, answer):
    """At the first prompt a wrong password; then answer the reset offer."""
    p.expect_exact("Password: ")
    p.sendline("Not-the-password-9")
    p.expect_exact(OFFER)
    p.sendline(answer)


def ssh_login(sshd, user, password):
    """A fresh ssh login with password at keyboard-interactive; (transcript, status)."""
    p = sshd.ssh(user)
    p.expect_exact("Password: ")
    p.sendline(password)
    i = p.expect_exact([OFFER, pexpect.EOF])
    if i == 0:
        p.sendline("")
    return sshserver.finish(p)


def ssh_with_code(sshd, user, code, password="Not-the-password-9"):
    """A code handed over (an administrator's): a password, then the code at the offer, then
    NEW twice; (transcript, status)."""
    p = sshd.ssh(user)
    p.expect_exact("Password: ")
    p.sendline(password)
    p.expect_exact(OFFER)
    p.sendline(code)
    p.expect_exact("New password: ")
    p.sendline(NEW)
    p.expect_exact("Retype new password: ")
    p.sendline(NEW)
    return sshserver.finish(p)


def ssh_reset(sshd, srv, user, mails_before, to=None, passwords=(NEW,)):
    """A wrong password, "reset", the code mailed (to to), then each of passwords twice (all
    but the last refused, each asked for again in the same conversation); (transcript,
    status)."""
    p = sshd.ssh(user)
    wrong_password_then(p, "reset")
    p.expect_exact(SENT)
    p.expect_exact("Reset code: ")
    p.sendline(mailed_code(srv, mails_before + 1, user, to).lower())
    for pw in passwords:
        p.expect_exact("New password: ")
        p.sendline(pw)
        p.expect_exact("Retype new password: ")
        p.sendline(pw)
    return sshserver.finish(p)


def reset_rounds(sshd, users, rounds=10):
    """Each user asks for a reset at the ssh prompt, rounds times: their transcripts (users'
    names replaced) and the times from "reset" to the next prompt, in ms (medians)."""
    times = {u: [] for u in users}
    texts = {u: set() for u in users}
    for n in range(rounds):
        for u in users:
            p = sshd.ssh(u)
            wrong_password_then(p, "reset")
            t0 = time.monotonic()
            p.expect_exact("Reset code: ")
            times[u].append((time.monotonic() - t0) * 1000)
            texts[u].add(p.logfile_read.getvalue().replace(u, "USER"))
            p.close(force=True)
    return texts, {u: statistics.median(t) for u, t in times.items()}


def address(*args, user="alice", password=None, transport="socket", env=None):
    """pwreset-address as user (env: more of its environment); (exit status, stdout,
    stderr)."""
    argv = [ADDRESS, "--helper", S.helper, *args]
    if transport == "oneshot":
        argv[1:1] = ["--socket", "/run/pwreset/none.sock"]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                       input=None if password is None else password + "\n", timeout=60)
    return p.returncode, p.stdout, p.stderr


def locale(name):
    """The environment of a program in the locale name ("ja_JP.UTF-8"), made for this sandbox
    with localedef (the host's generated locales stay as they are): LOCPATH and LC_ALL."""
    where = os.path.join(S.tmp, "locale")
    if not os.path.isdir(os.path.join(where, name)):
        lang, charset = name.split(".")
        os.makedirs(where, exist_ok=True)
        p = subprocess.run(["localedef", "-i", lang, "-f", charset, os.path.join(where, name)],
                           capture_output=True, text=True)
        check(p.returncode in (0, 1) and os.path.isdir(os.path.join(where, name)),
              f"localedef {name}: {p.stderr}")
    return {"LOCPATH": where, "LC_ALL": name}


def install(destdir):
    p = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", destdir, "--no-rebuild"],
                       capture_output=True, text=True)
    eq(p.returncode, 0, p.stdout + p.stderr)
    return p.stdout


def lay_over(destdir):
    """The installed tree in its real places, inside the sandbox: DESTDIR/usr over /usr
    (read-only), DESTDIR/etc/pwreset as /etc/pwreset; the mailer's and the directory agent's
    users from the installed sysusers files."""
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={destdir}/usr:/usr", "/usr"], check=True)
    subprocess.run(["rm", "-rf", "/etc/pwreset"], check=True)
    subprocess.run(["cp", "-a", f"{destdir}/etc/pwreset", "/etc/pwreset"], check=True)
    for f in ("pwreset.conf", "pwreset-directory.conf"):
        if os.path.exists("/usr/lib/sysusers.d/" + f):
            subprocess.run(["systemd-sysusers", "/usr/lib/sysusers.d/" + f], check=True,
                           capture_output=True)


def installed_world(srv, config=""):
    """setup_world's accounts and addresses, with the installed helper and configuration."""
    d = os.path.join(S.tmp, "destdir")
    install(d)
    lay_over(d)
    S.helper = "/usr/sbin/pwreset-helper"
    world(srv, config)
    return d


def directory_helper(srv, keys, password, names=(), world=True):
    """The helper of a directory's host: the service account's password in
    /etc/pwreset/directory.secret, names (name, uid) known to NSS with no shadow line
    (directory accounts), mail to srv without limits, the directory keys; setup_world's local
    accounts too, unless world is False (a second host, whose /etc is the first one's)."""
    secret = "/etc/pwreset/directory.secret"
    with open(secret, "w") as f:
        f.write(password + "\n")
    os.chmod(secret, 0o600)
    for name, number in names:
        S.useradd(name, "-u", str(number))
        S.drop_shadow_line(name)
    config = (f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n" + NO_LIMITS +
              f"directory_password_file = {secret}\n" + keys)
    if world:
        setup_world(config)
    else:
        S.write_config(config)
        S.start_daemon()


def as_second_host(script, given):
    """Run script's part_as_second_host in a sandbox of its own (another host: its own /etc
    over this one's, its own helper and store), given (a dict) in PWR_SECOND_HOST as JSON; it
    must pass."""
    env = {k: v for k, v in os.environ.items() if k not in ("PWR_SANDBOX", "PWR_SANDBOX_DIR")}
    env["PWR_SECOND_HOST"] = json.dumps(given)
    p = subprocess.run([sys.executable, os.path.abspath(script), "part_as_second_host"],
                       env=env, capture_output=True, text=True, timeout=600)
    print(p.stdout[-3000:], p.stderr[-3000:])
    eq(p.returncode, 0, "the second host")


def second_host_round(pam_auth, srv, user, given, to=None):
    """The part of a second host (as_second_host), its helper configured with state_dir
    /var/lib/pwreset-second: user logs in at its sshd (auth lines pam_auth) with the first
    host's password, given["login"], then resets it here to given["reset"] with the code from
    srv, this host's mail server."""
    sshd = sshserver.Sshd(S, pam_auth=pam_auth)
    out, rc = ssh_login(sshd, user, given["login"])
    check(rc == 0 and f"LOGGED-IN as {user}" in out, f"the first host's password here: {out}")
    out, rc = ssh_reset(sshd, srv, user, 0, to, (given["reset"],))
    check("Password changed." in out, out)
    check(os.path.exists("/var/lib/pwreset-second/data.mdb"), "this host's own store")
    sshd.stop()
    srv.stop()


def run_case(namespace):
    """Run the case named by argv[1] from namespace (a test script's globals()) in a fresh
    sandbox, which both that script and this module see as S. 0 passed, 1 failed, 2 no such
    case."""
    global S
    name = sys.argv[1]
    case = namespace.get(name)
    # part_*: a part of another case, run by it in a process of its own
    if not case or not name.startswith(("test_", "part_")):
        print(f"no such case: {name}")
        return 2
    S = namespace["S"] = sandbox.enter()
    try:
        case()
    except Exception:
        import traceback
        traceback.print_exc()
        print("--- daemon log ---")
        print(S.log()[-6000:])
        print(f"not ok - {name}")
        return 1
    finally:
        S.close()
    print(f"ok - {name}")
    return 0
