/* The controller LP (deployments.N.scaling): one for every scaling deployment, on the router's
 * partition. Every sample it asks the router for what the router sees (EV_METRICS_ASK, a
 * nanosecond each way; with pods, below) and decides each deployment's instance count by its
 * controller: reactive (Kubernetes HPA on requests outstanding and waiting per instance) or
 * forecast-driven (Holt-Winters on the per-bin request rate seen so far, an allocation every
 * interval covering the time a started instance needs to serve plus the interval). It starts
 * instances (EV_START, after the dispatch latency, as the router's own messages), drains them
 * through the router (EV_CLOSE) and keeps the warm pool full; instances report the states they
 * reach on their own (EV_LC_REPORT).
 *
 * Its view of an instance runs ahead of the instance's own state: started (to serve or to warm)
 * from the decision, and draining from the decision until the instance reports it has stopped.
 * Scale-down drains serving instances, the highest index first; scale-up takes warm instances
 * first, then off ones, the lowest index first.
 *
 * With pods (router.pods, and regions) there is still one controller, global, beside the first
 * front door (the global router without regions), scaling every region's instances of each
 * deployment as one fleet: it asks every front door (arrivals, held requests, whether it has read
 * its last request) and every pod router (outstanding requests at its accepting instances, and
 * requests that left the pod), each after the hop between them, and decides when the last answer
 * of a sample is in: its view is what could have reached it. Drains go through the instance's pod
 * router; starts and the instances' reports take the hop between the controller and the pod. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serving/model.h"

typedef enum view {
  VIEW_OFF,
  VIEW_TO_SERVE, /* started, or activated from warm: serving once it reports */
  VIEW_SERVING,
  VIEW_TO_WARM, /* started to refill the warm pool */
  VIEW_WARM,
  VIEW_DRAINING,    /* until it reports off or warm */
  VIEW_INTERRUPTED, /* spot: noticed, until the kill's report */
} view;

/* How often a controller without decisions asks the router whether the workload is over, so that
 * spot interruptions stop with it: a simulation bookkeeping period, not a modelled one. */
static const int64_t spot_poll_ns = 60000000000LL;

typedef struct ctl_deployment {
  int64_t next_ns;  /* its next sample */
  bool due;         /* a sample asked for: decide when the routers' answers are in */
  int64_t asked_ns; /* when it was asked */
  metrics_msg sum;  /* the answers in so far, added up */
  uint32_t answers;
  uint64_t last_arrived;
  job_hpa hpa;
  job_holt_winters hw;
  double share; /* of the stream's requests it forecasts for */
} ctl_deployment;

typedef struct srv_controller {
  ctl_deployment *deps;
  uint8_t *view;    /* [instances] */
  uint8_t *to_warm; /* [instances]: a drain that ends warm */
  bool stopped;     /* the workload is over */
  int64_t poll_ns;  /* spot interruptions without a controller: how often to ask if it is over */
} srv_controller;

/* The routers that answer a sample: the one router, or every front door and pod router. */
static uint32_t sources(const srv_model *m) {
  return m->pods ? (m->regions ? m->regions : 1) + m->pods : 1;
}

/* The controller's drain of instance i goes to its router: the one router, beside it, or its pod's
 * router, a front door's hop away. */
static int close_instance(core_lp *lp, srv_model *m, uint32_t i, uint8_t how) {
  int64_t hop_ns = m->pods ? srv_pod_hop_ns(m, 0, m->instance_pod[i]) : 1;
  return core_send(lp, srv_instance_router_lp(m, i), hop_ns, EV_CLOSE, i, &how, sizeof how);
}

static uint32_t first_of(const srv_model *m, size_t d) { return m->deployment_first[d]; }
static uint32_t end_of(const srv_model *m, size_t d) { return m->deployment_first[d + 1]; }

static uint32_t count_view(const srv_controller *c, const srv_model *m, size_t d, view v) {
  uint32_t n = 0;
  for (uint32_t i = first_of(m, d); i < end_of(m, d); i++)
    n += c->view[i] == v;
  return n;
}

/* The first `spot` of the deployment's instances counted from its last. */
static bool is_spot(const srv_model *m, size_t d, uint32_t i) {
  return i >= end_of(m, d) - m->s->deployments[d].scaling.spot;
}

/* Schedules spot instance i's next interruption: exponential gaps from `after`. */
static int next_interruption(core_lp *lp, srv_model *m, uint32_t i, int64_t after_ns) {
  const srv_scaling *sc = &m->s->deployments[m->instance_deployment[i]].scaling;
  double gap_s = -log1p(-core_rng_uniform(&lp->rng)) / sc->spot_interruptions_per_s;
  double at_ns = (double)after_ns + gap_s * 1e9;
  if (!(at_ns < (double)m->end_ns) || at_ns >= 4e18)
    return 0;
  int64_t at = (int64_t)at_ns > lp->now_ns ? (int64_t)at_ns : lp->now_ns + 1;
  return core_send(lp, lp->id, at - lp->now_ns, EV_INTERRUPT, i, NULL, 0);
}

/* Spot instance i gets its notice: the router stops sending it work (it drains) and the
 * instance stops when the notice ends. Then its next interruption. */
static int interrupt(core_lp *lp, srv_model *m, srv_controller *c, uint32_t i) {
  if (c->stopped)
    return 0;
  const srv_scaling *sc = &m->s->deployments[m->instance_deployment[i]].scaling;
  if (c->view[i] != VIEW_OFF && c->view[i] != VIEW_INTERRUPTED) {
    if (c->view[i] == VIEW_SERVING || c->view[i] == VIEW_DRAINING) {
      if (close_instance(lp, m, i, 2) != 0) /* bit 1: interrupted; bit 0 (to warm) clear */
        return -1;
    }
    c->view[i] = VIEW_INTERRUPTED;
    if (core_send(lp, srv_instance_lp(m, i), sc->spot_notice_ns, EV_KILL, 0, NULL, 0) != 0)
      return -1;
  }
  return next_interruption(lp, m, i, lp->now_ns + sc->spot_notice_ns);
}

static int start(core_lp *lp, srv_model *m, srv_controller *c, uint32_t i, srv_lc_state goal) {
  c->view[i] = goal == SRV_LC_SERVING ? VIEW_TO_SERVE : VIEW_TO_WARM;
  return core_send(lp, srv_instance_lp(m, i), srv_controller_hop_ns(m, i), EV_START, goal, NULL, 0);
}

/* Drained instances and new ones refill the warm pool up to its size. */
static uint32_t warm_pool(const srv_controller *c, const srv_model *m, size_t d) {
  uint32_t n = count_view(c, m, d, VIEW_WARM) + count_view(c, m, d, VIEW_TO_WARM);
  for (uint32_t i = first_of(m, d); i < end_of(m, d); i++)
    n += c->view[i] == VIEW_DRAINING && c->to_warm[i];
  return n;
}

/* Moves the deployment towards `target` serving (or starting) instances. */
static int scale_to(core_lp *lp, srv_model *m, srv_controller *c, size_t d, uint32_t target) {
  const srv_scaling *sc = &m->s->deployments[d].scaling;
  uint32_t active = count_view(c, m, d, VIEW_TO_SERVE) + count_view(c, m, d, VIEW_SERVING);
  for (uint32_t i = first_of(m, d); active < target && i < end_of(m, d); i++)
    if (c->view[i] == VIEW_WARM) {
      if (start(lp, m, c, i, SRV_LC_SERVING) != 0)
        return -1;
      active++;
    }
  for (uint32_t i = first_of(m, d); active < target && i < end_of(m, d); i++)
    if (c->view[i] == VIEW_OFF) {
      if (start(lp, m, c, i, SRV_LC_SERVING) != 0)
        return -1;
      active++;
    }
  for (uint32_t i = end_of(m, d); active > target && i-- > first_of(m, d);)
    if (c->view[i] == VIEW_SERVING) {
      uint8_t to_warm = warm_pool(c, m, d) < sc->warm;
      c->view[i] = VIEW_DRAINING;
      c->to_warm[i] = to_warm;
      if (close_instance(lp, m, i, to_warm) != 0)
        return -1;
      active--;
    }
  for (uint32_t i = first_of(m, d); warm_pool(c, m, d) < sc->warm && i < end_of(m, d); i++)
    if (c->view[i] == VIEW_OFF && start(lp, m, c, i, SRV_LC_WARM) != 0)
      return -1;
  return 0;
}

/* A deployment's sample at time `at` with the router's metrics: the forecast's bin, and the
 * decision when one is due. */
static int sample(core_lp *lp, srv_model *m, srv_controller *c, size_t d, int64_t at_ns,
                  const metrics_msg *mm) {
  const srv_scaling *sc = &m->s->deployments[d].scaling;
  ctl_deployment *cd = &c->deps[d];
  uint32_t active = count_view(c, m, d, VIEW_TO_SERVE) + count_view(c, m, d, VIEW_SERVING);
  int64_t target;
  if (sc->controller == SRV_CONTROLLER_REACTIVE) {
    target = job_hpa_decide(&cd->hpa, at_ns, active, (double)mm->outstanding + mm->held);
    if (target < 0)
      return core_fail(lp, "out of memory for the controller's recommendations");
  } else {
    job_holt_winters_observe(&cd->hw, (double)(mm->arrived - cd->last_arrived) * cd->share);
    cd->last_arrived = mm->arrived;
    if (at_ns % sc->interval_ns != 0)
      return 0;
    /* From when an instance started now serves to the end of the next allocation. */
    int64_t lead_ns = sc->provision_ns + m->load_ns[d] + sc->interval_ns;
    uint32_t bins = (uint32_t)((lead_ns + sc->bin_ns - 1) / sc->bin_ns);
    double capacity = sc->capacity_per_s * (double)sc->bin_ns * 1e-9;
    target = job_forecast_instances(&cd->hw, 1, bins, capacity, sc->min, sc->max);
  }
  return scale_to(lp, m, c, d, (uint32_t)target);
}

static int64_t step_ns(const srv_scaling *sc) {
  return sc->controller == SRV_CONTROLLER_FORECAST ? sc->bin_ns : sc->interval_ns;
}

/* Asks the routers for the deployments whose sample is due now, and wakes at the next one. */
static int tick(core_lp *lp, srv_model *m, srv_controller *c) {
  if (c->stopped)
    return 0;
  int64_t next_ns = INT64_MAX;
  for (size_t d = 0; d < m->s->deployment_count; d++) {
    const srv_scaling *sc = &m->s->deployments[d].scaling;
    ctl_deployment *cd = &c->deps[d];
    if (!sc->enabled || sc->controller == SRV_CONTROLLER_NONE)
      continue;
    if (cd->next_ns == lp->now_ns) {
      cd->due = true;
      cd->asked_ns = lp->now_ns;
      cd->next_ns += step_ns(sc);
    }
    next_ns = cd->next_ns < next_ns ? cd->next_ns : next_ns;
  }
  if (c->poll_ns && lp->now_ns + c->poll_ns < next_ns)
    next_ns = lp->now_ns + c->poll_ns;
  if (core_send(lp, srv_router_lp(m), 1, EV_METRICS_ASK, 0, NULL, 0) != 0)
    return -1;
  for (uint32_t g = 1; g < m->regions; g++)
    if (core_send(lp, srv_front_door_lp(m, g), srv_region_hop_ns(m, 0, g), EV_METRICS_ASK, 0, NULL,
                  0) != 0)
      return -1;
  for (uint32_t p = 0; p < m->pods; p++)
    if (core_send(lp, srv_pod_router_lp(m, p), srv_pod_hop_ns(m, 0, p), EV_METRICS_ASK, 0, NULL,
                  0) != 0)
      return -1;
  if (next_ns < m->end_ns)
    return core_send(lp, lp->id, next_ns - lp->now_ns, EV_TICK, 0, NULL, 0);
  return 0;
}

static int controller_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_controller *c = lp->state;
  switch (ev->kind) {
  case EV_TICK: return tick(lp, m, c);
  case EV_METRICS: { /* one router's answer: the sample is in with the last of them */
    metrics_msg a;
    memcpy(&a, ev->payload.bytes, sizeof a);
    ctl_deployment *cd = &c->deps[ev->aux];
    metrics_msg *mm = &cd->sum;
    mm->arrived += a.arrived, mm->outstanding += a.outstanding, mm->held += a.held;
    mm->finished += a.finished, mm->unfinished += a.unfinished;
    if (++cd->answers < sources(m))
      return 0;
    metrics_msg all = *mm;
    *mm = (metrics_msg){0};
    cd->answers = 0;
    /* with pods: every front door has read its last request, and every request it sent left */
    c->stopped |= all.finished == sources(m) && all.unfinished == 0;
    if (!cd->due)
      return 0;
    cd->due = false;
    return sample(lp, m, c, ev->aux, cd->asked_ns, &all);
  }
  case EV_INTERRUPT: return interrupt(lp, m, c, ev->aux);
  case EV_LC_REPORT: {
    uint32_t i = srv_instance_of(m, ev->src_lp);
    if (c->view[i] == VIEW_INTERRUPTED && !ev->payload.bytes[0])
      return 0; /* it drained or started before the kill: the kill's report decides */
    c->view[i] = ev->aux == SRV_LC_SERVING ? VIEW_SERVING
                 : ev->aux == SRV_LC_WARM  ? VIEW_WARM
                                           : VIEW_OFF;
    return 0;
  }
  default: return core_fail(lp, "controller: unexpected event kind %u", ev->kind);
  }
}

static int controller_init(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_controller *c = lp->state;
  int64_t first_ns = INT64_MAX;
  for (size_t d = 0; d < m->s->deployment_count; d++) {
    const srv_scaling *sc = &m->s->deployments[d].scaling;
    if (sc->enabled && sc->controller != SRV_CONTROLLER_NONE) {
      c->deps[d].next_ns = step_ns(sc); /* the first sample closes the first bin or interval */
      first_ns = c->deps[d].next_ns < first_ns ? c->deps[d].next_ns : first_ns;
    }
  }
  for (size_t d = 0; d < m->s->deployment_count; d++)
    for (uint32_t i = first_of(m, d); i < end_of(m, d); i++)
      if (m->s->deployments[d].scaling.spot_interruptions_per_s > 0 && is_spot(m, d, i)) {
        if (next_interruption(lp, m, i, 0) != 0)
          return -1;
        /* interruptions go on until the workload is over: someone must ask when it is */
        c->poll_ns = first_ns == INT64_MAX ? spot_poll_ns : 0;
      }
  first_ns = c->poll_ns && c->poll_ns < first_ns ? c->poll_ns : first_ns;
  return first_ns < m->end_ns ? core_send(lp, lp->id, first_ns, EV_TICK, 0, NULL, 0) : 0;
}

static int controller_create(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_controller *c = lp->state;
  const srv_scenario *s = m->s;
  c->deps = calloc(s->deployment_count, sizeof *c->deps);
  c->view = calloc(m->instances, 1);
  c->to_warm = calloc(m->instances, 1);
  if (!c->deps || !c->view || !c->to_warm)
    return core_fail(lp, "out of memory for the controller");
  for (size_t d = 0; d < s->deployment_count; d++) {
    const srv_scaling *sc = &s->deployments[d].scaling;
    ctl_deployment *cd = &c->deps[d];
    job_hpa_init(&cd->hpa, &sc->hpa);
    if (sc->controller == SRV_CONTROLLER_FORECAST) {
      /* The requests a deployment may serve (all of them, or with model routing those naming
       * none or its model) feed every forecasting deployment that may serve them: each forecasts
       * its share, by its largest size, among those of its model when requests name models. */
      double of = 0;
      for (size_t e = 0; e < s->deployment_count; e++)
        if (s->deployments[e].scaling.controller == SRV_CONTROLLER_FORECAST &&
            (!m->model_deployments || s->deployments[e].model == s->deployments[d].model))
          of += s->deployments[e].scaling.max;
      cd->share = of > 0 ? sc->max / of : 0;
      if (job_holt_winters_init(&cd->hw, (uint32_t)(sc->season_ns / sc->bin_ns), sc->alpha,
                                sc->beta, sc->gamma) != 0)
        return core_fail(lp, "out of memory for the forecast of deployment %zu", d);
    }
  }
  for (uint32_t i = 0; i < m->instances; i++)
    c->view[i] = m->initial_state[i] == SRV_LC_SERVING ? VIEW_SERVING
                 : m->initial_state[i] == SRV_LC_WARM  ? VIEW_WARM
                                                       : VIEW_OFF;
  return 0;
}

static void controller_destroy(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_controller *c = lp->state;
  for (size_t d = 0; c->deps && d < m->s->deployment_count; d++) {
    job_hpa_free(&c->deps[d].hpa);
    job_holt_winters_free(&c->deps[d].hw);
  }
  free(c->deps);
  free(c->view);
  free(c->to_warm);
}

/* Checkpoints: each deployment's sampling and controller state, and the views. */
static int controller_save(const core_lp *lp, void *model, core_pack *out) {
  const srv_model *m = model;
  const srv_controller *c = lp->state;
  for (size_t d = 0; d < m->s->deployment_count; d++) {
    const ctl_deployment *cd = &c->deps[d];
    CORE_PACK(out, cd->next_ns);
    CORE_PACK(out, cd->due);
    CORE_PACK(out, cd->asked_ns);
    CORE_PACK(out, cd->sum);
    CORE_PACK(out, cd->answers);
    CORE_PACK(out, cd->last_arrived);
    job_hpa_save(&cd->hpa, out);
    if (m->s->deployments[d].scaling.controller == SRV_CONTROLLER_FORECAST)
      job_holt_winters_save(&cd->hw, out);
  }
  core_pack_array(out, c->view, m->instances, 1);
  core_pack_array(out, c->to_warm, m->instances, 1);
  CORE_PACK(out, c->stopped);
  CORE_PACK(out, c->poll_ns);
  return out->failed ? -1 : 0;
}

static int controller_load(core_lp *lp, void *model, core_unpack *in) {
  srv_model *m = model;
  srv_controller *c = lp->state;
  for (size_t d = 0; d < m->s->deployment_count && !in->failed; d++) {
    ctl_deployment *cd = &c->deps[d];
    CORE_UNPACK(in, cd->next_ns);
    CORE_UNPACK(in, cd->due);
    CORE_UNPACK(in, cd->asked_ns);
    CORE_UNPACK(in, cd->sum);
    CORE_UNPACK(in, cd->answers);
    CORE_UNPACK(in, cd->last_arrived);
    if (job_hpa_load(&cd->hpa, in) != 0 ||
        (m->s->deployments[d].scaling.controller == SRV_CONTROLLER_FORECAST &&
         job_holt_winters_load(&cd->hw, in) != 0))
      in->failed = true;
  }
  size_t views, warms;
  core_unpack_array_into(in, c->view, 1, m->instances, &views);
  core_unpack_array_into(in, c->to_warm, 1, m->instances, &warms);
  CORE_UNPACK(in, c->stopped);
  CORE_UNPACK(in, c->poll_ns);
  if (in->failed || views != m->instances || warms != m->instances)
    return core_fail(lp, "checkpoint: the controller's record is damaged");
  return 0;
}

const core_lp_type srv_controller_type = {.name = "controller",
                                          .state_bytes = sizeof(srv_controller),
                                          .create = controller_create,
                                          .init = controller_init,
                                          .handle = controller_handle,
                                          .destroy = controller_destroy,
                                          .save = controller_save,
                                          .load = controller_load};
