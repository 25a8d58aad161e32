/* The serving timeline's tables: row structs and their HDF5 field lists, shared by the writer
 * (serving/serving.c) and the readers (serving/report.c, h5py). Documented in serving/TIMELINE.md.
 */
#ifndef SRV_SCHEMA_H
#define SRV_SCHEMA_H

#include <stdint.h>

#include "io/timeline.h"

#define SRV_SCHEMA_NAME "windtunnel.timeline"
#define SRV_SCHEMA_VERSION 9

typedef enum srv_fate { SRV_FATE_COMPLETED = 0, SRV_FATE_UNFINISHED = 1 } srv_fate;

/* /requests: one row per request of the workload, keyed by id. Times are ns from the start of the
 * run; -1 where the request never got there. */
typedef struct srv_request_row {
  int64_t id;
  int64_t arrival_ns;         /* at the router */
  int64_t dispatch_ns;        /* at the instance (arrival + dispatch latency) */
  int64_t first_scheduled_ns; /* first admitted into a batch */
  int64_t first_token_ns;
  int64_t done_ns;
  int32_t input_tokens, output_tokens;
  int32_t instance;        /* the one that computed its prompt; -1: never reached one */
  int32_t decode_instance; /* disaggregated: the one it decoded on (-1: none yet, or colocated) */
  uint32_t preemptions;
  uint32_t prefix_hit_tokens;        /* found in the prefix cache instead of computed */
  uint32_t fate;                     /* srv_fate */
  uint32_t decode_prefix_hit_tokens; /* disaggregated: cached at the decode side, not shipped */
  uint32_t swaps;                    /* preemptions that swapped its KV to the node's KV tier */
  uint32_t tier_hit_tokens;          /* of prefix_hit_tokens, those loaded from the KV tier */
  int32_t priority;                  /* from the workload (jobs/trace.h job_request_attrs) */
  uint32_t service_tier;             /* job_tier: 0 interactive, 1 batch */
  double energy_j;                   /* its share of the iterations it was in, by tokens computed */
  int64_t
      deadline_ns; /* batch: absolute time it should be done by (arrival + deadline); -1: none */
} srv_request_row;
/* Rows are written whole: padding bytes would carry garbage into the file. */
_Static_assert(sizeof(srv_request_row) == 6 * 8 + 12 * 4 + 8 + 8, "request rows have no padding");

/* /iterations: one row per instance iteration, keyed by (instance, index). 48 bytes: there are
 * millions of them, and their bytes set the cost of writing the timeline. */
typedef struct srv_iteration_row {
  uint32_t instance;
  uint32_t prefill_seqs;
  uint64_t index;
  int64_t start_ns, end_ns;
  uint32_t prefill_tokens, decode_seqs, kv_blocks_used;
  uint32_t decode_ctx_tokens; /* at most the instance's KV capacity in tokens: fits 32 bits */
} srv_iteration_row;
_Static_assert(sizeof(srv_iteration_row) == 48, "iteration rows stay 48 bytes");

/* /instance_intervals (output.iterations: aggregated): per instance and interval of
 * output.interval in which it ran, sums over its iterations, keyed by (instance, start_ns). Counts
 * go to the interval where an iteration ends; busy and KV time to each interval it overlaps. */
typedef struct srv_interval_row {
  uint32_t instance;
  uint32_t kv_blocks_peak; /* the most KV blocks in use after scheduling an iteration ending here */
  int64_t start_ns;        /* the interval [start_ns, start_ns + output.interval) */
  uint64_t iterations;     /* ending in it */
  uint64_t prefill_tokens; /* computed by them */
  uint64_t decode_seqs;    /* decodes (one token each) in them */
  uint64_t seqs;           /* their batch sizes summed: seqs / iterations is the mean batch */
  int64_t busy_ns;         /* of the interval, with an iteration running */
  double kv_block_ns;      /* KV blocks in use x ns, inside the interval */
} srv_interval_row;
_Static_assert(sizeof(srv_interval_row) == 64, "interval rows have no padding");

/* /instances: one row per instance, keyed by instance. */
typedef struct srv_instance_row {
  uint32_t instance;
  uint32_t tp, pp;
  uint32_t role; /* srv_role */
  int32_t pod;   /* its routing pod (router.pods); -1: one router for every instance */
  uint32_t rack; /* its first accelerator's node's */
  uint32_t node; /* its first accelerator's */
  uint32_t
      nodes; /* the nodes its accelerators lie in (more than 1 when pipeline stages span nodes) */
  char deployment[64], model[64], accelerator[64];
  uint64_t kv_blocks_total, kv_blocks_peak;
  uint64_t iterations, completed, preemptions;
  int64_t busy_ns;
  double kv_block_ns; /* integral of KV blocks in use over time, block x ns */
  double energy_j;    /* its accelerators' board energy over the whole run, idle time included */
  /* Prefix cache over every admission: prompt (and resumed) tokens looked up, hit (HBM or tier),
   * and hit in the KV tier. */
  uint64_t prefix_query_tokens, prefix_hit_tokens, tier_hit_tokens;
  /* KV tier: requests swapped out and back in, bytes loaded and stored (swaps and spilled prefix
   * blocks), and the time its iterations spent on those copies (within busy_ns). */
  uint64_t swaps_out, swaps_in, tier_load_bytes, tier_store_bytes;
  int64_t tier_ns;
  /* Its lifecycle up to the end of the run (all serving without deployments.N.scaling): time in
   * each state (srv_lc_state order) and, of serving_ns, the time it was iterating. GPU-hours:
   * used = serving_busy_ns, idle = serving_ns - serving_busy_ns, wasted = provisioning, loading,
   * warm and draining; each times accelerators. */
  int64_t off_ns, provisioning_ns, loading_ns, warm_ns, serving_ns, draining_ns;
  int64_t serving_busy_ns;
  uint32_t accelerators, pad;
} srv_instance_row;
_Static_assert(sizeof(srv_instance_row) == 8 * 4 + 3 * 64 + 8 * 8 + 8 * 8 + 7 * 8 + 8,
               "instance rows have no padding");

/* An instance's lifecycle state (deployments.N.scaling), and why it changed. */
typedef enum srv_lc_state {
  SRV_LC_OFF,
  SRV_LC_PROVISIONING, /* acquiring its node */
  SRV_LC_LOADING,      /* reading its weights */
  SRV_LC_WARM,         /* loaded, not serving: the warm pool */
  SRV_LC_SERVING,
  SRV_LC_DRAINING, /* finishing its requests, accepting none */
  SRV_LC_STATES
} srv_lc_state;

typedef enum srv_lc_reason {
  SRV_LC_INITIAL,     /* its state at t=0 */
  SRV_LC_SCALE_UP,    /* the controller asked for it to serve */
  SRV_LC_SCALE_DOWN,  /* the controller asked for fewer */
  SRV_LC_WARM_POOL,   /* the controller refills the warm pool */
  SRV_LC_PROVISIONED, /* its node is ready */
  SRV_LC_LOADED,      /* its weights are in */
  SRV_LC_DRAINED,     /* its last request left */
  SRV_LC_INTERRUPTED, /* spot: the notice began (to draining), or ended (to off) */
} srv_lc_reason;

/* /lifecycle (scenarios with deployments.N.scaling only): one row per state change of an
 * instance, keyed by (instance, time_ns, seq); at t=0 a row for each instance that starts serving
 * or warm (from off, reason initial). */
typedef struct srv_lifecycle_row {
  int64_t time_ns;
  uint32_t instance;
  uint32_t seq;          /* the instance's change count: orders changes at one time */
  uint32_t from, to;     /* srv_lc_state */
  uint32_t reason;       /* srv_lc_reason */
  uint32_t accelerators; /* the instance's */
} srv_lifecycle_row;
_Static_assert(sizeof(srv_lifecycle_row) == 8 + 6 * 4, "lifecycle rows have no padding");

/* /kv_tiers: one row per node with a KV tier, keyed by node. */
typedef struct srv_kv_tier_row {
  uint32_t node;
  uint32_t kind; /* srv_kv_tier_kind: 1 host_dram, 2 cxl */
  double capacity_bytes, bytes_per_s;
  int64_t latency_ns;
  uint64_t peak_bytes;     /* most held at once: cached prefix blocks plus swapped-out KV */
  uint64_t stored_blocks;  /* prefix blocks written (spilled from HBM) */
  uint64_t evicted_blocks; /* prefix blocks dropped for room, LRU first */
  uint64_t hit_blocks;     /* prefix blocks loaded back by a hit */
} srv_kv_tier_row;
_Static_assert(sizeof(srv_kv_tier_row) == 8 + 8 * 7, "KV tier rows have no padding");

/* /transfers: one row per KV-cache transfer from a prefill to a decode instance, keyed by id (the
 * request's). The KV waits on the prefill side from ready_ns until the decode instance has room
 * (back-pressure), then moves from start_ns to end_ns over the network. */
typedef struct srv_transfer_row {
  int64_t id;
  uint32_t prefill_instance, decode_instance;
  uint64_t bytes; /* what the decode side lacked: the prompt minus its own prefix-cache hits */
  uint32_t flows; /* parallel flows, one per accelerator pair */
  uint32_t pad;
  int64_t ready_ns; /* the prompt's KV complete on the prefill side (its first token) */
  int64_t start_ns; /* the first chunk enters the network */
  int64_t end_ns;   /* the last byte at the decode instance */
} srv_transfer_row;

/* /nodes: one row per node, keyed by node. */
typedef struct srv_node_row {
  uint32_t node, rack;
  uint32_t accelerators, busy_accelerators; /* busy: some instance runs on it */
  char group[64];                           /* the scenario's node type */
  double host_w;     /* idle host (CPUs, memory, NICs, fans): always drawn; hw/host.h */
  double idle_w;     /* each accelerator's idle board power */
  double energy_j;   /* the node's IT energy over the whole run */
  double host_cpu_j; /* of energy_j: what the host's CPUs drew above idle for host work */
} srv_node_row;

/* /power: one row per node and interval, keyed by (node, start_ns): the node's exact energy in
 * [start_ns, end_ns) (accelerators and host, not PUE), and its average power. Energy integrates
 * the piecewise-constant power exactly, so the rows sum to the nodes' energy. */
typedef struct srv_power_row {
  uint32_t node, rack;
  int64_t start_ns, end_ns;
  double energy_j, avg_w;
} srv_power_row;

/* /links: one row per network link, keyed by link. */
typedef struct srv_link_row {
  uint32_t link, kind; /* net_link_kind */
  char name[48];
  double bytes_per_s;
  int64_t latency_ns;
  uint64_t bytes, chunks;
  int64_t busy_ns;
} srv_link_row;

/* /link_utilisation: one row per link and interval in which it carried anything, keyed by (link,
 * start_ns): the share of the interval it was busy. */
typedef struct srv_link_util_row {
  uint32_t link, pad;
  int64_t start_ns, busy_ns;
  double utilisation;
} srv_link_util_row;

/* /engine: one row per partition, keyed by (rank, thread). */
typedef struct srv_engine_row {
  uint32_t rank, thread;
  uint64_t events, windows, sent_thread, sent_rank, received_remote, pending_peak;
  double process_s, sync_s;
} srv_engine_row;

extern const io_table_def srv_requests_table, srv_iterations_table, srv_instances_table,
    srv_engine_table, srv_transfers_table, srv_nodes_table, srv_power_table, srv_links_table,
    srv_link_util_table, srv_kv_tiers_table, srv_intervals_table, srv_lifecycle_table;

/* Sorts rows[0..n) of one of the tables above by its key (as each row type's comment names it):
 * the order in which a table's rows are the same whatever rank or thread wrote which. */
void srv_sort_rows(const io_table_def *def, void *rows, uint64_t n);

#endif
