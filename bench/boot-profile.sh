#!/bin/bash
# boot-profile.sh - where a Linux boot spends its time, per VMM side by side, in the lab:
# top initcalls, the longest silent gaps in the kernel log, calibrations, probes that time out.
#
# Usage: bench/boot-profile.sh [TOP]     (default: the 12 longest of each)
# Env:   CPUS=2 MEM=512, CMDLINE (default "console=ttyS0 quiet"), NO_QEMU=1, LKVM=path,
#        LOG=FILE (keep the lab's console log), PROFILE_LOG=FILE (analyse a kept log, no lab).
# One boot per VMM through bench/linux-boot.sh, with "initcall_debug printk.time=1" added and
# `mkvm.dmesg` (the guest's /init prints its kernel log after the /init marker, so the quiet
# boot itself is not slowed by the console; initcalls under 100 us are left out there).
set -u
cd "$(dirname "$0")/.." || exit 1
top=${1:-12}
log=${PROFILE_LOG:-}
if [ -z "$log" ]; then
    log=$(mktemp) || exit 1
    trap 'rm -f "$log"' EXIT
    CMDLINE="${CMDLINE:-console=ttyS0 quiet} initcall_debug printk.time=1 log_buf_len=4M mkvm.dmesg" \
        LOG="$log" bench/linux-boot.sh 1 || echo "boot-profile: some boots failed (see above)" >&2
    [ -n "${LOG:-}" ] && cp "$log" "$LOG"
fi
python3 - "$log" "$top" <<'PY'
import re, sys

text, top = open(sys.argv[1], errors="replace").read(), int(sys.argv[2])
logs = {}
for line in text.splitlines():
    m = re.match(r"^(\S+)\| (.*)$", line)
    if m:
        logs.setdefault(m[1], []).append(m[2].rstrip("\r"))
if not logs:
    sys.exit("boot-profile: no kernel log in the lab output (did every boot fail?)")
TS = re.compile(r"^\[\s*(\d+\.\d+)\] (.*)$")
NOTABLE = re.compile(r"calibrat|Calibrating|APIC|tsc:|TSC|clocksource|timed? ?out|not responding|"
                     r"probe .* failed|Fatal|WARNING|Error|error|BUG|Firmware Bug|unchecked MSR|"
                     r"pnp: |PCI|i8042|8250|rtc_cmos|Run /init", re.I)
prof = {}
for vmm, lines in logs.items():
    ev = [(float(m[1]), m[2]) for m in map(TS.match, lines) if m]
    calls = {}
    for t, msg in ev:
        c = re.match(r"initcall (\S+?)\+0x\S+ returned (-?\d+) after (\d+) usecs", msg)
        if c:
            calls[c[1]] = calls.get(c[1], 0) + int(c[3])
    gaps = sorted(((b[0] - a[0], a, b) for a, b in zip(ev, ev[1:])), reverse=True)[:top]
    init = next((t for t, m in ev if "Run /init as init process" in m), None)
    prof[vmm] = dict(ev=ev, calls=calls, gaps=gaps, init=init)

vmms = list(prof)
print("== kernel time to \"Run /init\" (guest clock), sum of initcalls >= 100 us")
for v in vmms:
    p = prof[v]
    print("  %-14s %8s s   initcalls %7.3f s" % (
        v, "%.3f" % p["init"] if p["init"] is not None else "?", sum(p["calls"].values()) / 1e6))
print("\n== top %d initcalls (ms), by the slowest of the VMMs" % top)
names = sorted({n for p in prof.values() for n in p["calls"]},
               key=lambda n: -max(p["calls"].get(n, 0) for p in prof.values()))[:top]
print("  %-40s" % "initcall" + "".join("%14s" % v for v in vmms))
for n in names:
    print("  %-40s" % n[:40] + "".join("%14.1f" % (prof[v]["calls"].get(n, 0) / 1e3) for v in vmms))
for v in vmms:
    print("\n== %s: longest gaps between kernel log lines (what came after the wait)" % v)
    for d, a, b in prof[v]["gaps"]:
        print("  %7.1f ms at %8.3f s: %s" % (d * 1e3, b[0], b[1][:110]))
    print("== %s: calibration, probes, errors" % v)
    for t, m in prof[v]["ev"]:
        if NOTABLE.search(m) and not m.startswith("initcall ") and not m.startswith("calling "):
            print("  %8.3f %s" % (t, m[:120]))
PY
