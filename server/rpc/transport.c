/*
 * Event loops and worker pool. Each connection belongs to one event loop
 * (one thread per CPU, up to MAX_LOOPS; the first also accepts and reads
 * UDP), which owns all its reads: it frames TCP records, answers cheap
 * calls itself, and queues every other complete call for a worker. Workers
 * run the call and write the reply themselves under a per-connection send
 * lock, so replies leave in completion order (the client matches them by
 * xid).
 *
 * The transport frames records and schedules them but never reads RPC:
 * what it needs to know of a call comes from rpc_classify (dispatch.c).
 *
 * This file only starts and stops the pieces; transport_int.h lists them.
 */
#define _GNU_SOURCE
#include "transport.h"
#include "transport_int.h"

atomic_bool transport_stopping;

int transport_start(const struct transport_config *cfg)
{
	accept_prepare(cfg->max_conns > 0 ? cfg->max_conns : 1024);
	int rc = loops_init(cfg->nloops, cfg->idle_timeout_s > 0 ? cfg->idle_timeout_s : 900);
	if (rc < 0)
		return rc;
	/* Listeners and UDP on the first loop; it hands each connection to the least busy. */
	rc = listen_watch(first_loop()->epfd);
	if (rc < 0)
		return rc;
	rc = sched_start(cfg->nthreads);
	if (rc < 0)
		return rc;
	return loops_start();
}

/*
 * Readers first, so nothing new is queued; then the workers; then the
 * connections, whose last references the queued calls may still hold.
 */
void transport_stop(void)
{
	atomic_store(&transport_stopping, true);
	loops_join();
	sched_join();
	loops_close();
	listen_close();
	/* Calls still queued were never answered; clients retransmit them. */
	sched_drop_queued();
}
