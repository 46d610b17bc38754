/*
 * Kernel handles of a directory's entries, kept between READDIRPLUS calls
 * so a listing needs one path lookup per entry (fstatat, for the fresh
 * attributes) instead of two (and name_to_handle_at).
 *
 * Why it is safe: a name's binding to an inode changes only by a create,
 * link, unlink or rename in that directory, and each of those sets the
 * directory's ctime to the current time. A cache is tied to the directory's
 * ctime and emptied when it differs. Only directories whose ctime is at
 * least DHC_SETTLE_NS old are cached, so a later change can't get the same
 * timestamp even on filesystems with coarse (up to 2 s) timestamps.
 * Attributes are never cached: a file changes without its directory.
 */
#ifndef LOOPNFS_FH_DIRCACHE_H
#define LOOPNFS_FH_DIRCACHE_H

#include "backend.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define DHC_KH_MAX 16 /* ext4 and xfs use 8-12 bytes; longer handles are not cached */
#define DHC_SETTLE_NS (3ull * 1000000000ull)
#define DHC_DIRS 8
#define DHC_MAX_ENTRIES (1u << 17) /* over all directories; a table is at most 4 MiB */

struct dhc_dir;

/*
 * The cache of directory (dev, ino) in the state its ctime names, or NULL
 * when it must not (or can't) be cached now. now is CLOCK_REALTIME, the
 * clock the filesystem stamps ctime with. Release what it returns.
 */
struct dhc_dir *dhc_acquire(dev_t dev, ino_t ino, const struct timespec *ctime,
			    const struct timespec *now);
void dhc_release(struct dhc_dir *d);
/* The kernel handle cached for entry inode ino of d. */
bool dhc_get(struct dhc_dir *d, uint64_t ino, struct pt_kh *out);
/* Remember one; silently dropped when the budget is spent. */
void dhc_put(struct dhc_dir *d, uint64_t ino, const struct pt_kh *kh);
/*
 * The handle of entry name (attributes st, just taken) of directory dirfd
 * held as d (may be NULL), an object of filesystem fs_tag (pt_encode): from
 * the cache, or from the kernel and then cached. Never for an entry whose
 * attributes are not its own (a mount point): the caller looks those up.
 */
void dhc_make_fh(struct dhc_dir *d, const struct export *ex, uint32_t fs_tag, int dirfd,
		 const char *name, const struct stat *st, struct fh_buf *out);
/* Free the tables of directories not listed for idle_seconds (0: all). */
void dhc_sweep(double idle_seconds);
/* Entries held over all directories (tests, and the budget). */
size_t dhc_entries(void);

#endif
