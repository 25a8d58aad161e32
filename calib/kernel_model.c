/* The cost model's prediction for one measured kernel, through the formulas the pricing path uses
 * (hw/cost_ops.h), and its error over a dataset with the worst points described. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/kernels.h"
#include "hw/eff_params.h"
#include "util/stats.h"

/* The bf16 operator a dtype variant shares its shapes and readers with. */
static calib_op base_op(calib_op op) {
  switch (op) {
  case CALIB_OP_GEMM_FP8:
  case CALIB_OP_GEMM_FP8_BLOCK: return CALIB_OP_GEMM;
  case CALIB_OP_ATTN_PREFILL_FP8KV: return CALIB_OP_ATTN_PREFILL;
  case CALIB_OP_ATTN_DECODE_FP8KV: return CALIB_OP_ATTN_DECODE;
  default: return op;
  }
}

/* The model's prediction for one point, through the same formulas the pricing path uses.
 *   gemm:         x = m, n, k
 *   attn_prefill: x = pairs, tokens, ctx_tokens, q_heads, kv_heads, head_dim, seqs
 *   attn_decode:  x = seqs, ctx_tokens, q_heads, kv_heads, head_dim
 *   elementwise:  x = bytes, kind (hw_elem_kind)
 *   allreduce:    x = bytes, ranks;  sendrecv: x = bytes;  cpu: x = seqs */
double calib_kernel_predict_ns(calib_op op, const hw_eff *e, const hw_rates *r, const double *x) {
  const double dt = 2.0; /* bf16 unless the operator says otherwise */
  switch (op) {
  case CALIB_OP_GEMM_FP8:
  case CALIB_OP_GEMM_FP8_BLOCK: {
    /* Inputs quantised to fp8 (plus their scales), fp8 weights, bf16 output. */
    bool block = op == CALIB_OP_GEMM_FP8_BLOCK;
    const hw_eff_gemm *g = block ? &e->gemm_fp8_block : &e->gemm_fp8;
    hw_dtype t = block ? HW_DTYPE_FP8_BLOCK : HW_DTYPE_FP8;
    return hw_roof_ns(g->t0_ns, hw_gemm_flops(x[0], x[1], x[2]),
                      block ? r->ns_per_flop_gemm_fp8_block : r->ns_per_flop_gemm_fp8,
                      hw_gemm_bytes_typed(x[0], x[1], x[2], 1.0, hw_gemm_input_bytes(t),
                                          hw_dtype_weight_bytes(t), dt),
                      block ? r->ns_per_byte_gemm_fp8_block : r->ns_per_byte_gemm_fp8,
                      hw_gemm_serial_of(g, x[2]));
  }
  case CALIB_OP_ATTN_PREFILL_FP8KV: {
    const hw_eff_attn_prefill *p = &e->attn_prefill_fp8kv;
    return hw_roof_ns(p->t0_ns, hw_attn_prefill_flops(x[0], x[1], x[3], x[5], p->pad_tokens),
                      hw_attn_prefill_ns_per_flop(p, x[1], x[3], r->ns_per_flop_pf_fp8kv),
                      hw_attn_prefill_bytes_kv(x[1], x[2], x[3], x[4], x[5], 1.0),
                      r->ns_per_byte_pf_fp8kv, hw_attn_prefill_unit_ns(p, x[6], x[4]));
  }
  case CALIB_OP_ATTN_DECODE_FP8KV:
    return hw_attn_decode_ns_of(&e->attn_decode_fp8kv, x[0], x[3],
                                hw_attn_decode_bytes_kv(x[0], x[1], x[2], x[3], x[4], 1.0),
                                r->ns_per_byte_dec_fp8kv);
  case CALIB_OP_GEMM:
    return hw_roof_ns(e->gemm.t0_ns, hw_gemm_flops(x[0], x[1], x[2]), r->ns_per_flop_gemm,
                      hw_gemm_bytes(x[0], x[1], x[2], dt), r->ns_per_byte_gemm,
                      hw_gemm_serial_ns(e, x[2]));
  case CALIB_OP_ATTN_PREFILL: {
    const hw_eff_attn_prefill *p = &e->attn_prefill;
    return hw_roof_ns(p->t0_ns, hw_attn_prefill_flops(x[0], x[1], x[3], x[5], p->pad_tokens),
                      hw_attn_prefill_ns_per_flop(p, x[1], x[3], r->ns_per_flop_pf),
                      hw_attn_prefill_bytes(x[1], x[2], x[3], x[4], x[5], dt), r->ns_per_byte_pf,
                      hw_attn_prefill_unit_ns(p, x[6], x[4]));
  }
  case CALIB_OP_ATTN_DECODE:
    return hw_attn_decode_ns(e, x[0], x[3], hw_attn_decode_bytes(x[0], x[1], x[2], x[3], x[4], dt),
                             r->ns_per_byte_dec);
  case CALIB_OP_ELEMENTWISE:
    return hw_linear_ns(e->elementwise.t0_ns, x[0], r->ns_per_byte_elem[(int)x[1]]);
  case CALIB_OP_ALLREDUCE:
    return hw_allreduce_ns(e->allreduce.t0_ns, x[0], x[1], r->ns_per_byte_ar);
  case CALIB_OP_SENDRECV: return hw_linear_ns(e->sendrecv.t0_ns, x[0], r->ns_per_byte_sr);
  case CALIB_OP_CPU: return e->cpu.fixed_ns + e->cpu.per_seq_ns * x[0];
  default: return NAN;
  }
}

/* A point's inputs, named as the operator's shape. */
static void describe(calib_op op, const double *x, char *out, size_t len) {
  switch (base_op(op)) {
  case CALIB_OP_GEMM: snprintf(out, len, "m=%g n=%g k=%g", x[0], x[1], x[2]); break;
  case CALIB_OP_ATTN_PREFILL:
    snprintf(out, len, "tokens=%g pairs=%g ctx=%g q_heads=%g kv_heads=%g head_dim=%g", x[1], x[0],
             x[2], x[3], x[4], x[5]);
    break;
  case CALIB_OP_ATTN_DECODE:
    snprintf(out, len, "seqs=%g ctx_tokens=%g q_heads=%g kv_heads=%g head_dim=%g", x[0], x[1], x[2],
             x[3], x[4]);
    break;
  case CALIB_OP_ELEMENTWISE: snprintf(out, len, "bytes=%g kind=%g", x[0], x[1]); break;
  case CALIB_OP_ALLREDUCE: snprintf(out, len, "bytes=%g ranks=%g", x[0], x[1]); break;
  case CALIB_OP_SENDRECV: snprintf(out, len, "bytes=%g", x[0]); break;
  default: snprintf(out, len, "seqs=%g", x[0]); break;
  }
}

calib_stats calib_kernel_evaluate(calib_op op, const calib_points *pts, const hw_accel *accel,
                                  const char *dataset, const char *role, FILE *report,
                                  calib_row *row) {
  calib_stats s = {pts->n, NAN, NAN};
  if (pts->n == 0)
    return s;
  hw_rates r = hw_rates_of(accel, &accel->eff);
  double *abs_err = malloc(pts->n * sizeof *abs_err);
  size_t worst[3] = {0, 0, 0};
  double worst_err[3] = {-1, -1, -1};
  if (!abs_err)
    return s;
  for (size_t i = 0; i < pts->n; i++) {
    double pred = calib_kernel_predict_ns(op, &accel->eff, &r, pts->p[i].x);
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
      const calib_point *p = &pts->p[worst[w]];
      char inputs[160];
      describe(op, p->x, inputs, sizeof inputs);
      snprintf(row->worst[row->worst_count++], sizeof row->worst[0],
               "%s measured_ns=%.0f modelled_ns=%.0f", inputs, p->measured_ns,
               calib_kernel_predict_ns(op, &accel->eff, &r, p->x));
    }
  }
  if (report) {
    fprintf(report,
            "calibration dataset=%s op=%s device=%s role=%s points=%zu median_abs_pct=%.1f "
            "p90_abs_pct=%.1f\n",
            dataset, calib_op_names[op], accel->name, role, s.n, s.median_pct, s.p90_pct);
    fprintf(report, "  parameters:");
    for (size_t k = 0; k < HW_EFF_NPARAMS; k++)
      if (!strcmp(hw_eff_params[k].op, calib_op_names[op]))
        fprintf(report, " %s=%.4g", hw_eff_params[k].param,
                *hw_eff_field((hw_eff *)&accel->eff, k));
    fprintf(report, "\n");
    for (int w = 0; w < 3 && worst_err[w] >= 0; w++) {
      const calib_point *p = &pts->p[worst[w]];
      fprintf(report, "  worst: x=[%g %g %g %g %g %g] measured_ns=%.0f predicted_ns=%.0f\n",
              p->x[0], p->x[1], p->x[2], p->x[3], p->x[4], p->x[5], p->measured_ns,
              calib_kernel_predict_ns(op, &accel->eff, &r, p->x));
    }
  }
  return s;
}
