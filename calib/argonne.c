/* Argonne's whole-run GPU power table read and priced as the runs it measured (calib/argonne.h;
 * hw/data/SOURCES.md, "Whole-run power"). */
#include "calib/argonne.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hw/power_ops.h"
#include "util/array.h"
#include "util/error.h"

const char *const calib_argonne_dev_names[CALIB_ARGONNE_NDEV] = {"a100", "h100"};
const char *const calib_argonne_fw_names[CALIB_ARGONNE_NFW] = {"vllm", "trtllm", "dsmii"};

/* The table's hardware names, and the catalogue parts whose memory (capacity, bandwidth) the runs
 * had; the efficiencies and power model being priced come from the caller's devices (the fitted
 * A100-SXM-80GB and H100-SXM-80GB). The A100s are Polaris's 40 GB parts (hw/data/accelerators.csv,
 * A100-SXM-40GB: the same GA100 and 400 W board). The H100 reads up to 594 W, over the PCIe card's
 * 350 W limit: the SXM part. The GH200 is not in the catalogue. */
static const struct {
  const char *name, *part;
} hardware[CALIB_ARGONNE_NDEV] = {
    {"Nvidia A100 GPU", "A100-SXM-40GB"},
    {"Nvidia H100 GPU", "H100-SXM-80GB"},
};
static const char *const frameworks[CALIB_ARGONNE_NFW] = {"vLLM", "TensorRT-LLM", "Deepspeed-MII"};

/* The table's models in the catalogue: Llama-3-8B has Llama-3.1-8B's architecture (32 layers,
 * hidden 4096, 32 query and 8 KV heads, FFN 14336, vocabulary 128256; only RoPE scaling and the
 * context length differ, neither of which a 2,048-token run sees). */
static const struct {
  const char *name, *catalogue;
} models[] = {
    {"meta-llama/Llama-2-7b-hf", "Llama-2-7B"},
    {"meta-llama/Meta-Llama-3-8B", "Llama-3.1-8B"},
};
enum { NMODELS = sizeof models / sizeof *models };

/* The meter: upstream's power scripts (vLLM/{A100,H100,GH200}/benchmark_power.py,
 * TensorRT-LLM/H100/run_power.py) sample NVML board power every 0.25 s (vLLM) or 0.1 s
 * (TensorRT-LLM) from the start of the timed generate() until one second after it returns. */
static const double tail_s = 1.0;
/* vLLM's KV blocks: 16 tokens, 0.9 of the memory (its defaults, as hw_kv_blocks documents). */
static const uint32_t kv_block = 16;
static const double kv_share = 0.9;

double calib_argonne_predicted_w(const calib_argonne_runs *runs, const calib_argonne_run *r,
                                 const hw_power *p, double tdp_w) {
  double busy_j = 0.0;
  for (size_t i = r->first_step; i < r->first_step + r->steps; i++) {
    const calib_argonne_step *s = &runs->step[i];
    busy_j += hw_power_busy_w(p, tdp_w, s->u_c, s->u_m) * s->busy_s;
  }
  return (busy_j + p->gap_w * r->wait_s) / (r->run_s + r->tail_s);
}

void calib_argonne_free(calib_argonne_runs *runs) {
  free(runs->r);
  free(runs->step);
  memset(runs, 0, sizeof *runs);
}

/* The run of `batch` requests of `length` prompt tokens generating `length` tokens each: in waves
 * of as many requests as the KV cache holds whole (the rows on a 40 GB A100 at batch 32-64 and an
 * H100 at 64 take twice the time of half the batch: they did not run as one batch), each a prefill
 * of the wave's prompts and length - 1 decode steps (the prefill gives the first token). Appends
 * each iteration's utilisations and times (tensor parallelism 1: the GPU time is the total less
 * the host time); sums the run's time and wait. 0, or -1 when memory runs out. */
static int price_run(const hw_deploy *d, calib_argonne_runs *runs, calib_argonne_run *r) {
  double batch = r->batch, length = r->length;
  double fits = floor((double)hw_kv_blocks(d, kv_block, kv_share) * kv_block / (2.0 * length));
  double wave = fmax(1.0, fmin(batch, fits));
  r->waves = ceil(batch / wave);
  r->run_s = r->wait_s = 0.0;
  r->first_step = runs->n_steps, r->steps = 0;
  for (double left = batch; left > 0.0; left -= wave) {
    double s = fmin(left, wave);
    hw_batch b;
    memset(&b, 0, sizeof b);
    b.prefill_seqs = (uint32_t)s;
    b.prefill_tokens = (uint32_t)(s * length);
    b.prefill_attn_pairs = (uint64_t)(s * length * (length + 1.0) / 2.0);
    b.prefill_ctx_tokens = (uint64_t)(s * length);
    for (double step = 0.0; step < length; step++) {
      hw_breakdown bd;
      hw_iteration_ns(d, &b, &bd);
      calib_argonne_step *grown = util_grow(runs->step, &runs->cap_steps, runs->n_steps + 1,
                                            sizeof *grown);
      if (!grown)
        return -1;
      runs->step = grown;
      double gpu_s = (bd.total_ns - bd.cpu_ns - bd.sendrecv_ns) * 1e-9;
      runs->step[runs->n_steps++] = (calib_argonne_step){
          .u_c = bd.flops / gpu_s / d->accel.peak_bf16_flops,
          .u_m = bd.hbm_bytes / gpu_s / d->accel.hbm_bytes_per_s,
          .busy_s = bd.stage_ns * 1e-9,
          .wait_s = (bd.total_ns - bd.stage_ns) * 1e-9};
      r->steps++;
      r->wait_s += (bd.total_ns - bd.stage_ns) * 1e-9;
      r->run_s += bd.total_ns * 1e-9;
      memset(&b, 0, sizeof b);
      b.decode_seqs = (uint32_t)s;
      b.decode_ctx_tokens = (uint64_t)(s * (length + step + 1.0));
    }
  }
  r->tail_s = tail_s;
  r->wait_s += tail_s;
  return 0;
}

typedef struct load_ctx {
  const hw_catalog *cat;
  hw_deploy deploys[CALIB_ARGONNE_NDEV][NMODELS];
  int ready[CALIB_ARGONNE_NDEV][NMODELS]; /* 0 not yet, 1 ready, -1 failed */
  hw_accel devs[CALIB_ARGONNE_NDEV];
  calib_argonne_runs *out;
} load_ctx;

static int record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx_) {
  load_ctx *ctx = ctx_;
  const char *hwname = util_csv_get(c, cols[0]), *fwname = util_csv_get(c, cols[1]),
             *model = util_csv_get(c, cols[2]);
  int dev = -1, fw = -1, m = -1;
  for (int i = 0; i < CALIB_ARGONNE_NDEV; i++)
    dev = !strcmp(hwname, hardware[i].name) ? i : dev;
  for (int i = 0; i < CALIB_ARGONNE_NFW; i++)
    fw = !strcmp(fwname, frameworks[i]) ? i : fw;
  for (int i = 0; i < NMODELS; i++)
    m = !strcmp(model, models[i].name) ? i : m;
  if (dev < 0 || fw < 0 || m < 0) {
    ctx->out->unpriced++;
    snprintf(ctx->out->unpriced_why, sizeof ctx->out->unpriced_why,
             "%s %s %s is not in the catalogue", hwname, fwname, model);
    return 0;
  }
  double v[5]; /* devices, length, batch, latency, avg_power */
  if (calib_reader_dims(rc, c, cols + 3, v, 5) != 0)
    return -1;
  if (v[0] != 1.0 || v[1] > 65536.0 || v[2] > 65536.0)
    return util_err(rc->err, rc->err_len,
                    "%s/%s:%ld: %g devices, length %g, batch %g: one device and at most 65536 "
                    "tokens and requests expected",
                    rc->data_dir, CALIB_ARGONNE_POWER, c->line, v[0], v[1], v[2]);
  hw_deploy *d = &ctx->deploys[dev][m];
  if (ctx->ready[dev][m] == 0) {
    hw_deploy_config cfg = {.tp = 1};
    const hw_model *mod = hw_catalog_model(ctx->cat, models[m].catalogue);
    ctx->ready[dev][m] =
        mod && hw_deploy_init(d, &ctx->devs[dev], mod, &cfg, rc->err, rc->err_len) == 0 ? 1 : -1;
    if (!mod)
      snprintf(rc->err, rc->err_len, "the catalogue lacks %s", models[m].catalogue);
  }
  if (ctx->ready[dev][m] < 0)
    return -1;
  calib_argonne_runs *out = ctx->out;
  calib_argonne_run *grown = util_grow(out->r, &out->cap, out->n + 1, sizeof *grown);
  if (!grown)
    return util_err(rc->err, rc->err_len, "out of memory");
  out->r = grown;
  calib_argonne_run *r = &out->r[out->n++];
  memset(r, 0, sizeof *r);
  r->dev = dev, r->fw = fw, r->model = models[m].catalogue, r->length = v[1], r->batch = v[2];
  r->measured_s = v[3], r->measured_w = v[4] / 1000.0;
  return price_run(d, out, r) != 0 ? util_err(rc->err, rc->err_len, "out of memory") : 0;
}

int calib_argonne_load(const calib_reader *rc, const hw_catalog *cat,
                       const hw_accel *const devs[CALIB_ARGONNE_NDEV], calib_argonne_runs *out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", rc->data_dir, CALIB_ARGONNE_POWER);
  struct stat st;
  if (stat(path, &st) != 0)
    return 1;
  static load_ctx ctx_zero;
  load_ctx *ctx = malloc(sizeof *ctx);
  if (!ctx)
    return util_err(rc->err, rc->err_len, "out of memory");
  *ctx = ctx_zero;
  ctx->cat = cat, ctx->out = out;
  for (int i = 0; i < CALIB_ARGONNE_NDEV; i++) {
    const hw_accel *part = hw_catalog_accel(cat, hardware[i].part);
    if (!part) {
      free(ctx);
      return util_err(rc->err, rc->err_len, "the catalogue lacks %s", hardware[i].part);
    }
    ctx->devs[i] = *devs[i];
    ctx->devs[i].hbm_bytes = part->hbm_bytes, ctx->devs[i].hbm_bytes_per_s = part->hbm_bytes_per_s;
  }
  static const char *const need[] = {
      "Hardware",   "Framework", "Model",    "Num of Hardware", "Input Output Length",
      "Batch Size", "Latency",   "avg_power"};
  util_csv c;
  int r = calib_reader_open(rc, &c, CALIB_ARGONNE_POWER) != 0 ||
                  calib_reader_each(rc, &c, need, 8, NULL, 0, record, ctx) != 0
              ? -1
              : 0;
  free(ctx);
  return r;
}
