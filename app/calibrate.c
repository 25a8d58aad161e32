/* `windtunnel calibrate`: glue between hw/'s calibration (hw/calibrate.h, hw/fit.h) and net/'s
 * collective fit (net/fit.h), the listing of files nobody recognises, and the check against the
 * committed figures. */
#define _POSIX_C_SOURCE 200809L
#include "app/commands.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/calibrate.h"
#include "hw/fit.h"
#include "net/fit.h"
#include "util/csv.h"

/* How far a median or p90 may exceed its committed figure before --check fails, in percentage
 * points: the evaluation is deterministic, so this only absorbs libm differences across
 * machines and the one-decimal rounding of the committed figures. */
static const double default_tolerance_pct = 0.5;

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: windtunnel calibrate [--data DIR] [--check] [--expected FILE] [--tolerance PP]\n"
      "                            [--write [--out DIR]] [--record FILE] [--markdown]\n"
      "\n"
      "Prices every measured point of every dataset it recognises under DIR with the built-in\n"
      "cost model (shipped efficiencies, power and collective parameters) and reports the error.\n"
      "For devices or models without a fit it prices from datasheet values and the default\n"
      "(H100-fitted) efficiencies, and says so.\n"
      "\n"
      "  --data DIR        data laid out like ../shared/data (default: $WT_DATA_DIR, else\n"
      "                    ../shared/data, relative to the current directory: the repo root)\n"
      "  --check           also compare with committed figures; exit 1 if any dataset's median\n"
      "                    or p90 exceeds its figure by more than the tolerance, its point count\n"
      "                    changed, or a committed dataset is missing\n"
      "  --expected FILE   the committed figures (default tests/calibration/expected_full.csv,\n"
      "                    the figures of the full ../shared/data; CI uses\n"
      "                    tests/calibration/expected.csv with --data tests/calibration/data)\n"
      "  --tolerance PP    percentage points allowed above a committed figure (default 0.5)\n"
      "  --write           first refit hw/data/efficiency.csv, hw/data/power.csv (hw_fit) and\n"
      "                    net/data/collective.csv (net_fit) from DIR, which must hold every\n"
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
      "attention}.csv (H100, RTX PRO 6000, TPU v6e; RTX 4090 skipped: no datasheet values);\n"
      "splitwise-sim/perf_model.csv (Llama-2-70B on A100, H100 and power-capped H100). Every "
      "other\n"
      "file is listed as skipped.\n"
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

/* ---- collectives: net_fit's report lines, parsed ---- */

/* The value of key=... in a report line, into out; false when absent. */
static bool field(const char *line, const char *key, char *out, size_t len) {
  char pat[64];
  snprintf(pat, sizeof pat, " %s=", key);
  const char *p = strstr(line, pat);
  if (!p)
    return false;
  p += strlen(pat);
  size_t n = strcspn(p, " \n");
  snprintf(out, len, "%.*s", (int)n, p);
  return true;
}

/* net_fit evaluates the shipped collective parameters on every NCCL table it knows; its lines for
 * all rank counts together become rows (its per-rank-count lines stay in net's own report). */
static int collective_rows(const char *data_dir, hw_cal_rows *rows) {
  char *text = NULL, err[512];
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem)
    return -1;
  int rc = net_fit(data_dir, NULL, mem, err, sizeof err);
  fclose(mem);
  (void)rc; /* 1: a median beyond net's own tolerance; -1: no table found. Judged here instead. */
  int result = 0;
  for (char *line = text; line && *line && result == 0;) {
    char *end = strchr(line, '\n');
    if (end)
      *end = '\0';
    char dataset[256], op[32], gpus[16], n[32], med[32], p90[32], domain[16];
    if (!strncmp(line, "collective dataset=", 19)) {
      hw_cal_row row;
      memset(&row, 0, sizeof row);
      char *skipped = strstr(line, " skipped: ");
      field(line, "dataset", dataset, sizeof dataset);
      snprintf(row.dataset, sizeof row.dataset, "%s", dataset);
      if (skipped && field(line, "op", op, sizeof op)) {
        snprintf(row.op, sizeof row.op, "collective.%s", op);
        snprintf(row.note, sizeof row.note, "skipped:%s", skipped + 9);
        result = hw_cal_rows_add(rows, &row);
      } else if (field(line, "op", op, sizeof op) && field(line, "gpus", gpus, sizeof gpus) &&
                 !strcmp(gpus, "all") && field(line, "points", n, sizeof n) &&
                 field(line, "median_abs_pct", med, sizeof med) &&
                 field(line, "p90_abs_pct", p90, sizeof p90) &&
                 field(line, "domain", domain, sizeof domain)) {
        snprintf(row.op, sizeof row.op, "collective.%s.%s", op, domain);
        row.points = strtoul(n, NULL, 10);
        row.median_abs_pct = strtod(med, NULL), row.p90_abs_pct = strtod(p90, NULL);
        snprintf(row.note, sizeof row.note,
                 "net/ collective model on the measuring system's preset (per rank count: "
                 "wt_net_fit --check)");
        result = hw_cal_rows_add(rows, &row);
      }
    }
    line = end ? end + 1 : NULL;
  }
  free(text);
  return result;
}

/* ---- files nobody recognises ---- */

typedef struct file_list {
  char **path; /* relative to the data directory */
  size_t n, cap;
} file_list;

static int list_push(file_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 256;
    char **grown = realloc(l->path, cap * sizeof *grown);
    if (!grown)
      return -1;
    l->path = grown, l->cap = cap;
  }
  return (l->path[l->n] = strdup(path)) ? (l->n++, 0) : -1;
}

static int walk(const char *root, const char *rel, file_list *out, int depth) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d || depth > 16)
    return d ? (closedir(d), 0) : 0;
  struct dirent *e;
  int r = 0;
  while (r == 0 && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char sub[4096], full[8192];
    snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", root, sub);
    struct stat st;
    if (stat(full, &st) != 0)
      continue;
    r = S_ISDIR(st.st_mode) ? walk(root, sub, out, depth + 1) : list_push(out, sub);
  }
  closedir(d);
  return r;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Documentation files and the directories' own provenance are not datasets. */
static bool is_documentation(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return !strcmp(base, "SOURCE.md") || !strcmp(base, "README.md") || !strcmp(base, "LICENSE");
}

/* One line per unrecognised file, or per folder when a folder holds several. */
static int print_unrecognised(const char *data_dir, const hw_cal_rows *rows, FILE *out) {
  file_list files = {0};
  if (walk(data_dir, "", &files, 0) != 0)
    return -1;
  qsort(files.path, files.n, sizeof *files.path, cmp_str);
  size_t i = 0;
  while (i < files.n) {
    const char *slash = strrchr(files.path[i], '/');
    int dir_len = slash ? (int)(slash - files.path[i]) : 0;
    size_t j = i, unknown = 0, first_unknown = files.n;
    for (; j < files.n; j++) { /* the files of this folder (not of its sub-folders) */
      const char *s = strrchr(files.path[j], '/');
      if ((s ? (int)(s - files.path[j]) : 0) != dir_len ||
          strncmp(files.path[j], files.path[i], (size_t)dir_len) != 0)
        break;
      bool known = is_documentation(files.path[j]);
      for (size_t k = 0; k < rows->n && !known; k++)
        known = !strcmp(rows->row[k].dataset, files.path[j]);
      if (!known && unknown++ == 0)
        first_unknown = j;
    }
    if (unknown > 3)
      fprintf(out, "skipped: %.*s/ (%zu files) not datasets calibrate recognises\n", dir_len,
              files.path[i], unknown);
    else if (unknown)
      for (size_t k = first_unknown; k < j; k++) {
        bool known = is_documentation(files.path[k]);
        for (size_t q = 0; q < rows->n && !known; q++)
          known = !strcmp(rows->row[q].dataset, files.path[k]);
        if (!known)
          fprintf(out, "skipped: %s not a dataset calibrate recognises\n", files.path[k]);
      }
    i = j;
  }
  for (size_t k = 0; k < files.n; k++)
    free(files.path[k]);
  free(files.path);
  return 0;
}

/* ---- output ---- */

static void print_rows(const hw_cal_rows *rows, FILE *out) {
  for (size_t i = 0; i < rows->n; i++) {
    const hw_cal_row *r = &rows->row[i];
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

static void print_markdown(const hw_cal_rows *rows, FILE *out) {
  fputs("| dataset | op | points | median % | p90 % |\n|---|---|---|---|---|\n", out);
  for (size_t i = 0; i < rows->n; i++) {
    const hw_cal_row *r = &rows->row[i];
    if (r->points)
      fprintf(out, "| %s | %s | %zu | %.1f | %.1f |\n", r->dataset, r->op, r->points,
              r->median_abs_pct, r->p90_abs_pct);
  }
}

static int record(const hw_cal_rows *rows, const char *path, const char *data_dir, char *err,
                  size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Committed calibration figures: `windtunnel calibrate --data %s --record <this "
          "file>`.\n# --check fails when a median or p90 exceeds its figure by more than the "
          "tolerance, a point\n# count changes, or a row's dataset disappears. Percent; "
          "|modelled/measured - 1|.\n",
          data_dir);
  fprintf(f, "dataset,op,points,median_abs_pct,p90_abs_pct\n");
  for (size_t i = 0; i < rows->n; i++)
    if (rows->row[i].points)
      fprintf(f, "%s,%s,%zu,%.1f,%.1f\n", rows->row[i].dataset, rows->row[i].op,
              rows->row[i].points, rows->row[i].median_abs_pct, rows->row[i].p90_abs_pct);
  return util_csv_commit(f, tmp, path, err, err_len);
}

/* Compare with the committed figures; 0 all hold, 1 some do not, -1 with a message. */
static int check(const hw_cal_rows *rows, const char *expected, double tolerance, FILE *out,
                 char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, expected, err, err_len) != 0)
    return -1;
  int cd = util_csv_col(&c, "dataset"), co = util_csv_col(&c, "op"),
      cn = util_csv_col(&c, "points");
  int cm = util_csv_col(&c, "median_abs_pct"), cp = util_csv_col(&c, "p90_abs_pct");
  if (cd < 0 || co < 0 || cn < 0 || cm < 0 || cp < 0) {
    snprintf(err, err_len, "%s: expected columns dataset, op, points, median_abs_pct, p90_abs_pct",
             expected);
    util_csv_close(&c);
    return -1;
  }
  int failed = 0, more;
  size_t checked = 0;
  while ((more = util_csv_next(&c, err, err_len)) == 1) {
    double n, med, p90;
    if (util_csv_double(&c, cn, NAN, &n, err, err_len) != 0 ||
        util_csv_double(&c, cm, NAN, &med, err, err_len) != 0 ||
        util_csv_double(&c, cp, NAN, &p90, err, err_len) != 0) {
      more = -1;
      break;
    }
    const char *dataset = util_csv_get(&c, cd), *op = util_csv_get(&c, co);
    const hw_cal_row *got = NULL;
    for (size_t i = 0; i < rows->n && !got; i++)
      if (rows->row[i].points && !strcmp(rows->row[i].dataset, dataset) &&
          !strcmp(rows->row[i].op, op))
        got = &rows->row[i];
    checked++;
    if (!got) {
      fprintf(out, "check dataset=%s op=%s FAIL: missing (committed %.0f points)\n", dataset, op,
              n);
      failed = 1;
    } else if ((double)got->points != n || got->median_abs_pct > med + tolerance ||
               got->p90_abs_pct > p90 + tolerance) {
      fprintf(out,
              "check dataset=%s op=%s FAIL: points %zu (committed %.0f), median %.1f%% "
              "(committed %.1f%%), p90 %.1f%% (committed %.1f%%), tolerance %.1f points\n",
              dataset, op, got->points, n, got->median_abs_pct, med, got->p90_abs_pct, p90,
              tolerance);
      failed = 1;
    } else {
      fprintf(out, "check dataset=%s op=%s ok: median %.1f%% <= %.1f%%, p90 %.1f%% <= %.1f%%\n",
              dataset, op, got->median_abs_pct, med + tolerance, got->p90_abs_pct, p90 + tolerance);
    }
  }
  util_csv_close(&c);
  if (more < 0)
    return -1;
  if (checked == 0) {
    snprintf(err, err_len, "%s: no committed figures", expected);
    return -1;
  }
  if (failed)
    snprintf(err, err_len, "calibration regressed against %s (see the FAIL lines)", expected);
  return failed;
}

typedef struct cal_args {
  const char *data_dir, *expected, *out_dir, *record_path;
  double tolerance;
  bool check, write, markdown;
} cal_args;

/* 0 to go on, -1 to exit 0 (help), 2 for bad usage. */
static int parse(int argc, char **argv, cal_args *a) {
  const char *env = getenv("WT_DATA_DIR");
  a->data_dir = env && env[0] ? env : "../shared/data";
  a->expected = "tests/calibration/expected_full.csv";
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
  return 0;
}

/* Refit the three parameter files (hw_fit writes power.csv beside efficiency.csv). */
static int refit(const cal_args *a, char *err, size_t err_len) {
  char eff[4096], coll[4096];
  snprintf(eff, sizeof eff, "%s/efficiency.csv", a->out_dir ? a->out_dir : "hw/data");
  snprintf(coll, sizeof coll, "%s/collective.csv", a->out_dir ? a->out_dir : "net/data");
  printf("refit: %s and power.csv beside it, from %s\n", eff, a->data_dir);
  if (hw_fit(a->data_dir, eff, stdout, err, err_len) != 0)
    return -1;
  printf("refit: %s, from %s\n", coll, a->data_dir);
  if (net_fit(a->data_dir, coll, stdout, err, err_len) != 0)
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
  hw_cal_rows rows = {0};
  int status = 0;
  if (hw_calibrate(a->data_dir, &rows, err, sizeof err) != 0 ||
      (collective_rows(a->data_dir, &rows) != 0 && snprintf(err, sizeof err, "out of memory"))) {
    fprintf(stderr, "windtunnel calibrate: %s\n", err);
    hw_cal_rows_free(&rows);
    return 1;
  }
  printf("calibration of the built-in cost model against %s\n", a->data_dir);
  print_rows(&rows, stdout);
  if (print_unrecognised(a->data_dir, &rows, stdout) != 0) {
    fprintf(stderr, "windtunnel calibrate: out of memory\n");
    status = 1;
  }
  if (a->markdown)
    print_markdown(&rows, stdout);
  if (status == 0 && a->record_path) {
    if (record(&rows, a->record_path, a->data_dir, err, sizeof err) != 0) {
      fprintf(stderr, "windtunnel calibrate: %s\n", err);
      status = 1;
    } else {
      printf("recorded: %s\n", a->record_path);
    }
  }
  if (status == 0 && a->check) {
    int rc = check(&rows, a->expected, a->tolerance, stdout, err, sizeof err);
    if (rc != 0) {
      fprintf(stderr, "windtunnel calibrate: %s\n", err);
      status = 1;
    }
  }
  fflush(stdout);
  hw_cal_rows_free(&rows);
  return status;
}

int app_calibrate(int argc, char **argv, MPI_Comm comm) {
  int rank, status = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    cal_args a;
    memset(&a, 0, sizeof a);
    status = parse(argc, argv, &a);
    status = status < 0 ? 0 : status ? status : calibrate(&a);
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, comm);
  return status;
}
