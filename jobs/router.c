/* The router's view of its instances (outstanding requests and tokens, the prefix index) and the
 * bookkeeping around each policy's pick. */
#include "jobs/router.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/route_policy.h"

enum { DEFAULT_PREFIX_ENTRIES = 1 << 20 };

const job_route_policy *job_route_policy_find(const char *name) {
  for (size_t i = 0; i < job_route_policy_count; i++)
    if (strcmp(name, job_route_policies[i].name) == 0)
      return &job_route_policies[i];
  return NULL;
}

const job_route_policy *job_route_policy_at(size_t i) {
  return i < job_route_policy_count ? &job_route_policies[i] : NULL;
}

const char *job_route_policy_name(const job_route_policy *policy) { return policy->name; }
bool job_route_policy_uses_prefixes(const job_route_policy *policy) { return policy->prefix_index; }

job_router *job_router_create(const job_route_policy *policy, uint32_t instances,
                              size_t prefix_entries, char *err, size_t err_len) {
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
  if (policy->prefix_index) {
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
  free(r->closed);
  free(r);
}

uint32_t job_router_pick(job_router *r, const job_route_request *req, core_rng *rng) {
  return job_router_pick_range(r, req, rng, 0, r->instances);
}

uint32_t job_router_pick_range(job_router *r, const job_route_request *req, core_rng *rng,
                               uint32_t first, uint32_t count) {
  assert(count > 0 && first + count <= r->instances);
  uint32_t pick = r->policy->pick(r, req, rng, first, count);
  if (pick == JOB_ROUTE_NONE)
    return pick;
  assert(pick >= first && pick < first + count && job_route_accepts(r, pick));
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

int job_router_set_accepting(job_router *r, uint32_t instance, bool accepting) {
  assert(instance < r->instances);
  if (!r->closed && accepting)
    return 0;
  if (!r->closed && !(r->closed = calloc(r->instances, sizeof *r->closed)))
    return -1;
  r->closed[instance] = !accepting;
  return 0;
}

bool job_router_accepting(const job_router *r, uint32_t instance) {
  return job_route_accepts(r, instance);
}
