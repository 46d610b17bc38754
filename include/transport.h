/*
 * The RPC transport: TCP (record marking) and UDP listeners, event
 * threads that frame records (each connection stays on one), and a worker
 * pool that runs them. Replies go
 * out from the worker as soon as each request completes, so a slow request
 * never holds back the others on the same connection.
 */
#ifndef LOOPNFS_TRANSPORT_H
#define LOOPNFS_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#define TRANSPORT_MAX_LISTEN 8

/* The largest record accepted: a 1 MiB WRITE plus generous header room. */
#define TRANSPORT_MAX_RECORD ((1u << 20) + 64 * 1024)
/* The largest UDP datagram we accept or send. */
#define TRANSPORT_MAX_UDP 65507

struct transport_config {
	const char *listen[TRANSPORT_MAX_LISTEN];
	int nlisten;
	int port;	/* 0 = pick a free one */
	int mount_port; /* -1 = same as port */
	int nthreads;
	int nloops; /* event threads; 0 = one per CPU, at most 4 */
	int max_conns;
	int idle_timeout_s;
	bool udp;
};

/* Bind every socket. Returns 0, or -errno with a message logged. */
int transport_bind(struct transport_config *cfg);
/* The port numbers actually bound (after port 0 was resolved). */
int transport_port(void);
int transport_mount_port(void);
/* Start the event threads and the workers. */
int transport_start(const struct transport_config *cfg);
void transport_stop(void);

#endif
