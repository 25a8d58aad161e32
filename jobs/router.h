/* Request routing: which instance serves the next request. Pure logic over the router's own view
 * of its instances (what it dispatched and what came back), as a real front-end router sees them.
 * The policies are rows of one table (jobs/route_policies.c): a new policy is added there alone. */
#ifndef JOB_ROUTER_H
#define JOB_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pack.h"
#include "core/rng.h"

/* A routing policy: a row of the policy table, found by name. */
typedef struct job_route_policy job_route_policy;

/* The policy called name in scenario files (round_robin, least_requests, ...), or NULL. */
const job_route_policy *job_route_policy_find(const char *name);
/* The i-th policy of the table, NULL past the last: for listing them. */
const job_route_policy *job_route_policy_at(size_t i);
const char *job_route_policy_name(const job_route_policy *policy);
/* Whether the policy routes by the prompt's cached prefix (it keeps a prefix index). */
bool job_route_policy_uses_prefixes(const job_route_policy *policy);
/* Whether the policy picks without reading load (round robin, weighted or not): a router using it
 * needs no completions, and routers replaying the same requests pick alike. */
bool job_route_policy_oblivious(const job_route_policy *policy);
/* Whether the policy spreads requests by each instance's weight (job_router_set_weight). */
bool job_route_policy_weighted(const job_route_policy *policy);

typedef struct job_router job_router;

typedef struct job_route_request {
  uint32_t input_tokens, output_tokens;
  const uint64_t *block_hashes; /* prompt prefix block hashes (may be NULL) */
  uint32_t block_count;
} job_route_request;

/* prefix_entries bounds the prefix index (block hash -> instance) of policies that keep one; 0
 * picks a default. */
job_router *job_router_create(const job_route_policy *policy, uint32_t instances,
                              size_t prefix_entries, char *err, size_t err_len);
void job_router_destroy(job_router *r);

/* What a pick returns when no instance of its range accepts work. */
#define JOB_ROUTE_NONE UINT32_MAX

/* Chooses an instance for req and records it as outstanding there. rng is the router LP's stream.
 * Only instances that accept work are chosen (all of them unless job_router_set_accepting said
 * otherwise); JOB_ROUTE_NONE when none of the range does. */
uint32_t job_router_pick(job_router *r, const job_route_request *req, core_rng *rng);
/* The same, among instances [first, first + count) only (count > 0); the prefix policy, whose index
 * spans every instance, picks the least loaded of them. */
uint32_t job_router_pick_range(job_router *r, const job_route_request *req, core_rng *rng,
                               uint32_t first, uint32_t count);
/* The same, among the instances whose among[instance] is true only (among: [instances], borrowed
 * for the call): the policy sees them as if the others accepted no work. */
uint32_t job_router_pick_among(job_router *r, const job_route_request *req, core_rng *rng,
                               const bool *among);
/* A request dispatched to instance finished (or left it): it is no longer outstanding there. */
void job_router_completed(job_router *r, uint32_t instance, const job_route_request *req);

uint32_t job_router_outstanding(const job_router *r, uint32_t instance);

/* A weighted policy's share for instance (weight >= 1; every instance starts at 1): it gets
 * weight / (the accepting instances' weights) of the picks. Ignored by other policies. */
void job_router_set_weight(job_router *r, uint32_t instance, uint64_t weight);

/* Instance lifecycle (serving/lifecycle.c): whether an instance accepts new work. Every instance
 * does from creation; one that is off, starting, or draining does not, and no policy picks it
 * (its outstanding requests still complete). Returns 0, or -1 out of memory. */
int job_router_set_accepting(job_router *r, uint32_t instance, bool accepting);
bool job_router_accepting(const job_router *r, uint32_t instance);

/* Checkpoints: outstanding counts and tokens, the round-robin and tie positions, closed instances,
 * a weighted policy's credits (its weights are set again at creation) and the prefix index's used
 * slots. Load into a router made by job_router_create with the same
 * policy, instances and prefix entries; returns 0, or -1 for data that does not fit it (the router
 * is then only fit for job_router_destroy). */
void job_router_save(const job_router *r, core_pack *out);
int job_router_load(job_router *r, core_unpack *in);

#endif
