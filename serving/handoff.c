/* The disaggregated hand-off, as vLLM's KV connectors (NIXL) do it: the prefill instance computes
 * the prompt and the first token, keeps the KV, and tells the decode instance (one control hop,
 * the dispatch latency). The decode instance allocates blocks when its queue and memory allow
 * (until then the KV waits on the prefill side: back-pressure), pulls the KV over the network's
 * link LPs (net/link.h), and when the last byte lands it decodes the rest and tells the prefill
 * side to free its copy. */
#include <assert.h>
#include <string.h>

#include "serving/model.h"

/* Control messages between instances travel the network path once, with no contention: a few
 * microseconds, which is at least the lookahead whenever the two sit on different partitions. */
static int64_t control_latency_ns(const srv_model *m, uint32_t from, uint32_t to) {
  const srv_cluster *c = &m->cluster;
  uint32_t route[NET_MAX_HOPS];
  uint32_t a = c->accel_ids[c->accel_offsets[from]], b = c->accel_ids[c->accel_offsets[to]];
  int hops = net_route(c->topo, a, b, 0, route);
  int64_t ns = hops > 0 ? net_route_latency_ns(c->topo, route, hops) : 1;
  return ns > 0 ? ns : 1;
}

static int kv_landed(core_lp *lp, srv_model *m, srv_instance *in, srv_req *rec);

/* The decode side has blocks for rec: ask the prefill side for what it lacks. */
int srv_pull_kv(core_lp *lp, srv_model *m, srv_instance *in, srv_req *rec,
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
  return core_send(lp, srv_instance_lp(m, prefill), latency_ns, EV_KV_PULL, 0, &pull, sizeof pull);
}

/* A prefill instance's request has its first token: hand it to its decode instance, unless that
 * message would land after the end (then the request ends here, unfinished). */
/* Whether a hand-off tells the decode side when its request arrived and was dispatched
 * (EV_ARRIVED_AT, landing just before EV_KV_READY): a closed loop's arrival is when its client
 * sent it, and with router.batch its dispatch may have waited in a queue; else both follow from
 * the request store. */
static bool sends_arrived_at(const srv_model *m) {
  return m->s->workload.mode == JOB_MODE_CLOSED || m->s->router.batch.spare;
}

int srv_hand_off(core_lp *lp, srv_model *m, srv_req *rec) {
  if (srv_complete_at_router(lp, m, rec) != 0)
    return -1;
  int64_t latency_ns = m->s->router.dispatch_latency_ns;
  if (lp->now_ns > m->end_ns - latency_ns)
    return 0;
  rec->handed_off = true;
  uint32_t decode_lp = srv_instance_lp(m, (uint32_t)rec->row.decode_instance);
  if (sends_arrived_at(m)) {
    arrival_msg at = {rec->row.id, rec->row.arrival_ns, rec->row.dispatch_ns};
    if (core_send(lp, decode_lp, latency_ns, EV_ARRIVED_AT, 0, &at, sizeof at) != 0)
      return -1;
  }
  kv_ready_msg msg = {rec->row.id, rec->row.first_scheduled_ns, rec->row.first_token_ns,
                      rec->row.prefix_hit_tokens, (float)rec->row.energy_j};
  return core_send(lp, decode_lp, latency_ns, EV_KV_READY, rec->row.preemptions, &msg, sizeof msg);
}

/* Decode side: a prefilled request to continue; it waits for blocks, then for its KV. */
int srv_receive_kv_ready(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev) {
  kv_ready_msg k;
  memcpy(&k, ev->payload.bytes, sizeof k);
  const request_store *q = &m->requests;
  assert((uint64_t)k.id < q->count);
  int64_t arrival_ns = q->arrival_ns[k.id], dispatch_ns = -1;
  if (sends_arrived_at(m)) {
    assert(in->arrived_at.id == k.id); /* EV_ARRIVED_AT came just before */
    if (m->s->workload.mode == JOB_MODE_CLOSED)
      arrival_ns = in->arrived_at.arrival_ns;
    if (m->s->router.batch.spare)
      dispatch_ns = in->arrived_at.dispatch_ns;
  }
  if (dispatch_ns < 0)
    dispatch_ns = arrival_ns + m->route_ns;
  srv_request_row row = {.id = k.id,
                         .arrival_ns = arrival_ns,
                         .dispatch_ns = dispatch_ns,
                         .first_scheduled_ns = k.first_scheduled_ns,
                         .first_token_ns = k.first_token_ns,
                         .done_ns = -1,
                         .input_tokens = q->input_tokens[k.id],
                         .output_tokens = q->output_tokens[k.id],
                         .instance = (int32_t)srv_instance_of(m, ev->src_lp),
                         .decode_instance = (int32_t)in->index,
                         .preemptions = ev->aux,
                         .prefix_hit_tokens = k.prefix_hit_tokens,
                         .fate = SRV_FATE_UNFINISHED,
                         .energy_j = k.energy_j};
  srv_row_attrs(m, &row);
  srv_req *rec = srv_req_add(m, in, &row);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  rec->client_first_token = m->s->router.first_token_at_client;
  if (srv_add_to_scheduler(lp, in, rec, false, true) != 0)
    return -1;
  return 1;
}

/* Prefill side: start the transfer's flows, one per accelerator pair. */
int srv_send_kv(core_lp *lp, srv_model *m, const core_event *ev) {
  kv_pull_msg p;
  memcpy(&p, ev->payload.bytes, sizeof p);
  const srv_cluster *c = &m->cluster;
  uint32_t prefill = lp->index, decode = srv_instance_of(m, ev->src_lp);
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
static int kv_landed(core_lp *lp, srv_model *m, srv_instance *in, srv_req *rec) {
  int64_t id = rec->row.id;
  rec->transfer.end_ns = lp->now_ns;
  if (job_sched_kv_arrived(in->sched, (uint64_t)id) != 0)
    return core_fail(lp, "instance %u: KV of request %lld arrived unexpectedly", in->index,
                     (long long)id);
  if (srv_append(lp, m, m->t_transfers, &rec->transfer, sizeof rec->transfer) != 0)
    return -1;
  uint32_t prefill = (uint32_t)rec->row.instance;
  if (core_send(lp, srv_instance_lp(m, prefill), control_latency_ns(m, in->index, prefill),
                EV_KV_RELEASE, 0, &id, sizeof id) != 0)
    return -1;
  return 0;
}

/* Decode side: one flow of a transfer landed. */
int srv_receive_flow(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev) {
  int64_t id = (int64_t)ev->payload.u64[0];
  srv_req *rec = util_idmap_get(&in->by_id, (uint64_t)id);
  assert(rec && rec->flows_pending > 0);
  if (--rec->flows_pending > 0)
    return 0;
  if (kv_landed(lp, m, in, rec) != 0)
    return -1;
  return 1;
}

/* Prefill side: the decode side has the KV; the blocks go back to the pool (and prefix cache). */
int srv_release_kv(core_lp *lp, srv_instance *in, const core_event *ev) {
  int64_t id = ev->payload.i64[0];
  srv_req *rec = util_idmap_get(&in->by_id, (uint64_t)id);
  if (!rec || job_sched_release(in->sched, (uint64_t)id) != 0)
    return core_fail(lp, "instance %u: no KV held for request %lld", in->index, (long long)id);
  srv_req_drop(in, rec);
  in->completed++;
  return 1;
}
