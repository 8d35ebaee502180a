#!/bin/bash
# net-soak.sh - the lab's silent L1 stop (docs/testing.md) made to happen on purpose: one
# Linux guest uploads MIB MiB through its NIC ROUNDS times in a row, byte-exact (md5 on both
# ends), while tools/lab watches L1's heartbeat and reports L1's registers and QEMU's
# threads if L1 stops (tools/labwatch.py).
#
# Usage: bench/net-soak.sh [MIB] [ROUNDS] [VHOST]   (default 64 MiB, 5 rounds, vhost=off)
# Env:   LOG=FILE (keep the lab's console log), STALL=S (tools/lab --stall, default 60),
#        MKVM_ARGS="..." (more mini-kvm options)
# Prints one line per round as L1 sees the upload end: "SOAK round R md5 SECONDS".
set -u
cd "$(dirname "$0")/.." || exit 1
mib=${1:-64}
rounds=${2:-5}
vhost=${3:-off}
. bench/lib.sh
NO_QEMU=1 bench_setup net-soak      # $dir: kernel, initramfs, linux_session.sh

cat >"$dir/guest.txt" <<EOF
ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0
ping -c 1 -W 10 10.0.2.1 >/dev/null; echo R-ping=\$?
head -c 1048576 /dev/urandom > /tmp/one
i=0; while [ \$i -lt $mib ]; do cat /tmp/one; i=\$((i + 1)); done > /tmp/up; rm /tmp/one
echo R-up-md5=\$(md5sum < /tmp/up | cut -c1-32)
r=0; while [ \$r -lt $rounds ]; do nc 10.0.2.1 \$((5100 + r)) < /tmp/up; echo R-rc-\$r=\$?; r=\$((r + 1)); done
poweroff
EOF

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (L1): MIB ROUNDS VHOST MKVM_ARGS; a network namespace of its own, one listener per
# round (ports 5100+r, all listening before the guest starts: no race between rounds)
[ -z "$NS" ] && NS=1 exec unshare -n sh "$0" "$@"
mib=$1 rounds=$2 vhost=$3 extra=$4
F=/lab/files
ip link set lo up
tunctl -t mkt0 >/dev/null && ip addr add 10.0.2.1/24 dev mkt0 && ip link set mkt0 up || exit 1
mkfifo /tmp/hold && exec 3<>/tmp/hold
r=0
while [ $r -lt "$rounds" ]; do
    (timeout 600 nc -l -p $((5100 + r)) <&3 | md5sum | cut -c1-32 > /tmp/md5.$r
     echo "SOAK round $r $(cat /tmp/md5.$r) $(cut -d' ' -f1 /proc/uptime)") &
    r=$((r + 1))
done
sleep 1
echo "SOAK start $(cut -d' ' -f1 /proc/uptime)"
sh $F/linux_session.sh soak $F/guest.txt 600 -k $F/vmlinuz -i $F/initrd.cpio.gz -m 512M \
    -p console=ttyS0 --net tap=mkt0,vhost=$vhost --stats $extra
kill $(jobs -p) 2>/dev/null
exit 0
EOF

echo "net-soak: $mib MiB up x $rounds, vhost=$vhost" >&2
tools/lab --cpus 1 --stall "${STALL:-60}" --timeout $((120 + rounds * (mib * 3 / 2 + 10))) \
    --files "$dir" -- sh /lab/files/inner.sh "$mib" "$rounds" "$vhost" "${MKVM_ARGS:-}" \
    >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
grep -a '^SOAK\|R-up-md5\|R-rc-\|^lab: \|datapath' "$dir/log" | grep -v '^lab:     [A-Z][A-Z0-9 ]*='
want=$(grep -aoE 'R-up-md5=[0-9a-f]{32}' "$dir/log" | head -n 1 | cut -d= -f2)
good=$(grep -ac "^SOAK round [0-9]* ${want:-none} " "$dir/log")
echo "net-soak: $good of $rounds round(s) byte-exact; tools/lab status $rc"
[ "$rc" = 0 ] && [ "$good" = "$rounds" ]
