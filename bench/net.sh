#!/bin/bash
# net.sh - virtio-net throughput, measured in the lab (L1 with nested KVM): a Linux guest
# on a TAP in a network namespace sends MIB MiB to the host side (busybox nc) and receives
# MIB MiB from it, for mini-kvm (vhost-net, and the userspace datapath) against
# `qemu-system-x86_64 -M microvm` with vhost-net on the same TAP, same kernel and initramfs.
#
# Usage: bench/net.sh [MIB] [RUNS]     (default 64 MiB, 1 run per VMM)
# Env:   NO_QEMU=1 (skip QEMU), LOG=FILE (keep the lab's console log)
# Times are the guest's (/proc/uptime, 10 ms) around each nc; throughput = MIB / time.
set -u
cd "$(dirname "$0")/.." || exit 1
mib=${1:-64}
runs=${2:-1}
make -s mini-kvm || exit 1
tools/mkinitramfs -q || exit 1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
. bench/lib.sh
cp .cache/linux/vmlinuz .cache/linux/initrd.cpio.gz tests/integration/linux_session.sh "$dir/" || exit 1
vmms="mini-kvm mini-kvm-userspace"
if [ -z "${NO_QEMU:-}" ]; then
    bundle_qemu_microvm "$dir" net || exit 1
    vmms="$vmms qemu-microvm"
fi

cat >"$dir/guest.txt" <<EOF
ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0
ping -c 1 -W 10 10.0.2.1 >/dev/null; echo R-ping=\$?
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero bs=65536 count=$((mib * 16)) 2>/dev/null | nc 10.0.2.1 5001
t1=\$(cut -d' ' -f1 /proc/uptime)
mkfifo /tmp/hold; exec 3<>/tmp/hold
echo R-down-bytes=\$(nc 10.0.2.1 5002 <&3 | wc -c)
t2=\$(cut -d' ' -f1 /proc/uptime)
echo R-up-s=\$(awk -v a=\$t0 -v b=\$t1 'BEGIN{print b - a}')
echo R-down-s=\$(awk -v a=\$t1 -v b=\$t2 'BEGIN{print b - a}')
poweroff
EOF

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (L1, busybox sh): MIB RUNS VMM... ; all in a network namespace of its own
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
        mini-kvm-userspace) MKVM=./mini-kvm sh $F/linux_session.sh $v $F/guest.txt 300 $args --net tap=mkt0,vhost=off ;;
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
python3 - "$dir/log" "$mib" $vmms <<'PY'
import re, statistics, sys
log, mib, vmms = open(sys.argv[1], errors="replace").read(), int(sys.argv[2]), sys.argv[3:]
log = log.replace("\r", "")        # the L1 console's line ends
res = {v: [] for v in vmms}
# each session: "=== NAME stdout" ... R- lines ... "=== NAME rc=N", then "BENCH NAME up-bytes=N"
for m in re.finditer(r"=== (\S+) stdout\n(.*?)=== \1 rc=(\d+)\n(?:.*\n)*?BENCH \1 up-bytes=(\d+)",
                     log, re.S):
    name, out, rc, upb = m[1], m[2], int(m[3]), int(m[4])
    vals = dict(re.findall(r"^R-([a-z-]+)=(\S+)", out.replace("\r", ""), re.M))
    ok = rc == 0 and upb == mib << 20 and vals.get("down-bytes") == str(mib << 20)
    if name in res and ok:
        res[name].append((mib / float(vals["up-s"]), mib / float(vals["down-s"])))
    elif name in res:
        print("--- %s failed: rc=%d up-bytes=%d %s" % (name, rc, upb, vals))
dp = re.search(r"virtio-net mkt0 \S+ (\S+) datapath", log)
print("mini-kvm's default datapath in this run: %s" % (dp[1] if dp else "?"))
print("%-20s %5s %16s %16s" % ("VMM", "runs", "guest->host", "host->guest"))
med = {v: [statistics.median(c) for c in zip(*r)] for v, r in res.items() if r}
for v in vmms:
    if v not in med:
        print("%-20s %5d   (all runs failed)" % (v, 0))
        continue
    ratio = ""
    if v != "mini-kvm" and "mini-kvm" in med:
        ratio = "   (mini-kvm/%s: %.2fx, %.2fx)" % (v, med["mini-kvm"][0] / med[v][0],
                                                  med["mini-kvm"][1] / med[v][1])
    print("%-20s %5d %11.1f MiB/s %11.1f MiB/s%s" % (v, len(res[v]), med[v][0], med[v][1], ratio))
PY
exit $rc
