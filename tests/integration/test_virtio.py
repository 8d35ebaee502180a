# test_virtio.py - virtio devices as the user sees them: the VM's device table
# (placement, --stats lines, the limit), and later net, rng and vsock.
import re

from harness import Cmd

NINE = "for i in 1 2 3 4 5 6 7 8 9; do truncate -s 1M $FILES/d$i.img; done; "
COMMANDS = {
    # two disks: the OS uses the first; --stats lists both slots from the table
    "two-disks": Cmd("cp os-disk.img $FILES/d.img && truncate -s 1M $FILES/e.img && "
                     "./mini-kvm -k os.elf --disk $FILES/d.img --disk $FILES/e.img --stats",
                     input="ls\nshutdown\n", timeout=60),
    "nine-disks": Cmd(NINE + "./mini-kvm -k os.elf " +
                      " ".join("--disk $FILES/d%d.img" % i for i in range(1, 10)), timeout=30),
}


def test_stats_lists_the_device_table(results):
    r = results["two-disks"]
    assert r.status == 0, r
    assert "virtio-blk: 2048 sectors" in r.out          # the first disk, found via the boot info
    lines = re.findall(r"^\[os\] virtio-mmio (0x[0-9a-f]+) gsi (\d+): (\S+) (\S+)$", r.err, re.M)
    assert [(a, g, n) for a, g, n, _ in lines] == [
        ("0xd0000000", "16", "virtio-blk"), ("0xd0001000", "17", "virtio-blk")], r
    assert lines[0][3].endswith("/d.img") and lines[1][3].endswith("/e.img"), r


def test_more_devices_than_slots_is_one_line(results):
    r = results["nine-disks"]
    assert r.status == 2, r
    assert re.fullmatch(r"mini-kvm: --disk '\S+/d9.img': too many virtio devices "
                        r"\(at most 8 in all\)\n", r.err), r
