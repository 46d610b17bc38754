/*
 * The object cache: resolved objects shared between requests, keyed by
 * (export id, handle payload), reference counted, least recently used
 * evicted first, swept every few seconds. It knows nothing of files: a
 * backend embeds struct oc_ent in its own entry and says, through its
 * class, how to free one, whether one is gone, and what an idle one lets go.
 */
#ifndef LOOPNFS_OBJCACHE_H
#define LOOPNFS_OBJCACHE_H

#include "fh.h"

#include <stdbool.h>
#include <stdint.h>

struct oc_ent;

struct oc_class {
	/* The last reference went after the entry left the table. Never under the cache lock. */
	void (*free)(struct oc_ent *e);
	/* Sweep: has the object ceased to exist? Called holding a reference, not the lock. */
	bool (*gone)(struct oc_ent *e);
	/*
	 * Sweep, for an entry unused for the idle time that nobody holds:
	 * detach what it may let go (under the cache lock, so nobody can take
	 * it meanwhile) and return it as a token, 0 for nothing.
	 */
	uint64_t (*idle_detach)(struct oc_ent *e);
	/* Let a detached token go, after the lock is released. */
	void (*idle_release)(uint64_t token);
};

struct oc_ent {
	const struct oc_class *cls;
	uint32_t export_id;
	uint64_t hash; /* the backend's spread of its key (an inode number) */
	uint8_t key[FH_PAYLOAD_MAX];
	unsigned keylen;
	/* Under the cache lock: */
	int refs;
	bool unhashed;
	double last_used;
	struct oc_ent *hnext, *lprev, *lnext;
};

/* Fill the cache's part of a new entry, with one reference for the caller. */
void oc_ent_init(struct oc_ent *e, const struct oc_class *cls, uint32_t export_id, uint64_t hash,
		 const void *key, unsigned keylen);
/* The cached entry with this key, with a new reference; NULL if none. */
struct oc_ent *oc_lookup(uint32_t export_id, uint64_t hash, const void *key, unsigned keylen);
/* Add e (one reference, the caller's). Returns e, or the twin that raced in (e then freed). */
struct oc_ent *oc_insert(struct oc_ent *e);
void oc_put(struct oc_ent *e);
/* Take e out of the table (the caller holds a reference): nobody finds it again. */
void oc_unhash(struct oc_ent *e);
/* Unhash every entry of the export with this hash that match() accepts. */
void oc_forget(uint32_t export_id, uint64_t hash, bool (*match)(struct oc_ent *e, void *arg),
	       void *arg);
/* Unhash every entry of one export (it went away). */
void oc_forget_export(uint32_t export_id);
/* Let gone entries go and idle ones detach (see struct oc_class). */
void oc_sweep(double idle_seconds);
/* Entries in the table. */
unsigned oc_count(void);
/* The most entries kept (default 8192); the least recently used unheld ones go first. */
void oc_set_max(unsigned max);
/* Empty the table; entries still held are freed by their last put. */
void oc_shutdown(void);

#endif
