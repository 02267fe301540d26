# SPDX-License-Identifier: BSD-3-Clause
"""The setuid one-shot helper against the user who starts it: job control from the user's
terminal, the limits, scheduling and directory it is started with, and how many it may keep
running. Run one case: test_oneshot.py CASE."""

import os
import re
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, code_for, eq  # noqa: E402

S = None
TCLIENT = os.environ.get("PWR_TCLIENT", "")
NEW = "Brand-new-Passw0rd!"
AS_ALICE = ["setpriv", "--reuid=alice", "--regid=alice", "--init-groups"]


def oneshot_pids():
    """The one-shot helpers running now (the sandbox's setuid copy, in one-shot mode: with no
    argument, or --for-uid from a module inside su)."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")[:-1]
            if argv[:1] == [S.helper.encode()] and argv[1:2] in ([], [b"--for-uid"]):
                pids.append(int(name))
        except (OSError, ValueError):
            pass
    return pids


def state(pid):
    """The process state letter (T: stopped) and the session id, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def never_stopped(pid, seconds=1.0):
    """Whether pid stays out of the stopped state for that long (or ends)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            if state(pid)[0] in "Tt":
                return False
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return True


def shell():
    """An interactive bash as alice on a pseudo-terminal, with job control."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", "PS1": "$ ", "TERM": "dumb"}
    p = pexpect.spawn(AS_ALICE[0], AS_ALICE[1:] + ["bash", "--norc", "--noprofile", "-i"],
                      env=env, encoding="utf-8", timeout=20, echo=False)
    p.expect_exact("$ ")
    return p


def served_meanwhile(other="gina"):
    """While alice's helper is held: another login's request is served by the daemon within
    the module's default timeout, and chpasswd (of other's password) gets the shadow file
    within 2 s."""
    t0 = time.time()
    rc, out = S.client(["request bob"], timeout=60)
    took1 = time.time() - t0
    eq(out, [harness.REQUEST_ANSWER], "the daemon answers")
    check(took1 < 10 and code_for("bob"), f"bob's code was queued meanwhile ({took1:.1f} s)")
    t0 = time.time()
    p = subprocess.run(["chpasswd"], input=f"{other}:Another-passw0rd-9\n", text=True,
                       timeout=60, capture_output=True)
    took = time.time() - t0
    eq(p.returncode, 0, p.stderr)
    check(took < 2, f"chpasswd took {took:.1f} s")
    print(f"while alice's job is stopped: bob's request answered and queued in "
          f"{took1 * 1000:.0f} ms, chpasswd done in {took * 1000:.0f} ms")


def test_oneshot_job_control():
    """alice runs the setuid helper (through tclient) in the foreground of her terminal and
    types ^Z while a set-password is written, and again right after a request:
    the helper, in a session of its own, does not stop, so neither the store nor the shadow
    file stays locked; the shell's job stops, and goes on after fg."""
    harness.setup_world()
    S.client(["request alice"])
    code = code_for("alice")
    p = shell()
    p.sendline(f"{TCLIENT} --helper {S.helper}")
    time.sleep(0.3)
    p.sendline(f"verify alice {code}")
    p.expect_exact("verify status=0")
    helpers = oneshot_pids()
    eq(len(helpers), 1, f"alice's helper: {helpers}")
    helper = helpers[0]
    answers = []
    for line in (f"setpw alice {NEW}", "request alice"):
        p.sendline(line)
        early = None
        if line.startswith("setpw"):
            # ^Z the moment shadow-utils' lock file shows, or right after the answer when the
            # rewrite was too quick to see; never before tclient has read the line: the
            # terminal's ^Z throws away what was typed and not yet read (and what was
            # written and not yet shown: so it is typed once)
            end = time.time() + 20
            while not os.path.exists("/etc/shadow.lock") and time.time() < end:
                if p.expect([r"set-password status=\d+", pexpect.TIMEOUT], timeout=0) == 0:
                    early = p.after
                    break
        else:
            p.expect(r"request status=\d+")  # ^Z right after the answer
            answers.append(p.after)
        p.sendcontrol("z")
        p.expect("Stopped")
        # the answer may have been printed before the job stopped (a quick helper)
        shown = re.search(r"set-password status=\d+", p.before)
        early = early or (shown.group(0) if shown else None)
        check(never_stopped(helper), f"{line}: the helper did not stop")
        served_meanwhile()
        p.sendline("fg")
        if line.startswith("setpw") and early:
            answers.insert(0, early)
        elif line.startswith("setpw"):
            p.expect(r"set-password status=\d+")
            answers.insert(0, p.after)
        time.sleep(0.3)
    eq(answers, ["set-password status=0", "request status=0"], "the answers")
    check(state(helper)[1] != os.getsid(p.pid), "the helper left alice's session")
    p.sendeof()
    p.expect_exact("$ ")
    p.sendline("exit")
    p.expect(pexpect.EOF)


def test_oneshot_limits_and_scheduling():
    """alice starts the helper with a CPU limit of 1 s, a realtime limit, nice 19, the idle
    I/O class, oom_score_adj 1000 and /tmp as working directory: it runs without the limits,
    at nice 0, best-effort I/O, OOM score 0, in /, and has no terminal. A hard CPU limit it
    cannot lift (root without CAP_SYS_RESOURCE, as in some containers) makes it refuse."""
    harness.setup_world()
    script = 'echo 1000 > /proc/self/oom_score_adj && exec "$0" --helper "$1"'
    argv = AS_ALICE + ["prlimit", "--cpu=1:unlimited", "--rttime=100000:unlimited", "nice",
                       "-n", "19", "ionice", "-c", "3", "sh", "-c", script, TCLIENT, S.helper]
    c = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         cwd="/tmp")
    try:
        c.stdin.write("offer alice\n")
        c.stdin.flush()
        check(c.stdout.readline().startswith("offer status=0"), "the helper answers")
        helpers = oneshot_pids()
        eq(len(helpers), 1, helpers)
        pid = helpers[0]
        with open(f"/proc/{pid}/limits") as f:
            limits = f.read()
        for name in ("Max cpu time", "Max realtime timeout"):
            line = [l for l in limits.splitlines() if l.startswith(name)][0]
            eq(line.split()[-3:-1], ["unlimited", "unlimited"], name)
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        eq(int(fields[16]), 0, "nice")
        eq(int(fields[4]), 0, "no controlling terminal")
        with open(f"/proc/{pid}/oom_score_adj") as f:
            eq(f.read().strip(), "0", "oom_score_adj")
        eq(os.readlink(f"/proc/{pid}/cwd"), "/", "working directory")
        io = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True)
        eq(io.stdout.strip(), "best-effort: prio 4", "I/O class")
    finally:
        c.stdin.close()
        c.wait(timeout=30)
    # a hard limit: lifted by a root that may, else the helper does not run at all
    argv = AS_ALICE + ["prlimit", "--cpu=1:1", TCLIENT, "--helper", S.helper]
    r = subprocess.run(argv, input="offer alice\n", capture_output=True, text=True, timeout=30)
    if not r.stdout.startswith("offer status=0"):
        check("reason=unsafe-process" in S.syslog(), f"refused, and logged: {r.stdout}")


def su_stack():
    """su's PAM stack with this build's module; the sanitizer runtime where su needs it."""
    with open("/etc/pam.d/su", "w") as pam:
        pam.write("auth sufficient pam_rootok.so\n" + harness.auth_stack() +
                  "account required pam_unix.so\nsession required pam_unix.so\n")
    preload = os.environ.get("PWR_SANITIZER_PRELOAD")
    if preload:  # su is setuid: the loader ignores LD_PRELOAD there, not ld.so.preload
        with open("/etc/ld.so.preload", "w") as f:
            f.write(preload.replace(" ", "\n") + "\n")


def test_oneshot_su_scheduling_and_cap():
    """The review's reproduction: alice runs `ionice -c3 chrt --idle 0 nice -n19 taskset -c0
    su gina` (oom_score_adj 1000 too), types a wrong password and waits at the offer. With no
    daemon, su's module runs the helper as root for her (--for-uid): it runs at nice 0,
    SCHED_OTHER, best-effort I/O, on every CPU, OOM score 0. Six such su at once: four
    helpers run, as for any of her own; the others are refused as too-many-helpers, counted
    for alice."""
    harness.setup_world()
    su_stack()
    S.stop_daemon()
    with open("/proc/self/status") as f:
        cpus = [l.split()[1] for l in f if l.startswith("Cpus_allowed_list:")][0]
    script = ('echo 1000 > /proc/self/oom_score_adj && exec ionice -c3 chrt --idle 0 '
              'nice -n19 taskset -c 0 su gina -c true')
    held = []
    try:
        for n in range(6):
            p = pexpect.spawn(AS_ALICE[0], AS_ALICE[1:] + ["sh", "-c", script],
                              encoding="utf-8", timeout=60, echo=False)
            p.expect_exact("Password: ")
            p.sendline("Not-the-password-9")
            held.append(p)
            if n == 0:
                p.expect_exact(harness.OFFER)
                pid = oneshot_pids()[0]
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    eq(f.read().split(b"\0")[1:3],
                       [b"--for-uid", str(harness.uid("alice")).encode()], "run for alice")
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                eq((int(fields[16]), int(fields[38])), (0, 0), "nice 0, SCHED_OTHER")
                with open(f"/proc/{pid}/status") as f:
                    mine = [l.split()[1] for l in f if l.startswith("Cpus_allowed_list:")][0]
                eq(mine, cpus, "every CPU")
                with open(f"/proc/{pid}/oom_score_adj") as f:
                    eq(f.read().strip(), "0", "oom_score_adj")
                io = subprocess.run(["ionice", "-p", str(pid)], capture_output=True, text=True)
                eq(io.stdout.strip(), "best-effort: prio 4", "I/O class")
        deadline = time.time() + 20
        while "reason=too-many-helpers" not in S.syslog() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        eq(len(oneshot_pids()), 4, "four helpers for alice's six su")
        check(re.search(rf"event=refused by={harness.uid('alice')} result=refused "
                        r"reason=too-many-helpers", S.syslog()),
              f"counted for alice: {S.syslog()[-1500:]}")
    finally:
        for p in held:
            p.close(force=True)


def test_oneshot_cap_per_uid():
    """alice holds six one-shot helpers open at once: four answer, the fifth and sixth find
    the connection closed (logged as too-many-helpers); root's are not counted; once hers
    end, she gets one again."""
    harness.setup_world()
    held = []
    answers = []
    for _ in range(6):
        c = subprocess.Popen(AS_ALICE + [TCLIENT, "--helper", S.helper],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        c.stdin.write("offer alice\n")
        c.stdin.flush()
        answers.append(c.stdout.readline())
        held.append(c)
    eq(sum(1 for a in answers if a.startswith("offer status=0")), 4, answers)
    eq(len(oneshot_pids()), 4, "four of alice's helpers run")
    check("reason=too-many-helpers" in S.syslog(), S.syslog()[-1000:])
    rc, out = S.client(["offer bob"], transport="oneshot")
    check(out and out[0].startswith("offer status=0"), f"root is not counted: {out}")
    for c in held:
        c.stdin.close()
        c.wait(timeout=30)
    rc, out = S.client(["offer alice"], transport="oneshot", user="alice")
    check(out and out[0].startswith("offer status=0"), f"a slot again: {out}")


def cgroup2():
    """Where cgroup v2 is mounted, or None."""
    for mnt in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        st = subprocess.run(["stat", "-f", "-c", "%T", mnt], capture_output=True, text=True)
        if st.stdout.strip() == "cgroup2fs":
            return mnt
    return None


def delegated(mnt, user):
    """A cgroup of user's own, as systemd's delegation makes it (user@UID.service,
    Delegate=yes): the folder and its cgroup.procs, cgroup.threads and cgroup.subtree_control
    are the user's."""
    path = f"{mnt}/pwrtest-{user}-{os.getpid()}"
    os.mkdir(path)
    for name in ("", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control"):
        os.chown(path + name, harness.uid(user), -1)
    return path


def cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return [l.split("::", 1)[1].strip() for l in f if l.startswith("0::")][0]


def as_user(user, script):
    return subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups",
                           "sh", "-c", script], capture_output=True, text=True, timeout=30)


class Freezer:
    """alice's attack, in a thread: she moves the helper into a cgroup of hers (which must
    fail) and freezes and thaws her own cgroup every 10 ms, for at most 20 s."""

    def __init__(self, cg, helper):
        import threading
        self.cg, self.helper, self.steps, self.stop = cg, helper, 0, False
        os.makedirs(f"{cg}/trap", exist_ok=True)
        os.chown(f"{cg}/trap", harness.uid("alice"), -1)
        for name in ("cgroup.procs", "cgroup.freeze"):
            os.chown(f"{cg}/trap/{name}", harness.uid("alice"), -1)
        self.moved = as_user("alice", f"echo {helper} > {cg}/trap/cgroup.procs")
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        end = time.time() + 20
        while not self.stop and time.time() < end and self.steps < 2000:
            with open(f"{self.cg}/cgroup.freeze", "w") as f:
                f.write("1" if self.steps % 2 == 0 else "0")
            self.steps += 1
            time.sleep(0.01)

    def frozen_now(self):
        """Freeze alice's cgroup and keep it so (the loop ends)."""
        self.stop = True
        self.t.join()
        with open(f"{self.cg}/cgroup.freeze", "w") as f:
            f.write("1")

    def end(self):
        self.stop = True
        self.t.join()
        with open(f"{self.cg}/cgroup.freeze", "w") as f:
            f.write("0")


def no_lock_held(what):
    """Nothing of the helper's holds a lock: no shadow lock file, root's chpasswd and the
    daemon's reset of another user go on."""
    check(not os.path.exists("/etc/shadow.lock"), f"{what}: /etc/shadow.lock is left")
    served_meanwhile(other="hank")


def password_is(user, password):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    with open("/etc/shadow") as f:
        stored = [l.split(":")[1] for l in f if l.startswith(user + ":")][0]
    return crypt.crypt(password, stored) == stored


def test_oneshot_freezer():
    """The review's attack (SPEC §2): alice, in a cgroup of her own as systemd's delegation
    makes it, starts the helper directly (setuid) and through su, moves it into a cgroup of
    hers and freezes and thaws her cgroup while it writes a password. The helper has moved
    itself into root's own cgroup before taking any lock: alice cannot move it back, her
    freezer never reaches it, and root's chpasswd and the daemon's resets go on, during the
    freeze and after."""
    mnt = cgroup2()
    if not mnt:
        print("SKIP: no cgroup v2 on this machine")
        sys.exit(77)
    harness.setup_world()
    cg = delegated(mnt, "alice")
    into = lambda: open(f"{cg}/cgroup.procs", "w").write("0")  # noqa: E731
    try:
        # the direct path: alice's own tclient runs the setuid helper
        S.client(["request alice"])
        code = code_for("alice")
        c = subprocess.Popen(AS_ALICE + [TCLIENT, "--helper", S.helper], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, preexec_fn=into)
        c.stdin.write(f"verify alice {code}\n")
        c.stdin.flush()
        eq(c.stdout.readline().strip(), "verify status=0", "alice's code")
        helper = oneshot_pids()[0]
        eq(cgroup_of(helper), "/pwreset-oneshot", "the helper left alice's cgroup")
        f = Freezer(cg, helper)
        check(f.moved.returncode != 0, f"alice cannot move the helper back: {f.moved}")
        c.stdin.write(f"setpw alice {NEW}\n")
        c.stdin.flush()
        time.sleep(0.5)
        f.frozen_now()
        print(f"direct: {f.steps} freeze/thaw steps, then alice's cgroup frozen")
        no_lock_held("direct, alice's cgroup frozen")
        f.end()
        answer = c.stdout.readline()
        check(answer.startswith("set-password status=0"), f"alice's new password: {answer}")
        c.stdin.close()
        c.wait(timeout=30)
        no_lock_held("direct, after")
        check(password_is("alice", NEW), "alice's new password is written")

        # su: alice types gina's wrong password, then the code an administrator gave her;
        # no daemon, so su's module runs the helper with real uid 0, from alice's cgroup
        rc, out = S.client(["reset print,nolock 0 gina"])
        admin = out[0].split("code=")[1].split()[0]
        su_stack()
        S.stop_daemon()
        p = pexpect.spawn(AS_ALICE[0], AS_ALICE[1:] + ["su", "gina", "-c", "true"],
                          encoding="utf-8", timeout=60, echo=False, preexec_fn=into)
        harness.wrong_password_then(p, admin)
        p.expect_exact("New password: ")
        helper = oneshot_pids()[0]
        eq(cgroup_of(helper), "/pwreset-oneshot", "su's helper left alice's cgroup")
        f = Freezer(cg, helper)
        check(f.moved.returncode != 0, f"alice cannot move su's helper: {f.moved}")
        p.sendline(NEW)
        p.expect_exact("Retype new password: ")
        p.sendline(NEW)
        time.sleep(0.5)
        f.frozen_now()
        print(f"su: {f.steps} freeze/thaw steps, then alice's cgroup frozen")
        S.start_daemon()
        no_lock_held("su, alice's cgroup frozen")
        f.end()
        p.expect_exact("Password changed.")
        p.expect(pexpect.EOF)
        no_lock_held("su, after")
        check(password_is("gina", NEW), "gina's new password is written")
    finally:
        for d in (f"{cg}/trap", cg, f"{mnt}/pwreset-oneshot"):
            try:
                os.rmdir(d)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
