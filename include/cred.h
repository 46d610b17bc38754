/*
 * Per-thread identity. As root, each request runs with the caller's fsuid,
 * fsgid and supplementary groups (raw syscalls: glibc would apply setgroups
 * to every thread). Unprivileged, everything runs as the server's user.
 */
#ifndef LOOPNFS_CRED_H
#define LOOPNFS_CRED_H

#include "export.h"
#include "rpc.h"

#include <stdbool.h>
#include <sys/types.h>

struct ids {
	uid_t uid;
	gid_t gid;
	unsigned ngroups;
	gid_t groups[RPC_MAX_GIDS];
};

void cred_init(void);
bool cred_server_is_root(void);
/* The identity a call runs as under the options its client has on the export (squashing). */
void cred_map(const struct rpc_cred *rc, const struct export_opts *opts, struct ids *out);
/* Switch the calling thread to ids (a no-op when already there). */
int cred_apply(const struct ids *ids);
/* Bracket privileged steps (handle resolution) inside a request. */
void cred_escalate(void);
void cred_restore(void);
/* The identity the thread runs as now. */
const struct ids *cred_current(void);

#endif
