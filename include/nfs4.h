/*
 * The NFSv4.1 front end (RFC 8881): program 100003 version 4 beside v3 on
 * the same ports, COMPOUNDs of minor version 1 over the same backend
 * interface (vfs.h), state (clients, sessions, opens, locks) in the state
 * core (nfs4_state.h).
 */
#ifndef LOOPNFS_NFS4_H
#define LOOPNFS_NFS4_H

#include "rpc.h"

#include <stdbool.h>
#include <stdint.h>

struct nfs4_config {
	bool enabled;		/* --no-nfs4 turns it off: version 4 is then PROG_MISMATCH */
	uint32_t lease_seconds; /* --lease-time; 0: 90 */
	uint32_t grace_seconds; /* --grace-time; 0: the lease time */
	const char *state_dir;	/* where client records live for the grace period; NULL: none */
};

/* Before the transport starts. 0, or -errno with a message in err. */
int nfs4_init(const struct nfs4_config *cfg, char *err, size_t errlen);
/* After it stopped. */
void nfs4_shutdown(void);
/* The main thread's sweep: expired leases, clients gone after the grace period. */
void nfs4_reap(void);
bool nfs4_enabled(void);
/* A TCP connection closed: unbind it from every session. */
void nfs4_conn_closed(uint64_t conn_id);

extern const struct prog_desc nfs4_program;

#endif
