/*
 * NFSv3 workloads over libnfs's raw async RPC API.
 *
 * Each connection is one rpc_context driven by its own thread with poll();
 * each keeps exactly --qd requests (or multi-RPC logical operations)
 * outstanding until its work runs out.  Every reply is checked: RPC status,
 * nfsstat3 == NFS3_OK, counts, file types/sizes, write verifiers, and read
 * data against the deterministic pattern written earlier.  Any deviation
 * calls die() (exit status 2).
 *
 * Read-only mode (--read-file, --list-dir) reads a tree made beforehand,
 * e.g. through an encrypted view where nothing can be written and names
 * are not ours: the file's bytes are checked against an untimed first pass,
 * each listing against an untimed first listing.
 */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#define FH_MAX 64
#define SMALL_FILE_SIZE 4096

struct fh {
	uint32_t len;
	char data[FH_MAX];
};

enum wk {
	W_NULL,
	W_SEQWRITE,
	W_SEQREAD,
	W_RANDREAD,
	W_CREATE,
	W_STAT,
	W_READDIR,
	W_REMOVE,
	W_MIXED, /* pseudo kind: expands to the two below */
	W_MIX_WRITE,
	W_MIX_GETATTR,
};

static const struct {
	const char *name;
	enum wk kind;
} workloads[] = {
	{"null", W_NULL},       {"seqwrite", W_SEQWRITE}, {"seqread", W_SEQREAD},
	{"randread", W_RANDREAD}, {"create", W_CREATE},   {"stat", W_STAT},
	{"readdir", W_READDIR}, {"remove", W_REMOVE},     {"mixed", W_MIXED},
};

struct conn;

struct slot {
	struct conn *c;
	uint64_t t0;  /* start of the logical operation */
	uint64_t t1;  /* start of the current RPC (readdir) */
	uint64_t off;
	uint64_t idx;
	uint64_t cookie;
	uint64_t listed;
	uint64_t names; /* sum of the listed names' hashes (--list-dir) */
	uint32_t len;
	struct fh fh;
	char verf[NFS3_COOKIEVERFSIZE];
	char name[32];
};

struct conn {
	int id;
	enum wk kind;
	struct rpc_context *rpc;
	struct slot *slots;
	int *freelist;
	int nfree;
	int inflight;
	struct hist h;  /* per logical op (per RPC for readdir) */
	struct hist hc; /* COMMIT latency */
	uint64_t ops, bytes, entries, listings, commits;
	uint64_t started; /* listings begun (one only in the untimed first one) */
	uint64_t last_progress;
	uint64_t rng;
	/* sequential write/read state */
	uint64_t lo, hi, next;
	uint64_t region_lo, region_end;
	int writes_inflight;
	int commit_inflight;
	int have_verf;
	char verf[NFS3_WRITEVERFSIZE];
	uint64_t t_done;
	pthread_t th;
};

/* ---- global state ---- */
static struct rpc_context *g_ctl; /* control connection, main thread only */
static struct fh g_root, g_work, g_files, g_seq, g_mix;
static char g_workname[64];
static int g_have_seq;
static uint64_t g_seq_size;     /* bytes of seqfile holding the pattern */
static uint64_t g_nfiles;       /* small files currently present */
static uint32_t g_bs;           /* effective seq I/O size */
static uint64_t g_deadline;
static uint64_t g_t_start;
static _Atomic uint64_t g_next_idx;
static uint64_t g_target_files;
static atomic_int g_mix_done;
static uint64_t g_seq_seed, g_small_seed, g_mix_seed;
/* Read-only mode: the first pass's copy of --read-file, and what the first
 * listing of --list-dir showed. g_loading marks those untimed passes. */
static int g_loading;
static uint8_t *g_ref;
static char g_ref_extra[96];
static int g_have_list;
static uint64_t g_list_count, g_list_names;

static const char *nfsstat_str(int s)
{
	switch (s) {
	case NFS3_OK: return "NFS3_OK";
	case NFS3ERR_PERM: return "NFS3ERR_PERM";
	case NFS3ERR_NOENT: return "NFS3ERR_NOENT";
	case NFS3ERR_IO: return "NFS3ERR_IO";
	case NFS3ERR_NXIO: return "NFS3ERR_NXIO";
	case NFS3ERR_ACCES: return "NFS3ERR_ACCES";
	case NFS3ERR_EXIST: return "NFS3ERR_EXIST";
	case NFS3ERR_XDEV: return "NFS3ERR_XDEV";
	case NFS3ERR_NODEV: return "NFS3ERR_NODEV";
	case NFS3ERR_NOTDIR: return "NFS3ERR_NOTDIR";
	case NFS3ERR_ISDIR: return "NFS3ERR_ISDIR";
	case NFS3ERR_INVAL: return "NFS3ERR_INVAL";
	case NFS3ERR_FBIG: return "NFS3ERR_FBIG";
	case NFS3ERR_NOSPC: return "NFS3ERR_NOSPC";
	case NFS3ERR_ROFS: return "NFS3ERR_ROFS";
	case NFS3ERR_MLINK: return "NFS3ERR_MLINK";
	case NFS3ERR_NAMETOOLONG: return "NFS3ERR_NAMETOOLONG";
	case NFS3ERR_NOTEMPTY: return "NFS3ERR_NOTEMPTY";
	case NFS3ERR_DQUOT: return "NFS3ERR_DQUOT";
	case NFS3ERR_STALE: return "NFS3ERR_STALE";
	case NFS3ERR_REMOTE: return "NFS3ERR_REMOTE";
	case NFS3ERR_BADHANDLE: return "NFS3ERR_BADHANDLE";
	case NFS3ERR_NOT_SYNC: return "NFS3ERR_NOT_SYNC";
	case NFS3ERR_BAD_COOKIE: return "NFS3ERR_BAD_COOKIE";
	case NFS3ERR_NOTSUPP: return "NFS3ERR_NOTSUPP";
	case NFS3ERR_TOOSMALL: return "NFS3ERR_TOOSMALL";
	case NFS3ERR_SERVERFAULT: return "NFS3ERR_SERVERFAULT";
	case NFS3ERR_BADTYPE: return "NFS3ERR_BADTYPE";
	case NFS3ERR_JUKEBOX: return "NFS3ERR_JUKEBOX";
	default: return "NFS3ERR_?";
	}
}

static void fh_set(struct fh *d, const nfs_fh3 *s, const char *what)
{
	if (s->data.data_len == 0 || s->data.data_len > FH_MAX)
		die("%s: bad file handle length %u", what, s->data.data_len);
	d->len = s->data.data_len;
	memcpy(d->data, s->data.data_val, d->len);
}

static nfs_fh3 fh3(const struct fh *f)
{
	nfs_fh3 r;
	r.data.data_len = f->len;
	r.data.data_val = (char *)f->data;
	return r;
}

static void check_rpc(int status, void *data, const char *what, const char *name)
{
	if (status == RPC_STATUS_SUCCESS)
		return;
	die("%s%s%s: RPC failed: %s", what, name ? " " : "", name ? name : "",
	    status == RPC_STATUS_ERROR && data ? (const char *)data
	    : status == RPC_STATUS_CANCEL ? "cancelled"
	    : status == RPC_STATUS_TIMEOUT ? "timed out" : "unknown error");
}

static void check_nfs(int nstat, const char *what, const char *name)
{
	if (nstat == NFS3_OK)
		return;
	die("%s%s%s: server returned %s (%d)", what, name ? " " : "", name ? name : "",
	    nfsstat_str(nstat), nstat);
}

static void queued(int rc, struct rpc_context *rpc, const char *what)
{
	if (rc != 0)
		die("could not queue %s: %s", what, rpc_get_error(rpc));
}

/* ---- synchronous helpers (control connection) ---- */

struct sop {
	int done;
	int nstat;
	int have_fh;
	struct fh fh;
	const char *what;
	const char *name;
	fattr3 attr;
	uint32_t rtmax, wtmax;
};

static void wait_done(struct rpc_context *rpc, int *done, const char *what)
{
	uint64_t start = now_ns();
	while (!*done) {
		struct pollfd p = {.fd = rpc_get_fd(rpc), .events = (short)rpc_which_events(rpc)};
		int r = poll(&p, 1, 200);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (rpc_service(rpc, r > 0 ? p.revents : 0) < 0)
			die("%s: connection failed: %s", what, rpc_get_error(rpc));
		if (!*done && (double)(now_ns() - start) / 1e9 > g_opt.timeout)
			die("%s: no reply within %.0f s", what, g_opt.timeout);
	}
}

static void cb_connect(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	if (status != RPC_STATUS_SUCCESS)
		die("connect to %s port %s failed: %s", g_opt.host, op->name,
		    data ? (const char *)data : "?");
	op->done = 1;
}

static struct rpc_context *connect_port(int port)
{
	struct rpc_context *rpc = rpc_init_context();
	if (!rpc)
		die("rpc_init_context failed");
	char pbuf[16];
	snprintf(pbuf, sizeof(pbuf), "%d", port);
	struct sop op = {.what = "connect", .name = pbuf};
	if (rpc_connect_async(rpc, g_opt.host, port, cb_connect, &op) != 0)
		die("connect to %s port %d failed: %s", g_opt.host, port, rpc_get_error(rpc));
	wait_done(rpc, &op.done, "connect");
	/* As the kernel's RPC client does; libnfs leaves Nagle on. */
	int one = 1;
	if (!getenv("LOOPNFS_BENCH_NAGLE"))
		setsockopt(rpc_get_fd(rpc), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return rpc;
}

static void cb_mnt(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "MOUNT3 MNT", op->name);
	mountres3 *r = data;
	if (r->fhs_status != MNT3_OK)
		die("MOUNT3 MNT %s: server returned mountstat3 %d", op->name, (int)r->fhs_status);
	nfs_fh3 f;
	f.data.data_len = r->mountres3_u.mountinfo.fhandle.fhandle3_len;
	f.data.data_val = r->mountres3_u.mountinfo.fhandle.fhandle3_val;
	fh_set(&op->fh, &f, "MOUNT3 MNT");
	op->done = 1;
}

static void cb_fsinfo(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "FSINFO", NULL);
	FSINFO3res *r = data;
	check_nfs(r->status, "FSINFO", NULL);
	op->rtmax = r->FSINFO3res_u.resok.rtmax;
	op->wtmax = r->FSINFO3res_u.resok.wtmax;
	op->done = 1;
}

static void cb_sync_lookup(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "LOOKUP", op->name);
	LOOKUP3res *r = data;
	op->nstat = r->status;
	if (r->status == NFS3_OK) {
		fh_set(&op->fh, &r->LOOKUP3res_u.resok.object, "LOOKUP");
		op->have_fh = 1;
	}
	op->done = 1;
}

static void cb_sync_mkdir(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "MKDIR", op->name);
	MKDIR3res *r = data;
	op->nstat = r->status;
	if (r->status == NFS3_OK && r->MKDIR3res_u.resok.obj.handle_follows) {
		fh_set(&op->fh, &r->MKDIR3res_u.resok.obj.post_op_fh3_u.handle, "MKDIR");
		op->have_fh = 1;
	}
	op->done = 1;
}

static void cb_sync_create(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "CREATE", op->name);
	CREATE3res *r = data;
	op->nstat = r->status;
	if (r->status == NFS3_OK && r->CREATE3res_u.resok.obj.handle_follows) {
		fh_set(&op->fh, &r->CREATE3res_u.resok.obj.post_op_fh3_u.handle, "CREATE");
		op->have_fh = 1;
	}
	op->done = 1;
}

static void cb_sync_remove(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "REMOVE", op->name);
	op->nstat = ((REMOVE3res *)data)->status;
	op->done = 1;
}

static void cb_sync_rmdir(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "RMDIR", op->name);
	op->nstat = ((RMDIR3res *)data)->status;
	op->done = 1;
}

static void cb_sync_getattr(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct sop *op = priv;
	check_rpc(status, data, "GETATTR", op->name);
	GETATTR3res *r = data;
	op->nstat = r->status;
	if (r->status == NFS3_OK)
		op->attr = r->GETATTR3res_u.resok.obj_attributes;
	op->done = 1;
}

static fattr3 sync_getattr(const struct fh *f, const char *name)
{
	struct sop op = { .name = name };
	GETATTR3args a;
	a.object = fh3(f);
	queued(rpc_nfs3_getattr_async(g_ctl, cb_sync_getattr, &a, &op), g_ctl, "GETATTR");
	wait_done(g_ctl, &op.done, "GETATTR");
	check_nfs(op.nstat, "GETATTR", name);
	return op.attr;
}

static int sync_lookup(const struct fh *dir, const char *name, struct fh *out)
{
	struct sop op = {.name = name};
	LOOKUP3args a;
	memset(&a, 0, sizeof(a));
	a.what.dir = fh3(dir);
	a.what.name = (char *)name;
	queued(rpc_nfs3_lookup_async(g_ctl, cb_sync_lookup, &a, &op), g_ctl, "LOOKUP");
	wait_done(g_ctl, &op.done, "LOOKUP");
	if (op.nstat == NFS3_OK)
		*out = op.fh;
	return op.nstat;
}

static void sync_mkdir(const struct fh *dir, const char *name, struct fh *out)
{
	struct sop op = {.name = name};
	MKDIR3args a;
	memset(&a, 0, sizeof(a));
	a.where.dir = fh3(dir);
	a.where.name = (char *)name;
	a.attributes.mode.set_it = 1;
	a.attributes.mode.set_mode3_u.mode = 0755;
	queued(rpc_nfs3_mkdir_async(g_ctl, cb_sync_mkdir, &a, &op), g_ctl, "MKDIR");
	wait_done(g_ctl, &op.done, "MKDIR");
	check_nfs(op.nstat, "MKDIR", name);
	if (op.have_fh)
		*out = op.fh;
	else
		check_nfs(sync_lookup(dir, name, out), "LOOKUP after MKDIR", name);
}

/* LOOKUP of each component of a path relative to the export's root. */
static fattr3 lookup_path(const char *path, struct fh *out)
{
	char *copy = strdup(path);
	struct fh cur = g_root;
	for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
		check_nfs(sync_lookup(&cur, c, &cur), "LOOKUP", c);
	free(copy);
	*out = cur;
	return sync_getattr(out, path);
}

/* CREATE UNCHECKED with size 0: creates or truncates. */
static void sync_create(const struct fh *dir, const char *name, struct fh *out)
{
	struct sop op = {.name = name};
	CREATE3args a;
	memset(&a, 0, sizeof(a));
	a.where.dir = fh3(dir);
	a.where.name = (char *)name;
	a.how.mode = UNCHECKED;
	a.how.createhow3_u.obj_attributes.mode.set_it = 1;
	a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
	a.how.createhow3_u.obj_attributes.size.set_it = 1;
	a.how.createhow3_u.obj_attributes.size.set_size3_u.size = 0;
	queued(rpc_nfs3_create_async(g_ctl, cb_sync_create, &a, &op), g_ctl, "CREATE");
	wait_done(g_ctl, &op.done, "CREATE");
	check_nfs(op.nstat, "CREATE", name);
	if (op.have_fh)
		*out = op.fh;
	else
		check_nfs(sync_lookup(dir, name, out), "LOOKUP after CREATE", name);
}

static void sync_remove(const struct fh *dir, const char *name)
{
	struct sop op = {.name = name};
	REMOVE3args a;
	memset(&a, 0, sizeof(a));
	a.object.dir = fh3(dir);
	a.object.name = (char *)name;
	queued(rpc_nfs3_remove_async(g_ctl, cb_sync_remove, &a, &op), g_ctl, "REMOVE");
	wait_done(g_ctl, &op.done, "REMOVE");
	check_nfs(op.nstat, "REMOVE", name);
}

static void sync_rmdir(const struct fh *dir, const char *name)
{
	struct sop op = {.name = name};
	RMDIR3args a;
	memset(&a, 0, sizeof(a));
	a.object.dir = fh3(dir);
	a.object.name = (char *)name;
	queued(rpc_nfs3_rmdir_async(g_ctl, cb_sync_rmdir, &a, &op), g_ctl, "RMDIR");
	wait_done(g_ctl, &op.done, "RMDIR");
	check_nfs(op.nstat, "RMDIR", name);
}

/* ---- asynchronous engine ---- */

static int slot_start(struct slot *s);

static void kick(struct conn *c)
{
	while (c->nfree > 0) {
		struct slot *s = &c->slots[c->freelist[c->nfree - 1]];
		if (!slot_start(s))
			break;
		c->nfree--;
		c->inflight++;
	}
}

/* A logical operation on slot s finished. */
static void complete(struct slot *s, int record)
{
	struct conn *c = s->c;
	uint64_t t = now_ns();
	if (record) {
		hist_add(&c->h, t - s->t0);
		c->ops++;
	}
	c->last_progress = t;
	c->inflight--;
	c->freelist[c->nfree++] = (int)(s - c->slots);
	kick(c);
}

static void small_name(char *buf, size_t n, uint64_t idx)
{
	snprintf(buf, n, "f%08" PRIu64, idx);
}

/* NULL */
static void cb_null(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	check_rpc(status, data, "NULL", NULL);
	complete(priv, 1);
}

/* WRITE (sequential streams) and COMMIT */
static void cb_seq_write(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	struct conn *c = s->c;
	check_rpc(status, data, "WRITE", NULL);
	WRITE3res *r = data;
	if (r->status != NFS3_OK)
		die("WRITE offset %" PRIu64 " count %u: server returned %s (%d)", s->off,
		    s->len, nfsstat_str(r->status), (int)r->status);
	WRITE3resok *ok = &r->WRITE3res_u.resok;
	if (ok->count != s->len)
		die("WRITE offset %" PRIu64 ": short write, %u of %u bytes", s->off, ok->count, s->len);
	if ((int)ok->committed < UNSTABLE || ok->committed > FILE_SYNC)
		die("WRITE offset %" PRIu64 ": invalid committed value %d", s->off, (int)ok->committed);
	if (!c->have_verf) {
		memcpy(c->verf, ok->verf, NFS3_WRITEVERFSIZE);
		c->have_verf = 1;
	} else if (memcmp(c->verf, ok->verf, NFS3_WRITEVERFSIZE) != 0) {
		die("WRITE offset %" PRIu64 ": write verifier changed mid-stream", s->off);
	}
	c->writes_inflight--;
	c->bytes += s->len;
	complete(s, 1);
}

static void cb_commit(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	struct conn *c = s->c;
	check_rpc(status, data, "COMMIT", NULL);
	COMMIT3res *r = data;
	check_nfs(r->status, "COMMIT", NULL);
	if (c->have_verf && memcmp(c->verf, r->COMMIT3res_u.resok.verf, NFS3_WRITEVERFSIZE) != 0)
		die("COMMIT verifier differs from the WRITE verifier: unstable data lost");
	hist_add(&c->hc, now_ns() - s->t0);
	c->commits++;
	c->commit_inflight = 0;
	c->region_lo = c->region_end;
	c->region_end = c->region_lo + g_opt.commit_every;
	if (c->kind == W_SEQWRITE || c->region_end > c->hi)
		c->region_end = c->hi;
	complete(s, 0);
}

static int start_seq_write(struct slot *s, const struct fh *f, uint64_t seed)
{
	struct conn *c = s->c;
	if (c->next < c->region_end) {
		s->off = c->next;
		s->len = (uint32_t)(c->hi - s->off < g_bs ? c->hi - s->off : g_bs);
		if (s->off + s->len > c->region_end)
			s->len = (uint32_t)(c->region_end - s->off);
		c->next += s->len;
		s->t0 = now_ns();
		WRITE3args a;
		memset(&a, 0, sizeof(a));
		a.file = fh3(f);
		a.offset = s->off;
		a.count = s->len;
		a.stable = UNSTABLE;
		a.data.data_len = s->len;
		a.data.data_val = (char *)pat_at(seed, s->off);
		queued(rpc_nfs3_write_async(c->rpc, cb_seq_write, &a, s), c->rpc, "WRITE");
		c->writes_inflight++;
		return 1;
	}
	if (c->writes_inflight == 0 && !c->commit_inflight && c->region_lo < c->region_end) {
		s->t0 = now_ns();
		COMMIT3args a;
		memset(&a, 0, sizeof(a));
		a.file = fh3(f);
		a.offset = c->region_lo;
		a.count = (count3)(c->region_end - c->region_lo);
		if (c->region_end - c->region_lo > UINT32_MAX)
			a.count = 0; /* to end of file */
		queued(rpc_nfs3_commit_async(c->rpc, cb_commit, &a, s), c->rpc, "COMMIT");
		c->commit_inflight = 1;
		return 1;
	}
	return 0;
}

/* READ (seqread, randread) */
static void cb_read(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "READ", NULL);
	READ3res *r = data;
	if (r->status != NFS3_OK)
		die("READ offset %" PRIu64 " count %u: server returned %s (%d)", s->off, s->len,
		    nfsstat_str(r->status), (int)r->status);
	READ3resok *ok = &r->READ3res_u.resok;
	if (ok->count != s->len || ok->data.data_len != s->len)
		die("READ offset %" PRIu64 ": short read, count %u data %u, expected %u "
		    "(file size %" PRIu64 ")", s->off, ok->count, ok->data.data_len, s->len, g_seq_size);
	const uint8_t *want = g_ref ? g_ref + s->off : pat_at(g_seq_seed, s->off);
	if (g_loading)
		memcpy(g_ref + s->off, ok->data.data_val, s->len);
	else if (memcmp(ok->data.data_val, want, s->len) != 0) {
		uint32_t i = 0;
		while (i < s->len && (uint8_t)ok->data.data_val[i] == want[i])
			i++;
		die("READ offset %" PRIu64 ": DATA MISMATCH at file offset %" PRIu64
		    " (got 0x%02x, want 0x%02x)", s->off, s->off + i,
		    (uint8_t)ok->data.data_val[i], want[i]);
	}
	if (ok->eof && s->off + s->len < g_seq_size)
		die("READ offset %" PRIu64 ": eof set before the end of a %" PRIu64 "-byte file",
		    s->off, g_seq_size);
	s->c->bytes += s->len;
	complete(s, 1);
}

static void issue_read(struct slot *s)
{
	READ3args a;
	memset(&a, 0, sizeof(a));
	a.file = fh3(&g_seq);
	a.offset = s->off;
	a.count = s->len;
	s->t0 = now_ns();
	queued(rpc_nfs3_read_async(s->c->rpc, cb_read, &a, s), s->c->rpc, "READ");
}

/* CREATE + WRITE 4 KiB */
static void issue_small_write(struct slot *s);

static void cb_create_lookup(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "LOOKUP", s->name);
	LOOKUP3res *r = data;
	check_nfs(r->status, "LOOKUP (after CREATE without handle)", s->name);
	fh_set(&s->fh, &r->LOOKUP3res_u.resok.object, "LOOKUP");
	issue_small_write(s);
}

static void cb_create(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "CREATE", s->name);
	CREATE3res *r = data;
	check_nfs(r->status, "CREATE", s->name);
	CREATE3resok *ok = &r->CREATE3res_u.resok;
	if (ok->obj.handle_follows) {
		fh_set(&s->fh, &ok->obj.post_op_fh3_u.handle, "CREATE");
		issue_small_write(s);
		return;
	}
	LOOKUP3args a;
	memset(&a, 0, sizeof(a));
	a.what.dir = fh3(&g_files);
	a.what.name = s->name;
	queued(rpc_nfs3_lookup_async(s->c->rpc, cb_create_lookup, &a, s), s->c->rpc, "LOOKUP");
}

static void cb_small_write(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "WRITE", s->name);
	WRITE3res *r = data;
	check_nfs(r->status, "WRITE", s->name);
	if (r->WRITE3res_u.resok.count != SMALL_FILE_SIZE)
		die("WRITE %s: short write, %u of %u bytes", s->name, r->WRITE3res_u.resok.count,
		    SMALL_FILE_SIZE);
	s->c->bytes += SMALL_FILE_SIZE;
	complete(s, 1);
}

static void issue_small_write(struct slot *s)
{
	WRITE3args a;
	memset(&a, 0, sizeof(a));
	a.file = fh3(&s->fh);
	a.offset = 0;
	a.count = SMALL_FILE_SIZE;
	a.stable = UNSTABLE;
	a.data.data_len = SMALL_FILE_SIZE;
	a.data.data_val = (char *)pat_at(g_small_seed, s->idx * SMALL_FILE_SIZE);
	queued(rpc_nfs3_write_async(s->c->rpc, cb_small_write, &a, s), s->c->rpc, "WRITE");
}

/* LOOKUP + GETATTR */
static void cb_stat_getattr(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "GETATTR", s->name);
	GETATTR3res *r = data;
	check_nfs(r->status, "GETATTR", s->name);
	fattr3 *at = &r->GETATTR3res_u.resok.obj_attributes;
	if (at->type != NF3REG || at->size != SMALL_FILE_SIZE)
		die("GETATTR %s: type %d size %" PRIu64 ", expected a regular file of %d bytes",
		    s->name, (int)at->type, (uint64_t)at->size, SMALL_FILE_SIZE);
	complete(s, 1);
}

static void cb_stat_lookup(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "LOOKUP", s->name);
	LOOKUP3res *r = data;
	check_nfs(r->status, "LOOKUP", s->name);
	fh_set(&s->fh, &r->LOOKUP3res_u.resok.object, "LOOKUP");
	GETATTR3args a;
	a.object = fh3(&s->fh);
	queued(rpc_nfs3_getattr_async(s->c->rpc, cb_stat_getattr, &a, s), s->c->rpc, "GETATTR");
}

/* READDIRPLUS: each slot walks the whole directory; latency is per call. */
static void issue_readdirplus(struct slot *s);

/* --list-dir: names are not ours to check, but each must come with its
 * attributes (what makes READDIRPLUS comparable with readdir + stat). */
static void check_listed(struct slot *s, const entryplus3 *e)
{
	if (!e->name_attributes.attributes_follow)
		die("READDIRPLUS: no attributes for entry '%s'", e->name);
	s->names += hash64(e->name, strlen(e->name));
}

/* A whole listing: as many entries as made (or, with --list-dir, as the
 * untimed first listing showed), and the same names. */
static void check_listing(struct slot *s)
{
	if (!g_opt.list_dir) {
		if (s->listed != g_nfiles)
			die("READDIRPLUS listing returned %" PRIu64 " entries, expected %" PRIu64,
			    s->listed, g_nfiles);
		return;
	}
	if (!g_have_list) {
		g_list_count = s->listed;
		g_list_names = s->names;
		g_have_list = 1;
	} else if (s->listed != g_list_count || s->names != g_list_names) {
		die("READDIRPLUS listing of %s: %" PRIu64 " entries, the first listing %" PRIu64
		    "%s",
		    g_opt.list_dir, s->listed, g_list_count,
		    s->listed == g_list_count ? ", other names" : "");
	}
}

static void cb_readdirplus(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	struct conn *c = s->c;
	uint64_t t = now_ns();
	check_rpc(status, data, "READDIRPLUS", NULL);
	READDIRPLUS3res *r = data;
	if (r->status != NFS3_OK)
		die("READDIRPLUS cookie %" PRIu64 ": server returned %s (%d)", s->cookie,
		    nfsstat_str(r->status), (int)r->status);
	READDIRPLUS3resok *ok = &r->READDIRPLUS3res_u.resok;
	uint64_t n = 0, any = 0;
	for (entryplus3 *e = ok->reply.entries; e; e = e->nextentry) {
		any++;
		s->cookie = e->cookie;
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		n++;
		if (g_opt.list_dir) {
			check_listed(s, e);
			continue;
		}
		if (e->name[0] != 'f' || strlen(e->name) != 9)
			die("READDIRPLUS: unexpected entry '%s'", e->name);
		if (e->name_attributes.attributes_follow) {
			fattr3 *at = &e->name_attributes.post_op_attr_u.attributes;
			if (at->type != NF3REG || at->size != SMALL_FILE_SIZE)
				die("READDIRPLUS: entry %s has type %d size %" PRIu64, e->name,
				    (int)at->type, (uint64_t)at->size);
		}
	}
	memcpy(s->verf, ok->cookieverf, NFS3_COOKIEVERFSIZE);
	hist_add(&c->h, t - s->t1);
	c->ops++;
	c->entries += n;
	s->listed += n;
	c->last_progress = t;
	if (ok->reply.eof) {
		check_listing(s);
		c->listings++;
		complete(s, 0);
		return;
	}
	if (!any)
		die("READDIRPLUS returned no entries and no eof (cookie %" PRIu64 ")", s->cookie);
	issue_readdirplus(s);
}

static void issue_readdirplus(struct slot *s)
{
	READDIRPLUS3args a;
	memset(&a, 0, sizeof(a));
	a.dir = fh3(&g_files);
	a.cookie = s->cookie;
	memcpy(a.cookieverf, s->verf, NFS3_COOKIEVERFSIZE);
	/* As Linux (since 5.17) sends: dircount = maxcount. */
	a.dircount = g_opt.rdsize;
	a.maxcount = g_opt.rdsize;
	s->t1 = now_ns();
	queued(rpc_nfs3_readdirplus_async(s->c->rpc, cb_readdirplus, &a, s), s->c->rpc,
	       "READDIRPLUS");
}

/* REMOVE */
static void cb_remove(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "REMOVE", s->name);
	check_nfs(((REMOVE3res *)data)->status, "REMOVE", s->name);
	complete(s, 1);
}

/* GETATTR of the file being written (mixed) */
static void cb_mix_getattr(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct slot *s = priv;
	check_rpc(status, data, "GETATTR", "mixfile");
	GETATTR3res *r = data;
	check_nfs(r->status, "GETATTR", "mixfile");
	if (r->GETATTR3res_u.resok.obj_attributes.type != NF3REG)
		die("GETATTR mixfile: not a regular file");
	complete(s, 1);
}

static int slot_start(struct slot *s)
{
	struct conn *c = s->c;
	switch (c->kind) {
	case W_NULL:
		s->t0 = now_ns();
		if (s->t0 >= g_deadline)
			return 0;
		queued(rpc_nfs3_null_async(c->rpc, cb_null, s), c->rpc, "NULL");
		return 1;
	case W_SEQWRITE:
		return start_seq_write(s, &g_seq, g_seq_seed);
	case W_MIX_WRITE:
		return start_seq_write(s, &g_mix, g_mix_seed);
	case W_SEQREAD:
		/* Whole passes over the connection's range until --duration
		 * has elapsed (at least one pass). */
		if (c->next >= c->hi) {
			if (c->hi == c->lo || g_loading || now_ns() >= g_deadline)
				return 0;
			c->next = c->lo;
		}
		s->off = c->next;
		s->len = (uint32_t)(c->hi - s->off < g_bs ? c->hi - s->off : g_bs);
		c->next += s->len;
		issue_read(s);
		return 1;
	case W_RANDREAD:
		if (now_ns() >= g_deadline)
			return 0;
		s->off = (xorshift64(&c->rng) % (g_seq_size / 4096)) * 4096;
		s->len = 4096;
		issue_read(s);
		return 1;
	case W_CREATE: {
		uint64_t idx = atomic_fetch_add(&g_next_idx, 1);
		if (idx >= g_target_files)
			return 0;
		s->idx = idx;
		small_name(s->name, sizeof(s->name), idx);
		s->t0 = now_ns();
		CREATE3args a;
		memset(&a, 0, sizeof(a));
		a.where.dir = fh3(&g_files);
		a.where.name = s->name;
		a.how.mode = GUARDED;
		a.how.createhow3_u.g_obj_attributes.mode.set_it = 1;
		a.how.createhow3_u.g_obj_attributes.mode.set_mode3_u.mode = 0644;
		queued(rpc_nfs3_create_async(c->rpc, cb_create, &a, s), c->rpc, "CREATE");
		return 1;
	}
	case W_STAT: {
		s->t0 = now_ns();
		if (s->t0 >= g_deadline)
			return 0;
		s->idx = xorshift64(&c->rng) % g_nfiles;
		small_name(s->name, sizeof(s->name), s->idx);
		LOOKUP3args a;
		memset(&a, 0, sizeof(a));
		a.what.dir = fh3(&g_files);
		a.what.name = s->name;
		queued(rpc_nfs3_lookup_async(c->rpc, cb_stat_lookup, &a, s), c->rpc, "LOOKUP");
		return 1;
	}
	case W_READDIR:
		if (now_ns() >= g_deadline || (g_loading && c->started > 0))
			return 0;
		c->started++;
		s->cookie = 0;
		s->listed = 0;
		s->names = 0;
		memset(s->verf, 0, sizeof(s->verf));
		issue_readdirplus(s);
		return 1;
	case W_REMOVE: {
		uint64_t idx = atomic_fetch_add(&g_next_idx, 1);
		if (idx >= g_target_files)
			return 0;
		s->idx = idx;
		small_name(s->name, sizeof(s->name), idx);
		s->t0 = now_ns();
		REMOVE3args a;
		memset(&a, 0, sizeof(a));
		a.object.dir = fh3(&g_files);
		a.object.name = s->name;
		queued(rpc_nfs3_remove_async(c->rpc, cb_remove, &a, s), c->rpc, "REMOVE");
		return 1;
	}
	case W_MIX_GETATTR: {
		if (atomic_load(&g_mix_done))
			return 0;
		s->t0 = now_ns();
		GETATTR3args a;
		a.object = fh3(&g_mix);
		queued(rpc_nfs3_getattr_async(c->rpc, cb_mix_getattr, &a, s), c->rpc, "GETATTR");
		return 1;
	}
	case W_MIXED:
		break;
	}
	die("internal error: bad workload kind %d", (int)c->kind);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	c->last_progress = now_ns();
	kick(c);
	while (c->inflight > 0) {
		struct pollfd p = {.fd = rpc_get_fd(c->rpc), .events = (short)rpc_which_events(c->rpc)};
		int r = poll(&p, 1, 200);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (rpc_service(c->rpc, r > 0 ? p.revents : 0) < 0)
			die("connection %d: %s (%d requests outstanding)", c->id,
			    rpc_get_error(c->rpc), c->inflight);
		if (r == 0 && (double)(now_ns() - c->last_progress) / 1e9 > g_opt.timeout)
			die("connection %d: no reply for %.0f s with %d requests outstanding",
			    c->id, g_opt.timeout, c->inflight);
	}
	c->t_done = now_ns();
	if (c->kind == W_MIX_WRITE)
		atomic_store(&g_mix_done, 1);
	return NULL;
}

static void conn_init(struct conn *c, int id, enum wk kind)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->kind = kind;
	c->rng = g_opt.seed * 0x9E3779B97F4A7C15ull + (uint64_t)id * 7919 + 1;
	c->slots = calloc((size_t)g_opt.qd, sizeof(*c->slots));
	c->freelist = calloc((size_t)g_opt.qd, sizeof(int));
	if (!c->slots || !c->freelist)
		die("out of memory");
	for (int i = 0; i < g_opt.qd; i++) {
		c->slots[i].c = c;
		c->freelist[i] = g_opt.qd - 1 - i;
	}
	c->nfree = g_opt.qd;
	c->rpc = connect_port(g_opt.port);
}

static void conn_free(struct conn *c)
{
	rpc_destroy_context(c->rpc);
	free(c->slots);
	free(c->freelist);
}

static void split_range(struct conn *cs, int n, uint64_t size)
{
	uint64_t per = (size + (uint64_t)n - 1) / (uint64_t)n;
	per = (per + g_bs - 1) / g_bs * g_bs;
	for (int i = 0; i < n; i++) {
		uint64_t lo = per * (uint64_t)i;
		if (lo > size)
			lo = size;
		uint64_t hi = lo + per > size ? size : lo + per;
		cs[i].lo = cs[i].next = cs[i].region_lo = lo;
		cs[i].hi = cs[i].region_end = hi;
	}
}

static double run_conns(struct conn *cs, int n)
{
	g_deadline = now_ns() + (uint64_t)(g_opt.duration * 1e9);
	uint64_t t0 = now_ns();
	g_t_start = t0;
	for (int i = 0; i < n; i++)
		if (pthread_create(&cs[i].th, NULL, conn_thread, &cs[i]) != 0)
			die("pthread_create failed");
	for (int i = 0; i < n; i++)
		pthread_join(cs[i].th, NULL);
	return (double)(now_ns() - t0) / 1e9;
}

static void run_phase(enum wk kind, const char *name, int nconns, int print);

/* --read-file: its handle and size, then one untimed pass reading it whole
 * into g_ref, which every timed READ is compared with. */
static void load_ref(int nconns)
{
	fattr3 at = lookup_path(g_opt.read_file, &g_seq);
	if (at.type != NF3REG || at.size < 4096)
		die("%s: not a regular file of at least 4096 bytes", g_opt.read_file);
	g_seq_size = at.size;
	g_ref = malloc((size_t)g_seq_size);
	if (!g_ref)
		die("out of memory for a copy of %s (%" PRIu64 " bytes)", g_opt.read_file,
		    g_seq_size);
	note("setup: reading %s, %" PRIu64 " bytes (untimed)", g_opt.read_file, g_seq_size);
	g_loading = 1;
	run_phase(W_SEQREAD, "seqread", nconns, 0);
	g_loading = 0;
	snprintf(g_ref_extra, sizeof(g_ref_extra), "file_size=%" PRIu64 " file_digest=%016" PRIx64,
		 g_seq_size, hash64(g_ref, (size_t)g_seq_size));
}

/* --list-dir: its handle, then one untimed listing that sets what every
 * timed one must show. */
static void load_list(void)
{
	fattr3 at = lookup_path(g_opt.list_dir, &g_files);
	if (at.type != NF3DIR)
		die("%s: not a directory", g_opt.list_dir);
	g_loading = 1;
	run_phase(W_READDIR, "readdir", 1, 0);
	g_loading = 0;
	if (!g_have_list)
		die("%s: the first listing did not finish", g_opt.list_dir);
}

static void ensure_seqfile(int nconns)
{
	if (g_opt.read_file) {
		if (!g_ref)
			load_ref(nconns);
		return;
	}
	if (!g_have_seq || g_seq_size != g_opt.size) {
		note("setup: writing %" PRIu64 "-byte seqfile (untimed)", g_opt.size);
		run_phase(W_SEQWRITE, "seqwrite", nconns, 0);
	}
}

static void ensure_files(int nconns)
{
	if (g_opt.list_dir) {
		if (!g_have_list && !g_loading)
			load_list();
		return;
	}
	if (g_nfiles == 0) {
		note("setup: creating %" PRIu64 " files (untimed)", g_opt.files);
		run_phase(W_CREATE, "create", nconns, 0);
	}
}

static void ensure_workdir(void);

static void run_phase(enum wk kind, const char *name, int nconns, int print)
{
	if (kind != W_NULL)
		ensure_workdir();
	switch (kind) {
	case W_SEQWRITE:
		sync_create(&g_work, "seqfile", &g_seq);
		g_have_seq = 1;
		g_seq_size = 0;
		break;
	case W_SEQREAD:
	case W_RANDREAD:
		ensure_seqfile(nconns);
		break;
	case W_CREATE:
		if (g_nfiles > 0) {
			note("setup: removing %" PRIu64 " files (untimed)", g_nfiles);
			run_phase(W_REMOVE, "remove", nconns, 0);
		}
		atomic_store(&g_next_idx, 0);
		g_target_files = g_opt.files;
		break;
	case W_STAT:
	case W_READDIR:
		ensure_files(nconns);
		break;
	case W_REMOVE:
		ensure_files(nconns);
		atomic_store(&g_next_idx, 0);
		g_target_files = g_nfiles;
		break;
	case W_MIXED:
		sync_create(&g_work, "mixfile", &g_mix);
		atomic_store(&g_mix_done, 0);
		nconns = 2;
		break;
	default:
		break;
	}

	struct conn *cs = calloc((size_t)nconns, sizeof(*cs));
	if (!cs)
		die("out of memory");
	for (int i = 0; i < nconns; i++) {
		enum wk k = kind;
		if (kind == W_MIXED)
			k = i == 0 ? W_MIX_WRITE : W_MIX_GETATTR;
		conn_init(&cs[i], i, k);
	}
	if (kind == W_SEQWRITE)
		split_range(cs, nconns, g_opt.size);
	else if (kind == W_SEQREAD)
		split_range(cs, nconns, g_seq_size);
	else if (kind == W_MIXED) {
		cs[0].lo = cs[0].next = cs[0].region_lo = 0;
		cs[0].hi = g_opt.size;
		cs[0].region_end = g_opt.commit_every < g_opt.size ? g_opt.commit_every : g_opt.size;
	}

	if (print && (kind == W_SEQWRITE || kind == W_CREATE || kind == W_MIXED))
		warm_memory();
	double secs = run_conns(cs, nconns);

	struct result res;
	memset(&res, 0, sizeof(res));
	res.workload = name;
	res.conns = nconns;
	res.qd = g_opt.qd;
	res.secs = secs;
	struct hist *h = calloc(1, sizeof(*h));
	struct hist *hc = calloc(1, sizeof(*hc));
	if (!h || !hc)
		die("out of memory");
	uint64_t entries = 0, listings = 0, commits = 0;
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &cs[i];
		if (kind == W_MIXED && c->kind == W_MIX_WRITE) {
			hist_merge(hc, &c->hc);
			commits += c->commits;
			continue;
		}
		hist_merge(h, &c->h);
		hist_merge(hc, &c->hc);
		res.ops += c->ops;
		res.bytes += c->bytes;
		entries += c->entries;
		listings += c->listings;
		commits += c->commits;
	}
	res.h = h;

	switch (kind) {
	case W_SEQWRITE:
		g_seq_size = g_opt.size;
		snprintf(res.extra, sizeof(res.extra), "commits=%" PRIu64 " commit_max_ms=%.1f bs=%u",
			 commits, (double)hc->max / 1e6, g_bs);
		break;
	case W_SEQREAD:
		snprintf(res.extra, sizeof(res.extra), "bs=%u passes=%.2f%s%s", g_bs,
			 (double)res.bytes / (double)g_seq_size, g_ref ? " " : "", g_ref_extra);
		break;
	case W_RANDREAD:
		snprintf(res.extra, sizeof(res.extra), "%s", g_ref_extra);
		break;
	case W_CREATE:
		g_nfiles = g_opt.files;
		break;
	case W_REMOVE:
		g_nfiles = 0;
		break;
	case W_READDIR: {
		int n = snprintf(res.extra, sizeof(res.extra),
				 "entries=%" PRIu64 " entries_s=%.1f listings=%" PRIu64
				 " rdsize=%u",
				 entries, (double)entries / (secs > 0 ? secs : 1e-9), listings,
				 g_opt.rdsize);
		if (g_opt.list_dir)
			snprintf(res.extra + n, sizeof(res.extra) - (size_t)n,
				 " listed=%" PRIu64 " names_digest=%016" PRIx64, g_list_count,
				 g_list_names);
		break;
	}
	case W_MIXED: {
		struct conn *w = &cs[0];
		double wsecs = (double)(w->t_done - g_t_start) / 1e9;
		snprintf(res.extra, sizeof(res.extra),
			 "write_bytes=%" PRIu64 " write_secs=%.3f write_mib_s=%.1f commits=%" PRIu64
			 " commit_max_ms=%.1f getattr_p99_us=%.1f",
			 w->bytes, wsecs, (double)w->bytes / (wsecs > 0 ? wsecs : 1e-9) / 1048576.0, commits,
			 (double)hc->max / 1e6, (double)hist_pct(h, 0.99) / 1000.0);
		if (w->bytes != g_opt.size)
			die("mixed: writer wrote %" PRIu64 " of %" PRIu64 " bytes", w->bytes, g_opt.size);
		break;
	}
	default:
		break;
	}
	if (kind == W_SEQWRITE && res.bytes != g_opt.size)
		die("%s: transferred %" PRIu64 " bytes, expected %" PRIu64, name, res.bytes, g_opt.size);
	if (kind == W_SEQREAD)
		for (int i = 0; i < nconns; i++)
			if (cs[i].hi > cs[i].lo && (cs[i].bytes == 0 || cs[i].bytes % (cs[i].hi - cs[i].lo)))
				die("%s: connection %d read %" PRIu64 " bytes, not whole passes of %" PRIu64,
				    name, i, cs[i].bytes, cs[i].hi - cs[i].lo);
	if ((kind == W_CREATE || kind == W_REMOVE) && res.ops != g_target_files)
		die("%s: completed %" PRIu64 " of %" PRIu64 " files", name, res.ops, g_target_files);
	if (res.ops == 0 && kind != W_MIXED)
		die("%s: completed no operations", name);

	if (print)
		print_result(&res);
	else if (g_opt.verbose)
		note("setup %s: %" PRIu64 " ops in %.2f s", name, res.ops, secs);

	for (int i = 0; i < nconns; i++)
		conn_free(&cs[i]);
	free(cs);
	free(h);
	free(hc);

	if (kind == W_MIXED)
		sync_remove(&g_work, "mixfile");
}

/* ---- public entry points ---- */

int nfs_is_workload(const char *name)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].name, name))
			return 1;
	return 0;
}

void nfs_bench_init(void)
{
	g_seq_seed = g_opt.seed;
	g_small_seed = (g_opt.seed + 12345) % PAT_PERIOD;
	g_mix_seed = (g_opt.seed + 54321) % PAT_PERIOD;

	struct rpc_context *m = connect_port(g_opt.mount_port);
	struct sop op = {.name = g_opt.export_path};
	queued(rpc_mount3_mnt_async(m, cb_mnt, (char *)g_opt.export_path, &op), m, "MOUNT3 MNT");
	wait_done(m, &op.done, "MOUNT3 MNT");
	g_root = op.fh;
	rpc_destroy_context(m);

	g_ctl = connect_port(g_opt.port);
	struct sop fo = {.name = "root"};
	FSINFO3args fa;
	fa.fsroot = fh3(&g_root);
	queued(rpc_nfs3_fsinfo_async(g_ctl, cb_fsinfo, &fa, &fo), g_ctl, "FSINFO");
	wait_done(g_ctl, &fo.done, "FSINFO");
	g_bs = g_opt.bs;
	if (fo.rtmax && fo.rtmax < g_bs)
		g_bs = fo.rtmax;
	if (fo.wtmax && fo.wtmax < g_bs)
		g_bs = fo.wtmax;
	g_bs &= ~4095u;
	if (g_bs < 4096)
		die("server rtmax/wtmax (%u/%u) below 4096", fo.rtmax, fo.wtmax);
	if (g_bs != g_opt.bs)
		note("I/O size clamped to %u by server FSINFO (rtmax %u, wtmax %u)", g_bs, fo.rtmax,
		     fo.wtmax);

}

/* The work directory is made on first use, so that a run of only "null"
 * (the readiness probe in run.sh) needs nothing but MOUNT and NULL. */
static int g_have_work;
static void ensure_workdir(void)
{
	if (g_have_work || read_only_mode())
		return; /* read-only mode writes nothing */
	snprintf(g_workname, sizeof(g_workname), "loopnfs-bench.%d", (int)getpid());
	sync_mkdir(&g_root, g_workname, &g_work);
	sync_mkdir(&g_work, "files", &g_files);
	g_have_work = 1;
}

void nfs_run_workload(const char *name, int conns)
{
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (!strcmp(workloads[i].name, name)) {
			run_phase(workloads[i].kind, name, conns, 1);
			return;
		}
	die("unknown workload %s", name);
}

void nfs_bench_finish(void)
{
	free(g_ref);
	g_ref = NULL;
	if (g_opt.keep || !g_have_work) {
		rpc_destroy_context(g_ctl);
		return;
	}
	if (g_nfiles > 0)
		run_phase(W_REMOVE, "remove", g_opt.conns, 0);
	if (g_have_seq)
		sync_remove(&g_work, "seqfile");
	sync_rmdir(&g_work, "files");
	sync_rmdir(&g_root, g_workname);
	rpc_destroy_context(g_ctl);
}
