/* tap.c - the host side of virtio-net's userspace datapath: TUNSETIFF on an
 * existing TAP, the vnet header size and the receive offloads. */
#include "tap.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tap_open(const char *name)
{
    if (strlen(name) >= IFNAMSIZ) {
        errorf("%s: interface name longer than %d bytes", name, IFNAMSIZ - 1);
        return -1;
    }
    /* TUNSETIFF would create a missing TAP for root: say so instead, since a
     * new TAP has no address and is down, which looks like a dead network. */
    if (if_nametoindex(name) == 0) {
        errorf("%s: no such network interface (create it first: "
               "ip tuntap add %s mode tap user $USER && ip link set %s up)", name, name, name);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        errorf("%s: cannot open /dev/net/tun: %s%s", name, strerror(errno),
               errno == ENOENT ? " (load the tun module: modprobe tun)" : "");
        return -1;
    }
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        errorf("%s: cannot attach to the TAP: %s", name,
               e == EBUSY ? "it is in use (by another process, or given twice)"
               : e == EINVAL ? "not a TAP interface (or a TUN, or created without vnet headers)"
               : e == EPERM ? "permission denied (create it with 'user $USER', or run as root)"
               : strerror(e));
        close(fd);
        return -1;
    }
    int len = TAP_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &len) < 0) {
        errorf("%s: TUNSETVNETHDRSZ: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    if (tap_set_offload(fd, name, false, false, false, false)) {
        close(fd);
        return -1;
    }
    return fd;
}

int tap_set_offload(int fd, const char *name, bool csum, bool tso4, bool tso6, bool ecn)
{
    /* TSO needs checksum offload: without it the TAP refuses the flags. */
    unsigned flags = csum ? TUN_F_CSUM | (tso4 ? TUN_F_TSO4 : 0) | (tso6 ? TUN_F_TSO6 : 0) |
                            (ecn && (tso4 || tso6) ? TUN_F_TSO_ECN : 0) : 0;
    if (ioctl(fd, TUNSETOFFLOAD, flags) < 0) {
        errorf("%s: TUNSETOFFLOAD 0x%x: %s", name, flags, strerror(errno));
        return -1;
    }
    return 0;
}
