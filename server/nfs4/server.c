/*
 * One NFSv4.1 server's state: its limits, its clock and boot verifier, the
 * sweep. Everything lives in struct st4_server rather than in globals so
 * that a test can run several servers (a restart is a second one on the
 * same state directory) side by side.
 */
#include "st4_int.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void apply_defaults(struct st4_config *c)
{
	if (!c->lease_seconds)
		c->lease_seconds = 90;
	if (!c->grace_seconds)
		c->grace_seconds = c->lease_seconds;
	if (!c->max_clients)
		c->max_clients = 1024;
	if (!c->max_sessions_per_client)
		c->max_sessions_per_client = 4;
	if (!c->max_states_per_client)
		c->max_states_per_client = 4096;
	if (!c->max_locks_per_client)
		c->max_locks_per_client = 8192;
	if (!c->max_slots)
		c->max_slots = 64;
	if (!c->max_request_size)
		c->max_request_size = (1u << 20) + 4096;
	if (!c->max_response_size)
		c->max_response_size = (1u << 20) + 4096;
	if (!c->max_response_cached)
		c->max_response_cached = 8192;
	if (!c->max_reply_cache_bytes)
		c->max_reply_cache_bytes = 64ull << 20;
	if (!c->max_operations)
		c->max_operations = 32;
}

/*
 * Nonzero and unlikely to repeat: clientids, session ids and stateids of an
 * earlier run carry another one, which is how they are told apart.
 */
static uint32_t new_boot_verifier(void)
{
	uint32_t b;
	do
		b = randombytes_random();
	while (b == 0);
	return b;
}

struct st4_server *st4_server_new(const struct st4_config *cfg, int *err)
{
	struct st4_server *srv = calloc(1, sizeof(*srv));
	if (!srv) {
		*err = -ENOMEM;
		return NULL;
	}
	srv->cfg = *cfg;
	srv->cfg.state_dir = NULL; /* not kept: the caller's string */
	apply_defaults(&srv->cfg);
	srv->boot = cfg->boot_verifier ? cfg->boot_verifier : new_boot_verifier();
	srv->db_fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->db_lock, NULL);
	if (cfg->state_dir) {
		srv->cfg.state_dir = cfg->state_dir;
		int rc = st4_db_open(srv);
		if (rc == 0)
			rc = st4_grace_start(srv);
		srv->cfg.state_dir = NULL;
		if (rc < 0) {
			st4_server_free(srv);
			*err = rc;
			return NULL;
		}
	}
	*err = 0;
	return srv;
}

void st4_server_free(struct st4_server *srv)
{
	if (!srv)
		return;
	st4_client_free_all(srv);
	st4_grace_free(srv);
	st4_db_close(srv);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->db_lock);
	free(srv);
}

uint64_t st4_now(const struct st4_server *srv)
{
	if (srv->cfg.now_ns)
		return srv->cfg.now_ns(srv->cfg.clock_arg);
	return mono_ns();
}

uint64_t st4_lease_ns(const struct st4_server *srv)
{
	return (uint64_t)srv->cfg.lease_seconds * 1000000000u;
}

uint32_t st4_lease_seconds(const struct st4_server *srv)
{
	return srv->cfg.lease_seconds;
}

/* Expired clients, a few at a time: each is finished with srv->lock released. */
static void reap_expired(struct st4_server *srv)
{
	for (;;) {
		struct st4_client *batch[16];
		unsigned n = 0;
		pthread_mutex_lock(&srv->lock);
		uint64_t now = st4_now(srv);
		for (struct st4_client *c = srv->clients; c && n < 16; c = c->next)
			if (st4_client_expired_locked(srv, c, now))
				batch[n++] = c;
		for (unsigned i = 0; i < n; i++)
			st4_client_unhash_locked(srv, batch[i], true);
		pthread_mutex_unlock(&srv->lock);
		for (unsigned i = 0; i < n; i++)
			st4_client_finish(srv, batch[i]);
		if (n < 16)
			return;
	}
}

void st4_reap(struct st4_server *srv)
{
	reap_expired(srv);
	st4_grace_cleanup(srv);
}

unsigned st4_client_count(struct st4_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	unsigned n = srv->nclients;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

const char *st4_status_name(enum st4_status st)
{
	switch (st) {
	case ST4_OK:
		return "NFS4_OK";
	case ST4_ERR_PERM:
		return "NFS4ERR_PERM";
	case ST4_ERR_NOENT:
		return "NFS4ERR_NOENT";
	case ST4_ERR_IO:
		return "NFS4ERR_IO";
	case ST4_ERR_INVAL:
		return "NFS4ERR_INVAL";
	case ST4_ERR_TOOSMALL:
		return "NFS4ERR_TOOSMALL";
	case ST4_ERR_SERVERFAULT:
		return "NFS4ERR_SERVERFAULT";
	case ST4_ERR_DELAY:
		return "NFS4ERR_DELAY";
	case ST4_ERR_DENIED:
		return "NFS4ERR_DENIED";
	case ST4_ERR_EXPIRED:
		return "NFS4ERR_EXPIRED";
	case ST4_ERR_LOCKED:
		return "NFS4ERR_LOCKED";
	case ST4_ERR_GRACE:
		return "NFS4ERR_GRACE";
	case ST4_ERR_SHARE_DENIED:
		return "NFS4ERR_SHARE_DENIED";
	case ST4_ERR_CLID_INUSE:
		return "NFS4ERR_CLID_INUSE";
	case ST4_ERR_RESOURCE:
		return "NFS4ERR_RESOURCE";
	case ST4_ERR_STALE_CLIENTID:
		return "NFS4ERR_STALE_CLIENTID";
	case ST4_ERR_OLD_STATEID:
		return "NFS4ERR_OLD_STATEID";
	case ST4_ERR_BAD_STATEID:
		return "NFS4ERR_BAD_STATEID";
	case ST4_ERR_NOT_SAME:
		return "NFS4ERR_NOT_SAME";
	case ST4_ERR_NO_GRACE:
		return "NFS4ERR_NO_GRACE";
	case ST4_ERR_LOCKS_HELD:
		return "NFS4ERR_LOCKS_HELD";
	case ST4_ERR_OPENMODE:
		return "NFS4ERR_OPENMODE";
	case ST4_ERR_ADMIN_REVOKED:
		return "NFS4ERR_ADMIN_REVOKED";
	case ST4_ERR_BADSESSION:
		return "NFS4ERR_BADSESSION";
	case ST4_ERR_BADSLOT:
		return "NFS4ERR_BADSLOT";
	case ST4_ERR_COMPLETE_ALREADY:
		return "NFS4ERR_COMPLETE_ALREADY";
	case ST4_ERR_CONN_NOT_BOUND_TO_SESSION:
		return "NFS4ERR_CONN_NOT_BOUND_TO_SESSION";
	case ST4_ERR_SEQ_MISORDERED:
		return "NFS4ERR_SEQ_MISORDERED";
	case ST4_ERR_REP_TOO_BIG_TO_CACHE:
		return "NFS4ERR_REP_TOO_BIG_TO_CACHE";
	case ST4_ERR_RETRY_UNCACHED_REP:
		return "NFS4ERR_RETRY_UNCACHED_REP";
	case ST4_ERR_CLIENTID_BUSY:
		return "NFS4ERR_CLIENTID_BUSY";
	case ST4_ERR_DELEG_REVOKED:
		return "NFS4ERR_DELEG_REVOKED";
	}
	return "NFS4ERR_?";
}
