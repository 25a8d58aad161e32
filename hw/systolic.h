/* Internal to hw/: the systolic-array (TPU-like) accelerator class. Matrix work runs on matrix
 * units of R x C multiply-accumulators (a weight-stationary k x n tile per pass, activation rows
 * streamed through), elementwise work on vector units; both priced from the accelerator's fields
 * (hw_accel.systolic), never from its name. Used by the pricing path (cost.c), the calibration
 * (calib/eval_profiles.c), the catalogue (catalog.c) and the fit (calib/fit_systolic.c). */
#ifndef HW_SYSTOLIC_H
#define HW_SYSTOLIC_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "hw/cost_ops.h"
#include "hw/hw.h"
#include "util/csv.h"

/* Whether an accelerator is priced by the systolic model. */
static inline bool hw_systolic_is(const hw_accel *a) {
  return a->systolic.mxu_rows > 0.0 && a->systolic.mxu_cols > 0.0 && a->systolic.mxu_count > 0.0;
}

/* The tiling of one matrix op (m x k) @ (k x n) on R x C arrays: k in ceil(k/R) tiles of R, n in
 * ceil(n/C) tiles of C, m streamed in multiples of the row tile; one pass per (k, n) tile. */
typedef struct hw_systolic_tiles {
  double k_tiles, n_tiles, passes, m_padded;
  double utilisation; /* useful MACs / MACs of the padded tiles: (m k n) / (m_pad k_pad n_pad) */
} hw_systolic_tiles;

static inline hw_systolic_tiles hw_systolic_tile(const hw_systolic *s, double m, double n,
                                                 double k) {
  hw_systolic_tiles t;
  double row_tile = s->row_tile > 0.0 ? s->row_tile : 1.0;
  t.k_tiles = ceil(k / s->mxu_rows);
  t.n_tiles = ceil(n / s->mxu_cols);
  t.passes = t.k_tiles * t.n_tiles;
  t.m_padded = ceil(m / row_tile) * row_tile;
  double padded = t.m_padded * t.k_tiles * s->mxu_rows * t.n_tiles * s->mxu_cols;
  t.utilisation = padded > 0.0 ? m * k * n / padded : 0.0;
  return t;
}

/* The matrix units' cycle rate implied by the datasheet peak: peak = 2 R C units * rate. */
static inline double hw_systolic_clock_hz(const hw_accel *a) {
  const hw_systolic *s = &a->systolic;
  return a->peak_bf16_flops / (2.0 * s->mxu_rows * s->mxu_cols * s->mxu_count);
}

/* Matrix-unit time of one op at the datasheet rate, ns. The passes are spread over the units
 * (whole passes per unit). A pass streams the padded rows through a loaded weight tile; the next
 * tile (R rows of weights) loads while the current one streams (double-buffered), so a pass takes
 * max(m_padded, R) cycles; each unit's pipeline fills and drains once per op (R + C cycles).
 * Exactly 2 m k n / peak when every dimension is a multiple of the tiles, m >= R, the passes
 * divide evenly among the units and the pass count is large. A pipeline fill and drain per pass
 * fits the TPU v6e profile worse (hw/data/SOURCES.md, "TPU"). */
static inline double hw_systolic_mxu_ns(const hw_accel *a, double m, double n, double k) {
  const hw_systolic *s = &a->systolic;
  hw_systolic_tiles t = hw_systolic_tile(s, m, n, k);
  double cycles = ceil(t.passes / s->mxu_count) * fmax(t.m_padded, s->mxu_rows) + s->mxu_rows +
                  s->mxu_cols;
  return cycles / hw_systolic_clock_hz(a) * 1e9;
}

/* One projection (m x k) @ (k x n) on a systolic device, ns: fixed time t0 plus the larger of
 * its matrix-unit time at the fitted fraction mxu_frac and its HBM time (bytes at the fitted
 * fraction mem_frac). A hard maximum, not the GPU path's soft one: the weight tiles that fill
 * the arrays are the bytes streamed from HBM, so the two overlap (on the TPU v6e profile the soft
 * maximum fits worse; hw/data/SOURCES.md, "TPU"). A compute-bound op adds its time to *clock_ns
 * (power caps). */
static inline double hw_systolic_gemm_ns(const hw_accel *a, double m, double n, double k,
                                         double bytes, double *clock_ns) {
  const hw_systolic_fit *f = &a->systolic.fit;
  double mxu_ns = hw_systolic_mxu_ns(a, m, n, k) / f->mxu_frac;
  double mem_ns = bytes * hw_ns_per(a->hbm_bytes_per_s, f->mem_frac);
  if (mxu_ns >= mem_ns)
    *clock_ns += mxu_ns;
  return f->gemm_t0_ns + fmax(mxu_ns, mem_ns);
}

/* The vector units' element rate, elements per second (lanes x the matrix units' cycle rate). */
static inline double hw_systolic_vector_per_s(const hw_accel *a) {
  return a->systolic.vector_lanes * hw_systolic_clock_hz(a);
}

/* Elementwise kernels on the vector units: t0 plus elements x fitted cycles per element (per
 * kind) at the vector rate. No HBM term: XLA fuses these kernels with their neighbours, and the
 * TPU v6e profile runs them faster than one HBM round trip (hw/data/SOURCES.md, "TPU"). The
 * embedding lookup is a gather from HBM (bytes at fitted embed_frac). Expressed, as the
 * pricing path wants it, per byte of the kernel's traffic: `elems_per_byte` elements per byte. */
static inline double hw_systolic_vector_ns_per_byte(const hw_accel *a, double cycles_per_elem,
                                                    double elems_per_byte) {
  double per_s = hw_systolic_vector_per_s(a);
  return per_s > 0.0 ? cycles_per_elem * elems_per_byte / per_s * 1e9 : 0.0;
}

/* Replace the roofline rates of a deployment on a systolic device by the systolic ones:
 * elementwise kinds on the vector units, prefill attention's matrix work padded on head_dim
 * (QK^T contracts over it, PV produces it), decode attention's HBM fraction. dtype_bytes is the
 * activations' element size; gated: SwiGLU (3 tensors per output of the activation kernel). */
void hw_systolic_rates(const hw_accel *a, double head_dim, double dtype_bytes, bool gated,
                       hw_rates *r);

/* Copy into a->eff the fitted values that the shared pricing path reads from hw_eff (attention's
 * fixed times and fractions, decode's per-unit cost, the elementwise fixed time); the rates come
 * from hw_systolic_rates. Prefill attention's tile waste is the head_dim padding there, not
 * flash attention's diagonal tiles (pad_tokens 0). */
void hw_systolic_apply_fit(hw_accel *a);

/* The catalogue's hook: an accelerator with matrix units and no fitted systolic values gets the
 * systolic.csv row of its name, else the 'default' row, and the attention and elementwise fixed
 * times of hw_eff that row carries. 0, or -1 with a message (malformed embedded file). */
int hw_systolic_attach(hw_accel *a, char *err, size_t err_len);

/* The accelerators.csv hook: read the systolic columns (absent or empty: 0) of the current
 * record into a->systolic. 0, or -1 with a message. */
int hw_systolic_read_columns(const util_csv *c, hw_accel *a, char *err, size_t err_len);

/* The fitted parameters by index (systolic.csv's columns, in order): count, name, field. */
size_t hw_systolic_nparams(void);
const char *hw_systolic_param_name(size_t i);
double *hw_systolic_param(hw_systolic_fit *f, size_t i);

#endif
