#!/bin/sh
# snapshot_session.sh - (lab) Linux configured and started through the API, a snapshot
# taken at its shell, the VMM killed, the snapshot loaded through the API of a new
# process: the shell answers and the guest's date is L1's; then SendCtrlAltDel, and the
# guest reboots (mini-kvm exits 0). The API client is uds-http (no curl in L1).
# Usage: sh snapshot_session.sh FILES LIMIT [net]
# With "net" the guest also has a network interface (the userspace datapath) on a TAP
# in a network namespace of its own (10.0.2.1 here, 10.0.2.2 the guest), pinged
# before the snapshot (R1-ping) and after the restore (R2-ping); as root.
# Prints "=== ..." step lines, then both consoles and stderrs; the test reads R1-date,
# R2-date and L1-date lines.
F=$1 limit=$2 net=$3
if [ "$net" = net ] && [ -z "$SNAPSHOT_SESSION_NS" ]; then
    SNAPSHOT_SESSION_NS=1 exec unshare -n sh "$0" "$@"
fi
trap "" PIPE
dir=$(mktemp -d) || exit 1
sock=$dir/api.sock
mkfifo "$dir/in1" "$dir/in2" || exit 1
end=$(( $(cut -d. -f1 /proc/uptime) + limit ))

# waitfor FILE TEXT: bounded poll (0.2 s, unhurried: L1 has one CPU) for TEXT in FILE
waitfor() {
    until grep -q -F -- "$2" "$1" 2>/dev/null; do
        [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && { echo "=== timeout waiting for $2"; return 1; }
        sleep 0.2
    done
}
api() { echo "=== api $1 $2: $("$F/uds-http" "$sock" "$@")"; }

timeout "$limit" ./mini-kvm --api "$sock" <"$dir/in1" >"$dir/out1" 2>"$dir/err1" &
pid1=$!
exec 3>"$dir/in1"
until [ -S "$sock" ]; do sleep 0.2; [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && break; done
api PUT /boot-source "{\"kernel_image_path\": \"$F/vmlinuz\", \"initrd_path\": \"$F/initrd.cpio.gz\", \"boot_args\": \"console=ttyS0 quiet\"}"
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
# (the marker is made by the shell: the echo of the typed line must not match it)
ping_cmd='ping -c 1 -W 10 10.0.2.1 >/dev/null 2>&1 && r=ok || r=failed; echo R%d-ping$(echo =)$r\n'
if [ "$net" = net ]; then
    ip link set lo up
    tunctl -t mkt0 >/dev/null && ip addr add 10.0.2.1/24 dev mkt0 && ip link set mkt0 up ||
        echo "=== no TAP"
    api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "mkt0"}'
fi
api PUT /actions '{"action_type": "InstanceStart"}'
ok=1
waitfor "$dir/out1" 'mkvm-linux:' || ok=0
if [ $ok = 1 ] && [ "$net" = net ]; then
    printf 'ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up\n' >&3
    printf "$ping_cmd" 1 >&3
    waitfor "$dir/out1" 'R1-ping=' || ok=0
fi
if [ $ok = 1 ]; then
    printf 'echo R1-date=$(date +%%s)\n' >&3
    waitfor "$dir/out1" 'R1-date=1' || ok=0
fi
api PATCH /vm '{"state": "Paused"}'
t0=$(cut -d' ' -f1 /proc/uptime)
api PUT /snapshot/create "{\"snapshot_path\": \"$dir/l.snap\", \"mem_file_path\": \"$dir/l.mem\"}"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "=== snapshot took uptime $t0 -> $t1; files: $(ls -ls "$dir/l.snap" "$dir/l.mem" | tr -s ' ' | tr '\n' ';')"
kill -9 $pid1
wait $pid1
exec 3>&-
# A deliberate gap (not a synchronisation): the restored guest's clock must move on by it.
sleep 3
# Restored through the API of a new process (PUT /snapshot/load), so that the same
# process can then be sent Ctrl+Alt+Del.
sock=$dir/api2.sock
t2=$(cut -d' ' -f1 /proc/uptime)
timeout "$limit" ./mini-kvm --api "$sock" <"$dir/in2" >"$dir/out2" 2>"$dir/err2" &
pid2=$!
exec 4>"$dir/in2"
until [ -S "$sock" ]; do sleep 0.2; [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && break; done
api PUT /snapshot/load "{\"snapshot_path\": \"$dir/l.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$dir/l.mem\"}, \"resume_vm\": true}"
echo "=== L1-date=$(date +%s)"
printf 'echo R2-date=$(date +%%s)\n' >&4
waitfor "$dir/out2" 'R2-date=1'
echo "=== L1-date-after=$(date +%s)"      # the guest answered in between
t3=$(cut -d' ' -f1 /proc/uptime)
echo "=== restore to the shell's answer: uptime $t2 -> $t3"
printf 'echo R2-uname=$(uname -r)\n' >&4
waitfor "$dir/out2" 'R2-uname=6'
if [ "$net" = net ]; then
    printf "$ping_cmd" 2 >&4
    waitfor "$dir/out2" 'R2-ping='
fi
# SendCtrlAltDel: Linux's atkbd gets the keys and the kernel restarts (C_A_D is on:
# /init does not turn it off); mini-kvm exits as on any guest reset. Bounded: 60 s.
t4=$(cut -d' ' -f1 /proc/uptime)
api PUT /actions '{"action_type": "SendCtrlAltDel"}'
cad_end=$(( $(cut -d. -f1 /proc/uptime) + 60 ))
while kill -0 $pid2 2>/dev/null && [ "$(cut -d. -f1 /proc/uptime)" -lt "$cad_end" ]; do
    sleep 0.2
done
kill -0 $pid2 2>/dev/null && { echo "=== no exit 60 s after SendCtrlAltDel"; kill -9 $pid2; }
wait $pid2
echo "=== restored rc=$?"
t5=$(cut -d' ' -f1 /proc/uptime)
echo "=== SendCtrlAltDel to exit: uptime $t4 -> $t5"
exec 4>&-
for i in 1 2; do
    echo "=== out$i"; cat "$dir/out$i"; echo; echo "=== err$i"; cat "$dir/err$i"
done
rm -rf "$dir"
