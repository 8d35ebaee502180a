#!/bin/sh
# net_session.sh - a Linux guest on a TAP in a network namespace of its own:
# the TAP (10.0.2.1/24 on the host side) and two listeners that only ever see
# the guest (10.0.2.2): port 5001 takes the guest's upload and prints its
# md5, port 5002 sends a file of MIB MiB to the guest. Nothing is routed.
# Usage: sh net_session.sh NAME MIB SCRIPT TIMEOUT MINI-KVM-ARGS... (as root;
# SCRIPT, TIMEOUT and the rest go to linux_session.sh)
# Re-executes itself in a new network namespace (unshare -n).
[ -z "$NET_SESSION_NS" ] && NET_SESSION_NS=1 exec unshare -n sh "$0" "$@"
name=$1 mib=$2 limit=$4
shift 2
here=$(dirname "$0")
dir=$(mktemp -d) || exit 1
ip link set lo up
tunctl -t mkt0 >/dev/null || { echo "=== $name: tunctl failed"; exit 1; }
ip addr add 10.0.2.1/24 dev mkt0 && ip link set mkt0 up || exit 1
# The host's file for the download: 1 MiB of random bytes, MIB times.
head -c 1048576 /dev/urandom > "$dir/one"
i=0
while [ $i -lt "$mib" ]; do cat "$dir/one"; i=$((i + 1)); done > "$dir/down"
rm "$dir/one"
echo "=== $name host-down-md5=$(md5sum < "$dir/down" | cut -c1-32)"
# A receiver's stdin must never reach EOF (busybox nc would half-close and
# the sender could stop early): a FIFO held open for reading and writing.
mkfifo "$dir/hold" && exec 3<>"$dir/hold"
(timeout "$limit" nc -l -p 5001 <&3 | md5sum | cut -c1-32 > "$dir/up.md5") &
timeout "$limit" nc -l -p 5002 < "$dir/down" >/dev/null &
# Both listening before the guest can connect (bounded poll of the socket table).
n=0
until [ "$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
           grep -cE ':(1389|138A) 0+:0000 0A')" = 2 ]; do
    n=$((n + 1)); [ $n -gt 100 ] && { echo "=== $name: listeners not up"; exit 1; }
    sleep 0.1
done
sh "$here/linux_session.sh" "$name" "$@"
wait
echo "=== $name host-up-md5=$(cat "$dir/up.md5")"
rm -rf "$dir"
