# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark (issue 28): the administrators' view at a real site's size, each figure against
its anchor measured in the same run, in the sandbox.

1. Local accounts (1,000, 10,000, 100,000; each with its own address in the store):
   `pwresetctl --json check` of every account through the daemon, against `getent passwd` +
   `getent shadow` (the same accounts, read by the tools a site already has). Target: at most
   3x at every size, and the time per account flat from the smallest size to the largest. Also
   the peak RSS of pwresetctl (target: under 64 MiB at 100,000) and the daemon's RSS after each
   size (target: not growing with the site).
2. A committing request (rate windows, the account, its address and sharers, the code written)
   with 100,000 addresses in the store, against the same request with ten. Target: within
   1.2x.
3. Directory accounts (1,000 and 30,000 in slapd on loopback, StartTLS): `pwresetctl --json
   check` against one paged `ldapsearch` of the same entries and attributes. Target: at most
   3x.

Walls are medians of ROUNDS; peak RSS by tests/rusage (a small C parent)."""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sandbox  # noqa: E402
from wirepack import who, packet  # noqa: E402
import smtpserver  # noqa: E402

ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "5"))
LOCAL = [int(n) for n in os.environ.get("PWR_BENCH_LOCAL", "1000,10000,100000").split(",")]
DIRECTORY = [int(n) for n in os.environ.get("PWR_BENCH_DIRECTORY", "1000,30000").split(",")]
REQUESTS = int(os.environ.get("PWR_BENCH_REQUESTS", "41"))
CTL = os.environ["PWR_CTL"]
HASH = "$6$benchsalt$" + "h" * 86


def measured(argv):
    """(wall s, peak RSS KiB) of one run of argv (output discarded), which must succeed or
    exit 1 (check: some account not eligible)."""
    p = subprocess.run([os.environ["PWR_RUSAGE"]] + argv, capture_output=True, text=True)
    wall_ns, rss, code = (int(x) for x in p.stdout.split())
    if p.returncode != 0 or code not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)}: exit {code}: {p.stderr}")
    return wall_ns / 1e9, rss


def median_of(argvs):
    """Median wall (ms) of ROUNDS runs of the commands argvs one after the other, and the
    largest peak RSS (MiB) among them."""
    walls, rss = [], 0
    for _ in range(ROUNDS):
        total = 0
        for argv in argvs:
            w, r = measured(argv)
            total += w
            rss = max(rss, r)
        walls.append(total)
    return statistics.median(walls) * 1000, rss / 1024


def vm_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def add_local(have, want):
    """Local accounts b<have>..b<want-1>: a passwd and a shadow line each, and an address."""
    with open("/etc/passwd", "a") as pw, open("/etc/shadow", "a") as sh:
        for i in range(have, want):
            pw.write(f"b{i}:x:{100000 + i}:100::/nonexistent:/bin/sh\n")
            sh.write(f"b{i}:{HASH}:19000:0:99999:7:::\n")
    subprocess.run([os.environ["PWR_ADDR_FILL"], "/var/lib/pwreset", "b", str(have), str(want),
                    "example.org"], check=True)


def local_accounts(S):
    print(f"every local account, medians of {ROUNDS} (anchor: getent passwd + getent shadow, "
          "same run)")
    print(f"  {'accounts':>8}  {'check':>10}  {'anchor':>10}  {'ratio':>6}  {'per account':>11}"
          f"  {'ctl peak RSS':>12}  {'daemon RSS':>10}")
    have, rows = 0, []
    for n in LOCAL:
        add_local(have, n)
        have = n
        check_ms, ctl_rss = median_of([[CTL, "--json", "check"]])
        anchor_ms, _ = median_of([["getent", "passwd"], ["getent", "shadow"]])
        daemon = vm_rss(S.daemon.pid)
        rows.append((n, check_ms, anchor_ms, ctl_rss, daemon))
        print(f"  {n:>8}  {check_ms:8.1f} ms  {anchor_ms:8.1f} ms  {check_ms / anchor_ms:5.2f}x"
              f"  {check_ms * 1000 / n:8.2f} us  {ctl_rss:8.1f} MiB  {daemon:6.1f} MiB")
    return rows


def request_ms(user, rounds):
    """Median ms of a committing request through the daemon: from sending it to the answer of
    the offer that follows on the same connection (the daemon does the request's work, and
    commits, between the two). The first round warms up."""
    times = []
    for n in range(rounds + 1):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect("/run/pwreset/helper.sock")
        t0 = time.perf_counter()
        s.send(packet(2, who(user)))
        s.recv(8192)
        s.send(packet(1, who(user)))
        s.recv(8192)
        t = time.perf_counter() - t0
        s.close()
        if n:
            times.append(t)
    return statistics.median(times) * 1000


def committing_request(S):
    """The same request with ten addresses in the store, then with the 100,000 (and more)
    of the local section; the same passwd and shadow files for both."""
    big = "/var/lib/pwreset"
    S.stop_daemon()
    os.rename(big, big + ".big")
    os.makedirs(big, mode=0o700)
    subprocess.run([os.environ["PWR_ADDR_FILL"], big, "b", "0", "10", "example.org"],
                   check=True)
    S.start_daemon(verbose=False)
    small_ms = request_ms("b1", REQUESTS)
    S.stop_daemon()
    shutil.rmtree(big)
    os.rename(big + ".big", big)
    S.start_daemon(verbose=False)
    large_ms = request_ms("b1", REQUESTS)
    print(f"a committing request, median of {REQUESTS} (same accounts; the store's addresses)")
    print(f"  with {max(LOCAL):,} addresses  {large_ms:7.2f} ms   with 10 (anchor) "
          f"{small_ms:7.2f} ms   ratio {large_ms / small_ms:.2f} (target <= 1.2)")
    return small_ms, large_ms


def directory_accounts(S, srv):
    import ldapserver as ls
    rows = []
    print(f"every directory account, medians of {ROUNDS} (anchor: one paged ldapsearch of the "
          "same entries and attributes, StartTLS, same run)")
    print(f"  {'accounts':>8}  {'check':>10}  {'anchor':>10}  {'ratio':>6}  {'per account':>11}"
          f"  {'ctl peak RSS':>12}")
    # the directory's accounts alone: the local section's accounts and addresses gone
    S.stop_daemon()
    for name in ("passwd", "shadow"):
        shutil.copy(f"{S.tmp}/{name}.before", f"/etc/{name}")
    shutil.rmtree("/var/lib/pwreset")
    secret = "/etc/pwreset/directory.secret"
    with open(secret, "w") as f:
        f.write(ls.SERVICE_PW + "\n")
    os.chmod(secret, 0o600)
    for n in DIRECTORY:
        people = "\n".join(ls.person(f"d{i}", 200000 + i, f"d{i}@example.org")
                           for i in range(n))
        d = ls.Slapd(S, people)
        S.stop_daemon()
        S.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                       f"directory_url = {d.url}\ndirectory_ca_file = {d.ca}\n"
                       f"directory_bind_dn = {ls.SERVICE_DN}\ndirectory_password_file = {secret}\n"
                       f"directory_base = {ls.PEOPLE}\n")
        S.start_daemon(verbose=False)
        env = ls.tool_env()
        env.update(LDAPTLS_CACERT=d.ca, LDAPCONF="/dev/null", LDAPRC="/dev/null")
        os.environ.update(env)  # for the anchor, run through tests/rusage
        search = [ls.tool("ldapsearch"), "-x", "-ZZ", "-LLL", "-H", d.url, "-D", ls.SERVICE_DN,
                  "-w", ls.SERVICE_PW, "-b", ls.PEOPLE, "-E", "pr=200/noprompt",
                  "(&(objectClass=posixAccount)(uid=*))", "uid", "uidNumber", "gidNumber",
                  "mail"]
        got = subprocess.run(search, capture_output=True, text=True, env=env, check=True)
        if got.stdout.count("\ndn: ") + got.stdout.startswith("dn: ") != n:
            raise RuntimeError(f"the anchor did not list {n} entries")
        check_ms, ctl_rss = median_of([[CTL, "--json", "check"]])
        anchor_ms, _ = median_of([search])
        rows.append((n, check_ms, anchor_ms, ctl_rss))
        print(f"  {n:>8}  {check_ms:8.1f} ms  {anchor_ms:8.1f} ms  {check_ms / anchor_ms:5.2f}x"
              f"  {check_ms * 1000 / n:8.2f} us  {ctl_rss:8.1f} MiB")
        d.stop()
    return rows


def main():
    S = sandbox.enter()
    try:
        # check lists uids up to UID_MAX of login.defs: room for every account made here
        with open("/etc/login.defs") as f:
            defs = [line for line in f if not line.split()[:1] == ["UID_MAX"]]
        with open("/etc/login.defs", "w") as f:
            f.writelines(defs + ["UID_MAX 4000000\n"])
        srv = smtpserver.Server()
        for name in ("passwd", "shadow"):
            shutil.copy(f"/etc/{name}", f"{S.tmp}/{name}.before")
        S.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                       "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                       "mails_per_minute = 0\n")
        S.start_daemon(verbose=False)
        ok = True
        local = local_accounts(S)
        ok &= all(c <= 3 * a for _, c, a, _, _ in local) and local[-1][3] < 64
        small, large = committing_request(S)
        ok &= large <= 1.2 * small
        if os.environ.get("PWR_DIRECTORY") and DIRECTORY != [0]:
            ok &= all(c <= 3 * a for _, c, a, _ in directory_accounts(S, srv))
        srv.stop()
        return 0 if ok else 1
    finally:
        S.close()


if __name__ == "__main__":
    sys.exit(main())
