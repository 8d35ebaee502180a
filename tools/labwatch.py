# labwatch.py - tools/lab's watch on L1 stopping for good: L1 writes a heartbeat to its
# second serial port; when it stops, L1's registers and QEMU's threads are reported.
"""L1's /init writes `lab-hb UPTIME intr=N ctxt=N` (/proc/uptime, /proc/stat) to /dev/ttyS1
every HEARTBEAT_S seconds (and once `lab-hb stext ADDR`, the running kernel's _stext, for
symbolising RIPs); QEMU writes that port to a file here. When the file stops growing for
the stall bound, `report` asks the QEMU monitor (a Unix socket) for L1's registers twice
and its local APIC, samples the CPU time of QEMU's threads in between (a spinning vCPU
thread gains ~100 ticks/s, a sleeping one none) and names the L1 kernel function at each
RIP when System.map-RELEASE is in the cache."""
import bisect
import os
import re
import socket
import time

HEARTBEAT_S = 5
SAMPLE_S = 3
POKE_WAIT = 20      # seconds for L1 to beat again after the key press


class Watch:
    def __init__(self, tmpdir, stall, system_map=None):
        self.hb = os.path.join(tmpdir, "heartbeat")
        self.mon = os.path.join(tmpdir, "monitor")
        self.stall, self.system_map = stall, system_map
        self.size, self.last, self.seen = 0, time.monotonic(), False
        self.poked_at = None

    def qemu_args(self):
        return ["-name", "lab,debug-threads=on",
                "-chardev", "file,id=hb,path=" + self.hb, "-serial", "chardev:hb",
                "-monitor", "unix:%s,server=on,wait=off" % self.mon]

    def stalled(self):
        """True once L1 has beaten at least once and then not for `stall` seconds."""
        try:
            size = os.path.getsize(self.hb)
        except OSError:
            size = 0
        now = time.monotonic()
        if size != self.size:
            self.size, self.last, self.seen = size, now, True
        return bool(self.stall) and self.seen and now - self.last > self.stall

    def poke(self):
        """A key press on L1's i8042: a new interrupt makes QEMU look at the APIC's
        pending vectors again (an L1 found with its timer vector pending in IRR and
        interrupts on, yet never taking it)."""
        self.poked_at = time.monotonic()
        return monitor(self.mon, "sendkey shift").strip() or "sent"

    def silent_for(self):
        return time.monotonic() - self.last

    def report(self, pid):
        """What L1 and QEMU are doing now, as text lines."""
        out = ["last heartbeats (L1 uptime, interrupts and context switches so far):"]
        out.extend("  " + b for b in self.last_beats(3))
        t0 = threads(pid)
        regs0 = monitor(self.mon, "info registers")
        time.sleep(SAMPLE_S)
        regs1 = monitor(self.mon, "info registers")
        t1 = threads(pid)
        out.append("QEMU's threads over %d s (state, CPU ticks gained; 100/s = spinning):" % SAMPLE_S)
        for tid, (name, state, ticks) in sorted(t1.items()):
            out.append("  %-16s %s %+d" % (name, state, ticks - t0.get(tid, ("", "", ticks))[2]))
        out.append("monitor 'info cpus': " + monitor(self.mon, "info cpus").strip())
        # the local APIC: a timer that is not armed, or an in-service vector never
        # EOId (blocking every lower one), leaves an idle L1 with nothing to wake it
        out.append("L1's local APIC ('info lapic'):")
        out.extend("  " + l for l in monitor(self.mon, "info lapic").strip().splitlines())
        for label, regs in (("first", regs0), ("%d s later" % SAMPLE_S, regs1)):
            out.append("L1's registers (%s):" % label)
            out.extend("  " + l for l in regs.strip().splitlines()
                       if not l.startswith(("FPR", "YMM", "XMM")))
            out.append("  RIP is " + self.symbol(regs))
        return out

    def last_beats(self, n):
        try:
            with open(self.hb, "rb") as f:
                lines = f.read().decode(errors="replace").split("\n")
        except OSError:
            return ["none"]
        beats = [l.strip() for l in lines if l.startswith("lab-hb ") and "stext" not in l]
        return beats[-n:] or ["none"]

    def symbol(self, regs):
        m = re.search(r"RIP=([0-9a-f]{16})", regs)
        if not m:
            return "unknown (no RIP)"
        rip = int(m.group(1), 16)
        stext = self._stext()
        syms = load_map(self.system_map) if self.system_map else None
        if stext is None or not syms or "_stext" not in syms[2]:
            return "%x (no System.map or _stext to name it)" % rip
        addr = rip - (stext - syms[2]["_stext"])
        i = bisect.bisect_right(syms[0], addr) - 1
        if i < 0 or addr - syms[0][i] > 0x100000:
            return "%x: not in L1's kernel text (user space, a module, or L2)" % rip
        return "%x: L1 %s+0x%x" % (rip, syms[1][i], addr - syms[0][i])

    def _stext(self):
        try:
            with open(self.hb, "rb") as f:
                m = re.search(rb"lab-hb stext ([0-9a-f]+)", f.read())
        except OSError:
            return None
        return int(m.group(1), 16) if m else None


def load_map(path):
    """([addresses], [names], {name: address}) of a System.map's text symbols."""
    addrs, names, by = [], [], {}
    try:
        with open(path) as f:
            for line in f:
                a, t, n = line.split()[:3]
                if t in "tT":
                    addrs.append(int(a, 16))
                    names.append(n)
                    by[n] = int(a, 16)
    except (OSError, ValueError):
        return None
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order], by


def threads(pid):
    """{tid: (name, state, utime+stime ticks)} of a process's threads."""
    res = {}
    base = "/proc/%d/task" % pid
    try:
        tids = os.listdir(base)
    except OSError:
        return res
    for tid in tids:
        try:
            with open("%s/%s/stat" % (base, tid)) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        res[int(tid)] = (name, rest[0], int(rest[11]) + int(rest[12]))
    return res


def monitor(path, command, timeout=5.0):
    """One HMP command's output; a monitor that does not answer (QEMU's main loop
    blocked) is said as such."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(path)
            _read_prompt(s)
            s.sendall(command.encode() + b"\n")
            text = _read_prompt(s)
    except OSError as e:
        return "(monitor did not answer %r: %s)" % (command, e)
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", text)
    lines = text.split("\n")
    if lines and command in lines[0]:
        lines = lines[1:]
    return "\n".join(lines)


def _read_prompt(s):
    buf = b""
    while not buf.endswith(b"(qemu) "):
        data = s.recv(65536)
        if not data:
            break
        buf += data
    return buf[:-len(b"(qemu) ")].decode(errors="replace") if buf.endswith(b"(qemu) ") else \
        buf.decode(errors="replace")
