/* Unit tests of job_sched, the instance scheduler, forming batches: hand-computed iterations
 * (chunked prefill, token budget, long-prefill limit, max_num_seqs, waiting order by priority),
 * refused requests and configurations, and a randomized stress test of every configuration
 * (preemption, prefix caching, KV tiers, reserve_full) checking every invariant after every call.
 * The hand-computed cases of preemption, the prefix cache and the KV tier are in
 * test_sched_memory.c; the driver both use in sched_helpers.c. */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/sched.h"
#include "sched_helpers.h"

/* ---- hand-computed cases ---- */

/* Prompt 100, 5 outputs, alone: one prefill of 100 tokens, then 4 decodes after 100..103 tokens. */
static void test_lone_request_is_one_prefill_then_output_minus_one_decodes(void) {
  driver d;
  driver_init(&d, config(2048, 8, 16, 64), 1);
  add(&d, 0, 100, 5);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 100, 0) && d.batch.seqs[0].prefill);
  hw_batch prefill = {.prefill_seqs = 1,
                      .prefill_tokens = 100,
                      .prefill_attn_pairs = 5050,
                      .prefill_ctx_tokens = 100};
  CU_ASSERT(hw_equal(&d.batch.hw, &prefill));
  CU_ASSERT(d.batch.kv_blocks_used == 7); /* ceil(100 / 16) */
  finish(&d);
  CU_ASSERT(d.tracks[0].first_token_at == 1);
  for (uint32_t k = 0; k < 4; k++) {
    CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 1, 100 + k) && !d.batch.seqs[0].prefill);
    hw_batch decode = {.decode_seqs = 1, .decode_ctx_tokens = 101 + k};
    CU_ASSERT(hw_equal(&d.batch.hw, &decode));
    CU_ASSERT(d.batch.kv_blocks_used == 7);
    finish(&d);
  }
  CU_ASSERT(d.tracks[0].finished_at == 5 && d.tracks[0].generated == 5);
  CU_ASSERT(step(&d) == 0);
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  CU_ASSERT(st.kv_blocks_used == 0 && st.kv_blocks_free == 64 && st.finished == 1);
  CU_ASSERT(st.iterations == 5 && st.running == 0 && st.waiting == 0);
  driver_free(&d);
}

/* Requests added while an iteration is open wait for the next step, as in a real engine. */
static void test_a_request_added_mid_iteration_joins_the_next_one(void) {
  driver d;
  driver_init(&d, config(64, 8, 16, 8), 2);
  add(&d, 0, 20, 3);
  CU_ASSERT(step(&d) == 1);
  add(&d, 1, 10, 1);
  finish(&d);
  CU_ASSERT(d.tracks[1].started_at == 0);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 1, 20) && seq_is(&d, 1, 1, 10, 0));
  finish(&d);
  driver_free(&d);
}

static void test_single_output_token_finishes_with_the_prefill(void) {
  driver d;
  driver_init(&d, config(64, 8, 16, 8), 1);
  add(&d, 0, 20, 1);
  CU_ASSERT(run_all(&d) == 1);
  CU_ASSERT(d.tracks[0].first_token_at == 1 && d.tracks[0].finished_at == 1);
  driver_free(&d);
}

/* Budget 514 with two decoding requests: the 1300-token prompt takes 512, 512 then 276. */
static void test_chunked_prefill_fills_the_budget_after_decodes(void) {
  driver d;
  driver_init(&d, config(514, 8, 16, 256), 3);
  add(&d, 0, 10, 50);
  add(&d, 1, 10, 50);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 10, 0) && seq_is(&d, 1, 1, 10, 0));
  finish(&d);
  add(&d, 2, 1300, 3);
  uint32_t chunks[] = {512, 512, 276};
  for (uint32_t k = 0; k < 3; k++) {
    CU_ASSERT(step(&d) == 3);
    CU_ASSERT(seq_is(&d, 0, 0, 1, 10 + k) && seq_is(&d, 1, 1, 1, 10 + k));
    CU_ASSERT(seq_is(&d, 2, 2, chunks[k], 512 * k) && d.batch.seqs[2].prefill);
    uint64_t c = chunks[k], p = 512 * k;
    hw_batch hw = {.prefill_seqs = 1,
                   .prefill_tokens = chunks[k],
                   .prefill_attn_pairs = c * p + c * (c + 1) / 2,
                   .prefill_ctx_tokens = p + c,
                   .decode_seqs = 2,
                   .decode_ctx_tokens = 2 * (11 + k)};
    CU_ASSERT(hw_equal(&d.batch.hw, &hw));
    finish(&d);
    CU_ASSERT(d.tracks[2].first_token_at == (k == 2 ? 4 : 0));
  }
  CU_ASSERT(step(&d) == 3 && seq_is(&d, 2, 2, 1, 1300));
  finish(&d);
  driver_free(&d);
}

static void test_long_prefill_limit_caps_each_chunk(void) {
  driver d;
  job_sched_config cfg = config(1000, 8, 16, 256);
  cfg.long_prefill_tokens = 300;
  driver_init(&d, cfg, 2);
  add(&d, 0, 700, 2);
  add(&d, 1, 100, 2);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 300, 0) && seq_is(&d, 1, 1, 100, 0));
  finish(&d);
  CU_ASSERT(step(&d) == 2 && seq_is(&d, 0, 0, 300, 300) && seq_is(&d, 1, 1, 1, 100));
  finish(&d);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 0, 100, 600));
  finish(&d);
  driver_free(&d);
}

/* Without chunked prefill a prompt that does not fit what the decodes leave waits for them. */
static void test_without_chunking_a_prompt_waits_until_it_fits_whole(void) {
  driver d;
  job_sched_config cfg = config(514, 8, 16, 256);
  cfg.chunked_prefill = false;
  driver_init(&d, cfg, 3);
  add(&d, 0, 10, 4);
  add(&d, 1, 10, 4);
  CU_ASSERT(step(&d) == 2);
  finish(&d);
  add(&d, 2, 513, 2); /* 2 decodes leave 512 */
  for (int k = 0; k < 3; k++) {
    CU_ASSERT(step(&d) == 2);
    finish(&d);
  }
  CU_ASSERT(d.tracks[0].finished_at == 4 && d.tracks[1].finished_at == 4);
  CU_ASSERT(step(&d) == 1 && seq_is(&d, 0, 2, 513, 0));
  finish(&d);
  driver_free(&d);
}

static void test_max_num_seqs_caps_the_running_set(void) {
  driver d;
  driver_init(&d, config(1000, 2, 16, 256), 5);
  for (uint64_t id = 0; id < 5; id++)
    add(&d, id, 8, 3);
  run_all(&d);
  /* Two at a time, in order, each pair for 3 iterations. */
  int expect_start[] = {1, 1, 4, 4, 7};
  for (int id = 0; id < 5; id++) {
    CU_ASSERT(d.tracks[id].started_at == expect_start[id]);
    CU_ASSERT(d.tracks[id].finished_at == expect_start[id] + 2);
  }
  driver_free(&d);
}

static void test_priority_orders_waiting_by_priority_then_arrival(void) {
  driver d;
  job_sched_config cfg = config(1000, 1, 16, 64);
  cfg.policy = JOB_SCHED_PRIORITY;
  driver_init(&d, cfg, 5);
  add_full(&d, 0, 8, 1, 5, 0, NULL, 0);
  add_full(&d, 1, 8, 1, 1, 10, NULL, 0);
  add_full(&d, 2, 8, 1, 3, 20, NULL, 0);
  add_full(&d, 3, 8, 1, 1, 5, NULL, 0); /* same priority as 1, earlier arrival */
  add_full(&d, 4, 8, 1, -2, 30, NULL, 0);
  run_all(&d);
  int expect[] = {5, 3, 4, 2, 1}; /* order: 4, 3, 1, 2, 0 */
  for (int id = 0; id < 5; id++)
    CU_ASSERT(d.tracks[id].finished_at == expect[id]);
  driver_free(&d);
}

static void test_fcfs_ignores_priority(void) {
  driver d;
  driver_init(&d, config(1000, 1, 16, 64), 3);
  add_full(&d, 0, 8, 1, 5, 0, NULL, 0);
  add_full(&d, 1, 8, 1, 1, 1, NULL, 0);
  add_full(&d, 2, 8, 1, -1, 2, NULL, 0);
  run_all(&d);
  for (int id = 0; id < 3; id++)
    CU_ASSERT(d.tracks[id].finished_at == id + 1);
  driver_free(&d);
}

static void test_impossible_requests_and_configs_are_refused_with_a_message(void) {
  char err[256] = "";
  job_sched *s = NULL;
  job_sched_config bad = config(0, 8, 16, 64);
  CU_ASSERT(job_sched_create(&s, &bad, err, sizeof err) == -1 && s == NULL);
  CU_ASSERT(strstr(err, "max_num_batched_tokens") != NULL);
  bad = config(100, 8, 16, 0);
  CU_ASSERT(job_sched_create(&s, &bad, err, sizeof err) == -1 && strstr(err, "blocks") != NULL);
  bad = config(100, 8, 16, 8);
  bad.chunked_prefill = false;
  bad.long_prefill_tokens = 10;
  CU_ASSERT(job_sched_create(&s, &bad, err, sizeof err) == -1 && strstr(err, "chunked") != NULL);

  job_sched_config cfg = config(100, 8, 16, 16);
  cfg.chunked_prefill = false;
  CU_ASSERT_FATAL(job_sched_create(&s, &cfg, err, sizeof err) == 0);
  job_sched_request req = {.id = 7, .prompt_tokens = 120, .output_tokens = 10};
  CU_ASSERT(job_sched_add(s, &req, err, sizeof err) == -1);
  CU_ASSERT(strstr(err, "request 7") && strstr(err, "max_num_batched_tokens")); /* 129 > 100 */
  req = (job_sched_request){.id = 8, .prompt_tokens = 90, .output_tokens = 200};
  CU_ASSERT(job_sched_add(s, &req, err, sizeof err) == -1 &&
            strstr(err, "KV blocks")); /* 19 > 16 */
  req = (job_sched_request){.id = 9, .prompt_tokens = 0, .output_tokens = 1};
  CU_ASSERT(job_sched_add(s, &req, err, sizeof err) == -1 && strstr(err, "request 9"));
  uint64_t hashes[2] = {1, 2};
  req = (job_sched_request){.id = 10,
                            .prompt_tokens = 20,
                            .output_tokens = 1,
                            .block_hashes = hashes,
                            .num_block_hashes = 2};
  CU_ASSERT(job_sched_add(s, &req, err, sizeof err) == -1 && strstr(err, "hashes"));
  job_sched_stats st;
  job_sched_stats_get(s, &st);
  CU_ASSERT(st.waiting == 0);
  job_sched_destroy(s);
}

/* ---- randomized stress ---- */

static uint64_t rng_next(uint64_t *state) {
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return *state >> 33;
}

/* Thousands of requests with shared prefixes, arriving between iterations, under small KV so that
 * preemption is frequent: every invariant holds after every call, every request finishes exactly
 * once with all its tokens, every job_sched_steady promise holds, and the configurations really
 * exercise preemption, prefix hits and steady stretches. */
static void stress_admission(uint64_t seed, bool chunked, bool caching, job_sched_policy policy,
                             uint64_t tier_blocks, job_sched_admission admission) {
  enum { FAMILIES = 8, FAMILY_BLOCKS = 24 };
  /* A quarter in sanitizer builds (WT_TEST_QUICK): they check memory, Release checks scale. */
  const uint32_t REQUESTS = getenv("WT_TEST_QUICK") ? 500 : 2000;
  uint64_t state = seed;
  job_sched_config cfg = config(chunked ? 256 : 1200, 16, 8, 400);
  cfg.chunked_prefill = chunked;
  cfg.prefix_caching = caching;
  cfg.policy = policy;
  cfg.admission = admission;
  cfg.long_prefill_tokens = chunked && seed % 2 ? 100 : 0; /* odd seeds */
  job_kv_tier *tier = NULL;
  if (tier_blocks) {
    char err[128];
    CU_ASSERT_FATAL(job_kv_tier_create(&tier, tier_blocks * 1000, err, sizeof err) == 0);
    cfg.tier = tier;
    cfg.block_bytes = 1000;
  }
  driver d;
  driver_init(&d, cfg, REQUESTS);
  uint64_t(*hashes)[FAMILY_BLOCKS] = malloc(REQUESTS * sizeof *hashes);
  CU_ASSERT_FATAL(hashes != NULL);
  uint32_t added = 0;
  for (;;) {
    /* About one arrival per 5 iterations, and now and then a burst that builds a queue. */
    uint32_t arrivals = rng_next(&state) % 5 == 0;
    if (rng_next(&state) % 300 == 0)
      arrivals += 20;
    for (; arrivals > 0 && added < REQUESTS; arrivals--, added++) {
      uint32_t prompt = 1 + (uint32_t)(rng_next(&state) % 600);
      uint32_t output = 1 + (uint32_t)(rng_next(&state) % 200);
      uint32_t family = (uint32_t)(rng_next(&state) % FAMILIES);
      uint32_t shared = (uint32_t)(rng_next(&state) % (FAMILY_BLOCKS + 1));
      uint32_t full = prompt / cfg.block_size_tokens;
      uint32_t n_hashes = full < FAMILY_BLOCKS ? full : FAMILY_BLOCKS;
      for (uint32_t b = 0; b < n_hashes; b++) /* a family prefix, then this request's own */
        hashes[added][b] = b < shared ? family * 1000 + b : 1000000 + added * 100 + b;
      add_full(&d, added, prompt, output, (int32_t)(rng_next(&state) % 4), d.iteration,
               hashes[added], n_hashes);
    }
    if (step(&d) > 0)
      finish(&d);
    else if (added == REQUESTS)
      break;
  }
  job_sched_stats st;
  job_sched_stats_get(d.s, &st);
  for (uint32_t id = 0; id < REQUESTS; id++) {
    const track *t = &d.tracks[id];
    CU_ASSERT_FATAL(t->finished_at > 0 && t->generated == t->output);
    CU_ASSERT_FATAL(t->first_token_at >= t->started_at && t->finished_at >= t->first_token_at);
  }
  CU_ASSERT(st.finished == REQUESTS && st.running == 0 && st.waiting == 0);
  CU_ASSERT(st.kv_blocks_used == 0 && st.preemptions == d.preempted_events);
  bool preempts = admission == JOB_SCHED_ADMIT_ON_PROMPT;
  CU_ASSERT(preempts ? st.preemptions > 0 : st.preemptions == 0);
  CU_ASSERT(caching ? st.prefix_hit_blocks > 0 : st.prefix_hit_blocks == 0);
  CU_ASSERT(st.swapped == 0 && st.swaps_in == st.swaps_out);
  CU_ASSERT(tier && preempts ? st.swaps_out > 0 : st.swaps_out == 0);
  CU_ASSERT(tier && caching ? st.tier_hit_tokens > 0 : st.tier_hit_tokens == 0);
  CU_ASSERT(d.steady_checked > 0);
  free(hashes);
  driver_free(&d);
  if (tier) {
    job_kv_tier_stats ts;
    job_kv_tier_stats_get(tier, &ts);
    CU_ASSERT(ts.pinned_bytes == 0 && ts.peak_bytes <= tier_blocks * 1000);
    job_kv_tier_destroy(tier);
  }
}

static void stress_tier(uint64_t seed, bool chunked, bool caching, job_sched_policy policy,
                        uint64_t tier_blocks) {
  stress_admission(seed, chunked, caching, policy, tier_blocks, JOB_SCHED_ADMIT_ON_PROMPT);
}

static void stress(uint64_t seed, bool chunked, bool caching, job_sched_policy policy) {
  stress_tier(seed, chunked, caching, policy, 0);
}

static void test_stress_fcfs_chunked_with_prefix_caching(void) {
  stress(1, true, true, JOB_SCHED_FCFS);
  stress(2, true, true, JOB_SCHED_FCFS);
}
static void test_stress_priority_chunked_with_prefix_caching(void) {
  stress(3, true, true, JOB_SCHED_PRIORITY);
  stress(4, true, true, JOB_SCHED_PRIORITY);
}
static void test_stress_without_chunking_or_caching(void) {
  stress(5, false, false, JOB_SCHED_FCFS);
  stress(6, false, true, JOB_SCHED_PRIORITY);
  stress(7, true, false, JOB_SCHED_FCFS);
}

/* With a tier holding 30 blocks some victims fit and swap, others recompute; with 10^6 all swap. */
static void test_stress_with_a_kv_tier(void) {
  stress_tier(11, true, true, JOB_SCHED_FCFS, 30);
  stress_tier(12, true, true, JOB_SCHED_PRIORITY, 1000000);
  stress_tier(13, false, true, JOB_SCHED_FCFS, 200);
  stress_tier(14, true, false, JOB_SCHED_PRIORITY, 1000000);
}

/* Under reserve_full the same streams never preempt, and every invariant (the reserve included)
 * holds after every call. */
static void test_stress_reserve_full_never_preempts(void) {
  stress_admission(21, true, true, JOB_SCHED_FCFS, 0, JOB_SCHED_RESERVE_FULL);
  stress_admission(22, true, true, JOB_SCHED_PRIORITY, 0, JOB_SCHED_RESERVE_FULL);
  stress_admission(23, false, false, JOB_SCHED_FCFS, 0, JOB_SCHED_RESERVE_FULL);
  stress_admission(24, true, true, JOB_SCHED_FCFS, 1000, JOB_SCHED_RESERVE_FULL);
}

int main(int argc, char **argv) {
#define T(name)                                                                                    \
  { #name, test_##name }
  static const harness_test tests[] = {
      T(lone_request_is_one_prefill_then_output_minus_one_decodes),
      T(single_output_token_finishes_with_the_prefill),
      T(a_request_added_mid_iteration_joins_the_next_one),
      T(chunked_prefill_fills_the_budget_after_decodes),
      T(long_prefill_limit_caps_each_chunk),
      T(without_chunking_a_prompt_waits_until_it_fits_whole),
      T(max_num_seqs_caps_the_running_set),
      T(priority_orders_waiting_by_priority_then_arrival),
      T(fcfs_ignores_priority),
      T(impossible_requests_and_configs_are_refused_with_a_message),
      T(stress_fcfs_chunked_with_prefix_caching),
      T(stress_priority_chunked_with_prefix_caching),
      T(stress_without_chunking_or_caching),
      T(stress_with_a_kv_tier),
      T(stress_reserve_full_never_preempts),
      {NULL, NULL},
  };
#undef T
  return harness_run("sched", tests, argc > 1 ? argv[1] : NULL, true);
}
