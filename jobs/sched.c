/* The continuous-batching scheduler (see sched.h): request records in a pool, the running set in
 * admission order, the waiting queue as a deque (FCFS) or a heap (priority), KV blocks in
 * kvcache.h, and requests parked outside both (held KV, waiting for KV) in a table by id. A step
 * over B sequences costs O(B); nothing is allocated per step except amortised growth. Its check
 * and checkpoints are in sched_checkpoint.c, its creation and statistics in sched_life.c. */
#include "jobs/sched_private.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks past the caller's hashes hold this request's own tokens: hash them by (id, index) so that,
 * as in vLLM, a preempted request hits what is left of its own KV when it resumes. */
static uint64_t req_block_hash(const sched_req *r, uint32_t block) {
  if (block < r->num_block_hashes)
    return r->block_hashes[block];
  return mix64(mix64(r->id ^ 0x5bd1e9955bd1e995u) + block);
}

static void event_push(job_sched *s, job_sched_event_kind kind, const sched_req *r, int64_t t_ns) {
  if (s->num_events == s->events_cap) { /* rare: the capacity covers a normal step */
    uint32_t cap = 2 * s->events_cap;
    job_sched_event *grown = realloc(s->events, cap * sizeof *grown);
    if (!grown)
      abort(); /* a few kilobytes: nothing sensible is left to do */
    s->events = grown;
    s->events_cap = cap;
  }
  s->events[s->num_events++] = (job_sched_event){
      .kind = kind,
      .id = r->id,
      .user = r->user,
      .time_ns = t_ns,
      .preemptions = r->preemptions,
      .prefix_hit_blocks = r->first_hit_blocks,
      .prefix_hit_tokens = r->first_hit_blocks * s->cfg.block_size_tokens,
      .tier_hit_tokens = r->first_tier_hit_blocks * s->cfg.block_size_tokens,
      .swaps = r->swaps,
      .swapped = kind == JOB_SCHED_PREEMPTED && r->swapped_tokens > 0,
  };
}

/* ---- parked requests: held KV and waiting for KV, by id ---- */

/* The slot of the parked request `id` in `state`, or PARK_NONE. */
static uint32_t park_find(const job_sched *s, uint64_t id, uint8_t state) {
  if (!s->parked)
    return PARK_NONE;
  for (uint32_t slot = park_home(s, id);; slot = (slot + 1) & s->parked_mask) {
    const struct park_slot *p = &s->parked[slot];
    if (p->idx == PARK_EMPTY)
      return PARK_NONE;
    if (p->id == id && s->reqs[p->idx].state == state)
      return slot;
  }
}

static void park_erase(job_sched *s, uint32_t hole) {
  const uint32_t mask = s->parked_mask;
  for (uint32_t j = (hole + 1) & mask; s->parked[j].idx != PARK_EMPTY; j = (j + 1) & mask) {
    uint32_t home = park_home(s, s->parked[j].id);
    /* The entry at j may fill the hole only if its home is not cyclically within (hole, j]. */
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays)
      continue;
    s->parked[hole] = s->parked[j];
    hole = j;
  }
  s->parked[hole].idx = PARK_EMPTY;
}

static void unhold_blocks(job_sched *s, const sched_req *r) {
  for (uint32_t k = 0; k < r->num_blocks; k++) {
    assert(s->held_refs[r->blocks[k]] > 0);
    s->held_blocks -= --s->held_refs[r->blocks[k]] == 0;
  }
}

/* Makes room for one more parkable request, so that the table stays at most half full. */
static int park_reserve(job_sched *s) {
  uint32_t slots = s->parked ? s->parked_mask + 1 : 0;
  if (2 * (s->num_parkable + 1) <= slots)
    return 0;
  uint32_t new_slots = slots ? 2 * slots : 64;
  struct park_slot *old = s->parked, *table = malloc(new_slots * sizeof *table);
  if (!table)
    return -1;
  for (uint32_t k = 0; k < new_slots; k++)
    table[k].idx = PARK_EMPTY;
  s->parked = table;
  s->parked_mask = new_slots - 1;
  for (uint32_t k = 0; k < slots; k++)
    if (old[k].idx != PARK_EMPTY)
      park_insert(s, old[k].idx);
  free(old);
  return 0;
}

/* ---- waiting queue: a deque under FCFS, a heap on (priority, arrival, add order) otherwise ----
 */

static void heap_push(job_sched *s, uint32_t idx) {
  uint32_t pos = s->num_waiting++;
  while (pos > 0 && waits_before(s, idx, s->waiting[(pos - 1) / 2])) {
    s->waiting[pos] = s->waiting[(pos - 1) / 2];
    pos = (pos - 1) / 2;
  }
  s->waiting[pos] = idx;
}

static void heap_pop(job_sched *s) {
  uint32_t last = s->waiting[--s->num_waiting], pos = 0, n = s->num_waiting;
  for (uint32_t child = 1; child < n; child = 2 * pos + 1) {
    if (child + 1 < n && waits_before(s, s->waiting[child + 1], s->waiting[child]))
      child++;
    if (!waits_before(s, s->waiting[child], last))
      break;
    s->waiting[pos] = s->waiting[child];
    pos = child;
  }
  s->waiting[pos] = last;
}

static void waiting_push(job_sched *s, uint32_t idx, bool front) {
  assert(s->num_waiting < s->reqs_cap);
  if (s->cfg.policy == JOB_SCHED_PRIORITY) {
    heap_push(s, idx);
  } else if (front) {
    s->waiting_head = (s->waiting_head + s->reqs_cap - 1) % s->reqs_cap;
    s->waiting[s->waiting_head] = idx;
    s->num_waiting++;
  } else {
    s->waiting[(s->waiting_head + s->num_waiting++) % s->reqs_cap] = idx;
  }
}

static uint32_t waiting_peek(const job_sched *s) {
  assert(s->num_waiting > 0);
  return s->cfg.policy == JOB_SCHED_PRIORITY ? s->waiting[0] : s->waiting[s->waiting_head];
}

static void waiting_pop(job_sched *s) {
  assert(s->num_waiting > 0);
  if (s->cfg.policy == JOB_SCHED_PRIORITY) {
    heap_pop(s);
  } else {
    s->waiting_head = (s->waiting_head + 1) % s->reqs_cap;
    s->num_waiting--;
  }
}

/* ---- KV blocks of one request ---- */

/* A block from the pool; a cached block it evicts spills to the tier, if any (the copy must leave
 * HBM before the block is overwritten: a store this step pays for). */
static inline int32_t kv_alloc(job_sched *s) {
  if (!s->cfg.tier)
    return job_kv_alloc(s->kv);
  bool evicted;
  uint64_t hash;
  int32_t b = job_kv_alloc_evict(s->kv, &evicted, &hash);
  if (evicted && job_kv_tier_put(s->cfg.tier, s->cfg.tier_space, hash, s->cfg.block_bytes) == 1) {
    s->step_store_bytes += s->cfg.block_bytes;
    s->spilled_blocks++;
  }
  return b;
}

/* New blocks `r` needs to hold `tokens` tokens; most decodes need none (no division then). */
static inline uint32_t blocks_needed(const job_sched *s, const sched_req *r, uint32_t tokens) {
  if (tokens <= r->num_blocks * s->cfg.block_size_tokens)
    return 0;
  return blocks_for(s, tokens) - r->num_blocks;
}

/* Blocks a request not yet reserved may take: under reserve_full, those no admitted request needs
 * to finish. */
static uint32_t kv_room(const job_sched *s) {
  uint32_t evictable = job_kv_evictable_blocks(s->kv);
  assert(s->reserved_blocks <= evictable);
  return evictable - s->reserved_blocks;
}

/* Under reserve_full, after `r` took blocks (it held old_blocks): its first allocation reserves the
 * rest of its whole life, later ones take from that reserve. */
static void reservation_grew(job_sched *s, sched_req *r, uint32_t old_blocks) {
  if (s->cfg.admission != JOB_SCHED_RESERVE_FULL)
    return;
  if (r->reserved) {
    s->reserved_blocks -= r->num_blocks - old_blocks;
  } else {
    r->reserved = true;
    s->reserved_blocks += full_blocks(s, r) - r->num_blocks;
  }
}

/* Gives back what `r` had reserved and not taken (it finishes, or is preempted). */
static void reservation_end(job_sched *s, sched_req *r) {
  if (!r->reserved)
    return;
  s->reserved_blocks -= full_blocks(s, r) - r->num_blocks;
  r->reserved = false;
}

/* Puts the request's leading blocks up to `upto` into the prefix cache's table. */
static void req_register(job_sched *s, sched_req *r, uint32_t upto) {
  for (; r->registered_blocks < upto; r->registered_blocks++)
    job_kv_register(s->kv, r->blocks[r->registered_blocks],
                    req_block_hash(r, r->registered_blocks));
}

/* The fewest tokens for which req_grow has work: a block to start or (prefix caching) to fill. */
static inline uint32_t grow_from(const job_sched *s, const sched_req *r) {
  const uint32_t block_tokens = s->cfg.block_size_tokens;
  uint32_t start = r->num_blocks * block_tokens + 1;
  if (!s->cfg.prefix_caching)
    return start;
  uint32_t fill = (r->hashed_blocks + 1) * block_tokens;
  return fill < start ? fill : start;
}

/* Allocates blocks to hold `tokens` tokens and offers the full ones to the prefix cache, as vLLM
 * does when it schedules them. The caller has checked that enough blocks are evictable. */
static inline void req_grow(job_sched *s, sched_req *r, uint32_t tokens) {
  const uint32_t block_tokens = s->cfg.block_size_tokens;
  if (tokens < grow_from(s, r))
    return; /* most decodes neither start a block nor fill one */
  for (uint32_t need = blocks_needed(s, r, tokens); need > 0; need--) {
    assert(r->num_blocks < r->cap_blocks);
    r->blocks[r->num_blocks++] = kv_alloc(s);
  }
  if (!s->cfg.prefix_caching)
    return;
  while ((r->hashed_blocks + 1) * block_tokens <= tokens)
    r->hashed_blocks++;
  req_register(s, r,
               r->hashed_blocks < r->num_block_hashes ? r->hashed_blocks : r->num_block_hashes);
}

/* Tail first, so that a request's last blocks are the first evicted (vLLM's order). */
static void req_free_blocks(job_sched *s, sched_req *r) {
  while (r->num_blocks > 0)
    job_kv_release(s->kv, r->blocks[--r->num_blocks]);
  r->hashed_blocks = r->registered_blocks = 0;
}

/* ---- scheduling ---- */

/* Gives running[num_seqs], request `r`, `tokens` tokens of this iteration. */
static inline void schedule(job_sched *s, sched_req *r, uint32_t tokens) {
  assert(r == &s->reqs[s->running[s->num_seqs]] && s->num_seqs < s->num_running);
  assert(tokens > 0 && r->scheduled_tokens == 0);
  assert(r->computed_tokens + tokens <= req_num_tokens(r));
  r->scheduled_tokens = tokens;
  seq_append(s, r);
}

/* Removes running[pos], frees its KV and queues it again at the front: its computed KV swapped to
 * the tier if the tier can hold it, else to recompute. */
static void preempt(job_sched *s, uint32_t pos, int64_t now_ns) {
  uint32_t idx = s->running[pos];
  sched_req *r = &s->reqs[idx];
  memmove(&s->running[pos], &s->running[pos + 1], (s->num_running - pos - 1) * sizeof *s->running);
  s->num_running--;
  assert(r->swapped_tokens == 0);
  uint64_t bytes = swap_bytes(s, r->computed_tokens); /* not what this step scheduled */
  if (s->cfg.tier && bytes > 0 && job_kv_tier_pin(s->cfg.tier, bytes)) {
    r->swapped_tokens = r->computed_tokens;
    r->swaps++;
    s->pinned_bytes += bytes;
    s->num_swapped++;
    s->swaps_out++;
    s->step_swapped_out++;
    s->step_store_bytes += bytes;
  }
  /* What it may hit when it resumes; swapped, its own blocks are in the tier already (as in vLLM's
   * swap mode, their HBM copies are simply freed), only its shared prefix stays cached. */
  if (s->cfg.prefix_caching && r->swapped_tokens == 0)
    req_register(s, r, r->hashed_blocks);
  reservation_end(s, r);
  req_free_blocks(s, r);
  r->computed_tokens = r->scheduled_tokens = 0;
  r->preemptions++;
  r->state = REQ_WAITING;
  s->preemptions++;
  waiting_push(s, idx, true);
  event_push(s, JOB_SCHED_PREEMPTED, r, now_ns);
}

/* vLLM's victim: the last running request under FCFS, else the largest (priority, arrival). */
static uint32_t victim_pos(const job_sched *s) {
  assert(s->num_running > 0);
  if (s->cfg.policy == JOB_SCHED_FCFS)
    return s->num_running - 1;
  uint32_t best = 0;
  for (uint32_t p = 1; p < s->num_running; p++) {
    const sched_req *a = &s->reqs[s->running[p]], *b = &s->reqs[s->running[best]];
    if (a->priority > b->priority || (a->priority == b->priority && a->arrival_ns > b->arrival_ns))
      best = p;
  }
  return best;
}

/* Takes back the share of running[pos], about to be preempted after it was scheduled in this
 * iteration (rare: priority policy only); returns its tokens. */
static uint32_t unschedule(job_sched *s, uint32_t pos) {
  assert(pos < s->num_seqs && s->reqs[s->running[pos]].scheduled_tokens == s->seqs[pos].tokens);
  uint32_t tokens = s->seqs[pos].tokens;
  memmove(&s->seqs[pos], &s->seqs[pos + 1], (s->num_seqs - pos - 1) * sizeof *s->seqs);
  s->num_seqs--;
  s->hw = (hw_batch){0};
  for (uint32_t k = 0; k < s->num_seqs; k++)
    hw_count(&s->hw, &s->seqs[k]);
  return tokens;
}

/* Running requests first, in order; each takes what it still has to compute (a decode: one token)
 * up to the budget and its new blocks, preempting victims while blocks are short. */
static uint32_t schedule_running(job_sched *s, int64_t now_ns, uint32_t budget, bool *preempted) {
  for (uint32_t i = 0; i < s->num_running && budget > 0;) {
    uint32_t idx = s->running[i];
    sched_req *r = &s->reqs[idx];
    uint32_t tokens = req_num_tokens(r) - r->computed_tokens;
    assert(tokens > 0);
    if (s->cfg.long_prefill_tokens > 0 && tokens > s->cfg.long_prefill_tokens)
      tokens = s->cfg.long_prefill_tokens;
    if (tokens > budget)
      tokens = budget;
    bool self_preempted = false;
    uint32_t need = blocks_needed(s, r, r->computed_tokens + tokens);
    while (need > 0 && need > job_kv_evictable_blocks(s->kv)) {
      assert(s->cfg.admission != JOB_SCHED_RESERVE_FULL); /* its reserve is never short */
      uint32_t pos = victim_pos(s);
      uint32_t victim = s->running[pos];
      if (pos < i) { /* priority only: it was scheduled earlier in this iteration */
        budget += unschedule(s, pos);
        i--;
      }
      preempt(s, pos, now_ns);
      *preempted = true;
      if (victim == idx) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted)
      break; /* as vLLM: this iteration schedules no further request */
    uint32_t old_blocks = r->num_blocks;
    req_grow(s, r, r->computed_tokens + tokens);
    reservation_grew(s, r, old_blocks);
    assert(i == s->num_seqs);
    schedule(s, r, tokens);
    budget -= tokens;
    i++;
  }
  return budget;
}

/* The longest prefix of a waiting request's blocks found in the prefix cache (never its last token:
 * it must be computed to produce logits), written to its table, not yet referenced. *revived
 * counts those unreferenced now: taking them off the LRU queue costs a free block each. */
static inline uint32_t prefix_lookup(job_sched *s, sched_req *r, uint32_t *revived) {
  uint32_t hits = 0;
  *revived = 0;
  if (s->cfg.prefix_caching) {
    for (uint32_t most = (req_num_tokens(r) - 1) / s->cfg.block_size_tokens; hits < most; hits++) {
      int32_t b = job_kv_lookup(s->kv, req_block_hash(r, hits));
      if (b == JOB_KV_NONE)
        break;
      *revived += job_kv_refs(s->kv, b) == 0;
      r->blocks[hits] = b;
    }
  }
  return hits;
}

/* Past the `hits` HBM hits, the blocks of the request's prefix chain that the tier holds (never its
 * last token, as above). Changes nothing. */
static inline uint32_t tier_lookup(const job_sched *s, const sched_req *r, uint32_t hits) {
  uint32_t found = 0;
  if (s->cfg.tier && s->cfg.prefix_caching)
    for (uint32_t most = (req_num_tokens(r) - 1) / s->cfg.block_size_tokens;
         hits + found < most &&
         job_kv_tier_has(s->cfg.tier, s->cfg.tier_space, req_block_hash(r, hits + found));
         found++)
      ;
  return found;
}

/* References the `hits` blocks prefix_lookup found and counts the lookup in the statistics. */
static void take_prefix_hits(job_sched *s, sched_req *r, uint32_t hits) {
  for (uint32_t k = 0; k < hits; k++)
    job_kv_touch(s->kv, r->blocks[k]);
  r->num_blocks = r->hashed_blocks = r->registered_blocks = hits;
  r->computed_tokens = hits * s->cfg.block_size_tokens;
}

static void count_prefix_lookup(job_sched *s, const sched_req *r, uint32_t hits) {
  if (s->cfg.prefix_caching) {
    s->prefix_query_tokens += req_num_tokens(r);
    s->prefix_hit_tokens += (uint64_t)hits * s->cfg.block_size_tokens;
    s->prefix_hit_blocks += hits;
  }
}

/* A remote_kv request at the head of the queue: blocks for its prompt after its local prefix hits,
 * and for its first output token's slot (see sched.h), as vLLM allocates for a request loading KV
 * asynchronously; they enter the prefix cache only when the KV has arrived (vLLM's
 * delay_cache_blocks). Takes no budget and no seat. Returns false when blocks are short. */
static bool allocate_remote(job_sched *s, uint32_t idx, int64_t now_ns) {
  sched_req *r = &s->reqs[idx];
  assert(r->remote_pending && r->num_blocks == 0 && r->generated_tokens == 0);
  uint32_t revived, hits = prefix_lookup(s, r, &revived);
  uint32_t blocks = blocks_for(s, (uint64_t)r->prompt_tokens + 1);
  uint32_t need = s->cfg.admission == JOB_SCHED_RESERVE_FULL ? full_blocks(s, r) : blocks;
  if (need - hits + revived > kv_room(s))
    return false;
  waiting_pop(s);
  take_prefix_hits(s, r, hits);
  assert(blocks <= r->cap_blocks);
  while (r->num_blocks < blocks)
    r->blocks[r->num_blocks++] = kv_alloc(s);
  reservation_grew(s, r, hits);
  count_prefix_lookup(s, r, hits);
  r->remote_pending = false;
  r->first_hit_blocks = hits;
  r->state = REQ_WAITING_FOR_KV;
  s->num_waiting_for_kv++;
  park_insert(s, idx);
  event_push(s, JOB_SCHED_KV_ALLOCATED, r, now_ns);
  return true;
}

/* A waiting request about to be admitted after `hits` HBM hits: its tier prefix hits, or its
 * swapped-out blocks past the HBM hits, are loaded this step (blocks allocated by req_grow), and it
 * continues from `computed` tokens. */
static void load_from_tier(job_sched *s, sched_req *r, uint32_t hits, uint32_t tier_hits,
                           uint32_t swapped_blocks, uint32_t computed) {
  assert(s->cfg.tier && r->num_blocks == hits);
  uint32_t loaded = tier_hits;
  for (uint32_t k = hits; k < hits + tier_hits; k++)
    job_kv_tier_touch(s->cfg.tier, s->cfg.tier_space, req_block_hash(r, k));
  if (r->swapped_tokens > 0) {
    assert(tier_hits == 0);
    uint64_t bytes = swap_bytes(s, r->swapped_tokens);
    job_kv_tier_unpin(s->cfg.tier, bytes);
    assert(s->pinned_bytes >= bytes && s->num_swapped > 0);
    s->pinned_bytes -= bytes;
    s->num_swapped--;
    s->swaps_in++;
    s->step_swapped_in++;
    loaded = swapped_blocks > hits ? swapped_blocks - hits : 0;
    r->swapped_tokens = 0;
  } else {
    s->tier_hit_tokens += (uint64_t)tier_hits * s->cfg.block_size_tokens;
    s->step_tier_hits += tier_hits;
  }
  s->step_load_bytes += (uint64_t)loaded * s->cfg.block_bytes;
  r->computed_tokens = computed;
}

/* Then waiting requests in policy order, while budget, seats and blocks allow, after the longest
 * prefix of their blocks found in the prefix cache; a request whose remote KV arrived already
 * holds its prompt's blocks and decodes. */
static void schedule_waiting(job_sched *s, int64_t now_ns, uint32_t budget) {
  while (s->num_waiting > 0 && budget > 0 && s->num_running < s->cfg.max_num_seqs) {
    uint32_t idx = waiting_peek(s);
    sched_req *r = &s->reqs[idx];
    assert(r->state == REQ_WAITING);
    if (r->remote_pending) {
      if (!allocate_remote(s, idx, now_ns))
        break; /* as vLLM: the head waits for blocks and so do those behind it */
      continue;
    }
    bool arrived = r->computed_tokens >
                   0; /* its remote KV arrived: no lookup, the blocks are its */
    assert(arrived ? r->num_blocks > 0 : r->num_blocks == 0);
    uint32_t num_tokens = req_num_tokens(r), hits = 0, revived = 0, tier_hits = 0;
    if (!arrived)
      hits = prefix_lookup(s, r, &revived);
    /* Swapped out: its blocks past the HBM hits come back from the tier. Else the tier may hold
     * more of its prefix. */
    uint32_t swapped_blocks = blocks_for(s, r->swapped_tokens);
    if (!arrived && r->swapped_tokens == 0)
      tier_hits = tier_lookup(s, r, hits);
    uint32_t computed = arrived ? r->computed_tokens
                                : (hits + tier_hits) * s->cfg.block_size_tokens;
    if (computed < r->swapped_tokens)
      computed = r->swapped_tokens;
    uint32_t tokens = num_tokens - computed;
    if (s->cfg.long_prefill_tokens > 0 && tokens > s->cfg.long_prefill_tokens)
      tokens = s->cfg.long_prefill_tokens;
    if (!s->cfg.chunked_prefill && tokens > budget)
      break;
    if (tokens > budget)
      tokens = budget;
    uint32_t need = arrived ? blocks_needed(s, r, computed + tokens)
                            : blocks_for(s, computed + tokens) - hits + revived;
    uint32_t room = job_kv_evictable_blocks(s->kv); /* a reserved request takes from its reserve */
    if (s->cfg.admission == JOB_SCHED_RESERVE_FULL && !r->reserved) {
      need = full_blocks(s, r) - (arrived ? r->num_blocks : hits) + revived;
      room = kv_room(s);
    }
    if (need > room)
      break;
    waiting_pop(s);
    if (!arrived)
      take_prefix_hits(s, r, hits);
    if (tier_hits > 0 || r->swapped_tokens > 0)
      load_from_tier(s, r, hits, tier_hits, swapped_blocks, computed);
    uint32_t old_blocks = r->num_blocks;
    req_grow(s, r, computed + tokens);
    reservation_grew(s, r, old_blocks);
    if (!arrived)
      count_prefix_lookup(s, r, hits + tier_hits);
    r->state = REQ_RUNNING;
    assert(s->num_seqs == s->num_running); /* every running request got its share */
    s->running[s->num_running++] = idx;
    if (!r->started) {
      r->started = true;
      if (!arrived) { /* else the hits at its allocation */
        r->first_hit_blocks = hits + tier_hits;
        r->first_tier_hit_blocks = tier_hits;
      }
      event_push(s, JOB_SCHED_STARTED, r, now_ns);
    }
    schedule(s, r, tokens);
    budget -= tokens;
  }
}

/* The batch of the last step, but its events. */
static void batch_fill(const job_sched *s, job_sched_batch *out) {
  *out = (job_sched_batch){
      .hw = s->hw,
      .seqs = s->seqs,
      .num_seqs = s->num_seqs,
      .kv_blocks_used = s->step_kv_blocks_used,
      .tier_load_bytes = s->step_load_bytes,
      .tier_store_bytes = s->step_store_bytes,
      .swapped_out = s->step_swapped_out,
      .swapped_in = s->step_swapped_in,
      .tier_hit_blocks = s->step_tier_hits,
  };
}

void job_sched_step(job_sched *s, int64_t now_ns, job_sched_batch *out) {
  assert(!s->open);
  s->num_events = 0;
  s->step_load_bytes = s->step_store_bytes = 0;
  s->step_swapped_out = s->step_swapped_in = s->step_tier_hits = 0;
  /* A pass that only preempts schedules nothing (vLLM then runs an empty step): run another. A pass
   * without preemption schedules something unless the waiting requests need blocks that held or
   * waiting-for-KV requests occupy; running again would change nothing. */
  bool preempted;
  do {
    s->num_seqs = 0;
    s->hw = (hw_batch){0};
    preempted = false;
    uint32_t budget = schedule_running(s, now_ns, s->cfg.max_num_batched_tokens, &preempted);
    if (!preempted)
      schedule_waiting(s, now_ns, budget);
  } while (s->num_seqs == 0 && preempted);
  assert(s->num_seqs > 0 || s->num_running == 0);

  assert(s->hw.prefill_tokens + s->hw.decode_seqs <= s->cfg.max_num_batched_tokens);
  assert(s->hw.prefill_seqs + s->hw.decode_seqs == s->num_seqs);
  assert(s->num_running <= s->cfg.max_num_seqs);
  s->open = s->num_seqs > 0;
  s->iterations += s->open;
  s->step_kv_blocks_used = job_kv_used_blocks(s->kv);
  batch_fill(s, out);
  out->events = s->events;
  out->num_events = s->num_events;
  s->tier_load_bytes += s->step_load_bytes;
  s->tier_store_bytes += s->step_store_bytes;
}

uint32_t job_sched_finish(job_sched *s, int64_t end_ns, const job_sched_event **events) {
  assert(s->open);
  s->open = false;
  s->num_events = 0;
  uint32_t kept = 0;
  for (uint32_t p = 0; p < s->num_running; p++) {
    uint32_t idx = s->running[p];
    sched_req *r = &s->reqs[idx];
    s->running[kept++] = idx;
    if (p >= s->num_seqs)
      continue; /* not scheduled: the budget ran out before it */
    assert(r->state == REQ_RUNNING && r->scheduled_tokens == s->seqs[p].tokens);
    r->computed_tokens += r->scheduled_tokens;
    r->scheduled_tokens = 0;
    if (r->computed_tokens < req_num_tokens(r))
      continue; /* a chunk of a longer prefill: no token sampled */
    r->generated_tokens++;
    if (r->generated_tokens == 1)
      event_push(s, JOB_SCHED_FIRST_TOKEN, r, end_ns);
    if (r->generated_tokens == r->output_tokens) {
      reservation_end(s, r);
      if (r->hold_kv) { /* its blocks wait for job_sched_release */
        r->state = REQ_HELD;
        s->num_held++;
        hold_blocks(s, r);
        park_insert(s, idx);
      } else {
        req_free_blocks(s, r);
        r->state = REQ_DONE;
        s->num_parkable -= r->parkable;
      }
      s->finished++;
      event_push(s, JOB_SCHED_FINISHED, r, end_ns);
      if (r->state == REQ_DONE)
        s->free_reqs[s->num_free_reqs++] = idx;
      kept--;
    }
  }
  s->num_running = kept;
  s->num_seqs = 0;
  *events = s->events;
  return s->num_events;
}

/* New blocks the running requests take in the steps of iterations 2..k of a steady stretch, each
 * holding one token more per iteration: computed_tokens + k tokens at the k-th. */
static uint64_t steady_blocks(const job_sched *s, uint32_t k) {
  uint64_t need = 0;
  for (uint32_t p = 0; p < s->num_running; p++) {
    const sched_req *r = &s->reqs[s->running[p]];
    uint32_t blocks = blocks_for(s, (uint64_t)r->computed_tokens + k);
    need += blocks > r->num_blocks ? blocks - r->num_blocks : 0;
  }
  return need;
}

uint32_t job_sched_steady(const job_sched *s, uint32_t max) {
  if (!s->open || max <= 1 || s->num_waiting > 0 || s->hw.prefill_seqs > 0 ||
      s->num_seqs != s->num_running)
    return 1;
  uint32_t k = max; /* the k-th iteration's end may finish requests, none before it */
  for (uint32_t p = 0; p < s->num_running; p++) {
    const sched_req *r = &s->reqs[s->running[p]];
    uint32_t left = r->output_tokens - r->generated_tokens;
    k = left < k ? left : k;
  }
  if (k <= 1)
    return 1;
  uint64_t need = steady_blocks(s, k);
  uint32_t room = need > UINT32_MAX ? UINT32_MAX : (uint32_t)need;
  room = s->cfg.tier ? job_kv_unhashed_ahead(s->kv, room) : job_kv_evictable_blocks(s->kv);
  if (need <= room)
    return k;
  uint32_t lo = 1, hi = k; /* steady_blocks(lo) <= room < steady_blocks(hi) */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    *(steady_blocks(s, mid) <= room ? &lo : &hi) = mid;
  }
  return lo;
}

void job_sched_leap(job_sched *s, uint32_t n, uint32_t *kv_blocks_used) {
  assert(s->open && s->num_waiting == 0 && s->hw.prefill_seqs == 0 &&
         s->num_seqs == s->num_running);
  s->num_events = 0;
  s->step_load_bytes = s->step_store_bytes = 0;
  s->step_swapped_out = s->step_swapped_in = s->step_tier_hits = 0;
  /* Step j (1..n) grows each request to computed_tokens + j + 1 tokens; leap_due[p] is the next j
   * at which running[p] has blocks to take or fill, requests taken in running order as the steps
   * take them. */
  uint32_t next = UINT32_MAX, used = job_kv_used_blocks(s->kv);
  for (uint32_t p = 0; p < s->num_running; p++) {
    const sched_req *r = &s->reqs[s->running[p]];
    assert(r->scheduled_tokens == 1 && r->generated_tokens + n < r->output_tokens &&
           grow_from(s, r) > r->computed_tokens + 1);
    s->leap_due[p] = grow_from(s, r) - r->computed_tokens - 1;
    next = s->leap_due[p] < next ? s->leap_due[p] : next;
  }
  for (uint32_t j = 1; j <= n; j++) {
    if (j == next) {
      next = UINT32_MAX;
      for (uint32_t p = 0; p < s->num_running; p++) {
        sched_req *r = &s->reqs[s->running[p]];
        if (s->leap_due[p] == j) {
          uint32_t old_blocks = r->num_blocks;
          req_grow(s, r, r->computed_tokens + j + 1);
          reservation_grew(s, r, old_blocks);
          s->leap_due[p] = grow_from(s, r) - r->computed_tokens - 1;
        }
        next = s->leap_due[p] < next ? s->leap_due[p] : next;
      }
      used = job_kv_used_blocks(s->kv);
    }
    kv_blocks_used[j - 1] = used;
  }
  for (uint32_t p = 0; p < s->num_running; p++) {
    sched_req *r = &s->reqs[s->running[p]];
    r->computed_tokens += n;
    r->generated_tokens += n;
    s->seqs[p].context_tokens += n;
  }
  s->hw.decode_ctx_tokens += (uint64_t)n * s->num_seqs;
  s->iterations += n;
  s->step_kv_blocks_used = used;
  assert(s->step_store_bytes == 0); /* steady: no block evicted to the tier */
}

/* ---- requests ---- */

/* Doubles the record pool and everything sized by it (for job_sched_add and job_sched_load). */
int sched_pool_grow(job_sched *s) {
  uint32_t old_cap = s->reqs_cap, cap = old_cap ? 2 * old_cap : 64;
  sched_req *reqs = realloc(s->reqs, cap * sizeof *reqs);
  if (!reqs)
    return -1;
  s->reqs = reqs;
  uint32_t *free_reqs = realloc(s->free_reqs, cap * sizeof *free_reqs);
  uint32_t *waiting = malloc(cap * sizeof *waiting);
  if (free_reqs)
    s->free_reqs = free_reqs;
  if (!free_reqs || !waiting) {
    free(waiting);
    return -1;
  }
  for (uint32_t k = 0; k < s->num_waiting; k++) /* unrolls the ring; a heap stays a heap */
    waiting[k] = waiting_at(s, k);
  free(s->waiting);
  s->waiting = waiting;
  s->waiting_head = 0;
  for (uint32_t idx = cap; idx > old_cap; idx--) {
    s->reqs[idx - 1] = (sched_req){0};
    s->free_reqs[s->num_free_reqs++] = idx - 1;
  }
  s->reqs_cap = cap;
  return 0;
}

int job_sched_add(job_sched *s, const job_sched_request *req, char *err, size_t err_len) {
  const job_sched_config *cfg = &s->cfg;
  uint64_t most_tokens = (uint64_t)req->prompt_tokens + req->output_tokens - 1;
  if (req->prompt_tokens == 0 || req->output_tokens == 0 || most_tokens > UINT32_MAX / 2) {
    snprintf(err, err_len,
             "request %llu: %u prompt and %u output tokens (expected at least 1 each)",
             (unsigned long long)req->id, req->prompt_tokens, req->output_tokens);
    return -1;
  }
  if (req->remote_kv && req->output_tokens < 2) {
    snprintf(err, err_len,
             "request %llu: remote KV with %u output tokens (the prefill side sampled the first; "
             "expected at least 2)",
             (unsigned long long)req->id, req->output_tokens);
    return -1;
  }
  if (req->num_block_hashes > req->prompt_tokens / cfg->block_size_tokens ||
      (req->num_block_hashes > 0 && !req->block_hashes)) {
    snprintf(err, err_len, "request %llu: %u block hashes for %u prompt tokens in blocks of %u",
             (unsigned long long)req->id, req->num_block_hashes, req->prompt_tokens,
             cfg->block_size_tokens);
    return -1;
  }
  uint32_t most_blocks = blocks_for(s, most_tokens);
  if (most_blocks > cfg->total_kv_blocks) {
    snprintf(err, err_len, "request %llu: needs %u KV blocks, the instance has %u",
             (unsigned long long)req->id, most_blocks, cfg->total_kv_blocks);
    return -1;
  }
  if (!cfg->chunked_prefill && most_tokens > cfg->max_num_batched_tokens) {
    snprintf(err, err_len,
             "request %llu: %llu tokens exceed max_num_batched_tokens %u without chunked prefill",
             (unsigned long long)req->id, (unsigned long long)most_tokens,
             cfg->max_num_batched_tokens);
    return -1;
  }
  bool parkable = req->hold_kv || req->remote_kv;
  if (req->hold_kv && !s->held_refs)
    s->held_refs = calloc(cfg->total_kv_blocks, sizeof *s->held_refs);
  if ((s->num_free_reqs == 0 && sched_pool_grow(s) != 0) || (parkable && park_reserve(s) != 0) ||
      (req->hold_kv && !s->held_refs)) {
    snprintf(err, err_len, "request %llu: out of memory", (unsigned long long)req->id);
    return -1;
  }
  uint32_t idx = s->free_reqs[s->num_free_reqs - 1];
  sched_req *r = &s->reqs[idx];
  if (r->cap_blocks < most_blocks) {
    int32_t *blocks = realloc(r->blocks, most_blocks * sizeof *blocks);
    if (!blocks) {
      snprintf(err, err_len, "request %llu: out of memory", (unsigned long long)req->id);
      return -1;
    }
    r->blocks = blocks;
    r->cap_blocks = most_blocks;
  }
  s->num_free_reqs--;
  *r = (sched_req){
      .id = req->id,
      .arrival_ns = req->arrival_ns,
      .add_seq = s->next_add_seq++,
      .user = req->user,
      .block_hashes = req->block_hashes,
      .blocks = r->blocks,
      .cap_blocks = r->cap_blocks,
      .prompt_tokens = req->prompt_tokens,
      .output_tokens = req->output_tokens,
      .num_block_hashes = req->num_block_hashes,
      .priority = req->priority,
      .state = REQ_WAITING,
      .hold_kv = req->hold_kv,
      .remote_pending = req->remote_kv,
      .parkable = parkable,
  };
  s->num_parkable += parkable;
  waiting_push(s, idx, false);
  return 0;
}

int job_sched_release(job_sched *s, uint64_t id) {
  uint32_t slot = park_find(s, id, REQ_HELD);
  if (slot == PARK_NONE)
    return -1;
  uint32_t idx = s->parked[slot].idx;
  sched_req *r = &s->reqs[idx];
  park_erase(s, slot);
  assert(s->num_held > 0);
  s->num_held--;
  unhold_blocks(s, r);
  req_free_blocks(s, r);
  r->state = REQ_DONE;
  s->num_parkable--;
  s->free_reqs[s->num_free_reqs++] = idx;
  return 0;
}

int job_sched_kv_arrived(job_sched *s, uint64_t id) {
  uint32_t slot = park_find(s, id, REQ_WAITING_FOR_KV);
  if (slot == PARK_NONE)
    return -1;
  uint32_t idx = s->parked[slot].idx;
  sched_req *r = &s->reqs[idx];
  park_erase(s, slot);
  assert(s->num_waiting_for_kv > 0);
  s->num_waiting_for_kv--;
  r->computed_tokens = r->prompt_tokens;
  r->generated_tokens = 1;
  if (s->cfg.prefix_caching) { /* its full prompt blocks, as req_grow would have */
    r->hashed_blocks = r->prompt_tokens / s->cfg.block_size_tokens;
    req_register(s, r,
                 r->hashed_blocks < r->num_block_hashes ? r->hashed_blocks : r->num_block_hashes);
  }
  r->state = REQ_WAITING;
  waiting_push(s, idx, true);
  return 0;
}

/* ---- queries (create, destroy and statistics: sched_life.c) ---- */

void job_sched_open_batch(const job_sched *s, job_sched_batch *out) {
  if (s->open)
    batch_fill(s, out);
  else
    *out = (job_sched_batch){.seqs = s->seqs};
}
