/* Duplicate request cache: fixed-size table, oldest entries recycled first. */
#include "drc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DRC_SIZE 4096
#define DRC_BUCKETS 8192
#define DRC_TTL_S 300

struct drc_entry {
	uint32_t xid, prog, vers, proc;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool tcp;
	uint64_t args_hash;
	size_t args_len;
	bool done;
	time_t when;
	uint8_t *reply; /* body without the record mark */
	size_t reply_len;
	int bucket; /* -1 when unused */
	struct drc_entry *hnext;
};

static struct {
	pthread_mutex_t lock;
	struct drc_entry entries[DRC_SIZE];
	struct drc_entry *buckets[DRC_BUCKETS];
	unsigned next; /* ring position of the entry to recycle */
	bool init;
	unsigned char key[crypto_shorthash_KEYBYTES];
} D = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t args_hash(const struct rpc_call *call)
{
	uint8_t h[8];
	crypto_shorthash(h, call->args, call->args_len, D.key);
	uint64_t v;
	memcpy(&v, h, 8);
	return v;
}

static bool same_addr(const struct drc_entry *e, const struct rpc_peer *p)
{
	return e->addrlen == p->addrlen && e->tcp == p->is_tcp &&
	       memcmp(&e->addr, &p->addr, p->addrlen) == 0;
}

static void unlink_entry(struct drc_entry *e)
{
	if (e->bucket < 0)
		return;
	for (struct drc_entry **pp = &D.buckets[e->bucket]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	e->bucket = -1;
	free(e->reply);
	e->reply = NULL;
}

static pthread_once_t drc_once = PTHREAD_ONCE_INIT;

static void drc_init(void)
{
	for (unsigned i = 0; i < DRC_SIZE; i++)
		D.entries[i].bucket = -1;
	randombytes_buf(D.key, sizeof(D.key));
	D.init = true;
}

enum drc_result drc_begin(const struct rpc_call *call, struct rpc_reply *rep, void **token)
{
	/* The key must exist before the first hash, or the first call never matches. */
	pthread_once(&drc_once, drc_init);
	uint64_t h = args_hash(call);
	unsigned b = (unsigned)((call->xid * 2654435761u) ^ (uint32_t)h) % DRC_BUCKETS;
	time_t now = time(NULL);
	enum drc_result res = DRC_NEW;

	pthread_mutex_lock(&D.lock);
	for (struct drc_entry *e = D.buckets[b]; e; e = e->hnext) {
		if (e->xid != call->xid || e->proc != call->proc || e->prog != call->prog ||
		    e->vers != call->vers || e->args_hash != h || e->args_len != call->args_len ||
		    !same_addr(e, call->peer) || now - e->when > DRC_TTL_S)
			continue;
		if (!e->done) {
			res = DRC_IN_PROGRESS;
		} else if (rpc_reply_reserve(rep, RPC_REPLY_RESERVE + e->reply_len)) {
			rep->len = RPC_REPLY_RESERVE;
			memcpy(rep->buf + rep->len, e->reply, e->reply_len);
			rep->len += e->reply_len;
			res = DRC_REPLAY;
		} else {
			res = DRC_IN_PROGRESS; /* no memory to replay: let the client retry */
		}
		pthread_mutex_unlock(&D.lock);
		*token = NULL;
		return res;
	}
	/* Recycle the oldest slot that is not still running. */
	struct drc_entry *e = NULL;
	for (unsigned tries = 0; tries < DRC_SIZE; tries++) {
		struct drc_entry *c = &D.entries[D.next];
		D.next = (D.next + 1) % DRC_SIZE;
		if (c->bucket < 0 || c->done) {
			e = c;
			break;
		}
	}
	if (e) {
		unlink_entry(e);
		e->xid = call->xid;
		e->prog = call->prog;
		e->vers = call->vers;
		e->proc = call->proc;
		memcpy(&e->addr, &call->peer->addr, call->peer->addrlen);
		e->addrlen = call->peer->addrlen;
		e->tcp = call->peer->is_tcp;
		e->args_hash = h;
		e->args_len = call->args_len;
		e->done = false;
		e->when = now;
		e->bucket = (int)b;
		e->hnext = D.buckets[b];
		D.buckets[b] = e;
	}
	pthread_mutex_unlock(&D.lock);
	*token = e;
	return DRC_NEW;
}

void drc_finish(void *token, const struct rpc_reply *rep)
{
	struct drc_entry *e = token;
	if (!e)
		return;
	size_t len = rep->len > RPC_REPLY_RESERVE ? rep->len - RPC_REPLY_RESERVE : 0;
	uint8_t *copy = len ? malloc(len) : NULL;
	if (copy)
		memcpy(copy, rep->buf + RPC_REPLY_RESERVE, len);
	pthread_mutex_lock(&D.lock);
	if (copy && !rep->payload_len) {
		e->reply = copy;
		e->reply_len = len;
		e->done = true;
		copy = NULL;
	} else {
		unlink_entry(e); /* nothing to replay: forget the call */
	}
	pthread_mutex_unlock(&D.lock);
	free(copy);
}

void drc_shutdown(void)
{
	pthread_mutex_lock(&D.lock);
	for (unsigned i = 0; i < DRC_SIZE; i++)
		unlink_entry(&D.entries[i]);
	pthread_mutex_unlock(&D.lock);
}
