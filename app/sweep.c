/* `windtunnel sweep STUDY.yaml`: runs a study's configurations concurrently, ranks split into
 * groups that each run one configuration at a time on their own communicator, taking the next from
 * a shared counter on rank 0; one HDF5 results file with a row per configuration (its axis values
 * and the report's summary metrics), rewritten as rows come in, so that a rerun skips what is done.
 * In modes max_rate and min_count, each configuration is a bisection: for the highest rate, or the
 * fewest instances, that meets the SLOs or the study's limits. With objectives, the rows on their
 * Pareto front are marked. Here: the options, the runs and the groups; the results table, its
 * file and the front are app/sweep_results.c's. */
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
#include "app/sweep_private.h"
#include "serving/metrics.h"
#include "serving/report.h"
#include "serving/serving.h"
#include "serving/study.h"

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
    if (sweep_rows_add(rows, buf) != 0)
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
  if (sweep_make_layout(st, &sw.layout, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel sweep: %s\n", err);
    srv_study_free(st);
    return 1;
  }
  if (args.csv) {
    rc = rank == 0 &&
         sweep_print_csv(&sw.layout, args.output, args.no_wall, stdout, err, sizeof err) != 0;
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
    ok = sweep_read_done(&sw, &rows, done, err, sizeof err) == 0 &&
         sweep_write_results(&sw, &rows, err, sizeof err) == 0;
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
      int lost = sweep_rows_add(&rows, row) != 0;
      own_rows += drain(&sw, &rows, row, 0, &lost);
      if (lost && !write_failed)
        snprintf(err, sizeof err, "out of memory for the rows of %s", args.output);
      if (lost || (!write_failed && sweep_write_results(&sw, &rows, err, sizeof err) != 0))
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
    if (!write_failed && sweep_write_results(&sw, &rows, err, sizeof err) != 0)
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
        sweep_print_pareto(&sw, &rows, stdout);
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
