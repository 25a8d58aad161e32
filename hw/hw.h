/* hw/: the accelerator and model catalogues, and the cost model that prices one iteration of a
 * model instance (an hw_batch, see batch.h) on a deployment {accelerator, model, TP, PP, dtype}. */
#ifndef HW_H
#define HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/batch.h"

/* Efficiency parameters of one accelerator: what fraction of its datasheet peaks each operator
 * family reaches, and fixed per-kernel times. Fitted to measured data by calib_fit_hw (calib/fit.h)
 * and shipped in hw/data/efficiency.csv; the model behind each family is described there and in
 * hw/cost_ops.h. */
typedef struct hw_eff_gemm {
  double t0_ns, compute_frac, mem_frac, per_k_ns; /* per_k_ns: serial reduction-loop latency */
  double split_k; /* reduction length at which split-k halves the serial loop; 0: never split */
} hw_eff_gemm;
typedef struct hw_eff_attn_prefill {
  double t0_ns, compute_frac, mem_frac, pad_tokens; /* pad_tokens: wasted causal work per query */
  double half_rows;          /* (token, head) query rows at which compute reaches half its rate */
  double per_seq_kv_head_ns; /* per (sequence, KV head) work unit; 0 for none */
} hw_eff_attn_prefill;
typedef struct hw_eff_attn_decode {
  double t0_ns, per_seq_kv_head_ns, mem_frac; /* per (sequence, KV head) work unit */
  double half_units; /* work units at which the kernel reaches half its bandwidth; 0: full */
  double serial_mix; /* 1: unit and memory times add; 0: they overlap (Euclidean norm) */
} hw_eff_attn_decode;

typedef struct hw_eff {
  hw_eff_gemm gemm; /* bf16 */
  /* GEMMs in fp8 (per-tensor or per-token/per-channel scales) and fp8 with block scales, as
   * fractions of the fp8 peak; attention over an 8-bit KV cache (the cache read in 8 bits, the
   * math in bf16). All zero where efficiency.csv has no fit: the bf16 parameters serve then. */
  hw_eff_gemm gemm_fp8, gemm_fp8_block;
  hw_eff_attn_prefill attn_prefill, attn_prefill_fp8kv;
  hw_eff_attn_decode attn_decode, attn_decode_fp8kv;
  struct {
    /* Memory-bound kernels: one fixed time, and the fraction of HBM bandwidth each kind reaches. */
    double t0_ns, norm_frac, add_frac, rope_frac, act_frac, embed_frac;
  } elementwise;
  struct {
    double t0_ns, link_frac; /* tensor-parallel all-reduce on the scale-up links */
  } allreduce;
  struct {
    double t0_ns, link_frac; /* pipeline-parallel activation send/recv between stages */
  } sendrecv;
  struct {
    /* Per-iteration host overhead: schedule, prepare inputs, sample, process outputs. */
    double fixed_ns, per_seq_ns;
  } cpu;
  /* The efficiency.csv entry these came from ("H100-SXM-80GB", "default"); "" when unset. */
  char source[64];
} hw_eff;

/* Board power of one accelerator as a function of what it runs (hw/power.c, hw/power_ops.h).
 * While an iteration's kernels run, each device draws from base_w up toward tdp_w, saturating in
 * its achieved FLOP rate (over the tensor peak) and HBM rate (over the peak bandwidth); while it
 * waits inside an iteration (host time, other pipeline stages), gap_w; between iterations, idle_w.
 * Fitted by wt_hw_fit to measured kernel power into hw/data/power.csv; see hw/data/SOURCES.md. */
typedef struct hw_power {
  double idle_w; /* no kernel running (including the microsecond gaps between launches) */
  /* Waiting inside an iteration (its host time, other pipeline stages): the clocks stay up and the
   * draw does not fall to idle_w; fitted to whole-run power (hw/data/SOURCES.md). */
  double gap_w;
  double base_w; /* kernels running back to back that do almost no work */
  /* Saturation rates of the draw toward tdp_w per unit compute utilisation and per unit squared
   * memory utilisation. Dimensionless. */
  double compute_k, memory_k;
  /* The gap between launches of the measured kernel benchmark (fitted with the rest): a kernel
   * of that length reads halfway between idle_w and its busy draw. Only the fit uses it. */
  double launch_gap_ns;
  /* Under a power cap the clock drops until the power fits: dynamic power ~ clock^cap_exponent,
   * compute-bound time ~ 1 / clock, memory-bound time unchanged (see hw/power.c). */
  double cap_exponent;
  /* The node's share per accelerator of its idle host power (CPUs, memory, NICs, fans,
   * storage), drawn whatever the load; host_cpu_busy_w comes on top during host work. */
  double host_w;
  /* What the host's CPUs add, per accelerator, while its engine's host work runs (hw/host.h,
   * hw/data/host_power.csv); 0 for a node type without a host row. Charged to the iteration's
   * power over its host time (hw_power_iteration). */
  double host_cpu_busy_w;
  char source[64]; /* the power.csv entry these came from; "" when unset */
} hw_power;

/* A systolic-array (TPU-like) accelerator's matrix and vector units, priced by hw/systolic.h in
 * place of the GPU roofline when the matrix-unit fields are set; all zero on a GPU. Architecture
 * values from hw/data/accelerators.csv, fitted ones from hw/data/systolic.csv (written by
 * wt_hw_fit); see hw/data/SOURCES.md, "TPU". */
typedef struct hw_systolic_fit {
  double gemm_t0_ns, mxu_frac, mem_frac; /* projections: fixed time, matrix and HBM fractions */
  double vector_t0_ns;                   /* elementwise kernels: fixed time */
  double norm_cycles, rope_cycles, act_cycles, add_cycles; /* vector cycles per element */
  double embed_frac;                                       /* embedding gather: HBM fraction */
  double attn_prefill_t0_ns, attn_prefill_frac;            /* of the head_dim-padded matrix peak */
  double attn_decode_t0_ns, attn_decode_mem_frac, attn_decode_per_seq_kv_head_ns;
} hw_systolic_fit;
typedef struct hw_systolic {
  double mxu_rows, mxu_cols; /* one matrix unit: rows x cols multiply-accumulators */
  double mxu_count;          /* matrix units per chip */
  double row_tile;           /* activation rows stream in multiples of this (sublanes) */
  double vector_lanes;       /* vector-unit elements per cycle, whole chip */
  hw_systolic_fit fit;
  char source[64]; /* the systolic.csv row the fitted values came from; "" when unset */
} hw_systolic;

/* One accelerator: datasheet values (0 where the source gives none) and its efficiencies. */
typedef struct hw_accel {
  char name[64];
  char vendor[32];
  char kind[16];               /* gpu, tpu, npu, or cxl-mem (a memory tier, not a compute device) */
  double peak_bf16_flops;      /* dense tensor peak, FLOP/s */
  double peak_fp8_flops;       /* dense, FLOP/s; 0 when the device has none */
  double peak_int8_ops;        /* dense int8 tensor peak, OP/s; 0 when unknown */
  double peak_fp4_flops;       /* dense fp4 tensor peak, FLOP/s; 0 when the device has none */
  double hbm_bytes;            /* capacity */
  double hbm_bytes_per_s;      /* peak bandwidth */
  double tdp_w, idle_w;        /* board power */
  double scaleup_bytes_per_s;  /* NVLink-class bandwidth per device, one direction */
  double scaleout_bytes_per_s; /* NIC bandwidth per device, one direction */
  char source[64];             /* source IDs, see hw/data/accelerators_SOURCE.md */
  hw_eff eff;
  hw_power power;
  hw_systolic systolic; /* all zero on a GPU */
} hw_accel;

/* One model architecture, as in its published config.json. */
typedef struct hw_model {
  char name[64];  /* "Llama-3.1-8B" */
  char hf_id[96]; /* "meta-llama/Llama-3.1-8B" */
  uint32_t layers, hidden, q_heads, kv_heads, head_dim;
  uint32_t ffn; /* intermediate size (per expert for MoE) */
  uint32_t vocab;
  uint32_t experts, active_experts; /* 0 and 0 for a dense model */
  bool gated_ffn;                   /* SwiGLU: gate and up projections */
  bool tied_embeddings;             /* LM head shares the embedding matrix */
  bool qkv_bias;                    /* Qwen2.5 */
  bool qk_norm;                     /* Qwen3: RMSNorm on q and k per head */
  char source[128];
} hw_model;

/* The catalogues: built-in (embedded CSV, parsed at creation) plus whatever a scenario adds. */
typedef struct hw_catalog hw_catalog;

hw_catalog *hw_catalog_create(char *err, size_t err_len);
void hw_catalog_destroy(hw_catalog *cat);

/* Lookups compare names ignoring case and any character that is not a letter or digit ("h100 sxm
 * 80gb" finds "H100-SXM-80GB"); models also match by Hugging Face id. NULL when absent. Pointers
 * stay valid until the next add to the same catalogue or its destruction. */
const hw_accel *hw_catalog_accel(const hw_catalog *cat, const char *name);
const hw_model *hw_catalog_model(const hw_catalog *cat, const char *name);
size_t hw_catalog_accel_count(const hw_catalog *cat);
size_t hw_catalog_model_count(const hw_catalog *cat);
const hw_accel *hw_catalog_accel_at(const hw_catalog *cat, size_t i);
const hw_model *hw_catalog_model_at(const hw_catalog *cat, size_t i);

/* Add an entry, or replace the one with the same name. The struct is copied. An accelerator whose
 * eff.source is empty gets the fitted efficiencies of the efficiency.csv entry of that name, else
 * the default ones (those of the H100 fit); one whose power.source is empty gets its power.csv row,
 * else the default row scaled to its tdp_w and idle_w (none without a TDP). Returns 0, or -1 with a
 * message for an invalid entry. */
int hw_catalog_add_accel(hw_catalog *cat, const hw_accel *accel, char *err, size_t err_len);
int hw_catalog_add_model(hw_catalog *cat, const hw_model *model, char *err, size_t err_len);

/* Read an accelerator's efficiencies from a file in efficiency.csv's layout (device,op,param,
 * value,...; what `windtunnel calibrate DIR --write --out FILE` writes) over *eff: the rows of
 * `device`, or where the file has none the rows of the one device it holds; parameters the file
 * does not give keep their values. 0, or -1 with "file:line: ..." (unreadable, unknown parameter,
 * a value not a finite number >= 0, no rows, rows of several other devices). */
int hw_eff_read_file(const char *path, const char *device, hw_eff *eff, char *err, size_t err_len);

/* Parameter count of the whole model (embeddings, layers, norms, LM head unless tied). */
double hw_model_params(const hw_model *m);

/* Number formats of weights, activations and the KV cache. Storage per element, and what each
 * adds for its scales (hw/data/SOURCES.md, "Precision"):
 *   bf16       2 bytes.
 *   fp8        1 byte (e4m3), one scale per tensor, token or channel (negligible).
 *   fp8_block  1 byte plus an fp32 scale per 128x128 weight block and per 1x128 activation
 *              group (DeepSeek-V3's recipe, vLLM's fp8 block quantisation).
 *   int8       1 byte (W8A8 with per-channel and per-token scales; negligible).
 *   fp4        half a byte plus an fp8 scale per 16 elements (NVFP4).
 * A GEMM runs at the tensor peak of the wider of its weights' and activations' types: 8-bit
 * weights with bf16 activations are weight-only quantisation (dequantised in the kernel, bf16
 * math, 8-bit weight reads). */
typedef enum hw_dtype {
  HW_DTYPE_BF16 = 0,
  HW_DTYPE_FP8,
  HW_DTYPE_FP8_BLOCK,
  HW_DTYPE_INT8,
  HW_DTYPE_FP4,
  HW_DTYPE_COUNT
} hw_dtype;

/* "bf16", "fp8", "fp8_block", "int8", "fp4". */
const char *hw_dtype_name(hw_dtype t);
/* Parses those names (and "bfloat16", "fp8_e4m3", "nvfp4" as aliases). 0, or -1 when unknown. */
int hw_dtype_parse(const char *name, hw_dtype *out);
/* Bytes per element of a weight matrix (w), an activation or KV row (a), scales included. */
double hw_dtype_weight_bytes(hw_dtype t);
double hw_dtype_act_bytes(hw_dtype t);
/* The accelerator's dense tensor peak for GEMMs in that type, FLOP/s; 0 when it has none. */
double hw_accel_peak_flops(const hw_accel *a, hw_dtype t);

/* A communication cost measured by the caller on the real topology (jobs/ asks net/): an operation
 * moving `bytes` per device takes t0_ns + bytes / bytes_per_s. Zero bytes_per_s: hw's own
 * estimate from the accelerator's scale-up links and fitted efficiencies. For all-to-all `bytes`
 * is what one device sends to the others; for send/recv what one stage sends to the next. */
typedef struct hw_comm {
  double t0_ns, bytes_per_s;
} hw_comm;

/* How an engine sizes its KV cache from a memory fraction f (hw_kv_blocks; hw/engine.h):
 *   SHARE_OF_ALL   vLLM's gpu_memory_utilization: f x HBM - weights - activation reserve.
 *   STATIC_SHARE   SGLang's mem_fraction_static: f x HBM - weights - non-torch memory (the
 *                  activations live in the other 1 - f).
 *   SHARE_OF_FREE  TensorRT-LLM's free_gpu_memory_fraction: f x (HBM - weights - activation
 *                  reserve), the memory free after loading and a profiling forward pass. */
typedef enum hw_kv_rule {
  HW_KV_SHARE_OF_ALL = 0,
  HW_KV_STATIC_SHARE,
  HW_KV_SHARE_OF_FREE
} hw_kv_rule;

/* The efficiency parameters by name, as efficiency.csv and a scenario's `efficiency:` spell them
 * (op "gemm", param "compute_frac"): i in [0, hw_eff_param_count()). */
size_t hw_eff_param_count(void);
const char *hw_eff_param_op(size_t i);
const char *hw_eff_param_name(size_t i);
double *hw_eff_param_ptr(hw_eff *e, size_t i);

typedef struct hw_deploy_config {
  uint32_t tp, pp; /* tensor- and pipeline-parallel sizes (0 means 1) */
  /* Expert parallelism (0 means 1): each pipeline stage runs on tp * ep devices, ep groups of tp.
   * Attention and dense layers run data-parallel over the groups (each takes 1/ep of the batch's
   * sequences and holds their KV cache), tensor-parallel inside a group; the experts are split
   * over the groups (experts / ep each, tensor-parallel inside the group), and every MoE layer
   * dispatches routed tokens to their experts' groups and combines the results (all-to-all).
   * This is vLLM's data-parallel attention with expert parallelism. ep must divide the experts. */
  uint32_t ep;
  /* MoE routing of a batch. false: each token picks its experts independently (uniform), so a
   * batch touches experts_dev (1 - (1 - k/E)^tokens) of them. true: the batch's sequences are
   * copies in lockstep (one prompt sent batch times and decoded greedily, as static-batch
   * benchmarks such as TensorRT-LLM's run.py send it), so every copy's token picks the same
   * experts and the batch touches those of one sequence's tokens. */
  bool moe_copies;
  hw_dtype weight_dtype, act_dtype, kv_dtype;
  hw_comm alltoall; /* MoE dispatch and combine among the tp * ep devices of a stage */
  hw_comm sendrecv; /* activations between pipeline stages */
  /* Scheduler limits that size the activation reserve; 0 takes vLLM's defaults for the device
   * (EngineArgs.get_batch_defaults, OpenAI server: see hw/cost.c). */
  uint32_t max_batched_tokens, max_seqs;
  double power_cap_w; /* per device; 0: uncapped (the board's own limit, tdp_w) */
  /* The serving engine's part (hw/engine.h). All zero: the host work (eff.cpu) runs in series
   * with the kernels and the KV cache is a share of all memory, as the vLLM the fits measured.
   * With host_overlap, the host work of the next iteration but its serial part runs during this
   * one's kernels: an iteration takes max(kernels, host - serial) + serial. */
  bool host_overlap;
  double serial_fixed_ns, serial_per_seq_ns; /* host work that never overlaps (the sampler) */
  hw_kv_rule kv_rule;
  /* Efficiencies that replace the accelerator's (a scenario's `efficiency:`, an engine's host
   * work): parameter i (hw_eff_param_*) comes from eff_set where bit i of eff_set_mask is set. */
  hw_eff eff_set;
  uint64_t eff_set_mask;
} hw_deploy_config;

/* Devices of one pipeline stage: tp * ep. */
static inline uint32_t hw_deploy_stage_devices(const hw_deploy_config *c) {
  return (c->tp ? c->tp : 1) * (c->ep ? c->ep : 1);
}

/* Per-operator costs of one iteration, ns; plus the work it did. Under pipeline parallelism an
 * iteration is a round of micro-batches (hw_iteration_ns), and these are the sums over them:
 * stage_ns is then each device's busy time in the round. */
typedef struct hw_breakdown {
  double gemm_ns; /* QKV, O, FFN (or experts and router) projections, all layers */
  double attn_prefill_ns;
  double attn_decode_ns;
  double elementwise_ns; /* norms, rotary, activation, embedding */
  double lm_head_ns;
  double allreduce_ns; /* tensor-parallel all-reduces and the logits gather */
  double alltoall_ns;  /* MoE dispatch and combine under expert parallelism */
  double sendrecv_ns;  /* pipeline stage boundaries */
  double cpu_ns;       /* host overhead */
  double stage_ns;     /* GPU time of the busiest pipeline stage (= GPU total when pp is 1) */
  double total_ns;     /* what hw_iteration_ns returns */
  double flops;        /* per device, all stages */
  double hbm_bytes;    /* per device, all stages */
  double power_w;      /* each device's average board power over total_ns */
  double cap_stretch;  /* how much the power cap lengthened the GPU time (1: not at all) */
} hw_breakdown;

/* A model deployed on accelerators, with every per-call constant precomputed: pricing does no
 * allocation and no search. Plain value: copy it freely. */
typedef struct hw_deploy {
  hw_accel accel;
  hw_model model;
  hw_deploy_config cfg;
  /* Precomputed, per device. dtype_bytes: 16-bit tensors (hidden states, norms, embeddings, LM
   * head, router); w_bytes and a_bytes: the layers' GEMM weights and inputs (output in bf16). */
  double dtype_bytes, kv_dtype_bytes;
  double w_bytes, a_bytes;
  hw_eff_gemm gemm; /* the GEMM efficiencies of the math type (t0_ns, per_k_ns used) */
  hw_eff_attn_prefill attn_pf;
  hw_eff_attn_decode attn_dec;
  double inv_ep;        /* 1 / ep: each group's share of the batch */
  double experts_dev;   /* experts per device group: experts / ep */
  double moe_z;         /* sqrt(2 ln ep): the busiest group's excess, in standard deviations */
  double moe_group_var; /* per token: variance of the (token, expert) pairs one group gets */
  double moe_pairs_cap; /* per token: most pairs one group can get, min(k, experts / ep) */
  double ns_per_byte_a2a, a2a_t0_ns;
  double q_dev, kv_dev; /* heads per device (KV heads replicate when fewer than tp) */
  double qkv_n, o_k, ffn_dev, vocab_dev;
  /* The GEMMs' serial reduction loops (hw_gemm_serial_of) over their fixed k: hidden, o_k and
   * ffn_dev in the layers' type, hidden in bf16 (router, LM head); priced once, not per call. */
  double serial_h_ns, serial_o_ns, serial_ffn_ns, serial16_h_ns;
  double ns_per_flop_gemm, ns_per_byte_gemm;
  double ns_per_flop_pf, ns_per_byte_pf, ns_per_byte_dec;
  double ns_per_flop_gemm16, ns_per_byte_gemm16; /* bf16 GEMMs: router and LM head */
  double ns_per_byte_ar, ns_per_byte_sr, sr_t0_ns;
  double elem_ns_per_token; /* per layer, all elementwise kernels */
  double once_ns_per_token; /* per iteration: embedding, final norm and add */
  double elem_bytes_per_token, once_bytes_per_token;
  double elem_kernels_per_layer;
  double moe_log_miss;              /* log(1 - active/experts), for the expected experts touched */
  double weights_bytes_per_device;  /* busiest stage */
  double kv_bytes_per_token_device; /* busiest stage */
  double activation_reserve_bytes;
  double nontorch_bytes; /* NCCL buffers and other memory outside torch's (part of the reserve) */
  uint32_t stage_layers; /* layers on the busiest stage: ceil(layers / pp) */
} hw_deploy;

int hw_deploy_init(hw_deploy *d, const hw_accel *accel, const hw_model *model,
                   const hw_deploy_config *cfg, char *err, size_t err_len);

/* Duration of one iteration, ns: the batch through every pipeline stage plus host overhead (or,
 * with cfg.host_overlap, the longer of the two plus the host's serial part); with pp > 1 stages,
 * a round of up to pp micro-batches sharing the batch (see hw/cost.c). 0 for an empty batch.
 * `out` may be NULL. */
int64_t hw_iteration_ns(const hw_deploy *d, const hw_batch *b, hw_breakdown *out);

/* The host time of batch b's iteration (hw_breakdown.cpu_ns: hw_eff.cpu or the engine profile's
 * host work); 0 for an empty batch. */
double hw_host_ns(const hw_deploy *d, const hw_batch *b);

/* Expected (token, expert) pairs on the busiest of `groups` equal groups of experts when `tokens`
 * tokens each pick `active` distinct experts of `experts` uniformly (load imbalance of top-k
 * routing): the mean tokens * active / groups plus sqrt(2 ln groups) standard deviations of one
 * group's count (a sum of per-token hypergeometric draws), at most tokens * min(active, experts /
 * groups). sqrt(2 ln n) bounds the expected maximum of n standard normals from above, so the
 * estimate is conservative. groups == experts gives the busiest single expert. */
double hw_moe_max_pairs(double tokens, uint32_t experts, uint32_t active, uint32_t groups);

/* Board power of each device of the deployment while no iteration runs. */
double hw_idle_power_w(const hw_deploy *d);

/* Memory. KV bytes per token: 2 (K and V) * layers * kv_heads * head_dim * KV dtype bytes, for
 * the whole instance (what a disaggregated KV transfer moves), and for one device of its busiest
 * stage (divided over TP and PP). */
double hw_kv_bytes_per_token(const hw_deploy *d);
double hw_kv_bytes_per_token_device(const hw_deploy *d);
double hw_weights_bytes_per_device(const hw_deploy *d);
double hw_activation_reserve_bytes(const hw_deploy *d);

/* KV blocks of block_size tokens that fit per instance: the KV memory of the busiest device by
 * the deployment's rule (hw_kv_rule; vLLM's: gpu_mem_util * HBM - weights - activation reserve)
 * over the block's bytes, times ep (each expert-parallel group holds the KV of its own
 * sequences). vLLM's default gpu_mem_util is 0.9. 0 when nothing fits. */
uint64_t hw_kv_blocks(const hw_deploy *d, uint32_t block_size, double gpu_mem_util);

#endif
