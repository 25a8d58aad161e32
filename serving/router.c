/* The router LP: replays the workload (a trace read ahead one request, or a synthetic source). With
 * one router it dispatches each request to an instance after the dispatch latency, by the
 * scenario's policy, and in disaggregated scenarios picks the decode instance too. With pods it is
 * the global router: it sends each request to a pod's router (pod_router.c) after the pod latency,
 * by router.pods.policy over the pods. With regions there is one per region, its front door: it
 * replays the requests that originate in its region, picks a region by regions.policy
 * (regions.c) and a pod there by router.pods.policy, and sends the request after the pod latency
 * plus the inter-region one. Completions come back to it, so its policies see what a real front
 * end sees; with regions, so do the pods' load reports. With instance lifecycles (lifecycle.c) it
 * sends work only to instances that said they serve, holds requests while none does, and reports
 * its view to the controller. With router.batch and one router, batch-tier requests wait in its
 * batch queue (batch.c) until an instance has spare capacity, or until their deadline less the
 * lead; with pods the pod routers keep the queues. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/model.h"

int srv_picks_create(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_picks *p) {
  char err[256];
  const job_route_policy *policy[2] = {m->s->router.policy, m->s->router.decode_policy};
  uint32_t size[2] = {pools ? pools->size[0] : m->pods, pools ? pools->size[1] : 0};
  if (!pools)
    policy[0] = m->s->router.pods.policy;
  for (int pool = 0; pool < 2 && size[pool]; pool++) {
    if (!(p->pick[pool] = job_router_create(policy[pool], size[pool], 0, err, sizeof err)))
      return core_fail(lp, "%s", err);
    for (uint32_t slot = 0; job_route_policy_weighted(policy[pool]) && slot < size[pool]; slot++)
      job_router_set_weight(
          p->pick[pool], slot,
          pools ? m->capacity[m->instance_deployment[pools->instance[pool][slot]]]
                : srv_pod_capacity(m, slot));
  }
  return 0;
}

void srv_picks_destroy(srv_picks *p) {
  for (int pool = 0; pool < 2; pool++)
    job_router_destroy(p->pick[pool]);
}

int srv_dispatch(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                 const dispatch_msg *msg, const job_route_request *rr, const bool *among) {
  uint32_t slot;
  if (among)
    slot = job_router_pick_among(p->pick[0], rr, &lp->rng, among);
  else if (msg->model) /* aimed at a model: among its deployments' instances only */
    slot = job_router_pick_range(p->pick[0], rr, &lp->rng, pools->model_first[0][msg->model],
                                 pools->model_count[0][msg->model]);
  else
    slot = job_router_pick(p->pick[0], rr, &lp->rng);
  if (slot == JOB_ROUTE_NONE)
    return 1; /* no instance accepts work now */
  uint32_t instance = pools->instance[0][slot];
  /* A single output token is the prefill's: such a request never needs a decode instance. */
  uint32_t decode = NO_INSTANCE;
  if (p->pick[1] && msg->output_tokens > 1) {
    uint32_t first = 0, count = pools->size[1], rack = srv_instance_rack(m, instance);
    if (msg->model) /* its model's decode instances (decode_same_rack does not apply) */
      first = pools->model_first[1][msg->model], count = pools->model_count[1][msg->model];
    else if (m->s->router.decode_same_rack && pools->rack_count[rack])
      first = pools->rack_first[rack], count = pools->rack_count[rack];
    assert(count > 0); /* srv_workload_models refused a model without decode instances */
    decode = pools->instance[1][job_router_pick_range(p->pick[1], rr, &lp->rng, first, count)];
  }
  return core_send(lp, srv_instance_lp(m, instance), m->s->router.dispatch_latency_ns, EV_DISPATCH,
                   decode, msg, sizeof *msg);
}

bool srv_release(const srv_model *m, srv_picks *p, uint32_t instance, const complete_msg *c) {
  job_route_request rr = {(uint32_t)c->input_tokens, (uint32_t)c->output_tokens, NULL, 0};
  srv_role role = m->s->deployments[m->instance_deployment[instance]].role;
  job_router_completed(p->pick[role == SRV_ROLE_DECODE], m->instance_slot[instance], &rr);
  return role != SRV_ROLE_PREFILL || !p->pick[1] || c->output_tokens <= 1;
}

/* The next request (with regions: the next that originates in this front door's region). */
static int router_read(core_lp *lp, const srv_model *m, srv_router *r) {
  char err[512];
  for (;;) {
    int rc = job_source_next(r->src, &r->next, err, sizeof err);
    if (rc < 0)
      return core_fail(lp, "%s", err);
    r->has_next = rc > 0;
    r->read += r->has_next;
    if (!r->has_next || !m->regions || srv_request_origin(m->s, r->next.id) == r->region)
      return 0;
    r->skipped++;
  }
}

/* With regions: sends the request to a pod of the region the policy picks. Returns 1 when no
 * region has a pod that accepts work (as this front door knows), 2 when it would reach its
 * instance after the end. */
static int route_to_region(core_lp *lp, srv_model *m, srv_router *r, const dispatch_msg *msg,
                           const job_route_request *rr) {
  uint32_t g = srv_pick_region(m, r, msg->model);
  if (g == UINT32_MAX)
    return 1;
  int64_t hop_ns = srv_region_hop_ns(m, r->region, g);
  if (msg->arrival_ns > m->end_ns - hop_ns - m->s->router.dispatch_latency_ns)
    return 2;
  uint32_t slot = msg->model /* among the region's pods open to its model */
                      ? job_router_pick_among(r->region_pick[g], rr, &lp->rng,
                                              srv_region_takes(m, r, g, msg->model))
                      : job_router_pick(r->region_pick[g], rr, &lp->rng);
  assert(slot != JOB_ROUTE_NONE); /* the region is open (to the model) */
  uint32_t pod = m->region_pods[m->region_pod_first[g] + slot];
  r->sent_since[pod]++;
  return core_send(lp, srv_pod_router_lp(m, pod), hop_ns, EV_ROUTE, 0, msg, sizeof *msg);
}

/* Sends a request on: to a region's pod (regions), a pod (the global router) or an instance.
 * Returns 0, 1 when nothing accepts work now (nothing is sent), 2 when it would arrive after the
 * end (regions), or negative. */
static int router_send(core_lp *lp, srv_model *m, srv_router *r, const dispatch_msg *msg,
                       const job_route_request *rr) {
  if (m->regions)
    return route_to_region(lp, m, r, msg, rr);
  if (!m->pods)
    return srv_dispatch(lp, m, &m->pools[0], &r->picks, msg, rr, NULL);
  uint32_t pod = msg->model /* among the pods with an instance of its model accepting work */
                     ? job_router_pick_among(r->picks.pick[0], rr, &lp->rng,
                                             &r->pod_takes[(msg->model - 1) * m->pods])
                     : job_router_pick(r->picks.pick[0], rr, &lp->rng);
  if (pod == JOB_ROUTE_NONE)
    return 1;
  return core_send(lp, srv_pod_router_lp(m, pod), m->s->router.pods.latency_ns, EV_ROUTE, 0, msg,
                   sizeof *msg);
}

/* Whether the next request goes out now: it arrives now (open and offline), or a client is ready
 * to send it (closed loop: it arrives when sent). */
static bool router_due(core_lp *lp, const srv_model *m, srv_router *r) {
  const srv_workload *w = &m->s->workload;
  if (!r->has_next)
    return false;
  if (w->mode != JOB_MODE_CLOSED)
    return r->next.arrival_ns <= lp->now_ns;
  if (!r->ready_clients || (w->closed.duration_ns && lp->now_ns >= w->closed.duration_ns))
    return false;
  r->ready_clients--;
  r->next.arrival_ns = lp->now_ns;
  return true;
}

/* A replicated router's copies away from home write nothing: the home copy writes its rows. */
int srv_append_unrouted(core_lp *lp, srv_model *m, const dispatch_msg *q) {
  if (!core_lp_home(lp))
    return 0;
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
  srv_row_attrs(m, &row);
  return srv_append_request(lp, m, &row);
}

/* Whether a request naming `model` waits behind held ones: those naming the same model (a
 * request of another model is not held back; without model routing every request names none). */
static bool waits(const srv_router *r, uint32_t model) { return r->held_of[model] > 0; }

/* Keeps a request that no instance accepts now, its prefix hashes copied, until one does. */
static int hold(core_lp *lp, srv_router *r, const dispatch_msg *msg, const job_route_request *rr) {
  if (r->held_head + r->held_count == r->held_cap) {
    if (r->held_head > 0) { /* room at the front: move the waiting ones there */
      memmove(r->held, r->held + r->held_head, r->held_count * sizeof *r->held);
      r->held_head = 0;
    } else {
      size_t cap = r->held_cap ? 2 * r->held_cap : 64;
      srv_held *grown = realloc(r->held, cap * sizeof *grown);
      if (!grown)
        return core_fail(lp, "out of memory for requests waiting at the router");
      r->held = grown, r->held_cap = cap;
    }
  }
  if (srv_held_keep(lp, &r->held[r->held_head + r->held_count], msg, rr) != 0)
    return -1;
  r->held_count++;
  r->held_of[msg->model]++;
  return 0;
}

/* Dispatches the waiting requests, oldest first, while something accepts them: all of them
 * until one finds nothing, or with model routing each model's until one of it finds nothing
 * (what accepts a model does not change meanwhile, so its later ones would not go either; the
 * ones kept stay in order). */
static int dispatch_held(core_lp *lp, srv_model *m, srv_router *r) {
  size_t kept = 0, i = 0;
  for (; i < r->held_count; i++) {
    srv_held *h = &r->held[r->held_head + i];
    int rc = router_send(lp, m, r, &h->msg, &h->rr);
    if (rc < 0 || (rc == 2 && srv_append_unrouted(lp, m, &h->msg) != 0))
      return -1;
    if (rc == 1) {
      if (!m->model_deployments)
        break; /* every request names none: the later ones would not go either */
      r->held[r->held_head + kept++] = *h;
      continue;
    }
    r->unrouted += rc == 2;
    r->held_of[h->msg.model]--;
    free((void *)h->rr.block_hashes);
  }
  if (kept == 0) { /* the first i went */
    r->held_head += i, r->held_count -= i;
  } else { /* every one was tried: the kept ones stay, in order */
    r->held_count = kept;
  }
  if (!r->held_count)
    r->held_head = 0;
  return 0;
}

/* router.batch: sends queued batch requests while an instance has room, after the held ones. */
static int batch_dispatch(core_lp *lp, srv_model *m, srv_router *r) {
  if (r->held_count)
    return 0;
  return srv_batch_dispatch(lp, m, &m->pools[0], &r->picks, &r->batch, m->route_ns);
}

/* EV_BATCH_DUE: the queued requests whose deadline less the lead has come go by the policy
 * alone (or wait with the held ones when nothing accepts work); near the end nothing goes (what
 * would arrive after it stays queued, unfinished). */
static int batch_due(core_lp *lp, srv_model *m, srv_router *r) {
  srv_held h;
  while (lp->now_ns <= m->end_ns - m->route_ns &&
         srv_batch_take_due(m, &r->batch, lp->now_ns, &h)) {
    int rc = waits(r, h.msg.model) ? 1 : router_send(lp, m, r, &h.msg, &h.rr);
    if (rc < 0 || (rc == 1 && hold(lp, r, &h.msg, &h.rr) != 0)) {
      free((void *)h.rr.block_hashes);
      return -1;
    }
    assert(rc != 2); /* one router: router_send does not look at the end */
    free((void *)h.rr.block_hashes);
  }
  return 0;
}

/* Routes every request arriving now, then wakes up at the next arrival (open and offline). */
static int router_dispatch_due(core_lp *lp, srv_model *m, srv_router *r) {
  while (router_due(lp, m, r)) {
    const job_request *q = &r->next;
    job_route_request rr = {(uint32_t)q->input_tokens, (uint32_t)q->output_tokens, q->prefix_hashes,
                            q->prefix_hash_count};
    dispatch_msg msg = {q->id, q->arrival_ns, q->input_tokens, q->output_tokens, q->attrs.model};
    int rc = 2; /* would reach its instance after the end */
    bool batch = m->s->router.batch.spare && !m->pods && q->attrs.tier == JOB_TIER_BATCH;
    if (batch && q->arrival_ns <= m->end_ns - m->route_ns &&
        (rc = srv_batch_arrive(lp, m, &m->pools[0], &r->picks, &r->batch, &msg, &rr,
                               waits(r, msg.model), m->route_ns)) < 0)
      return -1;
    if (rc == 1 || (!batch && (m->regions || q->arrival_ns <= m->end_ns - m->route_ns)))
      rc = waits(r, msg.model) ? 1 : router_send(lp, m, r, &msg, &rr); /* behind the held */
    if (rc < 0 || (rc == 1 && hold(lp, r, &msg, &rr) != 0) ||
        (rc == 2 && srv_append_unrouted(lp, m, &msg) != 0))
      return -1;
    r->unrouted += rc == 2;
    r->dispatched++;
    /* with router.batch, a batch request counts as load when it leaves its queue */
    if (!m->s->router.batch.spare || q->attrs.tier != JOB_TIER_BATCH)
      r->arrived[q->attrs.model]++;
    if (router_read(lp, m, r) != 0)
      return -1;
  }
  if (r->has_next && m->s->workload.mode != JOB_MODE_CLOSED)
    return core_send(lp, lp->id, r->next.arrival_ns - lp->now_ns, EV_ARRIVAL, 0, NULL, 0);
  return 0;
}

/* Closed loop: a request has left the system, its client hears of it now (the completion's hop
 * to the router stands for the response's way back) and sends its next one after its think time.
 * EV_ARRIVAL is then a client becoming ready. */
static int client_done(core_lp *lp, srv_model *m, srv_router *r) {
  int64_t think_ns = job_think_time_ns(&m->s->workload.closed, &lp->rng);
  if (think_ns > 0)
    return core_send(lp, lp->id, think_ns, EV_ARRIVAL, 0, NULL, 0);
  r->ready_clients++;
  return router_dispatch_due(lp, m, r);
}

static int router_init(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_router *r = lp->state;
  const srv_workload *w = &m->s->workload;
  char err[512];
  if (srv_workload_open(w, &r->src, err, sizeof err) != 0)
    return core_fail(lp, "%s", err);
  if (router_read(lp, m, r) != 0)
    return -1;
  r->ready_clients = w->mode == JOB_MODE_CLOSED ? w->closed.clients : 0;
  return router_dispatch_due(lp, m, r);
}

/* Whether deployment d may serve requests of workload model k (0: naming none). */
static bool serves(const srv_model *m, size_t d, uint32_t k) {
  return k == 0 || m->model_deployments[(size_t)(k - 1) * m->s->deployment_count + d];
}

int srv_metrics_send(core_lp *lp, srv_model *m, const srv_pools *pools, const job_router *pick,
                     const srv_router *front, const srv_batch_queue *batch, int64_t latency_ns,
                     const metrics_msg *base) {
  for (size_t d = 0; d < m->s->deployment_count; d++) {
    if (!m->s->deployments[d].scaling.enabled)
      continue;
    metrics_msg msg = *base;
    for (uint32_t k = 0; k <= m->workload_models; k++) {
      if (!serves(m, d, k))
        continue;
      msg.arrived += (front ? front->arrived[k] : 0) + (batch && batch->left ? batch->left[k] : 0);
      msg.held += front ? front->held_of[k] : 0;
    }
    for (uint32_t slot = 0; pick && slot < pools->size[0]; slot++)
      if (m->instance_deployment[pools->instance[0][slot]] == d && job_router_accepting(pick, slot))
        msg.outstanding += job_router_outstanding(pick, slot);
    if (core_send(lp, srv_controller_lp(m), latency_ns, EV_METRICS, (uint32_t)d, &msg,
                  sizeof msg) != 0)
      return -1;
  }
  return 0;
}

int srv_set_accepting(core_lp *lp, job_router *pick, uint32_t slot, bool accepting) {
  if (job_router_set_accepting(pick, slot, accepting) != 0)
    return core_fail(lp, "out of memory for the router's instance states");
  return 0;
}

int srv_picks_initial(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_picks *p) {
  for (uint32_t slot = 0; m->initial_state && slot < pools->size[0]; slot++)
    if (m->initial_state[pools->instance[0][slot]] != SRV_LC_SERVING &&
        srv_set_accepting(lp, p->pick[0], slot, false) != 0)
      return -1;
  return 0;
}

bool srv_pool_open(const srv_model *m, const srv_pools *pools, uint32_t model) {
  uint32_t first = model ? pools->model_first[0][model] : 0;
  uint32_t count = model ? pools->model_count[0][model] : pools->size[0];
  for (uint32_t slot = first; slot < first + count; slot++)
    if (!m->initial_state || m->initial_state[pools->instance[0][slot]] == SRV_LC_SERVING)
      return true;
  return false;
}

/* What the router sees, for the controller: with one router, everything; with pods, a front
 * door's arrivals and held requests (the pod routers answer for their instances), after the
 * latency from it to the controller, beside the first front door. */
static int send_metrics(core_lp *lp, srv_model *m, srv_router *r) {
  if (m->pods) {
    metrics_msg msg = {.finished = !r->has_next,
                       .unfinished = (int64_t)(r->dispatched - r->unrouted)};
    int64_t hop_ns = r->region ? srv_region_hop_ns(m, r->region, 0) : 1;
    return srv_metrics_send(lp, m, NULL, NULL, r, NULL, hop_ns, &msg);
  }
  const srv_pools *pools = &m->pools[0];
  const job_router *pick = r->picks.pick[0];
  uint32_t outstanding_all = 0;
  for (uint32_t slot = 0; slot < pools->size[0]; slot++)
    outstanding_all += job_router_outstanding(pick, slot);
  metrics_msg msg = {.finished = !r->has_next && !r->held_count && !r->batch.count &&
                                 !outstanding_all}; /* queued batch requests are not load */
  return srv_metrics_send(lp, m, pools, pick, r, &r->batch, 1, &msg);
}

/* Pod `pod`'s slot in the policy that picks it: the region's (regions) or the global one. */
static job_router *pod_pick(const srv_model *m, srv_router *r, uint32_t pod, uint32_t *slot) {
  *slot = m->regions ? m->pod_region_slot[pod] : pod;
  return m->regions ? r->region_pick[m->pod_region[pod]] : r->picks.pick[0];
}

/* A request back: from a stopped instance (one router), or from a pod that could not take it. */
static int retry(core_lp *lp, srv_model *m, srv_router *r, const core_event *ev) {
  const dispatch_msg *d = (const dispatch_msg *)ev->payload.bytes;
  job_route_request rr = {(uint32_t)d->input_tokens, (uint32_t)d->output_tokens, NULL, 0};
  uint32_t slot;
  if (m->pods) {
    job_router *pick = pod_pick(m, r, ev->src_lp - srv_pod_router_lp(m, 0), &slot);
    job_router_completed(pick, slot, &rr);
  } else {
    job_router_completed(r->picks.pick[0], m->instance_slot[srv_instance_of(m, ev->src_lp)], &rr);
  }
  int rc = waits(r, d->model) ? 1 : router_send(lp, m, r, d, &rr);
  if (rc < 0 || (rc == 1 && hold(lp, r, d, &rr) != 0) ||
      (rc == 2 && srv_append_unrouted(lp, m, d) != 0))
    return -1;
  r->unrouted += rc == 2;
  return 0;
}

static int router_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_router *r = lp->state;
  bool closed = m->s->workload.mode == JOB_MODE_CLOSED;
  switch (ev->kind) {
  case EV_ARRIVAL: r->ready_clients += closed; return router_dispatch_due(lp, m, r);
  case EV_LOAD: { /* a pod's report (regions): it supersedes what was sent before it came */
    uint32_t pod = ev->src_lp - srv_pod_router_lp(m, 0);
    r->reported[pod] = ((const load_msg *)ev->payload.bytes)->outstanding;
    r->sent_since[pod] = 0;
    return 0;
  }
  case EV_POD_STATE: { /* a pod has an instance (of model aux / 2, 0: any) accepting work again
                          (aux odd), or none */
    uint32_t slot, model = ev->aux / 2, pod = ev->src_lp - srv_pod_router_lp(m, 0);
    bool open = ev->aux % 2;
    job_router *pick = pod_pick(m, r, pod, &slot);
    if (model)
      r->pod_takes[(size_t)(model - 1) * m->pods + srv_pod_takes_column(m, pod)] = open;
    else if (srv_set_accepting(lp, pick, slot, open) != 0)
      return -1;
    return open ? dispatch_held(lp, m, r) : 0;
  }
  case EV_READY: /* an instance serves now */
    if (srv_set_accepting(lp, r->picks.pick[0], m->instance_slot[srv_instance_of(m, ev->src_lp)],
                          true) != 0)
      return -1;
    return dispatch_held(lp, m, r) != 0 ? -1 : batch_dispatch(lp, m, r);
  case EV_CLOSE: /* the controller drains instance aux: no more work, then it drains */
    if (srv_set_accepting(lp, r->picks.pick[0], m->instance_slot[ev->aux], false) != 0)
      return -1;
    return core_send(lp, srv_instance_lp(m, ev->aux), m->s->router.dispatch_latency_ns, EV_DRAIN,
                     ev->payload.bytes[0], NULL, 0);
  case EV_GONE: /* a spot instance stopped */
    return srv_set_accepting(lp, r->picks.pick[0], m->instance_slot[srv_instance_of(m, ev->src_lp)],
                             false);
  case EV_RETRY: return retry(lp, m, r, ev);
  case EV_METRICS_ASK: return send_metrics(lp, m, r);
  case EV_BATCH_DUE: return batch_due(lp, m, r);
  default: break;
  }
  const complete_msg *c = (const complete_msg *)ev->payload.bytes;
  bool left = true;
  if (m->regions) {
    job_route_request rr = {(uint32_t)c->input_tokens, (uint32_t)c->output_tokens, NULL, 0};
    uint32_t pod = ev->src_lp - srv_pod_router_lp(m, 0);
    job_router_completed(r->region_pick[m->pod_region[pod]], m->pod_region_slot[pod], &rr);
  } else if (m->pods) { /* a pod router forwards each request that left its pod */
    job_route_request rr = {(uint32_t)c->input_tokens, (uint32_t)c->output_tokens, NULL, 0};
    job_router_completed(r->picks.pick[0], ev->src_lp - srv_pod_router_lp(m, 0), &rr);
  } else {
    left = srv_release(m, &r->picks, srv_instance_of(m, ev->src_lp), c);
    if (batch_dispatch(lp, m, r) != 0) /* an instance may have room now */
      return -1;
  }
  return closed && left ? client_done(lp, m, r) : 0;
}

/* The requests still waiting at the end (held or queued batch ones): unfinished rows. */
static int router_finish(core_lp *lp, void *model) {
  srv_router *r = lp->state;
  for (size_t i = 0; i < r->held_count; i++)
    if (srv_append_unrouted(lp, model, &r->held[r->held_head + i].msg) != 0)
      return -1;
  for (size_t i = 0; i < r->batch.count; i++)
    if (srv_append_unrouted(lp, model, &r->batch.items[i].held.msg) != 0)
      return -1;
  return 0;
}

/* With model routing behind pods: which pods have an instance of each model serving at t=0. */
static int pod_takes_create(core_lp *lp, const srv_model *m, srv_router *r) {
  if (!m->workload_models)
    return 0;
  if (!(r->pod_takes = malloc((size_t)m->workload_models * m->pods * sizeof *r->pod_takes)))
    return core_fail(lp, "out of memory for the router's view of %u pods", m->pods);
  for (uint32_t k = 1; k <= m->workload_models; k++)
    for (uint32_t p = 0; p < m->pods; p++)
      r->pod_takes[(size_t)(k - 1) * m->pods + srv_pod_takes_column(m, p)] = srv_pool_open(
          m, &m->pools[p], k);
  return 0;
}

/* A front door (regions): a pod policy per region, the load views and the pods' models. */
static int front_door_create(core_lp *lp, srv_model *m, srv_router *r) {
  r->region = lp->index;
  r->region_pick = calloc(m->regions, sizeof *r->region_pick);
  r->reported = calloc(m->pods, sizeof *r->reported);
  r->sent_since = calloc(m->pods, sizeof *r->sent_since);
  if (!r->region_pick || !r->reported || !r->sent_since)
    return core_fail(lp, "out of memory for the front door of %u regions", m->regions);
  char err[256];
  for (uint32_t g = 0; g < m->regions; g++)
    if (!(r->region_pick[g] = job_router_create(m->s->router.pods.policy, m->region_pod_count[g], 0,
                                                err, sizeof err)))
      return core_fail(lp, "%s", err);
  for (uint32_t p = 0; job_route_policy_weighted(m->s->router.pods.policy) && p < m->pods; p++)
    job_router_set_weight(r->region_pick[m->pod_region[p]], m->pod_region_slot[p],
                          srv_pod_capacity(m, p));
  /* Pods none of whose instances serve at t=0 are closed until they say otherwise. */
  for (uint32_t p = 0; p < m->pods; p++)
    if (!srv_pool_open(m, &m->pools[p], 0) &&
        srv_set_accepting(lp, r->region_pick[m->pod_region[p]], m->pod_region_slot[p], false) != 0)
      return -1;
  return pod_takes_create(lp, m, r);
}

/* The policies; the workload opens at init. */
static int router_create(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_router *r = lp->state;
  if (lp->index == 0)
    m->router = r;
  if (!(r->arrived = calloc(m->workload_models + 1, sizeof *r->arrived)) ||
      !(r->held_of = calloc(m->workload_models + 1, sizeof *r->held_of)))
    return core_fail(lp, "out of memory for the router's counts per model");
  if (m->regions)
    return front_door_create(lp, m, r);
  if (srv_picks_create(lp, m, m->pods ? NULL : &m->pools[0], &r->picks) != 0)
    return -1;
  if (!m->pods && srv_batch_create(lp, m, &m->pools[0], &r->batch) != 0)
    return -1;
  /* Instances that do not serve at t=0 take no work until they say they do (EV_READY), nor pods
   * none of whose instances do (EV_POD_STATE). */
  if (!m->pods)
    return srv_picks_initial(lp, m, &m->pools[0], &r->picks);
  for (uint32_t p = 0; p < m->pods; p++)
    if (!srv_pool_open(m, &m->pools[p], 0) &&
        srv_set_accepting(lp, r->picks.pick[0], p, false) != 0)
      return -1;
  return pod_takes_create(lp, m, r);
}

static void router_destroy(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_router *r = lp->state;
  job_source_close(r->src);
  srv_picks_destroy(&r->picks);
  for (uint32_t g = 0; r->region_pick && g < m->regions; g++)
    job_router_destroy(r->region_pick[g]);
  free(r->region_pick);
  free(r->reported);
  free(r->sent_since);
  free(r->pod_takes);
  free(r->arrived);
  free(r->held_of);
  for (size_t i = 0; i < r->held_count; i++)
    free((void *)r->held[r->held_head + i].rr.block_hashes);
  free(r->held);
  srv_batch_destroy(&r->batch);
}

int srv_picks_save(const srv_picks *p, core_pack *out) {
  for (int pool = 0; pool < 2; pool++)
    if (p->pick[pool])
      job_router_save(p->pick[pool], out);
  return out->failed ? -1 : 0;
}

int srv_picks_load(srv_picks *p, core_unpack *in) {
  for (int pool = 0; pool < 2; pool++)
    if (p->pick[pool] && job_router_load(p->pick[pool], in) != 0)
      return -1;
  return 0;
}

/* Checkpoints. The workload's source is not packed: a restart opens it again and reads the
 * requests it had read (deterministic, and fast next to the run), the last of them `next`. */
static int router_save(const core_lp *lp, void *model, core_pack *out) {
  const srv_model *m = model;
  const srv_router *r = lp->state;
  CORE_PACK(out, r->read);
  CORE_PACK(out, r->has_next);
  CORE_PACK(out, r->next.id);
  CORE_PACK(out, r->next.arrival_ns); /* a closed loop's is when a client sent it */
  CORE_PACK(out, r->dispatched);
  CORE_PACK(out, r->skipped);
  CORE_PACK(out, r->unrouted);
  CORE_PACK(out, r->ready_clients);
  srv_picks_save(&r->picks, out);
  for (uint32_t g = 0; r->region_pick && g < m->regions; g++)
    job_router_save(r->region_pick[g], out);
  if (m->regions) {
    core_pack_array(out, r->reported, m->pods, sizeof *r->reported);
    core_pack_array(out, r->sent_since, m->pods, sizeof *r->sent_since);
  }
  if (r->pod_takes)
    core_pack_bytes(out, r->pod_takes, (size_t)m->workload_models * m->pods * sizeof *r->pod_takes);
  core_pack_array(out, r->arrived, m->workload_models + 1, sizeof *r->arrived);
  CORE_PACK(out, r->held_count);
  for (size_t i = 0; i < r->held_count; i++)
    srv_held_pack(&r->held[r->held_head + i], out);
  if (!m->pods)
    srv_batch_save(m, &r->batch, out);
  return out->failed ? -1 : 0;
}

static int router_load(core_lp *lp, void *model, core_unpack *in) {
  srv_model *m = model;
  srv_router *r = lp->state;
  uint64_t read;
  int64_t next_id, next_arrival_ns;
  bool has_next;
  CORE_UNPACK(in, read);
  CORE_UNPACK(in, has_next);
  CORE_UNPACK(in, next_id);
  CORE_UNPACK(in, next_arrival_ns);
  CORE_UNPACK(in, r->dispatched);
  CORE_UNPACK(in, r->skipped);
  CORE_UNPACK(in, r->unrouted);
  CORE_UNPACK(in, r->ready_clients);
  if (in->failed || read > m->workload_requests)
    return core_fail(lp, "checkpoint: the router's record is damaged");
  char err[512];
  if (srv_workload_open(&m->s->workload, &r->src, err, sizeof err) != 0)
    return core_fail(lp, "%s", err);
  int rc = 1;
  while (r->read < read && (rc = job_source_next(r->src, &r->next, err, sizeof err)) > 0)
    r->read++;
  if (rc < 0)
    return core_fail(lp, "%s", err);
  r->has_next = has_next;
  if (r->read != read || (has_next && r->next.id != next_id))
    return core_fail(lp, "checkpoint: the workload does not give request %lld where it did",
                     (long long)next_id);
  r->next.arrival_ns = next_arrival_ns;
  if (srv_picks_load(&r->picks, in) != 0)
    return core_fail(lp, "checkpoint: the router's policies do not load");
  for (uint32_t g = 0; r->region_pick && g < m->regions; g++)
    if (job_router_load(r->region_pick[g], in) != 0)
      return core_fail(lp, "checkpoint: the front door's policies do not load");
  size_t n;
  if (m->regions) {
    core_unpack_array_into(in, r->reported, sizeof *r->reported, m->pods, &n);
    core_unpack_array_into(in, r->sent_since, sizeof *r->sent_since, m->pods, &n);
  }
  size_t takes = r->pod_takes ? (size_t)m->workload_models * m->pods : 0;
  if (takes)
    core_unpack_bytes(in, r->pod_takes, takes * sizeof *r->pod_takes);
  for (size_t i = 0; i < takes && !in->failed; i++)
    if (((const unsigned char *)r->pod_takes)[i] > 1) /* not a bool */
      return core_fail(lp, "checkpoint: the router's record is damaged");
  core_unpack_array_into(in, r->arrived, sizeof *r->arrived, m->workload_models + 1, &n);
  if (!in->failed && n != m->workload_models + 1)
    return core_fail(lp, "checkpoint: the router's record is damaged");
  size_t held;
  CORE_UNPACK(in, held);
  rc = 0;
  for (size_t i = 0; i < held && !in->failed && rc == 0; i++) {
    dispatch_msg msg;
    job_route_request rr;
    uint64_t *hashes = srv_held_unpack(m, in, &msg, &rr);
    rc = in->failed ? -1 : hold(lp, r, &msg, &rr);
    free(hashes);
  }
  if (rc == 0 && !in->failed && !m->pods)
    rc = srv_batch_load(lp, m, &r->batch, in);
  return in->failed ? core_fail(lp, "checkpoint: the router's record is damaged") : rc;
}

const core_lp_type srv_router_type = {.name = "router",
                                      .state_bytes = sizeof(srv_router),
                                      .create = router_create,
                                      .init = router_init,
                                      .handle = router_handle,
                                      .finish = router_finish,
                                      .destroy = router_destroy,
                                      .save = router_save,
                                      .load = router_load};

void srv_progress(int64_t now_ns, double wall_s, uint64_t events, void *context) {
  const srv_model *m = context;
  fprintf(stderr, "windtunnel: simulated %.1f s, ", (double)now_ns * 1e-9);
  if (!m->router) { /* the first front door lives on another rank: no count here */
    fprintf(stderr, "%.2f M events/s\n", (double)events / wall_s * 1e-6);
    return;
  }
  /* the first front door reads every request, skipping other regions' */
  uint64_t done = m->router->dispatched + m->router->skipped;
  double share = m->workload_requests ? (double)done / (double)m->workload_requests : 0;
  fprintf(stderr, "%llu of %llu requests dispatched (%.0f%%), %.2f M events/s",
          (unsigned long long)done, (unsigned long long)m->workload_requests, 100 * share,
          (double)events / wall_s * 1e-6);
  if (share > 0.01)
    fprintf(stderr, ", ETA %.0f s", wall_s * (1 - share) / share);
  fputc('\n', stderr);
}
