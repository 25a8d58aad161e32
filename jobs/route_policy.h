/* Internal to jobs/: what a routing policy sees of the router (router.c) and what the policy table
 * (route_policies.c) holds. */
#ifndef JOB_ROUTE_POLICY_H
#define JOB_ROUTE_POLICY_H

#include <stdbool.h>

#include "jobs/router.h"

/* Prefix index: open addressing, one slot per block hash, newest owner wins, no deletion. It is an
 * approximation, as in SGLang's cache-aware router or Dynamo's KV router: the router does not see
 * the instances' evictions, only where it sent each prefix last. */
typedef struct job_prefix_slot {
  uint64_t hash; /* 0 = empty (a real hash of 0 is stored as 1) */
  uint32_t instance;
} job_prefix_slot;

struct job_router {
  const job_route_policy *policy;
  uint32_t instances;
  uint32_t next; /* round robin */
  uint32_t ties; /* where the next search for the least loaded starts */
  uint32_t *outstanding_requests;
  uint64_t *outstanding_tokens;
  job_prefix_slot *prefix; /* policies with a prefix index only */
  uint64_t *prefix_blocks; /* index entries per instance: the size of its approximate tree */
  bool *closed;      /* [instances]: accepts no new work; NULL until one is closed (all accept) */
  uint64_t *weight;  /* [instances], weighted policies only: job_router_set_weight's, default 1 */
  int64_t *credit;   /* [instances], weighted policies only: smooth weighted round robin's */
  const bool *among; /* [instances]: during job_router_pick_among only, the candidates; else NULL */
  size_t prefix_mask;
};

struct job_route_policy {
  const char *name;  /* as in scenario files */
  bool prefix_index; /* the router keeps a prefix index for it */
  bool oblivious;    /* it picks without reading load (job_route_policy_oblivious) */
  bool weighted;     /* the router keeps each instance's weight and credit for it */
  /* The instance in [first, first + count) for req; the router then counts it outstanding. */
  uint32_t (*pick)(job_router *r, const job_route_request *req, core_rng *rng, uint32_t first,
                   uint32_t count);
};

static inline bool job_route_accepts(const job_router *r, uint32_t instance) {
  return (!r->closed || !r->closed[instance]) && (!r->among || r->among[instance]);
}

/* The table, and its length. */
extern const job_route_policy job_route_policies[];
extern const size_t job_route_policy_count;

#endif
