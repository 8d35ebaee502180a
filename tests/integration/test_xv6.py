# test_xv6.py - optional: unmodified xv6 (x86) from its own disk images, when XV6_DIR names a
# directory holding xv6.img and fs.img (built by xv6-public's Makefile; never in the repo).
"""Skipped, with a line saying so, when XV6_DIR is unset. xv6 turns on 32-bit paging, so on
this project's hosts it runs in the lab, where it is slow (QEMU/TCG with nested KVM: under
100 s to the prompt with -c 2). Two boots one after the other on the same fs.img copy: the
first creates a file, the second reads it back (the file system persists). xv6 never ends by
itself, so each boot is bounded by --timeout (status 124).

The command is typed once the prompt is there, not ahead: a byte that arrives before
xv6's uartinit() raises the UART line while the IOAPIC pin is still masked, KVM's IOAPIC
drops that edge, and xv6 sees no input until the next byte arrives (docs/legacy-pc.md)."""
import os

import pytest

from harness import Cmd

XV6_DIR = os.environ.get("XV6_DIR", "")
IMAGES = [os.path.join(XV6_DIR, n) for n in ("xv6.img", "fs.img")]
PROMPT = 110    # seconds until the command is typed (the prompt came within 100 s)
BOOT = 200      # seconds per boot, in the lab
RUN = ("(sleep %d; printf '%%s\\n'; sleep %d) | ./mini-kvm -c 2 --ide $FILES/xv6.img "
       "--ide $FILES/fs.img --timeout %d --cga-dump; echo rc=$?" % (PROMPT, BOOT - PROMPT, BOOT))

COMMANDS = {}
if XV6_DIR:
    COMMANDS["two-boots"] = Cmd(RUN % "echo persisted-by-xv6 > pfile" + "; echo ==second==; "
                                + RUN % "cat pfile", timeout=2 * BOOT + 60, files=IMAGES)

pytestmark = pytest.mark.skipif(not XV6_DIR, reason="XV6_DIR is not set (a directory with "
                                "xv6.img and fs.img from xv6-public's Makefile)")


@pytest.mark.needs("32bit-paging")
def test_xv6_boots_to_its_shell_and_keeps_its_files(results):
    r = results["two-boots"]
    first, _, second = r.out.partition("==second==")
    for cpu in (0, 1):
        assert "cpu%d: starting %d" % (cpu, cpu) in first, r
    assert "init: starting sh" in first and "$ " in first, r
    assert "rc=124" in first and "rc=124" in second, r      # stopped by --timeout only
    lines = [l.strip() for l in second.replace("\r", "").splitlines()]
    assert "persisted-by-xv6" in lines, r                  # cat's output, on its own line
    assert "xv6: CGA text screen" in r.err and "|init: starting sh" in r.err, r
