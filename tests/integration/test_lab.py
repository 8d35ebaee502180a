# test_lab.py - tests of the lab (tools/lab and the harness) and of what needs it:
# exit status pass-through, a real KVM in L1, the 32-bit paging guest, --check-host.
import os
import re
import subprocess

import pytest

import harness
from harness import LAB, Cmd

PVM_HOST = os.path.exists("/sys/module/kvm_pvm")
PM32_OUT = "pm32: 32-bit paging on, sum(1..1000) = 500500\n"

# Run in one L1 boot (shared with the other modules' lab tests) when a test needs the lab.
COMMANDS = {
    "kvm": "test -c /dev/kvm && grep '^kvm_amd ' /proc/modules && "
           "cat /sys/module/kvm_amd/parameters/nested",
    "streams": Cmd("cat; printf err >&2; exit 7", input="in\nput"),
    "timeout": Cmd("echo started; sleep 30", timeout=2),
    "pm32": "./mini-kvm pm32.bin",
    "check-host": "./mini-kvm --check-host",
}


def lab(*argv, timeout=120):
    return subprocess.run([LAB, "--quiet"] + list(argv), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


# ---- tools/lab itself ----

@pytest.mark.nokvm
def test_lab_returns_the_commands_exit_status():
    p = lab("--", "sh", "-c", "echo from-L1; exit 7")
    assert p.returncode == 7, p.stdout + p.stderr
    assert "from-L1\n" in p.stdout and "LAB-EXIT=7\n" in p.stdout


@pytest.mark.nokvm
def test_lab_whole_run_is_time_bounded():
    p = lab("--timeout", "1", "--", "true", timeout=60)
    assert p.returncode == 124, p.stdout + p.stderr
    assert "timed out after 1 s" in p.stderr


@pytest.mark.nokvm
def test_lab_stalled_boot_is_retried_once_then_reported():
    p = lab("--boot-timeout", "1", "--", "true", timeout=60)    # L1 needs ~3 s: "stalls"
    assert p.returncode == 125, p.stdout + p.stderr
    assert p.stderr.count("booting it once more") == 1
    assert p.stderr.strip().endswith("lab: error: L1 did not reach LAB-READY in 1 s, twice")


@pytest.mark.nokvm
def test_lab_reports_a_stopped_l1_presses_a_key_and_ends_it():
    # L1's heartbeat stopped on purpose (tools/labwatch.py), twice: the first time it
    # beats again within the 20 s after the key press, and the run goes on; the second
    # time it does not, and the run ends (125). Each report has L1's registers twice
    # and its local APIC from QEMU's monitor, and QEMU's threads.
    hb = "$(cat /tmp/lab-heartbeat.pid)"
    p = lab("--stall", "8", "--", "sleep 6; kill -STOP %s; sleep 25; kill -CONT %s; sleep 9; "
            "echo resumed-in-L1; kill -STOP %s; sleep 100" % (hb, hb, hb), timeout=180)
    assert p.returncode == 125, p.stdout + p.stderr
    assert p.stderr.count("lab: L1 stopped: no heartbeat for") == 2, p.stderr
    assert p.stderr.count("lab: pressing a key on L1's keyboard") == 2, p.stderr
    assert p.stderr.count("lab: L1 beats again") == 1 and "resumed-in-L1" in p.stdout, p
    assert re.search(r"lab:     lab-hb \d+\.\d+ intr=\d+ ctxt=\d+\n", p.stderr), p.stderr
    assert re.search(r"CPU 0/TCG +[RS] \+\d+", p.stderr), p.stderr
    assert len(re.findall(r"RIP=[0-9a-f]{16}", p.stderr)) == 4, p.stderr
    assert len(re.findall(r"lab:     LVTT\t.*\nlab:     Timer\t", p.stderr)) == 2, p.stderr
    assert p.stderr.strip().endswith(
        "lab: error: L1 stopped (no heartbeat for 8 s, none 20 s after a key press)"), p.stderr


@pytest.mark.nokvm
def test_lab_bad_usage_is_one_clear_error():
    p = lab("--files", "/nonexistent-dir", "--", "true")
    assert p.returncode == 125
    assert p.stderr.strip() == "lab: error: --files /nonexistent-dir: not a directory"
    p = lab()
    assert p.returncode == 2 and "give -- COMMAND..., --shell or --prepare" in p.stderr


@pytest.mark.nokvm
def test_batch_parser_ignores_kernel_noise():
    out = "aGkK"  # base64 of "hi\n"
    console = ("LAB-READY\n[    3.1] kvm: something\nLAB-RESULT 0 3 1.00 1.50\nLAB-STDOUT 0\n"
               "[    3.2] noise line\n%s\nLAB-STDERR 0\nLAB-END 0\nLAB-EXIT=0\n" % out)
    (r,) = harness._parse_batch(console, [Cmd("x")]).values()
    assert (r.status, r.out, r.err, r.timed_out) == (3, "hi\n", "", False)


# ---- the lab's L1 and the batch mechanism ----

@pytest.mark.needs("lab")
def test_lab_has_a_real_kvm_with_nested_svm(results):
    r = results["kvm"]
    assert r.status == 0, r
    assert r.out.startswith("kvm_amd ") and r.out.split()[-1] in ("1", "Y"), r


@pytest.mark.needs("lab")
def test_lab_batch_keeps_stdin_stdout_stderr_and_status(results):
    r = results["streams"]
    assert (r.status, r.out, r.err) == (7, "in\nput", "err"), r


@pytest.mark.needs("lab")
def test_lab_batch_bounds_each_command(results):
    r = results["timeout"]
    assert r.timed_out and r.status == 124 and r.out == "started\n", r


# ---- a guest with 32-bit paging: runs in the lab, refused clearly here ----

@pytest.mark.needs("32bit-paging")
def test_pm32_runs_with_32bit_paging(results):
    r = results["pm32"]
    assert (r.status, r.out) == (0, PM32_OUT), r


def test_pm32_is_refused_clearly_without_32bit_paging(host):
    if host.can("32bit-paging"):
        pytest.skip("this host runs 32-bit paging")
    r = harness.run_direct(Cmd("./mini-kvm pm32.bin", timeout=30))
    assert r.status != 0 and r.out == "", r
    assert "32-bit paging" in r.err and "lab" in r.err and len(r.err.splitlines()) == 1, r


# ---- mini-kvm --check-host ----

@pytest.mark.skipif(not PVM_HOST, reason="the host's KVM is not kvm_pvm")
def test_check_host_reports_kvm_pvm_limits():
    r = harness.run_direct(Cmd("./mini-kvm --check-host", timeout=30))
    assert r.status == 0, r
    lines = r.out.splitlines()
    assert "can-run-32bit-paging: no" in lines and "can-run-linux: no" in lines, r


@pytest.mark.needs("lab")
def test_check_host_in_the_lab_says_yes(results):
    r = results["check-host"]
    assert r.status == 0, r
    lines = r.out.splitlines()
    assert "can-run-32bit-paging: yes" in lines and "can-run-linux: yes" in lines, r
