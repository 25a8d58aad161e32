/* Counter-based random streams (Random123 Philox4x32-10), one per LP.
 * A stream is a pure function of (seed, LP id, draw counter), so it never depends on where its LP
 * runs. */
#ifndef CORE_RNG_H
#define CORE_RNG_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>

typedef struct core_rng {
  uint64_t counter;     /* Philox blocks drawn so far */
  philox4x32_key_t key; /* the run's seed */
  uint32_t lp_id;       /* part of the counter: distinct LPs never share a block */
  uint32_t used;        /* words of buf already handed out (4 = empty) */
  uint32_t buf[4];
} core_rng;

static inline void core_rng_init(core_rng *rng, uint64_t seed, uint32_t lp_id) {
  rng->counter = 0;
  rng->key.v[0] = (uint32_t)seed;
  rng->key.v[1] = (uint32_t)(seed >> 32);
  rng->lp_id = lp_id;
  rng->used = 4;
}

/* Next 32 random bits of the stream. */
static inline uint32_t core_rng_u32(core_rng *rng) {
  if (rng->used == 4) {
    philox4x32_ctr_t ctr = {
        {(uint32_t)rng->counter, (uint32_t)(rng->counter >> 32), rng->lp_id, 0}};
    philox4x32_ctr_t out = philox4x32(ctr, rng->key);
    rng->buf[0] = out.v[0];
    rng->buf[1] = out.v[1];
    rng->buf[2] = out.v[2];
    rng->buf[3] = out.v[3];
    rng->counter++;
    rng->used = 0;
  }
  return rng->buf[rng->used++];
}

static inline uint64_t core_rng_u64(core_rng *rng) {
  uint64_t hi = core_rng_u32(rng);
  return hi << 32 | core_rng_u32(rng);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double core_rng_uniform(core_rng *rng) {
  return (double)(core_rng_u64(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire's multiply-shift with rejection).
 */
static inline uint32_t core_rng_below(core_rng *rng, uint32_t n) {
  uint64_t m = (uint64_t)core_rng_u32(rng) * n;
  if ((uint32_t)m < n) {
    uint32_t threshold = -n % n;
    while ((uint32_t)m < threshold)
      m = (uint64_t)core_rng_u32(rng) * n;
  }
  return (uint32_t)(m >> 32);
}

/* Exponential variate with the given mean (inverse transform; 1 - u is in (0, 1], so the log is
 * finite). */
static inline double core_rng_exponential(core_rng *rng, double mean) {
  return -mean * log(1.0 - core_rng_uniform(rng));
}

#endif
