/* The power fit (power.csv; the model is hw/power.c and hw/power_ops.h): board power fitted to the
 * H200 kernel tables' measured power, scaled to the other devices, checked against SplitwiseSim's
 * phase powers, with the power cap's exponent fitted to its capped H100 time ratios. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "calib/argonne.h"
#include "calib/fit.h"
#include "calib/kernels.h"
#include "calib/minimise.h"
#include "hw/embedded.h"
#include "hw/power_ops.h"
#include "util/array.h"
#include "util/error.h"
#include "util/stats.h"

/* Host power per accelerator: SplitwiseSim's server idle power (power_model.py, quoted in
 * splitwise-sim/SOURCE.md: 2,800 W for a DGX H100, 1,500 W for a DGX A100) less its 8 GPUs at their
 * idle power (power_model_constant.yaml: 75 W and 63 W), per GPU. The DGX H200 shares the DGX
 * H100's host; 'default' takes it too. */
static const double dgx_h100_server_idle_w = 2800.0, dgx_a100_server_idle_w = 1500.0;
static const double dgx_gpus = 8.0;

/* SplitwiseSim's per-GPU phase powers (splitwise-sim/power_model_constant.yaml), checked against.
 */
static const double sw_prompt_w[CALIB_NDEV] = {[CALIB_DEV_H100] = 700.0, [CALIB_DEV_A100] = 400.0};
static const double sw_token_w[CALIB_NDEV] = {[CALIB_DEV_H100] = 380.0, [CALIB_DEV_A100] = 250.0};

/* The power-capped H100 of perf_model.csv: the DGX H100 SKU's 10,200 W against the capped SKU's
 * 7,140 W (sku_dgx-h100*.yaml). Per GPU, taking the server's non-GPU share (10,200 - 8 x 700 W)
 * as unchanged by the cap: (7,140 - 4,600) / 8 W. */
static const double sku_dgx_h100_w = 10200.0, sku_dgx_h100_pcap_w = 7140.0;
static const double h100_tdp_w = 700.0;

#define SPLITWISE "splitwise-sim/perf_model.csv"

/* How the power fit searches: as the efficiency fit (calib/fit_kernels.c). */
static const calib_minimise_opts search = {
    .first_step = 0.3, .restarts = 8, .iterations_per_param = 400, .converged = 1e-12};

static const struct {
  calib_op op;
  const char *dataset;
} power_sets[] = {
    {CALIB_OP_GEMM, CALIB_AIC "h200_sxm_gemm_vllm_0.22.0_gemm_perf.csv"},
    {CALIB_OP_ATTN_PREFILL, CALIB_AIC "h200_sxm_attention_vllm_0.22.0_context_attention_perf.csv"},
    {CALIB_OP_ATTN_DECODE,
     CALIB_AIC "h200_sxm_attention_vllm_0.22.0_generation_attention_perf.csv"},
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
static void kernel_utilisation(calib_op op, const hw_accel *a, const calib_point *pt, double *u_c,
                               double *u_m) {
  const double *x = pt->x, dt = 2.0;
  double flops = 0.0, bytes = 0.0;
  if (op == CALIB_OP_GEMM) {
    flops = hw_gemm_flops(x[0], x[1], x[2]), bytes = hw_gemm_bytes(x[0], x[1], x[2], dt);
  } else if (op == CALIB_OP_ATTN_PREFILL) {
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
static calib_stats ratio_stats(double *abs_err, size_t n) {
  calib_stats s = {.n = n};
  util_error_percentiles(abs_err, n, &s.median_pct, &s.p90_pct);
  return s;
}

static void print_power_line(FILE *report, const char *dataset, const char *op, calib_stats s) {
  if (report)
    fprintf(report, "power dataset=%s op=%s points=%zu median_abs_pct=%.1f p90_abs_pct=%.1f\n",
            dataset, op, s.n, s.median_pct, s.p90_pct);
}

/* Load the kernel rows that carry power, fit (when fitting) base_w, compute_k, memory_k and
 * launch_gap_ns by Nelder-Mead (log parameters) on the mean squared log error of
 * the replayed draw (hw_power_replayed_w: each row's measured latency between launch gaps) over
 * every point, and report the error per table. *all: the error over every point. */
static int fit_kernel_power(const calib_reader *rc, const hw_accel *a, hw_power *power,
                            bool fitting, FILE *report, calib_stats *all) {
  power_fit pf = {NULL, 0, *power, a->tdp_w};
  size_t cap = 0, counts[NPOWER_SETS] = {0};
  int r = 0;
  for (int s = 0; s < NPOWER_SETS && r == 0; s++) {
    calib_kernel_job jb = {CALIB_DEV_H200, power_sets[s].op, power_sets[s].dataset, "fit"};
    calib_points pts = {0};
    r = calib_kernel_load(rc, &jb, &pts);
    for (size_t i = 0; i < pts.n && r == 0; i++) {
      if (!(pts.p[i].power_w > 0.0))
        continue;
      power_point *grown = util_grow(pf.p, &cap, pf.n + 1, sizeof *grown);
      if (!grown) {
        r = util_err(rc->err, rc->err_len, "out of memory");
        break;
      }
      pf.p = grown;
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
    calib_minimise(power_loss, &pf, NPOWER_PARAMS, &search, x);
    power_from_log(power, x);
  }
  double *abs_err = r == 0 ? malloc((pf.n ? pf.n : 1) * sizeof *abs_err) : NULL;
  if (r == 0 && !abs_err)
    r = util_err(rc->err, rc->err_len, "out of memory");
  for (int s = 0; s <= NPOWER_SETS && r == 0; s++) { /* s == NPOWER_SETS: all points */
    size_t n = 0;
    for (size_t i = 0; i < pf.n; i++)
      if (s == NPOWER_SETS || pf.p[i].set == s)
        abs_err[n++] = fabs(
            hw_power_replayed_w(power, a->tdp_w, pf.p[i].u_c, pf.p[i].u_m, pf.p[i].kernel_ns) /
                pf.p[i].power_w -
            1.0);
    calib_stats st = ratio_stats(abs_err, n);
    if (s < NPOWER_SETS)
      print_power_line(report, power_sets[s].dataset, calib_op_names[power_sets[s].op], st);
    else
      *all = st;
  }
  free(abs_err);
  free(pf.p);
  return r;
}

/* One Llama-2-70B row pair of perf_model.csv: the device's row and, for H100, the capped one. */
typedef struct sw_row {
  int dev; /* CALIB_DEV_H100 or CALIB_DEV_A100; -1: the capped H100 */
  double tp, prompt, batch, tokens, prompt_ms, token_ms, avg_power, peak_power;
} sw_row;

typedef struct sw_rows {
  sw_row *r;
  size_t n, cap;
} sw_rows;

static int splitwise_record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx) {
  sw_rows *out = ctx;
  const char *hwname = util_csv_get(c, cols[9]);
  int dev = !strcmp(hwname, "h100-80gb")        ? CALIB_DEV_H100
            : !strcmp(hwname, "a100-80gb")      ? CALIB_DEV_A100
            : !strcmp(hwname, "h100-80gb-pcap") ? -1
                                                : -2;
  if (dev == -2 || strcmp(util_csv_get(c, cols[8]), "llama2-70b") != 0)
    return 0; /* BLOOM-176B is not in the model catalogue */
  double v[8];
  if (calib_reader_nums(rc, c, cols, v, 8) != 0)
    return -1;
  sw_row *grown = util_grow(out->r, &out->cap, out->n + 1, sizeof *grown);
  if (!grown)
    return util_err(rc->err, rc->err_len, "out of memory");
  out->r = grown;
  out->r[out->n++] = (sw_row){dev, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  return 0;
}

static int read_splitwise(const calib_reader *rc, sw_rows *out) {
  static const char *const names[] = {
      "tensor_parallel", "prompt_size",   "batch_size", "token_size", "prompt_time",
      "token_time",      "average_power", "peak_power", "model",      "hardware"};
  util_csv c;
  if (calib_reader_open(rc, &c, SPLITWISE) != 0 ||
      calib_reader_each(rc, &c, names, 10, NULL, 0, splitwise_record, out) != 0)
    return -1;
  if (out->n == 0)
    return util_err(rc->err, rc->err_len, "%s/%s: no llama2-70b rows", rc->data_dir, SPLITWISE);
  return 0;
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
      if (x->dev == CALIB_DEV_H100 && x->tp == cr->tp && x->prompt == cr->prompt &&
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
  calib_stats constant[CALIB_NDEV]; /* against power_model_constant.yaml, per device */
  calib_stats pcap_prompt, pcap_token;
  double cap_w;
} phase_notes;

/* The phase-level checks against SplitwiseSim, and (when fitting) the cap exponent. */
static int splitwise_checks(const calib_reader *rc, const hw_catalog *cat, hw_accel *devs,
                            bool fitting, FILE *report, phase_notes *notes) {
  sw_rows rows = {0};
  if (read_splitwise(rc, &rows) != 0)
    return -1;
  const hw_model *llama = hw_catalog_model(cat, "Llama-2-70B");
  int r = 0;
  hw_deploy deploys[CALIB_NDEV][9];
  memset(deploys, 0, sizeof deploys);
  for (int dev = 0; dev < CALIB_NDEV && r == 0; dev++)
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
    r = util_err(rc->err, rc->err_len, "out of memory");
  /* SplitwiseSim's constant phase powers, and perf_model.csv's normalised powers (A100 only: its
   * H100 rows carry 0), against the model's average power over the priced iterations. */
  size_t na = 0, np = 0;
  double *avg_err = r == 0 ? malloc(2 * n * sizeof *avg_err) : NULL, *peak_err = avg_err + n;
  if (r == 0 && !avg_err)
    r = util_err(rc->err, rc->err_len, "out of memory");
  for (int dev = 0; dev < CALIB_NDEV && r == 0; dev++) {
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
             dev == CALIB_DEV_H100 ? "h100-80gb" : "a100-80gb");
    print_power_line(report, name, "phase", notes->constant[dev]);
  }
  if (r == 0) {
    print_power_line(report, SPLITWISE "#a100_average_power", "phase", ratio_stats(avg_err, na));
    print_power_line(report, SPLITWISE "#a100_peak_power", "phase", ratio_stats(peak_err, np));
  }
  /* The capped H100: fit the exponent to the time ratios (when fitting), then report them. */
  if (r == 0) {
    cap_problem cp = {&rows, deploys[CALIB_DEV_H100], calib_splitwise_cap_w()};
    notes->cap_w = cp.cap_w;
    if (fitting) {
      double gamma = fit_cap_exponent(&cp);
      for (int dev = 0; dev < CALIB_NDEV; dev++)
        devs[dev].power.cap_exponent = gamma;
    }
    size_t pairs = 0;
    cap_loss(&cp, devs[CALIB_DEV_H100].power.cap_exponent, e1, e2, &pairs);
    notes->pcap_prompt = ratio_stats(e1, pairs);
    notes->pcap_token = ratio_stats(e2, pairs);
    print_power_line(report, SPLITWISE "#h100_pcap_prompt_time_ratio", "phase", notes->pcap_prompt);
    print_power_line(report, SPLITWISE "#h100_pcap_token_time_ratio", "phase", notes->pcap_token);
    if (report)
      fprintf(report, "  cap: %.1f W per GPU, cap_exponent=%.4g\n", cp.cap_w,
              devs[CALIB_DEV_H100].power.cap_exponent);
  }
  free(avg_err);
  free(e1);
  free(rows.r);
  return r;
}

/* Argonne's whole-run power (calib/argonne.h): the catalogue devices its hardware is priced as. */
static const int argonne_dev[CALIB_ARGONNE_NDEV] = {
    [CALIB_ARGONNE_A100] = CALIB_DEV_A100, [CALIB_ARGONNE_H100] = CALIB_DEV_H100};

/* One device's whole-run fit: its runs, the power model being fitted and its board's TDP. */
typedef struct argonne_fit {
  const calib_argonne_runs *runs;
  int dev; /* CALIB_ARGONNE_* */
  hw_power power;
  double tdp_w;
} argonne_fit;

/* Only gap_w is fitted: the runs cannot tell a higher wait power from a steeper busy draw. Freeing
 * compute_k and memory_k as well pins gap_w at idle_w on both devices (and base_w too when it is
 * free), with these errors (median / p90 %, vLLM and TensorRT-LLM runs): H100 5.5 / 11.6, A100
 * 7.2-7.3 / 10.9-12.2 (three parameters), H100 5.6 / 11.1, A100 4.6-4.9 / 8.5-10.3 (four), against
 * H100 3.9 / 14.5 and A100 7.1-9.7 / 10.9-14.3 here; the busy draw stays the kernel-measured one
 * (hw/data/SOURCES.md, "Whole-run power"). */
enum { NARGONNE_PARAMS = 1 };

/* gap_w above idle_w, from its logarithm. */
static void argonne_from_log(hw_power *p, const double *x) { p->gap_w = p->idle_w + exp(x[0]); }

/* Mean squared log error of the predicted readings of the device's runs: those of vLLM and
 * TensorRT-LLM, whose run times the model prices within 10% (DeepSpeed-MII's host time is not the
 * modelled one: its batches of 16-64 run 26-72% longer than priced). */
static double argonne_loss(const void *ctx, const double *x) {
  const argonne_fit *af = ctx;
  hw_power p = af->power;
  argonne_from_log(&p, x);
  double sum = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < af->runs->n; i++) {
    const calib_argonne_run *r = &af->runs->r[i];
    if (r->dev == af->dev && r->fw != CALIB_ARGONNE_DSMII) {
      double le = log(calib_argonne_predicted_w(af->runs, r, &p, af->tdp_w) / r->measured_w);
      sum += le * le, n++;
    }
  }
  return n && isfinite(sum) ? sum / (double)n : INFINITY;
}

/* The error of each system's predicted readings (device and framework, and all of a device's)
 * under each device's power model; *all_dev: each device's over all its runs. */
static void argonne_report(const calib_argonne_runs *runs, const hw_power *power,
                           const double *tdp_w, const char *role, FILE *report,
                           calib_stats all_dev[CALIB_ARGONNE_NDEV], double *abs_err) {
  for (int dev = 0; dev < CALIB_ARGONNE_NDEV; dev++)
    for (int fw = 0; fw <= CALIB_ARGONNE_NFW; fw++) { /* fw == NFW: all */
      size_t n = 0;
      double pred = 0.0, meas = 0.0, t_err = 0.0;
      for (size_t i = 0; i < runs->n; i++) {
        const calib_argonne_run *r = &runs->r[i];
        if (r->dev != dev || (fw < CALIB_ARGONNE_NFW && r->fw != fw))
          continue;
        double p = calib_argonne_predicted_w(runs, r, &power[dev], tdp_w[dev]);
        abs_err[n++] = fabs(p / r->measured_w - 1.0);
        pred += p, meas += r->measured_w, t_err += fabs(r->run_s / r->measured_s - 1.0);
      }
      if (n == 0)
        continue;
      double mean_t_err = t_err / (double)n;
      calib_stats st = ratio_stats(abs_err, n);
      if (fw == CALIB_ARGONNE_NFW)
        all_dev[dev] = st;
      if (report)
        fprintf(report,
                "power dataset=%s op=avg_power.%s.%s role=%s points=%zu median_abs_pct=%.1f "
                "p90_abs_pct=%.1f mean_measured_w=%.1f mean_predicted_w=%.1f "
                "mean_abs_latency_err_pct=%.1f\n",
                CALIB_ARGONNE_POWER, calib_argonne_dev_names[dev],
                fw < CALIB_ARGONNE_NFW ? calib_argonne_fw_names[fw] : "all", role, st.n,
                st.median_pct, st.p90_pct, meas / (double)n, pred / (double)n, 100.0 * mean_t_err);
    }
}

/* Argonne's whole-run power: each run priced with the devices' efficiencies. When fitting, report
 * the error of the model before this fit (the H200's busy draw scaled, waits at idle_w), then fit
 * each device's gap_w to its vLLM and TensorRT-LLM runs by Nelder-Mead (on log(gap_w - idle_w));
 * report the error of the devices' models, then every run. 0, or -1 with a message. */
static int argonne_checks(const calib_reader *rc, const hw_catalog *cat, hw_accel *devs,
                          bool fitting, FILE *report, calib_stats all_dev[CALIB_ARGONNE_NDEV]) {
  const hw_accel *priced[CALIB_ARGONNE_NDEV];
  for (int i = 0; i < CALIB_ARGONNE_NDEV; i++)
    priced[i] = &devs[argonne_dev[i]];
  calib_argonne_runs runs = {0};
  int r = calib_argonne_load(rc, cat, priced, &runs);
  if (r == 1)
    r = util_err(rc->err, rc->err_len, "%s/%s: not found", rc->data_dir, CALIB_ARGONNE_POWER);
  double *abs_err = r == 0 ? malloc((runs.n ? runs.n : 1) * sizeof *abs_err) : NULL;
  if (r == 0 && !abs_err)
    r = util_err(rc->err, rc->err_len, "out of memory");
  if (r == 0) {
    hw_power before[CALIB_ARGONNE_NDEV], now[CALIB_ARGONNE_NDEV];
    double tdp[CALIB_ARGONNE_NDEV];
    for (int i = 0; i < CALIB_ARGONNE_NDEV; i++) {
      hw_power *p = &devs[argonne_dev[i]].power;
      tdp[i] = devs[argonne_dev[i]].tdp_w;
      before[i] = *p;
      before[i].gap_w = p->idle_w;
      if (fitting) {
        argonne_fit af = {&runs, i, *p, tdp[i]};
        double x[NARGONNE_PARAMS] = {log(0.5 * (p->base_w - p->idle_w))};
        calib_minimise(argonne_loss, &af, NARGONNE_PARAMS, &search, x);
        argonne_from_log(p, x);
      }
      now[i] = *p;
    }
    calib_stats unused[CALIB_ARGONNE_NDEV];
    if (fitting)
      argonne_report(&runs, before, tdp, "before", report, unused, abs_err);
    argonne_report(&runs, now, tdp, fitting ? "fit" : "check", report, all_dev, abs_err);
    for (size_t i = 0; i < runs.n && report; i++) {
      const calib_argonne_run *x = &runs.r[i];
      fprintf(report,
              "  run %s.%s model=%s batch=%g length=%g waves=%g measured_w=%.1f "
              "predicted_w=%.1f measured_s=%.2f predicted_s=%.2f wait_share=%.3f\n",
              calib_argonne_dev_names[x->dev], calib_argonne_fw_names[x->fw], x->model, x->batch,
              x->length, x->waves, x->measured_w,
              calib_argonne_predicted_w(&runs, x, &now[x->dev], tdp[x->dev]), x->measured_s,
              x->run_s, x->wait_s / (x->run_s + x->tail_s));
    }
    if (report && runs.unpriced)
      fprintf(report, "power dataset=%s skipped=%zu rows (%s)\n", CALIB_ARGONNE_POWER,
              runs.unpriced, runs.unpriced_why);
  }
  free(abs_err);
  calib_argonne_free(&runs);
  return r;
}

/* The data rows of power.csv (header included), as the fit writes them. */
static void format_power_rows(FILE *f, const hw_accel *devs, calib_stats kernel_all,
                              const calib_stats argonne[CALIB_ARGONNE_NDEV]) {
  fprintf(f,
          "device,tdp_w,idle_w,base_w,compute_k,memory_k,launch_gap_ns,cap_exponent,"
          "host_w,gap_w,method,dataset,points,median_abs_pct,p90_abs_pct\n");
  static const int order[] = {CALIB_DEV_H200, CALIB_DEV_H100, CALIB_DEV_A100, CALIB_NDEV};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    int dev = order[i] == CALIB_NDEV ? CALIB_DEV_H200 : order[i];
    const hw_power *p = &devs[dev].power;
    const char *name = order[i] == CALIB_NDEV ? "default" : calib_dev_names[dev];
    const char *method, *dataset;
    calib_stats st = kernel_all;
    if (order[i] == CALIB_DEV_H200) {
      method =
          "fit: base_w compute_k memory_k launch_gap_ns to kernel power (idle_w: "
          "H100's; cap_exponent and gap_w: from H100-SXM-80GB)";
      dataset = CALIB_AIC "h200_sxm_{gemm,context_attention,generation_attention}*_perf.csv";
    } else if (order[i] == CALIB_NDEV) {
      method =
          "H200-SXM-141GB's row; for accelerators without a row the catalogue scales it to "
          "their tdp_w and idle_w";
      dataset = "";
      st.n = 0;
    } else {
      method = dev == CALIB_DEV_H100
                   ? "H200-SXM-141GB's fit scaled to tdp_w - idle_w; gap_w fitted to its "
                     "whole-run power; cap_exponent fitted to the capped H100 time ratios"
                   : "H200-SXM-141GB's fit scaled to tdp_w - idle_w; gap_w fitted to its "
                     "whole-run power";
      dataset = CALIB_ARGONNE_POWER;
      st = argonne[dev == CALIB_DEV_H100 ? CALIB_ARGONNE_H100 : CALIB_ARGONNE_A100];
    }
    fprintf(f, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,\"%s\",\"%s\",", name,
            devs[dev].tdp_w, p->idle_w, p->base_w, p->compute_k, p->memory_k, p->launch_gap_ns,
            p->cap_exponent, p->host_w, p->gap_w, method, dataset);
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
int calib_fit_power(const calib_reader *rc, const hw_catalog *cat, hw_accel *devs,
                    const char *out_path, FILE *report) {
  bool fitting = out_path != NULL;
  hw_accel fitted[CALIB_NDEV];
  memcpy(fitted, devs, sizeof fitted);
  /* Idle powers: accelerators.csv (SplitwiseSim's constants) for H100 and A100; the H200 board has
   * none there and takes the H100's (same GH100 chip and 700 W board limit). */
  hw_power *h200 = &fitted[CALIB_DEV_H200].power;
  memset(h200, 0, sizeof *h200);
  h200->idle_w = fitted[CALIB_DEV_H100].idle_w;
  h200->gap_w = h200->idle_w; /* until the whole-run fit below */
  calib_stats kernel_all;
  if (fit_kernel_power(rc, &fitted[CALIB_DEV_H200], h200, true, fitting ? report : NULL,
                       &kernel_all) != 0)
    return -1;
  h200->host_w = (dgx_h100_server_idle_w - dgx_gpus * fitted[CALIB_DEV_H100].idle_w) / dgx_gpus;
  for (int dev = 0; dev < CALIB_NDEV; dev++) {
    if (dev == CALIB_DEV_H200)
      continue;
    fitted[dev].power = hw_power_scaled(h200, fitted[CALIB_DEV_H200].tdp_w, fitted[dev].tdp_w,
                                        fitted[dev].idle_w);
    fitted[dev].power.host_w =
        dev == CALIB_DEV_A100
            ? (dgx_a100_server_idle_w - dgx_gpus * fitted[CALIB_DEV_A100].idle_w) / dgx_gpus
            : h200->host_w;
  }
  phase_notes notes;
  memset(&notes, 0, sizeof notes);
  calib_stats argonne[CALIB_ARGONNE_NDEV];
  memset(argonne, 0, sizeof argonne);
  if (argonne_checks(rc, cat, fitted, true, fitting ? report : NULL, argonne) != 0 ||
      splitwise_checks(rc, cat, fitted, true, fitting ? report : NULL, &notes) != 0)
    return -1;
  /* The H200 (and the default) take the H100's wait power: same GH100 chip and 700 W board, so
   * the H100's place in tdp - idle is the same watts. */
  h200->gap_w = fitted[CALIB_DEV_H100].power.gap_w;
  char *rows = NULL;
  size_t rows_len = 0;
  FILE *mem = open_memstream(&rows, &rows_len);
  if (!mem)
    return util_err(rc->err, rc->err_len, "out of memory");
  format_power_rows(mem, fitted, kernel_all, argonne);
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
    fprintf(
        f,
        "# Written by `wt_hw_fit %s <dir>/efficiency.csv` (calib_fit_hw, calib/fit_power.c) beside "
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
    calib_stats unused;
    hw_power shipped = devs[CALIB_DEV_H200].power;
    if (fit_kernel_power(rc, &devs[CALIB_DEV_H200], &shipped, false, report, &unused) != 0 ||
        splitwise_checks(rc, cat, devs, false, report, &notes) != 0 ||
        argonne_checks(rc, cat, devs, false, report, argonne) != 0) {
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

double calib_splitwise_cap_w(void) {
  return (sku_dgx_h100_pcap_w - (sku_dgx_h100_w - dgx_gpus * h100_tdp_w)) / dgx_gpus;
}
