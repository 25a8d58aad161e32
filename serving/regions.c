/* Regions: which pods each region holds, where a request originates, the latency between a front
 * door and a region, and the global routing policies (nearest, least-loaded, spillover) over what
 * the front door knows: its own sends, and the load reports that reach it after the inter-region
 * latency. No front door peeks at another region's state. */
#include <stdio.h>
#include <stdlib.h>

#include "serving/model.h"

/* The counter-based stream of request origins: far from any LP id and from the synthetic
 * workload's streams (JOB_SYNTH_STREAM_DEFAULT .. + 2). */
#define ORIGIN_STREAM 0xFFFFFE00u

uint32_t srv_request_origin(const srv_scenario *s, int64_t id) {
  const srv_regions *r = &s->regions;
  core_rng rng;
  core_rng_init(&rng, s->simulation.seed, ORIGIN_STREAM);
  rng.counter = (uint64_t)id;
  double total = 0;
  for (uint32_t i = 0; i < r->count; i++)
    total += r->list[i].share;
  double u = core_rng_uniform(&rng) * total, sum = 0;
  uint32_t last = 0;
  for (uint32_t i = 0; i < r->count; i++) {
    if (r->list[i].share <= 0)
      continue;
    sum += r->list[i].share;
    last = i;
    if (u < sum)
      return i;
  }
  return last; /* rounding: the last region with a share */
}

int64_t srv_region_hop_ns(const srv_model *m, uint32_t from, uint32_t to) {
  return m->s->router.pods.latency_ns + m->s->regions.list[from].latency_ns[to];
}

int64_t srv_pod_hop_ns(const srv_model *m, uint32_t from, uint32_t pod) {
  return m->regions ? srv_region_hop_ns(m, from, m->pod_region[pod]) : m->s->router.pods.latency_ns;
}

int64_t srv_controller_hop_ns(const srv_model *m, uint32_t instance) {
  int64_t dispatch_ns = m->s->router.dispatch_latency_ns;
  return m->pods ? srv_pod_hop_ns(m, 0, m->instance_pod[instance]) + dispatch_ns : dispatch_ns;
}

const bool *srv_region_takes(const srv_model *m, const srv_router *r, uint32_t g, uint32_t model) {
  return model ? &r->pod_takes[(size_t)(model - 1) * m->pods + m->region_pod_first[g]] : NULL;
}

/* Whether region g has a pod that accepts work (of model `model`, 0: any), as front door r last
 * heard (EV_POD_STATE). */
static bool region_open(const srv_model *m, const srv_router *r, uint32_t g, uint32_t model) {
  const bool *takes = srv_region_takes(m, r, g, model);
  for (uint32_t k = 0; k < m->region_pod_count[g]; k++)
    if (job_router_accepting(r->region_pick[g], k) && (!takes || takes[k]))
      return true;
  return false;
}

/* Outstanding requests per request-taking instance of region g, as front door r knows them. */
static double region_load(const srv_model *m, const srv_router *r, uint32_t g) {
  double sum = 0;
  for (uint32_t k = 0; k < m->region_pod_count[g]; k++) {
    uint32_t pod = m->region_pods[m->region_pod_first[g] + k];
    sum += (double)r->reported[pod] + (double)r->sent_since[pod];
  }
  return sum / m->region_takers[g];
}

/* The least loaded open region; ties go to the nearest, then the lowest index. UINT32_MAX: none is
 * open. */
static uint32_t least_loaded(const srv_model *m, const srv_router *r, uint32_t model) {
  const srv_region *home = &m->s->regions.list[r->region];
  uint32_t best = region_open(m, r, r->region, model) ? r->region : UINT32_MAX;
  double best_load = best != UINT32_MAX ? region_load(m, r, best) : 0;
  for (uint32_t g = 0; g < m->regions; g++) {
    if (!region_open(m, r, g, model))
      continue;
    double load = region_load(m, r, g);
    if (best == UINT32_MAX || load < best_load ||
        (load == best_load && home->latency_ns[g] < home->latency_ns[best])) {
      best = g;
      best_load = load;
    }
  }
  return best;
}

/* The nearest open region (ties: the lowest index), UINT32_MAX when none is. */
static uint32_t nearest_open(const srv_model *m, const srv_router *r, uint32_t model) {
  const srv_region *home = &m->s->regions.list[r->region];
  if (region_open(m, r, r->region, model))
    return r->region;
  uint32_t best = UINT32_MAX;
  for (uint32_t g = 0; g < m->regions; g++)
    if (region_open(m, r, g, model) &&
        (best == UINT32_MAX || home->latency_ns[g] < home->latency_ns[best]))
      best = g;
  return best;
}

/* Every policy picks among open regions only (those with a pod that has an instance accepting
 * work, of the request's model when it names one, as the front door last heard): with every
 * instance serving, all of them (that hold the model). The loads are the regions' own, over all
 * their instances, whatever the model. */
uint32_t srv_pick_region(const srv_model *m, const srv_router *r, uint32_t model) {
  const srv_regions *regions = &m->s->regions;
  switch (regions->policy) {
  case SRV_REGION_NEAREST: return nearest_open(m, r, model);
  case SRV_REGION_LEAST_LOADED: return least_loaded(m, r, model);
  case SRV_REGION_SPILLOVER: break;
  }
  if (region_open(m, r, r->region, model) && region_load(m, r, r->region) <= regions->spillover)
    return r->region;
  /* Home is past the threshold (or closed): the nearest open region below it, else the least
   * loaded. */
  const srv_region *home = &regions->list[r->region];
  uint32_t best = UINT32_MAX;
  for (uint32_t g = 0; g < m->regions; g++)
    if (g != r->region && region_open(m, r, g, model) &&
        region_load(m, r, g) <= regions->spillover &&
        (best == UINT32_MAX || home->latency_ns[g] < home->latency_ns[best]))
      best = g;
  return best != UINT32_MAX ? best : least_loaded(m, r, model);
}

int srv_regions_check(const srv_scenario *s, const srv_cluster *c, char *err, size_t err_len) {
  bool takes[SRV_MAX_REGIONS] = {false};
  uint32_t instance = 0; /* instances are numbered through the deployments in order */
  for (size_t d = 0; d < s->deployment_count; d++)
    for (uint32_t k = 0; k < s->deployments[d].count; k++, instance++) {
      uint32_t node = c->accel_node[c->accel_ids[c->accel_offsets[instance]]];
      if (s->deployments[d].role != SRV_ROLE_DECODE)
        takes[s->nodes[c->node_group[node]].region] = true;
    }
  for (uint32_t g = 0; g < s->regions.count; g++)
    if (!takes[g]) {
      snprintf(err, err_len,
               "regions: region '%s' has no instance that takes requests; deploy a model on its "
               "node types",
               s->regions.list[g].name);
      return -1;
    }
  return 0;
}

int srv_regions_build(srv_model *m, char *err, size_t err_len) {
  const srv_regions *regions = &m->s->regions;
  m->regions = regions->count;
  if (!m->regions)
    return 0;
  if (srv_regions_check(m->s, &m->cluster, err, err_len) != 0)
    return -1;
  uint32_t pods = m->pods, n = m->regions;
  m->region_pods = malloc((pods ? pods : 1) * sizeof *m->region_pods);
  m->region_pod_first = calloc(n + 1, sizeof *m->region_pod_first);
  m->region_pod_count = calloc(n, sizeof *m->region_pod_count);
  m->pod_region = malloc((pods ? pods : 1) * sizeof *m->pod_region);
  m->pod_region_slot = malloc((pods ? pods : 1) * sizeof *m->pod_region_slot);
  m->region_takers = calloc(n, sizeof *m->region_takers);
  if (!m->region_pods || !m->region_pod_first || !m->region_pod_count || !m->pod_region ||
      !m->pod_region_slot || !m->region_takers) {
    snprintf(err, err_len, "out of memory for %u regions", n);
    return -1;
  }
  /* A pod's nodes are of one node type, so of one region: its first request-taking instance's. */
  for (uint32_t p = 0; p < pods; p++) {
    uint32_t node = srv_instance_node(m, m->pools[p].instance[0][0]);
    uint32_t g = m->s->nodes[m->cluster.node_group[node]].region;
    m->pod_region[p] = g;
    m->pod_region_slot[p] = m->region_pod_count[g]++;
    m->region_takers[g] += m->pools[p].size[0];
  }
  for (uint32_t g = 0; g < n; g++)
    m->region_pod_first[g + 1] = m->region_pod_first[g] + m->region_pod_count[g];
  for (uint32_t p = 0; p < pods; p++)
    m->region_pods[m->region_pod_first[m->pod_region[p]] + m->pod_region_slot[p]] = p;
  return 0;
}

void srv_regions_free(srv_model *m) {
  free(m->region_pods);
  free(m->region_pod_first);
  free(m->region_pod_count);
  free(m->pod_region);
  free(m->pod_region_slot);
  free(m->region_takers);
}
