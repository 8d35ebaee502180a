# test_image_lock.py - mini-kvm and QEMU refuse each other a disk image that one of them holds
# read-write (issue 12, defect 7): both use QEMU's OFD byte locks (src/core/image.c).
"""Direct only. The holder is started, the test waits (bounded) until it has the image open,
then the other program must refuse it with its own error and leave the image's bytes alone.
QEMU's side is qemu-io (Debian qemu-utils, installed by tools/setup-host check)."""
import os
import select
import shutil
import subprocess
import time

import pytest

import harness
from harness import REPO

T = 20
pytestmark = pytest.mark.skipif(not shutil.which("qemu-io"),
                                reason="qemu-io missing (apt-get install qemu-utils)")


def make_image(tmp_path, readonly=False):
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(range(256)) * 2 + b"\0" * (1 << 20))
    if readonly:
        img.chmod(0o444)        # mini-kvm opens a file without write permission read-only
    return img


class Holder:
    """A process that holds the image; ready once `ready` appeared on its stdout."""
    def __init__(self, argv, ready, send=None):
        self.p = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        if send:
            self.p.stdin.write(send)
            self.p.stdin.flush()
        out, end = b"", time.monotonic() + T
        while ready not in out:
            left = end - time.monotonic()
            assert left > 0 and select.select([self.p.stdout], [], [], left)[0], (argv, out)
            chunk = os.read(self.p.stdout.fileno(), 4096)
            assert chunk, (argv, out, self.p.stderr.read())
            out += chunk

    def close(self):
        self.p.kill()
        self.p.wait()


def mini_kvm_holds(img):
    return Holder([harness.MKVM, "-k", "os.elf", "--disk", str(img)], b"$ ")


def qemu_holds(img, readonly=False):
    return Holder(["qemu-io", "-f", "raw"] + (["-r"] if readonly else []) + [str(img)],
                  b"read 512/512 bytes", send=b"read 0 512\n")


def qemu_io(img, cmd, readonly=False):
    return subprocess.run(["qemu-io", "-f", "raw"] + (["-r"] if readonly else []) +
                          ["-c", cmd, str(img)], capture_output=True, text=True, timeout=T)


@pytest.mark.parametrize("readonly", [False, True], ids=["mini-kvm-rw", "mini-kvm-ro"])
def test_qemu_cannot_write_an_image_mini_kvm_holds(tmp_path, readonly):
    img = make_image(tmp_path, readonly)
    before = img.read_bytes()
    h = mini_kvm_holds(img)
    try:
        w = qemu_io(img, "write -P 0x55 0 512")
        r = qemu_io(img, "read 0 512", readonly=True)
    finally:
        h.close()
    assert w.returncode != 0 and "lock" in w.stderr, w
    assert img.read_bytes() == before
    if readonly:                # two readers are fine
        assert r.returncode == 0 and "read 512/512 bytes" in r.stdout, r


@pytest.mark.parametrize("readonly", [False, True], ids=["mini-kvm-rw", "mini-kvm-ro"])
def test_mini_kvm_refuses_an_image_qemu_writes(tmp_path, readonly):
    img = make_image(tmp_path, readonly)
    before = img.read_bytes()
    h = qemu_holds(img)
    try:
        p = subprocess.run([harness.MKVM, "-k", "os.elf", "--disk", str(img)], cwd=REPO,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=T)
    finally:
        h.close()
    assert p.returncode == 1, p
    assert p.stderr == "mini-kvm: %s: disk image is in use (by another process, or given " \
                       "twice)\n" % img, p
    assert img.read_bytes() == before


def test_mini_kvm_reads_beside_a_qemu_reader(tmp_path):
    """Only writers exclude: a read-only mini-kvm opens an image qemu-io -r holds."""
    img = make_image(tmp_path, readonly=True)
    h = qemu_holds(img, readonly=True)
    try:
        p = subprocess.run([harness.MKVM, "-k", "os.elf", "--disk", str(img)], cwd=REPO,
                           input="shutdown\n", capture_output=True, text=True, timeout=T)
    finally:
        h.close()
    assert p.returncode == 0 and "in use" not in p.stderr, p
