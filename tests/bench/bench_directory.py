# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark (SPEC §12, §12.1): a directory account's reset against the directory's own tools,
in the same run, on a real slapd (StartTLS, ppolicy) and, where tests/fetch-samba unpacked it,
a real Samba AD DC (LDAPS), each in the sandbox.

1. The set-password step: from sending set-password (after a verified code) to its answer,
   through the daemon's socket: the helper looks the entry up, checks the code, has
   pwreset-directory set the password (OpenLDAP: Password Modify; AD: unicodePwd, then
   lockoutTime and pwdLastSet), spends the code and queues the notice.
   Anchor: the directory's tool doing the password alone as a new process (a connection, TLS
   and a bind each time): ldappasswd for OpenLDAP (target: at most 2x), ldapmodify of
   unicodePwd for AD (target: at most 1x, since the agent keeps its connection). The same
   step is also timed on one-shot helpers (each conversation its own helper, which starts
   pwreset-directory, connects and binds at the request, so its set-password finds the
   connection up).
2. A request for a directory account: from sending it to the answer to the offer that follows
   on the same connection (the daemon does the request's work between the two: the lookup, the
   count of the address, the windows, the code, the queued mail). Anchor: a bare ldapsearch of
   the same entry.

Medians of ROUNDS. Exits 1 when a target is missed."""

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
import adserver as ad  # noqa: E402

ROUNDS = int(os.environ.get("PWR_BENCH_ROUNDS", "15"))
LENA = f"uid=lena,{ls.PEOPLE}"
AYLA = f"CN=ayla,{ad.PEOPLE}"
PASSWORDS = ("Tulip-Gravel-Orbit-93", "Copper-Lantern-Shelf-58")
SECRET = "/etc/pwreset/directory.secret"


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


def timed(argv, env, input=None):
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True, input=input)
    return time.perf_counter() - t0


def configure(S, srv, user, uid, password, directory):
    """user (uid) an account NSS knows with no shadow line; the daemon configured for the
    directory (its keys) with password as the service account's."""
    S.useradd(user, "-u", str(uid))
    S.drop_shadow_line(user)
    with open(SECRET, "w") as f:
        f.write(password + "\n")
    os.chmod(SECRET, 0o600)
    S.write_config(f"smtp_url = smtp://127.0.0.1:{srv.port}\nsmtp_starttls = off\n"
                   "user_requests_per_hour = 0\nrhost_requests_per_hour = 0\n"
                   "mails_per_minute = 0\nnotify_on_change = yes\n"
                   f"directory_password_file = {SECRET}\n" + directory)
    S.start_daemon(verbose=False)


def measure(S, srv, user, anchor_setpw, anchor_lookup):
    """The rounds for user: the first of the daemon's and of the one-shot helpers' warms up and
    is not counted. anchor_setpw(password) and anchor_lookup() time the directory's own tools.
    Medians in ms."""
    setpw, passwd, request, search, oneshot = [], [], [], [], []
    mails = len(srv.messages)
    for n in range(2 * ROUNDS + 2):
        transport = "daemon" if n <= ROUNDS else "oneshot"
        s, helper = connect(S, transport)
        t0 = time.perf_counter()
        ask(s, 2, who(user))  # request
        ask(s, 1, who(user))  # offer: answered once the request's work is done
        t_request = time.perf_counter() - t0
        mails += 1
        code = code_in(srv.wait_for(mails)[mails - 1])
        ask(s, 3, who(user) + pack_str(code))  # verify
        t0 = time.perf_counter()
        ans = ask(s, 4, who(user) + pack_str(PASSWORDS[n % 2]))  # set-password
        t_setpw = time.perf_counter() - t0
        s.close()
        if helper:
            helper.wait(timeout=120)
        status = struct.unpack("=I", ans[8:12])[0]
        if status != 0:
            raise RuntimeError(f"set-password answered {status}: {ans[12:]!r}")
        mails += 1  # the notice
        srv.wait_for(mails)
        t_passwd = anchor_setpw(PASSWORDS[(n + 1) % 2])
        t_search = anchor_lookup()
        if transport == "oneshot" and n > ROUNDS + 1:
            oneshot.append(t_setpw)
        elif transport == "daemon" and n:
            setpw.append(t_setpw)
            request.append(t_request)
        if n and n != ROUNDS + 1:
            passwd.append(t_passwd)
            search.append(t_search)
    return {k: statistics.median(v) * 1000 for k, v in
            (("setpw", setpw), ("passwd", passwd), ("request", request),
             ("search", search), ("oneshot", oneshot))}


def report(title, med, setpw_anchor, lookup_anchor, target):
    print(f"{title}, medians of {ROUNDS} (anchors in the same run)")
    print(f"  set-password step   {med['setpw']:7.2f} ms   anchor {setpw_anchor} "
          f"{med['passwd']:7.2f} ms   ratio {med['setpw'] / med['passwd']:.2f} "
          f"(target <= {target})")
    print(f"  the same, one-shot  {med['oneshot']:7.2f} ms   anchor {setpw_anchor} "
          f"{med['passwd']:7.2f} ms   ratio {med['oneshot'] / med['passwd']:.2f}")
    print(f"  request, its work   {med['request']:7.2f} ms   anchor {lookup_anchor} "
          f"{med['search']:7.2f} ms   ratio {med['request'] / med['search']:.2f}")
    return med["setpw"] <= target * med["passwd"]


def openldap(S, srv):
    d = ls.Slapd(S, ls.person("lena", 10001, "lena@example.org", "Old-password-1"))
    configure(S, srv, "lena", 10001, ls.SERVICE_PW,
              f"directory_url = {d.url}\ndirectory_ca_file = {d.ca}\n"
              f"directory_bind_dn = {ls.SERVICE_DN}\ndirectory_base = {ls.PEOPLE}\n")
    env = ls.tool_env()
    env.update(LDAPTLS_CACERT=d.ca, LDAPCONF="/dev/null", LDAPRC="/dev/null")
    bind = ["-x", "-ZZ", "-H", d.url, "-D", ls.SERVICE_DN, "-w", ls.SERVICE_PW]
    med = measure(S, srv, "lena",
                  lambda pw: timed([ls.tool("ldappasswd"), *bind, "-s", pw, LENA], env),
                  lambda: timed([ls.tool("ldapsearch"), *bind, "-b", ls.PEOPLE, "(uid=lena)",
                                 "mail", "uidNumber", "pwdChangedTime"], env))
    ok = report("OpenLDAP account", med, "ldappasswd", "ldapsearch", 2)
    d.stop()
    S.stop_daemon()
    return ok


def active_directory(S, srv):
    if not os.path.exists(os.path.join(ad.unpacked(), "usr/sbin/samba")):
        print("Active Directory: skipped (no Samba: tests/fetch-samba did not unpack it)")
        return True
    dc = ad.DC(S, ad.person("ayla", 20001, "ayla@example.test", "Alice-Old-Pass1"))
    dc.replace(ad.BASE, pwdHistoryLength=0)
    configure(S, srv, "ayla", 20001, ad.SERVICE_PW,
              f"directory_type = ad\ndirectory_url = {dc.url}\ndirectory_ca_file = {dc.ca}\n"
              f"directory_bind_dn = {ad.SERVICE_UPN}\ndirectory_base = {ad.PEOPLE}\n")
    env = ls.tool_env()
    env.update(LDAPTLS_CACERT=dc.ca, LDAPCONF="/dev/null", LDAPRC="/dev/null")
    bind = ["-x", "-H", dc.url, "-D", ad.SERVICE_UPN, "-w", ad.SERVICE_PW]

    def modify(pw):
        return timed([ls.tool("ldapmodify"), *bind], env,
                     f"dn: {AYLA}\nchangetype: modify\nreplace: unicodePwd\n"
                     f"unicodePwd:: {ad.quoted_password(pw)}\n-\n".encode())

    med = measure(S, srv, "ayla", modify,
                  lambda: timed([ls.tool("ldapsearch"), *bind, "-b", ad.PEOPLE,
                                 "(sAMAccountName=ayla)", "mail", "uidNumber", "pwdLastSet"],
                                env))
    ok = report("Active Directory account (Samba 4.17, LDAPS)", med, "ldapmodify unicodePwd",
                "ldapsearch", 1)
    dc.stop()
    S.stop_daemon()
    return ok


def main():
    S = sandbox.enter()
    try:
        srv = smtpserver.Server()
        ok = openldap(S, srv)
        ok = active_directory(S, srv) and ok
        srv.stop()
        return 0 if ok else 1
    finally:
        S.close()


if __name__ == "__main__":
    sys.exit(main())
