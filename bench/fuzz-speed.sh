#!/bin/sh
# fuzz-speed.sh - executions per second of the fuzz targets of two builds side by
# side: each target of OLD and NEW starts from the same copy of one input set
# (NEW's seeds and corpus) with the same -seed, for SECONDS each, one after the
# other on one core under nice. Prints "target old/s new/s new/old".
#
# Usage: bench/fuzz-speed.sh OLD_BUILD NEW_BUILD [SECONDS] [TARGET...]
#   e.g. OLD_BUILD=/tmp/old/build from `git archive OLDREV | tar -x -C /tmp/old`
#   and `make -C /tmp/old fuzz`; NEW_BUILD=build after `make fuzz`.
set -eu
old=$1 new=$2 secs=${3:-10}
shift 2
[ $# -gt 0 ] && shift
targets=${*:-$(ls "$new/fuzz" | grep -v -e obj -e gen_seeds -e libmkvm.a)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate() {    # rate BUILD TARGET: exec/s of one run from a fresh copy of the inputs
    rm -rf "$tmp/in" && mkdir "$tmp/in"
    cp "$new/fuzz/$2/seeds/"* "$tmp/in/" 2>/dev/null || true
    [ -d "$new/fuzz/$2/corpus" ] && cp "$new/fuzz/$2/corpus/"* "$tmp/in/" 2>/dev/null || true
    nice -n 10 "$1/fuzz/$2/fuzzer" -seed=1 -max_total_time="$secs" -close_fd_mask=3 \
        -print_final_stats=1 "$tmp/in" >"$tmp/log" 2>&1 || true
    r=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/log")
    echo "${r:-0}"
}
printf '%-14s %9s %9s %7s\n' target old/s new/s new/old
for t in $targets; do
    [ -x "$old/fuzz/$t/fuzzer" ] && o=$(rate "$old" "$t") || o=0
    n=$(rate "$new" "$t")
    printf '%-14s %9s %9s %7s\n' "$t" "$o" "$n" \
        "$(awk -v o="$o" -v n="$n" 'BEGIN { if (o > 0) printf "%.1fx", n / o; else print "-" }')"
done
