/*
 * MOUNT v1 and v3 (RFC 1813 appendix I) over the shared export table. v1 is
 * served for showmount and friends; its MNT would need an NFSv2 handle,
 * which this server does not issue, so it answers with an error.
 */
#include "access.h"
#include "export.h"
#include "exports_conf.h"
#include "log.h"
#include "mount_prot.h"
#include "req.h"
#include "vfs.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MOUNTLIST_MAX 4096

struct mount_entry {
	char host[NI_MAXHOST];
	char dir[MNTPATHLEN + 1];
};

static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;
static struct mount_entry *mounts;
static unsigned nmounts;

static void peer_host(const struct req *req, char *out, size_t len)
{
	const struct rpc_peer *p = req->call->peer;
	if (getnameinfo((const struct sockaddr *)&p->addr, p->addrlen, out, (socklen_t)len, NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(out, len, "unknown");
}

static void mountlist_add(const char *host, const char *dir)
{
	pthread_mutex_lock(&mlock);
	for (unsigned i = 0; i < nmounts; i++) {
		if (strcmp(mounts[i].host, host) == 0 && strcmp(mounts[i].dir, dir) == 0) {
			pthread_mutex_unlock(&mlock);
			return;
		}
	}
	if (nmounts < MOUNTLIST_MAX) {
		struct mount_entry *n = realloc(mounts, (nmounts + 1) * sizeof(*mounts));
		if (n) {
			mounts = n;
			snprintf(mounts[nmounts].host, sizeof(mounts[nmounts].host), "%s", host);
			snprintf(mounts[nmounts].dir, sizeof(mounts[nmounts].dir), "%s", dir);
			nmounts++;
		}
	}
	pthread_mutex_unlock(&mlock);
}

/* Remove entries for host (and dir, when given). */
static void mountlist_remove(const char *host, const char *dir)
{
	pthread_mutex_lock(&mlock);
	for (unsigned i = 0; i < nmounts;) {
		if (strcmp(mounts[i].host, host) == 0 && (!dir || strcmp(mounts[i].dir, dir) == 0))
			mounts[i] = mounts[--nmounts];
		else
			i++;
	}
	pthread_mutex_unlock(&mlock);
}

static void mnt_null(struct req *req, void *args, void *res)
{
}

static mountstat3 mnt_errno(int e)
{
	switch (e) {
	case ENOENT:
		return MNT3ERR_NOENT;
	case ENOTDIR:
		return MNT3ERR_NOTDIR;
	case EACCES:
		return MNT3ERR_ACCES;
	case EPERM:
		return MNT3ERR_PERM;
	case ENAMETOOLONG:
		return MNT3ERR_NAMETOOLONG;
	case EINVAL:
		return MNT3ERR_INVAL;
	case EXDEV:
		return MNT3ERR_ACCES; /* would leave the export */
	default:
		return MNT3ERR_IO;
	}
}

static void mnt3_mnt(struct req *req, void *argp, void *resp)
{
	dirpath *path = argp;
	mountres3 *res = resp;
	const char *sub;
	char host[NI_MAXHOST];
	peer_host(req, host, sizeof(host));
	struct export *ex = export_table_find(req_table(req), *path, &sub);
	if (!ex) {
		log_info("MNT %s from %s refused: not exported", *path, host);
		res->fhs_status = MNT3ERR_NOENT;
		return;
	}
	const struct export_opts *opts;
	int denied = access_check(req, ex, &opts);
	if (denied) {
		/* rpc.mountd answers both with ACCES; the log tells them apart. */
		log_warn("MNT %s from %s refused: %s", *path, host,
			 denied == -EPERM ? "unprivileged source port (the export is secure)"
					  : "not exported to this client");
		res->fhs_status = denied == -EJUKEBOX ? MNT3ERR_SERVERFAULT : MNT3ERR_ACCES;
		return;
	}
	struct fh_buf *b = req_alloc(req, sizeof(*b));
	struct vfs_new n;
	int rc = b ? vfs_mount_lookup(ex, sub, &n) : -ENOMEM;
	if (rc == 0 && !S_ISDIR(n.st.st_mode))
		rc = -ENOTDIR;
	if (rc != 0) {
		res->fhs_status = rc == -ENOMEM ? MNT3ERR_SERVERFAULT : mnt_errno(-rc);
		return;
	}
	*b = n.fh;
	res->fhs_status = MNT3_OK;
	mountres3_ok *ok = &res->mountres3_u.mountinfo;
	ok->fhandle.fhandle3_len = b->len;
	ok->fhandle.fhandle3_val = (char *)b->data;
	int *flavors = req_alloc(req, sizeof(int));
	if (flavors) {
		flavors[0] = RPC_AUTH_SYS;
		ok->auth_flavors.auth_flavors_len = 1;
		ok->auth_flavors.auth_flavors_val = flavors;
	}
	mountlist_add(host, *path);
	log_info("%s mounted %s", host, *path);
}

static void mnt1_mnt(struct req *req, void *argp, void *resp)
{
	fhstatus1 *res = resp;
	log_info("MOUNT v1 MNT %s refused: NFSv2 is not served, mount with NFSv3",
		 *(dirpath *)argp);
	res->fhs_status = EACCES;
}

static void mnt_dump(struct req *req, void *argp, void *resp)
{
	mountlist *res = resp;
	mountlist *tail = res;
	pthread_mutex_lock(&mlock);
	for (unsigned i = 0; i < nmounts; i++) {
		struct mountbody *b = req_alloc(req, sizeof(*b));
		if (!b)
			break;
		b->ml_hostname = req_strdup(req, mounts[i].host, strlen(mounts[i].host));
		b->ml_directory = req_strdup(req, mounts[i].dir, strlen(mounts[i].dir));
		if (!b->ml_hostname || !b->ml_directory)
			break;
		*tail = b;
		tail = &b->ml_next;
	}
	pthread_mutex_unlock(&mlock);
}

static void mnt_umnt(struct req *req, void *argp, void *resp)
{
	char host[NI_MAXHOST];
	peer_host(req, host, sizeof(host));
	mountlist_remove(host, *(dirpath *)argp);
}

static void mnt_umntall(struct req *req, void *argp, void *resp)
{
	char host[NI_MAXHOST];
	peer_host(req, host, sizeof(host));
	mountlist_remove(host, NULL);
}

/* Each export with its client list as written, as rpc.mountd answers showmount -e. */
static groups export_groups(struct req *req, const struct xc_export *spec)
{
	groups head = NULL, *tail = &head;
	for (unsigned i = 0; spec && i < spec->nclients; i++) {
		struct groupnode *g = req_alloc(req, sizeof(*g));
		if (!g)
			break;
		g->gr_name = spec->clients[i].text;
		*tail = g;
		tail = &g->gr_next;
	}
	return head;
}

static void mnt_export(struct req *req, void *argp, void *resp)
{
	exports *res = resp;
	exports *tail = res;
	for (unsigned i = 0; i < export_table_count(req_table(req)); i++) {
		struct exportnode *n = req_alloc(req, sizeof(*n));
		if (!n)
			break;
		n->ex_dir = export_table_get(req_table(req), i)->path;
		n->ex_groups = export_groups(req, export_table_spec(req_table(req), i));
		*tail = n;
		tail = &n->ex_next;
	}
}

/*
 * Results are built in the request arena, so nothing here is freed by
 * xdr_free: the void-result procedures use xdr_void for both.
 */
#define MPROC_F(NAME, fn, xa, sa, xr, sr, flags)                            \
	{                                                                   \
		NAME, (xdrproc_t)xa, sa, (xdrproc_t)xr, sr, fn, flags, NULL \
	}
#define MPROC(NAME, fn, xa, sa, xr, sr) MPROC_F(NAME, fn, xa, sa, xr, sr, 0)
/* MNT's result begins with its status; the others' are lists or void. */
#define MPROC_STATUS(NAME, fn, xa, sa, xr, sr) MPROC_F(NAME, fn, xa, sa, xr, sr, PROC_STATUS)

static const struct proc_desc mount1_procs[] = {
	[MOUNTPROC1_NULL] = MPROC("MNT1_NULL", mnt_null, xdr_nothing, 0, xdr_nothing, 0),
	[MOUNTPROC1_MNT] = MPROC_STATUS("MNT1_MNT", mnt1_mnt, xdr_dirpath, sizeof(dirpath),
					xdr_fhstatus1, sizeof(fhstatus1)),
	[MOUNTPROC1_DUMP] =
		MPROC("MNT1_DUMP", mnt_dump, xdr_nothing, 0, xdr_mountlist, sizeof(mountlist)),
	[MOUNTPROC1_UMNT] =
		MPROC("MNT1_UMNT", mnt_umnt, xdr_dirpath, sizeof(dirpath), xdr_nothing, 0),
	[MOUNTPROC1_UMNTALL] = MPROC("MNT1_UMNTALL", mnt_umntall, xdr_nothing, 0, xdr_nothing, 0),
	[MOUNTPROC1_EXPORT] =
		MPROC("MNT1_EXPORT", mnt_export, xdr_nothing, 0, xdr_exports, sizeof(exports)),
};

static const struct proc_desc mount3_procs[] = {
	[MOUNTPROC3_NULL] = MPROC("MNT3_NULL", mnt_null, xdr_nothing, 0, xdr_nothing, 0),
	[MOUNTPROC3_MNT] = MPROC_STATUS("MNT3_MNT", mnt3_mnt, xdr_dirpath, sizeof(dirpath),
					xdr_mountres3, sizeof(mountres3)),
	[MOUNTPROC3_DUMP] =
		MPROC("MNT3_DUMP", mnt_dump, xdr_nothing, 0, xdr_mountlist, sizeof(mountlist)),
	[MOUNTPROC3_UMNT] =
		MPROC("MNT3_UMNT", mnt_umnt, xdr_dirpath, sizeof(dirpath), xdr_nothing, 0),
	[MOUNTPROC3_UMNTALL] = MPROC("MNT3_UMNTALL", mnt_umntall, xdr_nothing, 0, xdr_nothing, 0),
	[MOUNTPROC3_EXPORT] =
		MPROC("MNT3_EXPORT", mnt_export, xdr_nothing, 0, xdr_exports, sizeof(exports)),
};

const struct prog_desc mount1_program = { MOUNT_PROGRAM, MOUNT_V1, mount1_procs,
					  sizeof(mount1_procs) / sizeof(mount1_procs[0]) };
const struct prog_desc mount3_program = { MOUNT_PROGRAM, MOUNT_V3, mount3_procs,
					  sizeof(mount3_procs) / sizeof(mount3_procs[0]) };

void mount_shutdown(void)
{
	pthread_mutex_lock(&mlock);
	free(mounts);
	mounts = NULL;
	nmounts = 0;
	pthread_mutex_unlock(&mlock);
}
