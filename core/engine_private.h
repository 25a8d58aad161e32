/* The engine's own types, shared by core/engine.c (sending, the window loop, the run),
 * core/engine_life.c (creating and destroying the engine, statistics, the LP map) and
 * core/checkpoint.c (saving a checkpoint, restoring from one). Not installed: models see core.h. */
#ifndef WT_CORE_ENGINE_PRIVATE_H
#define WT_CORE_ENGINE_PRIVATE_H

#include "core.h"

#include <stdatomic.h>

#include "queue.h"

enum { ERROR_BYTES = 512 };
enum {
  FLAG_ERROR = 1u,      /* sticky: a partition failed; every rank stops after this window */
  FLAG_BOUNDARY = 2u,   /* this window only: a model asked for a collective boundary call */
  FLAG_STOP = 4u,       /* a stop was asked for (stop_flag, max_wall_s): every rank stops now */
  FLAG_CHECKPOINT = 8u, /* this window only: rank 0's wall clock asks for a checkpoint */
};

/* Where an LP runs. A replicated LP (core_lp_kind.replicated) has a copy at the same local index
 * on every partition, in front of the partition's own LPs: its part is PLACE_REPLICATED, its local
 * index r, and its home partition core_engine.replica_home[r]. */
enum { PLACE_REPLICATED = UINT32_MAX };
typedef struct lp_place {
  uint32_t part;  /* global partition index, or PLACE_REPLICATED */
  uint32_t local; /* index among that partition's LPs (every partition's, replicated) */
} lp_place;

/* A growable array of events bound for one partition, or received for one thread. */
typedef struct event_buf {
  core_event *events;
  size_t count, capacity;
} event_buf;

struct core_partition {
  core_engine *engine;
  int thread;
  uint32_t index; /* global: rank * threads + thread */
  core_lp *lps;   /* the engine's replicated LPs' copies (replicas of them), then its own */
  size_t lp_count;
  core_queue queue;
  event_buf *outbox;  /* [all partitions]: events for other partitions sent this window */
  int64_t *min_sent;  /* [all partitions]: earliest event sent to each this window */
  const int64_t *cut; /* [all partitions]: least latency of a send to each; NEVER: no channel */
  int64_t end_ns;
  int64_t queue_min;     /* the earliest pending event at the window's end, before delivery */
  int64_t horizon;       /* no event can reach this partition before it: process those below */
  int64_t in_latency_ns; /* the least latency of the cuts into it; NEVER: none */
  int barrier_sense;     /* this thread's side of the threads' barrier */
  unsigned flags;
  char error[ERROR_BYTES];
  core_stats stats;
} __attribute__((aligned(64)));

/* The threads' barrier at window boundaries, sense-reversing. A waiting thread spins for up to 2 ms
 * (a busy window's wait is shorter; it yields the processor between polls when processors are
 * shared), then sleeps on a futex until the last thread arrives. (An OpenMP barrier's wait policy
 * is fixed when the program starts, and its passive policy sleeps at once: 64 us a window.) */
typedef struct thread_barrier {
  atomic_int waiting, sense, sleepers;
  int threads;
  bool shared;   /* processors are shared: yield them between polls */
  double spin_s; /* how long a waiter polls before it sleeps */
} thread_barrier;

struct core_engine {
  core_config cfg;
  thread_barrier barrier;
  uint32_t lp_count;
  MPI_Comm comm;
  /* Payloads of even and odd windows travel on separate communicators: a rank can be one window
   * ahead of a peer that is still receiving, and its next-window messages must not match that
   * peer's probes. */
  MPI_Comm payload_comm[2];
  uint64_t exchanges;
  int rank, ranks, threads;
  uint32_t partitions;    /* ranks * threads */
  int64_t lookahead_ns;   /* the least latency of any cut channel; NEVER when nothing is cut */
  uint32_t replicas;      /* replicated LPs: each has a copy on every partition */
  uint32_t *replica_home; /* [replicas]: the partition of each one's home copy */
  lp_place *place;
  core_partition *parts; /* [threads] */
  event_buf *inbox;      /* [threads]: events received from other ranks this window */
  MPI_Request *requests;
  /* The partition graph: the cut channels (from, to, least latency), every partition's cut
   * latencies to all others ([threads][partitions], the local rows), and the fixpoint's work. */
  core_cut *cuts;
  size_t cut_count;
  int64_t *cut_rows;
  int64_t *earliest; /* [partitions]: the earliest time each can handle an event */
  /* The window's one collective, an all-reduce of {partitions, each partition's earliest pending
   * event (min), the payload messages bound for each rank (sum), flags (or)}. */
  int64_t *reduce_buf;
  size_t reduce_len;
  MPI_Op reduce_op;
  int64_t global_min;
  unsigned global_flags;
  double start_wall, last_progress;
  bool stopped;       /* a stop ended the run */
  int64_t reached_ns; /* then, the simulated time reached */
  /* Checkpoints: the next multiple of checkpoint_every_ns to reach, rank 0's wall clock at the
   * last one, the time of the one due at this boundary (NEVER: none), and whether cfg.checkpoint
   * is running (core_engine_save is valid only then). */
  int64_t next_checkpoint_ns;
  double last_checkpoint_wall;
  int64_t checkpoint_at;
  bool saving;
  /* A restart: where each LP's record lies in cfg.restore ([lp_count]), and each pack's events. */
  struct restore_index *restore;
  int status;
  char error[ERROR_BYTES];
};

/* Records why partition p failed (the first reason only) and sets its error flag; returns -1. */
int engine_fail(core_partition *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The partition that owns LP id: a replicated LP's home. */
static inline uint32_t engine_home(const core_engine *e, uint32_t id) {
  lp_place at = e->place[id];
  return at.part == PLACE_REPLICATED ? e->replica_home[at.local] : at.part;
}

/* Queues an event for one of p's LPs. Returns 0, or -1 after engine_fail. */
static inline int engine_enqueue_local(core_partition *p, const core_event *src) {
  uint32_t slot = core_queue_alloc(&p->queue);
  if (slot == CORE_QUEUE_NONE)
    return engine_fail(p, "out of memory for pending events (%zu pending)", p->queue.count);
  *core_queue_event(&p->queue, slot) = *src;
  if (core_queue_push(&p->queue, slot, p->engine->place[src->dst_lp].local) != 0)
    return engine_fail(p, "out of memory for the event queue (%zu pending)", p->queue.count);
  if (p->queue.count > p->stats.pending_peak)
    p->stats.pending_peak = p->queue.count;
  return 0;
}

/* After a failed run (collective): every rank learns the message of the lowest failing rank. */
void engine_agree_on_error(core_engine *e);

/* core/checkpoint.c: a restart's index of cfg.restore. engine_restore_prepare (collective, before
 * the run) builds and checks it and gives the time it was taken at: 0, or -1 on every rank with
 * why in e->error. On the LP's thread,
 * after create, engine_restore_lp gives an LP its record; engine_restore_events queues a
 * partition's pending events. */
int engine_restore_prepare(core_engine *e, int64_t *at_ns);
void engine_restore_lp(core_partition *p, core_lp *lp);
void engine_restore_events(core_partition *p);
void engine_restore_free(struct restore_index *r);

#endif
