/* Autoscaling decisions: HPA's rule, tolerance, stabilisation windows, cooldowns and limits;
 * Holt-Winters learning a season; and forecast-driven decisions that see no future bin. */
#include <CUnit/Basic.h>

#include "harness.h"

#include <math.h>

#include "core/rng.h"
#include "jobs/autoscale.h"

static const int64_t s_ns = 1000000000LL;

static job_hpa make_hpa(double target, uint32_t min, uint32_t max) {
  job_hpa_config c;
  job_hpa_defaults(&c);
  c.target = target, c.min_instances = min, c.max_instances = max;
  job_hpa h;
  job_hpa_init(&h, &c);
  return h;
}

static void test_hpa_scales_up_at_once_to_the_metric_over_the_target(void) {
  job_hpa h = make_hpa(4, 1, 10);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 0, 2, 8.5), 2);          /* 1.06: inside the 0.1 tolerance */
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 15 * s_ns, 2, 20), 5);   /* ceil(2 x 10 / 4) */
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 30 * s_ns, 5, 400), 10); /* at most max */
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 45 * s_ns, 0, 0), 1);    /* at least min */
  job_hpa_free(&h);
}

static void test_hpa_scales_down_only_after_the_stabilisation_window(void) {
  job_hpa h = make_hpa(4, 1, 10);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 0, 8, 32), 8);
  /* The load falls to a quarter: the 300 s window keeps 8 until the last 8 leaves it. */
  for (int64_t t = 15; t <= 300; t += 15)
    CU_ASSERT_EQUAL(job_hpa_decide(&h, t * s_ns, 8, 8), 8);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 315 * s_ns, 8, 8), 2);
  job_hpa_free(&h);
}

static void test_hpa_cooldowns_hold_changes_after_a_change(void) {
  job_hpa_config c;
  job_hpa_defaults(&c);
  c.target = 1, c.max_instances = 100, c.down_window_ns = 0, c.up_cooldown_ns = 60 * s_ns;
  job_hpa h;
  job_hpa_init(&h, &c);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 0, 2, 4), 4);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 30 * s_ns, 4, 8), 4); /* up cooldown */
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 45 * s_ns, 4, 2), 2); /* down has none */
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 100 * s_ns, 2, 8), 2);
  CU_ASSERT_EQUAL(job_hpa_decide(&h, 105 * s_ns, 2, 8), 8);
  job_hpa_free(&h);
}

/* A day of a curve with a trend, in 48 bins a season. */
static double curve(uint64_t t) {
  return 100 + 0.05 * (double)t + 40 * sin(2 * 3.141592653589793 * (double)(t % 48) / 48);
}

static void test_holt_winters_learns_a_seasonal_curve(void) {
  job_holt_winters hw;
  CU_ASSERT_EQUAL_FATAL(job_holt_winters_init(&hw, 48, 0.3, 0.05, 0.3), 0);
  for (uint64_t t = 0; t < 12; t++)
    job_holt_winters_observe(&hw, curve(t));
  /* before a season: the mean of the last 48 / 24 = 2 bins */
  CU_ASSERT_DOUBLE_EQUAL(job_holt_winters_forecast(&hw, 5), (curve(10) + curve(11)) / 2, 1e-9);
  for (uint64_t t = 12; t < 48 * 6; t++)
    job_holt_winters_observe(&hw, curve(t));
  /* within 4% over the next season (the curve swings 40%; the first season's trend stays in the
   * seasonal terms as a small sawtooth) */
  for (uint32_t ahead = 1; ahead <= 48; ahead++)
    CU_ASSERT(fabs(job_holt_winters_forecast(&hw, ahead) - curve(48 * 6 - 1 + ahead)) <
              0.04 * curve(48 * 6 - 1 + ahead));
  job_holt_winters_free(&hw);
}

/* Decisions every 4 bins over 4 days, observing one bin at a time: decisions[k] made after bin
 * 4k + 3. */
static void decide_all(const double *series, size_t bins, uint32_t *decisions) {
  job_holt_winters hw;
  CU_ASSERT_EQUAL_FATAL(job_holt_winters_init(&hw, 48, 0.3, 0.05, 0.3), 0);
  for (size_t t = 0; t < bins; t++) {
    job_holt_winters_observe(&hw, series[t]);
    if (t % 4 == 3)
      decisions[t / 4] = job_forecast_instances(&hw, 1, 8, 10, 1, 100);
  }
  job_holt_winters_free(&hw);
}

/* The future of the series is perturbed from bin `cut` on: every decision made before it sees the
 * same bins and stays the same; the ones after it change (so the perturbation matters). */
static void test_a_forecast_uses_no_future_data(void) {
  enum { BINS = 48 * 4, CUT = 48 * 2 + 20 };
  double series[BINS], perturbed[BINS];
  uint32_t before[BINS / 4], after[BINS / 4];
  for (size_t t = 0; t < BINS; t++)
    series[t] = perturbed[t] = curve(t);
  for (size_t t = CUT; t < BINS; t++)
    perturbed[t] = 3 * series[t] + 50;
  decide_all(series, BINS, before);
  decide_all(perturbed, BINS, after);
  size_t changed = 0;
  for (size_t k = 0; k < BINS / 4; k++) {
    if (4 * k + 3 < CUT) {
      CU_ASSERT_EQUAL(before[k], after[k]);
    } else {
      changed += before[k] != after[k];
    }
  }
  CU_ASSERT(changed > 10);
}

static void test_forecast_instances_cover_the_peak_within_limits(void) {
  job_holt_winters hw;
  CU_ASSERT_EQUAL_FATAL(job_holt_winters_init(&hw, 48, 0.3, 0.05, 0.3), 0);
  for (int t = 0; t < 10; t++)
    job_holt_winters_observe(&hw, t < 8 ? 10 : 35); /* recent mean: 35 */
  CU_ASSERT_EQUAL(job_forecast_instances(&hw, 1, 4, 10, 1, 100), 4);
  CU_ASSERT_EQUAL(job_forecast_instances(&hw, 1, 4, 10, 1, 3), 3);
  CU_ASSERT_EQUAL(job_forecast_instances(&hw, 1, 4, 100, 2, 10), 2);
  job_holt_winters_free(&hw);
  CU_ASSERT_NOT_EQUAL(job_holt_winters_init(&hw, 48, 1.5, 0, 0), 0);
}

/* Checkpoints: an HPA reloaded from its own checkpoint every few decisions decides as one never
 * interrupted, through windows and cooldowns; damaged records are refused. */
static void test_a_loaded_hpa_decides_as_the_saved_one(void) {
  job_hpa_config c;
  job_hpa_defaults(&c);
  c.target = 3, c.min_instances = 1, c.max_instances = 40;
  c.up_window_ns = 30 * s_ns, c.up_cooldown_ns = 20 * s_ns, c.down_cooldown_ns = 60 * s_ns;
  job_hpa a, b;
  job_hpa_init(&a, &c);
  job_hpa_init(&b, &c);
  core_rng rng;
  core_rng_init(&rng, 11, 0);
  int64_t now = 0;
  uint32_t current = 1, changes = 0;
  for (int k = 0; k < 2000; k++) {
    now += (1 + core_rng_below(&rng, 20)) * s_ns;
    double metric = core_rng_below(&rng, 100) * (1 + sin(k / 50.0));
    int64_t next = job_hpa_decide(&a, now, current, metric);
    CU_ASSERT_EQUAL_FATAL(job_hpa_decide(&b, now, current, metric), next);
    changes += next != current;
    current = (uint32_t)next;
    if (k % 3 != 0)
      continue;
    core_pack p = {0};
    job_hpa_save(&b, &p);
    job_hpa_free(&b);
    job_hpa_init(&b, &c);
    core_unpack u = core_unpack_of(p.data, p.len);
    CU_ASSERT_FATAL(!p.failed && job_hpa_load(&b, &u) == 0 && core_unpack_done(&u));
    job_hpa t;
    job_hpa_init(&t, &c);
    u = core_unpack_of(p.data, p.len - 1);
    CU_ASSERT(job_hpa_load(&t, &u) != 0);
    job_hpa_free(&t);
    core_pack_free(&p);
  }
  CU_ASSERT(changes > 20);
  job_hpa_free(&a);
  job_hpa_free(&b);
}

/* Holt-Winters reloaded after every bin, before and after its first season, forecasts as one never
 * interrupted, to the bit; another season length is refused. */
static void test_a_loaded_holt_winters_forecasts_as_the_saved_one(void) {
  enum { SEASON = 48 };
  job_holt_winters a, b, other;
  CU_ASSERT_FATAL(job_holt_winters_init(&a, SEASON, 0.3, 0.1, 0.2) == 0);
  CU_ASSERT_FATAL(job_holt_winters_init(&b, SEASON, 0.3, 0.1, 0.2) == 0);
  core_rng rng;
  core_rng_init(&rng, 12, 0);
  for (uint64_t t = 0; t < 5 * SEASON; t++) {
    double value = curve(t) + core_rng_below(&rng, 1000) / 100.0;
    job_holt_winters_observe(&a, value);
    job_holt_winters_observe(&b, value);
    core_pack p = {0};
    job_holt_winters_save(&b, &p);
    job_holt_winters_free(&b);
    CU_ASSERT_FATAL(job_holt_winters_init(&b, SEASON, 0.3, 0.1, 0.2) == 0);
    core_unpack u = core_unpack_of(p.data, p.len);
    CU_ASSERT_FATAL(!p.failed && job_holt_winters_load(&b, &u) == 0 && core_unpack_done(&u));
    CU_ASSERT_FATAL(job_holt_winters_init(&other, SEASON + 1, 0.3, 0.1, 0.2) == 0);
    u = core_unpack_of(p.data, p.len);
    CU_ASSERT(job_holt_winters_load(&other, &u) != 0);
    job_holt_winters_free(&other);
    core_pack_free(&p);
    for (uint32_t ahead = 1; ahead <= 2 * SEASON; ahead++)
      CU_ASSERT_EQUAL_FATAL(job_holt_winters_forecast(&a, ahead),
                            job_holt_winters_forecast(&b, ahead));
  }
  job_holt_winters_free(&a);
  job_holt_winters_free(&b);
}

int main(void) {
  static const harness_test tests[] = {
      {"hpa scales up at once to the metric over the target",
       test_hpa_scales_up_at_once_to_the_metric_over_the_target},
      {"hpa scales down only after the stabilisation window",
       test_hpa_scales_down_only_after_the_stabilisation_window},
      {"hpa cooldowns hold changes after a change", test_hpa_cooldowns_hold_changes_after_a_change},
      {"holt-winters learns a seasonal curve", test_holt_winters_learns_a_seasonal_curve},
      {"a forecast uses no future data", test_a_forecast_uses_no_future_data},
      {"forecast instances cover the peak within limits",
       test_forecast_instances_cover_the_peak_within_limits},
      {"a loaded hpa decides as the saved one", test_a_loaded_hpa_decides_as_the_saved_one},
      {"a loaded holt-winters forecasts as the saved one",
       test_a_loaded_holt_winters_forecasts_as_the_saved_one},
      {NULL, NULL},
  };
  return harness_run("autoscale", tests, NULL, true);
}
