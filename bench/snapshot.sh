#!/bin/sh
# snapshot.sh - restore from a snapshot against a cold boot of the same guest (our OS,
# os.elf, 128 MiB, no disk), in one run: time to "guest running" (PUT /snapshot/load
# answered) and to "the shell answers" (an `echo` typed at once comes back), from process
# start; then N clones from one snapshot at once against N cold boots at once: time per
# guest and memory per guest (PSS, while all are alive). Medians; ratios side by side.
# ROUNDS rounds of RUNS interleaved cold boots and restores: every round's median
# ratio and the spread of all of them, since this host is shared and noisy.
#
# Usage: bench/snapshot.sh [RUNS] [CLONES] [ROUNDS]     (defaults 20, 50 and 1)
# Target (docs/benchmarks.md): restore <= 0.05x the cold boot.
set -e
cd "$(dirname "$0")/.."
make -s mini-kvm os
nice -n 10 python3 -u - "${1:-20}" "${2:-50}" "${3:-1}" <<'PY'
import json, os, socket, statistics, subprocess, sys, tempfile, time

runs, clones, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tmp = tempfile.mkdtemp(prefix="mkvm-bench-")
SNAP, MEM = os.path.join(tmp, "os.snap"), os.path.join(tmp, "os.mem")
COLD = ["./mini-kvm", "-k", "os.elf", "-m", "128M"]
RESTORE = ["./mini-kvm", "--restore", SNAP, "--restore-mem", MEM]

def http(sock, method, path, body):
    """One request over the API socket (raw HTTP/1.1); returns the status code."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sock)
    data = json.dumps(body).encode()
    s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
              % (method.encode(), path.encode(), len(data), data))
    reply = b""
    while chunk := s.recv(4096):
        reply += chunk
    s.close()
    return int(reply.split()[1])

def wait_socket(sock, deadline):
    """Poll every 0.1 ms: the polling adds at most that to 'process start to running'."""
    while time.monotonic() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            s.close()
            return
        except OSError:
            time.sleep(0.0001)
    sys.exit("snapshot.sh: no API socket")

def read_until(p, marker, deadline):
    buf = b""
    while marker not in buf:
        if time.monotonic() > deadline:
            sys.exit("snapshot.sh: no %r from the guest" % marker)
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            sys.exit("snapshot.sh: guest ended early: %r" % buf[-300:])
        buf += chunk

def make_snapshot():
    sock = os.path.join(tmp, "mk.sock")
    p = subprocess.Popen(["./mini-kvm", "--api", sock], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    wait_socket(sock, time.monotonic() + 10)
    assert http(sock, "PUT", "/boot-source", {"kernel_image_path": "os.elf"}) == 204
    assert http(sock, "PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 128}) == 204
    assert http(sock, "PUT", "/actions", {"action_type": "InstanceStart"}) == 204
    read_until(p, b"\n$ ", time.monotonic() + 30)
    # Snapshot the idle guest, as one would: the prompt's bytes leave ~0.3 ms
    # before the shell is back asleep in read(); paused in between, every
    # restore would first finish that system call (~0.4 ms of emulated kernel).
    time.sleep(0.5)
    assert http(sock, "PATCH", "/vm", {"state": "Paused"}) == 204
    assert http(sock, "PUT", "/snapshot/create", {"snapshot_path": SNAP,
                                                  "mem_file_path": MEM}) == 204
    p.kill()
    p.wait()

ANSWER = b"\r\nbench-answer\r\n$ "   # the shell's answer, not the echoed input

def shell_answers(argv):
    """(seconds from process start until the guest's shell answered an echo, seconds
    the same guest then takes to answer a second one: the answer's own cost)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(b"echo bench-answer\n")
    p.stdin.flush()
    read_until(p, ANSWER, time.monotonic() + 60)
    t = time.perf_counter() - t0
    p.stdin.write(b"echo bench-answer\n")
    p.stdin.flush()
    read_until(p, ANSWER, time.monotonic() + 60)
    t = (t, time.perf_counter() - t0 - t)
    p.stdin.write(b"shutdown\n")
    p.stdin.close()
    p.stdout.read()
    p.wait()
    return t

def restore_running():
    """(process start to 'running', the load request alone) through the API."""
    sock = os.path.join(tmp, "r.sock")
    t0 = time.perf_counter()
    p = subprocess.Popen(["./mini-kvm", "--api", sock], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    wait_socket(sock, time.monotonic() + 10)
    t1 = time.perf_counter()
    assert http(sock, "PUT", "/snapshot/load", {"snapshot_path": SNAP, "mem_backend":
               {"backend_type": "File", "backend_path": MEM}, "resume_vm": True}) == 204
    t2 = time.perf_counter()
    p.kill()
    p.wait()
    return t2 - t0, t2 - t1

def pss_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0

def fleet(argv, n):
    """n guests at once: (wall seconds until every shell answered, PSS KiB each)."""
    t0 = time.perf_counter()
    ps = []
    for _ in range(n):
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(b"echo bench-answer\n")
        p.stdin.flush()
        ps.append(p)
    for p in ps:
        read_until(p, ANSWER, time.monotonic() + 600)
    wall = time.perf_counter() - t0
    pss = [pss_kib(p.pid) for p in ps]
    for p in ps:
        p.stdin.write(b"shutdown\n")
        p.stdin.close()
    for p in ps:
        p.stdout.read()
        p.wait()
    return wall, pss

def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]

make_snapshot()
for _ in range(3):                                  # warm caches
    shell_answers(COLD), shell_answers(RESTORE)
cold, rest, run_total, run_load, echo, round_ratios = [], [], [], [], [], []
for _ in range(rounds):
    rc, rr = [], []
    for _ in range(runs):                           # interleaved
        rc.append(shell_answers(COLD)[0])
        r, e = shell_answers(RESTORE)
        rr.append(r)
        echo.append(e)
        a, b = restore_running()
        run_total.append(a)
        run_load.append(b)
    cold += rc
    rest += rr
    round_ratios.append(statistics.median(rr) / statistics.median(rc))
med = statistics.median
ms = lambda x: "%.1f ms" % (x * 1000)
c = med(cold)
print("our OS (os.elf, 128 MiB, 1 vCPU), %d rounds of %d runs each, medians:" % (rounds, runs))
print("  cold boot to the shell answering       %10s   1.000x" % ms(c))
print("  restore to the shell answering         %10s   %.3fx" % (ms(med(rest)), med(rest) / c))
print("  restore to running (process start)     %10s   %.3fx" % (ms(med(run_total)), med(run_total) / c))
print("  restore to running (load request only) %10s   %.3fx" % (ms(med(run_load)), med(run_load) / c))
print("  (a running guest answering an echo     %10s   %.3fx: the answer's own cost)" % (
    ms(med(echo)), med(echo) / c))
print("  spread (10th / 50th / 90th percentile of all %d runs):" % len(cold))
print("    cold boot %s / %s / %s, restore to the shell %s / %s / %s" % (
    ms(pct(cold, .1)), ms(pct(cold, .5)), ms(pct(cold, .9)),
    ms(pct(rest, .1)), ms(pct(rest, .5)), ms(pct(rest, .9))))
print("  each round's ratio (median restore / median cold): %s; %d of %d rounds <= 0.050x" % (
    " ".join("%.3f" % r for r in round_ratios), sum(r <= 0.05 for r in round_ratios), rounds))
print("  snapshot files: state %d bytes, memory %d MiB (%d MiB on disk)" % (
    os.path.getsize(SNAP), os.path.getsize(MEM) >> 20, os.stat(MEM).st_blocks * 512 >> 20))
cw, cp = fleet(COLD, clones)
rw, rp = fleet(RESTORE, clones)
print("%d guests at once (all shells answering), per guest:" % clones)
print("  cold boots   %8s wall, %6.1f ms/guest, PSS %7.0f KiB median" % (
    ms(cw), cw * 1000 / clones, med(cp)))
print("  clones       %8s wall, %6.1f ms/guest, PSS %7.0f KiB median  (%.3fx time, %.2fx PSS)" % (
    ms(rw), rw * 1000 / clones, med(rp), rw / cw, med(rp) / med(cp)))
sys.path.insert(0, "bench")
from textplot import bars
bars("our OS, from process start (median, ms)",
     [("cold boot to the shell answering", c * 1000),
      ("restore to the shell answering", med(rest) * 1000),
      ("restore to running", med(run_total) * 1000),
      ("%d cold boots at once, per guest" % clones, cw * 1000 / clones),
      ("%d clones at once, per guest" % clones, rw * 1000 / clones)], "%.1f")
subprocess.run(["rm", "-rf", tmp])
PY
