#!/bin/bash
# xv6-boot.sh - unmodified xv6 (x86), measured inside the lab (L1 with nested KVM): process
# start to xv6's shell starting, mini-kvm against `qemu-system-x86_64 -M pc -enable-kvm`
# with its own firmware (SeaBIOS), on copies of the same images, runs interleaved.
#
# Usage: XV6_DIR=/path/to/xv6 bench/xv6-boot.sh [RUNS]     (default 3 runs per VMM)
# Env:   CPUS="1 2" (guest vCPU counts to measure), LAB_CPUS=1 (L1 vCPUs), NO_QEMU=1,
#        LIMIT=300 (seconds per boot; a slower boot counts as failed),
#        LOG=FILE (keep the lab's console log).
# XV6_DIR holds xv6.img and fs.img built by xv6's own Makefile (docs/legacy-pc.md).
# Neither VMM exits by itself (xv6 never halts): each is killed once xv6 prints
# "init: starting sh" (its shell's "$ " prompt follows at once).
set -u
cd "$(dirname "$0")/.." || exit 1
runs=${1:-3}
cpus_list=${CPUS:-1 2}
limit=${LIMIT:-300}     # seconds per boot before it counts as failed
: "${XV6_DIR:?set XV6_DIR to a directory with xv6.img and fs.img}"

make -s mini-kvm || exit 1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cp "$XV6_DIR/xv6.img" "$XV6_DIR/fs.img" "$dir/" || exit 1

. bench/lib.sh
vmms="mini-kvm"
if [ -z "${NO_QEMU:-}" ]; then
    q=$(command -v qemu-system-x86_64) || { echo "xv6-boot: no qemu-system-x86_64 (or NO_QEMU=1)" >&2; exit 1; }
    bundle "$dir" "$q" qemu || exit 1
    mkdir -p "$dir/qemu/share"
    # -M pc's firmware: SeaBIOS, the VGA BIOS (xv6 needs the CRTC ports: -vga std),
    # and the kvmvapic option ROM that -enable-kvm loads
    # (Debian: qemu-system-x86 and seabios)
    for f in bios-256k.bin vgabios-stdvga.bin kvmvapic.bin; do
        src=$(ls /usr/share/qemu/$f /usr/share/seabios/$f 2>/dev/null | head -1)
        [ -n "$src" ] || { echo "xv6-boot: no $f (apt-get install seabios)" >&2; exit 1; }
        cp -L "$src" "$dir/qemu/share/" || exit 1
    done
    vmms="$vmms qemu-pc"
fi

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (runs in L1, busybox sh): RUNS "CPUS..." LIMIT VMM...
runs=$1 cpus_list=$2 LIMIT=$3
shift 3
F=/lab/files
up() { cut -d' ' -f1 /proc/uptime; }
argv() {    # VMM CPUS: the command line, on fresh copies of the images in /tmp
    case $1 in
    mini-kvm) echo "./mini-kvm -c $2 -m 512M --ide /tmp/xv6.img --ide /tmp/fs.img" ;;
    qemu-pc) echo "$F/qemu/lib/ld-linux-x86-64.so.2 --library-path $F/qemu/lib $F/qemu/bin" \
        "-L $F/qemu/share -M pc -enable-kvm -cpu host -smp $2 -m 512 -nodefaults" \
        "-no-user-config -vga std -display none -serial stdio -no-reboot" \
        "-drive file=/tmp/xv6.img,index=0,media=disk,format=raw" \
        "-drive file=/tmp/fs.img,index=1,media=disk,format=raw" ;;
    esac
}
one() {     # VMM CPUS
    cp $F/xv6.img $F/fs.img /tmp/ || exit 1
    rm -f /tmp/fifo; mkfifo /tmp/fifo || exit 1
    t0=$(up)
    $(argv $1 $2) </dev/null >/tmp/fifo 2>/tmp/e &
    pid=$!
    # No polling loop (in L1 it would take CPU from the VMM): awk blocks on the VMM's
    # output and reads the clock when the line before the first prompt arrives.
    # It also counts xv6's "cpuN: starting" lines: the CPUs the guest really used.
    r=$(timeout $LIMIT awk '/^cpu[0-9]+: starting/ { n++ }
                            /init: starting sh/ { getline u < "/proc/uptime"
                                                  split(u, a, " "); print a[1], n; exit }' /tmp/fifo)
    t1=${r% *} seen=${r#* }
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    echo "BENCH $1 cpus=$2 prompt=$(awk -v a="${t1:-0}" -v b=$t0 'BEGIN{print (a ? a - b : -1)}') started=${seen:-0}"
    if [ -z "$t1" ]; then
        echo "--- $1 -c $2 failed (no prompt in $LIMIT s); its stderr:"; tail -5 /tmp/e
    fi
}
i=0
while [ $i -lt $runs ]; do
    for c in $cpus_list; do
        for v in "$@"; do one $v $c; done
    done
    i=$((i + 1))
done
EOF

n=$(echo $vmms | wc -w) m=$(echo $cpus_list | wc -w)
bound=$((90 + runs * n * m * (limit + 20)))
echo "xv6-boot: $runs run(s) each of: $vmms; guest vCPUs: $cpus_list" >&2
tools/lab -q --cpus "${LAB_CPUS:-1}" --timeout "$bound" --files "$dir" -- \
    sh /lab/files/inner.sh "$runs" "$cpus_list" "$limit" $vmms >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
python3 - "$dir/log" $vmms <<'PY'
import re, statistics, sys

log, vmms = open(sys.argv[1], errors="replace").read(), sys.argv[2:]
rows = {}
started = {}
for m in re.finditer(r"^BENCH (\S+) cpus=(\d+) prompt=(\S+) started=(\d+)", log, re.M):
    if float(m[3]) >= 0:
        rows.setdefault((m[1], int(m[2])), []).append(float(m[3]))
        started.setdefault((m[1], int(m[2])), set()).add(int(m[4]))
for l in log.splitlines():
    if l.startswith("--- ") or l.startswith("lab: error"):
        print(l)
print("%-10s %5s %5s %16s  %s" % ("VMM", "vCPUs", "runs", "to the $ prompt", "CPUs xv6 started"))
for c in sorted({c for _, c in rows}):
    base = rows.get(("mini-kvm", c))
    for v in vmms:
        r = rows.get((v, c))
        if not r:
            print("%-10s %5d %5d %16s" % (v, c, 0, "(all runs failed)"))
            continue
        t = statistics.median(r)
        ratio = ("   (mini-kvm/%s: %.2fx)" % (v, statistics.median(base) / t)
                 if base and v != "mini-kvm" else "")
        print("%-10s %5d %5d %14.2f s  %-16s%s" % (v, c, len(r), t,
              "/".join(str(x) for x in sorted(started[(v, c)])), ratio))
print("medians; from the VMM's process start, measured in L1 (/proc/uptime, 20 ms polling)")
if not rows:
    sys.exit("xv6-boot: no successful run; lab log:\n" + log[-3000:])
PY
exit $rc
