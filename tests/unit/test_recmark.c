/*
 * Record-mark framing (server/rpc/recmark.c), the code every TCP byte goes
 * through before anything parses it: whole and fragmented records, records
 * split across reads at every byte, empty fragments, the record limit, and
 * bodies read straight into the record.
 */
#include "unit.h"

#include "recmark.h"
#include "transport.h"

#include <stdlib.h>
#include <string.h>

#define LAST 0x80000000u

/* Append one fragment (mark + body) to a stream. */
static void put_fragment(struct ut_buf *b, const void *body, uint32_t len, bool last)
{
	ut_put32(b, len | (last ? LAST : 0));
	ut_put_raw(b, body, len);
}

/* Feed a stream in pieces of `step` bytes; returns the records' bodies joined with '|'. */
static char *frame_in_steps(const struct ut_buf *b, size_t step, enum rm_status *end)
{
	struct rm_framer f = { 0 };
	struct ut_buf out = { 0 };
	size_t off = 0;
	*end = RM_NEED_MORE;
	while (off < b->len) {
		size_t n = b->len - off < step ? b->len - off : step;
		size_t used;
		enum rm_status s = rm_feed(&f, b->p + off, n, &used);
		off += used;
		if (s == RM_RECORD) {
			uint8_t *rec;
			size_t len;
			rm_take(&f, &rec, &len);
			ut_put_raw(&out, rec, len);
			ut_put_raw(&out, "|", 1);
			free(rec);
			continue;
		}
		assert_int_equal(used, n); /* only a record stops short of the piece */
		if (s != RM_NEED_MORE) {
			*end = s;
			break;
		}
	}
	if (*end == RM_NEED_MORE && (f.hdr_have || f.in_body || f.rec_len))
		*end = RM_RECORD; /* a record left incomplete: reported as such */
	rm_free(&f);
	ut_put_raw(&out, "", 1);
	return (char *)out.p;
}

static void expect_records(const struct ut_buf *b, const char *want)
{
	for (size_t step = 1; step <= b->len; step++) {
		enum rm_status end;
		char *got = frame_in_steps(b, step, &end);
		if (strcmp(got, want) != 0 || end != RM_NEED_MORE)
			fail_msg("in steps of %zu: got \"%s\" (end %d), want \"%s\"", step, got,
				 (int)end, want);
		free(got);
	}
}

static void test_whole_and_fragmented_records(void **state)
{
	(void)state;
	struct ut_buf b = { 0 };
	put_fragment(&b, "hello", 5, true);
	put_fragment(&b, "fr", 2, false);
	put_fragment(&b, "ag", 2, false);
	put_fragment(&b, "ments", 5, true);
	expect_records(&b, "hello|fragments|");
	ut_buf_free(&b);
}

static void test_empty_fragments(void **state)
{
	(void)state;
	struct ut_buf b = { 0 };
	/* An empty last fragment is a complete, empty record, even as the stream's last bytes. */
	put_fragment(&b, "", 0, true);
	put_fragment(&b, "", 0, false);
	put_fragment(&b, "x", 1, false);
	put_fragment(&b, "", 0, true);
	put_fragment(&b, "", 0, true);
	expect_records(&b, "|x||");
	ut_buf_free(&b);
}

static void test_a_record_stops_the_feed(void **state)
{
	(void)state;
	struct ut_buf b = { 0 };
	put_fragment(&b, "one", 3, true);
	put_fragment(&b, "two", 3, true);
	struct rm_framer f = { 0 };
	size_t used;
	assert_int_equal(rm_feed(&f, b.p, b.len, &used), RM_RECORD);
	assert_int_equal(used, 7);
	uint8_t *rec;
	size_t len;
	rm_take(&f, &rec, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(rec, "one", 3);
	free(rec);
	assert_int_equal(rm_feed(&f, b.p + used, b.len - used, &used), RM_RECORD);
	assert_int_equal(used, 7);
	rm_take(&f, &rec, &len);
	assert_memory_equal(rec, "two", 3);
	free(rec);
	rm_free(&f);
	ut_buf_free(&b);
}

static enum rm_status feed_mark(struct rm_framer *f, uint32_t mark)
{
	uint8_t be[4] = { (uint8_t)(mark >> 24), (uint8_t)(mark >> 16), (uint8_t)(mark >> 8),
			  (uint8_t)mark };
	size_t used;
	enum rm_status s = rm_feed(f, be, 4, &used);
	assert_int_equal(used, 4);
	return s;
}

static void test_record_limit(void **state)
{
	(void)state;
	struct rm_framer f = { 0 };
	/* One fragment over the limit: refused before anything is allocated. */
	assert_int_equal(feed_mark(&f, (TRANSPORT_MAX_RECORD + 1) | LAST), RM_TOO_BIG);
	assert_null(f.rec);
	rm_free(&f);

	/* Exactly the limit is accepted... */
	assert_int_equal(feed_mark(&f, TRANSPORT_MAX_RECORD | LAST), RM_NEED_MORE);
	assert_int_equal(rm_body_left(&f), TRANSPORT_MAX_RECORD);
	rm_free(&f);

	/* ...and the limit is on the whole record, not each fragment. */
	uint32_t half = TRANSPORT_MAX_RECORD / 2;
	assert_int_equal(feed_mark(&f, half), RM_NEED_MORE);
	assert_int_equal(rm_body_added(&f, half), RM_NEED_MORE);
	assert_int_equal(feed_mark(&f, (TRANSPORT_MAX_RECORD - half + 1) | LAST), RM_TOO_BIG);
	assert_int_equal(f.rec_len + f.frag_left, TRANSPORT_MAX_RECORD + 1); /* for the log */
	rm_free(&f);
}

static void test_body_read_into_the_record(void **state)
{
	(void)state;
	struct rm_framer f = { 0 };
	assert_int_equal(rm_body_left(&f), 0);
	assert_int_equal(feed_mark(&f, 6 | LAST), RM_NEED_MORE);
	assert_int_equal(rm_body_left(&f), 6);
	memcpy(rm_body_tail(&f), "abc", 3);
	assert_int_equal(rm_body_added(&f, 3), RM_NEED_MORE);
	assert_int_equal(rm_body_left(&f), 3);
	memcpy(rm_body_tail(&f), "def", 3);
	assert_int_equal(rm_body_added(&f, 3), RM_RECORD);
	assert_int_equal(rm_body_left(&f), 0);
	uint8_t *rec;
	size_t len;
	rm_take(&f, &rec, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(rec, "abcdef", 6);
	free(rec);
	rm_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_and_fragmented_records),
		cmocka_unit_test(test_empty_fragments),
		cmocka_unit_test(test_a_record_stops_the_feed),
		cmocka_unit_test(test_record_limit),
		cmocka_unit_test(test_body_read_into_the_record),
	};
	return cmocka_run_group_tests_name("recmark", tests, NULL, NULL);
}
