#!/bin/sh
# linux_session.sh - drive a Linux guest's serial console from a script (busybox or GNU
# sh): wait for the guest's shell prompt, type SCRIPT, wait for mini-kvm to exit.
# Usage: [MKVM=path] sh linux_session.sh NAME SCRIPT TIMEOUT MINI-KVM-ARGS...
# Prints "=== NAME prompt ...", "=== NAME stdout", the console, "=== NAME stderr",
# mini-kvm's stderr, then "=== NAME rc=N" (124/143: TIMEOUT seconds ran out).
name=$1 script=$2 limit=$3
shift 3
trap "" PIPE          # mini-kvm may be gone before we type
dir=$(mktemp -d) || exit 1
fifo=$dir/in out=$dir/out err=$dir/err
mkfifo "$fifo" || exit 1
t0=$(cut -d' ' -f1 /proc/uptime)
timeout "$limit" ${MKVM:-./mini-kvm} "$@" <"$fifo" >"$out" 2>"$err" &
pid=$!
exec 3>"$fifo"
# Bytes typed before the guest's shell reads the console would be lost (the 8250 driver
# flushes its FIFO when the port opens): poll, bounded, for the prompt first.
# prompts N: wait, bounded, until the console holds N lines with the shell's prompt
prompts() {
    n=0
    until [ "$(grep -c 'mkvm-linux:' "$out")" -ge "$1" ]; do
        kill -0 $pid 2>/dev/null || break
        n=$((n + 1))
        [ $n -gt $((limit * 20)) ] && break
        sleep 0.05
    done
}
prompts 1
t1=$(cut -d' ' -f1 /proc/uptime)
echo "=== $name prompt: uptime $t0 -> $t1; L1-date=$(date +%s)"
# A script that starts with `stty -echo` gets that line alone first, and the rest only
# once the next prompt shows it took effect: the line discipline echoes type-ahead as it
# arrives, which would glue script text onto the script's own output lines.
if [ "$(head -n 1 "$script")" = "stty -echo" ]; then
    head -n 1 "$script" >&3
    prompts 2
    tail -n +2 "$script" >&3
else
    cat "$script" >&3
fi
wait $pid
rc=$?
exec 3>&-
echo "=== $name stdout"
cat "$out"
echo
echo "=== $name stderr"
cat "$err"
echo "=== $name rc=$rc"
rm -rf "$dir"
