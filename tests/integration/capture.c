/*
 * capture.c - the test-side TCP relay that records what clients send (see
 * capture.h). One thread accepts; each connection gets a thread per
 * direction with blocking I/O, so a client that pipelines calls without
 * reading replies can never wedge the relay.
 */
#define _GNU_SOURCE
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes recorded per connection: plenty of calls, not a 64 MiB stream of WRITEs. */
#define CAPTURE_MAX (4u << 20)

struct capture {
	int lfd;
	int server_port;
	pthread_t thread;
};

/* One connection: client <-> server, and the file the client's bytes go to. */
struct link {
	int client, server;
	int log; /* -1: not recording */
	size_t logged;
	atomic_int ends; /* directions still running; the last one closes everything */
};

/* One direction of a link. */
struct pump {
	struct link *l;
	bool to_server;
};

static atomic_uint next_file;

/* To a socket (sock: no SIGPIPE when its peer has gone) or the log file. */
static int write_all(int fd, const uint8_t *p, size_t n, bool sock)
{
	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void record(struct link *l, const uint8_t *p, size_t n)
{
	if (l->log < 0 || l->logged >= CAPTURE_MAX)
		return;
	size_t take = n < CAPTURE_MAX - l->logged ? n : CAPTURE_MAX - l->logged;
	if (write_all(l->log, p, take, false) == 0)
		l->logged += take;
}

static void link_end(struct link *l)
{
	if (atomic_fetch_sub(&l->ends, 1) != 1)
		return;
	close(l->client);
	close(l->server);
	if (l->log >= 0)
		close(l->log);
	free(l);
}

static void *pump_run(void *arg)
{
	struct pump *pu = arg;
	struct link *l = pu->l;
	int from = pu->to_server ? l->client : l->server;
	int to = pu->to_server ? l->server : l->client;
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (pu->to_server)
			record(l, buf, (size_t)n);
		if (write_all(to, buf, (size_t)n, true) < 0)
			break;
	}
	/* Pass the close on: a server closing a connection is what some tests check. */
	shutdown(to, SHUT_WR);
	shutdown(from, SHUT_RD);
	free(pu);
	link_end(l);
	return NULL;
}

static int connect_server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		fd = -1;
	}
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int open_log(void)
{
	const char *dir = getenv("LOOPNFS_CAPTURE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/%d-%u.rm", dir, (int)getpid(),
		 atomic_fetch_add(&next_file, 1));
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void start_pump(struct link *l, bool to_server)
{
	struct pump *pu = malloc(sizeof(*pu));
	pthread_t t;
	if (pu) {
		*pu = (struct pump){ l, to_server };
		if (pthread_create(&t, NULL, pump_run, pu) == 0) {
			pthread_detach(t);
			return;
		}
		free(pu);
	}
	shutdown(l->client, SHUT_RDWR);
	link_end(l);
}

static void relay(struct capture *c, int client)
{
	int one = 1;
	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct link *l = calloc(1, sizeof(*l));
	int server = connect_server(c->server_port);
	if (!l || server < 0) {
		free(l);
		close(client);
		if (server >= 0)
			close(server);
		return;
	}
	l->client = client;
	l->server = server;
	l->log = open_log();
	atomic_init(&l->ends, 2);
	start_pump(l, true);
	start_pump(l, false);
}

static void *accept_run(void *arg)
{
	struct capture *c = arg;
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			relay(c, fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			break; /* capture_stop shut the listener down */
	}
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int capture_start(int port, struct capture **out)
{
	*out = NULL;
	const char *dir = getenv("LOOPNFS_CAPTURE_DIR");
	if (!dir || !*dir)
		return port;
	struct capture *c = calloc(1, sizeof(*c));
	int relay_port = 0;
	if (!c || (c->lfd = listen_any(&relay_port)) < 0) {
		fprintf(stderr, "capture: cannot listen: %s (not capturing)\n", strerror(errno));
		free(c);
		return port;
	}
	c->server_port = port;
	if (pthread_create(&c->thread, NULL, accept_run, c) != 0) {
		close(c->lfd);
		free(c);
		return port;
	}
	*out = c;
	return relay_port;
}

void capture_stop(struct capture *c)
{
	if (!c)
		return;
	shutdown(c->lfd, SHUT_RDWR);
	pthread_join(c->thread, NULL);
	close(c->lfd);
	free(c);
}
