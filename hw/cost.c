/* The iteration cost model: a deployment's per-call constants computed once (hw_deploy_init), then
 * each iteration priced in O(1) from the batch aggregates, operator by operator; and its memory. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hw/cost_ops.h"
#include "hw/hw.h"
#include "hw/power_ops.h"
#include "hw/systolic.h"

/* Memory outside weights, activations and KV: NCCL buffers by TP size and other non-torch memory
 * (CUDA context, library workspaces). Source: aiconfigurator systems/h100_sxm.yaml (misc.nccl_mem
 * "some nonofficial correction based on observations"; misc.other_mem "increase from 551MB to 3.5GB
 * for safer deployment": we take the 551 MB estimate, not the safety margin), commit 095f58a. */
static const double nccl_bytes_tp1 = 0.0, nccl_bytes_tp2 = 358612992.0,
                    nccl_bytes_tp4 = 411041792.0;
static const double other_nontorch_bytes = 551e6;

/* vLLM's default scheduler limits for the OpenAI server, EngineArgs.get_batch_defaults
 * (vllm/engine/arg_utils.py): devices of at least 70 GiB other than A100 get 8192 batched tokens
 * and 1024 sequences, the rest 2048 and 256. */
static const double vllm_big_device_bytes = 70.0 * 1073741824.0;
static const uint32_t vllm_big_tokens = 8192, vllm_big_seqs = 1024;
static const uint32_t vllm_small_tokens = 2048, vllm_small_seqs = 256;

static bool name_contains_a100(const char *name) {
  for (const char *p = name; *p; p++)
    if (tolower((unsigned char)p[0]) == 'a' && strncmp(p + 1, "100", 3) == 0)
      return true;
  return false;
}

/* Weights per device of the busiest stage: the layers' projections and experts in the weight
 * type; norms, biases, the router, embeddings and LM head in bf16 (fp8 and fp4 checkpoints keep
 * them so: vLLM's quantisation configs skip the gate and lm_head). Under expert parallelism each
 * device holds experts / ep experts. */
static double weights_bytes_per_device(const hw_deploy *d) {
  const hw_model *m = &d->model;
  double h = m->hidden, dh = m->head_dim;
  double attn = h * d->qkv_n + d->o_k * h;
  double bias = m->qkv_bias ? d->qkv_n : 0.0;
  double experts = m->experts ? d->experts_dev : 1.0;
  double ffn = experts * (m->gated_ffn ? 3.0 : 2.0) * h * d->ffn_dev;
  double router = m->experts ? h * m->experts : 0.0;
  double norms = 2.0 * h + (m->qk_norm ? 2.0 * dh : 0.0);
  double embed = d->vocab_dev * h;
  double lm_head = d->vocab_dev * h;
  double ends;
  if (d->cfg.pp == 1)
    ends = embed + (m->tied_embeddings ? 0.0 : lm_head) + h; /* + final norm */
  else
    ends = fmax(embed, lm_head + h); /* first stage embeds, last holds the head */
  double quantised = d->stage_layers * (attn + ffn);
  double wide = d->stage_layers * (bias + router + norms) + ends;
  if (d->w_bytes == d->dtype_bytes)
    return d->dtype_bytes * (quantised + wide);
  return d->w_bytes * quantised + d->dtype_bytes * wide;
}

/* NCCL's buffers per device at the deployment's TP size (aiconfigurator's figures, above). */
static double nccl_bytes(const hw_deploy *d) {
  return d->cfg.tp == 1 ? nccl_bytes_tp1 : d->cfg.tp == 2 ? nccl_bytes_tp2 : nccl_bytes_tp4;
}

/* Peak activation memory of vLLM's profiling forward pass with max_batched_tokens tokens (what it
 * reserves before sizing the KV cache), derived from the shapes: the larger of the attention phase
 * (hidden states and residual, QKV output, attention output) and the MLP phase (hidden states and
 * residual, gate/up output, activation output; times the active experts for MoE); plus the
 * sampler's fp32 logits and probabilities for max_seqs sequences over the whole vocabulary; plus
 * NCCL buffers and other non-torch memory. */
static double activation_reserve_bytes(const hw_deploy *d) {
  const hw_model *m = &d->model;
  double tokens = d->cfg.max_batched_tokens, h = m->hidden;
  double rows = m->experts ? m->active_experts : 1.0;
  double attn_phase = tokens * (2.0 * h + d->qkv_n + d->o_k);
  double mlp_phase = tokens * (2.0 * h + rows * (m->gated_ffn ? 3.0 : 2.0) * d->ffn_dev);
  double logits = 2.0 * 4.0 * (double)d->cfg.max_seqs * m->vocab;
  return d->dtype_bytes * fmax(attn_phase, mlp_phase) + logits + nccl_bytes(d) +
         other_nontorch_bytes;
}

/* Whether the accelerator lacks a type the deployment uses: weights and activations need its
 * tensor peak in their type; an 8-bit KV cache is only storage (dequantised to bf16 in the
 * attention kernel, which vLLM does on any device), an fp4 one needs fp4 support. */
static bool dtype_missing(const hw_accel *a, const hw_deploy_config *c, char *why, size_t len) {
  const struct {
    const char *role;
    hw_dtype t;
  } uses[] = {
      {"weights", c->weight_dtype}, {"activations", c->act_dtype}, {"KV cache", c->kv_dtype}};
  for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++) {
    hw_dtype t = uses[i].t;
    bool storage_only = i == 2 && (t == HW_DTYPE_FP8 || t == HW_DTYPE_INT8);
    if (t != HW_DTYPE_BF16 && !storage_only && !(hw_accel_peak_flops(a, t) > 0.0)) {
      static const char *const column[HW_DTYPE_COUNT] = {
          "peak_bf16_tflops_dense", "peak_fp8_tflops_dense", "peak_fp8_tflops_dense",
          "peak_int8_tops_dense", "peak_fp4_tflops_dense"};
      snprintf(why, len, "%s in %s need %s tensor cores, and %s has none (no %s)", uses[i].role,
               hw_dtype_name(t), hw_dtype_name(t), a->name, column[t]);
      return true;
    }
  }
  return false;
}

/* The GEMM efficiencies of a math type: its own fit where efficiency.csv has one, else the bf16
 * fractions applied to that type's peak (the "documented scaling" of hw/data/SOURCES.md). */
static hw_eff_gemm gemm_eff_of(const hw_eff *e, hw_dtype math) {
  if ((math == HW_DTYPE_FP8_BLOCK) && e->gemm_fp8_block.compute_frac > 0.0)
    return e->gemm_fp8_block;
  if ((math == HW_DTYPE_FP8 || math == HW_DTYPE_FP8_BLOCK) && e->gemm_fp8.compute_frac > 0.0)
    return e->gemm_fp8;
  return e->gemm;
}

int hw_deploy_init(hw_deploy *d, const hw_accel *accel, const hw_model *model,
                   const hw_deploy_config *cfg, char *err, size_t err_len) {
  memset(d, 0, sizeof *d);
  d->accel = *accel;
  d->model = *model;
  if (cfg)
    d->cfg = *cfg;
  hw_deploy_config *c = &d->cfg;
  for (size_t i = 0; c->eff_set_mask && i < hw_eff_param_count(); i++)
    if (c->eff_set_mask >> i & 1u)
      *hw_eff_param_ptr(&d->accel.eff, i) = *hw_eff_param_ptr(&c->eff_set, i);
  const hw_model *m = &d->model;
  const hw_accel *a = &d->accel;
  const hw_eff *e = &a->eff;
  if (!c->tp)
    c->tp = 1;
  if (!c->pp)
    c->pp = 1;
  bool big = a->hbm_bytes >= vllm_big_device_bytes && !name_contains_a100(a->name);
  if (!c->max_batched_tokens)
    c->max_batched_tokens = big ? vllm_big_tokens : vllm_small_tokens;
  if (!c->max_seqs)
    c->max_seqs = big ? vllm_big_seqs : vllm_small_seqs;

  if (!c->ep)
    c->ep = 1;

  const char *why = NULL;
  char dtype_why[256];
  if ((unsigned)c->weight_dtype >= HW_DTYPE_COUNT || (unsigned)c->act_dtype >= HW_DTYPE_COUNT ||
      (unsigned)c->kv_dtype >= HW_DTYPE_COUNT)
    why = "unknown data type";
  else if (c->act_dtype != HW_DTYPE_BF16 && c->act_dtype != c->weight_dtype)
    why = "activations must be bf16 (weight-only quantisation) or the weights' type";
  else if (c->kv_dtype == HW_DTYPE_FP8_BLOCK)
    why = "no engine stores a block-scaled KV cache: use kv fp8";
  else if (dtype_missing(a, c, dtype_why, sizeof dtype_why))
    why = dtype_why;
  else if (c->ep > 1 && !m->experts)
    why = "expert parallelism (ep) needs a mixture-of-experts model";
  else if (c->ep > 1 && m->experts % c->ep != 0)
    why = "expert-parallel size (ep) must divide the number of experts";
  else if (c->ep > 1 && !(c->alltoall.bytes_per_s > 0.0) &&
           (!(a->scaleup_bytes_per_s > 0.0) || !(e->allreduce.link_frac > 0.0)))
    why = "expert parallelism needs the accelerator's scale-up link bandwidth";
  else if (!isfinite(c->alltoall.t0_ns) || c->alltoall.t0_ns < 0.0 ||
           !isfinite(c->alltoall.bytes_per_s) || c->alltoall.bytes_per_s < 0.0 ||
           !isfinite(c->sendrecv.t0_ns) || c->sendrecv.t0_ns < 0.0 ||
           !isfinite(c->sendrecv.bytes_per_s) || c->sendrecv.bytes_per_s < 0.0)
    why = "communication costs must be non-negative numbers";
  else if (!(a->peak_bf16_flops > 0.0) || !(a->hbm_bytes_per_s > 0.0) || !(a->hbm_bytes > 0.0))
    why = "the accelerator has no bf16 peak, HBM capacity or HBM bandwidth (not a compute device)";
  else if (!(e->gemm.compute_frac > 0.0) || !(e->gemm.mem_frac > 0.0) ||
           !(e->attn_prefill.compute_frac > 0.0) || !(e->attn_decode.mem_frac > 0.0) ||
           !(e->elementwise.norm_frac > 0.0) || !(e->elementwise.add_frac > 0.0) ||
           !(e->elementwise.rope_frac > 0.0) || !(e->elementwise.act_frac > 0.0) ||
           !(e->elementwise.embed_frac > 0.0))
    why = "the accelerator has no efficiency parameters (hw/data/efficiency.csv)";
  else if (m->q_heads % c->tp != 0)
    why = "tensor-parallel size must divide the number of query heads";
  else if (m->kv_heads % c->tp != 0 && c->tp % m->kv_heads != 0)
    why = "tensor-parallel size must divide, or be a multiple of, the number of KV heads";
  else if (m->ffn % c->tp != 0)
    why = "tensor-parallel size must divide the FFN size";
  else if (c->pp > m->layers)
    why = "pipeline-parallel size exceeds the number of layers";
  else if ((unsigned)c->kv_rule > HW_KV_SHARE_OF_FREE || !(c->serial_fixed_ns >= 0.0) ||
           !(c->serial_per_seq_ns >= 0.0) || !(e->cpu.fixed_ns >= 0.0) ||
           !(e->cpu.per_seq_ns >= 0.0))
    why = "host overheads must be non-negative numbers and the KV rule one of hw_kv_rule";
  else if (!isfinite(c->power_cap_w) || c->power_cap_w < 0.0)
    why = "the power cap must be a number of watts, 0 for none";
  else if (c->power_cap_w > 0.0 && !(a->power.cap_exponent > 0.0 && a->power.base_w > 0.0))
    why = "a power cap needs the accelerator's power model (a TDP, or a row in hw/data/power.csv)";
  else if (c->power_cap_w > 0.0 && c->power_cap_w <= a->power.idle_w)
    why = "the power cap must exceed the accelerator's idle power (power.idle_w)";
  else if ((c->tp > 1 || c->pp > 1) &&
           (!(a->scaleup_bytes_per_s > 0.0) || !(e->allreduce.link_frac > 0.0) ||
            !(e->sendrecv.link_frac > 0.0)))
    why =
        "tensor or pipeline parallelism needs the accelerator's scale-up link bandwidth and "
        "fitted link efficiencies";
  if (why) {
    snprintf(err, err_len, "deployment of %s on %s (tp %u, pp %u%s): %s", m->name, a->name, c->tp,
             c->pp, c->ep > 1 ? ", ep > 1" : "", why);
    return -1;
  }

  double tp = c->tp;
  d->dtype_bytes = 2.0;
  d->kv_dtype_bytes = hw_dtype_act_bytes(c->kv_dtype);
  d->w_bytes = hw_dtype_weight_bytes(c->weight_dtype);
  d->a_bytes = hw_dtype_act_bytes(c->act_dtype);
  d->inv_ep = 1.0 / c->ep;
  d->experts_dev = m->experts ? (double)(m->experts / c->ep) : 0.0;
  if (m->experts && c->ep > 1) {
    double experts = m->experts, k = m->active_experts, g = c->ep;
    d->moe_z = sqrt(2.0 * log(g));
    d->moe_group_var = k * (1.0 / g) * (1.0 - 1.0 / g) * (experts - k) / (experts - 1.0);
    d->moe_pairs_cap = fmin(k, experts / g);
  }
  d->q_dev = m->q_heads / tp;
  d->kv_dev = m->kv_heads >= c->tp ? m->kv_heads / tp : 1.0;
  d->qkv_n = (d->q_dev + 2.0 * d->kv_dev) * m->head_dim;
  d->o_k = d->q_dev * m->head_dim;
  d->ffn_dev = m->ffn / tp;
  d->vocab_dev = ceil(m->vocab / tp);
  d->stage_layers = (m->layers + c->pp - 1) / c->pp;

  hw_rates r = hw_rates_of(a, e);
  if (hw_systolic_is(a)) /* TPU-like: vector units, padded attention (hw/systolic.h) */
    hw_systolic_rates(a, m->head_dim, 2.0, m->gated_ffn, &r);
  /* The layers' GEMMs run in the activations' type (hw/hw.h); the router and LM head in bf16. */
  d->gemm = gemm_eff_of(e, c->act_dtype);
  d->ns_per_flop_gemm = hw_ns_per(hw_accel_peak_flops(a, c->act_dtype), d->gemm.compute_frac);
  d->ns_per_byte_gemm = hw_ns_per(a->hbm_bytes_per_s, d->gemm.mem_frac);
  d->ns_per_flop_gemm16 = r.ns_per_flop_gemm, d->ns_per_byte_gemm16 = r.ns_per_byte_gemm;
  d->serial_h_ns = hw_gemm_serial_of(&d->gemm, m->hidden);
  d->serial_o_ns = hw_gemm_serial_of(&d->gemm, d->o_k);
  d->serial_ffn_ns = hw_gemm_serial_of(&d->gemm, d->ffn_dev);
  d->serial16_h_ns = hw_gemm_serial_of(&e->gemm, m->hidden);
  /* Attention over an 8-bit or 4-bit KV cache: the fp8-KV fit where there is one. */
  bool narrow_kv = c->kv_dtype != HW_DTYPE_BF16 && e->attn_prefill_fp8kv.compute_frac > 0.0 &&
                   e->attn_decode_fp8kv.mem_frac > 0.0;
  d->attn_pf = narrow_kv ? e->attn_prefill_fp8kv : e->attn_prefill;
  d->attn_dec = narrow_kv ? e->attn_decode_fp8kv : e->attn_decode;
  d->ns_per_flop_pf = narrow_kv ? r.ns_per_flop_pf_fp8kv : r.ns_per_flop_pf;
  d->ns_per_byte_pf = narrow_kv ? r.ns_per_byte_pf_fp8kv : r.ns_per_byte_pf;
  d->ns_per_byte_dec = narrow_kv ? r.ns_per_byte_dec_fp8kv : r.ns_per_byte_dec;
  d->ns_per_byte_ar = r.ns_per_byte_ar, d->ns_per_byte_sr = r.ns_per_byte_sr;
  d->sr_t0_ns = e->sendrecv.t0_ns;
  if (c->sendrecv.bytes_per_s > 0.0)
    d->ns_per_byte_sr = 1e9 / c->sendrecv.bytes_per_s, d->sr_t0_ns = c->sendrecv.t0_ns;
  /* All-to-all without a measured cost: the scale-up links at the all-reduce's fitted fraction
   * and fixed time (no all-to-all kernel data in hw/; net/ fits NCCL's, which jobs/ passes in). */
  d->a2a_t0_ns = e->allreduce.t0_ns, d->ns_per_byte_a2a = r.ns_per_byte_ar;
  if (c->alltoall.bytes_per_s > 0.0)
    d->ns_per_byte_a2a = 1e9 / c->alltoall.bytes_per_s, d->a2a_t0_ns = c->alltoall.t0_ns;

  /* Memory-bound kernels of one layer, per token, priced the way Vidur profiles them: two RMSNorms
   * and two residual adds (vLLM fuses each pair into one kernel), rotary on q and k, the activation
   * (per routed row for MoE), and Qwen3's RMSNorm of q and k. Once per iteration: the embedding
   * lookup and the final norm and add. */
  const double *nb = r.ns_per_byte_elem, dt = 2.0, h = m->hidden;
  double rows = m->experts ? m->active_experts : 1.0;
  double norm = hw_elem_norm_bytes(1, h, dt), add = hw_elem_add_bytes(1, h, dt);
  double rope = hw_elem_rope_bytes(1, d->q_dev, d->kv_dev, m->head_dim, dt);
  double act = hw_elem_act_bytes(rows, d->ffn_dev, m->gated_ffn, dt);
  double qk_norm = m->qk_norm ? hw_elem_norm_bytes(1, (d->q_dev + d->kv_dev) * m->head_dim, dt) : 0;
  double embed = hw_elem_embed_bytes(1, h, dt);
  d->elem_bytes_per_token = 2.0 * norm + 2.0 * add + rope + act + qk_norm;
  d->elem_ns_per_token = (2.0 * norm + qk_norm) * nb[HW_ELEM_NORM] + 2.0 * add * nb[HW_ELEM_ADD] +
                         rope * nb[HW_ELEM_ROPE] + act * nb[HW_ELEM_ACT];
  d->elem_kernels_per_layer = 6.0 + (m->qk_norm ? 1.0 : 0.0);
  d->once_bytes_per_token = embed + norm + add;
  d->once_ns_per_token = embed * nb[HW_ELEM_EMBED] + norm * nb[HW_ELEM_NORM] +
                         add * nb[HW_ELEM_ADD];
  d->moe_log_miss = m->experts ? log1p(-(double)m->active_experts / m->experts) : 0.0;

  d->weights_bytes_per_device = weights_bytes_per_device(d);
  d->kv_bytes_per_token_device = 2.0 * d->stage_layers * d->kv_dev * m->head_dim *
                                 d->kv_dtype_bytes;
  d->activation_reserve_bytes = activation_reserve_bytes(d);
  d->nontorch_bytes = nccl_bytes(d) + other_nontorch_bytes;
  if (d->weights_bytes_per_device > a->hbm_bytes) {
    snprintf(err, err_len,
             "deployment of %s on %s (tp %u, pp %u): %.1f GiB of weights per device do not fit "
             "in %.1f GiB of HBM",
             m->name, a->name, c->tp, c->pp, d->weights_bytes_per_device / 1073741824.0,
             a->hbm_bytes / 1073741824.0);
    return -1;
  }
  return 0;
}

/* One GEMM (m x k) @ (k x n) of the layers (in the deployment's types) or, wide, in bf16 (router,
 * LM head), reading `copies` weight matrices; serial_ns: its reduction loop over k (hw_deploy's
 * serial_*_ns); adds its FLOPs, bytes and clock-bound time. */
static inline double gemm_ns(const hw_deploy *d, bool wide, double m, double n, double k,
                             double serial_ns, double copies, double *flops, double *bytes,
                             double *clock_ns) {
  const hw_eff_gemm *g = wide ? &d->accel.eff.gemm : &d->gemm;
  double a = wide ? d->dtype_bytes : d->a_bytes, w = wide ? d->dtype_bytes : d->w_bytes;
  double f = hw_gemm_flops(m, n, k),
         by = hw_gemm_bytes_typed(m, n, k, copies, a, w, d->dtype_bytes);
  *flops += f, *bytes += by;
  if (hw_systolic_is(&d->accel)) /* TPU-like: matrix units (hw/systolic.h) */
    return hw_systolic_gemm_ns(&d->accel, m, n, k, by, clock_ns);
  return hw_roof_clock_ns(g->t0_ns, f, wide ? d->ns_per_flop_gemm16 : d->ns_per_flop_gemm, by,
                          wide ? d->ns_per_byte_gemm16 : d->ns_per_byte_gemm, serial_ns, clock_ns);
}

double hw_moe_max_pairs(double tokens, uint32_t experts, uint32_t active, uint32_t groups) {
  if (!(tokens > 0.0) || experts == 0 || active == 0 || groups == 0)
    return 0.0;
  double e = experts, k = active, g = groups;
  double mean = tokens * k / g;
  if (groups == 1)
    return mean;
  double var = tokens * k * (1.0 / g) * (1.0 - 1.0 / g) * (e - k) / (e - 1.0);
  return fmin(mean + sqrt(2.0 * log(g)) * sqrt(var), tokens * fmin(k, e / g));
}

/* The micro-batches an iteration of a pipeline of pp stages keeps in flight: one per stage, as
 * engines pipeline (vLLM's virtual engines and its V1 batch queue, TensorRT-LLM's micro-batches;
 * hw/data/SOURCES.md, "Pipeline parallelism"), but never more than the
 * batch's sequences: a sequence is in one micro-batch. 1 without pipeline parallelism. */
static double micro_batches(const hw_deploy *d, const hw_batch *b) {
  uint64_t seqs = (uint64_t)b->prefill_seqs + b->decode_seqs;
  return seqs > 1 && d->cfg.pp > 1 ? (double)(seqs < d->cfg.pp ? seqs : d->cfg.pp) : 1.0;
}

/* The host work of `micro` micro-batches of `seqs` sequences in all (after the ep split). */
static double host_work_ns(const hw_deploy *d, double micro, double seqs) {
  return micro * d->accel.eff.cpu.fixed_ns + d->accel.eff.cpu.per_seq_ns * seqs;
}

double hw_host_ns(const hw_deploy *d, const hw_batch *b) {
  double tokens = ((double)b->prefill_tokens + (double)b->decode_seqs) * d->inv_ep,
         seqs = ((double)b->prefill_seqs + b->decode_seqs) * d->inv_ep;
  if (tokens <= 0.0 && seqs <= 0.0)
    return 0.0;
  return host_work_ns(d, micro_batches(d, b), seqs);
}

/* An iteration of a pipeline of pp stages is a round of k micro-batches (micro_batches), each
 * holding 1/k of the batch: every micro-batch passes all the stages once, so the round lasts one
 * micro-batch's pass through the pipeline (its GPU time, sends and host work, priced as an
 * iteration of that micro-batch), while each stage works k micro-batches' share of it and the
 * host prepares all k (hw_iteration_span_ns). Each sequence gets one token a round. Without
 * pipeline parallelism k is 1 and every division by it exact. */
int64_t hw_iteration_ns(const hw_deploy *d, const hw_batch *b, hw_breakdown *out) {
  const hw_model *m = &d->model;
  const hw_eff *e = &d->accel.eff;
  double micro = micro_batches(d, b), share = d->inv_ep / micro;
  /* Under expert parallelism each group of tp devices takes 1/ep of the batch (inv_ep is 1
   * otherwise, and multiplying by it exact). */
  double all_tokens = ((double)b->prefill_tokens + (double)b->decode_seqs) / micro;
  double pf_tokens = b->prefill_tokens * share, dec_seqs = b->decode_seqs * share;
  double tokens = pf_tokens + dec_seqs, seqs = ((double)b->prefill_seqs + b->decode_seqs) * share;
  if (tokens <= 0.0 && seqs <= 0.0) {
    if (out)
      memset(out, 0, sizeof *out);
    return 0;
  }
  double h = m->hidden, dt = d->dtype_bytes;
  double flops = 0.0, bytes = 0.0, clock = 0.0, f, by; /* clock: clock-bound ns */

  /* Projections of one layer. */
  double gemm = 0.0, alltoall = 0.0;
  if (tokens > 0.0) {
    gemm = gemm_ns(d, false, tokens, d->qkv_n, h, d->serial_h_ns, 1.0, &flops, &bytes, &clock);
    gemm += gemm_ns(d, false, tokens, h, d->o_k, d->serial_o_ns, 1.0, &flops, &bytes, &clock);
    if (!m->experts) {
      gemm += gemm_ns(d, false, tokens, (m->gated_ffn ? 2.0 : 1.0) * d->ffn_dev, h, d->serial_h_ns,
                      1.0, &flops, &bytes, &clock);
      gemm += gemm_ns(d, false, tokens, h, d->ffn_dev, d->serial_ffn_ns, 1.0, &flops, &bytes,
                      &clock);
    } else {
      /* Router (bf16), then the fused expert kernels over the (token, expert) rows this device's
       * experts get: all of them without expert parallelism, else the busiest group's share
       * (hw_moe_max_pairs). The weights read are those of the local experts at least one token
       * picked: experts_dev (1 - (1 - k/E)^tokens) expected under uniform routing, the tokens of
       * one sequence when the batch's sequences are copies (moe_copies). */
      double k = m->active_experts, rows;
      if (d->cfg.ep == 1)
        rows = tokens * k;
      else
        rows = fmin(all_tokens * k * d->inv_ep + d->moe_z * sqrt(all_tokens * d->moe_group_var),
                    all_tokens * d->moe_pairs_cap);
      double routed = d->cfg.moe_copies ? ((double)b->prefill_tokens + (double)b->decode_seqs) /
                                              ((double)b->prefill_seqs + b->decode_seqs)
                                        : all_tokens; /* copies: one sequence's tokens */
      double touched = d->experts_dev * (1.0 - exp(routed * d->moe_log_miss));
      double up_n = (m->gated_ffn ? 2.0 : 1.0) * d->ffn_dev;
      gemm += gemm_ns(d, true, tokens, m->experts, h, d->serial16_h_ns, 1.0, &flops, &bytes,
                      &clock);
      gemm += gemm_ns(d, false, rows, up_n, h, d->serial_h_ns, touched, &flops, &bytes, &clock);
      gemm += gemm_ns(d, false, rows, h, d->ffn_dev, d->serial_ffn_ns, touched, &flops, &bytes,
                      &clock);
      if (d->cfg.ep > 1) {
        /* Dispatch (activations' type) and combine (bf16) of the rows from and to other groups,
         * split over the group's tp devices: one copy per (token, expert) pair. */
        double remote = rows * (1.0 - d->inv_ep) * h / d->cfg.tp;
        alltoall = 2.0 * d->a2a_t0_ns + remote * (d->a_bytes + dt) * d->ns_per_byte_a2a;
      }
    }
  }

  /* Attention of one layer. */
  double attn_pf = 0.0, attn_dec = 0.0;
  if (pf_tokens > 0.0) {
    f = hw_attn_prefill_flops((double)b->prefill_attn_pairs * share, pf_tokens, d->q_dev,
                              m->head_dim, d->attn_pf.pad_tokens);
    by = hw_attn_prefill_bytes_kv(pf_tokens, (double)b->prefill_ctx_tokens * share, d->q_dev,
                                  d->kv_dev, m->head_dim, d->kv_dtype_bytes);
    flops += f, bytes += by;
    attn_pf = hw_roof_clock_ns(
        d->attn_pf.t0_ns, f,
        hw_attn_prefill_ns_per_flop(&d->attn_pf, pf_tokens, d->q_dev, d->ns_per_flop_pf), by,
        d->ns_per_byte_pf,
        hw_attn_prefill_unit_ns(&d->attn_pf, (double)b->prefill_seqs * share, d->kv_dev), &clock);
  }
  if (dec_seqs > 0.0) {
    double ctx = (double)b->decode_ctx_tokens * share;
    f = hw_attn_decode_flops(ctx, d->q_dev, m->head_dim);
    by = hw_attn_decode_bytes_kv(dec_seqs, ctx, d->q_dev, d->kv_dev, m->head_dim,
                                 d->kv_dtype_bytes);
    flops += f, bytes += by;
    attn_dec = hw_attn_decode_ns_of(&d->attn_dec, dec_seqs, d->kv_dev, by, d->ns_per_byte_dec);
  }

  /* Elementwise kernels and tensor-parallel all-reduces (after attention and after the MLP). */
  double elem = 0.0, allreduce = 0.0;
  double hidden_bytes = tokens * h * dt;
  if (tokens > 0.0) {
    bytes += tokens * d->elem_bytes_per_token;
    elem = d->elem_kernels_per_layer * e->elementwise.t0_ns + tokens * d->elem_ns_per_token;
    if (d->cfg.tp > 1)
      allreduce = 2.0 *
                  hw_allreduce_ns(e->allreduce.t0_ns, hidden_bytes, d->cfg.tp, d->ns_per_byte_ar);
  }

  /* Layers are identical: one layer's time, times the layers. FLOPs and bytes so far are one
   * layer's too. */
  double layers = m->layers;
  double layer_ns = gemm + attn_pf + attn_dec + elem + allreduce + alltoall;
  flops *= layers, bytes *= layers, clock *= layers;

  /* Once per iteration: embedding lookup and final norm over all tokens; LM head over one token per
   * sequence, its logits gathered over TP; pipeline boundaries carry hidden states and residual. */
  double embed = 0.0, head = 0.0, gather = 0.0, sendrecv = 0.0;
  if (tokens > 0.0) {
    bytes += tokens * d->once_bytes_per_token;
    embed = 3.0 * e->elementwise.t0_ns + tokens * d->once_ns_per_token;
    if (d->cfg.pp > 1)
      sendrecv = (d->cfg.pp - 1) * hw_linear_ns(d->sr_t0_ns, 2.0 * hidden_bytes, d->ns_per_byte_sr);
  }
  if (seqs > 0.0) {
    head = gemm_ns(d, true, seqs, d->vocab_dev, h, d->serial16_h_ns, 1.0, &flops, &bytes, &clock);
    if (d->cfg.tp > 1)
      gather = hw_allgather_ns(e->allreduce.t0_ns, seqs * m->vocab * dt, d->cfg.tp,
                               d->ns_per_byte_ar);
  }

  double gpu_ns = layers * layer_ns + embed + head + gather;
  double stage_ns = d->cfg.pp == 1 ? gpu_ns
                                   : d->stage_layers * layer_ns + fmax(embed, head + gather);
  double cpu_ns = /* one micro-batch's */
      host_work_ns(d, micro, ((double)b->prefill_seqs + b->decode_seqs) * d->inv_ep) / micro;
  double serial_ns = 0.0;
  if (d->cfg.host_overlap)
    serial_ns = fmin(cpu_ns, d->cfg.serial_fixed_ns + d->cfg.serial_per_seq_ns * seqs);
  double power_w = 0.0, stretch = 1.0;
  if (out || d->cfg.power_cap_w > 0.0) {
    double capped_ns = hw_power_iteration(d, gpu_ns, clock, stage_ns, sendrecv, cpu_ns, serial_ns,
                                          flops, bytes, micro, &power_w, &stretch);
    stage_ns *= stretch;
    gpu_ns = capped_ns;
  }
  double total_ns = hw_iteration_span_ns(d, gpu_ns + sendrecv, cpu_ns, serial_ns, micro);
  if (out) { /* the round's: its micro-batches' sums */
    out->gemm_ns = micro * layers * gemm;
    out->attn_prefill_ns = micro * layers * attn_pf;
    out->attn_decode_ns = micro * layers * attn_dec;
    out->elementwise_ns = micro * (layers * elem + embed);
    out->lm_head_ns = micro * head;
    out->allreduce_ns = micro * (layers * allreduce + gather);
    out->alltoall_ns = micro * layers * alltoall;
    out->sendrecv_ns = micro * sendrecv;
    out->cpu_ns = micro * cpu_ns;
    out->stage_ns = micro * stage_ns;
    out->total_ns = total_ns;
    out->flops = micro * flops;
    out->hbm_bytes = micro * bytes;
    out->power_w = power_w;
    out->cap_stretch = stretch;
  }
  return (int64_t)(total_ns + 0.5);
}

double hw_kv_bytes_per_token(const hw_deploy *d) {
  return 2.0 * d->model.layers * d->model.kv_heads * d->model.head_dim * d->kv_dtype_bytes;
}
double hw_kv_bytes_per_token_device(const hw_deploy *d) { return d->kv_bytes_per_token_device; }
double hw_weights_bytes_per_device(const hw_deploy *d) { return d->weights_bytes_per_device; }
double hw_activation_reserve_bytes(const hw_deploy *d) { return d->activation_reserve_bytes; }

uint64_t hw_kv_blocks(const hw_deploy *d, uint32_t block_size, double gpu_mem_util) {
  if (block_size == 0 || !(gpu_mem_util > 0.0))
    return 0;
  double f = fmin(gpu_mem_util, 1.0), free_bytes;
  if (d->cfg.kv_rule == HW_KV_STATIC_SHARE)
    free_bytes = f * d->accel.hbm_bytes - d->weights_bytes_per_device - d->nontorch_bytes;
  else if (d->cfg.kv_rule == HW_KV_SHARE_OF_FREE)
    free_bytes = f *
                 (d->accel.hbm_bytes - d->weights_bytes_per_device - d->activation_reserve_bytes);
  else
    free_bytes = f * d->accel.hbm_bytes - d->weights_bytes_per_device - d->activation_reserve_bytes;
  double block_bytes = block_size * d->kv_bytes_per_token_device;
  if (!(free_bytes > 0.0) || !(block_bytes > 0.0))
    return 0;
  return (uint64_t)floor(free_bytes / block_bytes) * d->cfg.ep;
}
