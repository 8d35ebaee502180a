# test_trace.py - what --trace says about each exit: the device that claimed an
# access (dev=NAME) or `unclaimed` (guests/real/ports.S reads both kinds).
import re

from harness import Cmd

T = 20

COMMANDS = {
    "ports": Cmd("./mini-kvm --trace ports.bin", timeout=T),
}

LINE = re.compile(r"\[ports\] cpu0 exit IO (in|out) port=0x([0-9a-f]+) size=(\d) count=1 "
                  r"value=0x([0-9a-f]+) (dev=[a-z0-9-]+|unclaimed)")


def test_ports_guest_reads_what_the_bus_answers(results):
    r = results["ports"]
    assert r.status == 0, r
    assert r.out == "inb 0xE9: 233\ninw 0xE9: 65535\ninb 0x80: 255\n", r


def test_trace_names_the_device_or_says_unclaimed(results):
    r = results["ports"]
    lines = r.err.splitlines()
    parsed = [LINE.fullmatch(l) for l in lines]
    assert all(parsed), r
    reads = [m.groups() for m in parsed if m.group(1) == "in"]
    assert reads == [("in", "e9", "1", "e9", "dev=debugcon"),     # claimed: 1 byte at 0xE9
                     ("in", "e9", "2", "ffff", "unclaimed"),      # wider than the range
                     ("in", "80", "1", "ff", "unclaimed")], r     # no device at 0x80
    writes = {m.groups()[1:] for m in parsed if m.group(1) == "out"}
    assert {w[0] for w in writes} == {"500"} and {w[3] for w in writes} == {"dev=hypercall"}, r


# ---- --trace-file: the machine-readable trace (docs/tracing.md) ----

FIELDS = "t_ns guest cpu reason kind addr size count dir value device".split()
UART_OUT = "Hello from COM1 (real mode)\nCOM1 read: HI\n"
E9_OUT = "Hello from port 0xE9 (real mode)\n"

COMMANDS.update({
    "file": Cmd("./mini-kvm --trace-file $FILES/t uart.bin ports.bin > $FILES/out && "
                "cat $FILES/t", input="hi\n", timeout=T),
    "file-bad": Cmd("./mini-kvm --trace-file /nonexistent-dir/t hello.bin", timeout=T),
    # 100 000 NOP hypercalls: about 5 MB of lines, ~90 blocks per vCPU buffer
    "file-many": Cmd("./mini-kvm --trace-file $FILES/t nops.bin && "
                     "awk 'NR > 1 { n[$4 \" \" $6 \" \" $10 \" \" $11]++; if ($1 < t) bad++; t = $1 } "
                     "END { for (k in n) print n[k], k; print bad + 0, \"out of order\" }' $FILES/t",
                     timeout=120),
})


def parse_trace(text):
    lines = text.splitlines()
    assert lines[0] == "# mini-kvm trace v1: " + " ".join(FIELDS)
    rows = []
    for line in lines[1:]:
        v = line.split(" ")
        assert len(v) == len(FIELDS), line
        row = dict(zip(FIELDS, v))
        row["t_ns"], row["cpu"] = int(row["t_ns"]), int(row["cpu"])
        if row["reason"] in ("IO", "MMIO"):
            assert row["kind"] == ("port" if row["reason"] == "IO" else "mmio"), line
            int(row["addr"], 16), int(row["value"], 16)
            assert row["size"] in ("1", "2", "4", "8") and int(row["count"]) >= 1, line
            assert row["dir"] in ("in", "out", "read", "write"), line
            assert row["device"] != "-", line
        else:
            assert [row[f] for f in FIELDS[4:]] == ["-"] * 7, line
        rows.append(row)
    return rows


def test_trace_file_has_every_exit_in_order(results):
    r = results["file"]
    assert r.status == 0, r
    rows = parse_trace(r.out)
    for guest in ("uart", "ports"):
        mine = [x for x in rows if x["guest"] == guest]
        assert mine and {x["cpu"] for x in mine} == {0}, r
        times = [x["t_ns"] for x in mine]
        assert times == sorted(times) and times[0] >= 0, r     # monotonic per vCPU
        last = mine[-1]                                         # the EXIT hypercall
        assert (last["addr"], last["dir"], last["value"], last["device"]) == \
            ("0x500", "out", "0x0", "hypercall"), r
    uart = [x for x in rows if x["guest"] == "uart"]
    com1_out = [x for x in uart if (x["addr"], x["dir"]) == ("0x3f8", "out")]
    assert "".join(chr(int(x["value"], 16)) for x in com1_out) == UART_OUT, r
    assert all(x["device"] == "serial" for x in com1_out), r
    e9 = [x for x in uart if x["addr"] == "0xe9"]
    assert "".join(chr(int(x["value"], 16)) for x in e9) == E9_OUT, r
    assert all(x["device"] == "debugcon" for x in e9), r
    reads = [x for x in uart if (x["addr"], x["dir"]) == ("0x3f8", "in")]
    assert "".join(chr(int(x["value"], 16)) for x in reads) == "hi\n", r
    assert any(x["addr"] == "0x3fd" and x["dir"] == "in" for x in uart), r   # LSR polls
    ports = [(x["addr"], x["size"], x["device"]) for x in rows
             if x["guest"] == "ports" and x["dir"] == "in"]
    assert ports == [("0xe9", "1", "debugcon"), ("0xe9", "2", "unclaimed"),
                     ("0x80", "1", "unclaimed")], r


def test_trace_file_keeps_every_line_across_many_buffer_flushes(results):
    r = results["file-many"]
    assert r.status == 0, r
    counts = sorted(r.out.splitlines())
    assert counts == ["0 out of order", "1 IO 0x500 0x0 hypercall",
                      "100000 IO 0x500 0x7 hypercall"], r


def test_trace_file_that_cannot_be_created_is_one_line(results):
    r = results["file-bad"]
    assert r.status == 1 and r.out == "", r
    assert r.err == "mini-kvm: --trace-file /nonexistent-dir/t: No such file or directory\n", r


def test_trace_plot_draws_a_png(results, tmp_path):
    import struct
    import subprocess
    from harness import REPO
    trace = tmp_path / "t"
    trace.write_text(results["file"].out)
    png = tmp_path / "t.png"
    p = subprocess.run([REPO + "/tools/trace-plot", str(trace), str(png), "--width", "640"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("trace-plot: ") and " lanes -> " in p.stdout, p.stdout
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:32]
    assert struct.unpack(">I", data[16:20])[0] == 640
    bad = tmp_path / "bad"
    bad.write_text("not a trace\n")
    p = subprocess.run([REPO + "/tools/trace-plot", str(bad), str(png)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and len(p.stderr.splitlines()) == 1, p.stderr
