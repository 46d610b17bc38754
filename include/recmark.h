/*
 * Record-mark framing (RFC 5531 section 11) of a TCP byte stream, apart
 * from sockets: the connection (server/rpc/conn.c) feeds it what it reads,
 * and the fuzz target (tests/fuzz) feeds it whole inputs, so both cut
 * records with the same code and the same limits.
 *
 * Each fragment starts with a 4-byte big-endian mark: the top bit says it
 * is the record's last fragment, the other 31 bits its length. A record is
 * bounded (TRANSPORT_MAX_RECORD) before anything is allocated for it.
 */
#ifndef LOOPNFS_RECMARK_H
#define LOOPNFS_RECMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The framing state of one stream; zero-initialised to start. */
struct rm_framer {
	uint8_t hdr[4];
	unsigned hdr_have;
	uint32_t frag_left; /* body bytes of the current fragment still to come */
	bool last_frag;
	bool in_body;
	uint8_t *rec; /* the record so far (malloc'ed, one spare byte) */
	size_t rec_len;
};

enum rm_status {
	RM_NEED_MORE, /* every byte given was consumed; no record completed */
	RM_RECORD,    /* a record is complete: take it with rm_take */
	RM_TOO_BIG,   /* the record would exceed the limit: the stream is unusable */
	RM_NO_MEMORY,
};

/*
 * Consume bytes of the stream, stopping right after the first record that
 * completes. *used: the bytes consumed (all of n unless RM_RECORD).
 */
enum rm_status rm_feed(struct rm_framer *f, const uint8_t *p, size_t n, size_t *used);

/* Inside a fragment's body: how many of its bytes are still to come (0: not in a body). */
size_t rm_body_left(const struct rm_framer *f);
/* Where the next body bytes go, for reading them straight into the record. */
uint8_t *rm_body_tail(struct rm_framer *f);
/* n bytes were written at rm_body_tail; RM_RECORD when that completed the record. */
enum rm_status rm_body_added(struct rm_framer *f, size_t n);

/* The completed record: the caller owns (and frees) *rec; the framer starts a new one. */
void rm_take(struct rm_framer *f, uint8_t **rec, size_t *len);
/* Drop a partial record (the stream ended or was abandoned). */
void rm_free(struct rm_framer *f);

#endif
