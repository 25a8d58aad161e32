/* `windtunnel calibrate`: its command line, usage and printing; the evaluation, the committed
 * figures and the refits are calib/'s (calib/calibrate.h, calib/fit.h). */
#include "app/commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/calibrate.h"
#include "calib/device.h"
#include "calib/fit.h"

/* How far a median or p90 may exceed its committed figure before --check fails, in percentage
 * points: the evaluation is deterministic, so this only absorbs libm differences across
 * machines and the one-decimal rounding of the committed figures. */
static const double default_tolerance_pct = 0.5;

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: windtunnel calibrate [--data DIR] [--check] [--expected FILE] [--tolerance PP]\n"
      "                            [--write [--out DIR]] [--record FILE] [--markdown]\n"
      "       windtunnel calibrate PROFILE_DIR [--device NAME] [--efficiency FILE]\n"
      "                            [--write [--out FILE]]\n"
      "\n"
      "With PROFILE_DIR (one device's profiles, e.g. what tools/profile_gpu.py writes): reads\n"
      "every table under it in the Vidur, LLMServingSim or AIConfigurator layout, prints one\n"
      "'profile: FILE device=.. layout=.. <op>=<points>' line per table and one\n"
      "'not mapped: FILE: <why>' line per file it cannot use, then fits each device's\n"
      "efficiencies operator by operator ('device-fit device=.. op=.. points=.. before: ..\n"
      "after: ..'; operators without data keep the device's current efficiencies).\n"
      "  --device NAME     the accelerator of every table (a catalogue name or a folder-style\n"
      "                    name: a100, h100_sxm, rtx_pro_6000, B200); default: the deepest\n"
      "                    folder or file name of each table's path that names one\n"
      "  --efficiency FILE start from (and report as 'before') the efficiencies of FILE, as\n"
      "                    --out writes it, instead of the catalogue's: the fit's error on\n"
      "                    tables it was not fitted to\n"
      "  --write           replace the fitted devices' rows of hw/data/efficiency.csv (run from\n"
      "                    the repository root; rebuild to use them)\n"
      "  --out FILE        with --write: write only their rows into FILE instead, for a\n"
      "                    scenario's accelerator entry: efficiency_file: FILE\n"
      "\n"
      "Without PROFILE_DIR: prices every measured point of every dataset it recognises under\n"
      "DIR with the built-in cost model (shipped efficiencies, power and collective\n"
      "parameters) and reports the error.\n"
      "For devices or models without a fit it prices from datasheet values and the default\n"
      "(H100-fitted) efficiencies, and says so.\n"
      "\n"
      "  --data DIR        data laid out like ../shared/data (default: $WT_DATA_DIR, else\n"
      "                    ../shared/data, relative to the current directory: the repo root)\n"
      "  --check           also compare with committed figures; exit 1 if any dataset's median\n"
      "                    or p90 exceeds its figure by more than the tolerance, its point count\n"
      "                    changed, or a committed dataset is missing\n"
      "  --expected FILE   the committed figures (default tests/calib/expected_full.csv,\n"
      "                    the figures of the full ../shared/data; CI uses\n"
      "                    tests/calib/expected.csv with --data tests/calib/data)\n"
      "  --tolerance PP    percentage points allowed above a committed figure (default 0.5)\n"
      "  --write           first refit hw/data/efficiency.csv, hw/data/power.csv (wt_hw_fit) and\n"
      "                    net/data/collective.csv (wt_net_fit) from DIR, which must hold every\n"
      "                    table they fit; the evaluation still uses the parameters built into\n"
      "                    this binary: rebuild, then run again to see the new figures\n"
      "  --out DIR         with --write: write the three files into DIR instead\n"
      "  --record FILE     write this evaluation's figures as an expected-figures CSV\n"
      "  --markdown        also print the figures as a Markdown table (the README's)\n"
      "Without --write nothing is refitted or written.\n"
      "\n"
      "Recognised (paths relative to DIR): aiconfigurator/kernels/ GEMM, context and generation\n"
      "attention, custom all-reduce and NCCL tables (H100, H200); vidur/data/profiling/compute/\n"
      "<gpu>/<org>/<model>/mlp.csv (A100; A40 is listed as skipped: no datasheet values),\n"
      "vidur/data/profiling/network/*/{all_reduce,send_recv}.csv, vidur/historical-*/.../\n"
      "cpu_overheads.csv; apex_plus/comm/<gpu>/*.csv; "
      "LLMServingSim/profiles_v0/<HW>_<org>_<model>_\n"
      "tp<N>/{layers,attention}.csv and profiles_v1/<HW>_<org>_<model>/tp<N>/{dense,per_sequence,\n"
      "attention}.csv (any catalogued <HW>: calib/device.c's names; RTX 4090 skipped: not in\n"
      "the catalogue); "
      "splitwise-sim/perf_model.csv (Llama-2-70B on A100, H100 and power-capped H100);\n"
      "e2e/argonne_llm_inference_bench/Fig_16_a_b_power_results.csv (whole-run GPU power of\n"
      "A100 and H100 runs, as measured_mW/modelled_mW; GH200 skipped: not in the catalogue).\n"
      "Every other file is listed as skipped, with why where calibrate can tell.\n"
      "\n"
      "Output, per dataset file and operator (collectives: per collective and domain):\n"
      "  calibration dataset=<path> op=<op> points=<n> median_abs_pct=<x> p90_abs_pct=<y>\n"
      "    device=<accelerator> note=<how it was priced>\n"
      "    worst: <inputs> measured_ns=<t> modelled_ns=<t>       (up to three, worst first)\n"
      "  calibration dataset=<path> op=<op> skipped: <why>\n"
      "  skipped: <path> (<n> files) not a dataset calibrate recognises\n"
      "  check dataset=<path> op=<op> <ok|FAIL>: <figures>          (--check)\n"
      "Errors are |modelled / measured - 1| in percent; median and p90 over the points.\n");
}

/* ---- output ---- */

static void print_rows(const calib_rows *rows, FILE *out) {
  for (size_t i = 0; i < rows->n; i++) {
    const calib_row *r = &rows->row[i];
    if (!r->points) {
      fprintf(out, "calibration dataset=%s op=%s %s\n", r->dataset, r->op,
              r->note[0] ? r->note : "skipped: no usable rows");
      continue;
    }
    fprintf(out, "calibration dataset=%s op=%s points=%zu median_abs_pct=%.1f p90_abs_pct=%.1f\n",
            r->dataset, r->op, r->points, r->median_abs_pct, r->p90_abs_pct);
    if (r->device[0] || r->note[0])
      fprintf(out, "    device=%s note=%s\n", r->device[0] ? r->device : "-",
              r->note[0] ? r->note : "fitted efficiencies");
    for (int w = 0; w < r->worst_count; w++)
      fprintf(out, "    worst: %s\n", r->worst[w]);
  }
}

typedef struct cal_args {
  const char *data_dir, *expected, *out_dir, *record_path;
  const char *profile_dir, *device, *efficiency; /* per-device mode (calib/device.h) */
  double tolerance;
  bool check, write, markdown;
} cal_args;

/* 0 to go on, -1 to exit 0 (help), 2 for bad usage. */
static int parse(int argc, char **argv, cal_args *a) {
  const char *env = getenv("WT_DATA_DIR");
  a->data_dir = env && env[0] ? env : "../shared/data";
  a->expected = "tests/calib/expected_full.csv";
  a->tolerance = default_tolerance_pct;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      return -1;
    } else if (!strcmp(arg, "--check")) {
      a->check = true;
    } else if (!strcmp(arg, "--write")) {
      a->write = true;
    } else if (!strcmp(arg, "--markdown")) {
      a->markdown = true;
    } else if (has_value && !strcmp(arg, "--data")) {
      a->data_dir = argv[++i];
    } else if (has_value && !strcmp(arg, "--expected")) {
      a->expected = argv[++i];
    } else if (has_value && !strcmp(arg, "--out")) {
      a->out_dir = argv[++i];
    } else if (has_value && !strcmp(arg, "--device")) {
      a->device = argv[++i];
    } else if (has_value && !strcmp(arg, "--efficiency")) {
      a->efficiency = argv[++i];
    } else if (arg[0] != '-' && !a->profile_dir) {
      a->profile_dir = arg;
    } else if (has_value && !strcmp(arg, "--record")) {
      a->record_path = argv[++i];
    } else if (has_value && !strcmp(arg, "--tolerance")) {
      char *end;
      a->tolerance = strtod(argv[++i], &end);
      if (*end || !(a->tolerance >= 0.0)) {
        fprintf(stderr, "windtunnel calibrate: --tolerance expects percentage points >= 0\n");
        return 2;
      }
    } else {
      fprintf(stderr, "windtunnel calibrate: %s '%s'; see 'windtunnel calibrate --help'\n",
              arg[0] == '-' && !has_value ? "missing value or unknown option" : "unexpected", arg);
      return 2;
    }
  }
  if (a->out_dir && !a->write) {
    fprintf(stderr, "windtunnel calibrate: --out goes with --write\n");
    return 2;
  }
  if ((a->device || a->efficiency) && !a->profile_dir) {
    fprintf(stderr, "windtunnel calibrate: --device and --efficiency go with a PROFILE_DIR\n");
    return 2;
  }
  if (a->profile_dir && (a->check || a->record_path || a->markdown)) {
    fprintf(stderr,
            "windtunnel calibrate: --check, --record and --markdown evaluate the whole "
            "data directory, not a PROFILE_DIR\n");
    return 2;
  }
  return 0;
}

/* Refit the parameter files (calib_fit_hw writes power.csv and systolic.csv beside
 * efficiency.csv). */
static int refit(const cal_args *a, char *err, size_t err_len) {
  char eff[4096], coll[4096];
  snprintf(eff, sizeof eff, "%s/efficiency.csv", a->out_dir ? a->out_dir : "hw/data");
  snprintf(coll, sizeof coll, "%s/collective.csv", a->out_dir ? a->out_dir : "net/data");
  printf("refit: %s and power.csv beside it, from %s\n", eff, a->data_dir);
  if (calib_fit_hw(a->data_dir, eff, stdout, err, err_len) != 0)
    return -1;
  printf("refit: %s, from %s\n", coll, a->data_dir);
  if (calib_fit_collectives(a->data_dir, coll, stdout, err, err_len) != 0)
    return -1;
  printf("refit: done; rebuild for the program to use the new parameters\n");
  return 0;
}

static int calibrate(const cal_args *a) {
  char err[1024];
  struct stat st;
  if (stat(a->data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "windtunnel calibrate: %s: not a directory (use --data DIR or WT_DATA_DIR)\n",
            a->data_dir);
    return 1;
  }
  if (a->write && refit(a, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel calibrate: %s\n", err);
    return 1;
  }
  calib_rows rows = {0};
  int status = 0;
  if (calib_calibrate(a->data_dir, &rows, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel calibrate: %s\n", err);
    calib_rows_free(&rows);
    return 1;
  }
  printf("calibration of the built-in cost model against %s\n", a->data_dir);
  print_rows(&rows, stdout);
  if (calib_print_unrecognised(a->data_dir, &rows, stdout) != 0) {
    fprintf(stderr, "windtunnel calibrate: out of memory\n");
    status = 1;
  }
  if (a->markdown)
    calib_rows_markdown(&rows, stdout);
  if (status == 0 && a->record_path) {
    if (calib_record(&rows, a->record_path, a->data_dir, err, sizeof err) != 0) {
      fprintf(stderr, "windtunnel calibrate: %s\n", err);
      status = 1;
    } else {
      printf("recorded: %s\n", a->record_path);
    }
  }
  if (status == 0 && a->check) {
    int rc = calib_check(&rows, a->expected, a->tolerance, stdout, err, sizeof err);
    if (rc != 0) {
      fprintf(stderr, "windtunnel calibrate: %s\n", err);
      status = 1;
    }
  }
  fflush(stdout);
  calib_rows_free(&rows);
  return status;
}

/* One device's profile folder: recognised tables, the fit, and with --write its rows. */
static int calibrate_device(const cal_args *a) {
  struct stat st;
  if (stat(a->profile_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "windtunnel calibrate: %s: not a directory\n", a->profile_dir);
    return 1;
  }
  calib_device_opts o = {.dir = a->profile_dir,
                         .device = a->device,
                         .efficiency = a->efficiency,
                         .write = a->write,
                         .out_path = a->out_dir,
                         .catalogue = "hw/data/efficiency.csv"};
  char err[1024];
  printf("calibration of one device's profiles under %s\n", a->profile_dir);
  int r = calib_device_fit(&o, stdout, err, sizeof err);
  fflush(stdout);
  if (r != 0)
    fprintf(stderr, "windtunnel calibrate: %s\n", err);
  return r != 0;
}

int app_calibrate(int argc, char **argv, MPI_Comm comm) {
  int status = 0;
  if (app_rank(comm) == 0) {
    cal_args a;
    memset(&a, 0, sizeof a);
    status = parse(argc, argv, &a);
    status = status < 0      ? 0
             : status        ? status
             : a.profile_dir ? calibrate_device(&a)
                             : calibrate(&a);
  }
  if (comm != MPI_COMM_NULL)
    MPI_Bcast(&status, 1, MPI_INT, 0, comm);
  return status;
}
