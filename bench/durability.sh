#!/bin/sh
# bench/durability.sh - kill -9 durability trials (`make soak`): hostile.elf reads a
# random sector, writes its complement, flushes it through virtio-blk and says so; the
# host SIGKILLs mini-kvm the moment the line arrives and checks the bytes in the image.
#   bench/durability.sh [TRIALS]      (default 100; needs `make`)
# Prints one line per failed trial and "durability: N of N flushed writes survived
# kill -9 (S s)"; exits 1 when any was lost. The trial itself is
# durability_trial() in tests/integration/test_hostile.py, which make check runs 5 times.
set -eu
cd "$(dirname "$0")/.."
trials=${1:-100}
for f in mini-kvm hostile.elf; do
    [ -f "$f" ] || { echo "bench/durability.sh: $f is missing: run make" >&2; exit 2; }
done
# the python that has pytest (test_hostile.py imports it), as tests/run-integration picks
py=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import pytest' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "bench/durability.sh: no python3 with pytest" >&2; exit 2; }
PYTHONPATH=tests/integration exec "$py" - "$trials" <<'PY'
import sys, tempfile, time, os
from test_hostile import durability_trial
n = int(sys.argv[1])
ok = 0
start = time.monotonic()
with tempfile.TemporaryDirectory(prefix="mkvm-durability-") as d:
    for i in range(n):
        good, what = durability_trial(os.path.join(d, "d.img"))
        ok += good
        if not good:
            print("trial %d: %s" % (i + 1, what))
print("durability: %d of %d flushed writes survived kill -9 (%.1f s)"
      % (ok, n, time.monotonic() - start))
sys.exit(0 if ok == n else 1)
PY
