/*
 * Event loops and worker pool. Each connection belongs to one event loop
 * (one thread per CPU, up to MAX_LOOPS; the first also accepts and reads
 * UDP), which owns all its reads: it frames TCP records, answers cheap
 * calls itself, and queues every other complete call for a worker. Workers
 * run the call and write the reply themselves under a per-connection send
 * lock, so replies leave in completion order (the client matches them by
 * xid).
 */
#define _GNU_SOURCE
#include "transport.h"

#include "clock.h"
#include "log.h"
#include "rpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define STAGE_SIZE (64 * 1024)
/* Per connection: stop reading once this much is queued or in flight. */
#define CONN_MAX_INFLIGHT 128
#define CONN_MAX_INFLIGHT_BYTES (4u << 20)
/* Of every this many jobs, one comes from the bulk queue even when small ones wait. */
#define BULK_SHARE 4
/* Calls at most this big (GETATTR, LOOKUP, ACCESS...) jump ahead of bulk I/O. */
#define SMALL_CALL_BYTES 1024
/*
 * Workers that bulk calls may never occupy: a WRITE can sleep in the
 * kernel (page-cache throttling, the inode lock), and a GETATTR must still
 * find a free worker while a client streams 1 MiB writes.
 */
#define SMALL_RESERVE 4
/*
 * Bytes read from one connection per turn of the event loop (epoll is
 * level-triggered: the rest waits for the next turn), so a client streaming
 * WRITEs can't keep the others' calls unread for milliseconds.
 */
#define CONN_TURN_BYTES (256 * 1024)
/*
 * Calls framed from one connection per turn. Small calls answered inline
 * come back as fast as the client refills the socket, so a byte budget alone
 * would let one connection keep the event thread for thousands of calls.
 */
#define CONN_TURN_CALLS 32

/*
 * One event thread frames, and answers inline, at most a core's worth of
 * calls, for every connection. On two cores, four connections streaming
 * READs got 1.7-2.0 GB/s through one event thread and 2.0-2.2 GB/s
 * through two; more threads than CPUs only add switching.
 */
#define MAX_LOOPS 4

enum sock_kind { SK_LISTEN, SK_UDP, SK_CONN, SK_WAKE };

struct sock {
	enum sock_kind kind;
	int fd;
};

struct loop {
	int epfd;
	struct sock wake;
	pthread_t thread;
	/* The loop's connections; inserted by the accepting loop, else its own. */
	pthread_mutex_t lock;
	struct conn *conns;
	atomic_int nconns;
	uint8_t stage[STAGE_SIZE];
};

struct conn {
	struct sock sk; /* first: epoll data points here */
	struct loop *loop; /* the event loop that reads it, for its whole life */
	atomic_int refs;
	atomic_bool dead;
	pthread_mutex_t lock; /* guards inflight accounting and paused */
	pthread_mutex_t send_lock;
	int inflight;
	size_t inflight_bytes;
	bool paused;
	/* Framing state; touched only by its event thread. */
	uint8_t hdr[4];
	unsigned hdr_have;
	uint32_t frag_left;
	bool last_frag;
	bool in_body;
	uint8_t *rec;
	size_t rec_len;
	time_t last_active;
	struct rpc_peer peer;
	struct conn *prev, *next; /* loop->conns, under loop->lock */
	struct conn *reap_next;   /* the loop's idle sweep */
	bool want_out; /* guarded by lock: output is queued, poll for EPOLLOUT */
	unsigned turn_calls; /* event thread: records framed in this turn */
	/*
	 * Event thread: inline replies of this turn, framed, sent with one
	 * sendmsg when the turn ends instead of one per call.
	 */
	struct rpc_reply batch; /* buf, len, cap; never a payload */
	uint64_t batch_t0; /* when its first reply was added (ns, monotonic) */
	/* Replies the socket could not take at once; guarded by send_lock. */
	struct outbuf *out_head, *out_tail;
};

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

struct job {
	struct job *next;
	struct conn *conn; /* NULL for UDP */
	int udp_fd;
	struct rpc_peer peer;
	uint8_t *rec;
	size_t len;
	size_t cost; /* bytes charged to the connection: the call and its expected reply */
};

static struct {
	struct sock listeners[TRANSPORT_MAX_LISTEN * 4];
	int nlisteners;
	int port, mount_port;
	struct loop loops[MAX_LOOPS];
	int nloops;
	int spare_fd;
	pthread_t *workers;
	int nworkers;
	atomic_bool stopping;
	int max_conns, idle_timeout_s;
	/* job queue */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct job *qhead, *qtail;     /* small calls */
	struct job *bhead, *btail;     /* bulk calls (WRITE payloads) */
	unsigned since_bulk;
	int bulk_running, bulk_max;
} T = { .qlock = PTHREAD_MUTEX_INITIALIZER, .qcond = PTHREAD_COND_INITIALIZER, .spare_fd = -1 };

static bool conn_flush(struct conn *c);

/* ---- sockets ---- */

static bool addr_is_loopback(const struct sockaddr_storage *ss)
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
		log_error("cannot bind %s %s port %d: %s", type == SOCK_STREAM ? "TCP" : "UDP", host,
			  port, strerror(errno));
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
	struct sock *sk = &T.listeners[T.nlisteners++];
	sk->kind = type == SOCK_STREAM ? SK_LISTEN : SK_UDP;
	sk->fd = fd;
	return 0;
}

/* Bind TCP and UDP on every address for one port; port 0 takes the first free one. */
static int bind_port(const struct transport_config *cfg, int port, int *out)
{
	int first = T.nlisteners;
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
		while (T.nlisteners > first)
			close(T.listeners[--T.nlisteners].fd);
		/* A picked port may be taken on the other family or protocol: pick again. */
		if (port != 0 || rc != -EADDRINUSE)
			return rc;
	}
	return -EADDRINUSE;
}

int transport_bind(struct transport_config *cfg)
{
	int rc = bind_port(cfg, cfg->port, &T.port);
	if (rc)
		return rc;
	T.mount_port = T.port;
	if (cfg->mount_port >= 0 && cfg->mount_port != T.port)
		rc = bind_port(cfg, cfg->mount_port, &T.mount_port);
	return rc;
}

int transport_port(void)
{
	return T.port;
}

int transport_mount_port(void)
{
	return T.mount_port;
}

/* ---- connections ---- */

static void conn_get(struct conn *c)
{
	atomic_fetch_add(&c->refs, 1);
}

static void conn_put(struct conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	close(c->sk.fd);
	free(c->rec);
	rpc_reply_free(&c->batch);
	for (struct outbuf *o = c->out_head, *n; o; o = n) {
		n = o->next;
		free(o->buf);
		free(o->payload);
		free(o);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->send_lock);
	free(c);
}

static void loop_unlist(struct loop *l, struct conn *c)
{
	pthread_mutex_lock(&l->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&l->lock);
	atomic_fetch_sub(&l->nconns, 1);
}

static void conn_close(struct conn *c)
{
	if (atomic_exchange(&c->dead, true))
		return;
	struct loop *l = c->loop;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->sk.fd, NULL);
	/* Wake any worker blocked sending; the fd itself closes with the last ref. */
	shutdown(c->sk.fd, SHUT_RDWR);
	loop_unlist(l, c);
	conn_put(c);
}

/* Recompute the epoll interest from paused/want_out. c->lock held. */
static void conn_update_events(struct conn *c)
{
	if (atomic_load(&c->dead))
		return;
	struct epoll_event ev = { .events = (c->paused ? 0 : EPOLLIN) | EPOLLRDHUP |
					    (c->want_out ? EPOLLOUT : 0),
				  .data.ptr = &c->sk };
	epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->sk.fd, &ev);
}

/*
 * Account calls and bytes a connection holds (queued calls, queued output)
 * and pause reading from it while they exceed the limits: memory per
 * connection stays bounded whatever the client sends or fails to read.
 * want_out: 1/0 to set, -1 to leave. Returns true when reading is paused.
 */
static bool conn_adjust(struct conn *c, int dcalls, ssize_t dbytes, int want_out)
{
	pthread_mutex_lock(&c->lock);
	c->inflight += dcalls;
	c->inflight_bytes = (size_t)((ssize_t)c->inflight_bytes + dbytes);
	bool over = c->inflight >= CONN_MAX_INFLIGHT ||
		    c->inflight_bytes >= CONN_MAX_INFLIGHT_BYTES;
	bool under = c->inflight < CONN_MAX_INFLIGHT / 2 &&
		     c->inflight_bytes < CONN_MAX_INFLIGHT_BYTES / 2;
	bool paused = c->paused, out = c->want_out;
	if (over)
		paused = true;
	else if (under)
		paused = false;
	if (want_out >= 0)
		out = want_out;
	if (paused != c->paused || out != c->want_out) {
		c->paused = paused;
		c->want_out = out;
		conn_update_events(c);
	}
	pthread_mutex_unlock(&c->lock);
	return paused;
}

static int conns_total(void)
{
	int n = 0;
	for (int i = 0; i < T.nloops; i++)
		n += atomic_load(&T.loops[i].nconns);
	return n;
}

/*
 * The loop with the fewest connections. Not round-robin: a client's short
 * MOUNT connection before each NFS one would put every NFS connection on
 * the same loop.
 */
static struct loop *least_loaded_loop(void)
{
	struct loop *best = &T.loops[0];
	for (int i = 1; i < T.nloops; i++)
		if (atomic_load(&T.loops[i].nconns) < atomic_load(&best->nconns))
			best = &T.loops[i];
	return best;
}

/*
 * Give a new connection to a loop: listed first, so that the loop, once
 * epoll reports it, finds it where conn_close unlinks it.
 */
static void conn_attach(struct conn *c, struct loop *l)
{
	c->loop = l;
	pthread_mutex_lock(&l->lock);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	pthread_mutex_unlock(&l->lock);
	atomic_fetch_add(&l->nconns, 1);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->sk };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->sk.fd, &ev) < 0) {
		log_warn("cannot watch a new connection: %s", strerror(errno));
		atomic_store(&c->dead, true); /* never in epoll: just unlist it */
		loop_unlist(l, c);
		conn_put(c);
	}
}

static void accept_conns(int lfd)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of fds: accept with the spare and drop, so we don't spin. */
				close(T.spare_fd);
				fd = accept(lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				T.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				log_warn("out of file descriptors: refused a connection");
				continue;
			}
			return;
		}
		if (conns_total() >= T.max_conns) {
			log_warn("connection limit (%d) reached: refused a connection", T.max_conns);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->sk.kind = SK_CONN;
		c->sk.fd = fd;
		atomic_init(&c->refs, 1);
		pthread_mutex_init(&c->lock, NULL);
		pthread_mutex_init(&c->send_lock, NULL);
		memcpy(&c->peer.addr, &ss, len);
		c->peer.addrlen = len;
		c->peer.is_tcp = true;
		c->peer.is_local = addr_is_loopback(&ss);
		c->last_active = time(NULL);
		conn_attach(c, least_loaded_loop());
	}
}

/* ---- job queue ---- */

static bool job_is_bulk(const struct job *j);

static void queue_push(struct job *j)
{
	struct job **head = &T.qhead, **tail = &T.qtail;
	if (job_is_bulk(j)) {
		head = &T.bhead;
		tail = &T.btail;
	}
	pthread_mutex_lock(&T.qlock);
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
	pthread_mutex_unlock(&T.qlock);
	/* After the unlock: a worker woken inside it would only block on qlock again. */
	pthread_cond_signal(&T.qcond);
}

static bool job_is_bulk(const struct job *j)
{
	return j->len > SMALL_CALL_BYTES;
}

/* Bulk work may start only while it leaves the reserve free. T.qlock held. */
static bool bulk_can_start(void)
{
	return T.bhead && T.bulk_running < T.bulk_max;
}

/*
 * Small calls first, so a GETATTR never waits behind a queue of 1 MiB
 * WRITEs; but every BULK_SHARE-th pick takes bulk work so it can't starve.
 * T.qlock held.
 */
static struct job *queue_take(void)
{
	bool bulk_first = bulk_can_start() && (!T.qhead || ++T.since_bulk >= BULK_SHARE);
	struct job **head = bulk_first ? &T.bhead : &T.qhead;
	struct job **tail = bulk_first ? &T.btail : &T.qtail;
	struct job *j = *head;
	if (!j)
		return NULL;
	if (bulk_first) {
		T.since_bulk = 0;
		T.bulk_running++;
	}
	*head = j->next;
	if (!*head)
		*tail = NULL;
	j->next = NULL;
	return j;
}

/*
 * The next job; bulk_done: the caller's last job was bulk, and its slot is
 * released here, under the same lock hold (one fewer contended lock per
 * WRITE).
 */
static struct job *queue_pop(bool bulk_done)
{
	pthread_mutex_lock(&T.qlock);
	if (bulk_done) {
		T.bulk_running--;
		/* This worker may pick a small call first: wake another for the bulk. */
		if (T.bhead && T.qhead)
			pthread_cond_signal(&T.qcond);
	}
	while (!T.qhead && !bulk_can_start() && !atomic_load(&T.stopping))
		pthread_cond_wait(&T.qcond, &T.qlock);
	struct job *j = atomic_load(&T.stopping) ? NULL : queue_take();
	pthread_mutex_unlock(&T.qlock);
	return j;
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * The reply size a call will need beyond its own bytes: what a READ asks
 * for. Charged up front so a client's queue of 1 MiB READs can't make the
 * server hold more than the connection's budget of reply data.
 */
static size_t reply_estimate(const uint8_t *rec, size_t len)
{
	const uint32_t nfs_prog = 100003, nfs_v3 = 3, read_proc = 6;
	size_t off = 24; /* xid, mtype, rpcvers, prog, vers, proc */
	if (len < off + 8 || be32_at(rec + 12) != nfs_prog || be32_at(rec + 16) != nfs_v3 ||
	    be32_at(rec + 20) != read_proc)
		return 0;
	for (int auth = 0; auth < 2; auth++) { /* credential, verifier */
		if (len < off + 8)
			return 0;
		off += 8 + ((be32_at(rec + off + 4) + 3u) & ~3u);
	}
	if (len < off + 4)
		return 0;
	off += 4 + ((be32_at(rec + off) + 3u) & ~3u); /* file handle */
	if (len < off + 12)
		return 0;
	uint32_t count = be32_at(rec + off + 8);
	return count < (1u << 20) ? count : (1u << 20);
}

static void send_tcp_reply(struct conn *c, struct rpc_reply *rep);
static void send_tcp_framed(struct conn *c, struct rpc_reply *rep);
static size_t reply_frame(struct rpc_reply *rep);

#define BATCH_FLUSH_BYTES (64 * 1024)
/*
 * Longest a finished reply waits for others: cheap calls (NULL) still leave
 * together, but a run of LOOKUPs, each a few microseconds of filesystem
 * work, keeps the client busy instead of idle until the turn ends.
 */
#define BATCH_MAX_WAIT_NS 20000

/* Send the inline replies gathered so far. Event thread. */
static void conn_send_batch(struct conn *c)
{
	if (!c->batch.len)
		return;
	send_tcp_framed(c, &c->batch);
	if (!c->batch.buf)
		c->batch.cap = 0; /* the output queue owns it now */
	c->batch.len = 0;  /* else sent: the buffer serves the next turn */
}

/* Add an inline reply to the turn's batch; false if it must be sent on its own. */
static bool conn_batch_add(struct conn *c, struct rpc_reply *rep)
{
	if (rep->payload_len)
		return false;
	size_t n = reply_frame(rep);
	if (!rpc_reply_reserve(&c->batch, n))
		return false;
	uint64_t now = mono_ns();
	if (c->batch.len == 0)
		c->batch_t0 = now;
	memcpy(c->batch.buf + c->batch.len, rep->buf, n);
	c->batch.len += n;
	if (c->batch.len >= BATCH_FLUSH_BYTES || now - c->batch_t0 >= BATCH_MAX_WAIT_NS)
		conn_send_batch(c);
	return true;
}

/*
 * Cheap calls (NULL, GETATTR, LOOKUP, ACCESS on cached handles) are answered
 * right here, on every connection: handing them to a worker and back costs
 * more than the call. Anything that could block or needs more than the cache
 * goes to the pool. The turn cap (CONN_TURN_CALLS) keeps connections fair,
 * and a turn's replies leave in one sendmsg.
 */
static bool conn_try_inline(struct conn *c)
{
	if (c->rec_len > SMALL_CALL_BYTES)
		return false;
	struct rpc_reply rep = { 0 };
	if (!rpc_process_inline(c->rec, c->rec_len, &c->peer, &rep)) {
		rpc_reply_free(&rep);
		return false;
	}
	if (!rep.drop && rep.len > RPC_REPLY_RESERVE && !conn_batch_add(c, &rep)) {
		conn_send_batch(c); /* keep what was batched ahead of it */
		send_tcp_reply(c, &rep);
	}
	rpc_reply_free(&rep);
	free(c->rec);
	c->rec = NULL;
	c->rec_len = 0;
	return true;
}

static bool conn_is_paused(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	bool paused = c->paused;
	pthread_mutex_unlock(&c->lock);
	return paused;
}

/* Hand a finished record to the workers; returns false when reading should pause. */
static bool conn_submit_record(struct conn *c)
{
	c->turn_calls++;
	if (conn_try_inline(c))
		return !conn_is_paused(c);
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return true; /* drop the call; the client retransmits */
	j->conn = c;
	j->peer = c->peer;
	j->rec = c->rec;
	j->len = c->rec_len;
	c->rec = NULL;
	c->rec_len = 0;
	conn_get(c);

	j->cost = j->len + reply_estimate(j->rec, j->len);
	bool pause = conn_adjust(c, 1, (ssize_t)j->cost, -1);
	queue_push(j);
	return !pause;
}

static void conn_job_done(struct conn *c, size_t len)
{
	conn_adjust(c, -1, -(ssize_t)len, -1);
}

/*
 * Consume bytes of the stream into the framing state machine. Returns the
 * number consumed, or -1 when the stream is malformed or over the limits.
 */
static ssize_t conn_feed(struct conn *c, const uint8_t *p, size_t n, bool *paused)
{
	size_t used = 0;
	while (used < n && !*paused) {
		if (!c->in_body) {
			size_t take = 4 - c->hdr_have;
			if (take > n - used)
				take = n - used;
			memcpy(c->hdr + c->hdr_have, p + used, take);
			c->hdr_have += take;
			used += take;
			if (c->hdr_have < 4)
				break;
			uint32_t rm;
			memcpy(&rm, c->hdr, 4);
			rm = ntohl(rm);
			c->hdr_have = 0;
			c->last_frag = rm & 0x80000000u;
			c->frag_left = rm & 0x7fffffffu;
			/* Bound the whole record before allocating anything. */
			if (c->rec_len + c->frag_left > TRANSPORT_MAX_RECORD) {
				log_warn("closing connection: record of %zu bytes exceeds limit",
					 c->rec_len + c->frag_left);
				return -1;
			}
			uint8_t *nr = realloc(c->rec, c->rec_len + c->frag_left + 1);
			if (!nr)
				return -1;
			c->rec = nr;
			c->in_body = true;
		}
		size_t take = c->frag_left;
		if (take > n - used)
			take = n - used;
		memcpy(c->rec + c->rec_len, p + used, take);
		c->rec_len += take;
		c->frag_left -= (uint32_t)take;
		used += take;
		if (c->frag_left == 0) {
			c->in_body = false;
			if (c->last_frag && !conn_submit_record(c))
				*paused = true;
		}
	}
	return (ssize_t)used;
}

/* One turn of reading and framing; false when the connection was closed. */
static bool conn_read_turn(struct conn *c)
{
	bool paused = false;
	size_t turn = 0;
	c->last_active = time(NULL);
	c->turn_calls = 0;
	while (!paused && turn < CONN_TURN_BYTES && c->turn_calls < CONN_TURN_CALLS) {
		ssize_t n;
		if (c->in_body && c->frag_left >= STAGE_SIZE) {
			/* Bulk data (WRITE payloads) goes straight into the record. */
			n = read(c->sk.fd, c->rec + c->rec_len, c->frag_left);
			if (n > 0) {
				turn += (size_t)n;
				c->rec_len += (size_t)n;
				c->frag_left -= (uint32_t)n;
				if (c->frag_left == 0) {
					c->in_body = false;
					if (c->last_frag && !conn_submit_record(c))
						paused = true;
				}
				continue;
			}
		} else {
			n = read(c->sk.fd, c->loop->stage, STAGE_SIZE);
			if (n > 0) {
				turn += (size_t)n;
				size_t off = 0;
				while (off < (size_t)n) {
					ssize_t used = conn_feed(c, c->loop->stage + off, (size_t)n - off,
								 &paused);
					if (used < 0) {
						conn_close(c);
						return false;
					}
					off += (size_t)used;
					if (paused && off < (size_t)n) {
						/*
						 * Paused with bytes left: keep framing them anyway
						 * (bounded by STAGE_SIZE); reading stays off.
						 */
						bool ignore = false;
						used = conn_feed(c, c->loop->stage + off, (size_t)n - off,
								 &ignore);
						if (used < 0) {
							conn_close(c);
							return false;
						}
						off += (size_t)used;
					}
				}
				continue;
			}
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return false;
		}
		return true;
	}
	return true;
}

static void conn_readable(struct conn *c)
{
	if (conn_read_turn(c))
		conn_send_batch(c);
}

static void udp_readable(int fd)
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
		ssize_t n = recvfrom(fd, buf, TRANSPORT_MAX_UDP, 0, (struct sockaddr *)&j->peer.addr,
				     &j->peer.addrlen);
		if (n <= 0) {
			free(j);
			free(buf);
			return;
		}
		j->peer.is_local = addr_is_loopback(&j->peer.addr);
		j->udp_fd = fd;
		j->rec = realloc(buf, (size_t)n) ?: buf;
		j->len = (size_t)n;
		queue_push(j);
	}
}

/* Close the loop's idle connections. Its own thread: nobody else closes them. */
static void reap_idle(struct loop *l)
{
	time_t now = time(NULL);
	struct conn *idle = NULL;
	pthread_mutex_lock(&l->lock);
	for (struct conn *c = l->conns; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		bool is_idle = c->inflight == 0 && now - c->last_active > T.idle_timeout_s;
		pthread_mutex_unlock(&c->lock);
		if (is_idle) {
			c->reap_next = idle;
			idle = c;
		}
	}
	pthread_mutex_unlock(&l->lock);
	for (struct conn *c = idle, *next; c; c = next) {
		next = c->reap_next;
		log_debug("closing idle connection");
		conn_close(c);
	}
}

static void *event_loop(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[64];
	time_t last_reap = time(NULL);
	while (!atomic_load(&T.stopping)) {
		int n = epoll_wait(l->epfd, evs, 64, 1000);
		for (int i = 0; i < n; i++) {
			struct sock *sk = evs[i].data.ptr;
			switch (sk->kind) {
			case SK_LISTEN:
				accept_conns(sk->fd);
				break;
			case SK_UDP:
				udp_readable(sk->fd);
				break;
			case SK_CONN: {
				struct conn *c = (struct conn *)sk;
				if ((evs[i].events & EPOLLOUT) && !conn_flush(c)) {
					conn_close(c);
					break;
				}
				if (evs[i].events & EPOLLIN)
					conn_readable(c);
				else if (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
					conn_close(c);
				break;
			}
			case SK_WAKE:
				break;
			}
		}
		if (time(NULL) - last_reap >= 5) {
			reap_idle(l);
			last_reap = time(NULL);
		}
	}
	return NULL;
}

/* ---- replies ---- */

static const uint8_t zero_pad[4];

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

/* Write the record mark; returns the bytes the framed reply takes. */
static size_t reply_frame(struct rpc_reply *rep)
{
	size_t total = reply_total(rep);
	uint32_t rm = htonl(0x80000000u | (uint32_t)(total - RPC_REPLY_RESERVE));
	memcpy(rep->buf, &rm, 4);
	return total;
}

static void send_tcp_reply(struct conn *c, struct rpc_reply *rep)
{
	reply_frame(rep);
	send_tcp_framed(c, rep);
}

/*
 * Send (or queue) rep->buf, already holding whole records, and its payload.
 * Workers never block on a slow reader: what the socket doesn't take now is
 * queued on the connection (rep->buf and payload then belong to the queue)
 * and written by the event thread on EPOLLOUT.
 */
static void send_tcp_framed(struct conn *c, struct rpc_reply *rep)
{
	size_t total = reply_total(rep);
	struct outbuf tmp = { .buf = rep->buf, .len = rep->len, .payload = rep->payload,
			      .payload_len = rep->payload_len, .total = total };
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
		struct outbuf *o = malloc(sizeof(*o));
		if (o) {
			*o = tmp;
			o->next = NULL;
			if (c->out_tail)
				c->out_tail->next = o;
			else
				c->out_head = o;
			c->out_tail = o;
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

/* EPOLLOUT: write queued replies. Event thread. Returns false if the socket died. */
static bool conn_flush(struct conn *c)
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
		free(o->buf);
		free(o->payload);
		free(o);
	}
	conn_adjust(c, 0, -(ssize_t)flushed, c->out_head ? 1 : 0);
	pthread_mutex_unlock(&c->send_lock);
	return ok;
}

static void send_udp_reply(struct job *j, struct rpc_reply *rep)
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

static void *worker_main(void *arg)
{
	struct job *j;
	bool bulk = false;
	while ((j = queue_pop(bulk))) {
		bulk = job_is_bulk(j);
		struct rpc_reply rep = { 0 };
		rpc_process(j->rec, j->len, &j->peer, &rep);
		if (!rep.drop && rep.len > RPC_REPLY_RESERVE) {
			if (j->conn)
				send_tcp_reply(j->conn, &rep);
			else
				send_udp_reply(j, &rep);
		}
		rpc_reply_free(&rep);
		if (j->conn) {
			conn_job_done(j->conn, j->cost);
			conn_put(j->conn);
		}
		free(j->rec);
		free(j);
	}
	return NULL;
}

static int default_loops(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_LOOPS ? MAX_LOOPS : (int)n;
}

static int loop_init(struct loop *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake.kind = SK_WAKE;
	l->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wake.fd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->wake };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake.fd, &ev) < 0)
		return -errno;
	return 0;
}

int transport_start(const struct transport_config *cfg)
{
	T.max_conns = cfg->max_conns > 0 ? cfg->max_conns : 1024;
	T.idle_timeout_s = cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : 900;
	T.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	T.nloops = cfg->nloops > 0 ? cfg->nloops : default_loops();
	if (T.nloops > MAX_LOOPS)
		T.nloops = MAX_LOOPS;
	for (int i = 0; i < T.nloops; i++) {
		int rc = loop_init(&T.loops[i]);
		if (rc < 0)
			return rc;
	}
	/* Listeners and UDP on the first loop; it hands each connection to the least busy. */
	for (int i = 0; i < T.nlisteners; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &T.listeners[i] };
		if (epoll_ctl(T.loops[0].epfd, EPOLL_CTL_ADD, T.listeners[i].fd, &ev) < 0)
			return -errno;
	}
	T.nworkers = cfg->nthreads > 0 ? cfg->nthreads : 16;
	T.bulk_max = T.nworkers > SMALL_RESERVE ? T.nworkers - SMALL_RESERVE : 1;
	T.workers = calloc((size_t)T.nworkers, sizeof(pthread_t));
	if (!T.workers)
		return -ENOMEM;
	for (int i = 0; i < T.nworkers; i++) {
		if (pthread_create(&T.workers[i], NULL, worker_main, NULL) != 0)
			return -EAGAIN;
		pthread_setname_np(T.workers[i], "loopnfs-work");
	}
	for (int i = 0; i < T.nloops; i++) {
		if (pthread_create(&T.loops[i].thread, NULL, event_loop, &T.loops[i]) != 0)
			return -EAGAIN;
		char name[16];
		snprintf(name, sizeof(name), "loopnfs-ev%c", (char)('0' + i)); /* top -H, perf */
		pthread_setname_np(T.loops[i].thread, name);
	}
	return 0;
}

void transport_stop(void)
{
	atomic_store(&T.stopping, true);
	uint64_t one = 1;
	for (int i = 0; i < T.nloops; i++)
		if (write(T.loops[i].wake.fd, &one, sizeof(one)) < 0)
			log_debug("wake write failed");
	for (int i = 0; i < T.nloops; i++)
		pthread_join(T.loops[i].thread, NULL);
	pthread_mutex_lock(&T.qlock);
	pthread_cond_broadcast(&T.qcond);
	pthread_mutex_unlock(&T.qlock);
	for (int i = 0; i < T.nworkers; i++)
		pthread_join(T.workers[i], NULL);
	free(T.workers);
	for (int i = 0; i < T.nloops; i++)
		while (T.loops[i].conns)
			conn_close(T.loops[i].conns);
	for (int i = 0; i < T.nlisteners; i++)
		close(T.listeners[i].fd);
	for (int i = 0; i < T.nloops; i++) {
		close(T.loops[i].epfd);
		close(T.loops[i].wake.fd);
	}
	if (T.spare_fd >= 0)
		close(T.spare_fd);
	/* Calls still queued were never answered; clients retransmit them. */
	for (struct job *j = T.qhead, *next; j; j = next) {
		next = j->next;
		if (j->conn)
			conn_put(j->conn);
		free(j->rec);
		free(j);
	}
}
