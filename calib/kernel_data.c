/* Reading the measured kernel tables (AIConfigurator kernels, Vidur operator, network and CPU
 * profiles) into points, and the plan of which dataset fits which device's operator. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/kernels.h"
#include "util/array.h"
#include "util/error.h"

const char *const calib_op_names[CALIB_OP_COUNT] = {
    "gemm", "attn_prefill", "attn_decode",    "elementwise",        "allreduce",        "sendrecv",
    "cpu",  "gemm_fp8",     "gemm_fp8_block", "attn_prefill_fp8kv", "attn_decode_fp8kv"};
const char *const calib_dev_names[CALIB_NDEV] = {"H100-SXM-80GB", "H200-SXM-141GB",
                                                 "A100-SXM-80GB"};

int calib_points_push(calib_points *ps, const double *x, int nx, double measured_ns) {
  if (!(measured_ns > 0.0) || !isfinite(measured_ns)) {
    ps->dropped++; /* cannot be fitted in log space */
    return 0;
  }
  calib_point *grown = util_grow(ps->p, &ps->cap, ps->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  ps->p = grown;
  calib_point *p = &ps->p[ps->n++];
  memset(p, 0, sizeof *p);
  memcpy(p->x, x, (size_t)nx * sizeof *x);
  p->measured_ns = measured_ns;
  p->power_w = NAN;
  return 0;
}

/* The optional power column of the current record into the point just pushed (if one was). */
static void note_power(calib_points *ps, size_t n_before, const util_csv *c, int col_power) {
  double w;
  if (col_power >= 0 && ps->n > n_before && util_csv_double(c, col_power, NAN, &w, NULL, 0) == 0)
    ps->p[ps->n - 1].power_w = w;
}

/* Append a record's point, with the record's measured power when the table has a power column
 * (col_power >= 0); 0, or -1 with a message. */
static int push_record(const calib_reader *rc, calib_points *ps, const double *x, int nx,
                       double measured_ns, const util_csv *c, int col_power) {
  size_t n_before = ps->n;
  if (calib_points_push(ps, x, nx, measured_ns) != 0)
    return util_err(rc->err, rc->err_len, "out of memory");
  note_power(ps, n_before, c, col_power);
  return 0;
}

/* A reader's points and the rows it keeps: records whose filter column holds `keep`. */
typedef struct table_ctx {
  calib_points *out;
  const char *keep;
  bool prefill; /* attention: context (true) or generation tables */
} table_ctx;

static const char *const power_col[] = {"power"};

/* AIConfigurator GEMM table: the rows of one gemm_dtype (bfloat16, fp8, fp8_block); latency in
 * ms. */
static int aic_gemm_record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx) {
  const table_ctx *t = ctx;
  if (strcmp(util_csv_get(c, cols[4]), t->keep) != 0)
    return 0;
  double v[4];
  if (calib_reader_dims(rc, c, cols, v, 3) != 0 ||
      calib_reader_nums(rc, c, cols + 3, v + 3, 1) != 0)
    return -1;
  return push_record(rc, t->out, v, 3, v[3] * 1e6, c, cols[5]);
}

static int read_aic_gemm(const calib_reader *rc, const char *rel, const char *gemm_dtype,
                         calib_points *out) {
  static const char *const names[] = {"m", "n", "k", "latency", "gemm_dtype"};
  table_ctx t = {out, gemm_dtype, false};
  util_csv c;
  return calib_reader_open(rc, &c, rel) != 0
             ? -1
             : calib_reader_each(rc, &c, names, 5, power_col, 1, aic_gemm_record, &t);
}

/* AIConfigurator attention tables: full attention (window 0) over a KV cache of kv_dtype
 * (bfloat16 or fp8); head_dim 128 (the subset kept). Context: batch_size sequences of isl tokens
 * from scratch. Generation: one token per sequence over `step` cached tokens. */
static int aic_attention_record(const calib_reader *rc, const util_csv *c, const int *cols,
                                void *ctx) {
  const table_ctx *t = ctx;
  const double head_dim = 128.0;
  if (strcmp(util_csv_get(c, cols[6]), t->keep) != 0)
    return 0;
  double v[6];
  if (calib_reader_dims(rc, c, cols, v, 4) != 0 ||
      calib_reader_nums(rc, c, cols + 4, v + 4, 2) != 0)
    return -1;
  if (v[4] != 0.0)
    return 0; /* sliding window */
  double b = v[0], len = v[1], x[7];
  if (t->prefill) {
    double pairs = b * len * (len + 1.0) / 2.0;
    double xp[7] = {pairs, b * len, b * len, v[2], v[3], head_dim, b};
    memcpy(x, xp, sizeof x);
  } else {
    double xd[7] = {b, b * len, v[2], v[3], head_dim, 0.0, 0.0};
    memcpy(x, xd, sizeof x);
  }
  return push_record(rc, t->out, x, 7, v[5] * 1e6, c, cols[7]);
}

static int read_aic_attention(const calib_reader *rc, const char *rel, bool prefill,
                              const char *kv_dtype_name, calib_points *out) {
  static const char *const pf_names[] = {"batch_size",          "isl",         "num_heads",
                                         "num_key_value_heads", "window_size", "latency",
                                         "kv_cache_dtype"};
  static const char *const dec_names[] = {"batch_size",          "step",        "num_heads",
                                          "num_key_value_heads", "window_size", "latency",
                                          "kv_cache_dtype"};
  table_ctx t = {out, kv_dtype_name, prefill};
  util_csv c;
  return calib_reader_open(rc, &c, rel) != 0
             ? -1
             : calib_reader_each(rc, &c, prefill ? pf_names : dec_names, 7, power_col, 1,
                                 aic_attention_record, &t);
}

/* vLLM custom all-reduce under CUDA graphs (what serving uses): message_size bf16 elements. */
static int aic_allreduce_record(const calib_reader *rc, const util_csv *c, const int *cols,
                                void *ctx) {
  const table_ctx *t = ctx;
  if (strcmp(util_csv_get(c, cols[3]), t->keep) != 0)
    return 0;
  double v[3];
  if (calib_reader_dims(rc, c, cols, v, 2) != 0 ||
      calib_reader_nums(rc, c, cols + 2, v + 2, 1) != 0)
    return -1;
  double x[2] = {2.0 * v[1], v[0]};
  return push_record(rc, t->out, x, 2, v[2] * 1e6, c, -1);
}

static int read_aic_allreduce(const calib_reader *rc, const char *rel, calib_points *out) {
  static const char *const names[] = {"num_gpus", "message_size", "latency", "backend"};
  table_ctx t = {out, "vllm_graph", false};
  util_csv c;
  return calib_reader_open(rc, &c, rel) != 0
             ? -1
             : calib_reader_each(rc, &c, names, 4, NULL, 0, aic_allreduce_record, &t);
}

/* Vidur network profiles: size in bytes, time_stats.<collective>.median in ms. Intra-node rows only
 * (all ranks in one node), as tensor and pipeline parallelism within a node. */
typedef struct network_ctx {
  calib_points *out;
  bool allreduce;
} network_ctx;

static int vidur_network_record(const calib_reader *rc, const util_csv *c, const int *cols,
                                void *ctx) {
  const network_ctx *t = ctx;
  double v[4];
  if (calib_reader_dims(rc, c, cols, v, 3) != 0 ||
      calib_reader_nums(rc, c, cols + 3, v + 3, 1) != 0)
    return -1;
  if (t->allreduce ? v[0] != v[1] : v[1] != 2.0)
    return 0; /* spans nodes */
  double x[2] = {v[2], v[0]};
  return push_record(rc, t->out, x, 2, v[3] * 1e6, c, -1);
}

static int read_vidur_network(const calib_reader *rc, const char *rel, bool allreduce,
                              calib_points *out) {
  static const char *const ar_names[] = {"num_workers", "devices_per_node", "size",
                                         "time_stats.all_reduce.median"};
  static const char *const sr_names[] = {"num_workers", "devices_per_node", "size",
                                         "time_stats.send_recv.median"};
  network_ctx t = {out, allreduce};
  util_csv c;
  return calib_reader_open(rc, &c, rel) != 0
             ? -1
             : calib_reader_each(rc, &c, allreduce ? ar_names : sr_names, 4, NULL, 0,
                                 vidur_network_record, &t);
}

/* Vidur per-layer operator profiles (mlp.csv): the four projections are GEMMs of known shape; the
 * norms, rotary, activation, residual add and (at TP 1) embedding are memory-bound kernels whose
 * bytes follow from the shapes. Each operator's time is its time_stats.<op>.median column (ms);
 * phi-2 has no post_attention_layernorm. */
static const char *const mlp_ops[] = {"time_stats.attn_pre_proj.median",
                                      "time_stats.attn_post_proj.median",
                                      "time_stats.mlp_up_proj.median",
                                      "time_stats.mlp_down_proj.median",
                                      "time_stats.input_layernorm.median",
                                      "time_stats.post_attention_layernorm.median",
                                      "time_stats.attn_rope.median",
                                      "time_stats.mlp_act.median",
                                      "time_stats.add.median",
                                      "time_stats.emb.median"};
enum { MLP_COLS = 7, MLP_OPS = sizeof mlp_ops / sizeof mlp_ops[0] };

typedef struct mlp_ctx {
  calib_points *gemm, *elem;
} mlp_ctx;

static int vidur_mlp_record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx) {
  const mlp_ctx *t = ctx;
  int num_cols[6] = {cols[0], cols[1], cols[2], cols[3], cols[5], cols[6]};
  double nv[6];
  if (calib_reader_dims(rc, c, num_cols, nv, 6) != 0)
    return -1;
  bool gated = !strcmp(util_csv_get(c, cols[4]), "True");
  double q = nv[0], kv = nv[1], h = nv[2], f = nv[3], tokens = nv[4], tp = nv[5], d = h / q;
  double kv_dev = kv >= tp ? kv / tp : 1.0, f_dev = f / tp, dt = 2.0;
  double shapes[4][3] = {{tokens, (q / tp + 2.0 * kv_dev) * d, h},
                         {tokens, h, q / tp * d},
                         {tokens, (gated ? 2.0 : 1.0) * f_dev, h},
                         {tokens, h, f_dev}};
  double ew[6][2] = {
      {hw_elem_norm_bytes(tokens, h, dt), HW_ELEM_NORM},
      {hw_elem_norm_bytes(tokens, h, dt), HW_ELEM_NORM},
      {hw_elem_rope_bytes(tokens, q / tp, kv_dev, d, dt), HW_ELEM_ROPE},
      {hw_elem_act_bytes(tokens, f_dev, gated, dt), HW_ELEM_ACT},
      {hw_elem_add_bytes(tokens, h, dt), HW_ELEM_ADD},
      /* With TP, Vidur's embedding includes the all-reduce of the vocabulary-parallel lookup. */
      {tp == 1.0 ? hw_elem_embed_bytes(tokens, h, dt) : 0.0, HW_ELEM_EMBED}};
  for (int i = 0; i < MLP_OPS; i++) {
    int col = cols[MLP_COLS + i];
    double ms;
    if (col < 0)
      continue;
    if (util_csv_double(c, col, NAN, &ms, rc->err, rc->err_len) != 0)
      return -1;
    int r = 0;
    if (i < 4)
      r = push_record(rc, t->gemm, shapes[i], 3, ms * 1e6, c, -1);
    else if (ew[i - 4][0] > 0.0)
      r = push_record(rc, t->elem, ew[i - 4], 2, ms * 1e6, c, -1);
    if (r != 0)
      return -1;
  }
  return 0;
}

int calib_vidur_mlp_read(const calib_reader *rc, const char *path, calib_points *gemm,
                         calib_points *elem) {
  static const char *const names[MLP_COLS] = {"n_head",
                                              "n_kv_head",
                                              "n_embd",
                                              "n_expanded_embd",
                                              "use_gated_mlp",
                                              "num_tokens",
                                              "num_tensor_parallel_workers"};
  mlp_ctx t = {gemm, elem};
  util_csv c;
  return util_csv_open_file(&c, path, rc->err, rc->err_len) != 0
             ? -1
             : calib_reader_each(rc, &c, names, MLP_COLS, mlp_ops, MLP_OPS, vidur_mlp_record, &t);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int calib_vidur_mlp_list(const calib_reader *rc, const char *rel, char **files, int *nfiles_out) {
  char root[4096];
  snprintf(root, sizeof root, "%s/%s", rc->data_dir, rel);
  int nfiles = 0, r = 0;
  DIR *orgs = opendir(root);
  if (!orgs) {
    snprintf(rc->err, rc->err_len, "%s: %s", root, strerror(errno));
    return -1;
  }
  struct dirent *org;
  while ((org = readdir(orgs)) && r == 0) {
    if (org->d_name[0] == '.')
      continue;
    char org_path[4352];
    snprintf(org_path, sizeof org_path, "%s/%s", root, org->d_name);
    DIR *models = opendir(org_path);
    if (!models)
      continue;
    struct dirent *model;
    while ((model = readdir(models)) && r == 0) {
      if (model->d_name[0] == '.')
        continue;
      char path[4864];
      struct stat st;
      snprintf(path, sizeof path, "%s/%s/mlp.csv", org_path, model->d_name);
      if (stat(path, &st) != 0)
        continue;
      if (nfiles == CALIB_VIDUR_MAX_FILES || !(files[nfiles] = strdup(path)))
        r = util_err(rc->err, rc->err_len, "out of memory");
      else
        nfiles++;
    }
    closedir(models);
  }
  closedir(orgs);
  qsort(files, (size_t)nfiles, sizeof *files, cmp_str);
  if (r == 0 && nfiles == 0) {
    snprintf(rc->err, rc->err_len, "%s: no <org>/<model>/mlp.csv found", root);
    r = -1;
  }
  *nfiles_out = nfiles;
  return r;
}

/* Every <org>/<model>/mlp.csv under data_dir/rel, in sorted order. */
static int read_vidur_mlp_dir(const calib_reader *rc, const char *rel, calib_points *gemm,
                              calib_points *elem) {
  char *files[CALIB_VIDUR_MAX_FILES];
  int nfiles = 0, r = calib_vidur_mlp_list(rc, rel, files, &nfiles);
  for (int i = 0; i < nfiles; i++) {
    if (r == 0)
      r = calib_vidur_mlp_read(rc, files[i], gemm, elem);
    free(files[i]);
  }
  return r;
}

/* Vidur's CPU overheads per iteration: schedule, sampler, input preparation and output processing
 * (medians, ms), as Vidur sums them, without its Ray communication time (vLLM's Ray executor of the
 * time, not the multiprocessing executor current vLLM uses). batch_size = sequences. */
static int vidur_cpu_record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx) {
  double v[5];
  if (calib_reader_dims(rc, c, cols, v, 1) != 0 ||
      calib_reader_nums(rc, c, cols + 1, v + 1, 4) != 0)
    return -1;
  return push_record(rc, ctx, v, 1, (v[1] + v[2] + v[3] + v[4]) * 1e6, c, -1);
}

static int read_vidur_cpu(const calib_reader *rc, const char *rel, calib_points *out) {
  static const char *const names[] = {"batch_size", "schedule_median", "sampler_e2e_median",
                                      "prepare_inputs_e2e_median", "process_model_outputs_median"};
  util_csv c;
  return calib_reader_open(rc, &c, rel) != 0
             ? -1
             : calib_reader_each(rc, &c, names, 5, NULL, 0, vidur_cpu_record, out);
}

/* Fits on each device's own tables; what a device lacks is transferred from another device's fit
 * (calib/fit_kernels.c), and held-out tables are checks. */
const calib_kernel_job calib_kernel_jobs[] = {
    {CALIB_DEV_H100, CALIB_OP_GEMM, CALIB_AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_ATTN_DECODE,
     CALIB_AIC "h100_sxm_attention_vllm_0.19.0_generation_attention_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_ATTN_PREFILL,
     CALIB_AIC "h100_sxm_attention_vllm_0.19.0_context_attention_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_ALLREDUCE,
     CALIB_AIC "h100_sxm_comm_vllm_0.19.0_custom_allreduce_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_GEMM_FP8, CALIB_AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_GEMM_FP8_BLOCK, CALIB_AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv",
     "fit"},
    {CALIB_DEV_H100, CALIB_OP_ATTN_DECODE_FP8KV,
     CALIB_AIC "h100_sxm_attention_vllm_0.19.0_generation_attention_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_ATTN_PREFILL_FP8KV,
     CALIB_AIC "h100_sxm_attention_vllm_0.19.0_context_attention_perf.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_SENDRECV, CALIB_VIDUR "network/h100_dgx/send_recv.csv", "fit"},
    {CALIB_DEV_H100, CALIB_OP_ALLREDUCE, CALIB_VIDUR "network/h100_dgx/all_reduce.csv", "check"},
    {CALIB_DEV_H200, CALIB_OP_GEMM, CALIB_AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv", "fit"},
    {CALIB_DEV_H200, CALIB_OP_ATTN_DECODE,
     CALIB_AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv", "fit"},
    {CALIB_DEV_H200, CALIB_OP_ATTN_PREFILL,
     CALIB_AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv", "fit"},
    {CALIB_DEV_H200, CALIB_OP_ALLREDUCE,
     CALIB_AIC "h200_sxm_comm_vllm_0.19.0_custom_allreduce_perf.csv", "fit"},
    {CALIB_DEV_H200, CALIB_OP_GEMM_FP8_BLOCK, CALIB_AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv",
     "fit"},
    {CALIB_DEV_H200, CALIB_OP_ATTN_DECODE_FP8KV,
     CALIB_AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv", "fit"},
    {CALIB_DEV_H200, CALIB_OP_ATTN_PREFILL_FP8KV,
     CALIB_AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv", "fit"},
    {CALIB_DEV_A100, CALIB_OP_GEMM, CALIB_VIDUR "compute/a100", "fit"},
    {CALIB_DEV_A100, CALIB_OP_ELEMENTWISE, CALIB_VIDUR "compute/a100", "fit"},
    {CALIB_DEV_A100, CALIB_OP_ALLREDUCE, CALIB_VIDUR "network/a100_dgx/all_reduce.csv", "check"},
    {CALIB_DEV_A100, CALIB_OP_SENDRECV, CALIB_VIDUR "network/a100_dgx/send_recv.csv", "fit"},
    {CALIB_DEV_A100, CALIB_OP_CPU, "vidur/historical-6d98aa8/data/profiling/a100/cpu_overheads.csv",
     "fit"},
    {CALIB_DEV_A100, CALIB_OP_CPU, "vidur/historical-6d98aa8/data/profiling/a40/cpu_overheads.csv",
     "check"},
};
const size_t calib_kernel_njobs = sizeof calib_kernel_jobs / sizeof calib_kernel_jobs[0];

int calib_kernel_read(const calib_reader *rc, calib_op op, bool vidur, const char *rel,
                      calib_points *pts) {
  calib_points scratch = {0};
  int r;
  switch (op) {
  case CALIB_OP_GEMM:
    r = vidur ? read_vidur_mlp_dir(rc, rel, pts, &scratch)
              : read_aic_gemm(rc, rel, "bfloat16", pts);
    break;
  case CALIB_OP_GEMM_FP8: r = read_aic_gemm(rc, rel, "fp8", pts); break;
  case CALIB_OP_GEMM_FP8_BLOCK: r = read_aic_gemm(rc, rel, "fp8_block", pts); break;
  case CALIB_OP_ELEMENTWISE: r = read_vidur_mlp_dir(rc, rel, &scratch, pts); break;
  case CALIB_OP_ATTN_PREFILL: r = read_aic_attention(rc, rel, true, "bfloat16", pts); break;
  case CALIB_OP_ATTN_DECODE: r = read_aic_attention(rc, rel, false, "bfloat16", pts); break;
  case CALIB_OP_ATTN_PREFILL_FP8KV: r = read_aic_attention(rc, rel, true, "fp8", pts); break;
  case CALIB_OP_ATTN_DECODE_FP8KV: r = read_aic_attention(rc, rel, false, "fp8", pts); break;
  case CALIB_OP_ALLREDUCE:
    r = vidur ? read_vidur_network(rc, rel, true, pts) : read_aic_allreduce(rc, rel, pts);
    break;
  case CALIB_OP_SENDRECV: r = read_vidur_network(rc, rel, false, pts); break;
  case CALIB_OP_CPU: r = read_vidur_cpu(rc, rel, pts); break;
  default: r = -1;
  }
  free(scratch.p);
  return r;
}

int calib_kernel_load(const calib_reader *rc, const calib_kernel_job *j, calib_points *pts) {
  int r = calib_kernel_read(rc, j->op, strstr(j->dataset, "vidur/") != NULL, j->dataset, pts);
  if (r == 0 && pts->n == 0) {
    snprintf(rc->err, rc->err_len, "%s/%s: no usable rows", rc->data_dir, j->dataset);
    r = -1;
  }
  return r;
}
