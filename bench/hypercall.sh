#!/bin/sh
# hypercall.sh - cost of one hypercall round trip (guest `out` -> VMM -> guest) in
# mini-kvm against bench/raw-loop, a bare KVM_RUN loop that does no dispatch at all.
# Both run nops.bin with its NOP count patched to N1 and to N2; the round trip is
# (median wall time at N2 - median at N1) / (N2 - N1), so start-up cancels out.
#
# Usage: bench/hypercall.sh [RUNS]   (default 7; env N1=1000 N2=101000)
# Target (docs/benchmarks.md): mini-kvm <= 1.1x raw-loop.
set -e
cd "$(dirname "$0")/.."
runs=${1:-7}
make -s mini-kvm nops.bin
make -s -C bench raw-loop

python3 - "$runs" "${N1:-1000}" "${N2:-101000}" <<'PY'
import os, statistics, struct, subprocess, sys, tempfile, time

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
# "no-seccomp": the same without the per-thread filters, for their cost per exit
progs = {"mini-kvm": ["./mini-kvm"], "no-seccomp": ["./mini-kvm", "--no-seccomp"],
         "raw-loop": ["bench/raw-loop"]}

def wall(argv):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0

times = {(k, n): [] for k in progs for n in (n1, n2)}
for k, argv in progs.items():                       # warm-up
    wall(argv + [paths[n1]])
for _ in range(runs):                               # interleaved
    for n in (n1, n2):
        for k, argv in progs.items():
            times[(k, n)].append(wall(argv + [paths[n]]))
for p in paths.values():
    os.unlink(p)
os.rmdir(tmp)

med = statistics.median
per = {k: (med(times[(k, n2)]) - med(times[(k, n1)])) / (n2 - n1) for k in progs}
print("hypercall round trip (NOP, real mode), %d runs of %d and %d NOPs each (medians):"
      % (runs, n1, n2))
for k in progs:
    print("  %-10s %8.0f ns per round trip   (%.3f s for %d, %.3f s for %d)"
          % (k, per[k] * 1e9, med(times[(k, n2)]), n2, med(times[(k, n1)]), n1))
ratio = per["mini-kvm"] / per["raw-loop"]
print("  ratio      %8.2fx" % ratio)
print("  seccomp filters: %+.0f ns per round trip" % ((per["mini-kvm"] - per["no-seccomp"]) * 1e9))
print("target: round trip <= 1.1x raw-loop: %s" % ("met" if ratio <= 1.1 else "MISSED"))
PY
