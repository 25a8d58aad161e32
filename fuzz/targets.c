/* The fuzzing entry points (fuzz/targets.h): bytes in, one reader of the program run on them, its
 * result and message out. Files are written to the context's scratch folder because the readers
 * take paths, as the program's users give them. */
#define _XOPEN_SOURCE 700
#include "fuzz/targets.h"

#include <errno.h>
#include <ftw.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/calibrate.h"
#include "jobs/trace.h"
#include "jobs/workload_source.h"
#include "serving/estimate.h"
#include "serving/report.h"
#include "serving/scenario.h"
#include "util/csv.h"
#include "util/error.h"

/* At most this many requests are read from a trace, and --set lines applied, per input, so that
 * one input costs milliseconds (a fuzzer's inputs are a few KiB; the readers stream). */
#define FUZZ_MAX_REQUESTS 100000
#define FUZZ_MAX_SETS 16
/* The report target damages the seed timeline at most this many places per input. */
#define FUZZ_MAX_PATCHES 64

int wt_fuzz_ctx_open(wt_fuzz_ctx *ctx, const char *seed_path, char *err, size_t err_len) {
  *ctx = (wt_fuzz_ctx){0};
  const char *tmp = getenv("TMPDIR");
  snprintf(ctx->dir, sizeof ctx->dir, "%s/wt-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(ctx->dir))
    return util_err(err, err_len, "fuzz: cannot make a scratch folder '%s': %s", ctx->dir,
                    strerror(errno));
  if (!seed_path)
    return 0;
  FILE *f = fopen(seed_path, "rb");
  if (!f)
    return util_err(err, err_len, "fuzz: cannot open seed timeline '%s': %s", seed_path,
                    strerror(errno));
  size_t cap = 1 << 16;
  ctx->seed = malloc(cap);
  size_t n;
  while (ctx->seed && (n = fread(ctx->seed + ctx->seed_len, 1, cap - ctx->seed_len, f)) > 0) {
    ctx->seed_len += n;
    if (ctx->seed_len == cap) {
      unsigned char *grown = realloc(ctx->seed, cap * 2);
      if (!grown) {
        free(ctx->seed);
        ctx->seed = NULL;
      }
      ctx->seed = grown;
      cap *= 2;
    }
  }
  fclose(f);
  if (!ctx->seed || ctx->seed_len == 0) {
    wt_fuzz_ctx_close(ctx);
    return util_err(err, err_len, "fuzz: seed timeline '%s' is empty or memory ran out", seed_path);
  }
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

FILE *wt_fuzz_manifest_open(const char *path, char *folder, size_t folder_len, const char *who) {
  FILE *m = fopen(path, "r");
  if (!m) {
    fprintf(stderr, "%s: cannot open manifest '%s'\n", who, path);
    return NULL;
  }
  const char *slash = strrchr(path, '/');
  snprintf(folder, folder_len, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
  return m;
}

void wt_fuzz_ctx_close(wt_fuzz_ctx *ctx) {
  if (ctx->dir[0])
    nftw(ctx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(ctx->seed);
  *ctx = (wt_fuzz_ctx){0};
}

/* Writes bytes to ctx->dir/rel (making its folders) and the full path to path. */
static int write_file(const wt_fuzz_ctx *ctx, const char *rel, const void *data, size_t size,
                      char *path, size_t path_len, char *err, size_t err_len) {
  snprintf(path, path_len, "%s/%s", ctx->dir, rel);
  for (char *p = path + strlen(ctx->dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    int rc = mkdir(path, 0700);
    *p = '/';
    if (rc != 0 && errno != EEXIST)
      return util_err(err, err_len, "fuzz: cannot make folder for '%s': %s", path, strerror(errno));
  }
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
    return util_err(err, err_len, "fuzz: cannot write '%s'", path);
  return 0;
}

/* Scenario YAML text, loaded as a scenario file. */
static int fuzz_scenario(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                         size_t msg_len) {
  char path[1024];
  if (write_file(ctx, "scenario.yaml", data, size, path, sizeof path, msg, msg_len) != 0)
    return -1;
  srv_scenario *s = NULL;
  int rc = srv_scenario_load(path, NULL, 0, &s, msg, msg_len);
  if (rc == 0)
    snprintf(msg, msg_len, "loaded: %u instances", srv_scenario_instances(s));
  srv_scenario_free(s);
  return rc < 0 ? rc : 0;
}

/* Lines of "key.path=value", each one --set on the built-in default scenario; when it loads, the
 * memory and timeline estimate of an hour of a 20,000-request workload (the default trace's size),
 * as `check` makes it, which refuses runs that cannot fit. */
static int fuzz_set(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                    size_t msg_len) {
  (void)ctx;
  char *text = malloc(size + 1);
  if (!text)
    return util_err(msg, msg_len, "fuzz: out of memory");
  memcpy(text, data, size);
  text[size] = '\0';
  const char *sets[FUZZ_MAX_SETS];
  size_t n = 0;
  for (char *line = text, *next; line && n < FUZZ_MAX_SETS; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (*line)
      sets[n++] = line;
  }
  srv_scenario *s = NULL;
  int rc = srv_scenario_load(NULL, sets, n, &s, msg, msg_len);
  if (rc == 0) {
    srv_estimate e;
    srv_estimate_make(s, 20000, 0, (int64_t)3600 * 1000000000, srv_scenario_instances(s), 0, 1, &e);
    /* 64 GiB: the memory of the machines the tests run on, fixed so results do not depend on it */
    rc = srv_estimate_check(s, &e, (uint64_t)64 << 30, true, msg, msg_len);
    if (rc == 0)
      rc = srv_estimate_check_timeline(s, &e, (uint64_t)1 << 40, false, msg, msg_len);
    if (rc == 0)
      snprintf(msg, msg_len, "loaded: %u instances, %zu sets", srv_scenario_instances(s), n);
  }
  srv_scenario_free(s);
  free(text);
  return rc < 0 ? rc : 0;
}

/* The first byte chooses the reader and the replay options; the rest is the trace file.
 * Byte % 8: 0 auto, 1 azure, 2 mooncake, 3 llmservingsim, 4 vidur, 5 splitwise, 6 lengths, 7
 * lengths reader with auto detection. Bit 3: skip_bad_rows. Bits 4-5: 3 as recorded (ASCII '0' to
 * '7'), 0 rate_scale 1e-9 ('@' to 'G'), 1 rate_scale 1e9 and offset 1e18 ns ('P' to 'W'), 2 the
 * window [1 s, 2 s) and at most 10 requests (' ' to '\''). */
static int fuzz_trace(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                      size_t msg_len) {
  if (size == 0)
    return util_err(msg, msg_len, "fuzz: no selector byte");
  static const job_trace_format formats[8] = {
      JOB_TRACE_AUTO,  JOB_TRACE_AZURE,     JOB_TRACE_MOONCAKE, JOB_TRACE_LLMSERVINGSIM,
      JOB_TRACE_VIDUR, JOB_TRACE_SPLITWISE, JOB_TRACE_LENGTHS,  JOB_TRACE_AUTO};
  uint8_t b = data[0];
  job_source_opts opts = {.skip_bad_rows = (b & 8) != 0};
  switch ((b >> 4) & 3) {
  case 0: opts.rate_scale = 1e-9; break;
  case 1:
    opts.rate_scale = 1e9;
    opts.offset_ns = 1000000000000000000;
    break;
  case 2:
    opts.from_ns = 1000000000;
    opts.to_ns = 2000000000;
    opts.max_requests = 10;
    break;
  default: break;
  }
  char path[1024];
  if (write_file(ctx, "trace.txt", data + 1, size - 1, path, sizeof path, msg, msg_len) != 0)
    return -1;
  job_source *src = NULL;
  int rc = (b % 8) >= 6 ? job_source_open_lengths(&src, path, formats[b % 8], &opts, msg, msg_len)
                        : job_source_open_trace(&src, path, formats[b % 8], &opts, msg, msg_len);
  if (rc < 0)
    return rc;
  long n = 0;
  int64_t last = 0;
  job_request req;
  while (n < FUZZ_MAX_REQUESTS && (rc = job_source_next(src, &req, msg, msg_len)) == 1) {
    if (req.arrival_ns < last || req.input_tokens < 1 || req.output_tokens < 1)
      abort(); /* the reader broke its own contract (jobs/trace.h) */
    last = req.arrival_ns;
    n++;
  }
  if (rc >= 0)
    snprintf(msg, msg_len, "read %ld requests (%s), %lld bad rows, %lld dropped arrivals%s%s", n,
             job_trace_format_name(job_source_format(src)), (long long)job_source_bad_rows(src),
             (long long)job_source_dropped_arrivals(src),
             *job_source_first_bad_row(src) ? "; first bad: " : "", job_source_first_bad_row(src));
  job_source_close(src);
  return rc < 0 ? rc : 0;
}

/* A CSV file (util/csv.c, as calibrate and the catalogues read them), every field of every record
 * read as a number. */
static int fuzz_csv(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                    size_t msg_len) {
  char path[1024];
  if (write_file(ctx, "table.csv", data, size, path, sizeof path, msg, msg_len) != 0)
    return -1;
  util_csv c;
  if (util_csv_open_file(&c, path, msg, msg_len) != 0)
    return -1;
  long records = 0, numbers = 0;
  int rc;
  while ((rc = util_csv_next(&c, msg, msg_len)) == 1) {
    records++;
    for (int i = 0; i < c.nfields; i++) {
      double v;
      char ignored[256];
      numbers += util_csv_double(&c, i, 0.0, &v, ignored, sizeof ignored) == 0;
    }
  }
  if (rc == 0)
    snprintf(msg, msg_len, "read %ld records, %d columns, %ld numbers", records, c.nheader,
             numbers);
  util_csv_close(&c);
  return rc < 0 ? -1 : 0;
}

/* The datasets calibrate recognises, one per reader (calib/eval_*.c, calib/kernel_data.c). */
static const char *const calib_datasets[] = {
    "splitwise-sim/perf_model.csv",
    "vidur/data/profiling/compute/a100/meta-llama/Llama-2-7b-hf/mlp.csv",
    "vidur/data/profiling/compute/a100/meta-llama/Llama-2-7b-hf/attention.csv",
    "vidur/data/profiling/network/a100_dgx/all_reduce.csv",
    "vidur/data/profiling/network/h100_dgx/send_recv.csv",
    "vidur/historical-6d98aa8/data/profiling/a100/cpu_overheads.csv",
    "LLMServingSim/profiles_v0/H100_meta-llama_Llama-3.1-8B_tp1/layers.csv",
    "LLMServingSim/profiles_v0/TPU-v6e-1_meta-llama_Llama-3.1-8B_tp1/attention.csv",
    "aiconfigurator/kernels/h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv",
    "aiconfigurator/kernels/h100_sxm_attention_vllm_0.19.0_context_attention_perf.csv",
    "aiconfigurator/kernels/h100_sxm_attention_vllm_0.19.0_generation_attention_perf.csv",
    "aiconfigurator/kernels/h100_sxm_comm_nccl_2.29.2_nccl_perf.csv",
    "aiconfigurator/kernels/h100_sxm_comm_vllm_0.19.0_custom_allreduce_perf.csv",
    "apex_plus/comm/H100-SXM-80GB/alltoall.csv",
    "apex_plus/comm/H100-SXM-80GB/reduce_scatter.csv",
};
enum { CALIB_DATASETS = sizeof calib_datasets / sizeof calib_datasets[0] };

/* The first byte chooses the dataset (byte % 15, the list above; 'A' + i is dataset i); the rest
 * is its file, alone in a data folder that `windtunnel calibrate` evaluates. The message: the
 * dataset's rows (op, points and note). */
static int fuzz_calib(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                      size_t msg_len) {
  if (size == 0)
    return util_err(msg, msg_len, "fuzz: no selector byte");
  const char *rel = calib_datasets[(uint8_t)(data[0] - 'A') % CALIB_DATASETS];
  char path[1024], root[600];
  snprintf(root, sizeof root, "%s/calib", ctx->dir);
  char rel_in_root[512];
  snprintf(rel_in_root, sizeof rel_in_root, "calib/%s", rel);
  if (write_file(ctx, rel_in_root, data + 1, size - 1, path, sizeof path, msg, msg_len) != 0)
    return -1;
  calib_rows rows = {0};
  int rc = calib_calibrate(root, &rows, msg, msg_len);
  remove(path);
  if (rc == 0) {
    size_t used = (size_t)snprintf(msg, msg_len, "%s:", rel);
    for (size_t i = 0; i < rows.n && used < msg_len; i++)
      if (!strcmp(rows.row[i].dataset, rel))
        used += (size_t)snprintf(msg + used, msg_len - used, " [%s points=%zu %s]", rows.row[i].op,
                                 rows.row[i].points, rows.row[i].note);
  }
  calib_rows_free(&rows);
  return rc < 0 ? -1 : 0;
}

/* The seed timeline damaged: each 4 bytes of input are a place (3 bytes, little-endian, modulo the
 * file's length) and a byte to XOR there; 3 bytes left over truncate the file at that place. The
 * damaged file is summarised (partial ones too) and its /requests table written as CSV. */
static int fuzz_report(const wt_fuzz_ctx *ctx, const uint8_t *data, size_t size, char *msg,
                       size_t msg_len) {
  if (!ctx->seed)
    return util_err(msg, msg_len, "fuzz: no seed timeline");
  unsigned char *file = malloc(ctx->seed_len);
  if (!file)
    return util_err(msg, msg_len, "fuzz: out of memory");
  memcpy(file, ctx->seed, ctx->seed_len);
  size_t len = ctx->seed_len, i = 0;
  for (int p = 0; i + 4 <= size && p < FUZZ_MAX_PATCHES; i += 4, p++) {
    size_t at = ((size_t)data[i] | (size_t)data[i + 1] << 8 | (size_t)data[i + 2] << 16) % len;
    file[at] ^= data[i + 3];
  }
  if (size - i == 3)
    len = ((size_t)data[i] | (size_t)data[i + 1] << 8 | (size_t)data[i + 2] << 16) % len;
  char path[1024];
  int rc = write_file(ctx, "damaged.h5", file, len, path, sizeof path, msg, msg_len);
  free(file);
  if (rc != 0)
    return -1;
  srv_summary s;
  srv_breakdown groups = {0};
  rc = srv_report_summarise_groups(path, true, &s, &groups, msg, msg_len);
  if (rc == 0) {
    srv_report_breakdown_free(&groups);
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
      rc = srv_report_write_csv(path, "requests", sink, msg, msg_len);
      fclose(sink);
    }
    if (rc == 0)
      snprintf(msg, msg_len, "summarised: %llu requests, %llu completed",
               (unsigned long long)s.total, (unsigned long long)s.completed);
  }
  /* Whatever the file held, the report closes everything it opened in HDF5 (files, datasets,
   * types, spaces, attributes): an id left open is a leak per damaged file. */
  ssize_t open_ids = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_ids != 0) {
    fprintf(stderr, "fuzz: report left %zd HDF5 objects open (%s)\n", open_ids, msg);
    abort();
  }
  return rc < 0 ? -1 : 0;
}

const wt_fuzz_target wt_fuzz_targets[] = {
    {"scenario", fuzz_scenario, "scenario YAML text"},
    {"set", fuzz_set, "--set lines on the default scenario"},
    {"trace", fuzz_trace, "selector byte, then a trace file"},
    {"csv", fuzz_csv, "CSV text (util/csv.c)"},
    {"calib", fuzz_calib, "selector byte, then a calibrate dataset"},
    {"report", fuzz_report, "patches to a valid timeline"},
    {NULL, NULL, NULL},
};

const wt_fuzz_target *wt_fuzz_find(const char *name) {
  for (const wt_fuzz_target *t = wt_fuzz_targets; t->name; t++)
    if (!strcmp(t->name, name))
      return t;
  return NULL;
}
