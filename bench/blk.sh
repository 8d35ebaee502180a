#!/bin/bash
# blk.sh - virtio-blk sequential throughput, measured in the lab (L1 with nested KVM): a
# Linux guest reads MIB MiB from its disk and writes MIB MiB to it with O_DIRECT (busybox
# dd, 1 MiB blocks), for mini-kvm against `qemu-system-x86_64 -M microvm` (virtio-blk on
# virtio-mmio, default cache) with the same raw image in L1's tmpfs, kernel and initramfs.
# No 4 KiB random-read IOPS: busybox has no fio, and a shell loop of dd measures fork().
#
# Usage: bench/blk.sh [MIB] [RUNS]     (default 256 MiB, 1 run per VMM)
# Env:   NO_QEMU=1 (skip QEMU), LOG=FILE (keep the lab's console log)
set -u
cd "$(dirname "$0")/.." || exit 1
mib=${1:-256}
runs=${2:-1}
make -s mini-kvm || exit 1
tools/mkinitramfs -q || exit 1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
. bench/lib.sh
cp .cache/linux/vmlinuz .cache/linux/initrd.cpio.gz tests/integration/linux_session.sh "$dir/" || exit 1
vmms="mini-kvm"
if [ -z "${NO_QEMU:-}" ]; then
    bundle_qemu_microvm "$dir" blk || exit 1
    vmms="$vmms qemu-microvm"
fi

cat >"$dir/guest.txt" <<EOF
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/vda of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null; echo R-read-rc=\$?
t1=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero of=/dev/vda bs=1M count=$mib oflag=direct conv=fsync 2>/dev/null; echo R-write-rc=\$?
t2=\$(cut -d' ' -f1 /proc/uptime)
echo R-read-s=\$(awk -v a=\$t0 -v b=\$t1 'BEGIN{print b - a}')
echo R-write-s=\$(awk -v a=\$t1 -v b=\$t2 'BEGIN{print b - a}')
poweroff
EOF

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (L1, busybox sh): MIB RUNS VMM...
mib=$1 runs=$2
shift 2
F=/lab/files
qemu="$F/qemu/lib/ld-linux-x86-64.so.2 --library-path $F/qemu/lib $F/qemu/bin"
head -c $((mib * 1048576)) /dev/urandom > /tmp/d.img || exit 1
i=0
while [ $i -lt "$runs" ]; do
    for v in "$@"; do
        case $v in
        mini-kvm) MKVM=./mini-kvm sh $F/linux_session.sh $v $F/guest.txt 600 -k $F/vmlinuz \
            -i $F/initrd.cpio.gz -m 512M -p console=ttyS0 --disk /tmp/d.img ;;
        qemu-microvm) MKVM="$qemu" sh $F/linux_session.sh $v $F/guest.txt 600 -L $F/qemu/share \
            -M microvm -enable-kvm -cpu host -m 512 -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -kernel $F/vmlinuz -initrd $F/initrd.cpio.gz \
            -append "console=ttyS0" -drive file=/tmp/d.img,format=raw,if=none,id=d0 \
            -device virtio-blk-device,drive=d0 ;;
        esac
    done
    i=$((i + 1))
done
EOF

n=$(echo $vmms | wc -w)
echo "blk: $mib MiB read and written, $runs run(s) each of: $vmms" >&2
tools/lab -q --cpus 1 --mem 3072 --timeout $((120 + runs * n * 620)) --files "$dir" -- \
    sh /lab/files/inner.sh "$mib" "$runs" $vmms >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
python3 - "$dir/log" "$mib" $vmms <<'PY'
import re, statistics, sys
log, mib, vmms = open(sys.argv[1], errors="replace").read(), int(sys.argv[2]), sys.argv[3:]
log = log.replace("\r", "")        # the L1 console's line ends
res = {v: [] for v in vmms}
for m in re.finditer(r"=== (\S+) stdout\n(.*?)=== \1 rc=(\d+)", log, re.S):
    vals = dict(re.findall(r"^R-([a-z-]+)=(\S+)", m[2].replace("\r", ""), re.M))
    ok = m[3] == "0" and vals.get("read-rc") == "0" and vals.get("write-rc") == "0"
    if m[1] in res and ok:
        res[m[1]].append((mib / float(vals["read-s"]), mib / float(vals["write-s"])))
    elif m[1] in res:
        print("--- %s failed: rc=%s %s" % (m[1], m[3], vals))
print("%-14s %5s %16s %16s" % ("VMM", "runs", "seq read", "seq write"))
med = {v: [statistics.median(c) for c in zip(*r)] for v, r in res.items() if r}
for v in vmms:
    if v not in med:
        print("%-14s %5d   (all runs failed)" % (v, 0))
        continue
    ratio = ""
    if v != "mini-kvm" and "mini-kvm" in med:
        ratio = "   (mini-kvm/%s: %.2fx, %.2fx)" % (v, med["mini-kvm"][0] / med[v][0],
                                                  med["mini-kvm"][1] / med[v][1])
    print("%-14s %5d %11.1f MiB/s %11.1f MiB/s%s" % (v, len(res[v]), med[v][0], med[v][1], ratio))
PY
exit $rc
