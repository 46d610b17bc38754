/*
 * Who may reach which export, checked on every request: the export's
 * client list decides per connection (a view, rebuilt when the table
 * changes), the options of the entry that matched apply per request.
 */
#ifndef LOOPNFS_ACCESS_H
#define LOOPNFS_ACCESS_H

#include "export.h"

struct req;
struct peer_cache;

/* Per connection: its view of the table in force and its verified reverse name. */
struct peer_cache *peer_cache_new(void);
/* Once no request runs on the connection any more. */
void peer_cache_free(struct peer_cache *pc);

/* This request's client's view of its table (never NULL unless out of memory). */
const struct export_view *access_view(struct req *req);
/*
 * May this request use ex? 0 and *opts the options that apply; -EACCES
 * when ex is not exported to the client; -EPERM when ex wants a privileged
 * source port (secure) and the call came from another.
 */
int access_check(struct req *req, const struct export *ex, const struct export_opts **opts);
/* Did the call come from a port below 1024 (only root can bind those)? */
bool access_port_privileged(const struct rpc_peer *peer);

#endif
