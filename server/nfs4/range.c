/*
 * A lock-owner's byte ranges as POSIX keeps them (fcntl F_SETLK on one
 * owner): sorted, disjoint, neighbours of one type merged. Ranges are
 * inclusive so that "to the end" (2^64 - 1) needs no special case; the
 * arithmetic never wraps.
 */
#include "st4_int.h"

enum st4_status st4_range_from(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end)
{
	if (length == 0)
		return ST4_ERR_INVAL;
	*start = offset;
	if (length == UINT64_MAX) {
		*end = UINT64_MAX;
		return ST4_OK;
	}
	/* offset + length may be 2^64 exactly (the last byte is 2^64 - 1), not more. */
	if (length - 1 > UINT64_MAX - offset)
		return ST4_ERR_INVAL;
	*end = offset + (length - 1);
	return ST4_OK;
}

uint64_t st4_range_length(uint64_t start, uint64_t end)
{
	if (end == UINT64_MAX)
		return UINT64_MAX;
	return end - start + 1;
}

static bool overlaps(const struct st4_range *r, uint64_t start, uint64_t end)
{
	return r->start <= end && r->end >= start;
}

static bool touches(const struct st4_range *a, const struct st4_range *b)
{
	return a->end != UINT64_MAX && a->end + 1 == b->start;
}

/* Merge neighbours of one type in place; the new count. */
static unsigned merge_adjacent(struct st4_range *r, unsigned n)
{
	unsigned w = 0;
	for (unsigned i = 0; i < n; i++) {
		if (w > 0 && r[w - 1].type == r[i].type && touches(&r[w - 1], &r[i])) {
			r[w - 1].end = r[i].end;
			continue;
		}
		r[w++] = r[i];
	}
	return w;
}

/*
 * The pieces, in order: ranges wholly before, the part before start of the
 * one straddling it, the new range, the part after end of the one
 * straddling that, ranges wholly after; then neighbours merged.
 */
unsigned st4_range_apply(const struct st4_range *in, unsigned n, uint64_t start, uint64_t end,
			 enum st4_lock_type type, struct st4_range *out)
{
	struct st4_range tail = { 0 };
	bool have_tail = false;
	unsigned w = 0, i = 0;

	for (; i < n && in[i].end < start; i++)
		out[w++] = in[i];
	for (; i < n && overlaps(&in[i], start, end); i++) {
		if (in[i].start < start)
			out[w++] = (struct st4_range){ .start = in[i].start,
						       .end = start - 1,
						       .type = in[i].type };
		if (in[i].end > end) {
			tail = (struct st4_range){ .start = end + 1,
						   .end = in[i].end,
						   .type = in[i].type };
			have_tail = true;
		}
	}
	if (type != ST4_LOCK_UNLOCK)
		out[w++] = (struct st4_range){ .start = start, .end = end, .type = type };
	if (have_tail)
		out[w++] = tail;
	for (; i < n; i++)
		out[w++] = in[i];
	return merge_adjacent(out, w);
}

int st4_range_conflict(const struct st4_range *in, unsigned n, uint64_t start, uint64_t end,
		       enum st4_lock_type type)
{
	for (unsigned i = 0; i < n; i++) {
		if (in[i].start > end)
			break;
		if (overlaps(&in[i], start, end) &&
		    (type == ST4_LOCK_WRITE || in[i].type == ST4_LOCK_WRITE))
			return (int)i;
	}
	return -1;
}
