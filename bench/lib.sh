# lib.sh - what the lab benchmarks share: copying a host program into the directory that
# tools/lab --files hands to L1 (sourced by linux-boot.sh, xv6-boot.sh, net.sh, blk.sh).

# bundle DIR BIN NAME: BIN as DIR/NAME/bin with the shared libraries it needs in
# DIR/NAME/lib, run in L1 through its own ld.so (a static BIN is copied alone)
bundle() {
    mkdir -p "$1/$3/lib" && cp -L "$2" "$1/$3/bin" || return 1
    ldd "$2" >/dev/null 2>&1 || return 0
    ldd "$2" | awk '/=>/ && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
        while read -r lib; do cp -L "$lib" "$1/$3/lib/" || exit 1; done
}

# bundle_qemu_microvm DIR WHO: qemu-system-x86_64 as DIR/qemu plus the firmware
# -M microvm loads (DIR/qemu/share); WHO names the script in the error line
bundle_qemu_microvm() {
    local q
    q=$(command -v qemu-system-x86_64) ||
        { echo "$2: no qemu-system-x86_64 (or set NO_QEMU=1)" >&2; return 1; }
    bundle "$1" "$q" qemu || return 1
    mkdir -p "$1/qemu/share" || return 1
    for f in bios-microvm.bin linuxboot_dma.bin pvh.bin; do
        cp -L "/usr/share/qemu/$f" "$1/qemu/share/" 2>/dev/null
    done
    return 0
}

# bench_setup WHO: what every Linux benchmark in the lab starts with: mini-kvm and the
# initramfs built, a directory $dir (removed at exit) for tools/lab --files with the
# kernel, the initramfs and linux_session.sh, and QEMU in it unless NO_QEMU is set;
# $vmms gets qemu-microvm appended then. WHO names the script in error lines.
bench_setup() {
    make -s mini-kvm || exit 1
    tools/mkinitramfs -q || exit 1
    dir=$(mktemp -d) || exit 1
    trap 'rm -rf "$dir"' EXIT
    cp .cache/linux/vmlinuz .cache/linux/initrd.cpio.gz tests/integration/linux_session.sh \
        "$dir/" || exit 1
    if [ -z "${NO_QEMU:-}" ]; then
        bundle_qemu_microvm "$dir" "$1" || exit 1
        vmms="$vmms qemu-microvm"
    fi
}
