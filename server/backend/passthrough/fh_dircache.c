/*
 * Per-directory cache of entries' kernel handles (see fh_dircache.h for
 * why it stays right). A few directories, each an open-addressed table keyed
 * by inode number; readers share a directory's rwlock, and a directory's
 * slot is reused or emptied only while nobody holds it.
 */
#define _GNU_SOURCE
#include "fh_dircache.h"
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dhc_ent {
	uint64_t ino; /* 0: empty (no filesystem uses inode 0 for a file) */
	uint32_t type;
	uint32_t len;
	uint8_t bytes[DHC_KH_MAX];
};

struct dhc_dir {
	pthread_rwlock_t lock; /* guards tab, cap, n */
	struct dhc_ent *tab;
	size_t cap, n;
	/* The rest is guarded by D.lock. */
	bool used;
	int refs;
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	double last_used; /* mono_s(), the clock of every idle cache */
};

static struct {
	pthread_mutex_t lock;
	struct dhc_dir dir[DHC_DIRS];
	atomic_size_t total;
} D = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.dir = { [0 ... DHC_DIRS - 1] = { .lock = PTHREAD_RWLOCK_INITIALIZER } } };

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	int64_t ns = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
}

static bool ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Drop a directory's entries. D.lock held and nobody holds d. */
static void dir_empty(struct dhc_dir *d)
{
	atomic_fetch_sub(&D.total, d->n);
	free(d->tab);
	d->tab = NULL;
	d->cap = d->n = 0;
}

/* The slot of the directory, or a free (or idle) one taken for it in state ctime. */
static struct dhc_dir *slot_for(dev_t dev, ino_t ino, const struct timespec *ctime)
{
	struct dhc_dir *free_slot = NULL, *lru = NULL;
	for (int i = 0; i < DHC_DIRS; i++) {
		struct dhc_dir *d = &D.dir[i];
		if (d->used && d->dev == dev && d->ino == ino)
			return d;
		if (!d->used && !free_slot)
			free_slot = d;
		else if (d->used && d->refs == 0 && (!lru || d->last_used < lru->last_used))
			lru = d;
	}
	struct dhc_dir *d = free_slot ? free_slot : lru;
	if (d) {
		dir_empty(d);
		d->used = true;
		d->dev = dev;
		d->ino = ino;
		d->ctime = *ctime;
	}
	return d;
}

struct dhc_dir *dhc_acquire(dev_t dev, ino_t ino, const struct timespec *ctime,
			    const struct timespec *now)
{
	/* A directory changed just now could change again within its timestamp. */
	if (ns_between(ctime, now) < DHC_SETTLE_NS)
		return NULL;
	pthread_mutex_lock(&D.lock);
	struct dhc_dir *d = slot_for(dev, ino, ctime);
	if (d && !ts_equal(&d->ctime, ctime)) {
		if (d->refs == 0) {
			dir_empty(d); /* the directory changed: its names may name other inodes */
			d->ctime = *ctime;
		} else {
			d = NULL; /* still in use by a listing of the old state */
		}
	}
	if (d) {
		d->refs++;
		d->last_used = mono_s();
	}
	pthread_mutex_unlock(&D.lock);
	return d;
}

void dhc_release(struct dhc_dir *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&D.lock);
	d->refs--;
	pthread_mutex_unlock(&D.lock);
}

static size_t probe_start(uint64_t ino, size_t cap)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* The slot of ino, or the empty slot where it would go. Lock held; cap > 0. */
static struct dhc_ent *probe(struct dhc_ent *tab, size_t cap, uint64_t ino)
{
	for (size_t i = probe_start(ino, cap);; i = (i + 1) & (cap - 1))
		if (tab[i].ino == ino || tab[i].ino == 0)
			return &tab[i];
}

bool dhc_get(struct dhc_dir *d, uint64_t ino, struct pt_kh *out)
{
	bool hit = false;
	pthread_rwlock_rdlock(&d->lock);
	if (d->cap && ino) {
		struct dhc_ent *e = probe(d->tab, d->cap, ino);
		if (e->ino == ino) {
			out->type = e->type;
			out->len = e->len;
			memcpy(out->bytes, e->bytes, e->len);
			hit = true;
		}
	}
	pthread_rwlock_unlock(&d->lock);
	return hit;
}

/* Double the table (or make the first). Write lock held. */
static bool grow(struct dhc_dir *d)
{
	size_t cap = d->cap ? d->cap * 2 : 1024;
	struct dhc_ent *tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return false;
	for (size_t i = 0; i < d->cap; i++)
		if (d->tab[i].ino)
			*probe(tab, cap, d->tab[i].ino) = d->tab[i];
	free(d->tab);
	d->tab = tab;
	d->cap = cap;
	return true;
}

void dhc_put(struct dhc_dir *d, uint64_t ino, const struct pt_kh *kh)
{
	if (!ino || kh->len == 0 || kh->len > DHC_KH_MAX)
		return;
	pthread_rwlock_wrlock(&d->lock);
	/* Linear probing stays short up to 7/8 full, and 100,000 names fit 4 MiB. */
	if ((d->n + 1) * 8 > d->cap * 7 && (d->cap >= DHC_MAX_ENTRIES || !grow(d)))
		goto out;
	struct dhc_ent *e = probe(d->tab, d->cap, ino);
	if (e->ino == 0) {
		if (atomic_load(&D.total) >= DHC_MAX_ENTRIES)
			goto out;
		e->ino = ino;
		d->n++;
		atomic_fetch_add(&D.total, 1);
	}
	e->type = kh->type;
	e->len = kh->len;
	memcpy(e->bytes, kh->bytes, kh->len);
out:
	pthread_rwlock_unlock(&d->lock);
}

void dhc_sweep(double idle_seconds)
{
	double now = mono_s();
	pthread_mutex_lock(&D.lock);
	for (int i = 0; i < DHC_DIRS; i++) {
		struct dhc_dir *d = &D.dir[i];
		if (d->used && d->refs == 0 &&
		    (idle_seconds <= 0 || now - d->last_used > idle_seconds)) {
			dir_empty(d);
			d->used = false;
		}
	}
	pthread_mutex_unlock(&D.lock);
}

size_t dhc_entries(void)
{
	return atomic_load(&D.total);
}

void dhc_make_fh(struct dhc_dir *d, const struct export *ex, uint32_t fs_tag, int dirfd,
		 const char *name, const struct stat *st, struct fh_buf *out)
{
	/*
	 * "." and ".." name the directory and its parent, not an entry. An
	 * entry on another device than the directory is kept nowhere: a mount
	 * point's attributes are the mounted root's, not the entry's.
	 */
	bool cacheable = d && st->st_dev == d->dev && !vfs_is_dot_or_dotdot(name, strlen(name));
	struct pt_kh kh;
	if (cacheable && dhc_get(d, (uint64_t)st->st_ino, &kh)) {
		pt_encode(ex, fs_tag, st, &kh, out);
		return;
	}
	pt_kernel_handle(dirfd, name, &kh);
	pt_encode(ex, fs_tag, st, &kh, out);
	if (cacheable)
		dhc_put(d, (uint64_t)st->st_ino, &kh);
}
