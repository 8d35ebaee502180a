/* seccomp_rules.h - the per-thread-kind allow-lists of sandbox.c as data:
 * one entry per allowed call (or ioctl number), with its reason. */
#ifndef MINI_KVM_SECCOMP_RULES_H
#define MINI_KVM_SECCOMP_RULES_H

#include "sandbox.h"

#include <seccomp.h>
#include <stddef.h>

struct seccomp_rule {
    int nr;                     /* SCMP_SYS(name) */
    const char *why;
    unsigned nargs;             /* conditions, all must hold */
    struct scmp_arg_cmp arg[2];
};

struct seccomp_list {
    const struct seccomp_rule *r;
    size_t n;
};

/* "main", "vcpu", ... by kind (messages, the generated filter names). */
extern const char *const seccomp_kind_names[SANDBOX_KINDS];

/* Every thread kind gets the common list plus its own. */
extern const struct seccomp_list seccomp_common;
const struct seccomp_list *seccomp_list_of(enum sandbox_kind kind);

#endif
