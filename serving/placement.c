/* Placement of the serving model: its units (serving/cluster.c) and the router as a graph for
 * partitions/, with the events each is expected to handle per simulated second and the channels
 * between them, placed by the scenario's strategy; the plan's partitions mapped back to the
 * instances, nodes and links.
 *
 * Expected work, from the workload's rate and mean lengths and the cost model: an instance of a
 * pool of n receives lambda / n requests per second; each keeps it iterating for its output tokens
 * (one for a prefill instance), so by Little's law it holds N = rate x tokens x t(N) requests, t(N)
 * the iteration time at a batch of N decoding sequences (three fixed-point steps, N at most
 * max_num_seqs). It is busy 1 - exp(-N) of the time (N Poisson), iterating 1 / t(N) times a second
 * then; each request adds a few events (dispatch, completion, the KV hand-off and its chunks). The
 * router handles an arrival and a completion per request. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/model.h"

/* Events a request costs besides iterations: at its instance (dispatch, completion), and in a
 * hand-off (ready, pull, release, flows landing). */
static const double request_events = 2.0, hand_off_events = 4.0;

/* An instance's iteration time decoding `seqs` sequences of `context` tokens each, in s. */
static double decode_iteration_s(const hw_deploy *d, double seqs, double context) {
  uint32_t n = seqs < 1 ? 1 : (uint32_t)ceil(seqs);
  hw_batch b = {.decode_seqs = n, .decode_ctx_tokens = (uint64_t)(n * context)};
  hw_breakdown cost;
  int64_t ns = hw_iteration_ns(d, &b, &cost);
  return (double)(ns > 0 ? ns : 1) * 1e-9;
}

uint64_t srv_pod_capacity(const srv_model *m, uint32_t pod) {
  uint64_t w = 0;
  for (uint32_t slot = 0; slot < m->pools[pod].size[0]; slot++)
    w += m->capacity[m->instance_deployment[m->pools[pod].instance[0][slot]]];
  return w ? w : 1;
}

int srv_capacities(srv_model *m) {
  size_t deployments = m->s->deployment_count;
  if (!(m->capacity = malloc((deployments ? deployments : 1) * sizeof *m->capacity)))
    return -1;
  double n = (double)(m->workload_requests ? m->workload_requests : 1);
  double context = (m->workload.input_tokens + m->workload.output_tokens / 2.0) / n;
  for (size_t d = 0; d < deployments; d++) {
    const job_sched_config *sc = &m->s->deployments[d].sched;
    double kv_tokens = (double)sc->total_kv_blocks *
                       (sc->block_size_tokens ? sc->block_size_tokens : 16);
    double seqs = sc->max_num_seqs ? sc->max_num_seqs : 256;
    if (context > 0 && kv_tokens / context < seqs)
      seqs = floor(kv_tokens / context);
    seqs = seqs < 1 ? 1 : seqs;
    long long tokens_per_s = llround(seqs / decode_iteration_s(&m->deploys[d], seqs, context));
    m->capacity[d] = tokens_per_s > 1 ? (uint64_t)tokens_per_s : 1;
  }
  return 0;
}

/* The work of one instance receiving `rate` requests a second, each iterating `tokens` times: its
 * events per second, an iteration counting 1 + N / 2 events, N the sequences it holds (an
 * iteration handles each of them: tests/bench/parallel measured 0.33 us per event on B200s holding
 * fewer than one sequence on average and 0.51 us on TPU v6e holding two, at the same load). */
static double instance_work(const hw_deploy *d, const srv_deployment *dep, double rate,
                            double tokens, double context) {
  uint32_t cap = dep->sched.max_num_seqs ? dep->sched.max_num_seqs : 256;
  double seqs = 1, held = 0;
  for (int step = 0; step < 3; step++) {
    held = rate * tokens * decode_iteration_s(d, seqs, context); /* Little's law */
    seqs = held < 1 ? 1 : (held > cap ? cap : held);
  }
  double t = decode_iteration_s(d, seqs, context);
  double busy = -expm1(-rate * tokens * t);
  return busy / t * (1 + (held > cap ? cap : held) / 2) + request_events * rate;
}

/* The least latency of a chunk leaving one unit for another: over a spine uplink. */
static int64_t spine_latency_ns(const net_topology *t) {
  int64_t least = CORE_TIME_NEVER;
  for (uint32_t l = 0; t && l < net_link_count(t); l++) {
    const net_link *link = net_link_at(t, l);
    if (link->kind == NET_LINK_SPINE_UP && link->latency_ns < least)
      least = link->latency_ns;
  }
  return least;
}

/* The unit of region r's front door: its first pod's. */
static uint32_t front_door_unit(const srv_model *m, uint32_t region) {
  uint32_t pod = m->region_pods[m->region_pod_first[region]];
  return m->cluster.instance_unit[m->pools[pod].instance[0][0]];
}

/* Regions: each region's units are one domain (what the topology strategy keeps whole), each front
 * door is in its region's first pod's unit, and every front door has a channel to every pod and
 * back (requests and completions, and the load reports) at the inter-region latency, which is
 * what lets regions on different partitions run long windows. Traffic: all at home with nearest,
 * spread over the pods otherwise. */
static int add_regions(const srv_model *m, part_graph *g, double rate) {
  const srv_scenario *s = m->s;
  const srv_cluster *c = &m->cluster;
  double shares = 0;
  for (uint32_t r = 0; r < m->regions; r++)
    shares += s->regions.list[r].share;
  for (uint32_t i = 0; i < m->instances; i++)
    g->domain[c->instance_unit[i]] = front_door_unit(m, m->pod_region[m->instance_pod[i]]);
  double reports_per_s = s->regions.policy == SRV_REGION_NEAREST
                             ? 0
                             : 1e9 / (double)s->regions.report_interval_ns;
  int rc = 0;
  for (uint32_t o = 0; o < m->regions; o++) {
    uint32_t door = front_door_unit(m, o);
    double origin_rate = rate * s->regions.list[o].share / shares;
    g->work[door] += 2.0 * origin_rate + reports_per_s * m->pods;
    for (uint32_t p = 0; p < m->pods && rc == 0; p++) {
      uint32_t u = c->instance_unit[m->pools[p].instance[0][0]], home = m->pod_region[p];
      double to_pod = s->regions.policy == SRV_REGION_NEAREST
                          ? (home == o ? origin_rate / m->region_pod_count[home] : 0)
                          : origin_rate / m->pods;
      if (o == 0)
        g->work[u] += reports_per_s * m->regions;
      g->work[u] += 2.0 * to_pod;
      rc |= part_graph_add_channel(g, door, u, srv_region_hop_ns(m, o, home), to_pod,
                                   "front door to region");
      rc |= part_graph_add_channel(g, u, door, srv_region_hop_ns(m, home, o),
                                   to_pod + reports_per_s, "region to front door");
    }
  }
  return rc;
}

/* The graph: units 0..units-1 are the cluster's, unit `units` the router (the global router with
 * pods; each pod router is in its pod's unit) and the autoscaling controller. */
static int build_graph(const srv_model *m, part_graph *g) {
  const srv_cluster *c = &m->cluster;
  const srv_scenario *s = m->s;
  uint32_t router = c->units;
  if (part_graph_init(g, c->units + 1) != 0)
    return -1;
  double n = (double)(m->workload_requests ? m->workload_requests : 1);
  double span_s = (double)(m->workload.last_arrival_ns - m->workload.first_arrival_ns) * 1e-9;
  double rate = m->workload_requests > 1 && span_s > 0 ? (double)(m->workload_requests - 1) / span_s
                                                       : 1.0;
  double input = m->workload.input_tokens / n, output = m->workload.output_tokens / n;
  double context = input + output / 2;
  /* a transfer's chunks, each crossing about four links, for the prefill side's unit */
  double chunks = s->disaggregated
                      ? 4.0 * ceil(input * hw_kv_bytes_per_token(&m->deploys[0]) /
                                   (double)(s->network.chunk_bytes ? s->network.chunk_bytes : 1))
                      : 0.0;
  int64_t dispatch_ns = s->router.dispatch_latency_ns;
  int64_t kv_ns = spine_latency_ns(c->topo);
  kv_ns = dispatch_ns < kv_ns ? dispatch_ns : kv_ns;
  /* an arrival and a completion per request; replicated, arrivals alone, on every partition (the
   * graph has it once) */
  g->work[router] = (m->router_replicated ? 1.0 : 2.0) * rate;
  int64_t pod_ns = s->router.pods.latency_ns;
  /* each pod's share of the requests: by its capacity under a weighted policy over pods, else
   * alike (a load-reading policy evens the load out, round robin the requests) */
  uint32_t shares = m->pods ? m->pods : 1;
  double *pod_rate = malloc(shares * sizeof *pod_rate), weights = 0;
  bool weighted = m->pods && job_route_policy_weighted(s->router.pods.policy);
  for (uint32_t p = 0; pod_rate && p < shares; p++)
    weights += pod_rate[p] = weighted ? (double)srv_pod_capacity(m, p) : 1.0;
  for (uint32_t p = 0; pod_rate && p < shares; p++)
    pod_rate[p] *= rate / weights;
  uint8_t *has = calloc(c->units, 1); /* bit 0: a prefill instance, bit 1: a decode instance */
  if (!has || !pod_rate) {
    free(has), free(pod_rate);
    return -1;
  }
  int rc = 0;
  for (uint32_t i = 0; i < m->instances && rc == 0; i++) {
    const srv_deployment *dep = &s->deployments[m->instance_deployment[i]];
    const hw_deploy *d = &m->deploys[m->instance_deployment[i]];
    bool decode = dep->role == SRV_ROLE_DECODE;
    uint32_t pool = m->pools[m->instance_pod[i]].size[decode];
    double share = pod_rate[m->instance_pod[i]] / (pool ? pool : 1);
    double tokens = dep->role == SRV_ROLE_PREFILL ? 1 : (decode ? output - 1 : output);
    uint32_t u = c->instance_unit[i];
    g->work[u] += instance_work(d, dep, share, tokens > 1 ? tokens : 1, context);
    if (dep->role == SRV_ROLE_PREFILL)
      g->work[u] += share * (hand_off_events + chunks), has[u] |= 1;
    if (decode)
      has[u] |= 2;
    if (m->pods)
      continue; /* its pod router is in its unit */
    rc |= part_graph_add_channel(g, router, u, dispatch_ns, share, "router dispatch");
    rc |= part_graph_add_channel(g, u, router, dispatch_ns, share, "router completion");
    if (s->scaling) { /* the controller, beside the router: starts, and state reports */
      rc |= part_graph_add_channel(g, router, u, dispatch_ns, 0, "controller commands");
      rc |= part_graph_add_channel(g, u, router, dispatch_ns, 0, "lifecycle reports");
    }
  }
  /* Hierarchical routing: the global router and each pod's router (in the pod's unit). */
  for (uint32_t p = 0; p < m->pods && rc == 0 && !m->regions; p++) {
    uint32_t u = c->instance_unit[m->pools[p].instance[0][0]];
    g->work[u] += 2.0 * pod_rate[p];
    if (m->router_replicated)
      continue; /* a copy of it beside every partition: no channel */
    rc |= part_graph_add_channel(g, router, u, pod_ns, pod_rate[p], "global router to pods");
    rc |= part_graph_add_channel(g, u, router, pod_ns, pod_rate[p], "pods to global router");
  }
  if (m->regions && rc == 0) {
    g->work[router] = 0;
    rc = add_regions(m, g, rate);
  }
  /* With pods, the controller (beside the first front door, or the global router) and each
   * instance: starts one way, state reports the other, at the hop between them. Its drains and
   * metrics travel on the front doors' channels to the pods and back. */
  uint32_t controller = m->regions ? front_door_unit(m, 0) : router;
  for (uint32_t i = 0; s->scaling && m->pods && i < m->instances && rc == 0; i++) {
    int64_t hop_ns = srv_controller_hop_ns(m, i);
    rc |= part_graph_add_channel(g, controller, c->instance_unit[i], hop_ns, 0,
                                 "controller commands");
    rc |= part_graph_add_channel(g, c->instance_unit[i], controller, hop_ns, 0,
                                 "lifecycle reports");
  }
  /* The KV hand-off between units holding prefill and decode instances: one channel each way
   * (ready and chunks one way; pull and release the other), at the least of the dispatch and the
   * spine latency. */
  double per_pair = 0;
  uint32_t prefill_units = 0, decode_units = 0;
  for (uint32_t u = 0; u < c->units; u++)
    prefill_units += has[u] & 1, decode_units += (has[u] & 2) >> 1;
  if (prefill_units && decode_units && !m->pods) /* pods keep the hand-off inside */
    per_pair = rate * (hand_off_events + chunks) / ((double)prefill_units * decode_units);
  for (uint32_t a = 0; a < c->units && rc == 0; a++)
    for (uint32_t b = 0; (has[a] & 1) && b < c->units && rc == 0; b++)
      if (a != b && (has[b] & 2)) {
        rc |= part_graph_add_channel(g, a, b, kv_ns, per_pair, "KV hand-off");
        rc |= part_graph_add_channel(g, b, a, kv_ns, per_pair, "KV hand-off");
      }
  free(has), free(pod_rate);
  return rc;
}

/* What a window and an event cost on the machines this runs on: tests/bench/parallel measures
 * them (README, "Parallel runs"): about 0.5 us per serving event with the timeline written, 5 us
 * per window across two ranks (the all-reduce and the exchange), 2 us across two threads. */
static const part_costs serving_costs = {
    .event_s = 0.5e-6, .window_rank_s = 5e-6, .window_thread_s = 2e-6};

int srv_place(srv_model *m, uint32_t ranks, uint32_t threads, part_strategy strategy, char *err,
              size_t err_len) {
  const srv_cluster *c = &m->cluster;
  srv_placement *pl = &m->placement;
  part_graph g;
  if (build_graph(m, &g) != 0) {
    part_graph_free(&g);
    snprintf(err, err_len, "out of memory for the placement graph of %u units", c->units);
    return -1;
  }
  int rc = part_plan_make(&g, ranks, threads, strategy, &serving_costs, &pl->plan, err, err_len);
  part_graph_free(&g);
  if (rc != 0)
    return -1;
  uint32_t links = c->topo ? net_link_count(c->topo) : 0;
  pl->instance_partition = malloc((m->instances ? m->instances : 1) * sizeof(uint32_t));
  pl->node_partition = malloc((c->nodes ? c->nodes : 1) * sizeof(uint32_t));
  pl->link_partition = malloc((links ? links : 1) * sizeof(uint32_t));
  pl->pod_router_partition = malloc((m->pods ? m->pods : 1) * sizeof(uint32_t));
  pl->router_partition = malloc((m->regions ? m->regions : 1) * sizeof(uint32_t));
  if (!pl->router_partition || !pl->instance_partition || !pl->node_partition ||
      !pl->link_partition || !pl->pod_router_partition) {
    snprintf(err, err_len, "out of memory placing %u instances", m->instances);
    return -1;
  }
  const uint32_t *at = pl->plan.unit_partition;
  for (uint32_t r = 0; r < (m->regions ? m->regions : 1); r++)
    pl->router_partition[r] = m->regions ? at[front_door_unit(m, r)] : at[c->units];
  for (uint32_t i = 0; i < m->instances; i++)
    pl->instance_partition[i] = at[c->instance_unit[i]];
  for (uint32_t n = 0; n < c->nodes; n++)
    pl->node_partition[n] = at[c->node_unit[n]];
  for (uint32_t l = 0; l < links; l++)
    pl->link_partition[l] = at[c->link_unit[l]];
  for (uint32_t p = 0; p < m->pods; p++)
    pl->pod_router_partition[p] = at[c->instance_unit[m->pools[p].instance[0][0]]];
  return 0;
}

void srv_placement_free(srv_placement *p) {
  part_plan_free(&p->plan);
  free(p->instance_partition);
  free(p->node_partition);
  free(p->link_partition);
  free(p->pod_router_partition);
  free(p->router_partition);
  *p = (srv_placement){0};
}
