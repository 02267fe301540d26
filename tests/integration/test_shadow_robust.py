# SPDX-License-Identifier: BSD-3-Clause
"""The shadow writer under stress, through the real helper daemon: every system call it makes
on the shadow files failing in turn, SIGKILL at random instants of a rewrite, and resets racing
chpasswd, chage and usermod. Run one case: test_shadow_robust.py CASE."""

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, eq  # noqa: E402

S = None


def add_users(prefix, n, uid0):
    """n local accounts prefix0..prefix(n-1), written straight into passwd and shadow (useradd
    would take minutes for 20,000)."""
    with open("/etc/passwd", "a") as pw, open("/etc/shadow", "a") as sh:
        for i in range(n):
            pw.write(f"{prefix}{i}:x:{uid0 + i}:100::/nonexistent:/bin/sh\n")
            sh.write(f"{prefix}{i}:$6$salt{i}$h{i}:19000:0:99999:7:::\n")


def shadow_bytes():
    with open("/etc/shadow", "rb") as f:
        return f.read()


def leftovers():
    """Files a writer may leave beside /etc/shadow: locks, new files, restore links."""
    return sorted(f for f in os.listdir("/etc")
                  if f.startswith("shadow.") or f.startswith("shadow-lock"))


def reset_item(out):
    lines = [l for l in out if l.startswith("reset ")]
    eq(len(lines), 1, out)
    fields = {}
    for f in lines[0].split()[1:]:
        if "=" in f:
            k, v = f.split("=", 1)
            fields[k] = v
    return fields, lines[0]


def locked(data, user):
    """The shadow file data with user's password locked the way the helper does it."""
    key = user.encode() + b":"
    out = []
    for line in data.split(b"\n"):
        if line.startswith(key) and not line[len(key):].startswith(b"!"):
            line = key + b"!" + line[len(key):]
        out.append(line)
    return b"\n".join(out)


FAULTS = [
    ("open", errno.EIO), ("mkostemp", errno.EIO), ("write", errno.EIO),
    ("write", errno.ENOSPC), ("fsync", errno.EIO), ("fsync", errno.ENOSPC),
    ("fchown", errno.EPERM), ("fchmod", errno.EPERM), ("rename", errno.EIO),
    ("link", errno.EIO),
]


def test_faults():
    """Each counted call (open, mkostemp, write, fsync of the file and of /etc, fchown, fchmod,
    rename, link) fails in turn, the first, then the second... until one reset passes them all:
    each failed reset reports failure, leaves /etc/shadow byte-identical with its owner and
    mode, and no file beside it."""
    harness.setup_world()
    S.stop_daemon()
    add_users("f", 5000, 20000)  # some 300 KB: several write(2) calls of the new file
    os.chown("/etc/shadow", 0, 42)
    os.chmod("/etc/shadow", 0o640)
    report = os.path.join(S.tmp, "fault-report")
    users = (f"f{i}" for i in range(5000))
    summary = []
    for op, err in FAULTS:
        nth = 1
        while True:
            check(nth <= 60, f"{op}: still failing at call {nth}")
            user = next(users)
            before, st0 = shadow_bytes(), os.stat("/etc/shadow")
            if os.path.exists(report):
                os.unlink(report)
            # (in a sanitized build its runtimes must still come first)
            preload = [os.environ.get("PWR_SANITIZER_PRELOAD", ""), os.environ["PWR_FAULTINJECT"]]
            env = dict(os.environ, LD_PRELOAD=" ".join(filter(None, preload)), PWRFAULT_OP=op,
                       PWRFAULT_NTH=str(nth), PWRFAULT_ERRNO=str(err), PWRFAULT_REPORT=report)
            S.start_daemon(env=env)
            rc, out = S.client([f"reset - 0 {user}"])
            check(S.daemon.poll() is None, f"{op} #{nth}: the daemon survives the fault")
            S.stop_daemon()
            item, line = reset_item(out)
            if not os.path.exists(report):
                # the fault was never reached: every call of this kind passed, so did the reset
                eq(item["status"], "0", f"{op} #{nth}: {line}")
                eq(shadow_bytes(), locked(before, user), f"{op}: the reset without a fault")
                check(nth > 1, f"{op}: the writer makes no such call at all")
                break
            where = f"{op} #{nth} ({errno.errorcode[err]})"
            check(item["status"] != "0", f"{where}: the reset reports failure: {line}")
            eq(item["locked"], "0", where)
            eq(shadow_bytes(), before, f"{where}: /etc/shadow byte-identical")
            st1 = os.stat("/etc/shadow")
            eq((st1.st_uid, st1.st_gid, st1.st_mode), (st0.st_uid, st0.st_gid, st0.st_mode),
               where)
            eq(leftovers(), [], f"{where}: nothing left beside /etc/shadow")
            log = S.syslog(settle=0.05)
            check(f"event=admin-reset user={user} by=0 result=error" in log, f"{where}: logged")
            nth += 1
        summary.append(f"{op}/{errno.errorcode[err]}: {nth - 1} failing calls")
    print("faults provoked: " + ", ".join(summary))
    check("no space left on the device of the shadow file" in S.syslog(), "ENOSPC named")


def kill_service(daemon):
    """SIGKILL the daemon's workers (which write the file), then the daemon once it has reaped
    them (this machine's init may not: a dead writer must not linger as a zombie, whose pid
    still answers kill(pid, 0)), as systemd's SIGKILL of the service's cgroup ends both."""
    try:
        with open(f"/proc/{daemon.pid}/task/{daemon.pid}/children") as f:
            workers = [int(p) for p in f.read().split()]
    except OSError:
        workers = []
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.time() + 5
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.time() < end:
        time.sleep(0.005)
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()


def test_kill_loop():
    """SIGKILL the daemon and its workers at a random instant of an admin reset of a
    20,000-user file: the file is always exactly the old or exactly the new one, and the next
    daemon starts and cleans up. PWR_KILL_ITERATIONS sets the count (50 by default); while no kill has yet landed inside
    the rewrite (a slower build, such as the sanitized one, spends more of the span starting
    the client), it goes on, up to four times as many."""
    harness.setup_world()
    S.stop_daemon()
    add_users("k", 20000, 30000)
    iterations = int(os.environ.get("PWR_KILL_ITERATIONS", "50"))
    seed = int(os.environ.get("PWR_KILL_SEED", str(int(time.time()))))
    rnd = random.Random(seed)
    tclient = [os.environ["PWR_TCLIENT"], "--socket", "/run/pwreset/helper.sock"]

    # how long a whole reset takes here, from starting the client: kills land in [0, 1.5 T]
    S.start_daemon()
    t0 = time.monotonic()
    for i in range(5):
        S.client([f"reset - 0 k{19999 - i}"])
    span = 1.5 * (time.monotonic() - t0) / 5
    S.stop_daemon()

    old_seen = new_seen = in_lock = tmp_left = 0
    done = 0
    for i in range(4 * iterations):
        if i >= iterations and in_lock > 0:
            break
        done += 1
        user = f"k{i % 19990}"
        before = shadow_bytes()
        after = locked(before, user)
        S.start_daemon()
        client = subprocess.Popen(tclient, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        client.stdin.write(f"reset - 0 {user}\n".encode())
        client.stdin.close()
        time.sleep(rnd.uniform(0, span))
        kill_service(S.daemon)
        client.wait(timeout=30)
        left = leftovers()
        in_lock += "shadow.lock" in left
        tmp_left += any(f.startswith("shadow.pwreset.") for f in left)
        now = shadow_bytes()
        if now == before:
            old_seen += 1
        elif now == after:
            new_seen += 1
        else:
            raise AssertionError(f"iteration {i} (seed {seed}): /etc/shadow is neither the old "
                                 f"nor the new file")
        S.daemon = None
        os.unlink("/run/pwreset/helper.sock")
    # the next writer takes the stale lock over and sweeps what the killed ones left
    S.start_daemon()
    rc, out = S.client(["reset - 0 k19995"])
    item, line = reset_item(out)
    eq(item["status"], "0", line)
    eq(leftovers(), [], "the next reset cleaned up")
    print(f"kill loop: {done} iterations (seed {seed}, kills within {span * 1000:.1f} ms): "
          f"file old {old_seen}, new {new_seen}, mixed 0; killed holding the lock {in_lock}, "
          f"with a new file half-written {tmp_left}")
    check(in_lock > 0 or iterations < 20, f"some kills landed inside the rewrite ({done} tried)")


def test_race():
    """200 rounds: an admin reset (a lock) of one user through the helper at the same time as
    chpasswd, chage and usermod change three other users; after every round every change of
    every round is in the file."""
    harness.setup_world()
    add_users("r", 200, 40000)
    tclient = [os.environ["PWR_TCLIENT"], "--socket", "/run/pwreset/helper.sock"]
    rounds = 200

    def entries():
        with open("/etc/shadow") as f:
            return {l.split(":", 1)[0]: l.rstrip("\n").split(":") for l in f}

    busy, overlapped = {}, 0

    def retrying(argv, stdin=None):
        """Run a shadow-utils tool the way an administrator would: again, after a moment, when
        it says another one holds a lock ("cannot lock ...; try again later")."""
        for attempt in range(100):
            p = subprocess.run(argv, input=stdin, text=True, capture_output=True, timeout=60)
            if p.returncode == 0 or "cannot lock" not in p.stderr:
                return p
            what = p.stderr.strip().split(";")[0]
            busy[what] = busy.get(what, 0) + 1
            time.sleep(0.01 * (1 + attempt % 5))
        return p

    for r in range(rounds):
        jobs = [
            (tclient, f"reset - 0 r{r}\n"),
            (["chpasswd", "-e"], f"bob:$6$round{r}$hash\n"),
            (["chage", "-d", str(10000 + r), "carol"], None),
            (["usermod", "-f", str(r), "erin"], None),
        ]
        results, spans = [None] * len(jobs), [None] * len(jobs)

        def work(i):
            t0 = time.monotonic()
            results[i] = retrying(*jobs[i])
            spans[i] = (t0, time.monotonic())

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        eq([p.returncode for p in results], [0, 0, 0, 0],
           f"round {r}: every writer succeeded: {[p.stderr for p in results]}")
        out = results[0].stdout
        if any(a < spans[0][1] and spans[0][0] < b for a, b in spans[1:]):
            overlapped += 1
        item, line = reset_item(out.splitlines())
        eq(item["status"], "0", f"round {r}: {line}")
        e = entries()
        eq(e["bob"][1], f"$6$round{r}$hash", f"round {r}: chpasswd's change")
        eq(e["carol"][2], str(10000 + r), f"round {r}: chage's change")
        eq(e["erin"][6], str(r), f"round {r}: usermod's change")
        for k in range(r + 1):
            check(e[f"r{k}"][1].startswith("!"), f"round {r}: the helper's lock of r{k}")
    eq(leftovers(), [], "no lock or temporary file left")
    print(f"race: {rounds} rounds, 4 writers each, no update lost; rounds where the helper's "
          f"request overlapped another writer: {overlapped}; shadow-utils' own lock refusals "
          f"retried: {busy or 'none'}")
    check(overlapped >= rounds // 2, "the writers really ran at the same time")


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
