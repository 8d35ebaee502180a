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
