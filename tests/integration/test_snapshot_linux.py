# test_snapshot_linux.py - (lab) Linux booted through the control API, snapshotted at its
# shell, the VMM killed, restored in a new process: the shell answers, `date` is right;
# then SendCtrlAltDel reboots it and mini-kvm exits 0.
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


def _cmd(extra=""):
    err = PREPARE_ERROR or _client()
    if err:
        return Cmd("echo 'cannot prepare the lab run: %s' >&2; exit 1" % err.replace("'", ""))
    return Cmd('sh "$FILES/snapshot_session.sh" "$FILES" %d %s' % (LIMIT, extra),
               timeout=LIMIT + 30,
               files=[VMLINUZ, INITRD, CLIENT, os.path.join(HERE, "snapshot_session.sh")])


# The NIC run is opt-in (MKVM_LAB_NET_SNAPSHOT=1): in its first batch L1 stopped for
# good just as it began (no output until the 780 s bound; the rerun in a second L1 boot
# passed every step), the way L1 has stopped before during userspace virtio-net traffic
# (docs/testing.md). Until that is understood, make check does not risk it.
NET = os.environ.get("MKVM_LAB_NET_SNAPSHOT") == "1"
COMMANDS = {"linux-snapshot": _cmd()}
if NET:
    COMMANDS["linux-snapshot-net"] = _cmd("net")
DATE_SLACK = 2      # seconds: `date +%s` in L1 and in the guest are read a moment apart


def _out(r):
    return r.out.replace("\r\n", "\n")


def _uptimes(out, what):
    m = re.search(r"^=== %s: uptime ([\d.]+) -> ([\d.]+)" % re.escape(what), out, re.M)
    assert m, out
    return float(m[1]), float(m[2])


@pytest.mark.needs("linux")
def test_linux_snapshot_restore_shell_answers_and_date_is_right(results):
    r = results["linux-snapshot"]
    out = _out(r)
    for step in ("PUT /boot-source: 204", "PUT /actions: 204", "PATCH /vm: 204",
                 "PUT /snapshot/create: 204", "PUT /snapshot/load: 204"):
        assert "=== api " + step in out, r
    r1 = re.search(r"^R1-date=(\d+)", out, re.M)
    r2 = re.search(r"^R2-date=(\d+)", out, re.M)
    l1 = re.search(r"^=== L1-date=(\d+)", out, re.M)
    l1_after = re.search(r"^=== L1-date-after=(\d+)", out, re.M)
    assert r1 and r2 and l1 and l1_after, r
    r1, r2, l1, l1_after = int(r1[1]), int(r2[1]), int(l1[1]), int(l1_after[1])
    assert r2 - r1 >= 3, (r1, r2, r)            # the clock moved on over the 3 s gap
    # and is L1's wall clock while the guest answered (L1's date read just before the
    # command was typed and just after the answer came; in the emulated L1 the restored
    # guest can take many seconds to answer)
    assert l1 - DATE_SLACK <= r2 <= l1_after + DATE_SLACK, (l1, r2, l1_after, r)
    assert re.search(r"^R2-uname=\S+", out, re.M), r     # the shell answers again


@pytest.mark.needs("linux")
def test_send_ctrl_alt_del_reboots_linux_and_mini_kvm_exits_0(results):
    """Firecracker's SendCtrlAltDel: the i8042 types the keys with IRQ 1, Linux's atkbd
    (bound through the DSDT's PNP0303) passes them to the VT keyboard, the kernel
    restarts through the ACPI reset register, and mini-kvm exits 0 as on any reset."""
    r = results["linux-snapshot"]
    out = _out(r)
    assert out.count("=== api PUT /actions: 204") == 2, r     # InstanceStart, then this
    assert "=== restored rc=0" in out and "no exit 60 s" not in out, r
    assert re.search(r"^mini-kvm: \S+: guest requested a reboot \(", out, re.M), r
    t4, t5 = _uptimes(out, "SendCtrlAltDel to exit")
    assert t5 - t4 < 60, (t4, t5)


@pytest.mark.needs("linux")
def test_linux_with_a_nic_snapshot_restore_and_the_network_still_works(results):
    """A network interface from the API (the userspace datapath) on a TAP: the guest
    pings the host before the snapshot and, through the re-opened TAP, after the
    restore into a new process."""
    if not NET:
        pytest.skip("opt-in: MKVM_LAB_NET_SNAPSHOT=1 (L1 stopped once at its start)")
    r = results["linux-snapshot-net"]
    out = _out(r)
    assert "=== api PUT /network-interfaces/eth0: 204" in out, r
    assert "=== api PUT /snapshot/create: 204" in out, r
    assert re.search(r"^R1-ping=ok", out, re.M), r
    assert "=== api PUT /snapshot/load: 204" in out, r
    assert re.search(r"^R2-ping=ok", out, re.M), r
    assert re.search(r"^R2-uname=\S+", out, re.M), r
