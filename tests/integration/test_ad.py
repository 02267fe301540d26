# SPDX-License-Identifier: BSD-3-Clause
"""Active Directory (SPEC §12.1) with a real Samba AD DC in the sandbox (adserver.py): the
domain, its delegated service account, and pwreset-directory speaking AD. Run one case:
test_ad.py CASE."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adserver as ad  # noqa: E402
import harness  # noqa: E402
from harness import check, eq  # noqa: E402

S = None
OLD = "Alice-Old-Pass1"
ALICE = f"CN=alice,{ad.PEOPLE}"


def people():
    return (ad.person("alice", 20001, "alice@example.test", OLD) + "\n" +
            ad.person("bob", 20002, None, "Bob-Old-Pass1") + "\n")


def test_ad_delegation():
    """The service account binds, resets a password in its OU (unicodePwd over LDAPS) and
    writes lockoutTime there; it cannot reset Administrator's, nor write any other attribute;
    a simple bind in the clear is refused."""
    dc = ad.DC(S, people())
    eq(dc.binds(ALICE, OLD)[0], True, "alice as provisioned")
    eq(dc.binds(ad.SERVICE_UPN, ad.SERVICE_PW)[0], True, "the service account")

    def modify(dn, attr, value, b64=False):
        sep = ":: " if b64 else ": "
        return dc.ldap("ldapmodify", "-x", "-D", ad.SERVICE_UPN, "-w", ad.SERVICE_PW,
                       input=f"dn: {dn}\nchangetype: modify\nreplace: {attr}\n{attr}{sep}"
                             f"{value}\n-\n", check=False)

    p = modify(ALICE, "unicodePwd", ad.quoted_password("Alice-New-Pass2"), True)
    eq(p.returncode, 0, p.stderr)
    eq((dc.binds(ALICE, "Alice-New-Pass2")[0], dc.binds(ALICE, OLD)[0]), (True, False))
    eq(modify(ALICE, "lockoutTime", "0").returncode, 0)
    p = modify(f"CN=Administrator,CN=Users,{ad.BASE}", "unicodePwd",
               ad.quoted_password("X-Pass-98765"), True)
    check(p.returncode == 50, f"outside its OU: {p.returncode} {p.stderr}")
    p = modify(ALICE, "mail", "x@example.test")
    check(p.returncode == 50, f"an attribute not delegated: {p.returncode} {p.stderr}")
    p = dc.ldap("ldapsearch", "-x", "-D", ad.SERVICE_UPN, "-w", ad.SERVICE_PW, "-b", "",
                "-s", "base", "1.1", url="ldap://127.0.0.1", check=False)
    check(p.returncode == 8 and "Strong(er) authentication required" in p.stderr, p.stderr)


if __name__ == "__main__":
    sys.exit(harness.run_case(globals()))
