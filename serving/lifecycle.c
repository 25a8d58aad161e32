/* An instance's lifecycle (deployments.N.scaling): off, provisioning (its node being acquired),
 * loading weights (the model's bytes at the lesser of the storage and network bandwidth), warm
 * (loaded, not serving) or serving, draining (finishing its requests while the router sends it
 * none), and off or warm again. Each change is a /lifecycle row; the time in each state, and the
 * busy part of serving, go to its /instances row (GPU-hours used, idle and wasted). Off, its
 * accelerators draw nothing; in every other state at least their idle power.
 *
 * Who says what: the controller starts an instance (EV_START), the instance steps through
 * provisioning and loading on its own and tells the router when it serves (EV_READY); a drain goes
 * through the router (EV_CLOSE, then EV_DRAIN after every request it already dispatched there), so
 * a draining instance never receives a request. The instance reports to the controller each state
 * it reaches on its own. With pods, "the router" is the instance's pod router (pod_router.c), and
 * the controller's commands and these reports take the hop between the instance's pod and the
 * controller (srv_controller_hop_ns). */
#include "serving/model.h"

static int64_t busy_until(const srv_instance *in, int64_t now_ns) {
  return in->busy_ns + (in->busy ? now_ns - in->iteration.start_ns : 0);
}

void srv_lifecycle_init(srv_model *m, srv_instance *in) {
  in->lc_state = m->initial_state ? m->initial_state[in->index] : SRV_LC_SERVING;
  in->lc_since_ns = 0;
  if (in->lc_state == SRV_LC_OFF)
    in->idle_w = in->device_w = 0; /* its accelerators draw nothing until it starts */
}

static int append_row(core_lp *lp, srv_model *m, srv_instance *in, srv_lc_state from,
                      srv_lc_state to, srv_lc_reason why) {
  srv_lifecycle_row row = {.time_ns = lp->now_ns,
                           .instance = in->index,
                           .seq = in->lc_seq++,
                           .from = from,
                           .to = to,
                           .reason = why,
                           .accelerators = in->devices};
  return srv_append(lp, m, m->t_lifecycle, &row, sizeof row);
}

int srv_lifecycle_initial_row(core_lp *lp, srv_model *m, srv_instance *in) {
  if (!m->initial_state || in->lc_state == SRV_LC_OFF)
    return 0;
  return append_row(lp, m, in, SRV_LC_OFF, in->lc_state, SRV_LC_INITIAL);
}

/* The change to `to` now, for `why`: its row, the time of the state it leaves, the busy part of
 * serving, and its power (none while off). */
static int change(core_lp *lp, srv_model *m, srv_instance *in, srv_lc_state to, srv_lc_reason why) {
  int64_t now_ns = lp->now_ns;
  srv_lc_state from = in->lc_state;
  in->lc_ns[from] += now_ns - in->lc_since_ns;
  if (from == SRV_LC_SERVING)
    in->serving_busy_ns += busy_until(in, now_ns) - in->busy_mark_ns;
  if (to == SRV_LC_SERVING)
    in->busy_mark_ns = busy_until(in, now_ns);
  if ((from == SRV_LC_OFF) != (to == SRV_LC_OFF)) {
    int rc = 0;
    srv_account_energy(m, in, now_ns, &rc); /* at the old draw until now */
    if (rc != 0)
      return core_fail(lp, SRV_ENERGY_BINS_FAILED);
    in->idle_w = to == SRV_LC_OFF ? 0 : hw_idle_power_w(in->deploy);
    in->device_w = in->idle_w;
  }
  in->lc_state = (uint8_t)to;
  in->lc_since_ns = now_ns;
  in->last_event_ns = now_ns > in->last_event_ns ? now_ns : in->last_event_ns;
  return append_row(lp, m, in, from, to, why);
}

/* The controller hears where the instance is (killed: a spot interruption's end stopped it). */
static int report(core_lp *lp, srv_model *m, srv_lc_state state, uint8_t killed) {
  return core_send(lp, srv_controller_lp(m), srv_controller_hop_ns(m, srv_instance_of(m, lp->id)),
                   EV_LC_REPORT, state, &killed, sizeof killed);
}

/* It reached `state` on its own: the controller hears of it, and the router too when it serves. */
static int reached(core_lp *lp, srv_model *m, srv_instance *in, srv_lc_state state,
                   srv_lc_reason why) {
  int64_t latency_ns = m->s->router.dispatch_latency_ns;
  if (change(lp, m, in, state, why) != 0 || report(lp, m, state, 0) != 0)
    return -1;
  if (state == SRV_LC_SERVING)
    return core_send(lp, srv_instance_router_lp(m, in->index), latency_ns, EV_READY, 0, NULL, 0);
  return 0;
}

int srv_lifecycle_bounce(core_lp *lp, srv_model *m, const dispatch_msg *d) {
  return core_send(lp, srv_instance_router_lp(m, srv_instance_of(m, lp->id)),
                   m->s->router.dispatch_latency_ns, EV_RETRY, 0, d, sizeof *d);
}

/* A spot interruption's notice is over: the instance stops now, whatever it runs. The router hears
 * first that it is gone, then gets its unfinished requests back to serve them elsewhere (from
 * scratch: their KV goes with the node, as does the scheduler's state). The open iteration's
 * work is lost: its time counts as idle. */
static int stop_now(core_lp *lp, srv_model *m, srv_instance *in) {
  if (in->lc_state == SRV_LC_OFF)
    return report(lp, m, SRV_LC_OFF, 1);
  if (in->tier)
    return core_fail(lp,
                     "instance %u: spot interruptions of instances sharing a KV tier are not "
                     "modelled",
                     in->index);
  int rc = 0;
  srv_account_energy(m, in, lp->now_ns, &rc); /* at its draw until now */
  if (rc != 0)
    return core_fail(lp, SRV_ENERGY_BINS_FAILED);
  in->busy = false;
  in->leap_len = 0;
  in->end_gen++; /* its awaited iteration end is stale */
  in->device_w = in->idle_w;
  if (core_send(lp, srv_instance_router_lp(m, in->index), m->s->router.dispatch_latency_ns, EV_GONE,
                0, NULL, 0) != 0)
    return -1;
  while (in->live.next != &in->live) {
    srv_req *rec = in->live.next;
    dispatch_msg d = srv_row_dispatch(m, &rec->row);
    if (srv_lifecycle_bounce(lp, m, &d) != 0)
      return -1;
    srv_req_drop(in, rec);
  }
  if (srv_instance_new_scheduler(lp, m, in) != 0 ||
      change(lp, m, in, SRV_LC_OFF, SRV_LC_INTERRUPTED) != 0)
    return -1;
  return report(lp, m, SRV_LC_OFF, 1);
}

/* Provisioned: loading the weights, then its goal. */
static int load(core_lp *lp, srv_model *m, srv_instance *in) {
  if (change(lp, m, in, SRV_LC_LOADING, SRV_LC_PROVISIONED) != 0)
    return -1;
  int64_t load_ns = m->load_ns[m->instance_deployment[in->index]];
  if (load_ns > 0)
    return core_send(lp, lp->id, load_ns, EV_LC_STEP, in->lc_seq, NULL, 0);
  return reached(lp, m, in, (srv_lc_state)in->lc_goal, SRV_LC_LOADED);
}

int srv_lifecycle_handle(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev) {
  const srv_scaling *sc = &in->dep->scaling;
  switch (ev->kind) {
  case EV_START:
    in->lc_goal = (uint8_t)ev->aux;
    if (in->lc_state == SRV_LC_WARM) /* loaded already: it serves at once */
      return reached(lp, m, in, SRV_LC_SERVING, SRV_LC_SCALE_UP);
    if (in->lc_state != SRV_LC_OFF)
      return core_fail(lp, "instance %u: started while in state %u", in->index, in->lc_state);
    if (change(lp, m, in, SRV_LC_PROVISIONING,
               ev->aux == SRV_LC_WARM ? SRV_LC_WARM_POOL : SRV_LC_SCALE_UP) != 0)
      return -1;
    if (sc->provision_ns > 0)
      return core_send(lp, lp->id, sc->provision_ns, EV_LC_STEP, in->lc_seq, NULL, 0);
    return load(lp, m, in); /* a node at hand: no event 0 ns later (the engine refuses one) */
  case EV_LC_STEP: /* aux: its change count when sent; another change since (a kill) voids it */
    if (ev->aux != in->lc_seq)
      return 0;
    if (in->lc_state == SRV_LC_PROVISIONING)
      return load(lp, m, in);
    return reached(lp, m, in, (srv_lc_state)in->lc_goal, SRV_LC_LOADED);
  case EV_DRAIN: /* aux bit 0: end warm; bit 1: a spot interruption's notice */
    if (in->lc_state != SRV_LC_SERVING && in->lc_state != SRV_LC_DRAINING)
      return 0; /* a kill came first */
    in->lc_goal = ev->aux & 1 ? SRV_LC_WARM : SRV_LC_OFF;
    if (in->lc_state == SRV_LC_DRAINING)
      return 0;
    return change(lp, m, in, SRV_LC_DRAINING, ev->aux & 2 ? SRV_LC_INTERRUPTED : SRV_LC_SCALE_DOWN);
  case EV_KILL: return stop_now(lp, m, in);
  default: return core_fail(lp, "instance %u: unexpected event kind %u", in->index, ev->kind);
  }
}

int srv_lifecycle_settle(core_lp *lp, srv_model *m, srv_instance *in) {
  if (in->lc_state != SRV_LC_DRAINING || in->busy || in->live.next != &in->live)
    return 0;
  return reached(lp, m, in, (srv_lc_state)in->lc_goal, SRV_LC_DRAINED);
}

void srv_lifecycle_close(srv_instance *in, int64_t end_ns) {
  if (end_ns <= in->lc_since_ns)
    return;
  if (in->lc_state == SRV_LC_SERVING)
    in->serving_busy_ns += in->busy_ns - in->busy_mark_ns;
  in->lc_ns[in->lc_state] += end_ns - in->lc_since_ns;
  in->lc_since_ns = end_ns;
}
