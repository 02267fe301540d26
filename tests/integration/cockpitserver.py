# SPDX-License-Identifier: BSD-3-Clause
"""The web console for the tests of the Cockpit page (issue 20): Debian's cockpit-ws, unpacked
by tests/fetch-cockpit (PWR_COCKPIT_DIR), started with --local-session on 127.0.0.1 and a free
port, serving the installed page; and headless Chromium
driven by selenium (Debian's chromium, chromium-driver, python3-selenium).

The session's bridge runs as the user who started cockpit-ws: root for an administrator, any
other user for a session without administrative access (its superuser "require" is refused)."""

import os
import sys
import pwd
import subprocess
import time
import urllib.request

from smtpserver import free_port

TOP = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def unpacked():
    return os.environ.get("PWR_COCKPIT_DIR") or os.path.join(TOP, "build", "cockpit")


class Cockpit:
    """cockpit-ws on loopback, serving the packages installed under /usr/share/cockpit (the
    tests lay meson's install over /usr) beside the unpacked ones; the bridge finds pwresetctl
    on root's usual PATH. user: run as this user instead of root."""

    def __init__(self, tmp, user=None):
        root = unpacked()
        ws = os.path.join(root, "usr/lib/cockpit/cockpit-ws")
        if not os.access(ws, os.X_OK):
            print(f"SKIP: no cockpit-ws in {root} (tests/fetch-cockpit could not unpack it there)")
            sys.exit(77)
        home = os.path.join(tmp, f"cockpit-home-{user or 'root'}")
        os.makedirs(home, exist_ok=True)
        self.port = free_port()
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "XDG_DATA_DIRS": f"/usr/share:{root}/usr/share",
            "XDG_RUNTIME_DIR": home,
            "LD_LIBRARY_PATH": f"{root}/usr/lib/x86_64-linux-gnu",
        }
        argv = [ws, f"--local-session={root}/usr/bin/cockpit-bridge", "-a", "127.0.0.1",
                "-p", str(self.port)]
        if user:
            os.chown(home, *_ids(user))
            argv = ["setpriv", f"--reuid={user}", f"--regid={_ids(user)[1]}", "--init-groups",
                    *argv]
        self.log = open(os.path.join(tmp, f"cockpit-ws-{user or 'root'}.log"), "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/cockpit/@localhost/pwreset/index.html"
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2)
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"cockpit-ws did not start: {self.logtext()}")
                time.sleep(0.1)

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _ids(user):
    p = pwd.getpwnam(user)
    return p.pw_uid, p.pw_gid


def browser(width=1280, height=800):
    """Headless Chromium, 1280x800 unless told, through chromium-driver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", "--lang=en-US", "--hide-scrollbars"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
