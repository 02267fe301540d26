# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark: one password change in a 100,000-user /etc/shadow, in the test sandbox.

Anchor: `chpasswd -e` changing one entry of the same file in the same run. Measured: the
helper's shadow writer alone (tests/shadowtool) and a whole admin reset through the one-shot
helper (which rewrites the file to lock the entry, and issues a code). No side hashes: chpasswd
gets a ready hash, the writer gets one, and a reset does not hash. Each figure is the median of
ROUNDS runs; peak RSS is the process's maximum resident set (wait4), the one-shot's including
the test client that starts it."""

import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sandbox  # noqa: E402

USERS = int(os.environ.get("PWR_BENCH_USERS", "100000"))
ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "7"))


def run_measured(argv, stdin_text=None):
    """Wall time (s) and peak RSS (KiB) of one run of argv, which must succeed; stdin_text
    on its standard input. Measured by tests/rusage, a small C parent."""
    p = subprocess.run([os.environ["PWR_RUSAGE"]] + argv, input=stdin_text or "", text=True,
                       capture_output=True)
    wall_ns, rss, code = (int(x) for x in p.stdout.split())
    if p.returncode != 0 or code != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {code}: {p.stderr}")
    return wall_ns / 1e9, rss


def build_world():
    with open("/etc/passwd", "a") as pw, open("/etc/shadow", "a") as sh:
        for i in range(USERS):
            pw.write(f"b{i}:x:{100000 + i}:100::/nonexistent:/bin/sh\n")
            sh.write(f"b{i}:$6$salt{i:08d}$" + "h" * 86 + f":19000:0:99999:7:::\n")
    os.makedirs("/etc/pwreset", exist_ok=True)
    with open("/etc/pwreset/pwreset.conf", "w") as f:
        f.write("")
    os.chmod("/etc/pwreset/pwreset.conf", 0o640)


def row(name, samples, anchor=None):
    wall = statistics.median(s[0] for s in samples) * 1000
    rss = max(s[1] for s in samples) / 1024
    ratio = f"   {wall / anchor[0]:.3f}x time, {rss / anchor[1]:.3f}x memory" if anchor else ""
    print(f"  {name:<34} {wall:8.1f} ms {rss:8.1f} MiB{ratio}")
    return wall, rss


def main():
    S = sandbox.enter()
    try:
        build_world()
        size = os.path.getsize("/etc/shadow")
        hash_ = "$6$benchsalt$" + "n" * 86
        chp, tool, oneshot = [], [], []
        tclient = [os.environ["PWR_TCLIENT"], "--helper", S.helper]
        for i in range(ROUNDS):
            u = f"b{(i * 7919) % USERS}"
            chp.append(run_measured(["chpasswd", "-e"], f"{u}:{hash_}\n"))
            u = f"b{(i * 7919 + 1) % USERS}"
            tool.append(run_measured([os.environ["PWR_SHADOWTOOL"], "set", "/etc/shadow", u,
                                      hash_, "20000"]))
            u = f"b{(i * 7919 + 2) % USERS}"
            oneshot.append(run_measured(tclient, f"reset - 0 {u}\n"))
        print(f"shadow rewrite: one entry of {USERS} ({size / 1048576:.1f} MiB), median of "
              f"{ROUNDS} runs, peak RSS the maximum")
        anchor = row("chpasswd -e (anchor)", chp)
        w = row("pwreset shadow writer", tool, anchor)
        o = row("pwreset-helper one-shot reset", oneshot, anchor)
        ok = w[0] <= anchor[0] / 10 and w[1] < 8
        print(f"  target: writer at most 1/10 of chpasswd's time and under 8 MiB: "
              f"{'met' if ok else 'NOT MET'}; one-shot reset {o[0] / anchor[0]:.3f}x, "
              f"{o[1]:.1f} MiB")
        return 0
    finally:
        S.close()


if __name__ == "__main__":
    sys.exit(main())
