# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark (SPEC §12): a directory account's reset against the directory's own tools, in the
same run, on a real slapd (StartTLS, ppolicy) in the sandbox.

1. The set-password step: from sending set-password (after a verified code) to its answer,
   through the daemon's socket: the helper looks the entry up, checks the code, has
   pwreset-directory do the Password Modify, spends the code and queues the notice.
   Anchor: ldappasswd doing the same Password Modify (StartTLS, bind, exop) as a new process.
   Target: at most 2x the anchor. The same step is also timed on one-shot helpers (each
   conversation its own helper, which starts pwreset-directory, StartTLS and binds at the
   request, so its set-password finds the connection up).
2. A request for a directory account: from sending it to the answer to the offer that follows
   on the same connection (the daemon does the request's work between the two: the lookup, the
   count of the address, the windows, the code, the queued mail). Anchor: a bare ldapsearch of
   the same entry (StartTLS, bind, search).

Medians of ROUNDS."""

import email
import email.policy
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sandbox  # noqa: E402
from wirepack import pack_str, packet, who  # noqa: E402
import smtpserver  # noqa: E402
import ldapserver as ls  # noqa: E402

ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "15"))
LENA = f"uid=lena,{ls.PEOPLE}"
PASSWORDS = ("Tulip-Gravel-Orbit-93", "Copper-Lantern-Shelf-58")


def connect(S, transport):
    """A conversation with the daemon, or with a one-shot helper of its own (as the module
    runs it when no daemon answers): the socket, and the helper's process or None."""
    if transport == "daemon":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect("/run/pwreset/helper.sock")
        return s, None
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    p = subprocess.Popen([S.helper], stdin=b, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env={})
    b.close()
    return a, p


def ask(s, op, payload):
    s.send(packet(op, payload))
    return s.recv(8192)


def code_in(msg):
    body = email.message_from_bytes(msg[2], policy=email.policy.default).get_content()
    return re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", body).group(1)


def timed(argv, env):
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main():
    S = sandbox.enter()
    try:
        d = ls.Slapd(S, ls.person("lena", 10001, "lena@example.org", "Old-password-1"))
        srv = smtpserver.Server()
        S.useradd("lena", "-u", "10001")
        S.drop_shadow_line("lena")
        with open("/etc/pwreset/directory.secret", "w") as f:
            f.write(ls.SERVICE_PW + "\n")
        os.chmod("/etc/pwreset/directory.secret", 0o600)
        S.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                       "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                       "mails_per_minute = 0\nnotify_on_change = yes\n"
                       f"directory_url = {d.url}\ndirectory_ca_file = {d.ca}\n"
                       f"directory_bind_dn = {ls.SERVICE_DN}\n"
                       "directory_password_file = /etc/pwreset/directory.secret\n"
                       f"directory_base = {ls.PEOPLE}\n")
        S.start_daemon(verbose=False)
        env = ls.tool_env()
        env.update(LDAPTLS_CACERT=d.ca, LDAPCONF="/dev/null", LDAPRC="/dev/null")
        bind = ["-x", "-ZZ", "-H", d.url, "-D", ls.SERVICE_DN, "-w", ls.SERVICE_PW]
        setpw, passwd, request, search, oneshot = [], [], [], [], []
        mails = 0
        for n in range(2 * ROUNDS + 2):  # the first round of each warms up, not counted
            transport = "daemon" if n <= ROUNDS else "oneshot"
            s, helper = connect(S, transport)
            t0 = time.perf_counter()
            ask(s, 2, who("lena"))  # request
            ask(s, 1, who("lena"))  # offer: answered once the request's work is done
            t_request = time.perf_counter() - t0
            mails += 1
            code = code_in(srv.wait_for(mails)[mails - 1])
            ask(s, 3, who("lena") + pack_str(code))  # verify
            pw = PASSWORDS[n % 2]
            t0 = time.perf_counter()
            ans = ask(s, 4, who("lena") + pack_str(pw))  # set-password
            t_setpw = time.perf_counter() - t0
            s.close()
            if helper:
                helper.wait(timeout=120)
            status = struct.unpack("=I", ans[8:12])[0]
            if status != 0:
                raise RuntimeError(f"set-password answered {status}: {ans[12:]!r}")
            mails += 1  # the notice
            srv.wait_for(mails)
            t_passwd = timed([ls.tool("ldappasswd"), *bind, "-s", PASSWORDS[(n + 1) % 2], LENA],
                             env)
            t_search = timed([ls.tool("ldapsearch"), *bind, "-b", ls.PEOPLE, "(uid=lena)",
                              "mail", "uidNumber", "pwdChangedTime"], env)
            if transport == "oneshot" and n > ROUNDS + 1:
                oneshot.append(t_setpw)
            elif transport == "daemon" and n:
                setpw.append(t_setpw)
                request.append(t_request)
            if n and n != ROUNDS + 1:
                passwd.append(t_passwd)
                search.append(t_search)
        med = {k: statistics.median(v) * 1000 for k, v in
               (("setpw", setpw), ("passwd", passwd), ("request", request),
                ("search", search), ("oneshot", oneshot))}
        print(f"directory account, medians of {ROUNDS} (anchors in the same run)")
        print(f"  set-password step   {med['setpw']:7.2f} ms   anchor ldappasswd "
              f"{med['passwd']:7.2f} ms   ratio {med['setpw'] / med['passwd']:.2f} "
              "(target <= 2)")
        print(f"  the same, one-shot  {med['oneshot']:7.2f} ms   anchor ldappasswd "
              f"{med['passwd']:7.2f} ms   ratio {med['oneshot'] / med['passwd']:.2f}")
        print(f"  request, its work   {med['request']:7.2f} ms   anchor ldapsearch "
              f"{med['search']:7.2f} ms   ratio {med['request'] / med['search']:.2f}")
        srv.stop()
        return 0 if med["setpw"] <= 2 * med["passwd"] else 1
    finally:
        S.close()


if __name__ == "__main__":
    sys.exit(main())
