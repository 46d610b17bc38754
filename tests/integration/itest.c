/*
 * itest.c - helpers for the loopnfs integration tests (see itest.h).
 */
#define _GNU_SOURCE
#include "itest.h"
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LOOPNFSD_DEFAULT_PATH
#define LOOPNFSD_DEFAULT_PATH "loopnfsd"
#endif

/* ================================================================ arena */
struct arena_blk {
	struct arena_blk *next;
	max_align_t pad[];
};
static struct arena_blk *g_arena;

void *itest_alloc(size_t n)
{
	struct arena_blk *b = calloc(1, sizeof(*b) + n + 1);
	if (!b) {
		fprintf(stderr, "itest_alloc: out of memory\n");
		abort();
	}
	b->next = g_arena;
	g_arena = b;
	return b->pad;
}

char *itest_strdup(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *d = itest_alloc(n + 1);
	memcpy(d, s, n);
	return d;
}

void itest_arena_free(void)
{
	while (g_arena) {
		struct arena_blk *n = g_arena->next;
		free(g_arena);
		g_arena = n;
	}
}

void *itest_arena_mark(void)
{
	return g_arena;
}

void itest_arena_release(void *mark)
{
	while (g_arena && (void *)g_arena != mark) {
		struct arena_blk *n = g_arena->next;
		free(g_arena);
		g_arena = n;
	}
}

char *itest_sprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = itest_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* ========================================================== environment */
static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int itest_rmtree(const char *path)
{
	return nftw(path, rm_cb, 64, FTW_DEPTH | FTW_PHYS);
}

int itest_env_init(struct itest_env *env, const char *tag)
{
	memset(env, 0, sizeof(*env));
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(env->base, sizeof(env->base), "%s/loopnfs-it-%s-XXXXXX", tmp, tag);
	if (!mkdtemp(env->base)) {
		fprintf(stderr, "mkdtemp(%s): %s\n", env->base, strerror(errno));
		return -1;
	}
	char real[PATH_MAX];
	if (!realpath(env->base, real)) {
		fprintf(stderr, "realpath(%s): %s\n", env->base, strerror(errno));
		return -1;
	}
	if (strlen(real) >= sizeof(env->base)) {
		fprintf(stderr, "temp path too long: %s\n", real);
		return -1;
	}
	memcpy(env->base, real, strlen(real) + 1);
	snprintf(env->dir, sizeof(env->dir), "%s/export", env->base);
	snprintf(env->state, sizeof(env->state), "%s/state", env->base);
	if (mkdir(env->dir, 0755) < 0 || mkdir(env->state, 0700) < 0) {
		fprintf(stderr, "mkdir: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void itest_env_cleanup(struct itest_env *env)
{
	if (!env->base[0])
		return;
	const char *keep = getenv("ITEST_KEEP");
	if (keep && *keep && strcmp(keep, "0") != 0) {
		fprintf(stderr, "itest: keeping %s\n", env->base);
		return;
	}
	itest_rmtree(env->base);
	env->base[0] = 0;
}

char *itest_path(const struct itest_env *env, const char *rel)
{
	return itest_sprintf("%s/%s", env->dir, rel);
}

int itest_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

void itest_pattern(void *buf, size_t len, uint64_t offset, uint32_t seed)
{
	unsigned char *b = buf;
	for (size_t i = 0; i < len; i++) {
		uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull + seed;
		x ^= x >> 29;
		b[i] = (unsigned char)(x ^ (x >> 17));
	}
}

/* =============================================================== server */
const char *itest_loopnfsd_path(void)
{
	const char *p = getenv("LOOPNFSD");
	if (p && *p)
		return p;
	return LOOPNFSD_DEFAULT_PATH;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pid_t itest_spawn(const char *const *args, const char *out_path, const char *err_path)
{
	const char *argv[64];
	int n = 0;
	argv[n++] = itest_loopnfsd_path();
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Never outlive the test process. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (in < 0 || out < 0 || err < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int itest_wait_exit(pid_t pid, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(5000);
	}
}

char *itest_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return itest_strdup("");
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return itest_strdup("");
	}
	size_t cap = (size_t)sb.st_size + 4096, len = 0;
	char *buf = itest_alloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap)
			break;
	}
	buf[len] = 0;
	close(fd);
	return buf;
}

/* Parse the first "port=N" in s; 0 if none. */
static int parse_port(const char *s)
{
	const char *p = s;
	while ((p = strstr(p, "port=")) != NULL) {
		/* a "port=" word of its own (not "mountport=", "mount_port=") */
		if (p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') {
			const char *q = p + 5;
			long v = 0;
			int digits = 0;
			while (*q >= '0' && *q <= '9') {
				v = v * 10 + (*q - '0');
				q++;
				digits++;
			}
			if (digits && v > 0 && v < 65536 &&
			    (*q == '\n' || *q == ' ' || *q == ',' || *q == '\t' || *q == 0))
				return (int)v;
		}
		p += 5;
	}
	return 0;
}

void itest_server_dump_log(const struct itest_server *s)
{
	char *o = itest_slurp(s->out_path);
	char *e = itest_slurp(s->err_path);
	fprintf(stderr,
		"---- loopnfsd stdout (%s) ----\n%s---- loopnfsd stderr (%s) ----\n%s----\n",
		s->out_path, o, s->err_path, e);
}

int itest_server_start(struct itest_server *s, const struct itest_env *env,
		       const char *const *extra)
{
	return itest_server_start_dirs(s, env, extra, NULL);
}

int itest_server_start_dirs(struct itest_server *s, const struct itest_env *env,
			    const char *const *extra, const char *const *dirs)
{
	static int counter;
	int gen = ++counter;
	memset(s, 0, sizeof(*s));
	s->env = env;
	s->generation = gen;
	snprintf(s->out_path, sizeof(s->out_path), "%s/loopnfsd.%d.out", env->base, gen);
	snprintf(s->err_path, sizeof(s->err_path), "%s/loopnfsd.%d.err", env->base, gen);
	unlink(s->out_path);
	unlink(s->err_path);

	const char *args[64];
	int n = 0;
	args[n++] = "--port";
	args[n++] = "0";
	args[n++] = "--no-rpcbind";
	args[n++] = "--state-dir";
	args[n++] = env->state;
	for (int i = 0; extra && extra[i] && n < 40; i++)
		args[n++] = extra[i];
	if (!dirs)
		args[n++] = env->dir;
	for (int i = 0; dirs && dirs[i] && n < 62; i++)
		args[n++] = dirs[i];
	args[n] = NULL;

	s->pid = itest_spawn(args, s->out_path, s->err_path);
	if (s->pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return -1;
	}
	long long deadline = now_ms() + ITEST_READY_TIMEOUT_MS;
	for (;;) {
		char *o = itest_slurp(s->out_path);
		int port = parse_port(o);
		if (port > 0) {
			s->port = capture_start(port, &s->capture);
			return 0;
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			fprintf(stderr, "loopnfsd exited before ready (status 0x%x)\n", st);
			itest_server_dump_log(s);
			s->pid = 0;
			return -1;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "loopnfsd did not print port=N within %d ms\n",
				ITEST_READY_TIMEOUT_MS);
			itest_server_dump_log(s);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
			s->pid = 0;
			return -1;
		}
		usleep(10000);
	}
}

int itest_server_stop(struct itest_server *s)
{
	if (s->pid <= 0)
		return -1;
	capture_stop(s->capture);
	s->capture = NULL;
	kill(s->pid, SIGTERM);
	int st = itest_wait_exit(s->pid, ITEST_EXIT_TIMEOUT_MS);
	if (st != 0) {
		if (st == -1)
			fprintf(stderr, "loopnfsd (pid %d) did not exit within %d ms of SIGTERM\n",
				(int)s->pid, ITEST_EXIT_TIMEOUT_MS);
		else if (WIFEXITED(st))
			fprintf(stderr, "loopnfsd (pid %d) exited %d after SIGTERM (want 0)\n",
				(int)s->pid, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			fprintf(stderr, "loopnfsd (pid %d) killed by signal %d after SIGTERM\n",
				(int)s->pid, WTERMSIG(st));
		itest_server_dump_log(s);
	}
	s->pid = 0;
	return st;
}

int itest_server_alive(struct itest_server *s)
{
	if (s->pid <= 0)
		return 0;
	int st;
	pid_t r = waitpid(s->pid, &st, WNOHANG);
	if (r == 0)
		return 1;
	if (r == s->pid) {
		if (WIFSIGNALED(st))
			fprintf(stderr, "loopnfsd (pid %d) died: signal %d\n", (int)s->pid,
				WTERMSIG(st));
		else
			fprintf(stderr, "loopnfsd (pid %d) exited unexpectedly: status %d\n",
				(int)s->pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		itest_server_dump_log(s);
		s->pid = 0;
	}
	return 0;
}

int itest_check_server_teardown(struct itest_server *s)
{
	itest_arena_free();
	if (!itest_server_alive(s)) {
		fprintf(stderr, "itest: server is no longer running after this test\n");
		return -1;
	}
	return 0;
}

int itest_server_restart(struct itest_server *s, const char *const *extra)
{
	if (itest_server_stop(s) != 0)
		return -1;
	return itest_server_start(s, s->env, extra);
}

/* ======================================================== libnfs client */
struct call_state {
	int done;
	int status;
	void *out;
	void (*copy)(void *out, void *data);
	char err[256];
};

static void generic_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct call_state *cs = priv;
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

static int itc_wait(itc_t *c, struct call_state *cs, int queued)
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
				rpc_disconnect(c->rpc, "itest: service error");
				cs->done = 1;
				return -1;
			}
			break;
		}
		if (!cs->done && now_ms() > deadline) {
			snprintf(c->err, sizeof(c->err), "timeout after %d ms",
				 ITEST_CALL_TIMEOUT_MS);
			rpc_disconnect(c->rpc, "itest: timeout");
			cs->done = 1;
			return -1;
		}
	}
	if (cs->status != RPC_STATUS_SUCCESS) {
		snprintf(c->err, sizeof(c->err), "%s", cs->err);
		return -1;
	}
	return 0;
}

itc_t *itc_connect(int port)
{
	itc_t *c = calloc(1, sizeof(*c));
	c->port = port;
	c->rpc = rpc_init_context();
	if (!c->rpc) {
		free(c);
		return NULL;
	}
	struct call_state cs = { 0 };
	int q = rpc_connect_port_async(c->rpc, "127.0.0.1", port, ITEST_PROG_NFS, 3, generic_cb,
				       &cs);
	if (itc_wait(c, &cs, q) != 0) {
		fprintf(stderr, "itc_connect(127.0.0.1:%d): %s\n", port, c->err);
		rpc_destroy_context(c->rpc);
		free(c);
		return NULL;
	}
	return c;
}

void itc_close(itc_t *c)
{
	if (!c)
		return;
	if (c->rpc)
		rpc_destroy_context(c->rpc);
	free(c);
}

void itc_set_auth_none(itc_t *c)
{
	rpc_set_auth(c->rpc, libnfs_authnone_create());
}

void itc_set_auth_sys(itc_t *c, uint32_t uid, uint32_t gid)
{
	rpc_set_auth(c->rpc, libnfs_authunix_create("itest", uid, gid, 0, NULL));
}

/* ---------------------------------------------------------- deep copies */
static void dup_bytes(char **dst, const char *src, u_int len)
{
	if (!src) {
		*dst = NULL;
		return;
	}
	char *d = itest_alloc(len + 1);
	memcpy(d, src, len);
	*dst = d;
}

static void dup_nfs_fh3(nfs_fh3 *f)
{
	dup_bytes(&f->data.data_val, f->data.data_val, f->data.data_len);
}

/*
 * libnfs's decoder hands out structures that are not always naturally
 * aligned (UBSan flags them), so every read of libnfs memory goes through
 * memcpy into aligned copies.
 */
#define LOAD(dst, src) memcpy((dst), (src), sizeof(*(dst)))

static void cp_mountres3(void *out, void *data)
{
	mountres3 *d = out;
	LOAD(d, data);
	if (d->fhs_status == MNT3_OK) {
		mountres3_ok *ok = &d->mountres3_u.mountinfo;
		dup_bytes(&ok->fhandle.fhandle3_val, ok->fhandle.fhandle3_val,
			  ok->fhandle.fhandle3_len);
		int *fl = NULL;
		if (ok->auth_flavors.auth_flavors_len) {
			fl = itest_alloc(sizeof(int) * ok->auth_flavors.auth_flavors_len);
			memcpy(fl, ok->auth_flavors.auth_flavors_val,
			       sizeof(int) * ok->auth_flavors.auth_flavors_len);
		}
		ok->auth_flavors.auth_flavors_val = fl;
	}
}

static void cp_mountres1(void *out, void *data)
{
	LOAD((mountres1 *)out, data);
}

static void cp_mountlist(void *out, void *data)
{
	mountlist src = NULL;
	if (data)
		LOAD(&src, data);
	mountlist head = NULL, *tail = &head;
	while (src) {
		mountbody cur;
		LOAD(&cur, src);
		mountbody *b = itest_alloc(sizeof(*b));
		b->ml_hostname = itest_strdup(cur.ml_hostname);
		b->ml_directory = itest_strdup(cur.ml_directory);
		*tail = b;
		tail = &b->ml_next;
		src = cur.ml_next;
	}
	*(mountlist *)out = head;
}

static void cp_exports(void *out, void *data)
{
	exports src = NULL;
	if (data)
		LOAD(&src, data);
	exports head = NULL, *tail = &head;
	while (src) {
		exportnode cur;
		LOAD(&cur, src);
		exportnode *e = itest_alloc(sizeof(*e));
		e->ex_dir = itest_strdup(cur.ex_dir);
		groups gh = NULL, *gt = &gh;
		groups g = cur.ex_groups;
		while (g) {
			groupnode gc;
			LOAD(&gc, g);
			groupnode *n = itest_alloc(sizeof(*n));
			n->gr_name = itest_strdup(gc.gr_name);
			*gt = n;
			gt = &n->gr_next;
			g = gc.gr_next;
		}
		e->ex_groups = gh;
		*tail = e;
		tail = &e->ex_next;
		src = cur.ex_next;
	}
	*(exports *)out = head;
}

#define SHALLOW_COPY(T)                           \
	static void cp_##T(void *out, void *data) \
	{                                         \
		LOAD((T *)out, data);             \
	}
SHALLOW_COPY(GETATTR3res)
SHALLOW_COPY(ACCESS3res)
SHALLOW_COPY(FSSTAT3res)
SHALLOW_COPY(FSINFO3res)
SHALLOW_COPY(PATHCONF3res)

static void cp_LOOKUP3res(void *out, void *data)
{
	LOOKUP3res *d = out;
	LOAD(d, data);
	if (d->status == NFS3_OK)
		dup_nfs_fh3(&d->LOOKUP3res_u.resok.object);
}

static void cp_READLINK3res(void *out, void *data)
{
	READLINK3res *d = out;
	LOAD(d, data);
	if (d->status == NFS3_OK)
		d->READLINK3res_u.resok.data = itest_strdup(d->READLINK3res_u.resok.data);
}

static void cp_READ3res(void *out, void *data)
{
	READ3res *d = out;
	LOAD(d, data);
	if (d->status == NFS3_OK)
		dup_bytes(&d->READ3res_u.resok.data.data_val, d->READ3res_u.resok.data.data_val,
			  d->READ3res_u.resok.data.data_len);
}

static void cp_READDIR3res(void *out, void *data)
{
	READDIR3res *d = out;
	LOAD(d, data);
	if (d->status != NFS3_OK)
		return;
	entry3 *head = NULL, **tail = &head;
	for (entry3 *e = d->READDIR3res_u.resok.reply.entries; e;) {
		entry3 *n = itest_alloc(sizeof(*n));
		LOAD(n, e);
		e = n->nextentry;
		n->name = itest_strdup(n->name);
		n->nextentry = NULL;
		*tail = n;
		tail = &n->nextentry;
	}
	d->READDIR3res_u.resok.reply.entries = head;
}

static void cp_READDIRPLUS3res(void *out, void *data)
{
	READDIRPLUS3res *d = out;
	LOAD(d, data);
	if (d->status != NFS3_OK)
		return;
	entryplus3 *head = NULL, **tail = &head;
	for (entryplus3 *e = d->READDIRPLUS3res_u.resok.reply.entries; e;) {
		entryplus3 *n = itest_alloc(sizeof(*n));
		LOAD(n, e);
		e = n->nextentry;
		n->name = itest_strdup(n->name);
		if (n->name_handle.handle_follows)
			dup_nfs_fh3(&n->name_handle.post_op_fh3_u.handle);
		n->nextentry = NULL;
		*tail = n;
		tail = &n->nextentry;
	}
	d->READDIRPLUS3res_u.resok.reply.entries = head;
}

/* ------------------------------------------------------------ MOUNT */
#define CALL(c, copyfn, outp, expr)            \
	do {                                   \
		struct call_state cs = { 0 };  \
		cs.copy = (copyfn);            \
		cs.out = (outp);               \
		int q_ = (expr);               \
		return itc_wait((c), &cs, q_); \
	} while (0)

int itc_mnt_null(itc_t *c, int vers)
{
	if (vers == 1)
		CALL(c, NULL, NULL, rpc_mount1_null_async(c->rpc, generic_cb, &cs));
	CALL(c, NULL, NULL, rpc_mount3_null_async(c->rpc, generic_cb, &cs));
}

int itc_mnt3(itc_t *c, const char *path, mountres3 *res)
{
	memset(res, 0, sizeof(*res));
	CALL(c, cp_mountres3, res, rpc_mount3_mnt_async(c->rpc, generic_cb, (char *)path, &cs));
}

int itc_mnt1(itc_t *c, const char *path, mountres1 *res)
{
	memset(res, 0, sizeof(*res));
	CALL(c, cp_mountres1, res, rpc_mount1_mnt_async(c->rpc, generic_cb, (char *)path, &cs));
}

int itc_dump(itc_t *c, int vers, mountlist *res)
{
	*res = NULL;
	if (vers == 1)
		CALL(c, cp_mountlist, res, rpc_mount1_dump_async(c->rpc, generic_cb, &cs));
	CALL(c, cp_mountlist, res, rpc_mount3_dump_async(c->rpc, generic_cb, &cs));
}

int itc_umnt(itc_t *c, int vers, const char *path)
{
	if (vers == 1)
		CALL(c, NULL, NULL, rpc_mount1_umnt_async(c->rpc, generic_cb, (char *)path, &cs));
	CALL(c, NULL, NULL, rpc_mount3_umnt_async(c->rpc, generic_cb, (char *)path, &cs));
}

int itc_umntall(itc_t *c, int vers)
{
	if (vers == 1)
		CALL(c, NULL, NULL, rpc_mount1_umntall_async(c->rpc, generic_cb, &cs));
	CALL(c, NULL, NULL, rpc_mount3_umntall_async(c->rpc, generic_cb, &cs));
}

int itc_export(itc_t *c, int vers, exports *res)
{
	*res = NULL;
	if (vers == 1)
		CALL(c, cp_exports, res, rpc_mount1_export_async(c->rpc, generic_cb, &cs));
	CALL(c, cp_exports, res, rpc_mount3_export_async(c->rpc, generic_cb, &cs));
}

/* -------------------------------------------------------------- NFSv3 */
static void to_nfs_fh3(nfs_fh3 *dst, const fh_t *src)
{
	dst->data.data_len = src->len;
	dst->data.data_val = (char *)src->data;
}

int itc_nfs_null(itc_t *c)
{
	CALL(c, NULL, NULL, rpc_nfs3_null_async(c->rpc, generic_cb, &cs));
}

int itc_getattr(itc_t *c, const fh_t *fh, GETATTR3res *res)
{
	GETATTR3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.object, fh);
	CALL(c, cp_GETATTR3res, res, rpc_nfs3_getattr_async(c->rpc, generic_cb, &a, &cs));
}

int itc_lookup(itc_t *c, const fh_t *dir, const char *name, LOOKUP3res *res)
{
	LOOKUP3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.what.dir, dir);
	a.what.name = (char *)name;
	CALL(c, cp_LOOKUP3res, res, rpc_nfs3_lookup_async(c->rpc, generic_cb, &a, &cs));
}

int itc_access(itc_t *c, const fh_t *fh, uint32_t access, ACCESS3res *res)
{
	ACCESS3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.object, fh);
	a.access = access;
	CALL(c, cp_ACCESS3res, res, rpc_nfs3_access_async(c->rpc, generic_cb, &a, &cs));
}

int itc_readlink(itc_t *c, const fh_t *fh, READLINK3res *res)
{
	READLINK3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.symlink, fh);
	CALL(c, cp_READLINK3res, res, rpc_nfs3_readlink_async(c->rpc, generic_cb, &a, &cs));
}

int itc_read(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, READ3res *res)
{
	READ3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.file, fh);
	a.offset = off;
	a.count = count;
	CALL(c, cp_READ3res, res, rpc_nfs3_read_async(c->rpc, generic_cb, &a, &cs));
}

int itc_readdir(itc_t *c, const fh_t *dir, uint64_t cookie, const char *verf, uint32_t count,
		READDIR3res *res)
{
	READDIR3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.dir, dir);
	a.cookie = cookie;
	if (verf)
		memcpy(a.cookieverf, verf, NFS3_COOKIEVERFSIZE);
	a.count = count;
	CALL(c, cp_READDIR3res, res, rpc_nfs3_readdir_async(c->rpc, generic_cb, &a, &cs));
}

int itc_readdirplus(itc_t *c, const fh_t *dir, uint64_t cookie, const char *verf, uint32_t dircount,
		    uint32_t maxcount, READDIRPLUS3res *res)
{
	READDIRPLUS3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.dir, dir);
	a.cookie = cookie;
	if (verf)
		memcpy(a.cookieverf, verf, NFS3_COOKIEVERFSIZE);
	a.dircount = dircount;
	a.maxcount = maxcount;
	CALL(c, cp_READDIRPLUS3res, res, rpc_nfs3_readdirplus_async(c->rpc, generic_cb, &a, &cs));
}

int itc_fsstat(itc_t *c, const fh_t *fh, FSSTAT3res *res)
{
	FSSTAT3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.fsroot, fh);
	CALL(c, cp_FSSTAT3res, res, rpc_nfs3_fsstat_async(c->rpc, generic_cb, &a, &cs));
}

int itc_fsinfo(itc_t *c, const fh_t *fh, FSINFO3res *res)
{
	FSINFO3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.fsroot, fh);
	CALL(c, cp_FSINFO3res, res, rpc_nfs3_fsinfo_async(c->rpc, generic_cb, &a, &cs));
}

int itc_pathconf(itc_t *c, const fh_t *fh, PATHCONF3res *res)
{
	PATHCONF3args a;
	memset(&a, 0, sizeof(a));
	memset(res, 0, sizeof(*res));
	to_nfs_fh3(&a.object, fh);
	CALL(c, cp_PATHCONF3res, res, rpc_nfs3_pathconf_async(c->rpc, generic_cb, &a, &cs));
}

/* --------------------------------------------------------- conveniences */
fh_t itc_fh(const nfs_fh3 *f)
{
	fh_t r;
	memset(&r, 0, sizeof(r));
	if (f->data.data_len > NFS3_FHSIZE)
		fail_msg("file handle longer than %d bytes: %u", NFS3_FHSIZE, f->data.data_len);
	r.len = f->data.data_len;
	memcpy(r.data, f->data.data_val, r.len);
	return r;
}

int itc_fh_equal(const fh_t *a, const fh_t *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

fh_t itc_root(itc_t *c, const char *path)
{
	mountres3 m;
	ITC_CALL(c, itc_mnt3(c, path, &m));
	if (m.fhs_status != MNT3_OK)
		fail_msg("MNT3(%s) returned mountstat3 %d", path, (int)m.fhs_status);
	fh_t r;
	memset(&r, 0, sizeof(r));
	if (m.mountres3_u.mountinfo.fhandle.fhandle3_len > NFS3_FHSIZE ||
	    m.mountres3_u.mountinfo.fhandle.fhandle3_len == 0)
		fail_msg("MNT3(%s) handle length %u", path,
			 m.mountres3_u.mountinfo.fhandle.fhandle3_len);
	r.len = m.mountres3_u.mountinfo.fhandle.fhandle3_len;
	memcpy(r.data, m.mountres3_u.mountinfo.fhandle.fhandle3_val, r.len);
	return r;
}

fh_t itc_lookup_ok(itc_t *c, const fh_t *dir, const char *name)
{
	LOOKUP3res r;
	ITC_CALL(c, itc_lookup(c, dir, name, &r));
	if (r.status != NFS3_OK)
		fail_msg("LOOKUP(%s): expected NFS3_OK, got %s(%d)", name,
			 itest_nfsstat_name(r.status), (int)r.status);
	return itc_fh(&r.LOOKUP3res_u.resok.object);
}

fh_t itc_walk(itc_t *c, const fh_t *root, const char *relpath)
{
	fh_t cur = *root;
	char *p = itest_strdup(relpath), *save = NULL;
	for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		cur = itc_lookup_ok(c, &cur, tok);
	return cur;
}

fattr3 itc_attr_ok(itc_t *c, const fh_t *fh)
{
	GETATTR3res r;
	ITC_CALL(c, itc_getattr(c, fh, &r));
	if (r.status != NFS3_OK)
		fail_msg("GETATTR: expected NFS3_OK, got %s(%d)", itest_nfsstat_name(r.status),
			 (int)r.status);
	return r.GETATTR3res_u.resok.obj_attributes;
}

const char *itest_nfsstat_name(int st)
{
	switch (st) {
	case 0:
		return "NFS3_OK";
	case 1:
		return "NFS3ERR_PERM";
	case 2:
		return "NFS3ERR_NOENT";
	case 5:
		return "NFS3ERR_IO";
	case 6:
		return "NFS3ERR_NXIO";
	case 13:
		return "NFS3ERR_ACCES";
	case 17:
		return "NFS3ERR_EXIST";
	case 18:
		return "NFS3ERR_XDEV";
	case 19:
		return "NFS3ERR_NODEV";
	case 20:
		return "NFS3ERR_NOTDIR";
	case 21:
		return "NFS3ERR_ISDIR";
	case 22:
		return "NFS3ERR_INVAL";
	case 27:
		return "NFS3ERR_FBIG";
	case 28:
		return "NFS3ERR_NOSPC";
	case 30:
		return "NFS3ERR_ROFS";
	case 31:
		return "NFS3ERR_MLINK";
	case 63:
		return "NFS3ERR_NAMETOOLONG";
	case 66:
		return "NFS3ERR_NOTEMPTY";
	case 69:
		return "NFS3ERR_DQUOT";
	case 70:
		return "NFS3ERR_STALE";
	case 71:
		return "NFS3ERR_REMOTE";
	case 10001:
		return "NFS3ERR_BADHANDLE";
	case 10002:
		return "NFS3ERR_NOT_SYNC";
	case 10003:
		return "NFS3ERR_BAD_COOKIE";
	case 10004:
		return "NFS3ERR_NOTSUPP";
	case 10005:
		return "NFS3ERR_TOOSMALL";
	case 10006:
		return "NFS3ERR_SERVERFAULT";
	case 10007:
		return "NFS3ERR_BADTYPE";
	case 10008:
		return "NFS3ERR_JUKEBOX";
	default:
		return "?";
	}
}

static int ftype_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return NF3REG;
	case S_IFDIR:
		return NF3DIR;
	case S_IFBLK:
		return NF3BLK;
	case S_IFCHR:
		return NF3CHR;
	case S_IFLNK:
		return NF3LNK;
	case S_IFSOCK:
		return NF3SOCK;
	case S_IFIFO:
		return NF3FIFO;
	default:
		return 0;
	}
}

void itest_check_attr_matches(const fattr3 *a, const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		fail_msg("lstat(%s): %s", path, strerror(errno));
	if ((int)a->type != ftype_of(st.st_mode))
		fail_msg("%s: type: expected %d, got %d", path, ftype_of(st.st_mode), (int)a->type);
	if ((a->mode & 07777) != (st.st_mode & 07777))
		fail_msg("%s: mode: expected %o, got %o", path, st.st_mode & 07777, a->mode);
	if (a->nlink != st.st_nlink)
		fail_msg("%s: nlink: expected %lu, got %u", path, (unsigned long)st.st_nlink,
			 a->nlink);
	if (a->uid != st.st_uid || a->gid != st.st_gid)
		fail_msg("%s: uid/gid: expected %u/%u, got %u/%u", path, st.st_uid, st.st_gid,
			 a->uid, a->gid);
	if (a->size != (uint64_t)st.st_size)
		fail_msg("%s: size: expected %lld, got %llu", path, (long long)st.st_size,
			 (unsigned long long)a->size);
	if (a->used != (uint64_t)st.st_blocks * 512)
		fail_msg("%s: used: expected %llu (st_blocks*512), got %llu", path,
			 (unsigned long long)st.st_blocks * 512, (unsigned long long)a->used);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		if (a->rdev.specdata1 != major(st.st_rdev) ||
		    a->rdev.specdata2 != minor(st.st_rdev))
			fail_msg("%s: rdev: expected %u,%u got %u,%u", path, major(st.st_rdev),
				 minor(st.st_rdev), a->rdev.specdata1, a->rdev.specdata2);
	}
	if (a->mtime.seconds != (uint32_t)st.st_mtim.tv_sec ||
	    a->mtime.nseconds != (uint32_t)st.st_mtim.tv_nsec)
		fail_msg("%s: mtime: expected %lld.%09ld, got %u.%09u", path,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, a->mtime.seconds,
			 a->mtime.nseconds);
	if (a->ctime.seconds != (uint32_t)st.st_ctim.tv_sec ||
	    a->ctime.nseconds != (uint32_t)st.st_ctim.tv_nsec)
		fail_msg("%s: ctime: expected %lld.%09ld, got %u.%09u", path,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, a->ctime.seconds,
			 a->ctime.nseconds);
	if (a->atime.seconds != (uint32_t)st.st_atim.tv_sec ||
	    a->atime.nseconds != (uint32_t)st.st_atim.tv_nsec)
		fail_msg("%s: atime: expected %lld.%09ld, got %u.%09u", path,
			 (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, a->atime.seconds,
			 a->atime.nseconds);
}

static int reload_lines(const struct itest_server *s)
{
	int n = 0;
	for (const char *p = itest_slurp(s->err_path); (p = strstr(p, "reload")); p++)
		n++;
	return n;
}

int itest_server_reload(struct itest_server *s)
{
	int before = reload_lines(s);
	if (kill(s->pid, SIGHUP) != 0)
		return -1;
	/* The main thread takes the signal in its sweep wait: poll the log for its answer. */
	for (int i = 0; i < 500; i++) {
		if (reload_lines(s) > before)
			return 0;
		usleep(10000);
	}
	return -1;
}
