/* The serving simulation. LP 0 is the router: it replays the workload and dispatches each request
 * to an instance after the dispatch latency. LPs 1..N are instances: each runs its scheduler
 * (jobs/sched) iteration by iteration, priced by hw/, and reports completions back to the router.
 * Every request, iteration, instance and partition becomes a row of the timeline (io/schema.h). */
#include "serving.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/schema.h"
#include "partitions/part.h"

enum { EV_ARRIVAL = 1, EV_DISPATCH, EV_ITERATION_END, EV_COMPLETE };
enum { ROUTER_LP = 0, FLUSH_BYTES = 16 << 20 };

typedef struct dispatch_msg {
  int64_t id, arrival_ns;
  int32_t input_tokens, output_tokens;
} dispatch_msg;

typedef struct complete_msg {
  int32_t input_tokens, output_tokens;
} complete_msg;

/* Prefix block hashes of every request of a trace that has them (Mooncake), by request id: read on
 * every rank so an instance anywhere can look up what the router dispatched to it. */
typedef struct hash_store {
  uint64_t *offsets; /* [requests + 1] into hashes */
  uint64_t *hashes;
  uint64_t requests;
} hash_store;

typedef struct serving {
  const io_scenario *s;
  uint32_t instances;
  uint32_t *instance_deployment;
  hw_deploy *deploys; /* one per deployment */
  io_timeline *tl;
  int t_requests, t_iterations, t_instances, t_engine;
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
  job_router *router;
  uint64_t dispatched;
} router_lp;

typedef struct req_rec {
  io_request_row row;
  uint64_t *block_hashes;
  uint32_t block_count;
  struct req_rec *prev, *next; /* the instance's live requests */
} req_rec;

typedef struct instance_lp {
  uint32_t index;
  const io_deployment *dep;
  const hw_deploy *deploy;
  job_sched *sched;
  bool busy;
  io_iteration_row iteration; /* the open one, while busy */
  uint64_t iterations, completed, preemptions, kv_blocks_peak;
  int64_t busy_ns, last_event_ns;
  double kv_block_ns;
  req_rec live; /* sentinel of a circular list */
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

static int append_request(core_lp *lp, serving *m, const io_request_row *row) {
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

/* Dispatches every request arriving now, then wakes up at the next arrival. */
static int router_dispatch_due(core_lp *lp, serving *m, router_lp *r) {
  int64_t latency_ns = m->s->router.dispatch_latency_ns;
  while (r->has_next && r->next.arrival_ns <= lp->now_ns) {
    const job_request *q = &r->next;
    if (q->arrival_ns > m->end_ns - latency_ns) { /* would reach its instance after the end */
      io_request_row row = {q->id,           q->arrival_ns,    -1, -1, -1, -1,
                            q->input_tokens, q->output_tokens, -1, 0,  0,  IO_FATE_UNFINISHED};
      if (append_request(lp, m, &row) != 0)
        return -1;
    } else {
      job_route_request rr = {(uint32_t)q->input_tokens, (uint32_t)q->output_tokens,
                              q->prefix_hashes, q->prefix_hash_count};
      uint32_t instance = job_router_pick(r->router, &rr, &lp->rng);
      dispatch_msg msg = {q->id, q->arrival_ns, q->input_tokens, q->output_tokens};
      if (core_send(lp, ROUTER_LP + 1 + instance, latency_ns, EV_DISPATCH, 0, &msg, sizeof msg))
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
  const io_workload *w = &m->s->workload;
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
  job_router_completed(r->router, ev->src_lp - 1, &rr);
  return 0;
}

static const core_lp_type router_type = {"router", router_init, router_handle, NULL};

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

static void live_unlink(req_rec *rec) {
  rec->prev->next = rec->next;
  rec->next->prev = rec->prev;
}

static void rec_free(req_rec *rec) {
  free(rec->block_hashes);
  free(rec);
}

static int start_iteration(core_lp *lp, instance_lp *in) {
  job_sched_batch b;
  job_sched_step(in->sched, lp->now_ns, &b);
  for (uint32_t i = 0; i < b.num_events; i++) {
    const job_sched_event *ev = &b.events[i];
    req_rec *rec = ev->user;
    if (ev->kind == JOB_SCHED_STARTED) {
      rec->row.first_scheduled_ns = ev->time_ns;
      rec->row.prefix_hit_tokens = ev->prefix_hit_tokens;
    } else if (ev->kind == JOB_SCHED_PREEMPTED) {
      rec->row.preemptions = ev->preemptions;
      in->preemptions++;
    }
  }
  if (b.num_seqs == 0) {
    in->busy = false;
    return 0;
  }
  int64_t duration_ns = hw_iteration_ns(in->deploy, &b.hw, NULL);
  if (duration_ns < 1)
    duration_ns = 1;
  in->busy = true;
  in->iteration = (io_iteration_row){
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

static int finish_request(core_lp *lp, serving *m, instance_lp *in, req_rec *rec) {
  rec->row.done_ns = lp->now_ns;
  rec->row.fate = IO_FATE_COMPLETED;
  complete_msg c = {rec->row.input_tokens, rec->row.output_tokens};
  int rc = append_request(lp, m, &rec->row);
  if (rc == 0)
    rc = core_send(lp, ROUTER_LP, m->s->router.dispatch_latency_ns, EV_COMPLETE, 0, &c, sizeof c);
  live_unlink(rec);
  rec_free(rec);
  in->completed++;
  return rc;
}

static int end_iteration(core_lp *lp, serving *m, instance_lp *in) {
  int64_t duration_ns = lp->now_ns - in->iteration.start_ns;
  in->busy_ns += duration_ns;
  in->kv_block_ns += (double)in->iteration.kv_blocks_used * (double)duration_ns;
  in->iterations++;
  in->last_event_ns = lp->now_ns;
  if (append(lp, m, m->t_iterations, &in->iteration, sizeof in->iteration) != 0)
    return -1;
  const job_sched_event *events;
  uint32_t n = job_sched_finish(in->sched, lp->now_ns, &events);
  for (uint32_t i = 0; i < n; i++) {
    req_rec *rec = events[i].user;
    if (events[i].kind == JOB_SCHED_FIRST_TOKEN)
      rec->row.first_token_ns = events[i].time_ns;
    else if (events[i].kind == JOB_SCHED_FINISHED && finish_request(lp, m, in, rec) != 0)
      return -1;
  }
  return start_iteration(lp, in);
}

static int receive_request(core_lp *lp, serving *m, instance_lp *in, const dispatch_msg *d) {
  req_rec *rec = calloc(1, sizeof *rec);
  if (!rec)
    return core_fail(lp, "out of memory for a request");
  rec->row = (io_request_row){
      d->id,           d->arrival_ns,    lp->now_ns,         -1, -1, -1,
      d->input_tokens, d->output_tokens, (int32_t)in->index, 0,  0,  IO_FATE_UNFINISHED};
  if (expand_hashes(m, rec, in->dep->sched.block_size_tokens) != 0) {
    rec_free(rec);
    return core_fail(lp, "out of memory for prefix hashes");
  }
  rec->next = &in->live;
  rec->prev = in->live.prev;
  in->live.prev->next = rec;
  in->live.prev = rec;
  job_sched_request sr = {
      .id = (uint64_t)d->id,
      .arrival_ns = lp->now_ns,
      .prompt_tokens = (uint32_t)d->input_tokens,
      .output_tokens = (uint32_t)d->output_tokens,
      .block_hashes = rec->block_hashes,
      .num_block_hashes = rec->block_count,
      .user = rec,
  };
  char err[256];
  if (job_sched_add(in->sched, &sr, err, sizeof err) != 0)
    return core_fail(lp, "instance %u cannot serve request %lld: %s", in->index, (long long)d->id,
                     err);
  return in->busy ? 0 : start_iteration(lp, in);
}

static int instance_handle(core_lp *lp, const core_event *ev, void *model) {
  serving *m = model;
  instance_lp *in = lp->state;
  if (ev->kind == EV_DISPATCH)
    return receive_request(lp, m, in, (const dispatch_msg *)ev->payload.bytes);
  return end_iteration(lp, m, in);
}

/* After the last window: rows for the requests still here, and the instance's own row. */
static int instance_finish(core_lp *lp, void *model) {
  serving *m = model;
  instance_lp *in = lp->state;
  for (req_rec *rec = in->live.next; rec != &in->live; rec = rec->next)
    if (append_request(lp, m, &rec->row) != 0)
      return -1;
  io_instance_row row = {
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
  };
  snprintf(row.deployment, sizeof row.deployment, "%s", in->dep->name);
  snprintf(row.model, sizeof row.model, "%s", in->dep->model->name);
  snprintf(row.accelerator, sizeof row.accelerator, "%s", in->dep->accel->name);
  return append(lp, m, m->t_instances, &row, sizeof row);
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
    r->router = job_router_create(m->s->router.policy, m->instances, 0, err, sizeof err);
    return r->router ? 0 : core_fail(lp, "%s", err);
  }
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
  if (job_sched_create(&in->sched, &in->dep->sched, err, sizeof err) != 0)
    return core_fail(lp, "instance %u: %s", in->index, err);
  return 0;
}

static void lp_destroy(core_lp *lp, void *model) {
  (void)model;
  if (lp->type == &router_type) {
    router_lp *r = lp->state;
    job_source_close(r->src);
    job_router_destroy(r->router);
    free(r);
  } else if (lp->state) {
    instance_lp *in = lp->state;
    for (req_rec *rec = in->live.next, *next; rec != &in->live; rec = next) {
      next = rec->next;
      rec_free(rec);
    }
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
  const io_workload *w = &m->s->workload;
  job_source *src;
  int rc = w->synthetic
               ? job_source_open_synthetic(&src, &w->synth, &w->opts, err, err_len)
               : job_source_open_trace(&src, w->trace_path, w->format, &w->opts, err, err_len);
  if (rc != 0)
    return -1;
  hash_store *h = &m->hashes;
  bool keep = job_source_format(src) == JOB_TRACE_MOONCAKE;
  size_t cap_requests = 0, cap_hashes = 0;
  job_request q;
  while ((rc = job_source_next(src, &q, err, err_len)) > 0) {
    m->workload_requests++;
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
  snprintf(err, err_len, "out of memory reading the workload's prefix hashes");
  return -1;
}

static int open_timeline(serving *m, const char *path, MPI_Comm comm, char *err, size_t err_len) {
  io_timeline_options opt = {.schema = IO_SCHEMA_NAME,
                             .schema_version = IO_SCHEMA_VERSION,
                             .program_version = m->program_version,
                             .threads = m->threads,
                             .uncompressed = !m->s->output.compress};
  m->tl = io_timeline_create(path, &opt, comm, err, err_len);
  if (!m->tl)
    return -1;
  if ((m->t_requests = io_timeline_add_table(m->tl, &io_requests_table, err, err_len)) < 0 ||
      (m->t_iterations = io_timeline_add_table(m->tl, &io_iterations_table, err, err_len)) < 0 ||
      (m->t_instances = io_timeline_add_table(m->tl, &io_instances_table, err, err_len)) < 0 ||
      (m->t_engine = io_timeline_add_table(m->tl, &io_engine_table, err, err_len)) < 0)
    return -1;
  return 0;
}

static int write_attributes(serving *m, const io_scenario *s, int ranks,
                            const job_serving_result *res, char *err, size_t err_len) {
  io_timeline *tl = m->tl;
  int rc = io_timeline_attr_string(tl, "scenario", s->resolved_text ? s->resolved_text : "", err,
                                   err_len);
  rc = rc ? rc : io_timeline_attr_string(tl, "scenario_path", s->path, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "seed", (int64_t)s->simulation.seed, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "ranks", ranks, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "threads", m->threads, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "lookahead_ns", s->router.dispatch_latency_ns, err, err_len);
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

int job_serving_run(const io_scenario *s, const job_serving_options *opt, MPI_Comm comm,
                    job_serving_result *result, char *err, size_t err_len) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  serving m = {.s = s, .instances = io_scenario_instances(s), .program_version = opt->version};
  m.threads = opt->threads > 0 ? opt->threads
                               : (s->simulation.threads > 0 ? s->simulation.threads : 1);
  m.end_ns = s->simulation.end_ns > 0 ? s->simulation.end_ns : INT64_MAX;
  *result = (job_serving_result){0};
  uint32_t lp_count = m.instances + 1, partitions = (uint32_t)ranks * (uint32_t)m.threads;
  uint32_t *placement = malloc(lp_count * sizeof *placement);
  m.instance_deployment = malloc(m.instances * sizeof *m.instance_deployment);
  m.deploys = calloc(s->deployment_count, sizeof *m.deploys);
  m.appended = calloc((size_t)m.threads, sizeof *m.appended);
  core_engine *engine = NULL;
  int status = -1;
  if (!placement || !m.instance_deployment || !m.deploys || !m.appended) {
    snprintf(err, err_len, "out of memory for %u instances", m.instances);
    goto out;
  }
  for (size_t d = 0, i = 0; d < s->deployment_count; d++) {
    const io_deployment *dep = &s->deployments[d];
    if (hw_deploy_init(&m.deploys[d], dep->accel, dep->model, &dep->hw, err, err_len) != 0)
      goto out;
    for (uint32_t c = 0; c < dep->count; c++)
      m.instance_deployment[i++] = (uint32_t)d;
  }
  /* The router shares partition 0 with the first instances; instances are spread in blocks. */
  placement[ROUTER_LP] = 0;
  part_block(m.instances, partitions, placement + 1);
  if (scan_workload(&m, err, err_len) != 0)
    goto out;
  const char *path = opt->output_path ? opt->output_path : s->output.path;
  if (open_timeline(&m, path, comm, err, err_len) != 0)
    goto out;
  core_config cfg = {
      .lp_count = lp_count,
      .lp_partition = placement,
      .threads = m.threads,
      .end_ns = m.end_ns,
      .lookahead_ns = s->router.dispatch_latency_ns,
      .seed = s->simulation.seed,
      .pending_hint = 64 + 4 * (size_t)m.instances / partitions,
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
    io_engine_row row = {(uint32_t)rank,  (uint32_t)t,   st->events,          st->windows,
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
    }
  }
  MPI_Allreduce(local, total, 3, MPI_UINT64_T, MPI_SUM, comm);
  if (total[2]) {
    snprintf(err, err_len, "out of memory for the engine's timeline rows");
    goto fail_timeline;
  }
  MPI_Allreduce(&last_ns, &simulated_ns, 1, MPI_INT64_T, MPI_MAX, comm);
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
  free(placement);
  free(m.instance_deployment);
  free(m.deploys);
  free(m.appended);
  free(m.hashes.offsets);
  free(m.hashes.hashes);
  return status;
}
