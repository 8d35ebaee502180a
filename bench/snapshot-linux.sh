#!/bin/bash
# snapshot-linux.sh - Linux restored from a snapshot against a cold boot of the same guest,
# inside the lab (L1 with nested KVM), interleaved, in one L1 boot: process start to the
# shell answering an `echo` (cold: typed when the prompt appears; restored: typed at once),
# and process start to "running" (PUT /snapshot/load answered, resume_vm).
#
# Usage: bench/snapshot-linux.sh [RUNS]     (default 5 of each)
# Env:   MEM=256 (guest MiB), LOG=FILE (keep the lab's console log).
# The guest is booted once through the API, snapshotted at its prompt, the VMM killed;
# every restore maps that snapshot's memory file (page cache warm after the first).
# Times: /proc/uptime in L1 (10 ms steps), noted by an awk that blocks on the VMM's output
# when the answer arrives (run, took); only the cold boot's prompt wait polls.
# Each guest's console is checked for stall reports (RCU, soft lockup): a restored guest
# whose clock jumped by more than the 21 s RCU stall timeout used to print one, at
# a few ms per byte in the lab, before it answered (BENCH-NOTE lines; docs/benchmarks.md).
set -u
cd "$(dirname "$0")/.." || exit 1
runs=${1:-5}
mem=${MEM:-256}

make -s mini-kvm || exit 1
tools/mkinitramfs -q || exit 1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cp .cache/linux/vmlinuz .cache/linux/initrd.cpio.gz "$dir/" || exit 1
cc -static -O2 -Wall -Wextra -Werror -o "$dir/uds-http" tests/integration/uds_http.c || exit 1

cat >"$dir/inner.sh" <<'EOF'
# inner.sh (runs in L1, busybox sh): RUNS MEM
runs=$1 mem=$2
F=/lab/files
T=$(mktemp -d)
up() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$(up)" -v b="$1" 'BEGIN{printf "%.3f", a - b}'; }
PROMPT="mkvm-linux:"
ANSWER="bench-42"           # typed as bench-$((6*7)): the echoed input never matches

# watch FILE TEXT SECONDS: bounded poll (50 ms: it shares L1's one CPU with the guest)
# until TEXT is in FILE
watch() {
    end=$(( $(cut -d. -f1 /proc/uptime) + $3 ))
    until grep -q -F -- "$2" "$1" 2>/dev/null; do
        [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && return 1
        sleep 0.05
    done
}

# the snapshot, taken at the prompt
mkfifo $T/in
./mini-kvm --api $T/s.sock <$T/in >$T/boot.out 2>&1 &
pid=$!
exec 3>$T/in
until [ -S $T/s.sock ]; do sleep 0.05; done
$F/uds-http $T/s.sock PUT /boot-source "{\"kernel_image_path\": \"$F/vmlinuz\", \"initrd_path\": \"$F/initrd.cpio.gz\", \"boot_args\": \"console=ttyS0 quiet\"}" >/dev/null
$F/uds-http $T/s.sock PUT /machine-config "{\"vcpu_count\": 1, \"mem_size_mib\": $mem}" >/dev/null
$F/uds-http $T/s.sock PUT /actions '{"action_type": "InstanceStart"}' >/dev/null
watch $T/boot.out "$PROMPT" 120 || { echo "BENCH-FAIL no prompt"; tail -5 $T/boot.out; exit 1; }
sleep 1                     # let the shell go back to sleep in read(): an idle guest
$F/uds-http $T/s.sock PATCH /vm '{"state": "Paused"}' >/dev/null
$F/uds-http $T/s.sock PUT /snapshot/create "{\"snapshot_path\": \"$T/l.snap\", \"mem_file_path\": \"$T/l.mem\"}" >/dev/null ||
    { echo "BENCH-FAIL snapshot"; exit 1; }
made=$(up)
kill -9 $pid; wait $pid 2>/dev/null; exec 3>&-
echo "BENCH-FILES state=$(wc -c <$T/l.snap) mem_disk_kb=$(du -k $T/l.mem | cut -f1)"

# run CMD...: start the VMM with stdin from $T/in and its output through a fifo to an
# awk that blocks on it (no polling loop between the answer and its time): it keeps the
# console in $T/o and writes /proc/uptime to $T/t.KEY when KEY (bench-42, again-42)
# first arrives. Records end at ':' (RS), so the prompt "mkvm-linux:" that follows an
# answer at once closes its record; $T/o is written as it comes, for the prompt watch.
run() {
    rm -f $T/in $T/o $T/t.* $T/pipe; mkfifo $T/in $T/pipe
    awk -v o=$T/o -v T=$T/t. 'BEGIN { RS = ":" }
        function stamp(k,  u) {
            if (index($0, k) && !(k in done)) {
                done[k] = 1; getline u < "/proc/uptime"; close("/proc/uptime")
                split(u, f, " "); print f[1] > (T k); close(T k)
            }
        }
        { printf "%s:", $0 > o; fflush(o); stamp("bench-42"); stamp("again-42") }' <$T/pipe &
    apid=$!
    "$@" <$T/in >$T/pipe 2>&1 &
    pid=$!
    exec 3>$T/in
}
# stop: end the VMM and its reader
stop() { kill -9 $pid; wait $pid 2>/dev/null; exec 3>&-; wait $apid 2>/dev/null; }
# took KEY T0: seconds from T0 to KEY's stamp (waits for it, 60 s at most)
took() {
    watch $T/t.$1 "." 60 || return 1
    awk -v a="$(cat $T/t.$1)" -v b="$2" 'BEGIN{printf "%.3f", a - b}'
}

# note WHAT: the console's size and its stall reports, if any (the first one shown)
note() {
    n=$(grep -c -E 'rcu:|soft lockup|stall' $T/o)
    echo "BENCH-NOTE $1 console_bytes=$(wc -c <$T/o) stall_lines=$n"
    [ "$n" -gt 0 ] && grep -m 3 -E 'rcu:|soft lockup|stall' $T/o | sed 's/^/BENCH-NOTE   /'
}

# again WHAT: a second echo, typed once the first was answered: the answer's
# own cost once the guest has run (the first pays for its first touches)
again() {
    t1=$(up)
    printf 'echo again-$((6*7))\n' >&3
    a=$(took again-42 $t1) && echo "BENCH $1 again=$a"
}

cold() {
    t0=$(up)
    run ./mini-kvm -k $F/vmlinuz -i $F/initrd.cpio.gz -m ${mem}M -p "console=ttyS0 quiet"
    watch $T/o "$PROMPT" 120 ||
        { echo "BENCH-FAIL cold prompt"; tail -3 $T/o; stop; return; }
    printf 'echo bench-$((6*7))\n' >&3
    if a=$(took bench-42 $t0); then echo "BENCH cold shell=$a"; again cold
    else echo "BENCH-FAIL cold answer"; tail -3 $T/o; fi
    stop
    note cold
}

restore_shell() {
    t0=$(up)
    run ./mini-kvm --restore $T/l.snap --restore-mem $T/l.mem
    printf 'echo bench-$((6*7))\n' >&3
    if a=$(took bench-42 $t0); then echo "BENCH restore shell=$a"; again restore
    else echo "BENCH-FAIL restore answer"; tail -3 $T/o; fi
    stop
    note "restore ($(since $made) s after the snapshot)"
}

restore_running() {
    rm -f $T/r.sock
    t0=$(up)
    ./mini-kvm --api $T/r.sock </dev/null >/dev/null 2>&1 &
    pid=$!
    until [ -S $T/r.sock ]; do sleep 0.01; done
    $F/uds-http $T/r.sock PUT /snapshot/load "{\"snapshot_path\": \"$T/l.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$T/l.mem\"}, \"resume_vm\": true}" >/dev/null &&
        echo "BENCH restore running=$(since $t0)"
    kill -9 $pid; wait $pid 2>/dev/null
}

i=0
while [ $i -lt $runs ]; do
    cold; restore_shell; restore_running
    i=$((i + 1))
done
EOF

bound=$((150 + runs * 150))
echo "snapshot-linux: $runs run(s) each, guest -m ${mem}M" >&2
tools/lab -q --cpus 1 --timeout "$bound" --files "$dir" -- \
    sh /lab/files/inner.sh "$runs" "$mem" >"$dir/log" 2>&1
rc=$?
[ -n "${LOG:-}" ] && cp "$dir/log" "$LOG"
python3 - "$dir/log" "$runs" "$mem" <<'PY'
import re, statistics, sys

log, runs, mem = open(sys.argv[1], errors="replace").read(), int(sys.argv[2]), sys.argv[3]
got = {}
for m in re.finditer(r"^BENCH (\w+) (\w+)=([\d.]+)", log, re.M):
    got.setdefault((m[1], m[2]), []).append(float(m[3]))
for l in log.splitlines():
    if l.startswith(("BENCH-FAIL", "BENCH-FILES", "BENCH-NOTE")):
        print(l)
cold = got.get(("cold", "shell"))
if not cold:
    sys.exit("snapshot-linux: no cold boot measured; the lab's log:\n" + log[-3000:])
c = statistics.median(cold)
print("Linux (-m %sM, 1 vCPU) in the lab, medians of %d interleaved runs (n per row):"
      % (mem, runs))
print("  cold boot to the shell answering     %8.3f s  1.000x  (n=%d)" % (c, len(cold)))
for k, what in ((("restore", "shell"), "restore to the shell answering"),
                (("restore", "running"), "restore to running (load answered)"),
                (("cold", "again"), "cold-booted guest: a second echo"),
                (("restore", "again"), "restored guest: a second echo")):
    v = got.get(k)
    if v:
        print("  %-36s %8.3f s  %.3fx  (n=%d)" % (what, statistics.median(v),
                                                  statistics.median(v) / c, len(v)))
sys.path.insert(0, "bench")
from textplot import bars
bars("Linux in the lab, from process start (median, s)",
     [(what, statistics.median(got[k])) for k, what in (
         (("cold", "shell"), "cold boot to the shell answering"),
         (("restore", "shell"), "restore to the shell answering"),
         (("restore", "running"), "restore to running")) if got.get(k)])
PY
exit $rc
