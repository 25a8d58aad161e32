/* Regions in whole runs (regions.yaml: pod g, of node g, is region g): each policy sends each
 * request where it should, after the right hops, and a region that cannot serve is refused. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>

#include "harness.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serving/schema.h"
#include "serving/serving.h"
#include "serving_runs.h"

/* Requests served per region (from each request's instance's pod), and a check of every dispatch:
 * from the arrival, the pod hop plus the latency between the request's origin and the region that
 * served it, then the dispatch latency. Returns the requests that completed. */
static uint64_t count_by_region(const srv_scenario *s, uint64_t per_region[3]) {
  uint64_t n, ninst, completed = 0;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(ninst, 12);
  int32_t pod_of[12];
  for (uint64_t i = 0; i < ninst; i++) {
    CU_ASSERT_EQUAL((uint32_t)inst[i].pod, inst[i].instance / 4);
    pod_of[inst[i].instance] = inst[i].pod;
  }
  for (int g = 0; g < 3; g++)
    per_region[g] = 0;
  if (getenv("WT_TEST_VERBOSE"))
    fprintf(stderr, "[regions] ");
  for (uint64_t i = 0; i < n; i++) {
    if (req[i].fate != SRV_FATE_COMPLETED)
      continue;
    completed++;
    uint32_t g = (uint32_t)pod_of[req[i].instance], origin = srv_request_origin(s, req[i].id);
    per_region[g]++;
    CU_ASSERT_EQUAL(req[i].dispatch_ns - req[i].arrival_ns,
                    s->router.pods.latency_ns + s->regions.list[origin].latency_ns[g] +
                        s->router.dispatch_latency_ns);
  }
  if (getenv("WT_TEST_VERBOSE"))
    fprintf(stderr, "%llu %llu %llu\n", (unsigned long long)per_region[0],
            (unsigned long long)per_region[1], (unsigned long long)per_region[2]);
  free(req);
  free(inst);
  return completed;
}

/* nearest: every request is served in the region it originates in, each region's share of them. */
static void test_nearest_serves_each_request_in_its_origin_region(void) {
  srv_scenario *s = scenario_run("regions.yaml", NULL, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t per_region[3], same = 0, n;
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &n);
  for (uint64_t i = 0; i < 600; i++)
    same += (uint32_t)req[i].instance / 4 == srv_request_origin(s, req[i].id);
  CU_ASSERT_EQUAL(same, 600);
  CU_ASSERT(per_region[0] > 250 && per_region[1] > 130 && per_region[2] > 80);
  free(req);
  free(inst);
  srv_scenario_free(s);
}

/* least_loaded before any load report (the interval is longer than the run): a front door knows
 * only what it sent itself, so it deals its requests out evenly over the three equal regions
 * (ties to the nearest), whatever the instances did with them since: no peeking at their state. */
static void test_least_loaded_without_reports_balances_what_it_sent(void) {
  const char *sets[] = {"regions.policy=least_loaded", "regions.report_interval=1h",
                        "regions.list.0.share=1", "regions.list.1.share=0",
                        "regions.list.2.share=0"};
  srv_scenario *s = scenario_run("regions.yaml", sets, 5);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t per_region[3];
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  CU_ASSERT_EQUAL(per_region[0], 200);
  CU_ASSERT_EQUAL(per_region[1], 200);
  CU_ASSERT_EQUAL(per_region[2], 200);
  srv_scenario_free(s);
}

/* least_loaded knows another region's load only from its reports, which take the inter-region
 * latency to arrive: with 10 min from westus to the others (longer than the arrivals last), none
 * of theirs arrives in time, so westus charges them with everything it sent them and keeps almost
 * every request at home; with the file's 20 ms and 36 ms the same requests spread evenly. */
static void test_least_loaded_sees_far_regions_only_through_delayed_reports(void) {
  const char *sets[] = {"regions.policy=least_loaded", "regions.list.0.share=1",
                        "regions.list.1.share=0", "regions.list.2.share=0",
                        "regions.list.0.latency={centralus: 10min, eastus: 10min}"};
  srv_scenario *s = scenario_run("regions.yaml", sets, 5);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t per_region[3];
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  CU_ASSERT(per_region[0] > 550);
  srv_scenario_free(s);
  s = scenario_run("regions.yaml", sets, 4);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  for (int g = 0; g < 3; g++)
    CU_ASSERT(per_region[g] > 150 && per_region[g] < 250);
  srv_scenario_free(s);
}

/* spillover: every request originates in westus at 4x the trace's rate; past 4 outstanding
 * requests per instance at home (as the reports say) a request goes to the nearest region below
 * that, so centralus (20 ms) takes more of the overflow than eastus (36 ms). With a threshold it
 * never reaches, none leaves home. */
static void test_spillover_sends_the_overflow_to_the_nearest_region_with_room(void) {
  const char *sets[] = {"regions.policy=spillover", "regions.spillover=4",
                        "workload.rate_scale=4",    "regions.list.0.share=1",
                        "regions.list.1.share=0",   "regions.list.2.share=0"};
  srv_scenario *s = scenario_run("regions.yaml", sets, 6);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t per_region[3];
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  CU_ASSERT(per_region[0] > per_region[1] && per_region[1] > per_region[2] && per_region[2] > 0);
  srv_scenario_free(s);
  sets[1] = "regions.spillover=1000";
  s = scenario_run("regions.yaml", sets, 6);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(count_by_region(s, per_region), 600);
  CU_ASSERT_EQUAL(per_region[0], 600);
  srv_scenario_free(s);
}

/* A region whose node types hold no instance cannot take the requests sent to it: refused. */
static void test_region_without_instances_is_refused(void) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/regions.yaml", TEST_DIR);
  const char *sets[] = {"deployments.0.count=8"}; /* west and central only */
  srv_scenario *s;
  CU_ASSERT_EQUAL_FATAL(srv_scenario_load(path, sets, 1, &s, err, sizeof err), 0);
  srv_options opt = {.output_path = out_path, .version = "test"};
  srv_result res;
  CU_ASSERT_EQUAL(srv_run(s, &opt, MPI_COMM_WORLD, &res, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "region 'eastus' has no instance that takes requests"));
  srv_scenario_free(s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  snprintf(out_path, sizeof out_path, "/tmp/wt-test-regions-%d.h5", (int)getpid());
  static const harness_test tests[] = {
      {"nearest serves each request in its origin region",
       test_nearest_serves_each_request_in_its_origin_region},
      {"least loaded without reports balances what it sent",
       test_least_loaded_without_reports_balances_what_it_sent},
      {"least loaded sees far regions only through delayed reports",
       test_least_loaded_sees_far_regions_only_through_delayed_reports},
      {"spillover sends the overflow to the nearest region with room",
       test_spillover_sends_the_overflow_to_the_nearest_region_with_room},
      {"region without instances is refused", test_region_without_instances_is_refused},
      {NULL, NULL},
  };
  int failed = harness_run("regions", tests, argc > 1 ? argv[1] : NULL, true);
  remove(out_path);
  MPI_Finalize();
  return failed ? 1 : 0;
}
