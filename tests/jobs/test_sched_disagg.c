/* Unit tests of job_sched's disaggregated prefill/decode support (hold_kv, remote_kv,
 * job_sched_release, job_sched_kv_arrived): hand-computed block counts and iterations, and a
 * randomized prefill/decode pair. job_sched_check runs after every call. */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/sched.h"

/* ---- a thin driver: every call followed by the invariant check ---- */

static void must_be_valid(const job_sched *s) {
  char err[256] = "";
  int rc = job_sched_check(s, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
  job_sched_stats st;
  job_sched_stats_get(s, &st);
  CU_ASSERT_FATAL(st.kv_blocks_used + st.kv_blocks_free + st.kv_blocks_cached ==
                  st.kv_blocks_total);
  CU_ASSERT_FATAL(st.kv_blocks_held <= st.kv_blocks_used);
}

static job_sched *create(job_sched_config cfg) {
  char err[256] = "";
  job_sched *s = NULL;
  int rc = job_sched_create(&s, &cfg, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
  must_be_valid(s);
  return s;
}

static job_sched_config config(uint32_t budget, uint32_t block, uint32_t blocks, bool caching) {
  return (job_sched_config){
      .max_num_batched_tokens = budget,
      .max_num_seqs = 8,
      .block_size_tokens = block,
      .total_kv_blocks = blocks,
      .chunked_prefill = true,
      .prefix_caching = caching,
      .policy = JOB_SCHED_FCFS,
  };
}

typedef struct req_opts {
  bool hold_kv, remote_kv;
  int32_t priority;
  const uint64_t *hashes;
  uint32_t num_hashes;
} req_opts;

static void add(job_sched *s, uint64_t id, uint32_t prompt, uint32_t output, req_opts o) {
  job_sched_request req = {
      .id = id,
      .arrival_ns = (int64_t)id,
      .prompt_tokens = prompt,
      .output_tokens = output,
      .priority = o.priority,
      .block_hashes = o.hashes,
      .num_block_hashes = o.num_hashes,
      .hold_kv = o.hold_kv,
      .remote_kv = o.remote_kv,
  };
  char err[256] = "";
  int rc = job_sched_add(s, &req, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  %s\n", err);
  CU_ASSERT_FATAL(rc == 0);
  must_be_valid(s);
}

static const req_opts PLAIN = {0}, HOLD = {.hold_kv = true}, REMOTE = {.remote_kv = true};

static job_sched_batch step(job_sched *s) {
  job_sched_batch b;
  job_sched_step(s, 0, &b);
  must_be_valid(s);
  return b;
}

/* Closes the open iteration; returns the number of events, kept in *events. */
static uint32_t finish(job_sched *s, const job_sched_event **events) {
  uint32_t n = job_sched_finish(s, 1, events);
  must_be_valid(s);
  return n;
}

static uint32_t finish_quiet(job_sched *s) {
  const job_sched_event *events;
  return finish(s, &events);
}

static int release(job_sched *s, uint64_t id) {
  int rc = job_sched_release(s, id);
  must_be_valid(s);
  return rc;
}

static int kv_arrived(job_sched *s, uint64_t id) {
  int rc = job_sched_kv_arrived(s, id);
  must_be_valid(s);
  return rc;
}

static bool seq_is(const job_sched_batch *b, uint32_t k, uint64_t id, uint32_t tokens,
                   uint32_t context) {
  return k < b->num_seqs && b->seqs[k].id == id && b->seqs[k].tokens == tokens &&
         b->seqs[k].context_tokens == context;
}

static bool event_is(const job_sched_event *e, job_sched_event_kind kind, uint64_t id) {
  return e->kind == kind && e->id == id;
}

static job_sched_stats stats(const job_sched *s) {
  job_sched_stats st;
  job_sched_stats_get(s, &st);
  return st;
}

/* ---- prefill side: hold_kv ---- */

/* Blocks of 4, 8 blocks. Request 0 (prompt 10, hashes 11 12, one output, hold_kv) finishes holding
 * ceil(10 / 4) = 3 blocks, which stay used: request 2 (prompt 24: 6 blocks) cannot start with 5
 * evictable, and the step forms no iteration. Released, the blocks go back tail first (block 2,
 * unhashed, free; blocks 1 and 0 cached with 12 and 11); request 2 then takes the 5 never-used
 * blocks and block 2, so hashes 11 and 12 stay cached. */
static void test_hold_kv_keeps_blocks_used_until_release_then_they_are_cached(void) {
  static const uint64_t h[] = {11, 12};
  job_sched *s = create(config(100, 4, 8, true));
  add(s, 0, 10, 1, (req_opts){.hold_kv = true, .hashes = h, .num_hashes = 2});
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 10, 0) && b.kv_blocks_used == 3);
  const job_sched_event *ev;
  CU_ASSERT_FATAL(finish(s, &ev) == 2);
  CU_ASSERT(event_is(&ev[0], JOB_SCHED_FIRST_TOKEN, 0) && event_is(&ev[1], JOB_SCHED_FINISHED, 0));
  job_sched_stats st = stats(s);
  CU_ASSERT(st.held == 1 && st.kv_blocks_held == 3 && st.kv_blocks_used == 3);
  CU_ASSERT(st.kv_blocks_free == 5 && st.kv_blocks_cached == 0 && st.finished == 1);
  CU_ASSERT(st.running == 0 && st.waiting == 0);

  add(s, 2, 24, 1, PLAIN);
  b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 0 && b.kv_blocks_used == 3);
  CU_ASSERT(stats(s).waiting == 1);

  CU_ASSERT(release(s, 0) == 0);
  st = stats(s);
  CU_ASSERT(st.held == 0 && st.kv_blocks_held == 0 && st.kv_blocks_used == 0);
  CU_ASSERT(st.kv_blocks_cached == 2 && st.kv_blocks_free == 6);
  CU_ASSERT(job_sched_prefix_hit_blocks(s, h, 2) == 2);

  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 2, 24, 0) && b.kv_blocks_used == 6);
  CU_ASSERT(job_sched_prefix_hit_blocks(s, h, 2) == 2);
  CU_ASSERT(finish(s, &ev) == 2 && event_is(&ev[1], JOB_SCHED_FINISHED, 2));
  st = stats(s);
  CU_ASSERT(st.kv_blocks_used == 0 && st.kv_blocks_cached == 2 && st.kv_blocks_free == 6);
  job_sched_destroy(s);
}

/* As in vLLM, held blocks are in the prefix cache: request 1 (prompt 12, hashes 11 12 13) hits the
 * two blocks request 0 holds, shares them, and computes its last 4 tokens in one new block. */
static void test_held_prompt_blocks_are_hit_by_later_requests(void) {
  static const uint64_t h0[] = {11, 12}, h1[] = {11, 12, 13};
  job_sched *s = create(config(100, 4, 8, true));
  add(s, 0, 10, 1, (req_opts){.hold_kv = true, .hashes = h0, .num_hashes = 2});
  step(s);
  finish_quiet(s);
  add(s, 1, 12, 1, (req_opts){.hashes = h1, .num_hashes = 3});
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 4, 8) && b.kv_blocks_used == 4);
  CU_ASSERT(b.num_events == 1 && b.events[0].prefix_hit_blocks == 2);
  finish_quiet(s);
  job_sched_stats st = stats(s);
  CU_ASSERT(st.kv_blocks_used == 3 && st.kv_blocks_held == 3 && st.kv_blocks_cached == 1);
  CU_ASSERT(release(s, 0) == 0);
  st = stats(s);
  CU_ASSERT(st.kv_blocks_used == 0 && st.kv_blocks_cached == 3);
  job_sched_destroy(s);
}

/* Prompt 7 and 3 outputs in blocks of 4: held with ceil((7 + 2) / 4) = 3 blocks. Release fails
 * while it waits or runs, for an unknown id, for a finished request without hold_kv, and twice. */
static void test_release_fails_unless_a_finished_request_holds_kv(void) {
  job_sched *s = create(config(100, 4, 8, false));
  add(s, 0, 7, 3, HOLD);
  add(s, 1, 4, 1, PLAIN);
  CU_ASSERT(release(s, 0) == -1);
  step(s);
  CU_ASSERT(release(s, 0) == -1 && release(s, 1) == -1);
  finish_quiet(s); /* 1 finished, without hold_kv */
  CU_ASSERT(release(s, 1) == -1);
  step(s);
  finish_quiet(s);
  step(s);
  const job_sched_event *ev;
  CU_ASSERT(finish(s, &ev) == 1 && event_is(&ev[0], JOB_SCHED_FINISHED, 0));
  job_sched_stats st = stats(s);
  CU_ASSERT(st.held == 1 && st.kv_blocks_held == 3 && st.kv_blocks_used == 3);
  CU_ASSERT(release(s, 77) == -1);
  CU_ASSERT(release(s, 0) == 0);
  CU_ASSERT(release(s, 0) == -1);
  CU_ASSERT(stats(s).kv_blocks_used == 0 && stats(s).kv_blocks_free == 8);
  job_sched_destroy(s);
}

/* ---- decode side: remote_kv ---- */

/* Under reserve_full a remote request's allocation reserves its whole life: blocks of 4, 6 blocks,
 * two remote requests of prompt 10 and 4 outputs (13 tokens: 4 blocks). Request 0 takes 3 blocks
 * and reserves a 4th; request 1 (4 more) waits, though its 3 would fit (admitting on the prompt
 * allocates both), until 0 has arrived, decoded and finished. */
static void test_reserve_full_remote_allocation_reserves_the_whole_request(void) {
  for (int full = 0; full <= 1; full++) {
    job_sched_config cfg = config(100, 4, 6, false);
    cfg.admission = full ? JOB_SCHED_RESERVE_FULL : JOB_SCHED_ADMIT_ON_PROMPT;
    job_sched *s = create(cfg);
    add(s, 0, 10, 4, REMOTE);
    add(s, 1, 10, 4, REMOTE);
    job_sched_batch b = step(s);
    CU_ASSERT(b.num_seqs == 0 && b.num_events == (full ? 1u : 2u));
    CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 0));
    CU_ASSERT(stats(s).waiting_for_kv == (full ? 1u : 2u));
    if (!full) {
      job_sched_destroy(s);
      continue;
    }
    CU_ASSERT(kv_arrived(s, 0) == 0);
    for (uint32_t k = 0; k < 3; k++) {
      b = step(s);
      CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 1, 10 + k));
      CU_ASSERT(b.num_events == (k == 0) && stats(s).waiting == 1);
      finish_quiet(s);
    }
    b = step(s);
    CU_ASSERT(b.num_seqs == 0 && b.num_events == 1 && b.kv_blocks_used == 3);
    CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 1));
    CU_ASSERT(stats(s).preemptions == 0 && stats(s).finished == 1);
    job_sched_destroy(s);
  }
}

/* Prompt 10, 4 outputs, blocks of 4: allocation takes ceil(11 / 4) = 3 blocks, KV_ALLOCATED with no
 * local hits, and no iteration. Until its KV arrives it never runs, though request 1 does. Then it
 * decodes exactly 3 tokens, from contexts 10, 11, 12 as a local request would, taking a 4th block
 * for the last (13 tokens); STARTED comes with its first decode, FIRST_TOKEN never. */
static void test_remote_request_waits_for_kv_then_decodes_output_minus_one_tokens(void) {
  job_sched *s = create(config(100, 4, 16, false));
  add(s, 0, 10, 4, REMOTE);
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 1 && b.kv_blocks_used == 3);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 0));
  CU_ASSERT(b.events[0].prefix_hit_tokens == 0 && b.events[0].prefix_hit_blocks == 0);
  job_sched_stats st = stats(s);
  CU_ASSERT(st.waiting_for_kv == 1 && st.waiting == 0 && st.running == 0);
  CU_ASSERT(st.kv_blocks_used == 3 && st.kv_blocks_held == 0);
  b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 0);

  add(s, 1, 4, 2, PLAIN);
  for (uint32_t k = 0; k < 2; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && b.seqs[0].id == 1 && b.kv_blocks_used == 4 + k);
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 1 && stats(s).kv_blocks_used == 3);

  CU_ASSERT(kv_arrived(s, 0) == 0);
  CU_ASSERT(kv_arrived(s, 0) == -1);
  st = stats(s);
  CU_ASSERT(st.waiting_for_kv == 0 && st.waiting == 1 && st.kv_blocks_used == 3);
  uint32_t blocks[] = {3, 3, 4};
  for (uint32_t k = 0; k < 3; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 1, 10 + k) && !b.seqs[0].prefill);
    CU_ASSERT(b.hw.decode_seqs == 1 && b.hw.decode_ctx_tokens == 11 + k);
    CU_ASSERT(b.hw.prefill_seqs == 0 && b.kv_blocks_used == blocks[k]);
    CU_ASSERT(b.num_events == (k == 0));
    if (k == 0)
      CU_ASSERT(event_is(&b.events[0], JOB_SCHED_STARTED, 0));
    const job_sched_event *ev;
    uint32_t n = finish(s, &ev);
    CU_ASSERT(n == (k == 2));
    if (k == 2)
      CU_ASSERT(event_is(&ev[0], JOB_SCHED_FINISHED, 0));
  }
  b = step(s);
  CU_ASSERT(b.num_seqs == 0 && stats(s).kv_blocks_used == 0 && stats(s).finished == 2);
  job_sched_destroy(s);
}

static void test_remote_requests_with_one_output_and_early_or_unknown_arrivals_are_refused(void) {
  job_sched *s = create(config(100, 4, 16, false));
  job_sched_request req = {.id = 5, .prompt_tokens = 10, .output_tokens = 1, .remote_kv = true};
  char err[256] = "";
  CU_ASSERT(job_sched_add(s, &req, err, sizeof err) == -1);
  CU_ASSERT(strstr(err, "request 5") != NULL && strstr(err, "remote") != NULL);
  must_be_valid(s);
  CU_ASSERT(kv_arrived(s, 5) == -1);
  /* Remote 6 cannot have its blocks yet (7 holds 15 of 16), so its KV cannot arrive. */
  add(s, 7, 60, 2, PLAIN); /* 61 tokens: 16 blocks */
  add(s, 6, 10, 2, REMOTE);
  CU_ASSERT(step(s).num_seqs == 1);
  CU_ASSERT(kv_arrived(s, 6) == -1 && kv_arrived(s, 7) == -1);
  CU_ASSERT(stats(s).waiting == 1 && stats(s).waiting_for_kv == 0);
  job_sched_destroy(s);
}

/* Back-pressure and FCFS. Blocks of 4, 6 blocks. Request 0 (prompt 12, 5 outputs) holds 3 blocks,
 * 4 from its first decode (13 tokens). Remote request 1 (prompt 8: ceil(9 / 4) = 3 blocks) then
 * waits at the head with 2 evictable, and request 2 (1 block), which would fit, waits behind it.
 * When 0 finishes both are admitted in one step: 1 allocated (no budget, no seat), 2 started. */
static void test_remote_allocation_waits_for_blocks_and_blocks_the_queue_behind_it(void) {
  job_sched *s = create(config(100, 4, 6, false));
  add(s, 0, 12, 5, PLAIN);
  step(s);
  finish_quiet(s);
  add(s, 1, 8, 3, REMOTE);
  add(s, 2, 4, 1, PLAIN);
  for (uint32_t k = 0; k < 4; k++) {
    job_sched_batch b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 1, 12 + k));
    CU_ASSERT(b.num_events == 0 && b.kv_blocks_used == 4);
    CU_ASSERT(stats(s).waiting == 2 && stats(s).waiting_for_kv == 0);
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 1 && stats(s).kv_blocks_used == 0);
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 2, 4, 0) && b.kv_blocks_used == 4);
  CU_ASSERT_FATAL(b.num_events == 2);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 1));
  CU_ASSERT(event_is(&b.events[1], JOB_SCHED_STARTED, 2));
  finish_quiet(s);
  CU_ASSERT(kv_arrived(s, 1) == 0);
  for (uint32_t k = 0; k < 2; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 8 + k) && b.kv_blocks_used == 3);
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 3 && stats(s).kv_blocks_used == 0);
  job_sched_destroy(s);
}

/* Under the priority policy remote allocation follows priority too. Blocks of 4, 3 blocks: remote
 * request 1 (priority 0, 3 blocks) is allocated before request 0 (priority 5, 2 blocks), which
 * then waits for blocks until 1 has decoded. */
static void test_remote_allocation_follows_the_priority_order(void) {
  job_sched_config cfg = config(100, 4, 3, false);
  cfg.policy = JOB_SCHED_PRIORITY;
  job_sched *s = create(cfg);
  add(s, 0, 8, 1, (req_opts){.priority = 5});
  add(s, 1, 8, 2, (req_opts){.remote_kv = true, .priority = 0});
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 1 && b.kv_blocks_used == 3);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 1));
  CU_ASSERT(kv_arrived(s, 1) == 0);
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 8));
  finish_quiet(s);
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 8, 0));
  finish_quiet(s);
  job_sched_destroy(s);
}

/* Caching, blocks of 4. Request 0 leaves hashes 1-4 cached. Remote request 1 (prompt 18, hashes
 * 1 2 7 8) hits 2 blocks: KV_ALLOCATED reports 8 tokens, and ceil(19 / 4) - 2 = 3 new blocks come
 * from the never-used ones. Its blocks 7 and 8 are not hit before its KV arrives. Remote request 2
 * (prompt 16, hashes 1-4) is fully cached but, as in vLLM, hits 3 blocks: its last must be
 * shipped. */
static void test_local_prefix_hits_reduce_what_kv_allocated_reports(void) {
  static const uint64_t h0[] = {1, 2, 3, 4}, h1[] = {1, 2, 7, 8};
  job_sched *s = create(config(100, 4, 16, true));
  add(s, 0, 16, 1, (req_opts){.hashes = h0, .num_hashes = 4});
  step(s);
  finish_quiet(s);
  CU_ASSERT(stats(s).kv_blocks_cached == 4);
  add(s, 1, 18, 2, (req_opts){.remote_kv = true, .hashes = h1, .num_hashes = 4});
  job_sched_batch b = step(s);
  CU_ASSERT_FATAL(b.num_events == 1);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 1));
  CU_ASSERT(b.events[0].prefix_hit_blocks == 2 && b.events[0].prefix_hit_tokens == 8);
  job_sched_stats st = stats(s);
  CU_ASSERT(st.kv_blocks_used == 5 && st.kv_blocks_cached == 2 && st.kv_blocks_free == 9);
  CU_ASSERT(st.prefix_hit_tokens == 8 && st.prefix_query_tokens == 16 + 18);
  CU_ASSERT(job_sched_prefix_hit_blocks(s, h1, 4) == 2);
  CU_ASSERT(kv_arrived(s, 1) == 0);
  CU_ASSERT(job_sched_prefix_hit_blocks(s, h1, 4) == 4);

  add(s, 2, 16, 2, (req_opts){.remote_kv = true, .hashes = h0, .num_hashes = 4});
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 18));
  CU_ASSERT_FATAL(b.num_events == 2);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_STARTED, 1) && b.events[0].prefix_hit_tokens == 8);
  CU_ASSERT(event_is(&b.events[1], JOB_SCHED_KV_ALLOCATED, 2));
  CU_ASSERT(b.events[1].prefix_hit_blocks == 3 && b.events[1].prefix_hit_tokens == 12);
  CU_ASSERT(b.kv_blocks_used == 5 + 1 + 2); /* hash 3's block revived, ceil(17 / 4) - 3 new */
  finish_quiet(s);
  CU_ASSERT(kv_arrived(s, 2) == 0);
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 2, 1, 16) && !b.seqs[0].prefill);
  finish_quiet(s);
  CU_ASSERT(stats(s).kv_blocks_used == 0 && stats(s).finished == 3);
  job_sched_destroy(s);
}

/* The first output token's slot is allocated with the prompt, so a request whose KV arrived needs
 * no new block to start. Blocks of 4, 4 blocks, two remote prompts of 8 tokens: the first takes
 * ceil(9 / 4) = 3 blocks and the second waits. Holding 2 blocks each, both would have arrived and
 * neither could ever run. */
static void test_remote_requests_cannot_fill_the_kv_so_that_none_can_decode(void) {
  job_sched *s = create(config(100, 4, 4, false));
  add(s, 0, 8, 3, REMOTE);
  add(s, 1, 8, 3, REMOTE);
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 1 && b.kv_blocks_used == 3);
  CU_ASSERT(kv_arrived(s, 0) == 0);
  CU_ASSERT(kv_arrived(s, 1) == -1);
  for (uint32_t k = 0; k < 2; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 1, 8 + k) && b.kv_blocks_used == 3);
    finish_quiet(s);
  }
  b = step(s);
  CU_ASSERT(b.num_seqs == 0 && b.num_events == 1);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 1));
  CU_ASSERT(kv_arrived(s, 1) == 0);
  for (uint32_t k = 0; k < 2; k++) {
    CU_ASSERT(step(s).num_seqs == 1);
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 2 && stats(s).kv_blocks_used == 0);
  job_sched_destroy(s);
}

/* Blocks of 4, 8 blocks. Request 1 (prompt 8, 10 outputs) runs first; remote 0 (prompt 8, 10
 * outputs, 3 blocks) and remote 2 (prompt 4, 5 outputs, 2 blocks) are allocated, all 8 blocks
 * used; 0 arrives and decodes after 1. When 1 needs a 4th block (13 tokens), FCFS preempts the last
 * running request, 0; 2, waiting for KV, is not running and keeps its blocks. 0 then recomputes its
 * 12 tokens (prompt and 4 outputs) locally once 1 has finished, and 2 decodes when its KV comes. */
static void test_a_running_remote_request_is_preempted_by_recompute_not_one_waiting_for_kv(void) {
  job_sched *s = create(config(100, 4, 8, false));
  add(s, 1, 8, 10, PLAIN);
  step(s);
  finish_quiet(s);
  add(s, 0, 8, 10, REMOTE);
  add(s, 2, 4, 5, REMOTE);
  job_sched_batch b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 8) && b.kv_blocks_used == 8);
  CU_ASSERT_FATAL(b.num_events == 2);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_KV_ALLOCATED, 0));
  CU_ASSERT(event_is(&b.events[1], JOB_SCHED_KV_ALLOCATED, 2));
  finish_quiet(s);
  CU_ASSERT(kv_arrived(s, 0) == 0);
  for (uint32_t k = 0; k < 3; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 2 && seq_is(&b, 0, 1, 1, 9 + k) && seq_is(&b, 1, 0, 1, 8 + k));
    finish_quiet(s);
  }
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 12));
  CU_ASSERT_FATAL(b.num_events == 1);
  CU_ASSERT(event_is(&b.events[0], JOB_SCHED_PREEMPTED, 0) && b.events[0].preemptions == 1);
  CU_ASSERT(b.kv_blocks_used == 4 + 2);
  job_sched_stats st = stats(s);
  CU_ASSERT(st.waiting_for_kv == 1 && st.waiting == 1 && st.running == 1);
  finish_quiet(s);
  for (uint32_t k = 0; k < 4; k++) { /* 1 decodes 13..16, finishing; 0 needs 3 blocks, has 2 */
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 1, 1, 13 + k));
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 1 && stats(s).kv_blocks_used == 2);
  b = step(s);
  CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 12, 0) && b.seqs[0].prefill);
  CU_ASSERT(b.num_events == 0); /* STARTED came with its first decode */
  finish_quiet(s);
  for (uint32_t k = 0; k < 5; k++) { /* outputs 6 to 10 */
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 0, 1, 12 + k));
    finish_quiet(s);
  }
  CU_ASSERT(stats(s).finished == 2 && stats(s).kv_blocks_used == 2);
  CU_ASSERT(kv_arrived(s, 2) == 0);
  for (uint32_t k = 0; k < 4; k++) {
    b = step(s);
    CU_ASSERT(b.num_seqs == 1 && seq_is(&b, 0, 2, 1, 4 + k) && !b.seqs[0].prefill);
    finish_quiet(s);
  }
  st = stats(s);
  CU_ASSERT(st.finished == 3 && st.kv_blocks_used == 0 && st.preemptions == 1);
  job_sched_destroy(s);
}

/* ---- a randomized prefill instance feeding a decode instance ---- */

static uint64_t rng_next(uint64_t *state) {
  *state = *state * 6364136223846793005u + 1442695040888963407u;
  return *state >> 33;
}

enum { PD_REQUESTS = 1200, PD_FAMILIES = 6, PD_FAMILY_BLOCKS = 16 };

typedef struct pd_track {
  uint32_t prompt, output;
  uint32_t num_hashes;
  uint64_t hashes[PD_FAMILY_BLOCKS];
  bool local; /* added to the decode instance as a plain request */
  bool prefill_done, allocated, arrived, decode_done;
  int transfer_at; /* round the KV lands, once allocated; -1 none */
  uint32_t decode_seqs, decode_preemptions;
} pd_track;

/* Hold-KV prefills on one instance, remote-KV decodes on another with less KV (back-pressure on the
 * prefill side's held blocks), plain requests mixed into the decode side, transfers of random
 * length. Every invariant holds after every call, a remote request never runs before its KV, one
 * never preempted decodes exactly output - 1 times from contexts prompt, prompt + 1, ..., and
 * everything finishes with every block back. */
static void pd_stress(uint64_t seed, job_sched_policy decode_policy) {
  uint64_t state = seed;
  job_sched_config pcfg = config(256, 8, 300, true), dcfg = config(256, 8, 160, true);
  pcfg.max_num_seqs = dcfg.max_num_seqs = 16;
  dcfg.policy = decode_policy;
  job_sched *p = create(pcfg), *d = create(dcfg);
  pd_track *t = calloc(PD_REQUESTS, sizeof *t);
  CU_ASSERT_FATAL(t != NULL);
  uint32_t added = 0, decoded = 0, prefilled = 0, allocations = 0, held_peak = 0;
  uint32_t *in_flight = malloc(PD_REQUESTS * sizeof *in_flight), num_in_flight = 0;
  CU_ASSERT_FATAL(in_flight != NULL);
  bool pressure = false; /* some remote request waited at the head for blocks */
  for (int round = 0;; round++) {
    CU_ASSERT_FATAL(round < 1000000);
    if (rng_next(&state) % 3 == 0 && added < PD_REQUESTS) {
      pd_track *r = &t[added];
      r->prompt = 1 + (uint32_t)(rng_next(&state) % 300);
      r->output = 2 + (uint32_t)(rng_next(&state) % 60);
      r->local = rng_next(&state) % 5 == 0;
      r->transfer_at = -1;
      uint32_t family = (uint32_t)(rng_next(&state) % PD_FAMILIES);
      uint32_t shared = (uint32_t)(rng_next(&state) % (PD_FAMILY_BLOCKS + 1));
      uint32_t full = r->prompt / 8;
      r->num_hashes = full < PD_FAMILY_BLOCKS ? full : PD_FAMILY_BLOCKS;
      for (uint32_t b = 0; b < r->num_hashes; b++)
        r->hashes[b] = b < shared ? family * 1000 + b : 1000000 + added * 100 + b;
      req_opts o = {.hashes = r->hashes, .num_hashes = r->num_hashes};
      if (r->local) {
        add(d, added, r->prompt, r->output, o);
        r->prefill_done = r->allocated = r->arrived = true;
      } else {
        o.hold_kv = true;
        add(p, added, r->prompt, 1, o);
      }
      added++;
    }
    /* Transfers that land now: the prefill side frees, the decode side may run. */
    for (uint32_t k = 0; k < num_in_flight;) {
      uint32_t id = in_flight[k];
      if (t[id].transfer_at > round) {
        k++;
        continue;
      }
      t[id].transfer_at = -1;
      t[id].arrived = true;
      CU_ASSERT_FATAL(release(p, id) == 0 && kv_arrived(d, id) == 0);
      in_flight[k] = in_flight[--num_in_flight];
    }
    job_sched_batch pb = step(p), db;
    uint32_t held = stats(p).kv_blocks_held;
    held_peak = held > held_peak ? held : held_peak;
    if (pb.num_seqs > 0) {
      const job_sched_event *ev;
      uint32_t n = finish(p, &ev);
      for (uint32_t e = 0; e < n; e++) {
        if (ev[e].kind != JOB_SCHED_FINISHED)
          continue;
        pd_track *r = &t[ev[e].id];
        r->prefill_done = true;
        prefilled++;
        add(d, ev[e].id, r->prompt, r->output,
            (req_opts){.remote_kv = true, .hashes = r->hashes, .num_hashes = r->num_hashes});
      }
    }
    db = step(d);
    for (uint32_t e = 0; e < db.num_events; e++) {
      pd_track *r = &t[db.events[e].id];
      if (db.events[e].kind == JOB_SCHED_KV_ALLOCATED) {
        CU_ASSERT_FATAL(!r->local && r->prefill_done && !r->allocated);
        CU_ASSERT_FATAL(db.events[e].prefix_hit_tokens < r->prompt);
        r->allocated = true;
        allocations++;
        r->transfer_at = round + 1 + (int)(rng_next(&state) % 6);
        in_flight[num_in_flight++] = (uint32_t)db.events[e].id;
      } else if (db.events[e].kind == JOB_SCHED_PREEMPTED) {
        r->decode_preemptions++;
      }
    }
    job_sched_stats dst = stats(d);
    pressure |= dst.waiting > 0 && dst.running < dcfg.max_num_seqs;
    for (uint32_t k = 0; k < db.num_seqs; k++) {
      const job_sched_seq *q = &db.seqs[k];
      pd_track *r = &t[q->id];
      CU_ASSERT_FATAL(r->arrived && !r->decode_done);
      if (!r->local && r->decode_preemptions == 0) {
        CU_ASSERT_FATAL(q->tokens == 1 && !q->prefill);
        CU_ASSERT_FATAL(q->context_tokens == r->prompt + r->decode_seqs);
      }
      r->decode_seqs++;
    }
    if (db.num_seqs > 0) {
      const job_sched_event *ev;
      uint32_t n = finish(d, &ev);
      for (uint32_t e = 0; e < n; e++) {
        pd_track *r = &t[ev[e].id];
        CU_ASSERT_FATAL(!(ev[e].kind == JOB_SCHED_FIRST_TOKEN && !r->local));
        if (ev[e].kind != JOB_SCHED_FINISHED)
          continue;
        r->decode_done = true;
        decoded++;
        if (!r->local && r->decode_preemptions == 0)
          CU_ASSERT_FATAL(r->decode_seqs == r->output - 1);
      }
    }
    if (added == PD_REQUESTS && decoded == PD_REQUESTS)
      break;
  }
  job_sched_stats pst = stats(p), dst = stats(d);
  CU_ASSERT(pst.kv_blocks_used == 0 && pst.held == 0 && pst.finished == prefilled);
  CU_ASSERT(dst.kv_blocks_used == 0 && dst.waiting_for_kv == 0 && dst.finished == PD_REQUESTS);
  CU_ASSERT(dst.running == 0 && dst.waiting == 0);
  CU_ASSERT(allocations == prefilled && prefilled > PD_REQUESTS / 2);
  /* The configuration really exercises held KV, decode-side pressure and preemption. */
  CU_ASSERT(held_peak > 100 && pressure && dst.preemptions > 0 && dst.prefix_hit_blocks > 0);
  if (getenv("WT_TEST_VERBOSE"))
    fprintf(stderr, "\n  seed %llu: held peak %u, preemptions %llu, hits %llu, allocations %u\n",
            (unsigned long long)seed, held_peak, (unsigned long long)dst.preemptions,
            (unsigned long long)dst.prefix_hit_blocks, allocations);
  free(in_flight);
  free(t);
  job_sched_destroy(p);
  job_sched_destroy(d);
}

static void test_stress_prefill_instance_feeding_a_decode_instance_fcfs(void) {
  pd_stress(1, JOB_SCHED_FCFS);
  pd_stress(2, JOB_SCHED_FCFS);
}

static void test_stress_prefill_instance_feeding_a_decode_instance_priority(void) {
  pd_stress(3, JOB_SCHED_PRIORITY);
}

int main(int argc, char **argv) {
#define T(name)                                                                                    \
  { #name, test_##name }
  static const harness_test tests[] = {
      T(hold_kv_keeps_blocks_used_until_release_then_they_are_cached),
      T(held_prompt_blocks_are_hit_by_later_requests),
      T(release_fails_unless_a_finished_request_holds_kv),
      T(reserve_full_remote_allocation_reserves_the_whole_request),
      T(remote_request_waits_for_kv_then_decodes_output_minus_one_tokens),
      T(remote_requests_with_one_output_and_early_or_unknown_arrivals_are_refused),
      T(remote_allocation_waits_for_blocks_and_blocks_the_queue_behind_it),
      T(remote_allocation_follows_the_priority_order),
      T(local_prefix_hits_reduce_what_kv_allocated_reports),
      T(remote_requests_cannot_fill_the_kv_so_that_none_can_decode),
      T(a_running_remote_request_is_preempted_by_recompute_not_one_waiting_for_kv),
      T(stress_prefill_instance_feeding_a_decode_instance_fcfs),
      T(stress_prefill_instance_feeding_a_decode_instance_priority),
      {NULL, NULL},
  };
#undef T
  return harness_run("sched_disagg", tests, argc > 1 ? argv[1] : NULL, true);
}
