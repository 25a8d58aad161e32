/* The systolic-array (TPU-like) accelerator class (hw/systolic.h): its rates for a deployment, its
 * columns of accelerators.csv, and its fitted values from hw/data/systolic.csv. */
#include "hw/systolic.h"

#include <stdio.h>
#include <string.h>

/* Embedded by hw/embed.cmake (hw/CMakeLists.txt, HW_DATA). */
extern const char hw_data_systolic_csv[];
extern const size_t hw_data_systolic_csv_len;

/* The fitted parameters: systolic.csv's column names and where each lives in hw_systolic_fit. */
typedef struct systolic_param {
  const char *name;
  size_t offset;
} systolic_param;

#define P(field)                                                                                   \
  { #field, offsetof(hw_systolic_fit, field) }
static const systolic_param params[] = {
    P(gemm_t0_ns),
    P(mxu_frac),
    P(mem_frac),
    P(vector_t0_ns),
    P(norm_cycles),
    P(rope_cycles),
    P(act_cycles),
    P(add_cycles),
    P(embed_frac),
    P(attn_prefill_t0_ns),
    P(attn_prefill_frac),
    P(attn_decode_t0_ns),
    P(attn_decode_mem_frac),
    P(attn_decode_per_seq_kv_head_ns),
};
#undef P
enum { NPARAMS = sizeof params / sizeof params[0] };

size_t hw_systolic_nparams(void) { return NPARAMS; }
const char *hw_systolic_param_name(size_t i) { return i < NPARAMS ? params[i].name : NULL; }
double *hw_systolic_param(hw_systolic_fit *f, size_t i) {
  return (double *)((char *)f + params[i].offset);
}

void hw_systolic_rates(const hw_accel *a, double head_dim, double dtype_bytes, bool gated,
                       hw_rates *r) {
  const hw_systolic *s = &a->systolic;
  const hw_systolic_fit *f = &s->fit;
  /* Prefill attention: half its FLOPs contract over head_dim (rows), half produce it (cols). */
  double u_rows = head_dim / (ceil(head_dim / s->mxu_rows) * s->mxu_rows);
  double u_cols = head_dim / (ceil(head_dim / s->mxu_cols) * s->mxu_cols);
  double u = 1.0 / (0.5 / u_rows + 0.5 / u_cols);
  r->ns_per_flop_pf = hw_ns_per(a->peak_bf16_flops * u, f->attn_prefill_frac);
  r->ns_per_byte_dec = hw_ns_per(a->hbm_bytes_per_s, f->attn_decode_mem_frac);
  /* Elements per byte of traffic of each kind (hw/cost_ops.h): a norm and rotary read and write
   * each element, an add reads two and writes one, SiLU-and-mul reads two per output. */
  double dt = dtype_bytes;
  r->ns_per_byte_elem[HW_ELEM_NORM] = hw_systolic_vector_ns_per_byte(a, f->norm_cycles, 0.5 / dt);
  r->ns_per_byte_elem[HW_ELEM_ADD] = hw_systolic_vector_ns_per_byte(a, f->add_cycles, 1.0 / 3 / dt);
  r->ns_per_byte_elem[HW_ELEM_ROPE] = hw_systolic_vector_ns_per_byte(a, f->rope_cycles, 0.5 / dt);
  r->ns_per_byte_elem[HW_ELEM_ACT] = hw_systolic_vector_ns_per_byte(a, f->act_cycles,
                                                                    (gated ? 1.0 / 3 : 0.5) / dt);
  r->ns_per_byte_elem[HW_ELEM_EMBED] = hw_ns_per(a->hbm_bytes_per_s, f->embed_frac);
}

void hw_systolic_apply_fit(hw_accel *a) {
  const hw_systolic_fit *f = &a->systolic.fit;
  hw_eff *e = &a->eff;
  e->attn_prefill.t0_ns = f->attn_prefill_t0_ns;
  e->attn_prefill.compute_frac = f->attn_prefill_frac;
  e->attn_prefill.pad_tokens = 0.0, e->attn_prefill.half_rows = 0.0;
  e->attn_prefill.per_seq_kv_head_ns = 0.0;
  e->attn_decode.t0_ns = f->attn_decode_t0_ns;
  e->attn_decode.mem_frac = f->attn_decode_mem_frac;
  e->attn_decode.per_seq_kv_head_ns = f->attn_decode_per_seq_kv_head_ns;
  e->attn_decode.half_units = 0.0, e->attn_decode.serial_mix = 1.0; /* the sum, as fitted */
  e->elementwise.t0_ns = f->vector_t0_ns;
}

/* Names match ignoring case and everything but letters and digits (as the catalogue's). */
static bool same_name(const char *x, const char *y) {
  for (;;) {
    while (*x && !((*x >= '0' && *x <= '9') || ((*x | 32) >= 'a' && (*x | 32) <= 'z')))
      x++;
    while (*y && !((*y >= '0' && *y <= '9') || ((*y | 32) >= 'a' && (*y | 32) <= 'z')))
      y++;
    if (!*x || !*y)
      return !*x && !*y;
    if ((*x | 32) != (*y | 32))
      return false;
    x++, y++;
  }
}

int hw_systolic_attach(hw_accel *a, char *err, size_t err_len) {
  if (!hw_systolic_is(a) || a->systolic.source[0])
    return 0;
  util_csv c;
  if (util_csv_open_text(&c, hw_data_systolic_csv, hw_data_systolic_csv_len, "hw/data/systolic.csv",
                         err, err_len) != 0)
    return -1;
  int cols[NPARAMS], col_device = util_csv_col(&c, "device"), rc;
  for (int i = 0; i < NPARAMS; i++)
    if ((cols[i] = util_csv_col(&c, params[i].name)) < 0 || col_device < 0) {
      snprintf(err, err_len, "hw/data/systolic.csv: header lacks device or %s", params[i].name);
      util_csv_close(&c);
      return -1;
    }
  hw_systolic_fit own, dflt;
  bool have_own = false, have_dflt = false;
  while ((rc = util_csv_next(&c, err, err_len)) == 1) {
    const char *device = util_csv_get(&c, col_device);
    bool is_own = same_name(device, a->name), is_dflt = !strcmp(device, "default");
    if (!is_own && !is_dflt)
      continue;
    hw_systolic_fit *f = is_own ? &own : &dflt;
    for (int i = 0; i < NPARAMS && rc == 1; i++)
      if (util_csv_double(&c, cols[i], NAN, hw_systolic_param(f, (size_t)i), err, err_len) != 0)
        rc = -1;
    if (rc != 1)
      break;
    have_own |= is_own, have_dflt |= is_dflt;
  }
  util_csv_close(&c);
  if (rc < 0)
    return -1;
  if (have_own || have_dflt) {
    a->systolic.fit = have_own ? own : dflt;
    snprintf(a->systolic.source, sizeof a->systolic.source, "%s", have_own ? a->name : "default");
    hw_systolic_apply_fit(a);
  }
  return 0;
}

int hw_systolic_read_columns(const util_csv *c, hw_accel *a, char *err, size_t err_len) {
  static const char *const names[] = {"mxu_rows", "mxu_cols", "mxu_count", "mxu_row_tile",
                                      "vector_lanes"};
  double *fields[] = {&a->systolic.mxu_rows, &a->systolic.mxu_cols, &a->systolic.mxu_count,
                      &a->systolic.row_tile, &a->systolic.vector_lanes};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int col = util_csv_col(c, names[i]);
    if (col >= 0 && util_csv_double(c, col, 0.0, fields[i], err, err_len) != 0)
      return -1;
    if (!(*fields[i] >= 0.0)) {
      snprintf(err, err_len, "%s:%ld: %s must be >= 0", c->name, c->line, names[i]);
      return -1;
    }
  }
  return 0;
}
