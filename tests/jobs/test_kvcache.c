/* Unit tests of job_kv, the paged KV block pool: LRU allocation and eviction order, prefix-cache
 * registration and hits, and the hash table against a plain reference under random operations. */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/kvcache.h"

static job_kv *make_kv(uint32_t blocks, bool caching) {
  char err[200];
  job_kv *kv = NULL;
  CU_ASSERT_FATAL(job_kv_create(&kv, blocks, caching, err, sizeof err) == 0);
  return kv;
}

static void assert_valid(const job_kv *kv) {
  char err[200] = "";
  int rc = job_kv_check(kv, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
}

static void test_zero_blocks_is_an_error_with_a_message(void) {
  char err[200] = "";
  job_kv *kv = (job_kv *)1;
  CU_ASSERT(job_kv_create(&kv, 0, true, err, sizeof err) == -1);
  CU_ASSERT(kv == NULL);
  CU_ASSERT(strstr(err, "0 blocks") != NULL);
}

static void test_fresh_blocks_are_allocated_in_id_order(void) {
  job_kv *kv = make_kv(4, true);
  for (int32_t b = 0; b < 4; b++)
    CU_ASSERT(job_kv_alloc(kv) == b);
  CU_ASSERT(job_kv_used_blocks(kv) == 4 && job_kv_free_blocks(kv) == 0);
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_released_blocks_queue_at_the_tail_and_keep_their_hash(void) {
  job_kv *kv = make_kv(4, true);
  int32_t a = job_kv_alloc(kv), b = job_kv_alloc(kv); /* 0, 1 */
  CU_ASSERT(job_kv_register(kv, a, 100));
  job_kv_release(kv, b); /* unhashed: free */
  job_kv_release(kv, a); /* hashed: cached */
  CU_ASSERT(job_kv_free_blocks(kv) == 3 && job_kv_cached_blocks(kv) == 1);
  CU_ASSERT(job_kv_lru_at(kv, 0) == 2 && job_kv_lru_at(kv, 1) == 3);
  CU_ASSERT(job_kv_lru_at(kv, 2) == 1 && job_kv_lru_at(kv, 3) == 0);
  CU_ASSERT(job_kv_lru_at(kv, 4) == JOB_KV_NONE);
  CU_ASSERT(job_kv_lookup(kv, 100) == 0);
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_allocation_evicts_the_lru_head_and_forgets_its_hash(void) {
  job_kv *kv = make_kv(2, true);
  int32_t a = job_kv_alloc(kv), b = job_kv_alloc(kv);
  CU_ASSERT(job_kv_register(kv, a, 7) && job_kv_register(kv, b, 8));
  job_kv_release(kv, a); /* a is least recently used */
  job_kv_release(kv, b);
  CU_ASSERT(job_kv_cached_blocks(kv) == 2);
  CU_ASSERT(job_kv_alloc(kv) == a);
  CU_ASSERT(job_kv_lookup(kv, 7) == JOB_KV_NONE);
  CU_ASSERT(job_kv_lookup(kv, 8) == b);
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_touch_revives_a_cached_block_out_of_the_queue(void) {
  job_kv *kv = make_kv(3, true);
  int32_t a = job_kv_alloc(kv);
  CU_ASSERT(job_kv_register(kv, a, 42));
  job_kv_release(kv, a);
  CU_ASSERT(job_kv_refs(kv, a) == 0 && job_kv_cached_blocks(kv) == 1);
  job_kv_touch(kv, job_kv_lookup(kv, 42));
  job_kv_touch(kv, a); /* a second sharer */
  CU_ASSERT(job_kv_refs(kv, a) == 2 && job_kv_cached_blocks(kv) == 0 &&
            job_kv_used_blocks(kv) == 1);
  CU_ASSERT(job_kv_alloc(kv) != a && job_kv_alloc(kv) != a);
  job_kv_release(kv, a);
  CU_ASSERT(job_kv_used_blocks(kv) == 3); /* one sharer left */
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_a_duplicate_hash_is_not_registered(void) {
  job_kv *kv = make_kv(2, true);
  int32_t a = job_kv_alloc(kv), b = job_kv_alloc(kv);
  CU_ASSERT(job_kv_register(kv, a, 5));
  CU_ASSERT(!job_kv_register(kv, b, 5));
  CU_ASSERT(job_kv_lookup(kv, 5) == a);
  job_kv_release(kv, b);
  CU_ASSERT(job_kv_free_blocks(kv) == 1 && job_kv_cached_blocks(kv) == 0);
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_without_caching_nothing_is_registered(void) {
  job_kv *kv = make_kv(2, false);
  int32_t a = job_kv_alloc(kv);
  CU_ASSERT(!job_kv_register(kv, a, 5));
  CU_ASSERT(job_kv_lookup(kv, 5) == JOB_KV_NONE);
  job_kv_release(kv, a);
  CU_ASSERT(job_kv_free_blocks(kv) == 2);
  assert_valid(kv);
  job_kv_destroy(kv);
}

static void test_without_cached_blocks_the_block_released_last_is_taken(void) {
  job_kv *kv = make_kv(4, true);
  int32_t a = job_kv_alloc(kv), b = job_kv_alloc(kv); /* 0, 1 */
  job_kv_release(kv, a);
  job_kv_release(kv, b);
  CU_ASSERT(job_kv_alloc(kv) == b && job_kv_alloc(kv) == a);
  CU_ASSERT(job_kv_alloc(kv) == 2); /* then the never-used ones, in id order */
  assert_valid(kv);
  job_kv_destroy(kv);
}

/* The reference queue: never-used blocks (ids next_fresh and up) ahead of released ones in release
 * order. Removes `b` from it. */
static void reference_take(int32_t *queue, int *len, int32_t *next_fresh, int32_t b) {
  if (b == *next_fresh) {
    (*next_fresh)++;
    return;
  }
  int k = 0;
  while (k < *len && queue[k] != b)
    k++;
  CU_ASSERT_FATAL(k < *len);
  memmove(&queue[k], &queue[k + 1], (size_t)(*len - k - 1) * sizeof *queue);
  (*len)--;
}

/* Random allocations, registrations (from a small hash space, so duplicates and probe chains are
 * common; none in the first quarter, while the cache only stacks released blocks), touches and
 * releases; the table must agree with a plain array after every operation, and every allocation
 * must take vLLM's block (the reference queue's head) whenever any queued block holds a hash;
 * otherwise any queued block, all being alike. */
static void test_random_operations_match_a_reference_table(void) {
  enum { BLOCKS = 64, HASHES = 96, OPS = 200000 };
  job_kv *kv = make_kv(BLOCKS, true);
  int32_t owner[HASHES];      /* reference: block holding hash h, or -1 */
  int64_t block_hash[BLOCKS]; /* reference: hash of block b, or -1 */
  uint32_t refs[BLOCKS] = {0};
  int32_t queue[BLOCKS], next_fresh = 0;
  int queued = 0;
  uint32_t heads_taken = 0, others_taken = 0;
  for (int h = 0; h < HASHES; h++)
    owner[h] = -1;
  for (int b = 0; b < BLOCKS; b++)
    block_hash[b] = -1;
  uint64_t state = 12345;
  for (int op = 0; op < OPS; op++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    uint32_t pick = (uint32_t)(state >> 33);
    uint32_t kind = pick % 4, b = (pick / 4) % BLOCKS, h = (pick / 256) % HASHES;
    /* Hashes are spread far apart so that several share a home slot after the table's mixing. */
    uint64_t key = (uint64_t)h * 0x100000001u;
    if (kind == 0 && job_kv_free_blocks(kv) + job_kv_cached_blocks(kv) > 0) {
      int32_t got = job_kv_alloc(kv);
      bool cached = false;
      for (int k = 0; k < queued; k++)
        cached |= block_hash[queue[k]] >= 0;
      int32_t head = next_fresh < BLOCKS ? next_fresh : queue[0];
      CU_ASSERT_FATAL(!cached || got == head);
      CU_ASSERT_FATAL(refs[got] == 0);
      heads_taken += got == head;
      others_taken += got != head;
      reference_take(queue, &queued, &next_fresh, got);
      if (block_hash[got] >= 0)
        owner[block_hash[got]] = -1;
      block_hash[got] = -1;
      refs[got] = 1;
    } else if (kind == 1 && refs[b] > 0 && block_hash[b] < 0 && op >= OPS / 4) {
      /* (no hash in the first quarter: the cache stacks its released blocks until the first) */
      bool ok = job_kv_register(kv, (int32_t)b, key);
      CU_ASSERT_FATAL(ok == (owner[h] < 0));
      if (ok) {
        owner[h] = (int32_t)b;
        block_hash[b] = h;
      }
    } else if (kind == 2 && owner[h] >= 0) {
      job_kv_touch(kv, owner[h]);
      if (refs[owner[h]]++ == 0)
        reference_take(queue, &queued, &next_fresh, owner[h]);
    } else if (kind == 3 && refs[b] > 0) {
      job_kv_release(kv, (int32_t)b);
      if (--refs[b] == 0)
        queue[queued++] = (int32_t)b;
    }
    for (int k = 0; k < HASHES; k++)
      CU_ASSERT_FATAL(job_kv_lookup(kv, (uint64_t)k * 0x100000001u) == owner[k]);
    if (op % 1000 == 0)
      assert_valid(kv);
  }
  CU_ASSERT(heads_taken > 1000 && others_taken > 1000); /* both rules were exercised */
  assert_valid(kv);
  job_kv_destroy(kv);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"zero_blocks_is_an_error_with_a_message", test_zero_blocks_is_an_error_with_a_message},
      {"fresh_blocks_are_allocated_in_id_order", test_fresh_blocks_are_allocated_in_id_order},
      {"released_blocks_queue_at_the_tail_and_keep_their_hash",
       test_released_blocks_queue_at_the_tail_and_keep_their_hash},
      {"allocation_evicts_the_lru_head_and_forgets_its_hash",
       test_allocation_evicts_the_lru_head_and_forgets_its_hash},
      {"touch_revives_a_cached_block_out_of_the_queue",
       test_touch_revives_a_cached_block_out_of_the_queue},
      {"a_duplicate_hash_is_not_registered", test_a_duplicate_hash_is_not_registered},
      {"without_caching_nothing_is_registered", test_without_caching_nothing_is_registered},
      {"without_cached_blocks_the_block_released_last_is_taken",
       test_without_cached_blocks_the_block_released_last_is_taken},
      {"random_operations_match_a_reference_table", test_random_operations_match_a_reference_table},
      {NULL, NULL},
  };
  return harness_run("kvcache", tests, argc > 1 ? argv[1] : NULL, true);
}
