/*
 * The context one NFS or MOUNT call runs in: the decoded call, the reply
 * being built, a scratch arena for reply data, and the export/identity that
 * the first resolved handle fixed.
 */
#ifndef LOOPNFS_REQ_H
#define LOOPNFS_REQ_H

#include "cred.h"
#include "export.h"
#include "rpc.h"

#include <rpc/rpc.h>
#include <stddef.h>

struct arena_chunk;

struct req {
	const struct rpc_call *call;
	struct rpc_reply *rep;
	const struct export_table *tbl; /* the exports this call runs on, start to end */
	const struct export_view *view; /* its client's view of them; NULL until needed */
	struct export *ex;		/* NULL until a handle was resolved */
	const struct export_opts *opts; /* what the client has on ex */
	struct ids ids;
	bool ids_set;
	struct arena_chunk *arena;
	size_t reply_hint; /* expected reply size, for large READDIR replies */
	/*
	 * Running on the event thread: handles must resolve from the cache
	 * (no open_by_handle_at, no search of the export); a miss sets
	 * need_worker and the call is handed to the worker pool instead.
	 */
	bool cached_only;
	bool need_worker;
};

/* Memory that lives until the reply has been encoded. Zeroed. NULL on OOM. */
void *req_alloc(struct req *req, size_t n);
char *req_strdup(struct req *req, const char *s, size_t n);
void req_release(struct req *req);

/* The table the call runs on (dispatch sets it; calls made directly take the one in force). */
static inline const struct export_table *req_table(struct req *req)
{
	if (!req->tbl)
		req->tbl = export_table_current();
	return req->tbl;
}

/* Fix the export for this request and switch to the caller's identity under opts. */
int req_enter_export(struct req *req, struct export *ex, const struct export_opts *opts);

typedef void (*proc_fn)(struct req *req, void *args, void *res);

#define PROC_NONIDEMPOTENT 1u /* replayed from the duplicate request cache */
/* Cheap enough to run on the event thread when its handle is cached. */
#define PROC_INLINE 2u
/* The result begins with a status (nfsstat3, mountstat3...); others are lists or void. */
#define PROC_STATUS 4u

struct proc_desc {
	const char *name;
	xdrproc_t xdr_args;
	size_t args_size;
	xdrproc_t xdr_res;
	size_t res_size;
	proc_fn fn;
	unsigned flags;
	/* Frees decoded args when they point into the record (WRITE); default xdr_args. */
	xdrproc_t xdr_free_args;
};

struct prog_desc {
	uint32_t prog;
	uint32_t vers;
	const struct proc_desc *procs;
	size_t nprocs;
};

/* The status a procedure's result begins with, for the log: false if it has none. */
bool proc_result_status(const struct proc_desc *pd, const void *res, int *status);

/* XDR routine for void arguments and results. */
bool_t xdr_nothing(XDR *xdrs, void *p);

extern const struct prog_desc nfs3_program;
extern const struct prog_desc mount1_program;
extern const struct prog_desc mount3_program;

#endif
