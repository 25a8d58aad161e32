/* The serving simulation, set up and run: the scenario's cluster laid out (cluster.c), its LP kinds
 * (the router, router.c; the instances, instance.c; the network's links, net/link.h) placed on the
 * partitions, the engine run, and the timeline written (output.c).
 *
 * The router replays the workload and dispatches each request to an instance after the dispatch
 * latency. Instances run their schedulers (jobs/sched) iteration by iteration, priced by hw/, and
 * report completions back to the router. Disaggregated scenarios hand each request's KV from a
 * prefill to a decode instance over the links (handoff.c). Every request, iteration, instance and
 * partition becomes a row of the timeline (serving/schema.h).
 *
 * Energy: each instance's devices draw hw/'s iteration power while busy and idle power between
 * iterations; nodes add host power and their unused accelerators' idle power. Energy goes into
 * per-node interval bins exactly, and to requests by their share of each iteration's tokens.
 *
 * KV tiers (memory-expanded nodes): a node type may have a tier (host DRAM or CXL) that the
 * instances whose first accelerator is on such a node share: one job_kv_tier per node, handed to
 * their schedulers. Each iteration's tier traffic (swap-outs and spilled prefix blocks stored,
 * swap-ins and tier prefix hits loaded) is copied before its forward pass, blocking, as vLLM's
 * swap mode and its KV-offloading connectors (and LMCache) load KV before the model runs: the
 * iteration lasts hw_iteration_ns plus, for each direction with traffic, the tier's latency plus
 * bytes / bandwidth, the two directions one after the other; the devices draw idle power during
 * the copies. The instances of a node share the tier's capacity, not its bandwidth (each has its
 * own host link). Only instances on the node reach its tier (not instances over the fabric).
 * Shared state between LPs is safe because every instance of a node is on the node's partition
 * (serving/cluster.c keeps the nodes of one instance, leaf or domain together): that partition
 * processes their events in key order whatever the rank and thread counts. */
#include "serving/serving.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/estimate.h"
#include "serving/model.h"
#include "util/error.h"

/* The deployments each model name of the workload is aimed at (none named: no model routing). */
static int resolve_models(srv_model *m, const job_source *src, char *err, size_t err_len) {
  m->workload_models = job_source_models(src);
  if (!m->workload_models)
    return 0;
  m->model_deployments = calloc((size_t)m->workload_models * m->s->deployment_count, sizeof(bool));
  if (!m->model_deployments) {
    snprintf(err, err_len, "out of memory for the workload's models");
    return -1;
  }
  return srv_workload_models(m->s, src, m->model_deployments, err, err_len);
}

/* One pass over the workload on every rank: how many requests, and their prefix hashes if the trace
 * has them. Rank 0 warns of skipped rows, dropped arrivals and an empty workload. */
static int scan_workload(srv_model *m, MPI_Comm comm, char *err, size_t err_len) {
  const srv_workload *w = &m->s->workload;
  job_source *src;
  int rc = srv_workload_open(w, &src, err, err_len);
  if (rc != 0)
    return -1;
  hash_store *h = &m->hashes;
  request_store *store = &m->requests;
  bool keep = job_source_has_prefix_hashes(src);
  size_t cap_requests = 0, cap_hashes = 0;
  job_request q;
  while ((rc = job_source_next(src, &q, err, err_len)) > 0) {
    if (m->workload_requests++ == 0)
      m->workload.first_arrival_ns = q.arrival_ns;
    m->workload.last_arrival_ns = q.arrival_ns;
    m->workload.input_tokens += (double)q.input_tokens;
    m->workload.output_tokens += (double)q.output_tokens;
    if (m->s->disaggregated) {
      assert((uint64_t)q.id == store->count); /* ids number the workload's requests */
      if (store->count == store->cap) {
        store->cap = store->cap ? 2 * store->cap : 4096;
        int64_t *arrival = realloc(store->arrival_ns, store->cap * sizeof *arrival);
        if (arrival)
          store->arrival_ns = arrival;
        int32_t *input = realloc(store->input_tokens, store->cap * sizeof *input);
        if (input)
          store->input_tokens = input;
        int32_t *output = realloc(store->output_tokens, store->cap * sizeof *output);
        if (output)
          store->output_tokens = output;
        if (!arrival || !input || !output)
          goto oom;
      }
      store->arrival_ns[store->count] = q.arrival_ns;
      store->input_tokens[store->count] = q.input_tokens;
      store->output_tokens[store->count++] = q.output_tokens;
    }
    job_request_attrs none = {0};
    attrs_store *a = &m->attrs;
    if (a->attrs || memcmp(&q.attrs, &none, sizeof none) != 0) {
      /* From the first request with attributes on (ids number the workload's requests); those
       * before it keep the defaults. */
      if ((uint64_t)q.id >= a->cap) {
        uint64_t cap = a->cap ? 2 * a->cap : 4096;
        while (cap <= (uint64_t)q.id)
          cap *= 2;
        job_request_attrs *grown = realloc(a->attrs, cap * sizeof *grown);
        if (!grown)
          goto oom;
        memset(grown + a->cap, 0, (cap - a->cap) * sizeof *grown);
        a->attrs = grown, a->cap = cap;
      }
      a->attrs[q.id] = q.attrs;
      a->count = (uint64_t)q.id + 1;
    }
    if (!keep)
      continue;
    if (h->requests + 2 > cap_requests) {
      cap_requests = cap_requests ? 2 * cap_requests : 4096;
      uint64_t *offsets = realloc(h->offsets, cap_requests * sizeof *offsets);
      if (!offsets)
        goto oom;
      if (!h->offsets)
        offsets[0] = 0;
      h->offsets = offsets;
    }
    uint64_t used = h->offsets[h->requests];
    while (used + q.prefix_hash_count > cap_hashes)
      cap_hashes = cap_hashes ? 2 * cap_hashes : 65536;
    uint64_t *hashes = realloc(h->hashes, cap_hashes * sizeof *hashes);
    if (!hashes)
      goto oom;
    h->hashes = hashes;
    if (q.prefix_hash_count) /* a row without hash_ids has no array (memcpy(NULL, 0) is UB) */
      memcpy(h->hashes + used, q.prefix_hashes, q.prefix_hash_count * sizeof *q.prefix_hashes);
    h->offsets[++h->requests] = used + q.prefix_hash_count;
  }
  if (rc >= 0 && resolve_models(m, src, err, err_len) != 0) {
    job_source_close(src);
    return -1;
  }
  m->workload.skipped_rows = job_source_bad_rows(src);
  m->workload.dropped_arrivals = job_source_dropped_arrivals(src);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rc >= 0 && rank == 0)
    srv_workload_warn(m->s, m->workload_requests, m->workload.skipped_rows,
                      m->workload.dropped_arrivals, job_source_first_bad_row(src), stderr);
  job_source_close(src);
  return rc < 0 ? -1 : 0;
oom:
  job_source_close(src);
  snprintf(err, err_len, "out of memory reading the workload");
  return -1;
}

/* An instance's place in the routers' pools: sorted by router, role, rack and index. */
typedef struct pool_key {
  uint32_t router, decode, route, rack, instance;
} pool_key;

static int cmp_pool_key(const void *a, const void *b) {
  const pool_key *x = a, *y = b;
  if (x->router != y->router)
    return (x->router > y->router) - (x->router < y->router);
  if (x->decode != y->decode)
    return (x->decode > y->decode) - (x->decode < y->decode);
  if (x->route != y->route)
    return (x->route > y->route) - (x->route < y->route);
  if (x->rack != y->rack)
    return (x->rack > y->rack) - (x->rack < y->rack);
  return (x->instance > y->instance) - (x->instance < y->instance);
}

/* With model routing, where a deployment's instances go in its pool: its model's deployments
 * together (ordered by the first of them), then by deployment; 0 for all without. */
static uint32_t route_key(const srv_model *m, uint32_t d) {
  if (!m->model_deployments)
    return 0;
  uint32_t first = 0;
  while (m->s->deployments[first].model != m->s->deployments[d].model)
    first++;
  return first * (uint32_t)m->s->deployment_count + d;
}

/* Each model name's run of slots in each pool of each router. With pods, a pod that takes requests
 * of a model in a disaggregated cluster needs a decode instance of it as well. */
static int model_ranges(srv_model *m, char *err, size_t err_len) {
  if (!m->model_deployments)
    return 0;
  size_t deps = m->s->deployment_count;
  for (uint32_t r = 0; r < (m->pods ? m->pods : 1); r++) {
    srv_pools *p = &m->pools[r];
    for (int pool = 0; pool < 2; pool++) {
      p->model_first[pool] = calloc(m->workload_models + 1, sizeof *p->model_first[pool]);
      p->model_count[pool] = calloc(m->workload_models + 1, sizeof *p->model_count[pool]);
      if (!p->model_first[pool] || !p->model_count[pool]) {
        snprintf(err, err_len, "out of memory for the routers' model ranges");
        return -1;
      }
      p->model_count[pool][0] = p->size[pool];
      for (uint32_t k = 1; k <= m->workload_models; k++) {
        const bool *aimed = &m->model_deployments[(k - 1) * deps];
        for (uint32_t slot = 0; slot < p->size[pool]; slot++) {
          if (!aimed[m->instance_deployment[p->instance[pool][slot]]])
            continue;
          if (p->model_count[pool][k]++ == 0)
            p->model_first[pool][k] = slot;
          /* route_key keeps each name's deployments together */
          assert(slot == p->model_first[pool][k] + p->model_count[pool][k] - 1);
        }
      }
    }
    for (uint32_t k = 1; k <= m->workload_models; k++) {
      if (!p->size[1] || !p->model_count[0][k] || p->model_count[1][k])
        continue;
      uint32_t i = p->instance[0][p->model_first[0][k]];
      snprintf(
          err, err_len,
          "router.pods: pod %u takes requests aimed at deployment '%s' (instance %u) but holds "
          "no decode instance that serves them; make pods larger (router.pods.nodes) or place "
          "each model's prefill and decode instances in the same pods",
          m->cluster.node_pod[srv_instance_node(m, i)],
          m->s->deployments[m->instance_deployment[i]].name, i);
      return -1;
    }
  }
  return 0;
}

/* The pools of each router: with router.pods, each pod's instances (the pods that have instances
 * to take requests, numbered in node order), else every instance. Pool 1 is ordered by rack. */
static int build_pools(srv_model *m, char *err, size_t err_len) {
  const srv_cluster *c = &m->cluster;
  uint32_t *compact = NULL; /* cluster pod -> router index + 1, 0: no router */
  pool_key *order = malloc((m->instances ? m->instances : 1) * sizeof *order);
  m->instance_slot = malloc((m->instances ? m->instances : 1) * sizeof *m->instance_slot);
  m->instance_pod = calloc(m->instances ? m->instances : 1, sizeof *m->instance_pod);
  if (c->node_pod && !(compact = calloc(c->pods, sizeof *compact)))
    goto oom;
  if (!order || !m->instance_slot || !m->instance_pod)
    goto oom;
  m->pods = 0;
  for (uint32_t i = 0; c->node_pod && i < m->instances; i++) {
    uint32_t pod = c->node_pod[srv_instance_node(m, i)];
    bool takes = m->s->deployments[m->instance_deployment[i]].role != SRV_ROLE_DECODE;
    if (takes && !compact[pod])
      compact[pod] = ++m->pods;
  }
  uint32_t routers = m->pods ? m->pods : 1;
  if (!(m->pools = calloc(routers, sizeof *m->pools)))
    goto oom;
  for (uint32_t i = 0; i < m->instances; i++) {
    if (!compact)
      continue;
    uint32_t pod = c->node_pod[srv_instance_node(m, i)];
    if (!compact[pod]) {
      snprintf(err, err_len,
               "router.pods: pod %u holds decode instances (instance %u) but none that takes "
               "requests; make pods larger (router.pods.nodes) or mix the roles in each",
               pod, i);
      free(compact), free(order);
      return -1;
    }
    m->instance_pod[i] = compact[pod] - 1;
  }
  free(compact);
  compact = NULL;
  /* Instances by (router, role, rack, index): each router's pools are consecutive runs. */
  for (uint32_t i = 0; i < m->instances; i++) {
    bool decode = m->s->deployments[m->instance_deployment[i]].role == SRV_ROLE_DECODE;
    order[i] = (pool_key){m->instance_pod[i], decode, route_key(m, m->instance_deployment[i]),
                          decode ? srv_instance_rack(m, i) : 0, i};
  }
  qsort(order, m->instances, sizeof *order, cmp_pool_key);
  for (uint32_t k = 0; k < m->instances;) {
    srv_pools *p = &m->pools[order[k].router];
    uint32_t end = k;
    while (end < m->instances && order[end].router == order[k].router)
      end++;
    p->instance[0] = malloc((end - k) * sizeof *p->instance[0]);
    p->instance[1] = malloc((end - k) * sizeof *p->instance[1]);
    p->rack_first = calloc(c->racks, sizeof *p->rack_first);
    p->rack_count = calloc(c->racks, sizeof *p->rack_count);
    if (!p->instance[0] || !p->instance[1] || !p->rack_first || !p->rack_count)
      goto oom;
    for (; k < end; k++) {
      uint32_t i = order[k].instance, pool = order[k].decode;
      m->instance_slot[i] = p->size[pool];
      p->instance[pool][p->size[pool]++] = i;
      if (pool == 1 && p->rack_count[order[k].rack]++ == 0)
        p->rack_first[order[k].rack] = m->instance_slot[i];
    }
  }
  free(order);
  m->route_ns = m->s->router.dispatch_latency_ns + (m->pods ? m->s->router.pods.latency_ns : 0);
  return model_ranges(m, err, err_len);
oom:
  free(compact), free(order);
  snprintf(err, err_len, "out of memory for the routers of %u instances", m->instances);
  return -1;
}

static void free_pools(srv_model *m) {
  for (uint32_t r = 0; m->pools && r < (m->pods ? m->pods : 1); r++) {
    free(m->pools[r].instance[0]);
    free(m->pools[r].instance[1]);
    free(m->pools[r].rack_first);
    free(m->pools[r].rack_count);
    for (int pool = 0; pool < 2; pool++) {
      free(m->pools[r].model_first[pool]);
      free(m->pools[r].model_count[pool]);
    }
  }
  free(m->pools);
  free(m->instance_pod);
  free(m->instance_slot);
}

/* A KV tier for every node whose type has one. The instances using a node's tier (those whose
 * first accelerator is on it) share it without locks or messages: that is deterministic only if
 * they all run on the partition that owns the node, which serving/cluster.c guarantees. */
static int create_tiers(srv_model *m, char *err, size_t err_len) {
  const srv_cluster *c = &m->cluster;
  for (uint32_t n = 0; n < c->nodes; n++) {
    const srv_kv_tier *t = &m->s->nodes[c->node_group[n]].kv_tier;
    if (t->kind != SRV_KV_TIER_NONE &&
        job_kv_tier_create(&m->node_tier[n], (uint64_t)t->capacity_bytes, err, err_len) != 0)
      return -1;
  }
  for (uint32_t i = 0; i < m->instances; i++) {
    uint32_t n = srv_instance_node(m, i);
    bool together = m->placement.instance_partition[i] == m->placement.node_partition[n];
    assert(together || !m->node_tier[n]);
    if (m->node_tier[n] && !together) {
      snprintf(err, err_len,
               "instance %u and node %u's KV tier were placed on different partitions (a bug)", i,
               n);
      return -1;
    }
  }
  return 0;
}

/* Each OpenMP thread on a core of its own, when the rank has enough (core_config.thread_start). */
static void bind_thread(int thread, int threads, void *context) {
  (void)context;
  if (threads > 1)
    part_bind_thread(thread, threads);
}

/* A stopped run: which signal stopped it (the largest number any rank caught; 0: the wall-time
 * limit) and the root attributes that say the timeline is partial. Collective. */
static int write_stop(srv_model *m, const srv_options *opt, MPI_Comm comm, srv_result *result,
                      char *err, size_t err_len) {
  int mine = opt->stop_flag ? (int)*opt->stop_flag : 0;
  MPI_Allreduce(&mine, &result->stop_signal, 1, MPI_INT, MPI_MAX, comm);
  char reason[32];
  switch (result->stop_signal) {
  case 0: snprintf(reason, sizeof reason, "max_wall"); break;
  case SIGTERM: snprintf(reason, sizeof reason, "SIGTERM"); break;
  case SIGINT: snprintf(reason, sizeof reason, "SIGINT"); break;
  case SIGUSR1: snprintf(reason, sizeof reason, "SIGUSR1"); break;
  default: snprintf(reason, sizeof reason, "signal %d", result->stop_signal); break;
  }
  int rc = io_timeline_attr_int64(m->tl, "end_reached_ns", result->end_reached_ns, err, err_len);
  return rc ? rc : io_timeline_attr_string(m->tl, "stop_reason", reason, err, err_len);
}

/* Instance lifecycles (deployments.N.scaling): each deployment's instances, their states at t=0
 * (the first `initial` serving, the next `warm` warm, the rest off) and weight loading time (the
 * instance's weights over the lesser of its storage and network bandwidth). Nothing without
 * scaling: every instance serves throughout. */
static int setup_lifecycle(srv_model *m, char *err, size_t err_len) {
  const srv_scenario *s = m->s;
  if (!s->scaling)
    return 0;
  m->initial_state = malloc(m->instances ? m->instances : 1);
  m->load_ns = calloc(s->deployment_count, sizeof *m->load_ns);
  m->deployment_first = calloc(s->deployment_count + 1, sizeof *m->deployment_first);
  if (!m->initial_state || !m->load_ns || !m->deployment_first)
    return util_err(err, err_len, "out of memory for %u instances' lifecycles", m->instances);
  for (size_t d = 0, i = 0; d < s->deployment_count; d++) {
    const srv_deployment *dep = &s->deployments[d];
    const srv_scaling *sc = &dep->scaling;
    m->deployment_first[d] = (uint32_t)i;
    for (uint32_t k = 0; k < dep->count; k++, i++)
      m->initial_state[i] = !sc->enabled || k < sc->initial ? SRV_LC_SERVING
                            : k < sc->initial + sc->warm    ? SRV_LC_WARM
                                                            : SRV_LC_OFF;
    m->deployment_first[d + 1] = (uint32_t)i;
    double bytes = hw_weights_bytes_per_device(&m->deploys[d]) * hw_deploy_stage_devices(&dep->hw) *
                   (dep->hw.pp ? dep->hw.pp : 1);
    double bytes_per_s = sc->storage_bytes_per_s;
    if (sc->network_bytes_per_s > 0 && sc->network_bytes_per_s < bytes_per_s)
      bytes_per_s = sc->network_bytes_per_s;
    m->load_ns[d] = sc->enabled ? (int64_t)ceil(bytes / bytes_per_s * 1e9) : 0;
  }
  return 0;
}

/* Whether rc is 0 on every rank; a rank where it is but not elsewhere says so in err. */
static bool all_ranks_ok(int rc, MPI_Comm comm, const char *what, char *err, size_t err_len) {
  int mine = rc == 0, all;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm);
  if (mine && !all)
    snprintf(err, err_len, "%s failed on another rank", what);
  return all;
}

/* A restart: every rank reads the checkpoint, which must be of this scenario and seed (the caller
 * says which difference; this is the last guard). */
static int read_restart(srv_restart *r, const srv_scenario *s, const char *dir, MPI_Comm comm,
                        char *err, size_t err_len) {
  int rc = srv_restart_read(r, dir, err, err_len);
  if (rc == 0 && (r->header.seed != s->simulation.seed ||
                  strcmp(r->header.resolved_text, s->resolved_text ? s->resolved_text : "") != 0))
    rc = util_err(err, err_len, "checkpoint '%s' is of another scenario or seed", dir);
  return all_ranks_ok(rc, comm, "reading the checkpoint", err, err_len) ? 0 : -1;
}

int srv_run(const srv_scenario *s, const srv_options *opt, MPI_Comm comm, srv_result *result,
            char *err, size_t err_len) {
  double entry_s = MPI_Wtime();
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  srv_model m = {
      .s = s, .instances = srv_scenario_instances(s), .program_version = opt->version, .opt = opt};
  srv_restart restart = {0};
  m.threads = opt->threads > 0 ? opt->threads
                               : (s->simulation.threads > 0 ? s->simulation.threads : 1);
  m.end_ns = s->simulation.end_ns > 0 ? s->simulation.end_ns : INT64_MAX;
  *result = (srv_result){0};
  uint32_t partitions = (uint32_t)ranks * (uint32_t)m.threads;
  m.instance_deployment = malloc(m.instances * sizeof *m.instance_deployment);
  m.deploys = calloc(s->deployment_count, sizeof *m.deploys);
  /* one cache line per thread, so that no two threads' hot fields share one */
  _Static_assert(sizeof *m.appended == 64, "a thread's appended counters fill one cache line");
  m.appended = aligned_alloc(64, (size_t)m.threads * sizeof *m.appended);
  if (m.appended)
    memset(m.appended, 0, (size_t)m.threads * sizeof *m.appended);
  size_t price_caches = s->simulation.price_cache ? (size_t)m.threads * s->deployment_count : 0;
  if (price_caches)
    m.price_caches = calloc(price_caches, sizeof *m.price_caches);
  core_engine *engine = NULL;
  uint32_t *lp_partition = NULL;
  int status = -1;
  if (!m.instance_deployment || !m.deploys || !m.appended || (price_caches && !m.price_caches)) {
    snprintf(err, err_len, "out of memory for %u instances", m.instances);
    goto out;
  }
  for (size_t d = 0, i = 0; d < s->deployment_count; d++) {
    const srv_deployment *dep = &s->deployments[d];
    if (hw_deploy_init(&m.deploys[d], dep->accel, dep->model, &dep->hw, err, err_len) != 0)
      goto out;
    for (uint32_t c = 0; c < dep->count; c++)
      m.instance_deployment[i++] = (uint32_t)d;
  }
  if (opt->restart_path && read_restart(&restart, s, opt->restart_path, comm, err, err_len) != 0)
    goto out;
  m.restarts = opt->restart_path ? restart.header.restarts + 1 : 0;
  if (srv_cluster_build(&m.cluster, s, err, err_len) != 0)
    goto out;
  /* Communication costs measured on the topology (expert-parallel all-to-all, pipeline stages
   * across nodes), from each deployment's first instance: all of them are placed alike. */
  for (size_t d = 0, first = 0; d < s->deployment_count; first += s->deployments[d++].count) {
    const srv_deployment *dep = &s->deployments[d];
    hw_deploy_config cfg = dep->hw;
    srv_cluster_comm(&m.cluster, (uint32_t)first, &cfg);
    bool measured = cfg.alltoall.bytes_per_s > 0.0 || cfg.sendrecv.bytes_per_s > 0.0;
    if (measured && hw_deploy_init(&m.deploys[d], dep->accel, dep->model, &cfg, err, err_len) != 0)
      goto out;
  }
  if (scan_workload(&m, comm, err, err_len) != 0 || build_pools(&m, err, err_len) != 0 ||
      srv_regions_build(&m, err, err_len) != 0 || setup_lifecycle(&m, err, err_len) != 0)
    goto out;
  m.router_replicated = m.pods && srv_scenario_router_replicated(s);
  if (srv_capacities(&m) != 0) {
    snprintf(err, err_len, "out of memory for %zu deployments", s->deployment_count);
    goto out;
  }
  size_t acc_bytes = (m.cluster.nodes + 1) * sizeof *m.node_acc; /* whole cache lines */
  if ((m.node_acc = aligned_alloc(64, acc_bytes)))
    memset(m.node_acc, 0, acc_bytes);
  if (!m.node_acc || !(m.node_binned_ns = calloc(m.cluster.nodes + 1, sizeof *m.node_binned_ns)) ||
      !(m.node_tier = calloc(m.cluster.nodes, sizeof *m.node_tier))) {
    snprintf(err, err_len, "out of memory for %u nodes", m.cluster.nodes);
    goto out;
  }
  /* Refused up front, on every rank alike, rather than killed (or spinning) after hours. */
  srv_estimate estimate;
  srv_estimate_make(s, m.workload_requests,
                    m.hashes.offsets ? m.hashes.offsets[m.hashes.requests] : 0,
                    m.workload.last_arrival_ns, m.cluster.nodes,
                    m.cluster.topo ? net_link_count(m.cluster.topo) : 0, ranks, &estimate);
  if (rank == 0 && (opt->progress || opt->stats))
    srv_estimate_print(&estimate, opt->stats ? stdout : stderr);
  /* One limit for every rank (the smallest machine's), so that all refuse or none does. */
  uint64_t limit = opt->max_memory_bytes ? opt->max_memory_bytes : srv_machine_memory_bytes(),
           least_limit;
  MPI_Allreduce(&limit, &least_limit, 1, MPI_UINT64_T, MPI_MIN, comm);
  if (srv_estimate_check(s, &estimate, least_limit, !opt->max_memory_bytes, err, err_len) != 0)
    goto out;
  uint64_t room = opt->max_timeline_bytes
                      ? opt->max_timeline_bytes
                      : srv_free_disk_bytes(opt->output_path ? opt->output_path : s->output.path),
           least_room;
  MPI_Allreduce(&room, &least_room, 1, MPI_UINT64_T, MPI_MIN, comm);
  if (srv_estimate_check_timeline(s, &estimate, least_room, !opt->max_timeline_bytes, err,
                                  err_len) != 0)
    goto out;
  if (srv_place(&m, (uint32_t)ranks, (uint32_t)m.threads, s->simulation.placement, err, err_len) !=
          0 ||
      create_tiers(&m, err, err_len) != 0)
    goto out;
  if (opt->restart_path && !all_ranks_ok(srv_restart_nodes(&m, &restart, rank, err, err_len), comm,
                                         "restoring the nodes", err, err_len))
    goto out;
  /* The LP kinds, in id order (srv_lp_kind), and each LP's partition. */
  uint32_t links = m.cluster.topo ? net_link_count(m.cluster.topo) : 0;
  const core_lp_kind kinds[SRV_LP_KINDS] = {
      [SRV_LP_ROUTER] = {&srv_router_type, m.regions ? m.regions : 1, &m, m.router_replicated},
      [SRV_LP_POD_ROUTER] = {&srv_pod_router_type, m.pods, &m},
      [SRV_LP_INSTANCE] = {&srv_instance_type, m.instances, &m},
      [SRV_LP_LINK] = {&net_link_lp_type, links, &m.links},
      [SRV_LP_CONTROLLER] = {&srv_controller_type, s->scaling ? 1 : 0, &m},
  };
  if (core_lp_map_init(&m.lps, kinds, SRV_LP_KINDS) != 0 ||
      !(lp_partition = malloc(core_lp_map_lps(&m.lps) * sizeof *lp_partition))) {
    snprintf(err, err_len, "out of memory for %u instances' LPs", m.instances);
    goto out;
  }
  const srv_placement *pl = &m.placement;
  for (uint32_t g = 0; g < (m.regions ? m.regions : 1); g++)
    lp_partition[srv_front_door_lp(&m, g)] = pl->router_partition[g];
  for (uint32_t p = 0; p < m.pods; p++)
    lp_partition[srv_pod_router_lp(&m, p)] = pl->pod_router_partition[p];
  for (uint32_t i = 0; i < m.instances; i++)
    lp_partition[srv_instance_lp(&m, i)] = pl->instance_partition[i];
  for (uint32_t l = 0; l < links; l++)
    lp_partition[core_lp_map_id(&m.lps, SRV_LP_LINK, l)] = pl->link_partition[l];
  if (s->scaling) /* beside the router: they talk a nanosecond apart */
    lp_partition[srv_controller_lp(&m)] = pl->router_partition[0];
  m.links = (net_links){.topo = m.cluster.topo,
                        .first_lp = core_lp_map_id(&m.lps, SRV_LP_LINK, 0),
                        .chunk_bytes = s->network.chunk_bytes,
                        .chunk_kind = EV_CHUNK,
                        .deliver_kind = EV_KV_ARRIVED,
                        .series_interval_ns = s->power.interval_ns};
  if (rank == 0 && (opt->progress || opt->stats))
    part_plan_print(&pl->plan, opt->stats ? stdout : stderr);
  const char *path = opt->output_path ? opt->output_path : s->output.path;
  m.timeline_path = path;
  if (opt->restart_path &&
      !all_ranks_ok(
          rank == 0 ? srv_restart_timeline(opt->restart_path, &restart, path, err, err_len) : 0,
          comm, "copying the checkpoint's timeline", err, err_len))
    goto out;
  if (srv_open_timeline(&m, path, comm, opt->restart_path != NULL, err, err_len) != 0)
    goto out;
  core_config cfg = {
      .lps = &m.lps,
      .lp_partition = lp_partition,
      .threads = m.threads,
      .end_ns = m.end_ns,
      .cuts = pl->plan.cuts,
      .cut_count = pl->plan.cut_count,
      .seed = s->simulation.seed,
      .pending_hint = 64 + 4 * (size_t)core_lp_map_lps(&m.lps) / partitions,
      .context = &m,
      .thread_start = bind_thread,
      .boundary = srv_flush_boundary,
      .progress = opt->progress ? srv_progress : NULL,
      .stop_flag = opt->stop_flag,
      .max_wall_s = opt->max_wall_s,
      .checkpoint_every_ns = opt->checkpoint_path ? opt->checkpoint_every_ns : 0,
      .checkpoint_every_wall_s = opt->checkpoint_path ? opt->checkpoint_every_wall_s : 0,
      .checkpoint_on_stop = opt->checkpoint_path != NULL,
      .checkpoint = opt->checkpoint_path ? srv_checkpoint_write : NULL,
      .restore = opt->restart_path ? restart.engine : NULL,
      .restore_count = opt->restart_path ? (size_t)restart.header.ranks : 0,
  };
  m.power_rows_span_ns = s->power.interval_ns < INT64_MAX / POWER_ROWS_INTERVALS
                             ? POWER_ROWS_INTERVALS * s->power.interval_ns
                             : INT64_MAX;
  /* A restart: no instance accounts energy before the checkpoint's time any more. The power
   * rows' boundaries only decide when rows are written, never what they hold. */
  int64_t from_ns = opt->restart_path ? restart.header.at_ns : 0;
  for (int t = 0; t < m.threads; t++) {
    m.appended[t].energy_ns = from_ns;
    m.appended[t].power_boundary_ns = from_ns < INT64_MAX - m.power_rows_span_ns
                                          ? from_ns + m.power_rows_span_ns
                                          : INT64_MAX;
  }
  if (cfg.max_wall_s > 0) { /* the set-up (reading the workload, placing LPs) counts too */
    double left_s = opt->max_wall_s - (MPI_Wtime() - entry_s);
    cfg.max_wall_s = left_s > 1e-9 ? left_s : 1e-9;
  }
  engine = core_engine_create(&cfg, comm, err, err_len);
  if (!engine)
    goto fail_timeline;
  m.engine = engine;
  double t0 = MPI_Wtime();
  if (core_engine_run(engine) != 0) {
    snprintf(err, err_len, "%s", m.err[0] ? m.err : core_engine_error(engine));
    goto fail_timeline;
  }
  double wall_s = MPI_Wtime() - t0;
  result->stopped = core_engine_stopped(engine, &result->end_reached_ns);
  result->checkpoints = m.checkpoints;
  result->checkpoint_ns = m.checkpoint_ns;
  if (srv_write_results(&m, engine, comm, wall_s, result, err, err_len) != 0 ||
      (m.restarts && io_timeline_attr_int64(m.tl, "restarts", m.restarts, err, err_len) != 0))
    goto fail_timeline;
  if (result->stopped) {
    if (write_stop(&m, opt, comm, result, err, err_len) != 0)
      goto fail_timeline;
  } else if (io_timeline_attr_int64(m.tl, "end_reached_ns",
                                    result->end_reached_ns = result->simulated_ns, err,
                                    err_len) != 0)
    goto fail_timeline;
  if (opt->stats && io_timeline_flush(m.tl, err, err_len) != 0) /* the rest, to count it */
    goto fail_timeline;
  if (opt->stats)
    core_engine_print_stats(engine, stdout);
  if (opt->stats && rank == 0) {
    io_timeline_stats ts = io_timeline_get_stats(m.tl);
    printf(
        "timeline writes: %.1f MB of rows before compression in %u flushes taking %.2f s; "
        "%.1f MB/s mean, %.1f MB/s at the fastest flush\n",
        (double)ts.row_bytes * 1e-6, ts.flushes, ts.write_s,
        ts.write_s > 0 ? (double)ts.row_bytes / ts.write_s * 1e-6 : 0, ts.peak_bytes_per_s * 1e-6);
  }
  if (opt->stats && rank == 0)
    printf("leaps: %llu; %llu of %llu iterations had no event of their own (%.1f%%)\n",
           (unsigned long long)result->leaps, (unsigned long long)result->leapt_iterations,
           (unsigned long long)result->iterations,
           result->iterations
               ? 100.0 * (double)result->leapt_iterations / (double)result->iterations
               : 0.0);
  if (opt->stats && rank == 0) {
    uint64_t looked_up = result->price_hits + result->price_misses;
    printf("price cache: %s; %llu hits, %llu misses (%.1f%% hit), %llu evictions\n",
           s->simulation.price_cache ? "on" : "off", (unsigned long long)result->price_hits,
           (unsigned long long)result->price_misses,
           looked_up ? 100.0 * (double)result->price_hits / (double)looked_up : 0.0,
           (unsigned long long)result->price_evictions);
  }
  status = result->stopped ? io_timeline_close_incomplete(m.tl, err, err_len)
                           : io_timeline_close(m.tl, err, err_len);
  m.tl = NULL;
  goto out;
fail_timeline:
  if (m.tl)
    io_timeline_abort(m.tl);
  m.tl = NULL;
out:
  core_engine_destroy(engine);
  srv_restart_free(&restart);
  if (m.node_acc)
    for (uint32_t n = 0; n < m.cluster.nodes; n++)
      util_timebins_free(&m.node_acc[n].energy);
  free(m.node_acc);
  free(m.node_binned_ns);
  if (m.node_tier)
    for (uint32_t n = 0; n < m.cluster.nodes; n++)
      job_kv_tier_destroy(m.node_tier[n]);
  free(m.node_tier);
  srv_placement_free(&m.placement);
  srv_cluster_free(&m.cluster);
  srv_regions_free(&m);
  free_pools(&m);
  free(m.requests.arrival_ns);
  free(m.requests.input_tokens);
  free(m.requests.output_tokens);
  free(m.instance_deployment);
  free(m.initial_state);
  free(m.load_ns);
  free(m.deployment_first);
  free(m.deploys);
  free(m.capacity);
  free(m.appended);
  for (size_t c = 0; m.price_caches && c < price_caches; c++)
    hw_price_cache_destroy(m.price_caches[c]);
  free(m.price_caches);
  free(m.attrs.attrs);
  free(m.model_deployments);
  free(m.hashes.offsets);
  free(m.hashes.hashes);
  free(lp_partition);
  return status;
}
