/* struct stat -> NFSv3 attributes. */
#ifndef LOOPNFS_ATTR_H
#define LOOPNFS_ATTR_H

#include "export.h"
#include "nfs3_prot.h"
#include "vfs.h"

#include <stdbool.h>
#include <sys/stat.h>

ftype3 attr_ftype(mode_t mode);
void attr_fill(const struct export *ex, const struct stat *st, fattr3 *out);
/* post_op_attr from a stat result (st NULL: no attributes). */
void attr_post_op(const struct export *ex, const struct stat *st, post_op_attr *out);
/* post_op_attr of an object, read afresh now. */
void attr_post_op_now(struct vfs_obj *obj, post_op_attr *out);
void attr_pre_op(const struct stat *st, pre_op_attr *out);
/* wcc_data from a saved pre-op stat and the object's attributes now. */
void attr_wcc(struct vfs_obj *obj, const struct stat *before, wcc_data *out);

#endif
