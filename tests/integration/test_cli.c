/*
 * test_cli.c - the loopnfsd command line: --help, --version, --port 0
 * (ready line with the port, exact mount command), --listen, --mount-port,
 * foreground + clean SIGTERM exit, and clear non-zero exits for a missing
 * DIR, a DIR that is a file, bad options and ports in use.
 */
#define _GNU_SOURCE
#include "itest.h"
#include "rawrpc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct itest_env g_env;
static int g_run;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "cli") != 0)
		return -1;
	return itest_write_file(itest_path(&g_env, "f"), "f", 1);
}

static int group_teardown(void **state)
{
	(void)state;
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_arena_free();
	return 0;
}

struct run {
	int status; /* wait status, -1 on timeout */
	char *out, *err;
};

/* Run loopnfsd with args to completion (10 s max). */
static struct run run_cmd(const char *const *args)
{
	struct run r;
	char *out = itest_sprintf("%s/run%d.out", g_env.base, ++g_run);
	char *err = itest_sprintf("%s/run%d.err", g_env.base, g_run);
	pid_t pid = itest_spawn(args, out, err);
	assert_true(pid > 0);
	r.status = itest_wait_exit(pid, 10000);
	r.out = itest_slurp(out);
	r.err = itest_slurp(err);
	return r;
}

static void expect_failure(const struct run *r, const char *what)
{
	if (r->status == -1)
		fail_msg("%s: loopnfsd did not exit within 10 s (it should refuse to start)", what);
	if (!WIFEXITED(r->status))
		fail_msg("%s: loopnfsd died from signal %d", what, WTERMSIG(r->status));
	if (WEXITSTATUS(r->status) == 0)
		fail_msg("%s: exit status 0, want non-zero", what);
	if (strlen(r->err) == 0)
		fail_msg("%s: no message on stderr", what);
	if (strstr(r->out, "port="))
		fail_msg("%s: printed a ready line although it failed: %s", what, r->out);
}

static int icontains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t l = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static int null_ok_tcp(int port, uint32_t prog, uint32_t vers, int v6)
{
	int fd = rr_tcp_connect(port, v6);
	if (fd < 0)
		return 0;
	xbuf m;
	xb_init(&m);
	rr_call_hdr_sys(&m, 4242, prog, vers, 0);
	int ok = 0;
	if (rr_tcp_send_record(fd, m.buf, m.len, NULL, 0, 0) == 0) {
		unsigned char *raw = NULL;
		long n = rr_tcp_recv_record(fd, &raw, 10000);
		rr_reply r;
		ok = n >= 0 && rr_parse_reply(raw, (size_t)n, &r) == 0 && r.xid == 4242 &&
		     r.reply_stat == RR_MSG_ACCEPTED && r.accept_stat == RR_SUCCESS;
		free(raw);
	}
	xb_free(&m);
	close(fd);
	return ok;
}

static int null_ok_udp(int port, uint32_t prog, uint32_t vers, int v6)
{
	int fd = rr_udp_socket(port, v6);
	if (fd < 0)
		return 0;
	xbuf m;
	xb_init(&m);
	rr_call_hdr_sys(&m, 4343, prog, vers, 0);
	unsigned char buf[512];
	long n = rr_udp_call(fd, m.buf, m.len, 4343, buf, sizeof(buf), 5000);
	rr_reply r;
	int ok = n >= 0 && rr_parse_reply(buf, (size_t)n, &r) == 0 &&
		 r.reply_stat == RR_MSG_ACCEPTED && r.accept_stat == RR_SUCCESS;
	xb_free(&m);
	close(fd);
	return ok;
}

/* ------------------------------------------------------------------ */
static void test_help(void **state)
{
	(void)state;
	struct run r = run_cmd((const char *const[]){ "--help", NULL });
	assert_true(r.status != -1);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	const char *opts[] = { "--listen", "--port",	"--mount-port", "--no-rpcbind",
			       "--help",   "--version", "--state-dir" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strstr(r.out, opts[i]))
			fail_msg("--help output (stdout) does not mention %s:\n%s", opts[i], r.out);
	assert_true(icontains(r.out, "usage"));
	assert_true(strstr(r.out, "DIR") != NULL);
}

static void test_version(void **state)
{
	(void)state;
	struct run r = run_cmd((const char *const[]){ "--version", NULL });
	assert_true(r.status != -1);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_true(strstr(r.out, "loopnfsd") != NULL);
	int digit = 0;
	for (const char *p = r.out; *p; p++)
		digit |= isdigit((unsigned char)*p);
	assert_true(digit);
}

static void test_missing_dir(void **state)
{
	(void)state;
	struct run r = run_cmd((const char *const[]){ "--port", "0", "--no-rpcbind", NULL });
	expect_failure(&r, "no DIR argument");

	char *missing = itest_sprintf("%s/does-not-exist", g_env.base);
	r = run_cmd((const char *const[]){ "--port", "0", "--no-rpcbind", "--state-dir",
					   g_env.state, missing, NULL });
	expect_failure(&r, "nonexistent DIR");
	if (!strstr(r.err, "does-not-exist"))
		fail_msg("error message does not name the missing directory: %s", r.err);

	r = run_cmd((const char *const[]){ "--port", "0", "--no-rpcbind", "--state-dir",
					   g_env.state, itest_path(&g_env, "f"), NULL });
	expect_failure(&r, "DIR is a regular file");
}

static void test_bad_options(void **state)
{
	(void)state;
	struct run r = run_cmd((const char *const[]){ "--bogus-option", g_env.dir, NULL });
	expect_failure(&r, "unknown option");
	const char *bad_ports[] = { "abc", "70000", "-1", "12x", "" };
	for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
		r = run_cmd((const char *const[]){ "--port", bad_ports[i], "--no-rpcbind",
						   "--state-dir", g_env.state, g_env.dir, NULL });
		expect_failure(&r, itest_sprintf("--port '%s'", bad_ports[i]));
	}
	r = run_cmd((const char *const[]){ "--port", "0", "--mount-port", "99999", "--no-rpcbind",
					   "--state-dir", g_env.state, g_env.dir, NULL });
	expect_failure(&r, "--mount-port 99999");
	const char *bad_loops[] = { "0", "5", "two", "-1" };
	for (size_t i = 0; i < sizeof(bad_loops) / sizeof(bad_loops[0]); i++) {
		r = run_cmd((const char *const[]){ "--port", "0", "--event-threads", bad_loops[i],
						   "--no-rpcbind", "--state-dir", g_env.state,
						   g_env.dir, NULL });
		expect_failure(&r, itest_sprintf("--event-threads '%s'", bad_loops[i]));
		if (!strstr(r.err, "--event-threads"))
			fail_msg("--event-threads '%s': message does not name the option: %s",
				 bad_loops[i], r.err);
	}
	r = run_cmd((const char *const[]){ "--port", "0", "--listen", "not-an-address",
					   "--no-rpcbind", "--state-dir", g_env.state, g_env.dir,
					   NULL });
	expect_failure(&r, "--listen not-an-address");
	r = run_cmd((const char *const[]){ "--port", "0", "--no-rpcbind", "--state-dir",
					   g_env.state, g_env.dir, g_env.base, g_env.dir, NULL });
	if (r.status != -1 && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		fail_msg("three DIR arguments accepted");
}

static void test_ready_line_and_mount_command(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(itest_server_start(&s, &g_env, NULL), 0);
	assert_true(s.port > 0 && s.port < 65536);
	assert_true(s.port != 2049);
	/* stdout: the port and an exact mount command using it */
	char *out = itest_slurp(s.out_path);
	for (int i = 0; i < 100 && !strstr(out, "mount"); i++) {
		usleep(20000);
		out = itest_slurp(s.out_path);
	}
	char *want_port = itest_sprintf("port=%d", s.port);
	char *want_mport = itest_sprintf("mountport=%d", s.port);
	const char *line = strstr(out, "mount ");
	if (!line)
		line = strstr(out, "mount.nfs");
	if (!line)
		fail_msg("no mount command on stdout:\n%s", out);
	const char *eol = strchr(line, '\n');
	char *ml = itest_strdup(line);
	if (eol)
		ml[eol - line] = 0;
	if (!strstr(ml, want_port) || !strstr(ml, want_mport))
		fail_msg("mount command lacks %s / %s: %s", want_port, want_mport, ml);
	if (!strstr(ml, "vers=3"))
		fail_msg("mount command does not pin NFS version 3: %s", ml);
	/* the listen address, or "localhost" pinned to IPv4 by proto=tcp */
	if (!strstr(ml, "127.0.0.1:") && !(strstr(ml, "localhost:") && strstr(ml, "proto=tcp")))
		fail_msg("mount command does not name the server address: %s", ml);
	if (!strstr(ml, "-t nfs") && !strstr(ml, "mount.nfs"))
		fail_msg("mount command does not select nfs: %s", ml);
	/* both programs on that one port, TCP and UDP */
	assert_true(null_ok_tcp(s.port, 100003, 3, 0));
	assert_true(null_ok_tcp(s.port, 100005, 3, 0));
	assert_true(null_ok_udp(s.port, 100003, 3, 0));
	assert_true(null_ok_udp(s.port, 100005, 3, 0));
	assert_int_equal(itest_server_stop(&s), 0);
	/* logs go to stderr: stdout holds only the ready line and the mount command */
	out = itest_slurp(s.out_path);
	char *save = NULL;
	int lines = 0;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (!strstr(l, "port=") && strncmp(l, "mount", 5) != 0)
			fail_msg("unexpected line on stdout (logs belong on stderr): %s", l);
	}
	assert_true(lines >= 2 && lines <= 3);
}

static void test_foreground_and_sigterm(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(itest_server_start(&s, &g_env, NULL), 0);
	pid_t pid = s.pid;
	usleep(300000);
	/* still our child: it did not daemonize */
	int st;
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
	assert_true(null_ok_tcp(s.port, 100003, 3, 0));
	/* an idle open connection does not prevent a clean exit */
	int idle = rr_tcp_connect(s.port, 0);
	assert_true(idle >= 0);
	int port = s.port;
	assert_int_equal(itest_server_stop(&s), 0);
	close(idle);
	/* nothing is left listening on the port */
	assert_false(null_ok_tcp(port, 100003, 3, 0));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

static void test_port_in_use(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(itest_server_start(&s, &g_env, NULL), 0);
	char *p = itest_sprintf("%d", s.port);
	struct run r = run_cmd((const char *const[]){ "--port", p, "--no-rpcbind", "--state-dir",
						      g_env.state, g_env.dir, NULL });
	expect_failure(&r, "port in use by another loopnfsd");
	if (!strstr(r.err, p) && !icontains(r.err, "in use"))
		fail_msg("port-in-use message names neither the port nor 'in use': %s", r.err);
	/* the first server is unaffected */
	assert_true(null_ok_tcp(s.port, 100003, 3, 0));
	assert_int_equal(itest_server_stop(&s), 0);

	/* a UDP-only occupant also makes the start fail (both are needed) */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t l = sizeof(a);
	getsockname(u, (struct sockaddr *)&a, &l);
	p = itest_sprintf("%d", ntohs(a.sin_port));
	r = run_cmd((const char *const[]){ "--port", p, "--no-rpcbind", "--state-dir", g_env.state,
					   g_env.dir, NULL });
	close(u);
	expect_failure(&r, "UDP port in use");

	/* a TCP listener occupant */
	int t = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	assert_int_equal(bind(t, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(t, 1), 0);
	l = sizeof(a);
	getsockname(t, (struct sockaddr *)&a, &l);
	p = itest_sprintf("%d", ntohs(a.sin_port));
	r = run_cmd((const char *const[]){ "--port", p, "--no-rpcbind", "--state-dir", g_env.state,
					   g_env.dir, NULL });
	close(t);
	expect_failure(&r, "TCP port in use");
}

static void test_listen_ipv6(void **state)
{
	(void)state;
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = in6addr_loopback };
	int have6 = probe >= 0 && bind(probe, (struct sockaddr *)&a6, sizeof(a6)) == 0;
	if (probe >= 0)
		close(probe);
	if (!have6) {
		fprintf(stderr, "[ skipped  ] no ::1 on this host\n");
		return;
	}
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(
		itest_server_start(&s, &g_env, (const char *const[]){ "--listen", "::1", NULL }),
		0);
	assert_true(null_ok_tcp(s.port, 100003, 3, 1));
	assert_true(null_ok_tcp(s.port, 100005, 3, 1));
	assert_true(null_ok_udp(s.port, 100003, 3, 1));
	/* listening on ::1 only, not on 127.0.0.1 */
	assert_false(null_ok_tcp(s.port, 100003, 3, 0));
	char *out = itest_slurp(s.out_path);
	if (!strstr(out, "[::1]:") && !strstr(out, "::1"))
		fail_msg("mount command for --listen ::1 does not name ::1: %s", out);
	assert_int_equal(itest_server_stop(&s), 0);
}

static void test_listen_and_mount_port(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	int mp = free_port(SOCK_STREAM);
	char *mps = itest_sprintf("%d", mp);
	assert_int_equal(itest_server_start(&s, &g_env,
					    (const char *const[]){ "--listen", "127.0.0.1",
								   "--mount-port", mps, NULL }),
			 0);
	assert_true(s.port != mp);
	/* MOUNT answers on the mount port (TCP and UDP), NFS on the NFS port */
	assert_true(null_ok_tcp(mp, 100005, 3, 0));
	assert_true(null_ok_udp(mp, 100005, 3, 0));
	assert_true(null_ok_tcp(s.port, 100003, 3, 0));
	/* a full mount through the separate port gives a working handle */
	itc_t *m = itc_connect(mp);
	assert_non_null(m);
	fh_t root = itc_root(m, "/");
	itc_close(m);
	itc_t *c = itc_connect(s.port);
	assert_non_null(c);
	fattr3 a = itc_attr_ok(c, &root);
	assert_int_equal(a.type, NF3DIR);
	itc_close(c);
	char *out = itest_slurp(s.out_path);
	if (!strstr(out, itest_sprintf("mountport=%d", mp)))
		fail_msg("mount command does not use mountport=%d: %s", mp, out);
	assert_int_equal(itest_server_stop(&s), 0);
}

/* Sockets bound to port (from /proc/net/{tcp,tcp6,udp,udp6}); counts the
 * loopback and non-loopback local addresses. TCP: listening sockets only. */
static void scan_proc_net(const char *file, int v6, int tcp, int port, int *loop, int *other,
			  char *others, size_t olen)
{
	char *txt = itest_slurp(file);
	char *save = NULL;
	for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char local[64];
		unsigned lport, st;
		if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &lport,
			   &st) != 3)
			continue;
		if ((int)lport != port || (tcp && st != 0x0A))
			continue;
		int is_loop = v6 ? strcmp(local, "00000000000000000000000001000000") == 0
				 : strcmp(local, "0100007F") == 0;
		if (is_loop) {
			(*loop)++;
		} else {
			(*other)++;
			snprintf(others + strlen(others), olen - strlen(others), " %s:%s", file,
				 local);
		}
	}
}

static void test_default_listen_is_loopback_only(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(itest_server_start(&s, &g_env, NULL), 0);
	int loop = 0, other = 0;
	char others[1024] = "";
	scan_proc_net("/proc/net/tcp", 0, 1, s.port, &loop, &other, others, sizeof(others));
	scan_proc_net("/proc/net/tcp6", 1, 1, s.port, &loop, &other, others, sizeof(others));
	int tcp_loop = loop;
	scan_proc_net("/proc/net/udp", 0, 0, s.port, &loop, &other, others, sizeof(others));
	scan_proc_net("/proc/net/udp6", 1, 0, s.port, &loop, &other, others, sizeof(others));
	assert_true(null_ok_tcp(s.port, 100003, 3, 0));
	assert_true(null_ok_udp(s.port, 100003, 3, 0));
	assert_int_equal(itest_server_stop(&s), 0);
	if (other)
		fail_msg("by default loopnfsd must listen on loopback only; also bound on:%s",
			 others);
	assert_true(tcp_loop >= 1);
	assert_true(loop > tcp_loop); /* UDP too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_help, teardown),
		cmocka_unit_test_teardown(test_version, teardown),
		cmocka_unit_test_teardown(test_missing_dir, teardown),
		cmocka_unit_test_teardown(test_bad_options, teardown),
		cmocka_unit_test_teardown(test_ready_line_and_mount_command, teardown),
		cmocka_unit_test_teardown(test_foreground_and_sigterm, teardown),
		cmocka_unit_test_teardown(test_port_in_use, teardown),
		cmocka_unit_test_teardown(test_default_listen_is_loopback_only, teardown),
		cmocka_unit_test_teardown(test_listen_ipv6, teardown),
		cmocka_unit_test_teardown(test_listen_and_mount_port, teardown),
	};
	return cmocka_run_group_tests_name("integration.cli", tests, group_setup, group_teardown);
}
