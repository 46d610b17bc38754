/*
 * test_stop.c - a stop with WRITEs still queued frees them (issue: transport
 * split, "transport_stop frees the bulk queue and its connection references").
 *
 * The export is an ext4 image the test can freeze (as in test_reserve.c).
 * With two workers only one bulk call runs at a time; on the frozen
 * filesystem it blocks in the kernel and the other WRITEs wait in the bulk
 * queue, each holding a reference to the connection. The server then gets
 * SIGTERM; once it is stopping the filesystem is thawed, the blocked WRITE
 * ends, and the server must exit 0.
 *
 * Under ASan the server also runs with LeakSanitizer's use_globals=0: the
 * job queues are globals, and a job left on one is still reachable from it
 * at exit, so by default LeakSanitizer would not call it a leak. Without
 * globals as roots, the C library's own lazily allocated state (stdio
 * buffers, the time zone) reads as leaked too; so the server runs with
 * exitcode=0 and the test fails on any reported leak allocated in
 * loopnfs's own sources.
 *
 * Skipped (exit 77) where loop devices or mkfs.ext4 are missing.
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;
static fh_t g_file;
static int g_freeze_fd = -1;
static bool g_frozen, g_mounted;

#define NWRITES 8 /* one runs (two workers: one may take bulk calls), the rest queue */
#define WSIZE (64 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define CC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CC_ASAN 1
#endif
#endif

#ifndef CC_SOURCE_DIR
#error "CC_SOURCE_DIR: the source tree, to tell loopnfs's allocations in a leak report"
#endif

/* Start the server; under ASan, with leak checking that ignores globals (see above). */
static int start_server(void)
{
	const char *const extra[] = { "--threads", "2", NULL };
#ifdef CC_ASAN
	const char *old = getenv("LSAN_OPTIONS");
	char *saved = old ? strdup(old) : NULL;
	char opts[1024];
	snprintf(opts, sizeof(opts), "%s%sdetect_leaks=1:use_globals=0:exitcode=0", old ? old : "",
		 old && *old ? ":" : "");
	setenv("LSAN_OPTIONS", opts, 1);
	int rc = itest_server_start(&g_srv, &g_env, extra);
	if (saved)
		setenv("LSAN_OPTIONS", saved, 1);
	else
		unsetenv("LSAN_OPTIONS");
	free(saved);
	return rc;
#else
	return itest_server_start(&g_srv, &g_env, extra);
#endif
}

/* The first leak in a LeakSanitizer report that loopnfs's own code allocated, or NULL. */
static const char *own_leak(const char *log, size_t *len)
{
	static const char *const ours[] = { CC_SOURCE_DIR "/server/", CC_SOURCE_DIR "/mountd/" };
	for (const char *p = strstr(log, " leak of "); p;) {
		const char *next = strstr(p + 1, " leak of ");
		size_t n = next ? (size_t)(next - p) : strlen(p);
		for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
			if (memmem(p, n, ours[i], strlen(ours[i]))) {
				*len = n;
				return p;
			}
		}
		p = next;
	}
	return NULL;
}

static int group_setup(void **state)
{
	(void)state;
	if (getuid() != 0) {
		fprintf(stderr, "test_stop: needs root (mount, freeze): skipped\n");
		exit(77);
	}
	if (itest_env_init(&g_env, "stop") != 0)
		return -1;
	if (cc_mount_image(&g_env) != 0) {
		fprintf(stderr, "test_stop: cannot mount an ext4 image (loop device?): skipped\n");
		itest_env_cleanup(&g_env);
		exit(77);
	}
	g_mounted = true;
	cc_make_file(itest_path(&g_env, "file.bin"), 0, 0, 0, 0, 0644);
	if (start_server() != 0)
		return -1;
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	fh_t root = itc_root(c, "/");
	g_file = itc_lookup_ok(c, &root, "file.bin");
	itc_close(c);
	itest_arena_free();
	g_freeze_fd = open(g_env.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return g_freeze_fd >= 0 ? 0 : -1;
}

static void thaw(void)
{
	if (g_frozen && ioctl(g_freeze_fd, FITHAW, 0) == 0)
		g_frozen = false;
}

static int group_teardown(void **state)
{
	(void)state;
	thaw();
	if (g_srv.pid > 0)
		itest_server_stop(&g_srv);
	if (g_freeze_fd >= 0)
		close(g_freeze_fd);
	if (g_mounted)
		umount2(g_env.dir, MNT_DETACH);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return 0;
}

/* Replies that arrive on fd within timeout_ms, or until the server closes it. */
static int count_replies(int fd, cc_rx *rx, int timeout_ms)
{
	int got = 0;
	long long deadline = cc_now_ms() + timeout_ms;
	while (cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 50);
		long n = cc_rx_fill(fd, rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(rx, &rec)) > 0) {
			free(rec);
			got++;
		}
		if (len < 0)
			fail_msg("malformed record from the server");
		if (n < 0 && rx->eof)
			break;
	}
	return got;
}

/* Wait until the server's stderr says it is shutting down. */
static bool wait_for_shutdown_log(int timeout_ms)
{
	long long deadline = cc_now_ms() + timeout_ms;
	while (cc_now_ms() < deadline) {
		void *mark = itest_arena_mark();
		bool seen = strstr(itest_slurp(g_srv.err_path), "shutting down") != NULL;
		itest_arena_release(mark);
		if (seen)
			return true;
		usleep(20 * 1000);
	}
	return false;
}

static void send_writes(int fd)
{
	unsigned char *data = malloc(WSIZE);
	assert_non_null(data);
	xbuf stream, m;
	xb_init(&stream);
	for (int i = 0; i < NWRITES; i++) {
		itest_pattern(data, WSIZE, (uint64_t)i * WSIZE, 3);
		cc_msg_write(&m, 0x57000000u + (uint32_t)i, &g_file, (uint64_t)i * WSIZE, data,
			     WSIZE, CC_UNSTABLE, 0, 0);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	free(data);
	assert_int_equal(cc_send_all(fd, stream.buf, stream.len, 20000), 0);
	xb_free(&stream);
}

static void test_stop_with_writes_queued(void **state)
{
	(void)state;
	int wfd = cc_tcp_connect(g_srv.port, 0, 0, 8 << 20);
	assert_true(wfd >= 0);
	if (ioctl(g_freeze_fd, FIFREEZE, 0) != 0)
		fail_msg("FIFREEZE: %s", strerror(errno));
	g_frozen = true;
	send_writes(wfd);
	usleep(500 * 1000); /* the event loop queues them; one worker blocks */
	cc_rx rx;
	cc_rx_init(&rx);
	if (count_replies(wfd, &rx, 100) != 0)
		fail_msg("a WRITE completed on the frozen filesystem: the test proves nothing");

	kill(g_srv.pid, SIGTERM);
	/* Thaw only once the server is stopping, so no worker takes the queued WRITEs. */
	bool stopping = wait_for_shutdown_log(10000 * cc_slow_factor());
	usleep(200 * 1000);
	thaw();
	if (!stopping)
		fail_msg("no \"shutting down\" within 10 s of SIGTERM");
	int st = itest_wait_exit(g_srv.pid, ITEST_EXIT_TIMEOUT_MS * cc_slow_factor());
	g_srv.pid = 0;
	int answered = count_replies(wfd, &rx, 2000);
	cc_rx_free(&rx);
	close(wfd);

	const char *err = itest_slurp(g_srv.err_path);
	if (st != 0 || strstr(err, "ERROR: AddressSanitizer")) {
		itest_server_dump_log(&g_srv);
		if (st == -1)
			fail_msg("loopnfsd did not exit after SIGTERM and the thaw");
		if (WIFSIGNALED(st))
			fail_msg("loopnfsd killed by signal %d on stop", WTERMSIG(st));
		fail_msg("loopnfsd exited %d on a stop with WRITEs queued (want 0)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	size_t n;
	const char *leak = own_leak(err, &n);
	if (leak)
		fail_msg("left behind by a stop with WRITEs queued:\n%.*s", (int)n, leak);
	if (answered >= NWRITES)
		fail_msg("all %d WRITEs were answered: none was still queued at the stop", NWRITES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_with_writes_queued),
	};
	return cmocka_run_group_tests_name("stop", tests, group_setup, group_teardown);
}
