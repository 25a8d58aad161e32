/* The run's summary, computed from a timeline file: latency percentiles, throughput, SLO attainment
 * and goodput, per-instance utilisation; printed as tables or as one JSON object. */
#ifndef SRV_REPORT_H
#define SRV_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "io/timeline.h"

typedef struct srv_dist {
  uint64_t count;
  double mean, p50, p90, p95, p99, max;
} srv_dist;

typedef struct srv_summary {
  uint64_t total, completed, unfinished, preemptions;
  /* Workload rows not in /requests: malformed and skipped, or arriving past the representable end
   * (schema 6; 0 for older files, which did not count them). */
  uint64_t skipped_rows, dropped_arrivals;
  srv_dist ttft_ms, tpot_ms, e2e_ms, queue_ms;
  double input_tok_s, output_tok_s, req_s;
  double slo_attainment, goodput_req_s;
  double slo_ttft_ms, slo_tpot_ms;
  double simulated_s, wall_s;
  uint64_t events, iterations;
  uint64_t windows;     /* the engine's (the most any partition ran); depends on the partitioning */
  uint64_t link_chunks; /* chunk events on links: what the network model cost */
  int64_t ranks, threads;
  uint32_t instances;
  double utilisation_mean, utilisation_min, utilisation_max; /* busy share of simulated time */
  /* Accelerator-hours of the instances' lifecycles (srv_group's, over every instance); scaling:
   * some instance was ever not serving (deployments.N.scaling). */
  double gpu_hours_used, gpu_hours_idle, gpu_hours_wasted;
  bool scaling;
  double kv_use_mean, kv_use_peak; /* share of KV blocks */
  /* Disaggregated serving: KV transfers, their network time (start to end) and the time the KV
   * waited on the prefill side for room on the decode side (ready to start). */
  uint64_t transfers;
  double kv_bytes;
  srv_dist kv_transfer_ms, kv_wait_ms;
  double kv_share_of_decode; /* transfer time / (done - first token), over transferred requests */
  /* Prefix cache at each request's first admission: prompt tokens of admitted requests, and those
   * hit (in HBM or in the KV tier) and hit in the KV tier. */
  uint64_t prompt_tokens, prefix_hit_tokens, tier_hit_tokens;
  /* KV tier (memory-expanded nodes): swaps, bytes loaded and stored, and the share of the
   * instances' busy time spent copying them. */
  uint64_t swaps_out, swaps_in;
  double tier_load_bytes, tier_store_bytes, tier_share_of_busy;
  /* Energy and power. IT: accelerators and hosts; facility: IT x PUE. Rack power is IT power (what
   * the rack's feeds carry), compared with the rack budget; site power is facility power,
   * compared with the site budget. */
  double pue, it_energy_j, energy_j, energy_per_output_token_j;
  /* IT energy split: the hosts' (each node's host_w over the run and its CPUs' busy energy
   * host_cpu_j, /nodes) and the accelerators' (the rest: busy, waiting and idle board power). */
  double host_energy_j, accel_energy_j;
  double power_avg_w, power_peak_w; /* site, facility */
  uint32_t racks;
  double rack_avg_w_max, rack_peak_w; /* the busiest rack's average, and the highest any reached */
  double rack_budget_w, site_budget_w;
  uint64_t rack_intervals_over, site_intervals_over;
  char budget_report[1024]; /* which racks and times exceeded their budget; "" when none */
  char rack_report[1024];   /* each rack's mean and peak IT power, for up to 16 racks */
  /* Cost, in US dollars (serving/cost.c prices; the timeline's cost attributes): the cluster's
   * `accelerators` rented an hour (NaN: some have no price, named in `unpriced`), its facility
   * energy an hour at energy_usd_per_kwh (power_avg_w x price; NaN: no price), the fleet (their
   * sum), the run (the fleet over simulated_s), and the fleet's hour over the hour's tokens of
   * completed requests, per million: input tokens and output tokens each bear the whole cost, so
   * the two are alternative views, not parts to add. NaN wherever a price is missing. */
  double energy_usd_per_kwh, accelerators_usd_per_h, energy_usd_per_h, fleet_usd_per_h, run_usd;
  double usd_per_m_input_tokens, usd_per_m_output_tokens;
  uint64_t accelerators;
  char unpriced[256]; /* "" when every accelerator has a price */
  /* A timeline of a run stopped early (a signal, --max-wall) is partial: complete=0, and every
   * event before end_reached_ns was simulated. Its figures cover what was simulated. */
  bool complete;
  int64_t end_reached_ns;
  char stop_reason[32]; /* "SIGTERM", "SIGINT", "SIGUSR1", "max_wall"; "" when complete */
} srv_summary;

/* A group of instances: a pool (one deployment), a model, or a rack; and what ran on it. Or a
 * group of requests: a tier (interactive, batch), with no instances. */
typedef struct srv_group {
  char name[64];                   /* deployment or model name; "rack N" */
  char model[64], accelerator[64]; /* pools: their deployment's; otherwise "" */
  uint32_t role;                   /* pools: srv_role (0 both, 1 prefill, 2 decode) */
  uint32_t instances;
  /* Requests that ran on one of its instances (their prompt or, disaggregated, their decode), and
   * the latencies those that completed saw. */
  uint64_t requests, completed;
  srv_dist ttft_ms, tpot_ms, e2e_ms;
  double output_tok_s;     /* of its completed requests, over the simulated time */
  double utilisation_mean; /* busy share of its instances */
  double kv_use_mean;      /* share of its instances' KV blocks in use, over time */
  /* Pools and models: its instances' accelerator board energy (idle included; no hosts, no PUE)
   * and that per output token of its completed requests. Racks: IT energy (accelerators and
   * hosts) and its mean and peak IT power. */
  double energy_j, energy_per_output_token_j;
  double power_avg_w, power_peak_w; /* racks only */
  /* Tiers only: its requests with a deadline, and those completed by it. */
  uint64_t deadline_requests, deadline_met;
  /* Pools and models: accelerator-hours of their instances' lifecycles (/instances): used
   * (serving and iterating), idle (serving, nothing to run) and wasted (provisioning, loading,
   * warm, draining). They add up to the instances' lifetimes (time not off) x accelerators. */
  double gpu_hours_used, gpu_hours_idle, gpu_hours_wasted;
  bool scaling; /* some instance was ever not serving (deployments.N.scaling) */
} srv_group;

/* The summary broken down per pool, per model and per rack. */
typedef struct srv_breakdown {
  srv_group *pools, *models, *racks; /* owned */
  size_t pool_count, model_count, rack_count;
  srv_group *tiers; /* owned; interactive and batch when any request is batch, else none */
  size_t tier_count;
} srv_breakdown;

/* Reads the timeline at path and computes its summary. Returns 0, or -1 with a message. A file
 * of another schema, of another schema version, or whose rows name instances or nodes that it
 * lacks is refused with a message saying so; so is a partial timeline (a stopped run's). */
int srv_report_summarise(const char *path, srv_summary *out, char *err, size_t err_len);
/* As srv_report_summarise, but a partial timeline (complete=0 with a stop_reason: a run stopped
 * on purpose) is summarised too, with out->complete false. A file that a failed run left is still
 * refused. */
int srv_report_summarise_partial(const char *path, srv_summary *out, char *err, size_t err_len);
/* The summary (of a partial timeline too when allow_partial) and, when groups is not NULL, its
 * breakdown; free the breakdown with srv_report_breakdown_free. */
int srv_report_summarise_groups(const char *path, bool allow_partial, srv_summary *out,
                                srv_breakdown *groups, char *err, size_t err_len);
void srv_report_breakdown_free(srv_breakdown *groups);
/* Writes s as attributes of the group /summary of the closed (complete or partial) timeline at
 * path, for h5py users: f["summary"].attrs["ttft_ms_p99"]. Returns 0, or -1 with a message. */
int srv_report_write_summary(const char *path, const srv_summary *s, char *err, size_t err_len);
void srv_report_print(const srv_summary *s, FILE *out);
/* Reads every row of table def->name of the open timeline r into *rows (malloc'd, the caller's to
 * free; not NULL when it succeeds, even with no rows) and their count into *n. For the readers
 * beside the report (windtunnel plot, trace). Returns 0, or -1 with a message. */
int srv_report_read_table(io_timeline_reader *r, const io_table_def *def, void **rows, uint64_t *n,
                          char *err, size_t err_len);
/* The per-pool, per-model and per-rack tables, and per-tier when there are tiers. */
void srv_report_print_groups(const srv_breakdown *groups, FILE *out);
/* One JSON object; with_wall false leaves out wall-clock figures (for comparing runs). */
void srv_report_print_json(const srv_summary *s, bool with_wall, FILE *out);
/* The same object with "pools", "models" and "racks" arrays when groups is not NULL (and "tiers"
 * when it has them). */
void srv_report_print_json_groups(const srv_summary *s, const srv_breakdown *groups, bool with_wall,
                                  FILE *out);

/* Two runs side by side: each headline figure of a and b, b - a and (b - a) / a. Text or one JSON
 * object {"a": {"path", "summary"}, "b": ..., "delta": {figure: b - a}}. */
void srv_report_print_comparison(const char *a_path, const srv_summary *a, const char *b_path,
                                 const srv_summary *b, bool json, FILE *out);

/* The names of the timeline's tables, NULL-terminated, for --csv. */
extern const char *const srv_report_tables[];
/* Writes table `table` of the timeline at path as CSV to out: a header row of every field's name,
 * then every row sorted by the table's key (the same file at any rank count); strings quoted.
 * Returns 0, or -1 with a message (an unknown table names the known ones). */
int srv_report_write_csv(const char *path, const char *table, FILE *out, char *err, size_t err_len);

#endif
