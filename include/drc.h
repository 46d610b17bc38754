/*
 * Duplicate request cache: a retransmitted non-idempotent call (same peer,
 * xid, procedure and arguments) gets the original reply instead of running
 * twice; one that arrives while the original still runs is dropped.
 */
#ifndef LOOPNFS_DRC_H
#define LOOPNFS_DRC_H

#include "rpc.h"

enum drc_result {
	DRC_NEW,
	DRC_REPLAY,
	DRC_IN_PROGRESS
};

/* On DRC_REPLAY the cached reply has been copied into rep. */
enum drc_result drc_begin(const struct rpc_call *call, struct rpc_reply *rep, void **token);
/* Record the reply of a call that drc_begin returned DRC_NEW for. */
void drc_finish(void *token, const struct rpc_reply *rep);
void drc_shutdown(void);

#endif
