/* Unit tests of job_sched, the instance scheduler, managing KV memory: hand-computed iterations of
 * preemption on KV exhaustion (victims under FCFS and priority, recomputation), reserve_full
 * admission, prefix-cache hits and LRU eviction, and the KV tier (its LRU and pins, transfer
 * times, victims swapped out and back in, spilled prefix blocks hit in the tier). */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdio.h>

#include "jobs/sched.h"
#include "sched_helpers.h"

/* ---- KV exhaustion: preemption and reserve_full ---- */

/* Blocks of 4 tokens, 6 blocks, two requests of prompt 8 and 10 outputs (17 tokens: 5 blocks each).
 * Both hold 3 blocks after iteration 2; at iteration 6 request 0 needs a 4th: FCFS preempts the
 * last running request, 1, which recomputes its 13 tokens (8 + 5 generated) once 0 has finished.
 * Request 2 (one block), waiting for a seat meanwhile, stays behind 1 although it would fit. */
static void test_kv_exhaustion_preempts_the_last_request_which_recomputes(void) {
  driver d;
  driver_init(&d, config(100, 2, 4, 6), 3);
  add(&d, 0, 8, 10);
  add(&d, 1, 8, 10);
  add(&d, 2, 4, 1);
  for (int it = 1; it <= 5; it++) {
    CU_ASSERT(step(&d) == 2);
    finish(&d);
  }
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 1, 12));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].kind == JOB_SCHED_PREEMPTED);
  CU_ASSERT(d.batch.events[0].id == 1 && d.batch.events[0].preemptions == 1);
  CU_ASSERT(d.batch.kv_blocks_used == 4);
  finish(&d);
  for (int it = 7; it <= 10; it++) { /* 1 waits: 13 tokens need 4 blocks, 2 are free */
    CU_ASSERT(step(&d) == 1 && d.batch.seqs[0].id == 0);
    finish(&d);
  }
  CU_ASSERT(d.tracks[0].finished_at == 10 && d.tracks[2].started_at == 0);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 1, 13, 0) && d.batch.seqs[0].prefill);
  CU_ASSERT(seq_is(&d, 1, 2, 4, 0));
  finish(&d);
  CU_ASSERT(d.tracks[1].generated == 6);
  run_all(&d);
  CU_ASSERT(d.tracks[1].finished_at == 15 && d.tracks[1].generated == 10);
  CU_ASSERT(d.tracks[0].preemptions == 0 && d.tracks[1].preemptions == 1);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.preemptions == 1 && st.finished == 3);
  driver_free(&d);
}

/* The same setup under reserve_full: request 0 reserves its 5 blocks of 17 tokens at admission, so
 * request 1 (5 more) waits until 0 has finished at iteration 10, and request 2 (one block, which
 * would fit) waits behind it in FCFS order; nothing is preempted, and 1 runs its 10 tokens from
 * iteration 11 to 20 with 2 beside it. */
static void test_reserve_full_admits_only_when_prompt_and_outputs_fit_and_never_preempts(void) {
  driver d;
  job_sched_config cfg = config(100, 2, 4, 6);
  cfg.admission = JOB_SCHED_RESERVE_FULL;
  driver_init(&d, cfg, 3);
  add(&d, 0, 8, 10);
  add(&d, 1, 8, 10);
  add(&d, 2, 4, 1);
  for (int it = 1; it <= 10; it++) {
    CU_ASSERT(step(&d) == 1 && d.batch.seqs[0].id == 0);
    CU_ASSERT(d.batch.kv_blocks_used == (it <= 1 ? 2 : it <= 5 ? 3 : it <= 9 ? 4 : 5));
    finish(&d);
  }
  CU_ASSERT(d.tracks[0].finished_at == 10 && d.tracks[1].started_at == 0);
  CU_ASSERT(d.tracks[2].started_at == 0);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 1, 8, 0) && seq_is(&d, 1, 2, 4, 0));
  finish(&d);
  run_all(&d);
  CU_ASSERT(d.tracks[1].finished_at == 20 && d.tracks[2].finished_at == 11);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.preemptions == 0 && st.finished == 3);
  driver_free(&d);
}

/* Reserves count what prefix hits already hold: request 1 shares request 0's first 2 blocks (8
 * tokens of 12) and needs 6 - 2 = 4 more for its 21 tokens. At iteration 2 request 0 holds 4 of
 * its 6 blocks: of 8 blocks, 4 are free and 2 of them are 0's reserve, so 1 waits until 0 has
 * finished; of 10, 4 are left and it starts at once after its 2 hits. */
static void test_reserve_full_counts_prefix_hits_against_the_reserve(void) {
  static const uint64_t shared[] = {11, 12};
  for (uint32_t blocks = 8; blocks <= 10; blocks += 2) {
    job_sched_config cfg = config(100, 4, 4, blocks);
    cfg.admission = JOB_SCHED_RESERVE_FULL;
    cfg.prefix_caching = true;
    driver d;
    driver_init(&d, cfg, 2);
    add_full(&d, 0, 12, 10, 0, 0, shared, 2);
    CU_ASSERT(step_finish(&d) == 1);
    add_full(&d, 1, 12, 10, 0, 1, shared, 2);
    CU_ASSERT(step(&d) == (blocks == 8 ? 1 : 2));
    CU_ASSERT(blocks == 8 || (seq_is(&d, 1, 1, 4, 8) && d.tracks[1].hit_blocks == 2));
    finish(&d);
    run_all(&d);
    CU_ASSERT(blocks == 10 || d.tracks[1].started_at == d.tracks[0].finished_at + 1);
    job_sched_stats st;
    job_sched_stats_get(d.s, &st);
    CU_ASSERT(st.preemptions == 0 && st.finished == 2);
    driver_free(&d);
  }
}

/* The same setup under priority, request 1 (priority 0) arriving one iteration after request 0
 * (priority 9): at iteration 6 request 0, first in running order, needs a 4th block and is itself
 * the victim; request 1 runs alone (FCFS would have preempted request 1, the last). */
static void test_priority_preempts_the_lowest_priority_even_if_it_runs_first(void) {
  driver d;
  job_sched_config cfg = config(100, 8, 4, 6);
  cfg.policy = JOB_SCHED_PRIORITY;
  driver_init(&d, cfg, 2);
  add_full(&d, 0, 8, 10, 9, 0, NULL, 0);
  CU_ASSERT(step_finish(&d) == 1);
  add_full(&d, 1, 8, 10, 0, 1, NULL, 0);
  for (int it = 2; it <= 5; it++) {
    CU_ASSERT(step(&d) == 2 && d.batch.seqs[0].id == 0);
    finish(&d);
  }
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 1, 1, 11));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].kind == JOB_SCHED_PREEMPTED);
  CU_ASSERT(d.batch.events[0].id == 0);
  finish(&d);
  run_all(&d);
  CU_ASSERT(d.tracks[0].preemptions == 1 && d.tracks[1].preemptions == 0);
  CU_ASSERT(d.tracks[1].finished_at == 11 && d.tracks[0].finished_at == 16);
  driver_free(&d);
}

/* A victim already scheduled in this iteration gives its tokens back. Blocks of 4, 4 blocks: low
 * (priority 9, prompt 6) runs first and needs no block for its 8th token; high (prompt 8) needs a
 * third block for its 9th and takes low's, so the iteration holds high alone. */
static void test_priority_victim_scheduled_earlier_is_taken_out_of_the_batch(void) {
  driver d;
  job_sched_config cfg = config(100, 8, 4, 4);
  cfg.policy = JOB_SCHED_PRIORITY;
  driver_init(&d, cfg, 2);
  add_full(&d, 0, 6, 5, 9, 0, NULL, 0);
  CU_ASSERT(step_finish(&d) == 1);
  add_full(&d, 1, 8, 5, 0, 1, NULL, 0);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 1, 6) && seq_is(&d, 1, 1, 8, 0));
  finish(&d);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 1, 1, 8));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].kind == JOB_SCHED_PREEMPTED);
  CU_ASSERT(d.batch.events[0].id == 0 && d.batch.hw.decode_seqs == 1);
  CU_ASSERT(d.batch.hw.prefill_seqs == 0);
  finish(&d);
  run_all(&d);
  CU_ASSERT(d.tracks[1].finished_at == 6 && d.tracks[0].finished_at > 6);
  driver_free(&d);
}

/* Among equal priorities the victim is the latest arrival, wherever it runs. Blocks of 4, 8 blocks,
 * prompts of 8 arriving at 5, 10, 7 and added one iteration apart: at iteration 4 request 2 needs a
 * third block, and request 1 (arrival 10), second in running order, is preempted. */
static void test_priority_victim_among_equals_is_the_latest_arrival(void) {
  driver d;
  job_sched_config cfg = config(100, 8, 4, 8);
  cfg.policy = JOB_SCHED_PRIORITY;
  driver_init(&d, cfg, 3);
  int64_t arrival_ns[] = {5, 10, 7};
  for (uint64_t id = 0; id < 3; id++) {
    add_full(&d, id, 8, 10, 0, arrival_ns[id], NULL, 0);
    CU_ASSERT(step_finish(&d) == id + 1);
  }
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 1, 10) && seq_is(&d, 1, 2, 1, 8));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].id == 1);
  finish(&d);
  run_all(&d);
  driver_free(&d);
}

/* Budget 10, blocks of 4, 10 blocks. low (priority 9, prompt 24) holds 7 blocks; high (prompt 8)
 * and other (prompt 30, a prefill in progress) follow. At iteration 5 high needs a block: low,
 * already given its decode token, is preempted and its token goes back to the budget, so other's
 * chunk is 9, not 8. */
static void test_a_preempted_victims_tokens_return_to_the_budget(void) {
  driver d;
  job_sched_config cfg = config(10, 8, 4, 10);
  cfg.policy = JOB_SCHED_PRIORITY;
  driver_init(&d, cfg, 3);
  add_full(&d, 0, 24, 10, 9, 0, NULL, 0);
  for (int it = 1; it <= 3; it++)
    CU_ASSERT(step_finish(&d) == 1); /* chunks of 10, 10, 4 */
  add_full(&d, 1, 8, 10, 0, 1, NULL, 0);
  add_full(&d, 2, 30, 1, 0, 2, NULL, 0);
  CU_ASSERT(step(&d) == 3 && seq_is(&d, 0, 0, 1, 24) && seq_is(&d, 1, 1, 8, 0));
  CU_ASSERT(seq_is(&d, 2, 2, 1, 0) && d.batch.kv_blocks_used == 10);
  finish(&d);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 1, 1, 8) && seq_is(&d, 1, 2, 9, 1));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].id == 0);
  finish(&d);
  run_all(&d);
  driver_free(&d);
}

/* ---- the prefix cache ---- */

/* Request 1 shares request 0's first 3 full blocks (hashes 1, 2, 3): it computes only its last 8
 * tokens after 48 cached ones, while 0 still holds the blocks (shared, not copied). */
static void test_prefix_hit_reuses_three_shared_blocks(void) {
  static const uint64_t h0[] = {1, 2, 3, 4}, h1[] = {1, 2, 3};
  driver d;
  job_sched_config cfg = config(2048, 8, 16, 64);
  cfg.prefix_caching = true;
  driver_init(&d, cfg, 2);
  add_full(&d, 0, 64, 4, 0, 0, h0, 4);
  CU_ASSERT(step_finish(&d) == 1 && d.batch.kv_blocks_used == 4);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, h0, 4) == 4);
  add_full(&d, 1, 56, 2, 0, 1, h1, 3);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 1, 64) && seq_is(&d, 1, 1, 8, 48));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].kind == JOB_SCHED_STARTED);
  CU_ASSERT(d.batch.events[0].prefix_hit_blocks == 3 && d.batch.events[0].prefix_hit_tokens == 48);
  CU_ASSERT(d.batch.hw.prefill_attn_pairs == 8 * 48 + 36 && d.batch.hw.prefill_ctx_tokens == 56);
  CU_ASSERT(d.batch.kv_blocks_used == 5 + 1); /* 0: 65 tokens in 5 blocks; 1: one new block */
  finish(&d);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.prefix_hit_blocks == 3 && st.prefix_hit_tokens == 48);
  CU_ASSERT(st.prefix_query_tokens == 64 + 56);
  run_all(&d);
  CU_ASSERT(d.tracks[1].hit_blocks == 3 && d.tracks[0].hit_blocks == 0);
  driver_free(&d);
}

/* A prompt made entirely of cached blocks still computes its last block: the last token's logits
 * are needed (vLLM caps hits at num_tokens - 1). */
static void test_a_fully_cached_prompt_still_computes_its_last_block(void) {
  static const uint64_t h[] = {1, 2, 3};
  driver d;
  job_sched_config cfg = config(2048, 8, 16, 64);
  cfg.prefix_caching = true;
  driver_init(&d, cfg, 2);
  add_full(&d, 0, 48, 1, 0, 0, h, 3);
  run_all(&d);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.kv_blocks_used == 0 && st.kv_blocks_cached == 3);
  add_full(&d, 1, 48, 1, 0, 1, h, 3);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 1, 16, 32));
  CU_ASSERT(d.batch.events[0].prefix_hit_blocks == 2);
  finish(&d);
  driver_free(&d);
}

/* Freed blocks stay cached and go LRU, each request's tail first. Blocks of 4, 4 blocks:
 * A (hashes 11, 12) then B (21, 22) run and finish, leaving the queue [A2 A1 B2 B1] (their tails
 * first). A 1-block request evicts A2 (hash 12); a 2-block one then evicts A1 and B2. */
static void test_cached_blocks_are_evicted_lru_tail_first(void) {
  static const uint64_t ha[] = {11, 12}, hb[] = {21, 22};
  driver d;
  job_sched_config cfg = config(100, 8, 4, 4);
  cfg.prefix_caching = true;
  driver_init(&d, cfg, 4);
  add_full(&d, 0, 8, 1, 0, 0, ha, 2);
  run_all(&d);
  add_full(&d, 1, 8, 1, 0, 1, hb, 2);
  run_all(&d);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.kv_blocks_cached == 4 && st.kv_blocks_free == 0);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, ha, 2) == 2);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, hb, 2) == 2);
  add(&d, 2, 3, 1); /* one block */
  run_all(&d);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, ha, 2) == 1); /* 12 evicted, 11 kept */
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, hb, 2) == 2);
  add(&d, 3, 8, 1); /* two blocks: A1, then B's tail */
  run_all(&d);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, ha, 2) == 0);
  CU_ASSERT(job_sched_prefix_hit_blocks(d.s, hb, 2) == 1);
  driver_free(&d);
}

/* After preemption the request's own blocks stay cached; on resumption it hits what is left of
 * them instead of recomputing everything. Same setup as the FCFS preemption case, with caching. */
static void test_a_preempted_request_hits_its_own_cached_blocks(void) {
  driver d;
  job_sched_config cfg = config(100, 8, 4, 7);
  cfg.prefix_caching = true;
  driver_init(&d, cfg, 2);
  add(&d, 0, 8, 14); /* 21 tokens: 6 blocks */
  add(&d, 1, 8, 10);
  while (d.tracks[1].preemptions == 0)
    CU_ASSERT_FATAL(step_finish(&d) > 0);
  /* 1 was preempted holding 13 tokens: 3 full blocks registered, released tail first. */
  while (d.tracks[0].finished_at == 0)
    CU_ASSERT_FATAL(step_finish(&d) > 0);
  CU_ASSERT(step(&d) == 1 && d.batch.seqs[0].id == 1);
  CU_ASSERT(d.batch.seqs[0].context_tokens > 0 && d.batch.seqs[0].context_tokens % 4 == 0);
  finish(&d);
  run_all(&d);
  CU_ASSERT(d.tracks[1].generated == 10);
  driver_free(&d);
}

/* ---- the KV tier ---- */

enum { TIER_BLOCK_BYTES = 1000 };

static job_kv_tier *tier_new(uint64_t blocks) {
  job_kv_tier *t;
  char err[128];
  CU_ASSERT_FATAL(job_kv_tier_create(&t, blocks * TIER_BLOCK_BYTES, err, sizeof err) == 0);
  return t;
}

static void tier_valid(const job_kv_tier *t) {
  char err[256] = "";
  int rc = job_kv_tier_check(t, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
}

/* Capacity 3 blocks: a fourth evicts the least recently used, a touch renews a block, a pin evicts
 * as many as it needs and a pin beyond what is not pinned fails without changing anything. */
static void test_tier_evicts_least_recently_used_blocks_and_pins_evict_too(void) {
  job_kv_tier *t = tier_new(3);
  CU_ASSERT(job_kv_tier_put(t, 0, 1, TIER_BLOCK_BYTES) == 1);
  CU_ASSERT(job_kv_tier_put(t, 0, 2, TIER_BLOCK_BYTES) == 1);
  CU_ASSERT(job_kv_tier_put(t, 1, 2, TIER_BLOCK_BYTES) == 1); /* another space: another block */
  CU_ASSERT(job_kv_tier_put(t, 0, 1, TIER_BLOCK_BYTES) == 0); /* already there: now MRU */
  CU_ASSERT(job_kv_tier_put(t, 0, 4, TIER_BLOCK_BYTES) == 1); /* evicts (0, 2) */
  CU_ASSERT(!job_kv_tier_has(t, 0, 2) && job_kv_tier_has(t, 1, 2) && job_kv_tier_has(t, 0, 1));
  uint32_t space;
  uint64_t hash;
  CU_ASSERT(job_kv_tier_lru_at(t, 0, &space, &hash) && space == 1 && hash == 2);
  job_kv_tier_touch(t, 1, 2);
  CU_ASSERT(job_kv_tier_lru_at(t, 0, &space, &hash) && space == 0 && hash == 1);
  tier_valid(t);
  CU_ASSERT(job_kv_tier_pin(t, 2 * TIER_BLOCK_BYTES)); /* evicts (0, 1) and (0, 4) */
  CU_ASSERT(!job_kv_tier_has(t, 0, 1) && !job_kv_tier_has(t, 0, 4) && job_kv_tier_has(t, 1, 2));
  CU_ASSERT(!job_kv_tier_pin(t, 2 * TIER_BLOCK_BYTES) && job_kv_tier_has(t, 1, 2));
  CU_ASSERT(job_kv_tier_put(t, 0, 5, 2 * TIER_BLOCK_BYTES) == -1); /* only one block unpinned */
  job_kv_tier_unpin(t, 2 * TIER_BLOCK_BYTES);
  job_kv_tier_stats ts;
  job_kv_tier_stats_get(t, &ts);
  CU_ASSERT(ts.stored_blocks == 4 && ts.evicted_blocks == 3 && ts.hit_blocks == 1);
  CU_ASSERT(ts.cached_blocks == 1 && ts.pinned_bytes == 0 && ts.peak_bytes == 3 * TIER_BLOCK_BYTES);
  tier_valid(t);
  job_kv_tier_destroy(t);
}

/* latency + bytes / bandwidth, rounded up: 3 blocks of 2 MiB at 64 GB/s after 250 ns. */
static void test_tier_transfer_is_latency_plus_bytes_over_bandwidth(void) {
  CU_ASSERT(job_kv_tier_transfer_ns(3 * 2097152, 64e9, 250) == 250 + 98304);
  CU_ASSERT(job_kv_tier_transfer_ns(1, 64e9, 250) == 251);
  CU_ASSERT(job_kv_tier_transfer_ns(0, 64e9, 250) == 0);
}

/* The KV exhaustion case above with a tier: at iteration 6 request 1 (12 tokens computed, 3 blocks)
 * swaps out, storing 3 blocks; at iteration 11 it comes back, loading them, and decodes its 6th
 * token after context 12 instead of recomputing 13 tokens; it still finishes at iteration 15. */
static void test_a_preempted_request_swaps_its_blocks_out_and_back_in(void) {
  job_kv_tier *t = tier_new(100);
  job_sched_config cfg = config(100, 2, 4, 6);
  cfg.tier = t;
  cfg.block_bytes = TIER_BLOCK_BYTES;
  driver d;
  driver_init(&d, cfg, 3);
  add(&d, 0, 8, 10);
  add(&d, 1, 8, 10);
  add(&d, 2, 4, 1);
  for (int it = 1; it <= 5; it++) {
    CU_ASSERT(step(&d) == 2 && d.batch.tier_load_bytes == 0 && d.batch.tier_store_bytes == 0);
    finish(&d);
  }
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 1, 12));
  CU_ASSERT(d.batch.num_events == 1 && d.batch.events[0].kind == JOB_SCHED_PREEMPTED);
  CU_ASSERT(d.batch.events[0].id == 1 && d.batch.events[0].swapped);
  CU_ASSERT(d.batch.tier_store_bytes == 3 * TIER_BLOCK_BYTES && d.batch.swapped_out == 1);
  CU_ASSERT(d.batch.tier_load_bytes == 0);
  finish(&d);
  job_kv_tier_stats ts;
  job_kv_tier_stats_get(t, &ts);
  CU_ASSERT(ts.pinned_bytes == 3 * TIER_BLOCK_BYTES);
  for (int it = 7; it <= 10; it++) { /* 1 waits: 13 tokens need 4 blocks, 2 are free */
    CU_ASSERT(step(&d) == 1 && d.batch.seqs[0].id == 0 && d.batch.tier_load_bytes == 0);
    finish(&d);
  }
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 1, 1, 12) && !d.batch.seqs[0].prefill);
  CU_ASSERT(d.batch.tier_load_bytes == 3 * TIER_BLOCK_BYTES && d.batch.swapped_in == 1);
  CU_ASSERT(d.batch.tier_store_bytes == 0);
  finish(&d);
  CU_ASSERT(d.tracks[1].generated == 6);
  run_all(&d);
  CU_ASSERT(d.tracks[1].finished_at == 15 && d.tracks[1].swaps == 1);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.swaps_out == 1 && st.swaps_in == 1 && st.preemptions == 1);
  CU_ASSERT(st.tier_load_bytes == 3 * TIER_BLOCK_BYTES &&
            st.tier_store_bytes == 3 * TIER_BLOCK_BYTES);
  job_kv_tier_stats_get(t, &ts);
  CU_ASSERT(ts.pinned_bytes == 0);
  driver_free(&d);
  job_kv_tier_destroy(t);
}

/* A tier too small for the victim's 3 blocks: it recomputes, as without a tier. */
static void test_a_victim_the_tier_cannot_hold_recomputes(void) {
  job_kv_tier *t = tier_new(2);
  job_sched_config cfg = config(100, 2, 4, 6);
  cfg.tier = t;
  cfg.block_bytes = TIER_BLOCK_BYTES;
  driver d;
  driver_init(&d, cfg, 3);
  add(&d, 0, 8, 10);
  add(&d, 1, 8, 10);
  add(&d, 2, 4, 1);
  for (int it = 1; it <= 5; it++)
    step_finish(&d);
  CU_ASSERT(step(&d) == 1 && d.batch.events[0].kind == JOB_SCHED_PREEMPTED);
  CU_ASSERT(!d.batch.events[0].swapped && d.batch.tier_store_bytes == 0);
  finish(&d);
  for (int it = 7; it <= 10; it++)
    step_finish(&d);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 1, 13, 0) && d.batch.tier_load_bytes == 0);
  finish(&d);
  run_all(&d);
  driver_free(&d);
  job_kv_tier_destroy(t);
}

/* One seat, 4 blocks of 4 tokens, prefix caching. A (hashes 11, 12, 13) runs and leaves its blocks
 * cached; B (21, 22, 23) takes every block, evicting A's three hashed blocks, which spill to the
 * tier (3 stores). C, with A's prompt, misses in HBM and hits A's 3 blocks in the tier: it loads
 * them and computes only its last token, while its own allocation spills B's. With a tier of
 * `tier_blocks` < 3, the spills of A evict LRU first (13, then 12), and C hits only a prefix. */
static void spill_and_hit(uint64_t tier_blocks, uint32_t expect_tier_hits) {
  static const uint64_t a[] = {11, 12, 13}, b[] = {21, 22, 23};
  job_kv_tier *t = tier_blocks ? tier_new(tier_blocks) : NULL;
  job_sched_config cfg = config(100, 1, 4, 4);
  cfg.prefix_caching = true;
  cfg.tier = t;
  cfg.block_bytes = TIER_BLOCK_BYTES;
  driver d;
  driver_init(&d, cfg, 3);
  add_full(&d, 0, 13, 1, 0, 0, a, 3);
  add_full(&d, 1, 13, 1, 0, 1, b, 3);
  add_full(&d, 2, 13, 1, 0, 2, a, 3);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 13, 0) && d.batch.tier_store_bytes == 0);
  finish(&d);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 1, 13, 0));
  uint64_t spilled = tier_blocks < 6 ? tier_blocks : 6; /* A's 3, then B's 3 as C allocates */
  CU_ASSERT(d.batch.tier_store_bytes == (t ? 3 * TIER_BLOCK_BYTES : 0));
  CU_ASSERT(d.batch.tier_load_bytes == 0);
  finish(&d);
  uint32_t hit = expect_tier_hits;
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 2, 13 - 4 * hit, 4 * hit));
  CU_ASSERT(d.batch.tier_load_bytes == hit * TIER_BLOCK_BYTES && d.batch.tier_hit_blocks == hit);
  CU_ASSERT(d.batch.tier_store_bytes == (t ? 3 * TIER_BLOCK_BYTES : 0)); /* B's blocks */
  CU_ASSERT(d.tracks[2].hit_blocks == hit && d.tracks[2].tier_hit_blocks == hit);
  finish(&d);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.tier_hit_tokens == 4 * hit && st.prefix_hit_tokens == 4 * hit);
  if (t) {
    job_kv_tier_stats ts;
    job_kv_tier_stats_get(t, &ts);
    CU_ASSERT(ts.hit_blocks == hit && ts.cached_blocks == spilled);
  }
  driver_free(&d); /* the scheduler unpins its blocks from the tier: the tier outlives it */
  if (t)
    job_kv_tier_destroy(t);
}

static void test_spilled_prefix_blocks_hit_in_the_tier_and_load_instead_of_computing(void) {
  spill_and_hit(100, 3);
}
static void test_without_a_tier_evicted_prefix_blocks_are_computed_again(void) {
  spill_and_hit(0, 0);
}
static void test_a_full_tier_evicts_its_least_recently_spilled_blocks(void) {
  /* Spilled 13, 12, 11 (the tail of A first): a 2-block tier keeps 12 and 11, C hits 11 and 12. */
  spill_and_hit(2, 2);
}

int main(int argc, char **argv) {
#define T(name)                                                                                    \
  { #name, test_##name }
  static const harness_test tests[] = {
      T(kv_exhaustion_preempts_the_last_request_which_recomputes),
      T(reserve_full_admits_only_when_prompt_and_outputs_fit_and_never_preempts),
      T(reserve_full_counts_prefix_hits_against_the_reserve),
      T(priority_preempts_the_lowest_priority_even_if_it_runs_first),
      T(priority_victim_scheduled_earlier_is_taken_out_of_the_batch),
      T(priority_victim_among_equals_is_the_latest_arrival),
      T(a_preempted_victims_tokens_return_to_the_budget),
      T(prefix_hit_reuses_three_shared_blocks),
      T(a_fully_cached_prompt_still_computes_its_last_block),
      T(cached_blocks_are_evicted_lru_tail_first),
      T(a_preempted_request_hits_its_own_cached_blocks),
      T(tier_evicts_least_recently_used_blocks_and_pins_evict_too),
      T(tier_transfer_is_latency_plus_bytes_over_bandwidth),
      T(a_preempted_request_swaps_its_blocks_out_and_back_in),
      T(a_victim_the_tier_cannot_hold_recomputes),
      T(spilled_prefix_blocks_hit_in_the_tier_and_load_instead_of_computing),
      T(without_a_tier_evicted_prefix_blocks_are_computed_again),
      T(a_full_tier_evicts_its_least_recently_spilled_blocks),
      {NULL, NULL},
  };
#undef T
  return harness_run("sched_memory", tests, argc > 1 ? argv[1] : NULL, true);
}
