/*
 * The fuzz target's temporary export. One base directory per process
 * ($TMPDIR/loopnfs-fuzz-XXXXXX) holds
 *   state/    the handle key, copied from the committed tests/fuzz/handle.key
 *   export/   the exported tree (fz_tree), put back after every input that
 *             may have changed it
 *   outside/  a canary beside the export that the server must never reach
 *             (export/escape is a symlink to it)
 * and is set up as the unit tests do: cred_init, fh_init, export_add,
 * export_finish.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "nfs4.h"

#include "backend.h"
#include "cred.h"
#include "export.h"
#include "nfs3.h"
#include "objcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small, so that inputs reach eviction and re-resolution, not just hits. */
#define FZ_CACHE_MAX 256

struct fz_node {
	const char *rel;
	char kind; /* 'f' file, 'd' directory, 'l' symlink, 'p' fifo */
	mode_t mode;
	const char *data; /* file contents, symlink target */
};

/* Parents before children. */
static const struct fz_node fz_tree[] = {
	{ "file", 'f', 0644, "hello, fuzzer\n" },
	{ "empty", 'f', 0600, "" },
	{ "exec", 'f', 0755, "#!/bin/sh\nexit 0\n" },
	{ "dir", 'd', 0755, NULL },
	{ "dir/inner", 'f', 0644, "inner\n" },
	{ "dir/deeper", 'd', 0700, NULL },
	{ "link", 'l', 0, "file" },
	{ "escape", 'l', 0, "../outside/secret" },
	{ "fifo", 'p', 0644, NULL },
};
#define FZ_NTREE (sizeof(fz_tree) / sizeof(fz_tree[0]))

const char *const fz_objects[] = { ".",		"file",	      "empty", "exec",	 "dir",
				   "dir/inner", "dir/deeper", "link",  "escape", "fifo" };
const unsigned fz_nobjects = sizeof(fz_objects) / sizeof(fz_objects[0]);

/* What must not change outside the export: every stat field a touch would move. */
struct canary {
	char path[PATH_MAX];
	struct stat st;
};

/* The fixed objects as built: any change to the tree moves one's ctime (or replaces it). */
struct built {
	ino_t ino;
	struct timespec ctime;
};

static struct {
	char base[PATH_MAX];
	char exdir[PATH_MAX];
	struct export *ex;
	int exfd; /* the export root, for rebuilding the tree */
	struct canary canary[5];
	unsigned ncanary;
	struct built built[16];
} E = { .exfd = -1 };

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz_rpc: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void join(char *out, const char *a, const char *b)
{
	if (snprintf(out, PATH_MAX, "%s/%s", a, b) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		die("path", a);
	}
}

static void write_file_at(int dirfd, const char *rel, mode_t mode, const void *data, size_t len)
{
	int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) < 0)
		die("create", rel);
	close(fd);
}

static void make_node(int dirfd, const struct fz_node *n)
{
	int rc = 0;
	switch (n->kind) {
	case 'f':
		write_file_at(dirfd, n->rel, n->mode, n->data, strlen(n->data));
		return;
	case 'd':
		rc = mkdirat(dirfd, n->rel, n->mode);
		break;
	case 'l':
		rc = symlinkat(n->data, dirfd, n->rel);
		break;
	case 'p':
		rc = mknodat(dirfd, n->rel, S_IFIFO | n->mode, 0);
		break;
	}
	if (rc < 0)
		die("create", n->rel);
}

/* Remove name in parent and everything below it; never follows a symlink. */
static bool remove_at(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return true;
	/* A directory: made searchable again (a client may have set its mode to 0). */
	fchmodat(parent, name, 0700, 0);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	bool ok = true;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			ok &= remove_at(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	return (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) && ok;
}

/* Empty the export root, whatever the calls made of it. */
static void empty_export(void)
{
	int fd = openat(E.exfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d)
		die("list", E.exdir);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    !remove_at(E.exfd, de->d_name))
			die("remove", de->d_name);
	closedir(d);
}

static bool stat_object(const char *rel, struct stat *st)
{
	return strcmp(rel, ".") == 0 ? fstat(E.exfd, st) == 0
				     : fstatat(E.exfd, rel, st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void build_tree(void)
{
	for (size_t i = 0; i < FZ_NTREE; i++)
		make_node(E.exfd, &fz_tree[i]);
	for (unsigned i = 0; i < fz_nobjects; i++) {
		struct stat st;
		if (!stat_object(fz_objects[i], &st))
			die("stat", fz_objects[i]);
		E.built[i] = (struct built){ st.st_ino, st.st_ctim };
	}
}

/*
 * Whether the tree is still as built. A change anywhere sets the ctime of a
 * fixed object: the file written or chmod'ed, the directory an entry was
 * added to or removed from (a new directory's contents imply its creation).
 */
bool fz_export_changed(void)
{
	for (unsigned i = 0; i < fz_nobjects; i++) {
		struct stat st;
		const struct built *b = &E.built[i];
		if (!stat_object(fz_objects[i], &st) || st.st_ino != b->ino ||
		    st.st_ctim.tv_sec != b->ctime.tv_sec || st.st_ctim.tv_nsec != b->ctime.tv_nsec)
			return true;
	}
	return false;
}

static void copy_key(const char *statedir)
{
	char src[PATH_MAX], dst[PATH_MAX];
	join(src, fz_data_dir(), "handle.key");
	join(dst, statedir, "handle.key");
	uint8_t key[64];
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, key, sizeof(key)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		die("read", src);
	if (mkdir(statedir, 0700) < 0)
		die("mkdir", statedir);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0 || write(out, key, (size_t)n) != n)
		die("write", dst);
	close(out);
}

static void add_canary(const char *path)
{
	struct canary *c = &E.canary[E.ncanary++];
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (lstat(path, &c->st) < 0)
		die("stat", path);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mode == b->st_mode && a->st_nlink == b->st_nlink &&
	       a->st_uid == b->st_uid && a->st_gid == b->st_gid && a->st_size == b->st_size &&
	       a->st_atim.tv_sec == b->st_atim.tv_sec && a->st_atim.tv_nsec == b->st_atim.tv_nsec &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void fz_check_outside(void)
{
	for (unsigned i = 0; i < E.ncanary; i++) {
		struct stat now;
		if (lstat(E.canary[i].path, &now) < 0 || !same_stat(&now, &E.canary[i].st)) {
			fprintf(stderr, "fuzz_rpc: %s, outside the export, was changed or read\n",
				E.canary[i].path);
			abort();
		}
	}
}

static void make_outside(void)
{
	char outside[PATH_MAX], secret[PATH_MAX], state[PATH_MAX];
	join(outside, E.base, "outside");
	join(secret, outside, "secret");
	join(state, E.base, "state");
	if (mkdir(outside, 0755) < 0)
		die("mkdir", outside);
	int fd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open", outside);
	write_file_at(fd, "secret", 0644, "not for clients\n", 16);
	close(fd);
	add_canary(E.base);
	add_canary(outside);
	add_canary(secret);
	add_canary(state);
}

static void export_tree(void)
{
	char err[PATH_MAX + 128], state[PATH_MAX];
	join(state, E.base, "state");
	cred_init();
	nfs3_init_verifier();
	if (fh_init(state) != 0)
		die("handle key in", state);
	struct export_opts o = { .anonuid = 65534, .anongid = 65534 };
	E.ex = export_add(E.exdir, &o, err, sizeof(err));
	if (!E.ex || export_finish(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_rpc: cannot export %s: %s\n", E.exdir, err);
		exit(1);
	}
	oc_set_max(FZ_CACHE_MAX);
	fz_nfs4_reset();
}

/* NFSv4.1 served, with no clients, sessions or state: a fresh start's (no state directory, no grace). */
void fz_nfs4_reset(void)
{
	static const struct nfs4_config cfg = { .enabled = true };
	char err[256];
	nfs4_shutdown();
	if (nfs4_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_rpc: %s\n", err);
		exit(1);
	}
}

void fz_export_init(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(E.base, sizeof(E.base), "%s/loopnfs-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(E.base))
		die("mkdtemp", E.base);
	atexit(fz_export_cleanup); /* also when a step below fails */
	/* Modes come from the client, which applied its own umask: as loopnfsd. */
	umask(0);
	char state[PATH_MAX];
	join(state, E.base, "state");
	copy_key(state);
	join(E.exdir, E.base, "export");
	if (mkdir(E.exdir, 0755) < 0)
		die("mkdir", E.exdir);
	E.exfd = open(E.exdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (E.exfd < 0)
		die("open", E.exdir);
	build_tree();
	export_tree();
	make_outside(); /* last: its snapshot must see the base as it stays */
}

const char *fz_export_path(void)
{
	return E.ex->path;
}

bool fz_handle_of(const char *rel, struct fh_buf *out)
{
	int root = pt_export(E.ex)->root_fd;
	struct stat st;
	if (strcmp(rel, ".") == 0) {
		if (fstat(root, &st) < 0)
			return false;
		pt_make_fh(E.ex, root, "", &st, out);
		return true;
	}
	if (fstatat(root, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	pt_make_fh(E.ex, root, rel, &st, out);
	return true;
}

void fz_server_identity(void)
{
	const struct ids server = { .uid = geteuid(), .gid = getegid() };
	if (cred_apply(&server) != 0) {
		fprintf(stderr, "fuzz_rpc: cannot switch back to the server's identity\n");
		abort();
	}
}

void fz_export_reset(void)
{
	fz_server_identity();
	empty_export();
	/* The root stays (its handle with it); what SETATTR did to it is undone. */
	if (fchmod(E.exfd, 0755) < 0 || (geteuid() == 0 && fchown(E.exfd, 0, 0) < 0))
		die("restore", E.exdir);
	build_tree();
	fz_subst_refresh();
}

void fz_export_cleanup(void)
{
	if (!E.base[0])
		return;
	fz_server_identity();
	remove_at(AT_FDCWD, E.base);
	E.base[0] = '\0';
}
