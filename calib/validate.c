/* `windtunnel validate`'s work: which datasets it reads, the replay of every case, the summary per
 * dataset, and the committed figures (--check, --write). */
#define _POSIX_C_SOURCE 200809L
#include "calib/validate.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/validate_case.h"
#include "util/array.h"
#include "util/csv.h"
#include "util/json.h"
#include "util/stats.h"

/* The layouts of ../shared/data/e2e, by folder name (their SOURCE.md describes each). */
static const struct {
  const char *folder;
  val_reader read;
} datasets[] = {
    {"apex_plus_h100_vllm_sglang", val_read_apex},
    {"argonne_llm_inference_bench", val_read_argonne},
    {"datacrunch_h200_sglang", val_read_datacrunch},
    {"llmd_lmbench_llama70b_vllm", val_read_llmd},
    {"sglang_vs_vllm060_sharegpt", val_read_sglang_vllm},
    {"trtllm_perf_overview", val_read_trtllm},
};

static int add_dataset(calib_validations *v, const char *name) {
  char(*grown)[64] = util_grow(v->datasets, &v->cap_datasets, v->n_datasets + 1, sizeof *grown);
  if (!grown)
    return -1;
  v->datasets = grown;
  snprintf(v->datasets[v->n_datasets++], 64, "%s", name);
  return 0;
}

static int add_result(calib_validations *v, const val_case *c, FILE *log) {
  if (c->skip[0]) {
    calib_skipped *grown = util_grow(v->skipped, &v->cap_skipped, v->n_skipped + 1, sizeof *grown);
    if (!grown)
      return -1;
    v->skipped = grown;
    calib_skipped *s = &v->skipped[v->n_skipped++];
    snprintf(s->dataset, sizeof s->dataset, "%s", c->dataset);
    snprintf(s->case_name, sizeof s->case_name, "%s", c->name);
    snprintf(s->reason, sizeof s->reason, "%s", c->skip);
    if (log)
      fprintf(log, "validation dataset=%s case=%s skipped: %s\n", c->dataset, c->name, c->skip);
    return 0;
  }
  if (log && c->note[0])
    fprintf(log, "validation dataset=%s case=%s requests=%zu note: %s\n", c->dataset, c->name,
            c->n_req, c->note);
  static const char *const latency[] = {"ttft_ms", "tpot_ms", "e2e_ms"};
  for (int k = 0; log && c->per_request && k < 3; k++)
    if (c->per_request_err[k].requests)
      fprintf(log,
              "validation dataset=%s case=%s per_request=%s requests=%zu median_abs_err_pct=%.1f "
              "p90_abs_err_pct=%.1f\n",
              c->dataset, c->name, latency[k], c->per_request_err[k].requests,
              c->per_request_err[k].median_abs_err_pct, c->per_request_err[k].p90_abs_err_pct);
  for (int i = 0; i < c->n_metric; i++) {
    const val_metric *m = &c->metric[i];
    calib_validation *grown = util_grow(v->v, &v->cap, v->n + 1, sizeof *grown);
    if (!grown)
      return -1;
    v->v = grown;
    calib_validation *r = &v->v[v->n++];
    snprintf(r->dataset, sizeof r->dataset, "%s", c->dataset);
    snprintf(r->case_name, sizeof r->case_name, "%s", c->name);
    snprintf(r->metric, sizeof r->metric, "%s", m->name);
    r->measured = m->measured;
    r->predicted = m->predicted;
    r->err_pct = (m->predicted / m->measured - 1.0) * 100.0;
    if (log)
      fprintf(log,
              "validation dataset=%s case=%s metric=%s measured=%.6g predicted=%.6g "
              "err_pct=%.1f\n",
              r->dataset, r->case_name, r->metric, r->measured, r->predicted, r->err_pct);
  }
  return 0;
}

/* Replays the cases (collective) and records them on rank 0. */
static int replay(val_cases *cases, const calib_validate_opts *o, MPI_Comm comm,
                  calib_validations *out, FILE *log, char *err, size_t err_len) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  for (size_t i = 0; i < cases->n; i++) {
    val_case *c = &cases->c[i];
    if (!c->skip[0] && c->n_req == 0)
      val_case_skip(c, "no requests");
    if (!c->skip[0] && c->n_metric == 0)
      val_case_skip(c, "no measured figure to compare");
    if (!c->skip[0] && val_case_run(c, o->tmp_dir, comm, err, err_len) < 0)
      return -1;
    if (rank == 0 && add_result(out, c, log) != 0) {
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    if (log)
      fflush(log);
  }
  return 0;
}

int calib_validate(const calib_validate_opts *o, MPI_Comm comm, calib_validations *out, FILE *log,
                   char *err, size_t err_len) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0)
    log = NULL;
  out->case_pattern = o->case_pattern;
  val_filter f = {o->case_pattern, o->max_requests};
  if (o->bench_file) {
    val_cases cases = {0};
    int rc = val_read_bench_file(o->bench_file, "user", o->scenario, &f, &cases, err, err_len);
    if (rc == 0 && add_dataset(out, "user") != 0) {
      snprintf(err, err_len, "out of memory");
      rc = -1;
    }
    if (rc == 0)
      rc = replay(&cases, o, comm, out, log, err, err_len);
    val_cases_free(&cases);
    return rc;
  }
  size_t found = 0;
  for (size_t d = 0; d < sizeof datasets / sizeof *datasets; d++) {
    if (o->dataset && strcmp(o->dataset, datasets[d].folder))
      continue;
    char dir[4200];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/%s", o->data_dir, datasets[d].folder);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    found++;
    val_cases cases = {0};
    int rc = datasets[d].read(dir, &f, &cases, err, err_len);
    if (rc == 0 && add_dataset(out, datasets[d].folder) != 0) {
      snprintf(err, err_len, "out of memory");
      rc = -1;
    }
    if (rc == 0)
      rc = replay(&cases, o, comm, out, log, err, err_len);
    val_cases_free(&cases);
    if (rc != 0)
      return -1;
  }
  if (found == 0) {
    if (o->dataset)
      snprintf(err, err_len, "%s/%s: not a dataset validate reads (see --help)", o->data_dir,
               o->dataset);
    else
      snprintf(err, err_len, "%s: holds none of the datasets validate reads (see --help)",
               o->data_dir);
    return -1;
  }
  return 0;
}

void calib_validations_free(calib_validations *v) {
  free(v->v);
  free(v->skipped);
  free(v->datasets);
  *v = (calib_validations){0};
}

/* ---- summary ---- */

/* The metrics of dataset d in first-seen order, one summary line each. */
void calib_validate_summary(const calib_validations *v, FILE *out) {
  double *abs_err = malloc((v->n + 1) * sizeof *abs_err);
  if (!abs_err)
    return;
  for (size_t d = 0; d < v->n_datasets; d++) {
    const char *ds = v->datasets[d];
    size_t cases = 0, skipped = 0;
    const char *last_case = "";
    for (size_t i = 0; i < v->n; i++)
      if (!strcmp(v->v[i].dataset, ds) && strcmp(v->v[i].case_name, last_case))
        cases++, last_case = v->v[i].case_name;
    for (size_t i = 0; i < v->n_skipped; i++)
      skipped += !strcmp(v->skipped[i].dataset, ds);
    fprintf(out, "summary dataset=%s cases=%zu skipped=%zu\n", ds, cases, skipped);
    for (size_t i = 0; i < v->n; i++) {
      if (strcmp(v->v[i].dataset, ds))
        continue;
      bool seen = false; /* a metric is summarised at its first row */
      for (size_t k = 0; k < i && !seen; k++)
        seen = !strcmp(v->v[k].dataset, ds) && !strcmp(v->v[k].metric, v->v[i].metric);
      if (seen)
        continue;
      size_t n = 0;
      for (size_t k = i; k < v->n; k++)
        if (!strcmp(v->v[k].dataset, ds) && !strcmp(v->v[k].metric, v->v[i].metric) &&
            isfinite(v->v[k].err_pct))
          abs_err[n++] = fabs(v->v[k].err_pct) / 100.0;
      double med, p90;
      util_error_percentiles(abs_err, n, &med, &p90);
      fprintf(out,
              "summary dataset=%s metric=%s cases=%zu median_abs_err_pct=%.1f "
              "p90_abs_err_pct=%.1f\n",
              ds, v->v[i].metric, n, med, p90);
    }
  }
  free(abs_err);
}

void calib_validate_json(const calib_validations *v, FILE *out) {
  fprintf(out, "{\"validations\": [");
  for (size_t i = 0; i < v->n; i++) {
    const calib_validation *r = &v->v[i];
    fprintf(out, "%s\n  {\"dataset\": ", i ? "," : "");
    util_json_string(out, r->dataset);
    fprintf(out, ", \"case\": ");
    util_json_string(out, r->case_name);
    fprintf(out, ", \"metric\": ");
    util_json_string(out, r->metric);
    fprintf(out, ", \"measured\": ");
    util_json_number(out, r->measured);
    fprintf(out, ", \"predicted\": ");
    util_json_number(out, r->predicted);
    fprintf(out, ", \"err_pct\": ");
    util_json_number(out, r->err_pct);
    fprintf(out, "}");
  }
  fprintf(out, "],\n\"skipped\": [");
  for (size_t i = 0; i < v->n_skipped; i++) {
    const calib_skipped *s = &v->skipped[i];
    fprintf(out, "%s\n  {\"dataset\": ", i ? "," : "");
    util_json_string(out, s->dataset);
    fprintf(out, ", \"case\": ");
    util_json_string(out, s->case_name);
    fprintf(out, ", \"reason\": ");
    util_json_string(out, s->reason);
    fprintf(out, "}");
  }
  fprintf(out, "]}\n");
}

/* ---- committed figures ---- */

int calib_validate_record(const calib_validations *v, const char *path, const char *data_dir,
                          size_t max_requests, char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES], cap[64] = "";
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f)
    return -1;
  if (max_requests)
    snprintf(cap, sizeof cap, " --max-requests %zu", max_requests);
  fprintf(f,
          "# Committed validation figures: `windtunnel validate --data %s%s --write --expected "
          "<this file>`.\n# --check fails when a case's |err_pct| grows beyond its figure here "
          "by more than the tolerance,\n# its measured value changes, or it disappears. err_pct "
          "= (predicted / measured - 1) x 100.\n",
          data_dir, cap);
  fprintf(f, "dataset,case,metric,measured,predicted,err_pct\n");
  for (size_t i = 0; i < v->n; i++) {
    const calib_validation *r = &v->v[i];
    fprintf(f, "%s,\"%s\",%s,%.6g,%.6g,%.1f\n", r->dataset, r->case_name, r->metric, r->measured,
            r->predicted, r->err_pct);
  }
  return util_csv_commit(f, tmp, path, err, err_len);
}

static bool in_scope(const calib_validations *v, const char *dataset, const char *case_name) {
  bool read = false;
  for (size_t d = 0; d < v->n_datasets && !read; d++)
    read = !strcmp(v->datasets[d], dataset);
  return read && (!v->case_pattern || fnmatch(v->case_pattern, case_name, 0) == 0);
}

int calib_validate_check(const calib_validations *v, const char *path, double tolerance_pct,
                         FILE *out, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, path, err, err_len) != 0)
    return -1;
  static const char *const names[] = {"dataset", "case", "metric", "measured", "err_pct"};
  int col[5];
  if (util_csv_need_cols(&c, names, col, 5, err, err_len) != 0) {
    util_csv_close(&c);
    return -1;
  }
  int failed = 0, more;
  size_t checked = 0;
  while ((more = util_csv_next(&c, err, err_len)) == 1) {
    double measured, committed;
    if (util_csv_double(&c, col[3], NAN, &measured, err, err_len) != 0 ||
        util_csv_double(&c, col[4], NAN, &committed, err, err_len) != 0) {
      more = -1;
      break;
    }
    const char *ds = util_csv_get(&c, col[0]), *cs = util_csv_get(&c, col[1]);
    const char *metric = util_csv_get(&c, col[2]);
    if (!in_scope(v, ds, cs))
      continue;
    checked++;
    const calib_validation *got = NULL;
    for (size_t i = 0; i < v->n && !got; i++)
      if (!strcmp(v->v[i].dataset, ds) && !strcmp(v->v[i].case_name, cs) &&
          !strcmp(v->v[i].metric, metric))
        got = &v->v[i];
    double bound = fabs(committed) + tolerance_pct;
    if (!got) {
      fprintf(out, "check dataset=%s case=%s metric=%s FAIL: missing (committed err %.1f%%)\n", ds,
              cs, metric, committed);
      failed = 1;
    } else if (fabs(got->measured / measured - 1.0) > 1e-5) {
      fprintf(out, "check dataset=%s case=%s metric=%s FAIL: measured %.6g, committed %.6g\n", ds,
              cs, metric, got->measured, measured);
      failed = 1;
    } else if (!(fabs(got->err_pct) <= bound)) {
      fprintf(out,
              "check dataset=%s case=%s metric=%s FAIL: |err| %.1f%% > committed %.1f%% + "
              "%.1f\n",
              ds, cs, metric, fabs(got->err_pct), fabs(committed), tolerance_pct);
      failed = 1;
    } else {
      fprintf(out, "check dataset=%s case=%s metric=%s ok: |err| %.1f%% <= %.1f%%\n", ds, cs,
              metric, fabs(got->err_pct), bound);
    }
  }
  util_csv_close(&c);
  if (more < 0)
    return -1;
  if (checked == 0) {
    snprintf(err, err_len, "%s: no committed figures for the datasets validated", path);
    return -1;
  }
  if (failed)
    snprintf(err, err_len, "validation regressed against %s (see the FAIL lines)", path);
  return failed;
}
