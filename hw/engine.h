/* Serving-engine profiles (hw/data/engines.csv): the host work an engine adds to each iteration
 * and whether it overlaps the kernels, how it sizes its KV cache, and its scheduler defaults. */
#ifndef HW_ENGINE_H
#define HW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/hw.h"

/* Default KV memory fractions by tensor-parallel size: tp 1, 2, 4-7, 8-15, 16 and up. */
#define HW_ENGINE_TP_STEPS 5

typedef struct hw_engine {
  char name[32];    /* "vllm-v1", "vllm-v0", "sglang", "trtllm" */
  char version[16]; /* of the engine this row describes: "0.11" */
  bool cuda_graphs, async_scheduling;
  /* All host work per iteration (it replaces the accelerator's eff.cpu). */
  double host_fixed_ns, host_per_seq_ns;
  double serial_fixed_ns, serial_per_seq_ns; /* the part that never overlaps the GPU */
  bool host_overlap;
  /* A step's tokens are processed, and reach the client, during the next step (vLLM 0.6's
   * asynchronous output processor): serving shows a first token when the next iteration ends. */
  bool output_lag;
  hw_kv_rule kv_rule;
  double kv_fraction[HW_ENGINE_TP_STEPS];
  uint32_t max_num_seqs, max_num_batched_tokens; /* 0: vLLM's per-device rule */
  bool chunked_prefill, prefix_caching;
  /* Admission (`admission` column): the scheduler admits a request only when the KV of its prompt
   * and all its outputs is free, and never preempts (TensorRT-LLM's GUARANTEED_NO_EVICT); false:
   * on its prompt, preempting when decodes outgrow the cache (vLLM, SGLang). */
  bool reserve_full_kv;
  char source[64]; /* IDs of hw/data/SOURCES.md, "Engines" */
} hw_engine;

/* The profile of engine `name` (case and punctuation ignored) whose version starts with `version`
 * ("" or NULL: any) and whose mode matches cuda_graphs and async_scheduling (-1: any); the first
 * such row of engines.csv, which lists an engine's default mode first. Returns 0, or -1 with a
 * message that lists what exists. */
int hw_engine_find(const char *name, const char *version, int cuda_graphs, int async_scheduling,
                   hw_engine *out, char *err, size_t err_len);

/* The engine's default KV memory fraction for tensor-parallel size tp. */
double hw_engine_kv_fraction(const hw_engine *e, uint32_t tp);

/* Applies the profile's host work and KV rule to a deployment's configuration (the scheduler
 * limits are the caller's). */
void hw_engine_apply(const hw_engine *e, hw_deploy_config *cfg);

#endif
