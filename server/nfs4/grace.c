/*
 * The grace period after a restart (RFC 8881 8.4.2, 18.51 RECLAIM_COMPLETE).
 * The client records found in the state directory say who held state
 * before: while grace lasts only they may reclaim (OPEN CLAIM_PREVIOUS,
 * LOCK reclaim) and nobody may take anything new, so no other client gets a
 * lock a reclaiming one had. It ends after grace_seconds, or as soon as
 * every recorded client has sent RECLAIM_COMPLETE. With no records there is
 * nothing to protect and no grace period at all. A client is recognised by
 * its co_ownerid alone: its verifier is new if it rebooted too, and then it
 * has nothing to reclaim and says so with RECLAIM_COMPLETE.
 */
#include "st4_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void grace_end_locked(struct st4_server *srv, const char *why)
{
	srv->grace = false;
	log_info("nfs4: grace period over (%s): %u of %u clients reclaimed", why, srv->ncomplete,
		 srv->nrec);
}

bool st4_grace_active_locked(struct st4_server *srv)
{
	if (srv->grace && st4_now(srv) >= srv->grace_end_ns)
		grace_end_locked(srv, "time");
	return srv->grace;
}

bool st4_in_grace(struct st4_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	bool g = st4_grace_active_locked(srv);
	pthread_mutex_unlock(&srv->lock);
	return g;
}

enum st4_status st4_grace_check_locked(struct st4_server *srv, struct st4_client *c, bool reclaim)
{
	bool grace = st4_grace_active_locked(srv);
	if (reclaim)
		return grace && c->may_reclaim && !c->reclaim_complete ? ST4_OK : ST4_ERR_NO_GRACE;
	if (grace)
		return ST4_ERR_GRACE;
	/* 18.51.3: no new lock before the client said it is done reclaiming. */
	return c->reclaim_complete ? ST4_OK : ST4_ERR_GRACE;
}

enum st4_status st4_grace_check(struct st4_server *srv, struct st4_client *c, bool reclaim)
{
	pthread_mutex_lock(&srv->lock);
	enum st4_status st = c->dead ? ST4_ERR_EXPIRED : st4_grace_check_locked(srv, c, reclaim);
	pthread_mutex_unlock(&srv->lock);
	return st;
}

static struct st4_reclaimer *reclaimer_of(struct st4_server *srv, const struct st4_client *c)
{
	for (unsigned i = 0; i < srv->nrec; i++) {
		struct st4_reclaimer *r = &srv->rec[i];
		if (r->ownerid_len == c->ownerid_len &&
		    memcmp(r->ownerid, c->ownerid, c->ownerid_len) == 0)
			return r;
	}
	return NULL;
}

void st4_grace_client_confirmed_locked(struct st4_server *srv, struct st4_client *c)
{
	if (!st4_grace_active_locked(srv))
		return;
	struct st4_reclaimer *r = reclaimer_of(srv, c);
	if (r) {
		r->returned = true;
		c->may_reclaim = true;
	}
}

enum st4_status st4_reclaim_complete(struct st4_server *srv, struct st4_client *c, bool one_fs)
{
	enum st4_status status = ST4_OK;
	pthread_mutex_lock(&srv->lock);
	if (c->dead) {
		status = ST4_ERR_EXPIRED;
	} else if (one_fs) {
		/* every file system is recovered with the server: nothing per file system */
	} else if (c->reclaim_complete) {
		status = ST4_ERR_COMPLETE_ALREADY;
	} else {
		c->reclaim_complete = true;
		struct st4_reclaimer *r = c->may_reclaim ? reclaimer_of(srv, c) : NULL;
		if (r && !r->complete) {
			r->complete = true;
			srv->ncomplete++;
			if (st4_grace_active_locked(srv) && srv->ncomplete == srv->nrec)
				grace_end_locked(srv, "every client reclaimed");
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return status;
}

int st4_grace_start(struct st4_server *srv)
{
	struct st4_record *recs = NULL;
	unsigned n = 0;
	int rc = st4_db_load(srv, &recs, &n, srv->cfg.max_clients);
	if (rc < 0)
		return rc;
	if (n == 0) {
		free(recs);
		return 0;
	}
	srv->rec = calloc(n, sizeof(*srv->rec));
	if (!srv->rec) {
		for (unsigned i = 0; i < n; i++)
			free(recs[i].ownerid);
		free(recs);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		srv->rec[i].ownerid = recs[i].ownerid;
		srv->rec[i].ownerid_len = recs[i].ownerid_len;
	}
	free(recs);
	srv->nrec = n;
	srv->grace = true;
	srv->grace_end_ns = st4_now(srv) + (uint64_t)srv->cfg.grace_seconds * 1000000000u;
	log_info("nfs4: %u client records from the last run: grace period of %u s", n,
		 srv->cfg.grace_seconds);
	return 0;
}

void st4_grace_cleanup(struct st4_server *srv)
{
	for (unsigned i = 0;; i++) {
		pthread_mutex_lock(&srv->lock);
		if (i >= srv->nrec || st4_grace_active_locked(srv)) {
			pthread_mutex_unlock(&srv->lock);
			return;
		}
		struct st4_reclaimer *r = &srv->rec[i];
		bool forget = !r->returned && !r->removed;
		r->removed = true;
		pthread_mutex_unlock(&srv->lock);
		/* The array is fixed once loaded: r stays valid unlocked. */
		if (forget)
			st4_db_sync(srv, r->ownerid, r->ownerid_len);
	}
}

void st4_grace_free(struct st4_server *srv)
{
	for (unsigned i = 0; i < srv->nrec; i++)
		free(srv->rec[i].ownerid);
	free(srv->rec);
	srv->rec = NULL;
	srv->nrec = 0;
}
