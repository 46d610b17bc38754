#ifndef LOOPNFS_ERRMAP_H
#define LOOPNFS_ERRMAP_H

#include "nfs3_prot.h"

/* The one errno -> nfsstat3 table. err may be positive or negative. */
nfsstat3 nfs3_errno(int err);
const char *nfs3_strstat(nfsstat3 st);

#endif
