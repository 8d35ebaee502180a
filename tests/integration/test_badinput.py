# test_badinput.py - bad input to mini-kvm: bad files, bad command lines, garbage guests and
# hostile hypercall arguments. Each must give one clear line and a non-zero exit, never a crash
# or a hang of mini-kvm itself.
"""Command-line errors exit with 2, other errors with non-zero (1). Files and command lines
are in COMMANDS (direct here, or in the lab with --lab=always). Garbage guests are direct
only: a garbage guest may legitimately loop forever, so those tests check that mini-kvm
either ends with a clear message or still answers SIGTERM promptly.
"""
import random
import re
import signal
import struct
import subprocess

import pytest

import harness
from harness import Cmd, REPO

T = 20


def guests(n, name="hello.bin"):
    return " ".join([name] * n)


FILE_ERRORS = {     # name -> (command, a string the one error line must contain)
    "missing": ("./mini-kvm $FILES/nonexistent.bin", "nonexistent.bin"),
    "empty": (": > $FILES/empty.bin && ./mini-kvm $FILES/empty.bin", "empty.bin"),
    "directory": ("./mini-kvm $FILES", "is a directory"),
    "too-large-real": ("head -c 61441 /dev/zero > $FILES/big.bin && ./mini-kvm $FILES/big.bin",
                       "big.bin"),
    "too-large-huge": ("head -c 5000000 /dev/zero > $FILES/huge.bin && ./mini-kvm $FILES/huge.bin",
                       "huge.bin"),
    "ram-too-small-real": ("./mini-kvm -m 64K counter.bin", "counter.bin"),
    "ram-too-small-long": ("./mini-kvm --mode long -m 1M hello64.bin", "hello64.bin"),
    "missing-second": ("./mini-kvm hello.bin $FILES/nonexistent.bin", "nonexistent.bin"),
    # an ELF64 kernel has nowhere to put a ramdisk: refused, not silently dropped
    "initrd-for-elf64": ("./mini-kvm -k os.elf -i hello.bin", "takes no initrd"),
}

# A FIFO with no writer: open(2) without O_NONBLOCK would block forever (issue 12, defect 1).
FIFO_ERRORS = {     # name -> arguments naming $FILES/NAME.fifo
    "fifo-flat": "$FILES/fifo-flat.fifo",
    "fifo-long": "--mode long $FILES/fifo-long.fifo",
    "fifo-kernel": "-k $FILES/fifo-kernel.fifo",
    "fifo-module": "-k mbtest.elf -i $FILES/fifo-module.fifo",
    "fifo-disk": "--disk $FILES/fifo-disk.fifo -k os.elf",
    "fifo-ide": "--ide $FILES/fifo-ide.fifo",
}
FIFO_BOUND = 5

CLI_ERRORS = {      # name -> (arguments, a string the one error line must contain)
    "mem-suffix": ("-m 12X hello.bin", "12X"),
    "mem-long-option": ("--mem=12X hello.bin", "12X"),
    "mem-too-small": ("-m 32K hello.bin", "32K"),
    "mem-not-4k": ("-m 65K hello.bin", "65K"),
    "mem-missing-argument": ("hello.bin -m", "-m"),
    "cpus-zero": ("-c 0 hello.bin", "'0'"),
    "cpus-not-a-number": ("-c two hello.bin", "two"),
    "cpus-for-flat": ("-c 2 hello.bin", "-c 2"),
    "mode": ("--mode foo hello.bin", "foo"),
    "mode-missing-argument": ("hello.bin --mode", "--mode"),
    "unknown-long-option": ("--bogus hello.bin", "--bogus"),
    "unknown-short-option": ("-x hello.bin", "-x"),
    "no-guest": ("", "no guest"),
    "kernel-and-flat": ("-k hello.bin counter.bin", "counter.bin"),
    "too-many-guests": (guests(65), "hello.bin"),
}

COMMANDS = {
    **{k: Cmd(c, timeout=T) for k, (c, _) in FILE_ERRORS.items()},
    **{k: Cmd("./mini-kvm " + a, timeout=T) for k, (a, _) in CLI_ERRORS.items()},
    **{k: Cmd(f"mkfifo $FILES/{k}.fifo && ./mini-kvm {a}", timeout=FIFO_BOUND)
       for k, a in FIFO_ERRORS.items()},
    "badwrite": Cmd("./mini-kvm badwrite.bin", timeout=T),
    "badwrite-with-others": Cmd("./mini-kvm counter.bin badwrite.bin fib.bin", timeout=T),
    "max-guests": Cmd("./mini-kvm " + guests(64), timeout=60),
}


def one_line(r, status, needle):
    assert not r.timed_out, r
    assert r.status == status, r
    errs = r.err.splitlines()
    assert len(errs) == 1, r
    assert errs[0].startswith("mini-kvm: ") and needle in errs[0], r


@pytest.mark.parametrize("name", sorted(FILE_ERRORS))
def test_bad_file_is_one_clear_line(results, name):
    r = results[name]
    one_line(r, 1, FILE_ERRORS[name][1])
    assert "Hello" not in r.out, r      # no guest ran


@pytest.mark.parametrize("name", sorted(FIFO_ERRORS))
def test_fifo_is_refused_without_blocking(results, name):
    r = results[name]
    one_line(r, 1, f"{name}.fifo")
    assert "not a regular file" in r.err, r
    assert r.seconds < FIFO_BOUND, r


@pytest.mark.parametrize("name", sorted(CLI_ERRORS))
def test_bad_command_line_exits_2(results, name):
    r = results[name]
    one_line(r, 2, CLI_ERRORS[name][1])
    assert r.out == "", r


def test_sixty_four_guests_are_allowed(results):
    r = results["max-guests"]
    assert r.status == 0 and r.err == "", r
    assert r.out.count("[hello] Hello, world!") == 64, r


def test_write_outside_ram_stops_the_guest(results):
    r = results["badwrite"]
    one_line(r, 1, "WRITE")
    # DS:SI = FFFF:FFFF + 65535: past its segment (and RAM); the line names the first
    assert "badwrite" in r.err and "runs past the end of its 64 KiB segment" in r.err, r
    assert r.out == "writing a buffer outside RAM\n", r


def test_a_hostile_guest_does_not_stop_the_others(results):
    r = results["badwrite-with-others"]
    one_line(r, 1, "badwrite")
    out = r.out.splitlines()
    assert [l for l in out if l.startswith("[counter]")] == ["[counter] %d" % i for i in range(1, 11)]
    assert sum(1 for l in out if l.startswith("[fib]")) == 48, r
    assert "[fib] fib(47) = 2971215073" in out, r
    assert "the bad WRITE returned" not in r.out, r


# ---- garbage guests (direct only) ----

FATAL = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE}


def run_garbage(path, args=(), stdin=b"", bound=5):
    """Run a garbage guest. It must end cleanly or with one clear line (plus an indented
    register dump), or, if it still runs after `bound` s (a guest may loop forever), mini-kvm
    must still end promptly on SIGTERM. Returns how it ended."""
    name = re.sub(r"\.[^.]*$", "", path.rsplit("/", 1)[-1])
    p = subprocess.Popen([harness.MKVM, *args, path], cwd=REPO, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(stdin, timeout=bound)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        try:
            p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            pytest.fail("%s: mini-kvm ignored SIGTERM while its guest ran" % path)
        return "still running after %d s" % bound
    assert -p.returncode not in FATAL, "%s: mini-kvm died of signal %d" % (path, -p.returncode)
    text = err.decode(errors="replace")
    if p.returncode == 0:
        assert text == "", text
        return "exit 0"
    errs = text.splitlines()
    assert p.returncode == 1 and errs, (p.returncode, text)
    assert errs[0].startswith("mini-kvm: %s: " % name), text
    assert all(l.startswith("  ") for l in errs[1:]), "more than one unindented line:\n" + text
    return errs[0]


def random_bytes(seed, n):
    r = random.Random(seed)
    return bytes(r.randrange(256) for _ in range(n))


@pytest.mark.parametrize("mode", ["real", "long"])
def test_random_bytes(tmp_path, mode):
    ends = []
    for seed, n in [(1, 16), (2, 512), (3, 4096), (4, 61440), (5, 4096), (6, 100)]:
        path = str(tmp_path / ("rand%d.bin" % seed))
        with open(path, "wb") as f:
            f.write(random_bytes(seed, n))
        ends.append(run_garbage(path, ["--mode", mode], bound=3))
    # most garbage faults quickly with a message; not every one (a guest may loop)
    assert sum(e.startswith("mini-kvm: ") for e in ends) >= 2, ends


def test_real_mode_binary_run_in_long_mode(tmp_path):
    run_garbage("hello.bin", ["--mode", "long"])


def hostile_program(r, mode):
    """Random hypercalls with random (often bad) buffer addresses and lengths, then EXIT."""
    b = bytearray()
    for _ in range(r.randrange(1, 30)):
        fn = r.choice([1, 2, 4, 4, 4, 5, 5, 5, 6, 7, r.randrange(8, 256)])
        if mode == "real":
            for op in (0xBE, 0xB9, 0xBF, 0xBB):     # mov $imm16, %si / %cx / %di / %bx
                v = r.choice([0, 1, 0xFFFF, 0xFFFE, 0x8000, r.randrange(65536)])
                b += bytes([op]) + struct.pack("<H", v)
            if r.random() < 0.5:                    # mov $imm16, %ax; mov %ax, %ds
                ds = r.choice([0, 0xFFFF, 0xF000, r.randrange(65536)])
                b += b"\xB8" + struct.pack("<H", ds) + b"\x8E\xD8"
            b += b"\xBA\x00\x05\xB0" + bytes([fn]) + r.choice([b"\xEE", b"\xEF", b"\x66\xEF"])
        else:
            for op in (0xBE, 0xB9, 0xBF, 0xBB):     # movabs $imm64, %rsi / %rcx / %rdi / %rbx
                v = r.choice([0, 1, 2 ** 64 - 1, 2 ** 63, 0x1FFFFF, 0xFFFFF000, 0x100000000,
                              0x7FFFFFFFFFFF, 0xFFFF800000000000, r.randrange(2 ** 64),
                              r.randrange(0x300000)])
                b += bytes([0x48, op]) + struct.pack("<Q", v)
            b += b"\xBA\x00\x05\x00\x00\xB0" + bytes([fn]) + b"\xEE"
    exit_ = b"\xBA\x00\x05\xB0\x00\xEE" if mode == "real" else b"\xBA\x00\x05\x00\x00\xB0\x00\xEE"
    return bytes(b + exit_)


@pytest.mark.parametrize("mode", ["real", "long"])
def test_hostile_hypercall_arguments(tmp_path, mode):
    ends = []
    for seed in range(40):
        r = random.Random(seed)
        path = str(tmp_path / ("hostile%d.bin" % seed))
        with open(path, "wb") as f:
            f.write(hostile_program(r, mode))
        ends.append(run_garbage(path, ["--mode", mode], stdin=random_bytes(seed, 200), bound=3))
    bad_buffer = ("is outside guest memory", "runs past the end of its 64 KiB segment",
                  "is not mapped", "has a non-canonical address", "is longer than 65535")
    assert any(b in e for e in ends for b in bad_buffer), ends
    assert any("unknown hypercall" in e for e in ends), ends


def long_mode_write(rsi, rcx):
    """A long-mode flat guest: WRITE (RSI, RCX), then EXIT."""
    return (b"\x48\xBE" + struct.pack("<Q", rsi) + b"\x48\xB9" + struct.pack("<Q", rcx) +
            b"\xBA\x00\x05\x00\x00\xB0\x04\xEE" + b"\xB0\x00\xEE")


@pytest.mark.parametrize("rsi, rcx, want", [
    (0x100000000, 16, "buffer of 16 bytes at rsi=0x100000000 is not mapped "
                      "(page at linear 0x100000000 not present)"),
    (0x80000000, 16, "buffer of 16 bytes at rsi=0x80000000 is outside guest memory "
                     "(guest-physical 0x80000000-0x8000000f)"),
    (0xFFFF7FFFFFFFF000, 16, "has a non-canonical address"),
], ids=["not-present", "outside-ram", "non-canonical"])
def test_bad_hypercall_buffer_says_what_is_wrong(tmp_path, rsi, rcx, want):
    """Issue 12, defect 5: the one line names the problem, not always "outside guest memory"."""
    g = tmp_path / "badbuf.bin"
    g.write_bytes(long_mode_write(rsi, rcx))
    p = subprocess.run([harness.MKVM, "--mode", "long", str(g)], cwd=REPO, capture_output=True,
                       text=True, timeout=T, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    assert p.stderr.startswith("mini-kvm: badbuf: hypercall WRITE: ") and want in p.stderr, p
    assert p.stderr.count("\n") == 1, p
