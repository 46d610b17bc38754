/*
 * The transport's private declarations, shared by its files:
 *   listen.c     binding, accepting, handing connections to a loop
 *   loop.c       the event loops (epoll threads) and their connection lists
 *   conn.c       a TCP connection: reading, record marking, inline calls
 *   recmark.c    record-mark framing of a byte stream (include/recmark.h)
 *   conn_send.c  a TCP connection's replies: sending, the output queue
 *   sched.c      the job queue and the worker pool
 *   udp.c        UDP calls and replies
 *   transport.c  start and stop (include/transport.h)
 */
#ifndef LOOPNFS_TRANSPORT_INT_H
#define LOOPNFS_TRANSPORT_INT_H

#include "recmark.h"
#include "rpc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

/* An event loop's read buffer: small reads are framed from here. */
#define STAGE_SIZE (64 * 1024)

/* Set once by transport_stop; every loop and worker then winds down. */
extern atomic_bool transport_stopping;

enum sock_kind {
	SK_LISTEN,
	SK_UDP,
	SK_CONN,
	SK_WAKE
};

/* What epoll reports: the kind says which file's code handles it. */
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

struct outbuf;

struct conn {
	struct sock sk;	   /* first: epoll data points here */
	struct loop *loop; /* the event loop that reads it, for its whole life */
	atomic_int refs;
	atomic_bool dead;
	pthread_mutex_t lock; /* guards inflight accounting and paused */
	pthread_mutex_t send_lock;
	int inflight;
	size_t inflight_bytes;
	bool paused;
	struct rm_framer rm; /* framing state; touched only by its event thread */
	time_t last_active;
	struct rpc_peer peer;
	struct conn *prev, *next; /* loop->conns, under loop->lock */
	struct conn *reap_next;	  /* the loop's idle sweep */
	bool want_out;		  /* guarded by lock: output is queued, poll for EPOLLOUT */
	unsigned turn_calls;	  /* event thread: records framed in this turn */
	/*
	 * Event thread: inline replies of this turn, framed, sent with one
	 * sendmsg when the turn ends instead of one per call.
	 */
	struct rpc_reply batch; /* buf, len, cap; never a payload */
	uint64_t batch_t0;	/* when its first reply was added (ns, monotonic) */
	/* Replies the socket could not take at once; guarded by send_lock. */
	struct outbuf *out_head, *out_tail;
};

/* One call for a worker: a whole record and where its reply goes. */
struct job {
	struct job *next;
	struct conn *conn; /* NULL for UDP */
	int udp_fd;
	struct rpc_peer peer;
	uint8_t *rec;
	size_t len;
	bool bulk;   /* rpc_classify: goes to the bulk queue */
	size_t cost; /* bytes charged to the connection: the call and its expected reply */
};

/* ---- listen.c ---- */
bool addr_is_loopback(const struct sockaddr_storage *ss);
/* The connection limit, and the spare descriptor that lets us refuse when out of them. */
void accept_prepare(int max_conns);
/* Accept every pending connection on a listener and give each to a loop. */
void accept_conns(int lfd);
/* Watch every listener (TCP and UDP) from this epoll set. */
int listen_watch(int epfd);
void listen_close(void);

/* ---- loop.c ---- */
int loops_init(int nloops, int idle_timeout_s);
/* The loop that accepts and reads UDP. */
struct loop *first_loop(void);
int loops_start(void);
/* Wake every loop and wait for its thread to end. */
void loops_join(void);
/* Close every connection, then the loops' own descriptors. Threads joined. */
void loops_close(void);
int loops_conn_count(void);
struct loop *least_loaded_loop(void);
void loop_list(struct loop *l, struct conn *c);
void loop_unlist(struct loop *l, struct conn *c);

/* ---- conn.c ---- */
/* A connection for an accepted socket, not yet on a loop; NULL when out of memory. */
struct conn *conn_new(int fd, const struct sockaddr_storage *ss, socklen_t len);
void conn_attach(struct conn *c, struct loop *l);
void conn_get(struct conn *c);
void conn_put(struct conn *c);
void conn_close(struct conn *c);
/* Charge (or credit) calls and bytes; true when reading is paused. */
bool conn_adjust(struct conn *c, int dcalls, ssize_t dbytes, int want_out);
/* EPOLLIN: one turn of reading and framing, then the turn's inline replies. */
void conn_readable(struct conn *c);
/* A worker finished a job of this connection that was charged len bytes. */
void conn_job_done(struct conn *c, size_t len);
void conns_reap_idle(struct loop *l, int idle_timeout_s);

/* ---- conn_send.c ---- */
/* Write the record mark; returns the bytes the framed reply takes. */
size_t reply_frame(struct rpc_reply *rep);
/* Frame and send (or queue) one reply. */
void send_tcp_reply(struct conn *c, struct rpc_reply *rep);
/* Send (or queue) rep->buf, already holding whole records, and its payload. */
void send_tcp_framed(struct conn *c, struct rpc_reply *rep);
/* EPOLLOUT: write queued replies. Event thread. false when the socket died. */
bool conn_flush(struct conn *c);
/* Free the replies still queued; the connection's last reference is gone. */
void conn_drop_output(struct conn *c);

/* ---- sched.c ---- */
/* Queue a call for the workers, in the small or the bulk queue (j->bulk). */
void queue_push(struct job *j);
int sched_start(int nthreads);
/* Wake every worker and wait for it to end. */
void sched_join(void);
/* Free every queued call, small and bulk, and its connection reference. */
void sched_drop_queued(void);

/* ---- udp.c ---- */
/* Queue every datagram waiting on a UDP socket. */
void udp_readable(int fd);
void send_udp_reply(struct job *j, struct rpc_reply *rep);

#endif
