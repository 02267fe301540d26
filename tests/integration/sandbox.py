# SPDX-License-Identifier: BSD-3-Clause
"""The test sandbox: a private mount namespace where /etc, /var, /dev and /usr/libexec are
overlays over the host's (with a /dev/log of the sandbox's own) and /run and /root are fresh
tmpfs, so useradd, chpasswd, the helper's store, its socket, the installed mailer and sshd all
work on their real paths and vanish with the namespace. Nothing here touches the host.

Usage from a test script: call sandbox.enter() first; it re-executes the script inside
`unshare -m --propagation private` and sets the mounts up there."""

import os
import shutil
import subprocess
import sys
import socket
import tempfile
import threading
import time

SKIP = 77


def enter():
    """Re-execute the calling script inside a new mount namespace, once; then mount."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("SKIP: the integration tests need root and unshare(1)")
        sys.exit(SKIP)
    if os.environ.get("PWR_SANDBOX") != "1":
        # the sandbox's folder outlives the namespace only until the script ends
        tmp = tempfile.mkdtemp(prefix="pwr-sandbox-")
        # the programs speak the caller's language (SPEC §13): the tests read English, whatever
        # the language of whoever runs them; a case that wants another sets it for one run
        env = dict(os.environ, PWR_SANDBOX="1", PWR_SANDBOX_DIR=tmp, LC_ALL="C.UTF-8")
        env.pop("LANGUAGE", None)
        argv = ["unshare", "-m", "--propagation", "private", sys.executable] + sys.argv
        before = sanitizer_reports()
        try:
            rc = subprocess.run(argv, env=env).returncode
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        new = sanitizer_reports() - before
        for path in sorted(new):
            with open(path, errors="replace") as f:
                print(f"--- sanitizer report {path} ---\n{f.read()}")
        sys.exit(1 if new else rc)
    return Sandbox()


def sanitizer_reports():
    """In a sanitized build, the reports our programs wrote so far (made writable by every
    user: the mailer and pwresetctl run unprivileged). Elsewhere, none."""
    where = os.environ.get("PWR_SANITIZER_LOG")
    if not where:
        return set()
    os.makedirs(where, exist_ok=True)
    os.chmod(where, 0o1777)
    return {os.path.join(where, n) for n in os.listdir(where)}


def host_env(env=None):
    """The environment for a program not built by us that loads the PAM module (pamtester,
    sshd, su): in a sanitized build it preloads the sanitizer runtimes, which must come first,
    and reports into the same folder (its own leaks are not ours: not checked)."""
    env = dict(os.environ if env is None else env)
    preload = os.environ.get("PWR_SANITIZER_PRELOAD")
    if preload:
        where = os.environ["PWR_SANITIZER_LOG"]
        env["LD_PRELOAD"] = preload
        env["ASAN_OPTIONS"] = f"detect_leaks=0:log_path={where}/host-asan"
        env["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={where}/host-ubsan"
    return env


def run(argv, **kw):
    kw.setdefault("check", True)
    return subprocess.run(argv, **kw)


class Sandbox:
    def __init__(self):
        self.tmp = os.environ["PWR_SANDBOX_DIR"]
        self.cleanups = []  # called by close(), last first: servers started in the sandbox
        os.chmod(self.tmp, 0o755)
        for name in ("etc", "var", "dev", "usr/libexec", "usr/share/pam-configs",
                     "usr/share/locale"):
            self.overlay(name)
        # the overlay hides /dev's own mounts: pseudo-terminals of the sandbox's own
        os.makedirs("/dev/pts", exist_ok=True)
        run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620", "devpts",
             "/dev/pts"])
        run(["mount", "--bind", "/dev/pts/ptmx", "/dev/ptmx"])
        run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"])
        self._fresh_root_home()
        # a place where a setuid copy of the helper may run (no nosuid here)
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", self.bin])
        self.helper = os.path.join(self.bin, "pwreset-helper")
        shutil.copy(os.environ["PWR_HELPER"], self.helper)
        os.chown(self.helper, 0, 0)
        os.chmod(self.helper, 0o4755)
        for d in ("/etc/pwreset", "/var/lib"):
            os.makedirs(d, exist_ok=True)
        # installed the way meson install puts them: the mailer, its user, the templates
        for env, name in (("PWR_MAILER", "pwreset-mailer"),
                          ("PWR_DIRECTORY", "pwreset-directory")):
            if os.environ.get(env):
                os.makedirs("/usr/libexec/pwreset", exist_ok=True)
                shutil.copy(os.environ[env], "/usr/libexec/pwreset/" + name)
                os.chmod("/usr/libexec/pwreset/" + name, 0o755)
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        users = [os.path.join(top, "systemd", "pwreset.sysusers")]
        if os.environ.get("PWR_DIRECTORY"):  # the agent's own user, configured by meson
            users.append(os.path.join(os.path.dirname(os.environ["PWR_DIRECTORY"]),
                                      "pwreset-directory.conf"))
        for f in users:
            run(["systemd-sysusers", f], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the built catalogs where the module and the helper look (SPEC §13)
        po = os.path.join(os.environ.get("PWR_BUILD_ROOT", ""), "po")
        for lang in os.listdir(po) if os.path.isdir(po) else ():
            mo = os.path.join(po, lang, "LC_MESSAGES", "pam_pwreset.mo")
            if os.path.exists(mo):
                os.makedirs(f"/usr/share/locale/{lang}/LC_MESSAGES", exist_ok=True)
                shutil.copy(mo, f"/usr/share/locale/{lang}/LC_MESSAGES/pam_pwreset.mo")
        templates = os.path.join(top, "conf", "mail")
        for sub in ("", "ja", "de"):  # English, and each language's own (SPEC §13)
            os.makedirs(os.path.join("/etc/pwreset/mail", sub), exist_ok=True)
            for name in os.listdir(os.path.join(templates, sub)):
                if name.endswith(".txt"):
                    dest = os.path.join("/etc/pwreset/mail", sub, name)
                    shutil.copy(os.path.join(templates, sub, name), dest)
                    os.chmod(dest, 0o644)
        self.daemon = None
        self.daemon_log = os.path.join(self.tmp, "daemon.log")
        # our own /dev/log (in the /dev overlay): every helper's syslog lines, both transports
        self.syslog_lines = []
        self._syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.lexists("/dev/log"):  # the host's (or an outer sandbox's): hidden here
            os.unlink("/dev/log")
        self._syslog.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        threading.Thread(target=self._collect, daemon=True).start()

    def overlay(self, name):
        """/name (relative) becomes an overlay: what is written there stays in the sandbox."""
        upper = os.path.join(self.tmp, name.replace("/", "-") + "-upper")
        work = os.path.join(self.tmp, name.replace("/", "-") + "-work")
        os.mkdir(upper)
        os.mkdir(work)
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir=/{name},upperdir={upper},workdir={work}", f"/{name}"])

    def _fresh_root_home(self):
        """Root's home of its own (clients such as ssh write there), without hiding what the
        tests run from it: a checkout or build tree under /root (where root's clones usually
        live) is bind-mounted back into the new /root, which others may then pass through (the
        tests run our programs as other users too)."""
        top = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                            ".."))
        wanted = {top, os.path.realpath(sys.executable)}
        for key, value in os.environ.items():
            if key.startswith("PWR_") and value.startswith("/"):
                for one in value.split():  # PWR_SANITIZER_PRELOAD is a list
                    wanted.add(os.path.realpath(one))
        under = sorted({p if os.path.isdir(p) else os.path.dirname(p) for p in wanted
                        if p.startswith("/root/")})
        if "/root" in under:
            return  # the checkout is /root itself: nothing to hide it with
        keep = []  # the outermost of them, each once
        for p in under:
            if not any(p.startswith(k + "/") for k in keep):
                keep.append(p)
        if keep:
            hold = os.path.join(self.tmp, "host-root")
            os.mkdir(hold, 0o700)
            run(["mount", "--rbind", "/root", hold])
        run(["mount", "-t", "tmpfs", "-o", "mode=711" if keep else "mode=700", "tmpfs",
             "/root"])
        for p in keep:
            os.makedirs(p, mode=0o755, exist_ok=True)
            run(["mount", "--rbind", hold + p[len("/root"):], p])

    def _collect(self):
        while True:
            try:
                data = self._syslog.recv(65536)
            except OSError:
                return
            self.syslog_lines.append(data.decode(errors="replace"))

    def syslog(self, settle=0.2):
        """Every line logged to syslog so far (after letting the last ones arrive)."""
        time.sleep(settle)
        return "\n".join(self.syslog_lines)

    # ---- accounts ----
    def useradd(self, name, *extra):
        run(["useradd", "-M", "-s", "/bin/sh", *extra, name],
            stdout=subprocess.DEVNULL)

    def groupadd(self, name):
        run(["groupadd", name])

    def set_password(self, user, password):
        run(["chpasswd"], input=f"{user}:{password}\n", text=True)

    def drop_shadow_line(self, user):
        with open("/etc/shadow") as f:
            lines = [l for l in f if not l.startswith(user + ":")]
        with open("/etc/shadow", "w") as f:
            f.writelines(lines)

    def write_config(self, text):
        path = "/etc/pwreset/pwreset.conf"
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, 0, 0)
        os.chmod(path, 0o640)

    # ---- the helper ----
    def start_daemon(self, *extra, env=None, verbose=True):
        """The daemon; verbose: its log on stderr too (into self.daemon_log)."""
        log = open(self.daemon_log, "a")
        self.daemon = subprocess.Popen([self.helper, "--daemon"] +
                                       (["--verbose"] if verbose else []) + list(extra),
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       env=env)
        deadline = time.time() + 10
        while not os.path.exists("/run/pwreset/helper.sock"):
            if self.daemon.poll() is not None or time.time() > deadline:
                raise RuntimeError("the daemon did not start: " + self.log())
            time.sleep(0.02)
        return self.daemon

    def stop_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.terminate()
            self.daemon.wait(timeout=10)
        self.daemon = None
        if os.path.exists("/run/pwreset/helper.sock"):
            os.unlink("/run/pwreset/helper.sock")

    def log(self):
        try:
            with open(self.daemon_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def client(self, lines, transport="socket", user=None, env=None, timeout=60):
        """Run tclient with the request lines; returns (exit status, answer lines)."""
        argv = [os.environ["PWR_TCLIENT"]]
        argv += (["--socket", "/run/pwreset/helper.sock"] if transport == "socket"
                 else ["--helper", self.helper])
        if user:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + argv
        p = subprocess.run(argv, input="".join(l + "\n" for l in lines), text=True,
                           capture_output=True, timeout=timeout, env=env)
        return p.returncode, p.stdout.splitlines()

    def mails(self):
        """The queued mails, as dicts, read with the store's own code."""
        out = run([os.environ["PWR_MAILQ_PEEK"], "/var/lib/pwreset"], capture_output=True,
                  text=True).stdout
        mails = []
        for line in out.splitlines():
            fields = dict(f.split("=", 1) for f in line.split()[1:])
            mails.append(fields)
        return mails

    def wait_mails(self, count, timeout=10):
        """The queued mails once there are at least count (a code is queued after the answer
        to its request), or as they are when timeout seconds have passed."""
        deadline = time.time() + timeout
        while len(mails := self.mails()) < count and time.time() < deadline:
            time.sleep(0.05)
        return mails

    def close(self):
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception as e:  # the others still need their turn
                print(f"cleanup: {e}")
        self.stop_daemon()
