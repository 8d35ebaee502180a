/* mem.c - guest RAM allocation and the bounds-checked guest_ptr() helper.
 * Nothing else in mini-kvm turns a guest-physical address into a pointer. */
#include "mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int mem_init(struct guest_mem *m, uint64_t ram_size)
{
    memset(m, 0, sizeof(*m));
    if (ram_size == 0 || ram_size % 4096) {
        errno = EINVAL;
        return -1;
    }
    uint64_t low = ram_size < MEM_HOLE_START ? ram_size : MEM_HOLE_START;
    uint64_t sizes[2] = { low, ram_size - low };
    uint64_t bases[2] = { 0, MEM_HOLE_END };
    for (int i = 0; i < 2 && sizes[i]; i++) {
        void *p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            mem_free(m);
            errno = e;
            return -1;
        }
        m->r[i] = (struct mem_region){ bases[i], sizes[i], p };
        m->nr = i + 1;
    }
    m->ram_size = ram_size;
    return 0;
}

void mem_free(struct guest_mem *m)
{
    for (int i = 0; i < m->nr; i++)
        munmap(m->r[i].host, m->r[i].size);
    m->nr = 0;
}

void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
    for (int i = 0; i < m->nr; i++) {
        const struct mem_region *r = &m->r[i];
        if (gpa < r->gpa)
            continue;
        uint64_t off = gpa - r->gpa;
        /* written so that no addition can overflow */
        if (off > r->size || len > r->size - off)
            continue;
        return r->host + off;
    }
    return NULL;
}

int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
    const void *p = guest_ptr(m, gpa, len);
    if (!p)
        return -1;
    memcpy(dst, p, len);
    return 0;
}

int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
    void *p = guest_ptr(m, gpa, len);
    if (!p)
        return -1;
    memcpy(p, src, len);
    return 0;
}

uint64_t mem_resident(const struct guest_mem *m)
{
    uint64_t total = 0;
    unsigned char vec[4096];
    for (int i = 0; i < m->nr; i++) {
        /* in chunks, so the vector stays on the stack */
        for (uint64_t off = 0; off < m->r[i].size; off += sizeof(vec) * 4096ULL) {
            uint64_t len = m->r[i].size - off;
            if (len > sizeof(vec) * 4096ULL)
                len = sizeof(vec) * 4096ULL;
            if (mincore(m->r[i].host + off, len, vec) < 0)
                return 0;
            for (uint64_t p = 0; p < len / 4096; p++)
                total += (vec[p] & 1) * 4096ULL;
        }
    }
    return total;
}

int mem_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'B') /* accept 512MiB / 512MB spellings */
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}
