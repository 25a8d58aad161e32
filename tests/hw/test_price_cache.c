/* Unit tests of hw/price_cache: a hit returns the uncached price bit for bit, every field of the
 * batch is part of the key (keys with equal hashes stay apart), the least recently used way is the
 * one evicted, and the counts say what happened. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hw/hw.h"
#include "hw/price_cache.h"

static hw_catalog *cat;
static hw_deploy llama; /* Llama-2-70B on 4 H100s under a 500 W cap: the cap's pow() is priced */
static char err[512];

static int suite_init(void) {
  if (!(cat = hw_catalog_create(err, sizeof err)))
    return -1;
  hw_deploy_config cfg = {.tp = 4, .pp = 1, .power_cap_w = 500.0};
  const hw_accel *a = hw_catalog_accel(cat, "H100-SXM-80GB");
  const hw_model *m = hw_catalog_model(cat, "Llama-2-70B");
  if (!a || !m || hw_deploy_init(&llama, a, m, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "deploy: %s\n", err);
    return -1;
  }
  return 0;
}
static int suite_clean(void) {
  hw_catalog_destroy(cat);
  return 0;
}

/* Every key lands in the same set: collisions on demand. */
static uint64_t same_hash(const uint64_t *words, uint32_t count) {
  (void)words, (void)count;
  return 42;
}

/* A mixed batch: two prefill chunks and `decode_seqs` decodes. */
static hw_batch mixed(uint32_t decode_seqs, uint64_t decode_ctx_tokens) {
  return (hw_batch){.prefill_seqs = 2,
                    .prefill_tokens = 768,
                    .prefill_attn_pairs = 512 * 513 / 2 + 256 * 1024 + 256 * 257 / 2,
                    .prefill_ctx_tokens = 512 + 1280,
                    .decode_seqs = decode_seqs,
                    .decode_ctx_tokens = decode_ctx_tokens};
}

typedef struct price {
  int64_t duration_ns;
  double power_w;
} price;

static price uncached(const hw_batch *b) {
  hw_breakdown cost;
  price p = {hw_iteration_ns(&llama, b, &cost), cost.power_w};
  return p;
}

static price cached(hw_price_cache *c, const hw_batch *b) {
  price p;
  p.duration_ns = hw_price_cache_iteration_ns(c, b, &p.power_w);
  return p;
}

static bool same_bits(price a, price b) {
  return a.duration_ns == b.duration_ns && memcmp(&a.power_w, &b.power_w, sizeof a.power_w) == 0;
}

static void test_a_hit_returns_the_uncached_price_bit_for_bit(void) {
  hw_price_cache *c = hw_price_cache_create(&llama, 10, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  /* Decode-only shapes as leaps price them (contexts growing by one token per sequence), and
   * mixed ones, each looked up twice. */
  for (int round = 0; round < 2; round++)
    for (uint32_t seqs = 1; seqs <= 4; seqs++)
      for (uint64_t step = 0; step < 3; step++) {
        hw_batch d = {.decode_seqs = seqs, .decode_ctx_tokens = seqs * (1000 + step)};
        hw_batch m = mixed(seqs, seqs * (1000 + step));
        CU_ASSERT(same_bits(cached(c, &d), uncached(&d)));
        CU_ASSERT(same_bits(cached(c, &m), uncached(&m)));
      }
  hw_price_cache_counts n = hw_price_cache_get_counts(c);
  CU_ASSERT_EQUAL(n.misses, 24); /* 24 shapes in 1024 sets: the second round hits */
  CU_ASSERT_EQUAL(n.hits, 24);
  CU_ASSERT_EQUAL(n.evictions, 0);
  hw_price_cache_destroy(c);
}

static void test_keys_with_equal_hashes_are_told_apart_by_every_field(void) {
  hw_batch base = mixed(8, 8 * 2000);
  hw_batch changed[6];
  for (int f = 0; f < 6; f++)
    changed[f] = base;
  changed[0].prefill_seqs++;
  changed[1].prefill_tokens += 64;
  changed[2].prefill_attn_pairs += 100000;
  changed[3].prefill_ctx_tokens += 4096;
  changed[4].decode_seqs++;
  changed[5].decode_ctx_tokens += 100000;
  for (int f = 0; f < 6; f++) {
    /* The test can fail only if the field moves the price. */
    CU_ASSERT_FALSE(same_bits(uncached(&changed[f]), uncached(&base)));
    hw_price_cache *c = hw_price_cache_create(&llama, 0, same_hash);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(same_bits(cached(c, &base), uncached(&base)));
    CU_ASSERT(same_bits(cached(c, &changed[f]), uncached(&changed[f])));
    CU_ASSERT(same_bits(cached(c, &base), uncached(&base)));
    hw_price_cache_counts n = hw_price_cache_get_counts(c);
    CU_ASSERT_EQUAL(n.misses, 2);
    CU_ASSERT_EQUAL(n.hits, 1);
    hw_price_cache_destroy(c);
  }
}

static void test_shapes_alike_but_for_small_counts_are_told_apart(void) {
  /* Counts that share a key word (prefill sequences and tokens) must not alias: 1 | 3 == 3 | 3. */
  hw_price_cache *c = hw_price_cache_create(&llama, 10, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  for (int round = 0; round < 2; round++)
    for (uint32_t seqs = 1; seqs <= 4; seqs++)
      for (uint32_t tokens = seqs; tokens <= 4; tokens++) {
        hw_batch b = {.prefill_seqs = seqs,
                      .prefill_tokens = tokens,
                      .prefill_attn_pairs = tokens,
                      .prefill_ctx_tokens = tokens};
        CU_ASSERT(same_bits(cached(c, &b), uncached(&b)));
      }
  CU_ASSERT_EQUAL(hw_price_cache_get_counts(c).misses, 10);
  CU_ASSERT_EQUAL(hw_price_cache_get_counts(c).hits, 10);
  hw_price_cache_destroy(c);
}

static void test_the_least_recently_used_way_is_evicted(void) {
  enum { W = HW_PRICE_CACHE_WAYS };
  hw_price_cache *c = hw_price_cache_create(&llama, 0, same_hash); /* one set */
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  hw_batch k[W + 1]; /* k[W]: one more than fits */
  for (uint32_t i = 0; i <= W; i++)
    k[i] = mixed(i + 1, 100 * (i + 1));
  for (uint32_t i = 0; i < W; i++)
    cached(c, &k[i]);
  cached(c, &k[0]); /* a hit: k[1] is now the least recently used */
  CU_ASSERT(same_bits(cached(c, &k[W]), uncached(&k[W])));
  hw_price_cache_counts n = hw_price_cache_get_counts(c);
  CU_ASSERT_EQUAL(n.evictions, 1);
  CU_ASSERT_EQUAL(n.hits, 1);
  CU_ASSERT(same_bits(cached(c, &k[0]), uncached(&k[0]))); /* kept */
  CU_ASSERT_EQUAL(hw_price_cache_get_counts(c).hits, 2);
  CU_ASSERT(same_bits(cached(c, &k[1]), uncached(&k[1]))); /* evicted: priced again */
  n = hw_price_cache_get_counts(c);
  CU_ASSERT_EQUAL(n.hits, 2);
  CU_ASSERT_EQUAL(n.misses, W + 2);
  CU_ASSERT_EQUAL(n.evictions, 2); /* k[1] took k[2]'s place, now the least recently used */
  CU_ASSERT(same_bits(cached(c, &k[0]), uncached(&k[0])));
  CU_ASSERT(same_bits(cached(c, &k[W]), uncached(&k[W])));
  CU_ASSERT_EQUAL(hw_price_cache_get_counts(c).hits, 4);
  CU_ASSERT(same_bits(cached(c, &k[2]), uncached(&k[2]))); /* gone */
  CU_ASSERT_EQUAL(hw_price_cache_get_counts(c).hits, 4);
  hw_price_cache_destroy(c);
}

static void test_the_default_hash_sends_neighbouring_shapes_to_many_sets(void) {
  /* Leaps price shapes one token apart per sequence: they must not pile into a few sets. */
  enum { SETS = 64, SHAPES = 640 };
  uint32_t per_set[SETS] = {0};
  for (uint64_t i = 0; i < SHAPES; i++) {
    uint64_t words[5] = {0, 0, 0, 8, 8 * (1000 + i)};
    per_set[hw_price_cache_hash(words, 5) % SETS]++;
  }
  uint32_t fullest = 0;
  for (int s = 0; s < SETS; s++)
    fullest = per_set[s] > fullest ? per_set[s] : fullest;
  CU_ASSERT(fullest <= 3 * SHAPES / SETS); /* a uniform hash: 10 per set, rarely over 20 */
}

/* A leap's prices from hw_price_cache_decode_run: each the uncached price of its shape, across
 * chunk boundaries, hit when priced again, and the same when a one-set table evicts chunks. */
static void test_a_decode_run_prices_each_shape_as_pricing_does(void) {
  enum { N = 150 }; /* more than two chunks of one progression */
  const hw_batch firsts[] = {{.decode_seqs = 3, .decode_ctx_tokens = 3 * 1000 + 2},
                             {.decode_seqs = 1, .decode_ctx_tokens = 63},
                             {.decode_seqs = 7, .decode_ctx_tokens = 7 * 64 * 5 - 1},
                             mixed(4, 4000)}; /* not a decode run: shape by shape */
  for (int one_set = 0; one_set < 2; one_set++) {
    hw_price_cache *c = hw_price_cache_create(&llama, one_set ? 0 : 10, one_set ? same_hash : NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    uint64_t priced = 0;
    for (int round = 0; round < 2; round++)
      for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++) {
        int64_t duration_ns[N];
        double power_w[N];
        hw_price_cache_decode_run(c, &firsts[f], N, duration_ns, power_w);
        hw_batch b = firsts[f];
        for (uint32_t j = 0; j < N; j++) {
          b.decode_ctx_tokens += b.decode_seqs;
          CU_ASSERT(same_bits((price){duration_ns[j], power_w[j]}, uncached(&b)));
        }
        priced += N;
      }
    hw_price_cache_counts n = hw_price_cache_get_counts(c);
    CU_ASSERT_EQUAL(n.hits + n.misses, priced);
    /* one set of 4 ways for the three runs' 8 chunks and the 150 mixed shapes: evictions; else the
     * second round hits every price */
    CU_ASSERT(one_set ? n.evictions > 0
                      : n.misses == priced / 2 && n.hits == priced / 2 && n.evictions == 0);
    hw_price_cache_destroy(c);
  }
  /* The test can fail only if contexts move the price. */
  hw_batch a = firsts[0], b = firsts[0];
  b.decode_ctx_tokens += 64 * 3;
  CU_ASSERT_FALSE(same_bits(uncached(&a), uncached(&b)));
}

static void test_a_table_too_large_is_refused(void) {
  CU_ASSERT_PTR_NULL(hw_price_cache_create(&llama, 25, NULL));
  hw_price_cache_destroy(NULL);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hw_price_cache", suite_init, suite_clean);
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
#define T(f) {#f, f}
      T(test_a_hit_returns_the_uncached_price_bit_for_bit),
      T(test_keys_with_equal_hashes_are_told_apart_by_every_field),
      T(test_shapes_alike_but_for_small_counts_are_told_apart),
      T(test_the_least_recently_used_way_is_evicted),
      T(test_the_default_hash_sends_neighbouring_shapes_to_many_sets),
      T(test_a_decode_run_prices_each_shape_as_pricing_does),
      T(test_a_table_too_large_is_refused),
#undef T
  };
  for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
    if (!s || !CU_add_test(s, tests[i].name, tests[i].fn)) {
      CU_cleanup_registry();
      return 1;
    }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
