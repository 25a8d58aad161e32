/* `windtunnel sweep STUDY.yaml`: runs a study's configurations concurrently, ranks split into
 * groups that each run one configuration at a time on their own communicator, taking the next from
 * a shared counter on rank 0; one HDF5 results file with a row per configuration (its axis values
 * and the report's summary metrics), rewritten as rows come in, so that a rerun skips what is done.
 * In modes max_rate and min_count, each configuration is a bisection: for the highest rate, or the
 * fewest instances, that meets the SLOs or the study's limits. With objectives, the rows on their
 * Pareto front are marked. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"
#include "io/timeline.h"
#include "serving/metrics.h"
#include "serving/report.h"
#include "serving/serving.h"
#include "serving/study.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

enum {
  SWEEP_LABEL_BYTES = 512,  /* the config column: "key=value, key=value" */
  SWEEP_ERROR_BYTES = 512,  /* the error column */
  SWEEP_STATUS_BYTES = 16,  /* "ok" or "failed" */
  SWEEP_VALUE_BYTES = 128,  /* an axis value that is not a number */
  SWEEP_NOTE_BYTES = 64,    /* a search: how the bisection ended */
  SWEEP_MAX_FIELDS = 256,   /* the results table's columns */
  SWEEP_ROW_TAG = 41,       /* a finished configuration's row, to rank 0 */
  SWEEP_SCHEMA_VERSION = 1, /* of the results file */
};

static void sweep_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel sweep STUDY.yaml [options]\n"
          "Runs every configuration of a design study and writes one row per configuration\n"
          "(its axis values and the report's metrics) to an HDF5 results file.\n"
          "  -o, --output FILE     results file (default: sweep.h5); a rerun with the same file\n"
          "                        skips the configurations that it already holds as ok\n"
          "  --group-ranks N       ranks per configuration (default 1): the ranks split into\n"
          "                        groups of N, each running one configuration at a time\n"
          "  --timelines DIR       keep each run's timeline as DIR/config-NNNNN[-runRR].h5\n"
          "  --threads N           OpenMP threads per rank (default: simulation.threads)\n"
          "  --list                print the configurations and exit\n"
          "  --csv                 print the results file as CSV (a header, then a row per\n"
          "                        configuration) and exit; with --no-wall, without wall_s\n"
          "  --quiet               no progress lines\n"
          "  -h, --help            this help\n"
          "A study (see examples/study-routers.yaml):\n"
          "  base: default.yaml            # the scenario, relative to the study file\n"
          "  set: {workload.max_requests: 500}   # for every configuration\n"
          "  axes:                         # the product of these blocks\n"
          "    - grid: {router.policy: [round_robin, least_kv], deployments.0.count: [4, 8]}\n"
          "    - zip: {deployments.0.tp: [1, 2], deployments.0.count: [8, 4]}\n"
          "    - list: [{router.policy: prefix}, {router.policy: power_of_two}]\n"
          "    - random: {samples: 8, seed: 1, keys: {workload.rate_scale: {uniform: [1, 4]}}}\n"
          "  mode: max_rate                # optional: per configuration, the highest rate\n"
          "  max_rate: {key: workload.rate_scale, low: 0.5, high: 16, tolerance: 0.1,\n"
          "             goodput_share: 0.9}   # whose share of requests meeting the SLOs >= 0.9\n"
          "  # or mode: min_count, the fewest instances that pass (whole numbers, bisected):\n"
          "  #   min_count: {key: deployments.0.count, low: 1, high: 64}\n"
          "  # A search passes on limits of summary figures instead of (or, with goodput_share,\n"
          "  # as well as) the SLO share, e.g. Vidur-Search's P90 TTFT and P99 TBT:\n"
          "  #   limits: {ttft_ms_p90: 2000, tpot_ms_p99: 200}\n"
          "  objectives: [usd_per_m_output_tokens, ttft_ms_p90, {max: max_rate}]\n"
          "                                # optional: mark the Pareto front (column pareto) of\n"
          "                                # these columns, minimised unless {max: ...}, and print it\n"
          "See examples/study-*.yaml.\n");
}

typedef struct sweep_args {
  const char *study, *output, *timelines;
  int group_ranks, threads;
  bool list, quiet, csv, no_wall;
} sweep_args;

/* Returns -1 to exit 0 (help), 2 on bad usage, 0 to go on. */
static int parse_args(int argc, char **argv, int rank, sweep_args *a) {
  static const struct option options[] = {{"output", required_argument, 0, 'o'},
                                          {"group-ranks", required_argument, 0, 'g'},
                                          {"timelines", required_argument, 0, 'T'},
                                          {"threads", required_argument, 0, 't'},
                                          {"list", no_argument, 0, 'l'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"csv", no_argument, 0, 'c'},
                                          {"no-wall", no_argument, 0, 'w'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
  optind = 1;
  opterr = 0;
  int c;
  char *end;
  long v;
  *a = (sweep_args){.output = "sweep.h5", .group_ranks = 1};
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o': a->output = optarg; break;
    case 'T': a->timelines = optarg; break;
    case 'g':
    case 't':
      v = strtol(optarg, &end, 10);
      if (*end || v < 1 || v > 1 << 20) {
        if (rank == 0)
          fprintf(stderr, "windtunnel sweep: --%s expects a whole number of at least 1\n",
                  c == 'g' ? "group-ranks" : "threads");
        return 2;
      }
      *(c == 'g' ? &a->group_ranks : &a->threads) = (int)v;
      break;
    case 'l': a->list = true; break;
    case 'c': a->csv = true; break;
    case 'w': a->no_wall = true; break;
    case 'q': a->quiet = true; break;
    case 'h':
      if (rank == 0)
        sweep_usage(stdout);
      return -1;
    default:
      if (rank == 0)
        fprintf(stderr, "windtunnel sweep: %s '%s'; see 'windtunnel sweep --help'\n",
                optopt && strchr("ogTt", optopt) ? "missing value for" : "unknown option",
                argv[optind - 1]);
      return 2;
    }
  }
  if (optind < argc)
    a->study = argv[optind++];
  if (optind < argc || !a->study) {
    if (rank == 0)
      fprintf(stderr,
              optind < argc ? "windtunnel sweep: unexpected argument '%s'\n"
                            : "windtunnel sweep: which study? usage: windtunnel sweep "
                              "STUDY.yaml%s\n",
              optind < argc ? argv[optind] : "");
    return 2;
  }
  return 0;
}

enum { METRIC_MAX = 64 };

/* The results table, laid out from the study: 8-byte columns first, then texts. */
typedef struct sweep_layout {
  io_field fields[SWEEP_MAX_FIELDS];
  io_table_def def;
  size_t index_at, label_at, status_at, error_at, share_at, wall_at, pareto_at;
  size_t found_at, fail_at, runs_at, note_at; /* a search's: what it found, the failing bound */
  char found_name[32], fail_name[48], note_name[48];
  size_t key_at[SWEEP_MAX_FIELDS];
  size_t metric_at[METRIC_MAX];
} sweep_layout;

static size_t add_field(sweep_layout *l, size_t *at, const char *name, io_field_type type,
                        size_t string_bytes) {
  size_t offset = *at;
  l->fields[l->def.field_count++] = (io_field){name, offset, type, string_bytes};
  *at += type == IO_FIELD_STRING ? string_bytes : 8;
  return offset;
}

static int make_layout(const srv_study *st, sweep_layout *l, char *err, size_t err_len) {
  memset(l, 0, sizeof *l);
  if (st->key_count + srv_metric_count + 16 > SWEEP_MAX_FIELDS || srv_metric_count > METRIC_MAX) {
    snprintf(err, err_len, "a study has at most %d axis keys",
             (int)(SWEEP_MAX_FIELDS - srv_metric_count - 16));
    return -1;
  }
  size_t at = 0;
  l->index_at = add_field(l, &at, "index", IO_FIELD_UINT64, 0);
  for (size_t k = 0; k < st->key_count; k++)
    if (st->key_numeric[k])
      l->key_at[k] = add_field(l, &at, st->keys[k], IO_FIELD_DOUBLE, 0);
  const char *search = srv_study_search_name(st->mode);
  if (search) {
    snprintf(l->found_name, sizeof l->found_name, "%s", search);
    snprintf(l->fail_name, sizeof l->fail_name, "%s_%s_failing", search,
             st->mode == SRV_STUDY_MAX_RATE ? "lowest" : "highest");
    snprintf(l->note_name, sizeof l->note_name, "%s_note", search);
    l->found_at = add_field(l, &at, l->found_name, IO_FIELD_DOUBLE, 0);
    l->fail_at = add_field(l, &at, l->fail_name, IO_FIELD_DOUBLE, 0);
    l->runs_at = add_field(l, &at, "runs", IO_FIELD_UINT64, 0);
  }
  if (st->objective_count)
    l->pareto_at = add_field(l, &at, "pareto", IO_FIELD_UINT64, 0);
  for (size_t m = 0; m < srv_metric_count; m++)
    l->metric_at[m] = add_field(
        l, &at, srv_metrics[m].name,
        srv_metrics[m].type == SRV_METRIC_DOUBLE ? IO_FIELD_DOUBLE : IO_FIELD_UINT64, 0);
  l->share_at = add_field(l, &at, "goodput_share", IO_FIELD_DOUBLE, 0);
  l->wall_at = add_field(l, &at, "wall_s", IO_FIELD_DOUBLE, 0);
  for (size_t k = 0; k < st->key_count; k++)
    if (!st->key_numeric[k])
      l->key_at[k] = add_field(l, &at, st->keys[k], IO_FIELD_STRING, SWEEP_VALUE_BYTES);
  l->label_at = add_field(l, &at, "config", IO_FIELD_STRING, SWEEP_LABEL_BYTES);
  l->status_at = add_field(l, &at, "status", IO_FIELD_STRING, SWEEP_STATUS_BYTES);
  l->error_at = add_field(l, &at, "error", IO_FIELD_STRING, SWEEP_ERROR_BYTES);
  if (search)
    l->note_at = add_field(l, &at, l->note_name, IO_FIELD_STRING, SWEEP_NOTE_BYTES);
  l->def = (io_table_def){.name = "configurations",
                          .row_bytes = (at + 7) / 8 * 8,
                          .fields = l->fields,
                          .field_count = l->def.field_count};
  return 0;
}

static void put_f64(char *row, size_t at, double v) { memcpy(row + at, &v, sizeof v); }
static void put_u64(char *row, size_t at, uint64_t v) { memcpy(row + at, &v, sizeof v); }
static uint64_t get_u64(const char *row, size_t at) {
  uint64_t v;
  memcpy(&v, row + at, sizeof v);
  return v;
}
static void put_text(char *row, size_t at, size_t bytes, const char *text) {
  snprintf(row + at, bytes, "%s", text);
}

/* Requests meeting the SLOs over all requests (unfinished ones fail): the report's goodput times
 * the time it divided by, so that it follows the report's definition of a good request. */
static double goodput_share(const srv_summary *s) {
  if (s->total == 0)
    return 0;
  double sim_s = s->simulated_s > 0 ? s->simulated_s : 1;
  return round(s->goodput_req_s * sim_s) / (double)s->total;
}

/* A row for configuration index of st: axis values, and the summary when sum is not NULL. */
static void fill_row(const sweep_layout *l, const srv_study *st, size_t index,
                     const srv_summary *sum, double wall_s, const char *error, char *row) {
  memset(row, 0, l->def.row_bytes);
  const srv_study_config *cfg = &st->configs[index];
  put_u64(row, l->index_at, index);
  for (size_t k = 0; k < st->key_count; k++) {
    if (st->key_numeric[k])
      put_f64(row, l->key_at[k], strtod(cfg->values[k].value, NULL));
    else
      put_text(row, l->key_at[k], SWEEP_VALUE_BYTES, cfg->values[k].value);
  }
  put_text(row, l->label_at, SWEEP_LABEL_BYTES, cfg->label);
  put_text(row, l->status_at, SWEEP_STATUS_BYTES, error ? "failed" : "ok");
  put_text(row, l->error_at, SWEEP_ERROR_BYTES, error ? error : "");
  put_f64(row, l->wall_at, wall_s);
  for (size_t m = 0; m < srv_metric_count; m++) {
    const srv_metric *mt = &srv_metrics[m];
    const char *field = sum ? (const char *)sum + mt->offset : NULL;
    if (mt->type == SRV_METRIC_DOUBLE) {
      put_f64(row, l->metric_at[m], sum ? srv_metric_value(mt, sum) : NAN);
    } else if (mt->type == SRV_METRIC_U64 && sum) {
      uint64_t v;
      memcpy(&v, field, sizeof v);
      put_u64(row, l->metric_at[m], v);
    } else if (sum) {
      uint32_t v;
      memcpy(&v, field, sizeof v);
      put_u64(row, l->metric_at[m], v);
    }
  }
  put_f64(row, l->share_at, sum ? goodput_share(sum) : NAN);
  if (st->mode != SRV_STUDY_GRID) {
    put_f64(row, l->found_at, NAN);
    put_f64(row, l->fail_at, NAN);
  }
}

/* What a sweep shares: the study, its table, the options. */
typedef struct sweep {
  const srv_study *st;
  sweep_layout layout;
  const sweep_args *args;
  MPI_Comm world, group;
  int world_rank, group_rank;
} sweep;

/* Collective over the group: runs configuration index with the extra set (or NULL), and on the
 * group's leader summarises its timeline. Returns 0, or -1 with err on every rank of the group. */
static int run_one(const sweep *sw, size_t index, const char (*extra)[512], size_t extra_count,
                   unsigned run, srv_summary *sum, double *wall_s, char *err, size_t err_len) {
  const srv_study_config *cfg = &sw->st->configs[index];
  const char *sets[cfg->set_count + SRV_STUDY_MAX_SEARCH_KEYS];
  memcpy(sets, cfg->sets, cfg->set_count * sizeof *sets);
  size_t set_count = cfg->set_count;
  for (size_t k = 0; k < extra_count; k++)
    sets[set_count++] = extra[k];
  char path[1280];
  if (sw->args->timelines && extra_count)
    snprintf(path, sizeof path, "%s/config-%05zu-run%02u.h5", sw->args->timelines, index, run);
  else if (sw->args->timelines)
    snprintf(path, sizeof path, "%s/config-%05zu.h5", sw->args->timelines, index);
  else
    snprintf(path, sizeof path, "%s.config-%05zu.tmp.h5", sw->args->output, index);
  srv_scenario *s = NULL;
  double start = MPI_Wtime();
  int rc = srv_scenario_load(*sw->st->base_path ? sw->st->base_path : NULL, sets, set_count, &s,
                             err, err_len);
  /* Every rank loads the same input, but a rank that cannot (memory) must not leave the others in
   * srv_run: the group agrees first. */
  int loaded = rc == 0, all_loaded;
  MPI_Allreduce(&loaded, &all_loaded, 1, MPI_INT, MPI_MIN, sw->group);
  if (loaded && !all_loaded) {
    snprintf(err, err_len, "a rank of the group could not load the scenario");
    rc = -1;
  }
  if (rc == 0) {
    srv_options opt = {.output_path = path,
                       .threads = sw->args->threads,
                       .progress = false,
                       .version = WT_VERSION};
    srv_result res;
    rc = srv_run(s, &opt, sw->group, &res, err, err_len);
  }
  srv_scenario_free(s);
  /* The leader summarises; the group learns whether it worked and, on failure, why. */
  int ok = rc == 0;
  if (ok && sw->group_rank == 0) {
    ok = srv_report_summarise(path, sum, err, err_len) == 0;
    if (!sw->args->timelines)
      remove(path);
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, sw->group);
  if (!ok)
    MPI_Bcast(err, (int)err_len, MPI_CHAR, 0, sw->group);
  *wall_s = MPI_Wtime() - start;
  return ok ? 0 : -1;
}

/* Collective over the group: configuration index as a row (meaningful on the leader). */
static void run_grid(const sweep *sw, size_t index, char *row) {
  srv_summary sum;
  double wall_s;
  char err[SWEEP_ERROR_BYTES];
  int rc = run_one(sw, index, NULL, 0, 0, &sum, &wall_s, err, sizeof err);
  fill_row(&sw->layout, sw->st, index, rc ? NULL : &sum, wall_s, rc ? err : NULL, row);
}

/* Whether a run passes the study's search: its share of requests meeting the SLOs, and every
 * limit on a summary figure (NaN, a figure the run could not give, fails). */
static bool passes(const srv_study *st, const srv_summary *sum) {
  if (goodput_share(sum) < st->search.goodput_share)
    return false;
  for (size_t i = 0; i < st->search.limit_count; i++) {
    const srv_study_limit *lim = &st->search.limits[i];
    if (!(srv_metric_value(srv_metric_find(lim->metric), sum) <= lim->max))
      return false;
  }
  return true;
}

/* Collective over the group: one run of the search at value. Returns 1 when it passes, 0 when not
 * (both with *sum on the leader), -1 when it failed (err on every rank). */
static int search_run(const sweep *sw, size_t index, double value, unsigned *runs,
                      srv_summary *sum, double *wall_total, char *err, size_t err_len) {
  const srv_study *st = sw->st;
  char sets[SRV_STUDY_MAX_SEARCH_KEYS][512];
  for (size_t k = 0; k < st->search.key_count; k++)
    snprintf(sets[k], sizeof sets[k], "%s=%.17g", st->search.keys[k], value);
  double wall_s;
  int rc = run_one(sw, index, sets, st->search.key_count, (*runs)++, sum, &wall_s, err, err_len);
  *wall_total += wall_s;
  int pass = rc ? -1 : sw->group_rank == 0 && passes(sw->st, sum);
  MPI_Bcast(&pass, 1, MPI_INT, 0, sw->group);
  return pass;
}

/* Collective over the group: bisects the study's search key between its bounds. max_rate: the
 * highest value that passes, assuming passing gets harder as the value rises; min_count: the
 * lowest whole value that passes, assuming it gets easier. The row keeps the summary of the run at
 * what was found (of the bound expected to pass when it does not). */
static void run_search(const sweep *sw, size_t index, char *row, unsigned *runs_out) {
  const srv_study *st = sw->st;
  const sweep_layout *l = &sw->layout;
  bool count = st->mode == SRV_STUDY_MIN_COUNT;
  /* good: the last value that passed (first, the bound expected to); bad: the last that failed. */
  double good = count ? st->search.high : st->search.low;
  double bad = count ? st->search.low : st->search.high;
  double found = NAN, failing = NAN, wall_total = 0;
  srv_summary sum, best;
  char err[SWEEP_ERROR_BYTES];
  unsigned runs = 0;
  const char *note;
  int pass = search_run(sw, index, good, &runs, &sum, &wall_total, err, sizeof err);
  if (pass < 0)
    goto failed;
  best = sum;
  if (!pass) {
    note = count ? "the high bound fails" : "the low bound fails";
    failing = good;
  } else if ((pass = search_run(sw, index, bad, &runs, &sum, &wall_total, err, sizeof err)) < 0) {
    goto failed;
  } else if (pass) {
    note = count ? "the low bound passes" : "the high bound passes";
    best = sum;
    found = bad;
  } else {
    note = "bisected";
    while (fabs(bad - good) > st->search.tolerance) {
      double mid = count ? good + trunc((bad - good) / 2) : good + (bad - good) / 2;
      if ((pass = search_run(sw, index, mid, &runs, &sum, &wall_total, err, sizeof err)) < 0)
        goto failed;
      if (pass) {
        good = mid;
        best = sum;
      } else {
        bad = mid;
      }
    }
    found = good;
    failing = bad;
  }
  fill_row(l, st, index, &best, wall_total, NULL, row);
  put_f64(row, l->found_at, found);
  put_f64(row, l->fail_at, failing);
  put_u64(row, l->runs_at, runs);
  put_text(row, l->note_at, SWEEP_NOTE_BYTES, note);
  *runs_out = runs;
  return;
failed:
  fill_row(l, st, index, NULL, wall_total, err, row);
  put_u64(row, l->runs_at, runs);
  *runs_out = runs;
}

/* Rank 0's rows: the kept rows of an earlier results file and those of this sweep. */
typedef struct sweep_rows {
  char *rows;
  size_t count, cap, row_bytes;
} sweep_rows;

static int rows_add(sweep_rows *r, const char *row) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    char *grown = realloc(r->rows, cap * r->row_bytes);
    if (!grown)
      return -1;
    r->rows = grown;
    r->cap = cap;
  }
  memcpy(r->rows + r->count++ * r->row_bytes, row, r->row_bytes);
  return 0;
}

/* qsort has no context argument: rows sort by their index, the first 8 bytes (index_at is 0). */
static int cmp_rows(const void *a, const void *b) {
  uint64_t x = get_u64(a, 0), y = get_u64(b, 0);
  return (x > y) - (x < y);
}

/* A number of the row by its column's name (8-byte columns only); NaN when there is no such. */
static double row_value(const sweep_layout *l, const char *row, const char *column) {
  for (size_t f = 0; f < l->def.field_count; f++) {
    const io_field *fd = &l->fields[f];
    if (strcmp(fd->name, column) != 0)
      continue;
    if (fd->type == IO_FIELD_UINT64)
      return (double)get_u64(row, fd->offset);
    double v;
    memcpy(&v, row + fd->offset, sizeof v);
    return fd->type == IO_FIELD_DOUBLE ? v : NAN;
  }
  return NAN;
}

/* Sets the pareto column of the rows (when the study has objectives): 1 on the front of the rows
 * that ran. Returns 0, or -1 when out of memory. */
static int mark_pareto(const sweep *sw, sweep_rows *r) {
  const srv_study *st = sw->st;
  const sweep_layout *l = &sw->layout;
  size_t n = r->count, k = st->objective_count;
  if (k == 0 || n == 0)
    return 0;
  double *values = malloc(n * k * sizeof *values);
  bool *eligible = malloc(n), *front = malloc(n), maximise[SRV_STUDY_MAX_OBJECTIVES];
  if (!values || !eligible || !front) {
    free(values);
    free(eligible);
    free(front);
    return -1;
  }
  for (size_t j = 0; j < k; j++)
    maximise[j] = st->objectives[j].maximise;
  for (size_t i = 0; i < n; i++) {
    const char *row = r->rows + i * r->row_bytes;
    eligible[i] = strcmp(row + l->status_at, "ok") == 0;
    for (size_t j = 0; j < k; j++)
      values[i * k + j] = row_value(l, row, st->objectives[j].column);
  }
  srv_study_pareto(values, n, k, maximise, eligible, front);
  for (size_t i = 0; i < n; i++)
    put_u64(r->rows + i * r->row_bytes, l->pareto_at, front[i]);
  free(values);
  free(eligible);
  free(front);
  return 0;
}

/* Rank 0: the configurations on the front, with their objectives. */
static void print_pareto(const sweep *sw, const sweep_rows *r, FILE *out) {
  const srv_study *st = sw->st;
  const sweep_layout *l = &sw->layout;
  size_t on = 0;
  for (size_t i = 0; i < r->count; i++)
    on += get_u64(r->rows + i * r->row_bytes, l->pareto_at) != 0;
  fprintf(out, "pareto: %zu of %zu configurations on the front of", on, r->count);
  for (size_t j = 0; j < st->objective_count; j++)
    fprintf(out, "%s %s %s", j ? "," : "", st->objectives[j].maximise ? "max" : "min",
            st->objectives[j].column);
  fputc('\n', out);
  for (size_t i = 0; i < r->count; i++) {
    const char *row = r->rows + i * r->row_bytes;
    if (!get_u64(row, l->pareto_at))
      continue;
    fprintf(out, "  [%llu] %s:", (unsigned long long)get_u64(row, l->index_at), row + l->label_at);
    for (size_t j = 0; j < st->objective_count; j++)
      fprintf(out, "%s %s=%.6g", j ? "," : "", st->objectives[j].column,
              row_value(l, row, st->objectives[j].column));
    fputc('\n', out);
  }
}

/* Rank 0: writes every row, ordered by configuration, to a new file that then replaces the results
 * file, so that the results file is always whole. */
static int write_results(const sweep *sw, sweep_rows *r, char *err, size_t err_len) {
  if (r->count > 1)
    qsort(r->rows, r->count, r->row_bytes, cmp_rows);
  if (mark_pareto(sw, r) != 0) {
    snprintf(err, err_len, "out of memory for the Pareto front of %s", sw->args->output);
    return -1;
  }
  const char *search = srv_study_search_name(sw->st->mode);
  char tmp[1280];
  snprintf(tmp, sizeof tmp, "%s.tmp", sw->args->output);
  io_timeline_options opt = {.schema = "windtunnel.sweep",
                             .schema_version = SWEEP_SCHEMA_VERSION,
                             .program_version = WT_VERSION};
  io_timeline *tl = io_timeline_create(tmp, &opt, MPI_COMM_SELF, err, err_len);
  if (!tl)
    return -1;
  int table = io_timeline_add_table(tl, &sw->layout.def, err, err_len);
  int rc = table < 0 ? -1 : 0;
  const srv_study *st = sw->st;
  if (rc == 0)
    rc = io_timeline_attr_string(tl, "study", st->text, err, err_len) ||
         io_timeline_attr_string(tl, "base", *st->base_path ? st->base_path : "(built-in default)",
                                 err, err_len) ||
         io_timeline_attr_string(tl, "mode", search ? search : "grid", err, err_len) ||
         io_timeline_attr_int64(tl, "configurations", (int64_t)st->config_count, err, err_len);
  if (rc == 0 && search) {
    char name[64], limits[SRV_STUDY_MAX_LIMITS * 96] = "";
    for (size_t i = 0; i < st->search.limit_count; i++)
      snprintf(limits + strlen(limits), sizeof limits - strlen(limits), "%s%s<=%.17g",
               i ? ", " : "", st->search.limits[i].metric, st->search.limits[i].max);
#define SEARCH_ATTR(suffix) (snprintf(name, sizeof name, "%s_%s", search, suffix), name)
    char keys[SRV_STUDY_MAX_SEARCH_KEYS * 258] = "";
    for (size_t k = 0; k < st->search.key_count; k++)
      snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? ", " : "",
               st->search.keys[k]);
    rc = io_timeline_attr_string(tl, SEARCH_ATTR("key"), keys, err, err_len) ||
         io_timeline_attr_double(tl, SEARCH_ATTR("goodput_share"), st->search.goodput_share, err,
                                 err_len) ||
         io_timeline_attr_double(tl, SEARCH_ATTR("tolerance"), st->search.tolerance, err,
                                 err_len) ||
         io_timeline_attr_string(tl, SEARCH_ATTR("limits"), limits, err, err_len);
#undef SEARCH_ATTR
  }
  if (rc == 0 && st->objective_count) {
    char objectives[SRV_STUDY_MAX_OBJECTIVES * 80] = "";
    for (size_t j = 0; j < st->objective_count; j++)
      snprintf(objectives + strlen(objectives), sizeof objectives - strlen(objectives),
               "%s%s %s", j ? ", " : "", st->objectives[j].maximise ? "max" : "min",
               st->objectives[j].column);
    rc = io_timeline_attr_string(tl, "objectives", objectives, err, err_len);
  }
  for (size_t i = 0; rc == 0 && i < r->count; i++)
    if (io_timeline_append(tl, table, 0, r->rows + i * r->row_bytes) != 0) {
      snprintf(err, err_len, "out of memory writing %s", sw->args->output);
      rc = -1;
    }
  if (rc != 0) {
    io_timeline_abort(tl);
    remove(tmp);
    return -1;
  }
  if (io_timeline_close(tl, err, err_len) != 0) {
    remove(tmp);
    return -1;
  }
  if (rename(tmp, sw->args->output) != 0) {
    snprintf(err, err_len, "cannot replace %s: %s", sw->args->output, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

/* Rank 0: the rows of an existing results file whose configuration (by its axis values) is one of
 * this study's and that succeeded; done[c] marks them. Returns 0 (also when there is no file), or
 * -1 when the file exists but is not this study's results. */
static int read_done(const sweep *sw, sweep_rows *kept, bool *done, char *err, size_t err_len) {
  struct stat sb;
  if (stat(sw->args->output, &sb) != 0)
    return 0;
  char why[512];
  io_timeline_reader *r = io_timeline_reader_open(sw->args->output, false, why, sizeof why);
  uint64_t n = 0;
  char *rows = NULL;
  const sweep_layout *l = &sw->layout;
  if (!r || io_timeline_reader_rows(r, l->def.name, &n, why, sizeof why) != 0 ||
      !(rows = malloc((n ? n : 1) * l->def.row_bytes)) ||
      io_timeline_reader_read(r, &l->def, 0, n, rows, why, sizeof why) != 0) {
    snprintf(err, err_len,
             "%s exists but is not the results of this study (%s); remove it or choose another "
             "file with -o",
             sw->args->output, rows || !r ? why : "out of memory");
    free(rows);
    io_timeline_reader_close(r);
    return -1;
  }
  io_timeline_reader_close(r);
  size_t dropped = 0;
  for (uint64_t i = 0; i < n; i++) {
    char *row = rows + i * l->def.row_bytes;
    bool matched = false;
    if (strcmp(row + l->status_at, "ok") == 0)
      for (size_t c = 0; c < sw->st->config_count && !matched; c++)
        if (!done[c] && strcmp(row + l->label_at, sw->st->configs[c].label) == 0) {
          put_u64(row, l->index_at, c);
          matched = done[c] = true;
          if (rows_add(kept, row) != 0) {
            snprintf(err, err_len, "out of memory reading %s", sw->args->output);
            free(rows);
            return -1;
          }
        }
    dropped += !matched;
  }
  free(rows);
  if (dropped && !sw->args->quiet)
    fprintf(stderr,
            "windtunnel sweep: %zu rows of %s are failed or not configurations of this study; "
            "they will be run again or dropped\n",
            dropped, sw->args->output);
  return 0;
}

static void csv_text(const char *text, FILE *out) {
  if (!strpbrk(text, ",\"\n")) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *c = text; *c; c++) {
    if (*c == '"')
      fputc('"', out);
    fputc(*c, out);
  }
  fputc('"', out);
}

/* One process: the results file at path, laid out as l, as CSV, its columns in the table's order
 * (without wall_s when no_wall). */
static int print_csv(const sweep_layout *l, const char *path, bool no_wall, FILE *out, char *err,
                     size_t err_len) {
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, err_len);
  uint64_t n = 0;
  char *rows = NULL;
  if (!r || io_timeline_reader_rows(r, l->def.name, &n, err, err_len) != 0 ||
      !(rows = malloc((n ? n : 1) * l->def.row_bytes)) ||
      io_timeline_reader_read(r, &l->def, 0, n, rows, err, err_len) != 0) {
    if (r && !rows)
      snprintf(err, err_len, "out of memory reading %s", path);
    free(rows);
    io_timeline_reader_close(r);
    return -1;
  }
  io_timeline_reader_close(r);
  bool first = true;
  for (size_t f = 0; f < l->def.field_count; f++) {
    if (no_wall && l->fields[f].offset == l->wall_at)
      continue;
    if (!first)
      fputc(',', out);
    first = false;
    csv_text(l->fields[f].name, out);
  }
  fputc('\n', out);
  for (uint64_t i = 0; i < n; i++) {
    const char *row = rows + i * l->def.row_bytes;
    first = true;
    for (size_t f = 0; f < l->def.field_count; f++) {
      const io_field *fd = &l->fields[f];
      if (no_wall && fd->offset == l->wall_at)
        continue;
      if (!first)
        fputc(',', out);
      first = false;
      if (fd->type == IO_FIELD_STRING) {
        csv_text(row + fd->offset, out);
      } else if (fd->type == IO_FIELD_UINT64) {
        fprintf(out, "%llu", (unsigned long long)get_u64(row, fd->offset));
      } else {
        double v;
        memcpy(&v, row + fd->offset, sizeof v);
        fprintf(out, "%.17g", v);
      }
    }
    fputc('\n', out);
  }
  free(rows);
  return 0;
}

int app_sweep_csv(const srv_study *st, const char *results, bool no_wall, FILE *out, char *err,
                  size_t err_len) {
  sweep_layout layout;
  return make_layout(st, &layout, err, err_len) != 0
             ? -1
             : print_csv(&layout, results, no_wall, out, err, err_len);
}

/* Rank 0: takes the rows that other groups' leaders have sent: those already there, or until
 * wait_for have come. Returns how many it received; *lost is set when one could not be kept. */
static size_t drain(const sweep *sw, sweep_rows *rows, char *buf, size_t wait_for, int *lost) {
  size_t got = 0;
  for (;;) {
    int flag = 0;
    MPI_Status status;
    if (got < wait_for) {
      MPI_Probe(MPI_ANY_SOURCE, SWEEP_ROW_TAG, sw->world, &status);
      flag = 1;
    } else {
      MPI_Iprobe(MPI_ANY_SOURCE, SWEEP_ROW_TAG, sw->world, &flag, &status);
    }
    if (!flag)
      return got;
    MPI_Recv(buf, (int)sw->layout.def.row_bytes, MPI_BYTE, status.MPI_SOURCE, SWEEP_ROW_TAG,
             sw->world, MPI_STATUS_IGNORE);
    if (rows_add(rows, buf) != 0)
      *lost = 1;
    got++;
  }
}

int app_sweep(int argc, char **argv, MPI_Comm comm) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  sweep_args args;
  int rc = parse_args(argc, argv, rank, &args);
  if (rc)
    return rc < 0 ? 0 : rc;
  char err[1024];
  srv_study *st = NULL;
  if (srv_study_load(args.study, &st, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    return 1;
  }
  /* The results file keeps labels and text values in fixed-size columns: refuse what would be cut
   * (a cut label could not be matched on a restart). */
  for (size_t c = 0; c < st->config_count; c++) {
    const srv_study_config *cfg = &st->configs[c];
    bool too_long = strlen(cfg->label) >= SWEEP_LABEL_BYTES;
    for (size_t k = 0; k < st->key_count; k++)
      too_long |= strlen(cfg->values[k].value) >= SWEEP_VALUE_BYTES;
    if (too_long) {
      if (rank == 0)
        fprintf(stderr,
                "windtunnel sweep: %s: configuration %zu has a value of %d characters or more, or "
                "its axis values together take %d or more: shorten them\n",
                args.study, c, SWEEP_VALUE_BYTES, SWEEP_LABEL_BYTES);
      srv_study_free(st);
      return 1;
    }
  }
  if (args.list) {
    if (rank == 0)
      for (size_t c = 0; c < st->config_count; c++)
        printf("%zu: %s\n", c, st->configs[c].label);
    srv_study_free(st);
    return 0;
  }
  if (size % args.group_ranks != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel sweep: --group-ranks %d does not divide the %d ranks\n",
              args.group_ranks, size);
    srv_study_free(st);
    return 2;
  }
  sweep sw = {.st = st, .args = &args, .world_rank = rank};
  if (make_layout(st, &sw.layout, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    srv_study_free(st);
    return 1;
  }
  if (args.csv) {
    rc = rank == 0 &&
         print_csv(&sw.layout, args.output, args.no_wall, stdout, err, sizeof err) != 0;
    if (rc)
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    srv_study_free(st);
    return rc;
  }
  sweep_rows rows = {.row_bytes = sw.layout.def.row_bytes};
  bool *done = calloc(st->config_count ? st->config_count : 1, sizeof *done);
  uint64_t *pending = calloc(st->config_count ? st->config_count : 1, sizeof *pending);
  char *row = calloc(1, sw.layout.def.row_bytes);
  int ok = done && pending && row;
  if (!ok)
    snprintf(err, sizeof err, "out of memory for %zu configurations", st->config_count);
  if (ok && rank == 0) {
    /* Writing the results file before any run finds an unwritable path before the work. */
    ok = read_done(&sw, &rows, done, err, sizeof err) == 0 &&
         write_results(&sw, &rows, err, sizeof err) == 0;
    if (ok && args.timelines && mkdir(args.timelines, 0777) != 0 && errno != EEXIST) {
      snprintf(err, sizeof err, "cannot create %s: %s", args.timelines, strerror(errno));
      ok = 0;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
  if (!ok) {
    if (rank == 0)
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    free(done);
    free(pending);
    free(row);
    free(rows.rows);
    srv_study_free(st);
    return 1;
  }
  /* The queue: the configurations to run, in study order, the same on every rank. */
  uint64_t pending_count = 0;
  if (rank == 0)
    for (size_t c = 0; c < st->config_count; c++)
      if (!done[c])
        pending[pending_count++] = c;
  MPI_Bcast(&pending_count, 1, MPI_UINT64_T, 0, comm);
  MPI_Bcast(pending, (int)pending_count, MPI_UINT64_T, 0, comm);
  size_t skipped = st->config_count - pending_count;
  if (rank == 0 && !args.quiet)
    fprintf(stderr,
            "windtunnel sweep: %zu configurations, %zu already in %s, %llu to run on %d "
            "group(s) of %d rank(s)\n",
            st->config_count, skipped, args.output, (unsigned long long)pending_count,
            size / args.group_ranks, args.group_ranks);

  MPI_Comm_dup(comm, &sw.world);
  MPI_Comm_split(sw.world, rank / args.group_ranks, rank, &sw.group);
  MPI_Comm_rank(sw.group, &sw.group_rank);
  /* Rank 0 holds two counters: the next position in the queue, and the configurations done. The
   * groups' leaders take from them with atomic fetch-and-add, so that no rank has to serve. */
  int64_t *counters;
  MPI_Win win;
  MPI_Win_allocate(rank == 0 ? 2 * sizeof(int64_t) : 0, sizeof(int64_t), MPI_INFO_NULL, sw.world,
                   &counters, &win);
  if (rank == 0)
    counters[0] = counters[1] = 0;
  MPI_Barrier(sw.world);
  MPI_Win_lock_all(0, win);

  double start = MPI_Wtime();
  const int64_t one = 1;
  size_t own_rows = 0, sent_count = 0, sent_cap = 0;
  MPI_Request *sent = NULL;
  char **sent_rows = NULL;
  int write_failed = 0;
  for (;;) {
    int64_t next = 0;
    if (sw.group_rank == 0) {
      MPI_Fetch_and_op(&one, &next, MPI_INT64_T, 0, 0, MPI_SUM, win);
      MPI_Win_flush(0, win);
    }
    MPI_Bcast(&next, 1, MPI_INT64_T, 0, sw.group);
    if ((uint64_t)next >= pending_count)
      break;
    size_t index = pending[next];
    unsigned runs = 0;
    if (st->mode != SRV_STUDY_GRID)
      run_search(&sw, index, row, &runs);
    else
      run_grid(&sw, index, row);
    if (sw.group_rank != 0)
      continue;
    int64_t finished = 0;
    MPI_Fetch_and_op(&one, &finished, MPI_INT64_T, 0, 1, MPI_SUM, win);
    MPI_Win_flush(0, win);
    finished++;
    if (!args.quiet) {
      double elapsed = MPI_Wtime() - start;
      const char *status = row + sw.layout.status_at;
      fprintf(stderr, "sweep: %lld/%llu done, %.0f s, ETA %.0f s; [%zu] %s: %s",
              (long long)finished, (unsigned long long)pending_count, elapsed,
              elapsed / (double)finished * (double)(pending_count - (uint64_t)finished), index,
              st->configs[index].label, status);
      if (st->mode != SRV_STUDY_GRID && strcmp(status, "ok") == 0) {
        double found;
        memcpy(&found, row + sw.layout.found_at, sizeof found);
        fprintf(stderr, ", %s %s %.4g (%s) in %u runs",
                st->mode == SRV_STUDY_MAX_RATE ? "max" : "min", st->search.keys[0], found,
                row + sw.layout.note_at, runs);
      }
      if (strcmp(status, "ok") != 0)
        fprintf(stderr, " (%s)", row + sw.layout.error_at);
      fputc('\n', stderr);
    }
    if (rank == 0) {
      /* Rows keep coming whatever happens here, so that no leader waits on its sends. */
      own_rows++;
      int lost = rows_add(&rows, row) != 0;
      own_rows += drain(&sw, &rows, row, 0, &lost);
      if (lost && !write_failed)
        snprintf(err, sizeof err, "out of memory for the rows of %s", args.output);
      if (lost || (!write_failed && write_results(&sw, &rows, err, sizeof err) != 0))
        write_failed = 1;
      continue;
    }
    if (sent_count == sent_cap) {
      sent_cap = sent_cap ? 2 * sent_cap : 16;
      sent = realloc(sent, sent_cap * sizeof *sent);
      sent_rows = realloc(sent_rows, sent_cap * sizeof *sent_rows);
      if (!sent || !sent_rows)
        MPI_Abort(comm, 1); /* cannot report a row it has computed: nothing sound to do */
    }
    sent_rows[sent_count] = malloc(sw.layout.def.row_bytes);
    if (!sent_rows[sent_count])
      MPI_Abort(comm, 1);
    memcpy(sent_rows[sent_count], row, sw.layout.def.row_bytes);
    MPI_Isend(sent_rows[sent_count], (int)sw.layout.def.row_bytes, MPI_BYTE, 0, SWEEP_ROW_TAG,
              sw.world, &sent[sent_count]);
    sent_count++;
  }
  if (rank == 0) {
    /* own_rows: the rows of this sweep that rank 0 holds, its own and those drained so far. */
    int lost = 0;
    drain(&sw, &rows, row, pending_count - own_rows, &lost);
    if (lost && !write_failed)
      snprintf(err, sizeof err, "out of memory for the rows of %s", args.output);
    write_failed |= lost;
    if (!write_failed && write_results(&sw, &rows, err, sizeof err) != 0)
      write_failed = 1;
  }
  MPI_Waitall((int)sent_count, sent, MPI_STATUSES_IGNORE);
  for (size_t i = 0; i < sent_count; i++)
    free(sent_rows[i]);
  free(sent);
  free(sent_rows);
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);

  /* Rank 0 tells everyone how it went. */
  uint64_t outcome[2] = {(uint64_t)write_failed, 0};
  if (rank == 0)
    for (size_t i = 0; i < rows.count; i++)
      outcome[1] += strcmp(rows.rows + i * rows.row_bytes + sw.layout.status_at, "ok") != 0;
  MPI_Bcast(outcome, 2, MPI_UINT64_T, 0, comm);
  int status = 0;
  if (rank == 0) {
    if (outcome[0]) {
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    } else {
      printf(
          "sweep: %zu configurations (%zu skipped, %llu run, %llu failed) in %.1f s; "
          "results: %s\n",
          st->config_count, skipped, (unsigned long long)pending_count,
          (unsigned long long)outcome[1], MPI_Wtime() - start, args.output);
      if (st->objective_count)
        print_pareto(&sw, &rows, stdout);
      if (outcome[1])
        fprintf(stderr,
                "windtunnel sweep: %llu configuration(s) failed; their errors are in the error "
                "column of %s\n",
                (unsigned long long)outcome[1], args.output);
    }
  }
  status = outcome[0] || outcome[1] ? 1 : 0;
  MPI_Comm_free(&sw.group);
  MPI_Comm_free(&sw.world);
  free(done);
  free(pending);
  free(row);
  free(rows.rows);
  srv_study_free(st);
  return status;
}
