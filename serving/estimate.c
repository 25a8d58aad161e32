/* What a run will need before it starts (serving/estimate.h). The parts counted are those that grow
 * without bound: series dense over simulated time (node energy bins and /power rows, link busy bins
 * and /link_utilisation rows, all held until the end of the run), the per-rank copies of the
 * workload, the summary's read of /requests and the KV block tables. Events in flight and the
 * buffered rows that are flushed as the run goes are bounded by the cluster and left out, so the
 * estimate is a lower bound: a run it refuses could not have fitted. */
#define _POSIX_C_SOURCE 200809L
#include "serving/estimate.h"

#include <math.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "io/units.h"
#include "jobs/kvcache.h"
#include "jobs/trace.h"
#include "jobs/workload.h"
#include "serving/cluster.h"
#include "serving/model.h"
#include "serving/schema.h"
#include "util/error.h"

/* Bytes of a util_timebins of `bins` used bins: it doubles from 16 (util/timebins.c). */
static double timebins_bytes(double bins) {
  double cap = 16;
  while (cap < bins)
    cap *= 2;
  return bins > 0 ? cap * sizeof(int64_t) : 0;
}

void srv_estimate_make(const srv_scenario *s, uint64_t requests, uint64_t prefix_hashes,
                       int64_t last_arrival_ns, uint32_t nodes, uint32_t links, int ranks,
                       srv_estimate *e) {
  *e = (srv_estimate){.requests = requests,
                      .prefix_hashes = prefix_hashes,
                      .nodes = nodes,
                      .links = links,
                      .instances = srv_scenario_instances(s),
                      .ranks = ranks > 0 ? ranks : 1};
  e->simulated_ns = last_arrival_ns > 0 ? last_arrival_ns : 0;
  if (s->simulation.end_ns > 0 && s->simulation.end_ns < e->simulated_ns)
    e->simulated_ns = s->simulation.end_ns;
  double intervals = ceil((double)e->simulated_ns / (double)s->power.interval_ns);
  if (intervals < 1)
    intervals = 1;
  e->power_intervals = (uint64_t)intervals;
  /* Power rows go out as the run goes (every POWER_ROWS_INTERVALS intervals): the nodes' bins hold
   * about that many intervals whatever the duration; the rows count in the timeline. */
  double held = intervals < 2.0 * POWER_ROWS_INTERVALS ? intervals : 2.0 * POWER_ROWS_INTERVALS;
  e->power_bytes = nodes * timebins_bytes(held);
  e->link_bytes = links * (timebins_bytes(intervals) + intervals * sizeof(srv_link_util_row));
  double per_rank = (s->disaggregated ? (double)requests * (8 + 4 + 4) : 0) +
                    (prefix_hashes ? ((double)requests + 1 + (double)prefix_hashes) * 8 : 0);
  e->workload_bytes = per_rank * e->ranks;
  e->summary_bytes = 0; /* the summary reads /requests in blocks (serving/report.c) */
  for (size_t d = 0; d < s->deployment_count; d++)
    e->kv_bytes += s->deployments[d].count * job_kv_bytes(s->deployments[d].sched.total_kv_blocks);
  e->total_bytes = e->power_bytes + e->link_bytes + e->workload_bytes + e->summary_bytes +
                   e->kv_bytes;
  e->timeline_bytes = (double)requests * sizeof(srv_request_row) +
                      nodes * intervals * sizeof(srv_power_row);
}

void srv_workload_warn(const srv_scenario *s, uint64_t requests, int64_t skipped_rows,
                       int64_t dropped_arrivals, const char *first_skipped, FILE *out) {
  const srv_workload *w = &s->workload;
  const char *what = w->synthetic ? "the synthetic workload" : w->trace_path;
  if (skipped_rows)
    fprintf(out,
            "windtunnel: warning: %s: %lld malformed rows skipped (workload.skip_bad_rows); the "
            "first: %s\n",
            what, (long long)skipped_rows, first_skipped);
  if (dropped_arrivals)
    fprintf(out,
            "windtunnel: warning: %s: %lld requests dropped: they would arrive past the last "
            "representable time (2^62 ns, 146 years) after workload.rate_scale and "
            "workload.offset\n",
            what, (long long)dropped_arrivals);
  if (requests == 0)
    fprintf(out, "windtunnel: warning: %s: the workload has no requests%s\n", what,
            w->synthetic || dropped_arrivals
                ? ""
                : " (a header and no rows, or none in the window workload.from/to)");
}

int srv_estimate_scenario(const srv_scenario *s, int ranks, srv_estimate *e, FILE *warnings,
                          char *err, size_t err_len) {
  srv_cluster c;
  memset(&c, 0, sizeof c);
  if (srv_cluster_build(&c, s, err, err_len) != 0)
    return -1;
  if (s->regions.count && srv_regions_check(s, &c, err, err_len) != 0) {
    srv_cluster_free(&c);
    return -1;
  }
  uint32_t nodes = c.nodes, links = c.topo ? net_link_count(c.topo) : 0;
  srv_cluster_free(&c);
  const srv_workload *w = &s->workload;
  job_source *src;
  int rc = srv_workload_open(w, &src, err, err_len);
  if (rc != 0)
    return -1;
  uint64_t requests = 0, hashes = 0;
  int64_t last_ns = 0;
  job_request q;
  while ((rc = job_source_next(src, &q, err, err_len)) > 0) {
    requests++;
    hashes += q.prefix_hash_count;
    last_ns = q.arrival_ns;
  }
  if (rc >= 0 && srv_workload_models(s, src, NULL, err, err_len) != 0)
    rc = -1;
  if (rc >= 0 && warnings)
    srv_workload_warn(s, requests, job_source_bad_rows(src), job_source_dropped_arrivals(src),
                      job_source_first_bad_row(src), warnings);
  job_source_close(src);
  if (rc < 0)
    return -1;
  srv_estimate_make(s, requests, hashes, last_ns, nodes, links, ranks, e);
  return 0;
}

uint64_t srv_free_disk_bytes(const char *output_path) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", output_path && output_path[0] ? output_path : ".");
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  struct statvfs st;
  if (statvfs(dir, &st) != 0)
    return 0;
  return (uint64_t)st.f_bavail * (uint64_t)st.f_frsize;
}

int srv_estimate_check_timeline(const srv_scenario *s, const srv_estimate *e,
                                uint64_t max_timeline_bytes, bool free_space, char *err,
                                size_t err_len) {
  if (max_timeline_bytes == 0 || e->timeline_bytes <= (double)max_timeline_bytes)
    return 0;
  char need[32], have[32], interval[32];
  io_units_format(IO_UNIT_BYTES, round(e->timeline_bytes), need, sizeof need);
  io_units_format(IO_UNIT_BYTES, (double)max_timeline_bytes, have, sizeof have);
  io_units_format(IO_UNIT_NS, (double)s->power.interval_ns, interval, sizeof interval);
  return util_err(
      err, err_len,
      "the timeline takes at least %s before compression, more than --max-timeline "
      "(%s%s): power rows of %u nodes x %llu intervals of power.interval=%s over %.4g s "
      "simulated (the last arrival); raise power.interval, or shorten the simulated "
      "time (workload.offset, rate_scale, to, max_requests; simulation.end; a trace's "
      "dates), or raise --max-timeline if it compresses well",
      need, have, free_space ? ", the free space in the output's folder" : "", e->nodes,
      (unsigned long long)e->power_intervals, interval, (double)e->simulated_ns * 1e-9);
}

uint64_t srv_machine_memory_bytes(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_bytes > 0 ? (uint64_t)pages * (uint64_t)page_bytes : 0;
}

int srv_estimate_check(const srv_scenario *s, const srv_estimate *e, uint64_t max_memory_bytes,
                       bool machine, char *err, size_t err_len) {
  double limit = (double)(max_memory_bytes ? max_memory_bytes : srv_machine_memory_bytes());
  machine |= max_memory_bytes == 0;
  if (limit <= 0 || e->total_bytes <= limit)
    return 0;
  char why[512], interval[32];
  io_units_format(IO_UNIT_NS, (double)s->power.interval_ns, interval, sizeof interval);
  double simulated_s = (double)e->simulated_ns * 1e-9;
  if (e->power_bytes + e->link_bytes >= e->total_bytes / 2)
    snprintf(
        why, sizeof why,
        "power and link series of %u nodes%s x %llu intervals of power.interval=%s over %.4g s "
        "simulated (the last arrival); raise power.interval, or shorten the simulated time "
        "(workload.offset, rate_scale, to, max_requests; simulation.end; a trace's dates)",
        e->nodes, e->links ? " and their links" : "", (unsigned long long)e->power_intervals,
        interval, simulated_s);
  else if (e->kv_bytes >= e->total_bytes / 2)
    snprintf(why, sizeof why,
             "KV block tables of %u instances; lower deployments.N.scheduler.kv_blocks or count",
             e->instances);
  else
    snprintf(why, sizeof why,
             "%llu requests (their summary and each of %d ranks' copy); lower "
             "workload.max_requests or narrow workload.from/to",
             (unsigned long long)e->requests, e->ranks);
  char need[32], have[32];
  io_units_format(IO_UNIT_BYTES, round(e->total_bytes), need, sizeof need);
  io_units_format(IO_UNIT_BYTES, limit, have, sizeof have);
  return util_err(err, err_len,
                  "the run needs at least %s of memory, more than --max-memory (%s%s): %s, or "
                  "raise --max-memory",
                  need, have, machine ? ", this machine's memory" : "", why);
}

void srv_estimate_print(const srv_estimate *e, FILE *out) {
  const double parts[] = {e->total_bytes,   e->power_bytes, e->link_bytes,    e->workload_bytes,
                          e->summary_bytes, e->kv_bytes,    e->timeline_bytes};
  char text[7][32];
  for (int i = 0; i < 7; i++)
    io_units_format(IO_UNIT_BYTES, round(parts[i]), text[i], sizeof text[i]);
  fprintf(out,
          "estimate: memory at least %s (power series %s, links %s, workload %s, summary %s, KV "
          "tables %s); timeline at least %s uncompressed (without /iterations); %llu requests "
          "over at least %.4g s simulated\n",
          text[0], text[1], text[2], text[3], text[4], text[5], text[6],
          (unsigned long long)e->requests, (double)e->simulated_ns * 1e-9);
}
