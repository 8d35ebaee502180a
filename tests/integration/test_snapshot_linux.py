# test_snapshot_linux.py - (lab) Linux booted through the control API, snapshotted at its
# shell, the VMM killed, restored in a new process: the shell answers, `date` is right.
"""One command in the shared lab batch (snapshot_session.sh). The API client there is
tests/integration/uds_http.c, built static here (L1's busybox has no curl); the direct
tests of the API use curl (test_api.py)."""
import os
import re
import subprocess

import pytest

from harness import Cmd, REPO
from test_linux import INITRD, PREPARE_ERROR, VMLINUZ

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(REPO, "build", "uds-http")
LAB_CPUS = 1
LIMIT = 240


def _client():
    """Build the static client; an error string or None."""
    p = subprocess.run(["cc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", CLIENT,
                        os.path.join(HERE, "uds_http.c")], capture_output=True, text=True)
    return None if p.returncode == 0 else p.stderr.strip()


def _cmd():
    err = PREPARE_ERROR or _client()
    if err:
        return Cmd("echo 'cannot prepare the lab run: %s' >&2; exit 1" % err.replace("'", ""))
    return Cmd('sh "$FILES/snapshot_session.sh" "$FILES" %d' % LIMIT, timeout=LIMIT + 30,
               files=[VMLINUZ, INITRD, CLIENT, os.path.join(HERE, "snapshot_session.sh")])


# Opt-in until its first lab run: MKVM_LAB_SNAPSHOT=1 tests/run-integration -k snapshot_linux
ENABLED = os.environ.get("MKVM_LAB_SNAPSHOT") == "1"
COMMANDS = {"linux-snapshot": _cmd()} if ENABLED else {}


@pytest.mark.needs("linux")
def test_linux_snapshot_restore_shell_answers_and_date_is_right(results):
    if not ENABLED:
        pytest.skip("opt-in: MKVM_LAB_SNAPSHOT=1 (not yet run in the lab)")
    r = results["linux-snapshot"]
    out = r.out.replace("\r\n", "\n")
    for step in ("PUT /boot-source: 204", "PUT /actions: 204", "PATCH /vm: 204",
                 "PUT /snapshot/create: 204"):
        assert "=== api " + step in out, r
    r1 = re.search(r"^R1-date=(\d+)", out, re.M)
    r2 = re.search(r"^R2-date=(\d+)", out, re.M)
    l1 = re.search(r"^=== L1-date=(\d+)", out, re.M)
    l1_after = re.search(r"^=== L1-date-after=(\d+)", out, re.M)
    assert r1 and r2 and l1 and l1_after, r
    r1, r2, l1, l1_after = int(r1[1]), int(r2[1]), int(l1[1]), int(l1_after[1])
    assert r2 - r1 >= 3, (r1, r2, r)            # the clock moved on over the gap
    # and is L1's wall clock while the guest answered (the restored guest can take
    # many seconds to answer in the emulated L1)
    assert l1 - 2 <= r2 <= l1_after + 2, (l1, r2, l1_after, r)
    assert re.search(r"^R2-uname=\S+", out, re.M), r     # the shell answers again
    assert "=== restored rc=0" in out, r
