# SPDX-License-Identifier: BSD-3-Clause
"""The tests from a checkout under /root, where root's clones usually live: the sandbox mounts
a home of its own over /root and must not hide the tree the tests run from. This case shows
the checkout (and its build tree, when it is inside) at /root/pwr-clone/main in a mount namespace of its own and
runs cases there that use every kind of program the suite runs: the helper both ways,
tclient, pwresetctl and the mailer as other users, pamtester with the module, and sshd.
Run: test_checkout.py test_checkout_under_root."""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.realpath(os.path.join(HERE, "..", ".."))
CLONE = "/root/pwr-clone/main"
CASES = [
    ("test_helper.py", "test_unprivileged_peer"),
    ("test_ctl.py", "test_ctl_permissions"),
    ("test_pam.py", "test_reset_flow"),
    ("test_ssh.py", "test_ssh_reset_oneshot"),
    ("test_mail.py", "test_plain_smtp"),
]

# Mounts the tree at CLONE (a fresh /root around it: the host's stays as it is), then runs
# the cases from there with every path the build handed over moved along.
INNER = r"""
set -e
mount -t tmpfs -o mode=700 tmpfs /root
mkdir -p "$CLONE"
mount --bind "$TOP" "$CLONE"
status=0
while [ $# -gt 0 ]; do
	/usr/bin/python3 "$CLONE/tests/integration/$1" "$2" || status=1
	shift 2
done
exit $status
"""


def test_checkout_under_root():
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("SKIP: needs root and unshare(1)")
        sys.exit(77)
    env = dict(os.environ, TOP=TOP, CLONE=CLONE)
    moved = 0
    for key, value in os.environ.items():
        if key.startswith("PWR_") and TOP + "/" in value:
            env[key] = value.replace(TOP + "/", CLONE + "/")
            moved += 1
    build = os.path.realpath(os.environ.get("PWR_BUILD_ROOT", TOP))
    if not moved and (build + "/").startswith("/root/"):
        # the sandbox's /root would hide it: a build tree outside the checkout but under /root
        print(f"SKIP: the build tree {build} is under /root but not in the checkout {TOP}")
        sys.exit(77)
    # a build tree elsewhere (meson setup /tmp/b) stays where it is; the scripts move
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", INNER, "inner"]
    for script, case in CASES:
        argv += [script, case]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    print(p.stdout[-20000:], p.stderr[-5000:])
    passed = [c for _, c in CASES if f"ok - {c}\n" in p.stdout and f"not ok - {c}" not in p.stdout]
    print(f"from {CLONE}: {len(passed)} of {len(CASES)} cases passed")
    return 0 if p.returncode == 0 and len(passed) == len(CASES) else 1


if __name__ == "__main__":
    if sys.argv[1:] != ["test_checkout_under_root"]:
        print(f"no such case: {sys.argv[1:]}")
        sys.exit(2)
    sys.exit(test_checkout_under_root())
