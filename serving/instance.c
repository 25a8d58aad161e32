/* The instance LP: one model instance running its scheduler (jobs/sched) iteration by iteration,
 * each iteration priced by hw/ and lasting its price (plus KV-tier copies), its devices drawing
 * hw/'s power while busy and idle power between iterations, and its energy shared among the
 * iteration's requests by the tokens each computed. Its requests' and iterations' rows go to the
 * timeline. In disaggregated scenarios it plays the prefill or the decode side of the hand-off
 * (handoff.c).
 *
 * Leaps: when the scheduler can promise that the next iterations run the same requests one decode
 * each (job_sched_steady), the instance prices them at once and awaits only the last one's end;
 * the others run, exactly as stepping would run them, when that event comes, when another event
 * reaches the instance first (which cuts the leap where it falls), or at the end of the run. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serving/model.h"

/* Each thread's price cache of a deployment holds 4 ways * 2^PRICE_CACHE_SETS_LOG2 prices of
 * single shapes (72 bytes each: 1.1 MiB) and 4 ways * 2^(PRICE_CACHE_SETS_LOG2 - 3) runs of 64
 * decode prices (1,056 bytes each: 2.1 MiB). The default example meets 14,503 distinct batch
 * shapes in 4.03 M iterations; the single-shape table alone missed 21,932 times there (2^13
 * sets: 15,551; 2^11: 54,770), with the runs 19,258. */
enum { PRICE_CACHE_SETS_LOG2 = 12 };

/* Its price: duration (at least 1 ns) and each device's power, from its thread's memo when it has
 * one (the same numbers, bit for bit). */
static int64_t price(const srv_instance *in, const hw_batch *hw, double *power_w) {
  int64_t duration_ns;
  if (in->price_cache) {
    duration_ns = hw_price_cache_iteration_ns(in->price_cache, hw, power_w);
  } else {
    hw_breakdown cost;
    duration_ns = hw_iteration_ns(in->deploy, hw, &cost);
    *power_w = cost.power_w;
  }
  return duration_ns < 1 ? 1 : duration_ns;
}

/* The prices of the batch `first` and of the n - 1 iterations after it in a leap (each with
 * decode_seqs more context tokens than the one before), as price() gives them: a leap's from one
 * run of the price cache's decode table, side by side. */
static void price_steps(const srv_instance *in, const hw_batch *first, uint32_t n,
                        int64_t *duration_ns, double *power_w) {
  hw_batch b = *first;
  if (in->price_cache && n > 1) {
    b.decode_ctx_tokens -= b.decode_seqs; /* the run starts after this one */
    hw_price_cache_decode_run(in->price_cache, &b, n, duration_ns, power_w);
    for (uint32_t j = 0; j < n; j++)
      duration_ns[j] = duration_ns[j] < 1 ? 1 : duration_ns[j];
    return;
  }
  for (uint32_t j = 0; j < n; j++, b.decode_ctx_tokens += b.decode_seqs)
    duration_ns[j] = price(in, &b, &power_w[j]);
}

/* Of power_w over an iteration of duration_ns with host_ns of host work, the share that is the
 * host's CPUs (hw_power_iteration adds cpu_busy_w over the host time). */
static inline double host_cpu_share(double cpu_busy_w, double host_ns, int64_t duration_ns) {
  double duration = (double)duration_ns;
  return cpu_busy_w > 0.0 ? cpu_busy_w * (host_ns < duration ? host_ns : duration) / duration : 0.0;
}

/* llround(x) for 0 <= x < 2^63, without a call: x - trunc(x) is exact. */
static inline int64_t round_nonnegative(double x) {
  int64_t whole = (int64_t)x;
  return whole + (x - (double)whole >= 0.5);
}

/* Opens the iteration job_sched_step formed at start_ns: it lasts duration_ns, each device drawing
 * power_w. */
static void open_iteration(srv_instance *in, const job_sched_batch *b, int64_t start_ns,
                           int64_t duration_ns, double power_w) {
  in->busy = true;
  in->device_w = power_w;
  double cpu_busy_w = in->deploy->accel.power.host_cpu_busy_w;
  in->host_cpu_w = cpu_busy_w > 0.0
                       ? host_cpu_share(cpu_busy_w, hw_host_ns(in->deploy, &b->hw), duration_ns)
                       : 0.0;
  in->seqs = b->seqs;
  in->num_seqs = b->num_seqs;
  in->batch_tokens = b->hw.prefill_tokens + b->hw.decode_seqs;
  in->iteration = (srv_iteration_row){
      .instance = in->index,
      .index = in->iterations,
      .start_ns = start_ns,
      .end_ns = start_ns + duration_ns,
      .prefill_seqs = b->hw.prefill_seqs,
      .prefill_tokens = b->hw.prefill_tokens,
      .decode_seqs = b->hw.decode_seqs,
      .kv_blocks_used = b->kv_blocks_used,
      .decode_ctx_tokens = (uint32_t)b->hw.decode_ctx_tokens,
  };
  if (b->kv_blocks_used > in->kv_blocks_peak)
    in->kv_blocks_peak = b->kv_blocks_used;
}

/* With the engine's output lag, the first tokens sampled in the previous iteration reach their
 * clients once this iteration's host work is done: the engine processes them while its kernels
 * run. */
static void see_lagged_first_tokens(srv_instance *in, const job_sched_batch *b, int64_t start_ns,
                                    int64_t duration_ns) {
  int64_t seen_ns = start_ns + (int64_t)fmin(hw_host_ns(in->deploy, &b->hw), (double)duration_ns);
  for (uint32_t i = 0; i < b->num_seqs; i++) {
    srv_req *rec = b->seqs[i].user;
    if (rec->client_first_token && rec->row.decode_instance < 0)
      rec->row.first_token_ns = seen_ns, rec->client_first_token = false;
  }
}

/* The awaited end of the open iteration (or of the leap): any earlier one is now stale. */
static int send_end(core_lp *lp, srv_instance *in, int64_t end_ns) {
  return core_send(lp, lp->id, end_ns - lp->now_ns, EV_ITERATION_END, ++in->end_gen, NULL, 0);
}

/* A leap of `steady` iterations from the open one (job_sched_steady), priced: the rest's batches
 * differ from the first only by their longer contexts. */
static int plan_leap(srv_instance *in, const int64_t *duration_ns, const double *power_w,
                     uint32_t steady) {
  if (!in->leap && !(in->leap = malloc(SRV_LEAP_MAX * sizeof *in->leap)))
    return -1;
  assert(steady <= SRV_LEAP_MAX);
  in->leap[0] = (srv_leap_step){in->iteration.end_ns, in->device_w};
  for (uint32_t j = 1; j < steady; j++)
    in->leap[j] = (srv_leap_step){in->leap[j - 1].end_ns + duration_ns[j], power_w[j]};
  in->leap_at = 0;
  in->leap_len = steady;
  in->leaps++;
  return 0;
}

int srv_start_iteration(core_lp *lp, srv_model *m, srv_instance *in) {
  job_sched_batch b;
  job_sched_step(in->sched, lp->now_ns, &b);
  bool landed = false; /* an instant transfer completed: the step may now have work */
  for (uint32_t i = 0; i < b.num_events; i++) {
    const job_sched_event *ev = &b.events[i];
    srv_req *rec = ev->user;
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
      if (srv_pull_kv(lp, m, in, rec, ev->prefix_hit_tokens) != 0)
        return -1;
      landed |= m->s->network.instant_kv;
    }
  }
  int rc = 0;
  srv_account_energy(m, in, lp->now_ns, &rc); /* idle until now */
  if (rc != 0)
    return core_fail(lp, SRV_ENERGY_BINS_FAILED);
  if (b.num_seqs == 0) {
    in->seqs = b.seqs;
    in->num_seqs = 0;
    in->busy = false;
    return landed ? srv_start_iteration(lp, m, in) : 0;
  }
  uint32_t steady = m->s->simulation.leaps ? job_sched_steady(in->sched, SRV_LEAP_MAX) : 1;
  int64_t durations_ns[SRV_LEAP_MAX];
  double powers_w[SRV_LEAP_MAX];
  price_steps(in, &b.hw, steady, durations_ns, powers_w);
  double power_w = powers_w[0];
  int64_t duration_ns = durations_ns[0];
  if (in->tier && (b.tier_load_bytes || b.tier_store_bytes)) {
    int64_t tier_ns =
        job_kv_tier_transfer_ns(b.tier_load_bytes, in->tier->bytes_per_s, in->tier->latency_ns) +
        job_kv_tier_transfer_ns(b.tier_store_bytes, in->tier->bytes_per_s, in->tier->latency_ns);
    /* The devices wait for the copies at idle power, then run the batch. */
    power_w = (power_w * (double)duration_ns + in->idle_w * (double)tier_ns) /
              (double)(duration_ns + tier_ns);
    duration_ns += tier_ns;
    in->tier_ns += tier_ns;
  }
  open_iteration(in, &b, lp->now_ns, duration_ns, power_w);
  if (in->dep->output_lag)
    see_lagged_first_tokens(in, &b, lp->now_ns, duration_ns);
  if (steady > 1 && plan_leap(in, durations_ns, powers_w, steady) != 0)
    return core_fail(lp, "out of memory for a leap");
  return send_end(lp, in, steady > 1 ? in->leap[steady - 1].end_ns : in->iteration.end_ns);
}

static int finish_request(core_lp *lp, srv_model *m, srv_instance *in, srv_req *rec) {
  if (rec->row.decode_instance >= 0 && rec->row.decode_instance != (int32_t)in->index)
    return srv_hand_off(lp, m, rec);
  rec->row.done_ns = lp->now_ns;
  rec->row.fate = SRV_FATE_COMPLETED;
  int rc = srv_append_request(lp, m, &rec->row);
  if (rc == 0)
    rc = srv_complete_at_router(lp, m, rec);
  srv_req_drop(in, rec);
  in->completed++;
  return rc;
}

/* Closes the open iteration and, in a leap, the n - 1 after it (steps[0..n): where each ends and
 * what each device draws; iteration k > 0 runs the open batch with k x decode_seqs more context
 * tokens, kv_blocks_used[k - 1] blocks and host_ns of host work): each one's time, KV block-ns,
 * energy (joules[k]), host CPU energy and row, the sums closing them one at a time makes, bit for
 * bit. The last one closed stays in in->iteration. */
static int close_run(core_lp *lp, srv_model *m, srv_instance *in, const srv_leap_step *steps,
                     uint32_t n, const uint32_t *kv_blocks_used, double host_ns, double *joules) {
  int rc = 0;
  srv_account_energy_run(m, in, steps, n, joules, &rc);
  if (rc != 0)
    return core_fail(lp, SRV_ENERGY_BINS_FAILED);
  double cpu_busy_w = in->deploy->accel.power.host_cpu_busy_w;
  int64_t host_nj = 0, start_ns = in->iteration.start_ns;
  uint32_t kv_blocks = in->iteration.kv_blocks_used;
  for (uint32_t k = 0; k < n; start_ns = steps[k++].end_ns) {
    int64_t duration_ns = steps[k].end_ns - start_ns;
    if (k > 0) { /* opened where the one before closed, as open_iteration opens it */
      kv_blocks = kv_blocks_used[k - 1];
      in->kv_blocks_peak = kv_blocks > in->kv_blocks_peak ? kv_blocks : in->kv_blocks_peak;
      in->host_cpu_w = host_cpu_share(cpu_busy_w, host_ns, duration_ns);
    }
    in->busy_ns += duration_ns;
    in->kv_block_ns += (double)kv_blocks * (double)duration_ns;
    if (in->host_cpu_w > 0.0 && duration_ns > 0) /* whole nJ an iteration: sums in any order */
      host_nj += round_nonnegative(in->host_cpu_w * (double)duration_ns);
  }
  in->iterations += n;
  if (srv_output_run(lp, m, in, steps, n, kv_blocks_used) != 0)
    return -1;
  srv_account_host_cpu(m, in, host_nj);
  in->last_event_ns = in->iteration.end_ns;
  in->host_cpu_w = 0.0;
  in->device_w = in->idle_w;
  return 0;
}

/* The requests' shares of n closed iterations of the open batch, which drew joules[0..n), in order
 * (the sums stepping makes, bit for bit); the first ended at first_end_ns. */
static void share_energy(srv_instance *in, const double *joules, uint32_t n, int64_t first_end_ns) {
  for (uint32_t i = 0; i < in->num_seqs; i++) {
    srv_req *rec = in->seqs[i].user;
    double energy_j = rec->row.energy_j;
    for (uint32_t k = 0; k < n; k++)
      energy_j += joules[k] * in->seqs[i].tokens / in->batch_tokens;
    rec->row.energy_j = energy_j;
    if (rec->client_first_token) /* this iteration streams the client's first token */
      rec->row.first_token_ns = first_end_ns, rec->client_first_token = false;
  }
}

/* Closes the open iteration at end_ns: its time, energy and row, and what it finished (only ever at
 * an event's time: a leap's iterations before its last finish nothing). */
static int close_iteration(core_lp *lp, srv_model *m, srv_instance *in, int64_t end_ns) {
  double joules;
  if (close_run(lp, m, in, &(srv_leap_step){end_ns, in->device_w}, 1, NULL, 0.0, &joules) != 0)
    return -1;
  share_energy(in, &joules, 1, end_ns);
  const job_sched_event *events;
  uint32_t n = job_sched_finish(in->sched, end_ns, &events);
  assert(n == 0 || end_ns == lp->now_ns);
  for (uint32_t i = 0; i < n; i++) {
    srv_req *rec = events[i].user;
    if (events[i].kind == JOB_SCHED_FIRST_TOKEN && rec->row.first_token_ns < 0) {
      /* With the engine's output lag the client sees it during the next iteration here
       * (see_lagged_first_tokens), unless the request leaves now (its one token: returned at
       * once). */
      if (in->dep->output_lag && rec->row.output_tokens > 1 && rec->row.decode_instance < 0)
        rec->client_first_token = true;
      else
        rec->row.first_token_ns = events[i].time_ns;
    } else if (events[i].kind == JOB_SCHED_FINISHED && finish_request(lp, m, in, rec) != 0) {
      return -1;
    }
  }
  return 0;
}

/* The leap's iterations leap_at..upto - 1 without events of their own: each closes at its planned
 * end and the next opens there, as stepping would run them (the scheduler forms the same batches,
 * job_sched_leap, priced already). */
static int leap_run(core_lp *lp, srv_model *m, srv_instance *in, uint32_t upto) {
  uint32_t n = upto - in->leap_at;
  if (n == 0)
    return 0;
  assert(upto < in->leap_len);
  job_sched_batch b;
  job_sched_open_batch(in->sched, &b);
  uint32_t kv_blocks_used[SRV_LEAP_MAX];
  double joules[SRV_LEAP_MAX];
  const srv_leap_step *steps = &in->leap[in->leap_at];
  job_sched_leap(in->sched, n, kv_blocks_used);
  /* the batch's host work, the same whatever its context */
  double host_ns = n > 1 ? hw_host_ns(in->deploy, &b.hw) : 0.0;
  if (close_run(lp, m, in, steps, n, kv_blocks_used, host_ns, joules) != 0)
    return -1;
  in->leap_at += n;
  b.hw.decode_ctx_tokens += (uint64_t)n * b.hw.decode_seqs;
  b.kv_blocks_used = kv_blocks_used[n - 1];
  open_iteration(in, &b, steps[n - 1].end_ns, steps[n].end_ns - steps[n - 1].end_ns,
                 steps[n].power_w);
  share_energy(in, joules, n, steps[0].end_ns);
  in->leapt_iterations += n;
  return 0;
}

/* An event other than its own reaches a leaping instance: the iterations that end before that
 * event in the total order run, and the leap stops at the open one, whose end becomes an event of
 * its own (unless it is the leap's last, whose event is pending): the event may change the next
 * batch. */
static int cut_leap(core_lp *lp, srv_model *m, srv_instance *in) {
  bool own_first = lp->id < lp->now_src; /* of an iteration's end and the event, at one time */
  uint32_t upto = in->leap_at;
  while (upto + 1 < in->leap_len &&
         (in->leap[upto].end_ns < lp->now_ns || (in->leap[upto].end_ns == lp->now_ns && own_first)))
    upto++;
  if (leap_run(lp, m, in, upto) != 0)
    return -1;
  bool last = in->leap_at + 1 == in->leap_len;
  in->leap_len = 0;
  return last ? 0 : send_end(lp, in, in->leap[in->leap_at].end_ns);
}

static int end_iteration(core_lp *lp, srv_model *m, srv_instance *in) {
  if (in->leap_len && leap_run(lp, m, in, in->leap_len - 1) != 0)
    return -1;
  in->leap_len = 0;
  if (close_iteration(lp, m, in, lp->now_ns) != 0)
    return -1;
  return srv_start_iteration(lp, m, in);
}

static int receive_request(core_lp *lp, srv_model *m, srv_instance *in, const dispatch_msg *d,
                           uint32_t decode) {
  if (m->initial_state && in->lc_state != SRV_LC_SERVING && in->lc_state != SRV_LC_DRAINING)
    return srv_lifecycle_bounce(lp, m, d); /* sent before the router heard it stopped */
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
  srv_row_attrs(m, &row);
  srv_req *rec = srv_req_add(m, in, &row);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  if (srv_add_to_scheduler(lp, in, rec, decode != NO_INSTANCE, false) != 0)
    return -1;
  return in->busy ? 0 : srv_start_iteration(lp, m, in);
}

static int handle_event(core_lp *lp, const core_event *ev, srv_model *m, srv_instance *in) {
  int64_t *power_boundary_ns = &m->appended[in->thread].power_boundary_ns;
  if (lp->now_ns >= *power_boundary_ns) { /* time to write the power rows before now */
    core_request_boundary(lp);
    *power_boundary_ns = lp->now_ns < INT64_MAX - m->power_rows_span_ns
                             ? lp->now_ns + m->power_rows_span_ns
                             : INT64_MAX;
  }
  int rc;
  if (ev->kind == EV_ARRIVED_AT) { /* kept for the EV_KV_READY right after it; changes no batch */
    memcpy(&in->arrived_at, ev->payload.bytes, sizeof in->arrived_at);
    return 0;
  }
  if (in->leap_len && ev->kind != EV_ITERATION_END && cut_leap(lp, m, in) != 0)
    return -1;
  switch (ev->kind) {
  case EV_DISPATCH:
    return receive_request(lp, m, in, (const dispatch_msg *)ev->payload.bytes, ev->aux);
  case EV_ITERATION_END: return ev->aux == in->end_gen ? end_iteration(lp, m, in) : 0;
  case EV_KV_PULL: return srv_send_kv(lp, m, ev);
  case EV_KV_READY: rc = srv_receive_kv_ready(lp, m, in, ev); break;
  case EV_KV_ARRIVED: rc = srv_receive_flow(lp, m, in, ev); break;
  case EV_KV_RELEASE: rc = srv_release_kv(lp, in, ev); break;
  default: return srv_lifecycle_handle(lp, m, in, ev);
  }
  return rc > 0 && !in->busy ? srv_start_iteration(lp, m, in) : (rc < 0 ? rc : 0);
}

static int instance_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  int rc = handle_event(lp, ev, m, in);
  return rc == 0 && m->initial_state ? srv_lifecycle_settle(lp, m, in) : rc;
}

/* Its state at t=0 in /lifecycle. */
static int instance_init(core_lp *lp, void *model) {
  return srv_lifecycle_initial_row(lp, model, lp->state);
}

/* After the last window: the iterations of a leap that end before the end (stepping would have
 * run them), and rows for the requests still here. */
static int instance_finish(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  uint32_t upto = in->leap_at;
  while (upto + 1 < in->leap_len && in->leap[upto].end_ns < lp->now_ns)
    upto++;
  if (in->leap_len && leap_run(lp, m, in, upto) != 0)
    return -1;
  in->leap_len = 0;
  if (srv_output_last_interval(lp, m, in) != 0)
    return -1;
  for (srv_req *rec = in->live.next; rec != &in->live; rec = rec->next) {
    if (rec->client_first_token) /* the client has seen no token yet */
      rec->row.first_token_ns = -1;
    if (!rec->handed_off && srv_append_request(lp, m, &rec->row) != 0)
      return -1;
  }
  return 0;
}

/* The instance's scheduler, sized by its deployment, sharing its node's KV tier if it has one. */
static int instance_create(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  in->index = lp->index;
  in->thread = core_lp_thread(lp);
  uint32_t d = m->instance_deployment[in->index];
  in->dep = &m->s->deployments[d];
  in->deploy = &m->deploys[d];
  if (m->price_caches) {
    /* create runs on the LP's own thread: only that thread touches its caches. */
    hw_price_cache **cache =
        &m->price_caches[(size_t)core_lp_thread(lp) * m->s->deployment_count + d];
    if (!*cache && !(*cache = hw_price_cache_create(in->deploy, PRICE_CACHE_SETS_LOG2, NULL)))
      return core_fail(lp, "instance %u: out of memory for its price cache", in->index);
    in->price_cache = *cache;
  }
  in->live.next = in->live.prev = &in->live;
  in->interval.start_ns = -1; /* no interval yet */
  in->devices = srv_cluster_instance_accels(&m->cluster, in->index);
  in->idle_w = in->device_w = hw_idle_power_w(in->deploy);
  srv_lifecycle_init(m, in);
  return srv_instance_new_scheduler(lp, m, in);
}

int srv_instance_new_scheduler(core_lp *lp, srv_model *m, srv_instance *in) {
  uint32_t d = m->instance_deployment[in->index];
  job_sched_config cfg = in->dep->sched;
  uint32_t node = srv_instance_node(m, in->index);
  if (m->node_tier[node]) {
    uint32_t block_tokens = cfg.block_size_tokens ? cfg.block_size_tokens : 16;
    in->tier = &m->s->nodes[m->cluster.node_group[node]].kv_tier;
    cfg.tier = m->node_tier[node];
    cfg.tier_space = d; /* one deployment: one model and block shape */
    cfg.block_bytes = (uint64_t)llround(hw_kv_bytes_per_token(in->deploy) * block_tokens);
    if (cfg.block_bytes == 0)
      cfg.block_bytes = 1;
  }
  char err[256];
  job_sched_destroy(in->sched);
  in->sched = NULL;
  if (job_sched_create(&in->sched, &cfg, err, sizeof err) != 0)
    return core_fail(lp, "instance %u: %s", in->index, err);
  return 0;
}

static void instance_destroy(core_lp *lp, void *model) {
  (void)model;
  srv_instance *in = lp->state;
  for (srv_req *rec = in->live.next, *next; rec && rec != &in->live; rec = next) {
    next = rec->next;
    srv_req_free(rec);
  }
  util_idmap_free(&in->by_id);
  job_sched_destroy(in->sched);
  free(in->leap);
}

/* Checkpoints: the instance's plain fields, packed (p) or unpacked (u) in one order. What create
 * sets up (its deployment, devices, thread and price cache, which is exact and starts empty) is
 * not saved. */
#define FIELD(x) (p ? CORE_PACK(p, x) : CORE_UNPACK(u, x))
static void instance_fields(srv_instance *in, core_pack *p, core_unpack *u) {
  FIELD(in->busy), FIELD(in->iteration), FIELD(in->num_seqs), FIELD(in->batch_tokens);
  FIELD(in->iterations), FIELD(in->completed), FIELD(in->preemptions), FIELD(in->kv_blocks_peak);
  FIELD(in->busy_ns), FIELD(in->last_event_ns), FIELD(in->kv_block_ns), FIELD(in->tier_ns);
  FIELD(in->device_w), FIELD(in->idle_w), FIELD(in->host_cpu_w);
  FIELD(in->power_since_ns), FIELD(in->binned_ns), FIELD(in->energy_j);
  FIELD(in->leap_at), FIELD(in->leap_len), FIELD(in->end_gen), FIELD(in->arrived_at);
  FIELD(in->interval), FIELD(in->leaps), FIELD(in->leapt_iterations);
  FIELD(in->lc_state), FIELD(in->lc_goal), FIELD(in->lc_seq), FIELD(in->lc_since_ns);
  FIELD(in->lc_ns), FIELD(in->serving_busy_ns), FIELD(in->busy_mark_ns);
}
#undef FIELD

/* A live request's fields besides its row (its hashes come again from the workload's store). */
#define REQ_FIELDS(op, buf, rec)                                                                   \
  op(buf, (rec)->handed_off), op(buf, (rec)->client_first_token), op(buf, (rec)->flows_pending),   \
      op(buf, (rec)->transfer)

static int instance_save(const core_lp *lp, void *model, core_pack *out) {
  (void)model;
  srv_instance *in = lp->state;
  instance_fields(in, out, NULL);
  if (in->leap_len)
    core_pack_array(out, in->leap, in->leap_len, sizeof *in->leap);
  uint64_t live = in->by_id.count;
  CORE_PACK(out, live);
  for (srv_req *rec = in->live.next; rec != &in->live; rec = rec->next) {
    CORE_PACK(out, rec->row);
    REQ_FIELDS(CORE_PACK, out, rec);
  }
  return job_sched_save(in->sched, out) != 0 || out->failed ? -1 : 0;
}

/* job_sched_load's way back from a request id to the instance's record and its hashes. */
static void *resolve_request(void *ctx, uint64_t id, const uint64_t **block_hashes) {
  srv_req *rec = util_idmap_get(&((srv_instance *)ctx)->by_id, id);
  *block_hashes = rec ? rec->block_hashes : NULL;
  return rec;
}

static int instance_load(core_lp *lp, void *model, core_unpack *u) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  instance_fields(in, NULL, u);
  size_t n = 0;
  if (in->leap_len) {
    if (!(in->leap = malloc(SRV_LEAP_MAX * sizeof *in->leap)))
      return core_fail(lp, "out of memory for a leap");
    core_unpack_array_into(u, in->leap, sizeof *in->leap, SRV_LEAP_MAX, &n);
  }
  uint64_t live;
  CORE_UNPACK(u, live);
  if (u->failed || n != in->leap_len || (in->leap_len && in->leap_at >= in->leap_len) ||
      in->lc_state >= SRV_LC_STATES || live > u->len)
    return core_fail(lp, "checkpoint: instance %u's record is damaged", in->index);
  for (uint64_t k = 0; k < live && !u->failed; k++) {
    srv_request_row row;
    CORE_UNPACK(u, row);
    bool twice = util_idmap_get(&in->by_id, (uint64_t)row.id) != NULL;
    srv_req *rec = u->failed || twice ? NULL : srv_req_add(m, in, &row);
    if (!rec)
      return core_fail(lp, "checkpoint: instance %u's requests do not load", in->index);
    REQ_FIELDS(CORE_UNPACK, u, rec);
  }
  if (u->failed || job_sched_load(in->sched, u, resolve_request, in) != 0)
    return core_fail(lp, "checkpoint: instance %u's scheduler does not load", in->index);
  job_sched_batch open;
  job_sched_open_batch(in->sched, &open);
  if (in->busy && open.num_seqs != in->num_seqs)
    return core_fail(lp, "checkpoint: instance %u's open iteration does not match", in->index);
  in->seqs = open.seqs;
  return 0;
}

const core_lp_type srv_instance_type = {.name = "instance",
                                        .state_bytes = sizeof(srv_instance),
                                        .create = instance_create,
                                        .init = instance_init,
                                        .handle = instance_handle,
                                        .finish = instance_finish,
                                        .destroy = instance_destroy,
                                        .save = instance_save,
                                        .load = instance_load};
