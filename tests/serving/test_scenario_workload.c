/* Unit tests of the scenario loader, the workloads: synthetic sources (rates, curves, lengths,
 * empirical lengths, seeds), workload modes and request attributes, and their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "scenario_loads.h"
#include "serving/scenario.h"

/* ---- synthetic workloads ---- */

static void test_synthetic_workload_parses_and_generates_requests(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS
      "workload:\n"
      "  max_requests: 50\n"
      "  synthetic:\n"
      "    arrival: gamma\n"
      "    cv: 2\n"
      "    rate_curve: [{at: 0s, rate: 5/s}, {at: 10min, rate: 20/s}, {at: 20min, rate: 0/s}]\n"
      "    input: {kind: lognormal, median: 512, sigma: 1.0, min: 8, max: 4096}\n"
      "    output: {kind: fixed, tokens: 128}\n"
      "    seed: 7\n";
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const srv_workload *w = &s->workload;
  CU_ASSERT_TRUE(w->synthetic);
  CU_ASSERT_EQUAL(w->synth.arrival, JOB_ARRIVAL_GAMMA);
  CU_ASSERT_DOUBLE_EQUAL(w->synth.cv, 2.0, 0.0);
  CU_ASSERT_EQUAL_FATAL(w->synth.rate_points, 3);
  CU_ASSERT_PTR_EQUAL(w->synth.rate_curve, w->rate_curve);
  CU_ASSERT_EQUAL(w->rate_curve[1].time_ns, 600000000000);
  CU_ASSERT_DOUBLE_EQUAL(w->rate_curve[1].rate_per_s, 20.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(w->rate_curve[2].rate_per_s, 0.0, 0.0);
  CU_ASSERT_EQUAL(w->synth.input.kind, JOB_LENGTH_LOGNORMAL);
  CU_ASSERT_DOUBLE_EQUAL(w->synth.input.median_tokens, 512.0, 0.0);
  CU_ASSERT_EQUAL(w->synth.input.min_tokens, 8);
  CU_ASSERT_EQUAL(w->synth.input.max_tokens, 4096);
  CU_ASSERT_EQUAL(w->synth.output.kind, JOB_LENGTH_FIXED);
  CU_ASSERT_EQUAL(w->synth.output.fixed_tokens, 128);
  CU_ASSERT_EQUAL(w->synth.seed, 7);
  CU_ASSERT_PTR_NULL(w->synth.empirical_path);
  CU_ASSERT_EQUAL(w->opts.max_requests, 50);
  /* the spec opens and yields the requests it describes */
  job_source *src = NULL;
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &w->synth, &w->opts, err, sizeof err), 0);
  job_request req;
  int count = 0;
  int64_t last_ns = 0;
  while (job_source_next(src, &req, err, sizeof err) == 1) {
    CU_ASSERT_EQUAL(req.output_tokens, 128);
    CU_ASSERT(req.input_tokens >= 8 && req.input_tokens <= 4096);
    CU_ASSERT(req.arrival_ns >= last_ns);
    last_ns = req.arrival_ns;
    count++;
  }
  job_source_close(src);
  CU_ASSERT_EQUAL(count, 50);
  srv_scenario_free(s);
}

static void test_synthetic_with_empirical_lengths_and_default_seed(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS
      "workload:\n"
      "  to: 1min\n"
      "  synthetic: {rate: 5/s, empirical: {trace: \"" CODE_TRACE
      "\"}}\n"
      "simulation: {seed: 42}\n";
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const srv_workload *w = &s->workload;
  CU_ASSERT_EQUAL(w->synth.arrival, JOB_ARRIVAL_POISSON);
  CU_ASSERT_EQUAL(w->synth.rate_points, 1);
  CU_ASSERT_DOUBLE_EQUAL(w->rate_curve[0].rate_per_s, 5.0, 0.0);
  CU_ASSERT_PTR_EQUAL(w->synth.empirical_path, w->empirical_path);
  CU_ASSERT_STRING_EQUAL(w->empirical_path, CODE_TRACE);
  CU_ASSERT_EQUAL(w->synth.seed, 42);
  CU_ASSERT_EQUAL(w->opts.to_ns, 60000000000);
  srv_scenario_free(s);
}

/* workload.mode and the request attributes: read, and their mistakes located. */
static void test_workload_modes_and_attributes_are_read_and_checked(void) {
  static const char *const closed = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                     /* 5 */
      "  mode: closed\n"                                /* 6 */
      "  clients: 8\n"                                  /* 7 */
      "  think_time: {kind: exponential, mean: 2s}\n"   /* 8 */
      "  duration: 1h\n"                                /* 9 */
      "  max_requests: 10\n"                            /* 10 */
      "  tier: batch\n"                                 /* 11 */
      "  deadline: 10min\n"                             /* 12 */
      "  priority: -2\n"                                /* 13 */
      "  synthetic:\n"                                  /* 14 */
      "    input: {kind: fixed, tokens: 10}\n"
      "    output: {kind: fixed, tokens: 10}\n";
  srv_scenario *s = NULL;
  char path[128], err[1024];
  CU_ASSERT_EQUAL_FATAL(load_text(closed, NULL, 0, &s, path, err, sizeof err), 0);
  const srv_workload *w = &s->workload;
  CU_ASSERT_EQUAL(w->mode, JOB_MODE_CLOSED);
  CU_ASSERT(w->opts.offline); /* the source gives no times: the clients do */
  CU_ASSERT(w->closed.clients == 8 && w->closed.think_exponential &&
            w->closed.think_ns == 2000000000 && w->closed.duration_ns == INT64_C(3600000000000));
  CU_ASSERT(w->opts.defaults.tier == JOB_TIER_BATCH && w->opts.defaults.priority == -2 &&
            w->opts.defaults.deadline_ns == INT64_C(600000000000));
  srv_scenario_free(s);
  static const struct {
    const char *set, *want; /* a --set is located at itself */
  } cases[] = {
      {"workload.clients=4",
       "--set workload.clients=4: workload.clients: applies to closed-loop "
       "workloads only (mode: closed)"},
      {"workload.mode=closed", "a closed loop needs its number of clients (clients: N)"},
      {"workload.mode=batch",
       "workload.mode: unknown value 'batch' (expected one of: open, "
       "offline, closed)"},
      {"workload.deadline=5s",
       "workload.deadline: a deadline applies to batch requests only "
       "(tier: batch)"},
      {"workload.tier=urgent",
       "workload.tier: unknown value 'urgent' (expected one of: "
       "interactive, batch)"},
      {"workload.model=Mistral-7B",
       "workload.model: no deployment that takes requests serves "
       "'Mistral-7B' (give a deployment's name or its model's)"},
      {"workload={streams: []}", "workload.streams: expected 1 to 16 streams, got 0"},
      {"workload={streams: [{trace: x.csv, synthetic: {rate: 1/s}}]}",
       "workload.streams.0: expected either a trace file (trace: PATH) or a synthetic workload"},
      {"router.first_token=client",
       "router.first_token: applies to disaggregated deployments only (a prefill and a "
       "decode role): a colocated instance's first token is the client's"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = load_text(MINIMAL_DEPLOYMENTS CONV_WORKLOAD, &cases[i].set, 1, &s, path, err,
                       sizeof err);
    bool ok = rc < 0 && strstr(err, cases[i].want);
    if (!ok)
      fprintf(stderr, "\ncase %zu: got '%s', wanted '%s'\n", i, err, cases[i].want);
    CU_ASSERT(ok);
    if (rc == 0)
      srv_scenario_free(s);
  }
}

static void test_synthetic_workload_errors_are_located(void) {
  static const char *const endless = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                      /* 5 */
      "  synthetic:\n"                                   /* 6 */
      "    rate: 5/s\n"                                  /* 7 */
      "    input: {kind: fixed, tokens: 10}\n"
      "    output: {kind: fixed, tokens: 10}\n";
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(endless, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:7:5: workload.synthetic: synthetic workload: never ends: give a request cap or a "
           "window end, or end the rate curve at 0",
           path);
  assert_error(rc, s, err, want);

  static const char *const poisson_cv = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                         /* 5 */
      "  max_requests: 10\n"                                /* 6 */
      "  synthetic:\n"                                      /* 7 */
      "    rate: 5/s\n"                                     /* 8 */
      "    cv: 3\n"                                         /* 9 */
      "    input: {kind: fixed, tokens: 10}\n"
      "    output: {kind: fixed, tokens: 10}\n";
  rc = load_text(poisson_cv, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:9:9: workload.synthetic.cv: cv applies to gamma arrivals only",
           path);
  assert_error(rc, s, err, want);

  static const char *const wrong_key = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                        /* 5 */
      "  max_requests: 10\n"                               /* 6 */
      "  synthetic:\n"                                     /* 7 */
      "    rate: 5/s\n"                                    /* 8 */
      "    input: {kind: fixed, median: 10}\n"             /* 9 */
      "    output: {kind: fixed, tokens: 10}\n";
  rc = load_text(wrong_key, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:9:26: workload.synthetic.input: unknown key 'median' (expected one of: kind, "
           "tokens)",
           path);
  assert_error(rc, s, err, want);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite suite = CU_add_suite("scenario workload", scenario_suite_init, scenario_suite_cleanup);
  CU_ADD_TEST(suite, test_synthetic_workload_parses_and_generates_requests);
  CU_ADD_TEST(suite, test_synthetic_with_empirical_lengths_and_default_seed);
  CU_ADD_TEST(suite, test_synthetic_workload_errors_are_located);
  CU_ADD_TEST(suite, test_workload_modes_and_attributes_are_read_and_checked);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
