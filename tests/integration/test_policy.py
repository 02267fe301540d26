# SPDX-License-Identifier: BSD-3-Clause
"""pwresetctl policy (issue 20): the policy keys shown, and one changed in the configuration
file with every other line and comment kept byte for byte, checked like --check-config first
(a bad value leaves the file as it was), owner and mode kept; the daemon uses the new file
without a restart: at once after a change made through it, and for a file changed otherwise
at the next request or on SIGHUP; a broken file is never put in use. Run one case:
test_policy.py CASE."""

import difflib
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, eq  # noqa: E402

S = None
CONF = "/etc/pwreset/pwreset.conf"
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def ctl(*args, user=None):
    argv = [os.environ["PWR_CTL"], *args]
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def world():
    """The shipped example file (every key commented, with its comments), then the test's own
    settings: the file an administrator starts from."""
    with open(os.path.join(TOP, "conf", "pwreset.conf")) as f:
        example = f.read()
    harness.setup_world(example + "\n# this site\n" + harness.BASE_CONFIG + "admin_group = pwadmin\n")
    os.chmod(CONF, 0o640)
    return open(CONF, "rb").read()


def offer(user="alice"):
    rc, out = S.client([f"offer {user}"])
    return out[0]


def test_policy_set_keeps_the_file():
    before = world()
    st = os.stat(CONF)
    rc, out, err = ctl("policy", "set", "self_reset", "no")
    eq((rc, out, err), (0, "", ""), "quiet on success")
    after = open(CONF, "rb").read()
    diff = [line for line in difflib.ndiff(before.decode().splitlines(True),
                                           after.decode().splitlines(True))
            if line[:1] in "+-"]
    eq(diff, ["+ self_reset = no\n"], "one line added, nothing else changed")
    lines = after.decode().splitlines()
    eq(lines[lines.index("self_reset = no") - 1], "# self_reset = yes",
       "right after its commented example")
    st2 = os.stat(CONF)
    eq((st2.st_uid, st2.st_gid, st2.st_mode & 0o7777), (st.st_uid, st.st_gid, 0o640))
    check(st2.st_ino != st.st_ino, "a new file, renamed over the old one")
    # the daemon uses it at once
    eq(offer(), "offer status=0 enabled=0 ttl=600 help=Self-service password reset is not "
       "available. Please contact your system administrator.")
    rc, out, err = ctl("policy", "set", "help_message", "Call the desk: 4242, or #ops.")
    eq(rc, 0, err)
    eq(offer(), "offer status=0 enabled=0 ttl=600 help=Call the desk: 4242, or #ops.")
    # a second change of the same key replaces its line where it is
    ctl("policy", "set", "self_reset", "yes")
    text = open(CONF).read()
    eq(text.count("self_reset = "), 2, "the example and the one setting")
    check("\nself_reset = yes\n" in text, text)
    check(offer().startswith("offer status=0 enabled=1"), "on again")
    rc, out, err = ctl("--json", "policy")
    js = json.loads(out)
    eq((js["self_reset"], js["help_message"], js["admin_group"], js["exclude_users"],
        js["file"], js["problem"]),
       (True, "Call the desk: 4242, or #ops.", "pwadmin", ["root", "excl"], CONF, None))
    rc, out, err = ctl("policy")
    check("self_reset = yes\nhelp_message = Call the desk: 4242, or #ops.\n" in out, out)
    check("policy-set" in S.log(), S.log()[-1000:])


def test_policy_set_refusals():
    world()
    good = open(CONF, "rb").read()
    rc, out, err = ctl("policy", "set", "min_uid", "lots")
    eq(rc, 1)
    check(err.startswith(f"pwresetctl: policy set: {CONF}:") and
          err.endswith(": min_uid: 'lots' is not a whole number\n"), err)
    rc, out, err = ctl("policy", "set", "help_message", "two\nlines")
    eq(rc, 1, err)
    rc, out, err = ctl("policy", "set", "smtp_url", "smtp://elsewhere:25")
    eq((rc, err), (1, "pwresetctl: policy set: smtp_url is not a policy key\n"))
    # not root: an administrator of admin_group sees the policy but may not change it
    S.useradd("helena", "-G", "pwadmin")
    rc, out, err = ctl("policy", user="helena")
    eq(rc, 0, err)
    rc, out, err = ctl("policy", "set", "self_reset", "no", user="helena")
    eq((rc, err), (3, "pwresetctl: policy set: only root changes the policy\n"))
    rc, out, err = ctl("policy", user="alice")
    eq(rc, 3, err)
    eq(open(CONF, "rb").read(), good, "the file as it was")
    check(offer().startswith("offer status=0 enabled=1"), "still on")


def read_again(count, what):
    """The daemon logged "read again" count times within 2 s (the issue's bound)."""
    deadline = time.time() + 2
    while S.log().count("read again") < count and time.time() < deadline:
        time.sleep(0.05)
    eq(S.log().count("read again"), count, what)


def test_policy_file_changed_otherwise():
    """An administrator edits the file: the daemon reads it within 2 s without being asked
    anything (its watch on /etc/pwreset), at the next request at the latest, and on SIGHUP; a
    broken file is not put in use (the log and `policy` say why)."""
    world()
    with open(CONF, "a") as f:
        f.write("self_reset = no\n")
    read_again(1, "read again without a request")
    with open("/etc/pwreset/mail/code.txt", "a") as f:  # another file of the folder
        f.write("\n")
    time.sleep(0.5)
    eq(S.log().count("read again"), 1, "only the configuration's change counts")
    eq(offer().split(" help=")[0], "offer status=0 enabled=0 ttl=600", "in use")
    text = open(CONF).read().replace("self_reset = no\n", "self_reset = yes\n")
    with open(CONF, "w") as f:
        f.write(text)
    read_again(2, "the edit")
    S.daemon.send_signal(signal.SIGHUP)
    read_again(3, "read again on SIGHUP, within 2 s")
    check(offer().startswith("offer status=0 enabled=1"), "on again")
    with open(CONF, "a") as f:
        f.write("self_reset = no\nself_reset = maybe\n")
    check(offer().startswith("offer status=0 enabled=1"), "a broken file is not used")
    check("has errors; the configuration in use stays" in S.log(), S.log()[-600:])
    rc, out, err = ctl("--json", "policy")
    check("set more than once" in json.loads(out)["problem"], out)
    rc, out, err = ctl("policy")
    check(err.startswith(f"pwresetctl: {CONF} is not in use: "), err)


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
