/*
 * loopnfs-crypt's commands over the crypto core (include/crypt.h): the
 * tree walks that write a whole encrypted view, or restore one.
 */
#ifndef LOOPNFS_CRYPT_TOOL_H
#define LOOPNFS_CRYPT_TOOL_H

#include "crypt.h"

#include <stdarg.h>
#include <sys/stat.h>

/* Write the encrypted view of plaintext dir into outdir; returns how many objects failed. */
int encrypt_tree(const struct crypt_keys *k, const char *dir, const char *outdir);
/* Restore a copy of a view (gocryptfs.conf at its root) into outdir; returns the failures. */
int decrypt_tree(const struct crypt_keys *k, const char *cipherdir, const char *outdir);

/* Shared by both walks. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* outdir must not exist (made 0700) or be an empty directory; returns its O_PATH-less fd. */
int tool_open_outdir(const char *outdir);
/* Mode (except for symlinks), owner when root, and times of st onto name in dirfd. */
void tool_copy_meta(int dirfd, const char *name, const struct stat *st);
/* Make a FIFO, socket or device node like st; 0 or -errno. */
int tool_make_special(int dirfd, const char *name, const struct stat *st);
int tool_write_all(int fd, const void *p, size_t len);
/* "a" + "b" -> "a/b", "" + "b" -> "b"; malloc'ed or exits on no memory. */
char *tool_join(const char *a, const char *b);

#endif
