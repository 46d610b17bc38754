/*
 * Client records on stable storage, for the grace period after a restart
 * (RFC 8881 8.4.2.1). One file per co_ownerid, named after a hash of it, so
 * a client that reboots overwrites its own record and nobody else's. Each
 * is written whole to a temporary file, fsync'ed and renamed over the old
 * one, then the directory fsync'ed: a crash leaves the old record or the
 * new one, never half of either. A record is checked byte by byte when
 * loaded (magic, version, lengths, a hash over all of it, the name it must
 * have): the directory is root's, but a damaged or planted file must cost
 * one log line and nothing more.
 *
 * Format, big-endian: "L4CR", version 1, ownerid length (1..1024), the
 * ownerid, the verifier (8), flavor, uid, then BLAKE2b-128 of all before.
 */
#define _GNU_SOURCE
#include "st4_int.h"

#include "cred.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "L4CR"
#define VERSION 1u
#define HASH_SIZE 16
#define HEAD_SIZE 12 /* magic, version, length */
#define TAIL_SIZE (ST4_VERIFIER_SIZE + 8 + HASH_SIZE)
#define RECORD_MAX (HEAD_SIZE + ST4_OPAQUE_LIMIT + TAIL_SIZE)
#define NAME_PREFIX "c-"
#define NAME_HEX 32

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void st4_db_name(const uint8_t *ownerid, uint32_t len, char name[40])
{
	static const char salt[] = "loopnfs nfs4 client record v1";
	uint8_t h[NAME_HEX / 2];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)salt, sizeof(salt));
	crypto_generichash_update(&st, ownerid, len);
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(name, NAME_PREFIX, 2);
	for (unsigned i = 0; i < sizeof(h); i++)
		snprintf(name + 2 + 2 * i, 3, "%02x", h[i]);
}

size_t st4_db_encode(const struct st4_record *r, uint8_t *buf, size_t cap)
{
	size_t len = HEAD_SIZE + r->ownerid_len + TAIL_SIZE;
	if (r->ownerid_len == 0 || r->ownerid_len > ST4_OPAQUE_LIMIT || cap < len)
		return 0;
	uint8_t *p = buf;
	memcpy(p, MAGIC, 4);
	put32(p + 4, VERSION);
	put32(p + 8, r->ownerid_len);
	p += HEAD_SIZE;
	memcpy(p, r->ownerid, r->ownerid_len);
	p += r->ownerid_len;
	memcpy(p, r->verifier, ST4_VERIFIER_SIZE);
	p += ST4_VERIFIER_SIZE;
	put32(p, r->principal.flavor);
	put32(p + 4, r->principal.uid);
	p += 8;
	crypto_generichash(p, HASH_SIZE, buf, (size_t)(p - buf), NULL, 0);
	return len;
}

int st4_db_decode(const uint8_t *buf, size_t len, struct st4_record *r)
{
	memset(r, 0, sizeof(*r));
	if (len < HEAD_SIZE + TAIL_SIZE || memcmp(buf, MAGIC, 4) != 0 || get32(buf + 4) != VERSION)
		return -EINVAL;
	uint32_t olen = get32(buf + 8);
	if (olen == 0 || olen > ST4_OPAQUE_LIMIT || len != HEAD_SIZE + olen + TAIL_SIZE)
		return -EINVAL;
	uint8_t h[HASH_SIZE];
	crypto_generichash(h, HASH_SIZE, buf, len - HASH_SIZE, NULL, 0);
	if (sodium_memcmp(h, buf + len - HASH_SIZE, HASH_SIZE) != 0)
		return -EINVAL;
	const uint8_t *p = buf + HEAD_SIZE;
	r->ownerid = malloc(olen);
	if (!r->ownerid)
		return -ENOMEM;
	memcpy(r->ownerid, p, olen);
	r->ownerid_len = olen;
	p += olen;
	memcpy(r->verifier, p, ST4_VERIFIER_SIZE);
	p += ST4_VERIFIER_SIZE;
	r->principal.flavor = get32(p);
	r->principal.uid = get32(p + 4);
	return 0;
}

int st4_db_open(struct st4_server *srv)
{
	const char *dir = srv->cfg.state_dir;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		log_error("nfs4: state directory %s: %s", dir, strerror(e));
		return -e;
	}
	srv->db_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srv->db_fd < 0) {
		int e = errno;
		log_error("nfs4: state directory %s: %s", dir, strerror(e));
		return -e;
	}
	return 0;
}

void st4_db_close(struct st4_server *srv)
{
	if (srv->db_fd >= 0)
		close(srv->db_fd);
	srv->db_fd = -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Temporary file, fsync, rename, directory fsync. */
static int write_record(int dfd, const struct st4_record *r)
{
	uint8_t buf[RECORD_MAX];
	size_t len = st4_db_encode(r, buf, sizeof(buf));
	if (len == 0)
		return -EINVAL;
	char name[40], tmp[48];
	st4_db_name(r->ownerid, r->ownerid_len, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int rc = write_all(fd, buf, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	return fsync(dfd) < 0 ? -errno : 0;
}

static int remove_record(int dfd, const uint8_t *ownerid, uint32_t len)
{
	char name[40];
	st4_db_name(ownerid, len, name);
	if (unlinkat(dfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync(dfd) < 0 ? -errno : 0;
}

/* The live confirmed client of this owner as a record (ownerid malloc'ed); false if none. */
static bool current_record(struct st4_server *srv, const uint8_t *ownerid, uint32_t len,
			   struct st4_record *out)
{
	bool found = false;
	pthread_mutex_lock(&srv->lock);
	for (struct st4_client *c = srv->clients; c; c = c->next) {
		if (c->confirmed && c->ownerid_len == len &&
		    memcmp(c->ownerid, ownerid, len) == 0) {
			out->ownerid = malloc(len);
			if (out->ownerid) {
				memcpy(out->ownerid, ownerid, len);
				out->ownerid_len = len;
				memcpy(out->verifier, c->verifier, ST4_VERIFIER_SIZE);
				out->principal = c->principal;
				found = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return found;
}

void st4_db_sync(struct st4_server *srv, const uint8_t *ownerid, uint32_t len)
{
	if (srv->db_fd < 0)
		return;
	pthread_mutex_lock(&srv->db_lock);
	struct st4_record r = { 0 };
	bool keep = current_record(srv, ownerid, len, &r);
	/*
	 * The records are the server's files in its own 0700 directory: written
	 * as the server, whoever's request leads here (a worker thread keeps the
	 * identity of the last caller it served, which may not enter it).
	 */
	cred_escalate();
	int rc = keep ? write_record(srv->db_fd, &r) : remove_record(srv->db_fd, ownerid, len);
	cred_restore();
	pthread_mutex_unlock(&srv->db_lock);
	free(r.ownerid);
	if (rc < 0)
		log_warn("nfs4: cannot %s a client record in the state directory: %s",
			 keep ? "write" : "remove", strerror(-rc));
}

static bool is_record_name(const char *name)
{
	if (strncmp(name, NAME_PREFIX, 2) != 0 || strlen(name) != 2 + NAME_HEX)
		return false;
	for (const char *p = name + 2; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* A record's temporary file ("c-<hex>.tmp"). */
static bool is_tmp_name(const char *name)
{
	char base[2 + NAME_HEX + 1];
	size_t n = strlen(name);
	if (n != 2 + NAME_HEX + 4 || strcmp(name + n - 4, ".tmp") != 0)
		return false;
	memcpy(base, name, n - 4);
	base[n - 4] = 0;
	return is_record_name(base);
}

/* One file of the directory as a record; -errno (logged by the caller) if it is none. */
static int read_record(int dfd, const char *name, struct st4_record *r)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	uint8_t buf[RECORD_MAX + 1];
	ssize_t n = -1;
	int rc = 0;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size > RECORD_MAX)
		rc = -EINVAL;
	else if ((n = pread(fd, buf, sizeof(buf), 0)) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0)
		rc = st4_db_decode(buf, (size_t)n, r);
	if (rc == 0) {
		char want[40];
		st4_db_name(r->ownerid, r->ownerid_len, want);
		if (strcmp(want, name) != 0) {
			free(r->ownerid);
			r->ownerid = NULL;
			rc = -EINVAL; /* a record under another's name */
		}
	}
	return rc;
}

static bool append(struct st4_record **v, unsigned *n, unsigned *cap, const struct st4_record *r)
{
	if (*n == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 16;
		struct st4_record *nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return false;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = *r;
	return true;
}

int st4_db_load(struct st4_server *srv, struct st4_record **out, unsigned *nout, unsigned max)
{
	*out = NULL;
	*nout = 0;
	int dfd = dup(srv->db_fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return -e;
	}
	unsigned n = 0, cap = 0;
	struct st4_record *v = NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (is_tmp_name(name)) {
			unlinkat(srv->db_fd, name, 0); /* a write a crash cut short */
			continue;
		}
		if (!is_record_name(name)) {
			log_warn("nfs4: state directory: %s is not a client record, skipped", name);
			continue;
		}
		if (n >= max) {
			log_warn("nfs4: state directory: more than %u records, %s skipped", max,
				 name);
			continue;
		}
		struct st4_record r;
		int rc = read_record(srv->db_fd, name, &r);
		if (rc < 0) {
			log_warn("nfs4: state directory: %s skipped: %s", name,
				 rc == -EINVAL ? "not a well-formed record" : strerror(-rc));
			continue;
		}
		if (!append(&v, &n, &cap, &r)) {
			free(r.ownerid);
			break;
		}
	}
	closedir(d);
	*out = v;
	*nout = n;
	return 0;
}
