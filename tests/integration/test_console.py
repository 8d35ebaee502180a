# test_console.py - the kernel console on a terminal: raw mode while the guest
# runs, Ctrl-A h / Ctrl-A x, and the terminal restored on every exit path.
"""Runs our teaching OS (it boots here in well under a second) on a pty with
pexpect, and reads the pty's termios from the master side: Linux shows the
slave's settings there, so we see what mini-kvm left behind after it exits."""
import os
import shutil
import signal
import termios

import pexpect
import pytest

import harness
from harness import REPO

MKVM = harness.MKVM
PROMPT = "$ "


def lflag(child):
    return termios.tcgetattr(child.child_fd)[3]


@pytest.fixture
def guest(tmp_path):
    disk = tmp_path / "d.img"
    shutil.copy(os.path.join(REPO, "os-disk.img"), disk)
    child = pexpect.spawn(MKVM, ["-k", "os.elf", "--disk", str(disk)], cwd=REPO,
                          timeout=20, encoding="utf-8", codec_errors="replace")
    assert lflag(child) & termios.ICANON           # a normal terminal before
    child.expect_exact(PROMPT)
    yield child
    child.close(force=True)


def finish(child):
    """Wait for mini-kvm to exit, keeping the pty open to read its termios."""
    child.expect(pexpect.EOF)
    child.wait()


def restored(child):
    flags = lflag(child)
    return bool(flags & termios.ICANON) and bool(flags & termios.ECHO)


def test_raw_while_running_and_ctrl_a_x_quits(guest):
    assert not lflag(guest) & termios.ICANON        # raw: keys go to the guest
    guest.send("\x01h")
    guest.expect_exact("C-a x    exit mini-kvm")
    guest.send("\x01x")
    finish(guest)
    assert guest.exitstatus == 0
    assert restored(guest)


def test_ctrl_c_goes_to_the_guest_not_to_mini_kvm(guest):
    guest.send("\x03")                              # raw mode: no SIGINT
    guest.sendline("echo still here")
    guest.expect_exact("still here")
    assert guest.isalive()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_terminal_restored_when_killed(guest, sig):
    guest.kill(sig)
    finish(guest)
    assert guest.signalstatus == sig
    assert restored(guest)


def test_terminal_restored_after_guest_shutdown(guest):
    guest.sendline("shutdown")
    finish(guest)
    assert guest.exitstatus == 0
    assert restored(guest)


F_SETPIPE_SZ = 1031


def test_ctrl_a_x_quits_while_stdout_is_blocked(tmp_path):
    """Issue 12, defect 3: Ctrl-A x works whatever the state of stdout. stdin is a pty (raw
    mode, escapes on), stdout a 4 KiB pipe nobody reads; lines typed at the shell come back
    as echo and output until the pipe is full and the vCPU blocks in write(2). Then
    Ctrl-A x must still end mini-kvm (status 0), with the pipe still full."""
    import fcntl
    import select
    import struct
    import subprocess
    import time
    disk = tmp_path / "d.img"
    shutil.copy(os.path.join(REPO, "os-disk.img"), disk)
    master, slave = os.openpty()
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    p = subprocess.Popen([MKVM, "-k", "os.elf", "--disk", str(disk)], cwd=REPO, stdin=slave,
                         stdout=w, stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(slave)
    os.close(w)
    queued = lambda: struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0" * 4))[0]
    try:
        end = time.monotonic() + 20
        # Type until the pipe is full (the guest's UART writes byte by byte), pacing the
        # typing so the guest can keep up; bounded, and polling a condition, not a delay.
        while queued() < 4096 and time.monotonic() < end:
            os.write(master, b"echo " + b"x" * 60 + b"\r")
            select.select([], [], [], 0.05)
        full = queued()
        assert full == 4096, full
        os.write(master, b"echo more output for a full pipe\r\x01x")
        status = p.wait(timeout=10)
        assert status == 0
        assert queued() == full             # nobody read it: the vCPU really was blocked
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        os.close(master)
        os.close(r)
