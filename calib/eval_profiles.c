/* LLMServingSim's per-layer profiles (profiles_v0 and profiles_v1): each profiled layer and
 * attention call priced with the built-in catalogue as hw_iteration_ns prices it, one calibration
 * row per profile file and operator family. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calib/acc.h"
#include "calib/device.h"
#include "calib/eval.h"
#include "calib/reader.h"
#include "hw/cost_ops.h"
#include "hw/hw.h"
#include "hw/systolic.h"
#include "util/csv.h"
#include "util/error.h"

/* ---- pricing single operators of a deployment, as hw_iteration_ns prices them ---- */

typedef struct pricer {
  hw_deploy d;
  hw_rates r;
} pricer;

static double price_gemm(const pricer *p, double m, double n, double k) {
  const hw_eff *e = &p->d.accel.eff;
  if (hw_systolic_is(&p->d.accel)) { /* TPU-like: matrix units (hw/systolic.h) */
    double clock_ns = 0.0;
    return hw_systolic_gemm_ns(&p->d.accel, m, n, k, hw_gemm_bytes(m, n, k, p->d.dtype_bytes),
                               &clock_ns);
  }
  return hw_roof_ns(e->gemm.t0_ns, hw_gemm_flops(m, n, k), p->r.ns_per_flop_gemm,
                    hw_gemm_bytes(m, n, k, p->d.dtype_bytes), p->r.ns_per_byte_gemm,
                    hw_gemm_serial_ns(e, k));
}

/* A grouped MoE GEMM: `rows` routed (token, expert) rows through `touched` experts' weights. */
static double price_moe_gemm(const pricer *p, double rows, double n, double k, double touched) {
  const hw_eff *e = &p->d.accel.eff;
  double dt = p->d.dtype_bytes;
  return hw_roof_ns(e->gemm.t0_ns, hw_gemm_flops(rows, n, k), p->r.ns_per_flop_gemm,
                    hw_gemm_bytes_typed(rows, n, k, touched, dt, dt, dt), p->r.ns_per_byte_gemm,
                    hw_gemm_serial_ns(e, k));
}

static double price_elem(const pricer *p, double bytes, hw_elem_kind kind) {
  return hw_linear_ns(p->d.accel.eff.elementwise.t0_ns, bytes, p->r.ns_per_byte_elem[kind]);
}

/* Attention of a batch: one prefill chunk of `chunk` tokens per sequence over `cached` tokens in
 * `pf_seqs` sequences, and `dec_seqs` decodes over `dec_ctx` tokens each; their sum, as priced
 * per iteration. */
static double price_attn(const pricer *p, double pf_seqs, double chunk, double cached,
                         double dec_seqs, double dec_ctx) {
  const hw_deploy *d = &p->d;
  const hw_eff *e = &d->accel.eff;
  double hd = d->model.head_dim, ns = 0.0;
  if (pf_seqs > 0.0 && chunk > 0.0) {
    double tokens = pf_seqs * chunk, pairs = pf_seqs * (chunk * cached + chunk * (chunk + 1) / 2);
    double ctx = pf_seqs * (cached + chunk);
    ns += hw_roof_ns(
        e->attn_prefill.t0_ns,
        hw_attn_prefill_flops(pairs, tokens, d->q_dev, hd, e->attn_prefill.pad_tokens),
        hw_attn_prefill_ns_per_flop(&e->attn_prefill, tokens, d->q_dev, p->r.ns_per_flop_pf),
        hw_attn_prefill_bytes(tokens, ctx, d->q_dev, d->kv_dev, hd, d->kv_dtype_bytes),
        p->r.ns_per_byte_pf, hw_attn_prefill_unit_ns(&e->attn_prefill, pf_seqs, d->kv_dev));
  }
  if (dec_seqs > 0.0) {
    double bytes = hw_attn_decode_bytes(dec_seqs, dec_seqs * dec_ctx, d->q_dev, d->kv_dev, hd,
                                        d->kv_dtype_bytes);
    ns += hw_attn_decode_ns(e, dec_seqs, d->kv_dev, bytes, p->r.ns_per_byte_dec);
  }
  return ns;
}

/* The operator family of a profiled layer, and its modelled time for `tokens` rows; "" for a layer
 * the model does not price (then *why says so). */
static const char *price_layer(const pricer *p, const char *layer, double tokens, double *ns,
                               const char **why) {
  const hw_deploy *d = &p->d;
  const hw_model *m = &d->model;
  double h = m->hidden, hd = m->head_dim, dt = d->dtype_bytes, t = tokens;
  *why = NULL;
  if (!strcmp(layer, "qkv_proj"))
    *ns = price_gemm(p, t, d->qkv_n, h);
  else if (!strcmp(layer, "q_proj"))
    *ns = price_gemm(p, t, d->q_dev * hd, h);
  else if (!strcmp(layer, "k_proj") || !strcmp(layer, "v_proj"))
    *ns = price_gemm(p, t, d->kv_dev * hd, h);
  else if (!strcmp(layer, "o_proj"))
    *ns = price_gemm(p, t, h, d->o_k);
  else if (!strcmp(layer, "gate_up_proj"))
    *ns = price_gemm(p, t, 2.0 * d->ffn_dev, h);
  else if (!strcmp(layer, "gate_proj") || !strcmp(layer, "up_proj"))
    *ns = price_gemm(p, t, d->ffn_dev, h);
  else if (!strcmp(layer, "down_proj"))
    *ns = price_gemm(p, t, h, d->ffn_dev);
  else if (m->experts && (!strcmp(layer, "expert.w1") || !strcmp(layer, "expert.w3") ||
                          !strcmp(layer, "expert.w2"))) {
    /* v0's profiler (llm_profile/models/mixtral.py, commit 9e3f0ec) times no routed experts: its
     * MixtralSparseMoeBlock runs "one expert for profiling", self.experts(hidden_states), a single
     * MixtralBlockSparseTop2MLP over all the tokens, sized config.intermediate_size (not divided by
     * tp_size, unlike its attention): one dense GEMM of the full expert width per projection. */
    bool down = !strcmp(layer, "expert.w2");
    *ns = price_gemm(p, t, down ? h : m->ffn, down ? m->ffn : h);
    return "moe";
  } else if (!strcmp(layer, "lm_head")) {
    *ns = price_gemm(p, t, d->vocab_dev, h);
    return "lm_head";
  } else if (!strcmp(layer, "layernorm") || !strcmp(layer, "input_layernorm") ||
             !strcmp(layer, "post_layernorm") || !strcmp(layer, "final_layernorm"))
    *ns = price_elem(p, hw_elem_norm_bytes(t, h, dt), HW_ELEM_NORM);
  else if (!strcmp(layer, "qk_norm"))
    *ns = price_elem(p, hw_elem_norm_bytes(t, (d->q_dev + d->kv_dev) * hd, dt), HW_ELEM_NORM);
  else if (!strcmp(layer, "rope") || !strcmp(layer, "rotary_emb"))
    *ns = price_elem(p, hw_elem_rope_bytes(t, d->q_dev, d->kv_dev, hd, dt), HW_ELEM_ROPE);
  else if (!strcmp(layer, "act_fn"))
    *ns = price_elem(p, hw_elem_act_bytes(t, d->ffn_dev, m->gated_ffn, dt), HW_ELEM_ACT);
  else if (!strcmp(layer, "embedding"))
    *ns = price_elem(p, hw_elem_embed_bytes(t, h, dt), HW_ELEM_EMBED);
  else if (!strcmp(layer, "attn")) { /* one sequence's prompt from scratch */
    *ns = price_attn(p, 1.0, t, 0.0, 0.0, 0.0);
    return "attention";
  } else {
    *why = !strcmp(layer, "gate") && m->experts
               ? "the profiler's gate region is Hugging Face's whole routing block (router GEMM, "
                 "softmax, top-k, one-hot, nonzero: a dozen small kernels), not one router GEMM"
           : !strcmp(layer, "sampler") ? "the sampler is host and GPU work the model prices as "
                                         "per-iteration overhead"
                                       : "a layer the cost model does not price";
    return "";
  }
  return !strncmp(layer, "rope", 4) || !strcmp(layer, "rotary_emb") || !strcmp(layer, "act_fn") ||
                 !strcmp(layer, "embedding") || strstr(layer, "norm")
             ? "elementwise"
             : "gemm";
}

/* ---- LLMServingSim per-layer profiles ---- */

#define LSS "LLMServingSim/"

/* How a profile's device is priced (its catalogue entry from calib_device_resolve). */
static const char *const note_fitted = "the device's fitted efficiencies (hw/data/efficiency.csv)";
static const char *const note_default =
    "datasheet values (hw/data/accelerators.csv) and the default (H100-fitted) efficiencies: "
    "fit its own with `windtunnel calibrate <profile folder> --write`";
static const char *const note_systolic =
    "systolic model (hw/systolic.h): matrix units with padding, vector units; fitted to this "
    "profile (hw/data/systolic.csv)";

typedef struct lss_profile {
  char rel[512];     /* the profile folder, relative to the data directory */
  char hw[64];       /* as in the folder name */
  char hf_id[160];   /* org/model */
  unsigned tp;       /* 0 when the folder does not say */
  const char *note;  /* how its device is priced */
  const hw_accel *a; /* NULL: not in the catalogue */
} lss_profile;

/* Parse "<HW>_<org>_<model>[_tp<N>]". */
static bool lss_parse(const char *name, lss_profile *p) {
  return calib_lss_folder(name, p->hw, sizeof p->hw, p->hf_id, sizeof p->hf_id, &p->tp);
}

/* The catalogue's model for an id, ignoring a fine-tune suffix ("-Instruct-2507": same shapes). */
static const hw_model *lss_model(const hw_catalog *cat, const char *hf_id) {
  const hw_model *m = hw_catalog_model(cat, hf_id);
  if (m)
    return m;
  char base[160];
  snprintf(base, sizeof base, "%s", hf_id);
  char *suffix = strstr(base, "-Instruct");
  if (suffix)
    *suffix = '\0';
  return hw_catalog_model(cat, base);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the sub-folders of dir (at most max); the caller frees them. */
static int list_dirs(const char *dir, char **names, int max) {
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < max) {
    if (e->d_name[0] == '.')
      continue;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (names[n] = strdup(e->d_name)))
      n++;
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  return n;
}

typedef struct cal_ctx {
  const char *data_dir;
  const hw_catalog *cat;
  calib_rows *out;
  char *err;
  size_t err_len;
} cal_ctx;

enum { LSS_FAMILIES = 5 };
static const char *const lss_families[LSS_FAMILIES] = {"gemm", "elementwise", "attention", "moe",
                                                       "lm_head"};

static int family_index(const char *family) {
  for (int i = 0; i < LSS_FAMILIES; i++)
    if (!strcmp(lss_families[i], family))
      return i;
  return -1;
}

/* Open a profile's file, dataset relative to the data directory; 0, or -1 with the message in
 * cc->err. */
static int lss_open(const cal_ctx *cc, const char *dataset, util_csv *c) {
  calib_reader rc = {cc->data_dir, cc->err, cc->err_len};
  return calib_reader_open(&rc, c, dataset);
}

/* Emit one row per family that has points, and a skipped row per unpriced layer seen. */
static int lss_flush(cal_ctx *cc, calib_acc *fam, const char *dataset, const lss_profile *p,
                     const char *unpriced, const char *unpriced_why) {
  int r = 0;
  for (int i = 0; i < LSS_FAMILIES && r == 0; i++)
    if (fam[i].n)
      r = calib_acc_row(&fam[i], cc->out, dataset, lss_families[i], p->a->name, p->note);
  if (r == 0 && unpriced[0])
    r = calib_rows_skip(cc->out, dataset, unpriced, unpriced_why);
  return r;
}

/* layers.csv (v0: layer_name,input,kv_cache,tp_size,latency(ns)) or dense.csv / per_sequence.csv
 * (v1: layer,tokens|sequences,time_us). */
static int lss_layers(cal_ctx *cc, const pricer *pr, const lss_profile *p, const char *dataset) {
  util_csv c;
  if (lss_open(cc, dataset, &c) != 0)
    return calib_rows_skip(cc->out, dataset, "layers", cc->err);
  calib_lss_layer_cols cols = calib_lss_layer_columns(&c);
  bool v0 = cols.v0;
  int col_layer = cols.layer, col_n = cols.n, col_t = cols.t;
  double unit_ns = cols.unit_ns;
  calib_acc fam[LSS_FAMILIES];
  for (int i = 0; i < LSS_FAMILIES; i++)
    calib_acc_init(&fam[i]);
  char unpriced[64] = "", unpriced_why[160] = "";
  int r = 0, more;
  if (col_layer < 0 || col_n < 0 || col_t < 0) {
    util_csv_close(&c);
    return calib_rows_skip(cc->out, dataset, "layers", "unrecognised columns");
  }
  while (r == 0 && (more = util_csv_next(&c, cc->err, cc->err_len)) == 1) {
    const char *layer = util_csv_get(&c, col_layer);
    double n, t;
    if (util_csv_double(&c, col_n, NAN, &n, NULL, 0) != 0 ||
        util_csv_double(&c, col_t, NAN, &t, NULL, 0) != 0)
      continue;
    if (!(n > 0.0 && isfinite(n))) { /* a shape, as calib_reader_dims wants (found with fuzz/) */
      char why[512];
      snprintf(why, sizeof why, "%s:%ld: column '%s': '%s' is not a size above 0", c.name, c.line,
               c.header[col_n], util_csv_get(&c, col_n));
      util_csv_close(&c);
      for (int i = 0; i < LSS_FAMILIES; i++)
        calib_acc_free(&fam[i]);
      return calib_rows_skip(cc->out, dataset, "layers", why);
    }
    double ns;
    const char *why;
    const char *family = price_layer(pr, layer, n, &ns, &why);
    if (!family[0]) {
      if (!unpriced[0]) { /* "expert.w1" and its kin: one row, "expert" */
        snprintf(unpriced, sizeof unpriced, "%.*s", (int)strcspn(layer, "."), layer);
        snprintf(unpriced_why, sizeof unpriced_why, "%s", why);
      }
      continue;
    }
    char inputs[96];
    snprintf(inputs, sizeof inputs, "layer=%s %s=%g", layer, v0 ? "tokens" : c.header[col_n], n);
    r = calib_acc_add(&fam[family_index(family)], ns, t * unit_ns, inputs);
  }
  util_csv_close(&c);
  if (r == 0)
    r = lss_flush(cc, fam, dataset, p, unpriced, unpriced_why);
  for (int i = 0; i < LSS_FAMILIES; i++)
    calib_acc_free(&fam[i]);
  return r;
}

/* attention.csv in one of three layouts: v1 (prefill_chunk,kv_prefill,n_decode,kv_decode,time_us),
 * v0 GPU (Vidur's: time_stats.attn_{prefill,decode}.median in ms, batch_size,
 * prefill_chunk_size, kv_cache_size, is_prefill) or v0 TPU (prefill_chunk_size, kv_cache_size,
 * batch_size, is_prefill, p50_ns). The v0 GPU profiler (llm_profile/profiler/attention/
 * attention_profiler.py, tests/calib/data/README.md) times one flash_attn_varlen_func call
 * whose K/V hold kv_cache_size keys in all: a decode row is batch_size sequences of
 * kv_cache_size / batch_size keys each, a prefill row (batch 1) is a causal chunk aligned to the
 * end of kv_cache_size keys (so kv_cache_size includes the chunk). */
static int lss_attention(cal_ctx *cc, const pricer *pr, const lss_profile *p, const char *dataset) {
  util_csv c;
  if (lss_open(cc, dataset, &c) != 0)
    return calib_rows_skip(cc->out, dataset, "attention", cc->err);
  int v1_cols[5] = {util_csv_col(&c, "prefill_chunk"), util_csv_col(&c, "kv_prefill"),
                    util_csv_col(&c, "n_decode"), util_csv_col(&c, "kv_decode"),
                    util_csv_col(&c, "time_us")};
  int v0_cols[4] = {util_csv_col(&c, "batch_size"), util_csv_col(&c, "prefill_chunk_size"),
                    util_csv_col(&c, "kv_cache_size"), util_csv_col(&c, "is_prefill")};
  int col_pf = util_csv_col(&c, "time_stats.attn_prefill.median");
  int col_dec = util_csv_col(&c, "time_stats.attn_decode.median");
  int col_p50 = util_csv_col(&c, "p50_ns");
  bool v1 = v1_cols[0] >= 0 && v1_cols[1] >= 0 && v1_cols[2] >= 0 && v1_cols[3] >= 0 &&
            v1_cols[4] >= 0;
  bool v0 = v0_cols[0] >= 0 && v0_cols[1] >= 0 && v0_cols[2] >= 0 && v0_cols[3] >= 0 &&
            ((col_pf >= 0 && col_dec >= 0) || col_p50 >= 0);
  if (!v1 && !v0) {
    util_csv_close(&c);
    return calib_rows_skip(cc->out, dataset, "attention", "unrecognised columns");
  }
  calib_acc a;
  calib_acc_init(&a);
  int r = 0, more;
  while (r == 0 && (more = util_csv_next(&c, cc->err, cc->err_len)) == 1) {
    double v[5], ns, measured_ns;
    char inputs[160];
    bool ok = true;
    if (v1) {
      for (int i = 0; i < 5; i++)
        ok = ok && util_csv_double(&c, v1_cols[i], NAN, &v[i], NULL, 0) == 0;
      if (!ok)
        continue;
      ns = price_attn(pr, v[0] > 0.0 ? 1.0 : 0.0, v[0], v[1], v[2], v[3]);
      measured_ns = v[4] * 1e3;
      snprintf(inputs, sizeof inputs, "prefill_chunk=%g kv_prefill=%g n_decode=%g kv_decode=%g",
               v[0], v[1], v[2], v[3]);
    } else {
      for (int i = 0; i < 3; i++)
        ok = ok && util_csv_double(&c, v0_cols[i], NAN, &v[i], NULL, 0) == 0;
      bool prefill = !strcmp(util_csv_get(&c, v0_cols[3]), "True");
      double t = NAN;
      if (col_p50 >= 0)
        ok = ok && util_csv_double(&c, col_p50, NAN, &t, NULL, 0) == 0, measured_ns = t;
      else
        ok = ok && util_csv_double(&c, prefill ? col_pf : col_dec, NAN, &t, NULL, 0) == 0,
        measured_ns = t * 1e6;
      if (!ok)
        continue;
      double b = v[0], chunk = v[1], kv = v[2];
      if (col_p50 >= 0) /* TPU notebook: kv_cache_size is each sequence's cached context */
        ns = prefill ? price_attn(pr, b, chunk, kv, 0.0, 0.0) : price_attn(pr, 0, 0, 0, b, kv);
      else if (prefill) /* one sequence; the chunk is the last `chunk` of kv_cache_size keys */
        ns = price_attn(pr, 1.0, chunk, fmax(kv - chunk, 0.0), 0.0, 0.0);
      else /* kv_cache_size keys in all, split evenly over the batch */
        ns = price_attn(pr, 0, 0, 0, b, floor(kv / b));
      snprintf(inputs, sizeof inputs, "%s batch=%g chunk=%g kv=%g", prefill ? "prefill" : "decode",
               b, chunk, kv);
    }
    r = calib_acc_add(&a, ns, measured_ns, inputs);
  }
  util_csv_close(&c);
  if (r == 0)
    r = calib_acc_row(&a, cc->out, dataset, "attention", p->a->name, p->note);
  calib_acc_free(&a);
  return r;
}

/* moe.csv (v1: tokens,activated_experts,time_us): vLLM's fused MoE experts of one layer, with the
 * tokens' top-k rows forced onto `activated_experts` experts; priced as hw_iteration_ns prices
 * the experts (gate-up and down grouped GEMMs reading the touched experts' weights) plus the
 * activation over the routed rows. */
static int lss_moe(cal_ctx *cc, const pricer *pr, const lss_profile *p, const char *dataset) {
  const hw_deploy *d = &pr->d;
  const hw_model *m = &d->model;
  if (!m->experts)
    return calib_rows_skip(cc->out, dataset, "moe", "the catalogue's model has no experts");
  util_csv c;
  if (lss_open(cc, dataset, &c) != 0)
    return calib_rows_skip(cc->out, dataset, "moe", cc->err);
  int col_t = util_csv_col(&c, "tokens"), col_e = util_csv_col(&c, "activated_experts"),
      col_us = util_csv_col(&c, "time_us");
  if (col_t < 0 || col_e < 0 || col_us < 0) {
    util_csv_close(&c);
    return calib_rows_skip(cc->out, dataset, "moe", "unrecognised columns");
  }
  calib_acc a;
  calib_acc_init(&a);
  int r = 0;
  double h = m->hidden, up_n = (m->gated_ffn ? 2.0 : 1.0) * d->ffn_dev;
  while (r == 0 && util_csv_next(&c, cc->err, cc->err_len) == 1) {
    double tokens, touched, us;
    if (util_csv_double(&c, col_t, NAN, &tokens, NULL, 0) != 0 ||
        util_csv_double(&c, col_e, NAN, &touched, NULL, 0) != 0 ||
        util_csv_double(&c, col_us, NAN, &us, NULL, 0) != 0 || !(tokens > 0.0) || !(touched > 0.0))
      continue;
    double rows = tokens * m->active_experts;
    double ns = price_moe_gemm(pr, rows, up_n, h, touched) +
                price_moe_gemm(pr, rows, h, d->ffn_dev, touched) +
                price_elem(pr, hw_elem_act_bytes(rows, d->ffn_dev, m->gated_ffn, d->dtype_bytes),
                           HW_ELEM_ACT);
    char inputs[96];
    snprintf(inputs, sizeof inputs, "tokens=%g activated_experts=%g", tokens, touched);
    r = calib_acc_add(&a, ns, us * 1e3, inputs);
  }
  util_csv_close(&c);
  if (r == 0)
    r = calib_acc_row(&a, cc->out, dataset, "moe", p->a->name, p->note);
  calib_acc_free(&a);
  return r;
}

/* One profile folder with its CSV files (attention.csv, layers.csv or dense.csv and
 * per_sequence.csv, moe.csv; the skew tables are for a decode-skew model). */
static int lss_profile_dir(cal_ctx *cc, lss_profile *p) {
  static const char *const files[] = {"layers.csv", "dense.csv", "per_sequence.csv",
                                      "attention.csv", "moe.csv"};
  int r = 0;
  for (size_t f = 0; f < sizeof files / sizeof *files && r == 0; f++) {
    char path[4096], dataset[800];
    struct stat st;
    snprintf(dataset, sizeof dataset, "%s/%s", p->rel, files[f]);
    snprintf(path, sizeof path, "%s/%s", cc->data_dir, dataset);
    if (stat(path, &st) != 0)
      continue;
    const hw_model *m = lss_model(cc->cat, p->hf_id);
    char why[256];
    if (!p->a) {
      snprintf(why, sizeof why,
               "no datasheet values for %s: no accelerator of the catalogue "
               "(hw/data/accelerators.csv) is named %s (calib/device.c's alias table)",
               p->hw, p->hw);
      r = calib_rows_skip(cc->out, dataset, "all", why);
      continue;
    }
    if (!m) {
      snprintf(why, sizeof why, "model %s is not in the catalogue", p->hf_id);
      r = calib_rows_skip(cc->out, dataset, "all", why);
      continue;
    }
    pricer pr;
    hw_deploy_config cfg = {.tp = p->tp ? p->tp : 1};
    if (hw_deploy_init(&pr.d, p->a, m, &cfg, why, sizeof why) != 0) {
      r = calib_rows_skip(cc->out, dataset, "all", why);
      continue;
    }
    pr.r = hw_rates_of(&pr.d.accel, &pr.d.accel.eff);
    if (hw_systolic_is(&pr.d.accel))
      hw_systolic_rates(&pr.d.accel, m->head_dim, pr.d.dtype_bytes, m->gated_ffn, &pr.r);
    r = !strcmp(files[f], "attention.csv") ? lss_attention(cc, &pr, p, dataset)
        : !strcmp(files[f], "moe.csv")     ? lss_moe(cc, &pr, p, dataset)
                                           : lss_layers(cc, &pr, p, dataset);
  }
  return r;
}

static void lss_device(const hw_catalog *cat, lss_profile *p) {
  p->a = calib_device_resolve(cat, p->hw);
  p->note = !p->a                                 ? NULL
            : hw_systolic_is(p->a)                ? note_systolic
            : strcmp(p->a->eff.source, "default") ? note_fitted
                                                  : note_default;
}

/* profiles_v0/<HW>_<org>_<model>_tp<N>/ and profiles_v1/<HW>_<org>_<model>/tp<N>/. */
static int calibrate_llmservingsim(cal_ctx *cc) {
  int r = 0;
  for (int version = 0; version < 2 && r == 0; version++) {
    char root[4096], *names[64];
    snprintf(root, sizeof root, "%s/" LSS "profiles_v%d", cc->data_dir, version);
    int n = list_dirs(root, names, 64);
    for (int i = 0; i < n; i++) {
      lss_profile p;
      memset(&p, 0, sizeof p);
      if (r == 0 && lss_parse(names[i], &p)) {
        lss_device(cc->cat, &p);
        if (version == 0) {
          snprintf(p.rel, sizeof p.rel, LSS "profiles_v0/%s", names[i]);
          r = lss_profile_dir(cc, &p);
        } else {
          char sub[4352], *tps[16];
          snprintf(sub, sizeof sub, "%s/%s", root, names[i]);
          int ntp = list_dirs(sub, tps, 16);
          for (int k = 0; k < ntp; k++) {
            if (r == 0 && !strncmp(tps[k], "tp", 2)) {
              p.tp = (unsigned)strtoul(tps[k] + 2, NULL, 10);
              snprintf(p.rel, sizeof p.rel, LSS "profiles_v1/%s/%s", names[i], tps[k]);
              r = lss_profile_dir(cc, &p);
            }
            free(tps[k]);
          }
        }
      }
      free(names[i]);
    }
  }
  return r;
}

int calib_eval_llmservingsim(const char *data_dir, const hw_catalog *cat, calib_rows *out,
                             char *err, size_t err_len) {
  cal_ctx cc = {data_dir, cat, out, err, err_len};
  /* Every other failure is a profile's, and gives a skipped row. */
  return calibrate_llmservingsim(&cc) != 0 ? util_err(err, err_len, "out of memory") : 0;
}
