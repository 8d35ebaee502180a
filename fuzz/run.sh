#!/bin/sh
# fuzz/run.sh - run one libFuzzer target built by `make fuzz` and say what it did:
#   fuzz/run.sh NAME seconds SECONDS | runs RUNS [SECONDS]   (BUILD=build by default)
# Corpus: $BUILD/fuzz/NAME/corpus (grows), seeds: $BUILD/fuzz/NAME/seeds,
# crashes: $BUILD/fuzz/NAME/crash-*, log: $BUILD/fuzz/NAME/last.log. One
# summary line "fuzz NAME: RUNS runs in SECS s, N crashes" (also in
# $BUILD/fuzz/NAME/last.txt); the exit status is libFuzzer's (0 = no crash).
set -u
name=$1 how=$2 amount=$3 cap=${4:-}
dir=${BUILD:-build}/fuzz/$name
case $how in
    seconds) limit="-max_total_time=$amount" ;;
    runs) limit="-runs=$amount${cap:+ -max_total_time=$cap}" ;;
    *) echo "usage: $0 NAME seconds N | runs N [SECONDS]" >&2; exit 2 ;;
esac
dict=
[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
mkdir -p "$dir/corpus"
rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
start=$(date +%s)
# -close_fd_mask=3: the devices' one-line errors and the guests' console
# output go nowhere (libFuzzer keeps its own report on a saved stderr);
# -timeout: one input may not take more than 10 s (a hang is a bug).
"$dir/fuzzer" $limit $dict -close_fd_mask=3 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" "$dir/seeds" \
    >"$dir/last.log" 2>&1
status=$?
secs=$(( $(date +%s) - start ))
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/last.log" | tail -n 1)
crashes=$(ls "$dir" | grep -c -E '^(crash|leak|timeout|oom)-')
line="fuzz $name: ${runs:-0} runs in $secs s, $crashes crashes"
echo "$line" | tee "$dir/last.txt"
if [ $status -ne 0 ]; then
    echo "fuzz $name: libFuzzer exit status $status; the end of $dir/last.log:" >&2
    tail -n 30 "$dir/last.log" >&2
fi
exit $status
