/*
 * Epoch-based reclamation for what requests read without a lock: the
 * export table, which a reload replaces while requests run on it, and the
 * per-connection access views built from it. A request runs between
 * ebr_enter and ebr_leave; an object unlinked from where requests find it
 * is handed to ebr_retire and freed by ebr_reclaim once no request that
 * could have seen it is still running.
 */
#ifndef LOOPNFS_EBR_H
#define LOOPNFS_EBR_H

/* Nestable; per thread. */
void ebr_enter(void);
void ebr_leave(void);
/* p must already be unreachable for requests that enter from now on. */
void ebr_retire(void *p, void (*free_fn)(void *));
/* Free what no running request can hold (the main thread calls this from its sweep). */
void ebr_reclaim(void);
/* How many retired objects wait (tests). */
unsigned ebr_pending(void);

#endif
