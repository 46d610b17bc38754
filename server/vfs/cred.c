/*
 * Per-thread credentials. setfsuid/setfsgid are per thread in the kernel, and
 * so is the groups list when set with the raw syscall (glibc's setgroups()
 * would broadcast it to every thread). Dropping fsuid from 0 also drops the
 * filesystem capabilities, so the kernel checks each caller as itself.
 */
#define _GNU_SOURCE
#include "cred.h"

#include <errno.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool server_root;
static struct ids server_ids;

static __thread struct ids cur;
static __thread bool cur_valid;
static __thread int escalated;

void cred_init(void)
{
	server_root = geteuid() == 0;
	server_ids.uid = geteuid();
	server_ids.gid = getegid();
	server_ids.ngroups = 0;
}

bool cred_server_is_root(void)
{
	return server_root;
}

void cred_map(const struct rpc_cred *rc, const struct export_opts *opts, struct ids *out)
{
	memset(out, 0, sizeof(*out));
	if (!server_root) {
		/* Unprivileged: everyone acts as the server's user. */
		*out = server_ids;
		return;
	}
	bool anon = rc->flavor != RPC_AUTH_SYS || opts->all_squash ||
		    (rc->uid == 0 && opts->root_squash);
	if (anon) {
		out->uid = opts->anonuid;
		out->gid = opts->anongid;
		return;
	}
	/* -1 is no id to Linux (setfsuid only queries it): anonymous, as knfsd; no such group. */
	out->uid = rc->uid == UINT32_MAX ? opts->anonuid : rc->uid;
	out->gid = rc->gid == UINT32_MAX ? opts->anongid : rc->gid;
	for (uint32_t i = 0; i < rc->ngids; i++)
		if (rc->gids[i] != UINT32_MAX)
			out->groups[out->ngroups++] = rc->gids[i];
}

static bool ids_equal(const struct ids *a, const struct ids *b)
{
	return a->uid == b->uid && a->gid == b->gid && a->ngroups == b->ngroups &&
	       memcmp(a->groups, b->groups, a->ngroups * sizeof(gid_t)) == 0;
}

static int switch_to(const struct ids *ids)
{
	/* Groups first: once fsuid is not 0 we keep CAP_SETGID, but be tidy. */
	if (syscall(SYS_setgroups, (size_t)ids->ngroups, ids->groups) < 0)
		return -errno;
	syscall(SYS_setfsgid, ids->gid);
	syscall(SYS_setfsuid, ids->uid);
	/* setfs*id report the previous value, not errors: verify. */
	if ((uid_t)syscall(SYS_setfsuid, -1) != ids->uid ||
	    (gid_t)syscall(SYS_setfsgid, -1) != ids->gid)
		return -EPERM;
	return 0;
}

int cred_apply(const struct ids *ids)
{
	if (!server_root)
		return 0;
	if (cur_valid && ids_equal(&cur, ids))
		return 0;
	int rc = switch_to(ids);
	if (rc == 0) {
		cur = *ids;
		cur_valid = true;
	} else {
		cur_valid = false;
	}
	return rc;
}

const struct ids *cred_current(void)
{
	return server_root && cur_valid ? &cur : &server_ids;
}

void cred_escalate(void)
{
	if (!server_root || escalated++ > 0)
		return;
	if (cur_valid && cur.uid == 0 && cur.gid == 0)
		return;
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, 0);
}

void cred_restore(void)
{
	if (!server_root || --escalated > 0)
		return;
	if (cur_valid) {
		syscall(SYS_setfsgid, cur.gid);
		syscall(SYS_setfsuid, cur.uid);
	}
}
