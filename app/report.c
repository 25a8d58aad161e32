/* `windtunnel report`: a timeline's summary (text, JSON, per pool, model, rack and tier), the
 * comparison of two timelines, and a table as CSV; one process, no MPI. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "app/commands.h"
#include "serving/report.h"

static void report_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel report FILE.h5 [--json] [--no-wall] [--partial]\n"
          "       windtunnel report A.h5 B.h5 [--json]\n"
          "       windtunnel report FILE.h5 --csv TABLE [-o FILE.csv]\n"
          "Summarises a timeline, per pool (deployment), per model and per rack; with two files,\n"
          "compares them side by side (B - A and the change in percent).\n"
          "  --json       one JSON object (requests, ttft_ms, tpot_ms, e2e_ms, queue_ms,\n"
          "               throughput, slo, instances, kv, energy, power, sim, pools, models,\n"
          "               racks; with two files: a, b and delta)\n"
          "  --no-wall    leave out wall-clock time, to compare runs byte for byte\n"
          "  --csv TABLE  write a table as CSV: a header row with every field, rows sorted by\n"
          "               the table's key. TABLE is one of:");
  for (size_t i = 0; srv_report_tables[i]; i++)
    fprintf(out, "%s%s", i % 6 == 0 ? "\n                 " : " ", srv_report_tables[i]);
  fprintf(out,
          "\n  -o FILE      write the CSV to FILE instead of standard output\n"
          "  --partial    summarise a partial timeline (complete=0: a run stopped by a signal\n"
          "               or --max-wall), with a warning; without it such a file is refused\n");
}

int app_report(int argc, char **argv, MPI_Comm comm) {
  int rank = app_rank(comm);
  bool json = false, no_wall = false, partial = false;
  const char *paths[2] = {NULL, NULL}, *csv_table = NULL, *output = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (strcmp(argv[i], "--no-wall") == 0)
      no_wall = true;
    else if (strcmp(argv[i], "--partial") == 0)
      partial = true;
    else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
      csv_table = argv[++i];
    else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
      output = argv[++i];
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      if (rank == 0)
        report_usage(stdout);
      return 0;
    } else if (argv[i][0] != '-' && (!paths[0] || !paths[1]))
      paths[paths[0] ? 1 : 0] = argv[i];
    else {
      if (rank == 0)
        fprintf(stderr, "windtunnel report: %s '%s'; see 'windtunnel report --help'\n",
                strcmp(argv[i], "--csv") == 0 || strcmp(argv[i], "-o") == 0 ? "missing value for"
                                                                            : "unexpected argument",
                argv[i]);
      return 2;
    }
  }
  const char *misuse = !paths[0]               ? "which timeline? usage: windtunnel report FILE.h5"
                       : csv_table && paths[1] ? "--csv takes one timeline"
                       : output && !csv_table  ? "-o applies to --csv"
                       : csv_table && json     ? "--csv and --json exclude each other"
                                               : NULL;
  if (misuse) {
    if (rank == 0)
      fprintf(stderr, "windtunnel report: %s\n", misuse);
    return 2;
  }
  if (rank != 0)
    return 0;
  char err[1024];
  if (csv_table) {
    FILE *out = output ? fopen(output, "w") : stdout;
    if (!out) {
      fprintf(stderr, "windtunnel report: %s: cannot write: %s\n", output, strerror(errno));
      return 1;
    }
    int rc = srv_report_write_csv(paths[0], csv_table, out, err, sizeof err);
    if (output && fclose(out) != 0 && rc == 0) {
      snprintf(err, sizeof err, "%s: %s", output, strerror(errno));
      rc = -1;
    }
    if (rc != 0) {
      fprintf(stderr, "windtunnel report: %s\n", err);
      if (output)
        remove(output);
      return 1;
    }
    return 0;
  }
  srv_summary sum[2];
  srv_breakdown groups;
  for (int k = 0; k < (paths[1] ? 2 : 1); k++) {
    if (srv_report_summarise_groups(paths[k], partial, &sum[k], paths[1] ? NULL : &groups, err,
                                    sizeof err) != 0) {
      fprintf(stderr, "windtunnel report: %s\n", err);
      return 1;
    }
    if (!sum[k].complete)
      fprintf(stderr,
              "windtunnel report: warning: '%s' is a partial timeline: its run was stopped (%s) "
              "at simulated time %.3f s\n",
              paths[k], sum[k].stop_reason, (double)sum[k].end_reached_ns * 1e-9);
  }
  if (paths[1]) {
    srv_report_print_comparison(paths[0], &sum[0], paths[1], &sum[1], json, stdout);
    return 0;
  }
  if (json) {
    srv_report_print_json_groups(&sum[0], &groups, !no_wall, stdout);
  } else {
    srv_report_print(&sum[0], stdout);
    srv_report_print_groups(&groups, stdout);
  }
  srv_report_breakdown_free(&groups);
  return 0;
}
