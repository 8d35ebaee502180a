# test_linux.py - unmodified Linux (Debian's cloud kernel + our initramfs) to a shell:
# uname, nproc, cmdline, clock, ACPI poweroff and reboot; bad kernels/initrds directly.
"""The Linux sessions need a KVM that runs Linux ("linux" capability), so on this
project's hosts they run in the lab: ONE command in the shared L1 boot runs three
guests one after the other (-c 2 ending in `poweroff`, -c 1 with a virtio disk
ending in `reboot`, -c 8 ending in `poweroff`), each driven through its serial console by linux_session.sh. The bad-input tests
run directly: mini-kvm validates kernel and initrd before any guest runs."""
import os
import re
import subprocess
import time

import pytest

import harness
from harness import Cmd, REPO

HERE = os.path.dirname(os.path.abspath(__file__))
LINUX = os.path.join(REPO, ".cache", "linux")
VMLINUZ, INITRD = os.path.join(LINUX, "vmlinuz"), os.path.join(LINUX, "initrd.cpio.gz")
MKINITRAMFS = os.path.join(REPO, "tools", "mkinitramfs")
SESSION = os.path.join(HERE, "linux_session.sh")
MARKER = "mini-kvm-guest: /init reached"
# L1 gets ONE vCPU: with two, QEMU/TCG's SVM emulation sometimes corrupts memory when
# an L2 has more vCPUs than L1 (-c 8: L2 triple faults, even under QEMU microvm, and
# once the L1 kernel itself died with "corrupted stack end"; docs/testing.md).
LAB_CPUS = 1
SESSION_LIMIT = 150             # seconds per guest, boot included
T_IMPORT = time.time()

# the default command line of tools/run-linux and bench/linux-boot.sh in the lab: with 2
# or more vCPUs (more than L1's one CPU) plus nohz_full=1-N (kernel housekeeping on
# vCPU 0, docs/linux-boot.md)
CMDLINE_TWO = "console=ttyS0 quiet nohz_full=1-N mkvm.test=two-cpus"
CMDLINE_ONE = "console=ttyS0 quiet"
CMDLINE_EIGHT = "console=ttyS0 quiet nohz_full=1-N"

# stty -echo first: the console echoes type-ahead as it arrives, which glued
# script text onto R- lines ("R-uname=6.1.0-57-cloud-amd64f2)"); without echo
# the shell's prompt comes right before each R- line, so the parser allows it.
SCRIPT_TWO = r"""stty -echo
echo R-uname=$(uname -r)
echo R-version=$(uname -v)
echo R-nproc=$(nproc)
echo R-online=$(cat /sys/devices/system/cpu/online)
echo R-nohz-full=$(cat /sys/devices/system/cpu/nohz_full)
echo R-cmdline=$(cat /proc/cmdline)
echo R-date=$(date +%s)
echo R-acpi-errors=$(dmesg | grep -ciE 'acpi.*(error|warning)|firmware bug')
echo R-s5=$(dmesg | grep -c 'ACPI: PM: (supports S0 S5)')
echo R-virtio-mmio=$(grep -c '^virtio_mmio ' /proc/modules)
echo R-model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)
echo R-siblings=$(grep -m1 '^siblings' /proc/cpuinfo | cut -d: -f2)
echo R-cores=$(grep -m1 '^cpu cores' /proc/cpuinfo | cut -d: -f2)
echo R-packages=$(grep '^physical id' /proc/cpuinfo | sort -u | wc -l)
echo R-flags=$(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)
echo R-pnp=$(dmesg | grep -o 'pnp: PnP ACPI: found [0-9]* devices')
echo R-kbd=$(grep -c '^N: Name="AT Translated Set 2 keyboard"' /proc/bus/input/devices)
echo R-clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
BOOTLOG
poweroff
"""
# The clean-boot-log check (test_boot_log_is_clean): every kernel log line of these
# kinds, prefixed so that the echo of the typed command cannot match.
BAD_LINES = ("WARNING:", "BUG:", "ACPI Error", "ACPI BIOS Error", "unchecked MSR access",
             "Firmware Bug", "PCI: Fatal")
BOOTLOG_CMD = ("dmesg | grep -e '%s' | sed 's/^/BOOTLOG-BAD /'"
               % "' -e '".join(BAD_LINES))
SCRIPT_TWO = SCRIPT_TWO.replace("BOOTLOG", BOOTLOG_CMD)
ALLOW = os.path.join(HERE, "bootlog-allow.txt")
SCRIPT_ONE = r"""echo R-nproc=$(nproc)
echo R-vda-size=$(cat /sys/block/vda/size)
echo R-vda-s0=$(head -c 21 /dev/vda)
echo R-vda-s8=$(dd if=/dev/vda bs=512 skip=8 count=1 2>/dev/null | head -c 8)
echo WRITTEN-BY-LINUX | dd of=/dev/vda bs=512 seek=100 conv=sync,fsync 2>/dev/null
reboot
"""
SCRIPT_EIGHT = r"""stty -echo
echo R-nproc=$(nproc)
echo R-nohz-full=$(cat /sys/devices/system/cpu/nohz_full)
echo R-packages=$(grep '^physical id' /proc/cpuinfo | sort -u | wc -l)
echo R-cores=$(grep -m1 '^cpu cores' /proc/cpuinfo | cut -d: -f2)
BOOTLOG
poweroff
"""
SCRIPT_EIGHT = SCRIPT_EIGHT.replace("BOOTLOG", BOOTLOG_CMD)
# The -c 1 guest gets a 1 MiB virtio-blk disk (found through the ACPI DSDT):
# known bytes at sectors 0 and 8 to read, sector 100 to write (read back in L1).
DISK_SETUP = ("dd if=/dev/zero of=/tmp/disk.img bs=512 count=2048 2>/dev/null\n"
              "printf MINI-KVM-DISK-SECTOR0 | dd of=/tmp/disk.img conv=notrunc 2>/dev/null\n"
              "printf SECTOR-8 | dd of=/tmp/disk.img bs=512 seek=8 conv=notrunc 2>/dev/null\n")
DISK_CHECK = ("echo \"=== disk sector 100: $(dd if=/tmp/disk.img bs=512 skip=100 count=1 "
              "2>/dev/null | head -c 16)\"\n")


def _prepare():
    """Build .cache/linux (kernel download once, initramfs when missing or stale).
    Returns an error string, or None."""
    try:
        stale = not os.path.exists(VMLINUZ) or not os.path.exists(INITRD) or \
            os.path.getmtime(INITRD) < os.path.getmtime(MKINITRAMFS)
        if not stale:
            return None
        p = subprocess.run([MKINITRAMFS, "-q"], capture_output=True, text=True, timeout=600)
        return None if p.returncode == 0 else (p.stderr.strip() or "exit %d" % p.returncode)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)


PREPARE_ERROR = _prepare()


def _session(name, script_var, cpus, mem, cmdline, extra=""):
    return ("printf '%%s' \"$%s\" > \"$FILES/%s.txt\"\n"
            "sh \"$FILES/linux_session.sh\" %s \"$FILES/%s.txt\" %d -k \"$FILES/vmlinuz\" "
            "-i \"$FILES/initrd.cpio.gz\" -p '%s' -m %s -c %d %s\n"
            % (script_var, name, name, name, SESSION_LIMIT, cmdline, mem, cpus, extra))


def _linux_cmd():
    if PREPARE_ERROR:
        return Cmd("echo 'tools/mkinitramfs failed: %s' >&2; exit 1"
                   % PREPARE_ERROR.replace("'", ""))
    body = ("S_TWO='%s'\nS_ONE='%s'\nS_EIGHT='%s'\n" % tuple(
                s.replace("'", "'\\''") for s in (SCRIPT_TWO, SCRIPT_ONE, SCRIPT_EIGHT))
            + _session("two", "S_TWO", 2, "512M", CMDLINE_TWO)
            + DISK_SETUP
            + _session("one", "S_ONE", 1, "256M", CMDLINE_ONE, "--disk /tmp/disk.img")
            + DISK_CHECK
            + _session("eight", "S_EIGHT", 8, "256M", CMDLINE_EIGHT))
    return Cmd(body, timeout=3 * SESSION_LIMIT + 30, files=[VMLINUZ, INITRD, SESSION])


COMMANDS = {"linux": _linux_cmd()}


class Session:
    """One guest's part of the command output."""
    def __init__(self, out, name):
        m = re.search(r"=== %s prompt: .*?L1-date=(\d+)\n=== %s stdout\n(.*)\n=== %s stderr\n"
                      r"(.*?)=== %s rc=(\d+)" % ((name,) * 4), out, re.S)
        assert m, "no complete '%s' session in the output" % name
        self.l1_date, self.console, self.err, self.rc = int(m[1]), m[2], m[3], int(m[4])
        self.console = self.console.replace("\r\n", "\n")
        self.vals = {k: v.strip() for k, v in
                     re.findall(r"^(?:[^#\n]*# )?R-([a-z0-9-]+)=(.*?)\s*$",
                                self.console, re.M)}

    def __str__(self):
        return "console (end):\n%s\nmini-kvm stderr:\n%s\nstatus %d" % (
            self.console[-3000:], self.err[-2000:], self.rc)

    def __getitem__(self, key):
        assert key in self.vals, "the guest printed no R-%s= line:\n%s" % (key, self)
        return self.vals[key]


@pytest.fixture
def linux(results):
    r = results["linux"]
    assert "=== eight rc=" in r.out, r
    return {name: Session(r.out, name) for name in ("two", "one", "eight")}


def _release():
    with open(os.path.join(LINUX, "release")) as f:
        return f.read().strip()


# ---- in the lab: real Linux boots ----

@pytest.mark.needs("linux")
def test_boots_to_a_shell_on_the_serial_console(linux):
    for s in linux.values():
        assert MARKER in s.console, s
        assert "mkvm-linux:/root# " in s.console
        assert "init: insmod" not in s.console          # every virtio module loaded


@pytest.mark.needs("linux")
def test_uname_is_the_debian_kernel(linux):
    assert linux["two"]["uname"] == _release()
    with open(os.path.join(LINUX, "version")) as f:
        assert f.read().strip() in linux["two"]["version"]


@pytest.mark.needs("linux")
def test_nproc_matches_minus_c(linux):
    assert linux["two"]["nproc"] == "2"
    assert linux["two"]["online"] == "0-1"
    assert linux["one"]["nproc"] == "1"
    assert linux["eight"]["nproc"] == "8"          # MADT: one LAPIC entry per vCPU


@pytest.mark.needs("linux")
def test_nohz_full_keeps_vcpu_0_for_the_kernel(linux):
    # the default command line's nohz_full=1-N: every vCPU but 0 (N is the last one)
    assert linux["two"]["nohz-full"] == "1"
    assert linux["eight"]["nohz-full"] == "1-7"


@pytest.mark.needs("linux")
def test_proc_cmdline_is_minus_p(linux):
    assert linux["two"]["cmdline"] == CMDLINE_TWO


@pytest.mark.needs("linux")
def test_guest_clock_is_the_hosts(linux):
    guest = int(linux["two"]["date"])
    assert abs(guest - linux["two"].l1_date) <= 60           # the RTC gave L1's time
    assert T_IMPORT - 60 <= guest <= time.time() + 60         # and that is ours


@pytest.mark.needs("linux")
def test_acpi_tables_accepted(linux):
    assert linux["two"]["acpi-errors"] == "0"
    assert linux["two"]["s5"] == "1"
    assert linux["two"]["virtio-mmio"] == "1"


@pytest.mark.needs("linux")
def test_cpu_is_one_package_with_a_brand(linux):
    two, eight = linux["two"], linux["eight"]
    assert two["model"] and not re.match(r"^\d+/[0-9a-f]+$", two["model"]), two["model"]
    assert (two["siblings"], two["cores"], two["packages"]) == ("2", "2", "1")
    assert (eight["cores"], eight["packages"]) == ("8", "1")
    flags = two["flags"].split()
    assert "hypervisor" in flags
    # the TSC-deadline timer even without an invariant host TSC (the lab's L1 has none):
    # KVM_SET_TSC_KHZ(0) gave every vCPU the host's current TSC rate (cpu.c, cpuid.c)
    assert "tsc_deadline_timer" in flags, flags
    assert two["clocksource"] == "kvm-clock"


@pytest.mark.needs("linux")
def test_pnp_finds_com1_rtc_and_the_keyboard(linux):
    assert linux["two"]["pnp"] == "pnp: PnP ACPI: found 3 devices"
    # the i8042 found through PNP0303, and its keyboard answered atkbd's probe
    assert linux["two"]["kbd"] == "1"


def _allow_list():
    """bootlog-allow.txt: entries of `allow: REGEX`, `reason: ...`, `evidence: ...`."""
    entries, cur = [], None
    with open(ALLOW) as f:
        for line in f:
            key, _, val = line.rstrip("\n").partition(": ")
            if line.startswith("#") or not line.strip():
                continue
            if key == "allow":
                cur = {"allow": re.compile(val)}
                entries.append(cur)
            elif key in ("reason", "evidence") and cur is not None:
                cur[key] = (cur.get(key, "") + " " + val).strip()
            else:
                raise AssertionError("bootlog-allow.txt: stray line %r" % line)
    return entries


def test_boot_log_allow_list_is_well_formed():
    for e in _allow_list():
        assert e.get("reason") and e.get("evidence"), e["allow"].pattern


@pytest.mark.needs("linux")
def test_boot_log_is_clean(linux):
    allowed = [e["allow"] for e in _allow_list()]
    for name in ("two", "eight"):
        s = linux[name]
        assert s["nproc"]                           # the typed script ran
        bad = re.findall(r"^(?:[^#\n]*# )?BOOTLOG-BAD (.*?)\s*$", s.console, re.M)
        unexpected = [l for l in bad if not any(a.search(l) for a in allowed)]
        assert not unexpected, "%s: kernel log lines not in bootlog-allow.txt:\n%s" % (
            name, "\n".join(unexpected))


@pytest.mark.needs("linux")
def test_poweroff_exits_with_status_0(linux):
    s = linux["two"]
    assert s.rc == 0, s.err + s.console[-2000:]
    assert "reboot: Power down" in s.console
    assert s.err == ""


@pytest.mark.needs("linux")
def test_reboot_exits_with_status_0_and_says_so(linux):
    s = linux["one"]
    assert s.rc == 0, s.err + s.console[-2000:]
    assert s.err == ("mini-kvm: vmlinuz: guest requested a reboot (ACPI reset register): "
                     "exiting (reboot = exit status 0)\n")


@pytest.mark.needs("linux")
def test_virtio_disk_reads_and_writes(linux, results):
    s = linux["one"]
    assert s["vda-size"] == "2048"                  # 1 MiB in 512-byte sectors
    assert s["vda-s0"] == "MINI-KVM-DISK-SECTOR0"
    assert s["vda-s8"] == "SECTOR-8"
    assert "=== disk sector 100: WRITTEN-BY-LINUX" in results["linux"].out


# ---- directly on this host: bad input is one clear line, before any guest runs ----

def mkvm(*args, timeout=30):
    p = subprocess.run([harness.MKVM] + list(args), cwd=REPO,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def one_error(args, want):
    rc, out, err = mkvm(*args)
    assert rc != 0 and out == "", (rc, out, err)
    assert err.count("\n") == 1 and err.startswith("mini-kvm: "), err
    assert want in err, err
    return err


@pytest.fixture
def kernel():
    if PREPARE_ERROR:
        pytest.fail("tools/mkinitramfs failed: %s" % PREPARE_ERROR, pytrace=False)
    with open(VMLINUZ, "rb") as f:
        return f.read()


def test_bad_kernels_are_one_clear_error(kernel, tmp_path):
    setup = (kernel[0x1F1] or 4) * 512 + 512
    want_len = setup + int.from_bytes(kernel[0x1F4:0x1F8], "little") * 16
    cases = {"empty": (b"", "kernel is empty"),
             "random": (bytes((i * 7919 + 13) % 251 for i in range(65536)), "no HdrS magic"),
             "old-protocol": (kernel[:0x206] + b"\x05\x02" + kernel[0x208:65536],
                              "boot protocol 2.05 too old (need 2.12 for 64-bit entry)")}
    for cut in (100, 0x250, 4096, setup, len(kernel) // 2, want_len - 16):
        want = "not a bzImage" if cut < 0x264 else \
            "truncated: header says %d bytes, file has %d" % (want_len, cut)
        cases["cut-%d" % cut] = (kernel[:cut], want)
    for name, (data, want) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        err = one_error(["-k", str(path), "-i", INITRD], want)
        assert str(path) in err


def test_elf_that_is_not_a_kernel_is_one_clear_error():
    one_error(["-k", "/bin/true"], "/bin/true: ")


def test_bad_initrds_are_one_clear_error(kernel, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(300 << 20)                          # sparse: costs no disk
    one_error(["-k", VMLINUZ, "-i", str(tmp_path / "missing")], "missing: cannot open initrd")
    one_error(["-k", VMLINUZ, "-i", str(tmp_path / "empty")], "initrd is empty")
    one_error(["-k", VMLINUZ, "-i", str(tmp_path)], "initrd is a directory")
    one_error(["-k", VMLINUZ, "-i", str(big), "-m", "128M"],
              "big: does not fit below 0x8000000 (initrd 300 MiB")


def test_too_little_ram_and_too_long_cmdline(kernel):
    one_error(["-k", VMLINUZ, "-m", "64M"], "kernel needs 68 MiB of RAM to decompress")
    one_error(["-k", VMLINUZ, "-p", "a" * 3000],
              "command line is 3000 bytes, this kernel accepts at most 2047")


def test_valid_kernel_on_a_host_that_cannot_run_linux(kernel, host):
    if host.can("linux"):
        pytest.skip("this host's KVM runs Linux")
    one_error(["-k", VMLINUZ, "-i", INITRD], "cannot run Linux")
