/* The scheduler's own types and the small helpers shared by jobs/sched.c (the scheduler) and
 * jobs/sched_checkpoint.c (its consistency check, saving and loading). Not installed: callers see
 * sched.h. */
#ifndef WT_JOBS_SCHED_PRIVATE_H
#define WT_JOBS_SCHED_PRIVATE_H

#include "jobs/sched.h"

#include "jobs/kvcache.h"

/* A record is free (REQ_DONE, or never used), in the waiting queue, running, or parked: held
 * (finished, hold_kv) or waiting for remote KV, found by id in the parked table. */
enum { REQ_WAITING, REQ_RUNNING, REQ_DONE, REQ_HELD, REQ_WAITING_FOR_KV };

typedef struct sched_req {
  /* What every step and finish reads comes first, within one cache line. */
  uint64_t id;
  void *user;
  int32_t *blocks;           /* KV block table; kept with the pooled record for reuse */
  uint32_t computed_tokens;  /* in KV before the open iteration */
  uint32_t scheduled_tokens; /* in the open iteration */
  uint32_t generated_tokens; /* output tokens emitted */
  uint32_t prompt_tokens, output_tokens;
  uint32_t num_blocks;
  uint32_t hashed_blocks; /* leading blocks already offered to the prefix cache */
  /* Leading blocks actually in its table: the request's own blocks (past the caller's hashes) can
   * only ever be hit by the request itself after a preemption, so they enter the table when it is
   * preempted, not when they fill; the hits are the same as vLLM's, for far fewer table updates. */
  uint32_t registered_blocks;
  uint8_t state;
  bool started;
  bool hold_kv;
  bool remote_pending; /* a remote_kv request not yet given its blocks */
  bool parkable;       /* hold_kv or remote_kv: it has a slot reserved in the parked table */
  bool reserved;       /* reserve_full: the rest of its blocks are counted in reserved_blocks */
  int64_t arrival_ns;
  uint64_t add_seq; /* breaks ties of (priority, arrival) in the waiting heap */
  const uint64_t *block_hashes;
  uint32_t cap_blocks, num_block_hashes;
  uint32_t preemptions, first_hit_blocks;
  int32_t priority;
  /* KV tier: tokens whose KV waits there while the request is swapped out (0: not swapped), its
   * swaps so far, and the tier's share of first_hit_blocks. */
  uint32_t swapped_tokens, swaps, first_tier_hit_blocks;
} sched_req;

struct job_sched {
  job_sched_config cfg;
  job_kv *kv;
  sched_req *reqs; /* pool, reqs_cap records; free ones on the free_reqs stack */
  uint32_t *free_reqs;
  uint32_t reqs_cap, num_free_reqs;
  uint32_t *running; /* max_num_seqs slots, admission order; seqs[k] is running[k]'s share */
  uint32_t num_running;
  uint32_t *waiting; /* reqs_cap slots: a ring from waiting_head (FCFS) or a binary heap */
  uint32_t waiting_head, num_waiting;
  job_sched_seq *seqs; /* the open iteration, max_num_seqs slots */
  uint32_t num_seqs;
  uint32_t *leap_due;           /* job_sched_leap's scratch, max_num_seqs slots */
  hw_batch hw;                  /* of seqs */
  uint32_t step_kv_blocks_used; /* the open iteration's kv_blocks_used */
  job_sched_event *events;
  uint32_t num_events, events_cap;
  bool open;
  /* Parked requests by id: open addressing, linear probing, backward-shift deletion. Sized at add
   * time for every live parkable request, at most half full, so parking never allocates. */
  struct park_slot {
    uint64_t id;
    uint32_t idx; /* PARK_EMPTY: an empty slot */
  } * parked;
  uint32_t parked_mask, num_parkable; /* slots - 1 (0: no table yet); live parkable requests */
  uint32_t num_held, num_waiting_for_kv;
  /* Per block, the held requests referencing it (allocated with the first hold_kv request), and
   * the blocks with at least one. */
  uint32_t *held_refs;
  uint32_t held_blocks;
  uint64_t next_add_seq;
  /* reserve_full: blocks that admitted requests have still to take to finish; never more than the
   * evictable blocks, so that a running request always finds its next block. */
  uint32_t reserved_blocks;
  uint64_t iterations, preemptions, finished;
  uint64_t prefix_query_tokens, prefix_hit_tokens, prefix_hit_blocks;
  /* KV tier: this step's traffic (reset by job_sched_step), totals, and what swapped requests of
   * this scheduler pin there. */
  uint64_t step_load_bytes, step_store_bytes;
  uint32_t step_swapped_out, step_swapped_in, step_tier_hits;
  uint64_t tier_hit_tokens, swaps_out, swaps_in, tier_load_bytes, tier_store_bytes, spilled_blocks;
  uint64_t pinned_bytes;
  uint32_t num_swapped;
};

static inline uint32_t blocks_for(const job_sched *s, uint64_t tokens) {
  return (uint32_t)((tokens + s->cfg.block_size_tokens - 1) / s->cfg.block_size_tokens);
}

static inline uint32_t req_num_tokens(const sched_req *r) {
  return r->prompt_tokens + r->generated_tokens;
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

/* ---- parked requests: held KV and waiting for KV, by id (a table in sched.c) ---- */

#define PARK_EMPTY UINT32_MAX
#define PARK_NONE UINT32_MAX

static inline uint32_t park_home(const job_sched *s, uint64_t id) {
  return (uint32_t)mix64(id) & s->parked_mask;
}

static inline void park_insert(job_sched *s, uint32_t idx) {
  uint64_t id = s->reqs[idx].id;
  uint32_t slot = park_home(s, id);
  while (s->parked[slot].idx != PARK_EMPTY)
    slot = (slot + 1) & s->parked_mask;
  s->parked[slot] = (struct park_slot){.id = id, .idx = idx};
}

static inline void hold_blocks(job_sched *s, const sched_req *r) {
  for (uint32_t k = 0; k < r->num_blocks; k++)
    s->held_blocks += s->held_refs[r->blocks[k]]++ == 0;
}

/* ---- waiting queue: a deque under FCFS, a heap on (priority, arrival, add order) otherwise ----
 */

static inline bool waits_before(const job_sched *s, uint32_t a, uint32_t b) {
  const sched_req *x = &s->reqs[a], *y = &s->reqs[b];
  if (x->priority != y->priority)
    return x->priority < y->priority;
  if (x->arrival_ns != y->arrival_ns)
    return x->arrival_ns < y->arrival_ns;
  return x->add_seq < y->add_seq;
}

static inline uint32_t waiting_at(const job_sched *s, uint32_t k) { /* storage order, for checks */
  return s->cfg.policy == JOB_SCHED_PRIORITY ? s->waiting[k]
                                             : s->waiting[(s->waiting_head + k) % s->reqs_cap];
}

/* ---- KV blocks of one request ---- */

static inline uint64_t swap_bytes(const job_sched *s, uint32_t tokens) {
  return (uint64_t)blocks_for(s, tokens) * s->cfg.block_bytes;
}

/* Blocks of a request's whole life: prompt and outputs but the last output (never in KV). */
static inline uint32_t full_blocks(const job_sched *s, const sched_req *r) {
  return blocks_for(s, (uint64_t)r->prompt_tokens + r->output_tokens - 1);
}

/* ---- scheduling: the open iteration ---- */

/* Adds a sequence to hw as hw/batch.h defines. */
static inline void hw_count(hw_batch *hw, const job_sched_seq *q) {
  uint64_t c = q->tokens, p = q->context_tokens;
  if (q->prefill) {
    hw->prefill_seqs++;
    hw->prefill_tokens += q->tokens;
    hw->prefill_attn_pairs += c * p + c * (c + 1) / 2;
    hw->prefill_ctx_tokens += p + c;
  } else {
    hw->decode_seqs++;
    hw->decode_ctx_tokens += p + 1; /* the new token attends to itself too, as p + c above */
  }
}

/* Appends the share of running[num_seqs], request `r`, its scheduled tokens, to the iteration. */
static inline void seq_append(job_sched *s, const sched_req *r) {
  job_sched_seq *q = &s->seqs[s->num_seqs++];
  *q = (job_sched_seq){
      .id = r->id,
      .user = r->user,
      .tokens = r->scheduled_tokens,
      .context_tokens = r->computed_tokens,
      .prefill = !(r->scheduled_tokens == 1 && r->computed_tokens >= r->prompt_tokens),
  };
  hw_count(&s->hw, q);
}

/* Doubles the record pool and everything sized by it (job_sched_add, job_sched_load). */
int sched_pool_grow(job_sched *s);

#endif
