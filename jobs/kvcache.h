/* The paged KV cache of one model instance: a pool of fixed-size blocks with reference counts, a
 * prefix cache (block hash -> block) and one LRU queue of unreferenced blocks, as vLLM v1's
 * BlockPool. */
#ifndef JOBS_KVCACHE_H
#define JOBS_KVCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pack.h"

/* Every block is in exactly one state: used (referenced by at least one request), free
 * (unreferenced, no hash) or cached (unreferenced, holding a hash that a later request may hit).
 * Free and cached blocks share one LRU queue: allocation takes its head, whatever the state, and
 * evicts the head's hash, as vLLM does; a released block joins the tail. */
typedef struct job_kv job_kv;

#define JOB_KV_NONE (-1)

/* Creates a pool of `total_blocks` blocks, all free, queued in id order. With `caching` off no
 * block ever holds a hash. Returns 0, or -1 with a message in err. */
int job_kv_create(job_kv **out, uint32_t total_blocks, bool caching, char *err, size_t err_len);
void job_kv_destroy(job_kv *kv);
/* The memory a cache of total_blocks takes when created (its blocks and the first hash table; the
 * table grows with cached blocks), for estimates made before it is. */
double job_kv_bytes(uint32_t total_blocks);

uint32_t job_kv_total_blocks(const job_kv *kv);
uint32_t job_kv_used_blocks(const job_kv *kv);
uint32_t job_kv_free_blocks(const job_kv *kv);      /* unreferenced without a hash */
uint32_t job_kv_cached_blocks(const job_kv *kv);    /* unreferenced with a hash */
uint32_t job_kv_evictable_blocks(const job_kv *kv); /* free + cached: what job_kv_alloc can take */

/* How many of the next allocations, up to max, take a block without a hash (evict nothing). O(max).
 */
uint32_t job_kv_unhashed_ahead(const job_kv *kv, uint32_t max);

/* Takes the LRU head (evicting its hash), with one reference. Requires free + cached > 0. While no
 * queued block holds a hash, all free blocks are alike and it takes the one released last instead
 * (warm in the processor's cache; only the block's number differs from vLLM's choice). */
int32_t job_kv_alloc(job_kv *kv);
/* The same, and says whether a cached block was evicted and its hash (for a tier to keep it). */
int32_t job_kv_alloc_evict(job_kv *kv, bool *evicted, uint64_t *evicted_hash);
/* Block holding `hash`, or JOB_KV_NONE. Changes nothing. */
int32_t job_kv_lookup(const job_kv *kv, uint64_t hash);
/* Its references: O(1) once a block has held a hash, O(released blocks) before (for checks). */
uint32_t job_kv_refs(const job_kv *kv, int32_t block);
/* Adds a reference to a hit block, taking it off the LRU queue if it was unreferenced. */
void job_kv_touch(job_kv *kv, int32_t block);
/* Drops a reference; the last one queues the block at the LRU tail (free or cached by its hash). */
void job_kv_release(job_kv *kv, int32_t block);
/* Gives a used block without a hash `hash` so later requests can hit it. Returns false (and changes
 * nothing) when caching is off or another block already holds that hash: vLLM keeps such duplicates
 * but only ever hits the first, so the second would never be used. */
bool job_kv_register(job_kv *kv, int32_t block, uint64_t hash);

/* Checkpoints: every block ever used (its references, hash) and the LRU queue; never-used blocks
 * are not written. Load into a cache made by job_kv_create with the same arguments, still unused;
 * returns -1 (the cache then only fit for job_kv_destroy) for data that does not fit it. */
void job_kv_save(job_kv *kv, core_pack *out);
int job_kv_load(job_kv *kv, core_unpack *in);

/* Checks every invariant in O(blocks): counts, queue links, hash table. Returns 0, or -1 with the
 * first violation in err. For tests. */
int job_kv_check(const job_kv *kv, char *err, size_t err_len);
/* Block at position `index` from the head of the LRU queue (next to be allocated), or JOB_KV_NONE.
 * O(index). For tests. */
int32_t job_kv_lru_at(const job_kv *kv, uint32_t index);

#endif
