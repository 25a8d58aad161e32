/* The scheduler tests' shared driver (sched_helpers.h). */
#include "sched_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

/* Field by field: hw_batch has padding, which memcmp would compare. */
bool hw_equal(const hw_batch *a, const hw_batch *b) {
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

void driver_init(driver *d, job_sched_config cfg, uint32_t num_tracks) {
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

void driver_free(driver *d) {
  job_sched_destroy(d->s);
  free(d->tracks);
  free(d->steady_ids);
}

void add_full(driver *d, uint64_t id, uint32_t prompt, uint32_t output, int32_t priority,
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

void add(driver *d, uint64_t id, uint32_t prompt, uint32_t output) {
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
uint32_t step(driver *d) {
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

void finish(driver *d) {
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

uint32_t step_finish(driver *d) {
  uint32_t n = step(d);
  if (n > 0)
    finish(d);
  return n;
}

/* Runs until nothing is left; returns the number of iterations. */
int run_all(driver *d) {
  int first = d->iteration;
  while (step_finish(d) > 0)
    CU_ASSERT_FATAL(d->iteration - first < 1000000);
  return d->iteration - first;
}

/* The (id, tokens, context) of sequence k of the last batch. */
bool seq_is(const driver *d, uint32_t k, uint64_t id, uint32_t tokens, uint32_t context) {
  if (k >= d->batch.num_seqs)
    return false;
  const job_sched_seq *q = &d->batch.seqs[k];
  return q->id == id && q->tokens == tokens && q->context_tokens == context;
}

job_sched_config config(uint32_t budget, uint32_t seqs, uint32_t block, uint32_t blocks) {
  return (job_sched_config){
      .max_num_batched_tokens = budget,
      .max_num_seqs = seqs,
      .block_size_tokens = block,
      .total_kv_blocks = blocks,
      .chunked_prefill = true,
      .policy = JOB_SCHED_FCFS,
  };
}
