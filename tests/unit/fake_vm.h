/* fake_vm.h - the unit tests' fixtures: one fake VM (no KVM behind it: fd
 * -1, no irqchip; both buses, optional RAM and console) and stderr capture. */
#ifndef MINI_KVM_FAKE_VM_H
#define MINI_KVM_FAKE_VM_H

/* Devices and loaders run against it as in mini-kvm: they register on its
 * buses, own their state through vm_own (freed by fake_vm_fini) and place
 * bytes in its RAM. vm_irq_line does nothing (fd -1): tests read the level
 * a device drives through the device's own test accessor. Include after
 * <cmocka.h>. */
#include "core/bus.h"
#include "core/console.h"
#include "core/mem.h"
#include "core/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ram bytes of RAM from GPA 0 (0: none). Messages name the VM "test". */
static inline void fake_vm_init(struct vm *vm, uint64_t ram)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = "test";
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    bus_init(&vm->mmio, "mmio");
    if (ram)
        assert_int_equal(mem_init(&vm->mem, ram), 0);
}

/* Release the devices (newest first), then the RAM. */
static inline void fake_vm_fini(struct vm *vm)
{
    vm_release_devices(vm);
    mem_free(&vm->mem);
}

static inline struct vm *fake_vm_new(uint64_t ram)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    assert_non_null(vm);
    fake_vm_init(vm, ram);
    return vm;
}

static inline void fake_vm_free(struct vm *vm)
{
    fake_vm_fini(vm);
    free(vm);
}

/* A console in prefix mode with no stdin thread, so a guest's output
 * collects in port->line and the test feeds input itself; attached to vm. */
static inline void fake_vm_console(struct vm *vm, struct console *con,
                                   struct console_port *port)
{
    console_init(con, true);
    con->colour = false;
    con->reader_started = true;
    console_port_init(port, con, vm->name, 0, true);
    vm->con = port;
}

/* stderr captured around the code under test (its one-line errors):
 * capture_begin, run it, capture_end copies what it printed into buf
 * (NUL-terminated, at most n - 1 bytes) and returns buf. */
struct capture {
    FILE *tmp;
    int saved;
};

static inline void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

static inline char *capture_end(struct capture *c, char *buf, size_t n)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    rewind(c->tmp);
    size_t got = fread(buf, 1, n - 1, c->tmp);
    buf[got] = '\0';
    fclose(c->tmp);
    return buf;
}

#endif
