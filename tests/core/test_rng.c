/* Unit tests of core_rng: each LP's stream is Philox4x32-10 of (draw counter, LP id) under the
 * seed, so it depends on nothing else, and the derived draws (below, uniform, exponential) are
 * sound. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"
#include "harness.h"

enum { SAMPLE_DRAWS = 1000000 };

/* Pearson's statistic of `counts` against a uniform expectation over `buckets`. */
static double chi_square(const uint64_t *counts, size_t buckets, uint64_t draws) {
  double expected = (double)draws / (double)buckets, sum = 0;
  for (size_t i = 0; i < buckets; i++) {
    double d = (double)counts[i] - expected;
    sum += d * d / expected;
  }
  return sum;
}

/* Six standard deviations above the chi-square mean (Wilson-Hilferty): a fixed seed passes it
 * unless the draws are really skewed, and a modulo bias or a stuck bit fails it by orders. */
static double chi_square_bound(size_t buckets) {
  double df = (double)buckets - 1, s = 2.0 / (9.0 * df), z = 6.0;
  return df * pow(1.0 - s + z * sqrt(s), 3);
}

static void rng_seed0_lp0_matches_random123_known_answer(void) {
  /* Random123 tests/kat_vectors: "philox4x32 10 00000000 00000000 00000000 00000000 00000000
   * 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8" (counter, key, result). */
  const uint32_t expected[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
  core_rng rng;
  core_rng_init(&rng, 0, 0);
  for (int i = 0; i < 4; i++)
    CU_ASSERT_EQUAL(core_rng_u32(&rng), expected[i]);
}

static void rng_block_is_philox_of_counter_lp_and_seed(void) {
  /* High words of seed and counter included: both must reach Philox, not be truncated. */
  const uint64_t seeds[] = {1, 0xfedcba9876543210ull, 1ull << 32};
  const uint32_t lps[] = {0, 7, 0x80000001u};
  const uint64_t counters[] = {0, 1, 99, 1ull << 32, 0x123456789abull};
  for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++)
    for (size_t l = 0; l < sizeof lps / sizeof *lps; l++)
      for (size_t c = 0; c < sizeof counters / sizeof *counters; c++) {
        core_rng rng;
        core_rng_init(&rng, seeds[s], lps[l]);
        rng.counter = counters[c]; /* as if that many blocks had been drawn */
        philox4x32_ctr_t ctr = {{(uint32_t)counters[c], (uint32_t)(counters[c] >> 32), lps[l], 0}};
        philox4x32_key_t key = {{(uint32_t)seeds[s], (uint32_t)(seeds[s] >> 32)}};
        philox4x32_ctr_t block = philox4x32(ctr, key);
        for (int i = 0; i < 4; i++)
          CU_ASSERT_EQUAL(core_rng_u32(&rng), block.v[i]);
        CU_ASSERT_EQUAL(rng.counter, counters[c] + 1);
      }
}

static void rng_lp7_stream_is_the_same_alone_or_interleaved(void) {
  enum { DRAWS = 4099 }; /* not a whole number of 4-word blocks */
  static uint32_t alone[DRAWS];
  core_rng lp7;
  core_rng_init(&lp7, 42, 7);
  for (int i = 0; i < DRAWS; i++)
    alone[i] = core_rng_u32(&lp7);

  /* Now LP 7 draws among other LPs of the same seed, which draw in every way, in a random order. */
  const uint32_t others_ids[] = {0, 6, 8, 1000};
  enum { OTHERS = sizeof others_ids / sizeof *others_ids };
  core_rng others[OTHERS], schedule;
  for (int i = 0; i < OTHERS; i++)
    core_rng_init(&others[i], 42, others_ids[i]);
  core_rng_init(&schedule, 99, 0);
  core_rng_init(&lp7, 42, 7);
  int mismatches = 0;
  for (int i = 0; i < DRAWS;) {
    uint32_t who = core_rng_below(&schedule, OTHERS + 1);
    if (who == OTHERS) {
      mismatches += core_rng_u32(&lp7) != alone[i++];
      continue;
    }
    switch (core_rng_below(&schedule, 4)) {
    case 0: core_rng_u32(&others[who]); break;
    case 1: core_rng_uniform(&others[who]); break;
    case 2: core_rng_below(&others[who], 3); break;
    default: core_rng_exponential(&others[who], 5.0); break;
    }
  }
  CU_ASSERT_EQUAL(mismatches, 0);
}

/* Positions at which two streams of `draws` words agree. */
static int agreeing_draws(uint64_t seed_a, uint32_t lp_a, uint64_t seed_b, uint32_t lp_b,
                          int draws) {
  core_rng a, b;
  core_rng_init(&a, seed_a, lp_a);
  core_rng_init(&b, seed_b, lp_b);
  int same = 0;
  for (int i = 0; i < draws; i++)
    same += core_rng_u32(&a) == core_rng_u32(&b);
  return same;
}

static void rng_streams_differ_across_lps_and_seeds(void) {
  enum { DRAWS = 4096 }; /* independent streams agree at 4096 / 2^32 positions on average */
  CU_ASSERT_EQUAL(agreeing_draws(1, 7, 1, 7, DRAWS), DRAWS); /* the comparison itself works */
  CU_ASSERT(agreeing_draws(1, 7, 1, 8, DRAWS) <= 1);
  CU_ASSERT(agreeing_draws(1, 7, 1, 7 + (1u << 16), DRAWS) <= 1);
  CU_ASSERT(agreeing_draws(1, 7, 2, 7, DRAWS) <= 1);
  CU_ASSERT(agreeing_draws(1, 7, 1 + (1ull << 32), 7, DRAWS) <= 1); /* seed's high word counts */
  CU_ASSERT(agreeing_draws(1, 0, 0, 1, DRAWS) <= 1); /* seed and LP id are not interchangeable */
}

static void rng_below_stays_in_range_and_covers_small_ranges(void) {
  const uint32_t ranges[] = {1,        2,         3, 5, 7, 10, 1000, 1u << 31, (1u << 31) + 1,
                             3u << 30, UINT32_MAX};
  core_rng rng;
  core_rng_init(&rng, 3, 11);
  for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++) {
    uint32_t n = ranges[r], lowest = UINT32_MAX, highest = 0;
    int outside = 0;
    for (int i = 0; i < 20000; i++) {
      uint32_t v = core_rng_below(&rng, n);
      outside += v >= n;
      lowest = v < lowest ? v : lowest;
      highest = v > highest ? v : highest;
    }
    CU_ASSERT_EQUAL(outside, 0);
    if (n <= 10) { /* every value shows up in 20000 draws */
      CU_ASSERT_EQUAL(lowest, 0);
      CU_ASSERT_EQUAL(highest, n - 1);
    }
  }
}

/* Chi-square of core_rng_below(n) over `buckets` equal slices of [0, n). */
static void check_below_uniform(uint32_t n, uint32_t buckets) {
  uint64_t *counts = calloc(buckets, sizeof *counts);
  CU_ASSERT_PTR_NOT_NULL_FATAL(counts);
  core_rng rng;
  core_rng_init(&rng, 5, n);
  for (int i = 0; i < SAMPLE_DRAWS; i++)
    counts[(uint64_t)core_rng_below(&rng, n) * buckets / n]++;
  double stat = chi_square(counts, buckets, SAMPLE_DRAWS), bound = chi_square_bound(buckets);
  if (stat >= bound)
    printf("\n  below(%u) over %u buckets: chi-square %.1f >= %.1f\n", n, buckets, stat, bound);
  CU_ASSERT(stat < bound);
  free(counts);
}

static void rng_below_is_uniform_by_chi_square(void) {
  check_below_uniform(10, 10);
  check_below_uniform(1000, 1000);
  /* 2^32 is not a multiple of 3 * 2^30: plain modulo would make [0, 2^30) twice as likely. */
  check_below_uniform(3u << 30, 3);
  check_below_uniform((1u << 31) + 1, 16);
}

static void rng_uniform_is_in_unit_interval_and_uniform(void) {
  enum { BUCKETS = 64 };
  uint64_t counts[BUCKETS] = {0};
  core_rng rng;
  core_rng_init(&rng, 8, 8);
  int outside = 0;
  double sum = 0;
  for (int i = 0; i < SAMPLE_DRAWS; i++) {
    double u = core_rng_uniform(&rng);
    if (!(u >= 0.0 && u < 1.0)) {
      outside++;
      continue;
    }
    sum += u;
    counts[(int)(u * BUCKETS)]++;
  }
  CU_ASSERT_EQUAL(outside, 0);
  /* The mean's standard deviation is 0.289 / 1000: 0.002 is seven of them. */
  CU_ASSERT_DOUBLE_EQUAL(sum / SAMPLE_DRAWS, 0.5, 0.002);
  CU_ASSERT(chi_square(counts, BUCKETS, SAMPLE_DRAWS) < chi_square_bound(BUCKETS));
}

/* A generator whose next 64 bits are `bits` (the buffer is the stream's next block). */
static core_rng rng_with_next_bits(uint64_t bits) {
  core_rng rng;
  core_rng_init(&rng, 1, 1);
  rng.buf[2] = (uint32_t)(bits >> 32); /* core_rng_u64 takes the high word first */
  rng.buf[3] = (uint32_t)bits;
  rng.used = 2;
  return rng;
}

static void rng_uniform_and_exponential_are_finite_at_extreme_bits(void) {
  core_rng ones = rng_with_next_bits(UINT64_MAX);
  CU_ASSERT_EQUAL(core_rng_uniform(&ones), 1.0 - 0x1.0p-53); /* the largest double below 1 */
  core_rng zeros = rng_with_next_bits(0);
  CU_ASSERT_EQUAL(core_rng_uniform(&zeros), 0.0);

  ones = rng_with_next_bits(UINT64_MAX); /* 1 - u = 2^-53: the log is finite */
  double longest = core_rng_exponential(&ones, 1.0);
  CU_ASSERT(isfinite(longest));
  CU_ASSERT_DOUBLE_EQUAL(longest, 53.0 * log(2.0), 1e-9);
  zeros = rng_with_next_bits(0);
  double shortest = core_rng_exponential(&zeros, 1.0);
  CU_ASSERT(isfinite(shortest) && shortest == 0.0);
}

static void rng_exponential_has_requested_mean_and_variance(void) {
  const double means[] = {1.0, 1.1e6};
  for (size_t m = 0; m < sizeof means / sizeof *means; m++) {
    core_rng rng;
    core_rng_init(&rng, 12, (uint32_t)m);
    double sum = 0, sum_sq = 0;
    int negative = 0;
    for (int i = 0; i < SAMPLE_DRAWS; i++) {
      double x = core_rng_exponential(&rng, means[m]);
      negative += x < 0;
      sum += x;
      sum_sq += x * x;
    }
    double mean = sum / SAMPLE_DRAWS, variance = sum_sq / SAMPLE_DRAWS - mean * mean;
    CU_ASSERT_EQUAL(negative, 0);
    /* Standard deviation of the mean: mean / 1000; of the variance: about 4.5 mean^2 / 1000. */
    CU_ASSERT_DOUBLE_EQUAL(mean / means[m], 1.0, 0.01);
    /* An exponential's variance is its mean squared (a uniform of that mean would give 1/3). */
    CU_ASSERT_DOUBLE_EQUAL(variance / (means[m] * means[m]), 1.0, 0.05);
  }
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"rng_seed0_lp0_matches_random123_known_answer",
       rng_seed0_lp0_matches_random123_known_answer},
      {"rng_block_is_philox_of_counter_lp_and_seed", rng_block_is_philox_of_counter_lp_and_seed},
      {"rng_lp7_stream_is_the_same_alone_or_interleaved",
       rng_lp7_stream_is_the_same_alone_or_interleaved},
      {"rng_streams_differ_across_lps_and_seeds", rng_streams_differ_across_lps_and_seeds},
      {"rng_below_stays_in_range_and_covers_small_ranges",
       rng_below_stays_in_range_and_covers_small_ranges},
      {"rng_below_is_uniform_by_chi_square", rng_below_is_uniform_by_chi_square},
      {"rng_uniform_is_in_unit_interval_and_uniform", rng_uniform_is_in_unit_interval_and_uniform},
      {"rng_uniform_and_exponential_are_finite_at_extreme_bits",
       rng_uniform_and_exponential_are_finite_at_extreme_bits},
      {"rng_exponential_has_requested_mean_and_variance",
       rng_exponential_has_requested_mean_and_variance},
      {NULL, NULL}};
  return harness_run("rng", tests, argc > 1 ? argv[1] : NULL, true);
}
