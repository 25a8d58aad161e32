/* Placement: a model's graph of units (sets of LPs that must stay together, with the work each is
 * expected to do) and the channels between them (least latency, expected traffic), placed on the
 * run's partitions (rank x thread) by a strategy; the cut channels that result, which set the
 * engine's horizons; and what the placement predicts (imbalance, cut traffic, windows, speedup),
 * so that a placement that cannot pay keeps the work together. Placement never changes results,
 * only speed. Also: binding threads to cores with hwloc. */
#ifndef PART_H
#define PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

/* A channel between two units: events from an LP of `from` to an LP of `to`, never sooner than
 * latency_ns after they are sent. */
typedef struct part_channel {
  uint32_t from, to;
  int64_t latency_ns;
  double events_per_s; /* expected, per simulated second */
  const char *name;    /* what it carries, for the report (static text) */
} part_channel;

/* The graph. Units are numbered 0..units-1; a unit's domain (e.g. its pod) is what the topology
 * strategy keeps whole when it can. Built with part_graph_init / part_graph_add_channel. */
typedef struct part_graph {
  uint32_t units;
  double *work;     /* [units]: expected events per simulated second */
  uint32_t *domain; /* [units] */
  part_channel *channels;
  size_t channel_count, channel_cap;
} part_graph;

/* units' work 0 and domain = the unit itself. Returns 0, or -1 out of memory. */
int part_graph_init(part_graph *g, uint32_t units);
/* Adds a channel (the same pair may appear again: the least latency counts). Returns 0, or -1
 * out of memory. */
int part_graph_add_channel(part_graph *g, uint32_t from, uint32_t to, int64_t latency_ns,
                           double events_per_s, const char *name);
void part_graph_free(part_graph *g);

typedef enum part_strategy {
  PART_AUTO,     /* the best predicted of the others */
  PART_ONE,      /* everything on partition 0 */
  PART_BLOCK,    /* contiguous runs of units of about equal work, in unit order */
  PART_TOPOLOGY, /* whole domains, largest first onto the least loaded partition */
  PART_METIS,    /* METIS k-way on the graph, channels below a lookahead contracted */
} part_strategy;

/* "auto", "one", "block", "topology", "metis". */
const char *part_strategy_name(part_strategy s);
int part_strategy_parse(const char *name, part_strategy *out);

/* What work and synchronisation cost, for the prediction: CPU seconds per event, and per window
 * across ranks (the collective and the exchange) and across the threads of a rank (barriers). */
typedef struct part_costs {
  double event_s;
  double window_rank_s, window_thread_s;
} part_costs;

/* A placement and what it predicts (per simulated second unless said). */
typedef struct part_plan {
  part_strategy strategy; /* the one placed */
  uint32_t ranks, threads, partitions;
  uint32_t *unit_partition; /* [units] */
  core_cut *cuts;           /* between partitions, for core_config.cuts */
  size_t cut_count;
  int64_t lookahead_ns;     /* the least cut latency; CORE_TIME_NEVER when nothing is cut */
  const char *lookahead_by; /* the channel that sets it */
  uint32_t used;            /* partitions given work */
  double imbalance;         /* the busiest partition's work over the mean */
  double cut_events_per_s;  /* expected traffic across partitions */
  double windows_per_s;     /* expected windows */
  double events_per_window;
  double speedup; /* predicted, against one partition */
  char why[256];  /* how the strategy was chosen */
} part_plan;

/* Places g on ranks x threads partitions by `strategy` (PART_AUTO: the best predicted of one,
 * block, topology and METIS). Returns 0, or -1 with a message (out of memory, METIS failing). */
int part_plan_make(const part_graph *g, uint32_t ranks, uint32_t threads, part_strategy strategy,
                   const part_costs *costs, part_plan *plan, char *err, size_t err_len);
void part_plan_free(part_plan *plan);
/* A few lines: strategy, partitions used, lookahead and its channel, imbalance, cut traffic,
 * windows, predicted speedup, and why. */
void part_plan_print(const part_plan *plan, FILE *out);

/* The cores this process may run on (hwloc), at least 1. */
int part_cores(void);
/* Binds the calling thread to the thread-th core of the cores this process may use, when there are
 * at least `threads` of them; otherwise leaves it unbound. Returns 1 if bound, 0 if not, -1 on
 * error. */
int part_bind_thread(int thread, int threads);
/* Contiguous blocks: LP i goes to partition floor(i * partitions / lp_count) (PHOLD's placement).
 */
void part_block(uint32_t lp_count, uint32_t partitions, uint32_t *lp_partition);

#endif
