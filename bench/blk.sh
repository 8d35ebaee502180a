#!/bin/bash
# blk.sh - virtio-blk throughput and IOPS, measured in the lab (L1 with nested KVM): a Linux
# guest reads MIB MiB from its disk with O_DIRECT (busybox dd, 1 MiB blocks), reads 4 KiB
# blocks at random offsets (bench/iops.c, queue depth 1 and 8), then writes MIB MiB, for
# mini-kvm against `qemu-system-x86_64 -M microvm` (virtio-blk on virtio-mmio, default
# cache) with the same raw image in L1's tmpfs, kernel and initramfs (+ the IOPS helper).
#
# Usage: bench/blk.sh [MIB] [RUNS]     (default 256 MiB, 3 runs per VMM, interleaved)
# Env:   NO_QEMU=1 (skip QEMU), LOG=FILE (keep the lab's console log),
#        RATIOS=FILE (default .cache/bench/blk.ratios, for bench/plot-ratios),
#        IOPS_N=N (random reads per measurement, default 4000)
set -u
cd "$(dirname "$0")/.." || exit 1
mib=${1:-256}
runs=${2:-3}
iops_n=${IOPS_N:-4000}
ratios=${RATIOS:-.cache/bench/blk.ratios}
. bench/lib.sh
vmms="mini-kvm"
bench_setup blk
make -s build/iops-helper || exit 1
# The helper as a second initramfs archive after the first (the kernel unpacks both).
python3 - build/iops-helper <<'PY' | gzip -9 > "$dir/iops.cpio.gz" || exit 1
import sys
sys.path.insert(0, "tools")
from debkernel import Cpio
c = Cpio()
c.dir("bin")
c.file("bin/iops", open(sys.argv[1], "rb").read(), 0o755)
sys.stdout.buffer.write(c.bytes())
PY
cat "$dir/iops.cpio.gz" >> "$dir/initrd.cpio.gz" || exit 1

cat >"$dir/guest.txt" <<EOF
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/vda of=/dev/null bs=1M count=$mib iflag=direct 2>/dev/null; echo R-read-rc=\$?
t1=\$(cut -d' ' -f1 /proc/uptime)
iops /dev/vda $iops_n 1
iops /dev/vda $iops_n 8 | sed 's/^R-iops/R-iops8/'
t2=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero of=/dev/vda bs=1M count=$mib oflag=direct conv=fsync 2>/dev/null; echo R-write-rc=\$?
t3=\$(cut -d' ' -f1 /proc/uptime)
echo R-read=\$(awk -v a=\$t0 -v b=\$t1 'BEGIN{print $mib / (b - a)}')
echo R-write=\$(awk -v a=\$t2 -v b=\$t3 'BEGIN{print $mib / (b - a)}')
poweroff
EOF

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (L1, busybox sh): MIB RUNS VMM... ; run r of every VMM before run r+1 of any
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
echo "blk: $mib MiB read and written, $iops_n random 4 KiB reads at QD 1 and 8, $runs run(s) each of: $vmms" >&2
tools/lab -q --cpus 1 --mem 3072 --timeout $((120 + runs * n * 620)) --files "$dir" -- \
    sh /lab/files/inner.sh "$mib" "$runs" $vmms >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
mkdir -p "$(dirname "$ratios")"
bench/summarize.py "$dir/log" "$ratios" $vmms -r read-rc=0 -r write-rc=0 \
    -m "read:blk seq read:MiB/s" -m "write:blk seq write:MiB/s" \
    -m "iops:blk 4k rand read qd1:IOPS" -m "iops8:blk 4k rand read qd8:IOPS" || rc=1
exit $rc
