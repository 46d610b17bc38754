/*
 * A TCP connection, on its event thread: reading a turn's worth of bytes,
 * record-mark framing (the state machine is recmark.c), answering cheap
 * calls inline (their replies batched per turn), queueing the others for a
 * worker, the per-connection limits that pause reading, and the idle sweep.
 */
#define _GNU_SOURCE
#include "transport.h"
#include "transport_int.h"

#include "access.h"
#include "clock.h"
#include "log.h"
#include "nfs4.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Per connection: stop reading once this much is queued or in flight. */
#define CONN_MAX_INFLIGHT 128
#define CONN_MAX_INFLIGHT_BYTES (4u << 20)
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

#define BATCH_FLUSH_BYTES (64 * 1024)
/*
 * Longest a finished reply waits for others: cheap calls (NULL) still leave
 * together, but a run of LOOKUPs, each a few microseconds of filesystem
 * work, keeps the client busy instead of idle until the turn ends.
 */
#define BATCH_MAX_WAIT_NS 20000

/* ---- life ---- */

struct conn *conn_new(int fd, const struct sockaddr_storage *ss, socklen_t len)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->sk.kind = SK_CONN;
	c->sk.fd = fd;
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->send_lock, NULL);
	memcpy(&c->peer.addr, ss, len);
	c->peer.addrlen = len;
	c->peer.is_tcp = true;
	c->peer.is_local = addr_is_loopback(ss);
	c->peer.cache = peer_cache_new();
	c->last_active = time(NULL);
	if (!c->peer.cache) {
		pthread_mutex_destroy(&c->lock);
		pthread_mutex_destroy(&c->send_lock);
		free(c);
		return NULL;
	}
	return c;
}

void conn_get(struct conn *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void conn_put(struct conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	close(c->sk.fd);
	rm_free(&c->rm);
	rpc_reply_free(&c->batch);
	conn_drop_output(c);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->send_lock);
	/* The connection's id, for NFSv4.1 sessions bound to it, is its peer cache. */
	nfs4_conn_closed((uint64_t)(uintptr_t)c->peer.cache);
	peer_cache_free(c->peer.cache);
	free(c);
}

void conn_close(struct conn *c)
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

/*
 * Give a new connection to a loop: listed first, so that the loop, once
 * epoll reports it, finds it where conn_close unlinks it.
 */
void conn_attach(struct conn *c, struct loop *l)
{
	c->loop = l;
	loop_list(l, c);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->sk };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->sk.fd, &ev) < 0) {
		log_warn("cannot watch a new connection: %s", strerror(errno));
		atomic_store(&c->dead, true); /* never in epoll: just unlist it */
		loop_unlist(l, c);
		conn_put(c);
	}
}

/* Close the loop's idle connections. Its own thread: nobody else closes them. */
void conns_reap_idle(struct loop *l, int idle_timeout_s)
{
	time_t now = time(NULL);
	struct conn *idle = NULL;
	pthread_mutex_lock(&l->lock);
	for (struct conn *c = l->conns; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		bool is_idle = c->inflight == 0 && now - c->last_active > idle_timeout_s;
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

/* ---- limits ---- */

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
bool conn_adjust(struct conn *c, int dcalls, ssize_t dbytes, int want_out)
{
	pthread_mutex_lock(&c->lock);
	c->inflight += dcalls;
	c->inflight_bytes = (size_t)((ssize_t)c->inflight_bytes + dbytes);
	bool over =
		c->inflight >= CONN_MAX_INFLIGHT || c->inflight_bytes >= CONN_MAX_INFLIGHT_BYTES;
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

static bool conn_is_paused(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	bool paused = c->paused;
	pthread_mutex_unlock(&c->lock);
	return paused;
}

void conn_job_done(struct conn *c, size_t len)
{
	conn_adjust(c, -1, -(ssize_t)len, -1);
}

/* ---- inline calls ---- */

/* Send the inline replies gathered so far. Event thread. */
static void conn_send_batch(struct conn *c)
{
	if (!c->batch.len)
		return;
	send_tcp_framed(c, &c->batch);
	if (!c->batch.buf)
		c->batch.cap = 0; /* the output queue owns it now */
	c->batch.len = 0;	  /* else sent: the buffer serves the next turn */
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
static bool conn_try_inline(struct conn *c, const uint8_t *rec, size_t len)
{
	struct rpc_reply rep = { 0 };
	if (!rpc_process_inline(rec, len, &c->peer, &rep)) {
		rpc_reply_free(&rep);
		return false;
	}
	if (!rep.drop && rep.len > RPC_REPLY_RESERVE && !conn_batch_add(c, &rep)) {
		conn_send_batch(c); /* keep what was batched ahead of it */
		send_tcp_reply(c, &rep);
	}
	rpc_reply_free(&rep);
	return true;
}

/* ---- worker calls ---- */

/* Hand the finished record to the workers; returns false when reading should pause. */
static bool conn_submit_record(struct conn *c)
{
	uint8_t *rec;
	size_t len;
	rm_take(&c->rm, &rec, &len);
	c->turn_calls++;
	struct rpc_hint hint = rpc_classify(rec, len);
	if (hint.may_inline && conn_try_inline(c, rec, len)) {
		free(rec);
		return !conn_is_paused(c);
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		free(rec);
		return true; /* drop the call; the client retransmits */
	}
	j->conn = c;
	j->peer = c->peer;
	j->rec = rec;
	j->len = len;
	conn_get(c);

	j->bulk = hint.bulk;
	j->cost = j->len + hint.reply_bytes;
	bool pause = conn_adjust(c, 1, (ssize_t)j->cost, -1);
	queue_push(j);
	return !pause;
}

/* ---- reading and framing ---- */

/* A framing result: a complete record is submitted; false when the stream is unusable. */
static bool conn_framed(struct conn *c, enum rm_status s, bool *paused)
{
	switch (s) {
	case RM_NEED_MORE:
		return true;
	case RM_RECORD:
		if (!conn_submit_record(c))
			*paused = true;
		return true;
	case RM_TOO_BIG:
		log_warn("closing connection: record of %zu bytes exceeds limit",
			 c->rm.rec_len + c->rm.frag_left);
		return false;
	case RM_NO_MEMORY:
		break;
	}
	return false;
}

/*
 * Consume bytes of the stream into the framing state machine. Returns the
 * number consumed, or -1 when the stream is malformed or over the limits.
 */
static ssize_t conn_feed(struct conn *c, const uint8_t *p, size_t n, bool *paused)
{
	size_t used = 0;
	while (used < n && !*paused) {
		size_t took;
		enum rm_status s = rm_feed(&c->rm, p + used, n - used, &took);
		used += took;
		if (!conn_framed(c, s, paused))
			return -1;
	}
	return (ssize_t)used;
}

/* Bulk data (WRITE payloads) goes straight into the record. Returns what read() did. */
static ssize_t conn_read_into_record(struct conn *c, bool *paused)
{
	ssize_t n = read(c->sk.fd, rm_body_tail(&c->rm), rm_body_left(&c->rm));
	/* Body bytes start no fragment: completing the record is all they can do. */
	if (n > 0 && rm_body_added(&c->rm, (size_t)n) == RM_RECORD && !conn_submit_record(c))
		*paused = true;
	return n;
}

/* Frame n bytes just read into the loop's stage; false when the stream is malformed. */
static bool conn_frame_stage(struct conn *c, size_t n, bool *paused)
{
	const uint8_t *stage = c->loop->stage;
	size_t off = 0;
	while (off < n) {
		ssize_t used = conn_feed(c, stage + off, n - off, paused);
		if (used < 0)
			return false;
		off += (size_t)used;
		if (*paused && off < n) {
			/*
			 * Paused with bytes left: keep framing them anyway
			 * (bounded by STAGE_SIZE); reading stays off.
			 */
			bool ignore = false;
			used = conn_feed(c, stage + off, n - off, &ignore);
			if (used < 0)
				return false;
			off += (size_t)used;
		}
	}
	return true;
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
		if (rm_body_left(&c->rm) >= STAGE_SIZE) {
			n = conn_read_into_record(c, &paused);
		} else {
			n = read(c->sk.fd, c->loop->stage, STAGE_SIZE);
			if (n > 0 && !conn_frame_stage(c, (size_t)n, &paused)) {
				conn_close(c);
				return false;
			}
		}
		if (n > 0) {
			turn += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return false;
		}
		return true;
	}
	return true;
}

void conn_readable(struct conn *c)
{
	if (conn_read_turn(c))
		conn_send_batch(c);
}
