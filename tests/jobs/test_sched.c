/* Unit tests of job_sched, the instance scheduler: hand-computed iterations (chunked prefill, token
 * budget, max_num_seqs, preemption victims, prefix hits, LRU eviction, priority order, hw_batch
 * aggregates) and a randomized stress test checking every invariant after every call. */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/sched.h"

/* ---- a driver that runs the scheduler and follows every request independently ---- */

typedef struct track {
  uint64_t id;
  uint32_t prompt, output;
  uint32_t computed, generated;                /* as the test understands them */
  int started_at, first_token_at, finished_at; /* iteration numbers, 0 = not yet */
  uint32_t preemptions, hit_blocks;
  uint32_t swaps, tier_hit_blocks;
  bool added;
} track;

typedef struct driver {
  job_sched_config cfg;
  job_sched *s;
  track *tracks; /* by request id */
  uint32_t num_tracks;
  int iteration; /* number of the last step that formed a batch */
  job_sched_batch batch;
  uint64_t preempted_events;
  /* job_sched_steady's promise, while no request is added: iterations [first, first + k) run the
   * same requests one decode each (ids), the j-th with (j - 1) * decode_seqs more context than hw.
   */
  uint32_t steady_k;
  int steady_first;
  hw_batch steady_hw;
  uint64_t *steady_ids;
  uint64_t steady_checked; /* iterations checked against a promise, past its first */
} driver;

/* Field by field: hw_batch has padding, which memcmp would compare. */
static bool hw_equal(const hw_batch *a, const hw_batch *b) {
  return a->prefill_seqs == b->prefill_seqs && a->prefill_tokens == b->prefill_tokens &&
         a->prefill_attn_pairs == b->prefill_attn_pairs &&
         a->prefill_ctx_tokens == b->prefill_ctx_tokens && a->decode_seqs == b->decode_seqs &&
         a->decode_ctx_tokens == b->decode_ctx_tokens;
}

static void must_be_valid(const driver *d) {
  char err[256] = "";
  int rc = job_sched_check(d->s, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  iteration %d: %s\n", d->iteration, err);
  CU_ASSERT_FATAL(rc == 0);
  job_sched_stats st;
  job_sched_stats_get(d->s, &st);
  CU_ASSERT_FATAL(st.kv_blocks_used + st.kv_blocks_free + st.kv_blocks_cached ==
                  d->cfg.total_kv_blocks);
  CU_ASSERT_FATAL(st.running <= d->cfg.max_num_seqs);
  CU_ASSERT_FATAL(d->cfg.prefix_caching || st.kv_blocks_cached == 0);
}

static void driver_init(driver *d, job_sched_config cfg, uint32_t num_tracks) {
  memset(d, 0, sizeof *d);
  if (cfg.block_size_tokens == 0)
    cfg.block_size_tokens = 16;
  d->cfg = cfg;
  char err[256] = "";
  int rc = job_sched_create(&d->s, &cfg, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
  d->tracks = calloc(num_tracks, sizeof *d->tracks);
  d->steady_ids = calloc(cfg.max_num_seqs, sizeof *d->steady_ids);
  CU_ASSERT_FATAL(d->tracks != NULL && d->steady_ids != NULL);
  d->num_tracks = num_tracks;
}

static void driver_free(driver *d) {
  job_sched_destroy(d->s);
  free(d->tracks);
  free(d->steady_ids);
}

static void add_full(driver *d, uint64_t id, uint32_t prompt, uint32_t output, int32_t priority,
                     int64_t arrival_ns, const uint64_t *hashes, uint32_t num_hashes) {
  CU_ASSERT_FATAL(id < d->num_tracks);
  track *t = &d->tracks[id];
  *t = (track){.id = id, .prompt = prompt, .output = output, .added = true};
  job_sched_request req = {
      .id = id,
      .arrival_ns = arrival_ns,
      .prompt_tokens = prompt,
      .output_tokens = output,
      .priority = priority,
      .block_hashes = hashes,
      .num_block_hashes = num_hashes,
      .user = t,
  };
  char err[256] = "";
  int rc = job_sched_add(d->s, &req, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
  d->steady_k = 0; /* the promise assumed no new request */
}

static void add(driver *d, uint64_t id, uint32_t prompt, uint32_t output) {
  add_full(d, id, prompt, output, 0, (int64_t)id, NULL, 0);
}

/* Checks the step against job_sched_steady's promise, or takes a new one. */
static void steady_check(driver *d) {
  const job_sched_batch *b = &d->batch;
  uint32_t j = (uint32_t)(d->iteration - d->steady_first) + 1; /* the open iteration's */
  if (b->num_seqs > 0 && d->steady_k > 1 && j <= d->steady_k && j > 1) {
    hw_batch hw = d->steady_hw;
    hw.decode_ctx_tokens += (uint64_t)(j - 1) * hw.decode_seqs;
    bool same = b->num_events == 0 && hw_equal(&hw, &b->hw) && b->tier_load_bytes == 0 &&
                b->tier_store_bytes == 0;
    for (uint32_t k = 0; k < b->num_seqs; k++)
      same &= b->seqs[k].id == d->steady_ids[k];
    CU_ASSERT_FATAL(same);
    d->steady_checked++;
    return;
  }
  d->steady_k = b->num_seqs > 0 ? job_sched_steady(d->s, 64) : 0;
  if (b->num_seqs > 0 && d->steady_k < 1)
    CU_FAIL_FATAL("job_sched_steady promised no iteration while one is open");
  d->steady_first = d->iteration;
  d->steady_hw = b->hw;
  for (uint32_t k = 0; k < b->num_seqs; k++)
    d->steady_ids[k] = b->seqs[k].id;
}

/* One step: checks the batch against the budget, the tracks and hw/batch.h's definitions. Returns
 * the number of sequences. */
static uint32_t step(driver *d) {
  job_sched_step(d->s, d->iteration + 1, &d->batch);
  const job_sched_batch *b = &d->batch;
  if (b->num_seqs > 0)
    d->iteration++;
  for (uint32_t e = 0; e < b->num_events; e++) {
    track *t = b->events[e].user;
    CU_ASSERT_FATAL(t->id == b->events[e].id);
    if (b->events[e].kind == JOB_SCHED_STARTED) {
      CU_ASSERT_FATAL(t->started_at == 0);
      t->started_at = d->iteration;
      t->hit_blocks = b->events[e].prefix_hit_blocks;
      t->tier_hit_blocks = b->events[e].tier_hit_tokens / d->cfg.block_size_tokens;
      CU_ASSERT(b->events[e].prefix_hit_tokens == t->hit_blocks * d->cfg.block_size_tokens);
      CU_ASSERT(t->tier_hit_blocks <= t->hit_blocks && (d->cfg.tier || t->tier_hit_blocks == 0));
    } else {
      CU_ASSERT_FATAL(b->events[e].kind == JOB_SCHED_PREEMPTED);
      if (b->events[e].swapped) /* its KV waits in the tier: it continues where it was */
        t->swaps++;
      else
        t->computed = 0;
      CU_ASSERT(b->events[e].swaps == t->swaps && (d->cfg.tier || !b->events[e].swapped));
      t->preemptions++;
      d->preempted_events++;
      CU_ASSERT(b->events[e].preemptions == t->preemptions);
    }
  }
  hw_batch hw = {0};
  uint64_t tokens = 0;
  bool cut = false; /* some request got less than it could compute */
  for (uint32_t k = 0; k < b->num_seqs; k++) {
    const job_sched_seq *q = &b->seqs[k];
    track *t = q->user;
    CU_ASSERT_FATAL(t->id == q->id && t->started_at > 0 && q->tokens > 0);
    if (q->context_tokens != t->computed) { /* (re)admitted after prefix-cache hits */
      CU_ASSERT_FATAL(q->context_tokens > t->computed &&
                      q->context_tokens % d->cfg.block_size_tokens == 0);
    }
    CU_ASSERT_FATAL(q->context_tokens + q->tokens <= t->prompt + t->generated);
    CU_ASSERT_FATAL(q->prefill == !(q->tokens == 1 && q->context_tokens >= t->prompt));
    uint32_t could = t->prompt + t->generated - q->context_tokens;
    if (d->cfg.long_prefill_tokens > 0 && could > d->cfg.long_prefill_tokens)
      could = d->cfg.long_prefill_tokens;
    cut |= q->tokens < could;
    tokens += q->tokens;
    uint64_t c = q->tokens, p = q->context_tokens;
    if (q->prefill) {
      hw.prefill_seqs++;
      hw.prefill_tokens += q->tokens;
      hw.prefill_attn_pairs += c * p + c * (c + 1) / 2;
      hw.prefill_ctx_tokens += p + c;
    } else {
      hw.decode_seqs++;
      hw.decode_ctx_tokens += p + 1;
    }
  }
  CU_ASSERT_FATAL(tokens <= d->cfg.max_num_batched_tokens);
  /* Only the budget cuts a request short. As in vLLM, a request that preempts a victim scheduled
   * before it keeps the share it was cut to, though the victim's tokens return to the budget. */
  bool preempted = false;
  for (uint32_t e = 0; e < b->num_events; e++)
    preempted |= b->events[e].kind == JOB_SCHED_PREEMPTED;
  CU_ASSERT_FATAL(!cut || tokens == d->cfg.max_num_batched_tokens || preempted);
  CU_ASSERT_FATAL(b->num_seqs <= d->cfg.max_num_seqs);
  CU_ASSERT_FATAL(hw_equal(&hw, &b->hw));
  must_be_valid(d);
  steady_check(d);
  return b->num_seqs;
}

static void finish(driver *d) {
  const job_sched_event *events;
  uint32_t n = job_sched_finish(d->s, d->iteration * 10, &events);
  uint32_t expected_events = 0;
  for (uint32_t k = 0; k < d->batch.num_seqs; k++) {
    const job_sched_seq *q = &d->batch.seqs[k];
    track *t = q->user;
    t->computed = q->context_tokens + q->tokens;
    if (t->computed == t->prompt + t->generated) {
      t->generated++;
      expected_events += (t->generated == 1) + (t->generated == t->output);
    }
  }
  CU_ASSERT_FATAL(n == expected_events);
  /* Only the promise's last iteration may finish requests. */
  if (n > 0 && d->steady_k > 1 && d->iteration - d->steady_first + 1 < (int)d->steady_k)
    CU_FAIL_FATAL("a request finished before the steady stretch's last iteration");
  for (uint32_t e = 0; e < n; e++) {
    track *t = events[e].user;
    CU_ASSERT_FATAL(t->id == events[e].id && events[e].time_ns == d->iteration * 10);
    if (events[e].kind == JOB_SCHED_FIRST_TOKEN) {
      CU_ASSERT_FATAL(t->first_token_at == 0 && t->generated >= 1);
      t->first_token_at = d->iteration;
    } else {
      CU_ASSERT_FATAL(events[e].kind == JOB_SCHED_FINISHED && t->finished_at == 0);
      CU_ASSERT_FATAL(t->generated == t->output && t->first_token_at > 0);
      CU_ASSERT_FATAL(events[e].preemptions == t->preemptions);
      t->finished_at = d->iteration;
    }
  }
  must_be_valid(d);
}

static uint32_t step_finish(driver *d) {
  uint32_t n = step(d);
  if (n > 0)
    finish(d);
  return n;
}

/* Runs until nothing is left; returns the number of iterations. */
static int run_all(driver *d) {
  int first = d->iteration;
  while (step_finish(d) > 0)
    CU_ASSERT_FATAL(d->iteration - first < 1000000);
  return d->iteration - first;
}

/* The (id, tokens, context) of sequence k of the last batch. */
static bool seq_is(const driver *d, uint32_t k, uint64_t id, uint32_t tokens, uint32_t context) {
  if (k >= d->batch.num_seqs)
    return false;
  const job_sched_seq *q = &d->batch.seqs[k];
  return q->id == id && q->tokens == tokens && q->context_tokens == context;
}

static job_sched_config config(uint32_t budget, uint32_t seqs, uint32_t block, uint32_t blocks) {
  return (job_sched_config){
      .max_num_batched_tokens = budget,
      .max_num_seqs = seqs,
      .block_size_tokens = block,
      .total_kv_blocks = blocks,
      .chunked_prefill = true,
      .policy = JOB_SCHED_FCFS,
  };
}

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
      T(lone_request_is_one_prefill_then_output_minus_one_decodes),
      T(single_output_token_finishes_with_the_prefill),
      T(a_request_added_mid_iteration_joins_the_next_one),
      T(chunked_prefill_fills_the_budget_after_decodes),
      T(long_prefill_limit_caps_each_chunk),
      T(without_chunking_a_prompt_waits_until_it_fits_whole),
      T(max_num_seqs_caps_the_running_set),
      T(kv_exhaustion_preempts_the_last_request_which_recomputes),
      T(reserve_full_admits_only_when_prompt_and_outputs_fit_and_never_preempts),
      T(reserve_full_counts_prefix_hits_against_the_reserve),
      T(priority_preempts_the_lowest_priority_even_if_it_runs_first),
      T(priority_victim_scheduled_earlier_is_taken_out_of_the_batch),
      T(priority_victim_among_equals_is_the_latest_arrival),
      T(a_preempted_victims_tokens_return_to_the_budget),
      T(priority_orders_waiting_by_priority_then_arrival),
      T(fcfs_ignores_priority),
      T(prefix_hit_reuses_three_shared_blocks),
      T(a_fully_cached_prompt_still_computes_its_last_block),
      T(cached_blocks_are_evicted_lru_tail_first),
      T(a_preempted_request_hits_its_own_cached_blocks),
      T(impossible_requests_and_configs_are_refused_with_a_message),
      T(stress_fcfs_chunked_with_prefix_caching),
      T(stress_priority_chunked_with_prefix_caching),
      T(stress_without_chunking_or_caching),
      T(stress_with_a_kv_tier),
      T(stress_reserve_full_never_preempts),
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
  return harness_run("sched", tests, argc > 1 ? argv[1] : NULL, true);
}
