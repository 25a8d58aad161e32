/* The scheduler's life cycle and queries (see sched.h): creating one from its configuration,
 * destroying it, its counts and its prefix cache's hits. The scheduling itself is in sched.c. */
#include "jobs/sched_private.h"

#include <stdio.h>
#include <stdlib.h>

int job_sched_create(job_sched **out, const job_sched_config *cfg, char *err, size_t err_len) {
  *out = NULL;
  job_sched_config c = *cfg;
  if (c.block_size_tokens == 0)
    c.block_size_tokens = 16;
  const char *bad = NULL;
  if (c.max_num_batched_tokens == 0 || c.max_num_batched_tokens > (1u << 30))
    bad = "max_num_batched_tokens must be 1 to 2^30";
  else if (c.max_num_seqs == 0 || c.max_num_seqs > (1u << 20))
    bad = "max_num_seqs must be 1 to 2^20";
  else if (c.block_size_tokens > (1u << 20))
    bad = "block_size_tokens must be at most 2^20";
  else if (c.policy != JOB_SCHED_FCFS && c.policy != JOB_SCHED_PRIORITY)
    bad = "policy must be fcfs or priority";
  else if (c.admission != JOB_SCHED_ADMIT_ON_PROMPT && c.admission != JOB_SCHED_RESERVE_FULL)
    bad = "admission must be on_prompt or reserve_full";
  else if (c.long_prefill_tokens > 0 && !c.chunked_prefill)
    bad = "long_prefill_tokens needs chunked_prefill (a limited prefill is a chunk)";
  else if (c.tier && c.block_bytes == 0)
    bad = "a KV tier needs the bytes of one block";
  if (bad) {
    snprintf(err, err_len, "scheduler: %s", bad);
    return -1;
  }
  job_sched *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, err_len, "scheduler: out of memory");
    return -1;
  }
  s->cfg = c;
  if (job_kv_create(&s->kv, c.total_kv_blocks, c.prefix_caching, err, err_len) != 0) {
    free(s);
    return -1;
  }
  s->events_cap = 2 * c.max_num_seqs + 16;
  s->running = malloc(c.max_num_seqs * sizeof *s->running);
  s->seqs = malloc(c.max_num_seqs * sizeof *s->seqs);
  s->leap_due = malloc(c.max_num_seqs * sizeof *s->leap_due);
  s->events = malloc(s->events_cap * sizeof *s->events);
  if (!s->running || !s->seqs || !s->leap_due || !s->events || sched_pool_grow(s) != 0) {
    job_sched_destroy(s);
    snprintf(err, err_len, "scheduler: out of memory for %u sequences", c.max_num_seqs);
    return -1;
  }
  *out = s;
  return 0;
}

void job_sched_destroy(job_sched *s) {
  if (!s)
    return;
  for (uint32_t idx = 0; idx < s->reqs_cap; idx++)
    free(s->reqs[idx].blocks);
  if (s->cfg.tier) /* requests still swapped out leave the shared tier */
    job_kv_tier_unpin(s->cfg.tier, s->pinned_bytes);
  job_kv_destroy(s->kv);
  free(s->reqs);
  free(s->free_reqs);
  free(s->waiting);
  free(s->running);
  free(s->seqs);
  free(s->leap_due);
  free(s->events);
  free(s->parked);
  free(s->held_refs);
  free(s);
}

void job_sched_stats_get(const job_sched *s, job_sched_stats *out) {
  *out = (job_sched_stats){
      .running = s->num_running,
      .waiting = s->num_waiting,
      .held = s->num_held,
      .waiting_for_kv = s->num_waiting_for_kv,
      .kv_blocks_held = s->held_blocks,
      .kv_blocks_total = job_kv_total_blocks(s->kv),
      .kv_blocks_used = job_kv_used_blocks(s->kv),
      .kv_blocks_free = job_kv_free_blocks(s->kv),
      .kv_blocks_cached = job_kv_cached_blocks(s->kv),
      .iterations = s->iterations,
      .preemptions = s->preemptions,
      .finished = s->finished,
      .prefix_query_tokens = s->prefix_query_tokens,
      .prefix_hit_tokens = s->prefix_hit_tokens,
      .prefix_hit_blocks = s->prefix_hit_blocks,
      .tier_hit_tokens = s->tier_hit_tokens,
      .swaps_out = s->swaps_out,
      .swaps_in = s->swaps_in,
      .tier_load_bytes = s->tier_load_bytes,
      .tier_store_bytes = s->tier_store_bytes,
      .spilled_blocks = s->spilled_blocks,
      .swapped = s->num_swapped,
  };
}

uint32_t job_sched_prefix_hit_blocks(const job_sched *s, const uint64_t *block_hashes,
                                     uint32_t num_block_hashes) {
  uint32_t hits = 0;
  while (s->cfg.prefix_caching && hits < num_block_hashes &&
         job_kv_lookup(s->kv, block_hashes[hits]) != JOB_KV_NONE)
    hits++;
  return hits;
}
