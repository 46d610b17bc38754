/*
 * Event loops: one epoll thread per CPU, up to MAX_LOOPS. Each connection
 * belongs to one loop for its whole life, which does all its reads; the
 * first loop also accepts and reads UDP. A loop closes its own idle
 * connections.
 */
#define _GNU_SOURCE
#include "transport_int.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * One event thread frames, and answers inline, at most a core's worth of
 * calls, for every connection. On two cores, four connections streaming
 * READs got 1.7-2.0 GB/s through one event thread and 2.0-2.2 GB/s
 * through two; more threads than CPUs only add switching.
 */
#define MAX_LOOPS 4

static struct loop loops[MAX_LOOPS];
static int nloops;
static int idle_timeout_s;

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

int loops_init(int n, int idle_s)
{
	idle_timeout_s = idle_s;
	nloops = n > 0 ? n : default_loops();
	if (nloops > MAX_LOOPS)
		nloops = MAX_LOOPS;
	for (int i = 0; i < nloops; i++) {
		int rc = loop_init(&loops[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct loop *first_loop(void)
{
	return &loops[0];
}

int loops_conn_count(void)
{
	int n = 0;
	for (int i = 0; i < nloops; i++)
		n += atomic_load(&loops[i].nconns);
	return n;
}

/*
 * The loop with the fewest connections. Not round-robin: a client's short
 * MOUNT connection before each NFS one would put every NFS connection on
 * the same loop.
 */
struct loop *least_loaded_loop(void)
{
	struct loop *best = &loops[0];
	for (int i = 1; i < nloops; i++)
		if (atomic_load(&loops[i].nconns) < atomic_load(&best->nconns))
			best = &loops[i];
	return best;
}

void loop_list(struct loop *l, struct conn *c)
{
	pthread_mutex_lock(&l->lock);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	pthread_mutex_unlock(&l->lock);
	atomic_fetch_add(&l->nconns, 1);
}

void loop_unlist(struct loop *l, struct conn *c)
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

/* Queued output first (it frees room), then input, then a hang-up. */
static void conn_event(struct conn *c, uint32_t events)
{
	if ((events & EPOLLOUT) && !conn_flush(c)) {
		conn_close(c);
		return;
	}
	if (events & EPOLLIN)
		conn_readable(c);
	else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		conn_close(c);
}

static void *event_loop(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[64];
	time_t last_reap = time(NULL);
	while (!atomic_load(&transport_stopping)) {
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
			case SK_CONN:
				conn_event((struct conn *)sk, evs[i].events);
				break;
			case SK_WAKE:
				break;
			}
		}
		if (time(NULL) - last_reap >= 5) {
			conns_reap_idle(l, idle_timeout_s);
			last_reap = time(NULL);
		}
	}
	return NULL;
}

int loops_start(void)
{
	for (int i = 0; i < nloops; i++) {
		if (pthread_create(&loops[i].thread, NULL, event_loop, &loops[i]) != 0)
			return -EAGAIN;
		char name[16];
		snprintf(name, sizeof(name), "loopnfs-ev%c", (char)('0' + i)); /* top -H, perf */
		pthread_setname_np(loops[i].thread, name);
	}
	return 0;
}

void loops_join(void)
{
	uint64_t one = 1;
	for (int i = 0; i < nloops; i++)
		if (write(loops[i].wake.fd, &one, sizeof(one)) < 0)
			log_debug("wake write failed");
	for (int i = 0; i < nloops; i++)
		pthread_join(loops[i].thread, NULL);
}

void loops_close(void)
{
	for (int i = 0; i < nloops; i++)
		while (loops[i].conns)
			conn_close(loops[i].conns);
	for (int i = 0; i < nloops; i++) {
		close(loops[i].epfd);
		close(loops[i].wake.fd);
	}
}
