/* `windtunnel validate`: its command line, usage and printing; the readers, the replays and the
 * committed figures are calib/'s (calib/validate.h). */
#define _POSIX_C_SOURCE 200809L
#include "app/commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/validate.h"

/* How far a case's |err| may grow beyond its committed figure before --check fails, in
 * percentage points: the replays are deterministic, so this absorbs libm differences across
 * machines and the one-decimal rounding of the committed figures. */
static const double default_tolerance_pct = 1.0;

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: windtunnel validate [--data DIR] [--dataset NAME] [--case PATTERN]\n"
      "                           [--max-requests N] [--json] [--check | --write]\n"
      "                           [--expected FILE] [--tolerance PP]\n"
      "       windtunnel validate --scenario FILE --bench RESULT.json [options]\n"
      "\n"
      "Replays measured serving runs through the simulation (the same code as `run`) and prints\n"
      "predicted vs measured, metric by metric, with the error, then a summary per dataset.\n"
      "Each case's setup (model, device, TP/PP, replicas, engine limits) comes from its\n"
      "dataset's SOURCE.md; its workload is the run's own trace where it has one, else its\n"
      "lengths and rate (Poisson), or every request at t=0 for offline runs. Cases whose setup\n"
      "cannot be modelled (device or model not in the catalogue, an engine feature missing,\n"
      "lengths not recorded) are listed as skipped with the reason.\n"
      "\n"
      "  --data DIR        datasets laid out like ../shared/data/e2e (default: $WT_DATA_DIR/e2e,\n"
      "                    else ../shared/data/e2e, relative to the current directory)\n"
      "  --dataset NAME    only this dataset folder\n"
      "  --case PATTERN    only cases whose name matches this shell pattern (fnmatch)\n"
      "  --max-requests N  replay at most the first N requests of each run (said per case)\n"
      "  --scenario FILE   with --bench: the setup of your own run (a scenario file; its\n"
      "                    workload is replaced by the result's requests)\n"
      "  --bench FILE      a bench_serving result: vLLM's benchmark_serving / `vllm bench\n"
      "                    serve` --save-result JSON (input_lens, output_lens, request_rate,\n"
      "                    mean/median/p99 TTFT, TPOT, ITL, E2E, output_throughput) or SGLang's\n"
      "                    bench_serving JSON lines (random dataset: lengths redrawn)\n"
      "  --json            print the comparisons as one JSON object instead of lines\n"
      "  --check           compare with the committed figures; exit 1 when a case's |err| grows\n"
      "                    beyond its committed figure by more than the tolerance, its measured\n"
      "                    value changed, or it is missing (only the datasets and cases run)\n"
      "  --write           write this run's figures as the committed figures (--expected)\n"
      "  --expected FILE   the committed figures (default tests/calib/validate_full.csv, those\n"
      "                    of the full ../shared/data/e2e; CI uses "
      "tests/calib/validate_sample.csv\n"
      "                    with --data tests/calib/e2e)\n"
      "  --tolerance PP    percentage points allowed above a committed |err| (default 1.0)\n"
      "\n"
      "Datasets (folders under DIR): apex_plus_h100_vllm_sglang (traces + per-run server\n"
      "metrics), argonne_llm_inference_bench (All_results.csv and Fig_22's TTFT fixed batches,\n"
      "vLLM and TensorRT-LLM rows), datacrunch_h200_sglang (bench_serving JSON lines),\n"
      "llmd_lmbench_llama70b_vllm (per-request CSVs under raw/), sglang_vs_vllm060_sharegpt,\n"
      "trtllm_perf_overview (max-throughput and online tables).\n"
      "\n"
      "Output:\n"
      "  validation dataset=<d> case=<c> metric=<m> measured=<x> predicted=<y> err_pct=<e>\n"
      "  validation dataset=<d> case=<c> requests=<n> note: <how it was approximated>\n"
      "  validation dataset=<d> case=<c> per_request=<ttft_ms|tpot_ms|e2e_ms> requests=<n>\n"
      "    median_abs_err_pct=<x> p90_abs_err_pct=<y>      (data with per-request latencies)\n"
      "  validation dataset=<d> case=<c> skipped: <why>\n"
      "  summary dataset=<d> cases=<n> skipped=<k>\n"
      "  summary dataset=<d> metric=<m> cases=<n> median_abs_err_pct=<x> p90_abs_err_pct=<y>\n"
      "  check dataset=<d> case=<c> metric=<m> <ok|FAIL>: ...                    (--check)\n"
      "err_pct = (predicted / measured - 1) x 100. Metrics: ttft_{mean,p50,p90,p99}_ms,\n"
      "tpot_{mean,p50}_ms, itl_mean_ms, itl_p50_ms (predicted as the median per-request TPOT),\n"
      "e2e_{mean,p50}_ms, output_tok_s, req_s, batch_latency_s, batch_ttft_s (a fixed batch of\n"
      "one output token each: when its last first token came).\n");
}

typedef struct val_args {
  calib_validate_opts opts;
  const char *expected;
  double tolerance;
  bool json, check, write;
} val_args;

/* 0 to go on, -1 to exit 0 (help), 2 for bad usage. */
static int parse(int argc, char **argv, val_args *a, bool quiet) {
  static char data[4200];
  const char *env = getenv("WT_DATA_DIR");
  snprintf(data, sizeof data, "%s/e2e", env && env[0] ? env : "../shared/data");
  a->opts.data_dir = data;
  a->expected = "tests/calib/validate_full.csv";
  a->tolerance = default_tolerance_pct;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      if (!quiet)
        usage(stdout);
      return -1;
    } else if (!strcmp(arg, "--check")) {
      a->check = true;
    } else if (!strcmp(arg, "--write")) {
      a->write = true;
    } else if (!strcmp(arg, "--json")) {
      a->json = true;
    } else if (has_value && !strcmp(arg, "--data")) {
      a->opts.data_dir = argv[++i];
    } else if (has_value && !strcmp(arg, "--dataset")) {
      a->opts.dataset = argv[++i];
    } else if (has_value && !strcmp(arg, "--case")) {
      a->opts.case_pattern = argv[++i];
    } else if (has_value && !strcmp(arg, "--scenario")) {
      a->opts.scenario = argv[++i];
    } else if (has_value && !strcmp(arg, "--bench")) {
      a->opts.bench_file = argv[++i];
    } else if (has_value && !strcmp(arg, "--expected")) {
      a->expected = argv[++i];
    } else if (has_value && (!strcmp(arg, "--tolerance") || !strcmp(arg, "--max-requests"))) {
      char *end;
      double x = strtod(argv[++i], &end);
      if (*end || !(x >= 0.0) || (arg[2] == 'm' && x != (double)(size_t)x)) {
        if (!quiet)
          fprintf(stderr, "windtunnel validate: %s expects %s\n", arg,
                  arg[2] == 'm' ? "a whole number >= 0" : "percentage points >= 0");
        return 2;
      }
      if (arg[2] == 'm')
        a->opts.max_requests = (size_t)x;
      else
        a->tolerance = x;
    } else {
      if (!quiet)
        fprintf(stderr, "windtunnel validate: %s '%s'; see 'windtunnel validate --help'\n",
                arg[0] == '-' && !has_value ? "missing value or unknown option" : "unexpected",
                arg);
      return 2;
    }
  }
  if (!a->opts.bench_file != !a->opts.scenario) {
    if (!quiet)
      fprintf(stderr, "windtunnel validate: --bench and --scenario go together\n");
    return 2;
  }
  if (a->check && a->write) {
    if (!quiet)
      fprintf(stderr, "windtunnel validate: --check or --write, not both\n");
    return 2;
  }
  return 0;
}

/* Collective: every rank reads the same data and replays every case; rank 0 prints. */
static int validate(val_args *a, MPI_Comm comm) {
  int rank = app_rank(comm);
  char err[1024] = "";
  struct stat st;
  if (!a->opts.bench_file && (stat(a->opts.data_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
    if (rank == 0)
      fprintf(stderr, "windtunnel validate: %s: not a directory (use --data DIR or WT_DATA_DIR)\n",
              a->opts.data_dir);
    return 1;
  }
  /* A scratch folder for the replays, named on rank 0 and shared. */
  char tmp[4096] = "";
  if (rank == 0) {
    const char *base = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/windtunnel-validate-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmp))
      tmp[0] = 0;
  }
  MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, comm);
  if (!tmp[0]) {
    if (rank == 0)
      fprintf(stderr, "windtunnel validate: cannot create a scratch folder under $TMPDIR\n");
    return 1;
  }
  a->opts.tmp_dir = tmp;
  calib_validations v = {0};
  int rc = calib_validate(&a->opts, comm, &v, a->json ? NULL : stdout, err, sizeof err);
  if (rank == 0)
    rmdir(tmp);
  if (rc != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel validate: %s\n", err);
    calib_validations_free(&v);
    return 1;
  }
  int status = 0;
  if (rank == 0) {
    if (a->json)
      calib_validate_json(&v, stdout);
    else
      calib_validate_summary(&v, stdout);
    if (a->write) {
      if (calib_validate_record(&v, a->expected, a->opts.data_dir, a->opts.max_requests, err,
                                sizeof err) != 0) {
        fprintf(stderr, "windtunnel validate: %s\n", err);
        status = 1;
      } else if (!a->json) {
        printf("written: %s\n", a->expected);
      }
    }
    if (a->check) {
      FILE *out = a->json ? stderr : stdout;
      if (calib_validate_check(&v, a->expected, a->tolerance, out, err, sizeof err) != 0) {
        fprintf(stderr, "windtunnel validate: %s\n", err);
        status = 1;
      }
    }
    fflush(stdout);
  }
  calib_validations_free(&v);
  MPI_Bcast(&status, 1, MPI_INT, 0, comm);
  return status;
}

int app_validate(int argc, char **argv, MPI_Comm comm) {
  val_args a;
  memset(&a, 0, sizeof a);
  int status = parse(argc, argv, &a, app_rank(comm) != 0); /* the same argv everywhere */
  return status < 0 ? 0 : status ? status : validate(&a, comm);
}
