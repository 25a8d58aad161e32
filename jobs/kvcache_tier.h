/* A KV tier below HBM: host DRAM or CXL memory of one node, shared by the instances on that node as
 * Mooncake's KV store or LMCache's CPU backend share it. It is a pool of bytes holding two kinds of
 * KV: prefix blocks spilled from the instances' prefix caches, keyed by (space, hash) in one LRU
 * queue and evictable; and the KV of swapped-out requests, pinned until swapped back in. Pinned
 * plus cached bytes never exceed the capacity: pinning or storing evicts the least recently used
 * blocks. The tier only keeps account; what a transfer costs is job_kv_tier_transfer_ns's. */
#ifndef JOBS_KVCACHE_TIER_H
#define JOBS_KVCACHE_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pack.h"

typedef struct job_kv_tier job_kv_tier;

typedef struct job_kv_tier_stats {
  uint64_t capacity_bytes;
  uint64_t cached_bytes, pinned_bytes; /* now */
  uint64_t peak_bytes;                 /* of cached + pinned */
  uint64_t cached_blocks;              /* now */
  uint64_t stored_blocks;              /* put: new blocks written */
  uint64_t evicted_blocks;             /* dropped to make room */
  uint64_t hit_blocks;                 /* touched by a lookup that loads them */
} job_kv_tier_stats;

/* Returns 0, or -1 with a message (capacity 0, no memory). */
int job_kv_tier_create(job_kv_tier **out, uint64_t capacity_bytes, char *err, size_t err_len);
void job_kv_tier_destroy(job_kv_tier *t);

/* Stores a prefix block of `bytes` at the MRU end, evicting LRU blocks to make room. Returns 1 when
 * it was written (the caller moves `bytes`), 0 when the block was already there (moved to the MRU
 * end, nothing written), -1 when it cannot fit (pinned bytes leave too little room) or memory runs
 * out (nothing changes). */
int job_kv_tier_put(job_kv_tier *t, uint32_t space, uint64_t hash, uint64_t bytes);
/* Whether the tier holds the block. Changes nothing. */
bool job_kv_tier_has(const job_kv_tier *t, uint32_t space, uint64_t hash);
/* A lookup hit the block, which the caller loads: moves it to the MRU end and counts the hit. */
void job_kv_tier_touch(job_kv_tier *t, uint32_t space, uint64_t hash);

/* Pins `bytes` for a swapped-out request, evicting LRU blocks. Returns false (nothing changes) when
 * capacity minus what is pinned already is less. */
bool job_kv_tier_pin(job_kv_tier *t, uint64_t bytes);
/* Releases bytes pinned before (the request swapped back in, or left). */
void job_kv_tier_unpin(job_kv_tier *t, uint64_t bytes);

void job_kv_tier_stats_get(const job_kv_tier *t, job_kv_tier_stats *out);

/* Time to move `bytes` between HBM and the tier in one blocking copy: latency + bytes / bandwidth,
 * rounded up to a whole ns; 0 when there is nothing to move. */
int64_t job_kv_tier_transfer_ns(uint64_t bytes, double bytes_per_s, int64_t latency_ns);

/* Checkpoints: the counts and the cached blocks in LRU order. Load into a tier made by
 * job_kv_tier_create with the same capacity, still empty; returns -1 (the tier then only fit for
 * job_kv_tier_destroy) for data that does not fit it. */
void job_kv_tier_save(const job_kv_tier *t, core_pack *out);
int job_kv_tier_load(job_kv_tier *t, core_unpack *in);

/* Checks counts, the LRU queue and the hash table in O(blocks). Returns 0, or -1 with the first
 * violation in err. For tests. */
int job_kv_tier_check(const job_kv_tier *t, char *err, size_t err_len);
/* The hash of the block `index` places from the LRU end (next evicted), or false. For tests. */
bool job_kv_tier_lru_at(const job_kv_tier *t, uint32_t index, uint32_t *space, uint64_t *hash);

#endif
