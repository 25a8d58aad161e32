/* The serving timeline's tables: row structs and their HDF5 field lists, shared by the writer
 * (jobs/serving.c) and the readers (io/report.c, h5py). Documented in io/TIMELINE.md. */
#ifndef IO_SCHEMA_H
#define IO_SCHEMA_H

#include <stdint.h>

#include "io/timeline.h"

#define IO_SCHEMA_NAME "windtunnel.timeline"
#define IO_SCHEMA_VERSION 1

typedef enum io_fate { IO_FATE_COMPLETED = 0, IO_FATE_UNFINISHED = 1 } io_fate;

/* /requests: one row per request of the workload, keyed by id. Times are ns from the start of the
 * run; -1 where the request never got there. */
typedef struct io_request_row {
  int64_t id;
  int64_t arrival_ns;         /* at the router */
  int64_t dispatch_ns;        /* at the instance (arrival + dispatch latency) */
  int64_t first_scheduled_ns; /* first admitted into a batch */
  int64_t first_token_ns;
  int64_t done_ns;
  int32_t input_tokens, output_tokens;
  int32_t instance; /* -1: never reached one */
  uint32_t preemptions;
  uint32_t prefix_hit_tokens;
  uint32_t fate; /* io_fate */
} io_request_row;

/* /iterations: one row per instance iteration, keyed by (instance, index). 48 bytes: there are
 * millions of them, and their bytes set the cost of writing the timeline. */
typedef struct io_iteration_row {
  uint32_t instance;
  uint32_t prefill_seqs;
  uint64_t index;
  int64_t start_ns, end_ns;
  uint32_t prefill_tokens, decode_seqs, kv_blocks_used;
  uint32_t decode_ctx_tokens; /* at most the instance's KV capacity in tokens: fits 32 bits */
} io_iteration_row;
_Static_assert(sizeof(io_iteration_row) == 48, "iteration rows stay 48 bytes");

/* /instances: one row per instance, keyed by instance. */
typedef struct io_instance_row {
  uint32_t instance;
  uint32_t tp, pp;
  uint32_t role; /* io_role */
  char deployment[64], model[64], accelerator[64];
  uint64_t kv_blocks_total, kv_blocks_peak;
  uint64_t iterations, completed, preemptions;
  int64_t busy_ns;
  double kv_block_ns; /* integral of KV blocks in use over time, block x ns */
} io_instance_row;

/* /engine: one row per partition, keyed by (rank, thread). */
typedef struct io_engine_row {
  uint32_t rank, thread;
  uint64_t events, windows, sent_thread, sent_rank, received_remote, pending_peak;
  double process_s, sync_s;
} io_engine_row;

extern const io_table_def io_requests_table, io_iterations_table, io_instances_table,
    io_engine_table;

#endif
