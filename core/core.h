/* The parallel discrete-event engine: logical processes (LPs) exchanging timestamped events, split
 * over MPI ranks and OpenMP threads, advanced in conservative lookahead windows. Knows nothing
 * about LLMs. */
#ifndef CORE_H
#define CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mpi.h>
#include <signal.h>

#include "event.h"
#include "pack.h"
#include "rng.h"

#define CORE_TIME_NEVER INT64_MAX
#define CORE_LP_NONE UINT32_MAX

typedef struct core_lp core_lp;
typedef struct core_partition core_partition;
typedef struct core_engine core_engine;

/* What an LP does: a small table of functions, as ROSS's LP types are. Handlers return 0, or the
 * negative code of core_fail(). `model` is the LP's kind's model (core_lp_kind). */
typedef struct core_lp_type {
  const char *name;
  size_t state_bytes; /* the engine gives each LP this much zeroed state (lp->state); 0: none */
  /* Optional, once per LP on its owning thread, before any init: set up lp->state (lp->index is
   * the LP's index among its kind). Returns 0 or negative. */
  int (*create)(core_lp *lp, void *model);
  int (*init)(core_lp *lp, void *model); /* optional, at time 0: schedule first events */
  int (*handle)(core_lp *lp, const core_event *ev, void *model); /* one event, in key order */
  int (*finish)(core_lp *lp, void *model);   /* optional, after the last window */
  void (*destroy)(core_lp *lp, void *model); /* optional: free what create put in lp->state */
  /* Checkpoints (optional, but a run with a checkpoint needs them on every LP type it has): save
   * packs the LP's state; load restores it, on a restart, into the state create made, in place of
   * init. The engine saves and restores the LP's clock, send counter and random stream itself.
   * Return 0 or negative. */
  int (*save)(const core_lp *lp, void *model, core_pack *out);
  int (*load)(core_lp *lp, void *model, core_unpack *in);
} core_lp_type;

/* One kind of LP of a model: its type, how many LPs it has, and the `model` its functions get.
 *
 * A replicated kind's LPs run a copy on every partition, each handling the same events in the same
 * order: a replicated LP hears only from itself (any other sender fails the run), so its copies
 * stay equal, and each copy delivers only its sends to LPs of its own partition, so every event it
 * sends reaches its receiver once, with the key one LP would give it, and no channel between
 * partitions is needed. Only the copy on the partition lp_partition names (its home) counts: it is
 * the one that finishes, is listed among the local LPs, checkpointed and counted in the
 * statistics; the others are created, initialised, handle their events and are destroyed (a
 * handler that writes output does so only where core_lp_home). Results are those of one LP, at any
 * partition count. This is how a model's front end that reads its input and decides without
 * feedback (a router replaying a trace with an oblivious policy) runs beside every partition. */
typedef struct core_lp_kind {
  const core_lp_type *type;
  uint32_t count;
  void *model;
  bool replicated;
} core_lp_kind;

enum { CORE_MAX_KINDS = 16 };

/* A model's LP kinds in a table: kinds take consecutive LP ids in table order, so a model never
 * numbers LPs by hand, and a new kind is one more row. */
typedef struct core_lp_map {
  core_lp_kind kinds[CORE_MAX_KINDS];
  uint32_t first[CORE_MAX_KINDS + 1]; /* first[k]: kind k's first id; first[count]: all LPs */
  size_t count;
} core_lp_map;

/* Copies the table of `count` kinds (count <= CORE_MAX_KINDS). Returns 0, or -1 when there are too
 * many kinds or more than 2^32 - 1 LPs. */
int core_lp_map_init(core_lp_map *map, const core_lp_kind *kinds, size_t count);
static inline uint32_t core_lp_map_id(const core_lp_map *map, size_t kind, uint32_t index) {
  return map->first[kind] + index;
}
static inline uint32_t core_lp_map_lps(const core_lp_map *map) { return map->first[map->count]; }
/* The kind of LP id (< core_lp_map_lps), and its index among that kind in *index. */
size_t core_lp_map_kind_of(const core_lp_map *map, uint32_t id, uint32_t *index);

/* An LP. Models read id, kind, index, now_ns and rng and own state; the other fields are the
 * engine's. */
struct core_lp {
  uint32_t id;
  uint32_t kind;  /* its row in the model's core_lp_map */
  uint32_t index; /* among the LPs of its kind */
  const core_lp_type *type;
  void *state;
  void *model; /* its kind's */
  int64_t now_ns;
  uint32_t now_src; /* the LP whose event it is handling; CORE_LP_NONE outside a handler */
  uint64_t send_seq;
  core_rng rng;
  core_partition *part;
  bool replicated; /* its kind is replicated: a copy runs on every partition */
  bool copy;       /* a replicated LP's copy away from its home partition */
};

/* Whether lp's side effects count: false only for a replicated LP's copies away from home. */
static inline bool core_lp_home(const core_lp *lp) { return !lp->copy; }

/* A cut channel: LPs of partition `from` send events to LPs of partition `to`, never sooner than
 * latency_ns after their own time. */
typedef struct core_cut {
  uint32_t from, to;
  int64_t latency_ns;
} core_cut;

typedef struct core_config {
  const core_lp_map *lps; /* borrowed for the engine's lifetime */
  /* Owner partition of every LP: rank * threads + thread. Borrowed for the engine's lifetime. */
  const uint32_t *lp_partition;
  int threads;    /* OpenMP threads (partitions) per rank */
  int64_t end_ns; /* events at or after end_ns are not processed */
  /* The channels between partitions (copied): a cross-partition send needs a cut from its
   * partition to the destination's, and at least its latency. NULL: every pair of partitions is
   * cut at lookahead_ns. Each partition's window ends at its horizon, worked out from the cuts. */
  const core_cut *cuts;
  size_t cut_count;
  int64_t lookahead_ns; /* without cuts: no event crosses partitions with a latency below this */
  uint64_t seed;
  size_t pending_hint; /* expected pending events per partition, to preallocate */
  void *context;       /* handed to the three callbacks below */
  /* Optional, called first on each OpenMP thread of the run (e.g. to bind it to a core). */
  void (*thread_start)(int thread, int threads, void *context);
  /* Optional, collective: called on thread 0 of every rank, with the rank's other threads waiting,
   * at the end of a window in which any LP called core_request_boundary(). Returns 0 or negative.
   */
  int (*boundary)(MPI_Comm comm, void *context);
  /* Optional, called on rank 0 thread 0 about once a second of wall time: simulated time reached.
   */
  void (*progress)(int64_t now_ns, double wall_s, uint64_t events, void *context);
  /* Optional, borrowed: a flag set asynchronously (a signal handler). Read at every window
   * boundary; when it is nonzero on any rank, every rank stops after the same window (the flag
   * travels in the window's one collective) and the run ends early (core_engine_stopped). */
  const volatile sig_atomic_t *stop_flag;
  /* > 0: the run stops likewise once rank 0 has run this many seconds of wall time (rank 0's
   * clock decides, so that every rank stops at the same window). */
  double max_wall_s;
  /* Checkpoints: cfg.checkpoint is called at the first window boundary at or after every
   * checkpoint_every_ns of simulated time (0: never), after every checkpoint_every_wall_s of rank
   * 0's wall time (0: never; rank 0's clock decides, as for max_wall_s), and, with
   * checkpoint_on_stop, at the boundary where a stop ends the run (before the LPs finish). */
  int64_t checkpoint_every_ns;
  double checkpoint_every_wall_s;
  bool checkpoint_on_stop;
  /* Collective, on thread 0 of every rank with the rank's other threads waiting and every pending
   * event in some partition's queue: the model writes a checkpoint, the engine's part of it packed
   * by core_engine_save. at_ns: every event before it has been handled everywhere. Returns 0 or
   * negative (the run then fails). */
  int (*checkpoint)(MPI_Comm comm, core_engine *e, int64_t at_ns, void *context);
  /* A restart: the engine's parts of a checkpoint, as core_engine_save packed them on each rank of
   * the run that wrote it (any number of ranks, any threads; each unpack from its pos to its len
   * exactly the bytes one core_engine_save appended), borrowed until core_engine_run returns.
   * Every LP is created, then loaded from its record in place of init, and every pending event is
   * queued wherever its LP is now. The run then goes on exactly as the checkpointed run did.
   * core_engine_run refuses, on every rank with one message, parts that are damaged or truncated,
   * of another run (LP count, seed, end_ns), missing an LP or holding one twice, and a model with
   * an LP type without load. NULL: a run from time 0. */
  const core_unpack *restore;
  size_t restore_count;
} core_config;

/* What one partition did. A restarted run counts from the restart. */
typedef struct core_stats {
  uint64_t events; /* processed (committed: conservative execution never rolls back) */
  uint64_t windows;
  uint64_t sent_thread;     /* events sent to another thread of the same rank */
  uint64_t sent_rank;       /* events sent to another rank */
  uint64_t received_remote; /* events received from other partitions */
  uint64_t pending_peak;
  uint64_t queue_bytes_peak; /* heap array plus event pool at their largest */
  double process_s;          /* handling events */
  double sync_s;             /* exchanging and waiting at window boundaries */
} core_stats;

/* Collective over comm. On failure returns NULL and writes a message to err. */
core_engine *core_engine_create(const core_config *cfg, MPI_Comm comm, char *err, size_t err_len);
void core_engine_destroy(core_engine *e);

/* Initialises every LP, runs windows until end_ns, until no event remains anywhere, or until a stop
 * (stop_flag, max_wall_s), then finishes every LP. Collective. Returns 0, or -1 on every rank with
 * core_engine_error() saying why. */
int core_engine_run(core_engine *e);
/* After core_engine_run returned 0: whether a stop ended it early (the same on every rank), and
 * then in *reached_ns the simulated time reached: every event before it was processed, on every
 * partition (some after it may have been too). LPs finish at that time or at their own last
 * event's, whichever is later. */
bool core_engine_stopped(const core_engine *e, int64_t *reached_ns);
const char *core_engine_error(const core_engine *e);

/* Only inside cfg.checkpoint: appends this rank's part of the checkpoint (its LPs' clocks, send
 * counters, random streams and packed states, and its pending events) to out. Returns 0, or -1
 * with core_engine_error() saying why (an LP type without save, out of memory). */
int core_engine_save(core_engine *e, core_pack *out);

/* Local LPs, for reading model state after a run. */
size_t core_engine_local_lp_count(const core_engine *e);
core_lp *core_engine_local_lp(core_engine *e, size_t i);

/* The least latency of any cut channel: CORE_TIME_NEVER when nothing is cut (one partition). */
int64_t core_engine_lookahead(const core_engine *e);
int core_engine_partitions(const core_engine *e); /* local partitions (threads) */
const core_stats *core_engine_stats(const core_engine *e, int thread);
/* Collective: per-partition statistics of all ranks, printed by rank 0. */
void core_engine_print_stats(core_engine *e, FILE *out);

/* Sends an event from lp to dst_lp, arriving delay_ns after lp's current time. payload may be NULL.
 * Refuses (and fails the run) a delay below 1 ns, and a cross-partition send with no cut channel
 * or a delay below the cut's latency. One exception: from a handler, an LP may send itself an event
 * for its current time (delay 0) when that event comes after the one it is handling in the total
 * order, i.e. that one came from an LP with a smaller id or from itself.
 */
int core_send(core_lp *lp, uint32_t dst_lp, int64_t delay_ns, uint32_t kind, uint32_t aux,
              const void *payload, size_t payload_bytes);

/* Asks for cfg.boundary to be called on every rank once the current window ends (e.g. to flush
 * buffered output collectively); this partition's window ends after the current event. */
void core_request_boundary(core_lp *lp);

/* The OpenMP thread (0 .. threads-1) running lp, e.g. to index per-thread buffers. */
int core_lp_thread(const core_lp *lp);

/* Records why lp fails (printf-style) and returns the code handlers pass back. The run stops at the
 * end of the current window on every rank. */
int core_fail(core_lp *lp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
