/* `windtunnel plot` of a timeline: latency CDFs with the SLOs, requests and tokens per second,
 * queue and running requests, per-instance utilisation and KV heatmaps, power per rack and site
 * with budgets, and for disaggregated runs KV-transfer times and link utilisation. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/plot.h"
#include "serving/report.h"
#include "serving/schema.h"
#include "util/stats.h"

/* The timeline's rows and attributes that the pictures need. */
typedef struct plot_timeline {
  int64_t simulated_ns, slo_ttft_ns, slo_tpot_ns, power_interval_ns, output_interval_ns;
  int64_t sample_every;    /* output.iterations: sampled; 1 otherwise (or unknown, before v6) */
  char iteration_note[96]; /* ", from /iterations" and what they hold: said in the titles */
  double pue, rack_budget_w, site_budget_w;
  srv_request_row *req;
  srv_instance_row *inst;
  srv_interval_row *ivl;
  srv_iteration_row *it;
  srv_power_row *pw;
  srv_transfer_row *tr;
  srv_link_row *links;
  srv_link_util_row *lu;
  uint64_t nreq, ninst, nivl, nit, npw, ntr, nlinks, nlu;
} plot_timeline;


static void timeline_free(plot_timeline *t) {
  free(t->req);
  free(t->inst);
  free(t->ivl);
  free(t->it);
  free(t->pw);
  free(t->tr);
  free(t->links);
  free(t->lu);
}

/* Reads what the pictures need, rows whose sums depend on their order sorted by key (the writers'
 * order depends on the ranks).  Files before schema version 6 lack output_interval_ns: then the
 * interval rows' spacing stands in for it. Returns 0, or -1 with a message. */
static int timeline_read(const char *path, plot_timeline *t, char *err, size_t err_len) {
  memset(t, 0, sizeof *t);
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, err_len);
  if (!r)
    return -1;
  int rc = -1;
  if (io_timeline_reader_attr_int64(r, "simulated_ns", &t->simulated_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "slo_ttft_ns", &t->slo_ttft_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "slo_tpot_ns", &t->slo_tpot_ns, err, err_len) ||
      io_timeline_reader_attr_int64(r, "power_interval_ns", &t->power_interval_ns, err, err_len) ||
      io_timeline_reader_attr_double(r, "pue", &t->pue, err, err_len) ||
      io_timeline_reader_attr_double(r, "rack_budget_w", &t->rack_budget_w, err, err_len) ||
      io_timeline_reader_attr_double(r, "site_budget_w", &t->site_budget_w, err, err_len) ||
      srv_report_read_table(r, &srv_requests_table, (void **)&t->req, &t->nreq, err, err_len) ||
      srv_report_read_table(r, &srv_instances_table, (void **)&t->inst, &t->ninst, err, err_len) ||
      srv_report_read_table(r, &srv_intervals_table, (void **)&t->ivl, &t->nivl, err, err_len) ||
      srv_report_read_table(r, &srv_power_table, (void **)&t->pw, &t->npw, err, err_len) ||
      srv_report_read_table(r, &srv_transfers_table, (void **)&t->tr, &t->ntr, err, err_len) ||
      srv_report_read_table(r, &srv_links_table, (void **)&t->links, &t->nlinks, err, err_len) ||
      srv_report_read_table(r, &srv_link_util_table, (void **)&t->lu, &t->nlu, err, err_len))
    goto out;
  /* Iteration rows only where no interval sums exist: they can be millions. */
  if (!t->nivl &&
      srv_report_read_table(r, &srv_iterations_table, (void **)&t->it, &t->nit, err, err_len))
    goto out;
  char ignored[256], *mode = NULL;
  t->sample_every = 1;
  if (io_timeline_reader_attr_string(r, "output_iterations", &mode, ignored, sizeof ignored) == 0 &&
      strcmp(mode, "sampled") == 0)
    io_timeline_reader_attr_int64(r, "output_sample_every", &t->sample_every, ignored,
                                  sizeof ignored);
  free(mode);
  if (t->sample_every > 1)
    snprintf(t->iteration_note, sizeof t->iteration_note, ", sampled: every %lld-th iteration only",
             (long long)t->sample_every);
  else if (t->nit)
    snprintf(t->iteration_note, sizeof t->iteration_note, ", from /iterations");
  if (io_timeline_reader_attr_int64(r, "output_interval_ns", &t->output_interval_ns, ignored,
                                    sizeof ignored) != 0) {
    int64_t spacing = 0; /* the gcd of the rows' starts */
    for (uint64_t i = 0; i < t->nivl; i++) {
      int64_t a = spacing, b = t->ivl[i].start_ns;
      while (b) {
        int64_t m = a % b;
        a = b;
        b = m;
      }
      spacing = a;
    }
    t->output_interval_ns = spacing;
  }
  if (t->nivl && t->output_interval_ns <= 0) {
    snprintf(err, err_len, "%.900s: cannot tell the width of /instance_intervals", path);
    goto out;
  }
  srv_sort_rows(&srv_power_table, t->pw, t->npw);
  srv_sort_rows(&srv_instances_table, t->inst, t->ninst);
  srv_sort_rows(&srv_link_util_table, t->lu, t->nlu);
  if (t->nit) /* t->it is NULL when the interval sums were there */
    srv_sort_rows(&srv_iterations_table, t->it, t->nit);
  rc = 0;
out:
  io_timeline_reader_close(r);
  if (rc)
    timeline_free(t);
  return rc;
}

/* ---- latency CDFs ---- */

/* Writes the sorted values (ns) as "ms fraction" rows, at most about 2000 of them (every
 * distinct step of the CDF for small runs). */
static int write_cdf(plot_job *job, const char *name, int64_t *ns, uint64_t n) {
  FILE *f = plot_data_file(job, name);
  if (!f)
    return -1;
  util_sort_int64(ns, n);
  uint64_t step = n > 2000 ? n / 2000 : 1;
  for (uint64_t i = 0; i < n; i += step)
    fprintf(f, "%.6f %.6f\n", (double)ns[i] * 1e-6, (double)(i + 1) / (double)n);
  if (n && (n - 1) % step)
    fprintf(f, "%.6f 1\n", (double)ns[n - 1] * 1e-6);
  return plot_data_close(job, f, name);
}

/* One CDF of the sorted values ns (as written by write_cdf), on a log axis that spans them and the
 * SLO (slo_ms 0: none); values of 0 cannot show on it and are counted in the title. */
static void cdf_panel(plot_job *job, const char *title, const char *file, const int64_t *ns,
                      uint64_t n, double slo_ms, const char *xlabel) {
  FILE *gp = job->gp;
  uint64_t zeros = 0;
  while (zeros < n && ns[zeros] <= 0)
    zeros++;
  if (zeros == n)
    n = 0; /* nothing to draw on a log axis */
  fprintf(gp, "unset arrow; unset label\nset title '%s (%llu requests)'\n", title,
          (unsigned long long)n);
  fprintf(gp, "set xlabel '%s'\nset ylabel 'share of requests'\nset yrange [0:1]\n", xlabel);
  fprintf(gp, "set logscale x\nset format x '%%g'\nset key bottom right\n");
  if (n) {
    double lo_ms = (double)ns[zeros] * 1e-6, hi_ms = (double)ns[n - 1] * 1e-6;
    if (slo_ms > 0) {
      lo_ms = fmin(lo_ms, slo_ms);
      hi_ms = fmax(hi_ms, slo_ms);
    }
    fprintf(gp, "set xrange [%.6g:%.6g]\n", lo_ms / 1.5, hi_ms * 1.5);
    if (zeros)
      fprintf(gp, "set label '%llu of 0 ms not shown' at graph 0.03, 0.95\n",
              (unsigned long long)zeros);
  }
  if (!n) {
    fprintf(gp,
            "set label 'no data' at graph 0.5, 0.5 center\nunset logscale x\n"
            "plot [0:1] NaN notitle\n");
    return;
  }
  if (slo_ms > 0)
    fprintf(gp,
            "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead lc rgb '#d62728' dt 2 lw 2\n"
            "plot '%s' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'CDF', "
            "NaN with lines lc rgb '#d62728' dt 2 lw 2 title 'SLO %g ms'\n",
            slo_ms, slo_ms, file, slo_ms);
  else
    fprintf(gp, "plot '%s' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'CDF'\n", file);
}

static int plot_latency(plot_job *job, const plot_timeline *t) {
  int64_t *ttft = malloc((t->nreq + 1) * sizeof *ttft);
  int64_t *tpot = malloc((t->nreq + 1) * sizeof *tpot);
  int64_t *e2e = malloc((t->nreq + 1) * sizeof *e2e);
  int rc = -1;
  if (!ttft || !tpot || !e2e) {
    snprintf(job->err, sizeof job->err, "out of memory for %llu requests",
             (unsigned long long)t->nreq);
    goto out;
  }
  /* As the report counts them: completed requests; TPOT of those with more than one token. */
  uint64_t n = 0, ntpot = 0;
  for (uint64_t i = 0; i < t->nreq; i++) {
    const srv_request_row *q = &t->req[i];
    if (q->fate != SRV_FATE_COMPLETED)
      continue;
    ttft[n] = q->first_token_ns - q->arrival_ns;
    e2e[n++] = q->done_ns - q->arrival_ns;
    if (q->output_tokens > 1)
      tpot[ntpot++] = (q->done_ns - q->first_token_ns) / (q->output_tokens - 1);
  }
  if (write_cdf(job, "latency_ttft.dat", ttft, n) ||
      write_cdf(job, "latency_tpot.dat", tpot, ntpot) || write_cdf(job, "latency_e2e.dat", e2e, n))
    goto out;
  plot_begin_picture(job, "latency_cdf", 1500, 500);
  fprintf(job->gp, "set multiplot layout 1,3 title 'Latency of completed requests'\n");
  cdf_panel(job, "Time to first token", "latency_ttft.dat", ttft, n, (double)t->slo_ttft_ns * 1e-6,
            "TTFT (ms, log scale)");
  cdf_panel(job, "Time per output token", "latency_tpot.dat", tpot, ntpot,
            (double)t->slo_tpot_ns * 1e-6, "TPOT (ms, log scale)");
  cdf_panel(job, "End to end", "latency_e2e.dat", e2e, n, 0, "E2E latency (ms, log scale)");
  fprintf(job->gp, "unset multiplot\n");
  rc = 0;
out:
  free(ttft);
  free(tpot);
  free(e2e);
  return rc;
}

/* ---- series over time ---- */

static uint64_t bin_count(const plot_job *job, const plot_timeline *t) {
  return (uint64_t)((t->simulated_ns + job->bin_ns - 1) / job->bin_ns) + (t->simulated_ns == 0);
}

/* Adds weight x the overlap of [a, b) with each bin to sums[bin] (ns x weight). */
static void add_overlap(double *sums, uint64_t bins, int64_t bin_ns, int64_t a, int64_t b,
                        double weight) {
  if (b <= a || a < 0)
    return;
  for (int64_t k = a / bin_ns; k < (int64_t)bins && k * bin_ns < b; k++) {
    int64_t lo = a > k * bin_ns ? a : k * bin_ns, hi = b < (k + 1) * bin_ns ? b : (k + 1) * bin_ns;
    sums[k] += (double)(hi - lo) * weight;
  }
}

/* The bins that cover [0, end_ns) with the given width; a last bin shorter than half the width is
 * folded into the one before (its counts over a sliver of time would make a misleading spike), so
 * the last bin may be up to 1.5 widths long. Returns how many bins remain. */
static uint64_t fold_short_tail(double *const *columns, int column_count, uint64_t bins,
                                int64_t width, int64_t end_ns) {
  uint64_t used = (uint64_t)((end_ns + width - 1) / width);
  used = used < 1 ? 1 : used > bins ? bins : used;
  if (used > 1 && end_ns - (int64_t)(used - 1) * width < width / 2) {
    for (int c = 0; c < column_count; c++)
      columns[c][used - 2] += columns[c][used - 1];
    used--;
  }
  return used;
}

/* Bin k of `used` bins: [*lo, *hi), the last one ending at end_ns. */
static void bin_bounds(uint64_t k, uint64_t used, int64_t width, int64_t end_ns, int64_t *lo,
                       int64_t *hi) {
  *lo = (int64_t)k * width;
  *hi = k + 1 == used && end_ns > *lo ? end_ns : *lo + width;
}

/* Requests/s and tokens/s; waiting and running requests (time averages per bin). */
static int plot_series(plot_job *job, const plot_timeline *t) {
  uint64_t bins = bin_count(job, t);
  double *arrivals = calloc(bins, sizeof *arrivals), *done = calloc(bins, sizeof *done);
  double *waiting = calloc(bins, sizeof *waiting), *running = calloc(bins, sizeof *running);
  int rc = -1;
  if (!arrivals || !done || !waiting || !running) {
    snprintf(job->err, sizeof job->err, "out of memory for %llu time bins",
             (unsigned long long)bins);
    goto out;
  }
  for (uint64_t i = 0; i < t->nreq; i++) {
    const srv_request_row *q = &t->req[i];
    int64_t end = q->done_ns >= 0 ? q->done_ns : t->simulated_ns;
    if (q->arrival_ns >= 0 && (uint64_t)(q->arrival_ns / job->bin_ns) < bins)
      arrivals[q->arrival_ns / job->bin_ns] += 1;
    if (q->fate == SRV_FATE_COMPLETED && (uint64_t)(q->done_ns / job->bin_ns) < bins)
      done[q->done_ns / job->bin_ns] += 1;
    if (q->dispatch_ns >= 0)
      add_overlap(waiting, bins, job->bin_ns, q->dispatch_ns,
                  q->first_scheduled_ns >= 0 ? q->first_scheduled_ns : end, 1);
    if (q->first_scheduled_ns >= 0)
      add_overlap(running, bins, job->bin_ns, q->first_scheduled_ns, end, 1);
  }
  FILE *f = plot_data_file(job, "requests.dat");
  if (!f)
    goto out;
  fprintf(f, "# time_%s arrivals_per_s completions_per_s waiting running\n", job->time_unit);
  double *const request_columns[] = {arrivals, done, waiting, running};
  uint64_t used = fold_short_tail(request_columns, 4, bins, job->bin_ns, t->simulated_ns);
  /* Each row holds from its time to the next row's (gnuplot's steps); the last row is repeated
   * at the end of the run. */
  for (uint64_t k = 0; k <= used; k++) {
    int64_t lo, hi;
    bin_bounds(k < used ? k : used - 1, used, job->bin_ns, t->simulated_ns, &lo, &hi);
    double width_ns = (double)(hi - lo);
    uint64_t b = k < used ? k : used - 1;
    fprintf(f, "%.9g %.6g %.6g %.6g %.6g\n", (double)(k < used ? lo : hi) / job->time_scale,
            arrivals[b] / (width_ns * 1e-9), done[b] / (width_ns * 1e-9), waiting[b] / width_ns,
            running[b] / width_ns);
  }
  if (plot_data_close(job, f, "requests.dat"))
    goto out;
  /* Tokens/s and the mean batch: from the interval sums, else from the iteration rows. */
  f = plot_data_file(job, "tokens.dat");
  if (!f)
    goto out;
  fprintf(f, "# time_%s prefill_tokens_per_s decode_tokens_per_s mean_batch\n", job->time_unit);
  int64_t width = t->nivl ? t->output_interval_ns : job->bin_ns;
  uint64_t tbins = (uint64_t)((t->simulated_ns + width - 1) / width) + 1;
  double *prefill = calloc(tbins, sizeof *prefill), *decode = calloc(tbins, sizeof *decode);
  double *seqs = calloc(tbins, sizeof *seqs), *iters = calloc(tbins, sizeof *iters);
  if (!prefill || !decode || !seqs || !iters) {
    snprintf(job->err, sizeof job->err, "out of memory for %llu time bins",
             (unsigned long long)tbins);
    fclose(f);
    free(prefill);
    free(decode);
    free(seqs);
    free(iters);
    goto out;
  }
  for (uint64_t i = 0; i < t->nivl; i++) {
    uint64_t k = (uint64_t)(t->ivl[i].start_ns / width);
    if (k < tbins) {
      prefill[k] += (double)t->ivl[i].prefill_tokens;
      decode[k] += (double)t->ivl[i].decode_seqs;
      seqs[k] += (double)t->ivl[i].seqs;
      iters[k] += (double)t->ivl[i].iterations;
    }
  }
  for (uint64_t i = 0; i < t->nit; i++) {
    uint64_t k = (uint64_t)(t->it[i].end_ns / width);
    if (k < tbins) {
      prefill[k] += t->it[i].prefill_tokens;
      decode[k] += t->it[i].decode_seqs;
      seqs[k] += t->it[i].prefill_seqs + t->it[i].decode_seqs;
      iters[k] += 1;
    }
  }
  double *const token_columns[] = {prefill, decode, seqs, iters};
  uint64_t tused = fold_short_tail(token_columns, 4, tbins, width, t->simulated_ns);
  for (uint64_t k = 0; k <= tused; k++) {
    int64_t lo, hi;
    uint64_t b = k < tused ? k : tused - 1;
    bin_bounds(b, tused, width, t->simulated_ns, &lo, &hi);
    double width_ns = (double)(hi - lo);
    fprintf(f, "%.9g %.6g %.6g %.6g\n", (double)(k < tused ? lo : hi) / job->time_scale,
            prefill[b] / (width_ns * 1e-9), decode[b] / (width_ns * 1e-9),
            iters[b] > 0 ? seqs[b] / iters[b] : 0);
  }
  free(prefill);
  free(decode);
  free(seqs);
  free(iters);
  if (plot_data_close(job, f, "tokens.dat"))
    goto out;
  FILE *gp = job->gp;
  const char *tokens_note = t->nit ? t->iteration_note : "";
  plot_begin_picture(job, "throughput", 1200, 800);
  fprintf(gp, "set multiplot layout 2,1\nset xlabel 'simulated time (%s)'\nset key top right\n",
          job->time_unit);
  fprintf(gp,
          "set title 'Requests per second (bins of %g s)'\nset ylabel 'requests/s'\n"
          "set yrange [0:*]\n"
          "plot 'requests.dat' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'arrivals', "
          "'' using 1:3 with steps lw 2 lc rgb '#2ca02c' title 'completions'\n",
          (double)job->bin_ns * 1e-9);
  fprintf(gp,
          "set title 'Tokens per second, all instances (intervals of %g s)%s'\n"
          "set ylabel 'tokens/s'\n"
          "plot 'tokens.dat' using 1:2 with steps lw 2 lc rgb '#ff7f0e' title 'prefill (prompt)', "
          "'' using 1:3 with steps lw 2 lc rgb '#9467bd' title 'decode (output)'\n"
          "unset multiplot\n",
          (double)width * 1e-9, tokens_note);
  plot_begin_picture(job, "queue", 1200, 800);
  fprintf(gp, "set multiplot layout 2,1\nset xlabel 'simulated time (%s)'\nset key top right\n",
          job->time_unit);
  fprintf(gp,
          "set title 'Requests waiting and running, all instances (mean over bins of %g s)'\n"
          "set ylabel 'requests'\nset yrange [0:*]\n"
          "plot 'requests.dat' using 1:4 with steps lw 2 lc rgb '#d62728' title "
          "'waiting (dispatched, not yet scheduled)', "
          "'' using 1:5 with steps lw 2 lc rgb '#1f77b4' title 'running (scheduled, not done)'\n",
          (double)job->bin_ns * 1e-9);
  fprintf(gp,
          "set title 'Running batch: mean sequences per iteration (intervals of %g s)'\n"
          "set ylabel 'sequences per iteration'\n"
          "plot 'tokens.dat' using 1:4 with steps lw 2 lc rgb '#17becf' title 'mean batch'\n"
          "unset multiplot\n",
          (double)width * 1e-9);
  rc = 0;
out:
  free(arrivals);
  free(done);
  free(waiting);
  free(running);
  return rc;
}

/* ---- heatmaps ---- */

static const char *role_name(uint32_t role) {
  return role == 1 ? "prefill" : role == 2 ? "decode" : "mixed";
}

/* Per instance and time: busy share and KV use, from the interval sums or the iteration rows. */
static int plot_heatmaps(plot_job *job, const plot_timeline *t) {
  FILE *gp = job->gp;
  if (!t->nivl && !t->nit) {
    fprintf(gp,
            "\n# utilisation and KV heatmaps: skipped, the timeline has neither "
            "/instance_intervals nor /iterations rows (output.iterations: none)\n");
    fprintf(stderr,
            "windtunnel plot: no heatmaps: the timeline has no per-interval or "
            "per-iteration rows (output.iterations: none)\n");
    return 0;
  }
  int64_t width = t->nivl ? t->output_interval_ns : job->bin_ns;
  uint64_t bins = (uint64_t)((t->simulated_ns + width - 1) / width) + (t->simulated_ns == 0);
  uint64_t cells = bins * t->ninst;
  double *busy = calloc(cells + 1, sizeof *busy), *kv = calloc(cells + 1, sizeof *kv);
  uint64_t *total = calloc(t->ninst + 1, sizeof *total);
  int rc = -1;
  if (!busy || !kv || !total) {
    snprintf(job->err, sizeof job->err, "out of memory for %llu heatmap cells",
             (unsigned long long)cells);
    goto out;
  }
  for (uint64_t i = 0; i < t->ninst; i++)
    if (t->inst[i].instance < t->ninst)
      total[t->inst[i].instance] = t->inst[i].kv_blocks_total;
  for (uint64_t i = 0; i < t->nivl; i++) {
    const srv_interval_row *v = &t->ivl[i];
    uint64_t k = (uint64_t)(v->start_ns / width);
    if (v->instance < t->ninst && k < bins) {
      busy[v->instance * bins + k] += (double)v->busy_ns;
      kv[v->instance * bins + k] += v->kv_block_ns;
    }
  }
  for (uint64_t i = 0; i < t->nit; i++) {
    const srv_iteration_row *v = &t->it[i];
    if (v->instance < t->ninst) {
      add_overlap(busy + v->instance * bins, bins, width, v->start_ns, v->end_ns, 1);
      add_overlap(kv + v->instance * bins, bins, width, v->start_ns, v->end_ns, v->kv_blocks_used);
    }
  }
  FILE *f = plot_data_file(job, "instances.dat");
  if (!f)
    goto out;
  fprintf(f, "# time_%s instance busy_share kv_share\n", job->time_unit);
  for (uint64_t q = 0; q < t->ninst; q++) {
    for (uint64_t k = 0; k < bins; k++) {
      int64_t lo = (int64_t)k * width;
      int64_t hi = lo + width < t->simulated_ns ? lo + width : t->simulated_ns;
      double width_ns = hi > lo ? (double)(hi - lo) : (double)width;
      fprintf(f, "%.9g %llu %.6f %.6f\n", ((double)lo + (double)width / 2) / job->time_scale,
              (unsigned long long)q, busy[q * bins + k] / width_ns,
              total[q] ? kv[q * bins + k] / ((double)total[q] * width_ns) : 0);
    }
    fputc('\n', f); /* one scan line per instance */
  }
  if (plot_data_close(job, f, "instances.dat"))
    goto out;
  /* Instance labels: "3 decode" where roles differ; every one while they fit. */
  bool mixed_roles = false;
  for (uint64_t i = 1; i < t->ninst; i++)
    mixed_roles |= t->inst[i].role != t->inst[0].role;
  char source[160];
  snprintf(source, sizeof source, "%s of %g s%s", t->nivl ? "/instance_intervals" : "bins",
           (double)width * 1e-9, t->nivl ? "" : t->iteration_note);
  const char *what[2] = {"Utilisation: share of time an iteration runs",
                         "KV cache use: share of KV blocks in use (time mean)"};
  const char *name[2] = {"utilisation_heatmap", "kv_heatmap"};
  for (int p = 0; p < 2; p++) {
    int height = 240 + (int)(t->ninst < 60 ? t->ninst * 14 : 60 * 14);
    plot_begin_picture(job, name[p], 1200, height < 420 ? 420 : height);
    fprintf(gp, "set title '%s (%s)'\nset xlabel 'simulated time (%s)'\nset ylabel 'instance'\n",
            what[p], source, job->time_unit);
    fprintf(gp, p ? "set cbrange [0:*]\nset cblabel 'share (scale to the highest)'\n"
                  : "set cbrange [0:1]\nset cblabel 'share'\n");
    fprintf(gp,
            "set palette defined (0 '#f7fbff', "
            "0.5 '#6baed6', 1 '#08306b')\nset yrange [-0.5:%llu.5]\nset xrange [0:%.9g]\n"
            "set tics out\nunset grid\n",
            (unsigned long long)(t->ninst ? t->ninst - 1 : 0),
            (double)t->simulated_ns / job->time_scale);
    if (t->ninst <= 60) {
      fprintf(gp, "set ytics (");
      for (uint64_t i = 0; i < t->ninst; i++) {
        char label[96];
        snprintf(label, sizeof label, mixed_roles ? "%u %s" : "%u", t->inst[i].instance,
                 role_name(t->inst[i].role));
        fprintf(gp, "%s", i ? ", " : "");
        plot_gp_string(gp, label);
        fprintf(gp, " %u", t->inst[i].instance);
      }
      fprintf(gp, ")\n");
    }
    fprintf(gp, "plot 'instances.dat' using 1:2:%d with image notitle\n", 3 + p);
  }
  rc = 0;
out:
  free(busy);
  free(kv);
  free(total);
  return rc;
}

/* ---- power ---- */

static int plot_power(plot_job *job, const plot_timeline *t) {
  FILE *gp = job->gp;
  if (!t->npw || t->power_interval_ns <= 0) {
    fprintf(gp, "\n# power: skipped, the timeline has no /power rows\n");
    fprintf(stderr, "windtunnel plot: no power picture: the timeline has no /power rows\n");
    return 0;
  }
  int64_t width = t->power_interval_ns;
  uint64_t bins = (uint64_t)((t->simulated_ns + width - 1) / width) + 1;
  uint32_t racks = 0;
  for (uint64_t i = 0; i < t->npw; i++)
    racks = t->pw[i].rack + 1 > racks ? t->pw[i].rack + 1 : racks;
  double *rack_w = calloc(bins * racks + 1, sizeof *rack_w);
  if (!rack_w) {
    snprintf(job->err, sizeof job->err, "out of memory for %u racks' power", racks);
    return -1;
  }
  uint64_t used = 0;
  for (uint64_t i = 0; i < t->npw; i++) {
    uint64_t k = (uint64_t)(t->pw[i].start_ns / width);
    if (k < bins) {
      rack_w[t->pw[i].rack * bins + k] += t->pw[i].avg_w;
      used = k + 1 > used ? k + 1 : used;
    }
  }
  FILE *f = plot_data_file(job, "power.dat");
  if (!f) {
    free(rack_w);
    return -1;
  }
  fprintf(f, "# time_%s site_facility_kw rack_it_kw...\n", job->time_unit);
  for (uint64_t k = 0; k < used; k++) {
    double site = 0;
    for (uint32_t r = 0; r < racks; r++)
      site += rack_w[r * bins + k];
    fprintf(f, "%.9g %.6g", (double)((int64_t)k * width) / job->time_scale, site * t->pue * 1e-3);
    for (uint32_t r = 0; r < racks; r++)
      fprintf(f, " %.6g", rack_w[r * bins + k] * 1e-3);
    fputc('\n', f);
  }
  /* The last interval again at the run's end, so that steps draw it to its end. */
  if (used) {
    double site = 0;
    for (uint32_t r = 0; r < racks; r++)
      site += rack_w[r * bins + used - 1];
    fprintf(f, "%.9g %.6g", (double)t->simulated_ns / job->time_scale, site * t->pue * 1e-3);
    for (uint32_t r = 0; r < racks; r++)
      fprintf(f, " %.6g", rack_w[r * bins + used - 1] * 1e-3);
    fputc('\n', f);
  }
  free(rack_w);
  if (plot_data_close(job, f, "power.dat"))
    return -1;
  plot_begin_picture(job, "power", 1200, 800);
  fprintf(gp,
          "set multiplot layout 2,1\nset xlabel 'simulated time (%s)'\nset ylabel 'kW'\n"
          "set yrange [0:*]\nset key outside right top\n",
          job->time_unit);
  fprintf(gp, "set title 'IT power per rack (accelerators and hosts, intervals of %g s)'\n",
          (double)width * 1e-9);
  fprintf(gp,
          "plot for [r=0:%u] 'power.dat' using 1:(column(r+3)) with steps lw 2 "
          "title sprintf('rack %%d', r)",
          racks - 1);
  if (t->rack_budget_w > 0)
    fprintf(gp, ", %.6g with lines lc rgb '#d62728' dt 2 lw 2 title 'rack budget %.4g kW'",
            t->rack_budget_w * 1e-3, t->rack_budget_w * 1e-3);
  fprintf(gp, "\nset title 'Site power (facility: IT x PUE %.3g)'\n", t->pue);
  fprintf(gp, "plot 'power.dat' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'site'");
  if (t->site_budget_w > 0)
    fprintf(gp, ", %.6g with lines lc rgb '#d62728' dt 2 lw 2 title 'site budget %.4g kW'",
            t->site_budget_w * 1e-3, t->site_budget_w * 1e-3);
  fprintf(gp, "\nunset multiplot\n");
  if (t->rack_budget_w <= 0 && t->site_budget_w <= 0)
    fprintf(gp, "# no rack or site budget in the scenario (power.rack_budget, site_budget)\n");
  return 0;
}

/* ---- disaggregated: KV transfers and links ---- */

/* Link utilisation over time, by kind of link (net_link_kind): the busiest link of each kind and
 * the mean over the links of that kind, which a heatmap of hundreds of links would not show. */
static int plot_links(plot_job *job, const plot_timeline *t) {
  enum { KINDS = 7 };
  static const char *const kind_names[KINDS] = {
      "scale-up up", "scale-up down", "torus", "NIC up", "NIC down", "spine up", "spine down"};
  FILE *gp = job->gp;
  if (!t->nlu || !t->nlinks || t->power_interval_ns <= 0) {
    fprintf(gp, "# link utilisation: skipped, no /link_utilisation rows\n");
    return 0;
  }
  uint32_t max_link = 0;
  for (uint64_t i = 0; i < t->nlinks; i++)
    max_link = t->links[i].link > max_link ? t->links[i].link : max_link;
  int64_t width = t->power_interval_ns;
  uint64_t bins = (uint64_t)((t->simulated_ns + width - 1) / width);
  bins = bins ? bins : 1;
  int *kind_of = malloc((max_link + 1) * sizeof *kind_of);
  double *peak = calloc(bins * KINDS, sizeof *peak), *sum = calloc(bins * KINDS, sizeof *sum);
  uint64_t links_of_kind[KINDS] = {0};
  int rc = -1;
  if (!kind_of || !peak || !sum) {
    snprintf(job->err, sizeof job->err, "out of memory for %u links", max_link + 1);
    goto out;
  }
  for (uint32_t l = 0; l <= max_link; l++)
    kind_of[l] = -1;
  for (uint64_t i = 0; i < t->nlinks; i++)
    if (t->links[i].kind < KINDS) {
      kind_of[t->links[i].link] = (int)t->links[i].kind;
      links_of_kind[t->links[i].kind]++;
    }
  for (uint64_t i = 0; i < t->nlu; i++) {
    uint64_t k = (uint64_t)(t->lu[i].start_ns / width);
    if (t->lu[i].link > max_link || kind_of[t->lu[i].link] < 0 || k >= bins)
      continue;
    uint64_t cell = k * KINDS + (uint64_t)kind_of[t->lu[i].link];
    peak[cell] = fmax(peak[cell], t->lu[i].utilisation);
    sum[cell] += t->lu[i].utilisation;
  }
  FILE *f = plot_data_file(job, "links.dat");
  if (!f)
    goto out;
  fprintf(f, "# time_%s then per link kind (%s", job->time_unit, kind_names[0]);
  for (int q = 1; q < KINDS; q++)
    fprintf(f, ", %s", kind_names[q]);
  fprintf(f, "): busiest link's utilisation, mean over the kind's links\n");
  for (uint64_t k = 0; k <= bins; k++) { /* the last row again at the end, for steps */
    uint64_t row = k < bins ? k : bins - 1;
    fprintf(f, "%.9g",
            (double)((int64_t)k * width < t->simulated_ns ? (int64_t)k * width : t->simulated_ns) /
                job->time_scale);
    for (int q = 0; q < KINDS; q++)
      fprintf(f, " %.6f %.6f", peak[row * KINDS + q],
              links_of_kind[q] ? sum[row * KINDS + q] / (double)links_of_kind[q] : 0);
    fputc('\n', f);
  }
  if (plot_data_close(job, f, "links.dat"))
    goto out;
  static const char *const colours[KINDS] = {"#1f77b4", "#17becf", "#8c564b", "#ff7f0e",
                                             "#d62728", "#2ca02c", "#9467bd"};
  plot_begin_picture(job, "link_utilisation", 1200, 800);
  fprintf(gp,
          "set multiplot layout 2,1\nset xlabel 'simulated time (%s)'\n"
          "set ylabel 'busy share'\nset yrange [0:*]\nset key outside right top\n",
          job->time_unit);
  for (int panel = 0; panel < 2; panel++) {
    fprintf(gp, "set title '%s (intervals of %g s)'\nplot ",
            panel ? "Link utilisation: mean over the links of each kind"
                  : "Link utilisation: the busiest link of each kind",
            (double)width * 1e-9);
    bool first = true;
    for (int q = 0; q < KINDS; q++) {
      if (!links_of_kind[q])
        continue;
      fprintf(gp, "%s'links.dat' using 1:%d with steps lw 2 lc rgb '%s' title '%s (%llu)'",
              first ? "" : ", ", 2 + 2 * q + panel, colours[q], kind_names[q],
              (unsigned long long)links_of_kind[q]);
      first = false;
    }
    fprintf(gp, "%s\n", first ? "NaN notitle" : "");
  }
  fprintf(gp, "unset multiplot\n");
  rc = 0;
out:
  free(kind_of);
  free(peak);
  free(sum);
  return rc;
}

static int plot_transfers(plot_job *job, const plot_timeline *t) {
  FILE *gp = job->gp;
  if (!t->ntr) {
    fprintf(gp, "\n# KV transfers and links: skipped, no /transfers rows (not disaggregated)\n");
    fprintf(stderr,
            "windtunnel plot: no KV transfers (not disaggregated): no kv_transfers or "
            "link_utilisation picture\n");
    return 0;
  }
  int64_t *net = malloc(t->ntr * sizeof *net), *wait = malloc(t->ntr * sizeof *wait);
  if (!net || !wait) {
    free(net);
    free(wait);
    snprintf(job->err, sizeof job->err, "out of memory for %llu transfers",
             (unsigned long long)t->ntr);
    return -1;
  }
  for (uint64_t i = 0; i < t->ntr; i++) {
    net[i] = t->tr[i].end_ns - t->tr[i].start_ns;
    wait[i] = t->tr[i].start_ns - t->tr[i].ready_ns;
  }
  int rc = write_cdf(job, "kv_network.dat", net, t->ntr) ||
           write_cdf(job, "kv_wait.dat", wait, t->ntr);
  if (!rc) {
    plot_begin_picture(job, "kv_transfers", 1200, 500);
    fprintf(gp, "set multiplot layout 1,2 title 'KV-cache transfers, prefill to decode'\n");
    cdf_panel(job, "Time on the network (first chunk to last byte)", "kv_network.dat", net, t->ntr,
              0, "network time (ms, log scale)");
    cdf_panel(job, "Wait for decode room (KV ready to first chunk)", "kv_wait.dat", wait, t->ntr, 0,
              "wait (ms, log scale)");
    fprintf(gp, "unset multiplot\n");
  }
  free(net);
  free(wait);
  return rc ? -1 : plot_links(job, t);
}

/* A round bin width near span / 100: 1, 2 or 5 x 10^k ns, at least 1 ms. */
static int64_t nice_bin_ns(int64_t span_ns) {
  int64_t target = span_ns / 100, bin = 1000000;
  static const int steps[] = {1, 2, 5};
  for (int64_t decade = 1000000; decade < INT64_MAX / 10; decade *= 10)
    for (int s = 0; s < 3; s++)
      if (decade * steps[s] >= target)
        return decade * steps[s] > bin ? decade * steps[s] : bin;
  return bin;
}

/* ---- the timeline's pictures ---- */

int plot_timeline_pictures(plot_job *job, const char *path) {
  plot_timeline t;
  if (timeline_read(path, &t, job->err, sizeof job->err) != 0)
    return -1;
  int rc = -1;
  if (plot_script_open(job, path) == 0) {
    job->bin_ns = nice_bin_ns(t.simulated_ns);
    double span_s = (double)t.simulated_ns * 1e-9;
    job->time_unit = span_s > 3 * 3600 ? "h" : span_s > 600 ? "min" : "s";
    job->time_scale = span_s > 3 * 3600 ? 3600e9 : span_s > 600 ? 60e9 : 1e9;
    int failed = plot_latency(job, &t) || plot_series(job, &t) || plot_heatmaps(job, &t) ||
                 plot_power(job, &t) || plot_transfers(job, &t);
    rc = plot_data_close(job, job->gp, "plots.gp") || failed ? -1 : 0;
  }
  timeline_free(&t);
  return rc;
}
