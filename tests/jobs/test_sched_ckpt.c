/* Checkpoints of the scheduler and its KV tier (job_sched_save/_load, job_kv_tier_save/_load): two
 * node-like worlds (two schedulers sharing a tier) run one seeded random mix of calls; at many
 * points the second is saved and replaced by a fresh one loaded from the pack, and both continue:
 * every batch, event, stat and leap length must stay identical. Damaged packs must fail cleanly.
 * Now and then the first world leaps a steady stretch (job_sched_leap) where the second steps it:
 * the same batches, blocks and state after. */
#include <CUnit/Basic.h>

#include "harness.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/sched.h"

enum { SCHEDS = 2, MAX_REQS = 1200, MAX_HASHES = 8, BLOCK = 4 };

typedef struct req {
  uint64_t id;
  bool hold_kv;
  uint64_t hashes[MAX_HASHES];
} req;

/* Two schedulers on one tier (or none), their requests' records (the user pointers) by id. */
typedef struct world {
  job_sched_config cfg;
  job_kv_tier *tier;
  job_sched *s[SCHEDS];
  req reqs[MAX_REQS];
  job_sched_batch batch[SCHEDS];
  uint64_t released, arrived;   /* successful job_sched_release and _kv_arrived calls */
  uint64_t leapt, leapt_blocks; /* iterations leapt, blocks taken while leaping */
} world;

/* Ids that FINISHED with hold_kv or got KV_ALLOCATED, per scheduler: to release or let arrive. */
typedef struct parked {
  uint64_t ids[SCHEDS][MAX_REQS];
  bool held[SCHEDS][MAX_REQS]; /* else waiting for KV */
  uint32_t n[SCHEDS];
} parked;

static void note_parked(parked *pk, int k, const world *w, const job_sched_event *ev, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (ev[i].kind == JOB_SCHED_KV_ALLOCATED ||
        (ev[i].kind == JOB_SCHED_FINISHED && w->reqs[ev[i].id].hold_kv)) {
      pk->held[k][pk->n[k]] = ev[i].kind == JOB_SCHED_FINISHED;
      pk->ids[k][pk->n[k]++] = ev[i].id;
    }
}

static uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static void world_init(world *w, const job_sched_config *cfg, uint64_t tier_bytes) {
  char err[256];
  w->cfg = *cfg;
  w->tier = NULL;
  if (tier_bytes)
    CU_ASSERT_FATAL(job_kv_tier_create(&w->tier, tier_bytes, err, sizeof err) == 0);
  w->cfg.tier = w->tier;
  for (int k = 0; k < SCHEDS; k++)
    CU_ASSERT_FATAL(job_sched_create(&w->s[k], &w->cfg, err, sizeof err) == 0);
}

static void world_free(world *w) {
  for (int k = 0; k < SCHEDS; k++)
    job_sched_destroy(w->s[k]);
  job_kv_tier_destroy(w->tier);
}

static void *resolve(void *ctx, uint64_t id, const uint64_t **hashes) {
  world *w = ctx;
  if (id >= MAX_REQS)
    return NULL;
  *hashes = w->reqs[id].hashes;
  return &w->reqs[id];
}

static void *resolve_none(void *ctx, uint64_t id, const uint64_t **hashes) {
  (void)ctx, (void)id, (void)hashes;
  return NULL;
}

static void pack_world(const world *w, core_pack *p) {
  if (w->tier)
    job_kv_tier_save(w->tier, p);
  for (int k = 0; k < SCHEDS; k++)
    CU_ASSERT_FATAL(job_sched_save(w->s[k], p) == 0);
}

/* Loads a pack of a world into a fresh one, as a restarted run does; -1 when any part fails. */
static int unpack_world(world *w, const job_sched_config *cfg, uint64_t tier_bytes,
                        const core_pack *p, void *(*res)(void *, uint64_t, const uint64_t **)) {
  world_init(w, cfg, tier_bytes);
  core_unpack u = core_unpack_of(p->data, p->len);
  int rc = w->tier ? job_kv_tier_load(w->tier, &u) : 0;
  for (int k = 0; k < SCHEDS && rc == 0; k++)
    rc = job_sched_load(w->s[k], &u, res, w);
  return rc == 0 && core_unpack_done(&u) ? 0 : -1;
}

static void seq_same(const job_sched_seq *a, const job_sched_seq *b) {
  CU_ASSERT_FATAL(a->id == b->id && a->tokens == b->tokens &&
                  a->context_tokens == b->context_tokens && a->prefill == b->prefill);
  CU_ASSERT_FATAL(((req *)a->user)->id == a->id && ((req *)b->user)->id == b->id);
}

static void events_same(const job_sched_event *a, const job_sched_event *b, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    CU_ASSERT_FATAL(a[i].kind == b[i].kind && a[i].id == b[i].id && a[i].time_ns == b[i].time_ns);
    CU_ASSERT_FATAL(a[i].preemptions == b[i].preemptions &&
                    a[i].prefix_hit_blocks == b[i].prefix_hit_blocks &&
                    a[i].prefix_hit_tokens == b[i].prefix_hit_tokens &&
                    a[i].tier_hit_tokens == b[i].tier_hit_tokens && a[i].swaps == b[i].swaps &&
                    a[i].swapped == b[i].swapped);
    CU_ASSERT_FATAL(((req *)a[i].user)->id == a[i].id && ((req *)b[i].user)->id == b[i].id);
  }
}

/* Batches without their events (compared where they are returned). */
static void batch_same(const job_sched_batch *a, const job_sched_batch *b) {
  const hw_batch *x = &a->hw, *y = &b->hw;
  CU_ASSERT_FATAL(x->prefill_seqs == y->prefill_seqs && x->prefill_tokens == y->prefill_tokens &&
                  x->prefill_attn_pairs == y->prefill_attn_pairs &&
                  x->prefill_ctx_tokens == y->prefill_ctx_tokens &&
                  x->decode_seqs == y->decode_seqs && x->decode_ctx_tokens == y->decode_ctx_tokens);
  CU_ASSERT_FATAL(a->num_seqs == b->num_seqs && a->kv_blocks_used == b->kv_blocks_used &&
                  a->tier_load_bytes == b->tier_load_bytes &&
                  a->tier_store_bytes == b->tier_store_bytes && a->swapped_out == b->swapped_out &&
                  a->swapped_in == b->swapped_in && a->tier_hit_blocks == b->tier_hit_blocks);
  for (uint32_t i = 0; i < a->num_seqs; i++)
    seq_same(&a->seqs[i], &b->seqs[i]);
}

/* clang-format off */
#define STATS_FIELDS(X)                                                                            \
  X(running) X(waiting) X(held) X(waiting_for_kv) X(kv_blocks_total) X(kv_blocks_used)             \
  X(kv_blocks_free) X(kv_blocks_cached) X(kv_blocks_held) X(iterations) X(preemptions) X(finished) \
  X(prefix_query_tokens) X(prefix_hit_tokens) X(prefix_hit_blocks) X(tier_hit_tokens)             \
  X(swaps_out) X(swaps_in) X(tier_load_bytes) X(tier_store_bytes) X(spilled_blocks) X(swapped)
#define TIER_FIELDS(X)                                                                             \
  X(capacity_bytes) X(cached_bytes) X(pinned_bytes) X(peak_bytes) X(cached_blocks)                 \
  X(stored_blocks) X(evicted_blocks) X(hit_blocks)
/* clang-format on */
#define SAME(f) CU_ASSERT_FATAL(x.f == y.f);

static void worlds_same(const world *a, const world *b) {
  char err[256] = "";
  for (int k = 0; k < SCHEDS; k++) {
    for (const world *w = a; w; w = w == a ? b : NULL)
      if (job_sched_check(w->s[k], err, sizeof err) != 0) {
        fprintf(stderr, "\n  %s\n", err);
        CU_FAIL_FATAL("invalid scheduler");
      }
    job_sched_stats x, y;
    job_sched_stats_get(a->s[k], &x);
    job_sched_stats_get(b->s[k], &y);
    STATS_FIELDS(SAME)
    CU_ASSERT_FATAL(job_sched_steady(a->s[k], 64) == job_sched_steady(b->s[k], 64));
    job_sched_batch ba, bb;
    job_sched_open_batch(a->s[k], &ba);
    job_sched_open_batch(b->s[k], &bb);
    batch_same(&ba, &bb);
    CU_ASSERT_FATAL(bb.seqs == b->batch[k].seqs || bb.num_seqs == 0);
  }
  if (a->tier) {
    job_kv_tier_stats x, y;
    job_kv_tier_stats_get(a->tier, &x);
    job_kv_tier_stats_get(b->tier, &y);
    TIER_FIELDS(SAME)
  }
}

/* Scheduler k of world a leaps n iterations while b finishes and steps them one by one. */
static void leap_against_steps(world *a, world *b, int k, uint32_t n, int64_t now_ns) {
  uint32_t kv_blocks_used[64];
  job_sched_stats before;
  job_sched_stats_get(a->s[k], &before);
  job_sched_leap(a->s[k], n, kv_blocks_used);
  job_sched_open_batch(a->s[k], &a->batch[k]);
  for (uint32_t j = 0; j < n; j++) {
    const job_sched_event *events;
    CU_ASSERT_FATAL(job_sched_finish(b->s[k], now_ns, &events) == 0);
    job_sched_step(b->s[k], now_ns, &b->batch[k]);
    CU_ASSERT_FATAL(b->batch[k].num_events == 0 && b->batch[k].kv_blocks_used == kv_blocks_used[j]);
  }
  CU_ASSERT_FATAL(a->batch[k].num_events == 0);
  batch_same(&a->batch[k], &b->batch[k]);
  worlds_same(a, b);
  a->leapt += n;
  a->leapt_blocks += a->batch[k].kv_blocks_used - before.kv_blocks_used;
}

/* A request of one of four shared prompt families, so that prefixes hit. */
static job_sched_request random_request(uint64_t *rng, uint64_t id, const uint64_t *hashes) {
  job_sched_request q = {
      .id = id,
      .arrival_ns = (int64_t)(rng_next(rng) % 40), /* ties of (priority, arrival) too */
      .prompt_tokens = 1 + (uint32_t)(rng_next(rng) % 40),
      .output_tokens = 1 + (uint32_t)(rng_next(rng) % 20),
      .priority = (int32_t)(rng_next(rng) % 3),
      .block_hashes = hashes,
  };
  uint32_t most = q.prompt_tokens / BLOCK;
  q.num_block_hashes = (uint32_t)(rng_next(rng) % (most < MAX_HASHES ? most + 1 : MAX_HASHES + 1));
  uint32_t kind = (uint32_t)(rng_next(rng) % 8);
  q.hold_kv = kind == 0;
  q.remote_kv = kind == 1 && q.output_tokens >= 2;
  return q;
}

/* Applies one random call (drawn from rng) to scheduler k of both worlds and compares. */
static void one_call(world *a, world *b, parked *pk, uint64_t *rng, uint64_t *next_id,
                     int64_t *now_ns) {
  char err[256];
  int k = (int)(rng_next(rng) % SCHEDS);
  uint32_t op = (uint32_t)(rng_next(rng) % 20);
  *now_ns += 1 + (int64_t)(rng_next(rng) % 50);
  if (op < 2 && *next_id < MAX_REQS) {
    uint64_t id = (*next_id)++, family = rng_next(rng) % 4;
    for (uint32_t i = 0; i < MAX_HASHES; i++)
      a->reqs[id].hashes[i] = b->reqs[id].hashes[i] = family * 1000 + i;
    a->reqs[id].id = b->reqs[id].id = id;
    job_sched_request q = random_request(rng, id, a->reqs[id].hashes);
    a->reqs[id].hold_kv = b->reqs[id].hold_kv = q.hold_kv;
    q.user = &a->reqs[id];
    int ra = job_sched_add(a->s[k], &q, err, sizeof err);
    q.user = &b->reqs[id];
    q.block_hashes = b->reqs[id].hashes;
    CU_ASSERT_FATAL(job_sched_add(b->s[k], &q, err, sizeof err) == ra);
  } else if (op < 4) { /* release or kv_arrived of a parked request, else of one that is not */
    uint32_t at = (uint32_t)(rng_next(rng) % (pk->n[k] + 1));
    bool release = at < pk->n[k] ? pk->held[k][at] : op == 2;
    uint64_t id = at < pk->n[k] ? pk->ids[k][at] : *next_id;
    int ra = release ? job_sched_release(a->s[k], id) : job_sched_kv_arrived(a->s[k], id);
    int rb = release ? job_sched_release(b->s[k], id) : job_sched_kv_arrived(b->s[k], id);
    CU_ASSERT_FATAL(ra == rb && (ra == 0) == (at < pk->n[k]));
    if (at < pk->n[k]) {
      pk->ids[k][at] = pk->ids[k][--pk->n[k]];
      pk->held[k][at] = pk->held[k][pk->n[k]];
    }
    *(release ? &a->released : &a->arrived) += ra == 0;
  } else if (a->batch[k].num_seqs > 0) {
    uint32_t steady = job_sched_steady(a->s[k], 64);
    if (steady > 1 && rng_next(rng) % 3 == 0) {
      leap_against_steps(a, b, k, 1 + (uint32_t)(rng_next(rng) % (steady - 1)), *now_ns);
      return;
    }
    const job_sched_event *ea, *eb;
    uint32_t na = job_sched_finish(a->s[k], *now_ns, &ea);
    CU_ASSERT_FATAL(job_sched_finish(b->s[k], *now_ns, &eb) == na);
    events_same(ea, eb, na);
    note_parked(pk, k, a, ea, na);
    a->batch[k].num_seqs = b->batch[k].num_seqs = 0;
  } else {
    job_sched_step(a->s[k], *now_ns, &a->batch[k]);
    job_sched_step(b->s[k], *now_ns, &b->batch[k]);
    batch_same(&a->batch[k], &b->batch[k]);
    CU_ASSERT_FATAL(a->batch[k].num_events == b->batch[k].num_events);
    events_same(a->batch[k].events, b->batch[k].events, a->batch[k].num_events);
    note_parked(pk, k, a, a->batch[k].events, a->batch[k].num_events);
  }
}

/* A damaged pack of world w fails to load, and what it loaded into is destroyed cleanly. */
static void damaged_packs_fail(const world *w, const job_sched_config *cfg, uint64_t tier_bytes) {
  core_pack p = {0};
  pack_world(w, &p);
  world bad;
  for (size_t len = 0; len < p.len; len += 1 + p.len / 23) {
    core_pack cut = p;
    cut.len = len;
    CU_ASSERT(unpack_world(&bad, cfg, tier_bytes, &cut, resolve) != 0);
    world_free(&bad);
  }
  core_pack cut = p;
  cut.len = p.len - 1;
  CU_ASSERT(unpack_world(&bad, cfg, tier_bytes, &cut, resolve) != 0);
  world_free(&bad);
  job_sched_stats st;
  job_sched_stats_get(w->s[0], &st);
  if (st.running + st.waiting + st.held + st.waiting_for_kv > 0) {
    CU_ASSERT(unpack_world(&bad, cfg, tier_bytes, &p, resolve_none) != 0);
    world_free(&bad);
  }
  job_sched_config other = *cfg;
  other.max_num_seqs++;
  CU_ASSERT(unpack_world(&bad, &other, tier_bytes, &p, resolve) != 0);
  world_free(&bad);
  core_pack_free(&p);
}

/* Runs `calls` random calls on both worlds, replacing b by a load of its own pack every few. */
static void continue_after_loads(uint64_t seed, job_sched_config cfg, uint64_t tier_bytes,
                                 uint32_t calls) {
  uint64_t rng = seed, next_id = 0;
  int64_t now_ns = 0;
  world *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
  parked *pk = calloc(1, sizeof *pk);
  CU_ASSERT_FATAL(a && b && c && pk);
  world_init(a, &cfg, tier_bytes);
  world_init(b, &cfg, tier_bytes);
  uint32_t loads = 0;
  for (uint32_t call = 0; call < calls; call++) {
    one_call(a, b, pk, &rng, &next_id, &now_ns);
    if (rng_next(&rng) % 7 != 0)
      continue;
    core_pack p = {0};
    pack_world(b, &p);
    for (uint64_t id = 0; id < next_id; id++)
      c->reqs[id] = b->reqs[id];
    CU_ASSERT_FATAL(unpack_world(c, &cfg, tier_bytes, &p, resolve) == 0);
    core_pack_free(&p);
    for (int k = 0; k < SCHEDS; k++) /* the open batch, read back as the caller would */
      job_sched_open_batch(c->s[k], &c->batch[k]);
    world_free(b);
    world *t = b;
    b = c, c = t;
    worlds_same(a, b);
    if (loads++ % 50 == 0)
      damaged_packs_fail(b, &cfg, tier_bytes);
  }
  CU_ASSERT(loads > calls / 10);
  worlds_same(a, b);
  job_sched_stats st;
  job_sched_stats_get(a->s[0], &st);
  /* the mix ran requests to the end, parked and unparked them, preempted and swapped */
  CU_ASSERT(st.finished > 0 && a->released > 0 && a->arrived > 0);
  CU_ASSERT(a->leapt > 0 && a->leapt_blocks > 0); /* leaps that took blocks */
  CU_ASSERT(st.preemptions > 0 || cfg.admission == JOB_SCHED_RESERVE_FULL);
  CU_ASSERT(!tier_bytes || (st.swaps_out > 0 && st.tier_hit_tokens > 0));
  world_free(a);
  world_free(b);
  free(a);
  free(b);
  free(c);
  free(pk);
}

static job_sched_config config(job_sched_policy policy, job_sched_admission admission) {
  return (job_sched_config){
      .max_num_batched_tokens = 48,
      .max_num_seqs = 6,
      .block_size_tokens = BLOCK,
      .total_kv_blocks = 40,
      .policy = policy,
      .admission = admission,
      .chunked_prefill = true,
      .prefix_caching = true,
      .tier_space = 3,
      .block_bytes = 100,
  };
}

static void test_fcfs_continues_identically_after_every_load(void) {
  continue_after_loads(1, config(JOB_SCHED_FCFS, JOB_SCHED_ADMIT_ON_PROMPT), 0, 4000);
}

static void test_priority_continues_identically_after_every_load(void) {
  job_sched_config cfg = config(JOB_SCHED_PRIORITY, JOB_SCHED_ADMIT_ON_PROMPT);
  cfg.long_prefill_tokens = 12;
  continue_after_loads(2, cfg, 0, 4000);
}

static void test_reserve_full_continues_identically_after_every_load(void) {
  continue_after_loads(3, config(JOB_SCHED_FCFS, JOB_SCHED_RESERVE_FULL), 0, 4000);
}

static void test_a_shared_kv_tier_continues_identically_after_every_load(void) {
  continue_after_loads(4, config(JOB_SCHED_FCFS, JOB_SCHED_ADMIT_ON_PROMPT), 3000, 4000);
  continue_after_loads(5, config(JOB_SCHED_PRIORITY, JOB_SCHED_ADMIT_ON_PROMPT), 1500, 4000);
}

static void test_without_chunking_or_caching_continues_identically(void) {
  job_sched_config cfg = config(JOB_SCHED_FCFS, JOB_SCHED_ADMIT_ON_PROMPT);
  cfg.chunked_prefill = cfg.prefix_caching = false;
  cfg.max_num_batched_tokens = 64;
  continue_after_loads(6, cfg, 0, 3000);
}

int main(int argc, char **argv) {
#define T(name)                                                                                    \
  { #name, test_##name }
  static const harness_test tests[] = {
      T(fcfs_continues_identically_after_every_load),
      T(priority_continues_identically_after_every_load),
      T(reserve_full_continues_identically_after_every_load),
      T(a_shared_kv_tier_continues_identically_after_every_load),
      T(without_chunking_or_caching_continues_identically),
      {NULL, NULL},
  };
#undef T
  return harness_run("sched_ckpt", tests, argc > 1 ? argv[1] : NULL, true);
}
