# tools/debkernel.py - what tools/lab and tools/mkinitramfs share: Debian
# packages (the cloud kernel, busybox-static) fetched into one cache, and cpio.
"""Imported by tools/lab and tools/mkinitramfs (not a command).

One cache for both: $LAB_CACHE, or .cache/lab/ in the repo. A package is
fetched with `apt-get download` and unpacked whole, once, into
CACHE/deb-PACKAGE/ (a `done` file marks it complete); each tool takes what
it needs from there (the lab: vmlinuz and the KVM modules, cached as
kernel-PACKAGE/ as before; mkinitramfs: vmlinuz, the virtio modules,
busybox). Writes go through temporary names and renames, so a killed run
or two tools at once leave no half-written entry.
"""
import glob
import gzip
import json
import lzma
import os
import shutil
import subprocess
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("LAB_CACHE") or os.path.join(REPO, ".cache", "lab")
KERNEL_META = "linux-image-cloud-amd64"


class Error(Exception):
    pass


def run(cmd, cwd=None, what=None):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        err = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        raise Error("%s: %s" % (what or " ".join(cmd), err))
    return r.stdout


def atomic_write(path, data, mode=0o644):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def prune(pattern, keep):
    """Delete all but the newest `keep` cache entries matching pattern."""
    old = sorted(glob.glob(os.path.join(CACHE, pattern)), key=os.path.getmtime)[:-keep]
    for p in old:
        shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)


def resolve_kernel_package(log):
    """Name of the versioned package behind linux-image-cloud-amd64, cached per
    state of the apt lists; offline, the newest kernel in the cache."""
    os.makedirs(CACHE, exist_ok=True)
    stamp = os.path.join(CACHE, "kernel-package.json")
    try:
        lists = os.stat("/var/lib/apt/lists").st_mtime
    except OSError:
        lists = 0
    try:
        with open(stamp) as f:
            st = json.load(f)
        if st["lists"] == lists:
            return st["package"]
    except (OSError, ValueError, KeyError):
        pass
    try:
        out = run(["apt-cache", "depends", "--no-recommends", KERNEL_META],
                  what="apt-cache depends " + KERNEL_META)
    except (Error, FileNotFoundError) as e:
        cached = sorted(glob.glob(os.path.join(CACHE, "kernel-linux-*")) +
                        glob.glob(os.path.join(CACHE, "deb-linux-*")), key=os.path.getmtime)
        if cached:
            name = os.path.basename(cached[-1]).split("-", 1)[1]
            log("cannot resolve %s (%s); using cached %s" % (KERNEL_META, e, name))
            return name
        raise Error("cannot resolve %s: %s (run apt-get update?)" % (KERNEL_META, e))
    pkgs = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("Depends: linux-image-")]
    if not pkgs:
        raise Error("apt-cache depends %s: no linux-image-* dependency" % KERNEL_META)
    atomic_write(stamp, json.dumps({"lists": lists, "package": pkgs[0]}).encode())
    return pkgs[0]


def package_dir(pkg, log):
    """CACHE/deb-PKG/: the package's files, downloaded and unpacked if needed.
    Its `done` file holds the .deb's name (PKG_VERSION_ARCH.deb)."""
    os.makedirs(CACHE, exist_ok=True)
    pdir = os.path.join(CACHE, "deb-" + pkg)
    if os.path.exists(os.path.join(pdir, "done")):
        return pdir
    log("downloading %s (apt-get download)..." % pkg)
    tmp = tempfile.mkdtemp(dir=CACHE, prefix="tmp-deb-")
    try:
        run(["apt-get", "download", pkg], cwd=tmp, what="apt-get download " + pkg)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if len(debs) != 1:
            raise Error("apt-get download %s: expected one .deb, got %d" % (pkg, len(debs)))
        x = os.path.join(tmp, "x")
        run(["dpkg-deb", "-x", debs[0], x], what="dpkg-deb -x " + os.path.basename(debs[0]))
        with open(os.path.join(x, "done"), "w") as f:
            f.write(os.path.basename(debs[0]) + "\n")
        shutil.rmtree(pdir, ignore_errors=True)     # an incomplete one (no `done`)
        try:
            os.rename(x, pdir)
        except OSError:
            if not os.path.exists(os.path.join(pdir, "done")):
                raise   # not another run that finished first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if pkg.startswith("linux-image-"):
        prune("deb-linux-image-*", 2)
    return pdir


def system_map(release, log):
    """CACHE/System.map-RELEASE, taken once from linux-image-RELEASE-dbg (the
    only Debian package that ships it, ~280 MB: streamed, never unpacked whole)."""
    path = os.path.join(CACHE, "System.map-" + release)
    if os.path.exists(path):
        return path
    pkg = "linux-image-%s-dbg" % release
    log("downloading %s for its System.map (apt-get download)..." % pkg)
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=CACHE, prefix="tmp-dbg-")
    try:
        run(["apt-get", "download", pkg], cwd=tmp, what="apt-get download " + pkg)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if len(debs) != 1:
            raise Error("apt-get download %s: expected one .deb, got %d" % (pkg, len(debs)))
        member = "./usr/lib/debug/boot/System.map-" + release
        p = subprocess.run("dpkg-deb --fsys-tarfile '%s' | tar -xO --occurrence=1 '%s'"
                           % (debs[0], member), shell=True, capture_output=True)
        if p.returncode or b" T start_kernel\n" not in p.stdout:
            raise Error("%s: no usable %s in it" % (os.path.basename(debs[0]), member))
        atomic_write(path, p.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def kernel_files(pdir):
    """(vmlinuz, modules dir) of an unpacked linux-image package."""
    vmlinuz = glob.glob(os.path.join(pdir, "boot/vmlinuz-*"))
    moddirs = glob.glob(os.path.join(pdir, "lib/modules/*"))
    if len(vmlinuz) != 1 or len(moddirs) != 1:
        raise Error("%s: expected one /boot/vmlinuz-* and one /lib/modules/*" % pdir)
    return vmlinuz[0], moddirs[0]


def read_module(path):
    """A kernel module's bytes, decompressed (busybox insmod takes plain .ko)."""
    if path.endswith(".ko"):
        with open(path, "rb") as f:
            return f.read()
    if path.endswith(".xz"):
        with lzma.open(path) as f:
            return f.read()
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    raise Error("%s: unknown module compression" % path)


class Cpio:
    """A cpio "newc" archive, what the kernel unpacks into its rootfs."""

    def __init__(self):
        self.parts, self.ino, self.dirs = [], 1, set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields) + name_b
        self.parts += [hdr, b"\0" * (-len(hdr) % 4), data, b"\0" * (-len(data) % 4)]

    def dir(self, name):
        if name not in self.dirs:
            self.dirs.add(name)
            self._entry(name, 0o040755)

    def parents(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def tree(self, src, dst):
        """Add directory src (recursively, symlinks kept) as dst."""
        self.dir(dst)
        for root, dirs, files in os.walk(src):
            rel = os.path.relpath(root, src)
            base = dst if rel == "." else dst + "/" + rel
            for d in sorted(dirs):
                p = os.path.join(root, d)
                self.symlink(base + "/" + d, os.readlink(p)) if os.path.islink(p) else self.dir(base + "/" + d)
            for fn in sorted(files):
                p = os.path.join(root, fn)
                if os.path.islink(p):
                    self.symlink(base + "/" + fn, os.readlink(p))
                else:
                    with open(p, "rb") as f:
                        self.file(base + "/" + fn, f.read(), os.stat(p).st_mode & 0o777)

    def bytes(self):
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)
