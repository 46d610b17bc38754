/*
 * The file handle codec. A handle names an export by a stable id (derived
 * from the export, never its place in a table), says which backend's
 * payload follows, and carries a keyed SipHash (key kept in the state
 * directory) over every other byte, so forged or altered handles fail
 * before any lookup. What the payload holds is the backend's business.
 *
 * Wire layout, 16 + payload bytes, at most 64 (NFS3_FHSIZE):
 *   0      version (2)
 *   1      backend (enum fh_backend)
 *   2      object type (vfs_type; informational, not part of the identity)
 *   3      payload length
 *   4..7   export id, big-endian
 *   8..15  SipHash-2-4 of bytes 0..7 and the payload
 *   16..   payload
 */
#ifndef LOOPNFS_FH_H
#define LOOPNFS_FH_H

#include <stdbool.h>
#include <stdint.h>

#define FH_SIZE_MAX 64
#define FH_HDR 16
#define FH_PAYLOAD_MAX (FH_SIZE_MAX - FH_HDR)
#define FH_VERSION 2

enum fh_backend {
	FH_PASSTHROUGH = 1,
	FH_PSEUDO = 2,
	FH_CRYPT = 3, /* the encrypted view over a passthrough export */
};

struct fh_buf {
	uint8_t data[FH_SIZE_MAX];
	unsigned len;
};

/* A decoded, authenticated handle; payload points into the handle's bytes. */
struct fh_view {
	uint32_t export_id;
	uint8_t backend;
	uint8_t type;
	const uint8_t *payload;
	unsigned len;
};

/* Load (or create) the handle key. Falls back to an ephemeral key with a warning. */
int fh_init(const char *state_dir);
void fh_encode(uint32_t export_id, uint8_t backend, uint8_t type, const void *payload, unsigned len,
	       struct fh_buf *out);
/* 0, or -EBADHANDLE for anything this server did not issue. */
int fh_decode(const void *fh, unsigned len, struct fh_view *out);

/* Big-endian helpers for payloads. */
static inline void fh_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t fh_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fh_put_be64(uint8_t *p, uint64_t v)
{
	fh_put_be32(p, (uint32_t)(v >> 32));
	fh_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t fh_get_be64(const uint8_t *p)
{
	return (uint64_t)fh_get_be32(p) << 32 | fh_get_be32(p + 4);
}

#endif
