# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark: what a person and an administrator feel of the mail path (issue 16, step 4: the
figures that decided how simple the courier could be).

- One mail: the time from a person's `reset` (the request sent to the helper) until the SMTP
  server has accepted the code's mail; through the daemon, and through the one-shot helper
  (no daemon). Anchor: a bare libcurl send of one message of the same size (tests/bench/
  curlloop with N=1: a new handle, connect, send), in the same run.
- 1,000 users reset by an administrator (requests of 400 names, as pwresetctl sends) until
  the server has accepted the last mail. Anchor: the bare libcurl loop sending 1,000 such
  messages over one handle.
Medians of ROUNDS for one mail, the best of 3 for the thousand."""

import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "integration"))
import bench_mail  # noqa: E402
import sandbox  # noqa: E402

ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "9"))
USERS = int(os.environ.get("PWR_BENCH_USERS", "1000"))
BATCH = 400  # names a request, about what pwresetctl puts in one


def add_users():
    with open("/etc/passwd", "a") as pw, open("/etc/shadow", "a") as sh:
        pw.write("alice:x:5000:100::/nonexistent:/bin/sh\n")
        sh.write("alice:$6$salt$" + "h" * 86 + ":19000:0:99999:7:::\n")
        for i in range(USERS):
            pw.write(f"c{i}:x:{100000 + i}:100::/nonexistent:/bin/sh\n")
            sh.write(f"c{i}:$6$salt{i:08d}$" + "h" * 86 + ":19000:0:99999:7:::\n")


def anchor(sink, n):
    sink.reset()
    p = subprocess.run([os.environ["PWR_CURLLOOP"], f"smtp://127.0.0.1:{sink.port}", str(n),
                        sink.first_file], capture_output=True, text=True, check=True)
    if sink.wait_for(n, 60) != n:
        raise RuntimeError("the anchor's mails did not all arrive")
    return float(p.stdout)


def one_mail(S, sink, transport):
    S.client(["revoke alice"])
    sink.reset()
    t0 = time.perf_counter()
    rc, out = S.client(["request alice"], transport)
    if sink.wait_for(1, 60) != 1:
        raise RuntimeError(f"{transport}: the mail did not arrive: {out}")
    return time.perf_counter() - t0


def thousand(S, sink):
    sink.reset()
    names = [f"c{i}" for i in range(USERS)]
    t0 = time.perf_counter()
    for i in range(0, USERS, BATCH):
        S.client(["reset - 0 " + " ".join(names[i:i + BATCH])])
    if sink.wait_for(USERS, int(os.environ.get("PWR_BENCH_WAIT", "600"))) != USERS:
        raise RuntimeError(f"only {sink.count()} of {USERS} mails arrived")
    return time.perf_counter() - t0


def main():
    S = sandbox.enter()
    sink = None
    try:
        add_users()
        sink = bench_mail.Sink(S.tmp)
        S.write_config(f"smtp_url = smtp://127.0.0.1:{sink.port}\nsmtp_starttls = off\n"
                       "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                       "mails_per_minute = 0\n")
        S.start_daemon(verbose=False)
        S.client(["email-set alice alice@example.org"] +
                 [f"email-set c{i} c{i}@example.org" for i in range(USERS)])
        one_mail(S, sink, "socket")  # the mailer's first start, and the sink's first message
        a1 = statistics.median(anchor(sink, 1) for _ in range(ROUNDS))
        daemon = statistics.median(one_mail(S, sink, "socket") for _ in range(ROUNDS))
        S.stop_daemon()
        oneshot = statistics.median(one_mail(S, sink, "oneshot") for _ in range(ROUNDS))
        S.start_daemon(verbose=False)
        t_many, a_many = [], []
        for _ in range(3):
            t_many.append(thousand(S, sink))
            a_many.append(anchor(sink, USERS))
        a, t = min(a_many), min(t_many)
        print(f"mail path as people feel it (aiosmtpd on loopback, its own process)")
        print(f"one mail, reset to accepted (median of {ROUNDS}):")
        print(f"  bare libcurl send of one message (anchor)  {a1 * 1000:8.1f} ms")
        print(f"  daemon: request -> accepted                {daemon * 1000:8.1f} ms   "
              f"{daemon / a1:.2f}x the anchor")
        print(f"  one-shot helper: request -> accepted       {oneshot * 1000:8.1f} ms   "
              f"{oneshot / a1:.2f}x the anchor")
        print(f"{USERS} users reset by an administrator, until the last mail is accepted "
              f"(best of 3):")
        print(f"  bare libcurl loop, one handle (anchor)     {a:8.2f} s")
        print(f"  pwresetctl reset -> last accepted          {t:8.2f} s   {t / a:.2f}x the anchor")
        return 0
    finally:
        if sink:
            sink.stop()
        S.close()


if __name__ == "__main__":
    sys.exit(main())
