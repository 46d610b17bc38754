/*
 * UDP: every datagram is one whole call, read by the first event loop and
 * queued for a worker, which sends the reply datagram itself.
 */
#define _GNU_SOURCE
#include "transport.h"
#include "transport_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

static const uint8_t zero_pad[4];

void udp_readable(int fd)
{
	for (;;) {
		struct job *j = calloc(1, sizeof(*j));
		uint8_t *buf = malloc(TRANSPORT_MAX_UDP);
		if (!j || !buf) {
			free(j);
			free(buf);
			return;
		}
		j->peer.addrlen = sizeof(j->peer.addr);
		ssize_t n = recvfrom(fd, buf, TRANSPORT_MAX_UDP, 0,
				     (struct sockaddr *)&j->peer.addr, &j->peer.addrlen);
		if (n <= 0) {
			free(j);
			free(buf);
			return;
		}
		j->peer.is_local = addr_is_loopback(&j->peer.addr);
		j->udp_fd = fd;
		j->rec = realloc(buf, (size_t)n) ?: buf;
		j->len = (size_t)n;
		j->bulk = rpc_classify(j->rec, j->len).bulk;
		queue_push(j);
	}
}

/* iovecs for a reply from skip on: header, payload, the payload's XDR padding. */
static int reply_iov(struct rpc_reply *rep, struct iovec *iov, size_t skip)
{
	int cnt = 0;
	iov[cnt++] = (struct iovec){ rep->buf + skip, rep->len - skip };
	if (rep->payload_len) {
		iov[cnt++] = (struct iovec){ rep->payload, rep->payload_len };
		size_t pad = (4 - (rep->payload_len & 3)) & 3;
		if (pad)
			iov[cnt++] = (struct iovec){ (void *)zero_pad, pad };
	}
	return cnt;
}

/* The reply datagram, without the record mark TCP would need. */
void send_udp_reply(struct job *j, struct rpc_reply *rep)
{
	struct iovec iov[3];
	int cnt = reply_iov(rep, iov, RPC_REPLY_RESERVE);
	struct msghdr mh = { .msg_name = &j->peer.addr,
			     .msg_namelen = j->peer.addrlen,
			     .msg_iov = iov,
			     .msg_iovlen = (size_t)cnt };
	if (sendmsg(j->udp_fd, &mh, MSG_NOSIGNAL) < 0)
		log_debug("UDP reply not sent: %s", strerror(errno));
}
