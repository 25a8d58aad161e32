/* The serving simulation's energy against hand-computable cases, on tiny scenarios written to a
 * temporary folder: a node without an instance draws exactly host plus idle power, the power series
 * sums to each node's energy, the report's energy is the nodes', requests share only the
 * iterations' energy, and the JSON report carries the energy, power and KV-transfer figures. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>

#include "harness.h"
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serving/report.h"
#include "serving/schema.h"
#include "serving/serving.h"
#include "serving_runs.h"

static char dir[64];       /* the temporary folder of scenarios, traces and timelines */

/* Two node types of H100s: one 1-accelerator node running the only instance, and one spare
 * 4-accelerator node that no deployment uses. Hosts draw 400 W and 250 W; an idle H100 75 W
 * (hw/data/accelerators.csv). PUE 1.5, power rows every 10 ms. */
static const double serving_host_w = 400, spare_host_w = 250, h100_idle_w = 75, pue = 1.5;
enum { SPARE_ACCELS = 4 };
static const char scenario_yaml[] =
    "cluster:\n"
    "  nodes:\n"
    "    - {name: serving, accelerator: H100-SXM-80GB, accelerators_per_node: 1, count: 1,\n"
    "       host_power: 400W}\n"
    "    - {name: spare, accelerator: H100-SXM-80GB, accelerators_per_node: 4, count: 1,\n"
    "       host_power: 250W}\n"
    "deployments:\n"
    "  - {name: one, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 1}\n"
    "router: {policy: round_robin, dispatch_latency: 1ms}\n"
    "workload: {trace: trace.csv, format: llmservingsim}\n"
    "power: {interval: 10ms, pue: 1.5}\n";

/* The same cluster, disaggregated: a prefill and a decode instance on the serving node, which has
 * two accelerators now. Every request's KV crosses the node's scale-up switch. */
static const char disaggregated_yaml[] =
    "cluster:\n"
    "  nodes:\n"
    "    - {name: serving, accelerator: H100-SXM-80GB, accelerators_per_node: 2, count: 1,\n"
    "       host_power: 400W}\n"
    "    - {name: spare, accelerator: H100-SXM-80GB, accelerators_per_node: 4, count: 1,\n"
    "       host_power: 250W}\n"
    "deployments:\n"
    "  - {name: prefill, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 1, role: "
    "prefill}\n"
    "  - {name: decode, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 1, role: decode}\n"
    "router: {policy: round_robin, dispatch_latency: 1ms}\n"
    "workload: {trace: trace.csv, format: llmservingsim}\n"
    "power: {interval: 10ms, pue: 1.5}\n";

/* Three overlapping requests, all done long before a second has passed. */
static const char trace_csv[] =
    "arrival_time_ns,input_toks,output_toks\n"
    "1000000,500,20\n"
    "20000000,800,10\n"
    "25000000,300,30\n";

/* The same, plus a long prompt dispatched at 301 ms into a run that ends at 301.5 ms: its
 * iteration starts long after the others' last one ended and never ends. */
static const char cut_trace_csv[] =
    "arrival_time_ns,input_toks,output_toks\n"
    "1000000,500,20\n"
    "20000000,800,10\n"
    "25000000,300,30\n"
    "300000000,4000,10\n";

static int write_file(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  int rc = fputs(text, f) < 0;
  return fclose(f) != 0 || rc ? -1 : 0;
}

/* Writes the scenario and its trace, runs it with the given overrides. Returns 0 and the result. */
static int run_scenario(const char *yaml, const char *trace, const char *const *sets, size_t nsets,
                        srv_result *res) {
  char path[256], err[1024];
  if (write_file("scenario.yaml", yaml) != 0 || write_file("trace.csv", trace) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/scenario.yaml", dir);
  srv_scenario *s;
  if (srv_scenario_load(path, sets, nsets, &s, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  srv_options opt = {.output_path = out_path, .version = "test"};
  int rc = srv_run(s, &opt, MPI_COMM_WORLD, res, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "%s\n", err);
  srv_scenario_free(s);
  return rc;
}

/* The colocated scenario. */
static int run(const char *trace, const char *const *sets, size_t nsets, srv_result *res) {
  return run_scenario(scenario_yaml, trace, sets, nsets, res);
}

static bool close_to(double value, double expected, double relative) {
  bool ok = fabs(value - expected) <= relative * fabs(expected);
  if (!ok)
    printf("\n  %.17g is not %.17g within %g\n", value, expected, relative);
  return ok;
}

/* The node row of the given node. */
static const srv_node_row *node(const srv_node_row *rows, uint64_t n, uint32_t id) {
  for (uint64_t i = 0; i < n; i++)
    if (rows[i].node == id)
      return &rows[i];
  CU_FAIL_FATAL("no such node row");
  return NULL;
}

static void test_node_without_instance_draws_exactly_host_and_idle_power(void) {
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, NULL, 0, &res), 0);
  CU_ASSERT(res.simulated_ns > 25000000);
  uint64_t n;
  srv_node_row *nodes = timeline_rows(&srv_nodes_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 2);
  const srv_node_row *spare = node(nodes, n, 1);
  CU_ASSERT_STRING_EQUAL(spare->group, "spare");
  CU_ASSERT_EQUAL(spare->accelerators, SPARE_ACCELS);
  CU_ASSERT_EQUAL(spare->busy_accelerators, 0);
  CU_ASSERT_EQUAL(spare->host_w, spare_host_w);
  CU_ASSERT_EQUAL(spare->idle_w, h100_idle_w);
  /* (250 + 4 x 75) W = 550 W over the simulated time. */
  double watts = spare_host_w + SPARE_ACCELS * h100_idle_w;
  CU_ASSERT(close_to(spare->energy_j, watts * (double)res.simulated_ns * 1e-9, 1e-9));
  /* The serving node draws its host power, and at least its accelerator's idle power. */
  const srv_node_row *used = node(nodes, n, 0);
  CU_ASSERT_EQUAL(used->busy_accelerators, 1);
  CU_ASSERT(used->energy_j > (serving_host_w + h100_idle_w) * (double)res.simulated_ns * 1e-9);
  /* And every 10 ms row of the spare node averages 550 W, the last (partial) one included. */
  uint64_t np;
  srv_power_row *power = timeline_rows(&srv_power_table, &np);
  uint64_t spare_rows = 0;
  for (uint64_t i = 0; i < np; i++)
    if (power[i].node == 1) {
      spare_rows++;
      CU_ASSERT(close_to(power[i].avg_w, watts, 1e-9));
    }
  CU_ASSERT_EQUAL(spare_rows, (uint64_t)(res.simulated_ns + 10000000 - 1) / 10000000);
  free(power);
  free(nodes);
}

/* For every node: its /power rows tile [0, simulated), their energy sums to its /nodes energy, and
 * each row's avg_w x its length is its energy. */
/* Each node's power rows cover the run once, interval by interval, and sum to its energy. */
static void assert_power_rows_of_interval_sum_to_node_energy(int64_t simulated_ns,
                                                             int64_t interval_ns) {
  uint64_t n, np;
  srv_node_row *nodes = timeline_rows(&srv_nodes_table, &n);
  srv_power_row *power = timeline_rows(&srv_power_table, &np);
  for (uint64_t k = 0; k < n; k++) {
    double sum_j = 0;
    int64_t covered_ns = 0;
    for (uint64_t i = 0; i < np; i++) {
      const srv_power_row *p = &power[i];
      if (p->node != nodes[k].node)
        continue;
      CU_ASSERT(p->start_ns % interval_ns == 0 && p->end_ns > p->start_ns &&
                p->end_ns <= simulated_ns);
      CU_ASSERT(close_to(p->avg_w * (double)(p->end_ns - p->start_ns) * 1e-9, p->energy_j, 1e-12));
      covered_ns += p->end_ns - p->start_ns;
      sum_j += p->energy_j;
    }
    CU_ASSERT_EQUAL(covered_ns, simulated_ns);
    CU_ASSERT(close_to(sum_j, nodes[k].energy_j, 1e-12));
  }
  free(nodes);
  free(power);
}

static void assert_power_rows_sum_to_node_energy(int64_t simulated_ns) {
  assert_power_rows_of_interval_sum_to_node_energy(simulated_ns, 10000000); /* the scenario's */
}

/* With 10 us intervals the rows of the first intervals are written while the run goes on (every
 * 1,024 intervals), the nodes' bins then dropping them: still each interval once, exactly. */
static void test_power_rows_written_during_the_run_cover_it_once_and_sum_to_node_energy(void) {
  const char *sets[] = {"power.interval=10us"};
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, sets, 1, &res), 0);
  CU_ASSERT(res.simulated_ns > 3 * 1024 * 10000); /* several boundaries */
  assert_power_rows_of_interval_sum_to_node_energy(res.simulated_ns, 10000);
}

static void test_power_rows_sum_to_each_nodes_energy(void) {
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, NULL, 0, &res), 0);
  assert_power_rows_sum_to_node_energy(res.simulated_ns);
}

static void test_power_rows_sum_to_node_energy_when_the_end_cuts_an_iteration(void) {
  const char *sets[] = {"simulation.end=301500us"};
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(cut_trace_csv, sets, 1, &res), 0);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL(n, 4);
  for (uint64_t i = 0; i < n; i++) /* the last was dispatched, scheduled, and cut */
    if (req[i].id == 3)
      CU_ASSERT(req[i].fate == SRV_FATE_UNFINISHED && req[i].dispatch_ns == 301000000);
  free(req);
  assert_power_rows_sum_to_node_energy(res.simulated_ns);
}

static void test_power_rows_sum_to_node_energy_when_disaggregated(void) {
  /* The prefill instance frees each KV copy when the decode side has it, after its own last
   * iteration and, for the last request, after the decode side's. */
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run_scenario(disaggregated_yaml, trace_csv, NULL, 0, &res), 0);
  assert_power_rows_sum_to_node_energy(res.simulated_ns);
  uint64_t n;
  srv_transfer_row *tr = timeline_rows(&srv_transfers_table, &n);
  CU_ASSERT_EQUAL(n, 3);
  for (uint64_t i = 0; i < n; i++)
    CU_ASSERT(tr[i].end_ns > tr[i].start_ns && tr[i].end_ns <= res.simulated_ns);
  free(tr);
  srv_summary s;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(srv_report_summarise(out_path, &s, err, sizeof err), 0);
  CU_ASSERT_EQUAL(s.transfers, 3);
  CU_ASSERT(s.kv_transfer_ms.p50 > 0 && s.kv_transfer_ms.p99 >= s.kv_transfer_ms.p50);
}

static void test_report_energy_is_the_nodes_energy(void) {
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, NULL, 0, &res), 0);
  uint64_t n, nreq;
  srv_node_row *nodes = timeline_rows(&srv_nodes_table, &n);
  srv_request_row *req = timeline_rows(&srv_requests_table, &nreq);
  double nodes_j = 0, host_cpu_j = 0;
  for (uint64_t k = 0; k < n; k++) {
    nodes_j += nodes[k].energy_j;
    host_cpu_j += nodes[k].host_cpu_j;
  }
  uint64_t output_tokens = 0;
  for (uint64_t i = 0; i < nreq; i++)
    output_tokens += (uint64_t)req[i].output_tokens;
  CU_ASSERT_EQUAL(output_tokens, 20 + 10 + 30);
  srv_summary s;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(srv_report_summarise(out_path, &s, err, sizeof err), 0);
  CU_ASSERT(close_to(s.it_energy_j, nodes_j, 1e-12));
  /* The split: the hosts' 400 W and 250 W over the run and their CPUs' busy energy (the serving
   * H100's engine keeps one core busy during its host time: at most 350 W / 56 cores, hw/host.h;
   * the spare node runs nothing), the accelerators the rest (at least the five H100s at idle). */
  double simulated_s = (double)res.simulated_ns * 1e-9;
  CU_ASSERT(host_cpu_j > 0.0 && host_cpu_j < 350.0 / 56.0 * simulated_s);
  for (uint64_t k = 0; k < n; k++)
    if (nodes[k].busy_accelerators == 0)
      CU_ASSERT_EQUAL(nodes[k].host_cpu_j, 0.0);
  CU_ASSERT(
      close_to(s.host_energy_j, (serving_host_w + spare_host_w) * simulated_s + host_cpu_j, 1e-12));
  CU_ASSERT(close_to(s.accel_energy_j + s.host_energy_j, s.it_energy_j, 1e-12));
  CU_ASSERT(s.accel_energy_j > (1 + SPARE_ACCELS) * h100_idle_w * simulated_s);
  CU_ASSERT(close_to(s.energy_j, nodes_j * pue, 1e-12));
  CU_ASSERT(close_to(s.energy_per_output_token_j, nodes_j * pue / 60, 1e-12));
  CU_ASSERT(close_to(s.power_avg_w, nodes_j * pue / ((double)res.simulated_ns * 1e-9), 1e-12));
  CU_ASSERT(s.power_peak_w >= s.power_avg_w);
  free(nodes);
  free(req);
}

/* The spare node is a rack of its own drawing a constant 250 + 4 x 75 = 550 W: a 500 W rack budget
 * is exceeded in every interval, from the start to the end, and a 1 MW site budget never. */
static void test_report_flags_each_interval_a_rack_exceeds_its_budget(void) {
  const char *sets[] = {"power.rack_budget=500W", "power.site_budget=1MW"};
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, sets, 2, &res), 0);
  srv_summary s;
  char err[512], want[128];
  CU_ASSERT_EQUAL_FATAL(srv_report_summarise(out_path, &s, err, sizeof err), 0);
  const int64_t interval_ns = 10000000;
  uint64_t intervals = (uint64_t)((res.simulated_ns + interval_ns - 1) / interval_ns);
  CU_ASSERT(intervals > 10);
  CU_ASSERT(s.rack_intervals_over >= intervals); /* the spare rack's, and maybe the serving one's */
  snprintf(want, sizeof want, "rack 1 over 500 W from 0 s to %.6g s (peak 550 W)",
           (double)intervals * 1e-2);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.budget_report, want));
  if (!strstr(s.budget_report, want))
    printf("\n  wanted '%s' in '%s'\n", want, s.budget_report);
  CU_ASSERT_EQUAL(s.site_intervals_over, 0);
  CU_ASSERT_PTR_NULL(strstr(s.budget_report, "site"));
}

/* A run that ends mid-interval: each rack's mean power is its energy over the simulated time, so
 * the busiest rack's mean is what the rows give (the short last interval is not counted whole),
 * and never above the highest power a rack reached. */
static void test_rack_mean_power_counts_a_short_last_interval_by_its_length(void) {
  const char *sets[] = {"simulation.end=301500us"};
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(cut_trace_csv, sets, 1, &res), 0);
  CU_ASSERT(res.simulated_ns % 10000000 != 0); /* 10 ms intervals: the last is short */
  uint64_t n;
  srv_power_row *pw = timeline_rows(&srv_power_table, &n);
  double rack_j[2] = {0, 0};
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_FATAL(pw[i].rack < 2);
    rack_j[pw[i].rack] += pw[i].energy_j;
  }
  free(pw);
  double busiest_w = fmax(rack_j[0], rack_j[1]) / ((double)res.simulated_ns * 1e-9);
  srv_summary s;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(srv_report_summarise(out_path, &s, err, sizeof err), 0);
  CU_ASSERT_EQUAL(s.racks, 2);
  CU_ASSERT(close_to(s.rack_avg_w_max, busiest_w, 1e-12));
  CU_ASSERT(s.rack_avg_w_max <= s.rack_peak_w);
}

static void test_requests_share_exactly_the_iterations_energy(void) {
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, NULL, 0, &res), 0);
  uint64_t n, nreq, ninst;
  srv_node_row *nodes = timeline_rows(&srv_nodes_table, &n);
  srv_request_row *req = timeline_rows(&srv_requests_table, &nreq);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(ninst, 1);
  CU_ASSERT_EQUAL_FATAL(nreq, 3);
  /* The serving node holds the instance's one accelerator: what it drew beyond its host and idle
   * power is what the iterations drew beyond idle. */
  double simulated_s = (double)res.simulated_ns * 1e-9, busy_s = (double)inst[0].busy_ns * 1e-9;
  double busy_j = node(nodes, n, 0)->energy_j - serving_host_w * simulated_s -
                  h100_idle_w * (simulated_s - busy_s);
  CU_ASSERT(busy_j > h100_idle_w * busy_s); /* iterations draw more than idle */
  double requests_j = 0;
  for (uint64_t i = 0; i < nreq; i++) {
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
    CU_ASSERT(req[i].energy_j > 0);
    requests_j += req[i].energy_j;
  }
  CU_ASSERT(requests_j <= busy_j * (1 + 1e-9));
  /* Every iteration's energy goes to the requests in it, by tokens: nothing is lost or made. */
  CU_ASSERT(close_to(requests_j, busy_j, 1e-9));
  free(nodes);
  free(req);
  free(inst);
}

static void test_json_report_has_energy_power_and_zero_transfers_when_colocated(void) {
  srv_result res;
  CU_ASSERT_EQUAL_FATAL(run(trace_csv, NULL, 0, &res), 0);
  srv_summary s;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(srv_report_summarise(out_path, &s, err, sizeof err), 0);
  char *json = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&json, &len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  srv_report_print_json(&s, false, f);
  fclose(f);
  char expected[256];
  snprintf(expected, sizeof expected, "\"energy\":{\"total_j\":%.17g,", s.energy_j);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, expected));
  snprintf(expected, sizeof expected, "\"per_output_token_j\":%.17g,", s.energy_per_output_token_j);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, expected));
  snprintf(expected, sizeof expected, "\"power\":{\"avg_w\":%.17g,\"peak_w\":%.17g,", s.power_avg_w,
           s.power_peak_w);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, expected));
  CU_ASSERT(s.energy_j > 0 && s.energy_per_output_token_j > 0 && s.power_avg_w > 0);
  /* Colocated: no transfer, so every figure of the transfer time is 0. */
  CU_ASSERT_PTR_NOT_NULL(strstr(json,
                                "\"kv_transfer_ms\":{\"mean\":0,\"p50\":0,\"p90\":0,"
                                "\"p95\":0,\"p99\":0,\"max\":0,\"count\":0}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"kv\":{\"transfers\":0,"));
  CU_ASSERT_EQUAL(s.transfers, 0);
  free(json);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  snprintf(dir, sizeof dir, "/tmp/wt-test-energy-XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    MPI_Finalize();
    return 1;
  }
  snprintf(out_path, sizeof out_path, "%s/timeline.h5", dir);
  static const harness_test tests[] = {
      {"node without an instance draws exactly host and idle power",
       test_node_without_instance_draws_exactly_host_and_idle_power},
      {"power rows sum to each node's energy", test_power_rows_sum_to_each_nodes_energy},
      {"power rows sum to node energy when the end cuts an iteration",
       test_power_rows_sum_to_node_energy_when_the_end_cuts_an_iteration},
      {"power rows sum to node energy when disaggregated",
       test_power_rows_sum_to_node_energy_when_disaggregated},
      {"report's energy is the nodes' energy", test_report_energy_is_the_nodes_energy},
      {"report flags each interval a rack exceeds its budget",
       test_report_flags_each_interval_a_rack_exceeds_its_budget},
      {"power rows written during the run cover it once and sum to node energy",
       test_power_rows_written_during_the_run_cover_it_once_and_sum_to_node_energy},
      {"rack mean power counts a short last interval by its length",
       test_rack_mean_power_counts_a_short_last_interval_by_its_length},
      {"requests share exactly the iterations' energy",
       test_requests_share_exactly_the_iterations_energy},
      {"JSON report has energy, power and zero transfers when colocated",
       test_json_report_has_energy_power_and_zero_transfers_when_colocated},
      {NULL, NULL},
  };
  int failed = harness_run("energy", tests, argc > 1 ? argv[1] : NULL, true);
  const char *files[] = {"scenario.yaml", "trace.csv", "timeline.h5"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    remove(path);
  }
  rmdir(dir);
  MPI_Finalize();
  return failed ? 1 : 0;
}
