/*
 * The export table shared by the NFS and MOUNT programs. Each export has a
 * stable id (in every handle), an fsid, a backend and that backend's state.
 * With several directories, a synthesized read-only root (the pseudo
 * backend) shows each under its name.
 */
#ifndef LOOPNFS_EXPORT_H
#define LOOPNFS_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EXPORT_MAX 32
#define EXPORT_NAME_MAX 255

struct vfs_ops;

/* What one client gets on one export (exports(5) options). */
struct export_opts {
	bool ro;
	bool root_squash; /* root's uid 0 becomes anonuid */
	bool all_squash;
	bool insecure; /* accept calls from source ports >= 1024 */
	bool async;    /* answer stable WRITEs and COMMIT before the data is on disk */
	uid_t anonuid;
	gid_t anongid;
};

struct export
{
	uint32_t id;   /* in every handle: derived from path, never a table position */
	char *path;    /* absolute, canonical path of the exported directory; "/" for the root */
	char *name;    /* where it shows under the synthesized root */
	uint64_t fsid; /* what attributes say for objects on dev */
	dev_t dev;
	bool crossmnt; /* serve filesystems mounted below path (crossmnt/nohide) */
	struct export_opts opts;
	const struct vfs_ops *ops;
	void *be; /* the backend's state */
};

/* Add the directory dir (the passthrough backend); NULL with a message in err. */
struct export *export_add(const char *dir, const struct export_opts *opts, char *err,
			  size_t errlen);
/*
 * After the last export_add: with more than one export, build the
 * synthesized root over them. Fails (message in err) when two exports
 * would show under one name or their ids collide.
 */
int export_finish(char *err, size_t errlen);
/* The directories exported, in the order given (the root is not one of them). */
struct export *export_get(unsigned idx);
unsigned export_count(void);
/* The export a handle's id names (the synthesized root included), or NULL. */
struct export *export_by_id(uint32_t id);
/* The synthesized root, or NULL when one directory is served. */
struct export *export_pseudo_root(void);
/* The id of the export at canonical path (a hash of it; never 0, the root's). */
uint32_t export_id_of(const char *path);
/*
 * Find the export a MOUNT path names: "/" names the root (the single
 * export's own, or the synthesized one); an export's absolute path or its
 * name under "/" names it; a path below either names a subdirectory
 * (*subpath points past the export prefix, "" for the root).
 */
struct export *export_find(const char *mntpath, const char **subpath);
void export_free_all(void);

#endif
