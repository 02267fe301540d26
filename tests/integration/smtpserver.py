# SPDX-License-Identifier: BSD-3-Clause
"""SMTP servers on loopback for the mail tests: a real one (aiosmtpd) with STARTTLS, AUTH and
recipients it refuses, and hostile ones that send garbage, an endless line, or nothing."""

import os
import socket
import ssl
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, SMTP


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca(directory, names=()):
    """A CA and a certificate for "localhost" (and names: more DNS names, or IP:ADDRESS)
    signed by it, made now with openssl(1). Returns (ca.pem, cert.pem, key.pem)."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr = os.path.join(directory, "srv.key"), os.path.join(directory, "srv.csr")
    cert, ext = os.path.join(directory, "srv.pem"), os.path.join(directory, "srv.ext")
    q = {"check": True, "capture_output": True}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=pwreset test CA", "-keyout", ca_key, "-out", ca], **q)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-keyout", key, "-out", csr], **q)
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(
            ["DNS:localhost"] + [n if n.startswith("IP:") else "DNS:" + n for n in names]) +
            "\n")
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                    "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert], **q)
    os.chmod(ca, 0o644)
    return ca, cert, key


class Handler:
    def __init__(self, refuse=(), on_message=None):
        self.refuse = set(refuse)
        self.on_message = on_message
        self.messages = []  # (mail_from, [rcpt], data bytes)
        self.mail_from_seen = 0
        self.busy = None  # a 4xx reply to every recipient while set (a server not taking mail now)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from_seen += 1
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.busy:
            return self.busy
        if address in self.refuse:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content or envelope.content))
        if self.on_message:
            self.on_message(*self.messages[-1])
        return "250 2.0.0 Ok: queued as test%d" % len(self.messages)


class Server:
    """A real SMTP server on 127.0.0.1:port. tls: (cert, key) to offer STARTTLS; require_tls:
    refuse mail before it; auth: {user: password}, required; refuse: recipients to 550;
    on_message: called with (mail_from, rcpts, data) for each message accepted."""

    def __init__(self, port=None, tls=None, require_tls=False, auth=None, refuse=(),
                 on_message=None):
        self.port = port or free_port()
        self.handler = Handler(refuse, on_message)
        kw = {}
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*tls)
            kw.update(tls_context=ctx, require_starttls=require_tls)
        if auth:
            def check(server, session, envelope, mechanism, data):
                ok = (data.login.decode(), data.password.decode()) in auth.items()
                # handled=False: the server answers 535 itself (True means "already answered")
                return AuthResult(success=ok, handled=False)
            kw.update(authenticator=check, auth_required=True, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="localhost", **kw)
        self.controller.start()

    @property
    def messages(self):
        return self.handler.messages

    def wait_for(self, count, timeout=20):
        deadline = time.time() + timeout
        while len(self.handler.messages) < count and time.time() < deadline:
            time.sleep(0.005)
        return self.handler.messages

    def stop(self):
        self.controller.stop()


class Hostile:
    """A server that misbehaves: "garbage" (a greeting, then noise to every command),
    "endless" (a greeting line that never ends), "stall" (accepts and says nothing). Runs until
    stop(); every connection is closed then."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            if self.mode == "stall":
                while not self.stopping:
                    time.sleep(0.1)
            elif self.mode == "endless":
                c.sendall(b"220 ")
                chunk = b"x" * 65536
                sent = 0
                while not self.stopping and sent < 512 * 1024 * 1024:
                    c.sendall(chunk)
                    sent += len(chunk)
            elif self.mode == "garbage":
                c.sendall(b"220 hello\r\n")
                junk = bytes(range(256)) * 4
                while not self.stopping:
                    data = c.recv(4096)
                    if not data:
                        return
                    c.sendall(b"\x00\xff" + junk + b"\r\n999 ??\r\n2x5 no\r\n")
        except OSError:
            pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
