/*
 * Epoch-based reclamation: an object retired while a reader that may hold
 * it runs is freed only after that reader leaves; readers that entered
 * after the retirement never hold it up; and under threads swapping and
 * reading a shared pointer nothing is read after it is freed (the
 * sanitizer builds run this too).
 */
#include "unit.h"

#include "ebr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static int freed;

static void count_free(void *p)
{
	freed++;
	free(p);
}

static void test_no_reader_frees_at_once(void **state)
{
	(void)state;
	freed = 0;
	ebr_retire(malloc(16), count_free);
	assert_int_equal(ebr_pending(), 1);
	ebr_reclaim();
	assert_int_equal(freed, 1);
	assert_int_equal(ebr_pending(), 0);
}

struct holder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage; /* 1: entered, 2: may leave, 3: left */
};

static void set_stage(struct holder *h, int s)
{
	pthread_mutex_lock(&h->lock);
	h->stage = s;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void wait_stage(struct holder *h, int s)
{
	pthread_mutex_lock(&h->lock);
	while (h->stage < s)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void *hold(void *p)
{
	struct holder *h = p;
	ebr_enter();
	ebr_enter(); /* nested: only the outer leave counts */
	ebr_leave();
	set_stage(h, 1);
	wait_stage(h, 2);
	ebr_leave();
	set_stage(h, 3);
	return NULL;
}

static void test_reader_holds_it_until_it_leaves(void **state)
{
	(void)state;
	freed = 0;
	struct holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hold, &h), 0);
	wait_stage(&h, 1);
	ebr_retire(malloc(16), count_free);
	ebr_reclaim();
	assert_int_equal(freed, 0); /* the reader may have loaded it */
	set_stage(&h, 2);
	wait_stage(&h, 3);
	ebr_reclaim();
	assert_int_equal(freed, 1);
	pthread_join(t, NULL);
}

static void test_later_reader_does_not_hold_it(void **state)
{
	(void)state;
	freed = 0;
	ebr_retire(malloc(16), count_free);
	struct holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, hold, &h), 0);
	wait_stage(&h, 1);
	ebr_reclaim(); /* entered after the retirement: it cannot hold the object */
	assert_int_equal(freed, 1);
	set_stage(&h, 2);
	pthread_join(t, NULL);
}

/* ---- threads reading a pointer that the main thread keeps replacing ---- */

struct cell {
	_Atomic unsigned magic;
	unsigned value;
};
#define MAGIC 0x5eedu

static struct cell *_Atomic shared;
static atomic_bool stop;
static atomic_long bad_reads;

static void cell_free(void *p)
{
	struct cell *c = p;
	atomic_store(&c->magic, 0); /* a reader still holding it would see this */
	free(c);
}

static void *reader(void *p)
{
	(void)p;
	while (!atomic_load(&stop)) {
		ebr_enter();
		struct cell *c = atomic_load(&shared);
		for (int i = 0; i < 50; i++)
			if (atomic_load(&c->magic) != MAGIC)
				atomic_fetch_add(&bad_reads, 1);
		ebr_leave();
	}
	return NULL;
}

static void test_swapping_under_readers(void **state)
{
	(void)state;
	struct cell *first = malloc(sizeof(*first));
	atomic_init(&first->magic, MAGIC);
	atomic_store(&shared, first);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
	for (unsigned n = 0; n < 20000; n++) {
		struct cell *c = malloc(sizeof(*c));
		atomic_init(&c->magic, MAGIC);
		c->value = n;
		ebr_retire(atomic_exchange(&shared, c), cell_free);
		if (n % 64 == 0)
			ebr_reclaim();
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ebr_reclaim();
	assert_int_equal(ebr_pending(), 0);
	assert_int_equal(atomic_load(&bad_reads), 0);
	free(atomic_load(&shared));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_reader_frees_at_once),
		cmocka_unit_test(test_reader_holds_it_until_it_leaves),
		cmocka_unit_test(test_later_reader_does_not_hold_it),
		cmocka_unit_test(test_swapping_under_readers),
	};
	return cmocka_run_group_tests_name("ebr", tests, NULL, NULL);
}
