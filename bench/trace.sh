#!/bin/sh
# trace.sh - what --trace-file costs per exit: nops.bin (100 000 NOP hypercalls,
# one exit each) without tracing, with --trace-file, and with --trace to a
# file, the three runs interleaved so that a busy host slows all of them alike.
#
# Usage: bench/trace.sh [RUNS]   (default 7). Results: docs/benchmarks.md.
set -e
cd "$(dirname "$0")/.."
runs=${1:-7}
make -s mini-kvm nops.bin

python3 - "$runs" <<'PY'
import os, statistics, subprocess, sys, tempfile, time

runs = int(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="mkvm-bench-")
trace = os.path.join(tmp, "t")
modes = {
    "plain": (["./mini-kvm", "nops.bin"], None),
    "--trace-file": (["./mini-kvm", "--trace-file", trace, "nops.bin"], None),
    "--trace 2>file": (["./mini-kvm", "--trace", "nops.bin"], os.path.join(tmp, "err")),
}
times = {m: [] for m in modes}
for _ in range(runs):
    for m, (argv, err) in modes.items():
        with open(err or os.devnull, "w") as e:
            t = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=e, check=True, timeout=300)
            times[m].append(time.monotonic() - t)
exits = sum(1 for _ in open(trace)) - 1
base = statistics.median(times["plain"])
print("%d exits per run, %d runs, median wall time:" % (exits, runs))
for m, ts in times.items():
    med = statistics.median(ts)
    print("  %-15s %7.3f s  %6.2f us/exit  %.3fx" % (m, med, med / exits * 1e6, med / base))
print("trace file: %d bytes" % os.path.getsize(trace))
PY
