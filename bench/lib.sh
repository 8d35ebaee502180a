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
