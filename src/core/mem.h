/* mem.h - guest physical memory: the RAM map of one VM and the single
 * bounds-checked translation that every host access to guest memory uses. */
#ifndef MINI_KVM_MEM_H
#define MINI_KVM_MEM_H

#include "arch/layout.h"     /* MEM_HOLE_START/END: RAM goes around the hole */

#include <stddef.h>
#include <stdint.h>

#define MEM_MAX_REGIONS 2

/* RAM regions of MEM_HUGE_MIN or more (kernels, not teaching guests) are
 * MEM_HUGE_PAGE-aligned and use transparent huge pages (mem.c). */
#define MEM_HUGE_PAGE  (2ULL << 20)
#define MEM_HUGE_MIN   (32ULL << 20)

struct mem_region {
    uint64_t gpa;    /* first guest-physical byte */
    uint64_t size;   /* bytes */
    uint8_t *host;   /* host mapping of gpa */
};

struct guest_mem {
    struct mem_region r[MEM_MAX_REGIONS];
    int nr;
    uint64_t ram_size; /* total RAM bytes, all regions */
};

/* Map ram_size bytes of anonymous memory (lazily: untouched pages cost no
 * RSS). Returns 0, or -1 with errno set. */
int mem_init(struct guest_mem *m, uint64_t ram_size);
void mem_free(struct guest_mem *m);

/* THE guest-memory helper: a host pointer to [gpa, gpa+len) or NULL when any
 * byte of it is outside one RAM region (overflow-safe). len 0 is allowed. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy helpers built on guest_ptr; return 0 or -1 when out of bounds. */
int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);
int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);

/* Bytes of guest RAM resident in host memory (touched pages), by mincore(2). */
uint64_t mem_resident(const struct guest_mem *m);

/* Parse a size such as "512M", "64K", "1G", "4096" into bytes.
 * Returns 0, or -1 for anything malformed or overflowing. */
int mem_parse_size(const char *s, uint64_t *out);

#endif
