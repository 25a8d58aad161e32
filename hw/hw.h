/* hw/: the accelerator and model catalogues, and the cost model that prices one iteration of a
 * model instance (an hw_batch, see batch.h) on a deployment {accelerator, model, TP, PP, dtype}. */
#ifndef HW_H
#define HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/batch.h"

/* Efficiency parameters of one accelerator: what fraction of its datasheet peaks each operator
 * family reaches, and fixed per-kernel times. Fitted to measured data by hw_fit (hw/fit.h) and
 * shipped in hw/data/efficiency.csv; the model behind each family is described there and in
 * hw/cost_ops.h. */
typedef struct hw_eff {
  struct {
    double t0_ns, compute_frac, mem_frac, per_k_ns; /* per_k_ns: serial reduction-loop latency */
  } gemm;
  struct {
    double t0_ns, compute_frac, mem_frac, pad_tokens; /* pad_tokens: wasted causal work per query */
  } attn_prefill;
  struct {
    double t0_ns, per_seq_kv_head_ns, mem_frac; /* per (sequence, KV head) work unit */
  } attn_decode;
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
 * waits (host time, other pipeline stages), and between iterations, idle_w. Fitted by wt_hw_fit to
 * measured kernel power into hw/data/power.csv; see hw/data/SOURCES.md. */
typedef struct hw_power {
  double idle_w; /* no kernel running (including the microsecond gaps between launches) */
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
  /* The node's share per accelerator of host power (CPUs, memory, NICs, fans, storage), drawn
   * whatever the load. */
  double host_w;
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

/* Parameter count of the whole model (embeddings, layers, norms, LM head unless tied). */
double hw_model_params(const hw_model *m);

typedef enum hw_dtype { HW_DTYPE_BF16 = 0 } hw_dtype; /* more precisions come with issue 5 */

typedef struct hw_deploy_config {
  uint32_t tp, pp; /* tensor- and pipeline-parallel sizes (0 means 1) */
  hw_dtype weight_dtype, kv_dtype;
  /* Scheduler limits that size the activation reserve; 0 takes vLLM's defaults for the device
   * (EngineArgs.get_batch_defaults, OpenAI server: see hw/cost.c). */
  uint32_t max_batched_tokens, max_seqs;
  double power_cap_w; /* per device; 0: uncapped (the board's own limit, tdp_w) */
} hw_deploy_config;

/* Per-operator costs of one iteration, ns; plus the work it did. */
typedef struct hw_breakdown {
  double gemm_ns; /* QKV, O, FFN (or experts and router) projections, all layers */
  double attn_prefill_ns;
  double attn_decode_ns;
  double elementwise_ns; /* norms, rotary, activation, embedding */
  double lm_head_ns;
  double allreduce_ns; /* tensor-parallel all-reduces and the logits gather */
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
  /* Precomputed, per device. */
  double dtype_bytes, kv_dtype_bytes;
  double q_dev, kv_dev; /* heads per device (KV heads replicate when fewer than tp) */
  double qkv_n, o_k, ffn_dev, vocab_dev;
  double ns_per_flop_gemm, ns_per_byte_gemm;
  double ns_per_flop_pf, ns_per_byte_pf, ns_per_byte_dec;
  double ns_per_byte_ar, ns_per_byte_sr;
  double elem_ns_per_token; /* per layer, all elementwise kernels */
  double once_ns_per_token; /* per iteration: embedding, final norm and add */
  double elem_bytes_per_token, once_bytes_per_token;
  double elem_kernels_per_layer;
  double moe_log_miss;              /* log(1 - active/experts), for the expected experts touched */
  double weights_bytes_per_device;  /* busiest stage */
  double kv_bytes_per_token_device; /* busiest stage */
  double activation_reserve_bytes;
  uint32_t stage_layers; /* layers on the busiest stage: ceil(layers / pp) */
} hw_deploy;

int hw_deploy_init(hw_deploy *d, const hw_accel *accel, const hw_model *model,
                   const hw_deploy_config *cfg, char *err, size_t err_len);

/* Duration of one iteration, ns: the batch through every pipeline stage plus host overhead. 0 for
 * an empty batch. `out` may be NULL. */
int64_t hw_iteration_ns(const hw_deploy *d, const hw_batch *b, hw_breakdown *out);

/* Board power of each device of the deployment while no iteration runs. */
double hw_idle_power_w(const hw_deploy *d);

/* Memory. KV bytes per token: 2 (K and V) * layers * kv_heads * head_dim * dtype bytes, for the
 * whole instance, and for one device of its busiest stage (divided over TP and PP). */
double hw_kv_bytes_per_token(const hw_deploy *d);
double hw_kv_bytes_per_token_device(const hw_deploy *d);
double hw_weights_bytes_per_device(const hw_deploy *d);
double hw_activation_reserve_bytes(const hw_deploy *d);

/* KV blocks of block_size tokens that fit per instance: (gpu_mem_util * HBM - weights - activation
 * reserve) / block bytes on the busiest device. vLLM's default gpu_mem_util is 0.9. 0 when nothing
 * fits. */
uint64_t hw_kv_blocks(const hw_deploy *d, uint32_t block_size, double gpu_mem_util);

#endif
