/* The efficiency fit: each operator family's parameters fitted by Nelder-Mead on squared log
 * error to the measured kernel tables (calib/kernel_data.c), written as efficiency.csv with the
 * median and p90 error per dataset; then the power and systolic fits beside it (calib_fit_hw). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "calib/fit.h"
#include "calib/kernels.h"
#include "calib/minimise.h"
#include "calib/output.h"
#include "hw/eff_params.h"

/* Where each dataset under the data directory came from (its SOURCE.md names them). */
static const char *const data_provenance[] = {
    "aiconfigurator/: github.com/ai-dynamo/aiconfigurator commit "
    "095f58a51c4ca8e61b66ec108d86f223f8d559ce",
    "vidur/data/: github.com/microsoft/vidur commit 7d47513363ec447a741ac5e47241580b47724fbf",
    "vidur/historical-6d98aa8/: github.com/microsoft/vidur commit "
    "6d98aa8f71696520acc603d87439e77cc78160a7",
};

typedef struct fit_problem {
  calib_op op;
  const calib_points *pts;
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
    double ratio = calib_kernel_predict_ns(fp->op, &e, &r, fp->pts->p[i].x) /
                   fp->pts->p[i].measured_ns;
    double le = log(ratio);
    sum += le * le;
  }
  return isfinite(sum) ? sum / (double)fp->pts->n : INFINITY;
}

/* How the efficiency and power fits search: first steps of 0.3 in log space (a factor of 1.35),
 * up to 8 runs of 400 steps per parameter. */
static const calib_minimise_opts search = {
    .first_step = 0.3, .restarts = 8, .iterations_per_param = 400, .converged = 1e-12};

/* Fit the listed parameters of accel->eff to pts. */
static void fit_params(calib_op op, const calib_points *pts, hw_accel *accel, const size_t *params,
                       int nparams) {
  fit_problem fp = {op, pts, *accel, params, nparams};
  double x[CALIB_MINIMISE_MAX_PARAMS];
  for (int i = 0; i < nparams; i++)
    x[i] = log(*hw_eff_field(&accel->eff, params[i]));
  calib_minimise(loss, &fp, nparams, &search, x);
  for (int i = 0; i < nparams; i++)
    *hw_eff_field(&accel->eff, params[i]) = exp(x[i]);
}

static size_t param_index(const char *op, const char *param) {
  for (size_t i = 0; i < HW_EFF_NPARAMS; i++)
    if (!strcmp(hw_eff_params[i].op, op) && !strcmp(hw_eff_params[i].param, param))
      return i;
  return (size_t)-1; /* not reached: every name below is in the table */
}

typedef struct row_note {
  char fitted_from[256];
  calib_stats stats;
} row_note;

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

/* Operators a device has no data for take another device's fit, as fractions of its own peaks. */
typedef struct transfer {
  int dev;
  calib_op op;
  int from;
  const char *why;
} transfer;

static const transfer transfers[] = {
    {CALIB_DEV_H100, CALIB_OP_ELEMENTWISE, CALIB_DEV_A100,
     "Vidur's H100 profiles are not in the data"},
    {CALIB_DEV_H200, CALIB_OP_ELEMENTWISE, CALIB_DEV_A100,
     "Vidur's H100 profiles are not in the data"},
    {CALIB_DEV_H200, CALIB_OP_SENDRECV, CALIB_DEV_H100, "no H200 send/recv profile; same NVLink4"},
    {CALIB_DEV_H200, CALIB_OP_GEMM_FP8, CALIB_DEV_H100,
     "no per-tensor fp8 rows for H200; same GH100 tensor cores"},
    {CALIB_DEV_H200, CALIB_OP_CPU, CALIB_DEV_A100, "host overhead; only A100 hosts were profiled"},
    {CALIB_DEV_H100, CALIB_OP_CPU, CALIB_DEV_A100, "host overhead; only A100 hosts were profiled"},
    {CALIB_DEV_A100, CALIB_OP_ATTN_PREFILL, CALIB_DEV_H100,
     "Vidur's A100 attention.csv files are missing"},
    {CALIB_DEV_A100, CALIB_OP_ATTN_DECODE, CALIB_DEV_H100,
     "Vidur's A100 attention.csv files are missing"},
    {CALIB_DEV_A100, CALIB_OP_ALLREDUCE, CALIB_DEV_H100,
     "Vidur's A100 all-reduce is NCCL in eager mode, not vLLM's custom all-reduce under CUDA "
     "graphs "
     "(on H100 the two sources differ by about 30 us per call)"},
};

static const char *const op_params[CALIB_OP_COUNT][CALIB_MINIMISE_MAX_PARAMS] = {
    [CALIB_OP_GEMM] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns", "split_k"},
    [CALIB_OP_ATTN_PREFILL] = {"t0_ns", "compute_frac", "mem_frac", "pad_tokens", "half_rows",
                               "per_seq_kv_head_ns"},
    [CALIB_OP_ATTN_DECODE] = {"t0_ns", "per_seq_kv_head_ns", "mem_frac", "half_units",
                              "serial_mix"},
    [CALIB_OP_ELEMENTWISE] = {"t0_ns", "norm_frac", "add_frac", "rope_frac", "act_frac",
                              "embed_frac"},
    [CALIB_OP_ALLREDUCE] = {"t0_ns", "link_frac"},
    [CALIB_OP_SENDRECV] = {"t0_ns", "link_frac"},
    [CALIB_OP_CPU] = {"fixed_ns", "per_seq_ns"},
    [CALIB_OP_GEMM_FP8] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns"},
    [CALIB_OP_GEMM_FP8_BLOCK] = {"t0_ns", "compute_frac", "mem_frac", "per_k_ns"},
    [CALIB_OP_ATTN_PREFILL_FP8KV] = {"t0_ns", "compute_frac", "mem_frac", "pad_tokens", "half_rows",
                                     "per_seq_kv_head_ns"},
    [CALIB_OP_ATTN_DECODE_FP8KV] = {"t0_ns", "per_seq_kv_head_ns", "mem_frac", "half_units",
                                    "serial_mix"},
};

/* Parameters a fit takes from another operator of the same device, fitted before it (jobs order),
 * instead of fitting them: prefill attention reads the same KV cache as decode attention, and its
 * tables are compute-bound almost everywhere, so they cannot place its HBM fraction (fitted, it
 * ran to 1.7 on H100 and 3e6 on H200); decode's fit, memory-bound, can. */
static const struct {
  calib_op op, from;
  const char *param;
} borrowed[] = {
    {CALIB_OP_ATTN_PREFILL, CALIB_OP_ATTN_DECODE, "mem_frac"},
    {CALIB_OP_ATTN_PREFILL_FP8KV, CALIB_OP_ATTN_DECODE_FP8KV, "mem_frac"},
};

/* Whether op's param is borrowed; if so, copies it into e from the operator it borrows from. */
static bool borrow(hw_eff *e, calib_op op, const char *param) {
  for (size_t i = 0; i < sizeof borrowed / sizeof *borrowed; i++)
    if (borrowed[i].op == op && !strcmp(borrowed[i].param, param)) {
      *hw_eff_field(e, param_index(calib_op_names[op], param)) = *hw_eff_field(
          e, param_index(calib_op_names[borrowed[i].from], param));
      return true;
    }
  return false;
}

static int nparams_of(calib_op op) {
  int n = 0;
  while (n < CALIB_MINIMISE_MAX_PARAMS && op_params[op][n])
    n++;
  return n;
}

void calib_fit_op(calib_op op, const calib_points *pts, hw_accel *accel, const bool *keep) {
  size_t idx[CALIB_MINIMISE_MAX_PARAMS];
  int n = 0;
  for (int i = 0; i < nparams_of(op); i++)
    if (!borrow(&accel->eff, op, op_params[op][i]) && !(keep && keep[i]))
      idx[n++] = param_index(calib_op_names[op], op_params[op][i]);
  if (n)
    fit_params(op, pts, accel, idx, n);
}

const char *calib_op_param(calib_op op, int i) {
  return i >= 0 && i < nparams_of(op) ? op_params[op][i] : NULL;
}

static void copy_op(hw_eff *to, const hw_eff *from, calib_op op) {
  for (int i = 0; i < nparams_of(op); i++) {
    size_t k = param_index(calib_op_names[op], op_params[op][i]);
    *hw_eff_field(to, k) = *hw_eff_field((hw_eff *)from, k);
  }
}

/* Copy into f the rows of the file at path (the one being replaced, if any) of devices this fit
 * does not fit: those `windtunnel calibrate PROFILE_DIR --write` fitted (calib/device.c). */
static void keep_other_devices(FILE *f, const char *path) {
  FILE *old = fopen(path, "r");
  if (!old)
    return;
  char line[4096];
  while (fgets(line, sizeof line, old)) {
    size_t len = strcspn(line, ",");
    bool ours = line[0] == '#' || line[len] != ',' || (len == 6 && !strncmp(line, "device", 6)) ||
                (len == 7 && !strncmp(line, "default", 7));
    for (int dev = 0; dev < CALIB_NDEV && !ours; dev++)
      ours = strlen(calib_dev_names[dev]) == len && !strncmp(line, calib_dev_names[dev], len);
    if (!ours)
      fputs(line, f);
  }
  fclose(old);
}

static int write_efficiency(const char *out_path, const char *data_dir, const hw_accel *devs,
                            row_note notes[CALIB_NDEV][CALIB_OP_COUNT], char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(out_path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Fitted efficiency parameters of the hw/ cost model (models in hw/cost_ops.h and "
          "hw/data/SOURCES.md).\n");
  fprintf(f,
          "# Written by `wt_hw_fit %s hw/data/efficiency.csv` (calib_fit_hw, calib/fit_kernels.c): "
          "do not edit by hand.\n",
          data_dir);
  for (size_t i = 0; i < sizeof data_provenance / sizeof *data_provenance; i++)
    fprintf(f, "# data %s\n", data_provenance[i]);
  fprintf(f,
          "# The errors are the fit's own (median and p90 |predicted/measured - 1|, percent) "
          "over its points; 'default' (H100's fit) serves accelerators without a fit.\n");
  fprintf(f, "device,op,param,value,fitted_from,points,median_abs_pct,p90_abs_pct\n");
  for (int dev = 0; dev <= CALIB_NDEV; dev++) {
    int src = dev == CALIB_NDEV ? CALIB_DEV_H100 : dev;
    const char *name = dev == CALIB_NDEV ? "default" : calib_dev_names[dev];
    for (int op = 0; op < CALIB_OP_COUNT; op++) {
      const row_note *note = &notes[src][op];
      if (!note->fitted_from[0])
        continue; /* no data and no transfer (A100's fp8): the catalogue falls back to bf16 */
      for (int i = 0; i < nparams_of(op); i++) {
        size_t k = param_index(calib_op_names[op], op_params[op][i]);
        double v = *hw_eff_field((hw_eff *)&devs[src].eff, k);
        char from[320];
        if (dev == CALIB_NDEV && src == CALIB_DEV_H100 && op != CALIB_OP_CPU)
          snprintf(from, sizeof from, "default: as H100-SXM-80GB (%.250s)", note->fitted_from);
        else
          snprintf(from, sizeof from, "%.250s", note->fitted_from);
        fprintf(f, "%s,%s,%s,%.6g,\"%s\",", name, calib_op_names[op], op_params[op][i], v, from);
        if (note->stats.n)
          fprintf(f, "%zu,%.1f,%.1f\n", note->stats.n, note->stats.median_pct, note->stats.p90_pct);
        else
          fprintf(f, "0,,\n");
      }
    }
  }
  keep_other_devices(f, out_path);
  return util_csv_commit(f, tmp, out_path, err, err_len);
}

int calib_fit_hw(const char *data_dir, const char *out_path, FILE *report, char *err,
                 size_t err_len) {
  if (out_path && calib_output_writable(out_path, err, err_len) != 0)
    return -1; /* an unwritable output fails now, not after the fit */
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  hw_accel devs[CALIB_NDEV];
  for (int i = 0; i < CALIB_NDEV; i++) {
    const hw_accel *a = hw_catalog_accel(cat, calib_dev_names[i]);
    if (!a) {
      snprintf(err, err_len, "accelerator catalogue lacks %s", calib_dev_names[i]);
      hw_catalog_destroy(cat);
      return -1;
    }
    devs[i] = *a;
    if (out_path)
      initial_eff(&devs[i].eff); /* refit from scratch; else check the shipped parameters */
  }

  bool fitting = out_path != NULL;
  calib_reader rc = {data_dir, err, err_len};
  row_note notes[CALIB_NDEV][CALIB_OP_COUNT];
  memset(notes, 0, sizeof notes);
  int result = 0;
  /* Fits first, in job order (all fits precede the checks of the same operator by construction);
   * transfers after the fits they copy. */
  for (int pass = 0; pass < 2 && result == 0; pass++) {
    for (size_t j = 0; j < calib_kernel_njobs && result == 0; j++) {
      const calib_kernel_job *jb = &calib_kernel_jobs[j];
      bool is_fit = !strcmp(jb->role, "fit");
      if ((pass == 0) != is_fit)
        continue;
      calib_points pts = {0};
      if (calib_kernel_load(&rc, jb, &pts) != 0) {
        free(pts.p);
        if (fitting && is_fit) {
          result = -1; /* a fit cannot be written without its data */
          break;
        }
        if (report) /* evaluating, or an optional check: note it and go on */
          fprintf(report, "calibration dataset=%s op=%s skipped: %s\n", jb->dataset,
                  calib_op_names[jb->op], err);
        continue;
      }
      hw_accel *dev = &devs[jb->dev];
      if (is_fit && fitting)
        calib_fit_op(jb->op, &pts, dev, NULL);
      calib_stats s = calib_kernel_evaluate(jb->op, &pts, dev, jb->dataset, jb->role, report, NULL);
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
                 calib_dev_names[tr->from], tr->why);
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
      for (int dev = 0; dev < CALIB_NDEV; dev++)
        for (size_t k = 0; k < HW_EFF_NPARAMS; k++) {
          char text[32];
          snprintf(text, sizeof text, "%.6g", *hw_eff_field(&devs[dev].eff, k));
          *hw_eff_field(&devs[dev].eff, k) = strtod(text, NULL);
        }
      calib_output_beside(out_path, "power.csv", power_path, sizeof power_path);
    }
    result = calib_fit_power(&rc, cat, devs, fitting ? power_path : NULL, report);
  }
  if (result == 0) /* the systolic (TPU-like) model: systolic.csv beside (calib/fit_systolic.c) */
    result = calib_fit_systolic(data_dir, out_path, report, err, err_len);
  hw_catalog_destroy(cat);
  return result;
}
