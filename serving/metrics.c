/* The summary's headline figures by name. */
#include "serving/metrics.h"

#include <stdint.h>
#include <string.h>

#define METRIC(name, member, type)                                                                 \
  { name, offsetof(srv_summary, member), type }
#define METRIC_DIST(prefix, member)                                                                \
  METRIC(prefix "_mean", member.mean, SRV_METRIC_DOUBLE),                                          \
      METRIC(prefix "_p50", member.p50, SRV_METRIC_DOUBLE),                                        \
      METRIC(prefix "_p90", member.p90, SRV_METRIC_DOUBLE),                                        \
      METRIC(prefix "_p99", member.p99, SRV_METRIC_DOUBLE),                                        \
      METRIC(prefix "_max", member.max, SRV_METRIC_DOUBLE)
const srv_metric srv_metrics[] = {
    METRIC("requests", total, SRV_METRIC_U64),
    METRIC("completed", completed, SRV_METRIC_U64),
    METRIC("unfinished", unfinished, SRV_METRIC_U64),
    METRIC("preemptions", preemptions, SRV_METRIC_U64),
    METRIC("throughput_req_s", req_s, SRV_METRIC_DOUBLE),
    METRIC("input_tok_s", input_tok_s, SRV_METRIC_DOUBLE),
    METRIC("output_tok_s", output_tok_s, SRV_METRIC_DOUBLE),
    METRIC("goodput_req_s", goodput_req_s, SRV_METRIC_DOUBLE),
    METRIC("slo_attainment", slo_attainment, SRV_METRIC_DOUBLE),
    METRIC("slo_ttft_ms", slo_ttft_ms, SRV_METRIC_DOUBLE),
    METRIC("slo_tpot_ms", slo_tpot_ms, SRV_METRIC_DOUBLE),
    METRIC_DIST("ttft_ms", ttft_ms),
    METRIC_DIST("tpot_ms", tpot_ms),
    METRIC_DIST("e2e_ms", e2e_ms),
    METRIC_DIST("queue_ms", queue_ms),
    METRIC("instances", instances, SRV_METRIC_U32),
    METRIC("utilisation_mean", utilisation_mean, SRV_METRIC_DOUBLE),
    METRIC("kv_use_mean", kv_use_mean, SRV_METRIC_DOUBLE),
    METRIC("kv_use_peak", kv_use_peak, SRV_METRIC_DOUBLE),
    METRIC("transfers", transfers, SRV_METRIC_U64),
    METRIC("kv_transfer_ms_p99", kv_transfer_ms.p99, SRV_METRIC_DOUBLE),
    METRIC("energy_j", energy_j, SRV_METRIC_DOUBLE),
    METRIC("energy_per_output_token_j", energy_per_output_token_j, SRV_METRIC_DOUBLE),
    METRIC("power_avg_w", power_avg_w, SRV_METRIC_DOUBLE),
    METRIC("power_peak_w", power_peak_w, SRV_METRIC_DOUBLE),
    METRIC("accelerators", accelerators, SRV_METRIC_U64),
    METRIC("accelerators_usd_per_h", accelerators_usd_per_h, SRV_METRIC_DOUBLE),
    METRIC("energy_usd_per_h", energy_usd_per_h, SRV_METRIC_DOUBLE),
    METRIC("fleet_usd_per_h", fleet_usd_per_h, SRV_METRIC_DOUBLE),
    METRIC("usd_per_m_input_tokens", usd_per_m_input_tokens, SRV_METRIC_DOUBLE),
    METRIC("usd_per_m_output_tokens", usd_per_m_output_tokens, SRV_METRIC_DOUBLE),
    METRIC("simulated_s", simulated_s, SRV_METRIC_DOUBLE),
    METRIC("events", events, SRV_METRIC_U64),
    METRIC("iterations", iterations, SRV_METRIC_U64),
};
const size_t srv_metric_count = sizeof srv_metrics / sizeof srv_metrics[0];

const srv_metric *srv_metric_find(const char *name) {
  for (size_t m = 0; m < srv_metric_count; m++)
    if (strcmp(srv_metrics[m].name, name) == 0)
      return &srv_metrics[m];
  return NULL;
}

double srv_metric_value(const srv_metric *m, const srv_summary *s) {
  const char *field = (const char *)s + m->offset;
  if (m->type == SRV_METRIC_DOUBLE) {
    double v;
    memcpy(&v, field, sizeof v);
    return v;
  }
  if (m->type == SRV_METRIC_U64) {
    uint64_t v;
    memcpy(&v, field, sizeof v);
    return (double)v;
  }
  uint32_t v;
  memcpy(&v, field, sizeof v);
  return v;
}
