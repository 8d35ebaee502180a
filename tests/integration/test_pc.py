# test_pc.py - the conformance guest (guests/pc/, pc-test.img): a boot sector and a 32-bit
# kernel doing what a legacy OS does to the PC, checked line by line and on the disk images.
"""Each run boots pc-test.img from IDE drive 0 with a data disk as drive 1 ($FILES/data.img:
`seq 1 4000`, cut to 32 sectors, so every sector differs), then prints the guest's output,
a marker and the data disk in base64, so the test can check on the host what the guest
wrote (LBA 8-11) and that nothing else changed. Drive 0 is a copy of pc-test.img, which must
come back unchanged. pc-test.img runs here (no paging); pc-test-paging.img, the same image
that also turns on PSE paging, runs in the lab."""
import base64

import pytest

from harness import Cmd

T = 60
DATA_SECTORS = 32
DATA = "".join("%d\n" % i for i in range(1, 4001)).encode()[:DATA_SECTORS * 512]
WRITTEN = range(8, 12)      # the LBAs the guest writes on drive 1 (guests/pc/ide.c)
MARK = "=== data.img ==="


def boot(img, cpus, data_opt="", extra=""):
    """Shell line: fresh disks, mini-kvm, then drive 0's fate and drive 1 in base64."""
    return Cmd("cp {img} $FILES/{img} && seq 1 4000 | head -c {size} > $FILES/data.img && "
               "./mini-kvm -c {cpus} {extra}--ide $FILES/{img} --ide $FILES/data.img{opt}; rc=$?; "
               "cmp -s $FILES/{img} {img} && echo drive0-unchanged; echo '{mark}'; "
               "base64 $FILES/data.img; exit $rc".format(
                   img=img, size=DATA_SECTORS * 512, cpus=cpus, extra=extra, opt=data_opt,
                   mark=MARK), timeout=T)


COMMANDS = {
    "c1": boot("pc-test.img", 1),
    "c2": boot("pc-test.img", 2, extra="--cga-dump "),
    "c4": boot("pc-test.img", 4),
    "ro": boot("pc-test.img", 1, data_opt=",ro"),
    "paging": boot("pc-test-paging.img", 2),
}


def guest(r):
    """(guest output lines, bytes of data.img afterwards, drive 0 unchanged?)"""
    out, _, data = r.out.partition(MARK + "\n")
    lines = out.splitlines()
    unchanged = "drive0-unchanged" in lines
    return [l for l in lines if l != "drive0-unchanged"], base64.b64decode(data), unchanged


def pattern(lba):
    """What the guest writes to a sector of drive 1 (wpat in guests/pc/ide.c)."""
    return bytes((i * 7 + (i >> 8) * 13 + lba * 29 + 0xA5) & 0xFF for i in range(512))


def sector(data, lba):
    return data[lba * 512:(lba + 1) * 512]


def expected_lines(cpus):
    """Prefixes of the lines every passing run prints, in order."""
    return [
        "boot: real mode at 0x7c00",
        "boot: A20 on",
        "boot: kernel read by polling",
        "boot: protected mode",
        "kernel: 32-bit protected mode at 0x10000",
        "mp: floating pointer at 0xf",
        "mp: %d CPUs, APIC ids %s; IOAPIC id 0" % (cpus, " ".join(map(str, range(cpus)))),
        "lapic: id 0,",
        "ioapic: id 0,",
        "ide: drive 0: ",
        "ide: drive 1: ",
        "irq-read: 8 sectors at LBA ",
        "disk1: wrote 4 sectors at LBA 8 of drive 1",
        "disk1: read back by polling with nIEN set (rep insw): 4 sectors match",
        "ata-error: READ SECTORS past the end (LBA 32) -> status 0x",
        "ata-error: WRITE SECTORS past the end (LBA 32) -> status 0x",
        "ata-error: unknown command 0xff (LBA 8) -> status 0x",
        "ata-error: drive 1 works after the errors",
    ] + ["cpu%d: started (apic id %d" % (i, i) for i in range(cpus)] + [
        "cga: \"PC-TEST: hello from the conformance guest on the CGA screen\"",
    ]


def assert_steps(r, cpus, paging=False):
    lines, _, _ = guest(r)
    want = expected_lines(cpus) + ["paging: CR4.PSE + CR0.PG on" if paging else "paging: skipped"]
    got = iter(lines)
    for prefix in want:                 # in this order, other lines in between allowed
        assert any(l.startswith(prefix) for l in got), "no line %r (in order):\n%r" % (prefix, r)
    assert lines[-1] == "PC-TEST PASS" and not any("FAIL" in l for l in lines), r
    assert "DL=0x80" in lines[4] and "pattern ok" in next(l for l in lines if "irq-read" in l), r


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_pc_guest_passes_every_step(results, cpus):
    r = results["c%d" % cpus]
    assert r.status == 0 and not r.timed_out, r
    assert_steps(r, cpus)


@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_pc_guest_writes_reach_drive_1_and_nothing_else_changes(results, cpus):
    r = results["c%d" % cpus]
    lines, data, unchanged = guest(r)
    assert any(l.startswith("ide: drive 1: ") and l.endswith("\", %d sectors" % DATA_SECTORS)
               for l in lines), r
    assert len(data) == len(DATA), r    # the write past the end did not grow the image
    for lba in range(DATA_SECTORS):
        want = pattern(lba) if lba in WRITTEN else sector(DATA, lba)
        assert sector(data, lba) == want, "LBA %d of data.img is wrong\n%r" % (lba, r)
    assert unchanged, r                 # drive 0 (the boot disk) was only read


def test_pc_guest_ata_errors_reach_the_guest_not_the_vmm(results):
    r = results["c1"]
    lines, _, _ = guest(r)
    errs = [l for l in lines if l.startswith("ata-error: ") and "->" in l]
    assert len(errs) == 3, r
    for l in errs:                      # ERR in the status, IDNF or ABRT in the error register
        st, er = (int(w, 16) for w in l.split("-> status ")[1].split()[0:3:2])
        assert st & 0x01 and not st & 0x88 and er & 0x14, l
    assert "error 0x4 " in errs[2], r   # an unknown command is aborted (ABRT)
    assert r.err == "", r               # no VMM error line: the guest saw ATA errors


def test_pc_guest_cga_message_and_cursor_in_the_dump(results):
    r = results["c2"]
    err = r.err.splitlines()
    assert len(err) == 27 and err[0].startswith("+--- pc-test: CGA text screen, cursor 2,0 "), r
    assert err[2] == "|PC-TEST: hello from the conformance guest on the CGA screen", r
    assert err[26] == "+" + "-" * 80 + "+", r


def test_pc_guest_reports_a_read_only_data_disk_as_a_failed_step(results):
    """The guest does check: with drive 1 read-only its writes fail, it says which step,
    exits 1, and the image is untouched."""
    r = results["ro"]
    lines, data, _ = guest(r)
    assert r.status == 1 and not r.timed_out, r
    assert any(l.startswith("FAIL disk1: ") for l in lines), r
    assert lines[-1].startswith("PC-TEST FAIL: disk1"), r
    assert data == DATA, r


@pytest.mark.needs("32bit-paging")
def test_pc_paging_guest_passes_with_2_cpus(results):
    r = results["paging"]
    assert r.status == 0 and not r.timed_out, r
    assert_steps(r, 2, paging=True)
    lines, data, unchanged = guest(r)
    assert [sector(data, l) for l in WRITTEN] == [pattern(l) for l in WRITTEN] and unchanged, r
