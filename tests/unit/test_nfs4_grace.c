/*
 * Grace and reclaim (server/nfs4/grace.c, clientdb.c): records written when
 * a client is confirmed and removed when it goes, a restart that loads them
 * and opens a grace period (reclaims only by the recorded clients,
 * NFS4ERR_GRACE for anything new, NFS4ERR_NO_GRACE after), its early end
 * once every recorded client sent RECLAIM_COMPLETE, its end by time and the
 * removal of the records of clients that did not come back, and loading a
 * directory full of damaged and planted files.
 */
#define _GNU_SOURCE
#include "nfs4_unit.h"

#include "st4_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Record files ("c-...", no ".tmp") in dir. */
static int count_records(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "c-", 2) == 0 && strlen(de->d_name) == 34)
			n++;
	closedir(d);
	return n;
}

static void start_on(struct t4 *t, const char *dir, uint32_t grace)
{
	struct st4_config cfg = t4_config(t);
	cfg.state_dir = dir;
	cfg.grace_seconds = grace;
	t4_start(t, &cfg);
}

static void test_records_follow_clients(void **state)
{
	(void)state;
	char *base = ut_mkdtemp("nfs4rec");
	char *dir = ut_join(base, "v4state"); /* created by the server */
	struct t4 t = { 0 };
	start_on(&t, dir, 0);
	assert_false(st4_in_grace(t.srv)); /* nothing to reclaim: no grace at all */
	struct st4_exchange_id_args ea = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res er;
	assert_st(st4_exchange_id(t.srv, &ea, &er), ST4_OK);
	assert_int_equal(count_records(dir), 0); /* unconfirmed: not yet */
	struct t4_client a, b;
	t4_confirm(t.srv, "linux-a", 1, &a);
	assert_int_equal(count_records(dir), 1);
	t4_confirm(t.srv, "linux-b", 1, &b);
	assert_int_equal(count_records(dir), 2);
	/* a reboots: still one record for it. */
	t4_confirm(t.srv, "linux-a", 2, &a);
	assert_int_equal(count_records(dir), 2);
	assert_int_equal(st4_client_count(t.srv), 2);
	/* Destroyed: gone. */
	assert_st(st4_destroy_session(t.srv, a.sessionid, NULL, 1), ST4_OK);
	assert_st(st4_destroy_clientid(t.srv, a.clientid), ST4_OK);
	assert_int_equal(count_records(dir), 1);
	/* Expired: gone. */
	t4_advance(&t, 100);
	st4_reap(t.srv);
	assert_int_equal(count_records(dir), 0);
	t4_stop(&t);
	ut_rm_rf(base);
	free(dir);
	free(base);
}

/* Server 1 with clients a, b; "killed" (freed: records stay); server 2 on the same directory. */
static void restart_with_two(struct t4 *t2, char **base_out, char **dir_out, uint32_t grace)
{
	char *base = ut_mkdtemp("nfs4grace");
	char *dir = ut_join(base, "state");
	struct t4 t1 = { 0 };
	start_on(&t1, dir, 0);
	struct t4_client a, b;
	t4_connect(t1.srv, "linux-a", &a);
	struct st4_open_args oa = t4_open_args(10, "oa", ST4_SHARE_ACCESS_BOTH, 0);
	struct st4_stateid s;
	assert_st(st4_open(t1.srv, a.c, &oa, &s), ST4_OK);
	t4_end(t1.srv, &a);
	t4_confirm(t1.srv, "linux-b", 1, &b);
	t4_stop(&t1);
	assert_int_equal(count_records(dir), 2);
	memset(t2, 0, sizeof(*t2));
	start_on(t2, dir, grace);
	*base_out = base;
	*dir_out = dir;
}

static struct st4_lock_args reclaim_lock(struct st4_stateid open, uint64_t off)
{
	struct st4_lock_args la = { 0 };
	la.file = t4_file(10);
	la.type = ST4_LOCK_WRITE;
	la.reclaim = true;
	la.offset = off;
	la.length = 10;
	la.new_lock_owner = true;
	la.stateid = open;
	la.lock_owner = (const uint8_t *)"la";
	la.lock_owner_len = 2;
	return la;
}

static void test_grace_reclaim_and_early_end(void **state)
{
	(void)state;
	struct t4 t;
	char *base, *dir;
	restart_with_two(&t, &base, &dir, 90);
	assert_true(st4_in_grace(t.srv));
	struct t4_client a, b, c;
	/* a comes back (same owner, same verifier: it did not reboot) and reclaims. */
	t4_confirm(t.srv, "linux-a", 1, &a);
	t4_begin(t.srv, &a);
	struct st4_open_args oa = t4_open_args(10, "oa", ST4_SHARE_ACCESS_BOTH, 0);
	struct st4_stateid s, ls;
	struct st4_lock_denied d;
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_ERR_GRACE);
	oa.reclaim = true;
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_OK);
	struct st4_lock_args la = reclaim_lock(s, 0);
	la.reclaim = false;
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_ERR_GRACE);
	la.reclaim = true;
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_OK);

	/* c was not there before: nothing to reclaim, nothing new either. */
	t4_confirm(t.srv, "linux-c", 1, &c);
	t4_begin(t.srv, &c);
	struct st4_open_args oc = t4_open_args(11, "oc", ST4_SHARE_ACCESS_READ, 0);
	oc.reclaim = true;
	assert_st(st4_open(t.srv, c.c, &oc, &s), ST4_ERR_NO_GRACE);
	oc.reclaim = false;
	assert_st(st4_open(t.srv, c.c, &oc, &s), ST4_ERR_GRACE);
	struct st4_filekey f = t4_file(10);
	assert_st(st4_lockt(t.srv, c.c, &f, NULL, ST4_LOCK_READ, 0, 1, (const uint8_t *)"x", 1, &d),
		  ST4_ERR_GRACE);
	assert_st(st4_reclaim_complete(t.srv, c.c, false), ST4_OK);
	assert_st(st4_open(t.srv, c.c, &oc, &s), ST4_ERR_GRACE); /* grace is the server's */
	assert_true(st4_in_grace(t.srv));

	/* a is done; a second RECLAIM_COMPLETE is an error; reclaims after it are too. */
	assert_st(st4_reclaim_complete(t.srv, a.c, false), ST4_OK);
	assert_st(st4_reclaim_complete(t.srv, a.c, false), ST4_ERR_COMPLETE_ALREADY);
	oa.file = t4_file(12);
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_ERR_NO_GRACE);
	assert_true(st4_in_grace(t.srv)); /* b has not come back */

	/* b comes back with a new verifier (it rebooted): nothing to reclaim, but done. */
	t4_confirm(t.srv, "linux-b", 7, &b);
	t4_begin(t.srv, &b);
	assert_st(st4_reclaim_complete(t.srv, b.c, false), ST4_OK);
	assert_false(st4_in_grace(t.srv));
	assert_st(st4_open(t.srv, c.c, &oc, &s), ST4_OK);
	oc.reclaim = true;
	assert_st(st4_open(t.srv, b.c, &oc, &s), ST4_ERR_NO_GRACE);
	/* a's reclaimed lock holds against the others. */
	assert_st(st4_lockt(t.srv, c.c, &f, NULL, ST4_LOCK_READ, 5, 1, (const uint8_t *)"x", 1, &d),
		  ST4_ERR_DENIED);
	t4_end(t.srv, &a);
	t4_end(t.srv, &b);
	t4_end(t.srv, &c);
	t4_stop(&t);
	ut_rm_rf(base);
	free(dir);
	free(base);
}

static void test_grace_ends_by_time(void **state)
{
	(void)state;
	struct t4 t;
	char *base, *dir;
	restart_with_two(&t, &base, &dir, 10);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	t4_begin(t.srv, &a);
	struct st4_open_args oa = t4_open_args(10, "oa", ST4_SHARE_ACCESS_BOTH, 0);
	oa.reclaim = true;
	struct st4_stateid s;
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_OK);
	t4_end(t.srv, &a);
	/* Records stay while grace lasts. */
	st4_reap(t.srv);
	assert_int_equal(count_records(dir), 2);
	t4_advance(&t, 11);
	assert_false(st4_in_grace(t.srv));
	t4_begin(t.srv, &a);
	oa.file = t4_file(11);
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_ERR_NO_GRACE);
	/* Not complete yet: nothing new until it says so, grace or not. */
	oa.reclaim = false;
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_ERR_GRACE);
	assert_st(st4_reclaim_complete(t.srv, a.c, false), ST4_OK);
	assert_st(st4_open(t.srv, a.c, &oa, &s), ST4_OK);
	t4_end(t.srv, &a);
	/* b never came back: its record goes at the sweep after grace; a's stays. */
	st4_reap(t.srv);
	assert_int_equal(count_records(dir), 1);
	char name[40];
	st4_db_name((const uint8_t *)"linux-a", 7, name);
	char *p = ut_join(dir, name);
	assert_int_equal(access(p, F_OK), 0);
	free(p);
	t4_stop(&t);

	/* The next restart knows only a. */
	start_on(&t, dir, 10);
	assert_true(st4_in_grace(t.srv));
	struct t4_client a2;
	t4_confirm(t.srv, "linux-a", 1, &a2);
	t4_begin(t.srv, &a2);
	assert_st(st4_reclaim_complete(t.srv, a2.c, false), ST4_OK);
	assert_false(st4_in_grace(t.srv));
	t4_end(t.srv, &a2);
	t4_stop(&t);
	ut_rm_rf(base);
	free(dir);
	free(base);
}

/* ------------------------------------------------------------ hostile files */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = ut_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	free(p);
}

static size_t good_record(const char *owner, uint8_t *buf, char name[40])
{
	struct st4_record r = { .ownerid = (uint8_t *)owner,
				.ownerid_len = (uint32_t)strlen(owner) };
	memset(r.verifier, 3, sizeof(r.verifier));
	r.principal.flavor = 1;
	size_t n = st4_db_encode(&r, buf, 2048);
	assert_true(n > 0);
	st4_db_name(r.ownerid, r.ownerid_len, name);
	return n;
}

static void test_state_file_corruption(void **state)
{
	(void)state;
	char *dir = ut_mkdtemp("nfs4bad");
	uint8_t buf[2048], bad[2048];
	char name[40], name2[40];

	/* The one good record. */
	size_t n = good_record("good-client", buf, name);
	write_file(dir, name, buf, n);

	/* Each damaged copy under a name of its own (the names themselves well-formed). */
	size_t m = good_record("o1", bad, name2);
	write_file(dir, name2, bad, m - 1); /* truncated */
	m = good_record("o2", bad, name2);
	bad[0] = 'X'; /* magic */
	write_file(dir, name2, bad, m);
	m = good_record("o3", bad, name2);
	bad[m - 1] ^= 1; /* the hash */
	write_file(dir, name2, bad, m);
	m = good_record("o4", bad, name2);
	bad[8] = 0xff; /* the length */
	write_file(dir, name2, bad, m);
	m = good_record("o5", bad, name2);
	bad[7] = 2; /* a version from the future */
	write_file(dir, name2, bad, m);
	good_record("o6", bad, name2);
	write_file(dir, name2, "", 0); /* empty */
	/* A good record planted under another owner's name. */
	good_record("o7", bad, name2);
	write_file(dir, name2, buf, n);
	/* A huge file. */
	good_record("o8", bad, name2);
	static uint8_t huge[100000];
	write_file(dir, name2, huge, sizeof(huge));

	/* Not regular files, under record names. */
	char sname[40], dname[40], fname[40];
	st4_db_name((const uint8_t *)"sym", 3, sname);
	st4_db_name((const uint8_t *)"dir", 3, dname);
	st4_db_name((const uint8_t *)"fifo", 4, fname);
	char *p = ut_join(dir, sname), *q = ut_join(dir, name);
	assert_int_equal(symlink(q, p), 0);
	free(p);
	free(q);
	p = ut_join(dir, dname);
	ut_mkdir(p);
	free(p);
	p = ut_join(dir, fname);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	/* Other names, and a temporary file a crash left. */
	write_file(dir, "notes.txt", "hello", 5);
	write_file(dir, "c-XYZ", "x", 1);
	char tmp[48];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	write_file(dir, tmp, buf, n / 2);

	struct t4 t = { 0 };
	start_on(&t, dir, 90);
	assert_true(st4_in_grace(t.srv));
	assert_int_equal(t.srv->nrec, 1);
	assert_int_equal(t.srv->rec[0].ownerid_len, strlen("good-client"));
	p = ut_join(dir, tmp);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	/* The one recorded client ends grace by itself. */
	struct t4_client g;
	t4_confirm(t.srv, "good-client", 1, &g);
	t4_begin(t.srv, &g);
	assert_st(st4_reclaim_complete(t.srv, g.c, false), ST4_OK);
	assert_false(st4_in_grace(t.srv));
	t4_end(t.srv, &g);
	t4_stop(&t);
	ut_rm_rf(dir);
	free(dir);
}

/* Every truncation and every single-bit flip of a record is refused by the decoder. */
static void test_record_decode_damage(void **state)
{
	(void)state;
	uint8_t buf[2048], copy[2048];
	char name[40];
	size_t n = good_record("a-client-owner", buf, name);
	struct st4_record r;
	assert_int_equal(st4_db_decode(buf, n, &r), 0);
	assert_int_equal(r.ownerid_len, 14);
	assert_memory_equal(r.ownerid, "a-client-owner", 14);
	assert_int_equal(r.principal.flavor, 1);
	free(r.ownerid);
	for (size_t len = 0; len < n; len++)
		assert_int_equal(st4_db_decode(buf, len, &r), -EINVAL);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, n);
			copy[i] ^= (uint8_t)(1 << bit);
			if (st4_db_decode(copy, n, &r) == 0)
				fail_msg("byte %zu bit %d flipped and still decoded", i, bit);
		}
	}
	/* Random garbage of every small length. */
	uint32_t x = 1;
	for (size_t len = 0; len < 1100; len += 7) {
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			copy[i] = (uint8_t)(x >> 16);
		}
		if (len >= 4)
			memcpy(copy, "L4CR", 4);
		assert_int_equal(st4_db_decode(copy, len, &r), -EINVAL);
	}
	struct st4_record empty = { .ownerid = buf, .ownerid_len = 0 };
	assert_int_equal(st4_db_encode(&empty, copy, sizeof(copy)), 0);
	empty.ownerid_len = ST4_OPAQUE_LIMIT + 1;
	assert_int_equal(st4_db_encode(&empty, copy, sizeof(copy)), 0);
}

static void test_state_dir_unusable(void **state)
{
	(void)state;
	char *base = ut_mkdtemp("nfs4nodir");
	char *file = ut_join(base, "plain");
	ut_touch(file);
	char *dir = ut_join(file, "below"); /* under a regular file */
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.state_dir = dir;
	int err = 0;
	struct st4_server *srv = st4_server_new(&cfg, &err);
	assert_null(srv);
	assert_true(err < 0);
	ut_rm_rf(base);
	free(dir);
	free(file);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_follow_clients),
		cmocka_unit_test(test_grace_reclaim_and_early_end),
		cmocka_unit_test(test_grace_ends_by_time),
		cmocka_unit_test(test_state_file_corruption),
		cmocka_unit_test(test_record_decode_damage),
		cmocka_unit_test(test_state_dir_unusable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
