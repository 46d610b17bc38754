/*
 * The NFSv4.1 front end's private declarations (server/nfs4/):
 *   compound.c    the COMPOUND procedure: decoding op by op, the rules of
 *                 a session's COMPOUND, the reply and the slot's cache
 *   errmap4.c     the one errno -> nfsstat4 table
 *   ops_fh.c      the current and saved filehandles: PUTFH, PUTROOTFH,
 *                 PUTPUBFH, GETFH, SAVEFH, RESTOREFH, LOOKUP, LOOKUPP
 *   ops_session.c EXCHANGE_ID, CREATE_SESSION, SEQUENCE, DESTROY_SESSION,
 *                 DESTROY_CLIENTID, BIND_CONN_TO_SESSION, RECLAIM_COMPLETE,
 *                 SECINFO, SECINFO_NO_NAME
 *   ops_attr.c    GETATTR, SETATTR, VERIFY, NVERIFY, ACCESS
 *   ops_dir.c     READDIR, READLINK, CREATE, REMOVE, RENAME, LINK
 *   ops_io.c      OPEN, OPEN_DOWNGRADE, CLOSE, READ, WRITE, COMMIT
 *   ops_lock.c    LOCK, LOCKT, LOCKU, TEST_STATEID, FREE_STATEID, DELEGRETURN
 * An operation takes its decoded arguments and the COMPOUND's state,
 * calls the backend interface and the state core, fills its result and
 * returns its status; it makes no syscall of its own.
 */
#ifndef LOOPNFS_NFS4_INT_H
#define LOOPNFS_NFS4_INT_H

#include "fh.h"
#include "nfs4.h"
#include "nfs4_prot.h"
#include "nfs4_state.h"
#include "req.h"
#include "vfs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the front end shares between calls. */
struct nfs4_globals {
	struct st4_server *st;
	uint32_t lease_seconds;
	bool enabled;
};
extern struct nfs4_globals nfs4_g;

/* One COMPOUND's state between its operations (RFC 8881 16.2.3). */
struct nfs4_cs {
	struct req *req;
	struct vfs_obj *cur, *saved; /* the current and saved filehandles' objects, or NULL */
	struct fh_buf cur_fh, saved_fh;
	struct st4_stateid cur_sid, saved_sid; /* 16.2.3.1.2's current stateid */
	bool cur_sid_set, saved_sid_set;
	bool in_session; /* SEQUENCE came first: slot holds its slot */
	struct st4_slot_ref slot;
	uint32_t max_ops;  /* the session's ca_maxoperations */
	size_t max_reply;  /* ... its ca_maxresponsesize */
	size_t reply_size; /* the results so far, as encoded */
	uint64_t conn_id;  /* the connection the call came on */
	uint8_t *replay;   /* SEQUENCE found a retransmission: the cached reply */
	uint32_t replay_len;
	unsigned opindex, numops; /* the operation running, and how many the request has */
};

/* An operation: its result's union member is filled, its status returned. */
typedef nfsstat4 (*nfs4_op_fn)(struct nfs4_cs *cs, nfs_argop4 *arg, nfs_resop4 *res);

/* What the COMPOUND engine checks before an operation runs. */
#define OP4_NEED_FH 1u	    /* a current filehandle (else NFS4ERR_NOFILEHANDLE) */
#define OP4_SESSIONLESS 2u  /* may be a COMPOUND's only op without SEQUENCE first */
#define OP4_CHANGES 4u	    /* changes something: NFS4ERR_ROFS on a read-only export... */
#define OP4_NEED_SESSION 8u /* acts for a client: must follow SEQUENCE */

struct nfs4_op_desc {
	const char *name;
	nfs4_op_fn fn;
	unsigned flags;
};

/* The table, by operation number (compound.c); fn NULL: NFS4ERR_NOTSUPP. */
const struct nfs4_op_desc *nfs4_op(nfs_opnum4 op);

/* ---- errmap4.c ---- */

/* A backend's -errno (or the kernel's internal codes, vfs.h) as nfsstat4. */
nfsstat4 nfs4_errno(int rc);

/* ---- ops_fh.c: the current filehandle ---- */

/* Make fh the current filehandle (resolving it, checking access). */
nfsstat4 nfs4_set_cur_fh(struct nfs4_cs *cs, const void *fh, unsigned len);
/* The same from a backend's new object (LOOKUP, OPEN, CREATE). */
nfsstat4 nfs4_set_cur_new(struct nfs4_cs *cs, const struct vfs_new *n);
/* The same from an object already resolved from fh: the current filehandle takes obj's reference. */
void nfs4_set_cur_obj(struct nfs4_cs *cs, struct vfs_obj *obj, const struct fh_buf *fh);
void nfs4_cs_release(struct nfs4_cs *cs);
/* No current filehandle any more (SECINFO consumes it). */
void nfs4_cs_release_cur(struct nfs4_cs *cs);
/* A name from the client (component4): 1..255 bytes, no '/' or NUL, as a C string in the arena. */
nfsstat4 nfs4_component(struct nfs4_cs *cs, const component4 *c, char **out);

/* The stateid an operation gave, with "current stateid" (seqid 1, other 0) substituted. */
nfsstat4 nfs4_stateid_in(struct nfs4_cs *cs, const stateid4 *in, struct st4_stateid *out);
/* An operation's new stateid: into its result and as the current stateid. */
void nfs4_stateid_out(struct nfs4_cs *cs, const struct st4_stateid *sid, stateid4 *out);

/* The client the COMPOUND acts for (its SEQUENCE's), NULL outside a session. */
static inline struct st4_client *nfs4_client(const struct nfs4_cs *cs)
{
	return cs->in_session ? cs->slot.client : NULL;
}

/* ---- ops_io.c: what the I/O and lock operations share ---- */

/* The state core's name for the file obj is. */
static inline struct st4_filekey nfs4_filekey(const struct vfs_obj *obj)
{
	return (struct st4_filekey){ .dev = (uint64_t)obj->st.st_dev,
				     .ino = (uint64_t)obj->st.st_ino };
}
/* OPEN, READ, WRITE, COMMIT and the locks act on regular files (RFC 8881 18.22.3's errors). */
nfsstat4 nfs4_regular_check(const struct vfs_obj *obj);

/* ---- the operations (ops_*.c) ---- */
#define OP4_DECL(name) nfsstat4 nfs4_op_##name(struct nfs4_cs *cs, nfs_argop4 *arg, nfs_resop4 *res)
OP4_DECL(putfh);
OP4_DECL(putrootfh);
OP4_DECL(putpubfh);
OP4_DECL(getfh);
OP4_DECL(savefh);
OP4_DECL(restorefh);
OP4_DECL(lookup);
OP4_DECL(lookupp);
OP4_DECL(exchange_id);
OP4_DECL(create_session);
OP4_DECL(sequence);
OP4_DECL(destroy_session);
OP4_DECL(destroy_clientid);
OP4_DECL(bind_conn_to_session);
OP4_DECL(reclaim_complete);
OP4_DECL(secinfo);
OP4_DECL(secinfo_no_name);
OP4_DECL(getattr);
OP4_DECL(setattr);
OP4_DECL(verify);
OP4_DECL(nverify);
OP4_DECL(access);
OP4_DECL(readdir);
OP4_DECL(readlink);
OP4_DECL(create);
OP4_DECL(remove);
OP4_DECL(rename);
OP4_DECL(link);
OP4_DECL(open);
OP4_DECL(open_downgrade);
OP4_DECL(close);
OP4_DECL(read);
OP4_DECL(write);
OP4_DECL(commit);
OP4_DECL(lock);
OP4_DECL(lockt);
OP4_DECL(locku);
OP4_DECL(test_stateid);
OP4_DECL(free_stateid);
OP4_DECL(delegreturn);

#endif
