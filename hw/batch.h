/* What one iteration of a model instance computes, summarised for pricing in O(1) whatever the
 * batch: the scheduler (jobs/) fills it, the cost model (hw/) prices it. */
#ifndef HW_BATCH_H
#define HW_BATCH_H

#include <stdint.h>

typedef struct hw_batch {
  uint32_t prefill_seqs;   /* sequences computing prompt tokens this iteration (whole or a chunk) */
  uint32_t prefill_tokens; /* prompt tokens computed this iteration, all chunks together */
  /* Causal attention work of the prefill chunks: for a chunk of c tokens after p cached tokens,
   * c * p + c * (c + 1) / 2 (query, key) pairs, summed over chunks. */
  uint64_t prefill_attn_pairs;
  uint64_t prefill_ctx_tokens; /* KV tokens the prefill chunks attend to: sum of p + c */
  uint32_t decode_seqs;        /* sequences generating one token each */
  uint64_t decode_ctx_tokens;  /* KV tokens those sequences read: sum of their context lengths */
} hw_batch;

#endif
