# test_build.py - the guest build rules: assembler warnings are errors
# (`in $0x510, %al` must not silently become port 0x10).
import os
import shutil
import subprocess

import pytest

from harness import REPO


@pytest.mark.nokvm
def test_a_guest_assembler_warning_fails_the_build(tmp_path):
    shutil.copy(os.path.join(REPO, "Makefile"), tmp_path)
    real = tmp_path / "guests" / "real"
    real.mkdir(parents=True)
    shutil.copy(os.path.join(REPO, "guests", "real", "lib.inc"), real)
    shutil.copytree(os.path.join(REPO, "src", "abi"), tmp_path / "src" / "abi")
    (real / "wide.S").write_text('    .include "lib.inc"\nmain:\n    in $0x510, %al\n    EXIT\n')
    (real / "fine.S").write_text('    .include "lib.inc"\nmain:\n'
                                 '    mov $0x510, %dx\n    in (%dx), %al\n    EXIT\n')
    ok = subprocess.run(["make", "-s", "fine.bin"], cwd=tmp_path, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and (tmp_path / "fine.bin").exists(), ok.stderr
    bad = subprocess.run(["make", "-s", "wide.bin"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "0x510 shortened to 0x10" in bad.stderr, bad.stderr
    assert not (tmp_path / "wide.bin").exists()


@pytest.mark.nokvm
def test_a_command_line_cflags_keeps_the_project_flags(tmp_path):
    """Issue 12, defect 4: `make CFLAGS='-O0 -g'` replaces only the user's part; -std=c11,
    -D_GNU_SOURCE, -Isrc and the warnings stay (objects in a scratch BUILD directory)."""
    out = tmp_path / "mini-kvm"
    p = subprocess.run(["make", "-s", "-j2", "BUILD=%s" % tmp_path, "CFLAGS=-O0 -g", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    v = subprocess.run([str(out), "--version"], capture_output=True, text=True, timeout=30)
    assert v.returncode == 0 and v.stdout.startswith("mini-kvm "), v
    n = subprocess.run(["make", "-n", "-B", "BUILD=%s" % tmp_path, "CFLAGS=-O0 -g",
                        str(tmp_path / "src" / "main.o")], cwd=REPO, capture_output=True,
                       text=True, timeout=30)
    assert "-O0 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc" in n.stdout, n.stdout
