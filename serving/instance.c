/* The instance LP: one model instance running its scheduler (jobs/sched) iteration by iteration,
 * each iteration priced by hw/ and lasting its price (plus KV-tier copies), its devices drawing
 * hw/'s power while busy and idle power between iterations, and its energy shared among the
 * iteration's requests by the tokens each computed. Its requests' and iterations' rows go to the
 * timeline. In disaggregated scenarios it plays the prefill or the decode side of the hand-off
 * (handoff.c). */
#include <math.h>
#include <stdlib.h>

#include "serving/model.h"

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
    return core_fail(lp, "out of memory for energy bins");
  in->seqs = b.seqs;
  in->num_seqs = b.num_seqs;
  if (b.num_seqs == 0) {
    in->busy = false;
    return landed ? srv_start_iteration(lp, m, in) : 0;
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

static int end_iteration(core_lp *lp, srv_model *m, srv_instance *in) {
  int64_t duration_ns = lp->now_ns - in->iteration.start_ns;
  in->busy_ns += duration_ns;
  in->kv_block_ns += (double)in->iteration.kv_blocks_used * (double)duration_ns;
  in->iterations++;
  in->last_event_ns = lp->now_ns;
  int rc = 0;
  double joules = srv_account_energy(m, in, lp->now_ns, &rc);
  if (rc != 0)
    return core_fail(lp, "out of memory for energy bins");
  for (uint32_t i = 0; i < in->num_seqs; i++) {
    srv_req *rec = in->seqs[i].user;
    rec->row.energy_j += joules * in->seqs[i].tokens / in->batch_tokens;
  }
  in->device_w = in->idle_w;
  if (srv_append(lp, m, m->t_iterations, &in->iteration, sizeof in->iteration) != 0)
    return -1;
  const job_sched_event *events;
  uint32_t n = job_sched_finish(in->sched, lp->now_ns, &events);
  for (uint32_t i = 0; i < n; i++) {
    srv_req *rec = events[i].user;
    if (events[i].kind == JOB_SCHED_FIRST_TOKEN && rec->row.first_token_ns < 0)
      rec->row.first_token_ns = events[i].time_ns;
    else if (events[i].kind == JOB_SCHED_FINISHED && finish_request(lp, m, in, rec) != 0)
      return -1;
  }
  return srv_start_iteration(lp, m, in);
}

static int receive_request(core_lp *lp, srv_model *m, srv_instance *in, const dispatch_msg *d,
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
  srv_req *rec = srv_req_add(m, in, &row);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  if (srv_add_to_scheduler(lp, in, rec, decode != NO_INSTANCE, false) != 0)
    return -1;
  return in->busy ? 0 : srv_start_iteration(lp, m, in);
}

static int instance_handle(core_lp *lp, const core_event *ev, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  int rc;
  switch (ev->kind) {
  case EV_DISPATCH:
    return receive_request(lp, m, in, (const dispatch_msg *)ev->payload.bytes, ev->aux);
  case EV_ITERATION_END: return end_iteration(lp, m, in);
  case EV_KV_PULL: return srv_send_kv(lp, m, ev);
  case EV_KV_READY: rc = srv_receive_kv_ready(lp, m, in, ev); break;
  case EV_KV_ARRIVED: rc = srv_receive_flow(lp, m, in, ev); break;
  case EV_KV_RELEASE: rc = srv_release_kv(lp, in, ev); break;
  default: return core_fail(lp, "instance %u: unexpected event kind %u", in->index, ev->kind);
  }
  return rc > 0 && !in->busy ? srv_start_iteration(lp, m, in) : (rc < 0 ? rc : 0);
}

/* After the last window: rows for the requests still here. */
static int instance_finish(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  for (srv_req *rec = in->live.next; rec != &in->live; rec = rec->next)
    if (!rec->handed_off && srv_append_request(lp, m, &rec->row) != 0)
      return -1;
  return 0;
}

/* The instance's scheduler, sized by its deployment, sharing its node's KV tier if it has one. */
static int instance_create(core_lp *lp, void *model) {
  srv_model *m = model;
  srv_instance *in = lp->state;
  in->index = lp->index;
  uint32_t d = m->instance_deployment[in->index];
  in->dep = &m->s->deployments[d];
  in->deploy = &m->deploys[d];
  in->live.next = in->live.prev = &in->live;
  in->devices = srv_cluster_instance_accels(&m->cluster, in->index);
  in->idle_w = in->device_w = hw_idle_power_w(in->deploy);
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
}

const core_lp_type srv_instance_type = {.name = "instance",
                                        .state_bytes = sizeof(srv_instance),
                                        .create = instance_create,
                                        .handle = instance_handle,
                                        .finish = instance_finish,
                                        .destroy = instance_destroy};
