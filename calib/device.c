/* Profiles of one device (calib/device.h): the names of devices in profile folders, the tables of
 * the three profile layouts as kernel points, and the per-device efficiency fit and its file. */
#define _POSIX_C_SOURCE 200809L
#include "calib/device.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/kernels.h"
#include "calib/minimise.h"
#include "calib/output.h"
#include "calib/reader.h"
#include "hw/cost_ops.h"
#include "hw/eff_params.h"
#include "hw/systolic.h"
#include "util/array.h"
#include "util/error.h"

/* ---- which device a name means ---- */

/* Folder names in the profile collections (and the usual spellings of users' folders) and the
 * catalogue accelerator each means; keys compare as normalised (letters and digits, lower case).
 * A name missing here still maps when it starts exactly one catalogue name (calib_device_resolve).
 */
static const struct {
  const char *alias, *catalogue;
} device_aliases[] = {
    {"a100", "A100-SXM-80GB"},     /* vidur compute/a100, network/a100_dgx */
    {"a100sxm", "A100-SXM-80GB"},  /* AIConfigurator's systems/a100_sxm */
    {"a100sxm480gb", "A100-SXM-80GB"}, /* torch.cuda.get_device_name: NVIDIA A100-SXM4-80GB */
    {"a100sxm440gb", "A100-SXM-40GB"}, /* and NVIDIA A100-SXM4-40GB */
    {"h100", "H100-SXM-80GB"},     /* vidur network/h100_dgx, LLMServingSim H100_ */
    {"h100sxm", "H100-SXM-80GB"},  /* aiconfigurator/kernels/h100_sxm_* */
    {"h200sxm", "H200-SXM-141GB"}, /* aiconfigurator/kernels/h200_sxm_* */
    {"b200", "B200-SXM-180GB"},    /* AIConfigurator's b200_sxm */
    {"gb200", "GB200 (per B200 GPU in NVL72)"},
    {"rtxpro6000", "RTX PRO 6000 Blackwell Server"}, /* LLMServingSim RTXPRO6000_, rtx_pro_6000 */
    {"tpuv6e1", "TPU v6e (Trillium)"},               /* LLMServingSim TPU-v6e-1_ (one chip) */
    {"tpuv6e", "TPU v6e (Trillium)"},
    {"mi300x", "MI300X"},
};

static void normalise(const char *in, size_t n, char *out, size_t out_len) {
  size_t k = 0;
  for (size_t i = 0; i < n && in[i] && k + 1 < out_len; i++)
    if (isalnum((unsigned char)in[i]))
      out[k++] = (char)tolower((unsigned char)in[i]);
  out[k] = '\0';
}

/* One candidate (already normalised): alias, catalogue name, unique catalogue prefix. */
static const hw_accel *resolve_one(const hw_catalog *cat, const char *key) {
  if (strlen(key) < 2)
    return NULL;
  for (size_t i = 0; i < sizeof device_aliases / sizeof *device_aliases; i++)
    if (!strcmp(device_aliases[i].alias, key))
      return hw_catalog_accel(cat, device_aliases[i].catalogue);
  const hw_accel *a = hw_catalog_accel(cat, key);
  if (a || !strpbrk(key, "0123456789"))
    return a;
  const hw_accel *found = NULL;
  for (size_t i = 0; i < hw_catalog_accel_count(cat); i++) {
    const hw_accel *c = hw_catalog_accel_at(cat, i);
    char name[128];
    normalise(c->name, sizeof c->name, name, sizeof name);
    if (!strncmp(name, key, strlen(key))) {
      if (found)
        return NULL; /* more than one: not a name */
      found = c;
    }
  }
  return found;
}

/* Vendor words a device's own name (torch.cuda.get_device_name) starts with; the catalogue's
 * names go without them. */
static const char *const vendors[] = {"nvidia", "amdinstinct", "amd", "intel", "google"};

const hw_accel *calib_device_resolve(const hw_catalog *cat, const char *name) {
  size_t len = strcspn(name, ".");         /* "h100_sxm_gemm_perf.csv": the stem */
  for (size_t end = len; end > 0; end--) { /* longest first, cut where a word ends */
    if (end < len && isalnum((unsigned char)name[end]))
      continue;
    char key[128];
    normalise(name, end, key, sizeof key);
    const hw_accel *a = resolve_one(cat, key);
    for (size_t v = 0; !a && v < sizeof vendors / sizeof *vendors; v++)
      if (!strncmp(key, vendors[v], strlen(vendors[v])))
        a = resolve_one(cat, key + strlen(vendors[v]));
    if (a)
      return a;
  }
  return NULL;
}

bool calib_lss_folder(const char *name, char *hw, size_t hw_len, char *hf_id, size_t hf_id_len,
                      unsigned *tp) {
  const char *u1 = strchr(name, '_');
  const char *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
  if (!u1 || !u2 || u1 == name || u2 == u1 + 1 || !u2[1] || (size_t)(u1 - name) >= hw_len)
    return false;
  snprintf(hw, hw_len, "%.*s", (int)(u1 - name), name);
  const char *model = u2 + 1, *tp_at = strstr(model, "_tp");
  int model_len = tp_at ? (int)(tp_at - model) : (int)strlen(model);
  snprintf(hf_id, hf_id_len, "%.*s/%.*s", (int)(u2 - u1 - 1), u1 + 1, model_len, model);
  *tp = tp_at ? (unsigned)strtoul(tp_at + 3, NULL, 10) : 0;
  return true;
}

/* ---- the points of each device ---- */

enum { MAX_DEVICES = 16 };

typedef struct dev_points {
  const hw_accel *a;
  calib_points pts[CALIB_OP_COUNT];
  char from[CALIB_OP_COUNT][200]; /* the first table of each operator */
  int files[CALIB_OP_COUNT];      /* how many tables gave points */
} dev_points;

typedef struct scan {
  const calib_device_opts *o;
  hw_catalog *cat;
  const hw_accel *forced; /* --device */
  dev_points dev[MAX_DEVICES];
  int ndev;
  size_t recognised;
  FILE *out;
  char *err;
  size_t err_len;
} scan;

static dev_points *device_slot(scan *s, const hw_accel *a) {
  for (int i = 0; i < s->ndev; i++)
    if (s->dev[i].a == a)
      return &s->dev[i];
  if (s->ndev == MAX_DEVICES)
    return NULL;
  dev_points *d = &s->dev[s->ndev++];
  memset(d, 0, sizeof *d);
  d->a = a;
  return d;
}

/* The device of the file rel: --device, else the deepest part of its path (the profile folder's
 * own name included) that names one. */
static const hw_accel *device_of(const scan *s, const char *rel) {
  if (s->forced)
    return s->forced;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", s->o->dir, rel);
  for (;;) {
    char *slash = strrchr(path, '/');
    const hw_accel *a = calib_device_resolve(s->cat, slash ? slash + 1 : path);
    if (a || !slash)
      return a;
    *slash = '\0';
  }
}

/* The model and tensor parallelism of an LLMServingSim profile table: the nearest folder of its
 * path (under dir, or dir itself) named <HW>_<org>_<model>[_tp<N>], the tp from a tp<N> folder
 * below it. */
static const hw_model *lss_model_of(const hw_catalog *cat, const char *dir, const char *rel,
                                    unsigned *tp) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  *tp = 0;
  char *slash;
  while ((slash = strrchr(path, '/'))) {
    *slash = '\0';
    const char *part = strrchr(path, '/');
    part = part ? part + 1 : path;
    char hw[64], hf_id[160];
    unsigned name_tp;
    if (!strncmp(part, "tp", 2) && isdigit((unsigned char)part[2]))
      *tp = (unsigned)strtoul(part + 2, NULL, 10);
    else if (calib_lss_folder(part, hw, sizeof hw, hf_id, sizeof hf_id, &name_tp)) {
      const hw_model *m = hw_catalog_model(cat, hf_id);
      char *suffix = strstr(hf_id, "-Instruct"); /* a fine-tune: same shapes */
      if (!m && suffix)
        *suffix = '\0', m = hw_catalog_model(cat, hf_id);
      if (m) {
        if (!*tp)
          *tp = name_tp ? name_tp : 1;
        return m;
      }
    }
  }
  return NULL;
}

/* One profiled layer of an LLMServingSim dense/per_sequence/layers table as a kernel point of the
 * operator it is priced as (the shapes hw_iteration_ns prices; calib/eval_profiles.c); false for a
 * layer without a fitted operator (MoE experts and router, sampler, whole-prompt attention). */
static bool lss_layer(const hw_deploy *d, const char *layer, double t, calib_op *op, double *x) {
  const hw_model *m = &d->model;
  double h = m->hidden, hd = m->head_dim, dt = d->dtype_bytes;
  double gemm[3] = {t, 0, h};
  if (!strcmp(layer, "qkv_proj"))
    gemm[1] = d->qkv_n;
  else if (!strcmp(layer, "q_proj"))
    gemm[1] = d->q_dev * hd;
  else if (!strcmp(layer, "k_proj") || !strcmp(layer, "v_proj"))
    gemm[1] = d->kv_dev * hd;
  else if (!strcmp(layer, "o_proj"))
    gemm[1] = h, gemm[2] = d->o_k;
  else if (!strcmp(layer, "gate_up_proj"))
    gemm[1] = 2.0 * d->ffn_dev;
  else if (!strcmp(layer, "gate_proj") || !strcmp(layer, "up_proj"))
    gemm[1] = d->ffn_dev;
  else if (!strcmp(layer, "down_proj"))
    gemm[1] = h, gemm[2] = d->ffn_dev;
  else if (!strcmp(layer, "lm_head"))
    gemm[1] = d->vocab_dev;
  if (gemm[1] > 0.0) {
    *op = CALIB_OP_GEMM;
    memcpy(x, gemm, sizeof gemm);
    return true;
  }
  double bytes = 0.0, kind = 0.0;
  if (!strcmp(layer, "layernorm") || !strcmp(layer, "input_layernorm") ||
      !strcmp(layer, "post_layernorm") || !strcmp(layer, "final_layernorm"))
    bytes = hw_elem_norm_bytes(t, h, dt), kind = HW_ELEM_NORM;
  else if (!strcmp(layer, "qk_norm"))
    bytes = hw_elem_norm_bytes(t, (d->q_dev + d->kv_dev) * hd, dt), kind = HW_ELEM_NORM;
  else if (!strcmp(layer, "rope") || !strcmp(layer, "rotary_emb"))
    bytes = hw_elem_rope_bytes(t, d->q_dev, d->kv_dev, hd, dt), kind = HW_ELEM_ROPE;
  else if (!strcmp(layer, "act_fn"))
    bytes = hw_elem_act_bytes(t, d->ffn_dev, m->gated_ffn, dt), kind = HW_ELEM_ACT;
  else if (!strcmp(layer, "embedding"))
    bytes = hw_elem_embed_bytes(t, h, dt), kind = HW_ELEM_EMBED;
  if (!(bytes > 0.0))
    return false;
  *op = CALIB_OP_ELEMENTWISE;
  x[0] = bytes, x[1] = kind;
  return true;
}

/* Per-operator point counts of one table, for its "profile:" line. */
typedef struct table_count {
  size_t n[CALIB_OP_COUNT];
  size_t unmapped_rows; /* rows of layers or batches without a fitted operator */
} table_count;

static int lss_layers_table(scan *s, const char *rel, const hw_deploy *d, dev_points *dp,
                            table_count *tc) {
  util_csv c;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", s->o->dir, rel);
  if (util_csv_open_file(&c, path, s->err, s->err_len) != 0)
    return -1;
  calib_lss_layer_cols cols = calib_lss_layer_columns(&c);
  int col_layer = cols.layer, col_n = cols.n, col_t = cols.t;
  double unit_ns = cols.unit_ns;
  int r = 0;
  while (r == 0 && (r = util_csv_next(&c, s->err, s->err_len)) == 1) {
    double n, t, x[7] = {0};
    calib_op op;
    r = 0;
    if (util_csv_double(&c, col_n, NAN, &n, s->err, s->err_len) != 0 ||
        util_csv_double(&c, col_t, NAN, &t, s->err, s->err_len) != 0)
      r = -1;
    else if (!(n > 0.0) || !isfinite(n))
      r = util_err(s->err, s->err_len, "%s:%ld: '%s' is not a size above 0", c.name, c.line,
                   util_csv_get(&c, col_n));
    else if (!lss_layer(d, util_csv_get(&c, col_layer), n, &op, x))
      tc->unmapped_rows++;
    else if (calib_points_push(&dp->pts[op], x, 7, t * unit_ns) != 0)
      r = util_err(s->err, s->err_len, "out of memory");
    else
      tc->n[op]++;
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* attention.csv: LLMServingSim's v1 layout (prefill_chunk,kv_prefill,n_decode,kv_decode,time_us;
 * rows that mix prefill and decode have no single operator and are counted unmapped), or Vidur's
 * (time_stats.attn_{prefill,decode}.median in ms, per batch_size, prefill_chunk_size,
 * kv_cache_size, is_prefill). Vidur's profiler (vidur/profiling/attention/attention_wrapper.py)
 * gives each of batch_size sequences kv_cache_size cached tokens plus the chunk (prefill, batch 1)
 * or one new token (decode); LLMServingSim's v0 profiler counts kv_cache_size keys in all, the
 * chunk included (lss_total; calib/eval_profiles.c). Heads and head size from the table's n_q_head,
 * n_kv_head, n_embd and num_tensor_parallel_workers (Vidur) or the model (LLMServingSim). */
static int attention_table(scan *s, const char *rel, const hw_deploy *d, bool lss_total,
                           dev_points *dp, table_count *tc) {
  util_csv c;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", s->o->dir, rel);
  if (util_csv_open_file(&c, path, s->err, s->err_len) != 0)
    return -1;
  bool v1 = util_csv_col(&c, "n_decode") >= 0;
  static const char *const v1_names[] = {"prefill_chunk", "kv_prefill", "n_decode", "kv_decode",
                                         "time_us"};
  static const char *const vidur_names[] = {
      "batch_size", "prefill_chunk_size",         "kv_cache_size", "n_q_head", "n_kv_head",
      "n_embd",     "num_tensor_parallel_workers"};
  int cols[7], col_pf = util_csv_col(&c, "time_stats.attn_prefill.median"),
               col_dec = util_csv_col(&c, "time_stats.attn_decode.median"),
               col_is_pf = util_csv_col(&c, "is_prefill");
  int r = v1 ? util_csv_need_cols(&c, v1_names, cols, 5, s->err, s->err_len)
             : util_csv_need_cols(&c, vidur_names, cols, 7, s->err, s->err_len);
  if (r == 0 && !v1 && (col_pf < 0 || col_dec < 0 || col_is_pf < 0))
    r = util_err(s->err, s->err_len,
                 "%s: no column time_stats.attn_prefill.median, "
                 "time_stats.attn_decode.median or is_prefill",
                 c.name);
  while (r == 0 && (r = util_csv_next(&c, s->err, s->err_len)) == 1) {
    double v[7], x[7] = {0}, measured_ns = NAN;
    int nv = v1 ? 5 : 7;
    r = 0;
    for (int i = 0; i < nv && r == 0; i++)
      r = util_csv_double(&c, cols[i], NAN, &v[i], s->err, s->err_len);
    if (r != 0)
      break;
    double q, kv, hd, pf_seqs = 0, chunk = 0, cached = 0, dec_seqs = 0, dec_ctx = 0;
    if (v1) {
      q = d->q_dev, kv = d->kv_dev, hd = d->model.head_dim;
      if (v[0] > 0.0 && v[2] > 0.0) {
        tc->unmapped_rows++;
        continue;
      }
      pf_seqs = v[0] > 0.0, chunk = v[0], cached = v[1], dec_seqs = v[2], dec_ctx = v[3];
      measured_ns = v[4] * 1e3;
    } else {
      double tp = v[6];
      if (!(v[3] > 0 && v[4] > 0 && v[5] > 0 && tp > 0 && v[0] > 0)) {
        r = util_err(s->err, s->err_len,
                     "%s:%ld: heads, n_embd, tensor parallelism and "
                     "batch_size must be above 0",
                     c.name, c.line);
        break;
      }
      q = v[3] / tp, kv = v[4] >= tp ? v[4] / tp : 1.0, hd = v[5] / v[3];
      bool prefill = !strcmp(util_csv_get(&c, col_is_pf), "True");
      double ms;
      if ((r = util_csv_double(&c, prefill ? col_pf : col_dec, NAN, &ms, s->err, s->err_len)) != 0)
        break;
      measured_ns = ms * 1e6;
      if (prefill && lss_total)
        pf_seqs = 1, chunk = v[1], cached = fmax(v[2] - v[1], 0.0);
      else if (prefill)
        pf_seqs = 1, chunk = v[1], cached = v[2];
      else if (lss_total)
        dec_seqs = v[0], dec_ctx = floor(v[2] / v[0]);
      else
        dec_seqs = v[0], dec_ctx = v[2] + 1.0;
    }
    calib_op op;
    if (pf_seqs > 0.0 && chunk > 0.0) {
      double pairs = pf_seqs * (chunk * cached + chunk * (chunk + 1.0) / 2.0);
      double xp[7] = {pairs, pf_seqs * chunk, pf_seqs * (cached + chunk), q, kv, hd, pf_seqs};
      memcpy(x, xp, sizeof xp);
      op = CALIB_OP_ATTN_PREFILL;
    } else if (dec_seqs > 0.0) {
      double xd[7] = {dec_seqs, dec_seqs * dec_ctx, q, kv, hd, 0, 0};
      memcpy(x, xd, sizeof xd);
      op = CALIB_OP_ATTN_DECODE;
    } else {
      tc->unmapped_rows++;
      continue;
    }
    if (calib_points_push(&dp->pts[op], x, 7, measured_ns) != 0)
      r = util_err(s->err, s->err_len, "out of memory");
    else
      tc->n[op]++;
  }
  util_csv_close(&c);
  return r < 0 ? -1 : 0;
}

/* A table read by calib/kernel_data.c's readers, as op (appended to the device's points). */
static int kernel_table(scan *s, const char *rel, calib_op op, bool vidur, dev_points *dp,
                        table_count *tc) {
  calib_reader rc = {s->o->dir, s->err, s->err_len};
  size_t before = dp->pts[op].n;
  if (calib_kernel_read(&rc, op, vidur, rel, &dp->pts[op]) != 0)
    return -1;
  tc->n[op] += dp->pts[op].n - before;
  return 0;
}

static int vidur_mlp_table(scan *s, const char *rel, dev_points *dp, table_count *tc) {
  calib_reader rc = {s->o->dir, s->err, s->err_len};
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", s->o->dir, rel);
  size_t g = dp->pts[CALIB_OP_GEMM].n, e = dp->pts[CALIB_OP_ELEMENTWISE].n;
  if (calib_vidur_mlp_read(&rc, path, &dp->pts[CALIB_OP_GEMM], &dp->pts[CALIB_OP_ELEMENTWISE]) != 0)
    return -1;
  tc->n[CALIB_OP_GEMM] += dp->pts[CALIB_OP_GEMM].n - g;
  tc->n[CALIB_OP_ELEMENTWISE] += dp->pts[CALIB_OP_ELEMENTWISE].n - e;
  return 0;
}

/* ---- one file: its layout, or why it cannot be mapped ---- */

typedef enum layout {
  LAYOUT_NONE,
  LAYOUT_VIDUR_MLP,
  LAYOUT_VIDUR_ATTENTION,
  LAYOUT_VIDUR_ALLREDUCE,
  LAYOUT_VIDUR_SENDRECV,
  LAYOUT_VIDUR_CPU,
  LAYOUT_AIC_GEMM,
  LAYOUT_AIC_CONTEXT,
  LAYOUT_AIC_GENERATION,
  LAYOUT_AIC_ALLREDUCE,
  LAYOUT_LSS_LAYERS,
  LAYOUT_LSS_ATTENTION,
} layout;

static const char *const layout_names[] = {"",
                                           "vidur-mlp",
                                           "vidur-attention",
                                           "vidur-all_reduce",
                                           "vidur-send_recv",
                                           "vidur-cpu",
                                           "aiconfigurator-gemm",
                                           "aiconfigurator-context_attention",
                                           "aiconfigurator-generation_attention",
                                           "aiconfigurator-custom_allreduce",
                                           "llmservingsim-layers",
                                           "llmservingsim-attention"};

static bool has(const util_csv *c, const char *col) { return util_csv_col(c, col) >= 0; }

/* The layout of a table from its columns, or (LAYOUT_NONE) why it has no fitted operator. */
static layout classify(const char *path, const char *rel, const char **why) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  const char *dot = strrchr(base, '.');
  *why = NULL;
  if (!dot || strcmp(dot, ".csv") != 0) {
    *why = !strcmp(base, "meta.yaml") ? "profile metadata (no timings)"
                                      : "not a CSV table (the three layouts are CSV)";
    return LAYOUT_NONE;
  }
  util_csv c;
  char msg[256];
  if (util_csv_open_file(&c, path, msg, sizeof msg) != 0) {
    *why = "unreadable or not CSV";
    return LAYOUT_NONE;
  }
  layout l = LAYOUT_NONE;
  if (has(&c, "time_stats.mlp_up_proj.median") && has(&c, "n_embd"))
    l = LAYOUT_VIDUR_MLP;
  else if (has(&c, "time_stats.attn_prefill.median") && has(&c, "n_q_head"))
    l = LAYOUT_VIDUR_ATTENTION;
  else if (has(&c, "time_stats.all_reduce.median"))
    l = LAYOUT_VIDUR_ALLREDUCE;
  else if (has(&c, "time_stats.send_recv.median"))
    l = LAYOUT_VIDUR_SENDRECV;
  else if (has(&c, "schedule_median") && has(&c, "batch_size"))
    l = LAYOUT_VIDUR_CPU;
  else if (has(&c, "gemm_dtype") && has(&c, "latency"))
    l = LAYOUT_AIC_GEMM;
  else if (has(&c, "isl") && has(&c, "kv_cache_dtype"))
    l = LAYOUT_AIC_CONTEXT;
  else if (has(&c, "step") && has(&c, "kv_cache_dtype"))
    l = LAYOUT_AIC_GENERATION;
  else if (has(&c, "message_size") && has(&c, "backend") && strstr(base, "custom_allreduce"))
    l = LAYOUT_AIC_ALLREDUCE;
  else if ((has(&c, "layer") && has(&c, "time_us")) ||
           (has(&c, "layer_name") && has(&c, "latency(ns)")))
    l = LAYOUT_LSS_LAYERS;
  else if (has(&c, "n_decode") && has(&c, "prefill_chunk") && has(&c, "time_us"))
    l = LAYOUT_LSS_ATTENTION;
  else if (has(&c, "message_size") || strstr(base, "nccl"))
    *why =
        "NCCL collective table: fitted by the collective fit (net/data/collective.csv, "
        "`calibrate --write`), not per-device efficiencies";
  else if (has(&c, "activated_experts"))
    *why = "MoE expert table: experts are priced from the GEMM fit, not fitted on their own";
  else if (has(&c, "skew") || has(&c, "alpha"))
    *why = "decode-skew table: the cost model has no skew term";
  else if (has(&c, "time_stats.all_to_all.median"))
    *why =
        "all-to-all table: the efficiencies have no all-to-all operator (expert parallelism "
        "prices it from the send/recv fit)";
  else
    *why = "its columns match no table of the Vidur, LLMServingSim or AIConfigurator layouts";
  util_csv_close(&c);
  return l;
}

void calib_device_describe(const hw_catalog *cat, const char *data_dir, const char *rel, char *why,
                           size_t why_len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", data_dir, rel);
  const char *reason;
  layout l = classify(path, rel, &reason);
  why[0] = '\0';
  if (l == LAYOUT_NONE) {
    if (strncmp(reason, "its columns match no", 20) && strncmp(reason, "not a CSV", 9) &&
        strncmp(reason, "unreadable", 10))
      snprintf(why, why_len, "%s", reason);
    return;
  }
  scan s = {.cat = (hw_catalog *)cat};
  calib_device_opts o = {.dir = data_dir};
  s.o = &o;
  const hw_accel *a = device_of(&s, rel);
  const char *slash = strrchr(rel, '/');
  snprintf(why, why_len,
           "a %s table of %s; not in this evaluation: `windtunnel calibrate %s/%.*s%s` "
           "fits it",
           layout_names[l], a ? a->name : "no catalogued accelerator", data_dir,
           slash ? (int)(slash - rel) : 0, rel, a ? "" : " --device NAME");
}

static int scan_file(scan *s, const char *rel) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  if (!strcmp(base, "SOURCE.md") || !strcmp(base, "README.md") || !strcmp(base, "LICENSE"))
    return 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", s->o->dir, rel);
  const char *why;
  layout l = classify(path, rel, &why);
  const hw_accel *a = device_of(s, rel);
  if (l == LAYOUT_NONE && !(a && hw_systolic_is(a))) {
    fprintf(s->out, "not mapped: %s: %s\n", rel, why);
    return 0;
  }
  if (!a) {
    fprintf(s->out,
            "not mapped: %s: no catalogued accelerator (hw/data/accelerators.csv) is named in its "
            "path; give one with --device NAME, or add the device to the catalogue\n",
            rel);
    return 0;
  }
  if (hw_systolic_is(a)) {
    fprintf(s->out,
            "not mapped: %s: %s is systolic: priced by the systolic model (hw/data/systolic.csv, "
            "`calibrate --write`), not by GPU efficiencies\n",
            rel, a->name);
    return 0;
  }
  dev_points *dp = device_slot(s, a);
  if (!dp)
    return util_err(s->err, s->err_len, "more than %d devices in %s", MAX_DEVICES, s->o->dir);
  table_count tc;
  memset(&tc, 0, sizeof tc);
  hw_deploy d;
  unsigned tp = 0;
  const hw_model *m = NULL;
  if (l == LAYOUT_LSS_LAYERS || l == LAYOUT_LSS_ATTENTION ||
      (l == LAYOUT_VIDUR_ATTENTION && (m = lss_model_of(s->cat, s->o->dir, rel, &tp)))) {
    if (!m && !(m = lss_model_of(s->cat, s->o->dir, rel, &tp))) {
      fprintf(s->out,
              "not mapped: %s: LLMServingSim layout, but no folder of its path is named "
              "<HW>_<org>_<model> with a model of the catalogue (hw/data/models.csv)\n",
              rel);
      return 0;
    }
    hw_deploy_config cfg = {.tp = tp};
    char why_deploy[256];
    if (hw_deploy_init(&d, a, m, &cfg, why_deploy, sizeof why_deploy) != 0) {
      fprintf(s->out, "not mapped: %s: %s\n", rel, why_deploy);
      return 0;
    }
  }
  int r;
  switch (l) {
  case LAYOUT_VIDUR_MLP: r = vidur_mlp_table(s, rel, dp, &tc); break;
  case LAYOUT_VIDUR_ATTENTION: r = attention_table(s, rel, &d, m != NULL, dp, &tc); break;
  case LAYOUT_LSS_ATTENTION: r = attention_table(s, rel, &d, false, dp, &tc); break;
  case LAYOUT_LSS_LAYERS: r = lss_layers_table(s, rel, &d, dp, &tc); break;
  case LAYOUT_VIDUR_ALLREDUCE: r = kernel_table(s, rel, CALIB_OP_ALLREDUCE, true, dp, &tc); break;
  case LAYOUT_VIDUR_SENDRECV: r = kernel_table(s, rel, CALIB_OP_SENDRECV, true, dp, &tc); break;
  case LAYOUT_VIDUR_CPU: r = kernel_table(s, rel, CALIB_OP_CPU, true, dp, &tc); break;
  case LAYOUT_AIC_GEMM:
    r = kernel_table(s, rel, CALIB_OP_GEMM, false, dp, &tc);
    if (r == 0)
      r = kernel_table(s, rel, CALIB_OP_GEMM_FP8, false, dp, &tc);
    if (r == 0)
      r = kernel_table(s, rel, CALIB_OP_GEMM_FP8_BLOCK, false, dp, &tc);
    break;
  case LAYOUT_AIC_CONTEXT:
    r = kernel_table(s, rel, CALIB_OP_ATTN_PREFILL, false, dp, &tc);
    if (r == 0)
      r = kernel_table(s, rel, CALIB_OP_ATTN_PREFILL_FP8KV, false, dp, &tc);
    break;
  case LAYOUT_AIC_GENERATION:
    r = kernel_table(s, rel, CALIB_OP_ATTN_DECODE, false, dp, &tc);
    if (r == 0)
      r = kernel_table(s, rel, CALIB_OP_ATTN_DECODE_FP8KV, false, dp, &tc);
    break;
  case LAYOUT_AIC_ALLREDUCE: r = kernel_table(s, rel, CALIB_OP_ALLREDUCE, false, dp, &tc); break;
  default: r = 0;
  }
  if (r != 0) { /* a malformed table: said, and the others still fitted */
    fprintf(s->out, "not mapped: %s: %s\n", rel, s->err);
    return 0;
  }
  size_t total = 0;
  for (int op = 0; op < CALIB_OP_COUNT; op++)
    total += tc.n[op];
  if (total == 0) {
    fprintf(s->out, "not mapped: %s: %s layout, but no row with a positive time\n", rel,
            layout_names[l]);
    return 0;
  }
  s->recognised++;
  fprintf(s->out, "profile: %s device=%s layout=%s", rel, a->name, layout_names[l]);
  for (int op = 0; op < CALIB_OP_COUNT; op++)
    if (tc.n[op]) {
      fprintf(s->out, " %s=%zu", calib_op_names[op], tc.n[op]);
      if (!dp->files[op]++)
        snprintf(dp->from[op], sizeof dp->from[op], "%s", rel);
    }
  if (tc.unmapped_rows)
    fprintf(s->out, " (%zu rows without a fitted operator: MoE, sampler or mixed batches)",
            tc.unmapped_rows);
  fputc('\n', s->out);
  return 0;
}

/* ---- the fit and its file ---- */

/* The order of the fits: decode attention lends prefill its HBM fraction (calib_fit_op). */
static const calib_op fit_order[] = {CALIB_OP_GEMM,
                                     CALIB_OP_GEMM_FP8,
                                     CALIB_OP_GEMM_FP8_BLOCK,
                                     CALIB_OP_ATTN_DECODE,
                                     CALIB_OP_ATTN_PREFILL,
                                     CALIB_OP_ATTN_DECODE_FP8KV,
                                     CALIB_OP_ATTN_PREFILL_FP8KV,
                                     CALIB_OP_ELEMENTWISE,
                                     CALIB_OP_ALLREDUCE,
                                     CALIB_OP_SENDRECV,
                                     CALIB_OP_CPU};

/* The parameters of op that pts cannot place, marked in keep and named in names: the HBM fraction
 * of each memory-bound kernel kind without a point (LLMServingSim profiles no residual add; left
 * free, a fraction runs off to 0.001 and prices the kind a thousand times too slow). */
static void unplaced(calib_op op, const calib_points *pts, bool *keep, char *names, size_t len) {
  if (op != CALIB_OP_ELEMENTWISE)
    return;
  static const struct {
    hw_elem_kind kind;
    const char *param;
  } fracs[] = {{HW_ELEM_NORM, "norm_frac"},
               {HW_ELEM_ADD, "add_frac"},
               {HW_ELEM_ROPE, "rope_frac"},
               {HW_ELEM_ACT, "act_frac"},
               {HW_ELEM_EMBED, "embed_frac"}};
  for (size_t f = 0; f < sizeof fracs / sizeof *fracs; f++) {
    bool seen = false;
    for (size_t i = 0; i < pts->n && !seen; i++)
      seen = (int)pts->p[i].x[1] == (int)fracs[f].kind;
    for (int k = 0; !seen && calib_op_param(op, k); k++)
      if (!strcmp(calib_op_param(op, k), fracs[f].param)) {
        keep[k] = true;
        size_t used = strlen(names);
        snprintf(names + used, len - used, " %s", fracs[f].param);
      }
  }
}

typedef struct fitted {
  hw_accel a; /* the catalogue's, with the fitted efficiencies */
  calib_stats stats[CALIB_OP_COUNT];
  char from[CALIB_OP_COUNT][256];
  char kept_from[64]; /* the efficiency entry the unfitted operators keep */
} fitted;

/* Whether an error figure is worse than another as printed (one decimal). */
static bool worse(double after_pct, double before_pct) {
  return round(after_pct * 10.0) > round(before_pct * 10.0);
}

/* Fit one device's efficiencies, from the catalogue's or (o->efficiency) a file's; 0, or -1 with
 * a message (the file unreadable or without the device's rows). */
static int fit_device(const dev_points *dp, const calib_device_opts *o, fitted *f, FILE *out,
                      char *err, size_t err_len) {
  const char *dir = o->dir;
  f->a = *dp->a;
  snprintf(f->kept_from, sizeof f->kept_from, "%s", dp->a->eff.source);
  if (o->efficiency) {
    if (hw_eff_read_file(o->efficiency, f->a.name, &f->a.eff, err, err_len) != 0)
      return -1;
    const char *base = strrchr(o->efficiency, '/');
    snprintf(f->kept_from, sizeof f->kept_from, "%s", base ? base + 1 : o->efficiency);
  }
  for (size_t i = 0; i < sizeof fit_order / sizeof *fit_order; i++) {
    calib_op op = fit_order[i];
    const calib_points *pts = &dp->pts[op];
    if (!pts->n) {
      fprintf(out, "device-fit device=%s op=%s no data: keeps the %s efficiencies\n", f->a.name,
              calib_op_names[op], f->kept_from);
      continue;
    }
    calib_stats before = calib_kernel_evaluate(op, pts, &f->a, dp->from[op], "fit", NULL, NULL);
    bool keep[CALIB_MINIMISE_MAX_PARAMS] = {false};
    char kept[128] = "";
    unplaced(op, pts, keep, kept, sizeof kept);
    hw_eff unfitted = f->a.eff;
    calib_fit_op(op, pts, &f->a, keep);
    f->stats[op] = calib_kernel_evaluate(op, pts, &f->a, dp->from[op], "fit", NULL, NULL);
    if (worse(f->stats[op].median_pct, before.median_pct) &&
        worse(f->stats[op].p90_pct, before.p90_pct)) {
      /* The fit minimises the mean squared log error; where that leaves both the median and the
       * p90 worse (a few far points pulling it), the efficiencies it started from serve better. */
      fprintf(out,
              "device-fit device=%s op=%s points=%zu before: median_abs_pct=%.1f p90_abs_pct=%.1f "
              "(%s efficiencies) fitted: median_abs_pct=%.1f p90_abs_pct=%.1f, worse on both: "
              "keeps the %s efficiencies\n",
              f->a.name, calib_op_names[op], pts->n, before.median_pct, before.p90_pct,
              f->kept_from, f->stats[op].median_pct, f->stats[op].p90_pct, f->kept_from);
      f->a.eff = unfitted;
      memset(&f->stats[op], 0, sizeof f->stats[op]);
      continue;
    }
    if (dp->files[op] > 1)
      snprintf(f->from[op], sizeof f->from[op], "%s/%.120s and %d more tables", dir, dp->from[op],
               dp->files[op] - 1);
    else
      snprintf(f->from[op], sizeof f->from[op], "%s/%.200s", dir, dp->from[op]);
    fprintf(out,
            "device-fit device=%s op=%s points=%zu before: median_abs_pct=%.1f p90_abs_pct=%.1f "
            "(%s efficiencies) after: median_abs_pct=%.1f p90_abs_pct=%.1f%s%s\n",
            f->a.name, calib_op_names[op], pts->n, before.median_pct, before.p90_pct, f->kept_from,
            f->stats[op].median_pct, f->stats[op].p90_pct,
            kept[0] ? "; kept (no points place them):" : "", kept);
  }
  return 0;
}

/* Whether any of op's parameters is set (an fp8 operator the device never had stays unwritten:
 * the catalogue falls back to bf16 then, as for a device without fp8 tensor cores). */
static bool op_set(const hw_eff *e, calib_op op) {
  for (int i = 0; calib_op_param(op, i); i++) {
    for (size_t k = 0; k < HW_EFF_NPARAMS; k++)
      if (!strcmp(hw_eff_params[k].op, calib_op_names[op]) &&
          !strcmp(hw_eff_params[k].param, calib_op_param(op, i)) &&
          *hw_eff_field((hw_eff *)e, k) != 0.0)
        return true;
  }
  return false;
}

/* The device's rows: every operator it has, or (fitted_only) those this fit fitted. */
static void write_rows(FILE *f, const fitted *fd, bool fitted_only) {
  for (int op = 0; op < CALIB_OP_COUNT; op++) {
    if (!op_set(&fd->a.eff, op) || (fitted_only && !fd->stats[op].n))
      continue;
    for (int i = 0; calib_op_param(op, i); i++) {
      size_t k = 0;
      while (strcmp(hw_eff_params[k].op, calib_op_names[op]) ||
             strcmp(hw_eff_params[k].param, calib_op_param(op, i)))
        k++;
      fprintf(f, "%s,%s,%s,%.6g,", fd->a.name, calib_op_names[op], calib_op_param(op, i),
              *hw_eff_field((hw_eff *)&fd->a.eff, k));
      if (fd->stats[op].n)
        fprintf(f, "\"%s\",%zu,%.1f,%.1f\n", fd->from[op], fd->stats[op].n,
                fd->stats[op].median_pct, fd->stats[op].p90_pct);
      else
        fprintf(f, "\"kept: the %s efficiencies (no data in the profile)\",0,,\n", fd->kept_from);
    }
  }
}

/* The fitted device a line of an efficiency table belongs to (its index), or -1. */
static int device_of_row(const char *line, const fitted *fds, int n) {
  for (int i = 0; i < n; i++) {
    size_t len = strlen(fds[i].a.name);
    if (!strncmp(line, fds[i].a.name, len) && line[len] == ',')
      return i;
  }
  return -1;
}

/* Whether a row of device i is replaced: all its rows when it had none before this write (its
 * operators then all come from the fit, fitted or kept), else those of the operators fitted (the
 * others keep their rows and provenance). */
static bool replaced(const char *line, const fitted *fd, bool had_rows) {
  if (!had_rows)
    return true;
  const char *op = strchr(line, ',') + 1;
  for (int k = 0; k < CALIB_OP_COUNT; k++) {
    size_t len = strlen(calib_op_names[k]);
    if (!strncmp(op, calib_op_names[k], len) && op[len] == ',')
      return fd->stats[k].n > 0;
  }
  return false;
}

static int write_file(const calib_device_opts *o, const fitted *fds, int n, char *err,
                      size_t err_len) {
  const char *path = o->out_path ? o->out_path : o->catalogue;
  FILE *old = o->out_path ? NULL : fopen(path, "r");
  if (!o->out_path && !old)
    return util_err(err, err_len,
                    "%s: cannot read the catalogue's efficiencies (run from the "
                    "repository root, or give --out FILE)",
                    path);
  bool had_rows[MAX_DEVICES] = {false};
  char line[4096];
  for (int i; old && fgets(line, sizeof line, old);)
    if ((i = device_of_row(line, fds, n)) >= 0)
      had_rows[i] = true;
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f) {
    if (old)
      fclose(old);
    return -1;
  }
  if (old) { /* everything but the rows the fit replaces, as it was */
    rewind(old);
    for (int i; fgets(line, sizeof line, old);)
      if ((i = device_of_row(line, fds, n)) < 0 || !replaced(line, &fds[i], had_rows[i]))
        fputs(line, f);
    fclose(old);
  } else {
    fprintf(f,
            "# Efficiency parameters of the hw/ cost model (hw/data/efficiency.csv's layout) "
            "fitted to the profiles under %s\n",
            o->dir);
    fprintf(f,
            "# by `windtunnel calibrate %s%s%s --write --out %s`; a scenario loads them with "
            "`efficiency_file:` in its accelerator entry.\n",
            o->dir, o->device ? " --device " : "", o->device ? o->device : "", path);
    fprintf(f,
            "# The errors are the fit's own (median and p90 |predicted/measured - 1|, percent) "
            "over its points.\n");
    fprintf(f, "device,op,param,value,fitted_from,points,median_abs_pct,p90_abs_pct\n");
  }
  for (int i = 0; i < n; i++)
    write_rows(f, &fds[i], had_rows[i]);
  return util_csv_commit(f, tmp, path, err, err_len);
}

int calib_device_fit(const calib_device_opts *opts, FILE *out, char *err, size_t err_len) {
  calib_device_opts trimmed = *opts; /* the folder without trailing slashes, for the paths */
  char dir[4096];
  size_t len = strlen(opts->dir);
  while (len > 1 && opts->dir[len - 1] == '/')
    len--;
  snprintf(dir, sizeof dir, "%.*s", (int)len, opts->dir);
  trimmed.dir = dir;
  const calib_device_opts *o = &trimmed;
  if (o->write && o->out_path && calib_output_writable(o->out_path, err, err_len) != 0)
    return -1; /* an unwritable output fails now, not after the fit */
  scan *s = calloc(1, sizeof *s);
  if (!s)
    return util_err(err, err_len, "out of memory");
  s->o = o, s->out = out, s->err = err, s->err_len = err_len;
  int r = 0;
  if (!(s->cat = hw_catalog_create(err, err_len)))
    r = -1;
  if (r == 0 && o->device && !(s->forced = calib_device_resolve(s->cat, o->device)))
    r = util_err(err, err_len,
                 "--device %s: not an accelerator of the catalogue "
                 "(hw/data/accelerators.csv; `windtunnel check --list` lists them)",
                 o->device);
  calib_files files = {0};
  if (r == 0 && calib_reader_list(o->dir, &files) != 0)
    r = util_err(err, err_len, "out of memory");
  for (size_t i = 0; i < files.n && r == 0; i++)
    r = scan_file(s, files.path[i]);
  calib_files_free(&files);
  fitted *fds = NULL;
  if (r == 0 && s->recognised == 0)
    r = 1, snprintf(err, err_len,
                    "%s: no table of a catalogued device in the Vidur, "
                    "LLMServingSim or AIConfigurator layout",
                    o->dir);
  if (r == 0 && !(fds = calloc((size_t)s->ndev, sizeof *fds)))
    r = util_err(err, err_len, "out of memory");
  for (int i = 0; i < s->ndev && r == 0; i++)
    r = fit_device(&s->dev[i], o, &fds[i], out, err, err_len);
  if (r == 0 && o->write) {
    r = write_file(o, fds, s->ndev, err, err_len);
    if (r == 0)
      fprintf(out, "wrote: %s (%d device%s)%s\n", o->out_path ? o->out_path : o->catalogue, s->ndev,
              s->ndev == 1 ? "" : "s", o->out_path ? "" : "; rebuild for the program to use them");
  }
  free(fds);
  for (int i = 0; i < s->ndev; i++)
    for (int op = 0; op < CALIB_OP_COUNT; op++)
      free(s->dev[i].pts[op].p);
  if (s->cat)
    hw_catalog_destroy(s->cat);
  free(s);
  return r;
}
