# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark: how long the helper takes to answer a wrong code right after `request`, for an
account that gets a code (alice: the mail is queued and handed to the mailer), one that gets
none (bob: no address) and a name that is no account. The module shows "not valid" at a fixed
deadline whatever this takes; these figures say how much the helper itself still differs.

Anchor: bob, on the same transport in the same run (the ratio of each median to bob's). Each
round is a new conversation: one-shot (a new setuid helper on a socketpair, as the module runs
it) and the daemon's socket. Medians of ROUNDS."""

import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sandbox  # noqa: E402
from wirepack import pack_str, packet, who  # noqa: E402

ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "15"))
CONFIG = ("smtp_url = smtp://127.0.0.1:2525\nsmtp_starttls = off\n"
          "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\nmails_per_minute = 0\n"
          "code_attempts = 100\n")


def conversation(sock, user):
    """request, then a wrong code: the seconds from sending the code to its answer."""
    sock.send(packet(2, who(user)))
    sock.recv(8192)
    t0 = time.perf_counter()
    sock.send(packet(3, who(user) + pack_str("ABCDE-FGHJK")))
    sock.recv(8192)
    return time.perf_counter() - t0


def oneshot(S, user):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    p = subprocess.Popen([S.helper], stdin=b, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env={})
    b.close()
    try:
        return conversation(a, user)
    finally:
        a.close()
        p.wait(timeout=120)


def daemon(S, user):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/run/pwreset/helper.sock")
    try:
        return conversation(s, user)
    finally:
        s.close()


def main():
    S = sandbox.enter()
    try:
        for u in ("alice", "bob"):
            S.useradd(u)
        S.write_config(CONFIG)
        S.start_daemon(verbose=False)
        rc, out = S.client(["email-set alice alice@example.org"])
        print(f"verify answer after request, medians of {ROUNDS} (anchor: bob, same transport)")
        for name, run in (("one-shot", oneshot), ("daemon", daemon)):
            med = {}
            for user in ("bob", "alice", "nosuchuser"):
                med[user] = statistics.median(run(S, user) for _ in range(ROUNDS)) * 1000
            for user in ("alice", "bob", "nosuchuser"):
                print(f"  {name:<9} {user:<11} {med[user]:7.2f} ms  "
                      f"{med[user] / med['bob']:5.2f}x bob")
    finally:
        S.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
