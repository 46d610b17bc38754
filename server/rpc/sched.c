/*
 * The worker pool and its job queue. Workers run each call and send the
 * reply themselves, so a slow call never holds back the others. Small
 * calls wait in one queue and bulk calls (WRITE payloads) in another, so a
 * GETATTR never waits behind a queue of 1 MiB WRITEs; and bulk calls never
 * take the last SMALL_RESERVE workers.
 */
#define _GNU_SOURCE
#include "transport_int.h"

#include <errno.h>
#include <stdlib.h>

/* Of every this many jobs, one comes from the bulk queue even when small ones wait. */
#define BULK_SHARE 4
/*
 * Workers that bulk calls may never occupy: a WRITE can sleep in the
 * kernel (page-cache throttling, the inode lock), and a GETATTR must still
 * find a free worker while a client streams 1 MiB writes.
 */
#define SMALL_RESERVE 4

static pthread_t *workers;
static int nworkers;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *qhead, *qtail; /* small calls */
	struct job *bhead, *btail; /* bulk calls (WRITE payloads) */
	unsigned since_bulk;
	int bulk_running, bulk_max;
} Q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void queue_push(struct job *j)
{
	struct job **head = &Q.qhead, **tail = &Q.qtail;
	if (j->bulk) {
		head = &Q.bhead;
		tail = &Q.btail;
	}
	pthread_mutex_lock(&Q.lock);
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
	pthread_mutex_unlock(&Q.lock);
	/* After the unlock: a worker woken inside it would only block on the lock again. */
	pthread_cond_signal(&Q.cond);
}

/* Bulk work may start only while it leaves the reserve free. Q.lock held. */
static bool bulk_can_start(void)
{
	return Q.bhead && Q.bulk_running < Q.bulk_max;
}

/*
 * Small calls first, so a GETATTR never waits behind a queue of 1 MiB
 * WRITEs; but every BULK_SHARE-th pick takes bulk work so it can't starve.
 * Q.lock held.
 */
static struct job *queue_take(void)
{
	bool bulk_first = bulk_can_start() && (!Q.qhead || ++Q.since_bulk >= BULK_SHARE);
	struct job **head = bulk_first ? &Q.bhead : &Q.qhead;
	struct job **tail = bulk_first ? &Q.btail : &Q.qtail;
	struct job *j = *head;
	if (!j)
		return NULL;
	if (bulk_first) {
		Q.since_bulk = 0;
		Q.bulk_running++;
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
	pthread_mutex_lock(&Q.lock);
	if (bulk_done) {
		Q.bulk_running--;
		/* This worker may pick a small call first: wake another for the bulk. */
		if (Q.bhead && Q.qhead)
			pthread_cond_signal(&Q.cond);
	}
	while (!Q.qhead && !bulk_can_start() && !atomic_load(&transport_stopping))
		pthread_cond_wait(&Q.cond, &Q.lock);
	struct job *j = atomic_load(&transport_stopping) ? NULL : queue_take();
	pthread_mutex_unlock(&Q.lock);
	return j;
}

static void *worker_main(void *arg)
{
	struct job *j;
	bool bulk = false;
	while ((j = queue_pop(bulk))) {
		bulk = j->bulk;
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

int sched_start(int nthreads)
{
	nworkers = nthreads > 0 ? nthreads : 16;
	Q.bulk_max = nworkers > SMALL_RESERVE ? nworkers - SMALL_RESERVE : 1;
	workers = calloc((size_t)nworkers, sizeof(pthread_t));
	if (!workers)
		return -ENOMEM;
	for (int i = 0; i < nworkers; i++) {
		if (pthread_create(&workers[i], NULL, worker_main, NULL) != 0)
			return -EAGAIN;
		pthread_setname_np(workers[i], "loopnfs-work");
	}
	return 0;
}

void sched_join(void)
{
	pthread_mutex_lock(&Q.lock);
	pthread_cond_broadcast(&Q.cond);
	pthread_mutex_unlock(&Q.lock);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
}

/* Free a queue's jobs, each with its reference to the connection. */
static void drop_jobs(struct job *j)
{
	for (struct job *next; j; j = next) {
		next = j->next;
		if (j->conn)
			conn_put(j->conn);
		free(j->rec);
		free(j);
	}
}

void sched_drop_queued(void)
{
	drop_jobs(Q.qhead);
	drop_jobs(Q.bhead);
	Q.qhead = Q.qtail = NULL;
	Q.bhead = Q.btail = NULL;
}
