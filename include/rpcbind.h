/* Registration of our programs with a running rpcbind. */
#ifndef LOOPNFS_RPCBIND_H
#define LOOPNFS_RPCBIND_H

#include <stdbool.h>

/* True when an rpcbind answers on this host. */
bool rpcbind_available(void);
/* Register NFS v3 and MOUNT v1/v3 for the bound ports; returns 0 or -1. */
int rpcbind_register(int nfs_port, int mount_port, bool ipv4, bool ipv6, bool udp);
void rpcbind_unregister(void);

#endif
