/* The readers of `windtunnel validate` for measured runs with their requests: llm-d's per-request
 * CSVs, APEX+'s traces, bench_serving results (DataCrunch's SGLang runs, a user's own), SGLang's
 * README tables; and what every reader shares (calib/validate_read.h). Each turns its runs into
 * cases with the setup its SOURCE.md gives (engine limits, parallelism, the workload) and the
 * figures the run measured. The published tables of whole runs are in validate_tables.c. */
#define _GNU_SOURCE /* strcasestr */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "calib/validate_read.h"

/* ---- names of the measured runs onto the catalogue ---- */

/* Model names as the datasets write them, onto catalogue models. Llama-3 and Llama-3.3 have the
 * shapes of Llama-3.1 (their config.json files differ only in RoPE scaling and context length). */
static const struct {
  const char *contains, *model;
} model_names[] = {
    {"3.1-405b", "Llama-3.1-405B"},     {"3.1 405b", "Llama-3.1-405B"},
    {"3.3-70b", "Llama-3.1-70B"},       {"3.3 70b", "Llama-3.1-70B"},
    {"3.1-70b", "Llama-3.1-70B"},       {"3.1 70b", "Llama-3.1-70B"},
    {"llama-3-70b", "Llama-3.1-70B"},   {"3.1-8b", "Llama-3.1-8B"},
    {"3.1 8b", "Llama-3.1-8B"},         {"llama-3-8b", "Llama-3.1-8B"},
    {"llama-2-70b", "Llama-2-70B"},     {"llama-2-7b", "Llama-2-7B"},
    {"mixtral-8x7b", "Mixtral-8x7B"},   {"mixtral 8x7b", "Mixtral-8x7B"},
    {"qwen3-30b-a3b", "Qwen3-30B-A3B"},
};

static const char *catalog_model(const char *name) {
  for (size_t i = 0; i < sizeof model_names / sizeof *model_names; i++)
    if (strcasestr(name, model_names[i].contains))
      return model_names[i].model;
  return NULL;
}

/* Accelerator names onto the catalogue; the first match wins, so GH200 is matched (and refused)
 * before H200 and H100, and Argonne's A100s (Polaris's 40 GB parts: hw/data/accelerators_SOURCE.md,
 * S30) before the other datasets' A100s. */
static const struct {
  const char *contains, *accel;
} accel_names[] = {
    {"GH200", NULL},
    {"GB200", "GB200 (per B200 GPU in NVL72)"},
    {"B200", "B200-SXM-180GB"},
    {"H200", "H200-SXM-141GB"},
    {"H100", "H100-SXM-80GB"},
    {"Nvidia A100 GPU", "A100-SXM-40GB"},
    {"A100", "A100-SXM-80GB"},
    {"MI300X", "MI300X"},
    {"RTX PRO 6000", "RTX PRO 6000 Blackwell Server"},
};

static const char *catalog_accel(const char *name) {
  for (size_t i = 0; i < sizeof accel_names / sizeof *accel_names; i++)
    if (strstr(name, accel_names[i].contains))
      return accel_names[i].accel;
  return NULL;
}

void val_set_hardware(val_case *c, const char *model, const char *accel) {
  const char *m = catalog_model(model), *a = catalog_accel(accel);
  if (!m)
    val_case_skip(c, "model %s not in the catalogue (hw/data/models.csv)", model);
  if (!a)
    val_case_skip(c, "device %s not in the catalogue (hw/data/accelerators.csv)", accel);
  snprintf(c->model, sizeof c->model, "%s", m ? m : "");
  snprintf(c->accel, sizeof c->accel, "%s", a ? a : "");
}

void val_cap_requests(val_case *c, const val_filter *f) {
  if (f->max_requests && c->n_req > f->max_requests) {
    c->requests_measured = c->n_req;
    val_case_note(c, "first %zu of %zu requests replayed", f->max_requests, c->n_req);
    c->n_req = f->max_requests;
  }
}

int val_csv_number(util_csv *csv, const char *column, double *out, char *err, size_t err_len) {
  int col = util_csv_col(csv, column);
  if (col < 0) {
    snprintf(err, err_len, "%s: no column '%s'", csv->name, column);
    return -1;
  }
  return util_csv_double(csv, col, NAN, out, err, err_len);
}

const char *val_csv_text(util_csv *csv, const char *column) {
  int col = util_csv_col(csv, column);
  return col < 0 ? "" : util_csv_get(csv, col);
}

void val_fixed(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out) {
  (void)i, (void)rng;
  *in = ((val_fixed_lengths *)ctx)->in;
  *out = ((val_fixed_lengths *)ctx)->out;
}

/* ---- llm-d LMBench: per-request CSVs of vLLM (llmd_lmbench_llama70b_vllm) ---- */

/* The experiments of SOURCE.md "Exact setup": folder, GPU, TP, replicas. */
static const struct {
  const char *folder, *gpu;
  uint32_t tp, replicas;
} llmd_experiments[] = {
    {"exp0_a100x2_tp2_1replica", "A100", 2, 1},
    {"exp2_a100x4_tp2_2replicas", "A100", 2, 2},
    {"exp3_h100x4_tp2_2replicas", "H100", 2, 2},
};

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of a folder ending in suffix, sorted (so cases come in the same order on every
 * machine); *n of them, each malloc'd. */
static char **list_files(const char *dir, const char *suffix, size_t *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return NULL;
  char **names = NULL;
  size_t cap = 0;
  struct dirent *e;
  size_t suffix_len = strlen(suffix);
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len < suffix_len || strcmp(e->d_name + len - suffix_len, suffix))
      continue;
    if (*n == cap) {
      char **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *grown);
      if (!grown)
        break;
      names = grown;
    }
    if (!(names[*n] = strdup(e->d_name)))
      break;
    (*n)++;
  }
  closedir(d);
  if (*n)
    qsort(names, *n, sizeof *names, cmp_name);
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

typedef struct llmd_row {
  double launch_s, ttft_s, e2e_s, generation_s;
  int32_t prompt, output;
} llmd_row;

static int cmp_launch(const void *a, const void *b) {
  double x = ((const llmd_row *)a)->launch_s, y = ((const llmd_row *)b)->launch_s;
  return (x > y) - (x < y);
}

static double mean_sorted_quantile(double *x, size_t n, double q) {
  /* nearest rank, as summary_per_run.csv computes its percentiles */
  size_t k = (size_t)ceil(q * (double)n);
  return n ? x[k ? k - 1 : 0] : NAN;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One run file: its requests (arrivals from its first launch) and its measured figures, computed
 * from its rows as summary_per_run.csv does (TPOT over requests of more than one token). */
static int llmd_file(const char *path, val_case *c, char *err, size_t err_len) {
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0)
    return -1;
  llmd_row *rows = NULL;
  size_t n = 0, cap = 0;
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    double prompt, output, ttft, gen, launch, finish;
    if (val_csv_number(&csv, "prompt_tokens", &prompt, err, err_len) ||
        val_csv_number(&csv, "generation_tokens", &output, err, err_len) ||
        val_csv_number(&csv, "ttft", &ttft, err, err_len) ||
        val_csv_number(&csv, "generation_time", &gen, err, err_len) ||
        val_csv_number(&csv, "launch_time", &launch, err, err_len) ||
        val_csv_number(&csv, "finish_time", &finish, err, err_len)) {
      more = -1;
      break;
    }
    if (n == cap) {
      llmd_row *grown = realloc(rows, (cap = cap ? 2 * cap : 256) * sizeof *grown);
      if (!grown) {
        snprintf(err, err_len, "out of memory");
        more = -1;
        break;
      }
      rows = grown;
    }
    rows[n++] = (llmd_row){launch, ttft, finish - launch, gen, (int32_t)prompt, (int32_t)output};
  }
  util_csv_close(&csv);
  if (more < 0 || n == 0) {
    if (more >= 0)
      val_case_skip(c, "no completed requests in the file");
    free(rows);
    return more < 0 ? -1 : 0;
  }
  qsort(rows, n, sizeof *rows, cmp_launch);
  c->per_request = true;
  double *ttft = malloc(n * sizeof *ttft);
  if (!ttft) {
    free(rows);
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  double ttft_sum = 0, e2e_sum = 0, tpot_sum = 0, tokens = 0, end_s = rows[0].launch_s;
  size_t tpot_n = 0;
  for (size_t i = 0; i < n; i++) {
    const llmd_row *r = &rows[i];
    ttft[i] = r->ttft_s * 1e3;
    ttft_sum += ttft[i];
    e2e_sum += r->e2e_s * 1e3;
    tokens += r->output;
    if (r->launch_s + r->e2e_s > end_s)
      end_s = r->launch_s + r->e2e_s;
    if (r->output > 1) {
      tpot_sum += r->generation_s * 1e3 / (r->output - 1);
      tpot_n++;
    }
    int64_t at = (int64_t)llround((r->launch_s - rows[0].launch_s) * 1e9);
    if (val_case_request(c, at, r->prompt, r->output) != 0) {
      free(rows), free(ttft);
      snprintf(err, err_len, "out of memory");
      return -1;
    }
    double *measured = c->req[c->n_req - 1].measured_ms;
    measured[VAL_TTFT] = r->ttft_s * 1e3;
    measured[VAL_TPOT] = r->output > 1 ? r->generation_s * 1e3 / (r->output - 1) : NAN;
    measured[VAL_E2E] = r->e2e_s * 1e3;
  }
  qsort(ttft, n, sizeof *ttft, cmp_double);
  val_case_metric(c, "ttft_mean_ms", ttft_sum / (double)n);
  val_case_metric(c, "ttft_p50_ms", mean_sorted_quantile(ttft, n, 0.5));
  val_case_metric(c, "ttft_p90_ms", mean_sorted_quantile(ttft, n, 0.9));
  val_case_metric(c, "tpot_mean_ms", tpot_n ? tpot_sum / (double)tpot_n : NAN);
  val_case_metric(c, "e2e_mean_ms", e2e_sum / (double)n);
  val_case_metric(c, "output_tok_s", tokens / (end_s - rows[0].launch_s));
  free(rows), free(ttft);
  return 0;
}

int val_read_llmd(const char *dir, const val_filter *f, val_cases *out, char *err, size_t err_len) {
  for (size_t e = 0; e < sizeof llmd_experiments / sizeof *llmd_experiments; e++) {
    char folder[4200];
    snprintf(folder, sizeof folder, "%s/raw/%s", dir, llmd_experiments[e].folder);
    size_t n;
    char **files = list_files(folder, ".csv", &n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
      char name[192], path[8400];
      snprintf(name, sizeof name, "%s/%.*s", llmd_experiments[e].folder,
               (int)(strlen(files[i]) - 4), files[i]);
      if (!val_filter_case(f, name))
        continue;
      val_case *c = val_case_new(out, "llmd_lmbench_llama70b_vllm", name);
      if (!c) {
        snprintf(err, err_len, "out of memory");
        rc = -1;
        break;
      }
      val_set_hardware(c, "Llama-3.1-70B", llmd_experiments[e].gpu);
      c->tp = llmd_experiments[e].tp;
      c->count = llmd_experiments[e].replicas;
      /* vLLM 0.8.5 V1 defaults (SOURCE.md): 256 sequences, 2048 tokens, chunked prefill. */
      c->max_num_seqs = 256;
      c->max_num_batched_tokens = 2048;
      c->chunked_prefill = 1;
      c->gpu_memory_utilization = 0.95;
      snprintf(c->engine, sizeof c->engine, "{name: vllm-v1, version: \"0.8\"}");
      val_case_note(c, "prefix caching not replayed (the trace has no block hashes)");
      snprintf(path, sizeof path, "%s/%s", folder, files[i]);
      rc = llmd_file(path, c, err, err_len);
      val_cap_requests(c, f);
    }
    free_names(files, n);
    if (rc != 0)
      return -1;
  }
  return 0;
}

/* ---- APEX+: traces and per-run server metrics (apex_plus_h100_vllm_sglang) ---- */

/* per_request_served_tokens.csv.gz: what each run's server actually took in and gave out (its
 * requests stop early at EOS), by run and request id. */
typedef struct served_row {
  char run[96], request_id[64];
  int32_t prompt, output;
} served_row;

typedef struct served_table {
  served_row *row;
  size_t n;
} served_table;

/* Reads the gzipped table at path; a missing file gives an empty table (the requested lengths
 * are then replayed, and the case says so). */
static int served_read(const char *path, served_table *t, char *err, size_t err_len) {
  *t = (served_table){0};
  gzFile gz = gzopen(path, "rb");
  if (!gz)
    return 0;
  size_t len = 0, cap = 0;
  char *text = NULL;
  int got;
  do {
    if (len + 65536 > cap) {
      char *grown = realloc(text, cap = 2 * cap + 65536);
      if (!grown) {
        free(text), gzclose(gz);
        snprintf(err, err_len, "out of memory");
        return -1;
      }
      text = grown;
    }
    got = gzread(gz, text + len, 65536);
    len += got > 0 ? (size_t)got : 0;
  } while (got > 0);
  int zerr = 0;
  const char *why = got < 0 ? gzerror(gz, &zerr) : NULL;
  gzclose(gz);
  util_csv csv;
  if (why) {
    snprintf(err, err_len, "%s: %s", path, why);
    free(text);
    return -1;
  }
  int rc = util_csv_open_text(&csv, text, len, path, err, err_len);
  free(text);
  if (rc != 0)
    return -1;
  size_t cap_rows = 0;
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    double prompt, output;
    if (val_csv_number(&csv, "served_prompt_tokens", &prompt, err, err_len) ||
        val_csv_number(&csv, "served_output_tokens", &output, err, err_len)) {
      more = -1;
      break;
    }
    if (isnan(prompt) || isnan(output))
      continue; /* the log's first line, its id lost upstream */
    if (t->n == cap_rows) {
      served_row *grown = realloc(t->row, (cap_rows = 2 * cap_rows + 1024) * sizeof *grown);
      if (!grown) {
        snprintf(err, err_len, "out of memory");
        more = -1;
        break;
      }
      t->row = grown;
    }
    served_row *r = &t->row[t->n++];
    snprintf(r->run, sizeof r->run, "%s", val_csv_text(&csv, "result_file"));
    snprintf(r->request_id, sizeof r->request_id, "%s", val_csv_text(&csv, "request_id"));
    r->prompt = (int32_t)prompt;
    r->output = (int32_t)output;
  }
  util_csv_close(&csv);
  if (more < 0) {
    free(t->row);
    *t = (served_table){0};
    return -1;
  }
  return 0;
}

/* The run's rows of the table: [*first, *first + *n), the table being grouped by run. */
static void served_run(const served_table *t, const char *run, size_t *first, size_t *n) {
  *first = *n = 0;
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->row[i].run, run)) {
      if (*n == 0)
        *first = i;
      (*n)++;
    } else if (*n) {
      break;
    }
}

/* The trace of a run; lengths as served where the table has the request, else as requested. */
static int apex_trace(const char *path, const served_table *served, const char *run, val_case *c,
                      char *err, size_t err_len) {
  size_t first, n_served, matched = 0;
  served_run(served, run, &first, &n_served);
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0)
    return -1;
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    double at, in, outt;
    if (val_csv_number(&csv, "start_offset_ns", &at, err, err_len) ||
        val_csv_number(&csv, "context_tokens", &in, err, err_len) ||
        val_csv_number(&csv, "generated_tokens", &outt, err, err_len)) {
      more = -1;
      break;
    }
    const char *id = val_csv_text(&csv, "request_id");
    for (size_t i = first; i < first + n_served; i++)
      if (!strcmp(served->row[i].request_id, id)) {
        in = served->row[i].prompt;
        outt = served->row[i].output;
        matched++;
        break;
      }
    if (val_case_request(c, (int64_t)at, (int32_t)in, (int32_t)outt) != 0) {
      snprintf(err, err_len, "out of memory");
      more = -1;
      break;
    }
  }
  util_csv_close(&csv);
  if (more >= 0 && matched < c->n_req)
    val_case_note(c,
                  "%zu of %zu requests at their requested lengths (not in "
                  "per_request_served_tokens.csv.gz), the others as served",
                  c->n_req - matched, c->n_req);
  return more < 0 ? -1 : 0;
}

int val_read_apex(const char *dir, const val_filter *f, val_cases *out, char *err, size_t err_len) {
  char path[4200];
  served_table served;
  snprintf(path, sizeof path, "%s/per_request_served_tokens.csv.gz", dir);
  if (served_read(path, &served, err, err_len) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/runs_summary.csv", dir);
  util_csv csv;
  if (util_csv_open_file(&csv, path, err, err_len) != 0) {
    free(served.row);
    return -1;
  }
  int more;
  while ((more = util_csv_next(&csv, err, err_len)) == 1) {
    const char *file = val_csv_text(&csv, "result_file");
    const char *base = strrchr(file, '/');
    char name[192];
    snprintf(name, sizeof name, "%s", base ? base + 1 : file);
    /* The log's name without "_validation" and ".txt", as per_request_served_tokens.csv names
     * it. */
    char *cut = strstr(name, ".txt");
    if (cut)
      *cut = 0;
    if ((cut = strstr(name, "_validation")))
      memmove(cut, cut + strlen("_validation"), strlen(cut + strlen("_validation")) + 1);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, "apex_plus_h100_vllm_sglang", name);
    if (!c) {
      snprintf(err, err_len, "out of memory");
      more = -1;
      break;
    }
    double tp, ep, ttft, tpot, e2e, util;
    if (val_csv_number(&csv, "tp", &tp, err, err_len) ||
        val_csv_number(&csv, "ep", &ep, err, err_len) ||
        val_csv_number(&csv, "ttft_mean_s_this_trace", &ttft, err, err_len) ||
        val_csv_number(&csv, "tpot_s_this_trace", &tpot, err, err_len) ||
        val_csv_number(&csv, "e2e_latency_mean_s_this_trace", &e2e, err, err_len)) {
      more = -1;
      break;
    }
    const char *engine = val_csv_text(&csv, "engine"), *weights = val_csv_text(&csv, "weights");
    val_set_hardware(c, val_csv_text(&csv, "model"), "H100");
    c->tp = (uint32_t)tp;
    if (strcmp(val_csv_text(&csv, "status"), "ok"))
      val_case_skip(c, "the run failed upstream (empty log)");
    if (strcmp(val_csv_text(&csv, "trace_available"), "yes"))
      val_case_skip(c, "its trace is not in the dataset");
    if (strcmp(engine, "vLLM"))
      val_case_skip(c, "engine %s: its scheduler (radix cache, chunking) is not modelled", engine);
    if (ep > 1)
      val_case_skip(c, "expert parallelism with DP attention is not modelled");
    if (strstr(val_csv_text(&csv, "metric_note"), "do not use"))
      val_case_skip(c, "its counters cannot be separated from the previous trace's");
    if (strcmp(weights, "bf16") && strcmp(weights, ""))
      snprintf(c->dtype, sizeof c->dtype, "fp8");
    /* vLLM 0.6.0 (SOURCE.md): 256 sequences; chunked prefill (512 tokens) only when the model's
     * context is over 32K, i.e. for the runs without --max-model-len; otherwise one prompt per
     * iteration up to max_model_len. */
    c->max_num_seqs = 256;
    /* vLLM 0.6.0 serving with its front end in the engine process: the vllm-v0 profile, whose host
     * work was fitted to six of these runs (hw/data/SOURCES.md, E12; the others held out). */
    snprintf(c->engine, sizeof c->engine, "vllm-v0");
    util = 0.97;
    if (val_csv_number(&csv, "gpu_memory_utilization", &util, err, err_len) != 0)
      util = 0.97, err[0] = 0; /* "vLLM default" text: 0.97 was passed (SOURCE.md) */
    c->gpu_memory_utilization = util > 0 && util <= 1 ? util : 0.97;
    double max_len = NAN;
    if (util_csv_double(&csv, util_csv_col(&csv, "max_model_len"), NAN, &max_len, err, err_len))
      max_len = NAN, err[0] = 0;
    if (isfinite(max_len)) {
      c->chunked_prefill = 0;
      c->max_num_batched_tokens = (uint32_t)max_len;
    } else {
      c->chunked_prefill = 1;
      c->max_num_batched_tokens = 512;
    }
    val_case_metric(c, "ttft_mean_ms", ttft * 1e3);
    val_case_metric(c, "itl_mean_ms", tpot * 1e3);
    val_case_metric(c, "e2e_mean_ms", e2e * 1e3);
    if (!c->skip[0]) {
      char run[200];
      snprintf(run, sizeof run, "%s.txt", name);
      snprintf(path, sizeof path, "%s/%s", dir, val_csv_text(&csv, "trace_csv"));
      if (apex_trace(path, &served, run, c, err, err_len) != 0) {
        more = -1;
        break;
      }
      val_cap_requests(c, f);
    }
  }
  util_csv_close(&csv);
  free(served.row);
  return more < 0 ? -1 : 0;
}

/* ---- bench_serving results: SGLang JSON lines, vLLM's result JSON ---- */

/* bench_serving's random dataset: input and output uniform in [max(L x ratio, 1), L]. */
typedef struct random_lengths {
  double in_len, out_len, ratio;
} random_lengths;

static int32_t uniform_len(val_rng *rng, double len, double ratio) {
  double low = fmax(floor(len * ratio), 1.0);
  return (int32_t)(low + floor(val_rng_uniform(rng) * (len - low + 1.0)));
}

static void random_len(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out) {
  (void)i;
  random_lengths *r = ctx;
  *in = uniform_len(rng, r->in_len, r->ratio);
  *out = uniform_len(rng, r->out_len, r->ratio);
}

/* Lengths from the result's own lists. */
typedef struct listed_lengths {
  const val_json_member *in, *out;
} listed_lengths;

static void listed_len(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out) {
  (void)rng;
  listed_lengths *l = ctx;
  *in = (int32_t)l->in->array[i];
  *out = (int32_t)l->out->array[i];
}

/* The measured figures of one bench_serving object, in ms and tok/s. */
static void bench_metrics(val_case *c, const val_json_object *o) {
  static const struct {
    const char *field, *metric;
  } fields[] = {
      {"mean_ttft_ms", "ttft_mean_ms"},  {"median_ttft_ms", "ttft_p50_ms"},
      {"p99_ttft_ms", "ttft_p99_ms"},    {"mean_tpot_ms", "tpot_mean_ms"},
      {"median_tpot_ms", "tpot_p50_ms"}, {"mean_itl_ms", "itl_mean_ms"},
      {"median_itl_ms", "itl_p50_ms"},   {"mean_e2e_latency_ms", "e2e_mean_ms"},
      {"mean_e2el_ms", "e2e_mean_ms"},   {"median_e2e_latency_ms", "e2e_p50_ms"},
      {"median_e2el_ms", "e2e_p50_ms"},  {"output_throughput", "output_tok_s"},
  };
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    val_case_metric(c, fields[i].metric, val_json_number(o, fields[i].field));
}

/* Requests of one bench_serving object: its listed lengths, else its random lengths; NULL reason
 * when they can be built, else why not. */
static const char *bench_requests(val_case *c, const val_json_object *o, size_t index) {
  const val_json_member *in = val_json_get(o, "input_lens"), *outl = val_json_get(o, "output_lens");
  double rate = val_json_number(o, "request_rate");
  if (!isfinite(rate) && !isinf(rate)) {
    const val_json_member *m = val_json_get(o, "request_rate");
    if (!m || m->kind != VAL_JSON_STRING || strcasecmp(m->string, "inf"))
      return "no request_rate";
    rate = INFINITY;
  }
  val_rng rng = {0x76616c6964617465ULL + index}; /* "validate" */
  if (in && outl && in->kind == VAL_JSON_ARRAY && outl->kind == VAL_JSON_ARRAY &&
      in->array_n == outl->array_n && in->array_n > 0) {
    listed_lengths l = {in, outl};
    val_case_note(c, isinf(rate) ? "all requests at t=0" : "Poisson arrivals (seeded)");
    return val_case_poisson(c, rate, in->array_n, &rng, listed_len, &l) ? "out of memory" : NULL;
  }
  const val_json_member *ds = val_json_get(o, "dataset_name");
  double n = val_json_number(o, "completed");
  random_lengths r = {val_json_number(o, "random_input_len"),
                      val_json_number(o, "random_output_len"),
                      val_json_number(o, "random_range_ratio")};
  if (!ds || ds->kind != VAL_JSON_STRING || strcmp(ds->string, "random"))
    return "dataset lengths not recorded (only the random dataset can be rebuilt)";
  if (!(n > 0) || !(r.in_len >= 1) || !(r.out_len >= 1) || !(r.ratio >= 0 && r.ratio <= 1))
    return "random dataset without completed, random_input_len, random_output_len or "
           "random_range_ratio";
  val_case_note(c, "random lengths redrawn (seeded), %s",
                isinf(rate) ? "all requests at t=0" : "Poisson arrivals (seeded)");
  return val_case_poisson(c, rate, (size_t)n, &rng, random_len, &r) ? "out of memory" : NULL;
}

int val_read_bench_file(const char *path, const char *dataset, const char *scenario,
                        const val_filter *f, val_cases *out, char *err, size_t err_len) {
  val_json_object *objs;
  size_t n;
  if (val_json_read(path, &objs, &n, err, err_len) != 0)
    return -1;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char name[192];
    double rate = val_json_number(&objs[i], "request_rate");
    snprintf(name, sizeof name, "%.*s/%zu_rate%g", (int)(strcspn(base, ".")), base, i,
             isnan(rate) ? INFINITY : rate);
    if (!val_filter_case(f, name))
      continue;
    val_case *c = val_case_new(out, dataset, name);
    if (!c) {
      snprintf(err, err_len, "out of memory");
      rc = -1;
      break;
    }
    c->scenario = scenario;
    bench_metrics(c, &objs[i]);
    const char *why = bench_requests(c, &objs[i], i);
    if (why && !strcmp(why, "out of memory")) {
      snprintf(err, err_len, "out of memory");
      rc = -1;
    } else if (why) {
      val_case_skip(c, "%s", why);
    }
    val_cap_requests(c, f);
  }
  val_json_free(objs, n);
  return rc;
}

/* SOURCE.md "Setup": the three files and their servers (SGLang, about v0.4.0, radix cache off). */
static const struct {
  const char *file, *model;
  uint32_t tp;
} datacrunch_runs[] = {
    {"llama_3_3_70b_online_output.jsonl", "Llama-3.3-70B", 4},
    {"llama_3_3_70b_offline_output.jsonl", "Llama-3.3-70B", 4},
    {"llama_405b_online_output.jsonl", "Llama-3.1-405B", 8},
    {"deepseek_dp_mla_output.jsonl", "DeepSeek-V2.5", 8},
};

int val_read_datacrunch(const char *dir, const val_filter *f, val_cases *out, char *err,
                        size_t err_len) {
  for (size_t k = 0; k < sizeof datacrunch_runs / sizeof *datacrunch_runs; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, datacrunch_runs[k].file);
    FILE *probe = fopen(path, "r");
    if (!probe)
      continue; /* the committed sample holds some of the files */
    fclose(probe);
    size_t first = out->n;
    if (val_read_bench_file(path, "datacrunch_h200_sglang", NULL, f, out, err, err_len) != 0)
      return -1;
    for (size_t i = first; i < out->n; i++) {
      val_case *c = &out->c[i];
      val_set_hardware(c, datacrunch_runs[k].model, "H200");
      c->tp = datacrunch_runs[k].tp;
      val_case_note(c, "SGLang priced with the vLLM-style scheduler at its defaults");
    }
  }
  return 0;
}

/* ---- SGLang's benchmark_vllm_060 README tables (sglang_vs_vllm060_sharegpt) ---- */

int val_read_sglang_vllm(const char *dir, const val_filter *f, val_cases *out, char *err,
                         size_t err_len) {
  static const char *const files[] = {"online_sharegpt.csv", "offline_sharegpt.csv"};
  for (size_t k = 0; k < 2; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, files[k]);
    util_csv csv;
    if (util_csv_open_file(&csv, path, err, err_len) != 0)
      return -1;
    int more;
    while ((more = util_csv_next(&csv, err, err_len)) == 1) {
      char name[192];
      snprintf(name, sizeof name, "%s/%s-%s/%s/rate%s", k ? "offline" : "online",
               val_csv_text(&csv, "engine"), val_csv_text(&csv, "engine_version"),
               val_csv_text(&csv, "model"), val_csv_text(&csv, "request_rate_rps"));
      if (!val_filter_case(f, name))
        continue;
      val_case *c = val_case_new(out, "sglang_vs_vllm060_sharegpt", name);
      if (!c) {
        more = -1;
        snprintf(err, err_len, "out of memory");
        break;
      }
      /* The measured figures are listed so that the skip shows what would be compared. */
      double x;
      static const char *const cols[][2] = {{"median_ttft_ms", "ttft_p50_ms"},
                                            {"median_tpot_ms", "tpot_p50_ms"},
                                            {"median_e2e_latency_ms", "e2e_p50_ms"},
                                            {"output_token_throughput_tok_s", "output_tok_s"}};
      for (size_t m = 0; m < 4; m++)
        if (util_csv_col(&csv, cols[m][0]) >= 0 &&
            util_csv_double(&csv, util_csv_col(&csv, cols[m][0]), NAN, &x, err, err_len) == 0)
          val_case_metric(c, cols[m][1], x);
      val_case_skip(c,
                    "the ShareGPT sample's lengths are not in the dataset (bench_serving "
                    "drew them from ShareGPT with its seed; not shipped)");
    }
    util_csv_close(&csv);
    if (more < 0)
      return -1;
  }
  return 0;
}
