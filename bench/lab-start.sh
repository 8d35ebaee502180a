#!/bin/bash
# lab-start.sh - how fast the lab starts: time from running tools/lab to the command
# running inside L1 (goal <= 5 s), and to tools/lab's exit, cached and cold.
#
# Usage: bench/lab-start.sh [--cold]   (N=runs, default 5; --cold also times one run
#        with an empty cache: kernel package download, extraction, base initramfs)
set -u
cd "$(dirname "$0")/.." || exit 1
N=${N:-5}
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# one_run: prints "<to command running> <to exit>" in seconds, or fails.
one_run() {
    local t0 ready= line
    t0=$(now)
    while IFS= read -r line; do
        case "$line" in CMD-RUNNING*) ready=$(now) ;; esac
    done < <(tools/lab -q -- echo CMD-RUNNING)
    [ -n "$ready" ] || { echo "lab-start: the command never ran" >&2; return 1; }
    echo "$(sub "$ready" "$t0") $(sub "$(now)" "$t0")"
}

stats() {   # stdin: numbers -> "min X  median Y  max Z"
    sort -n | awk '{ v[NR] = $1 } END { printf "min %.2f  median %.2f  max %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

echo "lab-start: $(nproc) host CPUs (load average $(cut -d" " -f1-3 /proc/loadavg)), qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}'), $N runs"
if [ "${1:-}" = --cold ]; then
    cache=$(mktemp -d)
    r=$(LAB_CACHE=$cache one_run) || exit 1
    rm -rf "$cache"
    echo "cold cache (download + extract + build, then boot): command running after ${r% *} s, exit after ${r#* } s"
fi
tools/lab -q --prepare || exit 1         # make sure the cache is warm
ready= total=
for i in $(seq "$N"); do
    r=$(one_run) || exit 1
    ready="$ready ${r% *}"
    total="$total ${r#* }"
done
echo "cached: tools/lab start -> command running in L1: $(printf '%s\n' $ready | stats) s (goal <= 5 s)"
echo "cached: tools/lab start -> exit (poweroff):        $(printf '%s\n' $total | stats) s"
