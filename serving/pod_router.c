/* A pod router LP (hierarchical routing, router.pods): receives requests from the global router and
 * dispatches each to an instance of its pod after the dispatch latency, by router.policy (and the
 * decode instance by router.decode_policy); completions come back to it, and those of requests
 * that left the pod go on to the global router after the pod latency, so both levels see their
 * load as real routers do. It reads a request's prefix hashes, when the trace has them, from the
 * store every rank holds. With regions its global router is the request's origin front door, and
 * it reports its outstanding requests to every front door every regions.report_interval (when the
 * policy reads load).
 *
 * With instance lifecycles (lifecycle.c) it does for its pod what the one router does: sends work
 * only to instances that said they serve, takes the controller's drains (EV_CLOSE) and answers its
 * metrics. It holds nothing: a request its pod cannot take (no instance accepts work) goes back to
 * the front door it came from (EV_RETRY), which routes it again by what it knows; and whenever the
 * pod closes (its last accepting instance drains or stops) or opens again, it tells every front
 * door (EV_POD_STATE), so they send it nothing while it is closed.
 *
 * With router.batch it keeps the batch queue for its pod (batch.c): the global router (or front
 * door) routes batch requests as any other, and the pod router holds them until one of its
 * instances has spare capacity or their due time comes; its load reports count them. */
#include "serving/model.h"

/* Reports go on while requests still arrive: past the last arrival no front door decides. */
static int pod_router_next_report(core_lp *lp, const srv_model *m) {
  int64_t interval_ns = m->s->regions.report_interval_ns;
  if (lp->now_ns + interval_ns > m->workload.last_arrival_ns)
    return 0;
  return core_send(lp, lp->id, interval_ns, EV_REPORT, 0, NULL, 0);
}

/* Its outstanding requests to every region's front door, each after the latency between them. */
static int pod_router_report(core_lp *lp, const srv_model *m, const srv_pod_router *r) {
  load_msg load = {r->outstanding};
  uint32_t region = m->pod_region[r->pod];
  for (uint32_t g = 0; g < m->regions; g++)
    if (core_send(lp, srv_front_door_lp(m, g), srv_region_hop_ns(m, region, g), EV_LOAD, 0, &load,
                  sizeof load) != 0)
      return -1;
  return pod_router_next_report(lp, m);
}

/* The front door a request came from (its origin's with regions), and the hop back to it. */
static uint32_t door_of(const srv_model *m, const srv_pod_router *r, int64_t id, int64_t *hop_ns) {
  uint32_t origin = m->regions ? srv_request_origin(m->s, id) : 0;
  *hop_ns = srv_pod_hop_ns(m, origin, r->pod);
  return srv_front_door_lp(m, origin);
}

/* A request the pod cannot take now: back to its front door. */
static int bounce(core_lp *lp, srv_model *m, srv_pod_router *r, const dispatch_msg *msg) {
  int64_t hop_ns;
  uint32_t door = door_of(m, r, msg->id, &hop_ns);
  r->outstanding--;
  return core_send(lp, door, hop_ns, EV_RETRY, 0, msg, sizeof *msg);
}

static int dispatch(core_lp *lp, srv_model *m, srv_pod_router *r, const dispatch_msg *msg,
                    const job_route_request *rr) {
  int rc = srv_dispatch(lp, m, &m->pools[r->pod], &r->picks, msg, rr, NULL);
  return rc == 1 ? bounce(lp, m, r, msg) : rc;
}

/* Whether some instance of the pod serving model `model` (0: any) accepts work. */
static bool pod_open(const srv_model *m, const srv_pod_router *r, uint32_t model) {
  const srv_pools *pools = &m->pools[r->pod];
  uint32_t first = model ? pools->model_first[0][model] : 0;
  uint32_t count = model ? pools->model_count[0][model] : pools->size[0];
  for (uint32_t slot = first; slot < first + count; slot++)
    if (job_router_accepting(r->picks.pick[0], slot))
      return true;
  return false;
}

/* Instance slot's state changed: tells every front door when the pod opens or closes, and with
 * model routing when it does for a model (EV_POD_STATE aux: model * 2 + open, model 0 for any). */
static int set_accepting(core_lp *lp, srv_model *m, srv_pod_router *r, uint32_t slot,
                         bool accepting) {
  if (srv_set_accepting(lp, r->picks.pick[0], slot, accepting) != 0)
    return -1;
  for (uint32_t k = 0; k <= m->workload_models; k++) {
    bool *was = k ? &r->model_open[k - 1] : &r->open, open = pod_open(m, r, k);
    if (open == *was)
      continue;
    *was = open;
    for (uint32_t g = 0; g < (m->regions ? m->regions : 1); g++)
      if (core_send(lp, srv_front_door_lp(m, g), srv_pod_hop_ns(m, g, r->pod), EV_POD_STATE,
                    k * 2 + open, NULL, 0) != 0)
        return -1;
  }
  return 0;
}

/* router.batch: queued batch requests to the pod's instances with room. */
static int batch_dispatch(core_lp *lp, srv_model *m, srv_pod_router *r) {
  return srv_batch_dispatch(lp, m, &m->pools[r->pod], &r->picks, &r->batch,
                            m->s->router.dispatch_latency_ns);
}

/* EV_BATCH_DUE: the queued requests whose deadline less the lead has come go by the policy alone
 * (or back to their front door when the pod takes none); near the end nothing goes (what would
 * arrive after it stays queued, unfinished). */
static int batch_due(core_lp *lp, srv_model *m, srv_pod_router *r) {
  srv_held h;
  while (lp->now_ns <= m->end_ns - m->s->router.dispatch_latency_ns &&
         srv_batch_take_due(m, &r->batch, lp->now_ns, &h)) {
    int rc = dispatch(lp, m, r, &h.msg, &h.rr);
    free((void *)h.rr.block_hashes);
    if (rc != 0)
      return -1;
  }
  return 0;
}

static int pod_router_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_pod_router *r = lp->state;
  switch (ev->kind) {
  case EV_ROUTE: {
    const dispatch_msg *msg = (const dispatch_msg *)ev->payload.bytes;
    job_route_request rr = {(uint32_t)msg->input_tokens, (uint32_t)msg->output_tokens, NULL, 0};
    const hash_store *h = &m->hashes;
    if (h->offsets && (uint64_t)msg->id < h->requests) {
      rr.block_hashes = h->hashes + h->offsets[msg->id];
      rr.block_count = (uint32_t)(h->offsets[msg->id + 1] - h->offsets[msg->id]);
    }
    r->outstanding++;
    if (m->s->router.batch.spare && srv_request_attrs(m, msg->id).tier == JOB_TIER_BATCH) {
      int rc = srv_batch_arrive(lp, m, &m->pools[r->pod], &r->picks, &r->batch, msg, &rr, false,
                                m->s->router.dispatch_latency_ns);
      if (rc != 1)
        return rc;
    }
    return dispatch(lp, m, r, msg, &rr);
  }
  case EV_BATCH_DUE: return batch_due(lp, m, r);
  case EV_REPORT: return pod_router_report(lp, m, r);
  case EV_READY: /* an instance serves now */
    if (set_accepting(lp, m, r, m->instance_slot[srv_instance_of(m, ev->src_lp)], true) != 0)
      return -1;
    return batch_dispatch(lp, m, r);
  case EV_CLOSE: /* the controller drains instance aux: no more work, then it drains */
    if (set_accepting(lp, m, r, m->instance_slot[ev->aux], false) != 0)
      return -1;
    return core_send(lp, srv_instance_lp(m, ev->aux), m->s->router.dispatch_latency_ns, EV_DRAIN,
                     ev->payload.bytes[0], NULL, 0);
  case EV_GONE: /* a spot instance stopped */
    return set_accepting(lp, m, r, m->instance_slot[srv_instance_of(m, ev->src_lp)], false);
  case EV_RETRY: { /* a request a stopped instance could not finish: served elsewhere */
    const dispatch_msg *d = (const dispatch_msg *)ev->payload.bytes;
    job_route_request rr = {(uint32_t)d->input_tokens, (uint32_t)d->output_tokens, NULL, 0};
    job_router_completed(r->picks.pick[0], m->instance_slot[srv_instance_of(m, ev->src_lp)], &rr);
    return dispatch(lp, m, r, d, &rr);
  }
  case EV_METRICS_ASK: { /* its instances' outstanding requests, and what left the pod */
    metrics_msg msg = {.finished = 1, .unfinished = -(int64_t)r->completed};
    return srv_metrics_send(lp, m, &m->pools[r->pod], r->picks.pick[0], NULL, &r->batch,
                            srv_pod_hop_ns(m, 0, r->pod), &msg);
  }
  default: break;
  }
  const complete_msg *c = (const complete_msg *)ev->payload.bytes;
  bool left = srv_release(m, &r->picks, srv_instance_of(m, ev->src_lp), c);
  if (batch_dispatch(lp, m, r) != 0) /* an instance may have room now */
    return -1;
  if (!left)
    return 0;
  r->outstanding--;
  r->completed++;
  if (m->router_replicated)
    return 0; /* the global router needs no completions */
  int64_t hop_ns;
  uint32_t door = door_of(m, r, c->id, &hop_ns);
  return core_send(lp, door, hop_ns, EV_COMPLETE, 0, c, sizeof *c);
}

/* With regions and a policy that reads load: the first report one interval in. */
static int pod_router_init(core_lp *lp, void *model) {
  srv_model *m = model;
  if (!m->regions || m->s->regions.policy == SRV_REGION_NEAREST)
    return 0;
  return pod_router_next_report(lp, m);
}

static int pod_router_create(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_pod_router *r = lp->state;
  r->pod = lp->index;
  r->open = srv_pool_open(m, &m->pools[r->pod], 0);
  if (m->workload_models && !(r->model_open = malloc(m->workload_models * sizeof *r->model_open)))
    return core_fail(lp, "out of memory for pod router %u's models", r->pod);
  for (uint32_t k = 1; k <= m->workload_models; k++)
    r->model_open[k - 1] = srv_pool_open(m, &m->pools[r->pod], k);
  if (srv_picks_create(lp, m, &m->pools[r->pod], &r->picks) != 0 ||
      srv_batch_create(lp, m, &m->pools[r->pod], &r->batch) != 0)
    return -1;
  return srv_picks_initial(lp, m, &m->pools[r->pod], &r->picks);
}

/* Batch requests still queued at the end: unfinished rows. */
static int pod_router_finish(core_lp *lp, void *model) {
  srv_pod_router *r = lp->state;
  for (size_t i = 0; i < r->batch.count; i++)
    if (srv_append_unrouted(lp, model, &r->batch.items[i].held.msg) != 0)
      return -1;
  return 0;
}

static void pod_router_destroy(core_lp *lp, void *model) {
  (void)model;
  srv_pod_router *r = lp->state;
  srv_picks_destroy(&r->picks);
  free(r->model_open);
  srv_batch_destroy(&r->batch);
}

static int pod_router_save(const core_lp *lp, void *model, core_pack *out) {
  const srv_model *m = model;
  const srv_pod_router *r = lp->state;
  CORE_PACK(out, r->outstanding);
  CORE_PACK(out, r->completed);
  CORE_PACK(out, r->open);
  core_pack_bytes(out, r->model_open, m->workload_models * sizeof *r->model_open);
  srv_picks_save(&r->picks, out);
  srv_batch_save(m, &r->batch, out);
  return out->failed ? -1 : 0;
}

static int pod_router_load(core_lp *lp, void *model, core_unpack *in) {
  const srv_model *m = model;
  srv_pod_router *r = lp->state;
  CORE_UNPACK(in, r->outstanding);
  CORE_UNPACK(in, r->completed);
  CORE_UNPACK(in, r->open);
  if (r->model_open)
    core_unpack_bytes(in, r->model_open, m->workload_models * sizeof *r->model_open);
  bool damaged = ((const unsigned char *)&r->open)[0] > 1; /* not a bool */
  for (uint32_t k = 0; k < m->workload_models; k++)
    damaged |= ((const unsigned char *)r->model_open)[k] > 1;
  if (damaged || srv_picks_load(&r->picks, in) != 0 || in->failed)
    return core_fail(lp, "checkpoint: pod router %u's record is damaged", r->pod);
  int rc = srv_batch_load(lp, m, &r->batch, in);
  if (in->failed)
    return core_fail(lp, "checkpoint: pod router %u's record is damaged", r->pod);
  return rc;
}

const core_lp_type srv_pod_router_type = {.name = "pod router",
                                          .state_bytes = sizeof(srv_pod_router),
                                          .create = pod_router_create,
                                          .init = pod_router_init,
                                          .handle = pod_router_handle,
                                          .finish = pod_router_finish,
                                          .destroy = pod_router_destroy,
                                          .save = pod_router_save,
                                          .load = pod_router_load};
