# harness.py - runs integration-test commands either directly on the host or in
# the lab (tools/lab: L1 Linux with a real KVM under QEMU/TCG), in one L1 boot per batch.
"""Test writers use it through the fixtures in conftest.py (see docs/testing.md):

    COMMANDS = {"pm32": "./mini-kvm pm32.bin", "in": Cmd("./mini-kvm echo.bin", input="hi\\n")}

    @pytest.mark.needs("32bit-paging")
    def test_pm32(results):
        r = results["pm32"]          # a Result: status, out, err, where, timed_out
        assert r.status == 0, r

Commands run with the repo root (direct) or /lab (lab) as cwd; both hold
./mini-kvm and the built guests. Files listed in Cmd(files=[...]) are copied to
the directory named by $FILES.
"""
import base64
import os
import re
import shlex
import shutil
import signal
import sys
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(REPO, "tools", "lab")
LOGS = os.path.join(REPO, ".cache", "lab", "logs")
DEFAULT_TIMEOUT = 60        # seconds per command
BOOT_ALLOWANCE = 90         # seconds per L1 boot on top of the commands' own bounds
LAB_RUN_CAP = 780           # one L1 boot's bound; with the one retry below run-integration's 1800 s per test
CHECK_HOST_TIMEOUT = 30

# The binary direct commands run: ./mini-kvm, or $MINI_KVM (make check sets it to
# ./mini-kvm-asan, the ASan+UBSan build, for a second pass over the direct tests; the
# lab always runs the normal ./mini-kvm). "./mini-kvm" in a direct command line means it.
MKVM = os.path.join(REPO, os.environ.get("MINI_KVM") or "mini-kvm")
MKVM_RE = re.compile(r"(?<![\w./-])\./mini-kvm(?![\w.-])")

# With $MINI_KVM, sanitizer reports go to files in SANITIZER_LOGS (whoever started the
# process: the harness, a test's own Popen, gdb); conftest.py fails the test during which
# one appeared. halt_on_error: the first report ends the process.
SANITIZER_LOGS = None
if os.environ.get("MINI_KVM"):
    SANITIZER_LOGS = tempfile.mkdtemp(prefix="mkvm-sanitizer-")
    for var, opts in (("ASAN_OPTIONS", "halt_on_error=1:detect_leaks=1"),
                      ("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")):
        user = os.environ.get(var)
        os.environ[var] = ":".join(filter(None, [user, opts, "log_path=%s/%s" % (
            SANITIZER_LOGS, var.split("_")[0].lower())]))


_SEEN_REPORTS = set()


def sanitizer_reports():
    """{file name: text} of every sanitizer report written so far (none without $MINI_KVM)."""
    if not SANITIZER_LOGS:
        return {}
    out = {}
    for name in sorted(os.listdir(SANITIZER_LOGS)):
        with open(os.path.join(SANITIZER_LOGS, name), errors="replace") as f:
            out[name] = f.read()
    return out


def new_sanitizer_reports():
    """The reports written since the last call."""
    new = {k: v for k, v in sanitizer_reports().items() if k not in _SEEN_REPORTS}
    _SEEN_REPORTS.update(new)
    return new


def direct_cmd(line):
    """A direct command line with ./mini-kvm mapped to MKVM."""
    return MKVM_RE.sub(lambda m: shlex.quote(MKVM), line)


class LabFailed(Exception):
    """The lab itself failed (QEMU died, no results, lab timeout)."""


class Cmd:
    """A shell command line plus its stdin, time bound and extra files."""
    def __init__(self, cmd, input=None, timeout=DEFAULT_TIMEOUT, files=()):
        self.cmd, self.timeout, self.files = cmd, timeout, list(files)
        self.input = input.encode() if isinstance(input, str) else input

    @staticmethod
    def of(x):
        return x if isinstance(x, Cmd) else Cmd(x)

    def __repr__(self):
        return "Cmd(%r)" % self.cmd


class Result:
    """What one command did: exit status, stdout and stderr (text), where it ran."""
    def __init__(self, cmd, status, out, err, where, seconds, timed_out=False):
        self.cmd, self.status, self.where, self.seconds = cmd, status, where, seconds
        self.out_bytes, self.err_bytes, self.timed_out = out, err, timed_out
        self.out = out.decode(errors="replace")
        self.err = err.decode(errors="replace")

    def __repr__(self):
        tail = lambda s: s if len(s) < 2000 else "..." + s[-2000:]
        return ("\n$ %s   [%s, status %s%s, %.1f s]\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (self.cmd, self.where, self.status, ", TIMED OUT" if self.timed_out else "",
                   self.seconds, tail(self.out), tail(self.err)))


# ---- direct: on the host ----

def run_direct(cmd):
    cmd = Cmd.of(cmd)
    tmp = tempfile.mkdtemp(prefix="mkvm-files-")
    try:
        for f in cmd.files:
            shutil.copy(f, tmp)
        env = dict(os.environ, FILES=tmp)
        start = time.monotonic()
        p = subprocess.Popen(direct_cmd(cmd.cmd), shell=True, cwd=REPO, env=env,
                             start_new_session=True,
                             stdin=subprocess.PIPE if cmd.input is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        timed_out = False
        try:
            out, err = p.communicate(cmd.input, timeout=cmd.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        status = 124 if timed_out else (p.returncode if p.returncode >= 0 else 128 - p.returncode)
        return Result(cmd.cmd, status, out, err, "direct", time.monotonic() - start, timed_out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- in the lab: many commands, one L1 boot ----

BATCH_PRELUDE = r"""# generated by tests/integration/harness.py: run each command, report it in base64
cd /lab
lab_run() {
    c=/lab/files/cmds/$1
    export FILES=/lab/files/c$1
    in=/dev/null; [ -f $c.in ] && in=$c.in
    s=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 $2 sh $c.sh <$in >/tmp/out.$1 2>/tmp/err.$1
    rc=$?
    e=$(cut -d' ' -f1 /proc/uptime)
    echo "LAB-RESULT $1 $rc $s $e"
    echo "LAB-STDOUT $1"; base64 /tmp/out.$1
    echo "LAB-STDERR $1"; base64 /tmp/err.$1
    echo "LAB-END $1"
}
"""


def _write_batch(cmds, d):
    os.makedirs(os.path.join(d, "cmds"))
    lines = [BATCH_PRELUDE]
    for i, c in enumerate(cmds):
        with open(os.path.join(d, "cmds", "%d.sh" % i), "w") as f:
            f.write(c.cmd + "\n")
        if c.input is not None:
            with open(os.path.join(d, "cmds", "%d.in" % i), "wb") as f:
                f.write(c.input)
        os.makedirs(os.path.join(d, "c%d" % i))
        for path in c.files:
            shutil.copy(path, os.path.join(d, "c%d" % i))
        lines.append("lab_run %d %d\n" % (i, c.timeout))
    with open(os.path.join(d, "batch.sh"), "w") as f:
        f.writelines(lines)


def _parse_batch(console, cmds):
    results, cur, part, buf = {}, None, None, {}
    for line in console.splitlines():
        w = line.split()
        if len(w) == 5 and w[0] == "LAB-RESULT" and w[1].isdigit():
            cur, part, buf = int(w[1]), None, {"out": [], "err": []}
            head = (int(w[2]), float(w[4]) - float(w[3]))
        elif cur is not None and len(w) == 2 and w[0] in ("LAB-STDOUT", "LAB-STDERR"):
            part = "out" if w[0] == "LAB-STDOUT" else "err"
        elif cur is not None and len(w) == 2 and w[0] == "LAB-END" and w[1] == str(cur):
            c, (rc, secs) = cmds[cur], head
            dec = lambda k: base64.b64decode("".join(buf[k]))
            timed_out = rc in (124, 137, 143) and secs >= c.timeout
            results[cur] = Result(c.cmd, 124 if timed_out else rc, dec("out"), dec("err"),
                                  "in the lab", secs, timed_out)
            cur = part = None
        elif part and len(w) == 1 and all(ch.isalnum() or ch in "+/=" for ch in w[0]):
            buf[part].append(w[0])      # (anything else is kernel noise on the console)
    return results


def _tail(path, lines=30):
    with open(path, "rb") as f:
        return "\n".join(f.read().decode(errors="replace").splitlines()[-lines:])


def _prune_logs(keep):
    logs = sorted(os.listdir(LOGS))     # names sort by time
    for name in logs[:-keep]:
        os.unlink(os.path.join(LOGS, name))


def run_in_lab(cmds, cpus=1):
    """Run a list of Cmd (or str) in ONE L1 boot; return (list of Result, console log path).
    QEMU/TCG's emulated SVM sometimes stops L1 for good in mid-batch (seen about once in
    four batches of 31 commands; docs/testing.md): the commands that got no result at
    all then run once more, in a second L1 boot, and the retry is said on stderr.
    A command that ended, well or badly, keeps its first result."""
    cmds = [Cmd.of(c) for c in cmds]
    try:
        return _run_in_lab_once(cmds, cpus)
    except LabFailed as e:
        if not getattr(e, "partial", None):
            raise
        results, log = e.partial
    missing = [i for i in range(len(cmds)) if i not in results]
    sys.stderr.write("lab: L1 gave no result for %d of %d command(s) (console log %s); "
                     "running those again in a second L1 boot\n" % (len(missing), len(cmds), log))
    again, log2 = _run_in_lab_once([cmds[i] for i in missing], cpus)
    for i, r in zip(missing, again):
        results[i] = r
    return [results[i] for i in range(len(cmds))], log2


def _run_in_lab_once(cmds, cpus):
    os.makedirs(LOGS, exist_ok=True)
    log = os.path.join(LOGS, time.strftime("batch-%Y%m%d-%H%M%S-") + "%d.log" % os.getpid())
    bound = min(BOOT_ALLOWANCE + sum(c.timeout + 10 for c in cmds), LAB_RUN_CAP)
    with tempfile.TemporaryDirectory(prefix="mkvm-lab-") as d:
        _write_batch(cmds, d)
        argv = [LAB, "--quiet", "--cpus", str(cpus), "--timeout", str(bound), "--files", d,
                "--", "sh /lab/files/batch.sh"]
        # The console goes straight to the log, so a run killed from outside (pytest-timeout)
        # still leaves it behind to read.
        with open(log, "wb") as logf:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True)
            try:
                p.wait(timeout=bound + 30)
            except subprocess.TimeoutExpired:
                raise LabFailed("tools/lab did not finish in %d s; console log %s, its end:\n%s"
                                % (bound + 30, log, _tail(log)))
            finally:        # timed out, or interrupted (pytest-timeout, Ctrl-C)
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
    _prune_logs(keep=20)
    with open(log, "rb") as f:
        console = f.read().decode(errors="replace")
    results = _parse_batch(console, cmds)
    missing = [cmds[i].cmd for i in range(len(cmds)) if i not in results]
    if p.returncode != 0 or missing:
        err = LabFailed("tools/lab exited %d, %d command(s) without a result (%s); console log %s, "
                        "its end:\n%s" % (p.returncode, len(missing), ", ".join(missing[:3]), log,
                                          _tail(log)))
        if missing and results:     # L1 stopped mid-batch: worth one more boot
            err.partial = (results, log)
        raise err
    return [results[i] for i in range(len(cmds))], log


# ---- what the host can do ----

def check_host():
    """Run ./mini-kvm --check-host; return (set of capabilities, one-line summary).

    A capability X is present when the output has a line `can-run-X: yes`.
    Any failure counts as "can do nothing special"."""
    exe = MKVM
    try:
        p = subprocess.run([exe, "--check-host"], cwd=REPO, capture_output=True, text=True,
                           timeout=CHECK_HOST_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return set(), "./mini-kvm --check-host failed (%s): assuming no capabilities" % e
    caps, seen = set(), []
    for line in p.stdout.splitlines():
        key, _, val = line.partition(":")
        if key.startswith("can-run-") and val.strip() in ("yes", "no"):
            seen.append("%s=%s" % (key[8:], val.strip()))
            if val.strip() == "yes":
                caps.add(key[8:])
    if p.returncode != 0 or not seen:
        err = (p.stderr.strip().splitlines() or ["no can-run-* lines"])[-1]
        return caps, "./mini-kvm --check-host exited %d (%s): assuming no capabilities" % (
            p.returncode, err)
    return caps, "host can run: " + " ".join(seen)
