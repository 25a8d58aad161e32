/* Tests of serving/study.c: a study's axis blocks expand into the configurations written (grids,
 * zipped keys, lists, seeded random samples, their product), with the study's fixed sets first,
 * and bad studies are refused at their location. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "serving/study.h"

/* Loads text as a study file; returns the study or NULL with err filled. */
static srv_study *load(const char *text, char *err, size_t err_len) {
  char path[] = "/tmp/test_study_XXXXXX";
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  srv_study *st = NULL;
  if (srv_study_load(path, &st, err, err_len) != 0)
    st = NULL;
  unlink(path);
  return st;
}

static void test_grid_expands_as_written_last_key_fastest(void) {
  char err[512];
  srv_study *st = load(
      "base: default.yaml\n"
      "set: {workload.max_requests: 50}\n"
      "axes:\n"
      "  - grid: {router.policy: [round_robin, least_kv], "
      "deployments.0.count: [1, 2, 4]}\n",
      err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  CU_ASSERT_EQUAL(st->config_count, 6);
  CU_ASSERT_EQUAL(st->key_count, 2);
  CU_ASSERT_FALSE(st->key_numeric[0]);
  CU_ASSERT_TRUE(st->key_numeric[1]);
  CU_ASSERT_STRING_EQUAL(st->configs[0].label, "router.policy=round_robin, deployments.0.count=1");
  CU_ASSERT_STRING_EQUAL(st->configs[2].label, "router.policy=round_robin, deployments.0.count=4");
  CU_ASSERT_STRING_EQUAL(st->configs[3].label, "router.policy=least_kv, deployments.0.count=1");
  CU_ASSERT_STRING_EQUAL(st->configs[5].label, "router.policy=least_kv, deployments.0.count=4");
  CU_ASSERT_EQUAL(st->configs[4].set_count, 3);
  CU_ASSERT_STRING_EQUAL(st->configs[4].sets[0], "workload.max_requests=50");
  CU_ASSERT_STRING_EQUAL(st->configs[4].sets[1], "router.policy=least_kv");
  CU_ASSERT_STRING_EQUAL(st->configs[4].sets[2], "deployments.0.count=2");
  CU_ASSERT_PTR_NOT_NULL(strstr(st->base_path, "/default.yaml"));
  CU_ASSERT_EQUAL(st->mode, SRV_STUDY_GRID);
  srv_study_free(st);
}

static void test_zip_and_list_blocks_multiply_with_the_first_block_slowest(void) {
  char err[512];
  srv_study *st = load(
      "axes:\n"
      "  - zip: {deployments.0.tp: [1, 2], deployments.0.count: [8, 4]}\n"
      "  - list: [{router.policy: prefix}, {router.policy: power_of_two}]\n",
      err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  CU_ASSERT_EQUAL(st->config_count, 4);
  CU_ASSERT_STRING_EQUAL(st->base_path, "");
  CU_ASSERT_STRING_EQUAL(st->configs[0].label,
                         "deployments.0.tp=1, deployments.0.count=8, router.policy=prefix");
  CU_ASSERT_STRING_EQUAL(st->configs[1].label,
                         "deployments.0.tp=1, deployments.0.count=8, router.policy=power_of_two");
  CU_ASSERT_STRING_EQUAL(st->configs[3].label,
                         "deployments.0.tp=2, deployments.0.count=4, router.policy=power_of_two");
  srv_study_free(st);
}

static void test_no_axes_is_one_configuration_of_the_base(void) {
  char err[512];
  srv_study *st = load("set: {workload.max_requests: 10}\n", err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  CU_ASSERT_EQUAL(st->config_count, 1);
  CU_ASSERT_STRING_EQUAL(st->configs[0].label, "");
  CU_ASSERT_EQUAL(st->configs[0].set_count, 1);
  srv_study_free(st);
}

static void test_random_samples_are_seeded_in_range_and_repeatable(void) {
  const char *text =
      "axes:\n"
      "  - random:\n"
      "      samples: 50\n"
      "      seed: SEED\n"
      "      keys:\n"
      "        workload.rate_scale: {uniform: [0.5, 2]}\n"
      "        deployments.0.count: {int: [2, 5]}\n"
      "        router.policy: {choice: [round_robin, least_kv]}\n";
  char a_text[512], b_text[512], err[512];
  snprintf(a_text, sizeof a_text, "%s", text);
  memcpy(strstr(a_text, "SEED"), "7   ", 4);
  snprintf(b_text, sizeof b_text, "%s", text);
  memcpy(strstr(b_text, "SEED"), "8   ", 4);
  srv_study *a = load(a_text, err, sizeof err), *again = load(a_text, err, sizeof err),
            *b = load(b_text, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(again);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(a->config_count, 50);
  bool counts_seen[6] = {0}, policies_seen[2] = {0};
  size_t same_as_b = 0;
  for (size_t c = 0; c < a->config_count; c++) {
    CU_ASSERT_STRING_EQUAL(a->configs[c].label, again->configs[c].label);
    same_as_b += strcmp(a->configs[c].label, b->configs[c].label) == 0;
    double rate = strtod(a->configs[c].values[0].value, NULL);
    CU_ASSERT(rate >= 0.5 && rate <= 2);
    long count = strtol(a->configs[c].values[1].value, NULL, 10);
    CU_ASSERT(count >= 2 && count <= 5);
    if (count >= 2 && count <= 5)
      counts_seen[count] = true;
    policies_seen[strcmp(a->configs[c].values[2].value, "least_kv") == 0] = true;
  }
  CU_ASSERT_TRUE(counts_seen[2] && counts_seen[3] && counts_seen[4] && counts_seen[5]);
  CU_ASSERT_TRUE(policies_seen[0] && policies_seen[1]);
  CU_ASSERT(same_as_b < 5); /* another seed, other samples */
  srv_study_free(a);
  srv_study_free(again);
  srv_study_free(b);
}

static void test_max_rate_reads_its_bounds_and_defaults(void) {
  char err[512];
  srv_study *st = load(
      "mode: max_rate\n"
      "max_rate: {low: 1, high: 9}\n"
      "axes: [{grid: {deployments.0.count: [1, 2]}}]\n",
      err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  CU_ASSERT_EQUAL(st->mode, SRV_STUDY_MAX_RATE);
  CU_ASSERT_STRING_EQUAL(st->search.keys[0], "workload.rate_scale");
  CU_ASSERT_DOUBLE_EQUAL(st->search.tolerance, 0.25, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(st->search.goodput_share, 0.9, 1e-12);
  CU_ASSERT_EQUAL(st->config_count, 2);
  srv_study_free(st);
}

static void test_min_count_limits_and_objectives_are_read(void) {
  char err[512];
  srv_study *st = load(
      "mode: min_count\n"
      "min_count: {key: [deployments.0.count, cluster.nodes.0.count], low: 1, high: 16,\n"
      "            limits: {ttft_ms_p90: 2000, tpot_ms_p99: 200}}\n"
      "objectives: [fleet_usd_per_h, {max: goodput_share}, {min: min_count}]\n"
      "axes: [{grid: {deployments.0.tp: [1, 2]}}]\n",
      err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(st);
  CU_ASSERT_EQUAL(st->mode, SRV_STUDY_MIN_COUNT);
  CU_ASSERT_EQUAL_FATAL(st->search.key_count, 2);
  CU_ASSERT_STRING_EQUAL(st->search.keys[0], "deployments.0.count");
  CU_ASSERT_STRING_EQUAL(st->search.keys[1], "cluster.nodes.0.count");
  CU_ASSERT_DOUBLE_EQUAL(st->search.tolerance, 1, 0);
  /* limits alone decide: no SLO share unless asked for */
  CU_ASSERT_DOUBLE_EQUAL(st->search.goodput_share, 0, 0);
  CU_ASSERT_EQUAL_FATAL(st->search.limit_count, 2);
  CU_ASSERT_STRING_EQUAL(st->search.limits[1].metric, "tpot_ms_p99");
  CU_ASSERT_DOUBLE_EQUAL(st->search.limits[1].max, 200, 0);
  CU_ASSERT_EQUAL_FATAL(st->objective_count, 3);
  CU_ASSERT_STRING_EQUAL(st->objectives[0].column, "fleet_usd_per_h");
  CU_ASSERT_FALSE(st->objectives[0].maximise);
  CU_ASSERT_TRUE(st->objectives[1].maximise);
  CU_ASSERT_STRING_EQUAL(st->objectives[2].column, "min_count");
  CU_ASSERT_FALSE(st->objectives[2].maximise);
  srv_study_free(st);
}

/* Two objectives, both minimised: the front by construction, ties and NaN and ineligible rows. */
static void test_pareto_front_is_the_undominated_points(void) {
  const double values[] = {
      1, 9, /* 0: best in the first objective: front */
      2, 5, /* 1: front */
      3, 5, /* 2: dominated by 1 */
      2, 5, /* 3: equal to 1: front as well */
      5, 1, /* 4: best in the second: front */
      6, 2, /* 5: dominated by 4 */
      0, 0, /* 6: would dominate all, but did not run */
      NAN, 0, /* 7: NaN: never on the front */
      4, 4, /* 8: front (nothing is <= in both) */
  };
  const bool maximise[2] = {false, false};
  const bool eligible[9] = {true, true, true, true, true, true, false, true, true};
  bool front[9];
  srv_study_pareto(values, 9, 2, maximise, eligible, front);
  const bool expect[9] = {true, true, false, true, true, false, false, false, true};
  for (int i = 0; i < 9; i++)
    CU_ASSERT_EQUAL(front[i], expect[i]);
  /* Maximising the second objective instead: 0 (9) beats all but those better in the first. */
  const bool mixed[2] = {false, true};
  srv_study_pareto(values, 9, 2, mixed, eligible, front);
  const bool expect_mixed[9] = {true, false, false, false, false, false, false, false, false};
  for (int i = 0; i < 9; i++)
    CU_ASSERT_EQUAL(front[i], expect_mixed[i]);
}

static void test_example_studies_load(void) {
  static const struct {
    const char *file;
    size_t configs;
    srv_study_mode mode;
  } examples[] = {{"study-routers.yaml", 9, SRV_STUDY_GRID},
                  {"study-max-rate.yaml", 2, SRV_STUDY_MAX_RATE},
                  {"study-capacity.yaml", 72, SRV_STUDY_GRID},
                  {"study-pd-ratio.yaml", 24, SRV_STUDY_GRID},
                  {"study-fewest.yaml", 8, SRV_STUDY_MIN_COUNT}};
  for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", WT_EXAMPLES_DIR, examples[i].file);
    srv_study *st = NULL;
    CU_ASSERT_EQUAL_FATAL(srv_study_load(path, &st, err, sizeof err), 0);
    CU_ASSERT_EQUAL(st->config_count, examples[i].configs);
    CU_ASSERT_EQUAL(st->mode, examples[i].mode);
    srv_study_free(st);
  }
}

/* Each bad study is refused with a message naming what is wrong, at its place. */
static void test_bad_studies_are_refused_at_their_location(void) {
  static const struct {
    const char *text, *message;
  } cases[] = {
      {"axes:\n  - grid: {router.policy: [a]}\n  - zip: {router.policy: [b]}\n",
       "3:11: axes.1.zip.\"router.policy\": the key 'router.policy' is already an axis"},
      {"axes:\n  - zip: {a.b: [1, 2], c.d: [1]}\n", "zipped lists must have one length"},
      {"axes:\n  - grid: {a.b: []}\n", "expected a non-empty list of values"},
      {"axes:\n  - grid: {a.b: [[1]]}\n", "expected one value"},
      {"axes:\n  - cube: {a.b: [1]}\n", "cube"},
      {"axes:\n  - list: [{a: 1}, {b: 2}]\n", "missing the key 'a'"},
      {"mode: max_rate\nmax_rate: {low: 1, high: 2}\naxes: [{grid: {workload.rate_scale: [1]}}]\n",
       "is a key that max_rate bisects"},
      {"mode: max_rate\n", "needs a max_rate section"},
      {"mode: max_rate\nmax_rate: {low: 3, high: 2}\n", "expected low < high"},
      {"bogus: 1\n", "bogus"},
      {"mode: min_count\nmin_count: {low: 1, high: 4}\n", "min_count needs the key"},
      {"mode: min_count\nmin_count: {key: a.b, low: 1.5, high: 4}\n", "must be whole"},
      {"mode: min_count\nmin_count: {key: a.b, low: 1, high: 4, tolerance: 1}\n",
       "takes no tolerance"},
      {"mode: grid\nmin_count: {key: a.b, low: 1, high: 4}\n", "needs mode: min_count"},
      {"mode: min_count\nmin_count: {key: [c.d, a.b], low: 1, high: 4}\naxes: [{grid: {a.b: [1]}}]\n",
       "is a key that min_count bisects"},
      {"mode: min_count\nmin_count: {key: [], low: 1, high: 4}\n", "expected one key, or a list"},
      {"mode: max_rate\nmax_rate: {low: 1, high: 2, limits: {ttft_p90: 1}}\n",
       "'ttft_p90' is not a summary figure"},
      {"objectives: [max_rate]\n", "'max_rate' is not a column of the results"},
      {"objectives: [{most: ttft_ms_p90}]\n", "expected a column"},
      {"objectives: []\n", "expected a list of columns"},
      {"axes:\n  - random: {samples: 2, seed: 1, keys: {a: {normal: [0, 1]}}}\n", "normal"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[512] = "";
    srv_study *st = load(cases[i].text, err, sizeof err);
    CU_ASSERT_PTR_NULL(st);
    if (!strstr(err, cases[i].message)) {
      fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, err, cases[i].message);
      CU_FAIL("message");
    }
    srv_study_free(st);
  }
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"grid_expands_as_written_last_key_fastest", test_grid_expands_as_written_last_key_fastest},
      {"zip_and_list_blocks_multiply_with_the_first_block_slowest",
       test_zip_and_list_blocks_multiply_with_the_first_block_slowest},
      {"no_axes_is_one_configuration_of_the_base", test_no_axes_is_one_configuration_of_the_base},
      {"random_samples_are_seeded_in_range_and_repeatable",
       test_random_samples_are_seeded_in_range_and_repeatable},
      {"min_count_limits_and_objectives_are_read", test_min_count_limits_and_objectives_are_read},
      {"pareto_front_is_the_undominated_points", test_pareto_front_is_the_undominated_points},
      {"max_rate_reads_its_bounds_and_defaults", test_max_rate_reads_its_bounds_and_defaults},
      {"example_studies_load", test_example_studies_load},
      {"bad_studies_are_refused_at_their_location", test_bad_studies_are_refused_at_their_location},
      {NULL, NULL}};
  return harness_run("study", tests, argc > 1 ? argv[1] : NULL, false);
}
