#!/usr/bin/env python3
# summarize.py - the lab benchmarks' results (bench/net.sh, bench/blk.sh): medians per VMM
# from a console log of linux_session.sh runs, the ratio to QEMU, and a ratios file for
# bench/plot-ratios.
"""usage: bench/summarize.py LOG RATIOS VMM... -m KEY:LABEL:UNIT... [-s KEY:LABEL:UNIT...]
                            [-r KEY=VALUE...]

Each session in LOG is "=== NAME stdout" ... "=== NAME rc=N", optionally followed by
"BENCH NAME key=value ..." (values measured in L1); its result lines are "R-key=value".
A session counts when rc is 0 and every -r KEY=VALUE holds. For each -m KEY (a rate,
higher is better) the median over the counted sessions of each VMM is printed, with
mini-kvm's ratio to qemu-microvm; -s KEY are shown the same way but not compared (counts,
lower may be better). RATIOS gets one line per -m metric and mini-kvm variant:
label, mini-kvm median, QEMU median, ratio, runs of each, unit (tab-separated)."""
import argparse
import re
import statistics
import sys


def sessions(log):
    """[(name, {key: value})] in log order."""
    log = log.replace("\r", "")        # the L1 console's line ends
    out = []
    # a BENCH line belongs to the session just before it (no "=== " line between)
    pat = (r"=== (\S+) stdout\n(.*?)=== \1 rc=(\d+)\n"
           r"(?:(?:(?!=== )[^\n]*\n)*?BENCH \1 ([^\n]*)\n)?")
    for m in re.finditer(pat, log, re.S):
        vals = dict(re.findall(r"^R-([a-z0-9-]+)=(\S+)", m[2], re.M))
        vals["rc"] = m[3]
        vals.update(re.findall(r"([a-z0-9-]+)=(\S+)", m[4] or ""))
        out.append((m[1], vals))
    return out


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("ratios")
    ap.add_argument("vmms", nargs="+")
    ap.add_argument("-m", dest="metrics", action="append", default=[])
    ap.add_argument("-s", dest="show", action="append", default=[])
    ap.add_argument("-r", dest="require", action="append", default=[])
    a = ap.parse_args()
    metrics = [m.split(":", 2) for m in a.metrics + a.show]
    need = dict(r.split("=", 1) for r in a.require)
    need["rc"] = "0"
    with open(a.log, errors="replace") as f:
        runs = {v: [] for v in a.vmms}
        for name, vals in sessions(f.read()):
            if name not in runs:
                continue
            bad = {k: vals.get(k) for k, v in need.items() if vals.get(k) != v}
            try:
                row = [float(vals[k]) for k, _, _ in metrics]
            except (KeyError, ValueError):
                bad["metrics"] = "missing"
            if bad:
                print("--- %s failed: %s" % (name, bad))
            else:
                runs[name].append(row)
    med = {v: [statistics.median(c) for c in zip(*r)] for v, r in runs.items() if r}
    print("%-20s %4s" % ("VMM", "runs") + "".join(" %22s" % l for _, l, _ in metrics))
    for v in a.vmms:
        cells = ["%15.1f %-6s" % (x, u) for x, (_, _, u) in zip(med[v], metrics)] if v in med \
            else ["%22s" % "(all runs failed)"]
        print("%-20s %4d" % (v, len(runs[v])) + "".join(" " + c for c in cells))
    q = med.get("qemu-microvm")
    with open(a.ratios, "w") as out:
        for v in a.vmms:
            if v == "qemu-microvm" or v not in med or not q:
                continue
            n = len(a.metrics)
            ratios = [x / y if y else 0 for x, y in zip(med[v][:n], q[:n])]
            print("%s / qemu-microvm: %s" % (v, ", ".join(
                "%s %.2fx" % (l, r) for (_, l, _), r in zip(metrics, ratios))))
            tag = "" if v == "mini-kvm" else " (%s)" % v.replace("mini-kvm-", "")
            for (_, l, u), x, y, r in zip(metrics, med[v], q, ratios):
                out.write("%s%s\t%.2f\t%.2f\t%.3f\t%d\t%d\t%s\n"
                          % (l, tag, x, y, r, len(runs[v]), len(runs["qemu-microvm"]), u))
    return 0 if all(runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
