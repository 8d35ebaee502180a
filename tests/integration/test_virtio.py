# test_virtio.py - virtio devices as the user sees them: the VM's device table
# (placement, --stats lines, the limit) directly; in the lab, Linux with
# virtio-rng (/dev/hwrng) and without it (--no-rng).
import os
import re

import pytest

from harness import Cmd
import test_linux as tl

NET_SESSION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "net_session.sh")

LAB_CPUS = 1
SCRIPT_RNG = r"""echo R-hwrng=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
echo R-rng-current=$(cat /sys/class/misc/hw_random/rng_current)
poweroff
"""
SCRIPT_NORNG = r"""echo R-rng-current=$(cat /sys/class/misc/hw_random/rng_current)
poweroff
"""


# The network session: eth0 up, ping the host side, upload then download
# NET_MIB MiB through busybox nc, md5 on both ends (the host's in net_session.sh).
# 64 MiB each way on both datapaths (vhost-net and userspace), as the issue asks:
# the lab moves ~1 MiB/s up and ~5 MiB/s down (TCG under nested KVM, EVENT_IDX and
# MRG_RXBUF). The first L1 stops in lab batches (docs/testing.md, "Two known
# faults") had a guest with a userspace-datapath NIC, so that session moved 16 MiB
# for a while; bench/net-soak.sh then passed 16 uploads of 64 MiB on it in three
# runs, the stops caught later were QEMU/TCG losing L1's timer interrupt (with no
# userspace datapath running), and tools/lab now presses a key at a stop (--stall,
# 30 s), which revived L1. NET_MIB and NETU_MIB override them (NET_LIMIT grows
# with them).
NET_MIB = int(os.environ.get("NET_MIB", "64"))
NETU_MIB = int(os.environ.get("NETU_MIB", "64"))
NET_LIMIT = 120 + 12 * max(NET_MIB, NETU_MIB)
SCRIPT_NET = r"""ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0
echo R-mac=$(cat /sys/class/net/eth0/address)
echo R-features=$(cat /sys/class/net/eth0/device/features)
echo R-ping=$(ping -c 3 -W 5 10.0.2.1 | grep -c 'bytes from')
head -c 1048576 /dev/urandom > /tmp/one
i=0; while [ $i -lt %(mib)d ]; do cat /tmp/one; i=$((i + 1)); done > /tmp/up; rm /tmp/one
echo R-up-md5=$(md5sum < /tmp/up | cut -c1-32)
t0=$(cut -d. -f1 /proc/uptime)
nc 10.0.2.1 5001 < /tmp/up; echo R-up-rc=$?
t1=$(cut -d. -f1 /proc/uptime)
echo R-up-s=$((t1 - t0))
rm /tmp/up; mkfifo /tmp/hold; exec 3<>/tmp/hold
echo R-down-md5=$(nc 10.0.2.1 5002 <&3 | md5sum | cut -c1-32)
t2=$(cut -d. -f1 /proc/uptime)
echo R-down-s=$((t2 - t1))
poweroff
"""


# vsock: the guest reads the helper from a virtio disk (it is not in the
# initramfs) and listens on port 1234; L1's copy connects to CID 42.
VSOCK_HELPER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "build", "vsock-helper")
SCRIPT_VSOCK = r"""cat /dev/vda > /tmp/vs; chmod +x /tmp/vs
/tmp/vs listen 1234 > /tmp/vs.out; echo R-vs-rc=$?
echo R-vs-got=$(cat /tmp/vs.out)
poweroff
"""
VSOCK_SETUP = ("cp \"$FILES/vsock-helper\" /tmp/vs.img; "
               "truncate -s $(( ($(wc -c < /tmp/vs.img) + 511) / 512 * 512 )) /tmp/vs.img\n"
               "(\"$FILES/vsock-helper\" connect 42 1234 hello-from-host > /tmp/vs-host.out; "
               "echo \"=== vsock host rc=$?\" > /tmp/vs-host.rc) &\n")
VSOCK_CHECK = ("wait; cat /tmp/vs-host.rc; echo \"=== vsock host-got=$(cat /tmp/vs-host.out)\"\n")


def _net_session(name, script_var, mib, extra):
    return ("printf '%%s' \"$%s\" > \"$FILES/%s.txt\"\n"
            "sh \"$FILES/net_session.sh\" %s %d \"$FILES/%s.txt\" %d -k \"$FILES/vmlinuz\" "
            "-i \"$FILES/initrd.cpio.gz\" -p '%s' -m 512M --net tap=mkt0%s --stats\n"
            % (script_var, name, name, mib, name, NET_LIMIT, tl.CMDLINE_ONE, extra))


def _linux_cmd():
    if tl.PREPARE_ERROR:
        return Cmd("echo 'tools/mkinitramfs failed' >&2; exit 1")
    body = ("S_RNG='%s'\nS_NORNG='%s'\nS_NET='%s'\nS_NETU='%s'\nS_VSOCK='%s'\n" % tuple(
                s.replace("'", "'\\''") for s in (SCRIPT_RNG, SCRIPT_NORNG,
                                                   SCRIPT_NET % {"mib": NET_MIB},
                                                   SCRIPT_NET % {"mib": NETU_MIB},
                                                   SCRIPT_VSOCK))
            + "echo \"=== L1 devices: $(ls /dev/net/tun /dev/vhost-net /dev/vhost-vsock | tr '\\n' ' ')\"\n"
            + tl._session("rng", "S_RNG", 1, "256M", tl.CMDLINE_ONE, "--stats")
            + tl._session("norng", "S_NORNG", 1, "256M", tl.CMDLINE_ONE, "--no-rng --stats")
            + _net_session("net", "S_NET", NET_MIB, "")
            + _net_session("netu", "S_NETU", NETU_MIB, ",vhost=off")
            + VSOCK_SETUP
            + tl._session("vsock", "S_VSOCK", 1, "256M", tl.CMDLINE_ONE,
                          "--disk /tmp/vs.img --vsock 42 --stats")
            + VSOCK_CHECK)
    return Cmd(body, timeout=3 * tl.SESSION_LIMIT + 2 * NET_LIMIT + 60,
               files=[tl.VMLINUZ, tl.INITRD, tl.SESSION, NET_SESSION, VSOCK_HELPER])

NINE = "for i in 1 2 3 4 5 6 7 8 9; do truncate -s 1M $FILES/d$i.img; done; "
COMMANDS = {
    # two disks: the OS uses the first; --stats lists both slots from the table
    "two-disks": Cmd("cp os-disk.img $FILES/d.img && truncate -s 1M $FILES/e.img && "
                     "./mini-kvm -k os.elf --disk $FILES/d.img --disk $FILES/e.img --stats",
                     input="ls\nshutdown\n", timeout=60),
    "nine-disks": Cmd(NINE + "./mini-kvm -k os.elf " +
                      " ".join("--disk $FILES/d%d.img" % i for i in range(1, 10)), timeout=30),
    "linux": _linux_cmd(),
    "vsock-missing": Cmd("./mini-kvm -k os.elf --vsock 3", timeout=30),
}


@pytest.fixture
def linux(results):
    r = results["linux"]
    sessions = {}
    for name in ("rng", "norng", "net", "netu", "vsock"):
        if "=== %s rc=" % name in r.out:
            sessions[name] = tl.Session(r.out, name)
        else:
            sessions[name] = None
    return Sessions(sessions, r)


class Sessions(dict):
    """name -> tl.Session; a missing one fails the test that asks for it."""
    def __init__(self, d, result):
        super().__init__(d)
        self.result = result

    def __getitem__(self, name):
        s = dict.__getitem__(self, name)
        assert s is not None, "no complete '%s' session:\n%r" % (name, self.result)
        return s


@pytest.mark.needs("linux")
def test_guest_reads_hwrng_from_virtio_rng(linux):
    s = linux["rng"]
    assert s.rc == 0, s
    assert re.fullmatch(r"[0-9a-f]{128}", s["hwrng"]), s        # 64 bytes came back
    assert s["hwrng"] != "00" * 64, s
    assert s["rng-current"].startswith("virtio_rng"), s
    assert ("[vmlinuz] virtio-mmio 0xd0000000 gsi 16: virtio-rng getrandom "
            "(ioeventfd, irqfd)\n") in s.err, s


@pytest.mark.needs("linux")
def test_no_rng_leaves_the_guest_without_one(linux):
    s = linux["norng"]
    assert s.rc == 0, s
    assert not s["rng-current"].startswith("virtio"), s
    assert "virtio-rng" not in s.err, s


def test_stats_lists_the_device_table(results):
    r = results["two-disks"]
    assert r.status == 0, r
    assert "virtio-blk: 2048 sectors" in r.out          # the first disk, found via the boot info
    lines = re.findall(r"^\[os\] virtio-mmio (0x[0-9a-f]+) gsi (\d+): (\S+) (\S+) \((.*)\)$",
                       r.err, re.M)
    assert [(a, g, n) for a, g, n, _, _ in lines] == [
        ("0xd0000000", "16", "virtio-blk"), ("0xd0001000", "17", "virtio-blk")], r
    assert lines[0][3].endswith("/d.img") and lines[1][3].endswith("/e.img"), r
    # notifications by ioeventfd, interrupts by irqfd (this host's KVM has both)
    assert lines[0][4] == "ioeventfd, irqfd", r


def test_more_devices_than_slots_is_one_line(results):
    r = results["nine-disks"]
    assert r.status == 2, r
    assert re.fullmatch(r"mini-kvm: --disk '\S+/d9.img': too many virtio devices "
                        r"\(at most 8 in all\)\n", r.err), r


def _check_net(name, datapath, mib, linux, results):
    s = linux[name]
    out = results["linux"].out
    assert s.rc == 0, s
    mac = re.search(r"virtio-net mkt0 ([0-9a-f:]{17}), %s datapath" % datapath, s.err)
    assert mac and s["mac"] == mac[1], s                        # the default MAC, in config
    assert s["ping"] == "3", s
    # what Linux negotiated (one character per bit, bit 0 first): MRG_RXBUF,
    # INDIRECT_DESC, EVENT_IDX, VERSION_1 (docs/devices.md)
    assert [s["features"][b] for b in (15, 28, 29, 32)] == ["1"] * 4, s
    assert s["up-rc"] == "0", s
    host_up = re.search(r"=== %s host-up-md5=([0-9a-f]{32})" % name, out)
    host_down = re.search(r"=== %s host-down-md5=([0-9a-f]{32})" % name, out)
    assert host_up and host_up[1] == s["up-md5"], s            # guest -> host, byte-exact
    assert host_down and host_down[1] == s["down-md5"], s      # host -> guest, byte-exact
    print("%s: %d MiB up in %s s, down in %s s (lab)" % (datapath, mib, s["up-s"],
                                                         s["down-s"]))


@pytest.mark.needs("linux")
def test_lab_has_tun_vhost_net_and_vhost_vsock(results):
    assert ("=== L1 devices: /dev/net/tun /dev/vhost-net /dev/vhost-vsock"
            in results["linux"].out), results["linux"]


@pytest.mark.needs("linux")
def test_guest_network_on_a_tap_vhost_net(linux, results):
    _check_net("net", "vhost-net", NET_MIB, linux, results)


@pytest.mark.needs("linux")
def test_guest_network_on_a_tap_userspace(linux, results):
    _check_net("netu", "userspace", NETU_MIB, linux, results)


@pytest.mark.needs("linux")
def test_host_talks_to_a_guest_vsock_listener(linux, results):
    s = linux["vsock"]
    out = results["linux"].out
    assert s.rc == 0, s
    assert s["vs-rc"] == "0" and s["vs-got"] == "hello-from-host", s
    assert "=== vsock host rc=0" in out and "=== vsock host-got=hello-from-guest" in out, s
    assert "virtio-vsock cid 42, vhost-vsock" in s.err, s


def test_vsock_without_vhost_vsock_is_one_line(results):
    r = results["vsock-missing"]
    if r.where == "direct" and os.path.exists("/dev/vhost-vsock"):
        pytest.skip("this host has /dev/vhost-vsock")
    assert r.status == 1, r
    assert r.err == ("mini-kvm: vsock cid 3: /dev/vhost-vsock does not exist (load the "
                     "vhost_vsock module: modprobe vhost_vsock)\n"), r
