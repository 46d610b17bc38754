/*
 * The NFSv4.1 front end's life: its state core, made at start with the
 * lease and grace times and the state directory (client records for the
 * grace period after a restart), locks mirrored as OFD locks when the
 * kernel has them, the sweep, and the end.
 */
#include "nfs4_int.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_LEASE_S 90

int nfs4_init(const struct nfs4_config *cfg, char *err, size_t errlen)
{
	nfs4_g.enabled = cfg->enabled;
	if (!cfg->enabled)
		return 0;
	char dir[PATH_MAX];
	const char *state_dir = NULL;
	if (cfg->state_dir) {
		/* Beside the handle key, in a directory of its own. */
		snprintf(dir, sizeof(dir), "%s/nfs4", cfg->state_dir);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -errno;
		}
		state_dir = dir;
	}
	struct st4_config sc = {
		.lease_seconds = cfg->lease_seconds ? cfg->lease_seconds : DEFAULT_LEASE_S,
		.grace_seconds = cfg->grace_seconds,
		.state_dir = state_dir,
	};
	if (st4_ofd_probe() == 0) {
		sc.lock_hooks = &st4_ofd_hooks;
	} else {
		log_warn("the kernel has no OFD locks: NFSv4 locks exclude NFS clients only, "
			 "not processes working in the exported directories");
	}
	int rc = 0;
	nfs4_g.st = st4_server_new(&sc, &rc);
	if (!nfs4_g.st) {
		snprintf(err, errlen, "NFSv4.1 state: %s", strerror(-rc));
		return rc ? rc : -ENOMEM;
	}
	nfs4_g.lease_seconds = st4_lease_seconds(nfs4_g.st);
	if (st4_in_grace(nfs4_g.st))
		log_info(
			"NFSv4.1: grace period for clients of the last run to reclaim their state");
	return 0;
}

void nfs4_shutdown(void)
{
	st4_server_free(nfs4_g.st);
	nfs4_g.st = NULL;
}

void nfs4_reap(void)
{
	if (nfs4_g.st)
		st4_reap(nfs4_g.st);
}

bool nfs4_enabled(void)
{
	return nfs4_g.enabled && nfs4_g.st;
}

void nfs4_conn_closed(uint64_t conn_id)
{
	if (nfs4_g.st)
		st4_conn_closed(nfs4_g.st, conn_id);
}
