/* Shared helpers for the unit tier. */
#define _GNU_SOURCE
#include "unit.h"

#include "access.h"

#include "cred.h"
#include "export.h"
#include "backend.h"
#include "fh.h"
#include "objcache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *ut_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *path;
	if (asprintf(&path, "%s/loopnfs-unit-%s-XXXXXX", base, tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		fprintf(stderr, "mkdtemp %s: %s\n", path, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void ut_rm_rf(const char *path)
{
	if (path)
		nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

char *ut_join(const char *a, const char *b)
{
	char *p;
	if (asprintf(&p, "%s/%s", a, b) < 0)
		abort();
	return p;
}

void ut_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "create %s: %s\n", path, strerror(errno));
		abort();
	}
	close(fd);
}

void ut_mkdir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", path, strerror(errno));
		abort();
	}
}

void ut_rpc_init(struct ut_rpc *u, uint32_t uid, uint32_t gid)
{
	memset(u, 0, sizeof(*u));
	struct sockaddr_in *sin = (struct sockaddr_in *)&u->peer.addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(877);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->peer.addrlen = sizeof(*sin);
	u->peer.is_tcp = true;
	u->peer.is_local = true;
	/*
	 * One connection for the whole test process: objects the tests keep
	 * past their request still point at its view, as a client's would.
	 */
	static struct peer_cache *conn_cache;
	if (!conn_cache)
		conn_cache = peer_cache_new();
	u->peer.cache = conn_cache;
	u->call.xid = 0x1234;
	u->call.prog = 100003;
	u->call.vers = 3;
	u->call.cred.flavor = RPC_AUTH_SYS;
	u->call.cred.uid = uid;
	u->call.cred.gid = gid;
	strcpy(u->call.cred.machine, "unit");
	u->call.peer = &u->peer;
	u->req.call = &u->call;
	u->req.rep = &u->rep;
}

void ut_rpc_done(struct ut_rpc *u)
{
	req_release(&u->req);
	rpc_reply_free(&u->rep);
	u->req.ex = NULL;
	u->req.ids_set = false;
}

void ut_put_raw(struct ut_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

void ut_put32(struct ut_buf *b, uint32_t v)
{
	uint32_t be = htonl(v);
	ut_put_raw(b, &be, 4);
}

void ut_put_opaque(struct ut_buf *b, const void *data, uint32_t len)
{
	static const uint8_t zero[4];
	ut_put32(b, len);
	ut_put_raw(b, data, len);
	ut_put_raw(b, zero, (4 - (len & 3)) & 3);
}

void ut_buf_free(struct ut_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

uint32_t ut_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ut_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ut_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (s[0] && s[0] != '\n') {
		int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

int ut_run_capture(char *const argv[], char *out, size_t outlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(pfd[0], out + n, outlen - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == outlen - 1)
			break;
	}
	out[n] = '\0';
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ut_export_init(struct ut_export *u, const char *tag)
{
	memset(u, 0, sizeof(*u));
	u->base = ut_mkdtemp(tag);
	if (!u->base)
		return -1;
	u->statedir = ut_join(u->base, "state");
	u->exdir = ut_join(u->base, "export");
	ut_mkdir(u->exdir);
	cred_init();
	if (fh_init(u->statedir) != 0)
		return -1;
	char err[256];
	struct export_opts o = { .anonuid = 65534, .anongid = 65534 };
	u->ex = export_add(u->exdir, &o, err, sizeof(err));
	if (!u->ex || export_finish(err, sizeof(err)) != 0) {
		fprintf(stderr, "export_add %s: %s\n", u->exdir, err);
		return -1;
	}
	return 0;
}

void ut_export_free(struct ut_export *u)
{
	oc_shutdown();
	export_free_all();
	if (u->base)
		ut_rm_rf(u->base);
	free(u->base);
	free(u->statedir);
	free(u->exdir);
	memset(u, 0, sizeof(*u));
}

void ut_hmake(struct export *ex, const char *rel, struct fh_buf *out)
{
	struct stat st;
	int root = pt_export(ex)->root_fd;
	if (!rel[0]) {
		assert_int_equal(fstat(root, &st), 0);
		pt_make_fh(ex, root, "", &st, out);
		return;
	}
	assert_int_equal(fstatat(root, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	pt_make_fh(ex, root, rel, &st, out);
}
