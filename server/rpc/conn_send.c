/*
 * Replies on a TCP connection. Workers and the event thread send under the
 * connection's send lock, so replies leave in completion order (the client
 * matches them by xid). Nobody blocks on a slow reader: what the socket
 * doesn't take at once waits in the connection's output queue, which the
 * event thread writes on EPOLLOUT.
 */
#define _GNU_SOURCE
#include "transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* A reply (or its unsent rest) waiting for the socket to drain. */
struct outbuf {
	struct outbuf *next;
	uint8_t *buf; /* record mark + header */
	size_t len;
	void *payload;
	size_t payload_len;
	size_t total; /* len + payload_len + padding */
	size_t off;   /* bytes already sent */
};

static const uint8_t zero_pad[4];

static void outbuf_free(struct outbuf *o)
{
	free(o->buf);
	free(o->payload);
	free(o);
}

void conn_drop_output(struct conn *c)
{
	for (struct outbuf *o = c->out_head, *n; o; o = n) {
		n = o->next;
		outbuf_free(o);
	}
}

/* iovecs for the unsent part of an outbuf. */
static int outbuf_iov(const struct outbuf *o, struct iovec *iov)
{
	size_t pad = o->total - o->len - o->payload_len;
	struct iovec all[3] = { { o->buf, o->len },
				{ o->payload, o->payload_len },
				{ (void *)zero_pad, pad } };
	size_t skip = o->off;
	int cnt = 0;
	for (int i = 0; i < 3; i++) {
		if (all[i].iov_len <= skip) {
			skip -= all[i].iov_len;
			continue;
		}
		iov[cnt].iov_base = (uint8_t *)all[i].iov_base + skip;
		iov[cnt].iov_len = all[i].iov_len - skip;
		skip = 0;
		cnt++;
	}
	return cnt;
}

/* Send without blocking; < 0 on a dead socket, else bytes taken. */
static ssize_t send_some(int fd, struct iovec *iov, int cnt)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
	for (;;) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -1;
	}
}

/* Bytes a reply takes on the wire: header, payload, the payload's XDR padding. */
static size_t reply_total(const struct rpc_reply *rep)
{
	size_t pad = (4 - (rep->payload_len & 3)) & 3;
	return rep->len + rep->payload_len + pad;
}

size_t reply_frame(struct rpc_reply *rep)
{
	size_t total = reply_total(rep);
	uint32_t rm = htonl(0x80000000u | (uint32_t)(total - RPC_REPLY_RESERVE));
	memcpy(rep->buf, &rm, 4);
	return total;
}

void send_tcp_reply(struct conn *c, struct rpc_reply *rep)
{
	reply_frame(rep);
	send_tcp_framed(c, rep);
}

/* Append the unsent rest of a reply to the output queue. send_lock held. */
static bool conn_queue_output(struct conn *c, const struct outbuf *rest)
{
	struct outbuf *o = malloc(sizeof(*o));
	if (!o)
		return false;
	*o = *rest;
	o->next = NULL;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	return true;
}

/*
 * What the socket doesn't take now is queued on the connection (rep->buf
 * and payload then belong to the queue) and written by the event thread
 * on EPOLLOUT.
 */
void send_tcp_framed(struct conn *c, struct rpc_reply *rep)
{
	size_t total = reply_total(rep);
	struct outbuf tmp = { .buf = rep->buf,
			      .len = rep->len,
			      .payload = rep->payload,
			      .payload_len = rep->payload_len,
			      .total = total };
	bool broken = false;

	pthread_mutex_lock(&c->send_lock);
	if (atomic_load(&c->dead)) {
		pthread_mutex_unlock(&c->send_lock);
		return;
	}
	if (!c->out_head) {
		struct iovec iov[3];
		ssize_t n = send_some(c->sk.fd, iov, outbuf_iov(&tmp, iov));
		if (n < 0)
			broken = true;
		else
			tmp.off = (size_t)n;
	}
	if (!broken && tmp.off < total) {
		if (conn_queue_output(c, &tmp)) {
			rep->buf = NULL; /* now owned by the queue */
			rep->payload = NULL;
			conn_adjust(c, 0, (ssize_t)(total - tmp.off), 1);
		} else {
			broken = true;
		}
	}
	pthread_mutex_unlock(&c->send_lock);
	if (broken)
		shutdown(c->sk.fd, SHUT_RDWR); /* the event thread sees EOF and closes */
}

bool conn_flush(struct conn *c)
{
	size_t flushed = 0;
	bool ok = true;
	pthread_mutex_lock(&c->send_lock);
	while (c->out_head) {
		struct outbuf *o = c->out_head;
		struct iovec iov[3];
		ssize_t n = send_some(c->sk.fd, iov, outbuf_iov(o, iov));
		if (n < 0) {
			ok = false;
			break;
		}
		o->off += (size_t)n;
		flushed += (size_t)n;
		if (o->off < o->total)
			break; /* the socket is full again */
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		outbuf_free(o);
	}
	conn_adjust(c, 0, -(ssize_t)flushed, c->out_head ? 1 : 0);
	pthread_mutex_unlock(&c->send_lock);
	return ok;
}
