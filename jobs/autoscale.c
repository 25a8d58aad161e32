/* Autoscaling decisions: HPA's reactive recommendation, stabilised and cooled down, and
 * Holt-Winters additive forecasting. */
#include "jobs/autoscale.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void job_hpa_defaults(job_hpa_config *c) {
  *c = (job_hpa_config){.target = 1,
                        .tolerance = 0.1,
                        .up_window_ns = 0,
                        .down_window_ns = 300000000000LL,
                        .up_cooldown_ns = 0,
                        .down_cooldown_ns = 0,
                        .min_instances = 0,
                        .max_instances = UINT32_MAX};
}

void job_hpa_init(job_hpa *h, const job_hpa_config *cfg) {
  *h = (job_hpa){.cfg = *cfg, .last_change_ns = INT64_MIN};
}

void job_hpa_free(job_hpa *h) {
  free(h->recs);
  h->recs = NULL;
  h->count = h->cap = 0;
}

static uint32_t clamp(const job_hpa_config *c, double n) {
  if (n < c->min_instances)
    return c->min_instances;
  return n > c->max_instances ? c->max_instances : (uint32_t)n;
}

int64_t job_hpa_decide(job_hpa *h, int64_t now_ns, uint32_t current, double metric_sum) {
  const job_hpa_config *c = &h->cfg;
  /* HPA's rule: desired = ceil(current x metric / target), metric the per-instance mean; kept at
   * current inside the tolerance. From zero instances the sum alone says how many are needed. */
  double desired = current;
  if (current == 0) {
    desired = ceil(metric_sum / c->target);
  } else {
    double ratio = metric_sum / current / c->target;
    if (fabs(ratio - 1) > c->tolerance)
      desired = ceil(current * ratio);
  }
  uint32_t rec = clamp(c, desired);
  /* Stabilisation (Kubernetes' stabilizeRecommendationWithBehaviors): up to the least
   * recommendation of the scale-up window, down to the greatest of the scale-down window. */
  int64_t keep_ns = c->up_window_ns > c->down_window_ns ? c->up_window_ns : c->down_window_ns;
  size_t drop = 0;
  while (drop < h->count && h->recs[drop].time_ns < now_ns - keep_ns)
    drop++;
  if (drop) { /* (recs is NULL before the first) */
    memmove(h->recs, h->recs + drop, (h->count - drop) * sizeof *h->recs);
    h->count -= drop;
  }
  if (h->count == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 16;
    job_hpa_recommendation *grown = realloc(h->recs, cap * sizeof *grown);
    if (!grown)
      return -1;
    h->recs = grown, h->cap = cap;
  }
  h->recs[h->count++] = (job_hpa_recommendation){now_ns, rec};
  uint32_t up = rec, down = rec;
  for (size_t i = 0; i < h->count; i++) {
    if (h->recs[i].time_ns >= now_ns - c->up_window_ns && h->recs[i].instances < up)
      up = h->recs[i].instances;
    if (h->recs[i].time_ns >= now_ns - c->down_window_ns && h->recs[i].instances > down)
      down = h->recs[i].instances;
  }
  uint32_t next = current < up ? up : current;
  next = next > down ? down : next;
  next = clamp(c, next);
  int64_t since_ns = h->last_change_ns == INT64_MIN ? INT64_MAX : now_ns - h->last_change_ns;
  if ((next > current && since_ns < c->up_cooldown_ns) ||
      (next < current && since_ns < c->down_cooldown_ns))
    next = current;
  if (next != current)
    h->last_change_ns = now_ns;
  return next;
}

int job_holt_winters_init(job_holt_winters *hw, uint32_t season_bins, double alpha, double beta,
                          double gamma) {
  *hw = (job_holt_winters){
      .alpha = alpha, .beta = beta, .gamma = gamma, .season_bins = season_bins};
  if (season_bins == 0 || !(alpha >= 0 && alpha <= 1) || !(beta >= 0 && beta <= 1) ||
      !(gamma >= 0 && gamma <= 1))
    return -1;
  hw->season = calloc(season_bins, sizeof *hw->season);
  hw->first = calloc(season_bins, sizeof *hw->first);
  if (!hw->season || !hw->first) {
    job_holt_winters_free(hw);
    return -1;
  }
  return 0;
}

void job_holt_winters_free(job_holt_winters *hw) {
  free(hw->season);
  free(hw->first);
  hw->season = hw->first = NULL;
}

void job_holt_winters_observe(job_holt_winters *hw, double value) {
  uint32_t m = hw->season_bins, phase = (uint32_t)(hw->observed % m);
  if (hw->observed < m) {
    hw->first[phase] = value;
    if (++hw->observed == m) { /* the first season starts the model */
      double sum = 0;
      for (uint32_t i = 0; i < m; i++)
        sum += hw->first[i];
      hw->level = sum / m;
      hw->trend = 0;
      for (uint32_t i = 0; i < m; i++)
        hw->season[i] = hw->first[i] - hw->level;
    }
    return;
  }
  double level = hw->level;
  hw->level = hw->alpha * (value - hw->season[phase]) + (1 - hw->alpha) * (level + hw->trend);
  hw->trend = hw->beta * (hw->level - level) + (1 - hw->beta) * hw->trend;
  hw->season[phase] = hw->gamma * (value - hw->level) + (1 - hw->gamma) * hw->season[phase];
  hw->observed++;
}

double job_holt_winters_forecast(const job_holt_winters *hw, uint32_t ahead) {
  uint32_t m = hw->season_bins;
  if (hw->observed < m) { /* not a season yet: the recent mean */
    uint64_t n = m / 24 ? m / 24 : 1;
    n = n < hw->observed ? n : hw->observed;
    double sum = 0;
    for (uint64_t i = hw->observed - n; i < hw->observed; i++)
      sum += hw->first[i];
    return n ? sum / (double)n : 0;
  }
  uint32_t phase = (uint32_t)((hw->observed - 1 + ahead) % m);
  return hw->level + (double)ahead * hw->trend + hw->season[phase];
}

uint32_t job_forecast_instances(const job_holt_winters *hw, uint32_t first_ahead,
                                uint32_t last_ahead, double capacity_per_bin,
                                uint32_t min_instances, uint32_t max_instances) {
  double peak = 0;
  for (uint32_t ahead = first_ahead ? first_ahead : 1; ahead <= last_ahead; ahead++) {
    double f = job_holt_winters_forecast(hw, ahead);
    peak = f > peak ? f : peak;
  }
  double n = ceil(peak / capacity_per_bin);
  if (n < min_instances)
    return min_instances;
  return n > max_instances ? max_instances : (uint32_t)n;
}

void job_hpa_save(const job_hpa *h, core_pack *out) {
  core_pack_array(out, h->recs, h->count, sizeof *h->recs);
  CORE_PACK(out, h->last_change_ns);
}

int job_hpa_load(job_hpa *h, core_unpack *in) {
  job_hpa_free(h);
  h->recs = core_unpack_array(in, sizeof *h->recs, SIZE_MAX / sizeof *h->recs, &h->count);
  h->cap = h->count;
  CORE_UNPACK(in, h->last_change_ns);
  for (size_t i = 1; i < h->count; i++)
    if (h->recs[i].time_ns < h->recs[i - 1].time_ns)
      return -1;
  return in->failed ? -1 : 0;
}

void job_holt_winters_save(const job_holt_winters *hw, core_pack *out) {
  bool started = hw->observed >= hw->season_bins;
  CORE_PACK(out, hw->season_bins);
  CORE_PACK(out, hw->observed);
  CORE_PACK(out, hw->level);
  CORE_PACK(out, hw->trend);
  core_pack_array(out, hw->first, started ? 0 : hw->observed, sizeof *hw->first);
  core_pack_array(out, hw->season, started ? hw->season_bins : 0, sizeof *hw->season);
}

int job_holt_winters_load(job_holt_winters *hw, core_unpack *in) {
  uint32_t season_bins;
  size_t first, season;
  CORE_UNPACK(in, season_bins);
  CORE_UNPACK(in, hw->observed);
  CORE_UNPACK(in, hw->level);
  CORE_UNPACK(in, hw->trend);
  if (in->failed || season_bins != hw->season_bins)
    return -1;
  bool started = hw->observed >= hw->season_bins;
  core_unpack_array_into(in, hw->first, sizeof *hw->first, hw->season_bins, &first);
  core_unpack_array_into(in, hw->season, sizeof *hw->season, hw->season_bins, &season);
  return in->failed || first != (started ? 0 : hw->observed) ||
                 season != (started ? hw->season_bins : 0)
             ? -1
             : 0;
}
