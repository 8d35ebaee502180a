/* flat.c - loading a teaching guest: raw bytes copied to a fixed address,
 * no headers. The layouts are in docs/architecture.md. */
#include "loader.h"
#include "core/util.h"
#include "core/vm.h"

static int place(struct vm *vm, uint64_t gpa, const uint8_t *img, size_t len,
                 const char *path)
{
    if (guest_write(&vm->mem, gpa, img, len)) {
        errorf("%s: %zu bytes at 0x%llx do not fit in %lluK of guest RAM (try -m)",
               path, len, (unsigned long long)gpa,
               (unsigned long long)(vm->mem.ram_size >> 10));
        return -1;
    }
    return 0;
}

int flat_load_real(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   struct boot_entry *e)
{
    if (len > FLAT_REAL_MAX) {
        errorf("%s: %zu bytes is too large for a real-mode guest (max %d)", path,
               len, FLAT_REAL_MAX);
        return -1;
    }
    /* the whole 64 KiB segment, stack included, must be RAM */
    if (!guest_ptr(&vm->mem, (uint64_t)FLAT_REAL_SEG << 4, 0x10000)) {
        errorf("%s: a real-mode guest needs at least 128K of guest RAM", path);
        return -1;
    }
    if (place(vm, (uint64_t)FLAT_REAL_SEG << 4, img, len, path))
        return -1;
    *e = (struct boot_entry){ .long_mode = false, .seg = FLAT_REAL_SEG, .ip = 0, .sp = 0xFFFE };
    return 0;
}

int flat_load_long(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   struct boot_entry *e)
{
    if (place(vm, FLAT_LONG_ADDR, img, len, path))
        return -1;
    *e = (struct boot_entry){
        .long_mode = true, .rip = FLAT_LONG_ADDR, .rsp = BOOT_STACK_TOP,
        .rdi = vm->mem.ram_size,
    };
    return 0;
}
