/* Internal to hw/: the operator cost formulas, shared by the pricing path (cost.c) and the fits
 * (calib/) so that what is fitted is exactly what is priced. FLOPs and bytes are per device. */
#ifndef HW_COST_OPS_H
#define HW_COST_OPS_H

#include <math.h>
#include <stdbool.h>

#include "hw/hw.h"

/* The roofline of one kernel: a fixed time t0 (launch, ramp-up, tail) plus the Euclidean norm of
 * its compute time (FLOPs at a fitted fraction of peak), its memory time (bytes at a fitted
 * fraction of HBM bandwidth) and its serial time (a GEMM's reduction loop over k runs in order
 * inside each thread block; unhidden when there are few blocks). The norm is a soft maximum: it
 * equals the largest term far from the ridges and costs up to sqrt(2) at one, where measured
 * kernels are indeed slower than either limit. hw/data/SOURCES.md compares it with a hard max. */
static inline double hw_roof_ns(double t0_ns, double flops, double ns_per_flop, double bytes,
                                double ns_per_byte, double serial_ns) {
  double compute_ns = flops * ns_per_flop, memory_ns = bytes * ns_per_byte;
  return t0_ns + sqrt(compute_ns * compute_ns + memory_ns * memory_ns + serial_ns * serial_ns);
}

/* The same roofline, also adding to *clock_ns the part of it that the SM clock sets: the norm
 * weighted by the compute and serial terms' share of its square. Under a power cap that part
 * stretches by 1 / clock while the memory part and t0 do not (hw/power.c). */
static inline double hw_roof_clock_ns(double t0_ns, double flops, double ns_per_flop, double bytes,
                                      double ns_per_byte, double serial_ns, double *clock_ns) {
  double compute_ns = flops * ns_per_flop, memory_ns = bytes * ns_per_byte;
  double clocked2 = compute_ns * compute_ns + serial_ns * serial_ns;
  double all2 = clocked2 + memory_ns * memory_ns;
  double norm = sqrt(all2);
  if (all2 > 0.0)
    *clock_ns += norm * (clocked2 / all2);
  return t0_ns + norm;
}

/* GEMM (m x k) @ (k x n): m is tokens, k x n the weight. Reads A and B, writes C. */
static inline double hw_gemm_flops(double m, double n, double k) { return 2.0 * m * n * k; }
static inline double hw_gemm_bytes(double m, double n, double k, double dtype_bytes) {
  return dtype_bytes * (m * k + k * n + m * n);
}
/* The serial reduction loop: per_k_ns per step of k inside one thread block. A long k over few
 * output tiles is split across blocks (cuBLAS split-k, then a reduction), so the loop each block
 * runs saturates: k * split_k / (k + split_k) steps, k for k << split_k, split_k at most
 * (AIConfigurator's m=1, n=32 GEMM: ~1.2 ns per k up to k ~ 3,000, then flat). */
static inline double hw_gemm_serial_of(const hw_eff_gemm *g, double k) {
  return g->split_k > 0.0 ? g->per_k_ns * k * g->split_k / (k + g->split_k) : g->per_k_ns * k;
}
static inline double hw_gemm_serial_ns(const hw_eff *e, double k) {
  return hw_gemm_serial_of(&e->gemm, k);
}
/* A GEMM whose operands have their own types: m x k inputs of a_bytes each, `copies` k x n
 * weight matrices of w_bytes (the experts a grouped MoE GEMM touches; 1 for a dense layer), m x n
 * outputs of o_bytes. The same sum as hw_gemm_bytes when the three types agree. */
static inline double hw_gemm_bytes_typed(double m, double n, double k, double copies,
                                         double a_bytes, double w_bytes, double o_bytes) {
  if (a_bytes == w_bytes && w_bytes == o_bytes)
    return a_bytes * (copies * k * n + m * (k + n));
  return a_bytes * m * k + w_bytes * copies * k * n + o_bytes * m * n;
}

/* Bytes per input element of a GEMM whose activations are of type t: an 8-bit or 4-bit input is
 * quantised from the bf16 hidden states first (vLLM's Fp8LinearMethod quantises per call: read 2
 * bytes, write the narrow copy, which the GEMM reads), and AIConfigurator times the two kernels
 * together; a bf16 input is read once. */
static inline double hw_gemm_input_bytes(hw_dtype t) {
  double narrow = hw_dtype_act_bytes(t);
  return t == HW_DTYPE_BF16 ? narrow : 2.0 + 2.0 * narrow;
}

/* Prefill (causal) attention over `pairs` (query, key) pairs of `tokens` new queries reading
 * `ctx_tokens` keys and values: QK^T and PV are 2 * head_dim FLOPs per pair and head each. Flash
 * attention computes whole tiles, so the diagonal tiles waste work proportional to the tokens:
 * `pad_tokens` extra pairs per query token (fitted). Bytes: Q in and O out per token, K and V per
 * context token. */
static inline double hw_attn_prefill_flops(double pairs, double tokens, double q_heads,
                                           double head_dim, double pad_tokens) {
  return 4.0 * head_dim * q_heads * (pairs + pad_tokens * tokens);
}
static inline double hw_attn_prefill_bytes(double tokens, double ctx_tokens, double q_heads,
                                           double kv_heads, double head_dim, double dtype_bytes) {
  return dtype_bytes * head_dim * (2.0 * q_heads * tokens + 2.0 * kv_heads * ctx_tokens);
}
/* Prefill attention's time: hw_roof_ns of its FLOPs and bytes at these two rates and this serial
 * term. Compute: one thread block per tile of query rows and head, so few (token, head) rows
 * cannot fill the SMs: the rate reached is rows / (rows + half_rows) of the fitted one. Serial: a
 * per (sequence, KV head) cost, as decode's (each sequence's keys of each KV head are set up and
 * walked by their own blocks): what large batches of short prompts pay. */
static inline double hw_attn_prefill_ns_per_flop(const hw_eff_attn_prefill *p, double tokens,
                                                 double q_heads, double ns_per_flop) {
  return ns_per_flop * (1.0 + p->half_rows / (tokens * q_heads));
}
static inline double hw_attn_prefill_unit_ns(const hw_eff_attn_prefill *p, double seqs,
                                             double kv_heads) {
  return p->per_seq_kv_head_ns * seqs * kv_heads;
}
/* The same bytes with Q and O in bf16 (2 bytes) and K and V in the cache's type. */
static inline double hw_attn_prefill_bytes_kv(double tokens, double ctx_tokens, double q_heads,
                                              double kv_heads, double head_dim, double kv_bytes) {
  if (kv_bytes == 2.0)
    return hw_attn_prefill_bytes(tokens, ctx_tokens, q_heads, kv_heads, head_dim, 2.0);
  return head_dim * (2.0 * 2.0 * q_heads * tokens + kv_bytes * 2.0 * kv_heads * ctx_tokens);
}

/* Decode attention: one query per sequence over its context. GQA: K and V are read once per KV
 * head, whatever the number of query heads sharing it. Its arithmetic intensity is q_heads/kv_heads
 * FLOPs per byte at most (16 for the catalogued models), far below any accelerator's ridge, so the
 * time is memory only: a fixed time plus a cost per (sequence, KV head) work unit U (flash-decoding
 * runs one thread block per unit) and the bytes at a fitted fraction of HBM bandwidth M, combined
 * as sqrt(U^2 + M^2 + 2 serial_mix U M): serial_mix 1 adds them (the TPU fit), 0 overlaps them to
 * the Euclidean norm (a soft maximum, as hw_roof_ns); on GPUs the fit lands near 0, where the sum
 * over-priced mid-length contexts of large batches. With few units the split-KV kernel cannot
 * fill the SMs: the bandwidth reached is units / (units + half_units) of the fitted one. The FLOPs
 * are kept for the breakdown. */
static inline double hw_attn_decode_flops(double ctx_tokens, double q_heads, double head_dim) {
  return 4.0 * head_dim * q_heads * ctx_tokens;
}
static inline double hw_attn_decode_bytes(double seqs, double ctx_tokens, double q_heads,
                                          double kv_heads, double head_dim, double dtype_bytes) {
  return dtype_bytes * head_dim * (2.0 * kv_heads * ctx_tokens + 2.0 * q_heads * seqs);
}
static inline double hw_attn_decode_bytes_kv(double seqs, double ctx_tokens, double q_heads,
                                             double kv_heads, double head_dim, double kv_bytes) {
  if (kv_bytes == 2.0)
    return hw_attn_decode_bytes(seqs, ctx_tokens, q_heads, kv_heads, head_dim, 2.0);
  return head_dim * (kv_bytes * 2.0 * kv_heads * ctx_tokens + 2.0 * 2.0 * q_heads * seqs);
}
static inline double hw_attn_decode_ns_of(const hw_eff_attn_decode *p, double seqs, double kv_heads,
                                          double bytes, double ns_per_byte) {
  double units = seqs * kv_heads, unit_ns = p->per_seq_kv_head_ns * units;
  double memory_ns = bytes * ns_per_byte * (1.0 + p->half_units / units);
  return p->t0_ns + sqrt(unit_ns * unit_ns + memory_ns * memory_ns +
                         2.0 * p->serial_mix * unit_ns * memory_ns);
}
static inline double hw_attn_decode_ns(const hw_eff *e, double seqs, double kv_heads, double bytes,
                                       double ns_per_byte) {
  return hw_attn_decode_ns_of(&e->attn_decode, seqs, kv_heads, bytes, ns_per_byte);
}

/* Memory-bound kernels, by kind, as Vidur profiles them (bytes read plus written per token):
 * RMSNorm of a row of `width` (read, write), residual add (two reads, one write), rotary embedding
 * of q and k (read, write), the FFN activation (SiLU-and-mul reads gate and up, writes one; a plain
 * activation reads and writes one), embedding lookup (read a row, write it). */
typedef enum hw_elem_kind {
  HW_ELEM_NORM,
  HW_ELEM_ADD,
  HW_ELEM_ROPE,
  HW_ELEM_ACT,
  HW_ELEM_EMBED,
  HW_ELEM_KINDS
} hw_elem_kind;
static inline double hw_elem_norm_bytes(double tokens, double width, double dt) {
  return dt * tokens * 2.0 * width;
}
static inline double hw_elem_add_bytes(double tokens, double hidden, double dt) {
  return dt * tokens * 3.0 * hidden;
}
static inline double hw_elem_rope_bytes(double tokens, double q_heads, double kv_heads,
                                        double head_dim, double dt) {
  return dt * tokens * 2.0 * (q_heads + kv_heads) * head_dim;
}
static inline double hw_elem_act_bytes(double rows, double ffn, bool gated, double dt) {
  return dt * rows * (gated ? 3.0 : 2.0) * ffn;
}
static inline double hw_elem_embed_bytes(double tokens, double hidden, double dt) {
  return dt * tokens * 2.0 * hidden;
}

/* Ring all-reduce of `bytes` over `ranks` devices: each link carries 2 (ranks - 1) / ranks of it.
 * An all-gather of `bytes` in total carries half that. */
static inline double hw_allreduce_ns(double t0_ns, double bytes, double ranks, double ns_per_byte) {
  return t0_ns + 2.0 * (ranks - 1.0) / ranks * bytes * ns_per_byte;
}
static inline double hw_allgather_ns(double t0_ns, double bytes, double ranks, double ns_per_byte) {
  return t0_ns + (ranks - 1.0) / ranks * bytes * ns_per_byte;
}

/* Point-to-point transfer and memory-bound kernels: fixed time plus bytes at a fitted rate. */
static inline double hw_linear_ns(double t0_ns, double bytes, double ns_per_byte) {
  return t0_ns + bytes * ns_per_byte;
}

/* The rates (ns per FLOP, ns per byte) an accelerator reaches under its efficiencies. */
typedef struct hw_rates {
  double ns_per_flop_gemm, ns_per_byte_gemm;
  double ns_per_flop_pf, ns_per_byte_pf;
  double ns_per_byte_dec;
  double ns_per_byte_elem[HW_ELEM_KINDS];
  double ns_per_byte_ar, ns_per_byte_sr;
  /* GEMMs in fp8 and fp8 with block scales (fractions of the fp8 peak), attention over an 8-bit
   * KV cache; 0 where the efficiencies have no such fit. */
  double ns_per_flop_gemm_fp8, ns_per_byte_gemm_fp8;
  double ns_per_flop_gemm_fp8_block, ns_per_byte_gemm_fp8_block;
  double ns_per_flop_pf_fp8kv, ns_per_byte_pf_fp8kv, ns_per_byte_dec_fp8kv;
} hw_rates;

static inline double hw_ns_per(double per_s, double frac) {
  return per_s > 0.0 && frac > 0.0 ? 1e9 / (per_s * frac) : 0.0;
}

static inline hw_rates hw_rates_of(const hw_accel *a, const hw_eff *e) {
  hw_rates r;
  r.ns_per_flop_gemm = hw_ns_per(a->peak_bf16_flops, e->gemm.compute_frac);
  r.ns_per_byte_gemm = hw_ns_per(a->hbm_bytes_per_s, e->gemm.mem_frac);
  r.ns_per_flop_pf = hw_ns_per(a->peak_bf16_flops, e->attn_prefill.compute_frac);
  r.ns_per_byte_pf = hw_ns_per(a->hbm_bytes_per_s, e->attn_prefill.mem_frac);
  r.ns_per_byte_dec = hw_ns_per(a->hbm_bytes_per_s, e->attn_decode.mem_frac);
  r.ns_per_byte_elem[HW_ELEM_NORM] = hw_ns_per(a->hbm_bytes_per_s, e->elementwise.norm_frac);
  r.ns_per_byte_elem[HW_ELEM_ADD] = hw_ns_per(a->hbm_bytes_per_s, e->elementwise.add_frac);
  r.ns_per_byte_elem[HW_ELEM_ROPE] = hw_ns_per(a->hbm_bytes_per_s, e->elementwise.rope_frac);
  r.ns_per_byte_elem[HW_ELEM_ACT] = hw_ns_per(a->hbm_bytes_per_s, e->elementwise.act_frac);
  r.ns_per_byte_elem[HW_ELEM_EMBED] = hw_ns_per(a->hbm_bytes_per_s, e->elementwise.embed_frac);
  r.ns_per_byte_ar = hw_ns_per(a->scaleup_bytes_per_s, e->allreduce.link_frac);
  r.ns_per_byte_sr = hw_ns_per(a->scaleup_bytes_per_s, e->sendrecv.link_frac);
  r.ns_per_flop_gemm_fp8 = hw_ns_per(a->peak_fp8_flops, e->gemm_fp8.compute_frac);
  r.ns_per_byte_gemm_fp8 = hw_ns_per(a->hbm_bytes_per_s, e->gemm_fp8.mem_frac);
  r.ns_per_flop_gemm_fp8_block = hw_ns_per(a->peak_fp8_flops, e->gemm_fp8_block.compute_frac);
  r.ns_per_byte_gemm_fp8_block = hw_ns_per(a->hbm_bytes_per_s, e->gemm_fp8_block.mem_frac);
  r.ns_per_flop_pf_fp8kv = hw_ns_per(a->peak_bf16_flops, e->attn_prefill_fp8kv.compute_frac);
  r.ns_per_byte_pf_fp8kv = hw_ns_per(a->hbm_bytes_per_s, e->attn_prefill_fp8kv.mem_frac);
  r.ns_per_byte_dec_fp8kv = hw_ns_per(a->hbm_bytes_per_s, e->attn_decode_fp8kv.mem_frac);
  return r;
}

#endif
