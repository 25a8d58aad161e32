/* The serving simulation. LP 0 is the router: it replays the workload and dispatches each request
 * to an instance after the dispatch latency. LPs 1..N are instances: each runs its scheduler
 * (jobs/sched) iteration by iteration, priced by hw/, and reports completions back to the router.
 * Every request, iteration, instance and partition becomes a row of the timeline (serving/schema.h).
 *
 * Disaggregated serving, as vLLM's KV connectors (NIXL) do it: the router picks a prefill and a
 * decode instance at arrival. The prefill instance computes the prompt and the first token, keeps
 * the KV, and tells the decode instance (one control hop, the dispatch latency). The decode
 * instance allocates blocks when its queue and memory allow (until then the KV waits on the
 * prefill side: back-pressure), pulls the KV over the network (LPs after the instances are the
 * links, net/link.h), and when the last byte lands it decodes the rest and tells the prefill side
 * to free its copy.
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
#include "serving.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "serving/schema.h"
#include "serving/cluster.h"
#include "jobs/kvcache_tier.h"
#include "net/link.h"
#include "util/idmap.h"
#include "util/timebins.h"

enum {
  EV_ARRIVAL = 1,
  EV_DISPATCH,      /* router -> instance; aux: the decode instance, or NO_INSTANCE */
  EV_ITERATION_END, /* instance -> itself */
  EV_COMPLETE,      /* instance -> router: the request left it */
  EV_KV_READY,      /* prefill -> decode instance: the prompt's KV is ready; aux: preemptions */
  EV_KV_PULL,       /* decode -> prefill instance: blocks are allocated, send the KV */
  EV_KV_ARRIVED,    /* last link -> decode instance: one flow of a transfer has landed */
  EV_KV_RELEASE,    /* decode -> prefill instance: the KV arrived, free your copy */
  EV_CHUNK,         /* between links */
};
enum { ROUTER_LP = 0, FLUSH_BYTES = 16 << 20 };
#define NO_INSTANCE UINT32_MAX

typedef struct dispatch_msg {
  int64_t id, arrival_ns;
  int32_t input_tokens, output_tokens;
} dispatch_msg;

typedef struct complete_msg {
  int32_t input_tokens, output_tokens;
} complete_msg;

/* What the decode side needs from the prefill side to continue the request's row. */
typedef struct kv_ready_msg {
  int64_t id, first_scheduled_ns, first_token_ns;
  uint32_t prefix_hit_tokens;
  float energy_j; /* the prefill side's share */
} kv_ready_msg;

typedef struct kv_pull_msg {
  int64_t id;
  uint64_t bytes;
  uint32_t flows;
} kv_pull_msg;

/* Arrival time and lengths of every request, by id: on every rank, so a decode instance anywhere
 * can continue a request it never saw dispatched. Only for disaggregated scenarios. */
typedef struct request_store {
  int64_t *arrival_ns;
  int32_t *input_tokens, *output_tokens;
  uint64_t count, cap;
} request_store;

/* Prefix block hashes of every request of a trace that has them (Mooncake), by request id: read on
 * every rank so an instance anywhere can look up what the router dispatched to it. */
typedef struct hash_store {
  uint64_t *offsets; /* [requests + 1] into hashes */
  uint64_t *hashes;
  uint64_t requests;
} hash_store;

typedef struct serving {
  const srv_scenario *s;
  uint32_t instances;
  uint32_t *instance_deployment;
  hw_deploy *deploys; /* one per deployment */
  srv_cluster cluster;
  net_links links;
  util_timebins *node_energy; /* [nodes]: written only by the partition owning the node */
  job_kv_tier **node_tier;    /* [nodes]: NULL where the node type has none; as node_energy */
  /* Router pools: instance index of each pool slot, and each instance's slot in its pool. Pool 0
   * takes new requests (all instances when colocated, else the prefill ones); pool 1 the decode
   * instances. */
  uint32_t *pool_instance[2], pool_size[2], *instance_slot;
  /* Decode slots [rack_first[q], rack_first[q] + rack_count[q]) are those in rack q. */
  uint32_t *rack_first, *rack_count;
  request_store requests;
  io_timeline *tl;
  int t_requests, t_iterations, t_instances, t_engine, t_transfers, t_nodes, t_power, t_links,
      t_link_util, t_kv_tiers;
  struct {
    size_t bytes;
    char pad[56]; /* one cache line per thread */
  } * appended;
  int threads;
  int64_t end_ns;
  hash_store hashes;
  uint64_t workload_requests;
  struct router_lp *router; /* on the router's rank only, for progress */
  const char *program_version;
  char err[512];
} serving;

typedef struct router_lp {
  job_source *src;
  job_request next;
  bool has_next;
  job_router *pool[2]; /* pool[1] only when disaggregated */
  uint64_t dispatched;
} router_lp;

typedef struct req_rec {
  srv_request_row row;
  uint64_t *block_hashes;
  uint32_t block_count;
  bool handed_off;             /* prefill side: the decode instance owns the row now */
  uint32_t flows_pending;      /* decode side: flows of the transfer still on their way */
  srv_transfer_row transfer;    /* decode side */
  struct req_rec *prev, *next; /* the instance's live requests */
} req_rec;

typedef struct instance_lp {
  uint32_t index;
  const srv_deployment *dep;
  const hw_deploy *deploy;
  job_sched *sched;
  bool busy;
  srv_iteration_row iteration; /* the open one, while busy */
  const job_sched_seq *seqs;  /* of the open iteration */
  uint32_t num_seqs, batch_tokens;
  uint64_t iterations, completed, preemptions, kv_blocks_peak;
  int64_t busy_ns, last_event_ns;
  double kv_block_ns;
  const srv_kv_tier *tier; /* of its node type, NULL: none */
  int64_t tier_ns;        /* of busy_ns, spent copying to and from the tier */
  /* Energy: every device draws device_w since power_since_ns. */
  uint32_t devices;
  double device_w, idle_w;
  int64_t power_since_ns;
  double energy_j;
  req_rec live;     /* sentinel of a circular list */
  util_idmap by_id; /* live requests, by request id */
} instance_lp;

/* ---- timeline rows ---- */

static int append(core_lp *lp, serving *m, int table, const void *row, size_t row_bytes) {
  int thread = core_lp_thread(lp);
  if (io_timeline_append(m->tl, table, thread, row) != 0)
    return core_fail(lp, "out of memory buffering timeline rows");
  m->appended[thread].bytes += row_bytes;
  if (m->appended[thread].bytes > FLUSH_BYTES / (size_t)m->threads)
    core_request_boundary(lp); /* every rank flushes at the end of this window */
  return 0;
}

static int flush_boundary(MPI_Comm comm, void *model) {
  (void)comm;
  serving *m = model;
  for (int t = 0; t < m->threads; t++)
    m->appended[t].bytes = 0;
  return io_timeline_flush(m->tl, m->err, sizeof m->err);
}

static int append_request(core_lp *lp, serving *m, const srv_request_row *row) {
  return append(lp, m, m->t_requests, row, sizeof *row);
}

/* ---- router ---- */

static int router_read(core_lp *lp, router_lp *r) {
  char err[512];
  int rc = job_source_next(r->src, &r->next, err, sizeof err);
  if (rc < 0)
    return core_fail(lp, "%s", err);
  r->has_next = rc > 0;
  return 0;
}

static uint32_t instance_rack(const serving *m, uint32_t instance) {
  const srv_cluster *c = &m->cluster;
  return c->node_rack[c->accel_node[c->accel_ids[c->accel_offsets[instance]]]];
}

/* The node of the instance's first accelerator: its KV tier's. */
static uint32_t instance_node(const serving *m, uint32_t instance) {
  const srv_cluster *c = &m->cluster;
  return c->accel_node[c->accel_ids[c->accel_offsets[instance]]];
}

/* Dispatches every request arriving now, then wakes up at the next arrival. */
static int router_dispatch_due(core_lp *lp, serving *m, router_lp *r) {
  int64_t latency_ns = m->s->router.dispatch_latency_ns;
  while (r->has_next && r->next.arrival_ns <= lp->now_ns) {
    const job_request *q = &r->next;
    if (q->arrival_ns > m->end_ns - latency_ns) { /* would reach its instance after the end */
      srv_request_row row = {.id = q->id,
                            .arrival_ns = q->arrival_ns,
                            .dispatch_ns = -1,
                            .first_scheduled_ns = -1,
                            .first_token_ns = -1,
                            .done_ns = -1,
                            .input_tokens = q->input_tokens,
                            .output_tokens = q->output_tokens,
                            .instance = -1,
                            .decode_instance = -1,
                            .fate = SRV_FATE_UNFINISHED};
      if (append_request(lp, m, &row) != 0)
        return -1;
    } else {
      job_route_request rr = {(uint32_t)q->input_tokens, (uint32_t)q->output_tokens,
                              q->prefix_hashes, q->prefix_hash_count};
      uint32_t instance = m->pool_instance[0][job_router_pick(r->pool[0], &rr, &lp->rng)];
      /* A single output token is the prefill's: such a request never needs a decode instance. */
      uint32_t decode = NO_INSTANCE;
      if (r->pool[1] && q->output_tokens > 1) {
        uint32_t first = 0, count = m->pool_size[1], rack = instance_rack(m, instance);
        if (m->s->router.decode_same_rack && m->rack_count[rack])
          first = m->rack_first[rack], count = m->rack_count[rack];
        decode =
            m->pool_instance[1][job_router_pick_range(r->pool[1], &rr, &lp->rng, first, count)];
      }
      dispatch_msg msg = {q->id, q->arrival_ns, q->input_tokens, q->output_tokens};
      if (core_send(lp, ROUTER_LP + 1 + instance, latency_ns, EV_DISPATCH, decode, &msg,
                    sizeof msg))
        return -1;
    }
    r->dispatched++;
    if (router_read(lp, r) != 0)
      return -1;
  }
  if (r->has_next)
    return core_send(lp, lp->id, r->next.arrival_ns - lp->now_ns, EV_ARRIVAL, 0, NULL, 0);
  return 0;
}

static int router_init(core_lp *lp, void *model) {
  serving *m = model;
  router_lp *r = lp->state;
  const srv_workload *w = &m->s->workload;
  char err[512];
  int rc = w->synthetic ? job_source_open_synthetic(&r->src, &w->synth, &w->opts, err, sizeof err)
                        : job_source_open_trace(&r->src, w->trace_path, w->format, &w->opts, err,
                                                sizeof err);
  if (rc != 0)
    return core_fail(lp, "%s", err);
  if (router_read(lp, r) != 0)
    return -1;
  return router_dispatch_due(lp, m, r);
}

static int router_handle(core_lp *lp, const core_event *ev, void *model) {
  serving *m = model;
  router_lp *r = lp->state;
  if (ev->kind == EV_ARRIVAL)
    return router_dispatch_due(lp, m, r);
  const complete_msg *c = (const complete_msg *)ev->payload.bytes;
  job_route_request rr = {(uint32_t)c->input_tokens, (uint32_t)c->output_tokens, NULL, 0};
  uint32_t instance = ev->src_lp - 1;
  int pool = m->s->deployments[m->instance_deployment[instance]].role == SRV_ROLE_DECODE;
  job_router_completed(r->pool[pool], m->instance_slot[instance], &rr);
  return 0;
}

static const core_lp_type router_type = {"router", router_init, router_handle, NULL};

/* ---- instances: energy ---- */

/* Adds what the instance's devices drew since power_since_ns, at device_w each, to their nodes,
 * and returns it. */
static double account_energy(serving *m, instance_lp *in, int64_t until_ns, int *rc) {
  const srv_cluster *c = &m->cluster;
  double joules = 0;
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t node = c->accel_node[c->accel_ids[k]], devices = 0;
    for (; k < c->accel_offsets[in->index + 1] && c->accel_node[c->accel_ids[k]] == node; k++)
      devices++;
    util_timebins *e = &m->node_energy[node];
    double before = e->total;
    if (util_timebins_add(e, m->s->power.interval_ns, in->power_since_ns, until_ns,
                          in->device_w * devices, 1e-9) != 0)
      *rc = -1;
    joules += e->total - before;
  }
  in->energy_j += joules;
  in->power_since_ns = until_ns;
  return joules;
}

/* ---- instances ---- */

/* Mooncake hashes cover 512-token blocks; the scheduler's blocks are smaller. Block b of the
 * scheduler gets a hash derived from the trace block holding it, so two prompts share a scheduler
 * block exactly when they share the trace block around it. */
static int expand_hashes(const serving *m, req_rec *rec, uint32_t block_tokens) {
  const hash_store *h = &m->hashes;
  uint64_t id = (uint64_t)rec->row.id;
  if (!h->offsets || id >= h->requests)
    return 0;
  uint64_t first = h->offsets[id], count = h->offsets[id + 1] - first;
  block_tokens = block_tokens ? block_tokens : 16; /* the scheduler's default */
  uint32_t per = JOB_MOONCAKE_BLOCK_TOKENS / block_tokens;
  uint32_t blocks = (uint32_t)rec->row.input_tokens / block_tokens;
  if (blocks > count * per)
    blocks = (uint32_t)(count * per);
  if (!blocks)
    return 0;
  rec->block_hashes = malloc(blocks * sizeof *rec->block_hashes);
  if (!rec->block_hashes)
    return -1;
  for (uint32_t b = 0; b < blocks; b++) {
    uint64_t x = h->hashes[first + b / per] ^ (0x9e3779b97f4a7c15ull * (b % per + 1));
    x ^= x >> 31;
    rec->block_hashes[b] = x * 0xbf58476d1ce4e5b9ull;
  }
  rec->block_count = blocks;
  return 0;
}

static void rec_free(req_rec *rec) {
  free(rec->block_hashes);
  free(rec);
}

static void rec_drop(instance_lp *in, req_rec *rec) {
  rec->prev->next = rec->next;
  rec->next->prev = rec->prev;
  util_idmap_remove(&in->by_id, (uint64_t)rec->row.id);
  rec_free(rec);
}

/* A new live request: linked, findable by id, its hashes expanded. NULL out of memory. */
static req_rec *rec_add(serving *m, instance_lp *in, const srv_request_row *row) {
  req_rec *rec = calloc(1, sizeof *rec);
  if (!rec)
    return NULL;
  rec->row = *row;
  if (expand_hashes(m, rec, in->dep->sched.block_size_tokens) != 0 ||
      util_idmap_put(&in->by_id, (uint64_t)row->id, rec) != 0) {
    rec_free(rec);
    return NULL;
  }
  rec->next = &in->live;
  rec->prev = in->live.prev;
  in->live.prev->next = rec;
  in->live.prev = rec;
  return rec;
}

/* Control messages between instances travel the network path once, with no contention: a few
 * microseconds, which is at least the lookahead whenever the two sit on different partitions. */
static int64_t control_latency_ns(const serving *m, uint32_t from, uint32_t to) {
  const srv_cluster *c = &m->cluster;
  uint32_t route[NET_MAX_HOPS];
  uint32_t a = c->accel_ids[c->accel_offsets[from]], b = c->accel_ids[c->accel_offsets[to]];
  int hops = net_route(c->topo, a, b, 0, route);
  int64_t ns = hops > 0 ? net_route_latency_ns(c->topo, route, hops) : 1;
  return ns > 0 ? ns : 1;
}

static int kv_landed(core_lp *lp, serving *m, instance_lp *in, req_rec *rec);

/* The decode side has blocks for rec: ask the prefill side for what it lacks. */
static int pull_kv(core_lp *lp, serving *m, instance_lp *in, req_rec *rec,
                   uint32_t local_hit_tokens) {
  uint32_t prefill = (uint32_t)rec->row.instance;
  const hw_deploy *source = &m->deploys[m->instance_deployment[prefill]];
  uint32_t tokens = (uint32_t)rec->row.input_tokens;
  tokens -= local_hit_tokens < tokens ? local_hit_tokens : tokens;
  uint64_t bytes = (uint64_t)((double)tokens * hw_kv_bytes_per_token(source));
  uint32_t gp = srv_cluster_instance_accels(&m->cluster, prefill),
           gd = srv_cluster_instance_accels(&m->cluster, in->index);
  uint32_t flows = gp > gd ? gp : gd;
  if (bytes < flows)
    flows = bytes ? (uint32_t)bytes : 1;
  int64_t latency_ns = control_latency_ns(m, in->index, prefill);
  rec->flows_pending = flows;
  rec->transfer = (srv_transfer_row){.id = rec->row.id,
                                    .prefill_instance = prefill,
                                    .decode_instance = in->index,
                                    .bytes = bytes,
                                    .flows = flows,
                                    .ready_ns = rec->row.first_token_ns,
                                    .start_ns = lp->now_ns + latency_ns + 1,
                                    .end_ns = -1};
  if (m->s->network.instant_kv) { /* lands at once; the prefill side hears it as usual */
    rec->transfer.start_ns = lp->now_ns;
    rec->flows_pending = 0;
    return kv_landed(lp, m, in, rec);
  }
  kv_pull_msg pull = {rec->row.id, bytes, flows};
  return core_send(lp, ROUTER_LP + 1 + prefill, latency_ns, EV_KV_PULL, 0, &pull, sizeof pull);
}

static int start_iteration(core_lp *lp, serving *m, instance_lp *in) {
  job_sched_batch b;
  job_sched_step(in->sched, lp->now_ns, &b);
  bool landed = false; /* an instant transfer completed: the step may now have work */
  for (uint32_t i = 0; i < b.num_events; i++) {
    const job_sched_event *ev = &b.events[i];
    req_rec *rec = ev->user;
    if (ev->kind == JOB_SCHED_STARTED) {
      if (rec->row.first_scheduled_ns < 0)
        rec->row.first_scheduled_ns = ev->time_ns;
      if (rec->row.decode_instance != (int32_t)in->index) {
        rec->row.prefix_hit_tokens = ev->prefix_hit_tokens;
        rec->row.tier_hit_tokens = ev->tier_hit_tokens;
      }
    } else if (ev->kind == JOB_SCHED_PREEMPTED) {
      rec->row.preemptions++;
      rec->row.swaps += ev->swapped;
      in->preemptions++;
    } else if (ev->kind == JOB_SCHED_KV_ALLOCATED) {
      rec->row.decode_prefix_hit_tokens = ev->prefix_hit_tokens;
      if (pull_kv(lp, m, in, rec, ev->prefix_hit_tokens) != 0)
        return -1;
      landed |= m->s->network.instant_kv;
    }
  }
  int rc = 0;
  account_energy(m, in, lp->now_ns, &rc); /* idle until now */
  if (rc != 0)
    return core_fail(lp, "out of memory for energy bins");
  in->seqs = b.seqs;
  in->num_seqs = b.num_seqs;
  if (b.num_seqs == 0) {
    in->busy = false;
    return landed ? start_iteration(lp, m, in) : 0;
  }
  hw_breakdown cost;
  int64_t duration_ns = hw_iteration_ns(in->deploy, &b.hw, &cost);
  if (duration_ns < 1)
    duration_ns = 1;
  in->busy = true;
  in->device_w = cost.power_w;
  if (in->tier && (b.tier_load_bytes || b.tier_store_bytes)) {
    int64_t tier_ns =
        job_kv_tier_transfer_ns(b.tier_load_bytes, in->tier->bytes_per_s, in->tier->latency_ns) +
        job_kv_tier_transfer_ns(b.tier_store_bytes, in->tier->bytes_per_s, in->tier->latency_ns);
    /* The devices wait for the copies at idle power, then run the batch. */
    in->device_w = (cost.power_w * (double)duration_ns + in->idle_w * (double)tier_ns) /
                   (double)(duration_ns + tier_ns);
    duration_ns += tier_ns;
    in->tier_ns += tier_ns;
  }
  in->batch_tokens = b.hw.prefill_tokens + b.hw.decode_seqs;
  in->iteration = (srv_iteration_row){
      .instance = in->index,
      .index = in->iterations,
      .start_ns = lp->now_ns,
      .end_ns = lp->now_ns + duration_ns,
      .prefill_seqs = b.hw.prefill_seqs,
      .prefill_tokens = b.hw.prefill_tokens,
      .decode_seqs = b.hw.decode_seqs,
      .kv_blocks_used = b.kv_blocks_used,
      .decode_ctx_tokens = (uint32_t)b.hw.decode_ctx_tokens,
  };
  if (b.kv_blocks_used > in->kv_blocks_peak)
    in->kv_blocks_peak = b.kv_blocks_used;
  return core_send(lp, lp->id, duration_ns, EV_ITERATION_END, 0, NULL, 0);
}

static int complete_at_router(core_lp *lp, serving *m, const req_rec *rec) {
  complete_msg c = {rec->row.input_tokens, rec->row.output_tokens};
  return core_send(lp, ROUTER_LP, m->s->router.dispatch_latency_ns, EV_COMPLETE, 0, &c, sizeof c);
}

/* A prefill instance's request has its first token: hand it to its decode instance, unless that
 * message would land after the end (then the request ends here, unfinished). */
static int hand_off(core_lp *lp, serving *m, req_rec *rec) {
  if (complete_at_router(lp, m, rec) != 0)
    return -1;
  int64_t latency_ns = m->s->router.dispatch_latency_ns;
  if (lp->now_ns > m->end_ns - latency_ns)
    return 0;
  rec->handed_off = true;
  kv_ready_msg msg = {rec->row.id, rec->row.first_scheduled_ns, rec->row.first_token_ns,
                      rec->row.prefix_hit_tokens, (float)rec->row.energy_j};
  return core_send(lp, ROUTER_LP + 1 + (uint32_t)rec->row.decode_instance, latency_ns, EV_KV_READY,
                   rec->row.preemptions, &msg, sizeof msg);
}

static int finish_request(core_lp *lp, serving *m, instance_lp *in, req_rec *rec) {
  if (rec->row.decode_instance >= 0 && rec->row.decode_instance != (int32_t)in->index)
    return hand_off(lp, m, rec);
  rec->row.done_ns = lp->now_ns;
  rec->row.fate = SRV_FATE_COMPLETED;
  int rc = append_request(lp, m, &rec->row);
  if (rc == 0)
    rc = complete_at_router(lp, m, rec);
  rec_drop(in, rec);
  in->completed++;
  return rc;
}

static int end_iteration(core_lp *lp, serving *m, instance_lp *in) {
  int64_t duration_ns = lp->now_ns - in->iteration.start_ns;
  in->busy_ns += duration_ns;
  in->kv_block_ns += (double)in->iteration.kv_blocks_used * (double)duration_ns;
  in->iterations++;
  in->last_event_ns = lp->now_ns;
  int rc = 0;
  double joules = account_energy(m, in, lp->now_ns, &rc);
  if (rc != 0)
    return core_fail(lp, "out of memory for energy bins");
  for (uint32_t i = 0; i < in->num_seqs; i++) {
    req_rec *rec = in->seqs[i].user;
    rec->row.energy_j += joules * in->seqs[i].tokens / in->batch_tokens;
  }
  in->device_w = in->idle_w;
  if (append(lp, m, m->t_iterations, &in->iteration, sizeof in->iteration) != 0)
    return -1;
  const job_sched_event *events;
  uint32_t n = job_sched_finish(in->sched, lp->now_ns, &events);
  for (uint32_t i = 0; i < n; i++) {
    req_rec *rec = events[i].user;
    if (events[i].kind == JOB_SCHED_FIRST_TOKEN && rec->row.first_token_ns < 0)
      rec->row.first_token_ns = events[i].time_ns;
    else if (events[i].kind == JOB_SCHED_FINISHED && finish_request(lp, m, in, rec) != 0)
      return -1;
  }
  return start_iteration(lp, m, in);
}

static int add_to_scheduler(core_lp *lp, instance_lp *in, req_rec *rec, bool hold_kv,
                            bool remote_kv) {
  bool prefill_only = hold_kv;
  job_sched_request sr = {
      .id = (uint64_t)rec->row.id,
      .arrival_ns = lp->now_ns,
      .prompt_tokens = (uint32_t)rec->row.input_tokens,
      .output_tokens = prefill_only ? 1 : (uint32_t)rec->row.output_tokens,
      .block_hashes = rec->block_hashes,
      .num_block_hashes = rec->block_count,
      .hold_kv = hold_kv,
      .remote_kv = remote_kv,
      .user = rec,
  };
  char err[256];
  if (job_sched_add(in->sched, &sr, err, sizeof err) != 0)
    return core_fail(lp, "instance %u cannot serve request %lld: %s", in->index,
                     (long long)rec->row.id, err);
  return 0;
}

static int receive_request(core_lp *lp, serving *m, instance_lp *in, const dispatch_msg *d,
                           uint32_t decode) {
  srv_request_row row = {.id = d->id,
                        .arrival_ns = d->arrival_ns,
                        .dispatch_ns = lp->now_ns,
                        .first_scheduled_ns = -1,
                        .first_token_ns = -1,
                        .done_ns = -1,
                        .input_tokens = d->input_tokens,
                        .output_tokens = d->output_tokens,
                        .instance = (int32_t)in->index,
                        .decode_instance = decode == NO_INSTANCE ? -1 : (int32_t)decode,
                        .fate = SRV_FATE_UNFINISHED};
  req_rec *rec = rec_add(m, in, &row);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  if (add_to_scheduler(lp, in, rec, decode != NO_INSTANCE, false) != 0)
    return -1;
  return in->busy ? 0 : start_iteration(lp, m, in);
}

/* Decode side: a prefilled request to continue; it waits for blocks, then for its KV. */
static int receive_kv_ready(core_lp *lp, serving *m, instance_lp *in, const core_event *ev) {
  kv_ready_msg k;
  memcpy(&k, ev->payload.bytes, sizeof k);
  const request_store *q = &m->requests;
  assert((uint64_t)k.id < q->count);
  srv_request_row row = {.id = k.id,
                        .arrival_ns = q->arrival_ns[k.id],
                        .dispatch_ns = q->arrival_ns[k.id] + m->s->router.dispatch_latency_ns,
                        .first_scheduled_ns = k.first_scheduled_ns,
                        .first_token_ns = k.first_token_ns,
                        .done_ns = -1,
                        .input_tokens = q->input_tokens[k.id],
                        .output_tokens = q->output_tokens[k.id],
                        .instance = (int32_t)(ev->src_lp - 1),
                        .decode_instance = (int32_t)in->index,
                        .preemptions = ev->aux,
                        .prefix_hit_tokens = k.prefix_hit_tokens,
                        .fate = SRV_FATE_UNFINISHED,
                        .energy_j = k.energy_j};
  req_rec *rec = rec_add(m, in, &row);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  if (add_to_scheduler(lp, in, rec, false, true) != 0)
    return -1;
  return in->busy ? 0 : start_iteration(lp, m, in);
}

/* Prefill side: start the transfer's flows, one per accelerator pair. */
static int send_kv(core_lp *lp, serving *m, const core_event *ev) {
  kv_pull_msg p;
  memcpy(&p, ev->payload.bytes, sizeof p);
  const srv_cluster *c = &m->cluster;
  uint32_t prefill = lp->id - 1, decode = ev->src_lp - 1;
  const uint32_t *src = c->accel_ids + c->accel_offsets[prefill];
  const uint32_t *dst = c->accel_ids + c->accel_offsets[decode];
  uint32_t gp = srv_cluster_instance_accels(c, prefill),
           gd = srv_cluster_instance_accels(c, decode);
  for (uint32_t f = 0; f < p.flows; f++) {
    net_flow flow = {.id = (uint64_t)p.id,
                     .bytes = p.bytes / p.flows + (f < p.bytes % p.flows),
                     .src_accel = src[f % gp],
                     .dst_accel = dst[f % gd],
                     .deliver_lp = ev->src_lp,
                     .flow_hash = (uint32_t)((uint64_t)p.id * 0x9e3779b97f4a7c15ull >> 32) + f};
    if (net_flow_start(lp, &m->links, &flow) != 0)
      return -1;
  }
  return 0;
}

/* Decode side: the whole KV of rec is here: it can decode, and the prefill side free its copy.
 * Its iteration, if one is open, does not include it. */
static int kv_landed(core_lp *lp, serving *m, instance_lp *in, req_rec *rec) {
  int64_t id = rec->row.id;
  rec->transfer.end_ns = lp->now_ns;
  if (job_sched_kv_arrived(in->sched, (uint64_t)id) != 0)
    return core_fail(lp, "instance %u: KV of request %lld arrived unexpectedly", in->index,
                     (long long)id);
  if (append(lp, m, m->t_transfers, &rec->transfer, sizeof rec->transfer) != 0)
    return -1;
  uint32_t prefill = (uint32_t)rec->row.instance;
  if (core_send(lp, ROUTER_LP + 1 + prefill, control_latency_ns(m, in->index, prefill),
                EV_KV_RELEASE, 0, &id, sizeof id) != 0)
    return -1;
  return 0;
}

/* Decode side: one flow of a transfer landed. */
static int receive_flow(core_lp *lp, serving *m, instance_lp *in, const core_event *ev) {
  int64_t id = (int64_t)ev->payload.u64[0];
  req_rec *rec = util_idmap_get(&in->by_id, (uint64_t)id);
  assert(rec && rec->flows_pending > 0);
  if (--rec->flows_pending > 0)
    return 0;
  if (kv_landed(lp, m, in, rec) != 0)
    return -1;
  return in->busy ? 0 : start_iteration(lp, m, in);
}

/* Prefill side: the decode side has the KV; the blocks go back to the pool (and prefix cache). */
static int release_kv(core_lp *lp, serving *m, instance_lp *in, const core_event *ev) {
  int64_t id = ev->payload.i64[0];
  req_rec *rec = util_idmap_get(&in->by_id, (uint64_t)id);
  if (!rec || job_sched_release(in->sched, (uint64_t)id) != 0)
    return core_fail(lp, "instance %u: no KV held for request %lld", in->index, (long long)id);
  rec_drop(in, rec);
  in->completed++;
  return in->busy ? 0 : start_iteration(lp, m, in);
}

static int instance_handle(core_lp *lp, const core_event *ev, void *model) {
  serving *m = model;
  instance_lp *in = lp->state;
  switch (ev->kind) {
  case EV_DISPATCH:
    return receive_request(lp, m, in, (const dispatch_msg *)ev->payload.bytes, ev->aux);
  case EV_ITERATION_END: return end_iteration(lp, m, in);
  case EV_KV_READY: return receive_kv_ready(lp, m, in, ev);
  case EV_KV_PULL: return send_kv(lp, m, ev);
  case EV_KV_ARRIVED: return receive_flow(lp, m, in, ev);
  case EV_KV_RELEASE: return release_kv(lp, m, in, ev);
  default: return core_fail(lp, "instance %u: unexpected event kind %u", in->index, ev->kind);
  }
}

/* After the last window: rows for the requests still here. */
static int instance_finish(core_lp *lp, void *model) {
  serving *m = model;
  instance_lp *in = lp->state;
  for (req_rec *rec = in->live.next; rec != &in->live; rec = rec->next)
    if (!rec->handed_off && append_request(lp, m, &rec->row) != 0)
      return -1;
  return 0;
}

/* The instance's own row, once its energy runs to the end of the run. */
static int append_instance_row(serving *m, const instance_lp *in) {
  job_sched_stats st;
  job_sched_stats_get(in->sched, &st);
  srv_instance_row row = {
      .instance = in->index,
      .tp = in->dep->hw.tp ? in->dep->hw.tp : 1,
      .pp = in->dep->hw.pp ? in->dep->hw.pp : 1,
      .role = in->dep->role,
      .kv_blocks_total = in->dep->sched.total_kv_blocks,
      .kv_blocks_peak = in->kv_blocks_peak,
      .iterations = in->iterations,
      .completed = in->completed,
      .preemptions = in->preemptions,
      .busy_ns = in->busy_ns,
      .kv_block_ns = in->kv_block_ns,
      .energy_j = in->energy_j,
      .prefix_query_tokens = st.prefix_query_tokens,
      .prefix_hit_tokens = st.prefix_hit_tokens,
      .tier_hit_tokens = st.tier_hit_tokens,
      .swaps_out = st.swaps_out,
      .swaps_in = st.swaps_in,
      .tier_load_bytes = st.tier_load_bytes,
      .tier_store_bytes = st.tier_store_bytes,
      .tier_ns = in->tier_ns,
  };
  snprintf(row.deployment, sizeof row.deployment, "%s", in->dep->name);
  snprintf(row.model, sizeof row.model, "%s", in->dep->model->name);
  snprintf(row.accelerator, sizeof row.accelerator, "%s", in->dep->accel->name);
  return io_timeline_append(m->tl, m->t_instances, 0, &row);
}

static const core_lp_type instance_type = {"instance", NULL, instance_handle, instance_finish};

/* ---- LP life cycle ---- */

static int lp_create(core_lp *lp, void *model) {
  serving *m = model;
  char err[256];
  if (lp->id == ROUTER_LP) {
    router_lp *r = calloc(1, sizeof *r);
    if (!r)
      return -1;
    lp->type = &router_type;
    lp->state = r;
    m->router = r;
    const job_route_policy policy[2] = {m->s->router.policy, m->s->router.decode_policy};
    for (int pool = 0; pool < 2 && m->pool_size[pool]; pool++)
      if (!(r->pool[pool] = job_router_create(policy[pool], m->pool_size[pool], 0, err,
                                              sizeof err)))
        return core_fail(lp, "%s", err);
    return 0;
  }
  if (lp->id >= m->cluster.first_link_lp)
    return net_link_lp_create(lp, &m->links, lp->id - m->cluster.first_link_lp);
  instance_lp *in = calloc(1, sizeof *in);
  if (!in)
    return -1;
  lp->type = &instance_type;
  lp->state = in;
  in->index = lp->id - 1;
  uint32_t d = m->instance_deployment[in->index];
  in->dep = &m->s->deployments[d];
  in->deploy = &m->deploys[d];
  in->live.next = in->live.prev = &in->live;
  in->devices = srv_cluster_instance_accels(&m->cluster, in->index);
  in->idle_w = in->device_w = hw_idle_power_w(in->deploy);
  job_sched_config cfg = in->dep->sched;
  uint32_t node = instance_node(m, in->index);
  if (m->node_tier[node]) {
    uint32_t block_tokens = cfg.block_size_tokens ? cfg.block_size_tokens : 16;
    in->tier = &m->s->nodes[m->cluster.node_group[node]].kv_tier;
    cfg.tier = m->node_tier[node];
    cfg.tier_space = d; /* one deployment: one model and block shape */
    cfg.block_bytes = (uint64_t)llround(hw_kv_bytes_per_token(in->deploy) * block_tokens);
    if (cfg.block_bytes == 0)
      cfg.block_bytes = 1;
  }
  if (job_sched_create(&in->sched, &cfg, err, sizeof err) != 0)
    return core_fail(lp, "instance %u: %s", in->index, err);
  return 0;
}

static void lp_destroy(core_lp *lp, void *model) {
  (void)model;
  if (lp->type == &router_type) {
    router_lp *r = lp->state;
    job_source_close(r->src);
    for (int pool = 0; pool < 2; pool++)
      job_router_destroy(r->pool[pool]);
    free(r);
  } else if (lp->type == &net_link_lp_type) {
    net_link_lp_destroy(lp);
  } else if (lp->state) {
    instance_lp *in = lp->state;
    for (req_rec *rec = in->live.next, *next; rec != &in->live; rec = next) {
      next = rec->next;
      rec_free(rec);
    }
    util_idmap_free(&in->by_id);
    job_sched_destroy(in->sched);
    free(in);
  }
}

static void progress(int64_t now_ns, double wall_s, uint64_t events, void *model) {
  const serving *m = model;
  uint64_t done = m->router ? m->router->dispatched : 0;
  double share = m->workload_requests ? (double)done / (double)m->workload_requests : 0;
  fprintf(stderr,
          "windtunnel: simulated %.1f s, %llu of %llu requests dispatched (%.0f%%), %.2f M "
          "events/s",
          (double)now_ns * 1e-9, (unsigned long long)done, (unsigned long long)m->workload_requests,
          100 * share, (double)events / wall_s * 1e-6);
  if (share > 0.01)
    fprintf(stderr, ", ETA %.0f s", wall_s * (1 - share) / share);
  fputc('\n', stderr);
}

/* ---- setup ---- */

/* One pass over the workload on every rank: how many requests, and their prefix hashes if the trace
 * has them. */
static int scan_workload(serving *m, char *err, size_t err_len) {
  const srv_workload *w = &m->s->workload;
  job_source *src;
  int rc = w->synthetic
               ? job_source_open_synthetic(&src, &w->synth, &w->opts, err, err_len)
               : job_source_open_trace(&src, w->trace_path, w->format, &w->opts, err, err_len);
  if (rc != 0)
    return -1;
  hash_store *h = &m->hashes;
  request_store *store = &m->requests;
  bool keep = job_source_format(src) == JOB_TRACE_MOONCAKE;
  size_t cap_requests = 0, cap_hashes = 0;
  job_request q;
  while ((rc = job_source_next(src, &q, err, err_len)) > 0) {
    m->workload_requests++;
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
    memcpy(h->hashes + used, q.prefix_hashes, q.prefix_hash_count * sizeof *q.prefix_hashes);
    h->offsets[++h->requests] = used + q.prefix_hash_count;
  }
  job_source_close(src);
  return rc < 0 ? -1 : 0;
oom:
  job_source_close(src);
  snprintf(err, err_len, "out of memory reading the workload");
  return -1;
}

static int open_timeline(serving *m, const char *path, MPI_Comm comm, char *err, size_t err_len) {
  io_timeline_options opt = {.schema = SRV_SCHEMA_NAME,
                             .schema_version = SRV_SCHEMA_VERSION,
                             .program_version = m->program_version,
                             .threads = m->threads,
                             .uncompressed = !m->s->output.compress};
  m->tl = io_timeline_create(path, &opt, comm, err, err_len);
  if (!m->tl)
    return -1;
  if ((m->t_requests = io_timeline_add_table(m->tl, &srv_requests_table, err, err_len)) < 0 ||
      (m->t_iterations = io_timeline_add_table(m->tl, &srv_iterations_table, err, err_len)) < 0 ||
      (m->t_instances = io_timeline_add_table(m->tl, &srv_instances_table, err, err_len)) < 0 ||
      (m->t_engine = io_timeline_add_table(m->tl, &srv_engine_table, err, err_len)) < 0 ||
      (m->t_transfers = io_timeline_add_table(m->tl, &srv_transfers_table, err, err_len)) < 0 ||
      (m->t_nodes = io_timeline_add_table(m->tl, &srv_nodes_table, err, err_len)) < 0 ||
      (m->t_power = io_timeline_add_table(m->tl, &srv_power_table, err, err_len)) < 0 ||
      (m->t_links = io_timeline_add_table(m->tl, &srv_links_table, err, err_len)) < 0 ||
      (m->t_link_util = io_timeline_add_table(m->tl, &srv_link_util_table, err, err_len)) < 0 ||
      (m->t_kv_tiers = io_timeline_add_table(m->tl, &srv_kv_tiers_table, err, err_len)) < 0)
    return -1;
  return 0;
}

/* After the run, on every rank for what it owns: instances draw their last power until the end,
 * nodes add host and unused-accelerator power, and instances, nodes, power series and links become
 * rows.
 * Returns non-zero when memory ran out. */
static int write_energy_and_links(serving *m, core_engine *engine, int64_t end_ns, int rank) {
  const srv_cluster *c = &m->cluster;
  int64_t width = m->s->power.interval_ns;
  int rc = 0;
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->type == &instance_type) {
      account_energy(m, lp->state, end_ns, &rc);
      rc |= append_instance_row(m, lp->state);
    }
  }
  uint32_t partitions_per_rank = (uint32_t)m->threads;
  for (uint32_t n = 0; n < c->nodes; n++) {
    if (c->node_partition[n] / partitions_per_rank != (uint32_t)rank)
      continue;
    const srv_node_group *g = &m->s->nodes[c->node_group[n]];
    double idle_w = g->accel->power.idle_w;
    uint32_t accels = g->accels_per_node;
    double static_w = g->host_w + idle_w * (accels - c->node_used_accels[n]);
    util_timebins *e = &m->node_energy[n];
    if (util_timebins_add(e, width, 0, end_ns, static_w, 1e-9) != 0)
      rc = -1;
    srv_node_row row = {.node = n,
                       .rack = c->node_rack[n],
                       .accelerators = accels,
                       .busy_accelerators = c->node_used_accels[n],
                       .host_w = g->host_w,
                       .idle_w = idle_w,
                       .energy_j = e->total};
    snprintf(row.group, sizeof row.group, "%s", g->name);
    rc |= io_timeline_append(m->tl, m->t_nodes, 0, &row);
    if (m->node_tier[n]) {
      job_kv_tier_stats ts;
      job_kv_tier_stats_get(m->node_tier[n], &ts);
      srv_kv_tier_row t = {.node = n,
                          .kind = g->kv_tier.kind,
                          .capacity_bytes = g->kv_tier.capacity_bytes,
                          .bytes_per_s = g->kv_tier.bytes_per_s,
                          .latency_ns = g->kv_tier.latency_ns,
                          .peak_bytes = ts.peak_bytes,
                          .stored_blocks = ts.stored_blocks,
                          .evicted_blocks = ts.evicted_blocks,
                          .hit_blocks = ts.hit_blocks};
      rc |= io_timeline_append(m->tl, m->t_kv_tiers, 0, &t);
    }
    for (int64_t start = 0, k = 0; start < end_ns; start += width, k++) {
      int64_t stop = start + width < end_ns ? start + width : end_ns;
      double joules = util_timebins_at(e, (uint64_t)k);
      srv_power_row p = {n,    c->node_rack[n], start,
                        stop, joules,          joules / ((double)(stop - start) * 1e-9)};
      rc |= io_timeline_append(m->tl, m->t_power, 0, &p);
    }
  }
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->type != &net_link_lp_type)
      continue;
    const net_link_lp *l = lp->state;
    const net_link *link = net_link_at(c->topo, l->link);
    srv_link_row row = {.link = l->link,
                       .kind = link->kind,
                       .bytes_per_s = link->bytes_per_s,
                       .latency_ns = link->latency_ns,
                       .bytes = l->bytes,
                       .chunks = l->chunks,
                       .busy_ns = l->busy_ns};
    net_link_name(c->topo, l->link, row.name, sizeof row.name);
    rc |= io_timeline_append(m->tl, m->t_links, 0, &row);
    for (size_t k = 0; k < l->busy_bins.bins; k++)
      if (l->busy_bins.bin[k] > 0) {
        srv_link_util_row u = {.link = l->link,
                              .start_ns = (int64_t)k * width,
                              .busy_ns = (int64_t)l->busy_bins.bin[k],
                              .utilisation = l->busy_bins.bin[k] / (double)width};
        rc |= io_timeline_append(m->tl, m->t_link_util, 0, &u);
      }
  }
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Pool 0 takes new requests, pool 1 (disaggregated only) continues them. Pool 1 is ordered by rack,
 * so each rack's decode instances are one run of slots. */
static int build_pools(serving *m) {
  m->instance_slot = malloc(m->instances * sizeof *m->instance_slot);
  for (int pool = 0; pool < 2; pool++)
    m->pool_instance[pool] = malloc(m->instances * sizeof *m->pool_instance[pool]);
  m->rack_first = calloc(m->cluster.racks, sizeof *m->rack_first);
  m->rack_count = calloc(m->cluster.racks, sizeof *m->rack_count);
  uint64_t *decode = malloc(m->instances * sizeof *decode); /* rack << 32 | instance */
  if (!m->instance_slot || !m->pool_instance[0] || !m->pool_instance[1] || !m->rack_first ||
      !m->rack_count || !decode) {
    free(decode);
    return -1;
  }
  uint32_t decodes = 0;
  for (uint32_t i = 0; i < m->instances; i++) {
    if (m->s->deployments[m->instance_deployment[i]].role == SRV_ROLE_DECODE) {
      decode[decodes++] = (uint64_t)instance_rack(m, i) << 32 | i;
      continue;
    }
    m->instance_slot[i] = m->pool_size[0];
    m->pool_instance[0][m->pool_size[0]++] = i;
  }
  qsort(decode, decodes, sizeof *decode, cmp_u64);
  for (uint32_t slot = 0; slot < decodes; slot++) {
    uint32_t i = (uint32_t)decode[slot], rack = (uint32_t)(decode[slot] >> 32);
    m->instance_slot[i] = slot;
    m->pool_instance[1][slot] = i;
    if (m->rack_count[rack]++ == 0)
      m->rack_first[rack] = slot;
  }
  m->pool_size[1] = decodes;
  free(decode);
  return 0;
}

/* A KV tier for every node whose type has one. The instances using a node's tier (those whose
 * first accelerator is on it) share it without locks or messages: that is deterministic only if
 * they all run on the partition that owns the node, which serving/cluster.c guarantees. */
static int create_tiers(serving *m, char *err, size_t err_len) {
  const srv_cluster *c = &m->cluster;
  for (uint32_t n = 0; n < c->nodes; n++) {
    const srv_kv_tier *t = &m->s->nodes[c->node_group[n]].kv_tier;
    if (t->kind != SRV_KV_TIER_NONE &&
        job_kv_tier_create(&m->node_tier[n], (uint64_t)t->capacity_bytes, err, err_len) != 0)
      return -1;
  }
  for (uint32_t i = 0; i < m->instances; i++) {
    uint32_t n = instance_node(m, i);
    bool together = c->lp_partition[1 + i] == c->node_partition[n];
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

static int write_attributes(serving *m, const srv_scenario *s, int ranks,
                            const srv_result *res, char *err, size_t err_len) {
  io_timeline *tl = m->tl;
  int rc = io_timeline_attr_string(tl, "scenario", s->resolved_text ? s->resolved_text : "", err,
                                   err_len);
  rc = rc ? rc : io_timeline_attr_string(tl, "scenario_path", s->path, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "seed", (int64_t)s->simulation.seed, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "ranks", ranks, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "threads", m->threads, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "lookahead_ns", m->cluster.lookahead_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "pue", s->power.pue, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "rack_budget_w", s->power.rack_budget_w, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "site_budget_w", s->power.site_budget_w, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "power_interval_ns", s->power.interval_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "simulated_ns", res->simulated_ns, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "simulated_s", (double)res->simulated_ns * 1e-9, err,
                                    err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "wall_s", res->wall_s, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "events", (int64_t)res->events, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "slo_ttft_ns", s->slo.ttft_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "slo_tpot_ns", s->slo.tpot_ns, err, err_len);
  return rc;
}

int srv_run(const srv_scenario *s, const srv_options *opt, MPI_Comm comm,
                    srv_result *result, char *err, size_t err_len) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  serving m = {.s = s, .instances = srv_scenario_instances(s), .program_version = opt->version};
  m.threads = opt->threads > 0 ? opt->threads
                               : (s->simulation.threads > 0 ? s->simulation.threads : 1);
  m.end_ns = s->simulation.end_ns > 0 ? s->simulation.end_ns : INT64_MAX;
  *result = (srv_result){0};
  uint32_t partitions = (uint32_t)ranks * (uint32_t)m.threads;
  m.instance_deployment = malloc(m.instances * sizeof *m.instance_deployment);
  m.deploys = calloc(s->deployment_count, sizeof *m.deploys);
  m.appended = calloc((size_t)m.threads, sizeof *m.appended);
  core_engine *engine = NULL;
  int status = -1;
  if (!m.instance_deployment || !m.deploys || !m.appended) {
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
  if (srv_cluster_build(&m.cluster, s, partitions, err, err_len) != 0)
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
  if (build_pools(&m) != 0 || !(m.node_energy = calloc(m.cluster.nodes, sizeof *m.node_energy)) ||
      !(m.node_tier = calloc(m.cluster.nodes, sizeof *m.node_tier))) {
    snprintf(err, err_len, "out of memory for %u instances", m.instances);
    goto out;
  }
  if (create_tiers(&m, err, err_len) != 0)
    goto out;
  m.links = (net_links){.topo = m.cluster.topo,
                        .first_lp = m.cluster.first_link_lp,
                        .chunk_bytes = s->network.chunk_bytes,
                        .chunk_kind = EV_CHUNK,
                        .deliver_kind = EV_KV_ARRIVED,
                        .series_interval_ns = s->power.interval_ns};
  if (scan_workload(&m, err, err_len) != 0)
    goto out;
  if (rank == 0 && opt->progress) {
    if (partitions > 1)
      fprintf(stderr, "windtunnel: %u partitions, %u pods; lookahead %.3f us (%s)%s\n", partitions,
              m.cluster.pods, (double)m.cluster.lookahead_ns * 1e-3, m.cluster.lookahead_cut,
              m.cluster.lookahead_ns < 100000
                  ? "; windows this short hold few events: one rank per scenario is faster"
                  : "");
    else
      fprintf(stderr, "windtunnel: 1 partition, no lookahead needed\n");
  }
  const char *path = opt->output_path ? opt->output_path : s->output.path;
  if (open_timeline(&m, path, comm, err, err_len) != 0)
    goto out;
  core_config cfg = {
      .lp_count = m.cluster.lp_count,
      .lp_partition = m.cluster.lp_partition,
      .threads = m.threads,
      .end_ns = m.end_ns,
      .lookahead_ns = m.cluster.lookahead_ns,
      .seed = s->simulation.seed,
      .pending_hint = 64 + 4 * (size_t)m.cluster.lp_count / partitions,
      .lp_create = lp_create,
      .lp_destroy = lp_destroy,
      .model = &m,
      .boundary = flush_boundary,
      .progress = opt->progress ? progress : NULL,
  };
  engine = core_engine_create(&cfg, comm, err, err_len);
  if (!engine)
    goto fail_timeline;
  double t0 = MPI_Wtime();
  if (core_engine_run(engine) != 0) {
    snprintf(err, err_len, "%s", m.err[0] ? m.err : core_engine_error(engine));
    goto fail_timeline;
  }
  double wall_s = MPI_Wtime() - t0;
  uint64_t local[3] = {0, 0, 0}, total[3]; /* events, iterations, ranks that failed */
  int64_t last_ns = 0, simulated_ns;
  for (int t = 0; t < m.threads; t++) {
    const core_stats *st = core_engine_stats(engine, t);
    local[0] += st->events;
    srv_engine_row row = {(uint32_t)rank,  (uint32_t)t,   st->events,          st->windows,
                         st->sent_thread, st->sent_rank, st->received_remote, st->pending_peak,
                         st->process_s,   st->sync_s};
    local[2] |= io_timeline_append(m.tl, m.t_engine, 0, &row) != 0;
  }
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->type == &instance_type) {
      const instance_lp *in = lp->state;
      local[1] += in->iterations;
      last_ns = in->last_event_ns > last_ns ? in->last_event_ns : last_ns;
      /* Its energy is counted up to its last event, which can follow every iteration's end (an
       * iteration that the end cut): the power rows must reach it. */
      last_ns = in->power_since_ns > last_ns ? in->power_since_ns : last_ns;
    }
  }
  MPI_Allreduce(local, total, 3, MPI_UINT64_T, MPI_SUM, comm);
  if (total[2]) {
    snprintf(err, err_len, "out of memory for the engine's timeline rows");
    goto fail_timeline;
  }
  MPI_Allreduce(&last_ns, &simulated_ns, 1, MPI_INT64_T, MPI_MAX, comm);
  int failed = write_energy_and_links(&m, engine, simulated_ns, rank) != 0, any_failed;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_LOR, comm);
  if (any_failed) {
    snprintf(err, err_len, "out of memory for the power and link rows");
    goto fail_timeline;
  }
  MPI_Allreduce(&wall_s, &result->wall_s, 1, MPI_DOUBLE, MPI_MAX, comm);
  result->events = total[0];
  result->iterations = total[1];
  result->simulated_ns = simulated_ns;
  result->requests = m.workload_requests;
  if (opt->stats)
    core_engine_print_stats(engine, stdout);
  if (write_attributes(&m, s, ranks, result, err, err_len) != 0)
    goto fail_timeline;
  status = io_timeline_close(m.tl, err, err_len);
  m.tl = NULL;
  goto out;
fail_timeline:
  if (m.tl)
    io_timeline_abort(m.tl);
  m.tl = NULL;
out:
  core_engine_destroy(engine);
  if (m.node_energy)
    for (uint32_t n = 0; n < m.cluster.nodes; n++)
      util_timebins_free(&m.node_energy[n]);
  free(m.node_energy);
  if (m.node_tier)
    for (uint32_t n = 0; n < m.cluster.nodes; n++)
      job_kv_tier_destroy(m.node_tier[n]);
  free(m.node_tier);
  srv_cluster_free(&m.cluster);
  free(m.instance_slot);
  free(m.pool_instance[0]);
  free(m.pool_instance[1]);
  free(m.rack_first);
  free(m.rack_count);
  free(m.requests.arrival_ns);
  free(m.requests.input_tokens);
  free(m.requests.output_tokens);
  free(m.instance_deployment);
  free(m.deploys);
  free(m.appended);
  free(m.hashes.offsets);
  free(m.hashes.hashes);
  return status;
}
