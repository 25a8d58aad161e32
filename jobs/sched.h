/* The continuous-batching scheduler of one model instance, as vLLM's v1 scheduler works: a token
 * budget per iteration, chunked prefill mixed with decodes, paged KV blocks with prefix caching,
 * preemption by recompute. Engine-independent: an instance LP drives it, hw/ prices its batches.
 *
 * Where it differs from vLLM (v1 scheduler.py, kv_cache_manager.py, block_pool.py), and why:
 * - Prompt blocks are identified by the caller's hashes (a trace has no token ids). Blocks past
 *   them (the rest of the prompt, the outputs) get a hash of (request id, index): only the request
 *   itself hits them, after a preemption, as vLLM's content hashes would in practice.
 * - A block whose hash is already cached is not registered again; vLLM keeps the duplicate but
 *   only ever hits the first one, so hits are the same.
 * - A pass that schedules nothing because it only preempted is rerun at once; vLLM runs an empty
 *   step, which executes no model.
 * - Requests that could never run are refused by job_sched_add (more KV blocks than exist; with
 *   chunked prefill off, more tokens than the budget), where vLLM checks max_model_len at start.
 * - Disaggregated prefill/decode follows vLLM's NIXL connector (pull model), with these changes:
 *   a remote_kv request arrives with its first output token already sampled by the prefill side,
 *   so after job_sched_kv_arrived it decodes from context prompt_tokens and needs output_tokens - 1
 *   steps; vLLM's decode side instead sets num_computed = prompt - 1 and recomputes the last prompt
 *   token to sample the first token again. So that, as in vLLM, a request whose KV arrived needs
 *   no new block to start (else such requests holding every block would deadlock: none of them
 *   runs, so nothing frees), its allocation also holds the first output token's slot: blocks for
 *   prompt_tokens + 1 tokens, one more than vLLM when the prompt ends on a block boundary. A
 *   remote_kv request with one output token has nothing to decode: job_sched_add refuses it.
 * - A request whose KV arrived rejoins the waiting queue at its front (FCFS) or by its priority;
 *   vLLM keeps WAITING_FOR_REMOTE_KVS requests near the front by prepending them every step, in an
 *   order that flips from step to step.
 * - Held KV (hold_kv) stays until job_sched_release; NIXL's abort timeout is the caller's to model.
 * - With a KV tier (cfg.tier, jobs/kvcache_tier.h: host DRAM or CXL memory shared by the node's
 *   instances), two things change, as vLLM's v0 swap mode and its KV-offloading connectors (and
 *   LMCache) do them:
 *   - Preemption swaps: the victim's computed KV (its blocks for computed_tokens) goes to the tier
 *     when the tier can pin it, and the request keeps its progress; when it is admitted again its
 *     blocks come back (less those its prefix still hits in HBM) and it continues where it was.
 *     When the tier cannot pin it, it recomputes as without a tier. vLLM v1 only recomputes; v0
 *     chose swap for multi-sequence groups and recompute otherwise; here swap whenever it fits.
 *   - Prefix blocks evicted from HBM spill to the tier (write-back at eviction; LRU within the
 *     tier), and a waiting request's prefix lookup continues in the tier past its HBM hits: blocks
 *     found there are loaded instead of computed. Only first admissions and recompute resumptions
 *     look in the tier; a remote_kv request's allocation and job_sched_prefix_hit_blocks look in
 *     HBM only.
 *   The scheduler only counts the bytes each iteration loads from and stores to the tier
 *   (job_sched_batch); the caller prices them. Without a tier nothing here changes.
 * - cfg.admission JOB_SCHED_RESERVE_FULL replaces vLLM's admission with TensorRT-LLM's
 *   GUARANTEED_NO_EVICT capacity scheduler (capacityScheduler.cpp; hw/data/SOURCES.md, E13); the
 *   rest (budget, chunking, order, prefix cache) stays vLLM's.
 * - Not modelled: async scheduling, speculative decoding, the admission watermark, encoder inputs,
 *   LoRA limits. */
#ifndef JOBS_SCHED_H
#define JOBS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pack.h"
#include "hw/batch.h"
#include "jobs/kvcache_tier.h"

typedef struct job_sched job_sched;

typedef enum job_sched_policy {
  JOB_SCHED_FCFS,     /* waiting in arrival order; preempt the last running request */
  JOB_SCHED_PRIORITY, /* waiting by (priority, arrival); preempt the largest (priority, arrival) */
} job_sched_policy;

/* When a waiting request may start, and what happens when the running ones outgrow the KV cache. */
typedef enum job_sched_admission {
  /* vLLM: admit when the blocks of the tokens it computes now are free; a running request that
   * needs a block when none is left preempts a victim (recompute, or swap with a tier). */
  JOB_SCHED_ADMIT_ON_PROMPT,
  /* TensorRT-LLM's GUARANTEED_NO_EVICT capacity scheduler (its default): admit only when the
   * blocks of its whole prompt + output_tokens are free after the blocks every running request
   * still needs to finish; blocks are still taken as tokens arrive, but a running request always
   * finds them, so nothing is ever preempted. output_tokens stands for the request's max_tokens
   * (benchmarks set them equal). */
  JOB_SCHED_RESERVE_FULL,
} job_sched_admission;

typedef struct job_sched_config {
  uint32_t max_num_batched_tokens; /* token budget of one iteration */
  uint32_t max_num_seqs;           /* most requests running at once */
  uint32_t block_size_tokens;      /* tokens per KV block; 0 means vLLM's 16 */
  uint32_t total_kv_blocks;        /* KV memory left after weights and activations, in blocks */
  uint32_t long_prefill_tokens;    /* most tokens one prefill computes per iteration; 0: no limit */
  job_sched_policy policy;
  job_sched_admission admission;
  bool chunked_prefill; /* off: a request's whole prompt must fit one iteration's budget */
  bool prefix_caching;
  /* A KV tier below HBM, shared with the other instances of a node; NULL: none. Caller-owned; it
   * must outlive the scheduler. */
  job_kv_tier *tier;
  uint32_t tier_space;  /* the tier's key space of these blocks: one per model and block shape */
  uint64_t block_bytes; /* KV bytes of one block of this instance, all devices; > 0 with a tier */
} job_sched_config;

typedef struct job_sched_request {
  uint64_t id;
  int64_t arrival_ns; /* orders requests of equal priority */
  uint32_t prompt_tokens;
  uint32_t output_tokens; /* tokens to generate, at least 1 */
  int32_t priority;       /* lower runs earlier, under JOB_SCHED_PRIORITY */
  /* One hash per full block_size_tokens block of the prompt, chained (equal hash i means equal
   * blocks 0..i), as Mooncake's hash_ids; NULL when unknown. Caller-owned, read until FINISHED. */
  const uint64_t *block_hashes;
  uint32_t num_block_hashes;
  void *user; /* the caller's, handed back in every job_sched_seq and job_sched_event */
  /* Prefill side of disaggregated serving: once FINISHED, its KV blocks stay allocated (used, not
   * evictable, though other requests may hit its prompt blocks as in vLLM) until
   * job_sched_release, when they are freed as any finished request's. */
  bool hold_kv;
  /* Decode side (vLLM's WAITING_FOR_REMOTE_KVS): its prompt was computed elsewhere and its first
   * output token sampled there; output_tokens (at least 2) counts that token. It waits in the
   * queue as any request; at the head, once blocks allow, a step allocates blocks for its prompt
   * after local prefix hits (and the first output token's slot) and emits KV_ALLOCATED (as in
   * vLLM, only while the step has budget and a seat left, though it takes neither); it then
   * waits for KV, holding them, never scheduled nor preempted, until job_sched_kv_arrived. From
   * then it decodes; preempted, it recomputes locally like any request. */
  bool remote_kv;
} job_sched_request;

/* One request's share of an iteration: `tokens` computed after `context_tokens` already in KV. */
typedef struct job_sched_seq {
  uint64_t id;
  void *user;
  uint32_t tokens;
  uint32_t context_tokens;
  bool prefill; /* false: a decode (one token after the whole prompt) */
} job_sched_seq;

typedef enum job_sched_event_kind {
  JOB_SCHED_STARTED,     /* job_sched_step admitted the request for the first time */
  JOB_SCHED_PREEMPTED,   /* job_sched_step freed its KV; it waits again and will recompute */
  JOB_SCHED_FIRST_TOKEN, /* job_sched_finish: its prompt completed and emitted the first token */
  JOB_SCHED_FINISHED,    /* job_sched_finish: all output tokens done; KV freed (or held, with
                            hold_kv, until job_sched_release), request gone */
  /* job_sched_step gave a remote_kv request its blocks; prefix_hit_tokens of its prompt were
   * cached here, the rest is to be shipped. It waits for job_sched_kv_arrived; STARTED comes when
   * it first runs, and no FIRST_TOKEN (the prefill side sampled it). */
  JOB_SCHED_KV_ALLOCATED,
} job_sched_event_kind;

typedef struct job_sched_event {
  job_sched_event_kind kind;
  uint64_t id;
  void *user;
  int64_t time_ns;            /* the step's now_ns, or the finished iteration's end_ns */
  uint32_t preemptions;       /* of this request so far */
  uint32_t prefix_hit_blocks; /* prefix-cache hits at its first admission (or allocation), */
  uint32_t prefix_hit_tokens; /* ... which it did not compute, */
  uint32_t tier_hit_tokens;   /* ... of which the KV tier held these (loaded, not computed) */
  uint32_t swaps;             /* of this request so far: preemptions that swapped to the tier */
  bool swapped;               /* PREEMPTED: its KV went to the tier (else it will recompute) */
} job_sched_event;

/* An iteration. The arrays are the scheduler's: seqs valid until the next job_sched_step, events
 * until the next call. */
typedef struct job_sched_batch {
  hw_batch hw; /* the aggregates of seqs, filled as hw/batch.h defines */
  const job_sched_seq *seqs;
  /* 0 when nothing could run: no request waits or runs, or the waiting ones need blocks that held
   * and waiting-for-KV requests occupy (step again after job_sched_release or _kv_arrived). */
  uint32_t num_seqs;
  const job_sched_event *events; /* STARTED, PREEMPTED and KV_ALLOCATED, in the order they
                                    happened; there may be some when num_seqs is 0 */
  uint32_t num_events;
  uint32_t kv_blocks_used; /* after scheduling this iteration */
  /* KV tier traffic this iteration needs before its forward pass: loads (swap-ins, tier prefix
   * hits) and stores (swap-outs, blocks spilled from the prefix cache). 0 without a tier. */
  uint64_t tier_load_bytes, tier_store_bytes;
  uint32_t swapped_out, swapped_in, tier_hit_blocks; /* requests; prefix blocks loaded */
} job_sched_batch;

typedef struct job_sched_stats {
  uint32_t running, waiting; /* waiting: in the queue, remote_kv requests whose KV arrived too */
  uint32_t held;             /* finished hold_kv requests not yet released */
  uint32_t waiting_for_kv;   /* remote_kv requests given blocks, before job_sched_kv_arrived */
  uint32_t kv_blocks_total, kv_blocks_used, kv_blocks_free, kv_blocks_cached;
  /* Blocks that held requests reference, each once, within kv_blocks_used (whether or not other
   * requests share them). */
  uint32_t kv_blocks_held;
  uint64_t iterations, preemptions, finished;
  /* Over every admission (resumptions too), as vLLM's prefix-cache stats: tokens looked up and hit.
   */
  uint64_t prefix_query_tokens, prefix_hit_tokens, prefix_hit_blocks;
  /* KV tier: prefix tokens hit there (within prefix_hit_tokens), swaps, bytes moved, blocks
   * spilled; swapped: requests waiting with their KV in the tier now. */
  uint64_t tier_hit_tokens, swaps_out, swaps_in, tier_load_bytes, tier_store_bytes, spilled_blocks;
  uint32_t swapped;
} job_sched_stats;

/* Returns 0, or -1 with a message in err for an impossible configuration or no memory. */
int job_sched_create(job_sched **out, const job_sched_config *cfg, char *err, size_t err_len);
void job_sched_destroy(job_sched *s);

/* Queues a request; it waits for the next job_sched_step. Returns 0, or -1 with a message when it
 * could never run here (it needs more KV blocks than exist, or with chunked prefill off more tokens
 * than one iteration's budget), is a remote_kv request with fewer than 2 output tokens, or memory
 * runs out. Ids of hold_kv and remote_kv requests should be unique among live requests: the two
 * calls below find requests by id. */
int job_sched_add(job_sched *s, const job_sched_request *req, char *err, size_t err_len);

/* Forms the next iteration at now_ns. When out->num_seqs > 0 an iteration is open and
 * job_sched_finish must close it before the next step; requests may be added meanwhile. */
void job_sched_step(job_sched *s, int64_t now_ns, job_sched_batch *out);

/* Closes the open iteration at end_ns: computed tokens advance, completed prompts emit their first
 * token, decodes one token each, done requests leave. Returns the number of FIRST_TOKEN and
 * FINISHED events, stored in *events until the next call. */
uint32_t job_sched_finish(job_sched *s, int64_t end_ns, const job_sched_event **events);

/* Leaps: how many iterations, the open one first, are sure to run the same requests, one decode
 * each, if nothing but job_sched_finish and job_sched_step is called meanwhile: none admitted (no
 * request waits), none finished before the last of them, none preempted (their new blocks are
 * there; with a tier, without evicting a cached block, so that no iteration but the first moves KV
 * to or from it). Iteration j (1 the open one) then has the open one's hw with (j - 1) *
 * decode_seqs more decode_ctx_tokens. At least 1 (while an iteration is open), at most max. */
uint32_t job_sched_steady(const job_sched *s, uint32_t max);

/* n (at least 1) times job_sched_finish then job_sched_step, while job_sched_steady promises more
 * than n iterations from the open one and nothing else is called: every request decodes n tokens
 * more and takes and fills its blocks when the steps would (in the same order), and the open
 * iteration is the n-th after this one, with no events. kv_blocks_used[j] gets the blocks in use
 * when the (j + 1)-th of those steps formed its batch. */
void job_sched_leap(job_sched *s, uint32_t n, uint32_t *kv_blocks_used);

/* Frees the KV of a finished hold_kv request (its KV has been shipped): its blocks become free or
 * cached as any finished request's. Any time, an iteration open or not. Returns 0, or -1 when no
 * finished request with this id holds KV. */
int job_sched_release(job_sched *s, uint64_t id);

/* The KV of a remote_kv request that got KV_ALLOCATED has arrived: its blocks enter the prefix
 * cache and it waits again, at the front of the queue (FCFS), to decode its output_tokens - 1
 * tokens from context prompt_tokens. Any time, an iteration open or not. Returns 0, or -1 when no
 * request with this id waits for KV. */
int job_sched_kv_arrived(job_sched *s, uint64_t id);

void job_sched_stats_get(const job_sched *s, job_sched_stats *out);

/* How many leading blocks of `block_hashes` this instance holds in its prefix cache (for
 * prefix-aware routing). Changes nothing. */
uint32_t job_sched_prefix_hit_blocks(const job_sched *s, const uint64_t *block_hashes,
                                     uint32_t num_block_hashes);

/* The open iteration as job_sched_step returned it, but without its events (handled by then);
 * num_seqs 0 when none is open. After job_sched_load, for the caller to read its seqs again. */
void job_sched_open_batch(const job_sched *s, job_sched_batch *out);

/* Checkpoints: the requests (their KV block tables as far as used), the queues, the open iteration,
 * the KV cache's used blocks and the counters; not the last call's events, nor the tier (shared by
 * the node's instances: job_kv_tier_save), whose pinned bytes must include this scheduler's.
 * s: made by job_sched_create with the same config (and tier, loaded already) as the saved one,
 * still empty. Caller-owned pointers of each live request are not saved: resolve(ctx, id, &hashes)
 * returns the request's user pointer and its block hashes (as many as it had), NULL to fail.
 * Returns 0, or -1 for data that does not fit s or is inconsistent (s is then only fit for
 * job_sched_destroy). */
int job_sched_save(const job_sched *s, core_pack *out);
int job_sched_load(job_sched *s, core_unpack *in,
                   void *(*resolve)(void *ctx, uint64_t id, const uint64_t **block_hashes),
                   void *ctx);

/* Checks every invariant in O(requests + blocks), between calls. Returns 0, or -1 with the first
 * violation in err. For tests. */
int job_sched_check(const job_sched *s, char *err, size_t err_len);

#endif
