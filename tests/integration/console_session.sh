#!/bin/sh
# console_session.sh - drive a guest that never exits by itself (xv6) through its serial
# console from a small script (busybox or GNU sh), then stop mini-kvm and print everything.
# Usage: [MKVM=path] sh console_session.sh NAME SCRIPT LIMIT MINI-KVM-ARGS...
# SCRIPT, one step a line:
#   wait N TEXT   poll (bounded by LIMIT) until the console holds N copies of TEXT
#   send TEXT     type TEXT and a newline
# After the last step mini-kvm gets SIGTERM. Prints "=== NAME stdout", the console,
# "=== NAME stderr", mini-kvm's stderr, "=== NAME steps OK|FAILED at: STEP", and
# "=== NAME rc=N" (143: stopped by the script, as expected; 124: LIMIT ran out).
name=$1 script=$2 limit=$3
shift 3
trap "" PIPE          # mini-kvm may be gone before we type
dir=$(mktemp -d) || exit 1
fifo=$dir/in out=$dir/out err=$dir/err
mkfifo "$fifo" || exit 1
# The VMM's status lands in $dir/rc when it ends (kill -0 would still see a zombie).
(timeout "$limit" ${MKVM:-./mini-kvm} "$@" <"$fifo" >"$out" 2>"$err" &
 echo $! >"$dir/pid"; wait $!; echo $? >"$dir/rc") &
pid=$!
exec 3>"$fifo"
t0=$(cut -d' ' -f1 /proc/uptime)
end=$(( ${t0%.*} + limit ))

# count TEXT: copies of TEXT in the output so far (fixed string, may repeat on a line)
count() { grep -o -F -- "$1" "$out" 2>/dev/null | wc -l; }

# Typed bytes are only safe once the guest reads the console (its prompt is there):
# every `send` follows a `wait`, a poll on what the guest printed, bounded by LIMIT
# seconds of uptime (not by a count of turns: in the lab each turn is slow) and
# unhurried (0.2 s), so that it leaves the CPU to the guest.
waitfor() {
    while [ "$(count "$2")" -lt "$1" ]; do
        [ -e "$dir/rc" ] && return 1
        [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

status="OK"
while IFS= read -r line; do
    verb=${line%% *} rest=${line#* }
    case $verb in
    wait) waitfor "${rest%% *}" "${rest#* }" || { status="FAILED at: $line"; break; } ;;
    send) printf '%s\n' "$rest" >&3 ;;
    "") ;;
    *) status="FAILED at: bad step '$line'"; break ;;
    esac
done <"$script"
t1=$(cut -d' ' -f1 /proc/uptime)
[ -e "$dir/rc" ] || kill -TERM "$(cat "$dir/pid")" 2>/dev/null
wait $pid
rc=$(cat "$dir/rc" 2>/dev/null || echo 255)
exec 3>&-
echo "=== $name stdout"
cat "$out"
echo
echo "=== $name stderr"
cat "$err"
echo "=== $name steps $status (uptime $t0 -> $t1)"
echo "=== $name rc=$rc"
rm -rf "$dir"
