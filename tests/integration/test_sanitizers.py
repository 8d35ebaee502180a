# test_sanitizers.py - the ASan+UBSan pass of `make check` (MINI_KVM=mini-kvm-asan): the
# direct commands really run that binary, and a sanitizer report really fails a test.
"""Without $MINI_KVM these tests are skipped (but the check that no test bypasses
harness.MKVM): the normal pass has nothing to check here.
The report check itself lives in conftest.py (fixture sanitizer_clean); see
docs/testing.md and docs/security.md ("Sanitizers")."""
import glob
import os
import re
import subprocess

import pytest

import harness

sanitizer_pass = pytest.mark.skipif(not os.environ.get("MINI_KVM"),
                                    reason="only in the sanitizer pass (MINI_KVM set)")


@pytest.mark.nokvm
def test_no_test_starts_mini_kvm_by_a_path_of_its_own():
    """A test that starts mini-kvm itself (Popen, pexpect) must use harness.MKVM, or the
    sanitizer pass would silently run the normal binary there. Shell command lines are
    mapped by the harness; a Python string that is exactly the binary's path is not. A
    line saying "not harness.MKVM" (with its reason) is a deliberate exception."""
    bad = []
    for path in sorted(glob.glob(os.path.join(harness.REPO, "tests", "integration", "*.py"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if "not harness.MKVM" in line:      # a deliberate, explained exception
                    continue
                if re.search(r"""["']\./mini-kvm["']|join\(REPO, ["']mini-kvm["']\)""", line):
                    bad.append("%s:%d: %s" % (os.path.basename(path), n, line.strip()))
    bad = [b for b in bad if not b.startswith(("harness.py", "test_sanitizers.py"))]
    assert not bad, "use harness.MKVM:\n" + "\n".join(bad)


@sanitizer_pass
def test_direct_commands_run_the_sanitizer_build(run):
    """./mini-kvm in a direct command is $MINI_KVM, and that binary has ASan and UBSan in it."""
    assert harness.direct_cmd("./mini-kvm hello.bin").split()[0] == harness.MKVM
    r = run("ldd ./mini-kvm")
    assert "libasan" in r.out and "libubsan" in r.out, r


@sanitizer_pass
def test_a_report_is_caught(tmp_path):
    """A process that leaks under LeakSanitizer writes a report where the harness looks."""
    src = tmp_path / "leak.c"
    src.write_text("#include <stdlib.h>\nvoid *p;\n"
                   "int main(void) { p = malloc(77); p = 0; return 0; }\n")
    exe = tmp_path / "leak"
    subprocess.run(["cc", "-g", "-fsanitize=address", "-o", str(exe), str(src)], check=True,
                   timeout=60)
    harness.new_sanitizer_reports()
    p = subprocess.run([str(exe)], capture_output=True, timeout=30)
    new = harness.new_sanitizer_reports()  # seen here: conftest does not fail this test
    assert p.returncode != 0
    assert any("LeakSanitizer" in v and "77 byte(s)" in v for v in new.values()), new


@sanitizer_pass
@pytest.mark.parametrize("cmd", ["./mini-kvm hello.bin", "echo '6 * 7' | ./mini-kvm calc.bin",
                                 "echo shutdown | ./mini-kvm -k os.elf"],
                         ids=["no-reader", "reader-ended", "kernel"])
def test_exit_is_leak_free(run, cmd):
    """The 64 KiB console lives until exit on purpose (the stdin reader may still use it) and
    is annotated for LeakSanitizer (issue 12, defect 6): a plain run has no report."""
    r = run(cmd)
    assert not r.timed_out, r
    assert r.status == 0, r
    assert "Sanitizer" not in r.err, r
