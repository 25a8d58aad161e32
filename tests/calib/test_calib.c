/* Unit tests of calib/: the shared minimiser under each fit's options, the efficiency fit's refusal
 * without data and the committed efficiencies' fit errors, the collective rows against wt_net_fit's
 * report, the check of rows against committed figures, and the pricing of Argonne's power runs. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/argonne.h"
#include "calib/calibrate.h"
#include "calib/eval.h"
#include "calib/fit.h"
#include "calib/minimise.h"
#include "harness.h"
#include "hw/power_ops.h"
#include "util/csv.h"

#ifndef WT_SOURCE_DIR
#error "WT_SOURCE_DIR must name the source tree"
#endif

static char err[512];

/* ---- the minimiser ---- */

/* A bowl centred on (1, -2, 3), counting its evaluations. */
typedef struct bowl {
  long calls;
} bowl;

static double bowl_loss(const void *ctx, const double *x) {
  ((bowl *)ctx)->calls++;
  return (x[0] - 1.0) * (x[0] - 1.0) + 4.0 * (x[1] + 2.0) * (x[1] + 2.0) +
         (x[2] - 3.0) * (x[2] - 3.0);
}

static void test_the_minimiser_finds_a_bowls_centre_under_each_fits_options(void) {
  static const calib_minimise_opts kernels = {0.3, 8, 400, 1e-12},
                                   collectives = {0.5, 10, 600, 1e-13};
  const calib_minimise_opts *opts[] = {&kernels, &collectives};
  for (int i = 0; i < 2; i++) {
    bowl b = {0};
    double x[3] = {0.0, 0.0, 0.0};
    calib_minimise(bowl_loss, &b, 3, opts[i], x);
    CU_ASSERT_DOUBLE_EQUAL(x[0], 1.0, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(x[1], -2.0, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(x[2], 3.0, 1e-4);
  }
}

/* One run of one step per parameter from far away: the starting point, the simplex's n + 1
 * vertices, and per step at most a reflection, an expansion or contraction and a shrink of n. */
static void test_the_minimiser_spends_no_more_than_its_steps_and_restarts(void) {
  const int n = 3;
  calib_minimise_opts one = {0.3, 1, 1, 1e-12};
  bowl b = {0};
  double x[3] = {100.0, 100.0, 100.0};
  calib_minimise(bowl_loss, &b, n, &one, x);
  CU_ASSERT(b.calls <= 1 + (n + 1) + 1L * n * (n + 2));
  CU_ASSERT(fabs(x[0] - 1.0) > 1.0); /* so few steps cannot reach the centre */
  calib_minimise_opts more = one;
  more.restarts = 4, more.iterations_per_param = 50;
  bowl c = {0};
  double y[3] = {100.0, 100.0, 100.0};
  calib_minimise(bowl_loss, &c, n, &more, y);
  CU_ASSERT(c.calls > b.calls);
  CU_ASSERT(c.calls <= 1 + 4L * ((n + 1) + 50L * n * (n + 2)));
}

/* ---- the efficiency fit ---- */

static void test_fit_without_data_fails_with_the_path(void) {
  CU_ASSERT_EQUAL(
      calib_fit_hw("/nonexistent/data", "/tmp/never_written.csv", NULL, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/data"));
  struct stat st;
  CU_ASSERT_NOT_EQUAL(stat("/tmp/never_written.csv", &st), 0);
}

/* When the measured data sits beside the project, the committed efficiencies must reproduce the
 * committed fit errors: a formula changed without refitting fails here. */
static void test_committed_efficiencies_reproduce_their_fit_errors(void) {
  char data[1024];
  snprintf(data, sizeof data, "%s/../shared/data/aiconfigurator", WT_SOURCE_DIR);
  struct stat st;
  if (stat(data, &st) != 0) {
    fprintf(stderr, "(no ../shared/data: committed-fit check skipped) ");
    return;
  }
  snprintf(data, sizeof data, "%s/../shared/data", WT_SOURCE_DIR);
  char *report = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&report, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
  CU_ASSERT_EQUAL(calib_fit_hw(data, NULL, mem, err, sizeof err), 0);
  fclose(mem);
  util_csv c;
  char path[1024];
  snprintf(path, sizeof path, "%s/hw/data/efficiency.csv", WT_SOURCE_DIR);
  CU_ASSERT_EQUAL_FATAL(util_csv_open_file(&c, path, err, sizeof err), 0);
  int col_dev = util_csv_col(&c, "device"), col_op = util_csv_col(&c, "op"),
      col_from = util_csv_col(&c, "fitted_from"), col_med = util_csv_col(&c, "median_abs_pct");
  int checked = 0;
  while (util_csv_next(&c, err, sizeof err) == 1) {
    const char *med = util_csv_get(&c, col_med);
    if (!*med || !strcmp(util_csv_get(&c, col_dev), "default"))
      continue;
    char line[512];
    snprintf(line, sizeof line, "dataset=%s op=%s device=%s role=fit", util_csv_get(&c, col_from),
             util_csv_get(&c, col_op), util_csv_get(&c, col_dev));
    const char *at = strstr(report, line);
    CU_ASSERT_PTR_NOT_NULL(at);
    if (!at)
      continue;
    char want[64];
    snprintf(want, sizeof want, "median_abs_pct=%s ", med);
    const char *eol = strchr(at, '\n');
    const char *found = strstr(at, want);
    bool ok = found && found < eol;
    if (!ok)
      fprintf(stderr, "\n%s: committed median %s%% not reproduced\n", line, med);
    CU_ASSERT(ok);
    checked++;
  }
  CU_ASSERT(checked > 20);
  util_csv_close(&c);
  free(report);
}

/* ---- the collective rows ---- */

/* Every row calibrate gets from the collective tables is the all-ranks line wt_net_fit --check
 * prints for that dataset, collective and domain: the same points and figures. */
static void test_collective_rows_carry_the_figures_wt_net_fit_reports(void) {
  char data[1024];
  snprintf(data, sizeof data, "%s/tests/calib/net_data", WT_SOURCE_DIR);
  char *report = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&report, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
  CU_ASSERT(calib_fit_collectives(data, NULL, mem, err, sizeof err) >= 0);
  fclose(mem);
  calib_rows rows = {0};
  CU_ASSERT_EQUAL_FATAL(calib_eval_collectives(data, &rows, err, sizeof err), 0);
  CU_ASSERT(rows.n >= 20);
  size_t with_points = 0;
  for (size_t i = 0; i < rows.n; i++) {
    const calib_row *r = &rows.row[i];
    CU_ASSERT(!strncmp(r->op, "collective.", 11));
    if (!r->points)
      continue;
    with_points++;
    char op[64], line[512];
    snprintf(op, sizeof op, "%s", r->op + 11);
    char *domain = strrchr(op, '.');
    CU_ASSERT_PTR_NOT_NULL_FATAL(domain);
    *domain++ = '\0';
    snprintf(line, sizeof line,
             "collective dataset=%s op=%s gpus=all points=%zu median_abs_pct=%.1f "
             "p90_abs_pct=%.1f domain=%s ",
             r->dataset, op, r->points, r->median_abs_pct, r->p90_abs_pct, domain);
    bool found = strstr(report, line) != NULL;
    if (!found)
      fprintf(stderr, "\nno report line '%s'\n", line);
    CU_ASSERT(found);
  }
  CU_ASSERT_EQUAL(with_points, rows.n); /* the sample holds every table */
  calib_rows_free(&rows);
  free(report);
}

/* A table that is not there gives a row of no points whose note says why; nothing fails. */
static void test_missing_collective_tables_become_skipped_rows(void) {
  calib_rows rows = {0};
  CU_ASSERT_EQUAL_FATAL(calib_eval_collectives("/nonexistent/data", &rows, err, sizeof err), 0);
  CU_ASSERT(rows.n >= 20);
  for (size_t i = 0; i < rows.n; i++) {
    CU_ASSERT_EQUAL(rows.row[i].points, 0);
    CU_ASSERT(!strncmp(rows.row[i].note, "skipped: ", 9));
    CU_ASSERT_PTR_NOT_NULL(strstr(rows.row[i].note, "/nonexistent/data"));
  }
  calib_rows_free(&rows);
}

/* ---- committed figures ---- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

/* A figure may exceed its committed value by the tolerance and no more; a recorded evaluation
 * checks against itself. */
static void test_the_check_allows_the_tolerance_and_no_more(void) {
  calib_rows rows = {0};
  calib_row r;
  memset(&r, 0, sizeof r);
  snprintf(r.dataset, sizeof r.dataset, "a/b.csv");
  snprintf(r.op, sizeof r.op, "gemm");
  r.points = 10, r.median_abs_pct = 5.0, r.p90_abs_pct = 9.0;
  CU_ASSERT_EQUAL_FATAL(calib_rows_add(&rows, &r), 0);
  char path[] = "/tmp/test_calib_expected.csv";
  FILE *devnull = fopen("/dev/null", "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
  write_file(path, "dataset,op,points,median_abs_pct,p90_abs_pct\na/b.csv,gemm,10,4.6,8.6\n");
  CU_ASSERT_EQUAL(calib_check(&rows, path, 0.5, devnull, err, sizeof err), 0);
  write_file(path, "dataset,op,points,median_abs_pct,p90_abs_pct\na/b.csv,gemm,10,4.4,8.6\n");
  CU_ASSERT_EQUAL(calib_check(&rows, path, 0.5, devnull, err, sizeof err), 1);
  write_file(path, "dataset,op,points,median_abs_pct,p90_abs_pct\na/b.csv,gemm,11,5.0,9.0\n");
  CU_ASSERT_EQUAL(calib_check(&rows, path, 0.5, devnull, err, sizeof err), 1);
  write_file(path, "dataset,op,points,median_abs_pct,p90_abs_pct\na/c.csv,gemm,10,5.0,9.0\n");
  CU_ASSERT_EQUAL(calib_check(&rows, path, 0.5, devnull, err, sizeof err), 1);
  CU_ASSERT_EQUAL(calib_record(&rows, path, "data", err, sizeof err), 0);
  CU_ASSERT_EQUAL(calib_check(&rows, path, 0.0, devnull, err, sizeof err), 0);
  fclose(devnull);
  remove(path);
  calib_rows_free(&rows);
}

/* ---- Argonne's whole-run power ---- */

/* The committed copy of Fig. 16 (tests/calib/data/e2e): 40 runs priced, the 8 GH200 rows not;
 * avg_power read as milliwatts; each run is its waves of one prefill and 1,023 decode steps, their
 * time what hw_iteration_ns says; the predicted reading is the busy energy plus the wait at gap_w,
 * over the run and the meter's second, so it rises with gap_w by exactly the wait share. */
static void test_argonne_runs_are_priced_as_the_runs_they_measured(void) {
  hw_catalog *cat = hw_catalog_create(err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cat);
  const hw_accel *devs[CALIB_ARGONNE_NDEV] = {hw_catalog_accel(cat, "A100-SXM-80GB"),
                                              hw_catalog_accel(cat, "H100-SXM-80GB")};
  CU_ASSERT_PTR_NOT_NULL_FATAL(devs[0]);
  CU_ASSERT_PTR_NOT_NULL_FATAL(devs[1]);
  calib_reader rc = {WT_SOURCE_DIR "/tests/calib/data", err, sizeof err};
  calib_argonne_runs runs = {0};
  CU_ASSERT_EQUAL_FATAL(calib_argonne_load(&rc, cat, devs, &runs), 0);
  CU_ASSERT_EQUAL(runs.n, 40);
  CU_ASSERT_EQUAL(runs.unpriced, 8);
  size_t h100_b1 = runs.n, a100_b64 = runs.n;
  for (size_t i = 0; i < runs.n; i++) {
    const calib_argonne_run *r = &runs.r[i];
    if (r->dev == CALIB_ARGONNE_H100 && r->fw == CALIB_ARGONNE_VLLM && r->batch == 1.0 &&
        h100_b1 == runs.n)
      h100_b1 = i; /* Llama-2-7B, the table's first H100 row: 367,078.0625 mW */
    if (r->dev == CALIB_ARGONNE_A100 && r->fw == CALIB_ARGONNE_VLLM && r->batch == 64.0 &&
        a100_b64 == runs.n)
      a100_b64 = i;
  }
  CU_ASSERT_FATAL(h100_b1 < runs.n && a100_b64 < runs.n);
  const calib_argonne_run *r = &runs.r[h100_b1];
  CU_ASSERT_DOUBLE_EQUAL(r->measured_w, 367.0780625, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r->measured_s, 7.838529322932785, 1e-12);
  CU_ASSERT_EQUAL(r->steps, 1024);
  CU_ASSERT_DOUBLE_EQUAL(r->waves, 1.0, 0.0);
  /* Llama-2-7B's KV (512 KiB a token) for 64 x 2,048 tokens does not fit a 40 GiB A100. */
  CU_ASSERT(runs.r[a100_b64].waves > 1.0);
  CU_ASSERT_EQUAL(runs.r[a100_b64].steps, 1024 * (size_t)runs.r[a100_b64].waves);
  /* Its time is hw_iteration_ns's: a prefill of 1,024 tokens, then decodes at 1,025.. 2,047. */
  hw_deploy d;
  hw_deploy_config cfg = {.tp = 1};
  CU_ASSERT_EQUAL_FATAL(
      hw_deploy_init(&d, devs[1], hw_catalog_model(cat, "Llama-2-7B"), &cfg, err, sizeof err), 0);
  hw_batch b = {.prefill_seqs = 1,
                .prefill_tokens = 1024,
                .prefill_ctx_tokens = 1024,
                .prefill_attn_pairs = 1024 * 1025 / 2};
  double run_ns = (double)hw_iteration_ns(&d, &b, NULL);
  for (uint64_t step = 0; step < 1023; step++) {
    hw_batch dec = {.decode_seqs = 1, .decode_ctx_tokens = 1025 + step};
    run_ns += (double)hw_iteration_ns(&d, &dec, NULL);
  }
  CU_ASSERT_DOUBLE_EQUAL(r->run_s, run_ns * 1e-9, 1e-9 * r->run_s);
  CU_ASSERT_DOUBLE_EQUAL(r->tail_s, 1.0, 0.0);
  hw_power p = devs[1]->power;
  double at_gap = calib_argonne_predicted_w(&runs, r, &p, devs[1]->tdp_w);
  p.gap_w += 100.0;
  double higher = calib_argonne_predicted_w(&runs, r, &p, devs[1]->tdp_w);
  CU_ASSERT_DOUBLE_EQUAL(higher - at_gap, 100.0 * r->wait_s / (r->run_s + r->tail_s), 1e-9);
  CU_ASSERT(r->wait_s > r->tail_s && at_gap > p.idle_w && at_gap < devs[1]->tdp_w);
  calib_argonne_free(&runs);
  hw_catalog_destroy(cat);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"the minimiser finds a bowl's centre under each fit's options",
       test_the_minimiser_finds_a_bowls_centre_under_each_fits_options},
      {"the minimiser spends no more than its steps and restarts",
       test_the_minimiser_spends_no_more_than_its_steps_and_restarts},
      {"fit without data fails with the path", test_fit_without_data_fails_with_the_path},
      {"committed efficiencies reproduce their fit errors",
       test_committed_efficiencies_reproduce_their_fit_errors},
      {"collective rows carry the figures wt_net_fit reports",
       test_collective_rows_carry_the_figures_wt_net_fit_reports},
      {"missing collective tables become skipped rows",
       test_missing_collective_tables_become_skipped_rows},
      {"the check allows the tolerance and no more",
       test_the_check_allows_the_tolerance_and_no_more},
      {"Argonne runs are priced as the runs they measured",
       test_argonne_runs_are_priced_as_the_runs_they_measured},
      {NULL, NULL}};
  return harness_run("calib", tests, argc > 1 ? argv[1] : NULL, true);
}
