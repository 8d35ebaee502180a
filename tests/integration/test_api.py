# test_api.py - the Firecracker-style control API (--api) and --config-file, driven by
# curl (a real client): our OS configured, started, paused and resumed; every error path.
"""Direct tests only: the API socket and the guest's console are on this host (pexpect
on a pty for the console, curl --unix-socket for the API). Each test has its own
temporary directory (socket, disk copy) and every wait is bounded."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile

import pexpect
import pytest

import harness
from harness import REPO

OS_DISK = os.path.join(REPO, "os-disk.img")
DOC = os.path.join(REPO, "docs", "api.md")


def curl(sock, method, path, body=None, timeout=10):
    """(status, parsed JSON body or None) of one request made by curl."""
    cmd = ["curl", "-s", "--max-time", str(timeout), "--unix-socket", sock, "-X", method,
           "-w", "\n%{http_code}", "http://localhost" + path]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json",
                "-d", body if isinstance(body, str) else json.dumps(body)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5)
    text, _, code = p.stdout.rpartition("\n")
    return int(code), (json.loads(text) if text else None)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="mkvm-api-")
    shutil.copy(OS_DISK, os.path.join(d, "d.img"))
    yield d
    shutil.rmtree(d)


def start_api(sock, *extra, binary=None):
    """mini-kvm --api SOCK on a pty (binary: harness.MKVM unless given); returns once the
    socket accepts requests."""
    c = pexpect.spawn(binary or harness.MKVM, ["--api", sock] + list(extra), cwd=REPO, timeout=30,
                      encoding="utf-8", codec_errors="replace")
    for _ in range(200):        # bounded: the socket accepts within a few ms
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sock)
            return c
        except OSError:
            c.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05)
        finally:
            s.close()
    raise AssertionError("no API socket at %s: %s" % (sock, c.before))


def doc_curl_lines():
    """The curl lines of docs/api.md's quick start, in order."""
    text = open(DOC).read()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [l for l in block.splitlines() if l.startswith("curl ")]


def run_doc_line(line, sock, disk):
    line = line.replace("/tmp/mini-kvm.sock", sock).replace("/tmp/os-disk.img", disk)
    p = subprocess.run(line + " -s -w '\\n%{http_code}'", shell=True, cwd=REPO,
                       capture_output=True, text=True, timeout=15)
    text, _, code = p.stdout.rpartition("\n")
    return int(code), text


def test_the_documented_session_configures_starts_pauses_and_resumes_our_os(tmp):
    sock, disk = os.path.join(tmp, "vm.sock"), os.path.join(tmp, "d.img")
    c = start_api(sock)
    try:
        assert stat.S_IMODE(os.lstat(sock).st_mode) == 0o600
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        assert curl(sock, "GET", "/")[1]["state"] == "Not started"
        lines = doc_curl_lines()
        assert len(lines) == 8, lines
        for line in lines:
            code, text = run_doc_line(line, sock, disk)
            if "/machine-config" in line and "-X PUT" not in line:
                assert code == 200 and json.loads(text)["mem_size_mib"] == 64, text
            elif line.endswith("http://localhost/"):
                assert code == 200 and json.loads(text)["state"] == "Running", text
            else:
                assert code == 204 and text == "", (line, code, text)
            if "InstanceStart" in line:
                c.expect_exact("64 MiB RAM")        # the machine-config reached the guest
                c.expect_exact("\n$ ")
            if '"Paused"' in line:
                assert curl(sock, "GET", "/")[1]["state"] == "Paused"
        c.sendline("echo resumed-ok")
        c.expect_exact("resumed-ok\r\n$ ", timeout=10)
        shutdown_ok(c)
        assert not os.path.exists(sock)     # removed at exit
    finally:
        c.close(force=True)


def test_every_documented_error_path(tmp):
    sock = os.path.join(tmp, "vm.sock")
    c = start_api(sock)
    try:
        def fault(method, path, body, *words):
            code, j = curl(sock, method, path, body)
            assert code == 400 and set(j) == {"fault_message"}, (path, code, j)
            for w in words:
                assert w in j["fault_message"], j
        fault("GET", "/metrics", None, "Invalid request method and/or path: GET /metrics")
        fault("DELETE", "/drives/x", None, "Invalid request method and/or path")
        fault("PUT", "/network-interfaces/eth0", {"iface_id": "eth0"},
              "missing required field 'host_dev_name'")
        fault("PUT", "/network-interfaces/eth0", {"iface_id": "eth1", "host_dev_name": "t"},
              "does not match")
        fault("PUT", "/boot-source", "{not json", "invalid JSON")
        fault("PUT", "/boot-source", "[1]", "expected a JSON object")
        fault("PUT", "/boot-source", {"initrd_path": "x"}, "missing required field 'kernel_image_path'")
        fault("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64, "cpu_template": "T2"},
              "'cpu_template' is not supported")
        fault("PUT", "/machine-config", {"vcpu_count": 65, "mem_size_mib": 64}, "from 1 to 64")
        fault("PUT", "/drives/a", {"drive_id": "b", "path_on_host": "x", "is_root_device": True},
              "does not match")
        fault("PUT", "/drives/a", {"drive_id": "a", "path_on_host": "x", "is_root_device": True,
                                   "is_read_only": True}, "is_read_only")
        fault("PUT", "/actions", {"action_type": "InstanceStart"}, "no boot source")
        fault("PUT", "/actions", {"action_type": "SendCtrlAltDel"}, "not running yet")
        fault("PUT", "/actions", {"action_type": "FlushMetrics"}, "not supported")
        fault("PUT", "/actions", {"action_type": "Reboot"}, "unknown action_type")
        fault("PATCH", "/vm", {"state": "Paused"}, "not started")
        fault("PUT", "/snapshot/create", {"snapshot_path": "s", "mem_file_path": "m"}, "paused")
        fault("PUT", "/snapshot/load", {"snapshot_path": "s"}, "mem_backend")
        fault("PUT", "/snapshot/load", {"snapshot_path": "s", "mem_file_path": "m",
                                        "enable_diff_snapshots": True}, "diff")
        # too large a body, and bytes that are not HTTP: 400 with a message
        fault("PUT", "/boot-source", "x" * 60000, "larger than 51200")
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(sock)
        s.sendall(b"\x00\x01 nonsense\r\n\r\n")
        reply = s.recv(4096).decode()
        s.close()
        assert reply.startswith("HTTP/1.1 400 ") and "malformed HTTP request" in reply, reply
        # a kernel that cannot be opened: the command line's message, and a retry works
        assert curl(sock, "PUT", "/boot-source", {"kernel_image_path": "/nonexistent/k"})[0] == 204
        fault("PUT", "/actions", {"action_type": "InstanceStart"}, "/nonexistent/k",
              "cannot open kernel")
        assert curl(sock, "PUT", "/boot-source", {"kernel_image_path": "os.elf"})[0] == 204
        assert curl(sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 32})[0] == 204
        # a disk that cannot be opened fails after the UART exists: typed input must not
        # reach the destroyed UART (the ASan pass checks), and a retry works
        bad = {"drive_id": "rootfs", "path_on_host": "/nonexistent/d.img", "is_root_device": True}
        assert curl(sock, "PUT", "/drives/rootfs", bad)[0] == 204
        fault("PUT", "/actions", {"action_type": "InstanceStart"}, "/nonexistent/d.img")
        c.sendline("typed while nothing runs")
        good = dict(bad, path_on_host=os.path.join(tmp, "d.img"))
        assert curl(sock, "PUT", "/drives/rootfs", good)[0] == 204
        assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})[0] == 204
        c.expect_exact("\n$ ")
        fault("PUT", "/actions", {"action_type": "InstanceStart"}, "already running")
        fault("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 64}, "after the microVM started")
        fault("PUT", "/snapshot/load", {"snapshot_path": "s", "mem_file_path": "m"}, "before")
        fault("PATCH", "/vm", {"state": "Stopped"}, "Paused\" or \"Resumed")
        # our OS never reads its keyboard: Ctrl+Alt+Del is typed twice (8 bytes each
        # into the i8042's 16), the third finds no room; the API thread, sealed since
        # the start, may raise IRQ 1. The OS goes on (it ignores IRQ 1).
        for _ in range(2):
            assert curl(sock, "PUT", "/actions", {"action_type": "SendCtrlAltDel"}) == (204, None)
        fault("PUT", "/actions", {"action_type": "SendCtrlAltDel"}, "keyboard buffer is full")
        c.sendline("echo still-here")
        c.expect_exact("still-here\r\n$ ")
        c.sendline("shutdown")
        c.expect(pexpect.EOF)
    finally:
        c.close(force=True)


def test_network_interface_becomes_a_virtio_net_on_that_tap(tmp):
    """PUT /network-interfaces maps to --net tap=NAME,mac=...: a TAP that does not exist
    fails InstanceStart with the command line's message (no TAP is made here)."""
    sock = os.path.join(tmp, "vm.sock")
    c = start_api(sock)
    try:
        assert curl(sock, "PUT", "/boot-source", {"kernel_image_path": "os.elf"})[0] == 204
        assert curl(sock, "PUT", "/network-interfaces/eth0", {
            "iface_id": "eth0", "host_dev_name": "mkvmnotap0",
            "guest_mac": "02:00:00:00:00:09"})[0] == 204
        code, j = curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        assert code == 400 and "mkvmnotap0: no such network interface" in j["fault_message"], j
    finally:
        c.close(force=True)


def one_line_failure(args, tmp):
    p = subprocess.run([harness.MKVM] + args, cwd=REPO, capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 1 and len(p.stderr.splitlines()) == 1, p
    return p.stderr


def test_the_socket_path_is_never_followed_or_clobbered(tmp):
    f = os.path.join(tmp, "file")
    open(f, "w").write("keep me")
    assert "not a socket: refusing" in one_line_failure(["--api", f], tmp)
    assert open(f).read() == "keep me"
    link = os.path.join(tmp, "link")
    os.symlink(f, link)
    assert "symbolic link" in one_line_failure(["--api", link], tmp)
    assert open(f).read() == "keep me" and os.path.islink(link)
    assert "No such file" in one_line_failure(["--api", os.path.join(tmp, "no/dir/s")], tmp)
    # a stale socket from an earlier run is replaced
    sock = os.path.join(tmp, "vm.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    s.close()
    c = start_api(sock)
    try:
        assert curl(sock, "GET", "/")[0] == 200
    finally:
        c.close(force=True)


def write_config(tmp, cfg):
    path = os.path.join(tmp, "vm.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def test_config_file_boots_our_os(tmp):
    cfg = {"boot-source": {"kernel_image_path": "os.elf"},
           "machine-config": {"vcpu_count": 1, "mem_size_mib": 48},
           "drives": [{"drive_id": "rootfs", "path_on_host": os.path.join(tmp, "d.img"),
                       "is_root_device": True, "is_read_only": False}],
           "network-interfaces": []}
    p = subprocess.run([harness.MKVM, "--config-file", write_config(tmp, cfg)], cwd=REPO,
                       input="cat hello.txt\nshutdown\n", capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p
    assert "48 MiB RAM" in p.stdout and "1 virtio device(s)" in p.stdout, p.stdout
    assert re.search(r"tarfs: \d+ files", p.stdout), p.stdout


def test_config_file_errors_are_one_line(tmp):
    assert "cannot open config file" in one_line_failure(
        ["--config-file", os.path.join(tmp, "none.json")], tmp)
    bad = write_config(tmp, {"boot-source": {"kernel_image_path": "os.elf"}, "logger": {}})
    assert "field 'logger' is not supported" in one_line_failure(["--config-file", bad], tmp)
    bad = write_config(tmp, {"machine-config": {"vcpu_count": 1, "mem_size_mib": 8}})
    assert "needs a 'boot-source'" in one_line_failure(["--config-file", bad], tmp)
    bad = write_config(tmp, {"boot-source": {"kernel_image_path": "os.elf"},
                             "network-interfaces": [{"iface_id": "eth0"}]})
    assert "missing required field 'host_dev_name'" in one_line_failure(
        ["--config-file", bad], tmp)
    with open(os.path.join(tmp, "trunc.json"), "w") as f:
        f.write('{"boot-source": {"kernel_im')
    assert "invalid JSON" in one_line_failure(["--config-file", os.path.join(tmp, "trunc.json")], tmp)


# ---- snapshot / restore (docs/snapshot.md) ----

import struct
import zlib

UPTIME = re.compile(r"uptime: (\d+) ticks")


def spawn_restore(snap, mem):
    """mini-kvm --restore SNAP --restore-mem MEM, its console under pexpect."""
    return pexpect.spawn(harness.MKVM, ["--restore", snap, "--restore-mem", mem], cwd=REPO,
                         timeout=30, encoding="utf-8", codec_errors="replace")


def shutdown_ok(c):
    """Our OS's `shutdown`: the guest powers off and mini-kvm exits with status 0."""
    c.sendline("shutdown")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0


def ps_uptime(c):
    """Run ps in the guest's shell; its uptime in ticks (the OS's counter)."""
    c.sendline("ps")
    c.expect(UPTIME, timeout=10)
    ticks = int(c.match.group(1))
    c.expect_exact("\n$ ", timeout=10)
    return ticks


def boot_and_snapshot(tmp, disk=True, vcpus=1, tap=None):
    """Our OS through the API (with a network interface on `tap` if given), a background
    counter, paused and snapshotted, resumed, then killed. Returns (snapshot, memfile,
    uptime seen just before the pause)."""
    sock = os.path.join(tmp, "vm.sock")
    snap, mem = os.path.join(tmp, "os.snap"), os.path.join(tmp, "os.mem")
    c = start_api(sock)
    try:
        assert curl(sock, "PUT", "/boot-source", {"kernel_image_path": "os.elf"})[0] == 204
        assert curl(sock, "PUT", "/machine-config", {"vcpu_count": vcpus,
                                                      "mem_size_mib": 64})[0] == 204
        if disk:
            assert curl(sock, "PUT", "/drives/rootfs", {
                "drive_id": "rootfs", "path_on_host": os.path.join(tmp, "d.img"),
                "is_root_device": True, "is_read_only": False})[0] == 204
        if tap:
            assert curl(sock, "PUT", "/network-interfaces/eth0", {
                "iface_id": "eth0", "host_dev_name": tap})[0] == 204
        assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})[0] == 204
        c.expect_exact("\n$ ")
        c.sendline("spin &")
        c.expect_exact("running in the background")
        c.expect_exact("\n$ ")
        before = ps_uptime(c)
        assert curl(sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        assert curl(sock, "GET", "/")[1]["state"] == "Paused"
        code, j = curl(sock, "PUT", "/snapshot/create", {"snapshot_type": "Full",
                                                          "snapshot_path": snap, "mem_file_path": mem})
        assert code == 204, j
        code, j = curl(sock, "PUT", "/snapshot/create", {"snapshot_path": "/nonexistent/s",
                                                          "mem_file_path": mem + "2"})
        assert code == 400 and "/nonexistent/s" in j["fault_message"], j
        assert curl(sock, "PATCH", "/vm", {"state": "Resumed"})[0] == 204
        assert ps_uptime(c) >= before       # the original goes on too
    finally:
        c.kill(9)                           # killed, not shut down
        c.close(force=True)
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o600
    return snap, mem, before


def test_snapshot_then_restore_in_a_new_process_from_the_command_line(tmp):
    snap, mem, before = boot_and_snapshot(tmp)
    # a sparse memory file: far less on disk than the 64 MiB of RAM
    assert os.path.getsize(mem) == 64 << 20 and os.stat(mem).st_blocks * 512 < 16 << 20
    c = spawn_restore(snap, mem)
    try:
        after = ps_uptime(c)            # the shell answers at once: no boot
        assert after >= before, (before, after)
        c.sendline("ps")
        c.expect(r"\n2 +1 +\w+ +(\d+) +spin")   # the counting job is still there
        c.expect_exact("\n$ ")
        assert ps_uptime(c) > after     # and time goes on
        c.sendline("cat hello.txt")     # the disk is re-opened
        c.expect_exact("\n$ ")
        assert "cannot" not in c.before
        shutdown_ok(c)
    finally:
        c.close(force=True)


@pytest.fixture
def tap():
    """A TAP device of the test's own (root and /dev/net/tun, else skipped), removed after."""
    name = "mkvs%d" % (os.getpid() % 100000)
    p = subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"],
                       capture_output=True, text=True, timeout=10)
    if p.returncode:
        pytest.skip("cannot make a TAP here: %s" % p.stderr.strip())
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True, timeout=10)


def tun_names(pid):
    """The interfaces that process pid holds open through /dev/net/tun (fdinfo's iff:)."""
    names = set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            m = re.search(r"^iff:\s*(\S+)", open(os.path.join(d, fd)).read(), re.M)
        except OSError:
            continue
        if m:
            names.add(m[1])
    return names


def test_a_network_interface_is_snapshotted_and_its_tap_reopened(tmp, tap):
    """A VM with an API network interface (the userspace datapath) is snapshotted; the
    restore opens the same TAP again (our OS has no virtio-net driver: the device's
    re-activation on restore is tests/unit/test_virtio_net.c's); without the TAP the
    restore is one clear line."""
    snap, mem, before = boot_and_snapshot(tmp, disk=False, tap=tap)
    c = spawn_restore(snap, mem)
    try:
        assert ps_uptime(c) >= before
        assert tap in tun_names(c.pid)
        shutdown_ok(c)
    finally:
        c.close(force=True)
    subprocess.run(["ip", "link", "del", tap], capture_output=True, timeout=10)
    p = subprocess.run([harness.MKVM, "--restore", snap, "--restore-mem", mem], cwd=REPO,
                       input="shutdown\n", capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and len(p.stderr.splitlines()) == 1, p
    assert "%s: no such network interface" % tap in p.stderr and p.stdout == "", p


def test_two_vcpus_snapshot_and_restore(tmp):
    """The second vCPU (waiting for SIPI: our OS uses one) is paused, saved and restored
    too: its MP state and LAPIC are sections of their own."""
    snap, mem, before = boot_and_snapshot(tmp, disk=False, vcpus=2)
    p = subprocess.run([harness.MKVM, "--restore", snap, "--restore-mem", mem], cwd=REPO,
                       input="ps\nshutdown\n", capture_output=True, text=True, timeout=30)
    m = UPTIME.search(p.stdout)
    assert p.returncode == 0 and m and int(m[1]) >= before, p
    assert "2 CPU(s)" not in p.stdout        # no boot: the banner is not printed again


def test_input_typed_ahead_of_a_restore_is_not_lost(tmp):
    """Bytes read from stdin between the UART's creation and its restore go after the
    restored FIFO (the first byte was lost before: 'cho' instead of 'echo')."""
    snap, mem, _ = boot_and_snapshot(tmp)
    p = subprocess.run([harness.MKVM, "--restore", snap, "--restore-mem", mem], cwd=REPO,
                       input="echo typed-ahead\nshutdown\n", capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and "echo typed-ahead\ntyped-ahead\n" in p.stdout, p


def test_snapshot_load_through_the_api_paused_then_resumed(tmp):
    snap, mem, before = boot_and_snapshot(tmp)
    sock = os.path.join(tmp, "vm2.sock")
    c = start_api(sock)
    try:
        code, j = curl(sock, "PUT", "/snapshot/load", {
            "snapshot_path": snap, "mem_backend": {"backend_type": "File", "backend_path": mem},
            "enable_diff_snapshots": False, "resume_vm": False})
        assert code == 204, j
        assert curl(sock, "GET", "/")[1]["state"] == "Paused"
        assert curl(sock, "PATCH", "/vm", {"state": "Resumed"})[0] == 204
        assert ps_uptime(c) >= before
        # a restored guest can be snapshotted again (its shape came from the file)
        assert curl(sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        code, j = curl(sock, "PUT", "/snapshot/create", {"snapshot_path": snap + "2",
                                                          "mem_file_path": mem + "2"})
        assert code == 204, j
        assert curl(sock, "PATCH", "/vm", {"state": "Resumed"})[0] == 204
        c.sendline("shutdown")
        c.expect(pexpect.EOF)
    finally:
        c.close(force=True)


def test_config_file_with_api_snapshot_and_restore(tmp):
    """--config-file starts the guest, --api serves it: the same snapshot and restore."""
    cfg = {"boot-source": {"kernel_image_path": "os.elf"},
           "machine-config": {"vcpu_count": 1, "mem_size_mib": 32},
           "drives": [{"drive_id": "rootfs", "path_on_host": os.path.join(tmp, "d.img"),
                       "is_root_device": True, "is_read_only": False}]}
    sock, snap, mem = (os.path.join(tmp, n) for n in ("vm.sock", "f.snap", "f.mem"))
    c = start_api(sock, "--config-file", write_config(tmp, cfg))
    try:
        c.expect_exact("32 MiB RAM")
        c.expect_exact("\n$ ")
        assert curl(sock, "GET", "/")[1]["state"] == "Running"
        assert curl(sock, "PUT", "/actions", {"action_type": "InstanceStart"})[0] == 400
        before = ps_uptime(c)
        assert curl(sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        assert curl(sock, "PUT", "/snapshot/create", {"snapshot_path": snap,
                                                       "mem_file_path": mem})[0] == 204
    finally:
        c.kill(9)
        c.close(force=True)
    c = spawn_restore(snap, mem)
    try:
        assert ps_uptime(c) >= before
        shutdown_ok(c)
    finally:
        c.close(force=True)


def rewrite(snap, out, **changes):
    """A copy of the state file with header fields changed and the CRC made right again."""
    b = bytearray(open(snap, "rb").read())
    fields = {"format": (8, "<I"), "version": (16, "16s"), "cpuid_hash": (32, "<Q"),
              "ncpus": (48, "<I")}
    for k, v in changes.items():
        if k == "config_ncpus":             # the config section: the first, at 64 + 40
            struct.pack_into("<I", b, 104 + 8, v)
        else:
            off, fmt = fields[k]
            struct.pack_into(fmt, b, off, v)
    struct.pack_into("<I", b, len(b) - 8, zlib.crc32(bytes(b[:-8])) & 0xFFFFFFFF)
    open(out, "wb").write(bytes(b))
    return out


def test_bad_snapshots_are_refused_with_one_line_and_nothing_runs(tmp):
    snap, mem, _ = boot_and_snapshot(tmp)
    data = open(snap, "rb").read()

    def refused(s, m, *words):
        p = subprocess.run([harness.MKVM, "--restore", s, "--restore-mem", m], cwd=REPO,
                           capture_output=True, text=True, timeout=30, input="ps\nshutdown\n")
        assert p.returncode == 1 and len(p.stderr.splitlines()) == 1 and p.stdout == "", p
        for w in words:
            assert w in p.stderr, p.stderr
    def variant(name, content):
        path = os.path.join(tmp, name)
        open(path, "wb").write(content)
        return path
    refused(os.path.join(tmp, "none.snap"), mem, "cannot open snapshot")
    fifo = os.path.join(tmp, "mem.fifo")    # must not block in open(2): issue 12, defect 1
    os.mkfifo(fifo)
    refused(snap, fifo, "not a regular file")
    refused(variant("empty", b""), mem, "snapshot is empty")
    refused(variant("random", os.urandom(4096)), mem, "not a mini-kvm snapshot")
    refused(variant("trunc", data[:len(data) // 2]), mem, "truncated snapshot")
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    refused(variant("corrupt", bytes(flipped)), mem, "corrupt snapshot (checksum mismatch)")
    refused(rewrite(snap, os.path.join(tmp, "v"), version=b"9.9.9"), mem,
            "made by mini-kvm 9.9.9")
    refused(rewrite(snap, os.path.join(tmp, "f"), format=1), mem, "snapshot format 1")
    refused(rewrite(snap, os.path.join(tmp, "c"), cpuid_hash=12345), mem,
            "another CPU feature set")
    refused(rewrite(snap, os.path.join(tmp, "s"), ncpus=2, config_ncpus=2), mem,
            "lacks section 'cpu1.", "another VM shape")
    refused(snap, variant("shortmem", b"\0" * 4096), "not the snapshot's memory file")
    with open(os.path.join(tmp, "d.img"), "ab") as f:    # the disk changed size
        f.write(b"\0" * 512)
    refused(snap, mem, "disk image changed since the snapshot")
