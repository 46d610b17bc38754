/*
 * NFSv4.1 opens, I/O and locks over raw COMPOUNDs (nfs4rpc.h): OPEN's
 * create modes, claims and type checks, share reservations between
 * clients, upgrade and OPEN_DOWNGRADE, CLOSE, READ/WRITE against the file
 * on disk, COMMIT's verifier, stateid rules (old, closed, current), LOCK /
 * LOCKT / LOCKU between clients and against a local process's fcntl
 * locks, TEST_STATEID, FREE_STATEID, DELEGRETURN, a lease running out, and
 * the grace period after loopnfsd is killed: reclaim by the holder, GRACE
 * for everyone else until RECLAIM_COMPLETE.
 */
#define _GNU_SOURCE
#include "itest_core.h"
#include "nfs4rpc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <rpc/rpc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct itest_env env;
static struct itest_server srv;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&env, "nfs4io") != 0)
		return -1;
	const char *extra[] = { "--nfs4", NULL };
	return itest_server_start(&srv, &env, extra);
}

static int group_teardown(void **state)
{
	(void)state;
	int st = srv.pid > 0 ? itest_server_stop(&srv) : 0;
	itest_env_cleanup(&env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ the client side */

static void connect_as(struct v4c *c, int port, const char *owner, uint32_t uid)
{
	assert_int_equal(v4c_connect(c, port, uid, uid), 0);
	assert_int_equal(v4c_session(c, owner), 0);
}

static void connect_session(struct v4c *c, const char *owner)
{
	connect_as(c, srv.port, owner, 0);
}

/* SEQUENCE on slot 0, then ops; returns the COMPOUND's status. */
static nfsstat4 run(struct v4c *c, nfs_argop4 *ops, unsigned n, COMPOUND4res *res)
{
	nfs_argop4 all[32];
	v4c_seq(c, &all[0], 0, false);
	memcpy(all + 1, ops, n * sizeof(*ops));
	assert_int_equal(v4c_compound(c, all, n + 1, res), 0);
	return res->status;
}

/* The same, for the status of one operation (ops[i]) only; res freed. */
static nfsstat4 run_op_status(struct v4c *c, nfs_argop4 *ops, unsigned n, unsigned i)
{
	COMPOUND4res res;
	run(c, ops, n, &res);
	nfsstat4 st = v4c_status(&res, i + 1);
	v4c_free(&res);
	return st;
}

static nfs_resop4 *result(COMPOUND4res *res, unsigned i)
{
	assert_true(i + 1 < res->resarray.resarray_len + 1);
	return &res->resarray.resarray_val[i + 1];
}

static nfs_fh4 fh_copy(const nfs_fh4 *f)
{
	nfs_fh4 copy = { f->nfs_fh4_len, itest_alloc(f->nfs_fh4_len) };
	memcpy(copy.nfs_fh4_val, f->nfs_fh4_val, f->nfs_fh4_len);
	return copy;
}

static const stateid4 anon_sid = { 0, { 0 } };
static const stateid4 current_sid = { 1, { 0 } };

static bool same_other(const stateid4 *a, const stateid4 *b)
{
	return memcmp(a->other, b->other, sizeof(a->other)) == 0;
}

struct open_spec {
	const char *owner;
	uint32_t access, deny;
	bool create;
	createmode4 mode;
	const char *verf; /* 8 bytes: EXCLUSIVE4, EXCLUSIVE4_1 */
	fattr4 attrs;	  /* UNCHECKED4, GUARDED4, EXCLUSIVE4_1 */
	open_claim_type4 claim;
	const char *name; /* CLAIM_NULL */
};

static void op_open(nfs_argop4 *op, const struct open_spec *s)
{
	v4c_op(op, OP_OPEN);
	OPEN4args *a = &op->nfs_argop4_u.opopen;
	a->share_access = s->access;
	a->share_deny = s->deny;
	a->owner.owner.owner_val = (char *)s->owner;
	a->owner.owner.owner_len = (u_int)strlen(s->owner);
	a->openhow.opentype = s->create ? OPEN4_CREATE : OPEN4_NOCREATE;
	createhow4 *how = &a->openhow.openflag4_u.how;
	how->mode = s->mode;
	if (s->mode == EXCLUSIVE4)
		memcpy(how->createhow4_u.createverf, s->verf, 8);
	else if (s->mode == EXCLUSIVE4_1) {
		memcpy(how->createhow4_u.ch_createboth.cva_verf, s->verf, 8);
		how->createhow4_u.ch_createboth.cva_attrs = s->attrs;
	} else {
		how->createhow4_u.createattrs = s->attrs;
	}
	a->claim.claim = s->claim;
	if (s->claim == CLAIM_NULL || s->claim == CLAIM_DELEGATE_PREV) {
		component4 *f = s->claim == CLAIM_NULL ? &a->claim.open_claim4_u.file
						       : &a->claim.open_claim4_u.file_delegate_prev;
		f->utf8string_val = (char *)s->name;
		f->utf8string_len = (u_int)strlen(s->name);
	}
}

/* createattrs with a size and/or a mode (bit order: size, word 0; mode, word 1). */
static fattr4 attrs_of(bool size, uint64_t sz, bool mode, uint32_t m)
{
	uint32_t *w = itest_alloc(2 * sizeof(uint32_t));
	char *v = itest_alloc(12);
	unsigned len = 0;
	if (size) {
		w[0] |= 1u << FATTR4_SIZE;
		uint32_t hi = htonl((uint32_t)(sz >> 32)), lo = htonl((uint32_t)sz);
		memcpy(v, &hi, 4);
		memcpy(v + 4, &lo, 4);
		len = 8;
	}
	if (mode) {
		w[1] |= 1u << (FATTR4_MODE - 32);
		uint32_t be = htonl(m);
		memcpy(v + len, &be, 4);
		len += 4;
	}
	fattr4 fa = { { 2, w }, { len, v } };
	return fa;
}

static bool bit_in(const bitmap4 *b, unsigned bit)
{
	return bit / 32 < b->bitmap4_len && (b->bitmap4_val[bit / 32] & (1u << (bit % 32)));
}

struct opened {
	nfsstat4 status;
	stateid4 sid;
	nfs_fh4 fh;
	OPEN4resok ok; /* rflags, cinfo, delegation; attrset copied */
	uint32_t attrset[3];
};

/* PUTROOTFH, OPEN (CLAIM_NULL in the export's root), GETFH. */
static struct opened open_in_root(struct v4c *c, struct open_spec s)
{
	nfs_argop4 ops[3];
	v4c_op(&ops[0], OP_PUTROOTFH);
	if (!s.claim)
		s.claim = CLAIM_NULL;
	op_open(&ops[1], &s);
	v4c_op(&ops[2], OP_GETFH);
	COMPOUND4res res;
	run(c, ops, 3, &res);
	struct opened o = { .status = v4c_status(&res, 2) };
	if (o.status == NFS4_OK) {
		OPEN4resok *ok = &result(&res, 1)->nfs_resop4_u.opopen.OPEN4res_u.resok4;
		o.sid = ok->stateid;
		o.ok = *ok;
		for (unsigned i = 0; i < ok->attrset.bitmap4_len && i < 3; i++)
			o.attrset[i] = ok->attrset.bitmap4_val[i];
		o.ok.attrset.bitmap4_val = o.attrset;
		o.ok.attrset.bitmap4_len =
			ok->attrset.bitmap4_len < 3 ? ok->attrset.bitmap4_len : 3;
		o.fh = fh_copy(&result(&res, 2)->nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object);
	}
	v4c_free(&res);
	return o;
}

static struct opened open_name(struct v4c *c, const char *owner, const char *name, uint32_t access,
			       uint32_t deny)
{
	return open_in_root(
		c,
		(struct open_spec){ .owner = owner, .access = access, .deny = deny, .name = name });
}

static struct opened create_name(struct v4c *c, const char *owner, const char *name,
				 uint32_t access, uint32_t deny)
{
	return open_in_root(c, (struct open_spec){ .owner = owner,
						   .access = access,
						   .deny = deny,
						   .create = true,
						   .mode = UNCHECKED4,
						   .name = name });
}

static void op_close(nfs_argop4 *op, stateid4 sid)
{
	v4c_op(op, OP_CLOSE);
	op->nfs_argop4_u.opclose.open_stateid = sid;
}

static nfsstat4 close_file(struct v4c *c, const nfs_fh4 *fh, stateid4 sid)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	op_close(&ops[1], sid);
	return run_op_status(c, ops, 2, 1);
}

static void op_write(nfs_argop4 *op, stateid4 sid, uint64_t off, const void *data, size_t len,
		     stable_how4 how)
{
	v4c_op(op, OP_WRITE);
	WRITE4args *w = &op->nfs_argop4_u.opwrite;
	w->stateid = sid;
	w->offset = off;
	w->stable = how;
	w->data.data_len = (u_int)len;
	w->data.data_val = (char *)data;
}

static void op_read(nfs_argop4 *op, stateid4 sid, uint64_t off, uint32_t count)
{
	v4c_op(op, OP_READ);
	op->nfs_argop4_u.opread.stateid = sid;
	op->nfs_argop4_u.opread.offset = off;
	op->nfs_argop4_u.opread.count = count;
}

static nfsstat4 write_file(struct v4c *c, const nfs_fh4 *fh, stateid4 sid, uint64_t off,
			   const void *data, size_t len)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	op_write(&ops[1], sid, off, data, len, FILE_SYNC4);
	return run_op_status(c, ops, 2, 1);
}

static nfsstat4 read_status(struct v4c *c, const nfs_fh4 *fh, stateid4 sid)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	op_read(&ops[1], sid, 0, 16);
	return run_op_status(c, ops, 2, 1);
}

/* ------------------------------------------------------------- locks */

struct lock_res {
	nfsstat4 status;
	stateid4 sid;
	LOCK4denied denied; /* owner bytes copied into the arena */
};

static void denied_copy(const LOCK4denied *d, LOCK4denied *out)
{
	*out = *d;
	out->owner.owner.owner_val = itest_alloc(d->owner.owner.owner_len + 1);
	memcpy(out->owner.owner.owner_val, d->owner.owner.owner_val, d->owner.owner.owner_len);
}

/* LOCK by a new lock-owner (from the open stateid) or an existing one (the lock stateid). */
static struct lock_res lock_range(struct v4c *c, const nfs_fh4 *fh, nfs_lock_type4 type,
				  uint64_t off, uint64_t len, bool new_owner, stateid4 sid,
				  const char *lock_owner, bool reclaim)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	v4c_op(&ops[1], OP_LOCK);
	LOCK4args *a = &ops[1].nfs_argop4_u.oplock;
	a->locktype = type;
	a->reclaim = reclaim;
	a->offset = off;
	a->length = len;
	a->locker.new_lock_owner = new_owner;
	if (new_owner) {
		open_to_lock_owner4 *o = &a->locker.locker4_u.open_owner;
		o->open_stateid = sid;
		o->lock_owner.clientid = c->clientid;
		o->lock_owner.owner.owner_val = (char *)lock_owner;
		o->lock_owner.owner.owner_len = (u_int)strlen(lock_owner);
	} else {
		a->locker.locker4_u.lock_owner.lock_stateid = sid;
	}
	COMPOUND4res res;
	run(c, ops, 2, &res);
	struct lock_res r = { .status = v4c_status(&res, 2) };
	LOCK4res *lr = &result(&res, 1)->nfs_resop4_u.oplock;
	if (r.status == NFS4_OK)
		r.sid = lr->LOCK4res_u.resok4.lock_stateid;
	else if (r.status == NFS4ERR_DENIED)
		denied_copy(&lr->LOCK4res_u.denied, &r.denied);
	v4c_free(&res);
	return r;
}

static struct lock_res lockt(struct v4c *c, const nfs_fh4 *fh, nfs_lock_type4 type, uint64_t off,
			     uint64_t len, const char *owner)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	v4c_op(&ops[1], OP_LOCKT);
	LOCKT4args *a = &ops[1].nfs_argop4_u.oplockt;
	a->locktype = type;
	a->offset = off;
	a->length = len;
	a->owner.clientid = c->clientid;
	a->owner.owner.owner_val = (char *)owner;
	a->owner.owner.owner_len = (u_int)strlen(owner);
	COMPOUND4res res;
	run(c, ops, 2, &res);
	struct lock_res r = { .status = v4c_status(&res, 2) };
	if (r.status == NFS4ERR_DENIED)
		denied_copy(&result(&res, 1)->nfs_resop4_u.oplockt.LOCKT4res_u.denied, &r.denied);
	v4c_free(&res);
	return r;
}

static struct lock_res locku(struct v4c *c, const nfs_fh4 *fh, stateid4 sid, uint64_t off,
			     uint64_t len)
{
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], fh);
	v4c_op(&ops[1], OP_LOCKU);
	LOCKU4args *a = &ops[1].nfs_argop4_u.oplocku;
	a->locktype = WRITE_LT;
	a->lock_stateid = sid;
	a->offset = off;
	a->length = len;
	COMPOUND4res res;
	run(c, ops, 2, &res);
	struct lock_res r = { .status = v4c_status(&res, 2) };
	if (r.status == NFS4_OK)
		r.sid = result(&res, 1)->nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid;
	v4c_free(&res);
	return r;
}

static void assert_denied(const struct lock_res *r, uint64_t off, uint64_t len, nfs_lock_type4 type)
{
	assert_int_equal(r->status, NFS4ERR_DENIED);
	assert_int_equal(r->denied.offset, off);
	assert_int_equal(r->denied.length, len);
	assert_int_equal(r->denied.locktype, type);
}

/* --------------------------------------------------------------- OPEN */

static void test_open_create_modes(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "io-create");
	/* UNCHECKED4 with a mode: made with it, and attrset says so. */
	struct opened o =
		open_in_root(&c, (struct open_spec){ .owner = "o1",
						     .access = OPEN4_SHARE_ACCESS_BOTH,
						     .create = true,
						     .mode = UNCHECKED4,
						     .attrs = attrs_of(false, 0, true, 0640),
						     .name = "u1" });
	assert_int_equal(o.status, NFS4_OK);
	assert_true(bit_in(&o.ok.attrset, FATTR4_MODE));
	assert_int_equal(o.ok.rflags & OPEN4_RESULT_LOCKTYPE_POSIX, OPEN4_RESULT_LOCKTYPE_POSIX);
	assert_int_equal(o.ok.delegation.delegation_type, OPEN_DELEGATE_NONE);
	assert_true(o.ok.cinfo.after >= o.ok.cinfo.before);
	assert_int_equal(o.sid.seqid, 1);
	struct stat sb;
	assert_int_equal(stat(itest_path(&env, "u1"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(close_file(&c, &o.fh, o.sid), NFS4_OK);

	/* UNCHECKED4 over it with size 0: truncated (after the share check), the same file. */
	assert_int_equal(itest_write_file(itest_path(&env, "u1"), "contents", 8), 0);
	struct open_spec trunc = { .owner = "o1",
				   .access = OPEN4_SHARE_ACCESS_WRITE,
				   .create = true,
				   .mode = UNCHECKED4,
				   .attrs = attrs_of(true, 0, false, 0),
				   .name = "u1" };
	struct opened t = open_in_root(&c, trunc);
	assert_int_equal(t.status, NFS4_OK);
	assert_true(bit_in(&t.ok.attrset, FATTR4_SIZE));
	assert_int_equal(stat(itest_path(&env, "u1"), &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(t.fh.nfs_fh4_len, o.fh.nfs_fh4_len);
	assert_memory_equal(t.fh.nfs_fh4_val, o.fh.nfs_fh4_val, o.fh.nfs_fh4_len);
	assert_int_equal(close_file(&c, &t.fh, t.sid), NFS4_OK);
	/* Truncation needs share access WRITE. */
	trunc.access = OPEN4_SHARE_ACCESS_READ;
	assert_int_equal(open_in_root(&c, trunc).status, NFS4ERR_INVAL);

	/* GUARDED4: EXIST over a name, a new file otherwise. */
	struct open_spec g = { .owner = "o1",
			       .access = OPEN4_SHARE_ACCESS_READ,
			       .create = true,
			       .mode = GUARDED4,
			       .name = "u1" };
	assert_int_equal(open_in_root(&c, g).status, NFS4ERR_EXIST);
	g.name = "g1";
	struct opened og = open_in_root(&c, g);
	assert_int_equal(og.status, NFS4_OK);
	assert_int_equal(stat(itest_path(&env, "g1"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644); /* no mode given: the default */
	assert_int_equal(close_file(&c, &og.fh, og.sid), NFS4_OK);

	/* EXCLUSIVE4_1: a retransmission with the verifier succeeds, another verifier EXIST. */
	struct open_spec x = { .owner = "o1",
			       .access = OPEN4_SHARE_ACCESS_BOTH,
			       .create = true,
			       .mode = EXCLUSIVE4_1,
			       .verf = "verf0001",
			       .attrs = attrs_of(false, 0, true, 0600),
			       .name = "x1" };
	struct opened x1 = open_in_root(&c, x);
	assert_int_equal(x1.status, NFS4_OK);
	/* The verifier lives in the times: the client sets them after. */
	assert_true(bit_in(&x1.ok.attrset, FATTR4_TIME_ACCESS));
	assert_true(bit_in(&x1.ok.attrset, FATTR4_TIME_MODIFY));
	assert_true(bit_in(&x1.ok.attrset, FATTR4_MODE));
	assert_int_equal(stat(itest_path(&env, "x1"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	struct opened x2 = open_in_root(&c, x);
	assert_int_equal(x2.status, NFS4_OK);
	assert_memory_equal(x2.fh.nfs_fh4_val, x1.fh.nfs_fh4_val, x1.fh.nfs_fh4_len);
	assert_true(same_other(&x1.sid, &x2.sid)); /* the same owner: the same open */
	x.verf = "verf0002";
	assert_int_equal(open_in_root(&c, x).status, NFS4ERR_EXIST);
	assert_int_equal(close_file(&c, &x2.fh, x2.sid), NFS4_OK);
	/* Not the verifier's any more once written: EXIST even with it. */
	assert_int_equal(itest_write_file(itest_path(&env, "x1"), "x", 1), 0);
	x.verf = "verf0001";
	assert_int_equal(open_in_root(&c, x).status, NFS4ERR_EXIST);

	/* EXCLUSIVE4 (4.0's) is accepted too. */
	struct open_spec x0 = { .owner = "o1",
				.access = OPEN4_SHARE_ACCESS_WRITE,
				.create = true,
				.mode = EXCLUSIVE4,
				.verf = "old-verf",
				.name = "x0" };
	struct opened e1 = open_in_root(&c, x0);
	assert_int_equal(e1.status, NFS4_OK);
	struct opened e2 = open_in_root(&c, x0);
	assert_int_equal(e2.status, NFS4_OK);
	x0.verf = "new-verf";
	assert_int_equal(open_in_root(&c, x0).status, NFS4ERR_EXIST);
	assert_int_equal(close_file(&c, &e1.fh, e1.sid), NFS4ERR_OLD_STATEID);
	assert_int_equal(close_file(&c, &e2.fh, e2.sid), NFS4_OK);

	/* Bad attributes make no file. */
	struct open_spec bad = { .owner = "o1",
				 .access = OPEN4_SHARE_ACCESS_BOTH,
				 .create = true,
				 .mode = UNCHECKED4,
				 .name = "never" };
	uint32_t *w = itest_alloc(2 * sizeof(uint32_t));
	w[0] = 1u << FATTR4_TYPE; /* read-only */
	bad.attrs = (fattr4){ { 1, w }, { 4, itest_alloc(4) } };
	assert_int_equal(open_in_root(&c, bad).status, NFS4ERR_INVAL);
	assert_int_not_equal(access(itest_path(&env, "never"), F_OK), 0);
	/* Nor does a share access of nothing. */
	bad.attrs = attrs_of(false, 0, false, 0);
	bad.access = OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	assert_int_equal(open_in_root(&c, bad).status, NFS4ERR_INVAL);
	assert_int_not_equal(access(itest_path(&env, "never"), F_OK), 0);

	/* No such name without create. */
	assert_int_equal(open_name(&c, "o1", "missing", OPEN4_SHARE_ACCESS_READ, 0).status,
			 NFS4ERR_NOENT);
	v4c_close(&c);
}

static void test_open_types_and_claims(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "io-types");
	assert_int_equal(mkdir(itest_path(&env, "adir"), 0755), 0);
	assert_int_equal(symlink("u1", itest_path(&env, "alink")), 0);
	assert_int_equal(mkfifo(itest_path(&env, "afifo"), 0644), 0);
	assert_int_equal(itest_write_file(itest_path(&env, "plain"), "plain data", 10), 0);
	const uint32_t r = OPEN4_SHARE_ACCESS_READ;
	assert_int_equal(open_name(&c, "o", "adir", r, 0).status, NFS4ERR_ISDIR);
	assert_int_equal(open_name(&c, "o", "alink", r, 0).status, NFS4ERR_SYMLINK);
	assert_int_equal(open_name(&c, "o", "afifo", r, 0).status, NFS4ERR_WRONG_TYPE);
	assert_int_equal(open_name(&c, "o", "..", r, 0).status, NFS4ERR_BADNAME);
	assert_int_equal(open_name(&c, "o", "plain", 0, 0).status, NFS4ERR_INVAL);
	assert_int_equal(open_name(&c, "o", "plain", r, 4).status, NFS4ERR_INVAL);
	/* UNCHECKED4 over a directory opens nothing: ISDIR, as knfsd. */
	assert_int_equal(create_name(&c, "o", "adir", r, 0).status, NFS4ERR_ISDIR);

	/* CLAIM_NULL needs a directory as the current filehandle. */
	struct opened p = open_name(&c, "o", "plain", r, 0);
	assert_int_equal(p.status, NFS4_OK);
	nfs_argop4 ops[3];
	v4c_putfh(&ops[0], &p.fh);
	op_open(&ops[1], &(struct open_spec){ .owner = "o", .access = r, .name = "x" });
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_NOTDIR);

	/* CLAIM_FH: the current filehandle is the file; the same open for the same owner. */
	op_open(&ops[1], &(struct open_spec){ .owner = "o",
					      .access = OPEN4_SHARE_ACCESS_BOTH,
					      .claim = CLAIM_FH });
	COMPOUND4res res;
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	OPEN4resok *ok = &result(&res, 1)->nfs_resop4_u.opopen.OPEN4res_u.resok4;
	assert_true(same_other(&ok->stateid, &p.sid));
	assert_int_equal(ok->stateid.seqid, 2);
	stateid4 fh_sid = ok->stateid;
	v4c_free(&res);

	/* A delegation claim: none is ever given. */
	op_open(&ops[1],
		&(struct open_spec){
			.owner = "o", .access = r, .claim = CLAIM_DELEGATE_PREV, .name = "plain" });
	v4c_op(&ops[0], OP_PUTROOTFH);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_NOTSUPP);

	/* A client that says it wants no delegation hears "not wanted". */
	struct opened nw =
		open_in_root(&c, (struct open_spec){ .owner = "o2",
						     .access = r | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
						     .name = "plain" });
	assert_int_equal(nw.status, NFS4_OK);
	assert_int_equal(nw.ok.delegation.delegation_type, OPEN_DELEGATE_NONE_EXT);
	assert_int_equal(nw.ok.delegation.open_delegation4_u.od_whynone.ond_why, WND4_NOT_WANTED);
	struct opened wr = open_in_root(
		&c, (struct open_spec){ .owner = "o3",
					.access = r | OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
					.name = "plain" });
	assert_int_equal(wr.status, NFS4_OK);
	assert_int_equal(wr.ok.delegation.delegation_type, OPEN_DELEGATE_NONE_EXT);

	/* The opened file is the current filehandle, its stateid the current stateid. */
	v4c_op(&ops[0], OP_PUTROOTFH);
	op_open(&ops[1], &(struct open_spec){ .owner = "o4", .access = r, .name = "plain" });
	op_read(&ops[2], current_sid, 0, 100);
	assert_int_equal(run(&c, ops, 3, &res), NFS4_OK);
	READ4resok *rd = &result(&res, 2)->nfs_resop4_u.opread.READ4res_u.resok4;
	assert_int_equal(rd->data.data_len, 10);
	assert_memory_equal(rd->data.data_val, "plain data", 10);
	assert_true(rd->eof);
	stateid4 o4 = result(&res, 1)->nfs_resop4_u.opopen.OPEN4res_u.resok4.stateid;
	v4c_free(&res);
	/* CLOSE with "the current stateid" after the OPEN in one COMPOUND. */
	v4c_op(&ops[0], OP_PUTROOTFH);
	op_open(&ops[1], &(struct open_spec){ .owner = "o4", .access = r, .name = "plain" });
	op_close(&ops[2], current_sid);
	assert_int_equal(run(&c, ops, 3, &res), NFS4_OK);
	stateid4 closed = result(&res, 2)->nfs_resop4_u.opclose.CLOSE4res_u.open_stateid;
	assert_int_equal(closed.seqid, UINT32_MAX); /* the invalid special stateid */
	v4c_free(&res);
	assert_int_equal(read_status(&c, &p.fh, o4), NFS4ERR_BAD_STATEID);
	/* No current stateid after a new filehandle. */
	v4c_putfh(&ops[0], &p.fh);
	op_read(&ops[1], current_sid, 0, 1);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_BAD_STATEID);

	assert_int_equal(close_file(&c, &p.fh, fh_sid), NFS4_OK);
	assert_int_equal(close_file(&c, &nw.fh, nw.sid), NFS4_OK);
	assert_int_equal(close_file(&c, &wr.fh, wr.sid), NFS4_OK);
	v4c_close(&c);
}

/* Client records in the state directory (server/nfs4/clientdb.c: "c-<hex>"). */
static unsigned count_records(const struct itest_env *e)
{
	DIR *d = opendir(itest_sprintf("%s/nfs4", e->state));
	assert_non_null(d);
	unsigned n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strncmp(de->d_name, "c-", 2) == 0 && !strchr(de->d_name, '.');
	closedir(d);
	return n;
}

static void test_open_permissions(void **state)
{
	(void)state;
	const char *secret = itest_path(&env, "secret"), *pub = itest_path(&env, "public"),
		   *mine = itest_path(&env, "mine");
	assert_int_equal(itest_write_file(secret, "s", 1), 0);
	assert_int_equal(chmod(secret, 0600), 0);
	assert_int_equal(itest_write_file(pub, "p", 1), 0);
	assert_int_equal(chmod(pub, 0644), 0);
	assert_int_equal(itest_write_file(mine, "m", 1), 0);
	assert_int_equal(chown(mine, 4242, 4242), 0);
	assert_int_equal(chmod(mine, 0400), 0);
	assert_int_equal(chmod(env.dir, 0777), 0);
	struct v4c c;
	unsigned records = count_records(&env);
	connect_as(&c, srv.port, "io-perm", 4242);
	/* Its client record is written whichever identity the worker thread had last. */
	assert_int_equal(count_records(&env), records + 1);
	const uint32_t r = OPEN4_SHARE_ACCESS_READ, w = OPEN4_SHARE_ACCESS_WRITE;
	assert_int_equal(open_name(&c, "p", "secret", r, 0).status, NFS4ERR_ACCESS);
	struct opened p = open_name(&c, "p", "public", r, 0);
	assert_int_equal(p.status, NFS4_OK);
	assert_int_equal(open_name(&c, "p2", "public", w, 0).status, NFS4ERR_ACCESS);
	/* Denying others READ takes the right to write. */
	assert_int_equal(open_name(&c, "p3", "public", r, OPEN4_SHARE_DENY_READ).status,
			 NFS4ERR_ACCESS);
	/* The owner may, whatever the mode (knfsd's owner override). */
	struct opened m = open_name(&c, "p4", "mine", w, 0);
	assert_int_equal(m.status, NFS4_OK);
	assert_int_equal(write_file(&c, &m.fh, m.sid, 1, "y", 1), NFS4_OK);
	/* The creator opens what it made, even read-only. */
	struct opened ro =
		open_in_root(&c, (struct open_spec){ .owner = "p5",
						     .access = OPEN4_SHARE_ACCESS_BOTH,
						     .create = true,
						     .mode = GUARDED4,
						     .attrs = attrs_of(false, 0, true, 0444),
						     .name = "made-ro" });
	assert_int_equal(ro.status, NFS4_OK);
	assert_int_equal(write_file(&c, &ro.fh, ro.sid, 0, "abc", 3), NFS4_OK);
	struct stat sb;
	assert_int_equal(stat(itest_path(&env, "made-ro"), &sb), 0);
	assert_int_equal(sb.st_uid, 4242);
	assert_int_equal(sb.st_size, 3);
	/* The anonymous stateid is checked as the caller. */
	assert_int_equal(write_file(&c, &p.fh, anon_sid, 0, "z", 1), NFS4ERR_ACCESS);
	assert_int_equal(close_file(&c, &p.fh, p.sid), NFS4_OK);
	assert_int_equal(close_file(&c, &m.fh, m.sid), NFS4_OK);
	assert_int_equal(close_file(&c, &ro.fh, ro.sid), NFS4_OK);
	v4c_close(&c);
	assert_int_equal(chmod(env.dir, 0755), 0);
}

/* ------------------------------------------------------- share reservations */

static void test_share_deny(void **state)
{
	(void)state;
	struct v4c a, b;
	connect_session(&a, "io-share-a");
	connect_session(&b, "io-share-b");
	const uint32_t r = OPEN4_SHARE_ACCESS_READ, w = OPEN4_SHARE_ACCESS_WRITE,
		       rw = OPEN4_SHARE_ACCESS_BOTH;
	struct opened oa = create_name(&a, "a", "shared", rw, OPEN4_SHARE_DENY_WRITE);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(open_name(&b, "b", "shared", w, 0).status, NFS4ERR_SHARE_DENIED);
	assert_int_equal(open_name(&b, "b", "shared", r, OPEN4_SHARE_DENY_READ).status,
			 NFS4ERR_SHARE_DENIED);
	struct opened ob = open_name(&b, "b", "shared", r, 0);
	assert_int_equal(ob.status, NFS4_OK);
	/* Without an open, a write is refused by the deny of another: LOCKED. */
	assert_int_equal(write_file(&b, &ob.fh, anon_sid, 0, "x", 1), NFS4ERR_LOCKED);
	/* Another client's stateid is nobody's to use. */
	assert_int_equal(read_status(&b, &oa.fh, oa.sid), NFS4ERR_BAD_STATEID);
	assert_int_equal(close_file(&a, &oa.fh, oa.sid), NFS4_OK);
	struct opened ob2 = open_name(&b, "b2", "shared", w, 0);
	assert_int_equal(ob2.status, NFS4_OK);
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4_OK);
	assert_int_equal(close_file(&b, &ob2.fh, ob2.sid), NFS4_OK);
	v4c_close(&a);
	v4c_close(&b);
}

static void test_upgrade_downgrade_close(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "io-updown");
	struct opened o1 = create_name(&c, "o", "updown", OPEN4_SHARE_ACCESS_READ, 0);
	assert_int_equal(o1.status, NFS4_OK);
	struct opened o2 =
		open_name(&c, "o", "updown", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_WRITE);
	assert_int_equal(o2.status, NFS4_OK);
	assert_true(same_other(&o1.sid, &o2.sid));
	assert_int_equal(o2.sid.seqid, 2);
	assert_int_equal(write_file(&c, &o2.fh, o2.sid, 0, "up", 2), NFS4_OK);
	/* The old seqid is OLD_STATEID; seqid 0 means whatever is current. */
	assert_int_equal(read_status(&c, &o1.fh, o1.sid), NFS4ERR_OLD_STATEID);
	stateid4 zero = o2.sid;
	zero.seqid = 0;
	assert_int_equal(read_status(&c, &o1.fh, zero), NFS4_OK);
	stateid4 future = o2.sid;
	future.seqid = 9;
	assert_int_equal(read_status(&c, &o1.fh, future), NFS4ERR_BAD_STATEID);

	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], &o2.fh);
	v4c_op(&ops[1], OP_OPEN_DOWNGRADE);
	OPEN_DOWNGRADE4args *d = &ops[1].nfs_argop4_u.opopen_downgrade;
	d->open_stateid = o2.sid;
	d->share_access = OPEN4_SHARE_ACCESS_READ;
	d->share_deny = OPEN4_SHARE_DENY_NONE;
	COMPOUND4res res;
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	stateid4 o3 =
		result(&res, 1)
			->nfs_resop4_u.opopen_downgrade.OPEN_DOWNGRADE4res_u.resok4.open_stateid;
	v4c_free(&res);
	assert_int_equal(o3.seqid, 3);
	/* Read-only now. */
	assert_int_equal(write_file(&c, &o2.fh, o3, 0, "no", 2), NFS4ERR_OPENMODE);
	/* Not a subset of what the open has: INVAL. */
	d->open_stateid = o3;
	d->share_access = OPEN4_SHARE_ACCESS_BOTH;
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_INVAL);
	d->share_access = OPEN4_SHARE_ACCESS_READ;
	d->share_deny = OPEN4_SHARE_DENY_READ;
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_INVAL);
	assert_int_equal(close_file(&c, &o2.fh, o2.sid), NFS4ERR_OLD_STATEID);
	assert_int_equal(close_file(&c, &o2.fh, o3), NFS4_OK);
	assert_int_equal(read_status(&c, &o2.fh, o3), NFS4ERR_BAD_STATEID);
	assert_int_equal(close_file(&c, &o2.fh, o3), NFS4ERR_BAD_STATEID);
	/* A file that is not the stateid's. */
	struct opened other = create_name(&c, "o", "updown2", OPEN4_SHARE_ACCESS_READ, 0);
	assert_int_equal(other.status, NFS4_OK);
	assert_int_equal(read_status(&c, &o2.fh, other.sid), NFS4ERR_BAD_STATEID);
	assert_int_equal(close_file(&c, &other.fh, other.sid), NFS4_OK);
	v4c_close(&c);
}

/* ------------------------------------------------------- READ, WRITE, COMMIT */

static void test_read_write_commit(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "io-rw");
	struct opened o = create_name(&c, "o", "data", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(o.status, NFS4_OK);
	const size_t len = 300000;
	uint8_t *buf = itest_alloc(len);
	itest_pattern(buf, len, 0, 7);
	nfs_argop4 ops[3];
	v4c_putfh(&ops[0], &o.fh);
	op_write(&ops[1], o.sid, 0, buf, len, UNSTABLE4);
	v4c_op(&ops[2], OP_COMMIT);
	COMPOUND4res res;
	assert_int_equal(run(&c, ops, 3, &res), NFS4_OK);
	WRITE4resok *wr = &result(&res, 1)->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
	assert_int_equal(wr->count, len);
	assert_int_equal(wr->committed, UNSTABLE4);
	verifier4 wverf;
	memcpy(wverf, wr->writeverf, sizeof(wverf));
	assert_memory_equal(result(&res, 2)->nfs_resop4_u.opcommit.COMMIT4res_u.resok4.writeverf,
			    wverf, sizeof(wverf));
	v4c_free(&res);
	/* A stable write past the end leaves a hole. */
	v4c_putfh(&ops[0], &o.fh);
	op_write(&ops[1], o.sid, 1 << 20, "tail", 4, FILE_SYNC4);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	wr = &result(&res, 1)->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
	assert_int_equal(wr->committed, FILE_SYNC4);
	assert_memory_equal(wr->writeverf, wverf, sizeof(wverf));
	v4c_free(&res);

	/* The file on disk has what was written. */
	char *disk = itest_slurp(itest_path(&env, "data"));
	struct stat sb;
	assert_int_equal(stat(itest_path(&env, "data"), &sb), 0);
	assert_int_equal(sb.st_size, (1 << 20) + 4);
	assert_memory_equal(disk, buf, len);
	assert_memory_equal(disk + (1 << 20), "tail", 4);

	/* And READ gives it back; past the end eof, nothing. */
	v4c_putfh(&ops[0], &o.fh);
	op_read(&ops[1], o.sid, 1000, 200000);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	READ4resok *rd = &result(&res, 1)->nfs_resop4_u.opread.READ4res_u.resok4;
	assert_int_equal(rd->data.data_len, 200000);
	assert_memory_equal(rd->data.data_val, buf + 1000, 200000);
	assert_false(rd->eof);
	v4c_free(&res);
	op_read(&ops[1], o.sid, (1 << 20) + 2, 100);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	rd = &result(&res, 1)->nfs_resop4_u.opread.READ4res_u.resok4;
	assert_int_equal(rd->data.data_len, 2);
	assert_memory_equal(rd->data.data_val, "il", 2);
	assert_true(rd->eof);
	v4c_free(&res);
	op_read(&ops[1], o.sid, 5 << 20, 100);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	rd = &result(&res, 1)->nfs_resop4_u.opread.READ4res_u.resok4;
	assert_int_equal(rd->data.data_len, 0);
	assert_true(rd->eof);
	v4c_free(&res);
	/* More than the reply can hold: a short READ, not an error. */
	op_read(&ops[1], anon_sid, 0, 4 << 20);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	rd = &result(&res, 1)->nfs_resop4_u.opread.READ4res_u.resok4;
	assert_true(rd->data.data_len > 0 && rd->data.data_len <= (1 << 20));
	assert_false(rd->eof);
	assert_memory_equal(rd->data.data_val, buf, len);
	v4c_free(&res);

	/* A reply the slot is to keep is held to what it may keep (8 KiB here). */
	nfs_argop4 cached[3];
	v4c_seq(&c, &cached[0], 1, true);
	v4c_putfh(&cached[1], &o.fh);
	op_read(&cached[2], o.sid, 0, 100000);
	assert_int_equal(v4c_compound(&c, cached, 3, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	rd = &res.resarray.resarray_val[2].nfs_resop4_u.opread.READ4res_u.resok4;
	assert_true(rd->data.data_len > 0 && rd->data.data_len < 8192);
	assert_memory_equal(rd->data.data_val, buf, rd->data.data_len);
	v4c_free(&res);

	/* COMMIT's verifier stays the same between calls (no restart). */
	v4c_op(&ops[1], OP_COMMIT);
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	assert_memory_equal(result(&res, 1)->nfs_resop4_u.opcommit.COMMIT4res_u.resok4.writeverf,
			    wverf, sizeof(wverf));
	v4c_free(&res);

	/* Not a regular file. */
	v4c_op(&ops[0], OP_PUTROOTFH);
	op_read(&ops[1], anon_sid, 0, 10);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_ISDIR);
	op_write(&ops[1], anon_sid, 0, "x", 1, UNSTABLE4);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_ISDIR);
	v4c_op(&ops[1], OP_COMMIT);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_ISDIR);
	/* A write beyond what a file can hold. */
	v4c_putfh(&ops[0], &o.fh);
	op_write(&ops[1], o.sid, UINT64_MAX - 1, "xy", 2, UNSTABLE4);
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_FBIG);
	assert_int_equal(close_file(&c, &o.fh, o.sid), NFS4_OK);

	/* WRITE through a read-only open: OPENMODE; READ through it fine. */
	struct opened ro = open_name(&c, "r", "data", OPEN4_SHARE_ACCESS_READ, 0);
	assert_int_equal(ro.status, NFS4_OK);
	assert_int_equal(write_file(&c, &ro.fh, ro.sid, 0, "x", 1), NFS4ERR_OPENMODE);
	assert_int_equal(read_status(&c, &ro.fh, ro.sid), NFS4_OK);
	assert_int_equal(close_file(&c, &ro.fh, ro.sid), NFS4_OK);
	v4c_close(&c);
}

/* ------------------------------------------------------------------ locks */

static void test_locks_between_clients(void **state)
{
	(void)state;
	struct v4c a, b;
	connect_session(&a, "io-lock-a");
	connect_session(&b, "io-lock-b");
	struct opened oa = create_name(&a, "oa", "locked", OPEN4_SHARE_ACCESS_BOTH, 0);
	struct opened ob = open_name(&b, "ob", "locked", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(ob.status, NFS4_OK);
	struct lock_res la = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, true, oa.sid, "la", false);
	assert_int_equal(la.status, NFS4_OK);
	assert_int_equal(la.sid.seqid, 1);
	/* B is refused, and told who holds what. */
	struct lock_res lb = lock_range(&b, &ob.fh, READ_LT, 50, 10, true, ob.sid, "lb", false);
	assert_denied(&lb, 0, 100, WRITE_LT);
	assert_int_equal(lb.denied.owner.clientid, a.clientid);
	assert_int_equal(lb.denied.owner.owner.owner_len, 2);
	assert_memory_equal(lb.denied.owner.owner.owner_val, "la", 2);
	/* The blocking types are the same, answered at once. */
	lb = lock_range(&b, &ob.fh, WRITEW_LT, 99, 1, true, ob.sid, "lb", false);
	assert_denied(&lb, 0, 100, WRITE_LT);
	/* LOCKT: around the range free, inside it not. */
	assert_int_equal(lockt(&b, &ob.fh, WRITE_LT, 100, 10, "lb").status, NFS4_OK);
	struct lock_res t = lockt(&b, &ob.fh, READ_LT, 99, 1, "lb");
	assert_denied(&t, 0, 100, WRITE_LT);
	/* LOCKT for A's own owner finds nothing in the way. */
	assert_int_equal(lockt(&a, &oa.fh, WRITE_LT, 0, 100, "la").status, NFS4_OK);
	/* Beside A's range: fine, to the end of the file. */
	lb = lock_range(&b, &ob.fh, WRITE_LT, 100, UINT64_MAX, true, ob.sid, "lb", false);
	assert_int_equal(lb.status, NFS4_OK);
	t = lockt(&a, &oa.fh, READ_LT, 1 << 30, 1, "la");
	assert_denied(&t, 100, UINT64_MAX, WRITE_LT);
	/* Bad ranges. */
	assert_int_equal(lock_range(&a, &oa.fh, READ_LT, 0, 0, false, la.sid, "", false).status,
			 NFS4ERR_INVAL);
	assert_int_equal(
		lock_range(&a, &oa.fh, READ_LT, UINT64_MAX - 1, 5, false, la.sid, "", false).status,
		NFS4ERR_INVAL);
	/* A lets go: B gets it. */
	struct lock_res u = locku(&a, &oa.fh, la.sid, 0, 100);
	assert_int_equal(u.status, NFS4_OK);
	assert_int_equal(u.sid.seqid, 2);
	struct lock_res lb2 = lock_range(&b, &ob.fh, READ_LT, 50, 10, false, lb.sid, "", false);
	assert_int_equal(lb2.status, NFS4_OK);
	/* Locks on a read-only open: READ only. */
	struct opened ro = open_name(&a, "ro", "locked", OPEN4_SHARE_ACCESS_READ, 0);
	assert_int_equal(ro.status, NFS4_OK);
	assert_int_equal(
		lock_range(&a, &ro.fh, WRITE_LT, 200, 1, true, ro.sid, "lro", false).status,
		NFS4ERR_OPENMODE);
	/* The open's stateid is not a lock stateid, nor the lock's an open's. */
	assert_int_equal(lock_range(&a, &oa.fh, READ_LT, 0, 1, false, oa.sid, "", false).status,
			 NFS4ERR_BAD_STATEID);
	assert_int_equal(locku(&a, &oa.fh, oa.sid, 0, 1).status, NFS4ERR_BAD_STATEID);
	/* An old lock stateid. */
	assert_int_equal(locku(&a, &oa.fh, la.sid, 0, 1).status, NFS4ERR_OLD_STATEID);
	/* CLOSE while the owner holds locks: LOCKS_HELD. */
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4ERR_LOCKS_HELD);
	assert_int_equal(locku(&b, &ob.fh, lb2.sid, 0, UINT64_MAX).status, NFS4_OK);
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4_OK);
	assert_int_equal(close_file(&a, &oa.fh, oa.sid), NFS4_OK);
	assert_int_equal(close_file(&a, &ro.fh, ro.sid), NFS4_OK);
	v4c_close(&a);
	v4c_close(&b);
}

static void test_lock_upgrade_split(void **state)
{
	(void)state;
	struct v4c a, b;
	connect_session(&a, "io-split-a");
	connect_session(&b, "io-split-b");
	struct opened oa = create_name(&a, "oa", "split", OPEN4_SHARE_ACCESS_BOTH, 0);
	struct opened ob = open_name(&b, "ob", "split", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(ob.status, NFS4_OK);
	struct lock_res l = lock_range(&a, &oa.fh, READ_LT, 0, 100, true, oa.sid, "la", false);
	assert_int_equal(l.status, NFS4_OK);
	/* Readers share. */
	assert_int_equal(lockt(&b, &ob.fh, READ_LT, 0, 100, "lb").status, NFS4_OK);
	struct lock_res t = lockt(&b, &ob.fh, WRITE_LT, 10, 1, "lb");
	assert_denied(&t, 0, 100, READ_LT);
	/* Upgrade by the existing lock-owner. */
	l = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, false, l.sid, "", false);
	assert_int_equal(l.status, NFS4_OK);
	assert_int_equal(l.sid.seqid, 2);
	t = lockt(&b, &ob.fh, READ_LT, 10, 1, "lb");
	assert_denied(&t, 0, 100, WRITE_LT);
	/* A hole in the middle: two ranges left. */
	struct lock_res u = locku(&a, &oa.fh, l.sid, 40, 20);
	assert_int_equal(u.status, NFS4_OK);
	assert_int_equal(lockt(&b, &ob.fh, WRITE_LT, 40, 20, "lb").status, NFS4_OK);
	t = lockt(&b, &ob.fh, WRITE_LT, 30, 1, "lb");
	assert_denied(&t, 0, 40, WRITE_LT);
	t = lockt(&b, &ob.fh, WRITE_LT, 70, 1, "lb");
	assert_denied(&t, 60, 40, WRITE_LT);
	/* Downgrade the upper one: readers may in again there. */
	l = lock_range(&a, &oa.fh, READ_LT, 60, 40, false, u.sid, "", false);
	assert_int_equal(l.status, NFS4_OK);
	assert_int_equal(lockt(&b, &ob.fh, READ_LT, 70, 1, "lb").status, NFS4_OK);
	t = lockt(&b, &ob.fh, WRITE_LT, 70, 1, "lb");
	assert_denied(&t, 60, 40, READ_LT);
	struct lock_res lb = lock_range(&b, &ob.fh, READ_LT, 50, 30, true, ob.sid, "lb", false);
	assert_int_equal(lb.status, NFS4_OK);
	/* Merged again over the hole: [0, 100) is A's write lock, B's read is in the way. */
	struct lock_res m = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, false, l.sid, "", false);
	assert_denied(&m, 50, 30, READ_LT);
	assert_int_equal(locku(&b, &ob.fh, lb.sid, 0, UINT64_MAX).status, NFS4_OK);
	m = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, false, l.sid, "", false);
	assert_int_equal(m.status, NFS4_OK);
	t = lockt(&b, &ob.fh, READ_LT, 50, 1, "lb");
	assert_denied(&t, 0, 100, WRITE_LT);
	assert_int_equal(locku(&a, &oa.fh, m.sid, 0, 100).status, NFS4_OK);
	assert_int_equal(close_file(&a, &oa.fh, oa.sid), NFS4_OK);
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4_OK);
	v4c_close(&a);
	v4c_close(&b);
}

/* -------------------------------------------- a local process's fcntl locks */

/*
 * A child that takes a POSIX (or OFD) lock of path and holds it until told
 * to let go: a local process working in the exported directory.
 */
struct holder {
	pid_t pid;
	int go; /* write a byte: let go and exit */
};

static int set_lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

static struct holder hold_local(const char *path, int cmd, off_t start, off_t len)
{
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		int fd = open(path, O_RDWR);
		char ok = fd >= 0 && set_lock(fd, cmd, F_WRLCK, start, len) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1)
			_exit(2);
		char c;
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	char ok = 0;
	assert_int_equal(read(ready[0], &ok, 1), 1);
	close(ready[0]);
	assert_int_equal(ok, 'y');
	return (struct holder){ pid, go[1] };
}

static void let_go(struct holder *h)
{
	assert_int_equal(write(h->go, "x", 1), 1);
	close(h->go);
	int st;
	assert_int_equal(waitpid(h->pid, &st, 0), h->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Can a fresh local process take a write lock of [start, start + len) with cmd? */
static bool local_can_lock(const char *path, int cmd, off_t start, off_t len)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		if (fd < 0)
			_exit(2);
		if (set_lock(fd, cmd, F_WRLCK, start, len) == 0)
			_exit(0);
		_exit(errno == EAGAIN || errno == EACCES ? 1 : 3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) <= 1);
	return WEXITSTATUS(st) == 0;
}

static void test_local_locks(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "io-local");
	struct opened o = create_name(&c, "o", "local", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(o.status, NFS4_OK);
	const char *path = itest_path(&env, "local");

	/* A local fcntl lock holds the NFS client off, as an owner outside NFS. */
	struct holder h = hold_local(path, F_SETLK, 0, 10);
	struct lock_res l = lock_range(&c, &o.fh, WRITE_LT, 5, 10, true, o.sid, "nfs", false);
	assert_denied(&l, 0, 10, WRITE_LT);
	assert_int_equal(l.denied.owner.clientid, 0);
	struct lock_res t = lockt(&c, &o.fh, READ_LT, 0, 1, "nfs");
	assert_denied(&t, 0, 10, WRITE_LT);
	/* Beside it: fine. */
	l = lock_range(&c, &o.fh, WRITE_LT, 100, 100, true, o.sid, "nfs", false);
	assert_int_equal(l.status, NFS4_OK);
	let_go(&h);
	struct lock_res l2 = lock_range(&c, &o.fh, WRITE_LT, 5, 10, false, l.sid, "", false);
	assert_int_equal(l2.status, NFS4_OK);

	/* The NFS lock holds local processes off, POSIX and OFD locks alike. */
	assert_false(local_can_lock(path, F_SETLK, 150, 1));
	assert_false(local_can_lock(path, F_OFD_SETLK, 199, 5));
	assert_false(local_can_lock(path, F_SETLK, 0, 6));
	assert_true(local_can_lock(path, F_SETLK, 20, 10));
	/* An OFD lock of a local process is a conflict too. */
	h = hold_local(path, F_OFD_SETLK, 300, 1);
	t = lockt(&c, &o.fh, WRITE_LT, 0, UINT64_MAX, "other");
	assert_int_equal(t.status, NFS4ERR_DENIED);
	struct lock_res d = lock_range(&c, &o.fh, READ_LT, 300, 1, false, l2.sid, "", false);
	assert_denied(&d, 300, 1, WRITE_LT);
	let_go(&h);
	/* Once unlocked, the range is free on the real file too. */
	struct lock_res u = locku(&c, &o.fh, l2.sid, 0, UINT64_MAX);
	assert_int_equal(u.status, NFS4_OK);
	assert_true(local_can_lock(path, F_SETLK, 0, 0));
	/* CLOSE lets go of everything: lock again, then unlock and close. */
	l = lock_range(&c, &o.fh, WRITE_LT, 0, 1, false, u.sid, "", false);
	assert_int_equal(l.status, NFS4_OK);
	assert_false(local_can_lock(path, F_SETLK, 0, 1));
	assert_int_equal(locku(&c, &o.fh, l.sid, 0, 1).status, NFS4_OK);
	assert_int_equal(close_file(&c, &o.fh, o.sid), NFS4_OK);
	assert_true(local_can_lock(path, F_SETLK, 0, 0));
	v4c_close(&c);
}

/* ------------------------------------ TEST_STATEID, FREE_STATEID, DELEGRETURN */

static void test_stateid_ops(void **state)
{
	(void)state;
	struct v4c c, other;
	connect_session(&c, "io-sid");
	connect_session(&other, "io-sid-other");
	struct opened o = create_name(&c, "o", "sids", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(o.status, NFS4_OK);
	struct lock_res l = lock_range(&c, &o.fh, WRITE_LT, 0, 10, true, o.sid, "l", false);
	assert_int_equal(l.status, NFS4_OK);
	stateid4 bogus = o.sid;
	bogus.other[0] ^= 0x5a;
	stateid4 old = l.sid;
	l = lock_range(&c, &o.fh, WRITE_LT, 20, 10, false, l.sid, "", false);
	assert_int_equal(l.status, NFS4_OK);

	stateid4 sids[5] = { o.sid, l.sid, bogus, old, anon_sid };
	nfs_argop4 ops[2];
	v4c_op(&ops[0], OP_TEST_STATEID);
	ops[0].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_len = 5;
	ops[0].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_val = sids;
	COMPOUND4res res;
	assert_int_equal(run(&c, ops, 1, &res), NFS4_OK);
	TEST_STATEID4resok *ts =
		&result(&res, 0)->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	assert_int_equal(ts->tsr_status_codes.tsr_status_codes_len, 5);
	const nfsstat4 want[5] = { NFS4_OK, NFS4_OK, NFS4ERR_BAD_STATEID, NFS4ERR_OLD_STATEID,
				   NFS4ERR_BAD_STATEID };
	for (int i = 0; i < 5; i++)
		assert_int_equal(ts->tsr_status_codes.tsr_status_codes_val[i], want[i]);
	v4c_free(&res);
	/* Another client's stateids are not its to test. */
	assert_int_equal(run(&other, ops, 1, &res), NFS4_OK);
	ts = &result(&res, 0)->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	assert_int_equal(ts->tsr_status_codes.tsr_status_codes_val[0], NFS4ERR_BAD_STATEID);
	assert_int_equal(ts->tsr_status_codes.tsr_status_codes_val[1], NFS4ERR_BAD_STATEID);
	v4c_free(&res);

	/* FREE_STATEID: not while it holds locks, nor an open still open. */
	v4c_op(&ops[0], OP_FREE_STATEID);
	ops[0].nfs_argop4_u.opfree_stateid.fsa_stateid = l.sid;
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4ERR_LOCKS_HELD);
	ops[0].nfs_argop4_u.opfree_stateid.fsa_stateid = o.sid;
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4ERR_LOCKS_HELD);
	ops[0].nfs_argop4_u.opfree_stateid.fsa_stateid = bogus;
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4ERR_BAD_STATEID);
	assert_int_equal(close_file(&c, &o.fh, o.sid), NFS4ERR_LOCKS_HELD);
	struct lock_res u = locku(&c, &o.fh, l.sid, 0, UINT64_MAX);
	assert_int_equal(u.status, NFS4_OK);
	/* No locks left: the lock stateid may go, and is gone. */
	ops[0].nfs_argop4_u.opfree_stateid.fsa_stateid = u.sid;
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4_OK);
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4ERR_BAD_STATEID);
	assert_int_equal(locku(&c, &o.fh, u.sid, 0, 1).status, NFS4ERR_BAD_STATEID);
	v4c_op(&ops[0], OP_TEST_STATEID);
	ops[0].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_len = 2;
	ops[0].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_val = sids;
	sids[1] = u.sid;
	assert_int_equal(run(&c, ops, 1, &res), NFS4_OK);
	ts = &result(&res, 0)->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	assert_int_equal(ts->tsr_status_codes.tsr_status_codes_val[0], NFS4_OK);
	assert_int_equal(ts->tsr_status_codes.tsr_status_codes_val[1], NFS4ERR_BAD_STATEID);
	v4c_free(&res);

	/* DELEGRETURN: no delegation was ever given. */
	v4c_putfh(&ops[0], &o.fh);
	v4c_op(&ops[1], OP_DELEGRETURN);
	ops[1].nfs_argop4_u.opdelegreturn.deleg_stateid = o.sid;
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_BAD_STATEID);
	ops[1].nfs_argop4_u.opdelegreturn.deleg_stateid = anon_sid;
	assert_int_equal(run_op_status(&c, ops, 2, 1), NFS4ERR_BAD_STATEID);
	assert_int_equal(close_file(&c, &o.fh, o.sid), NFS4_OK);
	/* And nothing of them without a filehandle. */
	v4c_op(&ops[0], OP_DELEGRETURN);
	assert_int_equal(run_op_status(&c, ops, 1, 0), NFS4ERR_NOFILEHANDLE);
	v4c_close(&c);
	v4c_close(&other);
}

/* ------------------------------------------------ lease expiry and grace */

/* A server of its own, with a short lease, over its own directories. */
static void start_private(struct itest_env *e, struct itest_server *s, const char *tag,
			  const char *grace)
{
	assert_int_equal(itest_env_init(e, tag), 0);
	const char *extra[] = { "--nfs4", "--lease-time", "10", "--grace-time", grace, NULL };
	assert_int_equal(itest_server_start(s, e, extra), 0);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_lease_expiry(void **state)
{
	(void)state;
	struct itest_env e;
	struct itest_server s;
	start_private(&e, &s, "nfs4lease", "10");
	struct v4c a, b;
	connect_as(&a, s.port, "lease-a", 0);
	connect_as(&b, s.port, "lease-b", 0);
	struct opened oa = create_name(&a, "oa", "leased", OPEN4_SHARE_ACCESS_BOTH, 0);
	struct opened ob = open_name(&b, "ob", "leased", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(ob.status, NFS4_OK);
	struct lock_res la = lock_range(&a, &oa.fh, WRITE_LT, 0, 10, true, oa.sid, "la", false);
	assert_int_equal(la.status, NFS4_OK);
	/* A goes silent; B keeps asking (and so renews its own lease). */
	long long start = now_ms();
	struct lock_res lb;
	bool first = true;
	do {
		lb = lock_range(&b, &ob.fh, WRITE_LT, 0, 10, true, ob.sid, "lb", false);
		if (lb.status == NFS4ERR_DENIED) {
			assert_true(now_ms() - start < 60000);
			first = false;
			sleep(1);
		}
	} while (lb.status == NFS4ERR_DENIED);
	assert_false(first);
	assert_int_equal(lb.status, NFS4_OK);
	/* Not before the lease ran out. */
	assert_true(now_ms() - start >= 9000);
	/* A's lock left the real file with it. */
	assert_false(local_can_lock(itest_sprintf("%s/leased", e.dir), F_SETLK, 0, 1));
	assert_int_equal(locku(&b, &ob.fh, lb.sid, 0, 10).status, NFS4_OK);
	assert_true(local_can_lock(itest_sprintf("%s/leased", e.dir), F_SETLK, 0, 1));
	/* A's session is gone with its lease. */
	nfs_argop4 op;
	v4c_seq(&a, &op, 0, false);
	COMPOUND4res res;
	assert_int_equal(v4c_compound(&a, &op, 1, &res), 0);
	assert_true(res.status == NFS4ERR_BADSESSION || res.status == NFS4ERR_EXPIRED);
	v4c_free(&res);
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4_OK);
	v4c_close(&a);
	v4c_close(&b);
	assert_int_equal(itest_server_stop(&s), 0);
	itest_env_cleanup(&e);
}

/*
 * Client records are the server's files: written whatever identity the
 * worker has from its last caller. One worker, last serving uid 4242 (who
 * may not enter the 0700 state directory), then a new client's session.
 */
static void test_records_written_as_server(void **state)
{
	(void)state;
	struct itest_env e;
	struct itest_server s;
	assert_int_equal(itest_env_init(&e, "nfs4rec"), 0);
	const char *extra[] = { "--nfs4", "--threads", "1", NULL };
	assert_int_equal(itest_server_start(&s, &e, extra), 0);
	struct v4c x, y;
	connect_as(&x, s.port, "rec-x", 4242);
	nfs_argop4 op;
	v4c_op(&op, OP_PUTROOTFH);
	assert_int_equal(run_op_status(&x, &op, 1, 0), NFS4_OK);
	connect_as(&y, s.port, "rec-y", 0);
	assert_int_equal(count_records(&e), 2);
	assert_false(strstr(itest_slurp(s.err_path), "cannot write a client record"));
	v4c_close(&x);
	v4c_close(&y);
	assert_int_equal(itest_server_stop(&s), 0);
	itest_env_cleanup(&e);
}

/* EXCHANGE_ID and CREATE_SESSION without RECLAIM_COMPLETE: a client that has state to reclaim. */
static void connect_reclaimer(struct v4c *c, int port, const char *owner)
{
	assert_int_equal(v4c_connect(c, port, 0, 0), 0);
	snprintf(c->owner, sizeof(c->owner), "%s", owner);
	nfs_argop4 op;
	v4c_op(&op, OP_EXCHANGE_ID);
	EXCHANGE_ID4args *a = &op.nfs_argop4_u.opexchange_id;
	memcpy(a->eia_clientowner.co_verifier, "verifier", 8);
	a->eia_clientowner.co_ownerid.co_ownerid_val = c->owner;
	a->eia_clientowner.co_ownerid.co_ownerid_len = (u_int)strlen(c->owner);
	a->eia_flags = EXCHGID4_FLAG_USE_NON_PNFS;
	a->eia_state_protect.spa_how = SP4_NONE;
	COMPOUND4res res;
	assert_int_equal(v4c_compound(c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	EXCHANGE_ID4resok *eok = &res.resarray.resarray_val[0]
					  .nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
	c->clientid = eok->eir_clientid;
	c->cs_seq = eok->eir_sequenceid;
	v4c_free(&res);
	v4c_op(&op, OP_CREATE_SESSION);
	CREATE_SESSION4args *cs = &op.nfs_argop4_u.opcreate_session;
	cs->csa_clientid = c->clientid;
	cs->csa_sequence = c->cs_seq;
	channel_attrs4 ch = { .ca_maxrequestsize = 1 << 20,
			      .ca_maxresponsesize = 1 << 20,
			      .ca_maxresponsesize_cached = 8192,
			      .ca_maxoperations = 16,
			      .ca_maxrequests = 8 };
	cs->csa_fore_chan_attrs = ch;
	cs->csa_back_chan_attrs = ch;
	cs->csa_cb_program = 0x40000000;
	assert_int_equal(v4c_compound(c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	memcpy(c->sessionid,
	       res.resarray.resarray_val[0]
		       .nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4.csr_sessionid,
	       sizeof(c->sessionid));
	memset(c->slot_seq, 0, sizeof(c->slot_seq));
	v4c_free(&res);
}

static nfsstat4 reclaim_complete(struct v4c *c)
{
	nfs_argop4 op;
	v4c_op(&op, OP_RECLAIM_COMPLETE);
	return run_op_status(c, &op, 1, 0);
}

static void test_grace_after_kill(void **state)
{
	(void)state;
	struct itest_env e;
	struct itest_server s;
	/* A grace period long enough that only RECLAIM_COMPLETE can end it within the test. */
	start_private(&e, &s, "nfs4grace", "120");
	struct v4c a;
	connect_as(&a, s.port, "grace-a", 0);
	struct opened oa = create_name(&a, "oa", "kept", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(oa.status, NFS4_OK);
	struct lock_res la = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, true, oa.sid, "la", false);
	assert_int_equal(la.status, NFS4_OK);
	v4c_close(&a);

	/* Killed with the lock held: the kernel drops the OFD lock, the client record stays. */
	assert_int_equal(kill(s.pid, SIGKILL), 0);
	assert_true(itest_wait_exit(s.pid, ITEST_EXIT_TIMEOUT_MS) >= 0);
	const char *path = itest_sprintf("%s/kept", e.dir);
	const char *extra[] = { "--nfs4", "--lease-time", "10", "--grace-time", "120", NULL };
	assert_int_equal(itest_server_start(&s, &e, extra), 0);

	struct v4c b;
	connect_as(&b, s.port, "grace-b", 0); /* a new client: nothing to reclaim */
	connect_reclaimer(&a, s.port, "grace-a");
	/* Nobody gets anything new meanwhile. */
	assert_int_equal(open_name(&b, "ob", "kept", OPEN4_SHARE_ACCESS_BOTH, 0).status,
			 NFS4ERR_GRACE);
	assert_int_equal(create_name(&b, "ob", "fresh", OPEN4_SHARE_ACCESS_BOTH, 0).status,
			 NFS4ERR_GRACE);
	assert_int_not_equal(access(itest_sprintf("%s/fresh", e.dir), F_OK), 0);
	assert_int_equal(lockt(&b, &oa.fh, WRITE_LT, 0, 1, "lb").status, NFS4ERR_GRACE);
	/* ... not even the reclaiming client, before its RECLAIM_COMPLETE. */
	assert_int_equal(open_name(&a, "oa2", "kept", OPEN4_SHARE_ACCESS_READ, 0).status,
			 NFS4ERR_GRACE);
	/* A new client has nothing to reclaim. */
	nfs_argop4 ops[2];
	v4c_putfh(&ops[0], &oa.fh);
	op_open(&ops[1], &(struct open_spec){ .owner = "ob",
					      .access = OPEN4_SHARE_ACCESS_BOTH,
					      .claim = CLAIM_PREVIOUS });
	assert_int_equal(run_op_status(&b, ops, 2, 1), NFS4ERR_NO_GRACE);

	/* The holder reclaims its open (the current filehandle is the file) and its lock. */
	op_open(&ops[1], &(struct open_spec){ .owner = "oa",
					      .access = OPEN4_SHARE_ACCESS_BOTH,
					      .claim = CLAIM_PREVIOUS });
	COMPOUND4res res;
	assert_int_equal(run(&a, ops, 2, &res), NFS4_OK);
	stateid4 osid = result(&res, 1)->nfs_resop4_u.opopen.OPEN4res_u.resok4.stateid;
	v4c_free(&res);
	assert_int_equal(lock_range(&a, &oa.fh, WRITE_LT, 0, 100, true, osid, "la", false).status,
			 NFS4ERR_GRACE); /* a lock that is not a reclaim */
	struct lock_res r = lock_range(&a, &oa.fh, WRITE_LT, 0, 100, true, osid, "la", true);
	assert_int_equal(r.status, NFS4_OK);
	/* Back on the real file too. */
	assert_false(local_can_lock(path, F_SETLK, 50, 1));

	/* Its RECLAIM_COMPLETE ends the grace period (it was the only client recorded). */
	assert_int_equal(reclaim_complete(&a), NFS4_OK);
	assert_int_equal(reclaim_complete(&a), NFS4ERR_COMPLETE_ALREADY);
	struct opened ob = open_name(&b, "ob", "kept", OPEN4_SHARE_ACCESS_BOTH, 0);
	assert_int_equal(ob.status, NFS4_OK);
	struct lock_res lb = lock_range(&b, &ob.fh, WRITE_LT, 10, 1, true, ob.sid, "lb", false);
	assert_denied(&lb, 0, 100, WRITE_LT);
	/* And reclaims are over. */
	assert_int_equal(lock_range(&a, &oa.fh, READ_LT, 200, 1, false, r.sid, "", true).status,
			 NFS4ERR_NO_GRACE);
	assert_int_equal(locku(&a, &oa.fh, r.sid, 0, 100).status, NFS4_OK);
	lb = lock_range(&b, &ob.fh, WRITE_LT, 10, 1, true, ob.sid, "lb", false);
	assert_int_equal(lb.status, NFS4_OK);
	assert_int_equal(locku(&b, &ob.fh, lb.sid, 10, 1).status, NFS4_OK);
	assert_int_equal(close_file(&a, &oa.fh, osid), NFS4_OK);
	assert_int_equal(close_file(&b, &ob.fh, ob.sid), NFS4_OK);
	v4c_close(&a);
	v4c_close(&b);
	assert_int_equal(itest_server_stop(&s), 0);
	itest_env_cleanup(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_create_modes),
		cmocka_unit_test(test_open_types_and_claims),
		cmocka_unit_test(test_open_permissions),
		cmocka_unit_test(test_share_deny),
		cmocka_unit_test(test_upgrade_downgrade_close),
		cmocka_unit_test(test_read_write_commit),
		cmocka_unit_test(test_locks_between_clients),
		cmocka_unit_test(test_lock_upgrade_split),
		cmocka_unit_test(test_local_locks),
		cmocka_unit_test(test_stateid_ops),
		cmocka_unit_test(test_lease_expiry),
		cmocka_unit_test(test_records_written_as_server),
		cmocka_unit_test(test_grace_after_kill),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
