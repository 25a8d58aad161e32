/* Summaries of a timeline: every figure is computed from its rows, so the report of a file is the
 * same whoever wrote it and at whatever rank count; and its tables read for the readers beside the
 * report. Writing the summary back as /summary and the tables as CSV is serving/report_write.c's;
 * printing them (text, JSON, comparisons), serving/report_print.c's. */
#include "serving/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/trace.h"
#include "serving/report_private.h"
#include "serving/schema.h"
#include "util/quantile.h"

/* The percentiles a distribution reports. */
static const double percentiles[] = {0.50, 0.90, 0.95, 0.99};
enum { PERCENTILES = sizeof percentiles / sizeof percentiles[0] };

/* Nearest-rank percentiles of the values in ns that u has counted to the end, reported in ms. Sums
 * are integers: exact in any order. */
static srv_dist distribution(const util_quantiles *u) {
  srv_dist d = {.count = u->count};
  if (!u->count)
    return d;
  const double ms = 1e-6;
  d.mean = (double)u->sum / (double)u->count * ms;
  d.p50 = (double)util_quantiles_value(u, 0) * ms;
  d.p90 = (double)util_quantiles_value(u, 1) * ms;
  d.p95 = (double)util_quantiles_value(u, 2) * ms;
  d.p99 = (double)util_quantiles_value(u, 3) * ms;
  d.max = (double)u->max * ms;
  return d;
}

/* The distribution of ns[0..n), held in memory. Returns 0, or -1 out of memory. */
static int distribution_of(const int64_t *ns, uint64_t n, srv_dist *d) {
  util_quantiles u;
  util_quantiles_init(&u, percentiles, PERCENTILES);
  int more;
  do {
    for (uint64_t i = 0; i < n; i++)
      util_quantiles_add(&u, ns[i]);
  } while ((more = util_quantiles_end_pass(&u)) == 1);
  if (more == 0)
    *d = distribution(&u);
  util_quantiles_free(&u);
  return more;
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

static int cmp_transfer(const void *a, const void *b) {
  int64_t x = ((const srv_transfer_row *)a)->id, y = ((const srv_transfer_row *)b)->id;
  return (x > y) - (x < y);
}

/* Refuses a file this report cannot read right: another schema, or another version of it. */
int report_check_schema(io_timeline_reader *r, char *err, size_t err_len) {
  char *schema = NULL;
  int64_t version = 0;
  if (io_timeline_reader_attr_string(r, "schema", &schema, err, err_len) != 0)
    return -1;
  int rc = 0;
  if (strcmp(schema, SRV_SCHEMA_NAME) != 0) {
    snprintf(err, err_len, "not a Windtunnel serving timeline (schema \"%.64s\", expected \"%s\")",
             schema, SRV_SCHEMA_NAME);
    rc = -1;
  } else if (io_timeline_reader_attr_int64(r, "schema_version", &version, err, err_len) != 0) {
    rc = -1;
  } else if (version > SRV_SCHEMA_VERSION) {
    snprintf(err, err_len,
             "schema version %lld is newer than this windtunnel reads (%d): report it with the "
             "windtunnel that wrote it, or a newer one",
             (long long)version, SRV_SCHEMA_VERSION);
    rc = -1;
  } else if (version < SRV_SCHEMA_VERSION) {
    snprintf(err, err_len,
             "schema version %lld is older than this windtunnel reads (%d): its tables differ; "
             "rerun the scenario, or report it with the windtunnel that wrote it",
             (long long)version, SRV_SCHEMA_VERSION);
    rc = -1;
  }
  free(schema);
  return rc;
}

/* The index of instance id in inst (sorted by id), or -1. */
static int64_t instance_index(const srv_instance_row *inst, uint64_t ninst, int64_t id) {
  if (id < 0 || id > UINT32_MAX)
    return -1;
  srv_instance_row key = {.instance = (uint32_t)id};
  const srv_instance_row *hit = bsearch(&key, inst, ninst, sizeof *inst, cmp_instance);
  return hit ? hit - inst : -1;
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

/* Rows of a table read at a time: the summary's memory does not grow with the run's length. */
enum { BLOCK_ROWS = 1 << 16 };

/* Energy per interval of [0, simulated_ns), in whole nJ: the site's and each rack's, from /power
 * read block by block. Integers add in any order: the same figures whoever wrote the rows. */
typedef struct power_bins {
  uint64_t intervals;
  uint32_t racks;      /* allocated: one past the highest rack of /nodes */
  int64_t *site_nj;    /* [intervals] */
  int64_t *rack_nj;    /* [racks][intervals] */
  uint32_t racks_seen; /* one past the highest rack of /power */
  __int128 it_nj;      /* a site's day passes INT64_MAX nJ (2,562 kWh) */
  double host_w;       /* all nodes' host power (/nodes), drawn the whole run */
  double host_cpu_j;   /* all nodes' host CPUs' busy energy (/nodes), in the accelerators' bins */
} power_bins;

static int bin_power(io_timeline_reader *r, int64_t interval_ns, int64_t simulated_ns,
                     power_bins *pb, char *err, size_t err_len) {
  srv_node_row *nodes = NULL;
  srv_power_row *rows = NULL;
  uint64_t nnodes = 0, npw = 0;
  int rc = -1;
  if (read_table(r, &srv_nodes_table, (void **)&nodes, &nnodes, err, err_len) ||
      io_timeline_reader_rows(r, srv_power_table.name, &npw, err, err_len))
    goto out;
  for (uint64_t i = 0; i < nnodes; i++) {
    pb->racks = nodes[i].rack + 1 > pb->racks ? nodes[i].rack + 1 : pb->racks;
    pb->host_w += nodes[i].host_w;
    pb->host_cpu_j += nodes[i].host_cpu_j;
  }
  pb->intervals = simulated_ns > 0 ? (uint64_t)((simulated_ns - 1) / interval_ns) + 1 : 0;
  pb->site_nj = calloc(pb->intervals + 1, sizeof *pb->site_nj);
  pb->rack_nj = calloc((pb->intervals + 1) * (pb->racks + 1), sizeof *pb->rack_nj);
  rows = malloc(BLOCK_ROWS * sizeof *rows);
  if (!pb->site_nj || !pb->rack_nj || !rows) {
    snprintf(err, err_len, "out of memory summarising power");
    goto out;
  }
  for (uint64_t first = 0; first < npw; first += BLOCK_ROWS) {
    uint64_t count = npw - first < BLOCK_ROWS ? npw - first : BLOCK_ROWS;
    if (io_timeline_reader_read(r, &srv_power_table, first, count, rows, err, err_len) != 0)
      goto out;
    for (uint64_t i = 0; i < count; i++) {
      const srv_power_row *p = &rows[i];
      uint64_t k = p->start_ns >= 0 ? (uint64_t)(p->start_ns / interval_ns) : UINT64_MAX;
      if (k >= pb->intervals || p->rack >= pb->racks) {
        snprintf(err, err_len, "/power row %llu: interval at %lld ns or rack %u outside the run",
                 (unsigned long long)(first + i), (long long)p->start_ns, p->rack);
        goto out;
      }
      int64_t nj = llround(p->energy_j * 1e9); /* the bin the row was made from */
      pb->site_nj[k] += nj;
      pb->rack_nj[p->rack * pb->intervals + k] += nj;
      pb->it_nj += nj;
      pb->racks_seen = p->rack + 1 > pb->racks_seen ? p->rack + 1 : pb->racks_seen;
    }
  }
  rc = 0;
out:
  free(nodes);
  free(rows);
  return rc;
}

/* The length of interval k of [0, simulated_ns): the last may be short, and a mean power over it is
 * its energy over that length. */
static double interval_length_s(uint64_t k, int64_t interval_ns, int64_t simulated_ns) {
  int64_t start = (int64_t)k * interval_ns;
  return (double)(start + interval_ns < simulated_ns ? interval_ns : simulated_ns - start) * 1e-9;
}

/* Power and energy from /nodes and /power, per output token of the completed requests; the
 * transfers (sorted by id) and their share of the decode phase of the requests they served. */
/* Cost from the timeline's cost attributes and the power and throughput already summarised. A
 * timeline written before they existed has no price: every figure NaN, unpriced "unknown". */
static void summarise_cost(io_timeline_reader *r, srv_summary *s) {
  char ignored[256], *unpriced = NULL;
  int64_t accelerators = 0;
  s->energy_usd_per_kwh = s->accelerators_usd_per_h = NAN;
  snprintf(s->unpriced, sizeof s->unpriced, "unknown (a timeline without prices)");
  if (io_timeline_reader_attr_string(r, "unpriced_accelerators", &unpriced, ignored,
                                     sizeof ignored) == 0 &&
      io_timeline_reader_attr_int64(r, "accelerators", &accelerators, ignored, sizeof ignored) ==
          0 &&
      io_timeline_reader_attr_double(r, "accelerators_usd_per_h", &s->accelerators_usd_per_h,
                                     ignored, sizeof ignored) == 0 &&
      io_timeline_reader_attr_double(r, "energy_usd_per_kwh", &s->energy_usd_per_kwh, ignored,
                                     sizeof ignored) == 0) {
    snprintf(s->unpriced, sizeof s->unpriced, "%s", unpriced);
    s->accelerators = accelerators > 0 ? (uint64_t)accelerators : 0;
  } else {
    s->energy_usd_per_kwh = s->accelerators_usd_per_h = NAN;
  }
  free(unpriced);
  s->energy_usd_per_h = s->power_avg_w * 1e-3 * s->energy_usd_per_kwh;
  s->fleet_usd_per_h = s->accelerators_usd_per_h + s->energy_usd_per_h;
  s->run_usd = s->fleet_usd_per_h * s->simulated_s / 3600;
  s->usd_per_m_input_tokens = s->input_tok_s > 0
                                  ? s->fleet_usd_per_h / (s->input_tok_s * 3600) * 1e6
                                  : NAN;
  s->usd_per_m_output_tokens = s->output_tok_s > 0
                                   ? s->fleet_usd_per_h / (s->output_tok_s * 3600) * 1e6
                                   : NAN;
}

static int summarise_power(io_timeline_reader *r, srv_summary *s, int64_t simulated_ns,
                           uint64_t out_tokens, const srv_transfer_row *tr, uint64_t ntr,
                           int64_t transfer_sum, int64_t decode_sum, srv_breakdown *groups,
                           char *err, size_t err_len) {
  srv_link_row *links = NULL;
  srv_engine_row *engine = NULL;
  int64_t *net_ns = NULL, *wait_ns = NULL;
  double *w = NULL;
  power_bins pb = {0};
  uint64_t nlinks = 0, nengine = 0;
  int64_t interval_ns = 1;
  int rc = -1;
  if (io_timeline_reader_attr_double(r, "pue", &s->pue, err, err_len) ||
      io_timeline_reader_attr_double(r, "rack_budget_w", &s->rack_budget_w, err, err_len) ||
      io_timeline_reader_attr_double(r, "site_budget_w", &s->site_budget_w, err, err_len) ||
      io_timeline_reader_attr_int64(r, "power_interval_ns", &interval_ns, err, err_len))
    goto out;
  if (interval_ns < 1) {
    snprintf(err, err_len, "power_interval_ns is %lld: expected at least 1 ns",
             (long long)interval_ns);
    goto out;
  }
  if (read_table(r, &srv_links_table, (void **)&links, &nlinks, err, err_len) ||
      read_table(r, &srv_engine_table, (void **)&engine, &nengine, err, err_len) ||
      bin_power(r, interval_ns, simulated_ns, &pb, err, err_len))
    goto out;
  for (uint64_t i = 0; i < nlinks; i++)
    s->link_chunks += links[i].chunks;
  for (uint64_t i = 0; i < nengine; i++)
    s->windows = engine[i].windows > s->windows ? engine[i].windows : s->windows;
  uint64_t intervals = pb.intervals;
  s->racks = pb.racks_seen;
  w = malloc((intervals + 1) * sizeof *w);
  if (groups) {
    groups->racks = calloc(s->racks + 1, sizeof *groups->racks);
    groups->rack_count = groups->racks ? s->racks : 0;
  }
  net_ns = malloc((ntr + 1) * sizeof *net_ns);
  wait_ns = malloc((ntr + 1) * sizeof *wait_ns);
  if (!w || !net_ns || !wait_ns || (groups && !groups->racks)) {
    snprintf(err, err_len, "out of memory summarising power");
    goto out;
  }
  s->it_energy_j = (double)pb.it_nj * 1e-9;
  s->host_energy_j = pb.host_w * s->simulated_s + pb.host_cpu_j;
  s->accel_energy_j = s->it_energy_j - s->host_energy_j;
  s->energy_j = s->it_energy_j * s->pue;
  s->power_avg_w = s->simulated_s > 0 ? s->energy_j / s->simulated_s : 0;
  for (uint64_t k = 0; k < intervals; k++) {
    w[k] = (double)pb.site_nj[k] * 1e-9 / interval_length_s(k, interval_ns, simulated_ns) * s->pue;
    s->power_peak_w = fmax(s->power_peak_w, w[k]);
    s->site_intervals_over += s->site_budget_w > 0 && w[k] > s->site_budget_w;
  }
  double interval_s = (double)interval_ns * 1e-9;
  if (s->site_budget_w > 0)
    note_over(s, "site", w, intervals, s->site_budget_w, interval_s);
  for (uint32_t q = 0; q < s->racks; q++) {
    const int64_t *nj = pb.rack_nj + (uint64_t)q * intervals;
    int64_t rack_nj = 0;
    double rack_peak_w = 0;
    for (uint64_t k = 0; k < intervals; k++) {
      w[k] = (double)nj[k] * 1e-9 / interval_length_s(k, interval_ns, simulated_ns);
      rack_peak_w = fmax(rack_peak_w, w[k]);
      rack_nj += nj[k];
      s->rack_intervals_over += s->rack_budget_w > 0 && w[k] > s->rack_budget_w;
    }
    double rack_avg_w = s->simulated_s > 0 ? (double)rack_nj * 1e-9 / s->simulated_s : 0;
    s->rack_peak_w = fmax(s->rack_peak_w, rack_peak_w);
    s->rack_avg_w_max = fmax(s->rack_avg_w_max, rack_avg_w);
    if (groups) {
      groups->racks[q].energy_j = (double)rack_nj * 1e-9;
      groups->racks[q].power_avg_w = rack_avg_w;
      groups->racks[q].power_peak_w = rack_peak_w;
    }
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
  s->energy_per_output_token_j = out_tokens ? s->energy_j / (double)out_tokens : 0;
  for (uint64_t i = 0; i < ntr; i++) {
    net_ns[i] = tr[i].end_ns - tr[i].start_ns;
    wait_ns[i] = tr[i].start_ns - tr[i].ready_ns;
    s->kv_bytes += (double)tr[i].bytes;
  }
  s->kv_share_of_decode = decode_sum > 0 ? (double)transfer_sum / (double)decode_sum : 0;
  s->transfers = ntr;
  if (distribution_of(net_ns, ntr, &s->kv_transfer_ms) != 0 ||
      distribution_of(wait_ns, ntr, &s->kv_wait_ms) != 0) {
    snprintf(err, err_len, "out of memory summarising transfers");
    goto out;
  }
  rc = 0;
out:
  free(links);
  free(engine);
  free(net_ns);
  free(wait_ns);
  free(w);
  free(pb.site_nj);
  free(pb.rack_nj);
  return rc;
}

/* The workload's skipped rows and dropped arrivals, counted from schema version 7 on. */
static int read_workload_counts(io_timeline_reader *r, srv_summary *s, char *err, size_t err_len) {
  int64_t version = 0, skipped = 0, dropped = 0;
  if (io_timeline_reader_attr_int64(r, "schema_version", &version, err, err_len) != 0)
    return -1;
  if (version >= 7 &&
      (io_timeline_reader_attr_int64(r, "skipped_rows", &skipped, err, err_len) != 0 ||
       io_timeline_reader_attr_int64(r, "dropped_arrivals", &dropped, err, err_len) != 0))
    return -1;
  s->skipped_rows = skipped > 0 ? (uint64_t)skipped : 0;
  s->dropped_arrivals = dropped > 0 ? (uint64_t)dropped : 0;
  return 0;
}

/* Rows of /requests read at a time: the summary's memory does not grow with the run. */
enum { REQUEST_BLOCK_ROWS = 1 << 16 };

/* The latencies of the requests, each a stream of values read again until its percentiles are
 * known. */
enum { LAT_TTFT, LAT_E2E, LAT_TPOT, LAT_QUEUE, LATENCIES };

/* What the first pass over /requests sums, and the transfers (sorted by id) it joins them with. */
typedef struct request_totals {
  int64_t slo_ttft_ns, slo_tpot_ns;
  const srv_transfer_row *tr;
  uint64_t ntr;
  uint64_t good, in_tokens, out_tokens;
  int64_t transfer_sum, decode_sum;
  const srv_instance_row *inst; /* sorted by id: the requests' instances must be among them */
  uint64_t ninst;
  bool dangling; /* a request named an instance that /instances lacks: the first one below */
  int64_t dangling_request;
  int32_t dangling_instance;
  bool dangling_decode;
} request_totals;

/* Adds q's latencies to the streams; counts its figures too on the first pass (totals not NULL). */
static void add_request(srv_summary *s, util_quantiles lat[LATENCIES], request_totals *totals,
                        const srv_request_row *q) {
  if (q->first_scheduled_ns >= 0)
    util_quantiles_add(&lat[LAT_QUEUE], q->first_scheduled_ns - q->dispatch_ns);
  int64_t ttft = q->first_token_ns - q->arrival_ns, tpot = 0;
  bool completed = q->fate == SRV_FATE_COMPLETED;
  if (completed) {
    util_quantiles_add(&lat[LAT_TTFT], ttft);
    util_quantiles_add(&lat[LAT_E2E], q->done_ns - q->arrival_ns);
    if (q->output_tokens > 1) {
      /* Mean time between output tokens after the first: an integer ns, rounded down. */
      tpot = (q->done_ns - q->first_token_ns) / (q->output_tokens - 1);
      util_quantiles_add(&lat[LAT_TPOT], tpot);
    }
  }
  if (!totals)
    return;
  const int32_t ids[2] = {q->instance, q->decode_instance};
  for (int k = 0; k < 2 && !totals->dangling; k++)
    if (ids[k] != -1 && instance_index(totals->inst, totals->ninst, ids[k]) < 0) {
      totals->dangling = true;
      totals->dangling_request = q->id;
      totals->dangling_instance = ids[k];
      totals->dangling_decode = k == 1;
    }
  s->total++;
  s->preemptions += q->preemptions;
  if (q->first_scheduled_ns >= 0) {
    s->prompt_tokens += (uint64_t)q->input_tokens;
    s->prefix_hit_tokens += q->prefix_hit_tokens;
    s->tier_hit_tokens += q->tier_hit_tokens;
  }
  if (!completed) {
    s->unfinished++;
    return;
  }
  s->completed++;
  totals->in_tokens += (uint64_t)q->input_tokens;
  totals->out_tokens += (uint64_t)q->output_tokens;
  totals->good += ttft <= totals->slo_ttft_ns && tpot <= totals->slo_tpot_ns;
  if (q->decode_instance >= 0 && totals->ntr) {
    srv_transfer_row key = {.id = q->id};
    const srv_transfer_row *t = bsearch(&key, totals->tr, totals->ntr, sizeof key, cmp_transfer);
    if (t) {
      totals->transfer_sum += t->end_ns - t->start_ns;
      totals->decode_sum += q->done_ns - q->first_token_ns;
    }
  }
}

/* Reads /requests block by block, as many times as the latency percentiles need. */
static int summarise_requests(io_timeline_reader *r, srv_summary *s, request_totals *totals,
                              char *err, size_t err_len) {
  uint64_t nreq;
  if (io_timeline_reader_rows(r, srv_requests_table.name, &nreq, err, err_len) != 0)
    return -1;
  uint64_t block = nreq < REQUEST_BLOCK_ROWS ? nreq : REQUEST_BLOCK_ROWS;
  srv_request_row *rows = malloc((block ? block : 1) * sizeof *rows);
  util_quantiles lat[LATENCIES];
  for (int k = 0; k < LATENCIES; k++)
    util_quantiles_init(&lat[k], percentiles, PERCENTILES);
  int rc = rows ? 0 : -1, more = 1;
  for (int pass = 0; rc == 0 && more == 1; pass++) {
    for (uint64_t first = 0; rc == 0 && first < nreq; first += block) {
      uint64_t count = nreq - first < block ? nreq - first : block;
      rc = io_timeline_reader_read(r, &srv_requests_table, first, count, rows, err, err_len);
      for (uint64_t i = 0; rc == 0 && i < count; i++)
        add_request(s, lat, pass == 0 ? totals : NULL, &rows[i]);
    }
    more = 0;
    for (int k = 0; rc == 0 && k < LATENCIES; k++) {
      int m = util_quantiles_end_pass(&lat[k]);
      more = m < 0 || more < 0 ? -1 : m > more ? m : more;
    }
  }
  if (rc == 0 && more < 0)
    rc = -1;
  if (rc != 0 && !*err)
    snprintf(err, err_len, "out of memory summarising %llu requests", (unsigned long long)nreq);
  if (rc == 0) {
    s->ttft_ms = distribution(&lat[LAT_TTFT]);
    s->e2e_ms = distribution(&lat[LAT_E2E]);
    s->tpot_ms = distribution(&lat[LAT_TPOT]);
    s->queue_ms = distribution(&lat[LAT_QUEUE]);
  }
  for (int k = 0; k < LATENCIES; k++)
    util_quantiles_free(&lat[k]);
  free(rows);
  return rc;
}

/* groups' entry named name among the first *n, appended when new (there is room for it). */
static size_t group_named(srv_group *g, size_t *n, const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp(g[i].name, name) == 0)
      return i;
  snprintf(g[*n].name, sizeof g[*n].name, "%s", name);
  return (*n)++;
}

/* One kind of group (pools, models or racks): each instance's group by its index in the sorted
 * instances, and, for pools and models, the latencies of the requests that ran on its instances
 * (streams read again until their percentiles are known; racks count requests only). */
typedef struct group_kind {
  srv_group *g;
  size_t n;
  size_t *of;           /* [ninst] */
  util_quantiles *lat;  /* [n][3]: ttft, e2e, tpot; NULL for racks */
  uint64_t *out_tokens; /* [n] */
  bool instance_energy; /* energy_j sums the instances' (pools, models); racks have /power's */
} group_kind;

/* Request q in group x of k: counted in the first pass, its latencies in every pass. */
static void add_to_group(group_kind *k, size_t x, const srv_request_row *q, bool first_pass) {
  bool completed = q->fate == SRV_FATE_COMPLETED;
  if (first_pass) {
    k->g[x].requests++;
    k->g[x].completed += completed;
    k->out_tokens[x] += completed ? (uint64_t)q->output_tokens : 0;
    k->g[x].deadline_requests += q->deadline_ns >= 0;
    k->g[x].deadline_met += q->deadline_ns >= 0 && completed && q->done_ns <= q->deadline_ns;
  }
  if (!completed || !k->lat)
    return;
  util_quantiles *lat = &k->lat[3 * x];
  util_quantiles_add(&lat[0], q->first_token_ns - q->arrival_ns);
  util_quantiles_add(&lat[1], q->done_ns - q->arrival_ns);
  if (q->output_tokens > 1)
    util_quantiles_add(&lat[2], (q->done_ns - q->first_token_ns) / (q->output_tokens - 1));
}

static void add_group_request(group_kind *k, const srv_request_row *q, int64_t a, int64_t b,
                              bool first_pass) {
  size_t ga = a >= 0 ? k->of[a] : k->n, gb = b >= 0 ? k->of[b] : k->n;
  for (int side = 0; side < 2; side++) {
    size_t x = side ? gb : ga;
    if (x == k->n || (side && gb == ga))
      continue;
    add_to_group(k, x, q, first_pass);
  }
}

/* Adds the instance's accelerator-hours: used (serving, iterating), idle (serving, empty) and
 * wasted (provisioning, loading, warm, draining). Returns whether it was ever not serving. */
static bool add_gpu_hours(const srv_instance_row *q, double *used, double *idle, double *wasted) {
  double accel_h = q->accelerators / 3.6e12; /* accelerator-hours per ns */
  *used += (double)q->serving_busy_ns * accel_h;
  *idle += (double)(q->serving_ns - q->serving_busy_ns) * accel_h;
  *wasted += (double)(q->provisioning_ns + q->loading_ns + q->warm_ns + q->draining_ns) * accel_h;
  return q->off_ns || q->provisioning_ns || q->loading_ns || q->warm_ns || q->draining_ns;
}

/* Pools (deployments), models, racks and tiers, from the sorted instances and /requests read
 * block by block; the racks' power is already in groups->racks (summarise_power). Tiers group
 * requests by their service_tier; they are kept only when some request is batch. */
enum { KINDS = 4, TIERS_KIND = 3 };
static int summarise_groups(io_timeline_reader *r, srv_breakdown *groups,
                            const srv_instance_row *inst, uint64_t ninst, int64_t simulated_ns,
                            char *err, size_t err_len) {
  uint32_t racks = (uint32_t)groups->rack_count;
  for (uint64_t i = 0; i < ninst; i++)
    racks = inst[i].rack + 1 > racks ? inst[i].rack + 1 : racks;
  if (racks > groups->rack_count) {
    srv_group *grown = realloc(groups->racks, racks * sizeof *grown);
    if (grown) {
      memset(grown + groups->rack_count, 0, (racks - groups->rack_count) * sizeof *grown);
      groups->racks = grown;
      groups->rack_count = racks;
    }
  }
  groups->pools = calloc(ninst + 1, sizeof *groups->pools);
  groups->models = calloc(ninst + 1, sizeof *groups->models);
  groups->tiers = calloc(2, sizeof *groups->tiers); /* job_tier order */
  group_kind kinds[KINDS] = {{.g = groups->pools, .instance_energy = true},
                             {.g = groups->models, .instance_energy = true},
                             {.g = groups->racks, .n = groups->rack_count},
                             {.g = groups->tiers, .n = 2}};
  int rc = groups->pools && groups->models && groups->tiers && groups->rack_count >= racks ? 0 : -1;
  for (int k = 0; k < KINDS && rc == 0; k++)
    if (!(kinds[k].of = calloc(ninst + 1, sizeof *kinds[k].of)))
      rc = -1;
  for (uint64_t i = 0; rc == 0 && i < ninst; i++) {
    size_t p = group_named(groups->pools, &kinds[0].n, inst[i].deployment);
    snprintf(groups->pools[p].model, sizeof groups->pools[p].model, "%s", inst[i].model);
    snprintf(groups->pools[p].accelerator, sizeof groups->pools[p].accelerator, "%s",
             inst[i].accelerator);
    groups->pools[p].role = inst[i].role;
    kinds[0].of[i] = p;
    kinds[1].of[i] = group_named(groups->models, &kinds[1].n, inst[i].model);
    kinds[2].of[i] = inst[i].rack;
  }
  groups->pool_count = kinds[0].n;
  groups->model_count = kinds[1].n;
  for (size_t q = 0; q < groups->rack_count; q++)
    snprintf(groups->racks[q].name, sizeof groups->racks[q].name, "rack %zu", q);
  for (size_t t = 0; rc == 0 && t < 2; t++)
    snprintf(groups->tiers[t].name, sizeof groups->tiers[t].name, "%s", job_tier_name((job_tier)t));
  for (int k = 0; k < KINDS && rc == 0; k++) {
    bool latencies = k != 2; /* racks count requests only */
    kinds[k].out_tokens = calloc(kinds[k].n + 1, sizeof *kinds[k].out_tokens);
    if (!kinds[k].out_tokens)
      rc = -1;
    if (latencies && rc == 0 && !(kinds[k].lat = calloc(3 * kinds[k].n + 1, sizeof *kinds[k].lat)))
      rc = -1;
    for (size_t x = 0; latencies && rc == 0 && x < 3 * kinds[k].n; x++)
      util_quantiles_init(&kinds[k].lat[x], percentiles, PERCENTILES);
    if (k == TIERS_KIND)
      continue; /* no instances */
    for (uint64_t i = 0; rc == 0 && i < ninst; i++) {
      srv_group *g = &kinds[k].g[kinds[k].of[i]];
      g->instances++;
      if (simulated_ns > 0) {
        g->utilisation_mean += (double)inst[i].busy_ns / (double)simulated_ns;
        if (inst[i].kv_blocks_total)
          g->kv_use_mean += inst[i].kv_block_ns /
                            ((double)inst[i].kv_blocks_total * (double)simulated_ns);
      }
      if (kinds[k].instance_energy) {
        g->energy_j += inst[i].energy_j;
        g->scaling |= add_gpu_hours(&inst[i], &g->gpu_hours_used, &g->gpu_hours_idle,
                                    &g->gpu_hours_wasted);
      }
    }
  }
  uint64_t nreq = 0;
  srv_request_row *rows = NULL;
  if (rc == 0 && io_timeline_reader_rows(r, srv_requests_table.name, &nreq, err, err_len) != 0)
    rc = -2;
  uint64_t block = nreq < REQUEST_BLOCK_ROWS ? nreq : REQUEST_BLOCK_ROWS;
  if (rc == 0 && !(rows = malloc((block ? block : 1) * sizeof *rows)))
    rc = -1;
  for (int pass = 0, more = 1; rc == 0 && more == 1; pass++) {
    for (uint64_t first = 0; rc == 0 && first < nreq; first += block) {
      uint64_t count = nreq - first < block ? nreq - first : block;
      if (io_timeline_reader_read(r, &srv_requests_table, first, count, rows, err, err_len) != 0)
        rc = -2;
      for (uint64_t i = 0; rc == 0 && i < count; i++) {
        int64_t a = instance_index(inst, ninst, rows[i].instance),
                b = instance_index(inst, ninst, rows[i].decode_instance);
        for (int k = 0; k < TIERS_KIND; k++)
          add_group_request(&kinds[k], &rows[i], a, b, pass == 0);
        add_to_group(&kinds[TIERS_KIND], rows[i].service_tier == JOB_TIER_BATCH, &rows[i],
                     pass == 0);
      }
    }
    more = 0;
    for (int k = 0; rc == 0 && k < KINDS; k++)
      for (size_t x = 0; kinds[k].lat && x < 3 * kinds[k].n; x++) {
        int m = util_quantiles_end_pass(&kinds[k].lat[x]);
        more = m < 0 || more < 0 ? -1 : m > more ? m : more;
      }
    if (more < 0)
      rc = -1;
  }
  double sim_s = simulated_ns > 0 ? (double)simulated_ns * 1e-9 : 1;
  for (int k = 0; k < KINDS; k++) {
    for (size_t x = 0; rc == 0 && x < kinds[k].n; x++) {
      srv_group *g = &kinds[k].g[x];
      if (kinds[k].lat) {
        g->ttft_ms = distribution(&kinds[k].lat[3 * x]);
        g->e2e_ms = distribution(&kinds[k].lat[3 * x + 1]);
        g->tpot_ms = distribution(&kinds[k].lat[3 * x + 2]);
      }
      g->output_tok_s = (double)kinds[k].out_tokens[x] / sim_s;
      if (g->instances) {
        g->utilisation_mean /= g->instances;
        g->kv_use_mean /= g->instances;
      }
      if (kinds[k].instance_energy && kinds[k].out_tokens[x])
        g->energy_per_output_token_j = g->energy_j / (double)kinds[k].out_tokens[x];
    }
    for (size_t x = 0; kinds[k].lat && x < 3 * kinds[k].n; x++)
      util_quantiles_free(&kinds[k].lat[x]);
    free(kinds[k].lat);
    free(kinds[k].of);
    free(kinds[k].out_tokens);
  }
  free(rows);
  groups->tier_count = rc == 0 && groups->tiers[JOB_TIER_BATCH].requests ? 2 : 0;
  if (rc == -1)
    snprintf(err, err_len, "out of memory breaking the summary down");
  return rc == 0 ? 0 : -1;
}

void srv_report_breakdown_free(srv_breakdown *groups) {
  if (!groups)
    return;
  free(groups->pools);
  free(groups->models);
  free(groups->racks);
  free(groups->tiers);
  memset(groups, 0, sizeof *groups);
}

/* Opens path for a summary: a complete timeline, or (allow_partial) one that a stopped run closed
 * with complete=0 and stop_reason; fills s's completeness fields. */
static io_timeline_reader *open_for_summary(const char *path, bool allow_partial, srv_summary *s,
                                            char *err, size_t err_len) {
  io_timeline_reader *r = io_timeline_reader_open(path, true, err, err_len);
  if (!r)
    return NULL;
  s->complete = io_timeline_reader_complete(r);
  if (s->complete) {
    s->end_reached_ns = -1; /* a complete timeline from before this attribute existed */
    io_timeline_reader_attr_int64(r, "end_reached_ns", &s->end_reached_ns, NULL, 0);
    return r;
  }
  char *reason = NULL;
  bool stopped = io_timeline_reader_attr_string(r, "stop_reason", &reason, NULL, 0) == 0 &&
                 io_timeline_reader_attr_int64(r, "end_reached_ns", &s->end_reached_ns, NULL, 0) ==
                     0;
  if (stopped)
    snprintf(s->stop_reason, sizeof s->stop_reason, "%s", reason);
  free(reason);
  if (!stopped)
    snprintf(err, err_len,
             "timeline '%s' is incomplete (complete=1 missing): the run that wrote it did not "
             "finish",
             path);
  else if (!allow_partial)
    snprintf(err, err_len,
             "timeline '%s' is partial: its run was stopped (%s) at simulated time %.3f s; "
             "'windtunnel report --partial' summarises what it holds",
             path, s->stop_reason, (double)s->end_reached_ns * 1e-9);
  if (!stopped || !allow_partial) {
    io_timeline_reader_close(r);
    return NULL;
  }
  return r;
}

int srv_report_summarise(const char *path, srv_summary *s, char *err, size_t err_len) {
  return srv_report_summarise_groups(path, false, s, NULL, err, err_len);
}

int srv_report_summarise_partial(const char *path, srv_summary *s, char *err, size_t err_len) {
  return srv_report_summarise_groups(path, true, s, NULL, err, err_len);
}

int srv_report_summarise_groups(const char *path, bool allow_partial, srv_summary *s,
                                srv_breakdown *groups, char *err, size_t err_len) {
  memset(s, 0, sizeof *s);
  if (groups)
    memset(groups, 0, sizeof *groups);
  if (err_len)
    *err = '\0';
  io_timeline_reader *r = open_for_summary(path, allow_partial, s, err, err_len);
  if (!r)
    return -1;
  srv_instance_row *inst = NULL;
  srv_transfer_row *tr = NULL;
  uint64_t ninst = 0, ntr = 0;
  int64_t simulated_ns = 0, events = 0;
  request_totals totals = {0};
  int rc = -1;
  if (report_check_schema(r, err, err_len) ||
      io_timeline_reader_attr_int64(r, "slo_ttft_ns", &totals.slo_ttft_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "slo_tpot_ns", &totals.slo_tpot_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "simulated_ns", &simulated_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "events", &events, err, err_len) ||
      io_timeline_reader_attr_int64(r, "ranks", &s->ranks, err, err_len) ||
      io_timeline_reader_attr_int64(r, "threads", &s->threads, err, err_len) ||
      io_timeline_reader_attr_double(r, "wall_s", &s->wall_s, err, err_len) ||
      read_workload_counts(r, s, err, err_len) ||
      read_table(r, &srv_instances_table, (void **)&inst, &ninst, err, err_len) ||
      read_table(r, &srv_transfers_table, (void **)&tr, &ntr, err, err_len))
    goto out;
  qsort(tr, ntr, sizeof *tr, cmp_transfer);
  qsort(inst, ninst, sizeof *inst, cmp_instance); /* sums in one order whatever the writers' */
  for (uint64_t i = 0; i < ntr; i++)
    if (instance_index(inst, ninst, tr[i].prefill_instance) < 0 ||
        instance_index(inst, ninst, tr[i].decode_instance) < 0) {
      snprintf(err, err_len,
               "%s: /transfers row of request %lld names instance %u or %u, which /instances "
               "lacks (a damaged or hand-edited file)",
               path, (long long)tr[i].id, tr[i].prefill_instance, tr[i].decode_instance);
      goto out;
    }
  totals.tr = tr;
  totals.ntr = ntr;
  totals.inst = inst;
  totals.ninst = ninst;
  if (summarise_requests(r, s, &totals, err, err_len) != 0)
    goto out;
  if (totals.dangling) { /* figures computed from such a file would be silently wrong */
    snprintf(err, err_len,
             "%s: /requests row of request %lld names %s instance %d, which /instances lacks (a "
             "damaged or hand-edited file)",
             path, (long long)totals.dangling_request, totals.dangling_decode ? "decode" : "its",
             totals.dangling_instance);
    goto out;
  }
  s->events = (uint64_t)events;
  s->simulated_s = (double)simulated_ns * 1e-9;
  s->slo_ttft_ms = (double)totals.slo_ttft_ns * 1e-6;
  s->slo_tpot_ms = (double)totals.slo_tpot_ns * 1e-6;
  double sim_s = s->simulated_s > 0 ? s->simulated_s : 1;
  s->input_tok_s = (double)totals.in_tokens / sim_s;
  s->output_tok_s = (double)totals.out_tokens / sim_s;
  s->req_s = (double)s->completed / sim_s;
  /* Over every request: one that never finished did not meet its SLO. */
  s->slo_attainment = s->total ? (double)totals.good / (double)s->total : 0;
  s->goodput_req_s = (double)totals.good / sim_s;
  s->instances = (uint32_t)ninst;
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
    s->scaling |= add_gpu_hours(in, &s->gpu_hours_used, &s->gpu_hours_idle, &s->gpu_hours_wasted);
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
  rc = summarise_power(r, s, simulated_ns, totals.out_tokens, tr, ntr, totals.transfer_sum,
                       totals.decode_sum, groups, err, err_len);
  if (rc == 0)
    summarise_cost(r, s);
  if (rc == 0 && groups)
    rc = summarise_groups(r, groups, inst, ninst, simulated_ns, err, err_len);
out:
  if (rc != 0 && groups)
    srv_report_breakdown_free(groups);
  free(inst);
  free(tr);
  io_timeline_reader_close(r);
  return rc;
}

int srv_report_read_table(io_timeline_reader *r, const io_table_def *def, void **rows, uint64_t *n,
                          char *err, size_t err_len) {
  *rows = NULL;
  int rc = read_table(r, def, rows, n, err, err_len);
  if (rc != 0) {
    free(*rows);
    *rows = NULL;
  }
  return rc;
}
