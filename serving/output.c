/* The serving timeline's rows: buffered per thread while the engine runs and flushed collectively
 * when enough have gathered; after the run, the engine's, instances', nodes', power, link and KV
 * tier rows and the root attributes (serving/TIMELINE.md documents them). */
#include <stdio.h>

#include "serving/model.h"
#include "util/error.h"

int srv_append(core_lp *lp, srv_model *m, int table, const void *row, size_t row_bytes) {
  int thread = core_lp_thread(lp);
  if (io_timeline_append(m->tl, table, thread, row) != 0)
    return core_fail(lp, "out of memory buffering timeline rows");
  m->appended[thread].bytes += row_bytes;
  if (m->appended[thread].bytes > FLUSH_BYTES / (size_t)m->threads)
    core_request_boundary(lp); /* every rank flushes at the end of this window */
  return 0;
}

/* What node n draws whatever its instances do: its host, and its accelerators that serve none idle.
 */
static double node_static_w(const srv_model *m, uint32_t n) {
  const srv_cluster *c = &m->cluster;
  const srv_node_group *g = &m->s->nodes[c->node_group[n]];
  return g->host_w + g->accel->power.idle_w * (g->accels_per_node - c->node_used_accels[n]);
}

/* The power rows of the rank's nodes for the intervals no instance can add to any more, taken out
 * of the bins as they are written. During the run (end_ns < 0), an interval is written once it ends
 * by what every instance of its node has binned; each instance first bins its draw up to the time
 * its thread's instances last accounted to (no event of theirs can come earlier), or to its open
 * iteration's end when a leap has run ahead of its events. At the end, every interval up to end_ns,
 * intervals_per_flush at a time, all ranks flushing after each (collectively). */
static int write_power_rows(srv_model *m, core_engine *engine, int rank, int64_t end_ns,
                            int64_t intervals_per_flush) {
  const srv_cluster *c = &m->cluster;
  int64_t width = m->s->power.interval_ns, *frontier = m->node_binned_ns;
  uint32_t partitions_per_rank = (uint32_t)m->threads;
  int rc = 0;
  for (uint32_t n = 0; n < c->nodes; n++)
    frontier[n] = end_ns >= 0
                      ? end_ns
                      : m->appended[m->placement.node_partition[n] % partitions_per_rank].energy_ns;
  for (size_t i = 0; end_ns < 0 && i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->kind != SRV_LP_INSTANCE)
      continue;
    srv_instance *in = lp->state;
    int64_t until_ns = m->appended[in->thread].energy_ns;
    if (in->busy && in->iteration.end_ns < until_ns)
      until_ns = in->iteration.end_ns;
    rc |= srv_bin_energy(m, in, until_ns, frontier);
  }
  int64_t last = end_ns > 0 ? (end_ns - 1) / width + 1 : 0; /* intervals at the end */
  int64_t block = 0;
  do {
    for (uint32_t n = 0; n < c->nodes; n++) {
      if (m->placement.node_partition[n] / partitions_per_rank != (uint32_t)rank)
        continue;
      double static_w = node_static_w(m, n);
      util_timebins *e = &m->node_acc[n].energy;
      int64_t until = end_ns >= 0 ? block + intervals_per_flush : frontier[n] / width;
      until = end_ns >= 0 && until > last ? last : until;
      for (int64_t k = (int64_t)e->first; k < until; k++) {
        int64_t start = k * width,
                stop = end_ns >= 0 && start + width > end_ns ? end_ns : start + width;
        int64_t static_nj;
        rc |= util_timebins_measure(width, start, stop, static_w, &static_nj);
        double joules = (double)(util_timebins_at(e, (uint64_t)k) + static_nj) * 1e-9;
        srv_power_row p = {n,    c->node_rack[n], start,
                           stop, joules,          joules / ((double)(stop - start) * 1e-9)};
        rc |= io_timeline_append(m->tl, m->t_power, 0, &p);
      }
      if (until > (int64_t)e->first)
        util_timebins_drop(e, (uint64_t)until);
    }
    if (end_ns >= 0 && io_timeline_flush(m->tl, m->err, sizeof m->err) != 0) /* collective */
      return -1; /* m->err says why, the same on every rank */
    block += intervals_per_flush;
  } while (end_ns >= 0 && block < last);
  return rc;
}

int srv_flush_boundary(MPI_Comm comm, void *context) {
  srv_model *m = context;
  int rank;
  MPI_Comm_rank(comm, &rank);
  for (int t = 0; t < m->threads; t++)
    m->appended[t].bytes = 0;
  if (write_power_rows(m, m->engine, rank, -1, 0) != 0)
    snprintf(m->err, sizeof m->err, "out of memory writing power rows");
  return io_timeline_flush(m->tl, m->err, sizeof m->err);
}

int srv_append_request(core_lp *lp, srv_model *m, const srv_request_row *row) {
  return srv_append(lp, m, m->t_requests, row, sizeof *row);
}

/* Aggregated: each iteration's time and KV blocks go to each interval it overlaps, its counts to
 * the one where it ends; an interval's row is written when the instance moves past it. Over a run
 * of iterations (srv_output_run's) the open row's sums stay in a local copy, in the same order. */
static int aggregate(core_lp *lp, srv_model *m, srv_instance *in, const srv_leap_step *steps,
                     uint32_t n, const uint32_t *kv_blocks_used) {
  const srv_iteration_row *it = &in->iteration; /* the first; its batch is every one's */
  const int64_t width = m->s->output.interval_ns;
  srv_interval_row row = in->interval;
  int64_t t = it->start_ns;
  for (uint32_t k = 0; k < n; k++) {
    int64_t end_ns = steps[k].end_ns;
    uint32_t kv_blocks = k ? kv_blocks_used[k - 1] : it->kv_blocks_used;
    while (t < end_ns) {
      int64_t start = row.start_ns; /* most often; -1 before the first */
      if (start < 0 || t < start || t - start >= width)
        start = t / width * width;
      int64_t until = start + width < end_ns ? start + width : end_ns;
      if (row.start_ns != start) {
        if (row.iterations || row.busy_ns) {
          in->interval = row;
          if (srv_output_last_interval(lp, m, in) != 0)
            return -1;
        }
        row = (srv_interval_row){.instance = in->index, .start_ns = start};
      }
      row.busy_ns += until - t;
      row.kv_block_ns += (double)kv_blocks * (double)(until - t);
      t = until;
    }
    row.iterations++;
    row.prefill_tokens += it->prefill_tokens;
    row.decode_seqs += it->decode_seqs;
    row.seqs += it->prefill_seqs + it->decode_seqs;
    if (kv_blocks > row.kv_blocks_peak)
      row.kv_blocks_peak = kv_blocks;
  }
  in->interval = row;
  return 0;
}

int srv_output_run(core_lp *lp, srv_model *m, srv_instance *in, const srv_leap_step *steps,
                   uint32_t n, const uint32_t *kv_blocks_used) {
  srv_iteration_row *it = &in->iteration;
  srv_iterations_output mode = m->s->output.iterations;
  if (mode == SRV_ITERATIONS_AGGREGATED && aggregate(lp, m, in, steps, n, kv_blocks_used) != 0)
    return -1;
  if (mode != SRV_ITERATIONS_ALL && mode != SRV_ITERATIONS_SAMPLED) { /* no rows: to the last */
    uint32_t k = n - 1;
    if (k > 0) {
      it->index += k;
      it->start_ns = steps[k - 1].end_ns;
      it->kv_blocks_used = kv_blocks_used[k - 1];
      it->decode_ctx_tokens += k * it->decode_seqs;
    }
    it->end_ns = steps[k].end_ns;
    return 0;
  }
  for (uint32_t k = 0; k < n; k++) {
    if (k > 0) { /* the next of the leap, opened where the one before closed */
      it->index++;
      it->start_ns = it->end_ns;
      it->kv_blocks_used = kv_blocks_used[k - 1];
      it->decode_ctx_tokens += it->decode_seqs;
    }
    it->end_ns = steps[k].end_ns;
    bool kept = mode == SRV_ITERATIONS_ALL || it->index % m->s->output.sample_every == 0;
    if (kept && srv_append(lp, m, m->t_iterations, it, sizeof *it) != 0)
      return -1;
  }
  return 0;
}

int srv_output_last_interval(core_lp *lp, srv_model *m, srv_instance *in) {
  const srv_interval_row *row = &in->interval;
  if (!row->iterations && !row->busy_ns)
    return 0;
  return srv_append(lp, m, m->t_intervals, row, sizeof *row);
}

int srv_open_timeline(srv_model *m, const char *path, MPI_Comm comm, bool append, char *err,
                      size_t err_len) {
  io_timeline_options opt = {.schema = SRV_SCHEMA_NAME,
                             .schema_version = SRV_SCHEMA_VERSION,
                             .program_version = m->program_version,
                             .threads = m->threads,
                             .uncompressed = !m->s->output.compress};
  m->tl = append ? io_timeline_open_append(path, &opt, comm, err, err_len)
                 : io_timeline_create(path, &opt, comm, err, err_len);
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
      (m->t_kv_tiers = io_timeline_add_table(m->tl, &srv_kv_tiers_table, err, err_len)) < 0 ||
      (m->t_intervals = io_timeline_add_table(m->tl, &srv_intervals_table, err, err_len)) < 0 ||
      (m->t_lifecycle = io_timeline_add_table(m->tl, &srv_lifecycle_table, err, err_len)) < 0)
    return -1;
  return 0;
}

/* How many nodes the instance's accelerators lie in. */
static uint32_t instance_nodes(const srv_cluster *c, uint32_t instance) {
  uint32_t nodes = 0;
  for (uint32_t k = c->accel_offsets[instance]; k < c->accel_offsets[instance + 1]; k++) {
    uint32_t j = c->accel_offsets[instance];
    while (j < k && c->accel_node[c->accel_ids[j]] != c->accel_node[c->accel_ids[k]])
      j++;
    nodes += j == k;
  }
  return nodes;
}

/* The instance's own row, once its energy and lifecycle run to the end of the run. */
static int append_instance_row(srv_model *m, const srv_instance *in) {
  job_sched_stats st;
  job_sched_stats_get(in->sched, &st);
  srv_instance_row row = {
      .instance = in->index,
      .tp = in->dep->hw.tp ? in->dep->hw.tp : 1,
      .pp = in->dep->hw.pp ? in->dep->hw.pp : 1,
      .role = in->dep->role,
      .pod = m->pods ? (int32_t)m->instance_pod[in->index] : -1,
      .rack = srv_instance_rack(m, in->index),
      .node = srv_instance_node(m, in->index),
      .nodes = instance_nodes(&m->cluster, in->index),
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
      .off_ns = in->lc_ns[SRV_LC_OFF],
      .provisioning_ns = in->lc_ns[SRV_LC_PROVISIONING],
      .loading_ns = in->lc_ns[SRV_LC_LOADING],
      .warm_ns = in->lc_ns[SRV_LC_WARM],
      .serving_ns = in->lc_ns[SRV_LC_SERVING],
      .draining_ns = in->lc_ns[SRV_LC_DRAINING],
      .serving_busy_ns = in->serving_busy_ns,
      .accelerators = in->devices,
  };
  snprintf(row.deployment, sizeof row.deployment, "%s", in->dep->name);
  snprintf(row.model, sizeof row.model, "%s", in->dep->model->name);
  snprintf(row.accelerator, sizeof row.accelerator, "%s", in->dep->accel->name);
  return io_timeline_append(m->tl, m->t_instances, 0, &row);
}

/* After the run, on every rank for what it owns: instances draw their last power until the end,
 * nodes add host and unused-accelerator power, and instances, nodes, power series and links become
 * rows.
 * Returns non-zero when memory ran out. */
static int write_energy_and_links(srv_model *m, core_engine *engine, int64_t end_ns, int rank) {
  const srv_cluster *c = &m->cluster;
  int64_t width = m->s->power.interval_ns;
  int rc = 0;
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->kind == SRV_LP_INSTANCE) {
      srv_account_energy(m, lp->state, end_ns, &rc);
      srv_lifecycle_close(lp->state, end_ns);
      rc |= append_instance_row(m, lp->state);
    }
  }
  uint32_t partitions_per_rank = (uint32_t)m->threads;
  for (uint32_t n = 0; n < c->nodes; n++) {
    if (m->placement.node_partition[n] / partitions_per_rank != (uint32_t)rank)
      continue;
    const srv_node_group *g = &m->s->nodes[c->node_group[n]];
    int64_t static_nj; /* W x ns */
    if (util_timebins_measure(width, 0, end_ns, node_static_w(m, n), &static_nj) != 0 ||
        static_nj > INT64_MAX - m->node_acc[n].energy.total)
      rc = -1;
    srv_node_row row = {.node = n,
                        .rack = c->node_rack[n],
                        .accelerators = g->accels_per_node,
                        .busy_accelerators = c->node_used_accels[n],
                        .host_w = g->host_w,
                        .idle_w = g->accel->power.idle_w,
                        .energy_j = (double)(m->node_acc[n].energy.total + static_nj) * 1e-9,
                        .host_cpu_j = (double)m->node_acc[n].host_cpu_nj * 1e-9};
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
  }
  /* The rest of the power rows, a block of intervals at a time: never a day's series at once. */
  int64_t per_flush = (int64_t)(FLUSH_BYTES / sizeof(srv_power_row) / (c->nodes ? c->nodes : 1));
  rc |= write_power_rows(m, engine, rank, end_ns, per_flush > 0 ? per_flush : 1);
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->kind != SRV_LP_LINK)
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
      if (l->busy_bins.bin[k] > 0) { /* busy ns */
        srv_link_util_row u = {.link = l->link,
                               .start_ns = (int64_t)k * width,
                               .busy_ns = l->busy_bins.bin[k],
                               .utilisation = (double)l->busy_bins.bin[k] / (double)width};
        rc |= io_timeline_append(m->tl, m->t_link_util, 0, &u);
      }
  }
  return rc;
}

static int write_attributes(srv_model *m, const srv_scenario *s, int ranks, const srv_result *res,
                            char *err, size_t err_len) {
  io_timeline *tl = m->tl;
  int rc = io_timeline_attr_string(tl, "scenario", s->resolved_text ? s->resolved_text : "", err,
                                   err_len);
  rc = rc ? rc : io_timeline_attr_string(tl, "scenario_path", s->path, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "seed", (int64_t)s->simulation.seed, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "ranks", ranks, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "threads", m->threads, err, err_len);
  const part_plan *plan = &m->placement.plan;
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "lookahead_ns",
                                   plan->lookahead_ns == CORE_TIME_NEVER ? -1 : plan->lookahead_ns,
                                   err, err_len);
  rc = rc ? rc
          : io_timeline_attr_string(tl, "placement", part_strategy_name(plan->strategy), err,
                                    err_len);
  rc = rc ? rc : io_timeline_attr_string(tl, "placement_why", plan->why, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "partitions_used", plan->used, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "predicted_imbalance", plan->imbalance, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "predicted_cut_events_per_s", plan->cut_events_per_s, err,
                                    err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "predicted_windows_per_s", plan->windows_per_s, err,
                                    err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "predicted_speedup", plan->speedup, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "pue", s->power.pue, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "energy_usd_per_kwh", s->cost.energy_usd_per_kwh, err,
                                    err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "accelerators_usd_per_h", s->cost.accelerators_usd_per_h,
                                    err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "accelerators", s->cost.accelerators, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_string(tl, "unpriced_accelerators", s->cost.unpriced, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "rack_budget_w", s->power.rack_budget_w, err, err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "site_budget_w", s->power.site_budget_w, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "power_interval_ns", s->power.interval_ns, err, err_len);
  static const char *const iterations_names[] = {"all", "sampled", "aggregated", "none"};
  rc = rc ? rc
          : io_timeline_attr_string(tl, "output_iterations", iterations_names[s->output.iterations],
                                    err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "output_sample_every", s->output.sample_every, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "output_interval_ns", s->output.interval_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "simulated_ns", res->simulated_ns, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_double(tl, "simulated_s", (double)res->simulated_ns * 1e-9, err,
                                    err_len);
  rc = rc ? rc : io_timeline_attr_double(tl, "wall_s", res->wall_s, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "events", (int64_t)res->events, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "slo_ttft_ns", s->slo.ttft_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "slo_tpot_ns", s->slo.tpot_ns, err, err_len);
  rc = rc ? rc : io_timeline_attr_int64(tl, "skipped_rows", m->workload.skipped_rows, err, err_len);
  rc = rc ? rc
          : io_timeline_attr_int64(tl, "dropped_arrivals", m->workload.dropped_arrivals, err,
                                   err_len);
  return rc;
}

int srv_write_results(srv_model *m, core_engine *engine, MPI_Comm comm, double wall_s,
                      srv_result *result, char *err, size_t err_len) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  /* events, iterations, ranks that failed, leaps, leapt iterations, price cache hits, misses and
   * evictions */
  enum { COUNTS = 8 };
  uint64_t local[COUNTS] = {0}, total[COUNTS];
  int64_t last_ns = 0, simulated_ns;
  for (int t = 0; t < m->threads; t++) {
    const core_stats *st = core_engine_stats(engine, t);
    local[0] += st->events;
    srv_engine_row row = {(uint32_t)rank,  (uint32_t)t,   st->events,          st->windows,
                          st->sent_thread, st->sent_rank, st->received_remote, st->pending_peak,
                          st->process_s,   st->sync_s};
    local[2] |= io_timeline_append(m->tl, m->t_engine, 0, &row) != 0;
  }
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    core_lp *lp = core_engine_local_lp(engine, i);
    if (lp->kind == SRV_LP_INSTANCE) {
      const srv_instance *in = lp->state;
      local[1] += in->iterations;
      local[3] += in->leaps;
      local[4] += in->leapt_iterations;
      last_ns = in->last_event_ns > last_ns ? in->last_event_ns : last_ns;
      /* Its energy is counted up to its last event, which can follow every iteration's end (an
       * iteration that the end cut): the power rows must reach it. */
      last_ns = in->power_since_ns > last_ns ? in->power_since_ns : last_ns;
    }
  }
  if (m->price_caches)
    for (size_t c = 0; c < (size_t)m->threads * m->s->deployment_count; c++)
      if (m->price_caches[c]) {
        hw_price_cache_counts counts = hw_price_cache_get_counts(m->price_caches[c]);
        local[5] += counts.hits;
        local[6] += counts.misses;
        local[7] += counts.evictions;
      }
  MPI_Allreduce(local, total, COUNTS, MPI_UINT64_T, MPI_SUM, comm);
  if (total[2])
    return util_err(err, err_len, "out of memory for the engine's timeline rows");
  MPI_Allreduce(&last_ns, &simulated_ns, 1, MPI_INT64_T, MPI_MAX, comm);
  m->err[0] = '\0';
  int failed = write_energy_and_links(m, engine, simulated_ns, rank) != 0, any_failed;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_LOR, comm);
  if (any_failed) /* a failed flush (every rank), else out of memory */
    return util_err(err, err_len, "%s",
                    m->err[0] ? m->err : "out of memory for the power and link rows");
  MPI_Allreduce(&wall_s, &result->wall_s, 1, MPI_DOUBLE, MPI_MAX, comm);
  result->events = total[0];
  result->iterations = total[1];
  result->leaps = total[3];
  result->leapt_iterations = total[4];
  result->price_hits = total[5];
  result->price_misses = total[6];
  result->price_evictions = total[7];
  result->simulated_ns = simulated_ns;
  result->requests = m->workload_requests;
  return write_attributes(m, m->s, ranks, result, err, err_len);
}
