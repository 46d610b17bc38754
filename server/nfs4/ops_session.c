/*
 * The session operations (RFC 8881 18.33-18.51): rpcgen's arguments to
 * the state core's plain ones and back. The state core decides; these
 * only translate, and say who the caller is (its AUTH_SYS principal) and
 * which connection it came on.
 */
#include "nfs4_int.h"

#include "log.h"

#include <string.h>

/* The server's identity in EXCHANGE_ID: one server, one scope (RFC 8881 2.10.4). */
static const char server_major_id[] = "loopnfs";
static const char server_scope[] = "loopnfs";

static struct st4_principal principal_of(const struct nfs4_cs *cs)
{
	const struct rpc_cred *c = &cs->req->call->cred;
	return (struct st4_principal){ .flavor = c->flavor, .uid = c->uid };
}

static void chan_in(const channel_attrs4 *in, struct st4_chan_attrs *out)
{
	*out = (struct st4_chan_attrs){
		.headerpadsize = in->ca_headerpadsize,
		.maxrequestsize = in->ca_maxrequestsize,
		.maxresponsesize = in->ca_maxresponsesize,
		.maxresponsesize_cached = in->ca_maxresponsesize_cached,
		.maxoperations = in->ca_maxoperations,
		.maxrequests = in->ca_maxrequests,
	};
}

static void chan_out(const struct st4_chan_attrs *in, channel_attrs4 *out)
{
	memset(out, 0, sizeof(*out));
	out->ca_headerpadsize = in->headerpadsize;
	out->ca_maxrequestsize = in->maxrequestsize;
	out->ca_maxresponsesize = in->maxresponsesize;
	out->ca_maxresponsesize_cached = in->maxresponsesize_cached;
	out->ca_maxoperations = in->maxoperations;
	out->ca_maxrequests = in->maxrequests;
}

OP4_DECL(exchange_id)
{
	EXCHANGE_ID4args *a = &arg->nfs_argop4_u.opexchange_id;
	EXCHANGE_ID4resok *ok = &res->nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
	const client_owner4 *co = &a->eia_clientowner;
	if (co->co_ownerid.co_ownerid_len == 0 || co->co_ownerid.co_ownerid_len > ST4_OPAQUE_LIMIT)
		return NFS4ERR_INVAL;
	/* No SSV or machine-credential protection: AUTH_SYS only (18.35.4). */
	if (a->eia_state_protect.spa_how != SP4_NONE)
		return NFS4ERR_INVAL;
	if (a->eia_client_impl_id.eia_client_impl_id_len > 1)
		return NFS4ERR_BADXDR;
	struct st4_exchange_id_args sa = {
		.ownerid = (const uint8_t *)co->co_ownerid.co_ownerid_val,
		.ownerid_len = co->co_ownerid.co_ownerid_len,
		.flags = a->eia_flags,
		.principal = principal_of(cs),
	};
	memcpy(sa.verifier, co->co_verifier, sizeof(sa.verifier));
	struct st4_exchange_id_res sr;
	nfsstat4 st = (nfsstat4)st4_exchange_id(nfs4_g.st, &sa, &sr);
	if (st != NFS4_OK)
		return st;
	ok->eir_clientid = sr.clientid;
	ok->eir_sequenceid = sr.sequenceid;
	ok->eir_flags = sr.flags;
	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 0;
	ok->eir_server_owner.so_major_id.so_major_id_len = sizeof(server_major_id) - 1;
	ok->eir_server_owner.so_major_id.so_major_id_val = (char *)server_major_id;
	ok->eir_server_scope.eir_server_scope_len = sizeof(server_scope) - 1;
	ok->eir_server_scope.eir_server_scope_val = (char *)server_scope;
	ok->eir_server_impl_id.eir_server_impl_id_len = 0;
	return NFS4_OK;
}

OP4_DECL(create_session)
{
	CREATE_SESSION4args *a = &arg->nfs_argop4_u.opcreate_session;
	CREATE_SESSION4resok *ok =
		&res->nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4;
	struct st4_create_session_args sa = {
		.clientid = a->csa_clientid,
		.sequence = a->csa_sequence,
		.flags = a->csa_flags,
		.principal = principal_of(cs),
		.conn_id = cs->conn_id,
	};
	chan_in(&a->csa_fore_chan_attrs, &sa.fore);
	chan_in(&a->csa_back_chan_attrs, &sa.back);
	struct st4_create_session_res sr;
	nfsstat4 st = (nfsstat4)st4_create_session(nfs4_g.st, &sa, &sr);
	if (st != NFS4_OK)
		return st;
	memcpy(ok->csr_sessionid, sr.sessionid, sizeof(ok->csr_sessionid));
	ok->csr_sequence = sr.sequence;
	ok->csr_flags = sr.flags;
	chan_out(&sr.fore, &ok->csr_fore_chan_attrs);
	chan_out(&sr.back, &ok->csr_back_chan_attrs);
	return NFS4_OK;
}

/* The session's limits bound the rest of the COMPOUND. */
static void adopt_session_limits(struct nfs4_cs *cs, const uint8_t *sessionid)
{
	struct st4_chan_attrs fore;
	bool bound;
	if (st4_session_info(nfs4_g.st, sessionid, cs->conn_id, &fore, &bound) != ST4_OK)
		return;
	cs->max_ops = fore.maxoperations;
	cs->max_reply = fore.maxresponsesize;
}

OP4_DECL(sequence)
{
	SEQUENCE4args *a = &arg->nfs_argop4_u.opsequence;
	SEQUENCE4resok *ok = &res->nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4;
	struct st4_sequence_args sa = {
		.sequenceid = a->sa_sequenceid,
		.slotid = a->sa_slotid,
		.highest_slotid = a->sa_highest_slotid,
		.cachethis = a->sa_cachethis,
		.conn_id = cs->conn_id,
	};
	memcpy(sa.sessionid, a->sa_sessionid, sizeof(sa.sessionid));
	struct st4_sequence_res sr = { 0 };
	nfsstat4 st = (nfsstat4)st4_sequence(nfs4_g.st, &sa, &sr, &cs->slot);
	if (st != NFS4_OK)
		return st;
	if (sr.replay) {
		cs->replay = sr.replay;
		cs->replay_len = sr.replay_len;
		return NFS4_OK;
	}
	cs->in_session = true;
	adopt_session_limits(cs, (const uint8_t *)a->sa_sessionid);
	if (cs->numops > cs->max_ops)
		return NFS4ERR_TOO_MANY_OPS;
	memcpy(ok->sr_sessionid, a->sa_sessionid, sizeof(ok->sr_sessionid));
	ok->sr_sequenceid = a->sa_sequenceid;
	ok->sr_slotid = a->sa_slotid;
	ok->sr_highest_slotid = sr.highest_slotid;
	ok->sr_target_highest_slotid = sr.target_highest_slotid;
	ok->sr_status_flags = sr.status_flags;
	return NFS4_OK;
}

OP4_DECL(destroy_session)
{
	(void)res;
	const DESTROY_SESSION4args *a = &arg->nfs_argop4_u.opdestroy_session;
	return (nfsstat4)st4_destroy_session(nfs4_g.st, (const uint8_t *)a->dsa_sessionid,
					     cs->in_session ? &cs->slot : NULL, cs->conn_id);
}

OP4_DECL(destroy_clientid)
{
	(void)cs, (void)res;
	return (nfsstat4)st4_destroy_clientid(nfs4_g.st,
					      arg->nfs_argop4_u.opdestroy_clientid.dca_clientid);
}

OP4_DECL(bind_conn_to_session)
{
	const BIND_CONN_TO_SESSION4args *a = &arg->nfs_argop4_u.opbind_conn_to_session;
	BIND_CONN_TO_SESSION4resok *ok =
		&res->nfs_resop4_u.opbind_conn_to_session.BIND_CONN_TO_SESSION4res_u.bctsr_resok4;
	if (a->bctsa_use_conn_in_rdma_mode)
		return NFS4ERR_INVAL; /* no RDMA here */
	enum st4_conn_dir_res granted;
	nfsstat4 st =
		(nfsstat4)st4_bind_conn(nfs4_g.st, (const uint8_t *)a->bctsa_sessid, cs->conn_id,
					(enum st4_conn_dir)a->bctsa_dir, &granted);
	if (st != NFS4_OK)
		return st;
	memcpy(ok->bctsr_sessid, a->bctsa_sessid, sizeof(ok->bctsr_sessid));
	ok->bctsr_dir = (channel_dir_from_server4)granted;
	ok->bctsr_use_conn_in_rdma_mode = FALSE;
	return NFS4_OK;
}

OP4_DECL(reclaim_complete)
{
	(void)res;
	return (nfsstat4)st4_reclaim_complete(nfs4_g.st, nfs4_client(cs),
					      arg->nfs_argop4_u.opreclaim_complete.rca_one_fs);
}

/* AUTH_SYS is the one flavor served (sec=sys), for every object. */
static nfsstat4 secinfo_sys(struct nfs4_cs *cs, SECINFO4res *r)
{
	secinfo4 *flavors = req_alloc(cs->req, sizeof(*flavors));
	if (!flavors)
		return NFS4ERR_DELAY;
	flavors->flavor = RPC_AUTH_SYS;
	r->SECINFO4res_u.resok4.SECINFO4resok_len = 1;
	r->SECINFO4res_u.resok4.SECINFO4resok_val = flavors;
	return NFS4_OK;
}

OP4_DECL(secinfo)
{
	char *name;
	nfsstat4 st = nfs4_component(cs, &arg->nfs_argop4_u.opsecinfo.name, &name);
	if (st != NFS4_OK)
		return st;
	struct vfs_new n;
	int rc = vfs_lookup(cs->cur, name, &n);
	if (rc < 0)
		return nfs4_errno(rc);
	/* SECINFO consumes the current filehandle (18.29.3). */
	nfs4_cs_release_cur(cs);
	return secinfo_sys(cs, &res->nfs_resop4_u.opsecinfo);
}

OP4_DECL(secinfo_no_name)
{
	SECINFO_NO_NAME4args style = arg->nfs_argop4_u.opsecinfo_no_name;
	if (style == SECINFO_STYLE4_PARENT) {
		struct vfs_new n;
		int rc = vfs_lookup(cs->cur, "..", &n);
		if (rc < 0)
			return nfs4_errno(rc);
	}
	nfs4_cs_release_cur(cs);
	return secinfo_sys(cs, &res->nfs_resop4_u.opsecinfo_no_name);
}
