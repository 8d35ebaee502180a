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
timeout "$limit" ${MKVM:-./mini-kvm} "$@" <"$fifo" >"$out" 2>"$err" &
pid=$!
exec 3>"$fifo"
t0=$(cut -d' ' -f1 /proc/uptime)

# count TEXT: copies of TEXT in the output so far (fixed string, may repeat on a line)
count() { grep -o -F -- "$1" "$out" 2>/dev/null | wc -l; }

# Typed bytes are only safe once the guest reads the console (its prompt is there):
# every `send` follows a `wait`, a bounded poll on what the guest printed.
waitfor() {
    n=0
    while [ "$(count "$2")" -lt "$1" ]; do
        kill -0 $pid 2>/dev/null || return 1
        n=$((n + 1))
        [ $n -gt $((limit * 20)) ] && return 1
        sleep 0.05
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
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
exec 3>&-
echo "=== $name stdout"
cat "$out"
echo
echo "=== $name stderr"
cat "$err"
echo "=== $name steps $status (uptime $t0 -> $t1)"
echo "=== $name rc=$rc"
rm -rf "$dir"
