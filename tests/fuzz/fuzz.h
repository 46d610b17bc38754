/*
 * The libFuzzer target's pieces (tests/fuzz/README.md):
 *   fuzz_rpc.c     the entry points: each input is a TCP byte stream, framed
 *                  and dispatched as the server does; the reply oracle
 *   fuzz_export.c  the temporary export, its reset, the canary outside it
 *   fuzz_subst.c   the corpus's handles and mount paths -> this run's
 *   fuzz_corpus.c  --make-corpus: a valid call of every procedure, and the
 *                  calls captured from the test suite made to fit the export
 */
#ifndef LOOPNFS_FUZZ_H
#define LOOPNFS_FUZZ_H

#include "fh.h"
#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where handle.key and handles.txt live: LOOPNFS_FUZZ_DATA, else the source directory. */
const char *fz_data_dir(void);

/* ---- fuzz_export.c ---- */

/*
 * The objects of the fixed tree, by path under the export ("." the root).
 * Every one of them has a handle in the table (fuzz_subst.c).
 */
extern const char *const fz_objects[];
extern const unsigned fz_nobjects;

/* Build the temporary base, export its tree with the committed key. Exits on failure. */
void fz_export_init(void);
/* The export's canonical path, as MOUNT knows it. */
const char *fz_export_path(void);
/* This run's handle of a fixed object; false if it is missing. */
bool fz_handle_of(const char *rel, struct fh_buf *out);
/* Whether the calls changed anything in the tree. */
bool fz_export_changed(void);
/* Put the tree back as fz_export_init made it (the root directory itself is kept). */
void fz_export_reset(void);
/* Abort (a finding) if anything outside the export changed or was read. */
void fz_check_outside(void);
/* A call leaves the thread as its caller: back to the server's own identity. */
void fz_server_identity(void);
/* Remove the temporary base (at exit). */
void fz_export_cleanup(void);

/* ---- fuzz_subst.c ---- */

/* Load the table the corpus was made with; a missing file means no substitution. */
void fz_subst_load(const char *path);
/* Recompute this run's side of the table (after fz_export_reset). */
void fz_subst_refresh(void);
/*
 * rec with every corpus handle and mount path replaced by this run's, or
 * NULL when none occurs (use rec as it is). Caller frees.
 */
uint8_t *fz_subst_apply(const uint8_t *rec, size_t len, size_t *out_len);
/* Write this run's handles and paths as a table for a corpus made now. */
int fz_subst_save(const char *path);

/* ---- fuzz_corpus.c ---- */

/* --make-corpus OUT [CAPTURE_DIR]: write seeds into OUT/gen, OUT/captured, OUT/handles.txt. */
int fz_make_corpus(const char *out, const char *capture_dir);

/* ---- fuzz_rpc.c ---- */

/* Sees each record (after substitution) and the reply the server made for it. */
typedef void (*fz_reply_fn)(void *ctx, const uint8_t *rec, size_t len, const struct rpc_reply *rep);
/* One input, as LLVMFuzzerTestOneInput runs it; fn (may be NULL) sees every reply. */
void fz_run_input(const uint8_t *data, size_t size, fz_reply_fn fn, void *ctx);

/* NFSv4.1 with no state, as after a fresh start (every input). */
void fz_nfs4_reset(void);

#endif
