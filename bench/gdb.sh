#!/bin/sh
# gdb.sh - what an attached debugger with no breakpoints costs: the hypercall round
# trip of nops.bin (every loop iteration is a VM exit through the stub's hook) run
# plain, and run under --gdb with a client attached that just continues.
#
# Usage: bench/gdb.sh [RUNS]   (default 7; env N1=1000 N2=101000)
# Per exit = (median time at N2 - median at N1) / (N2 - N1): start-up, the stub's
# host probe and the connection cancel out. Target (docs/benchmarks.md): no
# measurable difference.
set -e
cd "$(dirname "$0")/.."
runs=${1:-7}
make -s mini-kvm nops.bin

python3 - "$runs" "${N1:-1000}" "${N2:-101000}" <<'PY'
import os, re, socket, statistics, struct, subprocess, sys, tempfile, time

runs, n1, n2 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
image = bytearray(open("nops.bin", "rb").read())
at = image.index(b"NOPCOUNT") + 8
tmp = tempfile.mkdtemp(prefix="mkvm-bench-")
paths = {}
for n in (n1, n2):
    struct.pack_into("<I", image, at, n)
    paths[n] = os.path.join(tmp, "nops-%d.bin" % n)
    with open(paths[n], "wb") as f:
        f.write(image)

def plain(path):
    t0 = time.perf_counter()
    subprocess.run(["./mini-kvm", path], check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0

def frame(p):
    return b"$%s#%02x" % (p, sum(p) % 256)

def attached(path):
    """--gdb-wait, connect, continue: time from vCont;c to the exit reply W00."""
    sock = os.path.join(tmp, "s")
    p = subprocess.Popen(["./mini-kvm", "--gdb", sock, "--gdb-wait", path],
                         stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while b"listening" not in p.stderr.readline():
        pass
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(sock)
    s.sendall(frame(b"QStartNoAckMode"))
    buf = b""
    while b"OK#" not in buf:
        buf += s.recv(4096)
    t0 = time.perf_counter()
    s.sendall(frame(b"vCont;c"))
    buf = b""
    while not re.search(rb"\$W", buf):
        buf += s.recv(4096)
    t = time.perf_counter() - t0
    s.close()
    p.wait(timeout=60)
    p.stderr.close()
    return t

modes = {"no --gdb": plain, "gdb attached, no breakpoints": attached}
times = {(m, n): [] for m in modes for n in (n1, n2)}
for m, f in modes.items():          # warm-up
    f(paths[n1])
for _ in range(runs):               # interleaved
    for n in (n1, n2):
        for m, f in modes.items():
            times[(m, n)].append(f(paths[n]))
for m in modes:
    d = statistics.median(times[(m, n2)]) - statistics.median(times[(m, n1)])
    print("%-30s %.2f us per exit (median of %d; T(%d) = %.1f ms)"
          % (m, d / (n2 - n1) * 1e6, runs, n2, statistics.median(times[(m, n2)]) * 1e3))
PY
