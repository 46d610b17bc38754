/*
 * Listening sockets: bind TCP (and UDP) on every --listen address for the
 * NFS and MOUNT ports, accept connections and hand each to the least
 * loaded event loop.
 */
#define _GNU_SOURCE
#include "transport.h"
#include "transport_int.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static struct sock listeners[TRANSPORT_MAX_LISTEN * 4];
static int nlisteners;
static int nfs_port, mount_port;
static int max_conns;
static int spare_fd = -1;

bool addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
			return s->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

static int resolve_listen(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai;
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	int rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0) {
		log_error("--listen %s: not a numeric IPv4 or IPv6 address (%s)", host,
			  gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int bind_one(const char *host, int port, int type, int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = resolve_listen(host, port, &ss, &len);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		rc = -errno;
		log_error("cannot bind %s %s port %d: %s", type == SOCK_STREAM ? "TCP" : "UDP",
			  host, port, strerror(errno));
		close(fd);
		return rc;
	}
	if (type == SOCK_STREAM && listen(fd, 1024) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	struct sock *sk = &listeners[nlisteners++];
	sk->kind = type == SOCK_STREAM ? SK_LISTEN : SK_UDP;
	sk->fd = fd;
	return 0;
}

/* Bind TCP and UDP on every address for one port; port 0 takes the first free one. */
static int bind_port(const struct transport_config *cfg, int port, int *out)
{
	int first = nlisteners;
	for (int attempt = 0; attempt < 20; attempt++) {
		int want = port, got = 0, rc = 0;
		for (int i = 0; i < cfg->nlisten && rc == 0; i++) {
			rc = bind_one(cfg->listen[i], want, SOCK_STREAM, &got);
			if (rc == 0 && want == 0)
				want = got;
			if (rc == 0 && cfg->udp)
				rc = bind_one(cfg->listen[i], want, SOCK_DGRAM, &got);
		}
		if (rc == 0) {
			*out = want;
			return 0;
		}
		while (nlisteners > first)
			close(listeners[--nlisteners].fd);
		/* A picked port may be taken on the other family or protocol: pick again. */
		if (port != 0 || rc != -EADDRINUSE)
			return rc;
	}
	return -EADDRINUSE;
}

int transport_bind(struct transport_config *cfg)
{
	int rc = bind_port(cfg, cfg->port, &nfs_port);
	if (rc)
		return rc;
	mount_port = nfs_port;
	if (cfg->mount_port >= 0 && cfg->mount_port != nfs_port)
		rc = bind_port(cfg, cfg->mount_port, &mount_port);
	return rc;
}

int transport_port(void)
{
	return nfs_port;
}

int transport_mount_port(void)
{
	return mount_port;
}

int listen_watch(int epfd)
{
	for (int i = 0; i < nlisteners; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listeners[i] };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, listeners[i].fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

void accept_prepare(int limit)
{
	max_conns = limit;
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void listen_close(void)
{
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	if (spare_fd >= 0)
		close(spare_fd);
}

/* Out of fds: accept with the spare and drop, so we don't spin. */
static void refuse_with_spare(int lfd)
{
	close(spare_fd);
	int fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_warn("out of file descriptors: refused a connection");
}

void accept_conns(int lfd)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				refuse_with_spare(lfd);
				continue;
			}
			return;
		}
		if (loops_conn_count() >= max_conns) {
			log_warn("connection limit (%d) reached: refused a connection", max_conns);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = conn_new(fd, &ss, len);
		if (!c) {
			close(fd);
			continue;
		}
		conn_attach(c, least_loaded_loop());
	}
}
