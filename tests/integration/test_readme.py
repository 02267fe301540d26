# SPDX-License-Identifier: BSD-3-Clause
"""The README's commands, as an administrator copies them: every ```sh block, in order, run in
a fresh sandbox from a copy of the source tree, then a reset at the ssh prompt with the code
the README's `pwresetctl reset --print` handed over. Run: test_readme.py test_readme.

The sandbox differs from a host in three ways, each stated where it is handled: /usr and /home
are overlaid too (meson install and useradd -m write there); apt-get only simulates (the
packages are there, and nothing may be installed outside the sandbox); systemd is not running,
so a stand-in systemctl starts the socket unit with systemd-socket-activate, as systemd would,
and stops it again."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtpserver  # noqa: E402
import sshserver  # noqa: E402
import harness  # noqa: E402
from harness import check, eq  # noqa: E402

S = None
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

SYSTEMCTL = r"""#!/bin/sh
# systemctl in the sandbox, where systemd is not running: what the README asks of it
echo "(sandbox) systemctl $*" >&2
pidfile=/run/pwreset-sandbox-activate.pid
case "$*" in
daemon-reload | "reload ssh") ;;
"enable --now pwreset-helper.socket")
	exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/pwreset-helper.service)
	mkdir -p /run/pwreset
	# shellcheck disable=SC2086
	systemd-socket-activate --seqpacket -l /run/pwreset/helper.sock $exec_start \
		>>/run/pwreset-sandbox-daemon.log 2>&1 &
	echo $! >$pidfile
	i=0
	while [ ! -S /run/pwreset/helper.sock ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	;;
"try-restart pwreset-helper.service")
	# systemd-socket-activate becomes the daemon at the first connection: until then there
	# is nothing to restart; after, the daemon is stopped and the socket listens again
	if [ -f $pidfile ] && readlink "/proc/$(cat $pidfile)/exe" | grep -q pwreset-helper; then
		kill "$(cat $pidfile)" 2>/dev/null
		rm -f $pidfile /run/pwreset/helper.sock
		exec "$0" enable --now pwreset-helper.socket
	fi
	;;
"disable --now pwreset-helper.socket pwreset-helper.service")
	[ -f $pidfile ] && kill "$(cat $pidfile)" 2>/dev/null
	rm -f $pidfile /run/pwreset/helper.sock
	;;
*)
	echo "(sandbox) systemctl: not emulated: $*" >&2
	exit 1
	;;
esac
"""


def blocks():
    """The README's ```sh blocks, in order."""
    with open(os.path.join(TOP, "README.md")) as f:
        return re.findall(r"^```sh\n(.*?)^```", f.read(), re.M | re.S)


def prepare():
    """The parts of a host the sandbox lacks, and a copy of the source tree to work in."""
    for d, opts in (("/usr", None), ("/home", "mode=755")):
        if opts:
            subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", d], check=True)
        else:
            upper, work = (os.path.join(S.tmp, "usr-" + x) for x in ("upper", "work"))
            os.makedirs(upper)
            os.makedirs(work)
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir=/usr,upperdir={upper},workdir={work}", "/usr"],
                           check=True)
    os.makedirs("/etc/ssh/sshd_config.d", exist_ok=True)  # a host with openssh-server
    shim = os.path.join(S.tmp, "shim")
    os.makedirs(shim)
    with open(os.path.join(shim, "systemctl"), "w") as f:
        f.write(SYSTEMCTL)
    os.chmod(os.path.join(shim, "systemctl"), 0o755)
    src = os.path.join(S.tmp, "pam_pwreset")
    shutil.copytree(TOP, src, ignore=shutil.ignore_patterns("build", "build-*", ".git"))
    return src, shim


def run_block(text, cwd, shim):
    """One block as a shell script (stopping at the first failing command)."""
    # apt-get: only what it would do, which must be nothing (everything is installed)
    text = re.sub(r"^apt-get install ", "apt-get install -s ", text, flags=re.M)
    env = {"PATH": f"{shim}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
           "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"}
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=900)
    print(f"$ {text.strip()}\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    if p.returncode != 0:
        if os.path.exists("/run/pwreset-sandbox-daemon.log"):
            print("--- the socket-activated daemon's output ---")
            print(open("/run/pwreset-sandbox-daemon.log").read()[-3000:])
        print("--- syslog ---\n" + S.syslog()[-3000:])
    eq(p.returncode, 0, f"the block\n{text}\nfailed")
    if "apt-get install -s" in text:
        check(re.search(r"\b0 newly installed", p.stdout),
              "the packages the README names are all installed (CI installs them)")
    return p.stdout


def test_readme():
    smtp = smtpserver.Server(port=25)  # the README's smtp_url
    src, shim = prepare()
    found = blocks()
    check(len(found) >= 6, f"the README's command blocks: {len(found)}")
    outputs = [run_block(b, src, shim) for b in found[:-1]]  # all but Uninstall
    admin = outputs[-1]
    check(re.search(r"^alice\teligible$", admin, re.M), admin)
    code = re.search(r"^code: +([0-9A-Z]{5}-[0-9A-Z]{5})$", admin, re.M).group(1)
    check("daemon running since" in admin, "status: the socket-activated daemon answered")
    # the README's setup, at an ssh prompt: alice types the code she was handed
    sshd = sshserver.Sshd(S, kbdint=None, pam_auth="@include common-auth\n")
    out, rc = harness.ssh_with_code(sshd, "alice", code, "anything")
    check("Password changed." in out, out)
    out, rc = harness.ssh_login(sshd, "alice", harness.NEW)
    check("LOGGED-IN as alice" in out, out)
    eq(rc, 0, out)
    sshd.stop()
    # and the Uninstall block takes it out again
    run_block(found[-1], src, shim)
    with open("/etc/pam.d/common-auth") as f:
        check("pam_pwreset" not in f.read(), "pam-auth-update --disable")
    check(not os.path.exists("/usr/sbin/pwreset-helper"), "uninstalled")
    smtp.stop()


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
