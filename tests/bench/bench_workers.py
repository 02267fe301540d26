# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark: what a worker per connection costs (issue 27), before and after in the same run.

PWR_BENCH_BEFORE names a pwreset-helper built from the commit before the workers
(tests/bench/run builds it); without it only this build is measured. The two daemons are run in
turn, ROUNDS times each, on the same store, each figure the best p50 of its rounds, next to
anchors measured in the same run (tests/loadgen does the timing, in C):

- an offer over one connection, next to a SOCK_SEQPACKET echo between two processes;
- a new connection and its first answer (what a conversation pays for its worker), the
  connections 20 ms apart, same anchor;
- a request that commits (a code and a mail), next to a bare durable LMDB commit;
- a one-shot session (the helper as the module starts it), next to fork + exec /bin/true;
- the daemon's memory with 200 conversations open: its own resident set, and the proportional
  set (Pss) of it and its workers together."""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sandbox  # noqa: E402
import smtpserver  # noqa: E402

LOADGEN = os.environ["PWR_LOADGEN"]
SOCK = "/run/pwreset/helper.sock"
ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "3"))
N = int(os.environ.get("PWR_BENCH_N", "2000"))
HELD = 200


def loadgen(*args):
    p = subprocess.run([LOADGEN, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"loadgen {' '.join(map(str, args))}: {p.stderr}")
    return dict(f.split("=", 1) for f in p.stdout.strip().splitlines()[-1].split())


def p50(samples):
    return min(float(s["p50_us"]) for s in samples)


def p99(samples):
    return min(float(s["p99_us"]) for s in samples)


def kib(pid, key, source="status"):
    with open(f"/proc/{pid}/{source}") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = []
    for n in os.listdir("/proc"):
        if n.isdigit():
            try:
                with open(f"/proc/{n}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(n))
            except (OSError, ValueError):
                pass
    return out


def held_memory(S):
    """With HELD conversations open: the daemon's own RSS, and Pss of it and its workers."""
    p = subprocess.Popen([LOADGEN, "hold", SOCK, str(HELD)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("held"):
        raise RuntimeError(f"hold: {line}")
    time.sleep(0.5)
    pid = S.daemon.pid
    workers = children(pid)
    own = kib(pid, "VmRSS")
    pss = sum(kib(w, "Pss", "smaps_rollup") for w in [pid] + workers)
    p.stdin.close()
    p.wait(timeout=60)
    return own, pss, len(workers)


def measure(S, helper, fig):
    """One round of every figure for the daemon (and one-shot helper) at helper."""
    S.helper = helper
    S.start_daemon(verbose=False)
    try:
        fig.setdefault("offer", []).append(loadgen("offer", SOCK, "person", N))
        # 20 ms apart, as logins come: not back to back, which measures how fast the daemon
        # forks rather than what one conversation waits
        fig.setdefault("connect", []).append(loadgen("connect", SOCK, "person", N // 20, 20))
        fig.setdefault("request", []).append(loadgen("request", SOCK, "person", N // 4))
        if "memory" not in fig:
            fig["memory"] = held_memory(S)
    finally:
        S.stop_daemon()
    fig.setdefault("oneshot", []).append(loadgen("oneshot", helper, "person", N // 20))


def main():
    S = sandbox.enter()
    srv = None
    try:
        srv = smtpserver.Server()
        S.useradd("person")
        S.set_password("person", "Old-password-1")
        S.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                       "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                       "mails_per_minute = 0\n")
        S.start_daemon(verbose=False)
        S.client(["email-set person person@example.org"])
        S.stop_daemon()
        builds = {"after": S.helper}
        if os.environ.get("PWR_BENCH_BEFORE"):
            before = os.path.join(S.bin, "pwreset-helper-before")
            shutil.copy(os.environ["PWR_BENCH_BEFORE"], before)
            os.chmod(before, 0o4755)
            builds = {"before": before, **builds}
        figs = {name: {} for name in builds}
        anchors = {}
        lmdb_dir = os.path.join(S.tmp, "anchor-lmdb")
        os.makedirs(lmdb_dir, exist_ok=True)
        for _ in range(ROUNDS):
            anchors.setdefault("echo", []).append(loadgen("echo", N))
            anchors.setdefault("lmdb", []).append(loadgen("lmdb", lmdb_dir, N // 4))
            anchors.setdefault("spawn", []).append(loadgen("spawn", N // 20))
            for name, helper in builds.items():
                measure(S, helper, figs[name])
        rows = (("offer over one connection", "offer", "echo"),
                ("a new connection's first answer", "connect", "echo"),
                ("a request that commits", "request", "lmdb"),
                ("one-shot session", "oneshot", "spawn"))
        print(f"best p50 (p99) of {ROUNDS} rounds, us; anchors in the same run")
        for label, key, anchor in rows:
            a = p50(anchors[anchor])
            line = f"  {label:<34} anchor {anchor} {a:9.1f} ({p99(anchors[anchor]):.1f})"
            for name in builds:
                v = p50(figs[name][key])
                line += f"  {name} {v:9.1f} ({p99(figs[name][key]):.1f}) {v / a:.2f}x"
            print(line)
        if "before" in builds:
            added = sum(p50(figs["after"][k]) - p50(figs["before"][k])
                        for k in ("connect", "request"))
            print(f"  added to a conversation (its connection and its request): {added:.0f} us"
                  f"   target at most 1000 us: {'met' if added <= 1000 else 'NOT MET'}")
        for name in builds:
            own, pss, children = figs[name]["memory"]
            print(f"  {HELD} conversations open, {name}: the daemon's own RSS {own / 1024:.1f} "
                  f"MiB; it and its {children} children (workers, a spare, the mailer) "
                  f"together Pss {pss / 1024:.1f} MiB")
        return 0
    finally:
        if srv:
            srv.stop()
        S.close()


if __name__ == "__main__":
    sys.exit(main())
