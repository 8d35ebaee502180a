#!/bin/bash
# linux-boot.sh - Linux boot, measured inside the lab (L1 with nested KVM): process start to
# the guest's /init marker line, to exit, and max RSS, for mini-kvm against
# `qemu-system-x86_64 -M microvm -enable-kvm` (and kvmtool when LKVM=path is given).
#
# Usage: bench/linux-boot.sh [RUNS]      (default 5 runs per VMM, interleaved)
# Env:   CPUS="1 2" MEM=512 (guest vCPU counts, each measured; MiB), LAB_CPUS=1 (L1 vCPUs:
#        more make TCG corrupt nested guests now and then, docs/testing.md), NO_QEMU=1,
#        LKVM=/path/to/lkvm (add kvmtool), CMDLINE (default "console=ttyS0 quiet"),
#        SMP_CMDLINE (default "nohz_full=1-N": added for -c 2 and up, as tools/run-linux does),
#        LOG=FILE (keep the lab's console log).
# The same kernel, initramfs and command line (plus `mkvm.bench`, which makes the
# guest's /init power off right after printing the marker) for every VMM. QEMU runs in L1
# from a bundle of /usr/bin/qemu-system-x86_64, its shared libraries and qboot.
set -u
cd "$(dirname "$0")/.." || exit 1
runs=${1:-5}
cpus=${CPUS:-1 2}
mem=${MEM:-512}
cmdline="${CMDLINE:-console=ttyS0 quiet} mkvm.bench"
smp_cmdline=${SMP_CMDLINE-nohz_full=1-N}

make -s mini-kvm || exit 1
tools/mkinitramfs -q || exit 1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cp .cache/linux/vmlinuz .cache/linux/initrd.cpio.gz "$dir/" || exit 1

. bench/lib.sh
vmms="mini-kvm"
if [ -z "${NO_QEMU:-}" ]; then
    bundle_qemu_microvm "$dir" linux-boot || exit 1
    vmms="$vmms qemu-microvm"
fi
if [ -n "${LKVM:-}" ]; then
    bundle "$dir" "$LKVM" lkvm || exit 1
    vmms="$vmms kvmtool"
fi

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (runs in L1, busybox sh): RUNS "CPUS..." MEM CMDLINE SMP_CMDLINE VMM...
runs=$1 cpus=$2 mem=$3 cmdline1=$4 smp_cmdline=$5
shift 5
marker="mini-kvm-guest: /init reached"
F=/lab/files
export HOME=${HOME:-/tmp}
T=$(mktemp -d)    # this script's files    # kvmtool keeps its control sockets in $HOME/.lkvm
up() { cut -d' ' -f1 /proc/uptime; }
# exe NAME: a bundle's binary, through its own ld.so unless it is static
exe() {
    if [ -e $F/$1/lib/ld-linux-x86-64.so.2 ]; then
        echo "$F/$1/lib/ld-linux-x86-64.so.2 --library-path $F/$1/lib $F/$1/bin"
    else
        echo "$F/$1/bin"
    fi
}
argv() {
    case $1 in
    mini-kvm) echo "./mini-kvm -k $F/vmlinuz -i $F/initrd.cpio.gz -m ${mem}M -c $cpus -p" ;;
    qemu-microvm) echo "$(exe qemu)" \
        "-L $F/qemu/share -M microvm -enable-kvm -cpu host -smp $cpus -m $mem -nodefaults" \
        "-no-user-config -display none -serial stdio -no-reboot -kernel $F/vmlinuz" \
        "-initrd $F/initrd.cpio.gz -append" ;;
    # --nodefaults: exactly our command line (no "noapic noacpi ... root=/dev/vda" prefix);
    # mode=none: no default user-mode virtio-net (the others have no NIC either)
    kvmtool) echo "$(exe lkvm) run --nodefaults --network mode=none -k $F/vmlinuz" \
        "-i $F/initrd.cpio.gz -m $mem -c $cpus --console serial -p" ;;
    esac
}
T=$(mktemp -d) && export T    # this script's files
# busybox's `time -v` (L1's only one) reports ru_maxrss, which Linux gives in KiB already,
# converted from pages to KiB once more (busybox 1.35 time.c, ptok()): 4x too much
rss_div=1
case $(readlink -f "$(which time)") in *busybox*) rss_div=4 ;; esac
# $T/stopvmm: kill -9 the children of the process in $T/pid (the VMM under `time -v`)
cat >$T/stopvmm <<'STOP'
p=$(cat $T/pid)
for s in /proc/[0-9]*/stat; do
    read -r c _ _ pp _ <"$s" 2>/dev/null && [ "$pp" = "$p" ] && kill -9 "$c"
done
STOP
# The VMM's output goes through awk, which blocks on it (no polling loop taking L1's only
# CPU) and notes the uptime when the marker arrives, when the guest kernel halts and
# when the VMM exits. A VMM without a power-off device (kvmtool on x86: no ACPI) never
# exits: the guest's poweroff ends in the kernel's halt, and then awk stops the VMM.
one() {
    rm -f $T/o $T/e $T/t $T/pid
    t0=$(up)
    { time -v $(argv $1) "$cmdline" </dev/null 2>$T/e &
      echo $! >$T/pid; wait $!; echo "BENCH-VMM-EXIT $?"; } |
    awk -v m="$marker" -v T="$T" '
        function now(  u) { getline u < "/proc/uptime"; close("/proc/uptime"); split(u, f, " "); return f[1] }
        /^BENCH-VMM-EXIT / { print "t2=" now() " rc=" $2 > (T "/t"); next }
        { print > (T "/o") }
        !t1 && index($0, m) { t1 = now(); print "t1=" t1 > (T "/t") }
        t1 && !h && /System halted/ { h = 1; print "th=" now() > (T "/t"); fflush(T "/t")
            system("sh " T "/stopvmm") }' 2>/dev/null
    t1= th= t2= rc=
    eval "$(cat $T/t)"
    end=exit
    [ -n "$th" ] && end=halt t2=$th rc=0
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' $T/e | tail -1)
    rss=$((${rss:-0} / rss_div))
    echo "BENCH $1 cpus=$cpus rc=$rc marker=$(awk -v a="${t1:-0}" -v b=$t0 'BEGIN{print (a ? a - b : -1)}')" \
         "exit=$(awk -v a=$t2 -v b=$t0 'BEGIN{print a - b}') rss_kb=$rss end=$end"
    # a kernel log the guest printed for bench/boot-profile.sh (mkvm.dmesg), one prefix per VMM
    sed -n '/^=== mkvm.dmesg/,/^=== mkvm.dmesg end/p' $T/o | sed "s,^,$1/c$cpus| ,"
    if [ -z "$t1" ] || [ $rc != 0 ]; then
        echo "--- $1 failed; its output:"; tail -15 $T/o
        grep -v "^	" $T/e | tail -15    # its stderr without time -v's tab-indented report
    fi
}
# what mini-kvm's host probe (two tiny VMs, run before every Linux boot) costs here
t0=$(up); ./mini-kvm --check-host >/dev/null 2>&1; t1=$(up)
echo "BENCH-PROBE $(awk -v a=$t1 -v b=$t0 'BEGIN{print a - b}')"
cpulist=$cpus
for cpus in $cpulist; do
    cmdline=$cmdline1    # the same for every VMM; with 2+ vCPUs plus SMP_CMDLINE
    [ "$cpus" -gt 1 ] && [ -n "$smp_cmdline" ] && cmdline="$cmdline1 $smp_cmdline"
    i=0
    while [ $i -lt $runs ]; do
        for v in "$@"; do one $v; done
        i=$((i + 1))
    done
done
EOF

n=$(($(echo $vmms | wc -w) * $(echo $cpus | wc -w)))
bound=$((90 + runs * n * 120))
echo "linux-boot: $runs run(s) each of: $vmms; guest -c $cpus -m ${mem}M, cmdline \"$cmdline\"" \
    "(with -c 2 and up: \"$smp_cmdline\" added)" >&2
tools/lab -q --cpus "${LAB_CPUS:-1}" --timeout "$bound" --files "$dir" -- \
    sh /lab/files/inner.sh "$runs" "$cpus" "$mem" "$cmdline" "$smp_cmdline" $vmms >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
python3 - "$dir/log" $vmms <<'PY'
import re, statistics, sys

log, vmms = open(sys.argv[1], errors="replace").read(), sys.argv[2:]
rows, halted, seen, rounds = {}, set(), {}, {}
for m in re.finditer(r"^BENCH (\S+) cpus=(\d+) rc=(\d+) marker=(\S+) exit=(\S+) rss_kb=(\d+) "
                     r"end=(\w+)", log, re.M):
    k = (m[1], int(m[2]))
    seen[k] = seen.get(k, 0) + 1        # the k-th line of a VMM and -c is its round k
    if m[1] in vmms and m[3] == "0" and float(m[4]) >= 0:
        rows.setdefault(k, []).append((float(m[4]), float(m[5]), int(m[6]) / 1024))
        rounds.setdefault(k, {})[seen[k]] = float(m[4])
        if m[7] == "halt":
            halted.add(m[1])
fails = [l for l in log.splitlines() if l.startswith("--- ") or l.startswith("lab: error")]
for l in fails:
    print(l)
if not any(k[0] == "mini-kvm" for k in rows):
    sys.exit("linux-boot: no successful mini-kvm run; lab log:\n" + log[-3000:])
med = {k: [statistics.median(c) for c in zip(*r)] for k, r in rows.items()}
cpus = sorted({k[1] for k in rows})
print("%-14s %4s %5s %16s %16s %13s" % ("VMM", "-c", "runs", "to /init marker", "to exit",
                                         "max RSS"))
for c in cpus:
    base = med.get(("mini-kvm", c))
    for v in vmms:
        if (v, c) not in med:
            print("%-14s %4d %5d %16s" % (v, c, 0, "(all runs failed)"))
            continue
        t, e, r = med[(v, c)]
        ratio = "" if v == "mini-kvm" or not base else "  mini-kvm/%s: time %.2fx, RSS %.2fx" % (
            v, base[0] / t, base[2] / r)
        # the host's load drifts between rounds: the ratio within each round (the VMMs
        # ran back to back), its median and range, next to the ratio of the medians
        pairs = sorted(rounds[("mini-kvm", c)][i] / x for i, x in rounds[(v, c)].items()
                       if v != "mini-kvm" and i in rounds.get(("mini-kvm", c), {}))
        if pairs:
            ratio += " (per round: median %.2fx, %.2f-%.2fx)" % (statistics.median(pairs),
                                                                pairs[0], pairs[-1])
        times = sorted(x[0] for x in rows[(v, c)])
        ratio = " [%.2f-%.2f]" % (times[0], times[-1]) + ratio
        e = ("%.2f s" % e) + (" (halt)" if v in halted else "")
        print("%-14s %4d %5d %14.2f s %16s %9.1f MiB%s" % (v, c, len(rows[(v, c)]), t, e, r, ratio))
probe = re.search(r"^BENCH-PROBE (\S+)", log, re.M)
if probe:
    print("mini-kvm --check-host (its host probe alone) took %s s in L1" % probe[1])
print("medians [fastest-slowest run]; times from the VMM's process start, measured in L1 (/proc/uptime, 10 ms "
      "resolution, read by an awk that blocks on the VMM's output)")
if halted:
    print("(halt): the VMM did not exit at the guest's poweroff (no power-off device); the "
          "time is to the guest kernel's \"System halted\", then the VMM was killed")
# the plot for docs/benchmarks.md: median time to the marker, one bar per VMM and -c
sys.path.insert(0, "bench")
from textplot import bars
bars("to /init marker (median, s)",
     [("%-13s -c %d" % (v, c), med[(v, c)][0]) for c in cpus for v in vmms if (v, c) in med])
PY
exit $rc
