/* The serving simulation: a router LP replaying the workload and one LP per model instance running
 * continuous batching, on the engine, writing every request and iteration to the HDF5 timeline. */
#ifndef SRV_SERVING_H
#define SRV_SERVING_H

#include <mpi.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "serving/scenario.h"

typedef struct srv_options {
  const char *output_path; /* overrides the scenario's output.path when not NULL */
  int threads;             /* overrides simulation.threads when > 0 */
  bool progress;           /* a progress line on stderr about once a second */
  bool stats;              /* print per-partition engine statistics */
  const char *version;     /* program version, for the timeline */
  /* Optional, borrowed: set (to the signal's number) by a signal handler; when it is nonzero on
   * any rank, the run stops at the next window boundary (core_config.stop_flag). */
  const volatile sig_atomic_t *stop_flag;
  double max_wall_s; /* > 0: stop likewise after this much wall time from srv_run's start (rank
                        0's clock) */
  uint64_t max_memory_bytes; /* refuse a run whose estimate needs more; 0: this machine's memory */
  uint64_t max_timeline_bytes; /* likewise for the timeline before compression; 0: free space */
  /* Checkpoints (serving/checkpoint.h), into the folder checkpoint_path (NULL: none): every
   * checkpoint_every_ns of simulated time and every checkpoint_every_wall_s of wall time (0:
   * never), and when a stop (stop_flag, max_wall_s) ends the run. The header names the scenario
   * by scenario_path (absolute; NULL for the built-in default) and sets. */
  const char *checkpoint_path;
  int64_t checkpoint_every_ns;
  double checkpoint_every_wall_s;
  const char *scenario_path;
  const char *const *sets;
  size_t set_count;
  /* A restart: the checkpoint folder to continue from (NULL: from time 0). Its scenario must be
   * this one (the caller checks; srv_run refuses another seed or text). */
  const char *restart_path;
} srv_options;

typedef struct srv_result {
  uint64_t events;
  double wall_s;
  int64_t simulated_ns;
  uint64_t requests, iterations;
  uint64_t leaps, leapt_iterations; /* iterations that had no event of their own */
  /* A stopped run's timeline is closed with complete=0 and end_reached_ns (serving/TIMELINE.md):
   * every event before end_reached_ns was simulated. stop_signal: the largest signal number any
   * rank's stop_flag held; 0 when max_wall_s stopped it. */
  bool stopped;
  int64_t end_reached_ns;
  int stop_signal;
  uint64_t price_hits, price_misses, price_evictions; /* of the price caches, all together */
  uint32_t checkpoints;                               /* written by this run */
  int64_t checkpoint_ns;                              /* the latest one's time */
} srv_result;

/* Collective over comm: runs scenario s and writes its timeline. Returns 0 (with result->stopped
 * when a stop ended it early: the timeline then holds what was simulated, marked complete=0), or
 * -1 on every rank with the reason in err. */
int srv_run(const srv_scenario *s, const srv_options *opt, MPI_Comm comm, srv_result *result,
            char *err, size_t err_len);

#endif
