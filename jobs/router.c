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
bool job_route_policy_oblivious(const job_route_policy *policy) { return policy->oblivious; }
bool job_route_policy_weighted(const job_route_policy *policy) { return policy->weighted; }

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
  if (policy->weighted) {
    r->weight = malloc(instances * sizeof *r->weight);
    r->credit = calloc(instances, sizeof *r->credit);
    if (!r->weight || !r->credit)
      goto oom;
    for (uint32_t i = 0; i < instances; i++)
      r->weight[i] = 1;
  }
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
  free(r->weight);
  free(r->credit);
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

uint32_t job_router_pick_among(job_router *r, const job_route_request *req, core_rng *rng,
                               const bool *among) {
  r->among = among;
  uint32_t pick = job_router_pick(r, req, rng);
  r->among = NULL;
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

void job_router_set_weight(job_router *r, uint32_t instance, uint64_t weight) {
  assert(instance < r->instances && weight >= 1);
  if (r->weight)
    r->weight[instance] = weight;
}

bool job_router_accepting(const job_router *r, uint32_t instance) {
  return job_route_accepts(r, instance);
}

void job_router_save(const job_router *r, core_pack *out) {
  uint64_t prefix_slots = r->prefix ? r->prefix_mask + 1 : 0, used = 0;
  CORE_PACK(out, r->instances);
  CORE_PACK(out, prefix_slots);
  CORE_PACK(out, r->next);
  CORE_PACK(out, r->ties);
  core_pack_bytes(out, r->outstanding_requests, r->instances * sizeof *r->outstanding_requests);
  core_pack_bytes(out, r->outstanding_tokens, r->instances * sizeof *r->outstanding_tokens);
  core_pack_array(out, r->closed, r->closed ? r->instances : 0, sizeof *r->closed);
  if (r->credit)
    core_pack_bytes(out, r->credit, r->instances * sizeof *r->credit);
  if (!r->prefix)
    return;
  core_pack_bytes(out, r->prefix_blocks, r->instances * sizeof *r->prefix_blocks);
  for (uint64_t i = 0; i < prefix_slots; i++)
    used += r->prefix[i].hash != 0;
  CORE_PACK(out, used);
  for (uint64_t i = 0; i < prefix_slots; i++)
    if (r->prefix[i].hash) {
      CORE_PACK(out, i);
      CORE_PACK(out, r->prefix[i].hash);
      CORE_PACK(out, r->prefix[i].instance);
    }
}

int job_router_load(job_router *r, core_unpack *in) {
  uint32_t instances;
  uint64_t prefix_slots, used = 0;
  size_t closed;
  CORE_UNPACK(in, instances);
  CORE_UNPACK(in, prefix_slots);
  CORE_UNPACK(in, r->next);
  CORE_UNPACK(in, r->ties);
  if (in->failed || instances != r->instances ||
      prefix_slots != (r->prefix ? r->prefix_mask + 1 : 0))
    return -1;
  core_unpack_bytes(in, r->outstanding_requests, instances * sizeof *r->outstanding_requests);
  core_unpack_bytes(in, r->outstanding_tokens, instances * sizeof *r->outstanding_tokens);
  free(r->closed);
  r->closed = core_unpack_array(in, sizeof *r->closed, instances, &closed);
  if (in->failed || (closed != 0 && closed != instances) || r->next >= instances)
    return -1;
  for (uint32_t i = 0; i < closed; i++)
    if (((const unsigned char *)r->closed)[i] > 1) /* not a bool */
      return -1;
  if (r->credit)
    core_unpack_bytes(in, r->credit, instances * sizeof *r->credit);
  if (in->failed)
    return -1;
  if (!r->prefix)
    return 0;
  core_unpack_bytes(in, r->prefix_blocks, instances * sizeof *r->prefix_blocks);
  CORE_UNPACK(in, used);
  for (uint64_t k = 0; k < used && !in->failed; k++) {
    uint64_t i;
    job_prefix_slot slot;
    CORE_UNPACK(in, i);
    CORE_UNPACK(in, slot.hash);
    CORE_UNPACK(in, slot.instance);
    if (i >= prefix_slots || slot.hash == 0 || slot.instance >= instances || r->prefix[i].hash)
      return -1;
    r->prefix[i] = slot;
  }
  return in->failed ? -1 : 0;
}
