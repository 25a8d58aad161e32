/* The scheduler's consistency check (job_sched_check) and its checkpoints (job_sched_save,
 * job_sched_load): the state saved field by field, checked and rebuilt on load. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/sched_private.h"

/* Checks one parked request and adds its blocks to refs; returns a violation or NULL. */
static const char *check_parked(const job_sched *s, const sched_req *r, uint32_t *refs,
                                uint32_t *held_refs, uint32_t *held, uint32_t *waiting_for_kv) {
  if (r->state == REQ_HELD) {
    (*held)++;
    for (uint32_t k = 0; k < r->num_blocks; k++)
      held_refs[r->blocks[k]]++;
    if (!r->hold_kv || r->generated_tokens != r->output_tokens || r->scheduled_tokens > 0 ||
        r->num_blocks != blocks_for(s, (uint64_t)r->prompt_tokens + r->output_tokens - 1))
      return "a held request is not a finished hold_kv request with all its blocks";
  } else if (r->state == REQ_WAITING_FOR_KV) {
    (*waiting_for_kv)++;
    if (r->remote_pending || r->generated_tokens > 0 || r->scheduled_tokens > 0 ||
        r->computed_tokens != r->first_hit_blocks * s->cfg.block_size_tokens ||
        r->num_blocks != blocks_for(s, (uint64_t)r->prompt_tokens + 1) ||
        r->hashed_blocks != r->first_hit_blocks || r->registered_blocks != r->first_hit_blocks)
      return "a request waiting for KV does not hold exactly its prompt's blocks";
  } else {
    return "a parked request is neither held nor waiting for KV";
  }
  if (!r->parkable)
    return "a parked request had no parked slot reserved";
  for (uint32_t k = 0; k < r->num_blocks; k++)
    refs[r->blocks[k]]++;
  return NULL;
}

int job_sched_check(const job_sched *s, char *err, size_t err_len) {
  if (job_kv_check(s->kv, err, err_len) != 0)
    return -1;
  uint32_t total = job_kv_total_blocks(s->kv), *refs = calloc(total, sizeof *refs);
  uint32_t *held_refs = calloc(total, sizeof *held_refs);
  uint8_t *seen = calloc(s->reqs_cap, 1); /* each record is in exactly one place */
  if (!refs || !held_refs || !seen) {
    free(refs);
    free(held_refs);
    free(seen);
    snprintf(err, err_len, "check: out of memory");
    return -1;
  }
  const char *bad = NULL;
  uint64_t bad_id = 0;
  uint32_t parked = 0, held = 0, waiting_for_kv = 0, parkable = 0, held_blocks = 0, swapped = 0;
  uint64_t pinned = 0;
  for (uint32_t slot = 0; s->parked && slot <= s->parked_mask && !bad; slot++) {
    const struct park_slot *p = &s->parked[slot];
    if (p->idx == PARK_EMPTY)
      continue;
    parked++;
    bad_id = p->id;
    if (p->idx >= s->reqs_cap || s->reqs[p->idx].id != p->id) {
      bad = "a parked slot names another request";
      break;
    }
    seen[p->idx]++;
    for (uint32_t k = park_home(s, p->id); k != slot && !bad; k = (k + 1) & s->parked_mask)
      if (s->parked[k].idx == PARK_EMPTY)
        bad = "a parked request cannot be found from its home slot";
    if (!bad)
      bad = check_parked(s, &s->reqs[p->idx], refs, held_refs, &held, &waiting_for_kv);
  }
  for (uint32_t b = 0; b < total && !bad; b++) {
    held_blocks += held_refs[b] > 0;
    if (held_refs[b] != (s->held_refs ? s->held_refs[b] : 0))
      bad = "a block's count of held requests differs from the held requests";
  }
  if (!bad && (held != s->num_held || waiting_for_kv != s->num_waiting_for_kv ||
               held_blocks != s->held_blocks || parked != held + waiting_for_kv ||
               (s->parked ? 2 * s->num_parkable > s->parked_mask + 1 : s->num_parkable > 0)))
    bad = "parked request counts disagree";
  if (!bad && (s->num_running > s->cfg.max_num_seqs ||
               s->num_running + s->num_waiting + parked + s->num_free_reqs != s->reqs_cap))
    bad = "request counts disagree";
  for (uint32_t p = 0; p < s->num_running && !bad; p++) {
    const sched_req *r = &s->reqs[s->running[p]];
    uint32_t tokens = r->computed_tokens + r->scheduled_tokens;
    bad_id = r->id;
    seen[s->running[p]]++;
    parkable += r->parkable;
    if (r->state != REQ_RUNNING || r->remote_pending || r->swapped_tokens > 0)
      bad = "a running request is not marked running";
    else if (r->num_blocks != blocks_for(s, tokens) || r->hashed_blocks > r->num_blocks ||
             r->registered_blocks > r->hashed_blocks)
      bad = "a running request holds the wrong number of blocks";
    else if (r->generated_tokens >= r->output_tokens || tokens > req_num_tokens(r) ||
             (!s->open && (r->scheduled_tokens > 0 || tokens == req_num_tokens(r))))
      bad = "a running request's token counts are inconsistent";
    for (uint32_t k = 0; k < r->num_blocks && !bad; k++)
      refs[r->blocks[k]]++;
  }
  for (uint32_t k = 0; k < s->num_waiting && !bad; k++) {
    const sched_req *r = &s->reqs[waiting_at(s, k)];
    bad_id = r->id;
    seen[waiting_at(s, k)]++;
    parkable += r->parkable;
    swapped += r->swapped_tokens > 0;
    pinned += swap_bytes(s, r->swapped_tokens);
    if (r->state != REQ_WAITING || r->scheduled_tokens > 0)
      bad = "a waiting request is not marked waiting";
    else if (r->swapped_tokens > 0 &&
             (!s->cfg.tier || r->computed_tokens > 0 || r->num_blocks > 0 || r->remote_pending ||
              r->swapped_tokens >= req_num_tokens(r) || r->swaps == 0))
      bad = "a swapped-out request is inconsistent";
    else if (r->computed_tokens == 0 && r->num_blocks > 0)
      bad = "a waiting request holds KV";
    else if (r->remote_pending && (r->computed_tokens > 0 || r->generated_tokens > 0))
      bad = "a remote request waiting for blocks has tokens";
    else if (r->computed_tokens > 0 && /* its remote KV arrived: exactly its blocks, one token */
             (r->remote_pending || r->computed_tokens != r->prompt_tokens ||
              r->generated_tokens != 1 ||
              r->num_blocks != blocks_for(s, (uint64_t)r->prompt_tokens + 1) ||
              r->hashed_blocks > r->num_blocks || r->registered_blocks > r->hashed_blocks))
      bad = "a waiting request whose KV arrived holds the wrong blocks";
    for (uint32_t b = 0; b < r->num_blocks && !bad; b++)
      refs[r->blocks[b]]++;
  }
  for (uint32_t k = 0; k < s->num_free_reqs && !bad; k++)
    seen[s->free_reqs[k]]++;
  for (uint32_t idx = 0; idx < s->reqs_cap && !bad; idx++)
    if (seen[idx] != 1) {
      bad_id = s->reqs[idx].id;
      bad = "a request record is in no place or in two";
    }
  if (!bad && parkable + parked != s->num_parkable)
    bad = "parkable request counts disagree";
  uint64_t reserved = 0; /* reserve_full: every running request reserved, and only those admitted */
  for (uint32_t idx = 0; idx < s->reqs_cap && !bad; idx++) {
    const sched_req *r = &s->reqs[idx];
    bad_id = r->id;
    bool full = s->cfg.admission == JOB_SCHED_RESERVE_FULL;
    if (r->reserved &&
        (!full || r->num_blocks > full_blocks(s, r) ||
         (r->state != REQ_RUNNING && r->state != REQ_WAITING && r->state != REQ_WAITING_FOR_KV)))
      bad = "a request holds a reserve it should not";
    else if (full && r->state == REQ_RUNNING && !r->reserved)
      bad = "a running request has no reserve under reserve_full";
    reserved += r->reserved ? full_blocks(s, r) - r->num_blocks : 0;
  }
  if (!bad && (reserved != s->reserved_blocks || reserved > job_kv_evictable_blocks(s->kv)))
    bad = "the reserved blocks disagree with the requests, or exceed the evictable blocks";
  if (!bad && (swapped != s->num_swapped || pinned != s->pinned_bytes))
    bad = "swapped-out requests disagree with the bytes pinned in the tier";
  if (!bad && s->cfg.tier && job_kv_tier_check(s->cfg.tier, err, err_len) != 0)
    bad = "the KV tier is inconsistent";
  for (uint32_t b = 0; b < total && !bad; b++)
    if (refs[b] != job_kv_refs(s->kv, (int32_t)b))
      bad = "a block's reference count differs from the requests holding it";
  free(refs);
  free(held_refs);
  free(seen);
  if (bad) {
    snprintf(err, err_len, "scheduler: %s (request %llu)", bad, (unsigned long long)bad_id);
    return -1;
  }
  return 0;
}

/* ---- checkpoints ---- */

/* What a checkpoint saves of a request: all but its pointers (the caller's, or rebuilt). */
/* clang-format off */
#define REQ_FIELDS(X, r)                                                                           \
  X(r->id) X(r->computed_tokens) X(r->scheduled_tokens) X(r->generated_tokens) X(r->prompt_tokens) \
  X(r->output_tokens) X(r->num_blocks) X(r->hashed_blocks) X(r->registered_blocks) X(r->state)     \
  X(r->started) X(r->hold_kv) X(r->remote_pending) X(r->parkable) X(r->reserved)                   \
  X(r->arrival_ns) X(r->add_seq) X(r->num_block_hashes) X(r->preemptions) X(r->first_hit_blocks)   \
  X(r->priority) X(r->swapped_tokens) X(r->swaps) X(r->first_tier_hit_blocks)

/* ... and of the scheduler, besides its requests and KV cache (held_blocks is rebuilt). */
#define SCHED_FIELDS(X, s)                                                                         \
  X(s->num_seqs) X(s->open) X(s->step_kv_blocks_used) X(s->num_parkable) X(s->num_held)            \
  X(s->num_waiting_for_kv) X(s->next_add_seq) X(s->reserved_blocks) X(s->iterations)               \
  X(s->preemptions) X(s->finished) X(s->prefix_query_tokens) X(s->prefix_hit_tokens)               \
  X(s->prefix_hit_blocks) X(s->step_load_bytes) X(s->step_store_bytes) X(s->step_swapped_out)      \
  X(s->step_swapped_in) X(s->step_tier_hits) X(s->tier_hit_tokens) X(s->swaps_out) X(s->swaps_in)  \
  X(s->tier_load_bytes) X(s->tier_store_bytes) X(s->spilled_blocks) X(s->pinned_bytes)             \
  X(s->num_swapped)
/* clang-format on */

#define PACK_FIELD(v) CORE_PACK(out, v);
#define UNPACK_FIELD(v) CORE_UNPACK(in, v);

/* The configuration a checkpoint must be loaded under (the tier by its presence). */
enum { CONFIG_KEYS = 12 };
static void config_key(const job_sched_config *c, uint64_t key[CONFIG_KEYS]) {
  const uint64_t k[CONFIG_KEYS] = {
      c->max_num_batched_tokens, c->max_num_seqs, c->block_size_tokens, c->total_kv_blocks,
      c->long_prefill_tokens,    c->policy,       c->admission,         c->chunked_prefill,
      c->prefix_caching,         c->tier != NULL, c->tier_space,        c->block_bytes};
  memcpy(key, k, sizeof k);
}

static void req_save(const job_sched *s, uint32_t idx, core_pack *out) {
  const sched_req *r = &s->reqs[idx];
  CORE_PACK(out, idx);
  REQ_FIELDS(PACK_FIELD, r)
  core_pack_bytes(out, r->blocks, r->num_blocks * sizeof *r->blocks);
}

int job_sched_save(const job_sched *s, core_pack *out) {
  uint64_t key[CONFIG_KEYS];
  config_key(&s->cfg, key);
  CORE_PACK(out, key);
  job_kv_save(s->kv, out);
  SCHED_FIELDS(PACK_FIELD, s)
  uint32_t parked_slots = s->parked ? s->parked_mask + 1 : 0;
  CORE_PACK(out, s->reqs_cap);
  CORE_PACK(out, parked_slots);
  core_pack_array(out, s->free_reqs, s->num_free_reqs, sizeof *s->free_reqs);
  uint32_t parked = s->num_held + s->num_waiting_for_kv;
  CORE_PACK(out, s->num_running);
  CORE_PACK(out, s->num_waiting);
  CORE_PACK(out, parked);
  for (uint32_t p = 0; p < s->num_running; p++)
    req_save(s, s->running[p], out);
  for (uint32_t k = 0; k < s->num_waiting; k++) /* storage order: a heap stays a heap */
    req_save(s, waiting_at(s, k), out);
  for (uint32_t slot = 0; s->parked && slot <= s->parked_mask; slot++)
    if (s->parked[slot].idx != PARK_EMPTY)
      req_save(s, s->parked[slot].idx, out);
  return out->failed ? -1 : 0;
}

/* Loads one request record into its pool slot (marked in `live`); its index in *idx. */
static int req_load(job_sched *s, core_unpack *in, uint8_t *live, uint32_t *idx,
                    void *(*resolve)(void *, uint64_t, const uint64_t **), void *ctx) {
  CORE_UNPACK(in, *idx);
  if (in->failed || *idx >= s->reqs_cap || live[*idx]++)
    return -1;
  sched_req *r = &s->reqs[*idx];
  REQ_FIELDS(UNPACK_FIELD, r)
  uint64_t most_tokens = (uint64_t)r->prompt_tokens + r->output_tokens - 1;
  if (in->failed || r->state == REQ_DONE || r->state > REQ_WAITING_FOR_KV ||
      r->prompt_tokens == 0 || r->output_tokens == 0 || most_tokens > UINT32_MAX / 2 ||
      r->num_block_hashes > r->prompt_tokens / s->cfg.block_size_tokens)
    return -1;
  uint32_t most_blocks = blocks_for(s, most_tokens);
  if (most_blocks > s->cfg.total_kv_blocks || r->num_blocks > most_blocks ||
      r->hashed_blocks > r->num_blocks || r->registered_blocks > r->hashed_blocks)
    return -1;
  if (r->cap_blocks < most_blocks) {
    int32_t *blocks = realloc(r->blocks, most_blocks * sizeof *blocks);
    if (!blocks)
      return -1;
    r->blocks = blocks;
    r->cap_blocks = most_blocks;
  }
  core_unpack_bytes(in, r->blocks, r->num_blocks * sizeof *r->blocks);
  for (uint32_t k = 0; k < r->num_blocks; k++)
    if (r->blocks[k] < 0 || (uint32_t)r->blocks[k] >= s->cfg.total_kv_blocks)
      return -1;
  if (r->hold_kv && !s->held_refs && /* as job_sched_add: for when it finishes */
      !(s->held_refs = calloc(s->cfg.total_kv_blocks, sizeof *s->held_refs)))
    return -1;
  r->user = resolve(ctx, r->id, &r->block_hashes);
  if (!r->user || (r->num_block_hashes > 0 && !r->block_hashes))
    return -1;
  return in->failed ? -1 : 0;
}

/* The parked table (as large as the saved one) and the held blocks, from the parked records. */
static int park_rebuild(job_sched *s, uint32_t slots, const uint32_t *idx, uint32_t n) {
  if (slots == 0 || (slots & (slots - 1)) || 2 * (uint64_t)s->num_parkable > slots ||
      slots > 2 * s->reqs_cap + 64 || n > s->num_parkable)
    return slots == 0 && n == 0 && s->num_parkable == 0 ? 0 : -1;
  if (!(s->parked = malloc(slots * sizeof *s->parked)))
    return -1;
  s->parked_mask = slots - 1;
  for (uint32_t k = 0; k < slots; k++)
    s->parked[k].idx = PARK_EMPTY;
  for (uint32_t k = 0; k < n; k++) {
    const sched_req *r = &s->reqs[idx[k]];
    if (r->state != REQ_HELD && r->state != REQ_WAITING_FOR_KV)
      return -1;
    park_insert(s, idx[k]);
    if (r->state == REQ_HELD)
      hold_blocks(s, r);
  }
  return 0;
}

/* The open iteration's seqs and hw from its running requests' scheduled tokens. */
static int seqs_rebuild(job_sched *s, uint32_t num_seqs) {
  if (num_seqs > s->num_running || s->open != (num_seqs > 0))
    return -1;
  for (uint32_t p = 0; p < s->num_running; p++) {
    const sched_req *r = &s->reqs[s->running[p]];
    if (r->state != REQ_RUNNING || (p < num_seqs) != (r->scheduled_tokens > 0))
      return -1;
    if (p < num_seqs)
      seq_append(s, r);
  }
  return 0;
}

/* Everything but the parked table into the records, their places and the counters. */
static int load_requests(job_sched *s, core_unpack *in, uint32_t *parked_slots,
                         void *(*resolve)(void *, uint64_t, const uint64_t **), void *ctx) {
  uint64_t key[CONFIG_KEYS], mine[CONFIG_KEYS];
  config_key(&s->cfg, mine);
  CORE_UNPACK(in, key);
  if (in->failed || memcmp(key, mine, sizeof key) != 0 || job_kv_load(s->kv, in) != 0)
    return -1;
  uint32_t num_seqs, reqs_cap, num_running, num_waiting, num_parked;
  SCHED_FIELDS(UNPACK_FIELD, s)
  num_seqs = s->num_seqs;
  s->num_seqs = 0;
  CORE_UNPACK(in, reqs_cap);
  CORE_UNPACK(in, *parked_slots);
  if (in->failed || reqs_cap < s->reqs_cap || (reqs_cap & (reqs_cap - 1)) ||
      reqs_cap > (in->len - in->pos) / sizeof(uint32_t))
    return -1;
  while (s->reqs_cap < reqs_cap)
    if (sched_pool_grow(s) != 0)
      return -1;
  size_t num_free;
  core_unpack_array_into(in, s->free_reqs, sizeof *s->free_reqs, reqs_cap, &num_free);
  s->num_free_reqs = (uint32_t)num_free;
  CORE_UNPACK(in, num_running);
  CORE_UNPACK(in, num_waiting);
  CORE_UNPACK(in, num_parked);
  if (in->failed || num_running > s->cfg.max_num_seqs ||
      (uint64_t)s->num_free_reqs + num_running + num_waiting + num_parked != reqs_cap)
    return -1;
  uint8_t *live = calloc(reqs_cap, 1);
  uint32_t *parked = malloc((num_parked + 1) * sizeof *parked);
  int rc = live && parked ? 0 : -1;
  for (uint32_t k = 0; k < s->num_free_reqs && rc == 0; k++)
    rc = s->free_reqs[k] < reqs_cap && !live[s->free_reqs[k]]++ ? 0 : -1;
  for (uint32_t k = 0; k < num_running && rc == 0; k++)
    rc = req_load(s, in, live, &s->running[s->num_running++], resolve, ctx);
  for (uint32_t k = 0; k < num_waiting && rc == 0; k++)
    rc = req_load(s, in, live, &s->waiting[s->num_waiting++], resolve, ctx);
  for (uint32_t k = 0; k < num_parked && rc == 0; k++)
    rc = req_load(s, in, live, &parked[k], resolve, ctx);
  for (uint32_t k = 1; k < s->num_waiting && rc == 0 && s->cfg.policy == JOB_SCHED_PRIORITY; k++)
    rc = waits_before(s, s->waiting[k], s->waiting[(k - 1) / 2]) ? -1 : 0;
  if (rc == 0)
    rc = park_rebuild(s, *parked_slots, parked, num_parked);
  if (rc == 0)
    rc = seqs_rebuild(s, num_seqs);
  free(live);
  free(parked);
  return rc;
}

#undef PACK_FIELD
#undef UNPACK_FIELD

int job_sched_load(job_sched *s, core_unpack *in,
                   void *(*resolve)(void *ctx, uint64_t id, const uint64_t **block_hashes),
                   void *ctx) {
  assert(s->num_running == 0 && s->num_waiting == 0 && s->num_parkable == 0 && !s->open);
  uint32_t parked_slots;
  int rc = load_requests(s, in, &parked_slots, resolve, ctx);
  job_kv_tier_stats tier = {0};
  if (s->cfg.tier)
    job_kv_tier_stats_get(s->cfg.tier, &tier);
  char err[256];
  if (rc != 0 || in->failed || s->pinned_bytes > tier.pinned_bytes ||
      job_sched_check(s, err, sizeof err) != 0) {
    s->pinned_bytes = 0; /* pinned in the tier by the checkpoint, not by s */
    return -1;
  }
  return 0;
}
