/* `windtunnel plot` of a sweep's results file: the headline metrics (goodput, SLO share, TTFT and
 * TPOT p99, output tokens/s, energy per output token, a search's result) against the swept key, a
 * line per value of the other axes. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "app/plot.h"
#include "io/timeline.h"
#include "serving/study.h"
#include "util/csv.h"

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
  FILE *f = plot_data_file(job, "sweep.dat");
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
  return plot_data_close(job, f, "sweep.dat");
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
    plot_gp_string(gp, s->st->key_count ? s->st->keys[0] : "configuration");
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
  plot_begin_picture(job, pic->name, 1000, 600);
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
      plot_gp_string(gp, s->series[sr]);
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
static int sweep_draw(plot_job *job, const char *path) {
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
  FILE *f = plot_data_file(job, "study.yaml");
  if (!f)
    goto out;
  fputs(text, f);
  if (plot_data_close(job, f, "study.yaml"))
    goto out;
  if (srv_study_load(study_path, &st, job->err, sizeof job->err) != 0)
    goto out;
  if (!(f = plot_data_file(job, "results.csv")))
    goto out;
  int csv_rc = app_sweep_csv(st, path, true, f, job->err, sizeof job->err);
  if (plot_data_close(job, f, "results.csv") || csv_rc)
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

bool plot_is_sweep_results(const char *path) {
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


int plot_sweep_pictures(plot_job *job, const char *path) {
  if (plot_script_open(job, path) != 0)
    return -1;
  int failed = sweep_draw(job, path) != 0;
  failed |= plot_data_close(job, job->gp, "plots.gp") != 0;
  return failed ? -1 : 0;
}
