/* What a run will need, said before it starts: memory (the parts that grow with simulated time and
 * with the workload) and the timeline's size, and a refusal of a run that cannot fit. */
#ifndef SRV_ESTIMATE_H
#define SRV_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "serving/scenario.h"

typedef struct srv_estimate {
  uint64_t requests;        /* in the workload, after window, cap and dropped arrivals */
  uint64_t prefix_hashes;   /* Mooncake block hashes, which every rank keeps */
  int64_t simulated_ns;     /* at least: the last arrival, or simulation.end when earlier */
  uint64_t power_intervals; /* of power.interval per node over simulated_ns */
  uint32_t nodes, links, instances;
  int ranks;
  /* Bytes, for the whole job (all ranks): */
  double power_bytes;    /* node energy bins: about POWER_ROWS_INTERVALS intervals each */
  double link_bytes;     /* link busy bins and /link_utilisation rows, at most (KV transfers) */
  double workload_bytes; /* each rank's copy of arrivals (disaggregated) and prefix hashes */
  double summary_bytes;  /* 0: the summary reads /requests in blocks */
  double kv_bytes;       /* every instance's KV blocks, as created */
  double total_bytes;
  double timeline_bytes; /* its rows, uncompressed, /iterations left out (not estimated) */
} srv_estimate;

/* What a user must know before trusting the results: rows skipped, arrivals dropped past the
 * representable end, no requests at all; one "windtunnel: warning: ..." line each on out. */
void srv_workload_warn(const srv_scenario *s, uint64_t requests, int64_t skipped_rows,
                       int64_t dropped_arrivals, const char *first_skipped, FILE *out);

/* Fills e from a workload scan (requests, prefix hashes, last arrival) and the cluster's size. */
void srv_estimate_make(const srv_scenario *s, uint64_t requests, uint64_t prefix_hashes,
                       int64_t last_arrival_ns, uint32_t nodes, uint32_t links, int ranks,
                       srv_estimate *e);
/* Lays the cluster out and reads the workload once to fill e (for `check`), warning on warnings
 * (NULL: not) as srv_workload_warn does. 0, or -1 with a message. */
int srv_estimate_scenario(const srv_scenario *s, int ranks, srv_estimate *e, FILE *warnings,
                          char *err, size_t err_len);
/* This machine's physical memory in bytes (sysconf), 0 when unknown. */
uint64_t srv_machine_memory_bytes(void);
/* 0 when e fits in max_memory_bytes (0: this machine's memory; machine: the limit given is the
 * machines' memory, for the message); else -1 with a message naming what takes the memory and
 * the key to change. */
int srv_estimate_check(const srv_scenario *s, const srv_estimate *e, uint64_t max_memory_bytes,
                       bool machine, char *err, size_t err_len);
/* The free space of the folder that will hold output_path (statvfs), 0 when unknown. */
uint64_t srv_free_disk_bytes(const char *output_path);
/* 0 when e's timeline (before compression) fits in max_timeline_bytes (0: no limit; free_space:
 * the limit is the output folder's free space, for the message); else -1 with a message naming
 * the power series and the keys to change. */
int srv_estimate_check_timeline(const srv_scenario *s, const srv_estimate *e,
                                uint64_t max_timeline_bytes, bool free_space, char *err,
                                size_t err_len);
/* One line: "estimate: memory at least ..., timeline at least ...". */
void srv_estimate_print(const srv_estimate *e, FILE *out);

#endif
