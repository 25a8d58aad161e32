/* The routing policies, one function each and one row each in the table at the end: a new policy
 * is added here, and nowhere else (scenario files and the router find it by name). */
#include <stdbool.h>

#include "jobs/route_policy.h"

/* SGLang's cache-aware router (sgl-project/sglang, router README, "Configuration Parameters"):
 * defaults of --cache-threshold, --balance-abs-threshold and --balance-rel-threshold. */
static const double prefix_cache_threshold = 0.5;
static const uint32_t prefix_balance_abs = 32;
static const double prefix_balance_rel = 1.0001;

/* The index in [first, first + count) with the least load[] among the instances that accept work
 * (JOB_ROUTE_NONE: none does), ties going to the first found from a start that moves on at every
 * pick, so that no index is favoured: with ties to the lowest index, a lightly loaded pool sends
 * most requests to its first instances. */
static uint32_t least_of(job_router *r, const uint64_t *load64, const uint32_t *load32,
                         uint32_t first, uint32_t count) {
  uint32_t start = r->ties++ % count, best = JOB_ROUTE_NONE;
  for (uint32_t k = 0; k < count; k++) {
    uint32_t i = first + (start + k) % count;
    if (job_route_accepts(r, i) &&
        (best == JOB_ROUTE_NONE || (load64 ? load64[i] < load64[best] : load32[i] < load32[best])))
      best = i;
  }
  return best;
}

/* The first instance that accepts work at or after offset `at` of [first, first + count), going
 * round; JOB_ROUTE_NONE when none does. */
static uint32_t accepting_from(const job_router *r, uint32_t first, uint32_t count, uint32_t at) {
  for (uint32_t k = 0; k < count; k++) {
    uint32_t i = first + (at + k) % count;
    if (job_route_accepts(r, i))
      return i;
  }
  return JOB_ROUTE_NONE;
}

static uint32_t least_requests(job_router *r, uint32_t first, uint32_t count) {
  return least_of(r, NULL, r->outstanding_requests, first, count);
}

static job_prefix_slot *prefix_find(const job_router *r, uint64_t hash) {
  hash = hash ? hash : 1;
  size_t i = (size_t)(hash * 0x9e3779b97f4a7c15ull) & r->prefix_mask;
  for (size_t probe = 0; probe < 8; probe++, i = (i + 1) & r->prefix_mask)
    if (r->prefix[i].hash == hash || r->prefix[i].hash == 0)
      return &r->prefix[i];
  return &r->prefix[i]; /* a full neighbourhood: overwrite the last slot probed */
}

/* SGLang's cache-aware choice: when the instances are imbalanced, the shortest queue; otherwise the
 * instance holding the longest run of the prompt's leading blocks if it covers more than
 * prefix_cache_threshold of them, else the instance caching the fewest blocks (most room).
 * The chosen instance then owns the prompt's blocks in the index. */
static uint32_t prefix_pick(job_router *r, const job_route_request *req) {
  uint32_t any = accepting_from(r, 0, r->instances, 0);
  if (any == JOB_ROUTE_NONE)
    return any;
  uint32_t lo = r->outstanding_requests[any], hi = lo;
  for (uint32_t i = any + 1; i < r->instances; i++) {
    if (!job_route_accepts(r, i))
      continue;
    lo = r->outstanding_requests[i] < lo ? r->outstanding_requests[i] : lo;
    hi = r->outstanding_requests[i] > hi ? r->outstanding_requests[i] : hi;
  }
  uint32_t best;
  if (hi - lo > prefix_balance_abs && hi > prefix_balance_rel * lo) {
    best = least_requests(r, 0, r->instances);
  } else {
    uint32_t matched = 0, owner = 0;
    for (; matched < req->block_count; matched++) {
      const job_prefix_slot *s = prefix_find(r, req->block_hashes[matched]);
      uint64_t hash = req->block_hashes[matched] ? req->block_hashes[matched] : 1;
      if (s->hash != hash || (matched > 0 && s->instance != owner))
        break;
      owner = s->instance;
    }
    if (req->block_count && matched > prefix_cache_threshold * req->block_count &&
        job_route_accepts(r, owner))
      best = owner;
    else
      best = least_of(r, r->prefix_blocks, NULL, 0, r->instances);
  }
  for (uint32_t b = 0; b < req->block_count; b++) {
    job_prefix_slot *s = prefix_find(r, req->block_hashes[b]);
    if (s->hash)
      r->prefix_blocks[s->instance]--;
    s->hash = req->block_hashes[b] ? req->block_hashes[b] : 1;
    s->instance = best;
    r->prefix_blocks[best]++;
  }
  return best;
}

/* Round robin over the whole pool, past instances that accept no work; a range takes the same turn
 * modulo its size. */
static uint32_t pick_round_robin(job_router *r, const job_route_request *req, core_rng *rng,
                                 uint32_t first, uint32_t count) {
  (void)req, (void)rng;
  for (uint32_t k = 0; k < count; k++) {
    uint32_t pick = first + r->next % count;
    r->next = (r->next + 1) % r->instances;
    if (job_route_accepts(r, pick))
      return pick;
  }
  return JOB_ROUTE_NONE;
}

/* Smooth weighted round robin (nginx's upstream balancing): every accepting instance of the range
 * earns its weight, the richest is picked (ties to the lowest index) and pays the weights' sum.
 * Each instance gets its weight's share of the picks, spread evenly in time: weights 5, 1, 1 pick
 * a a b a c a a. With equal weights it is round robin from the range's first instance. */
static uint32_t pick_weighted_round_robin(job_router *r, const job_route_request *req,
                                          core_rng *rng, uint32_t first, uint32_t count) {
  (void)req, (void)rng;
  uint32_t best = JOB_ROUTE_NONE;
  int64_t total = 0;
  for (uint32_t i = first; i < first + count; i++) {
    if (!job_route_accepts(r, i))
      continue;
    r->credit[i] += (int64_t)r->weight[i];
    total += (int64_t)r->weight[i];
    if (best == JOB_ROUTE_NONE || r->credit[i] > r->credit[best])
      best = i;
  }
  if (best != JOB_ROUTE_NONE)
    r->credit[best] -= total;
  return best;
}

/* Fewest outstanding requests. */
static uint32_t pick_least_requests(job_router *r, const job_route_request *req, core_rng *rng,
                                    uint32_t first, uint32_t count) {
  (void)req, (void)rng;
  return least_requests(r, first, count);
}

/* Fewest outstanding tokens (prompt + output): the KV it will hold. */
static uint32_t pick_least_kv(job_router *r, const job_route_request *req, core_rng *rng,
                              uint32_t first, uint32_t count) {
  (void)req, (void)rng;
  return least_of(r, r->outstanding_tokens, NULL, first, count);
}

/* Two distinct instances drawn at random, the one with fewer outstanding requests (an instance
 * that accepts no work stands for the next one that does). */
static uint32_t pick_power_of_two(job_router *r, const job_route_request *req, core_rng *rng,
                                  uint32_t first, uint32_t count) {
  (void)req;
  uint32_t a = core_rng_below(rng, count);
  uint32_t b = count > 1 ? core_rng_below(rng, count - 1) : 0;
  b += b >= a && count > 1; /* two distinct instances */
  a = accepting_from(r, first, count, a), b = accepting_from(r, first, count, b);
  if (a == JOB_ROUTE_NONE)
    return a;
  return r->outstanding_requests[b] < r->outstanding_requests[a] ? b : a;
}

/* SGLang's cache-aware choice over the whole pool; the prefix index spans every instance, so a
 * range takes the least loaded of its instances instead. */
static uint32_t pick_prefix(job_router *r, const job_route_request *req, core_rng *rng,
                            uint32_t first, uint32_t count) {
  (void)rng;
  return count == r->instances ? prefix_pick(r, req) : least_requests(r, first, count);
}

const job_route_policy job_route_policies[] = {
    {"round_robin", false, true, false, pick_round_robin},
    {"weighted_round_robin", false, true, true, pick_weighted_round_robin},
    {"least_requests", false, false, false, pick_least_requests},
    {"least_kv", false, false, false, pick_least_kv},
    {"power_of_two", false, false, false, pick_power_of_two},
    {"prefix", true, false, false, pick_prefix},
};
const size_t job_route_policy_count = sizeof job_route_policies / sizeof *job_route_policies;
