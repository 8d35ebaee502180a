/* vmconfig.h - the VM configuration as Firecracker's API and --config-file
 * describe it (JSON bodies), and its mapping onto mini-kvm's options. */
#ifndef MINI_KVM_VMCONFIG_H
#define MINI_KVM_VMCONFIG_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>

#define VMCONFIG_ID_MAX   64
#define VMCONFIG_ARGS_MAX 2048

struct vmconfig_drive {
    char id[VMCONFIG_ID_MAX];
    char path[CLI_PATH_MAX];
    bool ro, root;
};

struct vmconfig_net {
    char id[VMCONFIG_ID_MAX];
    struct cli_net net;         /* host_dev_name -> tap, guest_mac -> mac */
};

struct vmconfig {
    bool have_boot;
    char kernel[CLI_PATH_MAX];
    char initrd[CLI_PATH_MAX];      /* "" = none */
    char boot_args[VMCONFIG_ARGS_MAX];
    bool have_args;
    unsigned vcpus;                 /* default 1 */
    unsigned mem_mib;               /* default 128, as Firecracker */
    int ndrives;
    struct vmconfig_drive drives[CLI_MAX_DISKS];
    int nnets;
    struct vmconfig_net nets[VIRTIO_MMIO_MAX];
};

void vmconfig_init(struct vmconfig *c);

/* A request body that must be one JSON object (duplicate keys refused), or
 * NULL with "what: invalid JSON: ... (line, column)" in err. */
typedef struct json_t json_t;
json_t *vmconfig_parse(const char *json, size_t len, const char *what, char *err, size_t n);
/* The first key of obj not in known (NULL-terminated), or NULL. */
const char *vmconfig_unknown_key(json_t *obj, const char *const *known);

/* Apply one request body. Each returns 0, or -1 with a message for the
 * client's fault_message in err (the configuration is then unchanged). */
int vmconfig_boot_source(struct vmconfig *c, const char *json, size_t len, char *err, size_t n);
int vmconfig_machine(struct vmconfig *c, const char *json, size_t len, char *err, size_t n);
int vmconfig_drive(struct vmconfig *c, const char *id, const char *json, size_t len,
                   char *err, size_t n);
int vmconfig_net(struct vmconfig *c, const char *id, const char *json, size_t len,
                 char *err, size_t n);

/* GET /machine-config. Returns a malloc'd JSON string. */
char *vmconfig_machine_json(const struct vmconfig *c);

/* --config-file: Firecracker's format for the same subset. A file that
 * cannot be read is reported by errorf, with err left empty. */
int vmconfig_load_file(struct vmconfig *c, const char *path, char *err, size_t n);

/* The options the command line would have built for this configuration
 * (pointers into c: keep c alive). Root drive first, like /dev/vda. */
int vmconfig_to_options(const struct vmconfig *c, struct options *o, char *err, size_t n);

#endif
