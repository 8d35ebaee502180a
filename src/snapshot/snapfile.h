/* snapfile.h - the snapshot state file: a versioned header, named sections
 * and a CRC-32 over everything (docs/snapshot.md). No KVM in here. */
#ifndef MINI_KVM_SNAPFILE_H
#define MINI_KVM_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC   "MKVMSNAP"
/* Bumped whenever a record changes shape. 2: the i8042 keyboard state and the
 * NICs in the config section (format-1 files predate them). */
#define SNAP_FORMAT  2
#define SNAP_MAX     (64u << 20)    /* a state file is KiBs; refuse giants */
#define SNAP_NAME    32

struct snap_header {                /* 64 bytes, little-endian */
    char magic[8];
    uint32_t format, header_size;
    char version[16];               /* the mini-kvm that wrote it */
    uint64_t cpuid_hash;            /* KVM_GET_SUPPORTED_CPUID, FNV-1a */
    uint64_t mem_size;
    uint32_t ncpus, nsections;
    uint64_t body_len;              /* bytes of sections after the header */
};

struct snap_section {               /* then len bytes, padded to 8 */
    char name[SNAP_NAME];
    uint64_t len;
};

struct snap_writer {
    uint8_t *buf;
    size_t len, cap;
    uint32_t nsections;
};

/* Append a section (copied). */
void snapw_add(struct snap_writer *w, const char *name, const void *data, size_t len);

/* Header + sections + CRC to path (through a temporary file renamed into
 * place, never following a symlink). Frees w. Returns 0 or -1 after errorf. */
int snapw_write(struct snap_writer *w, struct snap_header *h, const char *path);

struct snap_reader {
    const char *path;
    uint8_t *buf;
    size_t len;
    struct snap_header h;
};

/* Read and check: magic, format, length, checksum, mini-kvm version. The
 * first failure is one errorf line naming the file. 0 or -1. */
int snapr_open(struct snap_reader *r, const char *path, const char *version);
void snapr_close(struct snap_reader *r);

/* The section of that name and exactly that length, or NULL after errorf
 * ("... lacks section X" / "section X has N bytes, expected M"). */
const void *snapr_get(const struct snap_reader *r, const char *name, size_t len);

/* Sections whose name starts with prefix. */
int snapr_count(const struct snap_reader *r, const char *prefix);

uint32_t snap_crc32(const void *data, size_t len);

#endif
