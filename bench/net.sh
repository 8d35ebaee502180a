#!/bin/bash
# net.sh - virtio-net throughput, measured in the lab (L1 with nested KVM): a Linux guest
# on a TAP in a network namespace sends MIB MiB to the host side (busybox nc) and receives
# MIB MiB from it, for mini-kvm (vhost-net, and the userspace datapath) against
# `qemu-system-x86_64 -M microvm` with vhost-net on the same TAP, same kernel and initramfs.
#
# Usage: bench/net.sh [MIB] [RUNS]     (default 16 MiB, 3 runs per VMM, interleaved)
# Env:   NO_QEMU=1 (skip QEMU), LOG=FILE (keep the lab's console log),
#        VMMS="mini-kvm ..." (mini-kvm's variants to run; default both datapaths),
#        RATIOS=FILE (default .cache/bench/net.ratios, for bench/plot-ratios)
# Times are the guest's (/proc/uptime, 10 ms) around each nc; throughput = MIB / time.
# Also printed: the NIC's interrupts per MiB in the guest (irq-up, irq-down), medians.
set -u
cd "$(dirname "$0")/.." || exit 1
mib=${1:-16}
runs=${2:-3}
ratios=${RATIOS:-.cache/bench/net.ratios}
. bench/lib.sh
vmms=${VMMS:-"mini-kvm mini-kvm-userspace"}
bench_setup net

cat >"$dir/guest.txt" <<EOF
ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0
ping -c 1 -W 10 10.0.2.1 >/dev/null; echo R-ping=\$?
d=\$(basename \$(readlink /sys/class/net/eth0/device))
irq() { awk -v d=\$d '\$NF == d { print \$2 }' /proc/interrupts; }
i0=\$(irq)
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero bs=65536 count=$((mib * 16)) 2>/dev/null | nc 10.0.2.1 5001
t1=\$(cut -d' ' -f1 /proc/uptime)
i1=\$(irq)
mkfifo /tmp/hold; exec 3<>/tmp/hold
echo R-down-bytes=\$(nc 10.0.2.1 5002 <&3 | wc -c)
t2=\$(cut -d' ' -f1 /proc/uptime)
i2=\$(irq)
echo R-irq-up=\$(((i1 - i0) / $mib)); echo R-irq-down=\$(((i2 - i1) / $mib))
echo R-up=\$(awk -v a=\$t0 -v b=\$t1 'BEGIN{print $mib / (b - a)}')
echo R-down=\$(awk -v a=\$t1 -v b=\$t2 'BEGIN{print $mib / (b - a)}')
poweroff
EOF

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (L1, busybox sh): MIB RUNS VMM... ; all in a network namespace of its own;
# run r of every VMM before run r+1 of any
[ -z "$NS" ] && NS=1 exec unshare -n sh "$0" "$@"
mib=$1 runs=$2
shift 2
F=/lab/files
ip link set lo up
tunctl -t mkt0 >/dev/null && ip addr add 10.0.2.1/24 dev mkt0 && ip link set mkt0 up || exit 1
mkfifo /tmp/hold && exec 3<>/tmp/hold
qemu="$F/qemu/lib/ld-linux-x86-64.so.2 --library-path $F/qemu/lib $F/qemu/bin"
args="-k $F/vmlinuz -i $F/initrd.cpio.gz -m 512M -p console=ttyS0"
i=0
while [ $i -lt "$runs" ]; do
    for v in "$@"; do
        (timeout 300 nc -l -p 5001 <&3 | wc -c > /tmp/up.bytes) &
        (head -c $((mib * 1048576)) /dev/zero | timeout 300 nc -l -p 5002 >/dev/null) &
        n=0
        until [ "$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
                   grep -cE ':(1389|138A) 0+:0000 0A')" = 2 ]; do
            n=$((n + 1)); [ $n -gt 100 ] && break; sleep 0.1
        done
        case $v in
        mini-kvm) MKVM=./mini-kvm sh $F/linux_session.sh $v $F/guest.txt 300 $args --net tap=mkt0 --stats ;;
        mini-kvm-userspace) MKVM=./mini-kvm sh $F/linux_session.sh $v $F/guest.txt 300 $args --net tap=mkt0,vhost=off --stats ;;
        qemu-microvm) MKVM="$qemu" sh $F/linux_session.sh $v $F/guest.txt 300 -L $F/qemu/share \
            -M microvm -enable-kvm -cpu host -m 512 -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -kernel $F/vmlinuz -initrd $F/initrd.cpio.gz \
            -append "console=ttyS0" -netdev tap,id=n0,ifname=mkt0,script=no,downscript=no,vhost=on \
            -device virtio-net-device,netdev=n0 ;;
        esac
        wait
        echo "BENCH $v up-bytes=$(cat /tmp/up.bytes)"
    done
    i=$((i + 1))
done
EOF

n=$(echo $vmms | wc -w)
echo "net: $mib MiB each way, $runs run(s) each of: $vmms" >&2
tools/lab -q --cpus 1 --timeout $((90 + runs * n * 330)) --files "$dir" -- \
    sh /lab/files/inner.sh "$mib" "$runs" $vmms >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
dp=$(grep -ao 'virtio-net mkt0 [^ ]* [a-z-]* datapath' "$dir/log" | head -n 1)
echo "mini-kvm's default datapath in this run: ${dp:-?}"
mkdir -p "$(dirname "$ratios")"
bench/summarize.py "$dir/log" "$ratios" $vmms -r up-bytes=$((mib << 20)) \
    -r down-bytes=$((mib << 20)) -m "up:net guest->host:MiB/s" -m "down:net host->guest:MiB/s" \
    -s "irq-up:irqs/MiB up:" -s "irq-down:irqs/MiB down:" ||
    rc=1
exit $rc
