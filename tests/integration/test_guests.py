# test_guests.py - the teaching guests (guests/real, guests/long) on mini-kvm: exact output
# and status of each, several and many at once, isolation, input, --trace/--stats, colour.
"""Two kinds of tests:

* Commands in COMMANDS, through the `results` fixture: run directly here and, with
  --lab=always, all in one lab boot. Expected outputs are computed here in Python.
* Direct-only tests (a pty with pexpect, CPU time of a waiting guest): they watch the
  process while it runs, so they use subprocess/pexpect themselves.

Needs `make` first (./mini-kvm and the *.bin guests in the repo root).
"""
import fcntl
import os
import re
import struct
import subprocess
import termios
import time

import pexpect
import pytest

import harness
from harness import Cmd, REPO

T = 20          # seconds: bound on each command (each guest alone takes < 1 s)


# ---- expected outputs, computed independently of the guests ----

def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def primes_below(n):
    return [p for p in range(2, n) if all(p % d for d in range(2, int(p ** 0.5) + 1))]


MAT_A = [[3, -1, 4, 1], [5, 9, -2, 6], [-53, 5, 8, 9], [7, 9, 3, 1000]]
MAT_B = [[2, 7, 1, 8], [2, -8, 1, 8], [28, 18, 28, -459], [45, 2, 35, 30]]


def lines(*ls):
    return "".join(l + "\n" for l in ls)


def expected_primes():
    ps = primes_below(1000)
    rows = [" ".join(str(p) for p in ps[i:i + 10]) for i in range(0, len(ps), 10)]
    return lines(*rows, "%d primes below 1000" % len(ps))


def expected_matrix():
    rows = []
    for i in range(4):
        row = [sum(MAT_A[i][k] * MAT_B[k][j] for k in range(4)) for j in range(4)]
        rows.append("".join("%7d" % v for v in row))
    return lines(*rows)


def c_div(a, b):
    """C's / and % (round towards zero)."""
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return q, a - q * b


SCRIBBLE_OK = lines("scribble: wrote and verified 960 KiB outside its own segment",
                    "scribble: pattern intact")

EXPECTED = {        # guest -> exact stdout when run alone (status 0)
    "hello": "Hello, world! (real mode guest)\n",
    "counter": lines(*[str(i) for i in range(1, 11)]),
    "multab": lines(*["".join("%4d" % (i * j) for j in range(1, 11)) for i in range(1, 11)]),
    "fib": lines(*["fib(%d) = %d" % (n, fib(n)) for n in range(48)]),
    "primes": expected_primes(),
    "matrix": expected_matrix(),
    "scribble": SCRIBBLE_OK,
}

CALC_INPUT = ["12 * 34", "1 + 2", "  100   -   -23  ", "-7 / 2", "7 % -3", "-7 % 2",
              "2147483647 / -1", "1000000 * -2000", "", "5 / 0", "5 % 0",
              "2147483647 + 1", "-2147483647 - 2", "65536 * 65536", "99999999999 + 1",
              "12", "12 ^ 3", "foo", "1 + 2 + 3", "0 - 2147483647"]
CALC_OUTPUT = lines("408", "3", "123", "-3", "1", "-1", "-2147483647", "-2000000000",
                    "error: division by zero", "error: division by zero",
                    "error: overflow", "error: overflow", "error: overflow",
                    "error: number too large",
                    *["error: expected NUMBER OP NUMBER (OP is one of + - * / %)"] * 4,
                    "-2147483647")

HCALL_INPUT = "hello\n0123456789\nxy\n"
HCALL_CHECKS = ["version is 1", "putchar", "write", "nop keeps registers",
                "16-bit out uses AL", "32-bit out uses AL", "readline",
                "readline truncates a long line", "getchar after a truncated line",
                "in without getchar", "getchar newline", "readline at end of input",
                "getchar at end of input"]
HCALL_INPUT_CHECKS = 5      # the checks from "readline" to "getchar newline"

MULTI = ["counter", "fib", "primes", "matrix"]
MANY = ["c%02d" % i for i in range(1, 15)] + ["fib", "primes", "matrix", "multab"]


def many_guests_cmd():
    """18 guests at once: 14 copies of counter.bin with their own names, and four others."""
    copies = " ".join("$FILES/%s.bin" % n for n in MANY[:14])
    return ("for g in %s; do cp counter.bin $g || exit 99; done; ./mini-kvm %s "
            "fib.bin primes.bin matrix.bin multab.bin" % (copies, copies))


COMMANDS = {
    **{g: Cmd("./mini-kvm %s.bin" % g, timeout=T) for g in EXPECTED},
    "exitcode": Cmd("./mini-kvm exitcode.bin", timeout=T),
    "scribble-256k": Cmd("./mini-kvm -m 256K scribble.bin", timeout=T),
    "calc": Cmd("./mini-kvm calc.bin", input=lines(*CALC_INPUT), timeout=T),
    "calc-no-input": Cmd("./mini-kvm calc.bin", timeout=T),
    "echo": Cmd("./mini-kvm echo.bin", input="ping\npong", timeout=T),
    "hcall-test": Cmd("./mini-kvm hcall-test.bin", input=HCALL_INPUT, timeout=T),
    "hcall-test-no-input": Cmd("./mini-kvm hcall-test.bin", timeout=T),
    "hello64": Cmd("./mini-kvm --mode long -m 4M hello64.bin", timeout=T),
    "hello64-default": Cmd("./mini-kvm --mode long hello64.bin", timeout=T),
    "fib64": Cmd("./mini-kvm --mode long fib64.bin", timeout=T),
    "upper64": Cmd("./mini-kvm --mode long upper64.bin", input="hello, World 42\n\nlast",
                   timeout=T),
    "multi": Cmd("./mini-kvm %s" % " ".join(g + ".bin" for g in MULTI), timeout=T),
    "many": Cmd(many_guests_cmd(), timeout=60),
    "status-7-first": Cmd("./mini-kvm hello.bin exitcode.bin badcall.bin", timeout=T),
    "status-1-first": Cmd("./mini-kvm hello.bin badcall.bin exitcode.bin", timeout=T),
    "isolation": Cmd("./mini-kvm scribble.bin fib.bin", timeout=T),
    "isolation-2": Cmd("./mini-kvm fib.bin scribble.bin scribble.bin counter.bin", timeout=T),
    "input-first": Cmd("./mini-kvm echo.bin calc.bin", input="1 + 2\n", timeout=T),
    "input-first-2": Cmd("./mini-kvm calc.bin echo.bin", input="1 + 2\n", timeout=T),
    "badcall": Cmd("./mini-kvm badcall.bin", timeout=T),
    "trace": Cmd("./mini-kvm --trace hello.bin", timeout=T),
    "stats": Cmd("./mini-kvm --stats counter.bin", timeout=T),
    "nocolor-multi": Cmd("./mini-kvm hello.bin counter.bin", timeout=T),
    "nops": Cmd("./mini-kvm nops.bin", timeout=60),
}


def split_prefixed(out):
    """'[name] text' lines -> {name: 'text\\n...'}; fails on a line without a prefix."""
    per = {}
    for line in out.splitlines():
        m = re.fullmatch(r"\[([^\]]+)\] (.*)", line)
        assert m, "line without a [guest] prefix: %r" % line
        per.setdefault(m.group(1), []).append(m.group(2) + "\n")
    return {k: "".join(v) for k, v in per.items()}


def ok(r, out=None):
    assert not r.timed_out, r
    assert r.status == 0, r
    assert r.err == "", r
    if out is not None:
        assert r.out == out, r


# ---- each guest alone ----

@pytest.mark.parametrize("guest", sorted(EXPECTED))
def test_guest_output(results, guest):
    ok(results[guest], EXPECTED[guest])


def test_exitcode_is_the_status_of_mini_kvm(results):
    r = results["exitcode"]
    assert r.status == 7 and r.out == "exiting with status 7\n" and r.err == "", r


def test_scribble_finds_the_end_of_a_small_ram(results):
    ok(results["scribble-256k"], lines(
        "scribble: wrote and verified 192 KiB outside its own segment",
        "scribble: pattern intact"))


def test_calc_on_piped_input(results):
    ok(results["calc"], CALC_OUTPUT)
    # the expected numbers agree with C semantics computed here
    assert c_div(-7, 2) == (-3, -1) and c_div(7, -3) == (-2, 1)
    assert 12 * 34 == 408 and 100 - -23 == 123


def test_calc_exits_at_end_of_input(results):
    ok(results["calc-no-input"], "")


def test_echo_copies_input_with_getchar(results):
    ok(results["echo"], "ping\npong")


def test_hcall_test_passes_every_check(results):
    expect = lines(*["PASS " + c for c in HCALL_CHECKS],
                   "hcall-test: %d passed, 0 failed" % len(HCALL_CHECKS))
    ok(results["hcall-test"], expect)


def test_hcall_test_fails_without_its_input(results):
    r = results["hcall-test-no-input"]
    assert r.status == HCALL_INPUT_CHECKS, r
    assert r.out.count("FAIL ") == HCALL_INPUT_CHECKS, r
    assert "PASS readline at end of input" in r.out, r


# ---- long mode ----

def test_hello64_reports_its_ram(results):
    ok(results["hello64"], "Hello, world! (64-bit long mode guest)\nRAM: 4096 KiB\n")
    r = results["hello64-default"]
    ok(r)
    assert re.fullmatch(r"Hello, world! \(64-bit long mode guest\)\nRAM: \d+ KiB\n", r.out), r


def test_fib64(results):
    expect = lines(*["fib(%d) = %d" % (n, fib(n)) for n in range(94)],
                   "sum of fib(0..93) = fib(95) - 1: ok")
    assert fib(90) == 2880067194370816120
    ok(results["fib64"], expect)


def test_upper64_reads_lines_in_long_mode(results):
    ok(results["upper64"], lines("HELLO, WORLD 42", "", "LAST"))


# ---- several guests at once ----

def test_several_guests_prefixed_and_in_order(results):
    r = results["multi"]
    assert r.status == 0 and not r.timed_out and r.err == "", r
    per = split_prefixed(r.out)
    assert sorted(per) == sorted(MULTI), r
    for g in MULTI:
        assert per[g] == EXPECTED[g], "guest %s: %r" % (g, r)


def test_eighteen_guests_at_once(results):
    r = results["many"]
    assert r.status == 0 and not r.timed_out and r.err == "", r
    per = split_prefixed(r.out)
    assert sorted(per) == sorted(MANY), r
    for g in MANY:
        assert per[g] == EXPECTED["counter" if g.startswith("c") else g], "guest %s: %r" % (g, r)


def test_status_is_that_of_the_first_failing_guest(results):
    r = results["status-7-first"]
    assert r.status == 7 and not r.timed_out, r
    assert "[hello] Hello, world!" in r.out, r
    r = results["status-1-first"]
    assert r.status == 1 and not r.timed_out, r
    assert "[exitcode] exiting with status 7" in r.out, r


def test_scribbling_guest_does_not_disturb_another(results):
    r = results["isolation"]
    ok(r)
    per = split_prefixed(r.out)
    assert per == {"fib": EXPECTED["fib"], "scribble": SCRIBBLE_OK}, r


def test_two_scribblers_and_two_others(results):
    r = results["isolation-2"]
    ok(r)
    per = split_prefixed(r.out)
    assert per["fib"] == EXPECTED["fib"] and per["counter"] == EXPECTED["counter"], r
    assert per["scribble"] == SCRIBBLE_OK * 2, r


def test_input_goes_to_the_first_guest_only(results):
    r = results["input-first"]
    ok(r, "[echo] 1 + 2\n")
    r = results["input-first-2"]
    ok(r, "[calc] 3\n")


def test_nop_benchmark_guest_runs(results):
    ok(results["nops"], "")


# ---- errors, --trace, --stats, colour ----

def test_unknown_hypercall_is_named(results):
    r = results["badcall"]
    assert r.status == 1 and not r.timed_out, r
    assert r.out == "calling hypercall 0x42\n", r
    errs = r.err.splitlines()
    assert len(errs) == 1, r
    assert re.fullmatch(r"mini-kvm: badcall: unknown hypercall 0x42 at rip=0x[0-9a-f]+", errs[0]), r


def test_trace_shows_every_exit(results):
    r = results["trace"]
    assert r.status == 0 and r.out == EXPECTED["hello"], r
    trace = [l for l in r.err.splitlines() if l.strip()]
    assert len(trace) == 2, r      # WRITE and EXIT: exactly two exits
    for line, value in zip(trace, ("0x4", "0x0")):
        assert "IO" in line and "0x500" in line and value in line, r


def test_stats_prints_a_table(results):
    r = results["stats"]
    assert r.status == 0 and r.out == EXPECTED["counter"], r
    # counter: per number one WRITE (digits) and one PUTCHAR (newline), then EXIT
    assert re.search(r"^\s*IO\s+21\s*$", r.err, re.M), r
    assert re.search(r"port 0x500\s+21\s*$", r.err, re.M), r


def test_no_escape_codes_when_not_a_tty(results):
    r = results["nocolor-multi"]
    ok(r)
    assert "\033" not in r.out and "\033" not in r.err, r
    assert split_prefixed(r.out) == {"hello": EXPECTED["hello"], "counter": EXPECTED["counter"]}


def _tty_run(env_extra):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra)
    child = pexpect.spawn(harness.MKVM, ["hello.bin", "counter.bin"], cwd=REPO, env=env,
                          timeout=T)
    out = child.read()
    child.close()
    return child.exitstatus, out.decode(errors="replace")


def test_colour_on_a_tty_and_none_with_no_color():
    status, out = _tty_run({"TERM": "xterm"})
    assert status == 0 and "\033[" in out and "[counter]" in out, out
    status, out = _tty_run({"TERM": "xterm", "NO_COLOR": "1"})
    assert status == 0 and "\033" not in out, out
    assert "[hello] Hello, world! (real mode guest)" in out, out


# ---- waiting for input costs no CPU ----

def cpu_ticks(pid):
    """utime + stime of every thread of the process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.parametrize("guest,line,reply", [
    ("echo", b"ping\n", b"ping\n"),          # waits in GETCHAR
    ("calc", b"6 * 7\n", b"42\n"),           # waits in READLINE
])
def test_waiting_for_input_does_not_spin(guest, line, reply):
    p = subprocess.Popen([harness.MKVM, guest + ".bin"], cwd=REPO, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(line)
        p.stdin.flush()
        # sync on the guest's answer: it has consumed the line and waits for more
        got = b""
        deadline = time.monotonic() + T
        while got != reply and time.monotonic() < deadline:
            chunk = os.read(p.stdout.fileno(), 100)
            assert chunk, "stdout closed early"
            got += chunk
        assert got == reply
        # a measurement, not a synchronisation: CPU used over one idle second
        hz = os.sysconf("SC_CLK_TCK")
        before = cpu_ticks(p.pid)
        time.sleep(1.0)
        used = (cpu_ticks(p.pid) - before) / hz
        assert p.poll() is None, "the guest exited while input was still open"
        assert used < 0.1, "waiting for input used %.2f s of CPU in 1 s" % used
        # end of input: the guest sees it and exits
        p.stdin.close()
        assert p.wait(timeout=T) == 0
        assert p.stdout.read() == b"" and p.stderr.read() == b""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_timeout_stops_a_guest_that_never_ends(tmp_path):
    """--timeout: a guest spinning on `jmp $` is stopped with status 124 and one
    line naming it; a guest that finished in time keeps its output."""
    loop = tmp_path / "loop.bin"
    loop.write_bytes(b"\xeb\xfe")                   # jmp $
    t0 = time.monotonic()
    p = subprocess.run([harness.MKVM, "--timeout", "1", str(loop), "hello.bin"],
                       cwd=REPO, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    took = time.monotonic() - t0
    assert p.returncode == 124, p
    assert p.stderr == "mini-kvm: loop: still running after 1 s (--timeout): stopped\n"
    assert "[hello] Hello, world! (real mode guest)\n" in p.stdout
    assert 1.0 <= took < 10


def test_timeout_stops_a_guest_waiting_for_input():
    """A guest blocked in GETCHAR on a pipe that stays open and silent is
    stopped by --timeout too (the wait for input is woken, not just KVM_RUN)."""
    r, w = os.pipe()                        # w stays open and silent meanwhile
    t0 = time.monotonic()
    try:
        p = subprocess.Popen([harness.MKVM, "--timeout", "1", "echo.bin"],
                             cwd=REPO, stdin=r, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=15)
        finally:
            p.kill()
    finally:
        os.close(r)
        os.close(w)
    assert p.returncode == 124, (out, err)
    assert err == "mini-kvm: echo: still running after 1 s (--timeout): stopped\n"
    assert time.monotonic() - t0 < 10


F_SETPIPE_SZ = 1031                         # fcntl.h (Python's fcntl lacks it before 3.10)


@pytest.mark.parametrize("guests", [["echo.bin"], ["echo.bin", "hello.bin"]],
                         ids=["one-guest", "prefixed"])
def test_timeout_stops_a_guest_while_stdout_is_blocked(tmp_path, guests):
    """--timeout ends mini-kvm even when stdout is a full pipe that nobody reads (issue 12,
    defect 3): echo.bin copies endless input (/dev/zero) to stdout, a 4 KiB pipe fills, the
    vCPU blocks in write(2), and the kick must still get it out. The pipe is still full at
    the end (nobody read it; less than one prefixed line of room), so the vCPU really was
    blocked."""
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    err = tmp_path / "err"
    t0 = time.monotonic()
    with open("/dev/zero", "rb") as zero, open(err, "wb") as e:
        p = subprocess.Popen([harness.MKVM, "--timeout", "2", *guests], cwd=REPO,
                             stdin=zero, stdout=w, stderr=e)
    os.close(w)
    try:
        status = p.wait(timeout=20)
        took = time.monotonic() - t0
        queued = struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0" * 4))[0]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)
    assert status == 124, err.read_text()
    assert err.read_text() == "mini-kvm: echo: still running after 2 s (--timeout): stopped\n"
    assert 4096 - 1100 < queued <= 4096, queued
    assert 2.0 <= took < 6, took
