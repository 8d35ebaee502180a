# test_multiboot.py - Multiboot (v1) kernels on mini-kvm: our test kernel (guests/multiboot,
# ELF32 and a.out kludge) checks what it is handed; bad kernels and modules get one line.
"""The test kernel checks EAX, the info flags, the memory map, the command line and module 0,
prints one line on COM1 ("com1: ..."), port 0xE9 ("e9: ...") and the CGA screen, and exits
through port 0xF4 with the value of `exit=N` on its command line: status (N << 1) | 1.
A check that fails prints "mbtest: FAIL <why>" and exits with status 3.

No paging is involved, so everything runs directly on this host (kvm_pvm included), and in
the lab with --lab=always. Needs `make` first (./mini-kvm, mbtest.elf, mbtest-aout.bin).
Crafted bad kernels are made here from mbtest.elf, in a temporary directory.
"""
import atexit
import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from harness import Cmd, REPO

T = 20
MODULE_TEXT = "mini-kvm multiboot module 0\n"     # what mbtest expects in module 0
MODULE = "printf '%s' > $FILES/mod.txt && " % MODULE_TEXT.replace("\n", "\\n")
OK_ARGS = "-i $FILES/mod.txt -p 'mbtest-token exit=5'"
MB_MAGIC = 0x1BADB002


def _prepare():
    """Bad kernels derived from mbtest.elf; returns (directory, None) or (None, error)."""
    try:
        with open(os.path.join(REPO, "mbtest.elf"), "rb") as f:
            elf = f.read()
    except OSError as e:
        return None, "mbtest.elf missing (run make): %s" % e
    off = elf.find(struct.pack("<I", MB_MAGIC))
    if off < 0 or off % 4:
        return None, "mbtest.elf has no multiboot header"
    d = tempfile.mkdtemp(prefix="mkvm-mb-")
    atexit.register(shutil.rmtree, d, True)

    def write(name, data):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    def with_flags(flags):
        hdr = struct.pack("<III", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xFFFFFFFF)
        return elf[:off] + hdr + elf[off + 12:]

    bad = bytearray(elf)
    bad[off + 8] ^= 1
    write("badsum.elf", bytes(bad))
    write("flag3.elf", with_flags(0x3 | 1 << 3))        # bit 3: not defined by the spec
    write("video.elf", with_flags(0x3 | 1 << 2))        # a video mode: ignored, boots
    write("cut.elf", elf[:off + 0x100])                 # header kept, segment cut short
    nohdr = elf[:off] + bytes(12) + elf[off + 12:]
    write("nohdr.elf", nohdr)                           # plain ELF32: not bootable
    far = nohdr + bytes(0x2000 - len(nohdr)) + with_flags(0x3)[off:off + 12]
    write("far.elf", far)                               # the header at 0x2000: too far
    entry = struct.unpack_from("<I", elf, 24)[0]        # e_entry, loaded from offset 0x1000
    crash = bytearray(elf)
    at = entry - 0x100000 + 0x1000
    crash[at:at + 2] = b"\x0f\x0b"                      # ud2 at the entry: no IDT yet
    write("crash.elf", bytes(crash))
    write("random.bin", bytes((i * 7919 + 13) % 251 for i in range(65536)))
    fake_linux = bytearray(0x400)                       # "HdrS": taken as a bzImage
    fake_linux[0x1FE:0x200] = b"\x55\xaa"
    fake_linux[0x202:0x206] = b"HdrS"
    write("fake-bzimage", bytes(fake_linux))
    return d, None


CRAFTED, PREPARE_ERROR = _prepare()


def crafted(name):
    return os.path.join(CRAFTED or "/nonexistent", name)


def mb(args, kernel="mbtest.elf"):
    return Cmd(MODULE + "./mini-kvm -k %s %s" % (kernel, args), timeout=T)


COMMANDS = {
    "elf": mb(OK_ARGS),
    "aout": mb(OK_ARGS, kernel="mbtest-aout.bin"),
    "smp-4g": mb(OK_ARGS + " -c 2 -m 4G"),
    "exit0": mb("-i $FILES/mod.txt -p 'mbtest-token exit=0'"),
    "exit49": mb("-i $FILES/mod.txt -p 'exit=49 mbtest-token'"),
    "exit127": mb("-i $FILES/mod.txt -p 'mbtest-token exit=127'"),
    "two-modules": mb("-i $FILES/mod.txt -i mbtest-aout.bin -p 'mbtest-token exit=2'"),
    # the kernel's own checks fail as they should
    "no-token": mb("-i $FILES/mod.txt -p 'exit=5'"),
    "wrong-module": mb("-i mbtest-aout.bin -p 'mbtest-token exit=5'"),
    "no-module": mb("-p 'mbtest-token exit=5'"),
    # bad input: one line, non-zero status
    "module-missing": mb("-i $FILES/nonexistent.txt -p mbtest-token"),
    "module-empty": Cmd(": > $FILES/empty.txt && ./mini-kvm -k mbtest.elf -i $FILES/empty.txt",
                        timeout=T),
    "module-directory": mb("-i $FILES"),
    "nine-modules": mb(" ".join(["-i $FILES/mod.txt"] * 9)),
    "tiny-ram": mb(OK_ARGS + " -m 1M"),
}


def bad(name, args=""):
    """A crafted kernel, copied to $FILES (so that it also reaches the lab)."""
    return Cmd("./mini-kvm -k $FILES/%s %s" % (name, args), timeout=T, files=[crafted(name)])


if not PREPARE_ERROR:
    COMMANDS.update({
        "video": Cmd(MODULE + "./mini-kvm -k $FILES/video.elf " + OK_ARGS, timeout=T,
                     files=[crafted("video.elf")]),
        "badsum": bad("badsum.elf"),
        "flag3": bad("flag3.elf"),
        "cut": bad("cut.elf"),
        "nohdr": bad("nohdr.elf"),
        "far": bad("far.elf"),
        "crash": bad("crash.elf"),
        "random": bad("random.bin"),
        "linux-two-initrds": bad("fake-bzimage", "-i mbtest.elf -i mbtest-aout.bin"),
    })


def prepared():
    if PREPARE_ERROR:
        pytest.fail(PREPARE_ERROR, pytrace=False)


def passed(r, status=11):
    """The kernel's PASS line on COM1 and on 0xE9, the status it chose, nothing on stderr."""
    assert not r.timed_out and r.status == status, r
    assert r.err == "", r
    out = r.out.splitlines()
    com1 = [l for l in out if l.startswith("com1: mbtest: PASS ")]
    e9 = [l for l in out if l.startswith("e9: mbtest: PASS ")]
    assert len(com1) == 1 and len(e9) == 1, r
    assert com1[0][len("com1: "):] == e9[0][len("e9: "):], r
    return com1[0][len("com1: "):]


def failed(r, why):
    assert not r.timed_out and r.status == 3, r
    assert "com1: mbtest: FAIL " + why in r.out and "e9: mbtest: FAIL " + why in r.out, r


def one_line(r, status, needle):
    assert not r.timed_out, r
    assert r.status == status, r
    errs = r.err.splitlines()
    assert len(errs) == 1, r
    assert errs[0].startswith("mini-kvm: ") and needle in errs[0], r
    assert "mbtest" not in r.out, r         # the kernel never ran


def test_elf32_kernel_gets_module_cmdline_and_memory_map(results):
    line = passed(results["elf"])
    # 512 MiB default RAM: mem_upper = 511 MiB in KiB; module 0's string is the path given
    assert line.startswith("mbtest: PASS mem_upper=523264 KiB mods=1 mod0="), line
    assert line.endswith("/mod.txt loader=mini-kvm"), line


def test_aout_kludge_kernel(results):
    line = passed(results["aout"])
    assert "mem_upper=523264 KiB mods=1" in line and line.endswith("loader=mini-kvm"), line


def test_two_cpus_and_ram_above_4g(results):
    # -m 4G: 3 GiB below the hole (mem_upper = 3071 MiB), the rest above 4 GiB
    line = passed(results["smp-4g"])
    assert "mem_upper=3144704 KiB" in line, line


@pytest.mark.parametrize("name,status", [("exit0", 1), ("exit49", 99), ("exit127", 255),
                                         ("two-modules", 5)])
def test_exit_port_status_is_value_shifted_or_1(results, name, status):
    passed(results[name], status)


def test_two_modules_are_counted(results):
    assert "mods=2 " in passed(results["two-modules"], 5)


def test_kernel_checks_can_fail(results):
    failed(results["no-token"], "mbtest-token is not on the command line")
    failed(results["wrong-module"], "module 0 missing, not page aligned or not the expected")
    failed(results["no-module"], "module 0 missing")


def test_video_mode_request_is_ignored(results):
    prepared()
    passed(results["video"])


def test_bad_multiboot_kernels_are_one_line(results):
    prepared()
    one_line(results["badsum"], 1, "multiboot header at offset 0x1000 has a bad checksum")
    one_line(results["flag3"], 1, "requires flags 0x8 that mini-kvm does not support")
    one_line(results["cut"], 1, "lies outside the file (truncated?)")
    one_line(results["random"], 1, "not a bzImage (no HdrS magic), multiboot kernel")
    one_line(results["nohdr"], 1, "32-bit ELF file without a multiboot header in the first 8 KiB")
    one_line(results["far"], 1, "multiboot header at offset 0x2000 lies past the first 8 KiB")


def test_kernel_fault_is_reported_as_its_own(results):
    # No paging was ever set up, so this is not the "host cannot run 32-bit paging" case.
    prepared()
    r = results["crash"]
    assert not r.timed_out and r.status == 1, r
    assert r.err.startswith("mini-kvm: crash: triple fault (KVM_EXIT_SHUTDOWN)\n"), r
    assert "  cpu0 registers:\n" in r.err, r
    if r.where == "direct":     # (AMD's KVM resets the registers at a shutdown: not there)
        assert "rax=000000002badb002 rbx=0000000000001000" in r.err, r
    assert "32-bit paging" not in r.err, r


def test_bad_modules_are_one_line(results):
    one_line(results["module-missing"], 1, "nonexistent.txt: cannot open module")
    one_line(results["module-empty"], 1, "empty.txt: module is empty")
    one_line(results["module-directory"], 1, "module is a directory")
    one_line(results["nine-modules"], 2, "at most 8 modules")
    one_line(results["tiny-ram"], 1, "needs more than 1 MiB of guest RAM")


def test_linux_takes_one_initrd(results):
    prepared()
    one_line(results["linux-two-initrds"], 1, "a Linux kernel takes one initrd (-i), not 2")


# ---- the test kernel against a reference loader (direct only) ----

@pytest.mark.nokvm
def test_mbtest_passes_on_qemus_multiboot_loader(tmp_path):
    """mbtest's checks hold under QEMU's own multiboot loader (TCG, no KVM needed), so they
    test the spec, not mini-kvm's reading of it. QEMU names itself and has 128 MiB."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        pytest.skip("qemu-system-x86_64 is not installed")
    mod = tmp_path / "mod.txt"
    mod.write_text(MODULE_TEXT)
    for kernel in ("mbtest.elf", "mbtest-aout.bin"):
        p = subprocess.run([qemu, "-M", "pc", "-accel", "tcg", "-display", "none", "-nodefaults",
                            "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                            "-kernel", os.path.join(REPO, kernel), "-initrd", str(mod),
                            "-append", "mbtest-token exit=5"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 11, (kernel, p.returncode, p.stdout, p.stderr)
        assert ("com1: mbtest: PASS mem_upper=129920 KiB mods=1 mod0=%s loader=qemu\n" % mod
                in p.stdout), (kernel, p.stdout)
