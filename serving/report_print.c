/* The report's outputs for people and programs: the summary and the per-group breakdown as text
 * tables and as JSON, and the comparison of two runs (serving/report.h). Reading and summarising a
 * timeline is serving/report.c's. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "serving/report.h"
#include "util/json.h"

static void print_dist(FILE *out, const char *name, const srv_dist *d) {
  fprintf(out, "  %-10s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9llu\n", name, d->mean, d->p50, d->p90,
          d->p95, d->p99, d->max, (unsigned long long)d->count);
}

/* "$12.34" or "no price". */
static const char *usd(double v, char *buf, size_t len) {
  if (!isfinite(v))
    return "no price";
  snprintf(buf, len, "$%.4g", v);
  return buf;
}

static void print_cost(const srv_summary *s, FILE *out) {
  char a[32], e[32], f[32], r[32], i[32], o[32], k[32];
  fprintf(out,
          "cost: fleet %s/h (%llu accelerators %s/h, energy %s/h at %s/kWh); run %s; %s per M "
          "input tokens, %s per M output tokens (each bearing the whole cost)\n",
          usd(s->fleet_usd_per_h, f, sizeof f), (unsigned long long)s->accelerators,
          usd(s->accelerators_usd_per_h, a, sizeof a), usd(s->energy_usd_per_h, e, sizeof e),
          usd(s->energy_usd_per_kwh, k, sizeof k), usd(s->run_usd, r, sizeof r),
          usd(s->usd_per_m_input_tokens, i, sizeof i),
          usd(s->usd_per_m_output_tokens, o, sizeof o));
  if (s->accelerators == 0 && s->unpriced[0])
    fprintf(out, "cost: this timeline records no prices (written before they were recorded)\n");
  else if (s->unpriced[0])
    fprintf(out, "cost: no price for %s (set cost.accelerator_hour)\n", s->unpriced);
}

void srv_report_print(const srv_summary *s, FILE *out) {
  if (!s->complete)
    fprintf(out,
            "PARTIAL TIMELINE: the run was stopped (%s) at simulated time %.3f s; the figures "
            "cover only what was simulated until then\n",
            s->stop_reason, (double)s->end_reached_ns * 1e-9);
  fprintf(out, "requests: %llu total, %llu completed, %llu unfinished, %llu preemptions\n",
          (unsigned long long)s->total, (unsigned long long)s->completed,
          (unsigned long long)s->unfinished, (unsigned long long)s->preemptions);
  if (s->skipped_rows || s->dropped_arrivals)
    fprintf(out,
            "  not in the total: %llu malformed workload rows skipped, %llu arrivals past the "
            "representable end dropped\n",
            (unsigned long long)s->skipped_rows, (unsigned long long)s->dropped_arrivals);
  fprintf(out, "  %-10s %9s %9s %9s %9s %9s %9s %9s\n", "ms", "mean", "p50", "p90", "p95", "p99",
          "max", "count");
  print_dist(out, "ttft", &s->ttft_ms);
  print_dist(out, "tpot", &s->tpot_ms);
  print_dist(out, "e2e", &s->e2e_ms);
  print_dist(out, "queueing", &s->queue_ms);
  fprintf(out,
          "throughput: %.1f input tok/s, %.1f output tok/s, %.3f req/s over %.1f s simulated\n",
          s->input_tok_s, s->output_tok_s, s->req_s, s->simulated_s);
  fprintf(out,
          "slo (ttft <= %g ms, tpot <= %g ms): %.1f%% of all requests attained (unfinished ones "
          "miss), goodput %.3f req/s\n",
          s->slo_ttft_ms, s->slo_tpot_ms, 100 * s->slo_attainment, s->goodput_req_s);
  fprintf(out,
          "instances: %u, busy %.1f%% mean (%.1f%%..%.1f%%), KV use %.1f%% mean, %.1f%% peak, "
          "%llu iterations\n",
          s->instances, 100 * s->utilisation_mean, 100 * s->utilisation_min,
          100 * s->utilisation_max, 100 * s->kv_use_mean, 100 * s->kv_use_peak,
          (unsigned long long)s->iterations);
  if (s->scaling) /* instances with a lifecycle: where their accelerator-hours went */
    fprintf(out,
            "gpu-hours: %.3f: used %.3f, idle %.3f, wasted %.3f (provisioning, loading, warm, "
            "draining)\n",
            s->gpu_hours_used + s->gpu_hours_idle + s->gpu_hours_wasted, s->gpu_hours_used,
            s->gpu_hours_idle, s->gpu_hours_wasted);
  if (s->transfers) {
    fprintf(out,
            "kv transfers: %llu, %.2f GB; network %.2f ms mean, %.2f p50, %.2f p99; waited for "
            "decode room %.2f ms mean, %.2f p99; %.1f%% of decode time\n",
            (unsigned long long)s->transfers, s->kv_bytes * 1e-9, s->kv_transfer_ms.mean,
            s->kv_transfer_ms.p50, s->kv_transfer_ms.p99, s->kv_wait_ms.mean, s->kv_wait_ms.p99,
            100 * s->kv_share_of_decode);
  }
  if (s->prefix_hit_tokens > 0) {
    double prompt = s->prompt_tokens ? (double)s->prompt_tokens : 1;
    fprintf(out,
            "prefix cache: %.1f%% of admitted prompt tokens hit (%.1f%% in HBM, %.1f%% in the KV "
            "tier)\n",
            100 * (double)s->prefix_hit_tokens / prompt,
            100 * (double)(s->prefix_hit_tokens - s->tier_hit_tokens) / prompt,
            100 * (double)s->tier_hit_tokens / prompt);
  }
  if (s->swaps_out > 0 || s->tier_load_bytes > 0 || s->tier_store_bytes > 0)
    fprintf(out,
            "kv tier: %llu swaps out, %llu in; %.2f GB loaded, %.2f GB stored; %.1f%% of busy "
            "time copying\n",
            (unsigned long long)s->swaps_out, (unsigned long long)s->swaps_in,
            s->tier_load_bytes * 1e-9, s->tier_store_bytes * 1e-9, 100 * s->tier_share_of_busy);
  fprintf(out,
          "power: site %.1f kW mean, %.1f kW peak (facility, PUE %.2f); energy %.3f kWh, %.3f J "
          "per output token\n",
          s->power_avg_w * 1e-3, s->power_peak_w * 1e-3, s->pue, s->energy_j / 3.6e6,
          s->energy_per_output_token_j);
  fprintf(out, "energy (IT): accelerators %.3f kWh (%.1f%%), hosts %.3f kWh (%.1f%%)\n",
          s->accel_energy_j / 3.6e6,
          s->it_energy_j > 0 ? 100 * s->accel_energy_j / s->it_energy_j : 0.0,
          s->host_energy_j / 3.6e6,
          s->it_energy_j > 0 ? 100 * s->host_energy_j / s->it_energy_j : 0.0);
  print_cost(s, out);
  fprintf(out, "racks: %u, busiest %.1f kW mean, %.1f kW peak (IT)%s%s%s\n", s->racks,
          s->rack_avg_w_max * 1e-3, s->rack_peak_w * 1e-3, s->racks > 1 ? "; kW mean/peak: " : "",
          s->racks > 1 ? s->rack_report : "", s->racks > 16 ? ", ..." : "");
  if (s->rack_budget_w > 0 || s->site_budget_w > 0)
    fprintf(out, "power budgets: %s\n", s->budget_report[0] ? s->budget_report : "never exceeded");
  fprintf(out, "engine: %llu events, %lld ranks x %lld threads, %.2f s wall (%.0fx real time)\n",
          (unsigned long long)s->events, (long long)s->ranks, (long long)s->threads, s->wall_s,
          s->wall_s > 0 ? s->simulated_s / s->wall_s : 0);
}

static void json_dist(FILE *out, const char *name, const srv_dist *d) {
  fprintf(out,
          "\"%s\":{\"mean\":%.17g,\"p50\":%.17g,\"p90\":%.17g,\"p95\":%.17g,\"p99\":%.17g,"
          "\"max\":%.17g,\"count\":%llu},",
          name, d->mean, d->p50, d->p90, d->p95, d->p99, d->max, (unsigned long long)d->count);
}

static void json_group_dist(FILE *out, const char *name, const srv_dist *d) {
  fprintf(out, ",\"%s\":{\"mean\":", name);
  util_json_number(out, d->mean);
  fputs(",\"p50\":", out);
  util_json_number(out, d->p50);
  fputs(",\"p99\":", out);
  util_json_number(out, d->p99);
  fprintf(out, ",\"count\":%llu}", (unsigned long long)d->count);
}

static void json_groups(FILE *out, const char *key, const srv_group *g, size_t n, bool latencies) {
  static const char *const roles[] = {"both", "prefill", "decode"};
  fprintf(out, ",\"%s\":[", key);
  for (size_t i = 0; i < n; i++) {
    fputs(i ? ",{\"name\":" : "{\"name\":", out);
    util_json_string(out, g[i].name);
    if (g[i].model[0]) {
      fputs(",\"model\":", out);
      util_json_string(out, g[i].model);
      fputs(",\"accelerator\":", out);
      util_json_string(out, g[i].accelerator);
      fprintf(out, ",\"role\":\"%s\"", g[i].role < 3 ? roles[g[i].role] : "unknown");
    }
    fprintf(out, ",\"instances\":%u,\"requests\":%llu,\"completed\":%llu", g[i].instances,
            (unsigned long long)g[i].requests, (unsigned long long)g[i].completed);
    if (latencies) { /* pools and models; racks count requests only */
      json_group_dist(out, "ttft_ms", &g[i].ttft_ms);
      json_group_dist(out, "tpot_ms", &g[i].tpot_ms);
      json_group_dist(out, "e2e_ms", &g[i].e2e_ms);
    }
    const struct {
      const char *name;
      double value;
    } reals[] = {{"output_tok_s", g[i].output_tok_s},
                 {"utilisation_mean", g[i].utilisation_mean},
                 {"kv_use_mean", g[i].kv_use_mean},
                 {"energy_j", g[i].energy_j},
                 {"energy_per_output_token_j", g[i].energy_per_output_token_j},
                 {"power_avg_w", g[i].power_avg_w},
                 {"power_peak_w", g[i].power_peak_w},
                 {"gpu_hours_used", g[i].gpu_hours_used},
                 {"gpu_hours_idle", g[i].gpu_hours_idle},
                 {"gpu_hours_wasted", g[i].gpu_hours_wasted}};
    for (size_t k = 0; k < sizeof reals / sizeof *reals; k++) {
      fprintf(out, ",\"%s\":", reals[k].name);
      util_json_number(out, reals[k].value);
    }
    if (strcmp(key, "tiers") == 0)
      fprintf(out, ",\"deadline_requests\":%llu,\"deadline_met\":%llu",
              (unsigned long long)g[i].deadline_requests, (unsigned long long)g[i].deadline_met);
    fputc('}', out);
  }
  fputc(']', out);
}

void srv_report_print_json_groups(const srv_summary *s, const srv_breakdown *groups, bool with_wall,
                                  FILE *out) {
  fprintf(out,
          "{\"requests\":{\"total\":%llu,\"completed\":%llu,\"unfinished\":%llu,"
          "\"preemptions\":%llu,\"skipped_rows\":%llu,\"dropped_arrivals\":%llu},",
          (unsigned long long)s->total, (unsigned long long)s->completed,
          (unsigned long long)s->unfinished, (unsigned long long)s->preemptions,
          (unsigned long long)s->skipped_rows, (unsigned long long)s->dropped_arrivals);
  json_dist(out, "ttft_ms", &s->ttft_ms);
  json_dist(out, "tpot_ms", &s->tpot_ms);
  json_dist(out, "e2e_ms", &s->e2e_ms);
  json_dist(out, "queue_ms", &s->queue_ms);
  fprintf(out, "\"throughput\":{\"input_tok_s\":%.17g,\"output_tok_s\":%.17g,\"req_s\":%.17g},",
          s->input_tok_s, s->output_tok_s, s->req_s);
  fprintf(out,
          "\"slo\":{\"ttft_ms\":%.17g,\"tpot_ms\":%.17g,\"attainment\":%.17g,"
          "\"goodput_req_s\":%.17g},",
          s->slo_ttft_ms, s->slo_tpot_ms, s->slo_attainment, s->goodput_req_s);
  fprintf(out,
          "\"instances\":{\"count\":%u,\"utilisation_mean\":%.17g,\"utilisation_min\":%.17g,"
          "\"utilisation_max\":%.17g,\"kv_use_mean\":%.17g,\"kv_use_peak\":%.17g,"
          "\"iterations\":%llu},",
          s->instances, s->utilisation_mean, s->utilisation_min, s->utilisation_max, s->kv_use_mean,
          s->kv_use_peak, (unsigned long long)s->iterations);
  json_dist(out, "kv_transfer_ms", &s->kv_transfer_ms);
  json_dist(out, "kv_wait_ms", &s->kv_wait_ms);
  fprintf(out,
          "\"kv\":{\"transfers\":%llu,\"bytes\":%.17g,\"share_of_decode\":%.17g,"
          "\"link_chunks\":%llu},",
          (unsigned long long)s->transfers, s->kv_bytes, s->kv_share_of_decode,
          (unsigned long long)s->link_chunks);
  fprintf(out,
          "\"prefix_cache\":{\"prompt_tokens\":%llu,\"hit_tokens\":%llu,\"tier_hit_tokens\":%llu},",
          (unsigned long long)s->prompt_tokens, (unsigned long long)s->prefix_hit_tokens,
          (unsigned long long)s->tier_hit_tokens);
  fprintf(out,
          "\"kv_tier\":{\"swaps_out\":%llu,\"swaps_in\":%llu,\"load_bytes\":%.17g,"
          "\"store_bytes\":%.17g,\"share_of_busy\":%.17g},",
          (unsigned long long)s->swaps_out, (unsigned long long)s->swaps_in, s->tier_load_bytes,
          s->tier_store_bytes, s->tier_share_of_busy);
  fprintf(out,
          "\"energy\":{\"total_j\":%.17g,\"it_j\":%.17g,\"accelerators_j\":%.17g,"
          "\"hosts_j\":%.17g,\"per_output_token_j\":%.17g,\"pue\":%.17g},",
          s->energy_j, s->it_energy_j, s->accel_energy_j, s->host_energy_j,
          s->energy_per_output_token_j, s->pue);
  fprintf(out,
          "\"power\":{\"avg_w\":%.17g,\"peak_w\":%.17g,\"racks\":%u,\"rack_avg_w_max\":%.17g,"
          "\"rack_peak_w\":%.17g,\"rack_intervals_over_budget\":%llu,"
          "\"site_intervals_over_budget\":%llu},",
          s->power_avg_w, s->power_peak_w, s->racks, s->rack_avg_w_max, s->rack_peak_w,
          (unsigned long long)s->rack_intervals_over, (unsigned long long)s->site_intervals_over);
  fputs("\"cost\":{\"accelerators\":", out);
  fprintf(out, "%llu", (unsigned long long)s->accelerators);
  const struct {
    const char *name;
    double usd;
  } costs[] = {{"accelerators_usd_per_h", s->accelerators_usd_per_h},
               {"energy_usd_per_kwh", s->energy_usd_per_kwh},
               {"energy_usd_per_h", s->energy_usd_per_h},
               {"fleet_usd_per_h", s->fleet_usd_per_h},
               {"run_usd", s->run_usd},
               {"usd_per_m_input_tokens", s->usd_per_m_input_tokens},
               {"usd_per_m_output_tokens", s->usd_per_m_output_tokens}};
  for (size_t i = 0; i < sizeof costs / sizeof *costs; i++) {
    fprintf(out, ",\"%s\":", costs[i].name);
    util_json_number(out, costs[i].usd); /* null where there is no price */
  }
  fputs(",\"unpriced\":", out);
  util_json_string(out, s->unpriced);
  fputs("},", out);
  fprintf(out, "\"sim\":{\"simulated_s\":%.17g,", s->simulated_s);
  if (with_wall) /* and what depends on the partitioning */
    fprintf(out, "\"wall_s\":%.17g,\"windows\":%llu,\"events_per_window\":%.17g,", s->wall_s,
            (unsigned long long)s->windows,
            s->windows ? (double)s->events / (double)s->windows : 0);
  fprintf(out, "\"events\":%llu,\"ranks\":%lld,\"threads\":%lld}", (unsigned long long)s->events,
          (long long)s->ranks, (long long)s->threads);
  if (s->complete)
    fprintf(out, ",\"complete\":true");
  else
    fprintf(out, ",\"complete\":false,\"end_reached_s\":%.17g,\"stop_reason\":\"%s\"",
            (double)s->end_reached_ns * 1e-9, s->stop_reason);
  if (groups) {
    json_groups(out, "pools", groups->pools, groups->pool_count, true);
    json_groups(out, "models", groups->models, groups->model_count, true);
    json_groups(out, "racks", groups->racks, groups->rack_count, false);
    if (groups->tier_count)
      json_groups(out, "tiers", groups->tiers, groups->tier_count, true);
  }
  fputs("}\n", out);
}

void srv_report_print_json(const srv_summary *s, bool with_wall, FILE *out) {
  srv_report_print_json_groups(s, NULL, with_wall, out);
}

static void print_group_rows(FILE *out, const char *title, const srv_group *g, size_t n,
                             bool racks) {
  fprintf(out, "%s:\n  %-20s %5s %8s %9s %17s %17s %9s %6s %6s %10s\n", title, "name", "inst",
          "requests", "completed", "ttft p50/p99 ms", "tpot p50/p99 ms", "out tok/s", "busy%",
          "kv%", racks ? "kW mean/pk" : "J/out tok");
  for (size_t i = 0; i < n; i++) {
    char ttft[32], tpot[32], last[32];
    snprintf(ttft, sizeof ttft, "%.1f/%.1f", g[i].ttft_ms.p50, g[i].ttft_ms.p99);
    snprintf(tpot, sizeof tpot, "%.1f/%.1f", g[i].tpot_ms.p50, g[i].tpot_ms.p99);
    if (racks) /* racks count requests only */
      snprintf(ttft, sizeof ttft, "-"), snprintf(tpot, sizeof tpot, "-");
    if (racks)
      snprintf(last, sizeof last, "%.1f/%.1f", g[i].power_avg_w * 1e-3, g[i].power_peak_w * 1e-3);
    else
      snprintf(last, sizeof last, "%.3f", g[i].energy_per_output_token_j);
    fprintf(out, "  %-20.20s %5u %8llu %9llu %17s %17s %9.1f %6.1f %6.1f %10s\n", g[i].name,
            g[i].instances, (unsigned long long)g[i].requests, (unsigned long long)g[i].completed,
            ttft, tpot, g[i].output_tok_s, 100 * g[i].utilisation_mean, 100 * g[i].kv_use_mean,
            last);
  }
}

/* Tiers group requests, not instances: their latencies, output and deadlines. */
static void print_tier_rows(FILE *out, const srv_group *g, size_t n) {
  fprintf(out, "per tier:\n  %-12s %8s %9s %17s %17s %19s %9s %15s\n", "name", "requests",
          "completed", "ttft p50/p99 ms", "tpot p50/p99 ms", "e2e p50/p99 ms", "out tok/s",
          "deadline met");
  for (size_t i = 0; i < n; i++) {
    char ttft[32], tpot[32], e2e[32], met[32] = "-";
    snprintf(ttft, sizeof ttft, "%.1f/%.1f", g[i].ttft_ms.p50, g[i].ttft_ms.p99);
    snprintf(tpot, sizeof tpot, "%.1f/%.1f", g[i].tpot_ms.p50, g[i].tpot_ms.p99);
    snprintf(e2e, sizeof e2e, "%.1f/%.1f", g[i].e2e_ms.p50, g[i].e2e_ms.p99);
    if (g[i].deadline_requests)
      snprintf(met, sizeof met, "%llu/%llu", (unsigned long long)g[i].deadline_met,
               (unsigned long long)g[i].deadline_requests);
    fprintf(out, "  %-12.12s %8llu %9llu %17s %17s %19s %9.1f %15s\n", g[i].name,
            (unsigned long long)g[i].requests, (unsigned long long)g[i].completed, ttft, tpot, e2e,
            g[i].output_tok_s, met);
  }
}

void srv_report_print_groups(const srv_breakdown *groups, FILE *out) {
  static const char *const roles[] = {"both", "prefill", "decode"};
  fputs("pools (deployments):\n", out);
  for (size_t i = 0; i < groups->pool_count; i++) {
    const srv_group *g = &groups->pools[i];
    fprintf(out, "  %s: %u x %s on %s, role %s\n", g->name, g->instances, g->model, g->accelerator,
            g->role < 3 ? roles[g->role] : "unknown");
    if (g->scaling) /* instances with a lifecycle: where their accelerator-hours went */
      fprintf(out,
              "    GPU-hours %.3f: used %.3f, idle %.3f, wasted %.3f (provisioning, loading, "
              "warm, draining)\n",
              g->gpu_hours_used + g->gpu_hours_idle + g->gpu_hours_wasted, g->gpu_hours_used,
              g->gpu_hours_idle, g->gpu_hours_wasted);
  }
  print_group_rows(out, "per pool", groups->pools, groups->pool_count, false);
  print_group_rows(out, "per model", groups->models, groups->model_count, false);
  print_group_rows(out, "per rack (IT power)", groups->racks, groups->rack_count, true);
  if (groups->tier_count)
    print_tier_rows(out, groups->tiers, groups->tier_count);
  fputs(
      "(requests: those that ran on the group's instances, prompt or decode; J/out tok: the "
      "instances' accelerator energy, idle included, per output token)\n",
      out);
}

/* The headline figures compared by report A B, read from a summary. */
typedef struct figure {
  const char *name, *unit;
  double (*get)(const srv_summary *s);
} figure;

#define FIGURE(name, unit, expr)                                                                   \
  static double fig_##name(const srv_summary *s) { return (double)(expr); }
FIGURE(requests_completed, "", s->completed)
FIGURE(requests_unfinished, "", s->unfinished)
FIGURE(ttft_ms_p50, "ms", s->ttft_ms.p50)
FIGURE(ttft_ms_p99, "ms", s->ttft_ms.p99)
FIGURE(tpot_ms_p50, "ms", s->tpot_ms.p50)
FIGURE(tpot_ms_p99, "ms", s->tpot_ms.p99)
FIGURE(e2e_ms_p50, "ms", s->e2e_ms.p50)
FIGURE(e2e_ms_p99, "ms", s->e2e_ms.p99)
FIGURE(queue_ms_p99, "ms", s->queue_ms.p99)
FIGURE(output_tok_s, "tok/s", s->output_tok_s)
FIGURE(req_s, "req/s", s->req_s)
FIGURE(slo_attainment, "", s->slo_attainment)
FIGURE(goodput_req_s, "req/s", s->goodput_req_s)
FIGURE(instances, "", s->instances)
FIGURE(utilisation_mean, "", s->utilisation_mean)
FIGURE(kv_use_mean, "", s->kv_use_mean)
FIGURE(kv_transfers, "", s->transfers)
FIGURE(kv_transfer_ms_p99, "ms", s->kv_transfer_ms.p99)
FIGURE(energy_kwh, "kWh", s->energy_j / 3.6e6)
FIGURE(energy_per_output_token_j, "J", s->energy_per_output_token_j)
FIGURE(accelerator_energy_kwh, "kWh", s->accel_energy_j / 3.6e6)
FIGURE(host_energy_kwh, "kWh", s->host_energy_j / 3.6e6)
FIGURE(power_avg_kw, "kW", s->power_avg_w * 1e-3)
FIGURE(power_peak_kw, "kW", s->power_peak_w * 1e-3)
FIGURE(simulated_s, "s", s->simulated_s)
#undef FIGURE

static const figure figures[] = {
    {"requests_completed", "", fig_requests_completed},
    {"requests_unfinished", "", fig_requests_unfinished},
    {"ttft_ms_p50", "ms", fig_ttft_ms_p50},
    {"ttft_ms_p99", "ms", fig_ttft_ms_p99},
    {"tpot_ms_p50", "ms", fig_tpot_ms_p50},
    {"tpot_ms_p99", "ms", fig_tpot_ms_p99},
    {"e2e_ms_p50", "ms", fig_e2e_ms_p50},
    {"e2e_ms_p99", "ms", fig_e2e_ms_p99},
    {"queue_ms_p99", "ms", fig_queue_ms_p99},
    {"output_tok_s", "tok/s", fig_output_tok_s},
    {"req_s", "req/s", fig_req_s},
    {"slo_attainment", "", fig_slo_attainment},
    {"goodput_req_s", "req/s", fig_goodput_req_s},
    {"instances", "", fig_instances},
    {"utilisation_mean", "", fig_utilisation_mean},
    {"kv_use_mean", "", fig_kv_use_mean},
    {"kv_transfers", "", fig_kv_transfers},
    {"kv_transfer_ms_p99", "ms", fig_kv_transfer_ms_p99},
    {"energy_kwh", "kWh", fig_energy_kwh},
    {"energy_per_output_token_j", "J", fig_energy_per_output_token_j},
    {"accelerator_energy_kwh", "kWh", fig_accelerator_energy_kwh},
    {"host_energy_kwh", "kWh", fig_host_energy_kwh},
    {"power_avg_kw", "kW", fig_power_avg_kw},
    {"power_peak_kw", "kW", fig_power_peak_kw},
    {"simulated_s", "s", fig_simulated_s},
};

void srv_report_print_comparison(const char *a_path, const srv_summary *a, const char *b_path,
                                 const srv_summary *b, bool json, FILE *out) {
  const size_t n = sizeof figures / sizeof *figures;
  if (json) {
    fputs("{\"a\":{\"path\":", out);
    util_json_string(out, a_path);
    fputs(",\"summary\":", out);
    srv_report_print_json(a, false, out);
    fputs("},\"b\":{\"path\":", out);
    util_json_string(out, b_path);
    fputs(",\"summary\":", out);
    srv_report_print_json(b, false, out);
    fputs("},\"delta\":{", out);
    for (size_t i = 0; i < n; i++) {
      fprintf(out, "%s\"%s\":", i ? "," : "", figures[i].name);
      util_json_number(out, figures[i].get(b) - figures[i].get(a));
    }
    fputs("}}\n", out);
    return;
  }
  fprintf(out, "A: %s\nB: %s\n  %-26s %14s %14s %14s %9s\n", a_path, b_path, "figure", "A", "B",
          "B - A", "change");
  for (size_t i = 0; i < n; i++) {
    double x = figures[i].get(a), y = figures[i].get(b);
    char name[48], change[16] = "";
    snprintf(name, sizeof name, "%s%s%s%s", figures[i].name, figures[i].unit[0] ? " (" : "",
             figures[i].unit, figures[i].unit[0] ? ")" : "");
    if (x != 0)
      snprintf(change, sizeof change, "%+.1f%%", 100 * (y - x) / fabs(x));
    fprintf(out, "  %-26s %14.6g %14.6g %+14.6g %9s\n", name, x, y, y - x, change);
  }
}
