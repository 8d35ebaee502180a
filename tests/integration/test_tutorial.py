# test_tutorial.py - docs/tutorial.md runs: every `$ ` line of its console
# blocks, in order, in a scratch copy of the built tree, output compared.
"""The conventions are stated at the top of docs/tutorial.md:

* ```console blocks: `$ CMD` lines run with bash (stdout and stderr together);
  the lines under one are its expected output: `[...]` alone matches any
  number of lines, `[...]` inside a line any text, and a last line
  `[status N]` the exit status (0 otherwise).
* ```LANG file=PATH: written to PATH in the scratch tree.
* ```LANG insert=src/guest.c:includes / :flat_devices: the lines go after the
  last #include, or before `return 0;` in flat_devices().
* ```LANG show=PATH: must appear verbatim in PATH (an excerpt that went stale
  fails).
* ```console run=single: only the first line is a command; the rest,
  `$ ` lines included, is its output (a guest's own shell prompt).
* ```console lab=linux: its one command runs in the lab's shared batch (it boots
  Linux, which needs 32-bit paging); .cache/linux/ there is the batch's files,
  and `poweroff -f` is typed at the guest's shell prompt.
* ```text blocks are not run (the tutorial says why next to each).
"""
import os
import re
import shutil
import subprocess

import pytest

from harness import REPO, Cmd
from test_linux import INITRD, PREPARE_ERROR, SESSION, VMLINUZ

TUTORIAL = os.path.join(REPO, "docs", "tutorial.md")
SKIP = {".git", ".cache", "build-asan", "__pycache__", ".pytest_cache"}
FENCE = re.compile(r"^```(\S*)(?: (\w+)=(\S+))?\n(.*?)^```\n", re.M | re.S)
WILD = "[...]"


COMMANDS = {}            # filled below, once blocks() exists
# A reader types the commands in a shell, not inside make: without make's variables
# (make check-asan calls run-integration from make, whose MAKEFLAGS made the
# tutorial's `make -s tick.bin` print "Entering directory" lines).
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def blocks():
    text = open(TUTORIAL, encoding="utf-8").read()
    return [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in FENCE.finditer(text)]


def lab_blocks():
    """[(cmd, expected lines)] of the ```console lab=linux blocks."""
    return [commands(body, False)[0][:2] for lang, key, value, body in blocks()
            if lang == "console" and key == "lab"]


def _lab_cmd():
    if PREPARE_ERROR:
        return Cmd("echo 'tools/mkinitramfs failed' >&2; exit 1")
    body = "printf 'poweroff -f\\n' > \"$FILES/tut.txt\"\n"
    for cmd, _ in lab_blocks():
        args = cmd.replace(".cache/linux/", "$FILES/")
        assert args.startswith("./mini-kvm "), cmd
        body += "sh \"$FILES/linux_session.sh\" tut \"$FILES/tut.txt\" 150 %s\n" % args[11:]
    return Cmd(body, timeout=200, files=[VMLINUZ, INITRD, SESSION])


def commands(body, single):
    """[(cmd, expected lines, status)] of one console block; `single`: only
    the first line is a command (its output has `$ ` lines of its own)."""
    out, cur = [], None
    for line in body.splitlines():
        if line.startswith("$ ") and (cur is None or not single):
            cur = [line[2:], [], 0]
            out.append(cur)
        elif cur is not None:
            m = re.fullmatch(r"\[status (\d+)\]", line)
            if m:
                cur[2] = int(m.group(1))
            else:
                cur[1].append(line)
    return [tuple(c) for c in out]


def line_re(expected):
    parts = expected.rstrip().split(WILD)
    return re.compile(".*".join(re.escape(p) for p in parts))


def matches(expected, actual):
    """Expected lines (with [...] wildcards) against actual lines, in order."""
    if not expected:
        return not actual
    e = expected[0]
    if e == WILD:
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and bool(line_re(e).fullmatch(actual[0].rstrip())) and \
        matches(expected[1:], actual[1:])


def insert(tree, spec, body):
    path, anchor = spec.split(":")
    f = os.path.join(tree, path)
    lines = open(f).read().splitlines(True)
    if anchor == "includes":
        at = max(i for i, l in enumerate(lines) if l.startswith("#include")) + 1
    elif anchor == "flat_devices":
        start = next(i for i, l in enumerate(lines) if l.startswith("static int flat_devices("))
        at = next(i for i in range(start, len(lines)) if lines[i] == "    return 0;\n")
    else:
        raise AssertionError("unknown insert anchor %r" % spec)
    lines[at:at] = [body]
    open(f, "w").write("".join(lines))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the built repository (times kept, so make rebuilds nothing)."""
    dst = tmp_path_factory.mktemp("tutorial") / "mini-kvm"
    shutil.copytree(REPO, dst, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n in SKIP])
    return str(dst)


def test_tutorial_blocks_are_well_formed():
    kinds = {(lang, key) for lang, key, _, _ in blocks()}
    assert ("console", None) in kinds and ("c", "file") in kinds and ("c", "insert") in kinds
    for lang, key, value, body in blocks():
        assert key in (None, "file", "insert", "show", "run", "lab"), (lang, key)
        assert lang in ("console", "text", "c", "asm"), lang
        if lang == "console":
            assert body.startswith("$ "), body[:80]


def test_every_tutorial_command_prints_what_the_tutorial_says(tree):
    ran = 0
    for lang, key, value, body in blocks():
        if key == "show":
            src = open(os.path.join(REPO, value), encoding="utf-8").read()
            assert body in src, "docs/tutorial.md: excerpt no longer in %s:\n%s" % (value, body)
        elif key == "file":
            with open(os.path.join(tree, value), "w") as f:
                f.write(body)
        elif key == "insert":
            insert(tree, value, body)
        elif lang == "console" and key != "lab":
            for cmd, expected, status in commands(body, key == "run" and value == "single"):
                p = subprocess.run(["bash", "-c", cmd], cwd=tree, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=300, start_new_session=True, env=CLEAN_ENV)
                out = p.stdout.decode(errors="replace").splitlines()
                assert p.returncode == status and matches(expected, out), (
                    "docs/tutorial.md: $ %s\nstatus %d (want %d)\n--- got ---\n%s\n"
                    "--- want ---\n%s" % (cmd, p.returncode, status, "\n".join(out),
                                          "\n".join(expected)))
                ran += 1
    assert ran >= 20, ran


@pytest.mark.needs("linux")
def test_the_tutorial_linux_command_boots_to_its_shell(results):
    assert len(lab_blocks()) == 1
    r = results["tutorial-linux"]
    m = re.search(r"=== tut stdout\n(.*)\n=== tut stderr\n(.*)=== tut rc=(\d+)", r.out, re.S)
    assert m, r
    out = m.group(1).replace("\r\n", "\n").splitlines()
    expected = lab_blocks()[0][1]
    assert m.group(3) == "0" and matches(expected, out), (
        "docs/tutorial.md's Linux command: status %s\n--- got ---\n%s\n--- want ---\n%s\n"
        "--- stderr ---\n%s" % (m.group(3), "\n".join(out[-40:]), "\n".join(expected),
                                m.group(2)))
    assert "mkvm-linux:" in m.group(1), r      # the shell answered, then powered off


def test_the_tutorial_picture_is_a_png():
    with open(os.path.join(REPO, "docs", "img", "trace-uart-ports.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


COMMANDS["tutorial-linux"] = _lab_cmd()
