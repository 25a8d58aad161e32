/* Routing policies over outstanding-request counts, outstanding tokens and a bounded prefix index.
 */
#include "router.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_PREFIX_ENTRIES = 1 << 20 };

/* SGLang's cache-aware router (sgl-project/sglang, router README, "Configuration Parameters"):
 * defaults of --cache-threshold, --balance-abs-threshold and --balance-rel-threshold. */
static const double prefix_cache_threshold = 0.5;
static const uint32_t prefix_balance_abs = 32;
static const double prefix_balance_rel = 1.0001;

/* Prefix index: open addressing, one slot per block hash, newest owner wins, no deletion. It is an
 * approximation, as in SGLang's cache-aware router or Dynamo's KV router: the router does not see
 * the instances' evictions, only where it sent each prefix last. */
typedef struct prefix_slot {
  uint64_t hash; /* 0 = empty (a real hash of 0 is stored as 1) */
  uint32_t instance;
} prefix_slot;

struct job_router {
  job_route_policy policy;
  uint32_t instances;
  uint32_t next; /* round robin */
  uint32_t *outstanding_requests;
  uint64_t *outstanding_tokens;
  prefix_slot *prefix;
  uint64_t *prefix_blocks; /* index entries per instance: the size of its approximate tree */
  size_t prefix_mask;
};

static const char *const policy_names[] = {"round_robin", "least_requests", "least_kv",
                                           "power_of_two", "prefix"};

int job_route_policy_parse(const char *name, job_route_policy *policy) {
  for (size_t i = 0; i < sizeof policy_names / sizeof *policy_names; i++)
    if (strcmp(name, policy_names[i]) == 0) {
      *policy = (job_route_policy)i;
      return 0;
    }
  return -1;
}

const char *job_route_policy_name(job_route_policy policy) { return policy_names[policy]; }

job_router *job_router_create(job_route_policy policy, uint32_t instances, size_t prefix_entries,
                              char *err, size_t err_len) {
  if (instances == 0) {
    snprintf(err, err_len, "router: no instances to route to");
    return NULL;
  }
  job_router *r = calloc(1, sizeof *r);
  if (!r)
    goto oom;
  r->policy = policy;
  r->instances = instances;
  r->outstanding_requests = calloc(instances, sizeof *r->outstanding_requests);
  r->outstanding_tokens = calloc(instances, sizeof *r->outstanding_tokens);
  if (!r->outstanding_requests || !r->outstanding_tokens)
    goto oom;
  if (policy == JOB_ROUTE_PREFIX) {
    size_t n = 1;
    while (n < (prefix_entries ? prefix_entries : DEFAULT_PREFIX_ENTRIES))
      n <<= 1;
    r->prefix = calloc(n, sizeof *r->prefix);
    r->prefix_blocks = calloc(instances, sizeof *r->prefix_blocks);
    r->prefix_mask = n - 1;
    if (!r->prefix || !r->prefix_blocks)
      goto oom;
  }
  return r;
oom:
  job_router_destroy(r);
  snprintf(err, err_len, "router: out of memory for %u instances", instances);
  return NULL;
}

void job_router_destroy(job_router *r) {
  if (!r)
    return;
  free(r->outstanding_requests);
  free(r->outstanding_tokens);
  free(r->prefix);
  free(r->prefix_blocks);
  free(r);
}

static uint32_t least_requests(const job_router *r, uint32_t first, uint32_t count) {
  uint32_t best = first;
  for (uint32_t i = first + 1; i < first + count; i++)
    if (r->outstanding_requests[i] < r->outstanding_requests[best])
      best = i;
  return best;
}

static uint32_t least_tokens(const job_router *r, uint32_t first, uint32_t count) {
  uint32_t best = first;
  for (uint32_t i = first + 1; i < first + count; i++)
    if (r->outstanding_tokens[i] < r->outstanding_tokens[best])
      best = i;
  return best;
}

static prefix_slot *prefix_find(const job_router *r, uint64_t hash) {
  hash = hash ? hash : 1;
  size_t i = (size_t)(hash * 0x9e3779b97f4a7c15ull) & r->prefix_mask;
  for (size_t probe = 0; probe < 8; probe++, i = (i + 1) & r->prefix_mask)
    if (r->prefix[i].hash == hash || r->prefix[i].hash == 0)
      return &r->prefix[i];
  return &r->prefix[i]; /* a full neighbourhood: overwrite the last slot probed */
}

/* SGLang's cache-aware choice: when the instances are imbalanced, the shortest queue; otherwise the
 * instance holding the longest run of the prompt's leading blocks if it covers more than
 * prefix_cache_threshold of them, else the instance with the smallest index (most room to cache).
 * The chosen instance then owns the prompt's blocks in the index. */
static uint32_t prefix_pick(job_router *r, const job_route_request *req) {
  uint32_t lo = r->outstanding_requests[0], hi = lo;
  for (uint32_t i = 1; i < r->instances; i++) {
    lo = r->outstanding_requests[i] < lo ? r->outstanding_requests[i] : lo;
    hi = r->outstanding_requests[i] > hi ? r->outstanding_requests[i] : hi;
  }
  uint32_t best;
  if (hi - lo > prefix_balance_abs && hi > prefix_balance_rel * lo) {
    best = least_requests(r, 0, r->instances);
  } else {
    uint32_t matched = 0, owner = 0;
    for (; matched < req->block_count; matched++) {
      const prefix_slot *s = prefix_find(r, req->block_hashes[matched]);
      uint64_t hash = req->block_hashes[matched] ? req->block_hashes[matched] : 1;
      if (s->hash != hash || (matched > 0 && s->instance != owner))
        break;
      owner = s->instance;
    }
    if (req->block_count && matched > prefix_cache_threshold * req->block_count) {
      best = owner;
    } else {
      best = 0;
      for (uint32_t i = 1; i < r->instances; i++)
        if (r->prefix_blocks[i] < r->prefix_blocks[best])
          best = i;
    }
  }
  for (uint32_t b = 0; b < req->block_count; b++) {
    prefix_slot *s = prefix_find(r, req->block_hashes[b]);
    if (s->hash)
      r->prefix_blocks[s->instance]--;
    s->hash = req->block_hashes[b] ? req->block_hashes[b] : 1;
    s->instance = best;
    r->prefix_blocks[best]++;
  }
  return best;
}

uint32_t job_router_pick(job_router *r, const job_route_request *req, core_rng *rng) {
  return job_router_pick_range(r, req, rng, 0, r->instances);
}

uint32_t job_router_pick_range(job_router *r, const job_route_request *req, core_rng *rng,
                               uint32_t first, uint32_t count) {
  assert(count > 0 && first + count <= r->instances);
  bool whole = count == r->instances;
  uint32_t pick;
  switch (r->policy) {
  case JOB_ROUTE_ROUND_ROBIN:
    pick = first + r->next % count;
    r->next = (r->next + 1) % r->instances;
    break;
  case JOB_ROUTE_LEAST_KV: pick = least_tokens(r, first, count); break;
  case JOB_ROUTE_POWER_OF_TWO: {
    uint32_t a = core_rng_below(rng, count);
    uint32_t b = count > 1 ? core_rng_below(rng, count - 1) : 0;
    b += b >= a && count > 1; /* two distinct instances */
    a += first, b += first;
    pick = r->outstanding_requests[b] < r->outstanding_requests[a] ? b : a;
    break;
  }
  case JOB_ROUTE_PREFIX:
    if (whole) {
      pick = prefix_pick(r, req);
      break;
    }
    /* the prefix index spans every instance: the least loaded of the range instead */
    __attribute__((fallthrough));
  case JOB_ROUTE_LEAST_REQUESTS:
  default: pick = least_requests(r, first, count);
  }
  r->outstanding_requests[pick]++;
  r->outstanding_tokens[pick] += (uint64_t)req->input_tokens + req->output_tokens;
  return pick;
}

void job_router_completed(job_router *r, uint32_t instance, const job_route_request *req) {
  r->outstanding_requests[instance]--;
  r->outstanding_tokens[instance] -= (uint64_t)req->input_tokens + req->output_tokens;
}

uint32_t job_router_outstanding(const job_router *r, uint32_t instance) {
  return r->outstanding_requests[instance];
}
