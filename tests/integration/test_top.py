# test_top.py - --top on a terminal (a pty driven by pexpect): it redraws in a
# status area at the bottom, shows non-zero rates for a running guest, and
# leaves the terminal as it found it (stty -g before == after, scrolling
# region reset), also when killed; plain blocks of lines without a terminal;
# Ctrl-A t for a kernel.
import os
import re
import shutil
import signal
import subprocess

import pexpect

import harness
from harness import REPO

ROWS, COLS = 30, 100
FRAME = re.compile(r"mini-kvm --top: exits/s by reason \| by device, over [0-9.]+ s")


def spawn(cmd, tmp_path):
    """bash on a pty: stty -g before and after `cmd`, and its status."""
    script = ("stty -g > %s/before; %s; echo status=$?; stty -g > %s/after"
              % (tmp_path, cmd, tmp_path))
    return pexpect.spawn("bash", ["-c", script], cwd=REPO, dimensions=(ROWS, COLS),
                         timeout=20, encoding="utf-8", codec_errors="replace")


def finish(c, status):
    c.expect(r"status=(\d+)")
    assert c.match.group(1) == str(status)
    c.expect(pexpect.EOF)


def same_stty(tmp_path):
    before = (tmp_path / "before").read_text()
    after = (tmp_path / "after").read_text()
    return before == after and before.strip() != ""


def test_top_redraws_in_place_with_live_counts_and_restores_the_terminal(tmp_path):
    c = spawn("./mini-kvm --top uart.bin", tmp_path)
    try:
        c.expect_exact("COM1 read: ")
        rates = []
        for _ in range(2):                  # two frames: it redraws
            c.expect(FRAME)
            c.expect(r"uart +cpu0 +(\d+)/s +IO (\d+) +\| serial (\d+)")
            rates.append(int(c.match.group(3)))
        assert min(rates) > 100, rates      # the guest polls COM1's LSR while it waits
        c.sendline("top ok")
        c.expect_exact("TOP OK\r\n")      # after the terminal's echo of the line
        finish(c, 0)
    finally:
        c.close(force=True)
    assert same_stty(tmp_path)


def test_the_status_area_is_a_scrolling_region_given_back_at_exit(tmp_path):
    log = tmp_path / "raw"
    c = pexpect.spawn("bash", ["-c", "./mini-kvm --top uart.bin; echo status=$?"], cwd=REPO,
                      dimensions=(ROWS, COLS), timeout=20, encoding="utf-8",
                      codec_errors="replace")
    c.logfile_read = open(log, "w")
    try:
        c.expect(FRAME)
        c.expect(FRAME)
        c.sendline("x")
        c.expect(r"status=0")
        c.expect(pexpect.EOF)
    finally:
        c.close(force=True)
        c.logfile_read.close()
    raw = log.read_text()
    region = "\x1b[1;%dr" % (ROWS - 2)      # the header and one vCPU line
    assert raw.count(region) == 1, repr(raw[:400])
    first, last = raw.index(region), raw.rindex("\x1b[r")
    assert first < raw.rindex(FRAME.pattern[:14]) < last, repr(raw[-400:])
    assert raw.index("COM1 read:") < raw.index("X\n") < raw.index("status=0"), repr(raw)


def test_killed_with_top_on_the_terminal_is_restored(tmp_path):
    log = tmp_path / "raw"
    c = spawn("./mini-kvm --top uart.bin", tmp_path)
    c.logfile_read = open(log, "w")
    try:
        c.expect(FRAME)
        pid = int(subprocess.run(["pgrep", "-P", str(c.pid), "-x", "mini-kvm"],
                                 capture_output=True, text=True, timeout=10).stdout.split()[0])
        os.kill(pid, signal.SIGTERM)
        finish(c, 128 + signal.SIGTERM)
    finally:
        c.close(force=True)
        c.logfile_read.close()
    raw = log.read_text()
    assert raw.rindex("\x1b[r") > raw.rindex("mini-kvm --top"), repr(raw[-300:])
    assert same_stty(tmp_path)


def test_top_without_a_terminal_prints_a_block_each_second():
    p = subprocess.run([harness.MKVM, "--top", "--timeout", "3", "uart.bin"], cwd=REPO,
                       input="", capture_output=True, text=True, timeout=30)
    assert p.returncode == 124, p
    frames = FRAME.findall(p.stderr)
    assert len(frames) >= 2, p.stderr
    assert "\x1b" not in p.stderr, p.stderr
    assert re.search(r"^uart +cpu0 +\d+/s +IO \d+ +\| serial \d+", p.stderr, re.M), p.stderr


def test_ctrl_a_t_shows_top_for_a_kernel(tmp_path):
    disk = tmp_path / "d.img"
    shutil.copy(os.path.join(REPO, "os-disk.img"), disk)
    c = spawn("./mini-kvm -k os.elf --disk %s" % disk, tmp_path)
    try:
        c.expect_exact("$ ")
        c.send("\x01t")                     # show
        c.expect(FRAME)
        c.expect(r"os +cpu0 +\d+/s")
        c.send("\x01t")                     # hide
        c.send("\x01x")                     # quit
        finish(c, 0)
    finally:
        c.close(force=True)
    assert same_stty(tmp_path)
