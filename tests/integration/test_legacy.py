# test_legacy.py - the disk boot path and the legacy PC pieces, with our own boot sectors
# (guests/boot): entry state at 0000:7C00, MP floating pointer, BDA, CRTC, CGA dump, bad disks.
"""pcprobe.img reports on COM1 what the machine left it and exits with status 7; pcecho.img
echoes COM1 input to COM1 and the CGA screen until 'q'; pcide.img reads and writes both IDE
disks by polling, as xv6's boot loader does. Both are real mode only, so these
tests run directly on this host (no paging needed). The deep end-to-end test (IDE, paging,
APs) is the conformance guest's."""
import os

import pexpect
import pytest

import harness
from harness import Cmd, REPO

T = 20
MKVM = harness.MKVM

BAD_DISKS = {   # name -> (shell set-up creating $FILES/d.img, a string the one error line must contain)
    "missing": (":", "d.img: cannot open disk image"),
    "empty": (": > $FILES/d.img", "d.img: disk image is empty"),
    "short": ("head -c 511 pcprobe.img > $FILES/d.img", "not a multiple of 512"),
    "odd-sized": ("{ cat pcprobe.img; head -c 100 /dev/zero; } > $FILES/d.img",
                  "not a multiple of 512"),
    "no-signature": ("head -c 1024 /dev/zero > $FILES/d.img",
                     "not a boot disk (no 0x55AA signature at byte 510)"),
    "directory": ("mkdir $FILES/d.img", "is a directory"),
}

CLI_ERRORS = {  # name -> (arguments, a string the one error line must contain)
    "three-disks": ("--ide pcprobe.img --ide pcprobe.img --ide pcprobe.img", "at most 2"),
    "with-flat-guest": ("--ide pcprobe.img hello.bin", "not flat binaries"),
    "empty-name": ("--ide ,ro", "FILE,ro"),
    "cmdline-without-kernel": ("--ide pcprobe.img -p quiet", "need a kernel"),
}

# master: pcide.img + "master sector 1"; slave: "slave sector 0" + an empty sector 1
DISKS = ("{ cat pcide.img; printf 'master sector 1\\n'; head -c 496 /dev/zero; } > $FILES/m.img && "
         "{ printf 'slave sector 0\\n'; head -c 1009 /dev/zero; } > $FILES/s.img && ")
SLAVE_SECTOR_1 = "; echo rc=$?; tail -c 512 $FILES/s.img | cmp -s - pcide.img && echo slave-written"

COMMANDS = {
    "probe": Cmd("./mini-kvm --ide pcprobe.img", timeout=T),
    "probe-smp": Cmd("./mini-kvm -c 4 -m 256M --ide pcprobe.img --cga-dump", timeout=T),
    **{"bad-" + k: Cmd(s + " && ./mini-kvm --ide $FILES/d.img", timeout=T)
       for k, (s, _) in BAD_DISKS.items()},
    **{"cli-" + k: Cmd("./mini-kvm " + a, timeout=T) for k, (a, _) in CLI_ERRORS.items()},
    "ide": Cmd(DISKS + "./mini-kvm --ide $FILES/m.img --ide $FILES/s.img" + SLAVE_SECTOR_1,
               timeout=T),
    "ide-ro": Cmd(DISKS + "./mini-kvm --ide $FILES/m.img --ide $FILES/s.img,ro" + SLAVE_SECTOR_1,
                  timeout=T),
    "same-image-twice": Cmd("./mini-kvm --ide pcprobe.img --ide pcprobe.img", timeout=T),
    "kernel-with-ide": Cmd("./mini-kvm -k os.elf --ide pcprobe.img,ro", input="shutdown\n",
                           timeout=T),
    "kernel-with-missing-ide": Cmd("./mini-kvm -k os.elf --ide $FILES/none.img", timeout=T),
}


def lines(r):
    return [l.rstrip() for l in r.out.splitlines()]


def test_boot_sector_starts_at_7c00_with_dl_80(results):
    r = results["probe"]
    assert r.status == 7 and r.err == "", r         # its own EXIT_CODE 7: it ran to the end
    assert lines(r)[0] == "cs=0000 ip=7C00 dx=0080 sp=7C00 ds=0000 es=0000 ss=0000", r


def test_mp_floating_pointer_is_found_with_valid_checksums(results):
    # offset in F000, floating-pointer sum, configuration-table sum, PROC entries
    assert lines(results["probe"])[1] == "mp=0000 0000 0000 0001", results["probe"]
    assert lines(results["probe-smp"])[1] == "mp=0000 0000 0000 0004", results["probe-smp"]


def test_bios_data_area(results):
    # COM1 base, EBDA segment (0x9FC00), base memory 639 KiB
    assert lines(results["probe"])[2] == "bda=03F8 9FC0 027F", results["probe"]


def test_crtc_cursor_retrace_and_port_92(results):
    # cursor at reset, cursor after writing 0x0123, two status reads (the retrace bits
    # toggle), port 0x92 with A20 on
    assert lines(results["probe"])[3] == "crtc=0000 0123 0900 0002", results["probe"]


def test_aps_wait_for_sipi_and_the_bsp_runs_alone(results):
    r = results["probe-smp"]
    assert r.status == 7, r
    assert lines(r)[0].startswith("cs=0000 ip=7C00 dx=0080"), r
    assert len(lines(r)) == 4, r                    # one BSP printed, the APs never ran


def test_cga_dump_prints_what_the_guest_wrote(results):
    r = results["probe-smp"]
    err = r.err.splitlines()
    assert len(err) == 27, r                        # frame, 25 rows, frame
    assert err[0].startswith("+--- pcprobe: CGA text screen, cursor 3,51 ") and len(err[0]) == 82, r
    assert err[1] == "|pcprobe: CGA", r
    assert err[2] == "|", r
    assert err[3] == "|  .ok", r                    # the 0x01 byte shows as '.'
    assert err[26] == "+" + "-" * 80 + "+", r
    assert "CGA text screen" not in results["probe"].err


def test_ide_disks_are_attached_master_then_slave(results):
    r = results["ide"]
    assert lines(r) == ["master sector 1", "slave sector 0", "50", "rc=0", "slave-written"], r
    assert r.err == "", r


def test_read_only_ide_disk_refuses_writes(results):
    r = results["ide-ro"]
    # the write command ends with ERR (status 0x51) and the image is unchanged
    assert lines(r) == ["master sector 1", "slave sector 0", "51", "rc=0"], r


def test_same_image_twice_is_refused(results):
    r = results["same-image-twice"]
    errs = r.err.splitlines()
    assert r.status == 1 and len(errs) == 1 and "pcprobe.img" in errs[0], r
    assert "in use" in errs[0] and r.out == "", r


def test_ide_with_a_kernel_is_attached_not_booted(results):
    r = results["kernel-with-ide"]
    assert r.status == 0 and "mini-os: shutting down" in r.out, r
    assert "cs=0000" not in r.out, r                # the disk was not booted
    r = results["kernel-with-missing-ide"]          # ... but it was opened
    errs = r.err.splitlines()
    assert r.status == 1 and len(errs) == 1 and "none.img: cannot open disk image" in errs[0], r


@pytest.mark.parametrize("name", sorted(BAD_DISKS))
def test_bad_disk_is_one_clear_line(results, name):
    r = results["bad-" + name]
    errs = r.err.splitlines()
    assert r.status == 1 and not r.timed_out, r
    assert len(errs) == 1 and errs[0].startswith("mini-kvm: ") and BAD_DISKS[name][1] in errs[0], r
    assert r.out == "", r


@pytest.mark.parametrize("name", sorted(CLI_ERRORS))
def test_bad_ide_command_line_exits_2(results, name):
    r = results["cli-" + name]
    errs = r.err.splitlines()
    assert r.status == 2 and len(errs) == 1 and CLI_ERRORS[name][1] in errs[0], r
    assert r.out == "", r


def test_disk_boot_console_ctrl_a_v_and_x():
    """On a terminal: raw mode, Ctrl-A v prints the live CGA screen, Ctrl-A x quits."""
    child = pexpect.spawn(MKVM, ["--ide", "pcecho.img"], cwd=REPO, timeout=20,
                          encoding="utf-8", codec_errors="replace")
    try:
        child.expect_exact("pcecho: ready")
        child.send("xyz")
        child.expect_exact("xyz")                   # echoed on COM1
        child.send("\x01h")
        child.expect_exact("C-a v    print the guest's CGA text screen")
        child.send("\x01v")
        child.expect_exact("pcecho: CGA text screen")
        child.expect_exact("|pcecho on the CGA screen\r\n|xyz\r\n")
        child.send("\x01x")
        child.expect(pexpect.EOF)
        child.wait()
        assert child.exitstatus == 0
    finally:
        child.close(force=True)
