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
	unsigned refs; /* tables holding it (changed by the main thread only) */
	uint32_t id;   /* in every handle: derived from path, never a table position */
	char *path;    /* absolute, canonical path of the exported directory; "/" for the root */
	char *name;    /* where it shows under the synthesized root */
	uint64_t fsid; /* what attributes say for objects on dev */
	dev_t dev;
	bool crossmnt; /* serve filesystems mounted below path (crossmnt/nohide) */
	const struct vfs_ops *ops;
	void *be; /* the backend's state */
};

struct xc_export;
struct xc_client;
struct xc_file;
struct rpc_peer;

/*
 * One configuration: the exports, who may reach each, and the synthesized
 * root over them. Immutable once published; a reload publishes another
 * and retires this one (ebr.h), so a request keeps the table it started
 * with. Exports unchanged by a reload are shared between the two.
 */
struct export_table;

/*
 * What one client may do on each export of one table, built once per
 * connection and table (UDP: per call). client[i] is the entry of the
 * exports file that applies to it for the table's i-th export, NULL where
 * it is not exported to the client.
 */
struct export_view {
	uint64_t gen; /* the table's generation */
	const struct export_table *tbl;
	const struct xc_client *client[EXPORT_MAX];
	struct export_opts root_opts; /* the synthesized root's, when any export is visible */
	bool any;		      /* some export is visible */
};

/* ---- building the table at start (command line) ---- */

/*
 * Add the directory dir (the passthrough backend), exported to the local
 * host (loopback addresses) with opts; NULL with a message in err.
 */
struct export *export_add(const char *dir, const struct export_opts *opts, char *err,
			  size_t errlen);
/*
 * The same for the encrypted view of dir (gocryptfs -reverse's format,
 * read-only whatever opts say), leaving out the plaintext paths the
 * gitignore-style patterns match. Its passphrase comes from the sources
 * export_set_pass_defaults names (else systemd's credential, else a prompt).
 */
struct export *export_add_reverse(const char *dir, const struct export_opts *opts,
				  char *const *excludes, unsigned nexcludes, char *err,
				  size_t errlen);
/* --passfile / --extpass: where encrypted views get their passphrase (NULL: not given). */
void export_set_pass_defaults(const char *passfile, const char *extpass);

/*
 * After the last export_add: with more than one export, build the
 * synthesized root over them, and publish the table. Fails (message in
 * err) when two exports would show under one name or their ids collide.
 */
int export_finish(char *err, size_t errlen);

/* ---- the exports file ---- */

/*
 * Parse file and publish the table it describes: at start (nothing
 * published yet) or at a reload, which keeps the exports that did not
 * change (their handles, descriptors and cached objects), makes removed
 * exports' handles STALE, and applies to the next request of every
 * connection. On any error the table in force stays, and err says
 * "FILE:LINE: what is wrong".
 */
int export_load_file(const char *file, char *err, size_t errlen);
/* The parsed configuration in force (NULL: command-line exports). */
const struct xc_file *export_config(void);

/* ---- what requests use (between ebr_enter and ebr_leave) ---- */

/* The table in force. */
const struct export_table *export_table_current(void);
unsigned export_table_count(const struct export_table *t);
/* Every published table has its own, never reused. */
uint64_t export_table_gen(const struct export_table *t);
struct export *export_table_get(const struct export_table *t, unsigned idx);
/* Client entries of the table's idx-th export (for EXPORT's group lists). */
const struct xc_export *export_table_spec(const struct export_table *t, unsigned idx);
struct export *export_table_by_id(const struct export_table *t, uint32_t id);
struct export *export_table_root(const struct export_table *t);
/*
 * Find the export a MOUNT path names: "/" names the root (the single
 * export's own, or the synthesized one); an export's absolute path or its
 * name under "/" names it; a path below either names a subdirectory
 * (*subpath points past the export prefix, "" for the root).
 */
struct export *export_table_find(const struct export_table *t, const char *mntpath,
				 const char **subpath);

/* Fill v for a client at peer with verified reverse name revname (NULL: unknown). */
void export_view_build(const struct export_table *t, const struct rpc_peer *peer,
		       const char *revname, struct export_view *v);
/* Does the table name clients by wildcard (views then need the reverse name)? */
bool export_table_needs_names(const struct export_table *t);
/* The options the view's client has on ex, NULL if ex is not exported to it. */
const struct export_opts *export_view_opts(const struct export_view *v, const struct export *ex);
/* May the view's client see ex (a NULL view: everything)? */
bool export_view_shows(const struct export_view *v, const struct export *ex);

/* ---- the same on the table in force, for start-up, shutdown and tests ---- */

struct export *export_get(unsigned idx);
unsigned export_count(void);
struct export *export_by_id(uint32_t id);
struct export *export_pseudo_root(void);
struct export *export_find(const char *mntpath, const char **subpath);

/* The id of the export at canonical path (a hash of it; never 0, the root's). */
uint32_t export_id_of(const char *path);
/* Free every table and export (after the transport has stopped). */
void export_free_all(void);

#endif
