/*
 * The exports file (loopnfsd -c FILE), over loopback: each option's effect
 * (rw/ro, root_squash/no_root_squash/all_squash with anonuid/anongid,
 * secure/insecure from privileged and unprivileged source ports, async,
 * name=, fsid=), an export not exported to this client refused at MNT and
 * for its handles, the synthesized root listing only what the client may
 * see, --check, start-up refused with FILE:LINE, and SIGHUP: a valid file
 * applied to the next call of a connection that stays open (kept, removed,
 * added and narrowed exports), a broken one kept out, and a reload in the
 * middle of a stream of writes that loses nothing.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOT_US "10.200.0.9" /* an address no test client ever has */
#define PROG_MOUNT 100005

static struct itest_env env;
static struct itest_server srv;
static char conf[700];

static char *dir(const char *name)
{
	return itest_sprintf("%s/%s", env.base, name);
}

static void write_conf(const char *text)
{
	char *tmp = itest_sprintf("%s.tmp", conf);
	assert_int_equal(itest_write_file(tmp, text, strlen(text)), 0);
	assert_int_equal(rename(tmp, conf), 0); /* a reload never reads half a file */
}

static int start_conf(void)
{
	const char *extra[] = { "-c", conf, NULL };
	const char *no_dirs[] = { NULL };
	return itest_server_start_dirs(&srv, &env, extra, no_dirs);
}

/* The standard file: one export per option under test. */
static char *standard_conf(void)
{
	return itest_sprintf("# one export per option\n"
			     "%s 127.0.0.1(rw,no_root_squash,insecure)\n"
			     "%s -insecure 127.0.0.1(ro)\n"
			     "%s " NOT_US "(rw,insecure)\n"
			     "%s 127.0.0.1(rw,insecure,all_squash,anonuid=1234,anongid=2345)\n"
			     "%s \\\n   127.0.0.1(rw,insecure)   # root_squash by default\n"
			     "%s 127.0.0.1(rw,no_root_squash)\n"
			     "%s 127.0.0.1(rw,insecure,no_root_squash,name=other,fsid=77)\n"
			     "%s 127.0.0.1(rw,insecure,no_root_squash,async)\n",
			     dir("rw"), dir("ro"), dir("none"), dir("sq"), dir("rsq"), dir("sec"),
			     dir("named"), dir("async"));
}

static int group_setup(void **state)
{
	if (geteuid() != 0) {
		fprintf(stderr, "exports tests need root (squashing, privileged ports)\n");
		return 0;
	}
	if (itest_env_init(&env, "exports") != 0)
		return -1;
	const char *names[] = { "rw", "ro", "none", "sq", "rsq", "sec", "named", "async", NULL };
	for (int i = 0; names[i]; i++) {
		if (mkdir(dir(names[i]), 01777) != 0 || chmod(dir(names[i]), 01777) != 0)
			return -1;
		char *f = itest_sprintf("%s/hello", dir(names[i]));
		if (itest_write_file(f, names[i], strlen(names[i])) != 0)
			return -1;
	}
	snprintf(conf, sizeof(conf), "%s/exports", env.base);
	char *text = standard_conf();
	if (itest_write_file(conf, text, strlen(text)) != 0)
		return -1;
	return start_conf();
}

static int group_teardown(void **state)
{
	if (geteuid() != 0)
		return 0;
	int st = srv.pid > 0 ? itest_server_stop(&srv) : 0;
	itest_env_cleanup(&env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static itc_t *conn_as(uint32_t uid, uint32_t gid)
{
	itc_t *c = wt_connect_as(srv.port, uid, gid, 0, NULL);
	assert_non_null(c);
	return c;
}

static int mnt_status(itc_t *c, const char *path)
{
	mountres3 m;
	ITC_CALL(c, itc_mnt3(c, path, &m));
	return (int)m.fhs_status;
}

/* A regular file created as the connection's user: its owner on disk. */
static struct stat create_in(itc_t *c, const char *export, const char *name)
{
	fh_t root = itc_root(c, dir(export));
	wt_create_ok(c, &root, name, 0644);
	struct stat st;
	assert_int_equal(lstat(itest_sprintf("%s/%s", dir(export), name), &st), 0);
	return st;
}

/* ---- rw / ro / not exported ---- */

static void test_rw_and_ro(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	struct stat st = create_in(c, "rw", "made-by-root");
	assert_int_equal(st.st_uid, 0); /* no_root_squash */

	fh_t ro = itc_root(c, dir("ro"));
	CREATE3res cr;
	sattr3 sa = wt_sattr_mode(0644);
	ITC_CALL(c, wtc_create(c, &ro, "nope", GUARDED, &sa, NULL, &cr));
	assert_nfsstat(cr.status, NFS3ERR_ROFS);
	/* Reading an ro export is fine. */
	fh_t f = itc_lookup_ok(c, &ro, "hello");
	char buf[8] = { 0 };
	wt_read_exact(c, &f, 0, buf, 2);
	assert_memory_equal(buf, "ro", 2);
	/* ACCESS does not offer what ro refuses. */
	ACCESS3res ar;
	ITC_CALL(c, itc_access(c, &f, ACCESS3_READ | ACCESS3_MODIFY, &ar));
	assert_nfsstat(ar.status, NFS3_OK);
	assert_int_equal(ar.ACCESS3res_u.resok.access, ACCESS3_READ);
	itc_close(c);
}

static void test_not_exported_to_us(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	assert_int_equal(mnt_status(c, dir("none")), MNT3ERR_ACCES);
	assert_int_equal(mnt_status(c, "/none"), MNT3ERR_ACCES);
	assert_int_equal(mnt_status(c, dir("rw")), MNT3_OK);
	itc_close(c);
}

static void test_root_lists_only_what_we_see(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t root = itc_root(c, "/");
	READDIRPLUS3res res;
	char verf[NFS3_COOKIEVERFSIZE] = { 0 };
	ITC_CALL(c, itc_readdirplus(c, &root, 0, verf, 65536, 65536, &res));
	assert_nfsstat(res.status, NFS3_OK);
	int seen = 0;
	for (entryplus3 *e = res.READDIRPLUS3res_u.resok.reply.entries; e; e = e->nextentry) {
		if (strcmp(e->name, "none") == 0 || strcmp(e->name, "named") == 0)
			fail_msg("the root lists %s", e->name);
		if (strcmp(e->name, "other") == 0 || strcmp(e->name, "rw") == 0)
			seen++;
	}
	assert_int_equal(seen, 2);
	assert_int_equal(wt_lookup_status(c, &root, "none"), NFS3ERR_NOENT);
	assert_int_equal(wt_lookup_status(c, &root, "other"), NFS3_OK);
	itc_close(c);
}

/* ---- squashing ---- */

static void test_squash_options(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *root = conn_as(0, 0), *user = conn_as(1000, 1000);
	struct stat st = create_in(root, "rsq", "by-root");
	assert_int_equal(st.st_uid, 65534); /* root_squash, the default */
	assert_int_equal(st.st_gid, 65534);
	st = create_in(user, "rsq", "by-user");
	assert_int_equal(st.st_uid, 1000); /* others keep their ids */
	st = create_in(user, "sq", "by-user");
	assert_int_equal(st.st_uid, 1234); /* all_squash with anonuid/anongid */
	assert_int_equal(st.st_gid, 2345);
	st = create_in(root, "sq", "by-root");
	assert_int_equal(st.st_uid, 1234);
	itc_close(root);
	itc_close(user);
}

/* ---- secure / insecure ---- */

/* A TCP connection to the server from source port sport (0: any, unprivileged). */
static int connect_from(int sport)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (sport) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		a.sin_port = htons((uint16_t)sport);
		int tries = 0;
		while (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && tries++ < 300)
			a.sin_port = htons((uint16_t)(600 + (sport + tries) % 400));
	}
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)srv.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &len);
	assert_true(sport ? ntohs(me.sin_port) < 1024 : ntohs(me.sin_port) >= 1024);
	return fd;
}

static int raw_mnt(int fd, const char *path)
{
	xbuf b;
	xb_init(&b);
	xbuf cred;
	xb_init(&cred);
	rr_authsys_body(&cred, 1, "wtest", 0, 0, 0, NULL);
	rr_call_hdr(&b, 0x5151, 2, PROG_MOUNT, 3, 1, RR_FLAVOR_SYS, cred.buf, cred.len);
	xb_string(&b, path);
	int st = wt_raw_call(fd, &b, 0x5151);
	xb_free(&cred);
	xb_free(&b);
	return st;
}

static int raw_getattr(int fd, const fh_t *fh)
{
	xbuf b;
	xb_init(&b);
	wt_raw_hdr(&b, 0x6161, 1, 0, 0);
	xb_opaque(&b, fh->data, fh->len);
	int st = wt_raw_call(fd, &b, 0x6161);
	xb_free(&b);
	return st;
}

static void test_secure_ports(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t sec = itc_root(c, dir("sec")); /* libnfs, as root, binds a port below 1024 */
	fh_t open = itc_root(c, dir("rw"));
	itc_close(c);

	int low = connect_from(700), high = connect_from(0);
	/* secure (the default): a privileged port gets everything... */
	assert_int_equal(raw_mnt(low, dir("sec")), MNT3_OK);
	assert_int_equal(raw_getattr(low, &sec), NFS3_OK);
	/* ...an unprivileged one neither MNT nor any call with a handle, on every request. */
	assert_int_equal(raw_mnt(high, dir("sec")), MNT3ERR_ACCES);
	assert_int_equal(raw_getattr(high, &sec), NFS3ERR_PERM);
	assert_int_equal(raw_getattr(high, &sec), NFS3ERR_PERM);
	/* insecure: both. */
	assert_int_equal(raw_mnt(high, dir("rw")), MNT3_OK);
	assert_int_equal(raw_getattr(high, &open), NFS3_OK);
	assert_int_equal(raw_getattr(low, &open), NFS3_OK);
	close(low);
	close(high);
}

/* ---- async ---- */

static void test_async(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t root = itc_root(c, dir("async"));
	fh_t f = wt_create_ok(c, &root, "data", 0644);
	static const char data[] = "written before it is on disk";
	/* A FILE_SYNC write is answered as FILE_SYNC: the client is told what it asked. */
	WRITE3resok ok = wt_write_ok(c, &f, 0, data, sizeof(data), FILE_SYNC);
	assert_int_equal(ok.committed, FILE_SYNC);
	COMMIT3res cr;
	ITC_CALL(c, wtc_commit(c, &f, 0, 0, &cr));
	assert_nfsstat(cr.status, NFS3_OK);
	size_t len = 0;
	unsigned char *back = wt_slurp_bin(itest_sprintf("%s/data", dir("async")), &len);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	itc_close(c);
}

/* ---- name= and fsid= ---- */

static uint32_t handle_export_id(const fh_t *fh)
{
	assert_true(fh->len >= 8);
	return (uint32_t)fh->data[4] << 24 | (uint32_t)fh->data[5] << 16 |
	       (uint32_t)fh->data[6] << 8 | fh->data[7];
}

static void test_name_and_fsid(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t byname = itc_root(c, "/other");
	fh_t bypath = itc_root(c, dir("named"));
	assert_true(itc_fh_equal(&byname, &bypath));
	assert_int_equal(handle_export_id(&byname), 77);
	fattr3 a = itc_attr_ok(c, &byname);
	assert_true(a.fsid == ((uint64_t)0x4c4e4653 << 32 | 77));
	assert_int_equal(mnt_status(c, "/named"), MNT3ERR_NOENT);
	itc_close(c);
}

/* ---- EXPORT: each export with its clients, as rpc.mountd answers showmount -e ---- */

static void test_export_lists_clients(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	exports ex;
	ITC_CALL(c, itc_export(c, 3, &ex));
	int seen = 0;
	for (exports e = ex; e; e = e->ex_next) {
		if (strcmp(e->ex_dir, dir("none")) == 0) {
			assert_non_null(e->ex_groups);
			assert_string_equal(e->ex_groups->gr_name, NOT_US);
			assert_null(e->ex_groups->gr_next);
			seen++;
		} else if (strcmp(e->ex_dir, dir("rw")) == 0) {
			assert_non_null(e->ex_groups);
			assert_string_equal(e->ex_groups->gr_name, "127.0.0.1");
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	itc_close(c);
}

/* ---- --check and refused starts ---- */

static char *run_loopnfsd(const char *const *args, int *status)
{
	char *out = itest_sprintf("%s/check.out", env.base);
	char *err = itest_sprintf("%s/check.err", env.base);
	pid_t pid = itest_spawn(args, out, err);
	assert_true(pid > 0);
	*status = itest_wait_exit(pid, 30000);
	return itest_sprintf("%s%s", itest_slurp(out), itest_slurp(err));
}

static void test_check_prints_the_table(void **state)
{
	WT_REQUIRE_ROOT();
	const char *args[] = { "-c", conf, "--check", NULL };
	int st;
	char *out = run_loopnfsd(args, &st);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_non_null(strstr(out, dir("named")));
	assert_non_null(strstr(out, "other"));
	assert_non_null(strstr(out, NOT_US));
	assert_non_null(strstr(out, "all_squash"));
}

static void test_broken_file_refused_at_start(void **state)
{
	WT_REQUIRE_ROOT();
	char *bad = itest_sprintf("%s/bad-exports", env.base);
	char *text = itest_sprintf("%s 127.0.0.1(rw)\n\n%s 127.0.0.1(rw,no_root_sqash)\n",
				   dir("rw"), dir("ro"));
	assert_int_equal(itest_write_file(bad, text, strlen(text)), 0);
	const char *check[] = { "-c", bad, "--check", NULL };
	int st;
	char *out = run_loopnfsd(check, &st);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	assert_non_null(strstr(out, itest_sprintf("%s:3:", bad)));
	assert_non_null(strstr(out, "no_root_sqash"));
	const char *serve[] = { "--port", "0", "--no-rpcbind", "--state-dir", env.state, "-c",
				bad,	  NULL };
	out = run_loopnfsd(serve, &st);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	assert_non_null(strstr(out, itest_sprintf("%s:3:", bad)));
	assert_null(strstr(out, "ready"));
}

/* ---- SIGHUP ---- */

static void reload(void)
{
	if (itest_server_reload(&srv) != 0)
		fail_msg("loopnfsd did not log the reload");
}

static void test_reload_applies_to_open_connection(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t rw = itc_root(c, dir("rw"));
	fh_t rwfile = itc_lookup_ok(c, &rw, "hello");
	fh_t ro = itc_root(c, dir("ro"));
	fh_t rofile = itc_lookup_ok(c, &ro, "hello");

	/* ro goes, "none" becomes ours, rw stays as it was. */
	write_conf(itest_sprintf("%s 127.0.0.1(rw,no_root_squash,insecure)\n"
				 "%s 127.0.0.1(rw,insecure)\n",
				 dir("rw"), dir("none")));
	reload();
	assert_int_equal(wt_getattr_status(c, &rwfile), NFS3_OK);
	assert_int_equal(wt_getattr_status(c, &rofile), NFS3ERR_STALE);
	assert_int_equal(mnt_status(c, dir("none")), MNT3_OK);
	fh_t none = itc_root(c, dir("none"));
	fh_t nonefile = itc_lookup_ok(c, &none, "hello");

	/* Narrowed: "none" is not ours any more, at once, for a handle we already hold. */
	write_conf(itest_sprintf("%s 127.0.0.1(rw,no_root_squash,insecure)\n"
				 "%s " NOT_US "(rw,insecure)\n",
				 dir("rw"), dir("none")));
	reload();
	assert_int_equal(wt_getattr_status(c, &nonefile), NFS3ERR_ACCES);
	assert_int_equal(wt_getattr_status(c, &rwfile), NFS3_OK);

	/* A broken file changes nothing and says where it is wrong. */
	write_conf(itest_sprintf("%s 127.0.0.1(rw,insecure)\n%s 127.0.0.1(bogus)\n", dir("rw"),
				 dir("ro")));
	reload();
	assert_non_null(strstr(itest_slurp(srv.err_path), itest_sprintf("%s:2:", conf)));
	assert_int_equal(wt_getattr_status(c, &nonefile), NFS3ERR_ACCES);
	assert_int_equal(wt_getattr_status(c, &rwfile), NFS3_OK);
	assert_int_equal(wt_getattr_status(c, &rofile), NFS3ERR_STALE);

	write_conf(standard_conf());
	reload();
	assert_int_equal(wt_getattr_status(c, &rofile), NFS3_OK); /* back: same id, same path */
	itc_close(c);
}

struct writer {
	int port;
	fh_t fh;
	size_t total;
	int failures;
	atomic_size_t written;
	atomic_bool done;
};

static void *stream_writes(void *p)
{
	struct writer *w = p;
	itc_t *c = wt_connect_as(w->port, 0, 0, 0, NULL);
	if (!c) {
		w->failures++;
		return NULL;
	}
	static unsigned char chunk[256 * 1024];
	for (size_t off = 0; off < w->total; off += sizeof(chunk)) {
		itest_pattern(chunk, sizeof(chunk), off, 7);
		WRITE3res r;
		if (wtc_write(c, &w->fh, off, chunk, sizeof(chunk), UNSTABLE, &r) != 0 ||
		    r.status != NFS3_OK || r.WRITE3res_u.resok.count != sizeof(chunk))
			w->failures++;
		atomic_fetch_add(&w->written, sizeof(chunk));
	}
	COMMIT3res cr;
	if (wtc_commit(c, &w->fh, 0, 0, &cr) != 0 || cr.status != NFS3_OK)
		w->failures++;
	itc_close(c);
	atomic_store(&w->done, true);
	return NULL;
}

static void test_reload_during_streaming_write(void **state)
{
	WT_REQUIRE_ROOT();
	itc_t *c = conn_as(0, 0);
	fh_t rw = itc_root(c, dir("rw"));
	struct writer w = { .port = srv.port,
			    .fh = wt_create_ok(c, &rw, "stream", 0644),
			    .total = 256u << 20 };
	itc_close(c);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stream_writes, &w), 0);
	while (atomic_load(&w.written) < (1u << 20) && !atomic_load(&w.done))
		usleep(1000);
	/* Reloads while the writes flow (one connection throughout): the export under them stays. */
	int during = 0;
	for (int i = 0; i < 10; i++) {
		during += !atomic_load(&w.done);
		if (i % 2)
			write_conf(standard_conf());
		else
			write_conf(itest_sprintf("%s 127.0.0.1(rw,no_root_squash,insecure)\n",
						 dir("rw")));
		reload();
	}
	pthread_join(t, NULL);
	assert_true(during > 0); /* at least one reload landed mid-stream */
	assert_int_equal(w.failures, 0);
	size_t len = 0;
	unsigned char *back = wt_slurp_bin(itest_sprintf("%s/stream", dir("rw")), &len);
	assert_int_equal(len, w.total);
	unsigned char *want = malloc(w.total);
	itest_pattern(want, w.total, 0, 7);
	assert_memory_equal(back, want, w.total);
	free(want);
	write_conf(standard_conf());
	reload();
}

/* ---- fsid= keeps handles when the directory moves ---- */

static void test_fsid_survives_a_move(void **state)
{
	WT_REQUIRE_ROOT();
	assert_int_equal(mkdir(dir("before"), 0777), 0);
	assert_int_equal(itest_write_file(itest_sprintf("%s/kept", dir("before")), "k", 1), 0);
	write_conf(itest_sprintf("%s 127.0.0.1(rw,insecure,fsid=4242)\n", dir("before")));
	reload();
	itc_t *c = conn_as(0, 0);
	fh_t root = itc_root(c, dir("before"));
	fh_t kept = itc_lookup_ok(c, &root, "kept");
	itc_close(c);

	assert_int_equal(itest_server_stop(&srv), 0);
	assert_int_equal(rename(dir("before"), dir("after")), 0);
	write_conf(itest_sprintf("%s 127.0.0.1(rw,insecure,fsid=4242)\n", dir("after")));
	assert_int_equal(start_conf(), 0);
	c = conn_as(0, 0);
	assert_int_equal(wt_getattr_status(c, &kept), NFS3_OK);
	itc_close(c);

	/* Without fsid= the id follows the path: the same move makes the handles stale. */
	assert_int_equal(itest_server_stop(&srv), 0);
	write_conf(itest_sprintf("%s 127.0.0.1(rw,insecure)\n", dir("after")));
	assert_int_equal(start_conf(), 0);
	c = conn_as(0, 0);
	assert_int_equal(wt_getattr_status(c, &kept), NFS3ERR_STALE);
	itc_close(c);
	assert_int_equal(itest_server_stop(&srv), 0);
	write_conf(standard_conf());
	assert_int_equal(start_conf(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rw_and_ro),
		cmocka_unit_test(test_not_exported_to_us),
		cmocka_unit_test(test_root_lists_only_what_we_see),
		cmocka_unit_test(test_squash_options),
		cmocka_unit_test(test_secure_ports),
		cmocka_unit_test(test_async),
		cmocka_unit_test(test_name_and_fsid),
		cmocka_unit_test(test_export_lists_clients),
		cmocka_unit_test(test_check_prints_the_table),
		cmocka_unit_test(test_broken_file_refused_at_start),
		cmocka_unit_test(test_reload_applies_to_open_connection),
		cmocka_unit_test(test_reload_during_streaming_write),
		cmocka_unit_test(test_fsid_survives_a_move),
	};
	return cmocka_run_group_tests_name("exports", tests, group_setup, group_teardown);
}
