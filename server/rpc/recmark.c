/* Record-mark framing of a byte stream (include/recmark.h): no sockets, no logging. */
#include "recmark.h"
#include "transport.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* A fragment's body is complete: a last fragment completes the record. */
static enum rm_status fragment_done(struct rm_framer *f)
{
	f->in_body = false;
	return f->last_frag ? RM_RECORD : RM_NEED_MORE;
}

/* The 4 bytes of a mark are in: bound the record, then make room for the fragment. */
static enum rm_status start_fragment(struct rm_framer *f)
{
	uint32_t rm;
	memcpy(&rm, f->hdr, 4);
	rm = ntohl(rm);
	f->hdr_have = 0;
	f->last_frag = rm & 0x80000000u;
	f->frag_left = rm & 0x7fffffffu;
	/* Bound the whole record before allocating anything. */
	if (f->rec_len + f->frag_left > TRANSPORT_MAX_RECORD)
		return RM_TOO_BIG;
	uint8_t *nr = realloc(f->rec, f->rec_len + f->frag_left + 1);
	if (!nr)
		return RM_NO_MEMORY;
	f->rec = nr;
	f->in_body = true;
	return RM_NEED_MORE;
}

enum rm_status rm_feed(struct rm_framer *f, const uint8_t *p, size_t n, size_t *used)
{
	*used = 0;
	while (*used < n) {
		if (!f->in_body) {
			size_t take = 4 - f->hdr_have;
			if (take > n - *used)
				take = n - *used;
			memcpy(f->hdr + f->hdr_have, p + *used, take);
			f->hdr_have += take;
			*used += take;
			if (f->hdr_have < 4)
				break;
			enum rm_status s = start_fragment(f);
			if (s != RM_NEED_MORE)
				return s;
		}
		/* Even with no bytes left: an empty fragment is complete at once. */
		size_t take = f->frag_left;
		if (take > n - *used)
			take = n - *used;
		memcpy(f->rec + f->rec_len, p + *used, take);
		*used += take;
		if (rm_body_added(f, take) == RM_RECORD)
			return RM_RECORD;
	}
	return RM_NEED_MORE;
}

size_t rm_body_left(const struct rm_framer *f)
{
	return f->in_body ? f->frag_left : 0;
}

uint8_t *rm_body_tail(struct rm_framer *f)
{
	return f->rec + f->rec_len;
}

enum rm_status rm_body_added(struct rm_framer *f, size_t n)
{
	f->rec_len += n;
	f->frag_left -= (uint32_t)n;
	return f->frag_left == 0 ? fragment_done(f) : RM_NEED_MORE;
}

void rm_take(struct rm_framer *f, uint8_t **rec, size_t *len)
{
	*rec = f->rec;
	*len = f->rec_len;
	f->rec = NULL;
	f->rec_len = 0;
}

void rm_free(struct rm_framer *f)
{
	free(f->rec);
	memset(f, 0, sizeof(*f));
}
