/*
 * rawrpc.c - hand-written ONC RPC over sockets (see rawrpc.h).
 */
#define _GNU_SOURCE
#include "rawrpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ encoder */
void xb_init(xbuf *b)
{
	b->buf = NULL;
	b->len = b->cap = 0;
}

void xb_free(xbuf *b)
{
	free(b->buf);
	xb_init(b);
}

void xb_raw(xbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->len + n)
			nc *= 2;
		unsigned char *nb = realloc(b->buf, nc);
		if (!nb)
			abort();
		b->buf = nb;
		b->cap = nc;
	}
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void xb_u32(xbuf *b, uint32_t v)
{
	uint32_t be = htonl(v);
	xb_raw(b, &be, 4);
}

void xb_u64(xbuf *b, uint64_t v)
{
	xb_u32(b, (uint32_t)(v >> 32));
	xb_u32(b, (uint32_t)v);
}

void xb_fixed(xbuf *b, const void *p, size_t n)
{
	static const unsigned char zero[4];
	xb_raw(b, p, n);
	if (n % 4)
		xb_raw(b, zero, 4 - n % 4);
}

void xb_opaque(xbuf *b, const void *p, size_t n)
{
	xb_u32(b, (uint32_t)n);
	xb_fixed(b, p, n);
}

void xb_string(xbuf *b, const char *s)
{
	xb_opaque(b, s, strlen(s));
}

void rr_authsys_body(xbuf *body, uint32_t stamp, const char *machine, uint32_t uid, uint32_t gid,
		     uint32_t ngids, const uint32_t *gids)
{
	xb_u32(body, stamp);
	xb_string(body, machine);
	xb_u32(body, uid);
	xb_u32(body, gid);
	xb_u32(body, ngids);
	for (uint32_t i = 0; i < ngids; i++)
		xb_u32(body, gids ? gids[i] : i);
}

void rr_call_hdr(xbuf *b, uint32_t xid, uint32_t rpcvers, uint32_t prog, uint32_t vers,
		 uint32_t proc, uint32_t cred_flavor, const void *cred, size_t cred_len)
{
	xb_u32(b, xid);
	xb_u32(b, RR_CALL);
	xb_u32(b, rpcvers);
	xb_u32(b, prog);
	xb_u32(b, vers);
	xb_u32(b, proc);
	xb_u32(b, cred_flavor);
	xb_opaque(b, cred, cred_len);
	xb_u32(b, RR_FLAVOR_NONE); /* verifier */
	xb_u32(b, 0);
}

void rr_call_hdr_sys(xbuf *b, uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc)
{
	xbuf cred;
	xb_init(&cred);
	rr_authsys_body(&cred, 12345, "itest", 0, 0, 1, (const uint32_t[]){ 0 });
	rr_call_hdr(b, xid, 2, prog, vers, proc, RR_FLAVOR_SYS, cred.buf, cred.len);
	xb_free(&cred);
}

/* ------------------------------------------------------------ decoder */
void xr_init(xrd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

uint32_t xr_u32(xrd *r)
{
	if (r->err || r->pos + 4 > r->len) {
		r->err = 1;
		return 0;
	}
	uint32_t v;
	memcpy(&v, r->p + r->pos, 4);
	r->pos += 4;
	return ntohl(v);
}

uint64_t xr_u64(xrd *r)
{
	uint64_t hi = xr_u32(r);
	uint64_t lo = xr_u32(r);
	return hi << 32 | lo;
}

const unsigned char *xr_opaque(xrd *r, uint32_t *n, uint32_t max)
{
	uint32_t len = xr_u32(r);
	size_t padded = ((size_t)len + 3) & ~(size_t)3;
	if (r->err || len > max || r->pos + padded > r->len) {
		r->err = 1;
		*n = 0;
		return NULL;
	}
	const unsigned char *p = r->p + r->pos;
	r->pos += padded;
	*n = len;
	return p;
}

void xr_skip(xrd *r, size_t n)
{
	if (r->err || r->pos + n > r->len) {
		r->err = 1;
		return;
	}
	r->pos += n;
}

int rr_parse_reply(const void *msg, size_t len, rr_reply *o)
{
	memset(o, 0, sizeof(*o));
	xrd r;
	xr_init(&r, msg, len);
	o->xid = xr_u32(&r);
	o->mtype = xr_u32(&r);
	o->reply_stat = xr_u32(&r);
	if (r.err || o->mtype != RR_REPLY)
		return -1;
	if (o->reply_stat == RR_MSG_ACCEPTED) {
		uint32_t n;
		o->verf_flavor = xr_u32(&r);
		xr_opaque(&r, &n, 400);
		o->accept_stat = xr_u32(&r);
		if (o->accept_stat == RR_PROG_MISMATCH) {
			o->low = xr_u32(&r);
			o->high = xr_u32(&r);
		}
		if (r.err)
			return -1;
		o->body = r.p + r.pos;
		o->body_len = r.len - r.pos;
		return 0;
	}
	if (o->reply_stat == RR_MSG_DENIED) {
		o->reject_stat = xr_u32(&r);
		if (o->reject_stat == RR_RPC_MISMATCH) {
			o->low = xr_u32(&r);
			o->high = xr_u32(&r);
		} else if (o->reject_stat == RR_AUTH_ERROR) {
			o->auth_stat = xr_u32(&r);
		} else {
			return -1;
		}
		return r.err ? -1 : 0;
	}
	return -1;
}

/* ------------------------------------------------------------ sockets */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int make_addr(int port, int v6, struct sockaddr_storage *ss, socklen_t *sl)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		*sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*sl = sizeof(*a);
	}
	return 0;
}

int rr_tcp_connect(int port, int v6)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	make_addr(port, v6, &ss, &sl);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int write_all(int fd, const unsigned char *p, size_t n, size_t chunk, int delay_us)
{
	while (n > 0) {
		size_t want = n;
		if (chunk && want > chunk)
			want = chunk;
		ssize_t w = send(fd, p, want, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		if (delay_us > 0 && n > 0)
			usleep((useconds_t)delay_us);
	}
	return 0;
}

int rr_tcp_send_record(int fd, const void *msg, size_t len, const size_t *frag_sizes, size_t chunk,
		       int delay_us)
{
	/* Build the whole marked stream, then write it (optionally trickled). */
	xbuf out;
	xb_init(&out);
	const unsigned char *p = msg;
	size_t left = len, fi = 0;
	do {
		size_t fs = left;
		if (frag_sizes && frag_sizes[0]) {
			fs = frag_sizes[fi];
			fi = frag_sizes[fi + 1] ? fi + 1 : 0;
			if (fs > left)
				fs = left;
		}
		uint32_t mark = (uint32_t)fs | (fs == left ? 0x80000000u : 0);
		xb_u32(&out, mark);
		xb_raw(&out, p, fs);
		p += fs;
		left -= fs;
	} while (left > 0);
	int rc = write_all(fd, out.buf, out.len, chunk, delay_us);
	xb_free(&out);
	return rc;
}

static int read_full(int fd, unsigned char *p, size_t n, long long deadline)
{
	while (n > 0) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return -2;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		ssize_t got = recv(fd, p, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

long rr_tcp_recv_record(int fd, unsigned char **out, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	xbuf rec;
	xb_init(&rec);
	for (;;) {
		unsigned char m[4];
		int rc = read_full(fd, m, 4, deadline);
		if (rc < 0) {
			xb_free(&rec);
			return rc;
		}
		uint32_t mark =
			(uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
		size_t fs = mark & 0x7fffffffu;
		if (rec.len + fs > (64u << 20)) {
			xb_free(&rec);
			return -1;
		}
		size_t old = rec.len;
		xb_raw(&rec, NULL, 0);
		if (fs) {
			unsigned char *tmp = malloc(fs);
			rc = read_full(fd, tmp, fs, deadline);
			if (rc < 0) {
				free(tmp);
				xb_free(&rec);
				return rc;
			}
			xb_raw(&rec, tmp, fs);
			free(tmp);
		}
		(void)old;
		if (mark & 0x80000000u)
			break;
	}
	if (!rec.buf)
		rec.buf = malloc(1);
	*out = rec.buf;
	return (long)rec.len;
}

int rr_tcp_peer_closed(int fd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned char buf[4096];
	for (;;) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return 0;
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
			return 1;
		/* data: discard and keep waiting */
	}
}

int rr_udp_socket(int port, int v6)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	make_addr(port, v6, &ss, &sl);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

long rr_udp_call(int fd, const void *msg, size_t len, uint32_t xid, unsigned char *reply,
		 size_t cap, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	if (send(fd, msg, len, 0) != (ssize_t)len)
		return -1;
	for (;;) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return -2;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		ssize_t got = recv(fd, reply, cap, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got >= 4) {
			uint32_t x;
			memcpy(&x, reply, 4);
			if (ntohl(x) == xid)
				return (long)got;
		}
	}
}

int rr_tcp_call(int port, const void *msg, size_t len, unsigned char **raw, rr_reply *rep,
		int timeout_ms)
{
	*raw = NULL;
	int fd = rr_tcp_connect(port, 0);
	if (fd < 0)
		return -1;
	if (rr_tcp_send_record(fd, msg, len, NULL, 0, 0) < 0) {
		close(fd);
		return -1;
	}
	long n = rr_tcp_recv_record(fd, raw, timeout_ms);
	close(fd);
	if (n < 0)
		return -1;
	return rr_parse_reply(*raw, (size_t)n, rep);
}

const char *rr_accept_name(uint32_t s)
{
	static const char *n[] = { "SUCCESS",	   "PROG_UNAVAIL", "PROG_MISMATCH",
				   "PROC_UNAVAIL", "GARBAGE_ARGS", "SYSTEM_ERR" };
	return s < 6 ? n[s] : "?";
}

const char *rr_auth_name(uint32_t s)
{
	static const char *n[] = { "AUTH_OK",	   "AUTH_BADCRED",	"AUTH_REJECTEDCRED",
				   "AUTH_BADVERF", "AUTH_REJECTEDVERF", "AUTH_TOOWEAK" };
	return s < 6 ? n[s] : "?";
}
