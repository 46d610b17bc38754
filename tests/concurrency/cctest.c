/*
 * cctest.c - helpers for the concurrency / fd-cache tests (see cctest.h).
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

long long cc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cc_slow_factor(void)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	return 4;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
	return 4;
#else
	return 1;
#endif
#else
	return 1;
#endif
}

/* ------------------------------------------------------------ messages */
void cc_hdr(xbuf *b, uint32_t xid, uint32_t proc, uint32_t uid, uint32_t gid, uint32_t ngids,
	    const uint32_t *gids)
{
	xbuf cred;
	xb_init(&cred);
	rr_authsys_body(&cred, 0x5eed, "cctest", uid, gid, ngids, gids);
	rr_call_hdr(b, xid, 2, ITEST_PROG_NFS, 3, proc, RR_FLAVOR_SYS, cred.buf, cred.len);
	xb_free(&cred);
}

static void hdr1(xbuf *b, uint32_t xid, uint32_t proc, uint32_t uid, uint32_t gid)
{
	xb_init(b);
	cc_hdr(b, xid, proc, uid, gid, 1, (const uint32_t[]){ gid });
}

void cc_msg_null(xbuf *b, uint32_t xid)
{
	hdr1(b, xid, CC_NULL, 0, 0);
}

void cc_msg_getattr(xbuf *b, uint32_t xid, const fh_t *fh, uint32_t uid, uint32_t gid)
{
	hdr1(b, xid, CC_GETATTR, uid, gid);
	xb_opaque(b, fh->data, fh->len);
}

void cc_msg_lookup(xbuf *b, uint32_t xid, const fh_t *dir, const char *name, uint32_t uid,
		   uint32_t gid)
{
	hdr1(b, xid, CC_LOOKUP, uid, gid);
	xb_opaque(b, dir->data, dir->len);
	xb_string(b, name);
}

void cc_msg_read(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, uint32_t count, uint32_t uid,
		 uint32_t gid)
{
	hdr1(b, xid, CC_READ, uid, gid);
	xb_opaque(b, fh->data, fh->len);
	xb_u64(b, off);
	xb_u32(b, count);
}

void cc_msg_write(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, const void *data,
		  uint32_t len, int stable, uint32_t uid, uint32_t gid)
{
	hdr1(b, xid, CC_WRITE, uid, gid);
	xb_opaque(b, fh->data, fh->len);
	xb_u64(b, off);
	xb_u32(b, len);
	xb_u32(b, (uint32_t)stable);
	xb_opaque(b, data, len);
}

void cc_msg_commit(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, uint32_t count,
		   uint32_t uid, uint32_t gid)
{
	hdr1(b, xid, CC_COMMIT, uid, gid);
	xb_opaque(b, fh->data, fh->len);
	xb_u64(b, off);
	xb_u32(b, count);
}

void cc_frame(xbuf *stream, const xbuf *msg)
{
	xb_u32(stream, 0x80000000u | (uint32_t)msg->len);
	xb_raw(stream, msg->buf, msg->len);
}

/* ------------------------------------------------------------- replies */
uint32_t cc_xid(const unsigned char *rec, size_t len)
{
	if (len < 4)
		return 0;
	uint32_t x;
	memcpy(&x, rec, 4);
	return ntohl(x);
}

static void dec_fattr(xrd *r, cc_res *o)
{
	o->has_attr = 1;
	o->type = xr_u32(r);
	o->mode = xr_u32(r);
	o->nlink = xr_u32(r);
	o->uid = xr_u32(r);
	o->gid = xr_u32(r);
	o->size = xr_u64(r);
	xr_u64(r); /* used */
	xr_u64(r); /* rdev */
	xr_u64(r); /* fsid */
	o->fileid = xr_u64(r);
	xr_skip(r, 24); /* atime mtime ctime */
}

static void dec_post_op_attr(xrd *r, cc_res *o)
{
	if (xr_u32(r))
		dec_fattr(r, o);
}

static void dec_wcc_data(xrd *r, cc_res *o)
{
	if (xr_u32(r))
		xr_skip(r, 24); /* pre_op: size mtime ctime */
	dec_post_op_attr(r, o);
}

int cc_parse(uint32_t proc, const unsigned char *rec, size_t len, cc_res *o, char *err,
	     size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->status = -1;
	rr_reply rep;
	if (rr_parse_reply(rec, len, &rep) != 0) {
		if (err)
			snprintf(err, errlen, "malformed RPC reply (%zu bytes)", len);
		return -1;
	}
	o->xid = rep.xid;
	if (rep.reply_stat != RR_MSG_ACCEPTED || rep.accept_stat != RR_SUCCESS) {
		if (err)
			snprintf(err, errlen, "xid %#x: RPC reply_stat %u accept_stat %s", rep.xid,
				 rep.reply_stat, rr_accept_name(rep.accept_stat));
		return 0; /* a valid reply, just not a successful one: rpc_ok == 0 */
	}
	o->rpc_ok = 1;
	if (proc == CC_NULL) {
		o->status = 0;
		if (rep.body_len != 0) {
			if (err)
				snprintf(err, errlen, "NULL reply with %zu body bytes",
					 rep.body_len);
			return -1;
		}
		return 0;
	}
	xrd r;
	xr_init(&r, rep.body, rep.body_len);
	o->status = (int)xr_u32(&r);
	switch (proc) {
	case CC_GETATTR:
		if (o->status == 0)
			dec_fattr(&r, o);
		break;
	case CC_LOOKUP:
		if (o->status == 0) {
			uint32_t n;
			const unsigned char *p = xr_opaque(&r, &n, 64);
			if (p) {
				o->fh.len = n;
				memcpy(o->fh.data, p, n);
			}
			dec_post_op_attr(&r, o);
			cc_res dummy;
			memset(&dummy, 0, sizeof(dummy));
			dec_post_op_attr(&r, &dummy); /* dir attributes */
		} else {
			cc_res dummy;
			memset(&dummy, 0, sizeof(dummy));
			dec_post_op_attr(&r, &dummy);
		}
		break;
	case CC_READ:
		dec_post_op_attr(&r, o);
		if (o->status == 0) {
			o->count = xr_u32(&r);
			o->eof = (int)xr_u32(&r);
			o->data = xr_opaque(&r, &o->data_len, 1u << 24);
		}
		break;
	case CC_WRITE:
		dec_wcc_data(&r, o);
		if (o->status == 0) {
			o->count = xr_u32(&r);
			o->committed = xr_u32(&r);
			const unsigned char *v = r.err ? NULL : r.p + r.pos;
			xr_skip(&r, 8);
			if (v && !r.err)
				memcpy(o->verf, v, 8);
		}
		break;
	case CC_COMMIT:
		dec_wcc_data(&r, o);
		if (o->status == 0) {
			const unsigned char *v = r.err ? NULL : r.p + r.pos;
			xr_skip(&r, 8);
			if (v && !r.err)
				memcpy(o->verf, v, 8);
		}
		break;
	default:
		break;
	}
	if (r.err) {
		if (err)
			snprintf(err, errlen, "xid %#x: truncated/malformed result of proc %u",
				 rep.xid, proc);
		return -1;
	}
	if (r.pos != r.len) {
		if (err)
			snprintf(err, errlen, "xid %#x: %zu trailing bytes after result of proc %u",
				 rep.xid, r.len - r.pos, proc);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------ record reassembly (TCP) */
void cc_rx_init(cc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void cc_rx_free(cc_rx *rx)
{
	free(rx->buf);
	cc_rx_init(rx);
}

long cc_rx_fill(int fd, cc_rx *rx)
{
	long total = 0;
	for (;;) {
		if (rx->cap - rx->len < 65536) {
			size_t nc = rx->cap ? rx->cap * 2 : 262144;
			while (nc - rx->len < 65536)
				nc *= 2;
			unsigned char *nb = realloc(rx->buf, nc);
			if (!nb)
				abort();
			rx->buf = nb;
			rx->cap = nc;
		}
		ssize_t n = recv(fd, rx->buf + rx->len, rx->cap - rx->len, MSG_DONTWAIT);
		if (n > 0) {
			rx->len += (size_t)n;
			total += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return total;
		rx->eof = 1;
		return total ? total : -1;
	}
}

long cc_rx_pop(cc_rx *rx, unsigned char **rec)
{
	/* Walk fragments until a last one; all must be fully buffered. */
	size_t pos = 0, body = 0;
	for (;;) {
		if (rx->len - pos < 4)
			return 0;
		uint32_t mark;
		memcpy(&mark, rx->buf + pos, 4);
		mark = ntohl(mark);
		size_t fs = mark & 0x7fffffffu;
		if (fs > (64u << 20))
			return -1;
		if (rx->len - pos - 4 < fs)
			return 0;
		pos += 4 + fs;
		body += fs;
		if (mark & 0x80000000u)
			break;
	}
	unsigned char *out = malloc(body ? body : 1);
	if (!out)
		abort();
	size_t p = 0, o = 0;
	while (p < pos) {
		uint32_t mark;
		memcpy(&mark, rx->buf + p, 4);
		mark = ntohl(mark);
		size_t fs = mark & 0x7fffffffu;
		memcpy(out + o, rx->buf + p + 4, fs);
		o += fs;
		p += 4 + fs;
	}
	memmove(rx->buf, rx->buf + pos, rx->len - pos);
	rx->len -= pos;
	*rec = out;
	return (long)body;
}

/* ------------------------------------------------------------ sockets */
int cc_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int cc_tcp_connect(int port, int v6, int rcvbuf, int sndbuf)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* FORCE variants (root) so that the size is not capped by rmem_max. */
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int cc_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = cc_now_ms() + timeout_ms;
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		long long left = deadline - cc_now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
	}
	return 0;
}

int cc_have_v6(int port)
{
	int fd = rr_tcp_connect(port, 1);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* -------------------------------------------------------- server's fds */
int cc_fd_links(pid_t pid, const char *path, int *deleted)
{
	char fddir[64];
	snprintf(fddir, sizeof(fddir), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(fddir);
	if (!d)
		return -1;
	char del[PATH_MAX + 16];
	snprintf(del, sizeof(del), "%s (deleted)", path);
	int n = 0, nd = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char lp[PATH_MAX], target[PATH_MAX + 16];
		snprintf(lp, sizeof(lp), "%s/%s", fddir, de->d_name);
		ssize_t t = readlink(lp, target, sizeof(target) - 1);
		if (t <= 0)
			continue;
		target[t] = 0;
		if (strcmp(target, path) == 0)
			n++;
		else if (strcmp(target, del) == 0)
			nd++;
	}
	closedir(d);
	if (deleted)
		*deleted = nd;
	return n;
}

long cc_wait_no_deleted(pid_t pid, const char *path, int timeout_ms)
{
	long long t0 = cc_now_ms();
	for (;;) {
		int del = 0;
		if (cc_fd_links(pid, path, &del) < 0)
			return -1;
		if (del == 0)
			return (long)(cc_now_ms() - t0);
		if (cc_now_ms() - t0 > timeout_ms)
			return -1;
		usleep(100 * 1000);
	}
}

/* ------------------------------------------------------------ misc */
void cc_make_file(const char *path, size_t len, uint32_t seed, uid_t uid, gid_t gid, mode_t mode)
{
	unsigned char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	itest_pattern(buf, len, 0, seed);
	if (itest_write_file(path, buf, len) != 0)
		fail_msg("write %s: %s", path, strerror(errno));
	free(buf);
	if (chown(path, uid, gid) != 0 || chmod(path, mode) != 0)
		fail_msg("chown/chmod %s: %s", path, strerror(errno));
}

long cc_pattern_mismatch(const unsigned char *buf, size_t len, uint64_t off, uint32_t seed)
{
	unsigned char tmp[4096];
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		itest_pattern(tmp, n, off + done, seed);
		if (memcmp(tmp, buf + done, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (tmp[i] != buf[done + i])
					return (long)(done + i);
		}
		done += n;
	}
	return -1;
}

int cc_mount_image(const struct itest_env *env)
{
	if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 96M '%s/fs.img' && mkfs.ext4 -q -F '%s/fs.img' >/dev/null 2>&1 && "
		 "mount -o loop '%s/fs.img' '%s'",
		 env->base, env->base, env->base, env->dir);
	if (system(cmd) != 0)
		return -1;
	if (chmod(env->dir, 0755) != 0) {
		umount2(env->dir, MNT_DETACH);
		return -1;
	}
	return 0;
}
