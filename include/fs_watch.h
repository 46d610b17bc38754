/*
 * Renames and removals on an export's filesystem, as an epoch. A cached
 * object proven inside the export at epoch E is still inside while the
 * epoch is E: only moving a name away (rename) or removing one (unlink,
 * rmdir) can take an object, or one of its ancestors, out of the export.
 * That spares the /proc readlink that proves it (3.4 us here, more than
 * the GETATTR it guards).
 */
#ifndef LOOPNFS_FS_WATCH_H
#define LOOPNFS_FS_WATCH_H

#include <stdbool.h>
#include <stdint.h>

struct fs_watch;

/* Watch the whole filesystem of dirfd (not O_PATH; fanotify needs CAP_SYS_ADMIN). NULL if unavailable. */
struct fs_watch *fs_watch_open(int dirfd);
void fs_watch_close(struct fs_watch *w);
/*
 * The epoch (never 0), counting every rename or removal on the filesystem
 * that returned before this call began. False when it can't tell: then
 * every object must be checked.
 */
bool fs_watch_epoch(struct fs_watch *w, uint64_t *epoch);

#endif
