#!/bin/sh
# startup.sh - startup cost of `mini-kvm hello.bin` against bench/bare-kvm (the least a
# KVM program can do for the same guest): time from process start to the first byte of
# guest output, time to exit, and max RSS. Prints medians and the mini-kvm/bare ratios.
#
# Usage: bench/startup.sh [RUNS]      (default 50; env GUEST=other.bin to change the guest)
# Targets (docs/benchmarks.md): first output <= 1.2x bare-kvm, max RSS <= 1.5 MiB.
set -e
cd "$(dirname "$0")/.."
runs=${1:-50}
guest=${GUEST:-hello.bin}
make -s mini-kvm "$guest"
make -s -C bench bare-kvm
if ! [ -x /usr/bin/time ]; then
    echo "startup.sh: installing GNU time (apt-get install time)" >&2
    apt-get install -y -q time >/dev/null
fi

python3 - "$runs" "$guest" <<'PY'
import os, statistics, subprocess, sys, time

runs, guest = int(sys.argv[1]), sys.argv[2]
# "no-seccomp": the same run without the per-thread filters, for their cost
progs = {"mini-kvm": ["./mini-kvm", guest], "no-seccomp": ["./mini-kvm", "--no-seccomp", guest],
         "bare-kvm": ["bench/bare-kvm", guest]}

def one(argv):
    """(seconds to the first output byte, seconds to exit) of one run."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    first = os.read(p.stdout.fileno(), 1)
    t1 = time.perf_counter()
    p.stdout.read()
    p.wait()
    t2 = time.perf_counter()
    if not first or p.returncode != 0:
        sys.exit("startup.sh: %s failed (status %s)" % (" ".join(argv), p.returncode))
    return t1 - t0, t2 - t0

def max_rss_kib(argv):
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, check=True)
    return int(r.stderr.decode().split()[-1])

for argv in progs.values():                     # warm the page cache and the binaries
    for _ in range(3):
        one(argv)
first = {k: [] for k in progs}
total = {k: [] for k in progs}
rss = {k: [] for k in progs}
for i in range(runs):                           # interleaved, so drift hits both alike
    for k, argv in progs.items():
        f, t = one(argv)
        first[k].append(f)
        total[k].append(t)
        if i < 20:
            rss[k].append(max_rss_kib(argv))

med = lambda xs: statistics.median(xs)
print("startup of %s, %d runs each (medians):" % (guest, runs))
print("  %-9s %14s %14s %14s" % ("", "first output", "exit", "max RSS"))
for k in progs:
    print("  %-10s %10.0f us %11.0f us %10d KiB" % (k, med(first[k]) * 1e6, med(total[k]) * 1e6,
                                                    med(rss[k])))
ratio = lambda d: med(d["mini-kvm"]) / med(d["bare-kvm"])
print("  ratio     %13.2fx %13.2fx %13.2fx" % (ratio(first), ratio(total), ratio(rss)))
print("  seccomp filters: %+.0f us to the first output, %+.0f us to exit, %+d KiB" % (
    (med(first["mini-kvm"]) - med(first["no-seccomp"])) * 1e6,
    (med(total["mini-kvm"]) - med(total["no-seccomp"])) * 1e6,
    med(rss["mini-kvm"]) - med(rss["no-seccomp"])))
rss_mib = med(rss["mini-kvm"]) / 1024
print("targets: first output <= 1.2x: %s; max RSS <= 1.5 MiB: %s (%.2f MiB)" % (
    "met" if ratio(first) <= 1.2 else "MISSED", "met" if rss_mib <= 1.5 else "MISSED", rss_mib))
PY
