/* What the scheduler's unit tests share (test_sched.c, test_sched_memory.c): a driver that runs
 * job_sched and follows every request independently, checking each batch against the budget, the
 * tracks, hw/batch.h's definitions and job_sched_steady's promise, and every call against the
 * scheduler's invariants. Defined in sched_helpers.c. */
#ifndef TESTS_JOBS_SCHED_HELPERS_H
#define TESTS_JOBS_SCHED_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "jobs/sched.h"

typedef struct track {
  uint64_t id;
  uint32_t prompt, output;
  uint32_t computed, generated;                /* as the test understands them */
  int started_at, first_token_at, finished_at; /* iteration numbers, 0 = not yet */
  uint32_t preemptions, hit_blocks;
  uint32_t swaps, tier_hit_blocks;
  bool added;
} track;

typedef struct driver {
  job_sched_config cfg;
  job_sched *s;
  track *tracks; /* by request id */
  uint32_t num_tracks;
  int iteration; /* number of the last step that formed a batch */
  job_sched_batch batch;
  uint64_t preempted_events;
  /* job_sched_steady's promise, while no request is added: iterations [first, first + k) run the
   * same requests one decode each (ids), the j-th with (j - 1) * decode_seqs more context than hw.
   */
  uint32_t steady_k;
  int steady_first;
  hw_batch steady_hw;
  uint64_t *steady_ids;
  uint64_t steady_checked; /* iterations checked against a promise, past its first */
} driver;

/* Field by field: hw_batch has padding, which memcmp would compare. */
bool hw_equal(const hw_batch *a, const hw_batch *b);

/* A scheduler for cfg (blocks of 16 tokens when cfg leaves them 0) and room for num_tracks
 * requests, ids 0 to num_tracks - 1. */
void driver_init(driver *d, job_sched_config cfg, uint32_t num_tracks);
void driver_free(driver *d);

void add_full(driver *d, uint64_t id, uint32_t prompt, uint32_t output, int32_t priority,
              int64_t arrival_ns, const uint64_t *hashes, uint32_t num_hashes);
/* Priority 0, arrival id, no block hashes. */
void add(driver *d, uint64_t id, uint32_t prompt, uint32_t output);

/* One step: checks the batch against the budget, the tracks and hw/batch.h's definitions. Returns
 * the number of sequences. */
uint32_t step(driver *d);
/* Finishes the open iteration at d->iteration * 10 ns, checking its events against the tracks. */
void finish(driver *d);
uint32_t step_finish(driver *d);
/* Runs until nothing is left; returns the number of iterations. */
int run_all(driver *d);

/* The (id, tokens, context) of sequence k of the last batch. */
bool seq_is(const driver *d, uint32_t k, uint64_t id, uint32_t tokens, uint32_t context);

/* FCFS with chunked prefill: a budget of tokens, seats, blocks of `block` tokens and `blocks`. */
job_sched_config config(uint32_t budget, uint32_t seqs, uint32_t block, uint32_t blocks);

#endif
