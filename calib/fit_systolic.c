/* Fits the systolic model's parameters (hw/systolic.h) to LLMServingSim's TPU v6e Llama-3.1-8B
 * per-layer profile (the only TPU data) and writes hw/data/systolic.csv; run by calib_fit_hw. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/fit.h"
#include "calib/minimise.h"
#include "calib/output.h"
#include "hw/systolic.h"
#include "util/array.h"
#include "util/csv.h"
#include "util/stats.h"

/* The profiles fitted: folder under the data directory, catalogue device and model. */
static const struct {
  const char *rel, *device, *model;
} profiles[] = {{"LLMServingSim/profiles_v0/TPU-v6e-1_meta-llama_Llama-3.1-8B_tp1",
                 "TPU v6e (Trillium)", "Llama-3.1-8B"}};

typedef enum kind { K_GEMM, K_NORM, K_ROPE, K_EMBED, K_PREFILL, K_DECODE, K_KINDS } kind;
static const char *const kind_names[K_KINDS] = {
    "gemm", "elementwise", "elementwise", "embedding", "attention_prefill", "attention_decode"};

typedef struct point {
  kind k;
  double x[3]; /* gemm: m n k; elementwise: tokens; prefill: chunk cached; decode: seqs ctx */
  double measured_ns;
} point;

typedef struct points {
  point *p;
  size_t n, cap;
} points;

static int push(points *ps, kind k, double x0, double x1, double x2, double measured_ns) {
  if (!(measured_ns > 0.0))
    return 0;
  point *grown = util_grow(ps->p, &ps->cap, ps->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  ps->p = grown;
  ps->p[ps->n++] = (point){k, {x0, x1, x2}, measured_ns};
  return 0;
}

/* The device and model of a fit, and the candidate parameters. */
typedef struct problem {
  hw_accel a;
  const hw_model *m;
  const points *pts;
  int group; /* which parameter group is being fitted (groups[]) */
} problem;

/* Price one point exactly as calib/eval_profiles.c prices the profile's layers and attention. */
static double predict(const hw_accel *a, const hw_model *m, const point *pt) {
  hw_rates r = hw_rates_of(a, &a->eff);
  hw_systolic_rates(a, m->head_dim, 2.0, m->gated_ffn, &r);
  double h = m->hidden, hd = m->head_dim, dt = 2.0, q = m->q_heads, kv = m->kv_heads, clock = 0.0;
  const hw_eff *e = &a->eff;
  switch (pt->k) {
  case K_GEMM: {
    double mm = pt->x[0], n = pt->x[1], k = pt->x[2];
    return hw_systolic_gemm_ns(a, mm, n, k, hw_gemm_bytes(mm, n, k, dt), &clock);
  }
  case K_NORM:
    return hw_linear_ns(e->elementwise.t0_ns, hw_elem_norm_bytes(pt->x[0], h, dt),
                        r.ns_per_byte_elem[HW_ELEM_NORM]);
  case K_ROPE:
    return hw_linear_ns(e->elementwise.t0_ns, hw_elem_rope_bytes(pt->x[0], q, kv, hd, dt),
                        r.ns_per_byte_elem[HW_ELEM_ROPE]);
  case K_EMBED:
    return hw_linear_ns(e->elementwise.t0_ns, hw_elem_embed_bytes(pt->x[0], h, dt),
                        r.ns_per_byte_elem[HW_ELEM_EMBED]);
  case K_PREFILL: {
    double chunk = pt->x[0], cached = pt->x[1];
    double pairs = chunk * cached + chunk * (chunk + 1) / 2;
    return hw_roof_ns(e->attn_prefill.t0_ns, hw_attn_prefill_flops(pairs, chunk, q, hd, 0.0),
                      r.ns_per_flop_pf, hw_attn_prefill_bytes(chunk, cached + chunk, q, kv, hd, dt),
                      r.ns_per_byte_pf, 0.0);
  }
  case K_DECODE: {
    double seqs = pt->x[0], ctx = pt->x[1];
    return hw_attn_decode_ns(e, seqs, kv, hw_attn_decode_bytes(seqs, seqs * ctx, q, kv, hd, dt),
                             r.ns_per_byte_dec);
  }
  default: return NAN;
  }
}

/* Parameter groups, each fitted to the points of its kinds with the others held. */
enum { GROUP_MAX = 3 };
static const struct {
  const char *params[GROUP_MAX];
  kind kinds[2];
} groups[] = {
    {{"gemm_t0_ns", "mxu_frac", "mem_frac"}, {K_GEMM, K_GEMM}},
    {{"vector_t0_ns", "norm_cycles", "rope_cycles"}, {K_NORM, K_ROPE}},
    {{"embed_frac", NULL, NULL}, {K_EMBED, K_EMBED}},
    {{"attn_prefill_t0_ns", "attn_prefill_frac", NULL}, {K_PREFILL, K_PREFILL}},
    {{"attn_decode_t0_ns", "attn_decode_mem_frac", "attn_decode_per_seq_kv_head_ns"},
     {K_DECODE, K_DECODE}},
};
enum { NGROUPS = sizeof groups / sizeof groups[0] };

static size_t param_index(const char *name) {
  for (size_t i = 0; i < hw_systolic_nparams(); i++)
    if (!strcmp(hw_systolic_param_name(i), name))
      return i;
  return (size_t)-1;
}

static int group_size(int g) {
  int n = 0;
  while (n < GROUP_MAX && groups[g].params[n])
    n++;
  return n;
}

static bool in_group(int g, kind k) { return groups[g].kinds[0] == k || groups[g].kinds[1] == k; }

/* Set the group's parameters from log values, and what they feed in hw_eff. */
static void set_group(hw_accel *a, int g, const double *log_x) {
  for (int i = 0; i < group_size(g); i++) { /* a fraction of a peak is at most 1 */
    const char *name = groups[g].params[i];
    bool frac = strstr(name, "_frac") != NULL;
    *hw_systolic_param(&a->systolic.fit,
                       param_index(name)) = exp(frac ? fmin(log_x[i], 0.0) : log_x[i]);
  }
  /* Kernels without data take the norm's vector cost (hw/data/SOURCES.md, "TPU"). */
  a->systolic.fit.act_cycles = a->systolic.fit.add_cycles = a->systolic.fit.norm_cycles;
  hw_systolic_apply_fit(a);
}

/* Mean squared log error of the group's points (as the efficiency fit's, calib/fit_kernels.c). */
static double loss(const void *ctx, const double *log_x) {
  const problem *pb = ctx;
  hw_accel a = pb->a;
  set_group(&a, pb->group, log_x);
  double sum = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < pb->pts->n; i++) {
    const point *pt = &pb->pts->p[i];
    if (!in_group(pb->group, pt->k))
      continue;
    double le = log(predict(&a, pb->m, pt) / pt->measured_ns);
    sum += le * le, n++;
  }
  return n && isfinite(sum) ? sum / (double)n : INFINITY;
}

/* ---- reading the profile ---- */

/* layers.csv: the projections (gemm), norms and rotary (vector units), the embedding. The LM head
 * and act_fn (one point) are left to the check. */
static int read_layers(const char *path, const hw_model *m, points *ps, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, path, err, err_len) != 0)
    return -1;
  int cl = util_csv_col(&c, "layer_name"), cn = util_csv_col(&c, "input"),
      ct = util_csv_col(&c, "latency(ns)"), rc = 0, more;
  if (cl < 0 || cn < 0 || ct < 0) {
    snprintf(err, err_len, "%s: unrecognised columns", path);
    util_csv_close(&c);
    return -1;
  }
  double h = m->hidden, hd = m->head_dim, ffn = m->ffn;
  while (rc == 0 && (more = util_csv_next(&c, err, err_len)) == 1) {
    const char *l = util_csv_get(&c, cl);
    double t, y;
    if (util_csv_double(&c, cn, NAN, &t, NULL, 0) != 0 || util_csv_double(&c, ct, NAN, &y, NULL, 0))
      continue;
    if (!strcmp(l, "q_proj"))
      rc = push(ps, K_GEMM, t, m->q_heads * hd, h, y);
    else if (!strcmp(l, "k_proj") || !strcmp(l, "v_proj"))
      rc = push(ps, K_GEMM, t, m->kv_heads * hd, h, y);
    else if (!strcmp(l, "o_proj"))
      rc = push(ps, K_GEMM, t, h, m->q_heads * hd, y);
    else if (!strcmp(l, "gate_proj") || !strcmp(l, "up_proj"))
      rc = push(ps, K_GEMM, t, ffn, h, y);
    else if (!strcmp(l, "down_proj"))
      rc = push(ps, K_GEMM, t, h, ffn, y);
    else if (strstr(l, "layernorm"))
      rc = push(ps, K_NORM, t, 0, 0, y);
    else if (!strcmp(l, "rope"))
      rc = push(ps, K_ROPE, t, 0, 0, y);
    else if (!strcmp(l, "embedding"))
      rc = push(ps, K_EMBED, t, 0, 0, y);
  }
  util_csv_close(&c);
  if (rc != 0)
    snprintf(err, err_len, "out of memory");
  return rc != 0 || more < 0 ? -1 : 0;
}

/* attention.csv (v0 TPU: prefill_chunk_size, kv_cache_size, batch_size, is_prefill, p50_ns):
 * prefill rows of one sequence, decode rows of batch_size sequences. */
static int read_attention(const char *path, points *ps, char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, path, err, err_len) != 0)
    return -1;
  int cc = util_csv_col(&c, "prefill_chunk_size"), ck = util_csv_col(&c, "kv_cache_size"),
      cb = util_csv_col(&c, "batch_size"), cp = util_csv_col(&c, "is_prefill"),
      ct = util_csv_col(&c, "p50_ns"), rc = 0, more;
  if (cc < 0 || ck < 0 || cb < 0 || cp < 0 || ct < 0) {
    snprintf(err, err_len, "%s: unrecognised columns", path);
    util_csv_close(&c);
    return -1;
  }
  while (rc == 0 && (more = util_csv_next(&c, err, err_len)) == 1) {
    double chunk, kv, b, y;
    if (util_csv_double(&c, cc, NAN, &chunk, NULL, 0) ||
        util_csv_double(&c, ck, NAN, &kv, NULL, 0) || util_csv_double(&c, cb, NAN, &b, NULL, 0) ||
        util_csv_double(&c, ct, NAN, &y, NULL, 0))
      continue;
    if (!strcmp(util_csv_get(&c, cp), "True"))
      rc = b == 1.0 ? push(ps, K_PREFILL, chunk, kv, 0, y) : 0;
    else
      rc = push(ps, K_DECODE, b, kv, 0, y);
  }
  util_csv_close(&c);
  if (rc != 0)
    snprintf(err, err_len, "out of memory");
  return rc != 0 || more < 0 ? -1 : 0;
}

/* Median and p90 of |modelled / measured - 1| over the points of kind k (or k2), percent, as the
 * lower order statistics e[(n-1)/2] and e[floor(0.9 (n-1))], not util_error_percentiles'
 * interpolation: these figures are written into systolic.csv's header, and interpolating would
 * change the file a refit writes. */
static size_t stats(const hw_accel *a, const hw_model *m, const points *ps, kind k, kind k2,
                    double *median, double *p90) {
  double *e = malloc((ps->n + 1) * sizeof *e);
  size_t n = 0;
  if (!e)
    return 0;
  for (size_t i = 0; i < ps->n; i++)
    if (ps->p[i].k == k || ps->p[i].k == k2)
      e[n++] = fabs(predict(a, m, &ps->p[i]) / ps->p[i].measured_ns - 1.0);
  util_sort_doubles(e, n);
  *median = n ? 100.0 * e[(n - 1) / 2] : 0.0;
  *p90 = n ? 100.0 * e[(size_t)(0.9 * (double)(n - 1))] : 0.0;
  free(e);
  return n;
}

/* How each group is searched: as the GPU fits (calib/fit_kernels.c), with 300 steps per
 * parameter. */
static const calib_minimise_opts search = {
    .first_step = 0.3, .restarts = 8, .iterations_per_param = 300, .converged = 1e-12};

/* Starting values: typical fractions and fixed times of the GPU fits, one vector cycle. */
static void initial_fit(hw_systolic_fit *f) {
  *f = (hw_systolic_fit){.gemm_t0_ns = 3000,
                         .mxu_frac = 0.6,
                         .mem_frac = 0.8,
                         .vector_t0_ns = 500,
                         .norm_cycles = 1,
                         .rope_cycles = 1,
                         .act_cycles = 1,
                         .add_cycles = 1,
                         .embed_frac = 0.5,
                         .attn_prefill_t0_ns = 5000,
                         .attn_prefill_frac = 0.2,
                         .attn_decode_t0_ns = 5000,
                         .attn_decode_mem_frac = 0.3,
                         .attn_decode_per_seq_kv_head_ns = 20};
}

static int write_csv(const char *path, const char *data_dir, const hw_accel *fitted,
                     const char *summary, char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Fitted parameters of the systolic (TPU-like) model, hw/systolic.h. Written by "
          "`wt_hw_fit %s <dir>/efficiency.csv`\n# (calib_fit_systolic, calib/fit_systolic.c) "
          "beside efficiency.csv; see hw/data/SOURCES.md, \"TPU\".\n%s",
          data_dir, summary);
  fprintf(f, "device");
  for (size_t i = 0; i < hw_systolic_nparams(); i++)
    fprintf(f, ",%s", hw_systolic_param_name(i));
  fprintf(f, ",fitted_from\n");
  for (int row = 0; row < 2; row++) {
    hw_systolic_fit v = fitted->systolic.fit;
    fprintf(f, "%s", row == 0 ? fitted->name : "default");
    for (size_t i = 0; i < hw_systolic_nparams(); i++)
      fprintf(f, ",%.6g", *hw_systolic_param(&v, i));
    if (row == 0)
      fprintf(f, ",\"%s\"\n", profiles[0].rel);
    else
      fprintf(f, ",\"transferred from %s: no other systolic device has a profile in the data\"\n",
              fitted->name);
  }
  return util_csv_commit(f, tmp, path, err, err_len);
}

int calib_fit_systolic(const char *data_dir, const char *eff_out_path, FILE *report, char *err,
                       size_t err_len) {
  hw_catalog *cat = hw_catalog_create(err, err_len);
  if (!cat)
    return -1;
  const hw_accel *a = hw_catalog_accel(cat, profiles[0].device);
  const hw_model *m = hw_catalog_model(cat, profiles[0].model);
  if (!a || !m || !hw_systolic_is(a)) {
    snprintf(err, err_len, "the catalogue lacks %s with matrix units, or %s", profiles[0].device,
             profiles[0].model);
    hw_catalog_destroy(cat);
    return -1;
  }
  points ps = {0};
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/layers.csv", data_dir, profiles[0].rel);
  int rc = read_layers(path, m, &ps, err, err_len);
  snprintf(path, sizeof path, "%s/%s/attention.csv", data_dir, profiles[0].rel);
  if (rc == 0)
    rc = read_attention(path, &ps, err, err_len);
  if (rc != 0) {
    free(ps.p);
    hw_catalog_destroy(cat);
    if (eff_out_path)
      return -1; /* a fit cannot be written without its data */
    if (report)
      fprintf(report, "calibration dataset=%s op=systolic skipped: %s\n", profiles[0].rel, err);
    return 0;
  }
  problem pb = {*a, m, &ps, 0};
  if (eff_out_path) {
    initial_fit(&pb.a.systolic.fit);
    hw_systolic_apply_fit(&pb.a);
    for (int g = 0; g < NGROUPS; g++) {
      double x[GROUP_MAX];
      int n = group_size(g);
      for (int i = 0; i < n; i++)
        x[i] = log(*hw_systolic_param(&pb.a.systolic.fit, param_index(groups[g].params[i])));
      pb.group = g;
      calib_minimise(loss, &pb, n, &search, x);
      for (int i = 0; i < n; i++) { /* as written, so that a check reproduces the figures */
        char text[32];
        bool frac = strstr(groups[g].params[i], "_frac") != NULL;
        snprintf(text, sizeof text, "%.6g", exp(frac ? fmin(x[i], 0.0) : x[i]));
        x[i] = log(strtod(text, NULL));
      }
      set_group(&pb.a, g, x);
    }
  }
  char summary[2048] = "";
  size_t used = 0;
  for (kind k = 0; k < K_KINDS; k++) {
    if (k == K_ROPE)
      continue; /* reported with the norms */
    double med = 0.0, p90 = 0.0;
    size_t n = stats(&pb.a, m, &ps, k, k == K_NORM ? K_ROPE : k, &med, &p90);
    char rel[800];
    snprintf(rel, sizeof rel, "%s/%s", profiles[0].rel,
             k == K_PREFILL || k == K_DECODE ? "attention.csv" : "layers.csv");
    if (report)
      fprintf(report,
              "calibration dataset=%s op=%s device=%s role=%s points=%zu median_abs_pct=%.1f "
              "p90_abs_pct=%.1f\n",
              rel, kind_names[k], pb.a.name, eff_out_path ? "fit" : "check", n, med, p90);
    if (used < sizeof summary)
      used += (size_t)snprintf(summary + used, sizeof summary - used,
                               "# %s %s: %zu points, median %.1f%%, p90 %.1f%%\n", rel,
                               kind_names[k], n, med, p90);
  }
  rc = 0;
  if (eff_out_path) {
    calib_output_beside(eff_out_path, "systolic.csv", path, sizeof path);
    rc = write_csv(path, data_dir, &pb.a, summary, err, err_len);
  }
  free(ps.p);
  hw_catalog_destroy(cat);
  return rc;
}
