/* main.c - kmain: check what mini-kvm handed over, bring up each part of
 * the kernel in order, start the shell and become the scheduler. */
#include "kernel.h"

/* mini-kvm leaves struct mkvm_boot_info at GPA 0x7000, RDI points to it. */
#include "../../src/abi/mkvm_abi.h"

void kmain(struct mkvm_boot_info *bi)
{
    uart_init();
    kprintf("\nmini-os: booting\n");
    if (bi->magic != MKVM_BOOT_MAGIC)
        panic("no mini-kvm boot info at %p", (void *)bi);
    /* Copy what we need: page 0x7000 is ordinary RAM from now on. */
    uint64_t ram = bi->ram_size, bases[MKVM_BOOT_MAX_VIRTIO];
    int nvirtio = bi->nvirtio < MKVM_BOOT_MAX_VIRTIO ? (int)bi->nvirtio : MKVM_BOOT_MAX_VIRTIO;
    for (int i = 0; i < nvirtio; i++)
        bases[i] = bi->virtio[i].base;
    kprintf("mini-os: %lu MiB RAM, %u CPU(s) (we use one), %d virtio device(s)\n",
            ram >> 20, bi->ncpus, nvirtio);

    /* `-p panic` on mini-kvm's command line shows (and tests) the panic path. */
    if (bi->cmdline && !strcmp((const char *)bi->cmdline, "panic"))
        panic("asked to on the command line");
    cpu_init();                 /* our GDT, TSS and IDT */
    kvm_init(ram);              /* our page tables, the page allocator */
    irq_init();                 /* LAPIC timer, IOAPIC, serial input */
    if (disk_init(bases, nvirtio) == 0)
        fs_init();
    if (spawn("sh", 0, 1) < 0)
        panic("cannot start the shell");
    scheduler();
}
