/* `windtunnel plot`: pictures of a timeline, or of a sweep's results file (the headline metrics
 * against the swept key), drawn by gnuplot. Writes the series as data files and one gnuplot script
 * (plots.gp) into a folder, then runs gnuplot there, so the user can edit the script and draw
 * again without Windtunnel. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "app/commands.h"
#include "serving/report.h"
#include "serving/schema.h"
#include "serving/study.h"
#include "util/csv.h"
#include "util/stats.h"

extern char **environ;

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

/* Where the pictures go and how they are drawn. */
typedef struct plot_job {
  const char *dir;
  const char *format;    /* png or svg */
  FILE *gp;              /* plots.gp */
  int64_t bin_ns;        /* width of the series computed here from /requests and /iterations */
  double time_scale;     /* ns per unit of the time axis */
  const char *time_unit; /* s, min or h */
  char outputs[16][64];  /* the pictures the script draws */
  int output_count;
  char err[1024];
} plot_job;

static void plot_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel plot FILE.h5 [-o DIR] [--format png|svg] [--gnuplot PROGRAM]\n"
          "Draws the timeline with gnuplot into DIR (default: FILE-plots): latency CDFs with\n"
          "the SLOs, requests/s and tokens/s, queue and running requests, per-instance\n"
          "utilisation and KV use heatmaps, power per rack and site with budgets, and for\n"
          "disaggregated runs KV-transfer times and link utilisation. DIR keeps the data\n"
          "files and plots.gp: edit it and run 'gnuplot plots.gp' in DIR to draw again.\n"
          "Given the results file of 'windtunnel sweep', draws the headline metrics against\n"
          "the swept key instead: goodput, share of requests meeting the SLOs, TTFT and TPOT\n"
          "p99 with the SLOs, output tokens/s, energy per output token and, for max_rate\n"
          "studies, the highest passing rate. The first numeric axis is on x (a text axis as\n"
          "tick labels when none is), one line per value of the other axes; failed\n"
          "configurations are left out, with a note on stderr. DIR also gets study.yaml and\n"
          "results.csv (as 'sweep --csv' prints it, without wall_s).\n"
          "  -o, --output DIR     the folder (created if missing)\n"
          "  --format png|svg     picture format (default png)\n"
          "  --gnuplot PROGRAM    the gnuplot to run (default: $WT_GNUPLOT, else gnuplot)\n"
          "  -h, --help           this help\n");
}

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

/* Opens DIR/name for writing; NULL with a message in job->err. */
static FILE *data_file(plot_job *job, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", job->dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    snprintf(job->err, sizeof job->err, "cannot write %.900s: %s", path, strerror(errno));
  return f;
}

static int data_close(plot_job *job, FILE *f, const char *name) {
  if (ferror(f) | (fclose(f) != 0)) {
    snprintf(job->err, sizeof job->err, "cannot write %.900s/%s", job->dir, name);
    return -1;
  }
  return 0;
}

/* Starts the picture `name`.format in the script: the terminal, its size and the output file. */
static void begin_picture(plot_job *job, const char *name, int width, int height) {
  snprintf(job->outputs[job->output_count++], sizeof job->outputs[0], "%s.%s", name, job->format);
  fprintf(job->gp, "\n# --- %s\nreset\n", name);
  if (strcmp(job->format, "svg") == 0)
    fprintf(job->gp,
            "set terminal svg size %d,%d dynamic noenhanced font 'sans,11' background 'white'\n",
            width, height);
  else
    fprintf(job->gp, "set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n", width, height);
  fprintf(job->gp, "set output '%s.%s'\nset grid lc rgb '#dddddd'\nset border lc rgb '#555555'\n",
          name, job->format);
}

/* A gnuplot single-quoted string: quotes doubled. */
static void gp_string(FILE *gp, const char *s) {
  fputc('\'', gp);
  for (; *s; s++) {
    if (*s == '\'')
      fputc('\'', gp);
    if (*s != '\n')
      fputc(*s, gp);
  }
  fputc('\'', gp);
}

/* ---- latency CDFs ---- */

/* Writes the sorted values (ns) as "ms fraction" rows, at most about 2000 of them (every
 * distinct step of the CDF for small runs). */
static int write_cdf(plot_job *job, const char *name, int64_t *ns, uint64_t n) {
  FILE *f = data_file(job, name);
  if (!f)
    return -1;
  util_sort_int64(ns, n);
  uint64_t step = n > 2000 ? n / 2000 : 1;
  for (uint64_t i = 0; i < n; i += step)
    fprintf(f, "%.6f %.6f\n", (double)ns[i] * 1e-6, (double)(i + 1) / (double)n);
  if (n && (n - 1) % step)
    fprintf(f, "%.6f 1\n", (double)ns[n - 1] * 1e-6);
  return data_close(job, f, name);
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
  begin_picture(job, "latency_cdf", 1500, 500);
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
  FILE *f = data_file(job, "requests.dat");
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
  if (data_close(job, f, "requests.dat"))
    goto out;
  /* Tokens/s and the mean batch: from the interval sums, else from the iteration rows. */
  f = data_file(job, "tokens.dat");
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
  if (data_close(job, f, "tokens.dat"))
    goto out;
  FILE *gp = job->gp;
  const char *tokens_note = t->nit ? t->iteration_note : "";
  begin_picture(job, "throughput", 1200, 800);
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
  begin_picture(job, "queue", 1200, 800);
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
  FILE *f = data_file(job, "instances.dat");
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
  if (data_close(job, f, "instances.dat"))
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
    begin_picture(job, name[p], 1200, height < 420 ? 420 : height);
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
        gp_string(gp, label);
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
  FILE *f = data_file(job, "power.dat");
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
  if (data_close(job, f, "power.dat"))
    return -1;
  begin_picture(job, "power", 1200, 800);
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
  FILE *f = data_file(job, "links.dat");
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
  if (data_close(job, f, "links.dat"))
    goto out;
  static const char *const colours[KINDS] = {"#1f77b4", "#17becf", "#8c564b", "#ff7f0e",
                                             "#d62728", "#2ca02c", "#9467bd"};
  begin_picture(job, "link_utilisation", 1200, 800);
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
    begin_picture(job, "kv_transfers", 1200, 500);
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

/* ---- driving gnuplot ---- */

/* mkdir -p. Returns 0, or -1 with a message. */
static int make_dir(const char *dir, char *err, size_t err_len) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
    snprintf(err, err_len, "output folder name too long");
    return -1;
  }
  for (char *p = path + 1;; p++) {
    bool last = *p == '\0';
    if (*p == '/' || last) {
      *p = '\0';
      if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %.900s: %s", path, strerror(errno));
        return -1;
      }
      if (last)
        break;
      *p = '/';
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, err_len, "%.900s is not a folder", dir);
    return -1;
  }
  return 0;
}

/* Runs `gnuplot plots.gp` in dir. Returns 0, or -1 with a message. */
static int run_gnuplot(const char *gnuplot, const char *dir, char *err, size_t err_len) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir);
  char *argv[] = {(char *)gnuplot, "plots.gp", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, gnuplot, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    snprintf(err, err_len,
             "cannot run %.300s: %s; install gnuplot (Debian: apt-get install gnuplot-nox) or "
             "name one with --gnuplot; the data and plots.gp are in %.300s",
             gnuplot, strerror(rc), dir);
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, err_len, "waiting for %.300s: %s", gnuplot, strerror(errno));
      return -1;
    }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    snprintf(err, err_len,
             "cannot run %.300s (not found); install gnuplot (Debian: apt-get install "
             "gnuplot-nox) or name one with --gnuplot; the data and plots.gp are in %.300s",
             gnuplot, dir);
    return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, err_len, "%.300s failed on %.300s/plots.gp (exit status %d)", gnuplot, dir,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
  }
  return 0;
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

/* ---- a sweep's results: the headline metrics against the swept key ---- */

/* The columns of /configurations that the pictures draw, in the order of sweep.dat's columns
 * (after x): the max_rate ones only in mode max_rate. */
enum { SWEEP_COLUMNS = 8, SWEEP_GRID_COLUMNS = 6, SWEEP_MAX_SERIES = 64 };
static const char *const sweep_columns[SWEEP_COLUMNS] = {
    "goodput_req_s", "goodput_share",          "ttft_ms_p99",
    "tpot_ms_p99",   "output_tok_s",           "energy_per_output_token_j",
    "max_rate",      "max_rate_lowest_failing"};

/* One picture: its file name, the column it draws (an index into sweep_columns), its title and the
 * y axis with its unit; which reference line it draws (the SLO of the run, or max_rate's share). */
typedef enum sweep_line { LINE_NONE, LINE_TTFT_SLO, LINE_TPOT_SLO, LINE_SHARE } sweep_line;
typedef struct sweep_picture {
  const char *name;
  int column;
  const char *title, *ylabel;
  sweep_line line;
} sweep_picture;
static const sweep_picture sweep_pictures[] = {
    {"sweep_goodput", 0, "Goodput: requests meeting the SLOs per second", "goodput (requests/s)",
     LINE_NONE},
    {"sweep_slo", 1, "Share of requests meeting the SLOs",
     "share of all requests (unfinished fail)", LINE_SHARE},
    {"sweep_ttft_p99", 2, "Time to first token, 99th percentile", "TTFT p99 (ms)", LINE_TTFT_SLO},
    {"sweep_tpot_p99", 3, "Time per output token, 99th percentile", "TPOT p99 (ms)", LINE_TPOT_SLO},
    {"sweep_output_tokens", 4, "Output tokens per second", "output tokens/s", LINE_NONE},
    {"sweep_energy", 5, "Energy per output token (facility: IT power x PUE)", "J per output token",
     LINE_NONE},
    {"sweep_max_rate", 6, "Highest rate meeting the SLOs", NULL, LINE_NONE},
};

/* A configuration that ran: where it is drawn and what it measured. */
typedef struct sweep_point {
  double x;
  size_t series, index;
  double v[SWEEP_COLUMNS];
} sweep_point;

static int cmp_sweep_point(const void *a, const void *b) {
  const sweep_point *p = a, *q = b;
  if (p->series != q->series)
    return (p->series > q->series) - (p->series < q->series);
  if (p->x != q->x)
    return (p->x > q->x) - (p->x < q->x);
  return (p->index > q->index) - (p->index < q->index);
}

/* The field at col read as a number; NaN when empty or not one (the writer's "nan"). */
static double csv_number(const util_csv *c, int col) {
  const char *s = util_csv_get(c, col);
  char *end;
  double v = strtod(s, &end);
  return end == s || *end ? NAN : v;
}

/* What the sweep pictures share. */
typedef struct sweep_plot {
  const srv_study *st;
  size_t x_key;      /* the axis on x */
  bool categorical;  /* x is an axis of texts: its values are tick labels at 0, 1, ... */
  const char **cats; /* categorical: the values, in the study's order */
  size_t ncat;
  char *series[SWEEP_MAX_SERIES]; /* "key=value, ..." of the other axes; "" when none */
  size_t nseries;
  sweep_point *pts;
  size_t npts, failed;
  double slo_ttft_ms, slo_tpot_ms, share; /* NaN when the rows disagree or none ran */
  const char *rate_key;
} sweep_plot;

static void sweep_plot_free(sweep_plot *s) {
  free(s->cats);
  for (size_t i = 0; i < s->nseries; i++)
    free(s->series[i]);
  free(s->pts);
}

/* The series of configuration cfg: the values of the axes other than x. Returns its index, or
 * SIZE_MAX when out of memory or too many. */
static size_t series_of(sweep_plot *s, const srv_study_config *cfg) {
  char label[1024] = "";
  size_t len = 0;
  for (size_t k = 0; k < s->st->key_count && len < sizeof label; k++)
    if (k != s->x_key)
      len += (size_t)snprintf(label + len, sizeof label - len, "%s%s=%s", len ? ", " : "",
                              cfg->values[k].key, cfg->values[k].value);
  for (size_t i = 0; i < s->nseries; i++)
    if (strcmp(s->series[i], label) == 0)
      return i;
  if (s->nseries == SWEEP_MAX_SERIES || !(s->series[s->nseries] = strdup(label)))
    return SIZE_MAX;
  return s->nseries++;
}

/* Sets x: the first numeric axis, else the first axis as categories. */
static int sweep_choose_x(sweep_plot *s, char *err, size_t err_len) {
  const srv_study *st = s->st;
  s->categorical = true;
  for (size_t k = 0; k < st->key_count; k++)
    if (st->key_numeric[k]) {
      s->x_key = k;
      s->categorical = false;
      return 0;
    }
  if (!(s->cats = malloc((st->config_count + 1) * sizeof *s->cats))) {
    snprintf(err, err_len, "out of memory for %zu configurations", st->config_count);
    return -1;
  }
  for (size_t c = 0; c < st->config_count; c++) {
    const char *v = st->key_count ? st->configs[c].values[0].value : "base scenario";
    size_t i = 0;
    while (i < s->ncat && strcmp(s->cats[i], v) != 0)
      i++;
    if (i == s->ncat)
      s->cats[s->ncat++] = v;
  }
  return 0;
}

/* Keeps val in *agreed when every row has the same (NaN otherwise). */
static void agree(double *agreed, bool first, double val) {
  if (first)
    *agreed = val;
  else if (*agreed != val)
    *agreed = NAN;
}

/* Reads the CSV that `sweep --csv` writes (DIR/results.csv): the configurations that ran, with a
 * note on stderr for each that failed. */
static int sweep_read_points(sweep_plot *s, const char *csv_path, char *err, size_t err_len) {
  const srv_study *st = s->st;
  bool max_rate = st->mode == SRV_STUDY_MAX_RATE;
  util_csv c;
  if (util_csv_open_file(&c, csv_path, err, err_len) != 0)
    return -1;
  enum { FIXED = 6 };
  const char *names[FIXED + SWEEP_COLUMNS] = {"index",  "status",      "error",
                                              "config", "slo_ttft_ms", "slo_tpot_ms"};
  int ncol = FIXED + (max_rate ? SWEEP_COLUMNS : SWEEP_GRID_COLUMNS), cols[FIXED + SWEEP_COLUMNS];
  for (int i = FIXED; i < ncol; i++)
    names[i] = sweep_columns[i - FIXED];
  int rc = -1, got;
  if (util_csv_need_cols(&c, names, cols, ncol, err, err_len) != 0)
    goto out;
  s->pts = malloc((st->config_count + 1) * sizeof *s->pts);
  if (!s->pts) {
    snprintf(err, err_len, "out of memory for %zu configurations", st->config_count);
    goto out;
  }
  s->slo_ttft_ms = s->slo_tpot_ms = NAN;
  while ((got = util_csv_next(&c, err, err_len)) == 1) {
    double index = csv_number(&c, cols[0]);
    const char *label = util_csv_get(&c, cols[3]);
    if (!(index >= 0 && index < (double)st->config_count) ||
        strcmp(st->configs[(size_t)index].label, label) != 0) {
      fprintf(stderr,
              "windtunnel plot: %s:%ld: '%s' is not a configuration of the study: left out\n",
              csv_path, c.line, label);
      continue;
    }
    const srv_study_config *cfg = &st->configs[(size_t)index];
    if (strcmp(util_csv_get(&c, cols[1]), "ok") != 0) {
      fprintf(stderr, "windtunnel plot: configuration %zu (%s) failed, left out: %s\n",
              (size_t)index, cfg->label, util_csv_get(&c, cols[2]));
      s->failed++;
      continue;
    }
    if (s->npts == st->config_count)
      break; /* a row twice: the file was not written by sweep */
    sweep_point *p = &s->pts[s->npts];
    p->index = (size_t)index;
    p->series = series_of(s, cfg);
    if (p->series == SIZE_MAX) {
      snprintf(err, err_len, "more than %d lines in one picture: too many axis values",
               SWEEP_MAX_SERIES);
      goto out;
    }
    if (s->categorical) {
      const char *v = st->key_count ? cfg->values[0].value : "base scenario";
      size_t i = 0;
      while (i < s->ncat && strcmp(s->cats[i], v) != 0)
        i++;
      p->x = (double)i;
    } else {
      p->x = strtod(cfg->values[s->x_key].value, NULL);
    }
    for (int i = 0; i < SWEEP_COLUMNS; i++)
      p->v[i] = FIXED + i < ncol ? csv_number(&c, cols[FIXED + i]) : NAN;
    agree(&s->slo_ttft_ms, s->npts == 0, csv_number(&c, cols[4]));
    agree(&s->slo_tpot_ms, s->npts == 0, csv_number(&c, cols[5]));
    if (max_rate && isnan(p->v[6]))
      fprintf(stderr,
              "windtunnel plot: configuration %zu (%s): even the lowest rate fails the SLOs: no "
              "max_rate point\n",
              p->index, cfg->label);
    s->npts++;
  }
  if (got < 0)
    goto out;
  qsort(s->pts, s->npts, sizeof *s->pts, cmp_sweep_point);
  rc = 0;
out:
  util_csv_close(&c);
  return rc;
}

/* sweep.dat: a block per series (gnuplot's index), x then the columns of sweep_columns. */
static int sweep_write_data(plot_job *job, const sweep_plot *s) {
  FILE *f = data_file(job, "sweep.dat");
  if (!f)
    return -1;
  fprintf(f, "# x=%s%s", s->st->key_count ? s->st->keys[s->x_key] : "(none)",
          s->categorical ? " (the index of its value)" : "");
  for (int i = 0; i < SWEEP_COLUMNS; i++)
    fprintf(f, " %s", sweep_columns[i]);
  fputc('\n', f);
  for (size_t sr = 0; sr < s->nseries; sr++) {
    fprintf(f, "%s# series %zu: %s\n", sr ? "\n\n" : "", sr,
            *s->series[sr] ? s->series[sr] : "all");
    for (size_t i = 0; i < s->npts; i++) {
      if (s->pts[i].series != sr)
        continue;
      fprintf(f, "%.17g", s->pts[i].x);
      for (int c = 0; c < SWEEP_COLUMNS; c++)
        fprintf(f, " %.9g", s->pts[i].v[c]);
      fputc('\n', f);
    }
  }
  return data_close(job, f, "sweep.dat");
}

/* A gnuplot double-quoted string: backslashes and quotes escaped, a newline as \\n. */
static void gp_text(FILE *gp, const char *s) {
  fputc('"', gp);
  for (; *s; s++) {
    if (*s == '\n') {
      fputs("\\n", gp);
      continue;
    }
    if (*s == '"' || *s == '\\')
      fputc('\\', gp);
    fputc(*s, gp);
  }
  fputc('"', gp);
}

/* An axis key as an axis label, with its unit where the key says it. */
static void key_label(char *out, size_t out_len, const char *key) {
  size_t len = strlen(key);
  const char *unit = NULL;
  if (len > 6 && strcmp(key + len - 6, ".count") == 0)
    unit = "instances";
  else if (len > 11 && strcmp(key + len - 11, ".rate_scale") == 0)
    unit = "x the trace's arrival rate";
  else if (len > 3 && (strcmp(key + len - 3, ".tp") == 0 || strcmp(key + len - 3, ".pp") == 0))
    unit = "accelerators";
  if (unit)
    snprintf(out, out_len, "%s (%s)", key, unit);
  else
    snprintf(out, out_len, "%s", key);
}

/* A log y axis over [lo, hi] with ticks at 1, 2 and 5 x 10^k (gnuplot's own give one or two). */
static void log_y_axis(FILE *gp, double lo, double hi) {
  fprintf(gp, "set logscale y\nset format y '%%g'\nset yrange [%.6g:%.6g]\nset ytics (", lo, hi);
  bool first = true;
  for (double decade = pow(10, floor(log10(lo))); decade <= hi; decade *= 10)
    for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
      double v = decade * m;
      if (v >= lo && v <= hi) {
        fprintf(gp, "%s%.6g", first ? "" : ", ", v);
        first = false;
      }
    }
  fprintf(gp, ")\n");
}

/* The x axis: its label, range and ticks. */
static void sweep_x_axis(plot_job *job, const sweep_plot *s) {
  FILE *gp = job->gp;
  if (s->categorical) {
    fprintf(gp, "set xlabel ");
    gp_string(gp, s->st->key_count ? s->st->keys[0] : "configuration");
    fprintf(gp, "\nset xrange [-0.5:%g]\nset xtics (", (double)s->ncat - 0.5);
    for (size_t i = 0; i < s->ncat; i++) {
      bool ran = false;
      for (size_t p = 0; p < s->npts && !ran; p++)
        ran = s->pts[p].x == (double)i;
      char tick[300];
      snprintf(tick, sizeof tick, "%s%s", s->cats[i], ran ? "" : "\n(failed)");
      fprintf(gp, "%s", i ? ", " : "");
      gp_text(gp, tick);
      fprintf(gp, " %zu", i);
    }
    fprintf(gp, ")\n");
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  size_t distinct = 0;
  double values[16];
  for (size_t i = 0; i < s->npts; i++) {
    double x = s->pts[i].x;
    lo = fmin(lo, x);
    hi = fmax(hi, x);
    size_t j = 0;
    while (j < distinct && j < 16 && values[j] != x)
      j++;
    if (j == distinct && distinct < 16)
      values[distinct++] = x;
    else if (j == distinct)
      distinct++; /* more than 16: gnuplot's own ticks */
  }
  char xlabel[300];
  key_label(xlabel, sizeof xlabel, s->st->keys[s->x_key]);
  fprintf(gp, "set xlabel ");
  gp_text(gp, xlabel);
  fputc('\n', gp);
  bool log = lo > 0 && hi / lo >= 16; /* e.g. counts 1 to 64: each doubling as far apart */
  if (log)
    fprintf(gp, "set logscale x\nset xrange [%.9g:%.9g]\n", lo / 1.25, hi * 1.25);
  else if (hi > lo)
    fprintf(gp, "set xrange [%.9g:%.9g]\n", lo - 0.06 * (hi - lo), hi + 0.06 * (hi - lo));
  else
    fprintf(gp, "set xrange [%.9g:%.9g]\n", lo - 1, hi + 1);
  if (distinct <= 12) {
    fprintf(gp, "set xtics (");
    for (size_t j = 0; j < distinct; j++)
      fprintf(gp, "%s'%g' %.17g", j ? ", " : "", values[j], values[j]);
    fprintf(gp, ")\n");
  }
}

static const char *const sweep_colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* One picture of sweep.dat. */
static void sweep_picture_draw(plot_job *job, const sweep_plot *s, const sweep_picture *pic) {
  FILE *gp = job->gp;
  bool max_rate = s->st->mode == SRV_STUDY_MAX_RATE;
  begin_picture(job, pic->name, 1000, 600);
  char title[512], ylabel[300];
  int len = snprintf(title, sizeof title, "%s", pic->title);
  if ((pic->line == LINE_SHARE || pic->column == 6) && !isnan(s->slo_ttft_ms) &&
      !isnan(s->slo_tpot_ms))
    len += snprintf(title + len, sizeof title - (size_t)len, " (TTFT <= %g ms, TPOT <= %g ms)",
                    s->slo_ttft_ms, s->slo_tpot_ms);
  if (pic->column == 6)
    snprintf(title + len, sizeof title - (size_t)len,
             "\nby bisection of %s: the share of requests meeting them >= %g", s->rate_key,
             s->share);
  else if (max_rate)
    snprintf(title + len, sizeof title - (size_t)len,
             "\neach configuration at its highest passing %s", s->rate_key);
  if (pic->ylabel)
    snprintf(ylabel, sizeof ylabel, "%s", pic->ylabel);
  else
    key_label(ylabel, sizeof ylabel, s->rate_key);
  fprintf(gp, "set title ");
  gp_text(gp, title);
  fprintf(gp, "\nset ylabel ");
  gp_text(gp, ylabel);
  fputc('\n', gp);
  sweep_x_axis(job, s);
  /* Latencies of overloaded configurations are orders of magnitude above the others: a log axis
   * then, else from 0. */
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < s->npts; i++)
    if (!isnan(s->pts[i].v[pic->column])) {
      lo = fmin(lo, s->pts[i].v[pic->column]);
      hi = fmax(hi, s->pts[i].v[pic->column]);
    }
  double ref = pic->line == LINE_TTFT_SLO            ? s->slo_ttft_ms
               : pic->line == LINE_TPOT_SLO          ? s->slo_tpot_ms
               : pic->line == LINE_SHARE && max_rate ? s->share
                                                     : NAN;
  if (!isnan(ref) && ref > 0 && lo <= hi) {
    lo = fmin(lo, ref);
    hi = fmax(hi, ref);
  }
  if ((pic->line == LINE_TTFT_SLO || pic->line == LINE_TPOT_SLO) && lo > 0 && hi / lo > 10) {
    log_y_axis(gp, lo / 1.5, hi * 1.5);
    fprintf(gp, "set ylabel ");
    char logged[320]; /* "TTFT p99 (ms)" -> "TTFT p99 (ms, log scale)" */
    snprintf(logged, sizeof logged, "%.*s, log scale)", (int)strlen(ylabel) - 1, ylabel);
    gp_text(gp, logged);
    fputc('\n', gp);
  } else if (pic->line == LINE_SHARE)
    fprintf(gp, "set yrange [0:1.05]\n");
  else if (lo <= hi && hi > 0) /* room above the highest point and the reference line */
    fprintf(gp, "set yrange [0:%.6g]\n", hi * 1.1);
  else
    fprintf(gp, "set yrange [0:*]\n");
  if (s->nseries > 1 || pic->column == 6 || !isnan(ref))
    fprintf(gp, "set key below height 1\n");
  else
    fprintf(gp, "unset key\n");
  if (s->failed)
    fprintf(gp,
            "set label '%zu failed configuration%s left out' at screen 0.01, 0.97 left textcolor "
            "rgb '#d62728'\n",
            s->failed, s->failed == 1 ? "" : "s");
  if (!s->npts)
    fprintf(gp, "set label 'no configuration ran' at graph 0.5, 0.5 center\n");
  fprintf(gp, "plot ");
  for (size_t sr = 0; sr < s->nseries; sr++) {
    const char *colour = sweep_colours[sr % (sizeof sweep_colours / sizeof *sweep_colours)];
    /* Configurations that measure the same overlap: a shape per line, the earlier ones larger, so
     * that every line shows. */
    static const int shapes[] = {7, 5, 9, 13, 11};
    double size = 1.2 + 0.35 * (double)(s->nseries - 1 - sr);
    fprintf(gp, "%s'sweep.dat' index %zu using 1:%d with linespoints lw 2 pt %d ps %.2f ",
            sr ? ", \\\n  " : "", sr, 2 + pic->column, shapes[sr % 5], size > 2.6 ? 2.6 : size);
    fprintf(gp, "lc rgb '%s' ", colour);
    if (*s->series[sr]) {
      fprintf(gp, "title ");
      gp_string(gp, s->series[sr]);
    } else {
      fprintf(gp, "title '%s'", pic->column == 6 ? "highest passing" : "measured");
    }
    if (pic->column == 6) /* the bracket's upper end: the lowest rate found to fail */
      fprintf(gp, ", \\\n  'sweep.dat' index %zu using 1:%d with points pt 6 ps 1.6 lc rgb '%s' %s",
              sr, 2 + 7, colour, sr ? "notitle" : "title 'lowest failing (bisection bracket)'");
  }
  if (!s->nseries)
    fprintf(gp, "NaN notitle");
  if (!isnan(ref) && pic->line != LINE_NONE)
    fprintf(gp, ", \\\n  %.9g with lines lc rgb '#d62728' dt 2 lw 2 title '%s %g%s'", ref,
            pic->line == LINE_SHARE ? "required share" : "SLO", ref,
            pic->line == LINE_SHARE ? "" : " ms");
  fputc('\n', gp);
}

/* The pictures of a sweep's results file: its study (the root attribute "study") is written to
 * DIR/study.yaml and read back for its axes, and the rows to DIR/results.csv by sweep's own CSV
 * writer. */
static int plot_sweep(plot_job *job, const char *path) {
  char *text = NULL, *rate_key = NULL;
  srv_study *st = NULL;
  sweep_plot s = {0};
  int rc = -1;
  io_timeline_reader *r = io_timeline_reader_open(path, false, job->err, sizeof job->err);
  if (!r)
    return -1;
  char ignored[256];
  int read = io_timeline_reader_attr_string(r, "study", &text, job->err, sizeof job->err);
  if (read == 0 &&
      io_timeline_reader_attr_string(r, "max_rate_key", &rate_key, ignored, sizeof ignored) != 0)
    rate_key = NULL;
  io_timeline_reader_close(r);
  if (read != 0)
    goto out;
  char study_path[4200], csv_path[4200];
  snprintf(study_path, sizeof study_path, "%s/study.yaml", job->dir);
  snprintf(csv_path, sizeof csv_path, "%s/results.csv", job->dir);
  FILE *f = data_file(job, "study.yaml");
  if (!f)
    goto out;
  fputs(text, f);
  if (data_close(job, f, "study.yaml"))
    goto out;
  if (srv_study_load(study_path, &st, job->err, sizeof job->err) != 0)
    goto out;
  if (!(f = data_file(job, "results.csv")))
    goto out;
  int csv_rc = app_sweep_csv(st, path, true, f, job->err, sizeof job->err);
  if (data_close(job, f, "results.csv") || csv_rc)
    goto out;
  s.st = st;
  s.rate_key = rate_key ? rate_key : st->search.keys[0];
  s.share = st->mode == SRV_STUDY_MAX_RATE ? st->search.goodput_share : NAN;
  if (sweep_choose_x(&s, job->err, sizeof job->err) ||
      sweep_read_points(&s, csv_path, job->err, sizeof job->err) || sweep_write_data(job, &s))
    goto out;
  if (s.failed)
    fprintf(stderr, "windtunnel plot: %zu of %zu configurations failed and are left out\n",
            s.failed, st->config_count);
  fprintf(job->gp,
          "# The study's results: sweep.dat, one block per line (the other axes' values)\n");
  size_t pictures = sizeof sweep_pictures / sizeof *sweep_pictures;
  for (size_t i = 0; i < pictures; i++)
    if (sweep_pictures[i].column != 6 || st->mode == SRV_STUDY_MAX_RATE)
      sweep_picture_draw(job, &s, &sweep_pictures[i]);
  rc = 0;
out:
  sweep_plot_free(&s);
  srv_study_free(st);
  free(text);
  free(rate_key);
  return rc;
}

/* Whether path is the results file of `windtunnel sweep` (root attribute schema
 * "windtunnel.sweep"). */
static bool is_sweep_results(const char *path) {
  char ignored[256], *schema = NULL;
  io_timeline_reader *r = io_timeline_reader_open(path, false, ignored, sizeof ignored);
  if (!r)
    return false;
  bool sweep = io_timeline_reader_attr_string(r, "schema", &schema, ignored, sizeof ignored) == 0 &&
               strcmp(schema, "windtunnel.sweep") == 0;
  free(schema);
  io_timeline_reader_close(r);
  return sweep;
}

/* Runs gnuplot on DIR/plots.gp and prints each picture's path; a picture missing or empty is an
 * error. */
static int draw(plot_job *job, const char *gnuplot) {
  if (run_gnuplot(gnuplot, job->dir, job->err, sizeof job->err) != 0)
    return -1;
  for (int i = 0; i < job->output_count; i++) {
    char file[4200];
    struct stat st;
    snprintf(file, sizeof file, "%s/%s", job->dir, job->outputs[i]);
    if (stat(file, &st) != 0 || st.st_size == 0) {
      snprintf(job->err, sizeof job->err, "gnuplot did not draw %.900s (see its messages above)",
               file);
      return -1;
    }
    printf("%s\n", file);
  }
  return 0;
}

int app_plot(int argc, char **argv) {
  static const struct option options[] = {{"output", required_argument, 0, 'o'},
                                          {"format", required_argument, 0, 'f'},
                                          {"gnuplot", required_argument, 0, 'g'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
  const char *dir = NULL, *format = "png", *gnuplot = getenv("WT_GNUPLOT");
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o': dir = optarg; break;
    case 'f': format = optarg; break;
    case 'g': gnuplot = optarg; break;
    case 'h': plot_usage(stdout); return 0;
    default:
      fprintf(stderr, "windtunnel plot: %s '%s'; see 'windtunnel plot --help'\n",
              optopt ? "missing value for" : "unknown option", argv[optind - 1]);
      return 2;
    }
  }
  if (strcmp(format, "png") != 0 && strcmp(format, "svg") != 0) {
    fprintf(stderr, "windtunnel plot: --format is png or svg, not '%s'\n", format);
    return 2;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, optind < argc ? "windtunnel plot: one timeline at a time\n"
                                  : "windtunnel plot: which timeline? usage: windtunnel plot "
                                    "FILE.h5 [-o DIR]\n");
    return 2;
  }
  const char *path = argv[optind];
  char default_dir[4096];
  if (!dir) {
    size_t len = strlen(path);
    if (len > 3 && strcmp(path + len - 3, ".h5") == 0)
      len -= 3;
    snprintf(default_dir, sizeof default_dir, "%.*s-plots", (int)len, path);
    dir = default_dir;
  }
  if (!gnuplot || !*gnuplot)
    gnuplot = "gnuplot";
  plot_timeline t;
  plot_job job = {.dir = dir, .format = format};
  if (is_sweep_results(path)) {
    int failed = make_dir(dir, job.err, sizeof job.err) != 0 ||
                 !(job.gp = data_file(&job, "plots.gp"));
    if (!failed) {
      fprintf(job.gp,
              "# Drawn by 'windtunnel plot %s'; run 'gnuplot plots.gp' here to draw again.\n",
              path);
      failed = plot_sweep(&job, path) != 0;
      failed |= data_close(&job, job.gp, "plots.gp") != 0;
      failed = failed || draw(&job, gnuplot) != 0;
    }
    if (failed)
      fprintf(stderr, "windtunnel plot: %s\n", job.err);
    return failed;
  }
  if (timeline_read(path, &t, job.err, sizeof job.err) != 0) {
    fprintf(stderr, "windtunnel plot: %s\n", job.err);
    return 1;
  }
  int rc = 1;
  if (make_dir(dir, job.err, sizeof job.err) != 0 || !(job.gp = data_file(&job, "plots.gp")))
    goto out;
  job.bin_ns = nice_bin_ns(t.simulated_ns);
  double span_s = (double)t.simulated_ns * 1e-9;
  job.time_unit = span_s > 3 * 3600 ? "h" : span_s > 600 ? "min" : "s";
  job.time_scale = span_s > 3 * 3600 ? 3600e9 : span_s > 600 ? 60e9 : 1e9;
  fprintf(job.gp, "# Drawn by 'windtunnel plot %s'; run 'gnuplot plots.gp' here to draw again.\n",
          path);
  int failed = plot_latency(&job, &t) || plot_series(&job, &t) || plot_heatmaps(&job, &t) ||
               plot_power(&job, &t) || plot_transfers(&job, &t);
  if (data_close(&job, job.gp, "plots.gp") || failed)
    goto out;
  if (draw(&job, gnuplot) != 0)
    goto out;
  rc = 0;
out:
  if (rc)
    fprintf(stderr, "windtunnel plot: %s\n", job.err);
  timeline_free(&t);
  return rc;
}
