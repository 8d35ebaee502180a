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
