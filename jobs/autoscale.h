/* Autoscaling decisions, pure logic over what a controller has observed so far: a reactive
 * recommendation as Kubernetes' Horizontal Pod Autoscaler makes it (a metric against a target,
 * a tolerance, stabilisation windows, cooldowns), and Holt-Winters forecasting (additive trend and
 * seasonality) of a per-bin rate, updated one observed bin at a time so that no forecast can see
 * a bin after the ones it was given. */
#ifndef JOB_AUTOSCALE_H
#define JOB_AUTOSCALE_H

#include <stddef.h>
#include <stdint.h>

#include "core/pack.h"

/* The reactive controller. Defaults (job_hpa_defaults) are Kubernetes' (kubernetes.io, "Horizontal
 * Pod Autoscaling": --horizontal-pod-autoscaler-tolerance 0.1; "Stabilization window": scale-down
 * 300 s, scale-up 0 s). Kubernetes has no cooldowns since 1.12 (its upscale and downscale delays
 * gave way to the windows): they default to 0 here and are for older behaviour. */
typedef struct job_hpa_config {
  double target;            /* the metric per instance aimed at (> 0) */
  double tolerance;         /* no change while |metric / target - 1| <= tolerance */
  int64_t up_window_ns;     /* scale up to the least recommendation within it */
  int64_t down_window_ns;   /* scale down to the greatest recommendation within it */
  int64_t up_cooldown_ns;   /* no scale-up sooner than this after any change */
  int64_t down_cooldown_ns; /* no scale-down sooner than this after any change */
  uint32_t min_instances, max_instances;
} job_hpa_config;

void job_hpa_defaults(job_hpa_config *c);

typedef struct job_hpa_recommendation {
  int64_t time_ns;
  uint32_t instances;
} job_hpa_recommendation;

typedef struct job_hpa {
  job_hpa_config cfg;
  job_hpa_recommendation *recs; /* those still inside the longer window, oldest first */
  size_t count, cap;
  int64_t last_change_ns; /* INT64_MIN: none yet */
} job_hpa;

void job_hpa_init(job_hpa *h, const job_hpa_config *cfg);
void job_hpa_free(job_hpa *h);
/* The instance count to run from now, given `current` instances (those serving or starting) and
 * the metric summed over them (e.g. requests outstanding and waiting): HPA's
 * ceil(current x metric / (current x target)), within [min, max], stabilised and cooled down.
 * Returns -1 out of memory. */
int64_t job_hpa_decide(job_hpa *h, int64_t now_ns, uint32_t current, double metric_sum);

/* Holt-Winters with additive trend and seasonality over bins of a rate. Smoothing factors are
 * given, not fitted, so a forecast depends on the observed bins alone, in order. Until a whole
 * season has been seen, forecasts are the mean of the last season_bins / 24 bins observed (an hour
 * of a daily season; fewer at the start). The first whole season starts the model: level its mean,
 * trend 0, each phase's seasonal term its difference from the mean. */
typedef struct job_holt_winters {
  double alpha, beta, gamma; /* level, trend and season smoothing, in [0, 1] */
  uint32_t season_bins;      /* bins in one season (e.g. 1440 one-minute bins: a day) */
  double level, trend;
  double *season;    /* [season_bins]: the seasonal term of each phase */
  double *first;     /* [season_bins]: the first season's bins, to start from */
  uint64_t observed; /* bins seen */
} job_holt_winters;

/* Returns 0, or -1 out of memory or for parameters out of range. */
int job_holt_winters_init(job_holt_winters *hw, uint32_t season_bins, double alpha, double beta,
                          double gamma);
void job_holt_winters_free(job_holt_winters *hw);
/* The next bin's value. */
void job_holt_winters_observe(job_holt_winters *hw, double value);
/* The forecast `ahead` bins after the last one observed (ahead >= 1). */
double job_holt_winters_forecast(const job_holt_winters *hw, uint32_t ahead);
/* The instances a forecast asks for: the greatest forecast of bins [first_ahead, last_ahead]
 * (e.g. from when instances started now would be serving to the end of the next allocation)
 * over one instance's capacity per bin, rounded up, within [min_instances, max_instances]. */
uint32_t job_forecast_instances(const job_holt_winters *hw, uint32_t first_ahead,
                                uint32_t last_ahead, double capacity_per_bin,
                                uint32_t min_instances, uint32_t max_instances);

/* Checkpoints: the recommendations still in the windows and the last change; the model (level,
 * trend, bins observed, and the seasonal terms, or the first season's bins while it lasts). Load
 * into one made by job_hpa_init / job_holt_winters_init with the same arguments, unused; returns
 * 0, or -1 for data that does not fit it (out of order, another season length). */
void job_hpa_save(const job_hpa *h, core_pack *out);
int job_hpa_load(job_hpa *h, core_unpack *in);
void job_holt_winters_save(const job_holt_winters *hw, core_pack *out);
int job_holt_winters_load(job_holt_winters *hw, core_unpack *in);

#endif
