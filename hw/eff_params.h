/* Internal to hw/: the names of the efficiency parameters in hw/data/efficiency.csv (op, param) and
 * where each lives in hw_eff; the catalogue reads them, the fit (calib/fit_kernels.c) writes
 * them. */
#ifndef HW_EFF_PARAMS_H
#define HW_EFF_PARAMS_H

#include <stddef.h>

#include "hw/hw.h"

typedef struct hw_eff_param {
  const char *op, *param;
  size_t offset; /* of the double inside hw_eff */
} hw_eff_param;

static const hw_eff_param hw_eff_params[] = {
    {"gemm", "t0_ns", offsetof(hw_eff, gemm.t0_ns)},
    {"gemm", "compute_frac", offsetof(hw_eff, gemm.compute_frac)},
    {"gemm", "mem_frac", offsetof(hw_eff, gemm.mem_frac)},
    {"gemm", "per_k_ns", offsetof(hw_eff, gemm.per_k_ns)},
    {"gemm", "split_k", offsetof(hw_eff, gemm.split_k)},
    {"attn_prefill", "t0_ns", offsetof(hw_eff, attn_prefill.t0_ns)},
    {"attn_prefill", "compute_frac", offsetof(hw_eff, attn_prefill.compute_frac)},
    {"attn_prefill", "mem_frac", offsetof(hw_eff, attn_prefill.mem_frac)},
    {"attn_prefill", "pad_tokens", offsetof(hw_eff, attn_prefill.pad_tokens)},
    {"attn_prefill", "half_rows", offsetof(hw_eff, attn_prefill.half_rows)},
    {"attn_prefill", "per_seq_kv_head_ns", offsetof(hw_eff, attn_prefill.per_seq_kv_head_ns)},
    {"attn_decode", "t0_ns", offsetof(hw_eff, attn_decode.t0_ns)},
    {"attn_decode", "per_seq_kv_head_ns", offsetof(hw_eff, attn_decode.per_seq_kv_head_ns)},
    {"attn_decode", "mem_frac", offsetof(hw_eff, attn_decode.mem_frac)},
    {"attn_decode", "half_units", offsetof(hw_eff, attn_decode.half_units)},
    {"attn_decode", "serial_mix", offsetof(hw_eff, attn_decode.serial_mix)},
    {"elementwise", "t0_ns", offsetof(hw_eff, elementwise.t0_ns)},
    {"elementwise", "norm_frac", offsetof(hw_eff, elementwise.norm_frac)},
    {"elementwise", "add_frac", offsetof(hw_eff, elementwise.add_frac)},
    {"elementwise", "rope_frac", offsetof(hw_eff, elementwise.rope_frac)},
    {"elementwise", "act_frac", offsetof(hw_eff, elementwise.act_frac)},
    {"elementwise", "embed_frac", offsetof(hw_eff, elementwise.embed_frac)},
    {"allreduce", "t0_ns", offsetof(hw_eff, allreduce.t0_ns)},
    {"allreduce", "link_frac", offsetof(hw_eff, allreduce.link_frac)},
    {"sendrecv", "t0_ns", offsetof(hw_eff, sendrecv.t0_ns)},
    {"sendrecv", "link_frac", offsetof(hw_eff, sendrecv.link_frac)},
    {"cpu", "fixed_ns", offsetof(hw_eff, cpu.fixed_ns)},
    {"cpu", "per_seq_ns", offsetof(hw_eff, cpu.per_seq_ns)},
    {"gemm_fp8", "t0_ns", offsetof(hw_eff, gemm_fp8.t0_ns)},
    {"gemm_fp8", "compute_frac", offsetof(hw_eff, gemm_fp8.compute_frac)},
    {"gemm_fp8", "mem_frac", offsetof(hw_eff, gemm_fp8.mem_frac)},
    {"gemm_fp8", "per_k_ns", offsetof(hw_eff, gemm_fp8.per_k_ns)},
    {"gemm_fp8_block", "t0_ns", offsetof(hw_eff, gemm_fp8_block.t0_ns)},
    {"gemm_fp8_block", "compute_frac", offsetof(hw_eff, gemm_fp8_block.compute_frac)},
    {"gemm_fp8_block", "mem_frac", offsetof(hw_eff, gemm_fp8_block.mem_frac)},
    {"gemm_fp8_block", "per_k_ns", offsetof(hw_eff, gemm_fp8_block.per_k_ns)},
    {"attn_prefill_fp8kv", "t0_ns", offsetof(hw_eff, attn_prefill_fp8kv.t0_ns)},
    {"attn_prefill_fp8kv", "compute_frac", offsetof(hw_eff, attn_prefill_fp8kv.compute_frac)},
    {"attn_prefill_fp8kv", "mem_frac", offsetof(hw_eff, attn_prefill_fp8kv.mem_frac)},
    {"attn_prefill_fp8kv", "pad_tokens", offsetof(hw_eff, attn_prefill_fp8kv.pad_tokens)},
    {"attn_prefill_fp8kv", "half_rows", offsetof(hw_eff, attn_prefill_fp8kv.half_rows)},
    {"attn_prefill_fp8kv", "per_seq_kv_head_ns",
     offsetof(hw_eff, attn_prefill_fp8kv.per_seq_kv_head_ns)},
    {"attn_decode_fp8kv", "t0_ns", offsetof(hw_eff, attn_decode_fp8kv.t0_ns)},
    {"attn_decode_fp8kv", "per_seq_kv_head_ns",
     offsetof(hw_eff, attn_decode_fp8kv.per_seq_kv_head_ns)},
    {"attn_decode_fp8kv", "mem_frac", offsetof(hw_eff, attn_decode_fp8kv.mem_frac)},
    {"attn_decode_fp8kv", "half_units", offsetof(hw_eff, attn_decode_fp8kv.half_units)},
    {"attn_decode_fp8kv", "serial_mix", offsetof(hw_eff, attn_decode_fp8kv.serial_mix)},
};
#define HW_EFF_NPARAMS (sizeof hw_eff_params / sizeof hw_eff_params[0])
/* hw_deploy_config.eff_set_mask has a bit per parameter. */
_Static_assert(HW_EFF_NPARAMS <= 64, "more efficiency parameters than eff_set_mask bits");

static inline double *hw_eff_field(hw_eff *e, size_t i) {
  return (double *)((char *)e + hw_eff_params[i].offset);
}

#endif
