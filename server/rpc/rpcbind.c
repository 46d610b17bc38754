/* rpcbind registration through libtirpc (rpcb_set / rpcb_unset). */
#include "rpcbind.h"

#include "log.h"
#include "mount_prot.h"
#include "nfs3_prot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <rpc/rpc.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	rpcprog_t prog;
	rpcvers_t vers;
	bool is_mount;
} progs[] = {
	{ NFS_PROGRAM, NFS_V3, false },
	{ MOUNT_PROGRAM, MOUNT_V1, true },
	{ MOUNT_PROGRAM, MOUNT_V3, true },
};

static bool registered;

bool rpcbind_available(void)
{
	struct stat st;
	if (stat("/run/rpcbind.sock", &st) == 0 || stat("/var/run/rpcbind.sock", &st) == 0)
		return true;
	/* No local socket: is a portmapper listening on the loopback port 111? */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(111) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		ok = true;
	} else if (errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);
		ok = poll(&p, 1, 1000) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

static bool set_one(rpcprog_t prog, rpcvers_t vers, const char *netid, const char *uaddr_host,
		    int port)
{
	struct netconfig *nc = getnetconfigent(netid);
	if (!nc)
		return false;
	char uaddr[128];
	/* Universal address: host.p1.p2 (RFC 5665). */
	snprintf(uaddr, sizeof(uaddr), "%s.%d.%d", uaddr_host, (port >> 8) & 0xff, port & 0xff);
	struct netbuf *nb = uaddr2taddr(nc, uaddr);
	bool ok = nb && rpcb_set(prog, vers, nc, nb);
	if (nb) {
		free(nb->buf);
		free(nb);
	}
	freenetconfigent(nc);
	return ok;
}

int rpcbind_register(int nfs_port, int mount_port, bool ipv4, bool ipv6, bool udp)
{
	rpcbind_unregister(); /* clear what a crashed predecessor may have left */
	int failures = 0;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		int port = progs[i].is_mount ? mount_port : nfs_port;
		struct {
			const char *netid, *host;
			bool on;
		} nets[] = {
			{ "tcp", "0.0.0.0", ipv4 },
			{ "udp", "0.0.0.0", ipv4 && udp },
			{ "tcp6", "::", ipv6 },
			{ "udp6", "::", ipv6 && udp },
		};
		for (size_t n = 0; n < sizeof(nets) / sizeof(nets[0]); n++) {
			if (nets[n].on &&
			    !set_one(progs[i].prog, progs[i].vers, nets[n].netid, nets[n].host, port)) {
				log_warn("rpcbind: cannot register program %lu version %lu on %s",
					 (unsigned long)progs[i].prog, (unsigned long)progs[i].vers,
					 nets[n].netid);
				failures++;
			}
		}
	}
	registered = true;
	return failures ? -1 : 0;
}

void rpcbind_unregister(void)
{
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		rpcb_unset(progs[i].prog, progs[i].vers, NULL);
	registered = false;
}
