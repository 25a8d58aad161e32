/* The batch queue (router.batch, serving/batch.c) in whole runs: batch requests wait for spare
 * capacity until their deadline less the lead, the interactive tier gains from it, disaggregated
 * rows keep the waited dispatch, and bad settings are refused. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>

#include "harness.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serving/schema.h"
#include "serving_runs.h"

static const char *const batch_sets[] = {"router.batch={spare: 8, lead: 25s}"};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The TTFT p99 of the tier's requests, and their mean TTFT (ms). */
static double tier_ttft_ms(const srv_request_row *req, uint64_t n, uint32_t tier, double *mean_ms) {
  double *ttft = malloc(n * sizeof *ttft), sum = 0;
  size_t k = 0;
  for (uint64_t i = 0; i < n; i++)
    if (req[i].service_tier == tier && req[i].first_token_ns >= 0)
      sum += ttft[k++] = (double)(req[i].first_token_ns - req[i].arrival_ns) * 1e-6;
  CU_ASSERT_FATAL(k > 100);
  qsort(ttft, k, sizeof *ttft, cmp_double);
  double p99 = ttft[(size_t)(0.99 * (double)(k - 1))];
  *mean_ms = sum / (double)k;
  free(ttft);
  return p99;
}

/* Each batch request goes (at the router: its dispatch less the dispatch latency) to an instance
 * with fewer than `spare` requests outstanding as the router knows them (dispatched before, their
 * completion not yet back), unless its deadline less the lead has come, and never after that: with
 * spare 8 and a lead of 25 s, with spare 6 and the default lead (half the deadline, 20 s), and
 * behind pod routers. */
static void batch_wait_case(const char *batch, const char *pods, uint32_t spare, int64_t lead_ns) {
  const char *sets[] = {batch, pods};
  srv_scenario *s = scenario_run("batch.yaml", sets, pods ? 2 : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  int64_t latency_ns = s->router.dispatch_latency_ns;
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 600);
  int early = 0, due = 0, late = 0, crowded = 0, waited = 0;
  for (uint64_t i = 0; i < n; i++) {
    const srv_request_row *q = &req[i];
    CU_ASSERT_FATAL(q->fate == SRV_FATE_COMPLETED);
    if (q->service_tier != JOB_TIER_BATCH)
      continue;
    int64_t sent_ns = q->dispatch_ns - latency_ns, due_ns = q->deadline_ns - lead_ns;
    late += sent_ns > due_ns;
    waited += sent_ns > q->arrival_ns;
    if (sent_ns == due_ns) {
      due++;
      continue;
    }
    early++;
    uint32_t outstanding = 0; /* those surely there (ties at sent_ns left out) */
    for (uint64_t j = 0; j < n; j++)
      outstanding += j != i && req[j].instance == q->instance &&
                     req[j].dispatch_ns - latency_ns < sent_ns &&
                     req[j].done_ns + latency_ns > sent_ns;
    crowded += outstanding >= spare;
  }
  CU_ASSERT_EQUAL(late, 0);
  CU_ASSERT_EQUAL(crowded, 0);
  /* Not vacuous: some went with spare capacity, some at their due time, most after waiting. */
  CU_ASSERT(early > 20 && due > 20 && waited > early / 2);
  free(req);
  srv_scenario_free(s);
}

static void test_batch_requests_wait_for_spare_capacity_until_their_deadline_less_the_lead(void) {
  batch_wait_case(batch_sets[0], NULL, 8, INT64_C(25000000000));
  batch_wait_case("router.batch={spare: 6}", NULL, 6, INT64_C(20000000000));
  /* ... and behind pod routers, each queueing for its pod (one instance each) */
  batch_wait_case(batch_sets[0], "router.pods={nodes: 1}", 8, INT64_C(25000000000));
}

/* The queue keeps batch work off busy instances: interactive TTFT p99 falls, batch TTFT grows. */
static void test_batch_queue_shortens_interactive_ttft_and_delays_batch(void) {
  double p99[2], batch_mean[2], mean;
  for (int with = 0; with < 2; with++) {
    srv_scenario *s = scenario_run("batch.yaml", batch_sets, with ? 1 : 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    uint64_t n;
    srv_request_row *req = timeline_rows(&srv_requests_table, &n);
    p99[with] = tier_ttft_ms(req, n, JOB_TIER_INTERACTIVE, &mean);
    tier_ttft_ms(req, n, JOB_TIER_BATCH, &batch_mean[with]);
    free(req);
    srv_scenario_free(s);
  }
  CU_ASSERT(p99[1] < 0.9 * p99[0]);
  CU_ASSERT(batch_mean[1] > 10 * batch_mean[0]);
}

/* Disaggregated, every request batch (tests/serving/disaggregated.yaml): the decode side's row,
 * the one written, keeps the dispatch the prefill side saw, after the wait, by the due time. */
static void test_disaggregated_batch_rows_keep_their_waited_dispatch(void) {
  const char *sets[] = {"workload.tier=batch", "workload.deadline=20s",
                        "router.batch={spare: 2, lead: 15s}"};
  srv_scenario *s = scenario_run("disaggregated.yaml", sets, 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  int64_t latency_ns = s->router.dispatch_latency_ns, lead_ns = INT64_C(15000000000);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 150);
  int waited = 0, late = 0, decoded = 0;
  for (uint64_t i = 0; i < n; i++) {
    waited += req[i].dispatch_ns > req[i].arrival_ns + latency_ns;
    late += req[i].dispatch_ns - latency_ns > req[i].deadline_ns - lead_ns;
    decoded += req[i].decode_instance >= 0 && req[i].fate == SRV_FATE_COMPLETED;
  }
  CU_ASSERT(waited > 100);
  CU_ASSERT_EQUAL(late, 0);
  CU_ASSERT_EQUAL(decoded, 150);
  free(req);
  srv_scenario_free(s);
}

/* router.batch: closed loops are refused, as are a mapping without spare and unknown keys. */
static void test_batch_queue_refuses_closed_loops_no_spare_and_unknown_keys(void) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/batch.yaml", TEST_DIR);
  const char *const cases[][3] = {
      {"router.batch={spare: 2, wait: 1s}", "router.policy=least_requests",
       "router.policy=least_requests"},
      {"router.batch={spare: 2}", "workload.mode=closed", "workload.clients=4"},
      {"router.batch={lead: 2s}", "router.policy=least_requests", "router.policy=least_requests"},
      {"router.batch={spare: 0}", "router.policy=least_requests", "router.policy=least_requests"}};
  const char *const expect[] = {"wait", "closed-loop", "needs spare", "spare"};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    srv_scenario *s = NULL;
    CU_ASSERT_NOT_EQUAL(srv_scenario_load(path, cases[c], 3, &s, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, expect[c]));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "router.batch"));
    srv_scenario_free(s);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  snprintf(out_path, sizeof out_path, "/tmp/wt-test-batch-%d.h5", (int)getpid());
  static const harness_test tests[] = {
      {"batch requests wait for spare capacity until their deadline less the lead",
       test_batch_requests_wait_for_spare_capacity_until_their_deadline_less_the_lead},
      {"batch queue shortens interactive TTFT and delays batch",
       test_batch_queue_shortens_interactive_ttft_and_delays_batch},
      {"disaggregated batch rows keep their waited dispatch",
       test_disaggregated_batch_rows_keep_their_waited_dispatch},
      {"batch queue refuses closed loops, no spare and unknown keys",
       test_batch_queue_refuses_closed_loops_no_spare_and_unknown_keys},
      {NULL, NULL},
  };
  int failed = harness_run("batch", tests, argc > 1 ? argv[1] : NULL, true);
  remove(out_path);
  MPI_Finalize();
  return failed ? 1 : 0;
}
