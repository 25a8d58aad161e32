/* A pod router LP (hierarchical routing, router.pods): receives requests from the global router and
 * dispatches each to an instance of its pod after the dispatch latency, by router.policy (and the
 * decode instance by router.decode_policy); completions come back to it, and those of requests
 * that left the pod go on to the global router after the pod latency, so both levels see their
 * load as real routers do. It reads a request's prefix hashes, when the trace has them, from the
 * store every rank holds. With regions its global router is the request's origin front door, and
 * it reports its outstanding requests to every front door every regions.report_interval (when the
 * policy reads load). */
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

static int pod_router_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_pod_router *r = lp->state;
  if (ev->kind == EV_ROUTE) {
    const dispatch_msg *msg = (const dispatch_msg *)ev->payload.bytes;
    job_route_request rr = {(uint32_t)msg->input_tokens, (uint32_t)msg->output_tokens, NULL, 0};
    const hash_store *h = &m->hashes;
    if (h->offsets && (uint64_t)msg->id < h->requests) {
      rr.block_hashes = h->hashes + h->offsets[msg->id];
      rr.block_count = (uint32_t)(h->offsets[msg->id + 1] - h->offsets[msg->id]);
    }
    r->outstanding++;
    return srv_dispatch(lp, m, &m->pools[r->pod], &r->picks, msg, &rr);
  }
  if (ev->kind == EV_REPORT)
    return pod_router_report(lp, m, r);
  const complete_msg *c = (const complete_msg *)ev->payload.bytes;
  if (!srv_release(m, &r->picks, srv_instance_of(m, ev->src_lp), c))
    return 0;
  r->outstanding--;
  if (m->regions) { /* back to the front door of the region it came from */
    uint32_t origin = srv_request_origin(m->s, c->id);
    return core_send(lp, srv_front_door_lp(m, origin),
                     srv_region_hop_ns(m, m->pod_region[r->pod], origin), EV_COMPLETE, 0, c,
                     sizeof *c);
  }
  return core_send(lp, srv_router_lp(m), m->s->router.pods.latency_ns, EV_COMPLETE, 0, c,
                   sizeof *c);
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
  return srv_picks_create(lp, m, &m->pools[r->pod], &r->picks);
}

static void pod_router_destroy(core_lp *lp, void *model) {
  (void)model;
  srv_pod_router *r = lp->state;
  srv_picks_destroy(&r->picks);
}

static int pod_router_save(const core_lp *lp, void *model, core_pack *out) {
  (void)model;
  const srv_pod_router *r = lp->state;
  CORE_PACK(out, r->outstanding);
  return srv_picks_save(&r->picks, out) != 0 || out->failed ? -1 : 0;
}

static int pod_router_load(core_lp *lp, void *model, core_unpack *in) {
  (void)model;
  srv_pod_router *r = lp->state;
  CORE_UNPACK(in, r->outstanding);
  if (srv_picks_load(&r->picks, in) != 0 || in->failed)
    return core_fail(lp, "checkpoint: pod router %u's record is damaged", r->pod);
  return 0;
}

const core_lp_type srv_pod_router_type = {.name = "pod router",
                                          .state_bytes = sizeof(srv_pod_router),
                                          .create = pod_router_create,
                                          .init = pod_router_init,
                                          .handle = pod_router_handle,
                                          .destroy = pod_router_destroy,
                                          .save = pod_router_save,
                                          .load = pod_router_load};
