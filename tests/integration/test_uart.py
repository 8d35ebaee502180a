# test_uart.py - flat guests that talk to the hardware: COM1 (0x3F8, output and
# polled input) and the debug console 0xE9, in real and long mode (guests/*/uart*.S).
from harness import Cmd

T = 20      # seconds: bound on each command (each guest alone takes well under 1 s)


def expected(mode, line):
    return ("Hello from COM1 (%s mode)\nHello from port 0xE9 (%s mode)\nCOM1 read: %s\n"
            % (mode, mode, line.upper()))


COMMANDS = {
    "real": Cmd("./mini-kvm uart.bin", input="hello, World 42\n", timeout=T),
    "long": Cmd("./mini-kvm --mode long uart64.bin", input="hello, World 42\n", timeout=T),
    # two guests: stdin belongs to the first; the second's COM1 never sees input
    "two": Cmd("./mini-kvm uart.bin hello.bin", input="abc\n", timeout=T),
}


def test_real_mode_guest_prints_on_com1_and_0xe9_and_reads_com1(results):
    r = results["real"]
    assert r.status == 0 and r.out == expected("real", "hello, World 42"), r
    assert r.err == "", r


def test_long_mode_guest_prints_on_com1_and_0xe9_and_reads_com1(results):
    r = results["long"]
    assert r.status == 0 and r.out == expected("long", "hello, World 42"), r
    assert r.err == "", r


def test_com1_output_of_several_guests_is_prefixed_by_name(results):
    r = results["two"]
    assert r.status == 0, r
    assert "[uart] Hello from COM1 (real mode)\n" in r.out, r
    assert "[uart] Hello from port 0xE9 (real mode)\n" in r.out, r
    assert "[uart] COM1 read: ABC\n" in r.out, r
    assert "[hello] Hello, world! (real mode guest)\n" in r.out, r
