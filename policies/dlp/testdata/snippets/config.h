#ifndef NETCFG_CONFIG_H
#define NETCFG_CONFIG_H

#include <stdint.h>
#include <stddef.h>

#define NETCFG_MAX_IFACES   16
#define NETCFG_NAME_LEN     32
#define NETCFG_DEFAULT_MTU  1500

typedef enum {
    LINK_DOWN = 0,
    LINK_UP,
    LINK_UNKNOWN
} link_state_t;

typedef struct netcfg_iface {
    char name[NETCFG_NAME_LEN];
    uint32_t mtu;
    uint8_t mac[6];
    link_state_t state;
} netcfg_iface_t;

int netcfg_load(const char *path, netcfg_iface_t *out, size_t max);
int netcfg_apply(const netcfg_iface_t *iface);
void netcfg_free(netcfg_iface_t *ifaces, size_t n);

#endif /* NETCFG_CONFIG_H */
