/* The efficiency fit: reads measured tables (AIConfigurator kernels, Vidur profiles), fits each
 * operator family's parameters by Nelder-Mead on squared log error, writes efficiency.csv and
 * reports median and p90 absolute percentage error per dataset and operator. */
#define _POSIX_C_SOURCE 200809L
#include "hw/fit.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/calibrate.h"
#include "hw/cost_ops.h"
#include "hw/eff_params.h"
#include "hw/embedded.h"
#include "hw/hw.h"
#include "hw/minimise.h"
#include "hw/power_ops.h"
#include "hw/systolic.h"
#include "util/csv.h"
#include "util/stats.h"

/* Where each dataset under the data directory came from (its SOURCE.md names them). */
static const char *const data_provenance[] = {
    "aiconfigurator/: github.com/ai-dynamo/aiconfigurator commit "
    "095f58a51c4ca8e61b66ec108d86f223f8d559ce",
    "vidur/data/: github.com/microsoft/vidur commit 7d47513363ec447a741ac5e47241580b47724fbf",
    "vidur/historical-6d98aa8/: github.com/microsoft/vidur commit "
    "6d98aa8f71696520acc603d87439e77cc78160a7",
};

typedef enum op_kind {
  OP_GEMM,
  OP_ATTN_PREFILL,
  OP_ATTN_DECODE,
  OP_ELEMENTWISE,
  OP_ALLREDUCE,
  OP_SENDRECV,
  OP_CPU,
  OP_GEMM_FP8,           /* W8A8 fp8, per-tensor scales: e4m3 inputs and weights, bf16 out */
  OP_GEMM_FP8_BLOCK,     /* fp8 with 128x128 weight and 1x128 activation block scales */
  OP_ATTN_PREFILL_FP8KV, /* attention over an fp8 KV cache */
  OP_ATTN_DECODE_FP8KV,
  OP_COUNT
} op_kind;

static const char *const op_names[OP_COUNT] = {
    "gemm", "attn_prefill", "attn_decode",    "elementwise",        "allreduce",        "sendrecv",
    "cpu",  "gemm_fp8",     "gemm_fp8_block", "attn_prefill_fp8kv", "attn_decode_fp8kv"};

/* The bf16 operator a dtype variant shares its shapes and readers with. */
static op_kind base_op(op_kind op) {
  switch (op) {
  case OP_GEMM_FP8:
  case OP_GEMM_FP8_BLOCK: return OP_GEMM;
  case OP_ATTN_PREFILL_FP8KV: return OP_ATTN_PREFILL;
  case OP_ATTN_DECODE_FP8KV: return OP_ATTN_DECODE;
  default: return op;
  }
}

/* One measurement: the operator's shape and the measured time. */
typedef struct point {
  double x[7];
  double measured_ns;
  double power_w; /* measured average board power; NAN where the table has none */
} point;

typedef struct points {
  point *p;
  size_t n, cap;
} points;

static int push(points *ps, const double *x, int nx, double measured_ns) {
  if (!(measured_ns > 0.0))
    return 0; /* a zero or missing time cannot be fitted in log space */
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? 2 * ps->cap : 1024;
    point *grown = realloc(ps->p, cap * sizeof *grown);
    if (!grown)
      return -1;
    ps->p = grown, ps->cap = cap;
  }
  point *p = &ps->p[ps->n++];
  memset(p, 0, sizeof *p);
  memcpy(p->x, x, (size_t)nx * sizeof *x);
  p->measured_ns = measured_ns;
  p->power_w = NAN;
  return 0;
}

/* The optional power column of the current record into the point just pushed (if one was). */
static void note_power(points *ps, size_t n_before, const util_csv *c, int col_power) {
  double w;
  if (col_power >= 0 && ps->n > n_before && util_csv_double(c, col_power, NAN, &w, NULL, 0) == 0)
    ps->p[ps->n - 1].power_w = w;
}

/* The model's prediction for one point, through the same formulas the pricing path uses.
 *   gemm:         x = m, n, k
 *   attn_prefill: x = pairs, tokens, ctx_tokens, q_heads, kv_heads, head_dim, seqs
 *   attn_decode:  x = seqs, ctx_tokens, q_heads, kv_heads, head_dim
 *   elementwise:  x = bytes, kind (hw_elem_kind)
 *   allreduce:    x = bytes, ranks;  sendrecv: x = bytes;  cpu: x = seqs */
static double predict_ns(op_kind op, const hw_eff *e, const hw_rates *r, const double *x) {
  const double dt = 2.0; /* bf16 unless the operator says otherwise */
  switch (op) {
  case OP_GEMM_FP8:
  case OP_GEMM_FP8_BLOCK: {
    /* Inputs quantised to fp8 (plus their scales), fp8 weights, bf16 output. */
    bool block = op == OP_GEMM_FP8_BLOCK;
    const hw_eff_gemm *g = block ? &e->gemm_fp8_block : &e->gemm_fp8;
    hw_dtype t = block ? HW_DTYPE_FP8_BLOCK : HW_DTYPE_FP8;
    return hw_roof_ns(g->t0_ns, hw_gemm_flops(x[0], x[1], x[2]),
                      block ? r->ns_per_flop_gemm_fp8_block : r->ns_per_flop_gemm_fp8,
                      hw_gemm_bytes_typed(x[0], x[1], x[2], 1.0, hw_gemm_input_bytes(t),
                                          hw_dtype_weight_bytes(t), dt),
                      block ? r->ns_per_byte_gemm_fp8_block : r->ns_per_byte_gemm_fp8,
                      hw_gemm_serial_of(g, x[2]));
  }
  case OP_ATTN_PREFILL_FP8KV: {
    const hw_eff_attn_prefill *p = &e->attn_prefill_fp8kv;
    return hw_roof_ns(p->t0_ns, hw_attn_prefill_flops(x[0], x[1], x[3], x[5], p->pad_tokens),
                      hw_attn_prefill_ns_per_flop(p, x[1], x[3], r->ns_per_flop_pf_fp8kv),
                      hw_attn_prefill_bytes_kv(x[1], x[2], x[3], x[4], x[5], 1.0),
                      r->ns_per_byte_pf_fp8kv, hw_attn_prefill_unit_ns(p, x[6], x[4]));
  }
  case OP_ATTN_DECODE_FP8KV:
    return hw_attn_decode_ns_of(&e->attn_decode_fp8kv, x[0], x[3],
                                hw_attn_decode_bytes_kv(x[0], x[1], x[2], x[3], x[4], 1.0),
                                r->ns_per_byte_dec_fp8kv);
  case OP_GEMM:
    return hw_roof_ns(e->gemm.t0_ns, hw_gemm_flops(x[0], x[1], x[2]), r->ns_per_flop_gemm,
                      hw_gemm_bytes(x[0], x[1], x[2], dt), r->ns_per_byte_gemm,
                      hw_gemm_serial_ns(e, x[2]));
  case OP_ATTN_PREFILL: {
    const hw_eff_attn_prefill *p = &e->attn_prefill;
    return hw_roof_ns(p->t0_ns, hw_attn_prefill_flops(x[0], x[1], x[3], x[5], p->pad_tokens),
                      hw_attn_prefill_ns_per_flop(p, x[1], x[3], r->ns_per_flop_pf),
                      hw_attn_prefill_bytes(x[1], x[2], x[3], x[4], x[5], dt), r->ns_per_byte_pf,
                      hw_attn_prefill_unit_ns(p, x[6], x[4]));
  }
  case OP_ATTN_DECODE:
    return hw_attn_decode_ns(e, x[0], x[3], hw_attn_decode_bytes(x[0], x[1], x[2], x[3], x[4], dt),
                             r->ns_per_byte_dec);
  case OP_ELEMENTWISE:
    return hw_linear_ns(e->elementwise.t0_ns, x[0], r->ns_per_byte_elem[(int)x[1]]);
  case OP_ALLREDUCE: return hw_allreduce_ns(e->allreduce.t0_ns, x[0], x[1], r->ns_per_byte_ar);
  case OP_SENDRECV: return hw_linear_ns(e->sendrecv.t0_ns, x[0], r->ns_per_byte_sr);
  case OP_CPU: return e->cpu.fixed_ns + e->cpu.per_seq_ns * x[0];
  default: return NAN;
  }
}

/* ---- error statistics ---- */

typedef struct fit_stats {
  size_t n;
  double median_pct, p90_pct;
} fit_stats;

/* ---- the fit ---- */

typedef struct fit_problem {
  op_kind op;
  const points *pts;
  hw_accel accel;       /* peaks, and eff as the starting point */
  const size_t *params; /* indices into hw_eff_params of the fitted parameters */
  int nparams;
} fit_problem;

static double loss(const void *ctx, const double *log_params) {
  const fit_problem *fp = ctx;
  hw_eff e = fp->accel.eff;
  for (int i = 0; i < fp->nparams; i++)
    *hw_eff_field(&e, fp->params[i]) = exp(log_params[i]);
  hw_rates r = hw_rates_of(&fp->accel, &e);
  double sum = 0.0;
  for (size_t i = 0; i < fp->pts->n; i++) {
    double ratio = predict_ns(fp->op, &e, &r, fp->pts->p[i].x) / fp->pts->p[i].measured_ns;
    double le = log(ratio);
    sum += le * le;
  }
  return isfinite(sum) ? sum / (double)fp->pts->n : INFINITY;
}

/* How the efficiency and power fits search: first steps of 0.3 in log space (a factor of 1.35),
 * up to 8 runs of 400 steps per parameter. */
static const hw_minimise_opts search = {
    .first_step = 0.3, .restarts = 8, .iterations_per_param = 400, .converged = 1e-12};

/* Fit the listed parameters of accel->eff to pts. */
static void fit_params(op_kind op, const points *pts, hw_accel *accel, const size_t *params,
                       int nparams) {
  fit_problem fp = {op, pts, *accel, params, nparams};
  double x[HW_MINIMISE_MAX_PARAMS];
  for (int i = 0; i < nparams; i++)
    x[i] = log(*hw_eff_field(&accel->eff, params[i]));
  hw_minimise(loss, &fp, nparams, &search, x);
  for (int i = 0; i < nparams; i++)
    *hw_eff_field(&accel->eff, params[i]) = exp(x[i]);
}

static size_t param_index(const char *op, const char *param) {
  for (size_t i = 0; i < HW_EFF_NPARAMS; i++)
    if (!strcmp(hw_eff_params[i].op, op) && !strcmp(hw_eff_params[i].param, param))
      return i;
  return (size_t)-1; /* not reached: every name below is in the table */
}

/* A point's inputs, named as the operator's shape. */
static void describe(op_kind op, const double *x, char *out, size_t len) {
  switch (base_op(op)) {
  case OP_GEMM: snprintf(out, len, "m=%g n=%g k=%g", x[0], x[1], x[2]); break;
  case OP_ATTN_PREFILL:
    snprintf(out, len, "tokens=%g pairs=%g ctx=%g q_heads=%g kv_heads=%g head_dim=%g", x[1], x[0],
             x[2], x[3], x[4], x[5]);
    break;
  case OP_ATTN_DECODE:
    snprintf(out, len, "seqs=%g ctx_tokens=%g q_heads=%g kv_heads=%g head_dim=%g", x[0], x[1], x[2],
             x[3], x[4]);
    break;
  case OP_ELEMENTWISE: snprintf(out, len, "bytes=%g kind=%g", x[0], x[1]); break;
  case OP_ALLREDUCE: snprintf(out, len, "bytes=%g ranks=%g", x[0], x[1]); break;
  case OP_SENDRECV: snprintf(out, len, "bytes=%g", x[0]); break;
  default: snprintf(out, len, "seqs=%g", x[0]); break;
  }
}

/* Evaluate pts under accel's current efficiencies: stats, the report lines, and (row not NULL)
 * the calibration row's figures and worst points. */
static fit_stats evaluate_row(op_kind op, const points *pts, const hw_accel *accel,
                              const char *dataset, const char *role, FILE *report, hw_cal_row *row);

static fit_stats evaluate(op_kind op, const points *pts, const hw_accel *accel, const char *dataset,
                          const char *role, FILE *report) {
  return evaluate_row(op, pts, accel, dataset, role, report, NULL);
}

static fit_stats evaluate_row(op_kind op, const points *pts, const hw_accel *accel,
                              const char *dataset, const char *role, FILE *report,
                              hw_cal_row *row) {
  fit_stats s = {pts->n, NAN, NAN};
  if (pts->n == 0)
    return s;
  hw_rates r = hw_rates_of(accel, &accel->eff);
  double *abs_err = malloc(pts->n * sizeof *abs_err);
  size_t worst[3] = {0, 0, 0};
  double worst_err[3] = {-1, -1, -1};
  if (!abs_err)
    return s;
  for (size_t i = 0; i < pts->n; i++) {
    double pred = predict_ns(op, &accel->eff, &r, pts->p[i].x);
    double ae = fabs(pred / pts->p[i].measured_ns - 1.0);
    abs_err[i] = ae;
    for (int w = 0; w < 3; w++)
      if (ae > worst_err[w]) {
        for (int v = 2; v > w; v--)
          worst_err[v] = worst_err[v - 1], worst[v] = worst[v - 1];
        worst_err[w] = ae, worst[w] = i;
        break;
      }
  }
  util_error_percentiles(abs_err, pts->n, &s.median_pct, &s.p90_pct);
  free(abs_err);
  if (row) {
    row->points = s.n, row->median_abs_pct = s.median_pct, row->p90_abs_pct = s.p90_pct;
    row->worst_count = 0;
    for (int w = 0; w < 3 && worst_err[w] >= 0; w++) {
      const point *p = &pts->p[worst[w]];
      char inputs[160];
      describe(op, p->x, inputs, sizeof inputs);
      snprintf(row->worst[row->worst_count++], sizeof row->worst[0],
               "%s measured_ns=%.0f modelled_ns=%.0f", inputs, p->measured_ns,
               predict_ns(op, &accel->eff, &r, p->x));
    }
  }
  if (report) {
    fprintf(report,
            "calibration dataset=%s op=%s device=%s role=%s points=%zu median_abs_pct=%.1f "
            "p90_abs_pct=%.1f\n",
            dataset, op_names[op], accel->name, role, s.n, s.median_pct, s.p90_pct);
    fprintf(report, "  parameters:");
    for (size_t k = 0; k < HW_EFF_NPARAMS; k++)
      if (!strcmp(hw_eff_params[k].op, op_names[op]))
        fprintf(report, " %s=%.4g", hw_eff_params[k].param,
                *hw_eff_field((hw_eff *)&accel->eff, k));
    fprintf(report, "\n");
    for (int w = 0; w < 3 && worst_err[w] >= 0; w++) {
      const point *p = &pts->p[worst[w]];
      fprintf(report, "  worst: x=[%g %g %g %g %g %g] measured_ns=%.0f predicted_ns=%.0f\n",
              p->x[0], p->x[1], p->x[2], p->x[3], p->x[4], p->x[5], p->measured_ns,
              predict_ns(op, &accel->eff, &r, p->x));
    }
  }
  return s;
}

/* ---- readers ---- */

typedef struct reader_ctx {
  const char *data_dir;
  char *err;
  size_t err_len;
} reader_ctx;

static int open_data(const reader_ctx *rc, util_csv *c, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", rc->data_dir, rel);
  return util_csv_open_file(c, path, rc->err, rc->err_len);
}

static int need_cols(const reader_ctx *rc, const util_csv *c, const char *const *names, int *cols,
                     int n) {
  return util_csv_need_cols(c, names, cols, n, rc->err, rc->err_len);
}

/* Read the numeric columns of the current record; -1 with a message on a malformed number. */
static int get_nums(const reader_ctx *rc, const util_csv *c, const int *cols, double *v, int n) {
  for (int i = 0; i < n; i++)
    if (util_csv_double(c, cols[i], NAN, &v[i], rc->err, rc->err_len) != 0)
      return -1;
  return 0;
}

#define FAIL_OOM(rc) (snprintf((rc)->err, (rc)->err_len, "out of memory"), -1)

/* AIConfigurator GEMM table: the rows of one gemm_dtype (bfloat16, fp8, fp8_block); latency in
 * ms. */
static int read_aic_gemm(const reader_ctx *rc, const char *rel, const char *gemm_dtype,
                         points *out) {
  util_csv c;
  if (open_data(rc, &c, rel) != 0)
    return -1;
  static const char *const names[] = {"m", "n", "k", "latency", "gemm_dtype"};
  int cols[5], r;
  if (need_cols(rc, &c, names, cols, 5) != 0) {
    util_csv_close(&c);
    return -1;
  }
  const int dtype = cols[4], col_power = util_csv_col(&c, "power");
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    if (strcmp(util_csv_get(&c, dtype), gemm_dtype) != 0)
      continue;
    double v[4];
    if (get_nums(rc, &c, cols, v, 4) != 0) {
      r = -1;
      break;
    }
    size_t n_before = out->n;
    if (push(out, v, 3, v[3] * 1e6) != 0) {
      r = FAIL_OOM(rc);
      break;
    }
    note_power(out, n_before, &c, col_power);
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* AIConfigurator attention tables: full attention (window 0) over a KV cache of kv_dtype
 * (bfloat16 or fp8); head_dim 128 (the subset kept). Context: batch_size sequences of isl tokens
 * from scratch. Generation: one token per sequence over `step` cached tokens. */
static int read_aic_attention(const reader_ctx *rc, const char *rel, bool prefill,
                              const char *kv_dtype_name, points *out) {
  util_csv c;
  if (open_data(rc, &c, rel) != 0)
    return -1;
  static const char *const pf_names[] = {"batch_size",          "isl",         "num_heads",
                                         "num_key_value_heads", "window_size", "latency",
                                         "kv_cache_dtype"};
  static const char *const dec_names[] = {"batch_size",          "step",        "num_heads",
                                          "num_key_value_heads", "window_size", "latency",
                                          "kv_cache_dtype"};
  int cols[7], r;
  if (need_cols(rc, &c, prefill ? pf_names : dec_names, cols, 7) != 0) {
    util_csv_close(&c);
    return -1;
  }
  const int kv_dtype = cols[6], col_power = util_csv_col(&c, "power");
  const double head_dim = 128.0;
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    if (strcmp(util_csv_get(&c, kv_dtype), kv_dtype_name) != 0)
      continue;
    double v[6];
    if (get_nums(rc, &c, cols, v, 6) != 0) {
      r = -1;
      break;
    }
    if (v[4] != 0.0)
      continue; /* sliding window */
    double b = v[0], len = v[1], x[7];
    if (prefill) {
      double pairs = b * len * (len + 1.0) / 2.0;
      double xp[7] = {pairs, b * len, b * len, v[2], v[3], head_dim, b};
      memcpy(x, xp, sizeof x);
    } else {
      double xd[7] = {b, b * len, v[2], v[3], head_dim, 0.0, 0.0};
      memcpy(x, xd, sizeof x);
    }
    size_t n_before = out->n;
    if (push(out, x, 7, v[5] * 1e6) != 0) {
      r = FAIL_OOM(rc);
      break;
    }
    note_power(out, n_before, &c, col_power);
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* vLLM custom all-reduce under CUDA graphs (what serving uses): message_size bf16 elements. */
static int read_aic_allreduce(const reader_ctx *rc, const char *rel, points *out) {
  util_csv c;
  if (open_data(rc, &c, rel) != 0)
    return -1;
  static const char *const names[] = {"num_gpus", "message_size", "latency", "backend"};
  int cols[4], r;
  if (need_cols(rc, &c, names, cols, 4) != 0) {
    util_csv_close(&c);
    return -1;
  }
  const int backend = cols[3];
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    if (strcmp(util_csv_get(&c, backend), "vllm_graph") != 0)
      continue;
    double v[3];
    if (get_nums(rc, &c, cols, v, 3) != 0) {
      r = -1;
      break;
    }
    double x[2] = {2.0 * v[1], v[0]};
    if (push(out, x, 2, v[2] * 1e6) != 0) {
      r = FAIL_OOM(rc);
      break;
    }
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* Vidur network profiles: size in bytes, time_stats.<collective>.median in ms. Intra-node rows only
 * (all ranks in one node), as tensor and pipeline parallelism within a node. */
static int read_vidur_network(const reader_ctx *rc, const char *rel, bool allreduce, points *out) {
  util_csv c;
  if (open_data(rc, &c, rel) != 0)
    return -1;
  static const char *const ar_names[] = {"num_workers", "devices_per_node", "size",
                                         "time_stats.all_reduce.median"};
  static const char *const sr_names[] = {"num_workers", "devices_per_node", "size",
                                         "time_stats.send_recv.median"};
  int cols[4], r;
  if (need_cols(rc, &c, allreduce ? ar_names : sr_names, cols, 4) != 0) {
    util_csv_close(&c);
    return -1;
  }
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    double v[4];
    if (get_nums(rc, &c, cols, v, 4) != 0) {
      r = -1;
      break;
    }
    if (allreduce ? v[0] != v[1] : v[1] != 2.0)
      continue; /* spans nodes */
    double x[2] = {v[2], v[0]};
    if (push(out, x, 2, v[3] * 1e6) != 0) {
      r = FAIL_OOM(rc);
      break;
    }
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* Vidur per-layer operator profiles (mlp.csv): the four projections are GEMMs of known shape; the
 * norms, rotary, activation, residual add and (at TP 1) embedding are memory-bound kernels whose
 * bytes follow from the shapes. */
static int read_vidur_mlp(const reader_ctx *rc, const char *path, points *gemm, points *elem) {
  util_csv c;
  if (util_csv_open_file(&c, path, rc->err, rc->err_len) != 0)
    return -1;
  static const char *const names[] = {"n_head",
                                      "n_kv_head",
                                      "n_embd",
                                      "n_expanded_embd",
                                      "use_gated_mlp",
                                      "num_tokens",
                                      "num_tensor_parallel_workers"};
  int cols[7], r;
  if (need_cols(rc, &c, names, cols, 7) != 0) {
    util_csv_close(&c);
    return -1;
  }
  static const char *const ops[] = {"attn_pre_proj",
                                    "attn_post_proj",
                                    "mlp_up_proj",
                                    "mlp_down_proj",
                                    "input_layernorm",
                                    "post_attention_layernorm",
                                    "attn_rope",
                                    "mlp_act",
                                    "add",
                                    "emb"};
  enum { NOPS = sizeof ops / sizeof ops[0] };
  int op_cols[NOPS];
  for (int i = 0; i < NOPS; i++) {
    char name[96];
    snprintf(name, sizeof name, "time_stats.%s.median", ops[i]);
    op_cols[i] = util_csv_col(&c, name); /* phi-2 has no post_attention_layernorm */
  }
  int gated_col = cols[4];
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    double v[7];
    int num_cols[6] = {cols[0], cols[1], cols[2], cols[3], cols[5], cols[6]};
    double nv[6];
    if (get_nums(rc, &c, num_cols, nv, 6) != 0) {
      r = -1;
      break;
    }
    v[0] = nv[0], v[1] = nv[1], v[2] = nv[2], v[3] = nv[3], v[5] = nv[4], v[6] = nv[5];
    bool gated = !strcmp(util_csv_get(&c, gated_col), "True");
    double q = v[0], kv = v[1], h = v[2], f = v[3], tokens = v[5], tp = v[6], d = h / q;
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
    for (int i = 0; i < NOPS && r == 1; i++) {
      if (op_cols[i] < 0)
        continue;
      double ms;
      if (util_csv_double(&c, op_cols[i], NAN, &ms, rc->err, rc->err_len) != 0) {
        r = -1;
        break;
      }
      int rc_push = 0;
      if (i < 4)
        rc_push = push(gemm, shapes[i], 3, ms * 1e6);
      else if (ew[i - 4][0] > 0.0)
        rc_push = push(elem, ew[i - 4], 2, ms * 1e6);
      if (rc_push != 0)
        r = FAIL_OOM(rc);
    }
    if (r != 1)
      break;
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

enum { VIDUR_MAX_FILES = 256 };

/* The paths of every <org>/<model>/mlp.csv under data_dir/rel, sorted (so the fit is
 * reproducible); the caller frees each. Returns 0, or -1 with a message (none found). */
static int list_vidur_mlp(const reader_ctx *rc, const char *rel, char **files, int *nfiles_out) {
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
      if (nfiles == VIDUR_MAX_FILES || !(files[nfiles] = strdup(path)))
        r = FAIL_OOM(rc);
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
static int read_vidur_mlp_dir(const reader_ctx *rc, const char *rel, points *gemm, points *elem) {
  char *files[VIDUR_MAX_FILES];
  int nfiles = 0, r = list_vidur_mlp(rc, rel, files, &nfiles);
  for (int i = 0; i < nfiles; i++) {
    if (r == 0)
      r = read_vidur_mlp(rc, files[i], gemm, elem);
    free(files[i]);
  }
  return r;
}

/* Vidur's CPU overheads per iteration: schedule, sampler, input preparation and output processing
 * (medians, ms), as Vidur sums them, without its Ray communication time (vLLM's Ray executor of the
 * time, not the multiprocessing executor current vLLM uses). batch_size = sequences. */
static int read_vidur_cpu(const reader_ctx *rc, const char *rel, points *out) {
  util_csv c;
  if (open_data(rc, &c, rel) != 0)
    return -1;
  static const char *const names[] = {"batch_size", "schedule_median", "sampler_e2e_median",
                                      "prepare_inputs_e2e_median", "process_model_outputs_median"};
  int cols[5], r;
  if (need_cols(rc, &c, names, cols, 5) != 0) {
    util_csv_close(&c);
    return -1;
  }
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    double v[5];
    if (get_nums(rc, &c, cols, v, 5) != 0) {
      r = -1;
      break;
    }
    if (push(out, v, 1, (v[1] + v[2] + v[3] + v[4]) * 1e6) != 0) {
      r = FAIL_OOM(rc);
      break;
    }
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* ---- the plan: which data fits which device's operator ---- */

enum { DEV_H100, DEV_H200, DEV_A100, NDEV };
static const char *const dev_names[NDEV] = {"H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB"};

typedef struct row_note {
  char fitted_from[256];
  fit_stats stats;
} row_note;

#define AIC "aiconfigurator/kernels/"
#define VIDUR "vidur/data/profiling/"

/* Starting points of the fit (order of magnitude only; the fit moves them). */
static void initial_eff(hw_eff *e) {
  memset(e, 0, sizeof *e);
  e->gemm.t0_ns = 3000, e->gemm.compute_frac = 0.7, e->gemm.mem_frac = 0.7, e->gemm.per_k_ns = 0.5;
  e->gemm.split_k = 4096;
  e->attn_prefill.t0_ns = 8000, e->attn_prefill.compute_frac = 0.6;
  e->attn_prefill.mem_frac = 0.5, e->attn_prefill.pad_tokens = 64;
  e->attn_prefill.half_rows = 5000, e->attn_prefill.per_seq_kv_head_ns = 5;
  e->attn_decode.t0_ns = 8000, e->attn_decode.per_seq_kv_head_ns = 20;
  e->attn_decode.mem_frac = 0.7, e->attn_decode.half_units = 0.5;
  e->attn_decode.serial_mix = 0.5;
  e->elementwise.t0_ns = 3000, e->elementwise.norm_frac = 0.5, e->elementwise.add_frac = 0.5;
  e->elementwise.rope_frac = 0.5, e->elementwise.act_frac = 0.5, e->elementwise.embed_frac = 0.5;
  e->allreduce.t0_ns = 5000, e->allreduce.link_frac = 0.7;
  e->sendrecv.t0_ns = 10000, e->sendrecv.link_frac = 0.7;
  e->cpu.fixed_ns = 1e6, e->cpu.per_seq_ns = 3e4;
  e->gemm_fp8 = e->gemm_fp8_block = e->gemm;
  e->gemm_fp8.split_k = e->gemm_fp8_block.split_k = 0.0; /* not fitted: no gain on fp8 */
  e->attn_prefill_fp8kv = e->attn_prefill;
  e->attn_decode_fp8kv = e->attn_decode;
}

typedef struct job {
  int dev;
  op_kind op;
  const char *dataset; /* relative to data_dir */
  const char *role;    /* "fit" or "check" */
} job;

static const job jobs[] = {
    {DEV_H100, OP_GEMM, AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv", "fit"},
    {DEV_H100, OP_ATTN_DECODE, AIC "h100_sxm_attention_vllm_0.19.0_generation_attention_perf.csv",
     "fit"},
    {DEV_H100, OP_ATTN_PREFILL, AIC "h100_sxm_attention_vllm_0.19.0_context_attention_perf.csv",
     "fit"},
    {DEV_H100, OP_ALLREDUCE, AIC "h100_sxm_comm_vllm_0.19.0_custom_allreduce_perf.csv", "fit"},
    {DEV_H100, OP_GEMM_FP8, AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv", "fit"},
    {DEV_H100, OP_GEMM_FP8_BLOCK, AIC "h100_sxm_gemm_vllm_0.19.0_gemm_perf.csv", "fit"},
    {DEV_H100, OP_ATTN_DECODE_FP8KV,
     AIC "h100_sxm_attention_vllm_0.19.0_generation_attention_perf.csv", "fit"},
    {DEV_H100, OP_ATTN_PREFILL_FP8KV,
     AIC "h100_sxm_attention_vllm_0.19.0_context_attention_perf.csv", "fit"},
    {DEV_H100, OP_SENDRECV, VIDUR "network/h100_dgx/send_recv.csv", "fit"},
    {DEV_H100, OP_ALLREDUCE, VIDUR "network/h100_dgx/all_reduce.csv", "check"},
    {DEV_H200, OP_GEMM, AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv", "fit"},
    {DEV_H200, OP_ATTN_DECODE, AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv",
     "fit"},
    {DEV_H200, OP_ATTN_PREFILL, AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv",
     "fit"},
    {DEV_H200, OP_ALLREDUCE, AIC "h200_sxm_comm_vllm_0.19.0_custom_allreduce_perf.csv", "fit"},
    {DEV_H200, OP_GEMM_FP8_BLOCK, AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv", "fit"},
    {DEV_H200, OP_ATTN_DECODE_FP8KV,
     AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv", "fit"},
    {DEV_H200, OP_ATTN_PREFILL_FP8KV,
     AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv", "fit"},
    {DEV_A100, OP_GEMM, VIDUR "compute/a100", "fit"},
    {DEV_A100, OP_ELEMENTWISE, VIDUR "compute/a100", "fit"},
    {DEV_A100, OP_ALLREDUCE, VIDUR "network/a100_dgx/all_reduce.csv", "check"},
    {DEV_A100, OP_SENDRECV, VIDUR "network/a100_dgx/send_recv.csv", "fit"},
    {DEV_A100, OP_CPU, "vidur/historical-6d98aa8/data/profiling/a100/cpu_overheads.csv", "fit"},
    {DEV_A100, OP_CPU, "vidur/historical-6d98aa8/data/profiling/a40/cpu_overheads.csv", "check"},
};
#define NJOBS (sizeof jobs / sizeof jobs[0])

/* Operators a device has no data for take another device's fit, as fractions of its own peaks. */
typedef struct transfer {
  int dev;
  op_kind op;
  int from;
  const char *why;
} transfer;

static const transfer transfers[] = {
    {DEV_H100, OP_ELEMENTWISE, DEV_A100, "Vidur's H100 profiles are not in the data"},
    {DEV_H200, OP_ELEMENTWISE, DEV_A100, "Vidur's H100 profiles are not in the data"},
    {DEV_H200, OP_SENDRECV, DEV_H100, "no H200 send/recv profile; same NVLink4"},
    {DEV_H200, OP_GEMM_FP8, DEV_H100, "no per-tensor fp8 rows for H200; same GH100 tensor cores"},
    {DEV_H200, OP_CPU, DEV_A100, "host overhead; only A100 hosts were profiled"},
    {DEV_H100, OP_CPU, DEV_A100, "host overhead; only A100 hosts were profiled"},
    {DEV_A100, OP_ATTN_PREFILL, DEV_H100, "Vidur's A100 attention.csv files are missing"},
    {DEV_A100, OP_ATTN_DECODE, DEV_H100, "Vidur's A100 attention.csv files are missing"},
    {DEV_A100, OP_ALLREDUCE, DEV_H100,
     "Vidur's A100 all-reduce is NCCL in eager mode, not vLLM's custom all-reduce under CUDA "
     "graphs "
     "(on H100 the two sources differ by about 30 us per call)"},
};

static const char *const op_params[OP_COUNT][HW_MINIMISE_MAX_PARAMS] = {
    [OP_GEMM] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns", "split_k"},
    [OP_ATTN_PREFILL] = {"t0_ns", "compute_frac", "mem_frac", "pad_tokens", "half_rows",
                         "per_seq_kv_head_ns"},
    [OP_ATTN_DECODE] = {"t0_ns", "per_seq_kv_head_ns", "mem_frac", "half_units", "serial_mix"},
    [OP_ELEMENTWISE] = {"t0_ns", "norm_frac", "add_frac", "rope_frac", "act_frac", "embed_frac"},
    [OP_ALLREDUCE] = {"t0_ns", "link_frac"},
    [OP_SENDRECV] = {"t0_ns", "link_frac"},
    [OP_CPU] = {"fixed_ns", "per_seq_ns"},
    [OP_GEMM_FP8] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns"},
    [OP_GEMM_FP8_BLOCK] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns"},
    [OP_ATTN_PREFILL_FP8KV] = {"t0_ns", "compute_frac", "mem_frac", "pad_tokens", "half_rows",
                               "per_seq_kv_head_ns"},
    [OP_ATTN_DECODE_FP8KV] = {"t0_ns", "per_seq_kv_head_ns", "mem_frac", "half_units",
                              "serial_mix"},
};

/* Parameters a fit takes from another operator of the same device, fitted before it (jobs order),
 * instead of fitting them: prefill attention reads the same KV cache as decode attention, and its
 * tables are compute-bound almost everywhere, so they cannot place its HBM fraction (fitted, it
 * ran to 1.7 on H100 and 3e6 on H200); decode's fit, memory-bound, can. */
static const struct {
  op_kind op, from;
  const char *param;
} borrowed[] = {
    {OP_ATTN_PREFILL, OP_ATTN_DECODE, "mem_frac"},
    {OP_ATTN_PREFILL_FP8KV, OP_ATTN_DECODE_FP8KV, "mem_frac"},
};

/* Whether op's param is borrowed; if so, copies it into e from the operator it borrows from. */
static bool borrow(hw_eff *e, op_kind op, const char *param) {
  for (size_t i = 0; i < sizeof borrowed / sizeof *borrowed; i++)
    if (borrowed[i].op == op && !strcmp(borrowed[i].param, param)) {
      *hw_eff_field(e, param_index(op_names[op], param)) = *hw_eff_field(
          e, param_index(op_names[borrowed[i].from], param));
      return true;
    }
  return false;
}

static int nparams_of(op_kind op) {
  int n = 0;
  while (n < HW_MINIMISE_MAX_PARAMS && op_params[op][n])
    n++;
  return n;
}

static void copy_op(hw_eff *to, const hw_eff *from, op_kind op) {
  for (int i = 0; i < nparams_of(op); i++) {
    size_t k = param_index(op_names[op], op_params[op][i]);
    *hw_eff_field(to, k) = *hw_eff_field((hw_eff *)from, k);
  }
}

static int load_job(const reader_ctx *rc, const job *j, points *pts) {
  points scratch = {0};
  int r;
  switch (j->op) {
  case OP_GEMM:
    r = strstr(j->dataset, "vidur/") ? read_vidur_mlp_dir(rc, j->dataset, pts, &scratch)
                                     : read_aic_gemm(rc, j->dataset, "bfloat16", pts);
    break;
  case OP_GEMM_FP8: r = read_aic_gemm(rc, j->dataset, "fp8", pts); break;
  case OP_GEMM_FP8_BLOCK: r = read_aic_gemm(rc, j->dataset, "fp8_block", pts); break;
  case OP_ELEMENTWISE: r = read_vidur_mlp_dir(rc, j->dataset, &scratch, pts); break;
  case OP_ATTN_PREFILL: r = read_aic_attention(rc, j->dataset, true, "bfloat16", pts); break;
  case OP_ATTN_DECODE: r = read_aic_attention(rc, j->dataset, false, "bfloat16", pts); break;
  case OP_ATTN_PREFILL_FP8KV: r = read_aic_attention(rc, j->dataset, true, "fp8", pts); break;
  case OP_ATTN_DECODE_FP8KV: r = read_aic_attention(rc, j->dataset, false, "fp8", pts); break;
  case OP_ALLREDUCE:
    r = strstr(j->dataset, "vidur/") ? read_vidur_network(rc, j->dataset, true, pts)
                                     : read_aic_allreduce(rc, j->dataset, pts);
    break;
  case OP_SENDRECV: r = read_vidur_network(rc, j->dataset, false, pts); break;
  case OP_CPU: r = read_vidur_cpu(rc, j->dataset, pts); break;
  default: r = -1;
  }
  free(scratch.p);
  if (r == 0 && pts->n == 0) {
    snprintf(rc->err, rc->err_len, "%s/%s: no usable rows", rc->data_dir, j->dataset);
    r = -1;
  }
  return r;
}

static int write_efficiency(const char *out_path, const char *data_dir, const hw_accel *devs,
                            row_note notes[NDEV][OP_COUNT], char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(out_path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Fitted efficiency parameters of the hw/ cost model (models in hw/cost_ops.h and "
          "hw/data/SOURCES.md).\n");
  fprintf(f,
          "# Written by `wt_hw_fit %s hw/data/efficiency.csv` (hw_fit, hw/fit.c): do not edit "
          "by hand.\n",
          data_dir);
  for (size_t i = 0; i < sizeof data_provenance / sizeof *data_provenance; i++)
    fprintf(f, "# data %s\n", data_provenance[i]);
  fprintf(f,
          "# The errors are the fit's own (median and p90 |predicted/measured - 1|, percent) "
          "over its points; 'default' (H100's fit) serves accelerators without a fit.\n");
  fprintf(f, "device,op,param,value,fitted_from,points,median_abs_pct,p90_abs_pct\n");
  for (int dev = 0; dev <= NDEV; dev++) {
    int src = dev == NDEV ? DEV_H100 : dev;
    const char *name = dev == NDEV ? "default" : dev_names[dev];
    for (int op = 0; op < OP_COUNT; op++) {
      const row_note *note = &notes[src][op];
      if (!note->fitted_from[0])
        continue; /* no data and no transfer (A100's fp8): the catalogue falls back to bf16 */
      for (int i = 0; i < nparams_of(op); i++) {
        size_t k = param_index(op_names[op], op_params[op][i]);
        double v = *hw_eff_field((hw_eff *)&devs[src].eff, k);
        char from[320];
        if (dev == NDEV && src == DEV_H100 && op != OP_CPU)
          snprintf(from, sizeof from, "default: as H100-SXM-80GB (%.250s)", note->fitted_from);
        else
          snprintf(from, sizeof from, "%.250s", note->fitted_from);
        fprintf(f, "%s,%s,%s,%.6g,\"%s\",", name, op_names[op], op_params[op][i], v, from);
        if (note->stats.n)
          fprintf(f, "%zu,%.1f,%.1f\n", note->stats.n, note->stats.median_pct, note->stats.p90_pct);
        else
          fprintf(f, "0,,\n");
      }
    }
  }
  return util_csv_commit(f, tmp, out_path, err, err_len);
}

/* ---- power (hw/data/power.csv; the model is in hw/power.c and hw/power_ops.h) ---- */

/* Host power per accelerator: SplitwiseSim's server idle power (power_model.py, quoted in
 * splitwise-sim/SOURCE.md: 2,800 W for a DGX H100, 1,500 W for a DGX A100) less its 8 GPUs at their
 * idle power (power_model_constant.yaml: 75 W and 63 W), per GPU. The DGX H200 shares the DGX
 * H100's host; 'default' takes it too. */
static const double dgx_h100_server_idle_w = 2800.0, dgx_a100_server_idle_w = 1500.0;
static const double dgx_gpus = 8.0;

/* SplitwiseSim's per-GPU phase powers (splitwise-sim/power_model_constant.yaml), checked against.
 */
static const double sw_prompt_w[NDEV] = {[DEV_H100] = 700.0, [DEV_A100] = 400.0};
static const double sw_token_w[NDEV] = {[DEV_H100] = 380.0, [DEV_A100] = 250.0};

/* The power-capped H100 of perf_model.csv: the DGX H100 SKU's 10,200 W against the capped SKU's
 * 7,140 W (sku_dgx-h100*.yaml). Per GPU, taking the server's non-GPU share (10,200 - 8 x 700 W)
 * as unchanged by the cap: (7,140 - 4,600) / 8 W. */
static const double sku_dgx_h100_w = 10200.0, sku_dgx_h100_pcap_w = 7140.0;
static const double h100_tdp_w = 700.0;

#define SPLITWISE "splitwise-sim/perf_model.csv"

static const struct {
  op_kind op;
  const char *dataset;
} power_sets[] = {
    {OP_GEMM, AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv"},
    {OP_ATTN_PREFILL, AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv"},
    {OP_ATTN_DECODE, AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv"},
};
enum { NPOWER_SETS = sizeof power_sets / sizeof *power_sets };

typedef struct power_point {
  double u_c, u_m, kernel_ns, power_w, weight;
  int set;
} power_point;

typedef struct power_fit {
  power_point *p;
  size_t n;
  hw_power power; /* idle_w fixed; the rest of the busy draw and launch_gap_ns fitted */
  double tdp_w;
} power_fit;

/* The kernel's utilisations over its measured time, from the FLOPs and bytes the cost model
 * counts for it (prefill attention with the device's fitted causal padding, as priced). */
static void kernel_utilisation(op_kind op, const hw_accel *a, const point *pt, double *u_c,
                               double *u_m) {
  const double *x = pt->x, dt = 2.0;
  double flops = 0.0, bytes = 0.0;
  if (op == OP_GEMM) {
    flops = hw_gemm_flops(x[0], x[1], x[2]), bytes = hw_gemm_bytes(x[0], x[1], x[2], dt);
  } else if (op == OP_ATTN_PREFILL) {
    flops = hw_attn_prefill_flops(x[0], x[1], x[3], x[5], a->eff.attn_prefill.pad_tokens);
    bytes = hw_attn_prefill_bytes(x[1], x[2], x[3], x[4], x[5], dt);
  } else {
    flops = hw_attn_decode_flops(x[1], x[2], x[4]);
    bytes = hw_attn_decode_bytes(x[0], x[1], x[2], x[3], x[4], dt);
  }
  double per_s = 1e9 / pt->measured_ns;
  *u_c = flops * per_s / a->peak_bf16_flops, *u_m = bytes * per_s / a->hbm_bytes_per_s;
}

enum { NPOWER_PARAMS = 4 };

/* The fitted parameters, all positive, from their logarithms. */
static void power_from_log(hw_power *p, const double *log_params) {
  p->base_w = exp(log_params[0]), p->compute_k = exp(log_params[1]);
  p->memory_k = exp(log_params[2]), p->launch_gap_ns = exp(log_params[3]);
}

static double power_loss(const void *ctx, const double *log_params) {
  const power_fit *pf = ctx;
  hw_power p = pf->power;
  power_from_log(&p, log_params);
  double sum = 0.0;
  for (size_t i = 0; i < pf->n; i++) {
    const power_point *q = &pf->p[i];
    double le = log(hw_power_replayed_w(&p, pf->tdp_w, q->u_c, q->u_m, q->kernel_ns) / q->power_w);
    sum += q->weight * le * le;
  }
  return isfinite(sum) ? sum : INFINITY;
}

/* Median and p90 of |predicted / measured - 1| in percent over n ratios (sorted in place). */
static fit_stats ratio_stats(double *abs_err, size_t n) {
  fit_stats s = {.n = n};
  util_error_percentiles(abs_err, n, &s.median_pct, &s.p90_pct);
  return s;
}

static void print_power_line(FILE *report, const char *dataset, const char *op, fit_stats s) {
  if (report)
    fprintf(report, "power dataset=%s op=%s points=%zu median_abs_pct=%.1f p90_abs_pct=%.1f\n",
            dataset, op, s.n, s.median_pct, s.p90_pct);
}

/* Load the kernel rows that carry power, fit (when fitting) base_w, compute_k, memory_k and
 * launch_gap_ns by Nelder-Mead (log parameters) on the mean squared log error of
 * the replayed draw (hw_power_replayed_w: each row's measured latency between launch gaps) over
 * every point, and report the error per table. *all: the error over every point. */
static int fit_kernel_power(const reader_ctx *rc, const hw_accel *a, hw_power *power, bool fitting,
                            FILE *report, fit_stats *all) {
  power_fit pf = {NULL, 0, *power, a->tdp_w};
  size_t cap = 0, counts[NPOWER_SETS] = {0};
  int r = 0;
  for (int s = 0; s < NPOWER_SETS && r == 0; s++) {
    job jb = {DEV_H200, power_sets[s].op, power_sets[s].dataset, "fit"};
    points pts = {0};
    r = load_job(rc, &jb, &pts);
    for (size_t i = 0; i < pts.n && r == 0; i++) {
      if (!(pts.p[i].power_w > 0.0))
        continue;
      if (pf.n == cap) {
        cap = cap ? 2 * cap : 65536;
        power_point *grown = realloc(pf.p, cap * sizeof *grown);
        if (!grown) {
          r = FAIL_OOM(rc);
          break;
        }
        pf.p = grown;
      }
      power_point *q = &pf.p[pf.n++];
      kernel_utilisation(power_sets[s].op, a, &pts.p[i], &q->u_c, &q->u_m);
      q->kernel_ns = pts.p[i].measured_ns, q->power_w = pts.p[i].power_w, q->set = s, counts[s]++;
    }
    free(pts.p);
    if (r == 0 && counts[s] == 0) {
      snprintf(rc->err, rc->err_len, "%s/%s: no rows with power", rc->data_dir,
               power_sets[s].dataset);
      r = -1;
    }
  }
  if (r == 0 && fitting) {
    for (size_t i = 0; i < pf.n; i++)
      pf.p[i].weight = 1.0 / (double)pf.n;
    /* Starting point, orders of magnitude: base 300 W, saturation rates 2 and 1, a 5 us gap. */
    double x[NPOWER_PARAMS] = {log(300.0), log(2.0), log(1.0), log(5000.0)};
    hw_minimise(power_loss, &pf, NPOWER_PARAMS, &search, x);
    power_from_log(power, x);
  }
  double *abs_err = r == 0 ? malloc((pf.n ? pf.n : 1) * sizeof *abs_err) : NULL;
  if (r == 0 && !abs_err)
    r = FAIL_OOM(rc);
  for (int s = 0; s <= NPOWER_SETS && r == 0; s++) { /* s == NPOWER_SETS: all points */
    size_t n = 0;
    for (size_t i = 0; i < pf.n; i++)
      if (s == NPOWER_SETS || pf.p[i].set == s)
        abs_err[n++] = fabs(
            hw_power_replayed_w(power, a->tdp_w, pf.p[i].u_c, pf.p[i].u_m, pf.p[i].kernel_ns) /
                pf.p[i].power_w -
            1.0);
    fit_stats st = ratio_stats(abs_err, n);
    if (s < NPOWER_SETS)
      print_power_line(report, power_sets[s].dataset, op_names[power_sets[s].op], st);
    else
      *all = st;
  }
  free(abs_err);
  free(pf.p);
  return r;
}

/* One Llama-2-70B row pair of perf_model.csv: the device's row and, for H100, the capped one. */
typedef struct sw_row {
  int dev; /* DEV_H100 or DEV_A100; -1: the capped H100 */
  double tp, prompt, batch, tokens, prompt_ms, token_ms, avg_power, peak_power;
} sw_row;

typedef struct sw_rows {
  sw_row *r;
  size_t n, cap;
} sw_rows;

static int read_splitwise(const reader_ctx *rc, sw_rows *out) {
  util_csv c;
  if (open_data(rc, &c, SPLITWISE) != 0)
    return -1;
  static const char *const names[] = {
      "tensor_parallel", "prompt_size",   "batch_size", "token_size", "prompt_time",
      "token_time",      "average_power", "peak_power", "model",      "hardware"};
  int cols[10], r;
  if (need_cols(rc, &c, names, cols, 10) != 0) {
    util_csv_close(&c);
    return -1;
  }
  while ((r = util_csv_next(&c, rc->err, rc->err_len)) == 1) {
    const char *hwname = util_csv_get(&c, cols[9]);
    int dev = !strcmp(hwname, "h100-80gb")        ? DEV_H100
              : !strcmp(hwname, "a100-80gb")      ? DEV_A100
              : !strcmp(hwname, "h100-80gb-pcap") ? -1
                                                  : -2;
    if (dev == -2 || strcmp(util_csv_get(&c, cols[8]), "llama2-70b") != 0)
      continue; /* BLOOM-176B is not in the model catalogue */
    double v[8];
    if (get_nums(rc, &c, cols, v, 8) != 0) {
      r = -1;
      break;
    }
    if (out->n == out->cap) {
      out->cap = out->cap ? 2 * out->cap : 1024;
      sw_row *grown = realloc(out->r, out->cap * sizeof *grown);
      if (!grown) {
        r = FAIL_OOM(rc);
        break;
      }
      out->r = grown;
    }
    sw_row row = {dev, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    out->r[out->n++] = row;
  }
  util_csv_close(&c);
  if (r == 0 && out->n == 0) {
    snprintf(rc->err, rc->err_len, "%s/%s: no llama2-70b rows", rc->data_dir, SPLITWISE);
    r = -1;
  }
  return r < 0 ? -1 : 0;
}

/* Prefill of the row's whole batch, and one decode step half-way through its generation. */
static void sw_batches(const sw_row *row, hw_batch *prompt, hw_batch *token) {
  memset(prompt, 0, sizeof *prompt), memset(token, 0, sizeof *token);
  double b = row->batch, len = row->prompt;
  prompt->prefill_seqs = (uint32_t)b;
  prompt->prefill_tokens = (uint32_t)(b * len);
  prompt->prefill_attn_pairs = (uint64_t)(b * len * (len + 1.0) / 2.0);
  prompt->prefill_ctx_tokens = (uint64_t)(b * len);
  token->decode_seqs = (uint32_t)b;
  token->decode_ctx_tokens = (uint64_t)(b * (len + row->tokens / 2.0));
}

typedef struct cap_problem {
  const sw_rows *rows;
  const hw_deploy *deploys; /* H100, uncapped, by TP 1..8 (index tp) */
  double cap_w;
} cap_problem;

/* Mean squared log error of the model's capped/uncapped time ratios against the measured ones
 * (prompt and token) over the capped rows, each paired with the uncapped row of its key. */
static double cap_loss(const cap_problem *cp, double cap_exponent, double *abs_err_prompt,
                       double *abs_err_token, size_t *n_pairs) {
  double sum = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < cp->rows->n; i++) {
    const sw_row *cr = &cp->rows->r[i];
    if (cr->dev != -1 || cr->tp > 8.0)
      continue;
    const sw_row *ur = NULL; /* the n-th uncapped row of the key pairs with its n-th capped row */
    size_t rank = 0;
    for (size_t j = 0; j < i; j++) {
      const sw_row *x = &cp->rows->r[j];
      if (x->dev == -1 && x->tp == cr->tp && x->prompt == cr->prompt && x->batch == cr->batch &&
          x->tokens == cr->tokens)
        rank++;
    }
    for (size_t j = 0; j < cp->rows->n && !ur; j++) {
      const sw_row *x = &cp->rows->r[j];
      if (x->dev == DEV_H100 && x->tp == cr->tp && x->prompt == cr->prompt &&
          x->batch == cr->batch && x->tokens == cr->tokens && rank-- == 0)
        ur = x;
    }
    if (!ur)
      continue;
    hw_deploy d = cp->deploys[(int)cr->tp];
    hw_deploy capped = d;
    capped.cfg.power_cap_w = cp->cap_w;
    capped.accel.power.cap_exponent = cap_exponent;
    hw_batch pb, tb;
    sw_batches(cr, &pb, &tb);
    double pr = (double)hw_iteration_ns(&capped, &pb, NULL) /
                (double)hw_iteration_ns(&d, &pb, NULL);
    double tr = (double)hw_iteration_ns(&capped, &tb, NULL) /
                (double)hw_iteration_ns(&d, &tb, NULL);
    double mp = cr->prompt_ms / ur->prompt_ms, mt = cr->token_ms / ur->token_ms;
    sum += log(pr / mp) * log(pr / mp) + log(tr / mt) * log(tr / mt);
    if (abs_err_prompt)
      abs_err_prompt[n] = fabs(pr / mp - 1.0), abs_err_token[n] = fabs(tr / mt - 1.0);
    n++;
  }
  if (n_pairs)
    *n_pairs = n;
  return n ? sum / (double)n : INFINITY;
}

/* Golden-section search of the cap exponent in [0.5, 8] (log scale): deterministic, one
 * parameter. */
static double fit_cap_exponent(const cap_problem *cp) {
  const double g = 0.5 * (sqrt(5.0) - 1.0);
  double lo = log(0.5), hi = log(8.0);
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = cap_loss(cp, exp(x1), NULL, NULL, NULL), f2 = cap_loss(cp, exp(x2), NULL, NULL, NULL);
  for (int it = 0; it < 60; it++) {
    if (f1 <= f2)
      hi = x2, x2 = x1, f2 = f1, x1 = hi - g * (hi - lo),
      f1 = cap_loss(cp, exp(x1), NULL, NULL, NULL);
    else
      lo = x1, x1 = x2, f1 = f2, x2 = lo + g * (hi - lo),
      f2 = cap_loss(cp, exp(x2), NULL, NULL, NULL);
  }
  return exp(0.5 * (lo + hi));
}

typedef struct phase_notes {
  fit_stats constant[NDEV]; /* against power_model_constant.yaml, per device */
  fit_stats pcap_prompt, pcap_token;
  double cap_w;
} phase_notes;

/* The phase-level checks against SplitwiseSim, and (when fitting) the cap exponent. */
static int splitwise_checks(const reader_ctx *rc, const hw_catalog *cat, hw_accel *devs,
                            bool fitting, FILE *report, phase_notes *notes) {
  sw_rows rows = {0};
  if (read_splitwise(rc, &rows) != 0)
    return -1;
  const hw_model *llama = hw_catalog_model(cat, "Llama-2-70B");
  int r = 0;
  hw_deploy deploys[NDEV][9];
  memset(deploys, 0, sizeof deploys);
  for (int dev = 0; dev < NDEV && r == 0; dev++)
    for (uint32_t tp = 2; tp <= 8 && r == 0; tp *= 2) {
      hw_deploy_config cfg = {.tp = tp};
      if (!llama ||
          hw_deploy_init(&deploys[dev][tp], &devs[dev], llama, &cfg, rc->err, rc->err_len) != 0) {
        if (!llama)
          snprintf(rc->err, rc->err_len, "model catalogue lacks Llama-2-70B");
        r = -1;
      }
    }
  size_t n = rows.n;
  double *e1 = r == 0 ? malloc(2 * n * sizeof *e1) : NULL, *e2 = e1 ? e1 + n : NULL;
  if (r == 0 && !e1)
    r = FAIL_OOM(rc);
  /* SplitwiseSim's constant phase powers, and perf_model.csv's normalised powers (A100 only: its
   * H100 rows carry 0), against the model's average power over the priced iterations. */
  size_t na = 0, np = 0;
  double *avg_err = r == 0 ? malloc(2 * n * sizeof *avg_err) : NULL, *peak_err = avg_err + n;
  if (r == 0 && !avg_err)
    r = FAIL_OOM(rc);
  for (int dev = 0; dev < NDEV && r == 0; dev++) {
    if (!(sw_prompt_w[dev] > 0.0))
      continue;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
      const sw_row *row = &rows.r[i];
      if (row->dev != dev)
        continue;
      hw_batch pb, tb;
      hw_breakdown bp, bt;
      sw_batches(row, &pb, &tb);
      hw_iteration_ns(&deploys[dev][(int)row->tp], &pb, &bp);
      hw_iteration_ns(&deploys[dev][(int)row->tp], &tb, &bt);
      e1[m++] = fabs(bp.power_w / sw_prompt_w[dev] - 1.0);
      e1[m++] = fabs(bt.power_w / sw_token_w[dev] - 1.0);
      if (row->avg_power > 0.0) {
        double tp_ns = bp.total_ns, tt_ns = bt.total_ns * row->tokens, tdp = devs[dev].tdp_w;
        double avg = (bp.power_w * tp_ns + bt.power_w * tt_ns) / (tp_ns + tt_ns) / tdp;
        avg_err[na++] = fabs(avg / row->avg_power - 1.0);
        peak_err[np++] = fabs(fmax(bp.power_w, bt.power_w) / tdp / row->peak_power - 1.0);
      }
    }
    notes->constant[dev] = ratio_stats(e1, m);
    char name[128];
    snprintf(name, sizeof name, "splitwise-sim/power_model_constant.yaml#%s",
             dev == DEV_H100 ? "h100-80gb" : "a100-80gb");
    print_power_line(report, name, "phase", notes->constant[dev]);
  }
  if (r == 0) {
    print_power_line(report, SPLITWISE "#a100_average_power", "phase", ratio_stats(avg_err, na));
    print_power_line(report, SPLITWISE "#a100_peak_power", "phase", ratio_stats(peak_err, np));
  }
  /* The capped H100: fit the exponent to the time ratios (when fitting), then report them. */
  if (r == 0) {
    cap_problem cp = {&rows, deploys[DEV_H100],
                      (sku_dgx_h100_pcap_w - (sku_dgx_h100_w - dgx_gpus * h100_tdp_w)) / dgx_gpus};
    notes->cap_w = cp.cap_w;
    if (fitting) {
      double gamma = fit_cap_exponent(&cp);
      for (int dev = 0; dev < NDEV; dev++)
        devs[dev].power.cap_exponent = gamma;
    }
    size_t pairs = 0;
    cap_loss(&cp, devs[DEV_H100].power.cap_exponent, e1, e2, &pairs);
    notes->pcap_prompt = ratio_stats(e1, pairs);
    notes->pcap_token = ratio_stats(e2, pairs);
    print_power_line(report, SPLITWISE "#h100_pcap_prompt_time_ratio", "phase", notes->pcap_prompt);
    print_power_line(report, SPLITWISE "#h100_pcap_token_time_ratio", "phase", notes->pcap_token);
    if (report)
      fprintf(report, "  cap: %.1f W per GPU, cap_exponent=%.4g\n", cp.cap_w,
              devs[DEV_H100].power.cap_exponent);
  }
  free(avg_err);
  free(e1);
  free(rows.r);
  return r;
}

/* The data rows of power.csv (header included), as the fit writes them. */
static void format_power_rows(FILE *f, const hw_accel *devs, fit_stats kernel_all,
                              const phase_notes *notes) {
  fprintf(f,
          "device,tdp_w,idle_w,base_w,compute_k,memory_k,launch_gap_ns,cap_exponent,"
          "host_w,method,dataset,points,median_abs_pct,p90_abs_pct\n");
  static const int order[] = {DEV_H200, DEV_H100, DEV_A100, NDEV};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    int dev = order[i] == NDEV ? DEV_H200 : order[i];
    const hw_power *p = &devs[dev].power;
    const char *name = order[i] == NDEV ? "default" : dev_names[dev];
    const char *method, *dataset;
    fit_stats st = kernel_all;
    if (order[i] == DEV_H200) {
      method =
          "fit: base_w compute_k memory_k launch_gap_ns to kernel power (idle_w: "
          "H100's; cap_exponent: from H100-SXM-80GB)";
      dataset = AIC "h200_sxm_{gemm,context_attention,generation_attention}*_perf.csv";
    } else if (order[i] == NDEV) {
      method =
          "H200-SXM-141GB's row; for accelerators without a row the catalogue scales it to "
          "their tdp_w and idle_w";
      dataset = "";
      st.n = 0;
    } else {
      method = dev == DEV_H100 ? "H200-SXM-141GB's fit scaled to tdp_w - idle_w; cap_exponent "
                                 "fitted to the capped H100 time ratios"
                               : "H200-SXM-141GB's fit scaled to tdp_w - idle_w";
      dataset = "splitwise-sim/power_model_constant.yaml (check: phase power)";
      st = notes->constant[dev];
    }
    fprintf(f, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,\"%s\",\"%s\",", name, devs[dev].tdp_w,
            p->idle_w, p->base_w, p->compute_k, p->memory_k, p->launch_gap_ns, p->cap_exponent,
            p->host_w, method, dataset);
    if (st.n)
      fprintf(f, "%zu,%.1f,%.1f\n", st.n, st.median_pct, st.p90_pct);
    else
      fprintf(f, "0,,\n");
  }
}

/* The data lines of a CSV text: everything but comment lines. */
static char *data_lines(const char *text, size_t len) {
  char *out = malloc(len + 1);
  size_t n = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < len;) {
    size_t end = i;
    while (end < len && text[end] != '\n')
      end++;
    if (text[i] != '#') {
      memcpy(out + n, text + i, end - i);
      n += end - i;
      out[n++] = '\n';
    }
    i = end + 1;
  }
  out[n] = '\0';
  return out;
}

/* Fit (or, with out_path NULL, refit in memory and check against the shipped file) the power
 * models; devs carry their efficiencies and, in check mode, their shipped power models. */
static int fit_power(const reader_ctx *rc, const hw_catalog *cat, hw_accel *devs,
                     const char *out_path, FILE *report) {
  bool fitting = out_path != NULL;
  hw_accel fitted[NDEV];
  memcpy(fitted, devs, sizeof fitted);
  /* Idle powers: accelerators.csv (SplitwiseSim's constants) for H100 and A100; the H200 board has
   * none there and takes the H100's (same GH100 chip and 700 W board limit). */
  hw_power *h200 = &fitted[DEV_H200].power;
  memset(h200, 0, sizeof *h200);
  h200->idle_w = fitted[DEV_H100].idle_w;
  fit_stats kernel_all;
  if (fit_kernel_power(rc, &fitted[DEV_H200], h200, true, fitting ? report : NULL, &kernel_all) !=
      0)
    return -1;
  h200->host_w = (dgx_h100_server_idle_w - dgx_gpus * fitted[DEV_H100].idle_w) / dgx_gpus;
  for (int dev = 0; dev < NDEV; dev++) {
    if (dev == DEV_H200)
      continue;
    fitted[dev].power = hw_power_scaled(h200, fitted[DEV_H200].tdp_w, fitted[dev].tdp_w,
                                        fitted[dev].idle_w);
    fitted[dev].power.host_w = dev == DEV_A100
                                   ? (dgx_a100_server_idle_w - dgx_gpus * fitted[DEV_A100].idle_w) /
                                         dgx_gpus
                                   : h200->host_w;
  }
  phase_notes notes;
  memset(&notes, 0, sizeof notes);
  if (splitwise_checks(rc, cat, fitted, true, fitting ? report : NULL, &notes) != 0)
    return -1;
  char *rows = NULL;
  size_t rows_len = 0;
  FILE *mem = open_memstream(&rows, &rows_len);
  if (!mem)
    return FAIL_OOM(rc);
  format_power_rows(mem, fitted, kernel_all, &notes);
  fclose(mem);
  int r = 0;
  if (fitting) {
    char tmp[UTIL_CSV_TMP_BYTES];
    FILE *f = util_csv_create(out_path, tmp, rc->err, rc->err_len);
    if (!f) {
      free(rows);
      return -1;
    }
    fprintf(f,
            "# Fitted board power models of the hw/ power model (hw/power.c, hw/data/SOURCES.md "
            "\"Power\").\n");
    fprintf(f,
            "# Written by `wt_hw_fit %s <dir>/efficiency.csv` (hw_fit, hw/fit.c) beside "
            "efficiency.csv: do not edit by hand.\n",
            rc->data_dir);
    fprintf(f,
            "# Watts; compute_k, memory_k, cap_exponent dimensionless; launch_gap_ns in "
            "ns. Errors: median and p90 |predicted/measured - 1| in percent; the cap is %.1f W per "
            "H100 (perf_model.csv's h100-80gb-pcap).\n",
            notes.cap_w);
    fputs(rows, f);
    r = util_csv_commit(f, tmp, out_path, rc->err, rc->err_len);
  } else {
    /* Check: the shipped parameters' errors, then whether the refit reproduces the shipped file. */
    fit_stats unused;
    hw_power shipped = devs[DEV_H200].power;
    if (fit_kernel_power(rc, &devs[DEV_H200], &shipped, false, report, &unused) != 0 ||
        splitwise_checks(rc, cat, devs, false, report, &notes) != 0) {
      free(rows);
      return -1;
    }
    char *committed = data_lines(hw_data_power_csv, hw_data_power_csv_len);
    bool same = committed && !strcmp(committed, rows);
    if (report)
      fprintf(report, "power reproduced=%s\n", same ? "yes" : "no");
    if (!same) {
      snprintf(rc->err, rc->err_len,
               "hw/data/power.csv is not what the fit writes from this data: refit it");
      r = -1;
    }
    free(committed);
  }
  free(rows);
  return r;
}

int hw_fit(const char *data_dir, const char *out_path, FILE *report, char *err, size_t err_len) {
  if (out_path) { /* an unwritable output fails now, not after the fit */
    char tmp[UTIL_CSV_TMP_BYTES];
    FILE *f = util_csv_create(out_path, tmp, err, err_len);
    if (!f)
      return -1;
    fclose(f);
    remove(tmp);
  }
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  hw_accel devs[NDEV];
  for (int i = 0; i < NDEV; i++) {
    const hw_accel *a = hw_catalog_accel(cat, dev_names[i]);
    if (!a) {
      snprintf(err, err_len, "accelerator catalogue lacks %s", dev_names[i]);
      hw_catalog_destroy(cat);
      return -1;
    }
    devs[i] = *a;
    if (out_path)
      initial_eff(&devs[i].eff); /* refit from scratch; else check the shipped parameters */
  }

  bool fitting = out_path != NULL;
  reader_ctx rc = {data_dir, err, err_len};
  static row_note notes[NDEV][OP_COUNT];
  memset(notes, 0, sizeof notes);
  int result = 0;
  /* Fits first, in job order (all fits precede the checks of the same operator by construction);
   * transfers after the fits they copy. */
  for (int pass = 0; pass < 2 && result == 0; pass++) {
    for (size_t j = 0; j < NJOBS && result == 0; j++) {
      const job *jb = &jobs[j];
      bool is_fit = !strcmp(jb->role, "fit");
      if ((pass == 0) != is_fit)
        continue;
      points pts = {0};
      if (load_job(&rc, jb, &pts) != 0) {
        free(pts.p);
        if (fitting && is_fit) {
          result = -1; /* a fit cannot be written without its data */
          break;
        }
        if (report) /* evaluating, or an optional check: note it and go on */
          fprintf(report, "calibration dataset=%s op=%s skipped: %s\n", jb->dataset,
                  op_names[jb->op], err);
        continue;
      }
      hw_accel *dev = &devs[jb->dev];
      if (is_fit && fitting) {
        size_t idx[HW_MINIMISE_MAX_PARAMS];
        int n = 0;
        for (int i = 0; i < nparams_of(jb->op); i++)
          if (!borrow(&dev->eff, jb->op, op_params[jb->op][i]))
            idx[n++] = param_index(op_names[jb->op], op_params[jb->op][i]);
        fit_params(jb->op, &pts, dev, idx, n);
      }
      fit_stats s = evaluate(jb->op, &pts, dev, jb->dataset, jb->role, report);
      if (is_fit) {
        notes[jb->dev][jb->op].stats = s;
        snprintf(notes[jb->dev][jb->op].fitted_from, sizeof notes[0][0].fitted_from, "%s",
                 jb->dataset);
      }
      free(pts.p);
    }
    if (pass == 0 && fitting)
      for (size_t t = 0; t < sizeof transfers / sizeof *transfers; t++) {
        const transfer *tr = &transfers[t];
        copy_op(&devs[tr->dev].eff, &devs[tr->from].eff, tr->op);
        row_note *note = &notes[tr->dev][tr->op];
        snprintf(note->fitted_from, sizeof note->fitted_from, "transferred from %s: %s",
                 dev_names[tr->from], tr->why);
        note->stats.n = 0;
      }
  }
  if (result == 0 && fitting)
    result = write_efficiency(out_path, data_dir, devs, notes, err, err_len);
  /* The power models, from the efficiencies just fitted (or shipped), into power.csv beside. */
  if (result == 0) {
    char power_path[4096];
    if (fitting) {
      /* As written (%.6g), so that a check from the shipped files refits the same power models. */
      for (int dev = 0; dev < NDEV; dev++)
        for (size_t k = 0; k < HW_EFF_NPARAMS; k++) {
          char text[32];
          snprintf(text, sizeof text, "%.6g", *hw_eff_field(&devs[dev].eff, k));
          *hw_eff_field(&devs[dev].eff, k) = strtod(text, NULL);
        }
      const char *slash = strrchr(out_path, '/');
      int dir_len = slash ? (int)(slash - out_path + 1) : 0;
      snprintf(power_path, sizeof power_path, "%.*spower.csv", dir_len, out_path);
    }
    result = fit_power(&rc, cat, devs, fitting ? power_path : NULL, report);
  }
  if (result == 0) /* the systolic (TPU-like) model: systolic.csv beside (hw/fit_systolic.c) */
    result = hw_fit_systolic(data_dir, out_path, report, err, err_len);
  hw_catalog_destroy(cat);
  return result;
}

/* ---- evaluation for `windtunnel calibrate` (hw/calibrate.h) ---- */

double hw_fit_splitwise_cap_w(void) {
  return (sku_dgx_h100_pcap_w - (sku_dgx_h100_w - dgx_gpus * h100_tdp_w)) / dgx_gpus;
}

/* A row for dataset/op on device: evaluated on pts, or skipped with the message in err. */
static int add_row(hw_cal_rows *out, const char *dataset, op_kind op, const hw_accel *dev,
                   const points *pts, const char *skipped) {
  hw_cal_row row;
  memset(&row, 0, sizeof row);
  snprintf(row.dataset, sizeof row.dataset, "%s", dataset);
  snprintf(row.op, sizeof row.op, "%s", op_names[op]);
  snprintf(row.device, sizeof row.device, "%s", dev ? dev->name : "");
  if (skipped)
    snprintf(row.note, sizeof row.note, "skipped: %s", skipped);
  else
    evaluate_row(op, pts, dev, dataset, "check", NULL, &row);
  return hw_cal_rows_add(out, &row);
}

/* Vidur's operator profiles of devices the catalogue has no datasheet values for. */
static const struct { const char *dir, *device; } vidur_unpriced[] = {{VIDUR "compute/a40", "A40"}};

int hw_fit_evaluate(const char *data_dir, hw_cal_rows *out, char *err, size_t err_len) {
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  const hw_accel *devs[NDEV];
  for (int i = 0; i < NDEV; i++)
    if (!(devs[i] = hw_catalog_accel(cat, dev_names[i]))) {
      snprintf(err, err_len, "accelerator catalogue lacks %s", dev_names[i]);
      hw_catalog_destroy(cat);
      return -1;
    }
  reader_ctx rc = {data_dir, err, err_len};
  size_t prefix = strlen(data_dir) + 1; /* data_dir and the slash */
  int result = 0;
  for (size_t j = 0; j < NJOBS && result == 0; j++) {
    const job *jb = &jobs[j];
    points pts = {0}, scratch = {0};
    if (strstr(jb->dataset, "compute/")) { /* one row per Vidur model file */
      char *files[VIDUR_MAX_FILES];
      int nfiles = 0;
      if (list_vidur_mlp(&rc, jb->dataset, files, &nfiles) != 0 && nfiles == 0) {
        result = add_row(out, jb->dataset, jb->op, devs[jb->dev], NULL, err);
        continue;
      }
      for (int i = 0; i < nfiles; i++) {
        pts.n = scratch.n = 0;
        if (result == 0) {
          const char *rel = strlen(files[i]) > prefix ? files[i] + prefix : files[i];
          int r = jb->op == OP_GEMM ? read_vidur_mlp(&rc, files[i], &pts, &scratch)
                                    : read_vidur_mlp(&rc, files[i], &scratch, &pts);
          result = add_row(out, rel, jb->op, devs[jb->dev], &pts,
                           r != 0       ? err
                           : pts.n == 0 ? "no usable rows"
                                        : NULL);
        }
        free(files[i]);
      }
    } else {
      int r = load_job(&rc, jb, &pts);
      result = add_row(out, jb->dataset, jb->op, devs[jb->dev], &pts, r != 0 ? err : NULL);
    }
    free(pts.p);
    free(scratch.p);
  }
  for (size_t u = 0; u < sizeof vidur_unpriced / sizeof *vidur_unpriced && result == 0; u++) {
    char *files[VIDUR_MAX_FILES];
    int nfiles = 0;
    if (list_vidur_mlp(&rc, vidur_unpriced[u].dir, files, &nfiles) != 0 && nfiles == 0)
      continue; /* absent: nothing to say */
    char why[160];
    snprintf(why, sizeof why, "no datasheet values for %s in the catalogue or the data directory",
             vidur_unpriced[u].device);
    for (int i = 0; i < nfiles; i++) {
      const char *rel = strlen(files[i]) > prefix ? files[i] + prefix : files[i];
      if (result == 0)
        result = add_row(out, rel, OP_GEMM, NULL, NULL, why);
      free(files[i]);
    }
  }
  hw_catalog_destroy(cat);
  if (result != 0)
    snprintf(err, err_len, "out of memory");
  return result;
}
