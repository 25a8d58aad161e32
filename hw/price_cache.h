/* A memo of iteration prices (hw_iteration_ns: duration and each device's power) for one
 * deployment, keyed on the whole batch shape: a run prices millions of iterations but meets only
 * thousands of distinct shapes. Bounded: fixed tables of HW_PRICE_CACHE_WAYS-way sets, the least
 * recently used way replaced (one of single shapes, one of decode runs). A hit returns exactly what
 * pricing returns (the key is compared in full, never trusted to its hash). Not thread safe: one
 * cache per thread (serving keeps one per thread and deployment). */
#ifndef HW_PRICE_CACHE_H
#define HW_PRICE_CACHE_H

#include <stdint.h>

#include "hw/hw.h"

typedef struct hw_price_cache hw_price_cache;

/* Prices per set. On the default example (16384 prices), 4 ways miss 21,932 times where 2 ways
 * miss 53,166 times, against 14,503 distinct shapes. */
enum { HW_PRICE_CACHE_WAYS = 4 };

/* Where a cache's keys go: 64 bits from the key's words. NULL in hw_price_cache_create takes
 * hw_price_cache_hash; tests pass their own to force collisions. */
typedef uint64_t (*hw_price_hash_fn)(const uint64_t *words, uint32_t count);

/* What a cache did, since its creation. */
typedef struct hw_price_cache_counts {
  uint64_t hits, misses, evictions; /* evictions: misses that replaced a held price */
} hw_price_cache_counts;

/* The default hash: each word times its own odd 64-bit constant, summed, then splitmix64's
 * finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA
 * 2014). */
uint64_t hw_price_cache_hash(const uint64_t *words, uint32_t count);

/* A cache of HW_PRICE_CACHE_WAYS * 2^sets_log2 prices for deployment d (borrowed: it must outlive
 * the cache). sets_log2 at most 24. Returns NULL when out of memory or sets_log2 is too large. */
hw_price_cache *hw_price_cache_create(const hw_deploy *d, uint32_t sets_log2,
                                      hw_price_hash_fn hash);
void hw_price_cache_destroy(hw_price_cache *c);

/* hw_iteration_ns(d, b, out) with out->power_w in *power_w, bit for bit, from the memo when the
 * shape was priced before and is still held. */
int64_t hw_price_cache_iteration_ns(hw_price_cache *c, const hw_batch *b, double *power_w);

/* The prices of a leap's iterations after `first` (hw_iteration_ns of first with j * decode_seqs
 * more decode_ctx_tokens, j = 1..n), bit for bit, into duration_ns[j - 1] and power_w[j - 1].
 * Decode-only batches come from a second table whose entries hold RUN consecutive contexts of one
 * progression, so that a leap finds its prices side by side: a hit or a miss each (a chunk
 * replaced counts an eviction); other batches are looked up shape by shape. */
void hw_price_cache_decode_run(hw_price_cache *c, const hw_batch *first, uint32_t n,
                               int64_t *duration_ns, double *power_w);

hw_price_cache_counts hw_price_cache_get_counts(const hw_price_cache *c);

#endif
