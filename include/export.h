/* The export table shared by the NFS and MOUNT programs. */
#ifndef LOOPNFS_EXPORT_H
#define LOOPNFS_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define EXPORT_MAX 32

struct export_opts {
	bool ro;
	bool root_squash; /* applies to root from non-local hosts */
	bool all_squash;
	uid_t anonuid;
	gid_t anongid;
};

struct export {
	unsigned idx;
	char *path;  /* absolute, canonical path of the exported directory */
	int root_fd;  /* O_PATH directory fd every lookup starts from */
	int mount_fd; /* O_RDONLY: open_by_handle_at rejects O_PATH mount fds */
	dev_t dev;
	ino_t root_ino;
	uint64_t fsid;
	struct export_opts opts;
	struct fs_watch *watch; /* renames/removals on dev, or NULL */
};

/* Open and add DIR; returns the export or NULL with a message in err. */
struct export *export_add(const char *dir, const struct export_opts *opts, char *err,
			  size_t errlen);
struct export *export_get(unsigned idx);
unsigned export_count(void);
/*
 * Find the export a MOUNT path names: "/" or the export's own path names its
 * root; a path below it names a subdirectory (*subpath points past the export
 * prefix, "" for the root).
 */
struct export *export_find(const char *mntpath, const char **subpath);
void export_free_all(void);

#endif
