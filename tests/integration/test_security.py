# test_security.py - least privilege (docs/security.md): every thread sealed by its
# seccomp filter while the guest runs, a forbidden call reported and fatal, --user.
"""The guest used is calc.bin: it blocks reading a line from stdin, so mini-kvm's
threads (main, the vCPU, the stdin reader) are all alive while we read
/proc/PID/task/*/status; then it gets its line and must still answer."""
import os
import re
import subprocess
import time

import pytest

import harness
from harness import REPO, Cmd

MKVM = harness.MKVM
# The ASan pass (make check-asan): main stays unfiltered there, for LeakSanitizer's
# exit check (docs/security.md, "Seccomp in sanitizer builds").
with open(MKVM, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()
MAIN_SECCOMP = "0" if SANITIZED else "2"
HOOK = os.path.join(REPO, "build", "test", "mini-kvm-seccomp-hook")
BOUND = 20      # seconds for any one wait below


def status_fields(path):
    fields = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
    except (FileNotFoundError, ProcessLookupError):
        pass    # the thread ended between listdir and open
    return fields


def threads(pid):
    """mini-kvm's own threads, the vCPUs named vcpuN (KVM may add a kernel worker such
    as kvm-nx-lpage-recovery to the process: not ours, left out)."""
    d = "/proc/%d/task" % pid
    ts = [status_fields(os.path.join(d, t, "status")) for t in sorted(os.listdir(d))]
    return [t for t in ts if t.get("Name") == os.path.basename(MKVM)[:15]      # comm
            or re.fullmatch(r"vcpu\d+", t.get("Name", ""))]


def wait_for(pred, what):
    """Poll a condition of the running process, bounded (not a sleep-as-sync:
    the condition itself is what the test waits for)."""
    end = time.monotonic() + BOUND
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    pytest.fail("not within %d s: %s" % (BOUND, what))


def start(args, **kw):
    return subprocess.Popen([MKVM] + args, cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def answer(p):
    """Feed calc.bin its line; it must still compute with every filter on."""
    try:
        out, err = p.communicate(b"6 * 7\n", timeout=BOUND)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out.decode(), err.decode()


def sealed(pid, n):
    """All n threads (main, vCPU, stdin reader...) exist and report a filter (main
    none in the ASan pass)."""
    ts = threads(pid)
    main = status_fields("/proc/%d/status" % pid).get("Seccomp")
    others = sorted(t.get("Seccomp") for t in ts)
    return ts if (len(ts) == n and main == MAIN_SECCOMP and
                  others == sorted([MAIN_SECCOMP] + ["2"] * (n - 1))) else None


# Every thread kind of a command-line run: main, vCPU and stdin reader always; the
# watchdog (--timeout), the GDB stub (--gdb) and the --top thread when asked for.
@pytest.mark.parametrize("extra,n", [([], 3), (["--timeout", "60"], 4), (["--gdb", "GDB"], 4),
                                     (["--top"], 4)], ids=["plain", "watchdog", "gdb", "top"])
def test_every_thread_is_filtered_and_has_no_new_privs(tmp_path, extra, n):
    extra = [str(tmp_path / "gdb.sock") if a == "GDB" else a for a in extra]
    p = start(extra + ["calc.bin"])
    try:
        ts = wait_for(lambda: sealed(p.pid, n), "%d threads with Seccomp: 2" % n)
        assert all(t["NoNewPrivs"] == "1" for t in ts), ts
        main = status_fields("/proc/%d/status" % p.pid)
        assert (main["Seccomp"], main["NoNewPrivs"]) == (MAIN_SECCOMP, "1"), main
    finally:
        status, out, err = answer(p)
    assert (status, out) == (0, "42\n"), (status, out, err)
    assert "seccomp" not in err, err


def test_no_seccomp_turns_the_filters_off_but_not_no_new_privs():
    p = start(["--no-seccomp", "calc.bin"])
    try:
        ts = wait_for(lambda: len(threads(p.pid)) == 3 and threads(p.pid),
                      "three threads")
        assert all((t["Seccomp"], t["NoNewPrivs"]) == ("0", "1") for t in ts), ts
    finally:
        status, out, err = answer(p)
    assert (status, out) == (0, "42\n"), (status, out, err)


def test_forbidden_call_from_a_vcpu_is_reported_and_fatal():
    # the test build's vCPU thread calls socket() right after sealing itself
    assert os.path.exists(HOOK), "build it: make " + os.path.relpath(HOOK, REPO)
    r = harness.run_direct(Cmd(HOOK + " hello.bin", timeout=BOUND))
    assert r.status == 159 and r.out == "", r      # 128 + SIGSYS, the guest never ran
    assert r.err == ("mini-kvm: seccomp: vcpu thread made forbidden system call 41 (socket): "
                     "killed\n"), r


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs mini-kvm started as root")
def test_user_drops_to_nobody_with_no_capabilities():
    p = start(["--user", "65534:65534", "calc.bin"])
    try:
        ts = wait_for(lambda: sealed(p.pid, 3), "three sealed threads")
        for t in ts:
            assert t["Uid"].split() == ["65534"] * 4, t
            assert t["Gid"].split() == ["65534"] * 4, t
            assert t["Groups"] == "65534", t
            for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
                assert int(t[cap], 16) == 0, (cap, t)
    finally:
        status, out, err = answer(p)
    assert (status, out, err) == (0, "42\n", ""), (status, out, err)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start mini-kvm as another user")
def test_user_needs_root():
    def become_nobody():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    p = subprocess.run([MKVM, "--user", "65534:65534", "hello.bin"], cwd=REPO,
                       capture_output=True, timeout=BOUND, preexec_fn=become_nobody)
    assert p.returncode == 1 and p.stdout == b"", p
    assert p.stderr == (b"mini-kvm: --user 65534:65534: mini-kvm must be started as root "
                        b"to change user\n"), p


@pytest.mark.parametrize("arg", ["nobody", "65534", "65534:", ":65534", "1:2:3", "-1:5",
                                 "4294967295:1", "0:0", "0:100", "100:0", "99999999999:1"])
def test_bad_user_is_one_line(arg):
    r = harness.run_direct(Cmd("./mini-kvm --user '%s' hello.bin" % arg, timeout=BOUND))
    assert r.status == 2 and r.out == "", r
    assert len(r.err.splitlines()) == 1 and r.err.startswith("mini-kvm: --user '%s': " % arg), r


def test_api_mode_seals_every_thread_once_the_guest_runs(tmp_path):
    # --api: the API thread seals itself before it reads a request; main builds the
    # guest (InstanceStart is handed to it), vCPU and reader seal as they start,
    # main once the guest runs
    import pexpect
    from test_api import curl, start_api
    sock = str(tmp_path / "vm.sock")
    c = start_api(sock)
    try:
        assert curl(sock, "PUT", "/boot-source", {"kernel_image_path": "os.elf"})[0] == 204
        # before InstanceStart: every thread but main (the API thread) is sealed
        ts = threads(c.pid)
        others = [t for t in ts if t["Pid"] != str(c.pid)]
        assert len(others) >= 1 and all(t["Seccomp"] == "2" for t in others), ts
        assert all(t["NoNewPrivs"] == "1" for t in ts), ts
        assert status_fields("/proc/%d/status" % c.pid)["Seccomp"] == "0"   # builds guests
        assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})[0] == 204
        c.expect_exact("\n$ ")
        ts = wait_for(lambda: sealed(c.pid, 4), "main, API, vCPU and stdin reader sealed")
        assert all(t["NoNewPrivs"] == "1" for t in ts), ts
        assert status_fields("/proc/%d/status" % c.pid)["Seccomp"] == MAIN_SECCOMP
        # the sealed API thread still answers: pause, snapshot, resume the running guest
        assert curl(sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        snap, mem = str(tmp_path / "vm.snap"), str(tmp_path / "vm.mem")
        assert curl(sock, "PUT", "/snapshot/create",
                    {"snapshot_path": snap, "mem_file_path": mem})[0] == 204
        assert os.path.getsize(snap) > 0 and os.path.getsize(mem) > 0
        assert curl(sock, "PATCH", "/vm", {"state": "Resumed"})[0] == 204
        c.sendline("echo still-here")
        c.expect_exact("still-here")
        c.sendline("shutdown")
        c.expect(pexpect.EOF)
        c.wait()
        assert c.exitstatus == 0, (c.exitstatus, c.signalstatus, c.before)
    finally:
        c.close(force=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="--user needs mini-kvm started as root")
def test_user_keeps_a_disk_only_root_may_open_writable(tmp_path):
    # opened (read-write, locked) as root before the drop: nobody's guest still writes it
    import hashlib
    import shutil
    import pexpect
    disk = tmp_path / "d.img"
    shutil.copy(os.path.join(REPO, "os-disk.img"), disk)
    os.chmod(disk, 0o600)
    before = hashlib.sha256(disk.read_bytes()).hexdigest()
    c = pexpect.spawn(MKVM, ["--user", "65534:65534", "-k", "os.elf", "--disk", str(disk)],
                      cwd=REPO, timeout=BOUND, encoding="utf-8", codec_errors="replace")
    try:
        c.expect_exact("$ ")
        assert [t["Uid"].split()[0] for t in threads(c.pid)] == ["65534"] * len(threads(c.pid))
        c.sendline("write n.txt written-by-nobody")
        c.expect_exact("$ ")
        c.sendline("shutdown")
        c.expect(pexpect.EOF)
        c.wait()
        assert c.exitstatus == 0, (c.exitstatus, c.signalstatus, c.before)
    finally:
        c.close(force=True)
    data = disk.read_bytes()
    assert hashlib.sha256(data).hexdigest() != before and b"written-by-nobody" in data
