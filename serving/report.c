/* Summaries of a timeline: every figure is computed from its rows, so the report of a file is the
 * same whoever wrote it and at whatever rank count. */
#include "serving/report.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serving/schema.h"
#include "util/stats.h"

/* Nearest-rank percentiles of n values in ns, reported in ms. Sums are integers: exact in any
 * order. */
static srv_dist distribution(int64_t *ns, uint64_t n) {
  srv_dist d = {.count = n};
  if (!n)
    return d;
  util_sort_int64(ns, n);
  int64_t sum = 0;
  for (uint64_t i = 0; i < n; i++)
    sum += ns[i];
  const double ms = 1e-6;
  d.mean = (double)sum / (double)n * ms;
  d.p50 = (double)util_nearest_rank(ns, n, 0.50) * ms;
  d.p90 = (double)util_nearest_rank(ns, n, 0.90) * ms;
  d.p95 = (double)util_nearest_rank(ns, n, 0.95) * ms;
  d.p99 = (double)util_nearest_rank(ns, n, 0.99) * ms;
  d.max = (double)ns[n - 1] * ms;
  return d;
}

static int cmp_instance(const void *a, const void *b) {
  uint32_t x = ((const srv_instance_row *)a)->instance, y = ((const srv_instance_row *)b)->instance;
  return (x > y) - (x < y);
}

static int read_table(io_timeline_reader *r, const io_table_def *def, void **rows, uint64_t *n,
                      char *err, size_t err_len) {
  if (io_timeline_reader_rows(r, def->name, n, err, err_len) != 0)
    return -1;
  *rows = malloc(*n ? *n * def->row_bytes : 1);
  if (!*rows) {
    snprintf(err, err_len, "out of memory reading %llu rows of /%s", (unsigned long long)*n,
             def->name);
    return -1;
  }
  return *n ? io_timeline_reader_read(r, def, 0, *n, *rows, err, err_len) : 0;
}

static int cmp_power(const void *a, const void *b) {
  const srv_power_row *x = a, *y = b;
  if (x->node != y->node)
    return (x->node > y->node) - (x->node < y->node);
  return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int cmp_transfer(const void *a, const void *b) {
  int64_t x = ((const srv_transfer_row *)a)->id, y = ((const srv_transfer_row *)b)->id;
  return (x > y) - (x < y);
}

/* Appends "what at [t0, t1) s" ranges of consecutive intervals over budget to the report. */
static void note_over(srv_summary *s, const char *what, const double *w, uint64_t n,
                      double budget_w, double interval_s) {
  size_t len = strlen(s->budget_report);
  for (uint64_t k = 0; k < n; k++) {
    if (!(w[k] > budget_w))
      continue;
    uint64_t end = k;
    double peak = 0;
    while (end < n && w[end] > budget_w)
      peak = fmax(peak, w[end++]);
    if (len < sizeof s->budget_report)
      len += (size_t)snprintf(s->budget_report + len, sizeof s->budget_report - len,
                              "%s%s over %.0f W from %.6g s to %.6g s (peak %.0f W)",
                              len ? "; " : "", what, budget_w, (double)k * interval_s,
                              (double)end * interval_s, peak);
    k = end;
  }
}

/* Power and energy from /nodes and /power; transfers from /transfers. */
static int summarise_power(io_timeline_reader *r, srv_summary *s, const srv_request_row *req,
                           uint64_t nreq, char *err, size_t err_len) {
  srv_power_row *pw = NULL;
  srv_transfer_row *tr = NULL;
  srv_link_row *links = NULL;
  srv_engine_row *engine = NULL;
  int64_t *net_ns = NULL, *wait_ns = NULL;
  double *site = NULL, *rack = NULL;
  uint64_t npw = 0, ntr = 0, nlinks = 0, nengine = 0;
  int64_t interval_ns = 1;
  int rc = -1;
  if (io_timeline_reader_attr_double(r, "pue", &s->pue, err, err_len) ||
      io_timeline_reader_attr_double(r, "rack_budget_w", &s->rack_budget_w, err, err_len) ||
      io_timeline_reader_attr_double(r, "site_budget_w", &s->site_budget_w, err, err_len) ||
      io_timeline_reader_attr_int64(r, "power_interval_ns", &interval_ns, err, err_len) ||
      read_table(r, &srv_power_table, (void **)&pw, &npw, err, err_len) ||
      read_table(r, &srv_transfers_table, (void **)&tr, &ntr, err, err_len) ||
      read_table(r, &srv_links_table, (void **)&links, &nlinks, err, err_len) ||
      read_table(r, &srv_engine_table, (void **)&engine, &nengine, err, err_len))
    goto out;
  for (uint64_t i = 0; i < nlinks; i++)
    s->link_chunks += links[i].chunks;
  for (uint64_t i = 0; i < nengine; i++)
    s->windows = engine[i].windows > s->windows ? engine[i].windows : s->windows;
  qsort(pw, npw, sizeof *pw, cmp_power);
  uint64_t intervals = 0;
  for (uint64_t i = 0; i < npw; i++) {
    uint64_t k = (uint64_t)(pw[i].start_ns / interval_ns) + 1;
    intervals = k > intervals ? k : intervals;
    s->racks = pw[i].rack + 1 > s->racks ? pw[i].rack + 1 : s->racks;
  }
  site = calloc(intervals + 1, sizeof *site);
  rack = calloc((intervals + 1) * (s->racks + 1), sizeof *rack);
  net_ns = malloc((ntr + 1) * sizeof *net_ns);
  wait_ns = malloc((ntr + 1) * sizeof *wait_ns);
  if (!site || !rack || !net_ns || !wait_ns) {
    snprintf(err, err_len, "out of memory summarising power");
    goto out;
  }
  /* Sums in (node, time) order whatever the writers' order: the same figures at any rank count. */
  for (uint64_t i = 0; i < npw; i++) {
    uint64_t k = (uint64_t)(pw[i].start_ns / interval_ns);
    site[k] += pw[i].avg_w;
    rack[pw[i].rack * intervals + k] += pw[i].avg_w;
    s->it_energy_j += pw[i].energy_j;
  }
  s->energy_j = s->it_energy_j * s->pue;
  s->power_avg_w = s->simulated_s > 0 ? s->energy_j / s->simulated_s : 0;
  for (uint64_t k = 0; k < intervals; k++) {
    site[k] *= s->pue;
    s->power_peak_w = fmax(s->power_peak_w, site[k]);
  }
  double interval_s = (double)interval_ns * 1e-9;
  for (uint32_t q = 0; q < s->racks; q++) {
    const double *w = rack + (uint64_t)q * intervals;
    double joules = 0;
    for (uint64_t k = 0; k < intervals; k++) {
      s->rack_peak_w = fmax(s->rack_peak_w, w[k]);
      joules += w[k] * interval_s;
      s->rack_intervals_over += s->rack_budget_w > 0 && w[k] > s->rack_budget_w;
    }
    double rack_avg_w = s->simulated_s > 0 ? joules / s->simulated_s : 0, rack_peak_w = 0;
    for (uint64_t k = 0; k < intervals; k++)
      rack_peak_w = fmax(rack_peak_w, w[k]);
    s->rack_avg_w_max = fmax(s->rack_avg_w_max, rack_avg_w);
    size_t len = strlen(s->rack_report);
    if (q < 16 && len < sizeof s->rack_report)
      snprintf(s->rack_report + len, sizeof s->rack_report - len, "%srack %u %.1f/%.1f",
               q ? ", " : "", q, rack_avg_w * 1e-3, rack_peak_w * 1e-3);
    if (s->rack_budget_w > 0) {
      char what[32];
      snprintf(what, sizeof what, "rack %u", q);
      note_over(s, what, w, intervals, s->rack_budget_w, interval_s);
    }
  }
  for (uint64_t k = 0; k < intervals; k++)
    s->site_intervals_over += s->site_budget_w > 0 && site[k] > s->site_budget_w;
  if (s->site_budget_w > 0)
    note_over(s, "site", site, intervals, s->site_budget_w, interval_s);
  uint64_t out_tokens = 0;
  for (uint64_t i = 0; i < nreq; i++)
    if (req[i].fate == SRV_FATE_COMPLETED)
      out_tokens += (uint64_t)req[i].output_tokens;
  s->energy_per_output_token_j = out_tokens ? s->energy_j / (double)out_tokens : 0;
  /* Transfers, and their share of the decode phase of the requests they served. */
  qsort(tr, ntr, sizeof *tr, cmp_transfer);
  int64_t transfer_sum = 0, decode_sum = 0;
  for (uint64_t i = 0; i < ntr; i++) {
    net_ns[i] = tr[i].end_ns - tr[i].start_ns;
    wait_ns[i] = tr[i].start_ns - tr[i].ready_ns;
    s->kv_bytes += (double)tr[i].bytes;
  }
  for (uint64_t i = 0; i < nreq; i++) {
    const srv_request_row *q = &req[i];
    if (q->fate != SRV_FATE_COMPLETED || q->decode_instance < 0)
      continue;
    srv_transfer_row key = {.id = q->id};
    const srv_transfer_row *t = bsearch(&key, tr, ntr, sizeof *tr, cmp_transfer);
    if (t) {
      transfer_sum += t->end_ns - t->start_ns;
      decode_sum += q->done_ns - q->first_token_ns;
    }
  }
  s->kv_share_of_decode = decode_sum > 0 ? (double)transfer_sum / (double)decode_sum : 0;
  s->transfers = ntr;
  s->kv_transfer_ms = distribution(net_ns, ntr);
  s->kv_wait_ms = distribution(wait_ns, ntr);
  rc = 0;
out:
  free(pw);
  free(tr);
  free(links);
  free(engine);
  free(net_ns);
  free(wait_ns);
  free(site);
  free(rack);
  return rc;
}

/* The workload's skipped rows and dropped arrivals, counted from schema version 6 on. */
static int read_workload_counts(io_timeline_reader *r, srv_summary *s, char *err, size_t err_len) {
  int64_t version = 0, skipped = 0, dropped = 0;
  if (io_timeline_reader_attr_int64(r, "schema_version", &version, err, err_len) != 0)
    return -1;
  if (version >= 6 &&
      (io_timeline_reader_attr_int64(r, "skipped_rows", &skipped, err, err_len) != 0 ||
       io_timeline_reader_attr_int64(r, "dropped_arrivals", &dropped, err, err_len) != 0))
    return -1;
  s->skipped_rows = skipped > 0 ? (uint64_t)skipped : 0;
  s->dropped_arrivals = dropped > 0 ? (uint64_t)dropped : 0;
  return 0;
}

int srv_report_summarise(const char *path, srv_summary *s, char *err, size_t err_len) {
  memset(s, 0, sizeof *s);
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, err_len);
  if (!r)
    return -1;
  srv_request_row *req = NULL;
  srv_instance_row *inst = NULL;
  int64_t *ttft = NULL, *tpot = NULL, *e2e = NULL, *queue = NULL;
  uint64_t nreq = 0, ninst = 0;
  int64_t slo_ttft_ns = 0, slo_tpot_ns = 0, simulated_ns = 0, events = 0;
  int rc = -1;
  if (io_timeline_reader_attr_int64(r, "slo_ttft_ns", &slo_ttft_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "slo_tpot_ns", &slo_tpot_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "simulated_ns", &simulated_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "events", &events, err, err_len) ||
      io_timeline_reader_attr_int64(r, "ranks", &s->ranks, err, err_len) ||
      io_timeline_reader_attr_int64(r, "threads", &s->threads, err, err_len) ||
      io_timeline_reader_attr_double(r, "wall_s", &s->wall_s, err, err_len) ||
      read_workload_counts(r, s, err, err_len) ||
      read_table(r, &srv_requests_table, (void **)&req, &nreq, err, err_len) ||
      read_table(r, &srv_instances_table, (void **)&inst, &ninst, err, err_len))
    goto out;
  s->events = (uint64_t)events;
  s->simulated_s = (double)simulated_ns * 1e-9;
  s->slo_ttft_ms = (double)slo_ttft_ns * 1e-6;
  s->slo_tpot_ms = (double)slo_tpot_ns * 1e-6;
  ttft = malloc((nreq + 1) * sizeof *ttft);
  tpot = malloc((nreq + 1) * sizeof *tpot);
  e2e = malloc((nreq + 1) * sizeof *e2e);
  queue = malloc((nreq + 1) * sizeof *queue);
  if (!ttft || !tpot || !e2e || !queue) {
    snprintf(err, err_len, "out of memory summarising %llu requests", (unsigned long long)nreq);
    goto out;
  }
  uint64_t ntpot = 0, nqueue = 0, good = 0, in_tokens = 0, out_tokens = 0;
  s->total = nreq;
  for (uint64_t i = 0; i < nreq; i++) {
    const srv_request_row *q = &req[i];
    s->preemptions += q->preemptions;
    if (q->first_scheduled_ns >= 0) {
      queue[nqueue++] = q->first_scheduled_ns - q->dispatch_ns;
      s->prompt_tokens += (uint64_t)q->input_tokens;
      s->prefix_hit_tokens += q->prefix_hit_tokens;
      s->tier_hit_tokens += q->tier_hit_tokens;
    }
    if (q->fate != SRV_FATE_COMPLETED) {
      s->unfinished++;
      continue;
    }
    uint64_t c = s->completed++;
    in_tokens += (uint64_t)q->input_tokens;
    out_tokens += (uint64_t)q->output_tokens;
    ttft[c] = q->first_token_ns - q->arrival_ns;
    e2e[c] = q->done_ns - q->arrival_ns;
    bool tpot_ok = true;
    if (q->output_tokens > 1) {
      /* Mean time between output tokens after the first: an integer ns, rounded down. */
      int64_t t = (q->done_ns - q->first_token_ns) / (q->output_tokens - 1);
      tpot[ntpot++] = t;
      tpot_ok = t <= slo_tpot_ns;
    }
    good += ttft[c] <= slo_ttft_ns && tpot_ok;
  }
  s->ttft_ms = distribution(ttft, s->completed);
  s->e2e_ms = distribution(e2e, s->completed);
  s->tpot_ms = distribution(tpot, ntpot);
  s->queue_ms = distribution(queue, nqueue);
  double sim_s = s->simulated_s > 0 ? s->simulated_s : 1;
  s->input_tok_s = (double)in_tokens / sim_s;
  s->output_tok_s = (double)out_tokens / sim_s;
  s->req_s = (double)s->completed / sim_s;
  /* Over every request: one that never finished did not meet its SLO. */
  s->slo_attainment = s->total ? (double)good / (double)s->total : 0;
  s->goodput_req_s = (double)good / sim_s;
  s->instances = (uint32_t)ninst;
  qsort(inst, ninst, sizeof *inst, cmp_instance); /* sums in one order whatever the writers' */
  s->utilisation_min = ninst ? 1 : 0;
  int64_t tier_ns = 0, busy_ns = 0;
  for (uint64_t i = 0; i < ninst; i++) {
    const srv_instance_row *in = &inst[i];
    double busy = simulated_ns > 0 ? (double)in->busy_ns / (double)simulated_ns : 0;
    double kv = in->kv_blocks_total && simulated_ns > 0
                    ? in->kv_block_ns / ((double)in->kv_blocks_total * (double)simulated_ns)
                    : 0;
    double peak = in->kv_blocks_total ? (double)in->kv_blocks_peak / (double)in->kv_blocks_total
                                      : 0;
    s->utilisation_mean += busy / (double)ninst;
    s->utilisation_min = fmin(s->utilisation_min, busy);
    s->utilisation_max = fmax(s->utilisation_max, busy);
    s->kv_use_mean += kv / (double)ninst;
    s->kv_use_peak = fmax(s->kv_use_peak, peak);
    s->iterations += in->iterations;
    s->swaps_out += in->swaps_out;
    s->swaps_in += in->swaps_in;
    s->tier_load_bytes += (double)in->tier_load_bytes;
    s->tier_store_bytes += (double)in->tier_store_bytes;
    tier_ns += in->tier_ns;
    busy_ns += in->busy_ns;
  }
  s->tier_share_of_busy = busy_ns > 0 ? (double)tier_ns / (double)busy_ns : 0;
  rc = summarise_power(r, s, req, nreq, err, err_len);
out:
  free(req);
  free(inst);
  free(ttft);
  free(tpot);
  free(e2e);
  free(queue);
  io_timeline_reader_close(r);
  return rc;
}

static int attr(hid_t group, const char *name, hid_t type, const void *value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(group, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a < 0 || H5Awrite(a, type, value) < 0 ? -1 : 0;
  if (a >= 0)
    H5Aclose(a);
  if (space >= 0)
    H5Sclose(space);
  return rc;
}

static int attr_dist(hid_t group, const char *name, const srv_dist *d) {
  const struct {
    const char *suffix;
    double value;
  } fields[] = {{"mean", d->mean}, {"p50", d->p50}, {"p90", d->p90},
                {"p95", d->p95},   {"p99", d->p99}, {"max", d->max}};
  char full[64];
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    snprintf(full, sizeof full, "%s_%s", name, fields[i].suffix);
    if (attr(group, full, H5T_NATIVE_DOUBLE, &fields[i].value) != 0)
      return -1;
  }
  snprintf(full, sizeof full, "%s_count", name);
  return attr(group, full, H5T_NATIVE_UINT64, &d->count);
}

int srv_report_write_summary(const char *path, const srv_summary *s, char *err, size_t err_len) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) {
    snprintf(err, err_len, "%s: cannot open to add its summary", path);
    return -1;
  }
  if (H5Lexists(file, "summary", H5P_DEFAULT) > 0)
    H5Ldelete(file, "summary", H5P_DEFAULT);
  hid_t g = H5Gcreate2(file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const struct {
    const char *name;
    double value;
  } reals[] = {{"input_tok_s", s->input_tok_s},
               {"output_tok_s", s->output_tok_s},
               {"req_s", s->req_s},
               {"slo_attainment", s->slo_attainment},
               {"goodput_req_s", s->goodput_req_s},
               {"slo_ttft_ms", s->slo_ttft_ms},
               {"slo_tpot_ms", s->slo_tpot_ms},
               {"simulated_s", s->simulated_s},
               {"utilisation_mean", s->utilisation_mean},
               {"kv_use_mean", s->kv_use_mean},
               {"kv_use_peak", s->kv_use_peak},
               {"energy_j", s->energy_j},
               {"it_energy_j", s->it_energy_j},
               {"energy_per_output_token_j", s->energy_per_output_token_j},
               {"power_avg_w", s->power_avg_w},
               {"power_peak_w", s->power_peak_w},
               {"rack_peak_w", s->rack_peak_w},
               {"kv_bytes", s->kv_bytes},
               {"kv_share_of_decode", s->kv_share_of_decode}};
  const struct {
    const char *name;
    uint64_t value;
  } counts[] = {{"requests_total", s->total},
                {"requests_completed", s->completed},
                {"requests_unfinished", s->unfinished},
                {"skipped_rows", s->skipped_rows},
                {"dropped_arrivals", s->dropped_arrivals},
                {"preemptions", s->preemptions},
                {"prefix_hit_tokens", s->prefix_hit_tokens},
                {"tier_hit_tokens", s->tier_hit_tokens},
                {"swaps_out", s->swaps_out},
                {"iterations", s->iterations},
                {"instances", s->instances},
                {"transfers", s->transfers},
                {"rack_intervals_over", s->rack_intervals_over},
                {"site_intervals_over", s->site_intervals_over}};
  int rc = g < 0 ? -1 : 0;
  for (size_t i = 0; rc == 0 && i < sizeof reals / sizeof *reals; i++)
    rc = attr(g, reals[i].name, H5T_NATIVE_DOUBLE, &reals[i].value);
  for (size_t i = 0; rc == 0 && i < sizeof counts / sizeof *counts; i++)
    rc = attr(g, counts[i].name, H5T_NATIVE_UINT64, &counts[i].value);
  if (rc == 0)
    rc = attr_dist(g, "ttft_ms", &s->ttft_ms) || attr_dist(g, "tpot_ms", &s->tpot_ms) ||
                 attr_dist(g, "e2e_ms", &s->e2e_ms) || attr_dist(g, "queue_ms", &s->queue_ms) ||
                 attr_dist(g, "kv_transfer_ms", &s->kv_transfer_ms) ||
                 attr_dist(g, "kv_wait_ms", &s->kv_wait_ms)
             ? -1
             : 0;
  if (g >= 0)
    H5Gclose(g);
  if (H5Fclose(file) < 0)
    rc = -1;
  if (rc != 0)
    snprintf(err, err_len, "%s: could not write /summary", path);
  return rc;
}

static void print_dist(FILE *out, const char *name, const srv_dist *d) {
  fprintf(out, "  %-10s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9llu\n", name, d->mean, d->p50, d->p90,
          d->p95, d->p99, d->max, (unsigned long long)d->count);
}

void srv_report_print(const srv_summary *s, FILE *out) {
  fprintf(out, "requests: %llu total, %llu completed, %llu unfinished, %llu preemptions\n",
          (unsigned long long)s->total, (unsigned long long)s->completed,
          (unsigned long long)s->unfinished, (unsigned long long)s->preemptions);
  if (s->skipped_rows || s->dropped_arrivals)
    fprintf(out,
            "  not in the total: %llu malformed workload rows skipped, %llu arrivals past the "
            "representable end dropped\n",
            (unsigned long long)s->skipped_rows, (unsigned long long)s->dropped_arrivals);
  fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", "ms", "mean", "p50", "p90", "p95", "p99",
          "max", "count");
  print_dist(out, "ttft", &s->ttft_ms);
  print_dist(out, "tpot", &s->tpot_ms);
  print_dist(out, "e2e", &s->e2e_ms);
  print_dist(out, "queueing", &s->queue_ms);
  fprintf(out,
          "throughput: %.1f input tok/s, %.1f output tok/s, %.3f req/s over %.1f s simulated\n",
          s->input_tok_s, s->output_tok_s, s->req_s, s->simulated_s);
  fprintf(out,
          "slo (ttft <= %g ms, tpot <= %g ms): %.1f%% of all requests attained (unfinished ones "
          "miss), goodput %.3f req/s\n",
          s->slo_ttft_ms, s->slo_tpot_ms, 100 * s->slo_attainment, s->goodput_req_s);
  fprintf(out,
          "instances: %u, busy %.1f%% mean (%.1f%%..%.1f%%), KV use %.1f%% mean, %.1f%% peak, "
          "%llu iterations\n",
          s->instances, 100 * s->utilisation_mean, 100 * s->utilisation_min,
          100 * s->utilisation_max, 100 * s->kv_use_mean, 100 * s->kv_use_peak,
          (unsigned long long)s->iterations);
  if (s->transfers) {
    fprintf(out,
            "kv transfers: %llu, %.2f GB; network %.2f ms mean, %.2f p50, %.2f p99; waited for "
            "decode room %.2f ms mean, %.2f p99; %.1f%% of decode time\n",
            (unsigned long long)s->transfers, s->kv_bytes * 1e-9, s->kv_transfer_ms.mean,
            s->kv_transfer_ms.p50, s->kv_transfer_ms.p99, s->kv_wait_ms.mean, s->kv_wait_ms.p99,
            100 * s->kv_share_of_decode);
  }
  if (s->prefix_hit_tokens > 0) {
    double prompt = s->prompt_tokens ? (double)s->prompt_tokens : 1;
    fprintf(out,
            "prefix cache: %.1f%% of admitted prompt tokens hit (%.1f%% in HBM, %.1f%% in the KV "
            "tier)\n",
            100 * (double)s->prefix_hit_tokens / prompt,
            100 * (double)(s->prefix_hit_tokens - s->tier_hit_tokens) / prompt,
            100 * (double)s->tier_hit_tokens / prompt);
  }
  if (s->swaps_out > 0 || s->tier_load_bytes > 0 || s->tier_store_bytes > 0)
    fprintf(out,
            "kv tier: %llu swaps out, %llu in; %.2f GB loaded, %.2f GB stored; %.1f%% of busy "
            "time copying\n",
            (unsigned long long)s->swaps_out, (unsigned long long)s->swaps_in,
            s->tier_load_bytes * 1e-9, s->tier_store_bytes * 1e-9, 100 * s->tier_share_of_busy);
  fprintf(out,
          "power: site %.1f kW mean, %.1f kW peak (facility, PUE %.2f); energy %.3f kWh, %.3f J "
          "per output token\n",
          s->power_avg_w * 1e-3, s->power_peak_w * 1e-3, s->pue, s->energy_j / 3.6e6,
          s->energy_per_output_token_j);
  fprintf(out, "racks: %u, busiest %.1f kW mean, %.1f kW peak (IT)%s%s%s\n", s->racks,
          s->rack_avg_w_max * 1e-3, s->rack_peak_w * 1e-3, s->racks > 1 ? "; kW mean/peak: " : "",
          s->racks > 1 ? s->rack_report : "", s->racks > 16 ? ", ..." : "");
  if (s->rack_budget_w > 0 || s->site_budget_w > 0)
    fprintf(out, "power budgets: %s\n", s->budget_report[0] ? s->budget_report : "never exceeded");
  fprintf(out, "engine: %llu events, %lld ranks x %lld threads, %.2f s wall (%.0fx real time)\n",
          (unsigned long long)s->events, (long long)s->ranks, (long long)s->threads, s->wall_s,
          s->wall_s > 0 ? s->simulated_s / s->wall_s : 0);
}

static void json_dist(FILE *out, const char *name, const srv_dist *d) {
  fprintf(out,
          "\"%s\":{\"mean\":%.17g,\"p50\":%.17g,\"p90\":%.17g,\"p95\":%.17g,\"p99\":%.17g,"
          "\"max\":%.17g,\"count\":%llu},",
          name, d->mean, d->p50, d->p90, d->p95, d->p99, d->max, (unsigned long long)d->count);
}

void srv_report_print_json(const srv_summary *s, bool with_wall, FILE *out) {
  fprintf(out,
          "{\"requests\":{\"total\":%llu,\"completed\":%llu,\"unfinished\":%llu,"
          "\"preemptions\":%llu,\"skipped_rows\":%llu,\"dropped_arrivals\":%llu},",
          (unsigned long long)s->total, (unsigned long long)s->completed,
          (unsigned long long)s->unfinished, (unsigned long long)s->preemptions,
          (unsigned long long)s->skipped_rows, (unsigned long long)s->dropped_arrivals);
  json_dist(out, "ttft_ms", &s->ttft_ms);
  json_dist(out, "tpot_ms", &s->tpot_ms);
  json_dist(out, "e2e_ms", &s->e2e_ms);
  json_dist(out, "queue_ms", &s->queue_ms);
  fprintf(out, "\"throughput\":{\"input_tok_s\":%.17g,\"output_tok_s\":%.17g,\"req_s\":%.17g},",
          s->input_tok_s, s->output_tok_s, s->req_s);
  fprintf(out,
          "\"slo\":{\"ttft_ms\":%.17g,\"tpot_ms\":%.17g,\"attainment\":%.17g,"
          "\"goodput_req_s\":%.17g},",
          s->slo_ttft_ms, s->slo_tpot_ms, s->slo_attainment, s->goodput_req_s);
  fprintf(out,
          "\"instances\":{\"count\":%u,\"utilisation_mean\":%.17g,\"utilisation_min\":%.17g,"
          "\"utilisation_max\":%.17g,\"kv_use_mean\":%.17g,\"kv_use_peak\":%.17g,"
          "\"iterations\":%llu},",
          s->instances, s->utilisation_mean, s->utilisation_min, s->utilisation_max, s->kv_use_mean,
          s->kv_use_peak, (unsigned long long)s->iterations);
  json_dist(out, "kv_transfer_ms", &s->kv_transfer_ms);
  json_dist(out, "kv_wait_ms", &s->kv_wait_ms);
  fprintf(out,
          "\"kv\":{\"transfers\":%llu,\"bytes\":%.17g,\"share_of_decode\":%.17g,"
          "\"link_chunks\":%llu},",
          (unsigned long long)s->transfers, s->kv_bytes, s->kv_share_of_decode,
          (unsigned long long)s->link_chunks);
  fprintf(out,
          "\"prefix_cache\":{\"prompt_tokens\":%llu,\"hit_tokens\":%llu,\"tier_hit_tokens\":%llu},",
          (unsigned long long)s->prompt_tokens, (unsigned long long)s->prefix_hit_tokens,
          (unsigned long long)s->tier_hit_tokens);
  fprintf(out,
          "\"kv_tier\":{\"swaps_out\":%llu,\"swaps_in\":%llu,\"load_bytes\":%.17g,"
          "\"store_bytes\":%.17g,\"share_of_busy\":%.17g},",
          (unsigned long long)s->swaps_out, (unsigned long long)s->swaps_in, s->tier_load_bytes,
          s->tier_store_bytes, s->tier_share_of_busy);
  fprintf(out,
          "\"energy\":{\"total_j\":%.17g,\"it_j\":%.17g,\"per_output_token_j\":%.17g,"
          "\"pue\":%.17g},",
          s->energy_j, s->it_energy_j, s->energy_per_output_token_j, s->pue);
  fprintf(out,
          "\"power\":{\"avg_w\":%.17g,\"peak_w\":%.17g,\"racks\":%u,\"rack_avg_w_max\":%.17g,"
          "\"rack_peak_w\":%.17g,\"rack_intervals_over_budget\":%llu,"
          "\"site_intervals_over_budget\":%llu},",
          s->power_avg_w, s->power_peak_w, s->racks, s->rack_avg_w_max, s->rack_peak_w,
          (unsigned long long)s->rack_intervals_over, (unsigned long long)s->site_intervals_over);
  fprintf(out, "\"sim\":{\"simulated_s\":%.17g,", s->simulated_s);
  if (with_wall) /* and what depends on the partitioning */
    fprintf(out, "\"wall_s\":%.17g,\"windows\":%llu,\"events_per_window\":%.17g,", s->wall_s,
            (unsigned long long)s->windows,
            s->windows ? (double)s->events / (double)s->windows : 0);
  fprintf(out, "\"events\":%llu,\"ranks\":%lld,\"threads\":%lld}}\n", (unsigned long long)s->events,
          (long long)s->ranks, (long long)s->threads);
}
