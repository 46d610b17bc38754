/*
 * wtest.c - helpers for the write-side integration tests (see wtest.h).
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ plumbing */
struct wcs {
	int done;
	int status;
	void *out;
	void (*copy)(void *out, void *data);
	char err[256];
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wt_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct wcs *cs = priv;
	cs->done = 1;
	cs->status = status;
	if (status == RPC_STATUS_SUCCESS) {
		if (cs->copy && cs->out)
			cs->copy(cs->out, data);
	} else {
		snprintf(cs->err, sizeof(cs->err), "rpc status %d: %s", status,
			 data ? (const char *)data : "(no message)");
	}
}

static int wt_wait(itc_t *c, struct wcs *cs, int queued)
{
	if (queued != 0) {
		snprintf(c->err, sizeof(c->err), "could not queue call: %s", rpc_get_error(c->rpc));
		return -1;
	}
	long long deadline = now_ms() + ITEST_CALL_TIMEOUT_MS;
	while (!cs->done) {
		struct pollfd pfd = { .fd = rpc_get_fd(c->rpc),
				      .events = (short)rpc_which_events(c->rpc) };
		int r = poll(&pfd, 1, 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (rpc_service(c->rpc, r > 0 ? pfd.revents : 0) < 0) {
			if (!cs->done) {
				snprintf(c->err, sizeof(c->err), "rpc_service failed: %s",
					 rpc_get_error(c->rpc));
				rpc_disconnect(c->rpc, "wtest: service error");
				return -1;
			}
			break;
		}
		if (!cs->done && now_ms() > deadline) {
			snprintf(c->err, sizeof(c->err), "timeout after %d ms",
				 ITEST_CALL_TIMEOUT_MS);
			rpc_disconnect(c->rpc, "wtest: timeout");
			return -1;
		}
	}
	if (cs->status != RPC_STATUS_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "%s", cs->err);
		return -1;
	}
	return 0;
}

#define WCALL(c, copyfn, outp, expr)          \
	do {                                  \
		struct wcs cs = { 0 };        \
		cs.copy = (copyfn);           \
		cs.out = (outp);              \
		int q_ = (expr);              \
		return wt_wait((c), &cs, q_); \
	} while (0)

static void to_fh3(nfs_fh3 *dst, const fh_t *src)
{
	dst->data.data_len = src->len;
	dst->data.data_val = (char *)src->data;
}

/* The itest arena is not thread-safe; tests call wtc_* from several threads. */
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;

static void *arena_alloc(size_t n)
{
	pthread_mutex_lock(&arena_lock);
	void *p = itest_alloc(n);
	pthread_mutex_unlock(&arena_lock);
	return p;
}

static void dup_post_fh(post_op_fh3 *p)
{
	if (!p->handle_follows || !p->post_op_fh3_u.handle.data.data_val)
		return;
	u_int n = p->post_op_fh3_u.handle.data.data_len;
	char *d = arena_alloc(n + 1);
	memcpy(d, p->post_op_fh3_u.handle.data.data_val, n);
	p->post_op_fh3_u.handle.data.data_val = d;
}

#define SHALLOW(T)                                \
	static void cp_##T(void *out, void *data) \
	{                                         \
		*(T *)out = *(T *)data;           \
	}
SHALLOW(SETATTR3res)
SHALLOW(WRITE3res)
SHALLOW(COMMIT3res)
SHALLOW(REMOVE3res)
SHALLOW(RMDIR3res)
SHALLOW(RENAME3res)
SHALLOW(LINK3res)

#define WITH_FH(T)                                        \
	static void cp_##T(void *out, void *data)         \
	{                                                 \
		T *d = out;                               \
		*d = *(T *)data;                          \
		if (d->status == NFS3_OK)                 \
			dup_post_fh(&d->T##_u.resok.obj); \
	}
WITH_FH(CREATE3res)
WITH_FH(MKDIR3res)
WITH_FH(SYMLINK3res)
WITH_FH(MKNOD3res)

/* ----------------------------------------------------------- connections */
itc_t *wt_connect_host(const char *host, int port)
{
	itc_t *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->port = port;
	c->rpc = rpc_init_context();
	if (!c->rpc) {
		free(c);
		return NULL;
	}
	struct wcs cs = { 0 };
	int q = rpc_connect_port_async(c->rpc, host, port, ITEST_PROG_NFS, 3, wt_cb, &cs);
	if (wt_wait(c, &cs, q) != 0) {
		fprintf(stderr, "wt_connect_host(%s:%d): %s\n", host, port, c->err);
		rpc_destroy_context(c->rpc);
		free(c);
		return NULL;
	}
	return c;
}

void wt_set_auth(itc_t *c, uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids)
{
	rpc_set_auth(c->rpc, libnfs_authunix_create("wtest", uid, gid, ngids, (uint32_t *)gids));
}

itc_t *wt_connect_as(int port, uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids)
{
	itc_t *c = wt_connect_host("127.0.0.1", port);
	if (c)
		wt_set_auth(c, uid, gid, ngids, gids);
	return c;
}

/* ----------------------------------------------------------- sattr3 */
sattr3 wt_sattr_none(void)
{
	sattr3 s;
	memset(&s, 0, sizeof(s));
	s.atime.set_it = DONT_CHANGE;
	s.mtime.set_it = DONT_CHANGE;
	return s;
}

sattr3 wt_sattr_mode(uint32_t mode)
{
	sattr3 s = wt_sattr_none();
	s.mode.set_it = 1;
	s.mode.set_mode3_u.mode = mode;
	return s;
}

/* ----------------------------------------------------------- procedures */
int wtc_setattr(itc_t *c, const fh_t *fh, const sattr3 *sa, const nfstime3 *guard, SETATTR3res *res)
{
	SETATTR3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.object, fh);
	a.new_attributes = *sa;
	if (guard) {
		a.guard.check = 1;
		a.guard.sattrguard3_u.obj_ctime = *guard;
	}
	WCALL(c, cp_SETATTR3res, res, rpc_nfs3_setattr_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_write_raw(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, const void *data,
		  uint32_t len, stable_how how, WRITE3res *res)
{
	WRITE3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.file, fh);
	a.offset = off;
	a.count = count;
	a.stable = how;
	a.data.data_len = len;
	a.data.data_val = (char *)data;
	WCALL(c, cp_WRITE3res, res, rpc_nfs3_write_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_write(itc_t *c, const fh_t *fh, uint64_t off, const void *data, uint32_t len,
	      stable_how how, WRITE3res *res)
{
	return wtc_write_raw(c, fh, off, len, data, len, how, res);
}

int wtc_commit(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, COMMIT3res *res)
{
	COMMIT3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.file, fh);
	a.offset = off;
	a.count = count;
	WCALL(c, cp_COMMIT3res, res, rpc_nfs3_commit_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_create(itc_t *c, const fh_t *dir, const char *name, createmode3 mode, const sattr3 *sa,
	       const char verf[8], CREATE3res *res)
{
	CREATE3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.where.dir, dir);
	a.where.name = (char *)name;
	a.how.mode = mode;
	if (mode == EXCLUSIVE)
		memcpy(a.how.createhow3_u.verf, verf, NFS3_CREATEVERFSIZE);
	else
		a.how.createhow3_u.obj_attributes = sa ? *sa : wt_sattr_none();
	WCALL(c, cp_CREATE3res, res, rpc_nfs3_create_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_mkdir(itc_t *c, const fh_t *dir, const char *name, const sattr3 *sa, MKDIR3res *res)
{
	MKDIR3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.where.dir, dir);
	a.where.name = (char *)name;
	a.attributes = sa ? *sa : wt_sattr_none();
	WCALL(c, cp_MKDIR3res, res, rpc_nfs3_mkdir_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_symlink(itc_t *c, const fh_t *dir, const char *name, const char *target, const sattr3 *sa,
		SYMLINK3res *res)
{
	SYMLINK3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.where.dir, dir);
	a.where.name = (char *)name;
	a.symlink.symlink_attributes = sa ? *sa : wt_sattr_none();
	a.symlink.symlink_data = (char *)target;
	WCALL(c, cp_SYMLINK3res, res, rpc_nfs3_symlink_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_mknod(itc_t *c, const fh_t *dir, const char *name, ftype3 type, const sattr3 *sa,
	      uint32_t major, uint32_t minor, MKNOD3res *res)
{
	MKNOD3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.where.dir, dir);
	a.where.name = (char *)name;
	a.what.type = type;
	sattr3 s = sa ? *sa : wt_sattr_none();
	switch (type) {
	case NF3CHR:
		a.what.mknoddata3_u.chr_device.dev_attributes = s;
		a.what.mknoddata3_u.chr_device.spec.specdata1 = major;
		a.what.mknoddata3_u.chr_device.spec.specdata2 = minor;
		break;
	case NF3BLK:
		a.what.mknoddata3_u.blk_device.dev_attributes = s;
		a.what.mknoddata3_u.blk_device.spec.specdata1 = major;
		a.what.mknoddata3_u.blk_device.spec.specdata2 = minor;
		break;
	case NF3SOCK:
		a.what.mknoddata3_u.sock_attributes = s;
		break;
	case NF3FIFO:
		a.what.mknoddata3_u.pipe_attributes = s;
		break;
	default:
		break;
	}
	WCALL(c, cp_MKNOD3res, res, rpc_nfs3_mknod_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_remove(itc_t *c, const fh_t *dir, const char *name, REMOVE3res *res)
{
	REMOVE3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.object.dir, dir);
	a.object.name = (char *)name;
	WCALL(c, cp_REMOVE3res, res, rpc_nfs3_remove_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_rmdir(itc_t *c, const fh_t *dir, const char *name, RMDIR3res *res)
{
	RMDIR3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.object.dir, dir);
	a.object.name = (char *)name;
	WCALL(c, cp_RMDIR3res, res, rpc_nfs3_rmdir_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_rename(itc_t *c, const fh_t *fdir, const char *fname, const fh_t *tdir, const char *tname,
	       RENAME3res *res)
{
	RENAME3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.from.dir, fdir);
	a.from.name = (char *)fname;
	to_fh3(&a.to.dir, tdir);
	a.to.name = (char *)tname;
	WCALL(c, cp_RENAME3res, res, rpc_nfs3_rename_async(c->rpc, wt_cb, &a, &cs));
}

int wtc_link(itc_t *c, const fh_t *file, const fh_t *dir, const char *name, LINK3res *res)
{
	LINK3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_fh3(&a.file, file);
	to_fh3(&a.link.dir, dir);
	a.link.name = (char *)name;
	WCALL(c, cp_LINK3res, res, rpc_nfs3_link_async(c->rpc, wt_cb, &a, &cs));
}

/* ----------------------------------------------------------- conveniences */
fh_t wt_post_fh(const post_op_fh3 *p)
{
	if (!p->handle_follows)
		fail_msg("reply carries no file handle");
	return itc_fh(&p->post_op_fh3_u.handle);
}

fh_t wt_create_ok(itc_t *c, const fh_t *dir, const char *name, uint32_t mode)
{
	CREATE3res r;
	sattr3 sa = wt_sattr_mode(mode);
	ITC_CALL(c, wtc_create(c, dir, name, UNCHECKED, &sa, NULL, &r));
	if (r.status != NFS3_OK)
		fail_msg("CREATE(%s): %s", name, itest_nfsstat_name(r.status));
	return wt_post_fh(&r.CREATE3res_u.resok.obj);
}

fh_t wt_mkdir_ok(itc_t *c, const fh_t *dir, const char *name, uint32_t mode)
{
	MKDIR3res r;
	sattr3 sa = wt_sattr_mode(mode);
	ITC_CALL(c, wtc_mkdir(c, dir, name, &sa, &r));
	if (r.status != NFS3_OK)
		fail_msg("MKDIR(%s): %s", name, itest_nfsstat_name(r.status));
	return wt_post_fh(&r.MKDIR3res_u.resok.obj);
}

WRITE3resok wt_write_ok(itc_t *c, const fh_t *fh, uint64_t off, const void *data, uint32_t len,
			stable_how how)
{
	WRITE3res r;
	ITC_CALL(c, wtc_write(c, fh, off, data, len, how, &r));
	if (r.status != NFS3_OK)
		fail_msg("WRITE(%llu, %u): %s", (unsigned long long)off, len,
			 itest_nfsstat_name(r.status));
	if (r.WRITE3res_u.resok.count != len)
		fail_msg("WRITE(%llu, %u): short count %u", (unsigned long long)off, len,
			 r.WRITE3res_u.resok.count);
	return r.WRITE3res_u.resok;
}

void wt_read_exact(itc_t *c, const fh_t *fh, uint64_t off, void *buf, uint32_t len)
{
	uint32_t got = 0;
	while (got < len) {
		void *mark = itest_arena_mark();
		READ3res r;
		uint32_t want = len - got > (1u << 20) ? (1u << 20) : len - got;
		ITC_CALL(c, itc_read(c, fh, off + got, want, &r));
		if (r.status != NFS3_OK)
			fail_msg("READ(%llu, %u): %s", (unsigned long long)(off + got), want,
				 itest_nfsstat_name(r.status));
		uint32_t n = r.READ3res_u.resok.count;
		if (n == 0)
			fail_msg("READ(%llu): unexpected end of file after %u of %u bytes",
				 (unsigned long long)(off + got), got, len);
		memcpy((char *)buf + got, r.READ3res_u.resok.data.data_val, n);
		got += n;
		itest_arena_release(mark);
	}
}

nfsstat3 wt_lookup_status(itc_t *c, const fh_t *dir, const char *name)
{
	LOOKUP3res r;
	ITC_CALL(c, itc_lookup(c, dir, name, &r));
	return r.status;
}

nfsstat3 wt_getattr_status(itc_t *c, const fh_t *fh)
{
	GETATTR3res r;
	ITC_CALL(c, itc_getattr(c, fh, &r));
	return r.status;
}

struct stat wt_lstat(const struct itest_env *env, const char *rel)
{
	struct stat st;
	const char *p = itest_path(env, rel);
	if (lstat(p, &st) < 0)
		fail_msg("lstat(%s): %s", p, strerror(errno));
	return st;
}

void wt_check_pre(const pre_op_attr *pre, const struct stat *b, const char *what)
{
	if (!pre->attributes_follow)
		fail_msg("%s: no pre-op attributes", what);
	const wcc_attr *w = &pre->pre_op_attr_u.attributes;
	if (w->size != (uint64_t)b->st_size)
		fail_msg("%s: pre-op size %llu, expected %lld", what, (unsigned long long)w->size,
			 (long long)b->st_size);
	if (w->mtime.seconds != (uint32_t)b->st_mtim.tv_sec ||
	    w->mtime.nseconds != (uint32_t)b->st_mtim.tv_nsec)
		fail_msg("%s: pre-op mtime %u.%09u, expected %lld.%09ld", what, w->mtime.seconds,
			 w->mtime.nseconds, (long long)b->st_mtim.tv_sec, b->st_mtim.tv_nsec);
	if (w->ctime.seconds != (uint32_t)b->st_ctim.tv_sec ||
	    w->ctime.nseconds != (uint32_t)b->st_ctim.tv_nsec)
		fail_msg("%s: pre-op ctime %u.%09u, expected %lld.%09ld", what, w->ctime.seconds,
			 w->ctime.nseconds, (long long)b->st_ctim.tv_sec, b->st_ctim.tv_nsec);
}

void wt_check_post(const post_op_attr *post, const char *path, const char *what)
{
	if (!post->attributes_follow)
		fail_msg("%s: no post-op attributes", what);
	itest_check_attr_matches(&post->post_op_attr_u.attributes, path);
}

void wt_check_wcc(const wcc_data *w, const struct stat *before, const char *path, const char *what)
{
	wt_check_pre(&w->before, before, what);
	wt_check_post(&w->after, path, what);
}

void wt_make_file(const struct itest_env *env, const char *rel, const char *content, uid_t uid,
		  gid_t gid, mode_t mode)
{
	const char *p = itest_path(env, rel);
	if (itest_write_file(p, content, content ? strlen(content) : 0) != 0)
		fail_msg("write %s: %s", p, strerror(errno));
	if (lchown(p, uid, gid) < 0 || chmod(p, mode) < 0)
		fail_msg("chown/chmod %s: %s", p, strerror(errno));
}

void wt_make_dir(const struct itest_env *env, const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
	const char *p = itest_path(env, rel);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	if (lchown(p, uid, gid) < 0 || chmod(p, mode) < 0)
		fail_msg("chown/chmod %s: %s", p, strerror(errno));
}

unsigned char *wt_slurp_bin(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	unsigned char *buf = itest_alloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

int wt_deleted_fds(pid_t pid, const char *dir)
{
	char fddir[64];
	snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(fddir);
	if (!d)
		return -1;
	int n = 0;
	size_t dl = strlen(dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		char lp[PATH_MAX], target[PATH_MAX];
		snprintf(lp, sizeof(lp), "%s/%s", fddir, de->d_name);
		ssize_t t = readlink(lp, target, sizeof(target) - 1);
		if (t <= 0)
			continue;
		target[t] = 0;
		if (strncmp(target, dir, dl) == 0 && strstr(target, " (deleted)"))
			n++;
	}
	closedir(d);
	return n;
}

/* ------------------------------------------------------------ raw RPC */
void wt_raw_hdr(xbuf *b, uint32_t xid, uint32_t proc, uint32_t uid, uint32_t gid)
{
	xbuf cred;
	xb_init(&cred);
	rr_authsys_body(&cred, 0x1234, "wtest", uid, gid, 0, NULL);
	rr_call_hdr(b, xid, 2, ITEST_PROG_NFS, 3, proc, RR_FLAVOR_SYS, cred.buf, cred.len);
	xb_free(&cred);
}

int wt_raw_call(int fd, const xbuf *msg, uint32_t xid)
{
	if (rr_tcp_send_record(fd, msg->buf, msg->len, NULL, 0, 0) != 0)
		return -1;
	for (;;) {
		unsigned char *raw = NULL;
		long n = rr_tcp_recv_record(fd, &raw, ITEST_CALL_TIMEOUT_MS);
		if (n < 0)
			return -1;
		rr_reply rep;
		int st = -1;
		if (rr_parse_reply(raw, (size_t)n, &rep) == 0 && rep.xid == xid) {
			if (rep.reply_stat == RR_MSG_ACCEPTED && rep.accept_stat == RR_SUCCESS &&
			    rep.body_len >= 4) {
				uint32_t be;
				memcpy(&be, rep.body, 4);
				st = (int)ntohl(be);
			}
			free(raw);
			return st;
		}
		free(raw);
	}
}

/* ------------------------------------------------------------ fixtures */
struct itest_env wt_env;
struct itest_server wt_srv;

int wt_group_setup(const char *tag, const char *const *extra)
{
	if (itest_env_init(&wt_env, tag) != 0)
		return -1;
	/* The export is shared by several identities in some tests. */
	chmod(wt_env.dir, 0777);
	return itest_server_start(&wt_srv, &wt_env, extra);
}

int wt_group_teardown(void **state)
{
	(void)state;
	int st = wt_srv.pid > 0 ? itest_server_stop(&wt_srv) : 0;
	itest_env_cleanup(&wt_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

int wt_setup(void **state)
{
	struct wt_ctx *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	if (!x->c) {
		free(x);
		return -1;
	}
	x->root = itc_root(x->c, "/");
	*state = x;
	return 0;
}

int wt_teardown(void **state)
{
	struct wt_ctx *x = *state;
	if (x) {
		itc_close(x->c);
		free(x);
	}
	return itest_check_server_teardown(&wt_srv);
}

fh_t wt_dir_fh(struct wt_ctx *x, const char *rel)
{
	const char *p = itest_path(&wt_env, rel);
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	chmod(p, 0777);
	return itc_walk(x->c, &x->root, rel);
}
