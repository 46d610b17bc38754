/*
 * fuzz_rpc --make-corpus OUT [CAPTURE_DIR]: the seeds, made inside the fuzz
 * target's own process so that their handles are the ones its export hands
 * out (the table in OUT/handles.txt lets later runs map them to theirs).
 *
 *   OUT/gen/       at least one valid call of every NFSv3 procedure (0-21)
 *                  and every MOUNT v1 and v3 procedure (0-5), encoded with
 *                  rpcgen's routines, plus a few multi-record streams
 *                  (fragments, a duplicate, cache hits on the inline path)
 *   OUT/captured/  what the test suite's clients sent (mkcorpus.sh runs the
 *                  integration tests with LOOPNFS_CAPTURE_DIR), made to fit
 *                  this export: every handle-shaped opaque becomes the
 *                  handle of a fixed object of the same type, every MOUNT
 *                  path below an "/export" directory the same path below
 *                  this export; small streams whole, larger ones call by call
 *
 * Each seed is run once here and its replies' statuses printed, so a seed
 * that stopped resolving shows.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include "mount_prot.h"
#include "nfs3.h"
#include "recmark.h"
#include "req.h"
#include "vfs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NFS_PROG 100003
#define MOUNT_PROG 100005
#define RECORD_MAX (64 * 1024)
/* Captured input: whole streams up to this size, else calls up to CALL_MAX. */
#define STREAM_MAX 4096
#define CALL_MAX 4096
/* Calls kept per procedure from the capture: one per distinct length. */
#define PER_PROC_MAX 12

struct stream {
	uint8_t *p;
	size_t len, cap;
};

struct who {
	uint32_t flavor, uid, gid;
};

static const struct who ROOT = { RPC_AUTH_SYS, 0, 0 };
static const struct who USER = { RPC_AUTH_SYS, 1000, 1000 };
static const struct who ANON = { RPC_AUTH_NONE, 0, 0 };

static struct {
	char out[PATH_MAX];
	struct stream s; /* the seed being built */
	uint32_t xid;
	struct fh_buf fh[16]; /* fz_objects' handles */
	unsigned nseeds, failed;
} G = { .xid = 0x10000 };

/* ---- building records ---- */

static void s_put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		while (cap < s->len + n)
			cap *= 2;
		s->p = realloc(s->p, cap);
		if (!s->p)
			abort();
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void s_put32(struct stream *s, uint32_t v)
{
	uint32_t be = htonl(v);
	s_put(s, &be, 4);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

static bool put_u32(XDR *x, uint32_t v)
{
	return xdr_u_int(x, &v);
}

/* The credential: AUTH_SYS (machine "fuzz", one group) or AUTH_NONE; verifier AUTH_NONE. */
static bool encode_auth(XDR *x, struct who w)
{
	char body[128];
	u_int n = 0;
	if (w.flavor == RPC_AUTH_SYS) {
		XDR c;
		char *machine = "fuzz";
		xdrmem_create(&c, body, sizeof(body), XDR_ENCODE);
		bool ok = put_u32(&c, 0x5eed) && xdr_string(&c, &machine, 255) &&
			  put_u32(&c, w.uid) && put_u32(&c, w.gid) && put_u32(&c, 1) &&
			  put_u32(&c, w.gid);
		n = xdr_getpos(&c);
		xdr_destroy(&c);
		if (!ok)
			return false;
	}
	char *bp = body;
	return put_u32(x, w.flavor) && xdr_bytes(x, &bp, &n, 400) && put_u32(x, RPC_AUTH_NONE) &&
	       put_u32(x, 0);
}

/* One call (xid, CALL, RPC 2, prog, vers, proc, credential, verifier, arguments) as a bare record. */
static size_t encode_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t prog, uint32_t vers,
			  uint32_t proc, struct who w, xdrproc_t xa, void *args)
{
	XDR x;
	xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
	bool ok = put_u32(&x, xid) && put_u32(&x, 0) && put_u32(&x, 2) && put_u32(&x, prog) &&
		  put_u32(&x, vers) && put_u32(&x, proc) && encode_auth(&x, w) && xa(&x, args);
	size_t n = xdr_getpos(&x);
	xdr_destroy(&x);
	if (!ok) {
		fprintf(stderr, "fuzz_rpc: cannot encode a call of %u/%u/%u\n", prog, vers, proc);
		exit(1);
	}
	return n;
}

/* Append a call to the seed, as one fragment, or as `frags` fragments. */
static void call_frags(uint32_t prog, uint32_t vers, uint32_t proc, struct who w, xdrproc_t xa,
		       void *args, unsigned frags)
{
	static uint8_t rec[RECORD_MAX];
	size_t n = encode_call(rec, sizeof(rec), G.xid++, prog, vers, proc, w, xa, args);
	size_t off = 0;
	for (unsigned i = 0; i < frags; i++) {
		size_t piece = i + 1 == frags ? n - off : n / frags;
		s_put32(&G.s, (uint32_t)piece | (i + 1 == frags ? 0x80000000u : 0));
		s_put(&G.s, rec + off, piece);
		off += piece;
	}
}

static void call(uint32_t prog, uint32_t vers, uint32_t proc, struct who w, xdrproc_t xa,
		 void *args)
{
	call_frags(prog, vers, proc, w, xa, args, 1);
}

/* The same record again (same xid): a retransmission. */
static void repeat_last_call(size_t start)
{
	struct stream copy = { 0 };
	s_put(&copy, G.s.p + start, G.s.len - start);
	s_put(&G.s, copy.p, copy.len);
	free(copy.p);
}

#define NFS(proc, w, T, ...)                                                    \
	do {                                                                    \
		T a_ = __VA_ARGS__;                                             \
		call(NFS_PROG, 3, NFSPROC3_##proc, w, (xdrproc_t)xdr_##T, &a_); \
	} while (0)
#define NFS_VOID(proc, w) call(NFS_PROG, 3, NFSPROC3_##proc, w, (xdrproc_t)xdr_void, NULL)
#define MNT(vers, proc, w, path)                                              \
	do {                                                                  \
		dirpath p_ = (path);                                          \
		call(MOUNT_PROG, vers, proc, w, (xdrproc_t)xdr_dirpath, &p_); \
	} while (0)
#define MNT_VOID(vers, proc, w) call(MOUNT_PROG, vers, proc, w, (xdrproc_t)xdr_void, NULL)
/* A seed of one or more calls, written as file. */
#define SEED(file, ...)      \
	do {                 \
		begin();     \
		__VA_ARGS__; \
		save(file);  \
	} while (0)

/* ---- the objects and values the seeds use ---- */

static nfs_fh3 fh(const char *rel)
{
	for (unsigned i = 0; i < fz_nobjects; i++)
		if (strcmp(fz_objects[i], rel) == 0)
			return (nfs_fh3){ .data = { G.fh[i].len, (char *)G.fh[i].data } };
	fprintf(stderr, "fuzz_rpc: no fixed object %s\n", rel);
	exit(1);
}

static filename3 name(const char *s)
{
	return (filename3){ (u_int)strlen(s), (char *)s };
}

static diropargs3 dirop(const char *dir, const char *n)
{
	return (diropargs3){ fh(dir), name(n) };
}

static char *mount_path(const char *rel)
{
	static char paths[8][PATH_MAX];
	static unsigned next;
	char *p = paths[next++ % 8];
	snprintf(p, PATH_MAX, "%s%s%s", fz_export_path(), rel[0] ? "/" : "", rel);
	return p;
}

static sattr3 mode_only(uint32_t mode)
{
	return (sattr3){ .mode = { TRUE, { mode } } };
}

/* Every field set: mode, owner, size, atime by the server's clock, mtime by the client's. */
static sattr3 every_field(void)
{
	return (sattr3){ .mode = { TRUE, { 0640 } },
			 .uid = { TRUE, { 1000 } },
			 .gid = { TRUE, { 1000 } },
			 .size = { TRUE, { 3 } },
			 .atime = { .set_it = SET_TO_SERVER_TIME },
			 .mtime = { SET_TO_CLIENT_TIME, { { 1700000000, 5 } } } };
}

/* ---- writing and checking seeds ---- */

static void begin(void)
{
	G.s.len = 0;
}

static void write_file(const char *dir, const char *file, const void *p, size_t n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "we");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "fuzz_rpc: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* What each reply said: accept_stat, then the result's status when it has one. */
struct statuses {
	char text[512];
	size_t len;
};

static void note_reply(void *ctx, const uint8_t *rec, size_t len, const struct rpc_reply *rep)
{
	struct statuses *st = ctx;
	char one[64];
	(void)rec;
	(void)len;
	if (rep->drop || rep->len < RPC_REPLY_RESERVE + 24) {
		snprintf(one, sizeof(one), " %s", rep->drop ? "dropped" : "rejected");
	} else {
		const uint8_t *h = rep->buf + RPC_REPLY_RESERVE;
		uint32_t acc = rd32(h + 20);
		uint32_t res = rep->len >= RPC_REPLY_RESERVE + 28 ? rd32(h + 24) : 0;
		if (rd32(h + 8) != 0)
			snprintf(one, sizeof(one), " denied");
		else if (acc != 0)
			snprintf(one, sizeof(one), " accept_stat=%u", acc);
		else
			snprintf(one, sizeof(one), " %u", res);
	}
	size_t n = strlen(one);
	if (st->len + n < sizeof(st->text)) {
		memcpy(st->text + st->len, one, n + 1);
		st->len += n;
	}
}

/* Write the seed under OUT/sub, run it once, print its replies' statuses. */
static void save_in(const char *sub, const char *file)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", G.out, sub);
	write_file(dir, file, G.s.p, G.s.len);
	struct statuses st = { .text = "", .len = 0 };
	fz_run_input(G.s.p, G.s.len, note_reply, &st);
	printf("%-40s %5zu bytes, replies:%s\n", file, G.s.len, st.text);
	G.nseeds++;
}

static void save(const char *file)
{
	save_in("gen", file);
}

/* ---- NFSv3: every procedure ---- */

static void nfs3_read_side(void)
{
	SEED("nfs3-00-NULL", NFS_VOID(NULL, ROOT));
	SEED("nfs3-01-GETATTR-root", NFS(GETATTR, ROOT, GETATTR3args, { fh(".") }));
	SEED("nfs3-01-GETATTR-file-user", NFS(GETATTR, USER, GETATTR3args, { fh("file") }));
	SEED("nfs3-03-LOOKUP", NFS(LOOKUP, ROOT, LOOKUP3args, { dirop(".", "file") }));
	SEED("nfs3-03-LOOKUP-dotdot", NFS(LOOKUP, ROOT, LOOKUP3args, { dirop("dir", "..") }));
	SEED("nfs3-03-LOOKUP-noaccess", NFS(LOOKUP, USER, LOOKUP3args, { dirop("dir", "deeper") }));
	SEED("nfs3-03-LOOKUP-noent", NFS(LOOKUP, ROOT, LOOKUP3args, { dirop(".", "missing") }));
	SEED("nfs3-04-ACCESS", NFS(ACCESS, ROOT, ACCESS3args, { fh("file"), 0x3f }));
	SEED("nfs3-04-ACCESS-authnone", NFS(ACCESS, ANON, ACCESS3args, { fh("dir"), 0x3f }));
	SEED("nfs3-05-READLINK", NFS(READLINK, ROOT, READLINK3args, { fh("link") }));
	SEED("nfs3-05-READLINK-outside", NFS(READLINK, ROOT, READLINK3args, { fh("escape") }));
	SEED("nfs3-06-READ", NFS(READ, ROOT, READ3args, { fh("file"), 0, 4096 }));
	SEED("nfs3-06-READ-exec-user", NFS(READ, USER, READ3args, { fh("exec"), 4, 3 }));
	SEED("nfs3-16-READDIR", NFS(READDIR, ROOT, READDIR3args, { fh("."), 0, { 0 }, 4096 }));
	SEED("nfs3-17-READDIRPLUS",
	     NFS(READDIRPLUS, ROOT, READDIRPLUS3args, { fh("."), 0, { 0 }, 4096, 32768 }));
	SEED("nfs3-17-READDIRPLUS-small",
	     NFS(READDIRPLUS, ROOT, READDIRPLUS3args, { fh("dir"), 0, { 0 }, 64, 512 }));
	SEED("nfs3-18-FSSTAT", NFS(FSSTAT, ROOT, FSSTAT3args, { fh(".") }));
	SEED("nfs3-19-FSINFO", NFS(FSINFO, ROOT, FSINFO3args, { fh(".") }));
	SEED("nfs3-20-PATHCONF", NFS(PATHCONF, ROOT, PATHCONF3args, { fh("file") }));
}

static void nfs3_write_side(void)
{
	SEED("nfs3-02-SETATTR",
	     NFS(SETATTR, ROOT, SETATTR3args, { fh("file"), every_field(), { .check = FALSE } }));
	SEED("nfs3-02-SETATTR-guard", NFS(SETATTR, ROOT, SETATTR3args,
					  { fh("dir"), mode_only(0700), { TRUE, { { 1, 2 } } } }));
	static char data[] = "fuzz data";
	SEED("nfs3-07-WRITE",
	     NFS(WRITE, ROOT, WRITE3args, { fh("file"), 0, 9, UNSTABLE, { 9, data } }));
	SEED("nfs3-07-WRITE-sync",
	     NFS(WRITE, ROOT, WRITE3args, { fh("empty"), 1u << 20, 4, FILE_SYNC, { 4, data } }));
	SEED("nfs3-08-CREATE", NFS(CREATE, ROOT, CREATE3args,
				   { dirop(".", "new"), { UNCHECKED, { mode_only(0644) } } }));
	SEED("nfs3-08-CREATE-guarded-exists",
	     NFS(CREATE, ROOT, CREATE3args,
		 { dirop(".", "file"), { GUARDED, { mode_only(0644) } } }));
	CREATE3args excl = { dirop("dir", "excl"), { .mode = EXCLUSIVE } };
	memcpy(excl.how.createhow3_u.verf, "verifier", 8);
	SEED("nfs3-08-CREATE-exclusive", NFS(CREATE, ROOT, CREATE3args, excl));
	SEED("nfs3-09-MKDIR",
	     NFS(MKDIR, ROOT, MKDIR3args, { dirop(".", "newdir"), mode_only(0755) }));
	static char target[] = "file";
	SEED("nfs3-10-SYMLINK",
	     NFS(SYMLINK, ROOT, SYMLINK3args, { dirop(".", "newlink"), { { 0 }, { 4, target } } }));
	MKNOD3args fifo = { dirop(".", "newfifo"), { .type = NF3FIFO } };
	fifo.what.mknoddata3_u.pipe_attributes = mode_only(0600);
	SEED("nfs3-11-MKNOD-fifo", NFS(MKNOD, ROOT, MKNOD3args, fifo));
	MKNOD3args chr = { dirop("dir", "null"), { .type = NF3CHR } };
	chr.what.mknoddata3_u.device = (devicedata3){ mode_only(0666), { 1, 3 } };
	SEED("nfs3-11-MKNOD-chr", NFS(MKNOD, ROOT, MKNOD3args, chr));
	SEED("nfs3-12-REMOVE", NFS(REMOVE, ROOT, REMOVE3args, { dirop(".", "file") }));
	SEED("nfs3-13-RMDIR", NFS(RMDIR, ROOT, RMDIR3args, { dirop("dir", "deeper") }));
	SEED("nfs3-14-RENAME",
	     NFS(RENAME, ROOT, RENAME3args, { dirop(".", "file"), dirop("dir", "moved") }));
	SEED("nfs3-15-LINK", NFS(LINK, ROOT, LINK3args, { fh("file"), dirop("dir", "hard") }));
	SEED("nfs3-21-COMMIT", NFS(COMMIT, ROOT, COMMIT3args, { fh("file"), 0, 0 }));
}

/* ---- MOUNT v1 and v3: every procedure ---- */

static void mount_all(void)
{
	SEED("mnt3-00-NULL", MNT_VOID(MOUNT_V3, MOUNTPROC3_NULL, ROOT));
	SEED("mnt3-01-MNT-slash", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, "/"));
	SEED("mnt3-01-MNT-path", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path("")));
	SEED("mnt3-01-MNT-subdir", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path("dir")));
	SEED("mnt3-01-MNT-notdir", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path("file")));
	/* The mount list starts empty for every input: mount first. */
	SEED("mnt3-02-DUMP", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path(""));
	     MNT_VOID(MOUNT_V3, MOUNTPROC3_DUMP, ROOT));
	SEED("mnt3-03-UMNT", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path("dir"));
	     MNT(MOUNT_V3, MOUNTPROC3_UMNT, ROOT, mount_path("dir")));
	SEED("mnt3-04-UMNTALL", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, "/");
	     MNT_VOID(MOUNT_V3, MOUNTPROC3_UMNTALL, ROOT);
	     MNT_VOID(MOUNT_V3, MOUNTPROC3_DUMP, ROOT));
	SEED("mnt3-05-EXPORT", MNT_VOID(MOUNT_V3, MOUNTPROC3_EXPORT, ROOT));

	SEED("mnt1-00-NULL", MNT_VOID(MOUNT_V1, MOUNTPROC1_NULL, ROOT));
	SEED("mnt1-01-MNT", MNT(MOUNT_V1, MOUNTPROC1_MNT, ROOT, mount_path("")));
	SEED("mnt1-02-DUMP", MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, "/");
	     MNT_VOID(MOUNT_V1, MOUNTPROC1_DUMP, ROOT));
	SEED("mnt1-03-UMNT", MNT(MOUNT_V1, MOUNTPROC1_UMNT, ROOT, mount_path("")));
	SEED("mnt1-04-UMNTALL", MNT_VOID(MOUNT_V1, MOUNTPROC1_UMNTALL, ROOT));
	SEED("mnt1-05-EXPORT", MNT_VOID(MOUNT_V1, MOUNTPROC1_EXPORT, ROOT));
}

/* ---- streams of several records ---- */

static void streams(void)
{
	/* A client's first steps: the second GETATTR and LOOKUP hit the cache (inline). */
	begin();
	MNT(MOUNT_V3, MOUNTPROC3_MNT, ROOT, mount_path(""));
	NFS(FSINFO, ROOT, FSINFO3args, { fh(".") });
	NFS(GETATTR, ROOT, GETATTR3args, { fh(".") });
	NFS(LOOKUP, ROOT, LOOKUP3args, { dirop(".", "file") });
	NFS(LOOKUP, ROOT, LOOKUP3args, { dirop(".", "file") });
	NFS(ACCESS, ROOT, ACCESS3args, { fh("file"), 0x1f });
	NFS(READ, ROOT, READ3args, { fh("file"), 0, 64 });
	MNT(MOUNT_V3, MOUNTPROC3_UMNT, ROOT, mount_path(""));
	save("stream-mount-lookup-read");

	static char data[] = "more data";
	begin();
	NFS(WRITE, ROOT, WRITE3args, { fh("file"), 5, 9, UNSTABLE, { 9, data } });
	NFS(COMMIT, ROOT, COMMIT3args, { fh("file"), 0, 0 });
	NFS(READ, ROOT, READ3args, { fh("file"), 0, 4096 });
	save("stream-write-commit-read");

	/* A retransmitted CREATE: the second is answered from the duplicate request cache. */
	begin();
	size_t start = G.s.len;
	NFS(CREATE, ROOT, CREATE3args, { dirop(".", "twice"), { GUARDED, { mode_only(0644) } } });
	repeat_last_call(start);
	NFS(REMOVE, ROOT, REMOVE3args, { dirop(".", "twice") });
	save("stream-create-retransmit-remove");

	/* One record in three fragments, then one in a single fragment. */
	begin();
	GETATTR3args ga = { fh("dir/inner") };
	call_frags(NFS_PROG, 3, NFSPROC3_GETATTR, ROOT, (xdrproc_t)xdr_GETATTR3args, &ga, 3);
	NFS_VOID(NULL, ROOT);
	save("stream-fragments");

	/* A directory listed twice: its entries' kernel handles kept for the second (fh_dircache). */
	begin();
	NFS(READDIRPLUS, ROOT, READDIRPLUS3args, { fh("dir"), 0, { 0 }, 4096, 32768 });
	NFS(READDIRPLUS, ROOT, READDIRPLUS3args, { fh("dir"), 0, { 0 }, 4096, 32768 });
	save("stream-readdirplus-twice");

	/* A listing continued past its first entries, then each entry looked up. */
	begin();
	NFS(READDIRPLUS, USER, READDIRPLUS3args, { fh("."), 0, { 0 }, 128, 1024 });
	NFS(READDIR, USER, READDIR3args, { fh("."), 3, { 0 }, 512 });
	NFS(LOOKUP, USER, LOOKUP3args, { dirop(".", "dir") });
	NFS(LOOKUP, USER, LOOKUP3args, { dirop(".", "link") });
	NFS(LOOKUP, USER, LOOKUP3args, { dirop(".", "escape") });
	save("stream-readdir-lookup");
}

/* ---- captured streams, made to fit this export ---- */

static const struct fh_buf *handle_for_type(uint8_t type)
{
	const char *rel = type == VFS_REG    ? "file"
			  : type == VFS_LNK  ? "link"
			  : type == VFS_FIFO ? "fifo"
					     : ".";
	for (unsigned i = 0; i < fz_nobjects; i++)
		if (strcmp(fz_objects[i], rel) == 0)
			return &G.fh[i];
	return &G.fh[0];
}

/* An XDR opaque at p that is one of our handles (any key, any export): its length, else 0. */
static unsigned handle_at(const uint8_t *p, size_t left)
{
	if (left < 4 + FH_HDR)
		return 0;
	uint32_t len = rd32(p);
	const uint8_t *h = p + 4;
	if (len < FH_HDR || len > FH_SIZE_MAX || left - 4 < len || h[0] != FH_VERSION ||
	    (h[1] != FH_PASSTHROUGH && h[1] != FH_PSEUDO) || h[3] != len - FH_HDR)
		return 0;
	return len;
}

/* Replace, in place, each captured handle by a fixed object's handle of the same length. */
static unsigned rewrite_handles(uint8_t *p, size_t n)
{
	unsigned done = 0;
	for (size_t i = 0; i + 4 + FH_HDR <= n; i++) {
		unsigned len = handle_at(p + i, n - i);
		if (!len)
			continue;
		const struct fh_buf *mine = handle_for_type(p[i + 4 + 2]);
		if (mine->len == len) {
			memcpy(p + i + 4, mine->data, len);
			done++;
		}
		i += 3 + len;
	}
	return done;
}

/* A MOUNT call's path below some ".../export" (the test suite's exports), moved below ours. */
static size_t remount_path(uint8_t *rec, size_t len, size_t cap)
{
	struct rpc_call c;
	struct rpc_reply rep = { 0 };
	bool ok = rpc_parse_call(rec, len, &c, &rep);
	rpc_reply_free(&rep);
	if (!ok || c.prog != MOUNT_PROG ||
	    (c.proc != MOUNTPROC3_MNT && c.proc != MOUNTPROC3_UMNT) || c.args_len < 4)
		return len;
	size_t hdr = (size_t)(c.args - rec);
	uint32_t plen = rd32(c.args);
	if (plen > c.args_len - 4 || plen >= PATH_MAX)
		return len;
	char old[PATH_MAX];
	memcpy(old, c.args + 4, plen);
	old[plen] = '\0';
	const char *below = strstr(old, "/export");
	if (!below || (below[7] != '\0' && below[7] != '/'))
		return len;
	char *path = mount_path(below[7] == '/' ? below + 8 : "");
	XDR x;
	xdrmem_create(&x, (char *)rec + hdr, (u_int)(cap - hdr), XDR_ENCODE);
	bool enc = xdr_dirpath(&x, &path);
	size_t n = hdr + xdr_getpos(&x);
	xdr_destroy(&x);
	return enc ? n : len;
}

struct kept {
	uint32_t prog, vers, proc;
	size_t len;
};

static struct kept kept[4096];
static unsigned nkept;

/* One per procedure and record length, at most PER_PROC_MAX per procedure. */
static bool worth_keeping(const uint8_t *rec, size_t len)
{
	if (len < 24 || len > CALL_MAX)
		return false;
	struct kept k = { rd32(rec + 12), rd32(rec + 16), rd32(rec + 20), len };
	unsigned same_proc = 0;
	for (unsigned i = 0; i < nkept; i++) {
		if (kept[i].prog != k.prog || kept[i].vers != k.vers || kept[i].proc != k.proc)
			continue;
		if (kept[i].len == k.len || ++same_proc >= PER_PROC_MAX)
			return false;
	}
	if (nkept == sizeof(kept) / sizeof(kept[0]))
		return false;
	kept[nkept++] = k;
	return true;
}

static void keep_call(const uint8_t *rec, size_t len, const char *from, unsigned idx)
{
	static uint8_t buf[CALL_MAX + PATH_MAX + 16];
	if (len > CALL_MAX)
		return;
	memcpy(buf, rec, len);
	rewrite_handles(buf, len);
	len = remount_path(buf, len, sizeof(buf));
	if (!worth_keeping(buf, len))
		return;
	begin();
	s_put32(&G.s, (uint32_t)len | 0x80000000u);
	s_put(&G.s, buf, len);
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "cap-%u-%u-%02u-%s-%u", rd32(buf + 12), rd32(buf + 16),
		 rd32(buf + 20), from, idx);
	save_in("captured", file);
}

/* Every complete record of a captured stream, call by call. */
static void import_calls(const uint8_t *p, size_t n, const char *from)
{
	struct rm_framer f = { 0 };
	size_t off = 0;
	unsigned idx = 0;
	while (off < n) {
		size_t used;
		enum rm_status s = rm_feed(&f, p + off, n - off, &used);
		off += used;
		if (s == RM_RECORD) {
			uint8_t *rec;
			size_t len;
			rm_take(&f, &rec, &len);
			keep_call(rec, len, from, idx++);
			free(rec);
		} else if (s != RM_NEED_MORE) {
			break;
		}
	}
	rm_free(&f);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	struct stream s = { 0 };
	uint8_t chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		s_put(&s, chunk, got);
	fclose(f);
	*n = s.len;
	return s.p;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void import_capture(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "fuzz_rpc: cannot list %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		uint8_t *p = names[i]->d_name[0] == '.' ? NULL : slurp(path, &len);
		if (p && len && len <= STREAM_MAX) {
			/* Small: the whole stream, its framing as the test sent it. */
			rewrite_handles(p, len);
			begin();
			s_put(&G.s, p, len);
			char file[PATH_MAX];
			snprintf(file, sizeof(file), "capstream-%s", names[i]->d_name);
			save_in("captured", file);
		} else if (p) {
			import_calls(p, len, names[i]->d_name);
		}
		free(p);
		free(names[i]);
	}
	free(names);
}

/* ---- the whole corpus ---- */

static void make_dir(const char *sub)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", G.out, sub);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "fuzz_rpc: mkdir %s: %s\n", dir, strerror(errno));
		exit(1);
	}
}

int fz_make_corpus(const char *out, const char *capture_dir)
{
	snprintf(G.out, sizeof(G.out), "%s", out);
	make_dir("");
	make_dir("gen");
	make_dir("captured");
	for (unsigned i = 0; i < fz_nobjects; i++)
		if (!fz_handle_of(fz_objects[i], &G.fh[i]))
			return -1;
	char table[PATH_MAX];
	snprintf(table, sizeof(table), "%s/handles.txt", out);
	if (fz_subst_save(table) != 0)
		return -1;
	/* Resets after mutating seeds make new objects: map the saved handles to them. */
	fz_subst_load(table);
	nfs3_read_side();
	nfs3_write_side();
	mount_all();
	streams();
	unsigned generated = G.nseeds;
	if (capture_dir)
		import_capture(capture_dir);
	printf("fuzz_rpc: %u generated seeds, %u from the capture\n", generated,
	       G.nseeds - generated);
	free(G.s.p);
	return 0;
}
