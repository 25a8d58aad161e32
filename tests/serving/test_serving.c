/* The serving simulation against hand-computable cases: a lone request's TTFT, a saturated
 * instance's iterations, and the accounting of every request of a trace. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>

#include "harness.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serving/report.h"
#include "serving/schema.h"
#include "serving/serving.h"
#include "serving_runs.h"

static void test_lone_request_ttft_is_dispatch_latency_plus_priced_prefill(void) {
  srv_scenario *s = scenario_run("lone.yaml", NULL, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  hw_deploy d;
  char err[256];
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&d, s->deployments[0].accel, s->deployments[0].model,
                                       &s->deployments[0].hw, err, sizeof err),
                        0);
  /* 1000 prompt tokens, no cache: c*p + c(c+1)/2 pairs with p = 0, attending to 1000 KV tokens. */
  hw_batch prefill = {.prefill_seqs = 1,
                      .prefill_tokens = 1000,
                      .prefill_attn_pairs = 500500,
                      .prefill_ctx_tokens = 1000};
  int64_t expected = s->router.dispatch_latency_ns + hw_iteration_ns(&d, &prefill, NULL);
  CU_ASSERT_EQUAL(req[0].first_token_ns - req[0].arrival_ns, expected);
  CU_ASSERT_EQUAL(req[0].dispatch_ns - req[0].arrival_ns, s->router.dispatch_latency_ns);
  CU_ASSERT_EQUAL(req[0].done_ns, req[0].first_token_ns); /* one output token */
  CU_ASSERT_EQUAL(req[0].fate, SRV_FATE_COMPLETED);
  free(req);
  srv_scenario_free(s);
}

static int by_index(const void *a, const void *b);

/* The lone request with `output` tokens on `engine`: its first token as the client sees it, the
 * ends of its last two iterations (the prompt's last chunk and, with two tokens, the decode) and
 * the host work of that decode. */
static int64_t lone_first_token(const char *engine, const char *output, int64_t end_ns[2],
                                int64_t *decode_start_ns, int64_t *host_ns) {
  const char *sets[] = {engine, output, "output.iterations=all"};
  srv_scenario *s = scenario_run("lone.yaml", sets, 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, nit;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_iteration_row *it = timeline_rows(&srv_iterations_table, &nit);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_FATAL(nit >= 2); /* vLLM 0.6 chunks the 1,000-token prompt by 512 */
  qsort(it, nit, sizeof *it, by_index);
  end_ns[0] = it[nit - 2].end_ns, end_ns[1] = it[nit - 1].end_ns;
  *decode_start_ns = it[nit - 1].start_ns;
  hw_deploy d;
  char err[256];
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&d, s->deployments[0].accel, s->deployments[0].model,
                                       &s->deployments[0].hw, err, sizeof err),
                        0);
  hw_batch decode = {.decode_seqs = 1, .decode_ctx_tokens = 1001};
  *host_ns = (int64_t)hw_host_ns(&d, &decode);
  int64_t first_token_ns = req[0].first_token_ns;
  CU_ASSERT_EQUAL(req[0].done_ns, end_ns[1]);
  free(req);
  free(it);
  srv_scenario_free(s);
  return first_token_ns;
}

/* An engine with output_lag (vLLM 0.6) shows the first token once the next iteration's host work
 * is done; one without it at the prompt's last iteration's end; a lone output token is never
 * lagged. */
static void test_an_output_lag_shows_the_first_token_after_the_next_host_work(void) {
  int64_t end_ns[2], decode_start_ns, host_ns;
  const char *two = "workload.synthetic.output.tokens=2";
  int64_t lagged = lone_first_token("deployments.0.engine=vllm-v0", two, end_ns, &decode_start_ns,
                                    &host_ns);
  CU_ASSERT(host_ns >= 3850000 && host_ns < end_ns[1] - decode_start_ns); /* 3.5 + 0.35 ms */
  CU_ASSERT_EQUAL(decode_start_ns, end_ns[0]);
  CU_ASSERT_EQUAL(lagged, decode_start_ns + host_ns);
  CU_ASSERT_EQUAL(
      lone_first_token("deployments.0.engine=vllm-v1", two, end_ns, &decode_start_ns, &host_ns),
      end_ns[0]);
  /* one token: the prompt's last iteration is the last (end_ns[1]) */
  CU_ASSERT_EQUAL(lone_first_token("deployments.0.engine=vllm-v0",
                                   "workload.synthetic.output.tokens=1", end_ns, &decode_start_ns,
                                   &host_ns),
                  end_ns[1]);
}

static int by_index(const void *a, const void *b) {
  uint64_t x = ((const srv_iteration_row *)a)->index, y = ((const srv_iteration_row *)b)->index;
  return (x > y) - (x < y);
}

static void test_saturated_instance_runs_back_to_back_at_priced_times(void) {
  srv_scenario *s = scenario_run("saturated.yaml", NULL, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  hw_deploy d;
  char err[256];
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&d, s->deployments[0].accel, s->deployments[0].model,
                                       &s->deployments[0].hw, err, sizeof err),
                        0);
  uint64_t n, nreq;
  srv_iteration_row *it = timeline_rows(&srv_iterations_table, &n);
  srv_request_row *req = timeline_rows(&srv_requests_table, &nreq);
  qsort(it, n, sizeof *it, by_index);
  uint64_t decode_only = 0, tokens = 0;
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(it[i].index, i);
    if (i > 0) /* never idle while requests wait */
      CU_ASSERT_EQUAL(it[i].start_ns, it[i - 1].end_ns);
    if (it[i].prefill_seqs == 0) {
      hw_batch b = {.decode_seqs = it[i].decode_seqs, .decode_ctx_tokens = it[i].decode_ctx_tokens};
      CU_ASSERT_EQUAL(it[i].end_ns - it[i].start_ns, hw_iteration_ns(&d, &b, NULL));
      decode_only++;
    }
    tokens += it[i].prefill_tokens + it[i].decode_seqs;
  }
  CU_ASSERT(decode_only > 10);
  /* Every prompt token is computed once (no preemption at this load) and every output token but
   * the first (which the prompt's last iteration emits) takes a decode slot. */
  CU_ASSERT_EQUAL(nreq, 300);
  CU_ASSERT_EQUAL(tokens, 300 * 200 + 300 * (40 - 1));
  for (uint64_t i = 0; i < nreq; i++)
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
  free(it);
  free(req);
  srv_scenario_free(s);
}

static int by_id(const void *a, const void *b) {
  int64_t x = ((const srv_request_row *)a)->id, y = ((const srv_request_row *)b)->id;
  return (x > y) - (x < y);
}

static void test_every_request_before_the_end_is_accounted_for_exactly_once(void) {
  const char *sets[] = {"simulation.end=120s", "deployments.0.count=2"};
  srv_scenario *s = scenario_run("../../examples/default.yaml", sets, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  /* The trace's requests arriving before the end, counted by reading it directly. */
  job_source *src;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, s->workload.trace_path, JOB_TRACE_AUTO,
                                              &s->workload.opts, err, sizeof err),
                        0);
  job_request q;
  uint64_t expected = 0;
  while (job_source_next(src, &q, err, sizeof err) > 0 && q.arrival_ns < 120000000000)
    expected++;
  job_source_close(src);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  qsort(req, n, sizeof *req, by_id);
  CU_ASSERT_EQUAL(n, expected);
  uint64_t unfinished = 0;
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(req[i].id, (int64_t)i);
    unfinished += req[i].fate == SRV_FATE_UNFINISHED;
    if (req[i].fate == SRV_FATE_COMPLETED)
      CU_ASSERT(req[i].arrival_ns < req[i].dispatch_ns &&
                req[i].dispatch_ns <= req[i].first_token_ns &&
                req[i].first_token_ns <= req[i].done_ns && req[i].done_ns < 120000000000);
  }
  CU_ASSERT(unfinished > 0); /* two instances cannot keep up with the hour's start */
  free(req);
  srv_scenario_free(s);
}

/* Hierarchical routing: the lone request crosses the global router's hop to its pod router, then
 * the dispatch hop: its TTFT is both latencies plus the priced prefill. */
static void test_pods_add_the_global_hop_before_the_dispatch(void) {
  const char *sets[] = {"router.pods={nodes: 1, latency: 3ms}"};
  srv_scenario *s = scenario_run("lone.yaml", sets, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, ninst;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_EQUAL_FATAL(ninst, 1);
  CU_ASSERT_EQUAL(req[0].dispatch_ns - req[0].arrival_ns, 3000000 + s->router.dispatch_latency_ns);
  CU_ASSERT_EQUAL(inst[0].pod, 0);
  CU_ASSERT_EQUAL(req[0].fate, SRV_FATE_COMPLETED);
  free(req);
  free(inst);
  srv_scenario_free(s);
}

/* 16 instances in 4 pods of one node each: the global router balances the pods, each pod router its
 * instances; every request is served by an instance of the pod it was sent to, and completes. */
static void test_pods_share_the_load_and_keep_their_requests(void) {
  const char *sets[] = {"cluster.nodes.0.count=4", "cluster.nodes.0.accelerators_per_node=4",
                        "router.pods={nodes: 1, policy: least_requests}",
                        "workload.max_requests=2000"};
  srv_scenario *s = scenario_run("../../examples/default.yaml", sets, 4);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, ninst;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(ninst, 16);
  CU_ASSERT_EQUAL_FATAL(n, 2000);
  uint64_t per_pod[4] = {0};
  int32_t pod_of[16];
  for (uint64_t i = 0; i < ninst; i++) {
    CU_ASSERT(inst[i].pod >= 0 && inst[i].pod < 4);
    CU_ASSERT_EQUAL((uint32_t)inst[i].pod, inst[i].instance / 4); /* one node each, in order */
    pod_of[inst[i].instance] = inst[i].pod;
  }
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
    per_pod[pod_of[req[i].instance]]++;
  }
  for (int p = 0; p < 4; p++) /* least-requests over pods: within a tenth of an even share */
    CU_ASSERT(per_pod[p] > 450 && per_pod[p] < 550);
  free(req);
  free(inst);
  srv_scenario_free(s);
}

/* A pod with decode instances but none to take requests cannot route: the run says so. */
static void test_pods_without_an_instance_to_take_requests_are_refused(void) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/disaggregated.yaml", TEST_DIR);
  const char *sets[] = {"router.pods={nodes: 1}"}; /* node 0: prefill; node 1: decode */
  srv_scenario *s;
  CU_ASSERT_EQUAL_FATAL(srv_scenario_load(path, sets, 1, &s, err, sizeof err), 0);
  srv_options opt = {.output_path = out_path, .version = "test"};
  srv_result res;
  CU_ASSERT_EQUAL(srv_run(s, &opt, MPI_COMM_WORLD, &res, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "router.pods: pod 1 holds decode instances"));
  srv_scenario_free(s);
}

/* tests/serving/swap.yaml: the preempted request's blocks go to the CXL tier and come back. Each
 * decode-only iteration lasts its hw price, except the one that swaps out and the one that swaps
 * in: those are longer by exactly latency + blocks x block bytes / bandwidth. Without the tier the
 * victim recomputes and no iteration is longer than its price. */
static void swap_case(bool tier) {
  const char *off[] = {"cluster.nodes.0.kv_tier.kind=none"};
  srv_scenario *s = scenario_run("swap.yaml", tier ? NULL : off, tier ? 0 : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  hw_deploy d;
  char err[256];
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&d, s->deployments[0].accel, s->deployments[0].model,
                                       &s->deployments[0].hw, err, sizeof err),
                        0);
  uint64_t block_bytes = (uint64_t)(hw_kv_bytes_per_token(&d) * 16 + 0.5);
  CU_ASSERT_EQUAL(block_bytes, 2097152); /* Llama-3.1-8B: 32 layers x 8 KV heads x 128 x 2 x 2 B */
  uint64_t n, nreq, ninst;
  srv_iteration_row *it = timeline_rows(&srv_iterations_table, &n);
  srv_request_row *req = timeline_rows(&srv_requests_table, &nreq);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(ninst, 1);
  CU_ASSERT_EQUAL_FATAL(nreq, 2);
  CU_ASSERT_EQUAL(inst[0].preemptions, 1);
  CU_ASSERT_EQUAL(req[0].preemptions + req[1].preemptions, 1);
  CU_ASSERT_EQUAL(req[0].swaps + req[1].swaps, tier ? 1 : 0);
  CU_ASSERT_EQUAL(inst[0].swaps_out, tier ? 1 : 0);
  CU_ASSERT_EQUAL(inst[0].swaps_in, tier ? 1 : 0);
  CU_ASSERT_EQUAL(inst[0].tier_store_bytes, inst[0].tier_load_bytes);
  uint64_t blocks = inst[0].tier_store_bytes / block_bytes;
  CU_ASSERT_EQUAL(inst[0].tier_store_bytes, blocks * block_bytes);
  CU_ASSERT(tier ? blocks == 5 : blocks == 0); /* 80 tokens computed when it was preempted */
  /* 1 us + 5 x 2 MiB at 64 GB/s = 1000 + 163840 ns, each way. */
  int64_t swap_ns = tier ? 1000 + (int64_t)(blocks * block_bytes * 1e9 / 64e9) : 0;
  CU_ASSERT(!tier || swap_ns == 164840);
  CU_ASSERT_EQUAL(inst[0].tier_ns, 2 * swap_ns);
  uint32_t longer = 0;
  for (uint64_t i = 0; i < n; i++) {
    if (it[i].prefill_seqs > 0)
      continue;
    hw_batch b = {.decode_seqs = it[i].decode_seqs, .decode_ctx_tokens = it[i].decode_ctx_tokens};
    int64_t extra = it[i].end_ns - it[i].start_ns - hw_iteration_ns(&d, &b, NULL);
    if (extra != 0) {
      CU_ASSERT_EQUAL(extra, swap_ns);
      longer++;
    }
  }
  CU_ASSERT_EQUAL(longer, tier ? 2 : 0);
  for (uint64_t i = 0; i < nreq; i++)
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
  free(it);
  free(req);
  free(inst);
  srv_scenario_free(s);
}

static void test_a_swap_lengthens_its_two_iterations_by_the_tier_transfer(void) { swap_case(true); }
static void test_without_a_tier_the_victim_recomputes_at_no_transfer_cost(void) {
  swap_case(false);
}

/* output.iterations: aggregated rows are the sums of the rows `all` writes (counts in the interval
 * where an iteration ends, busy and KV time split at interval edges; 3 ms intervals, so that
 * iterations straddle them), and they add up to the instance's row; sampled keeps every 7th
 * iteration's row; none keeps neither. */
static void test_iteration_output_modes_keep_sums_samples_or_nothing(void) {
  enum { WIDTH = 3000000, EVERY = 7 };
  const char *sets[] = {"output.iterations=all", "output.interval=3ms", "output.sample_every=7"};
  srv_scenario *s = scenario_run("saturated.yaml", sets, 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  srv_scenario_free(s);
  uint64_t n, ninst, nrows;
  srv_iteration_row *it = timeline_rows(&srv_iterations_table, &n);
  qsort(it, n, sizeof *it, by_index);
  CU_ASSERT_FATAL(n > 0);
  srv_interval_row *expected = calloc(n + (uint64_t)(it[n - 1].end_ns / WIDTH) + 2,
                                      sizeof *expected);
  uint64_t rows = 0, straddling = 0;
  for (uint64_t i = 0; i < n; i++) {
    for (int64_t t = it[i].start_ns; t < it[i].end_ns;) {
      int64_t start = t / WIDTH * WIDTH;
      int64_t until = start + WIDTH < it[i].end_ns ? start + WIDTH : it[i].end_ns;
      if (rows == 0 || expected[rows - 1].start_ns != start)
        expected[rows++] = (srv_interval_row){.instance = 0, .start_ns = start};
      expected[rows - 1].busy_ns += until - t;
      expected[rows - 1].kv_block_ns += (double)it[i].kv_blocks_used * (double)(until - t);
      straddling += t != it[i].start_ns;
      t = until;
    }
    srv_interval_row *r = &expected[rows - 1];
    r->iterations++;
    r->prefill_tokens += it[i].prefill_tokens;
    r->decode_seqs += it[i].decode_seqs;
    r->seqs += it[i].prefill_seqs + it[i].decode_seqs;
    r->kv_blocks_peak = it[i].kv_blocks_used > r->kv_blocks_peak ? it[i].kv_blocks_used
                                                                 : r->kv_blocks_peak;
  }
  CU_ASSERT(straddling > 10);

  const char *aggregated[] = {"output.iterations=aggregated", "output.interval=3ms"};
  s = scenario_run("saturated.yaml", aggregated, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  srv_scenario_free(s);
  srv_interval_row *got = timeline_rows(&srv_intervals_table, &nrows);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  uint64_t none;
  free(timeline_rows(&srv_iterations_table, &none));
  CU_ASSERT_EQUAL(none, 0);
  CU_ASSERT_EQUAL_FATAL(nrows, rows);
  uint64_t iterations = 0;
  int64_t busy_ns = 0;
  for (uint64_t i = 0; i < rows; i++) {
    CU_ASSERT_EQUAL(memcmp(&got[i], &expected[i], sizeof *got), 0);
    iterations += got[i].iterations;
    busy_ns += got[i].busy_ns;
  }
  CU_ASSERT_EQUAL_FATAL(ninst, 1);
  CU_ASSERT_EQUAL(iterations, inst[0].iterations);
  CU_ASSERT_EQUAL(busy_ns, inst[0].busy_ns);
  free(got);
  free(inst);

  const char *sampled[] = {"output.iterations=sampled", "output.sample_every=7"};
  s = scenario_run("saturated.yaml", sampled, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  srv_scenario_free(s);
  srv_iteration_row *kept = timeline_rows(&srv_iterations_table, &nrows);
  qsort(kept, nrows, sizeof *kept, by_index);
  CU_ASSERT_EQUAL_FATAL(nrows, (n + EVERY - 1) / EVERY);
  for (uint64_t i = 0; i < nrows; i++)
    CU_ASSERT_EQUAL(memcmp(&kept[i], &it[i * EVERY], sizeof *kept), 0);
  free(kept);

  const char *nothing[] = {"output.iterations=none"};
  s = scenario_run("saturated.yaml", nothing, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  srv_scenario_free(s);
  free(timeline_rows(&srv_iterations_table, &nrows));
  CU_ASSERT_EQUAL(nrows, 0);
  free(timeline_rows(&srv_intervals_table, &nrows));
  CU_ASSERT_EQUAL(nrows, 0);
  free(it);
  free(expected);
}

/* workload.mode offline: every request arrives at 0 whatever the source's times, and all finish. */
static void test_offline_mode_sends_every_request_at_the_start(void) {
  const char *sets[] = {"workload.mode=offline"};
  srv_scenario *s = scenario_run("saturated.yaml", sets, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 300);
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(req[i].arrival_ns, 0);
    CU_ASSERT_EQUAL(req[i].dispatch_ns, s->router.dispatch_latency_ns);
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
  }
  free(req);
  srv_scenario_free(s);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* workload.mode closed: the clients' first requests go at 0, and every later one exactly a think
 * time after a completion reached the router (done + the completion's hop): the sorted later
 * arrivals are the sorted completions shifted, all but the last `clients` (the source ran dry).
 * So no more than `clients` requests are ever in flight. */
static void closed_loop_case(const char *scenario, const char *think, int64_t think_ns) {
  enum { CLIENTS = 4, REQUESTS = 40 };
  const char *sets[] = {"workload.mode=closed", "workload.clients=4", think,
                        "workload.max_requests=40", "workload.rate_scale=1"};
  srv_scenario *s = scenario_run(scenario, sets, 5);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, REQUESTS);
  int64_t arrivals[REQUESTS], heard[REQUESTS];
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL_FATAL(req[i].fate, SRV_FATE_COMPLETED);
    arrivals[i] = req[i].arrival_ns;
    heard[i] = req[i].done_ns + s->router.dispatch_latency_ns + think_ns;
  }
  qsort(arrivals, REQUESTS, sizeof *arrivals, cmp_i64);
  qsort(heard, REQUESTS, sizeof *heard, cmp_i64);
  for (int i = 0; i < CLIENTS; i++)
    CU_ASSERT_EQUAL(arrivals[i], 0);
  int mismatched = 0;
  for (int i = CLIENTS; i < REQUESTS; i++)
    mismatched += arrivals[i] != heard[i - CLIENTS];
  CU_ASSERT_EQUAL(mismatched, 0);
  for (uint64_t i = 0; i < n; i++) { /* in flight at each arrival, itself included */
    int in_flight = 0;
    for (uint64_t j = 0; j < n; j++)
      in_flight += req[j].arrival_ns <= req[i].arrival_ns && req[i].arrival_ns <= req[j].done_ns;
    CU_ASSERT(in_flight <= CLIENTS);
  }
  free(req);
  srv_scenario_free(s);
}

static void test_closed_loop_sends_a_think_time_after_each_completion(void) {
  closed_loop_case("saturated.yaml", "workload.think_time=5ms", 5000000);
}

static void test_closed_loop_without_think_time_resends_at_once(void) {
  closed_loop_case("saturated.yaml", "workload.think_time=0s", 0);
}

/* ... and disaggregated: the decode instance's completion frees the client; each request's row on
 * the decode side has the arrival its client gave it (sent along with the hand-off). */
static void test_closed_loop_with_disaggregated_deployments(void) {
  closed_loop_case("disaggregated.yaml", "workload.think_time=20ms", 20000000);
}

/* Priorities from trace columns reach the scheduler: request 0 keeps the instance busy while the
 * others arrive, alternately priority 1 (even ids, each arriving first) and 0. With
 * scheduler.policy priority every priority-0 request is admitted no later than any priority-1 one;
 * under fcfs they go in arrival order. The rows carry priority, tier and deadline (arrival +
 * deadline_s; -1 without). */
static void priority_case(const char *policy, bool by_priority) {
  const char *sets[] = {"workload={trace: " TEST_DIR "/priorities.csv}", policy};
  srv_scenario *s = scenario_run("saturated.yaml", sets, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL_FATAL(n, 16);
  qsort(req, n, sizeof *req, by_id);
  int64_t latest_first = -1, earliest_second = INT64_MAX;
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL(req[i].priority, i % 2 == 0 && i > 0 ? 1 : 0);
    CU_ASSERT_EQUAL(req[i].service_tier, i % 4 == 0 ? JOB_TIER_BATCH : JOB_TIER_INTERACTIVE);
    CU_ASSERT_EQUAL(req[i].deadline_ns, i % 8 == 0 ? req[i].arrival_ns + 30000000000 : -1);
    CU_ASSERT_EQUAL(req[i].fate, SRV_FATE_COMPLETED);
    int64_t t = req[i].first_scheduled_ns;
    if (req[i].priority == 0 && i > 0 && t > latest_first)
      latest_first = t;
    if (req[i].priority == 1 && t < earliest_second)
      earliest_second = t;
  }
  CU_ASSERT_EQUAL(latest_first <= earliest_second, by_priority);
  free(req);
  srv_scenario_free(s);
}

static void test_workload_priorities_order_admission_under_the_priority_policy(void) {
  priority_case("deployments.0.scheduler.policy=priority", true);
}

static void test_workload_priorities_do_not_matter_under_fcfs(void) {
  priority_case("deployments.0.scheduler.policy=fcfs", false);
}

/* router.first_token: prefill counts a disaggregated request's first token when its prefill
 * instance samples it (the transfer's ready time); client when the decode instance first emits
 * one, after its KV landed. */
static void first_token_case(const char *where, bool client) {
  srv_scenario *s = scenario_run("disaggregated.yaml", &where, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, nt;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_transfer_row *tr = timeline_rows(&srv_transfers_table, &nt);
  qsort(req, n, sizeof *req, by_id);
  CU_ASSERT_FATAL(nt > 100);
  for (uint64_t t = 0; t < nt; t++) {
    CU_ASSERT_FATAL(tr[t].id >= 0 && (uint64_t)tr[t].id < n);
    const srv_request_row *q = &req[tr[t].id];
    if (q->fate != SRV_FATE_COMPLETED)
      continue;
    if (client) {
      CU_ASSERT(q->first_token_ns > tr[t].end_ns && q->first_token_ns <= q->done_ns);
    } else {
      CU_ASSERT_EQUAL(q->first_token_ns, tr[t].ready_ns);
    }
  }
  free(req);
  free(tr);
  srv_scenario_free(s);
}

static void test_first_token_at_prefill_is_the_transfer_ready_time(void) {
  first_token_case("router.first_token=prefill", false);
}

static void test_first_token_at_client_comes_after_the_kv_landed(void) {
  first_token_case("router.first_token=client", true);
}

/* Requests aimed at a model go only to instances of deployments serving it: "llama-3.1-8b" to
 * small-a or small-b (the catalogue ignores case), "Qwen3-8B" to qwen, "small-b" (a deployment's
 * name) to small-b alone; requests naming none go anywhere, and do reach both models. */
static srv_scenario *aimed_case(const char *scenario, const char *const *sets, size_t set_count) {
  srv_scenario *s = scenario_run(scenario, sets, set_count);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, ninst;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(n, 80);
  CU_ASSERT_EQUAL_FATAL(ninst, 6);
  qsort(req, n, sizeof *req, by_id);
  const char *deployment[6];
  for (uint64_t i = 0; i < ninst; i++)
    deployment[inst[i].instance] = inst[i].deployment;
  int wrong = 0, any_seen[3] = {0, 0, 0}; /* small-a, qwen, small-b for requests naming none */
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT_EQUAL_FATAL(req[i].fate, SRV_FATE_COMPLETED);
    const char *d = deployment[req[i].instance];
    switch (i % 4) {
    case 0: wrong += strcmp(d, "small-a") != 0 && strcmp(d, "small-b") != 0; break;
    case 1: wrong += strcmp(d, "qwen") != 0; break;
    case 2: wrong += strcmp(d, "small-b") != 0; break;
    default:
      any_seen[0] |= strcmp(d, "small-a") == 0;
      any_seen[1] |= strcmp(d, "qwen") == 0;
      any_seen[2] |= strcmp(d, "small-b") == 0;
    }
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(any_seen[1] && (any_seen[0] || any_seen[2])); /* both models' instances */
  free(req);
  free(inst);
  return s; /* the caller's */
}

static void test_requests_aimed_at_a_model_reach_only_its_deployments(void) {
  srv_scenario_free(aimed_case("two_models.yaml", NULL, 0));
}

/* ... and so behind pod routers: three pods of two nodes (small-a's two instances, then qwen's
 * first two, then qwen's last and small-b's), the front door picking among the pods that serve a
 * request's model and each pod router among its instances of that model. */
static void test_requests_aimed_at_a_model_behind_pods_reach_only_its_deployments(void) {
  const char *sets[] = {"router.pods={nodes: 2}"};
  srv_scenario_free(aimed_case("two_models.yaml", sets, 1));
}

/* ... and across regions (two_models_regions.yaml: small-a's pod and a qwen pod in the west, qwen
 * and small-b in the east), by each region policy: a front door picks among the regions with a pod
 * open to the request's model, then among those pods. No request goes to a pod without its model
 * and back (each dispatch takes exactly the pod hop, its origin-to-region latency and the dispatch
 * latency), and with `nearest` requests aimed at small-b from the west cross to the east while
 * the other west ones stay there. */
static void test_requests_aimed_at_a_model_across_regions_reach_only_its_deployments(void) {
  const char *policies[][2] = {{"regions.policy=nearest", "regions.spillover=1"},
                               {"regions.policy=least_loaded", "regions.spillover=1"},
                               {"regions.policy=spillover", "regions.spillover=1"}};
  for (size_t p = 0; p < sizeof policies / sizeof *policies; p++) {
    srv_scenario *s = aimed_case("two_models_regions.yaml", policies[p], 2);
    uint64_t n;
    srv_request_row *req = timeline_rows(&srv_requests_table, &n);
    int crossed = 0, west_aimed_at_small_b = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint32_t g = req[i].instance >= 4, origin = srv_request_origin(s, req[i].id); /* 4-5 east */
      crossed += g != origin;
      CU_ASSERT_EQUAL(req[i].dispatch_ns - req[i].arrival_ns,
                      s->router.pods.latency_ns + s->regions.list[origin].latency_ns[g] +
                          s->router.dispatch_latency_ns);
      if (p == 0) { /* nearest */
        west_aimed_at_small_b += origin == 0 && req[i].id % 4 == 2;
        CU_ASSERT(g == origin || (origin == 0 && req[i].id % 4 == 2));
      }
    }
    if (p == 0)
      CU_ASSERT(west_aimed_at_small_b > 0 && crossed == west_aimed_at_small_b);
    if (getenv("WT_TEST_VERBOSE"))
      fprintf(stderr, "[%s] %d of %llu served outside their origin region\n", policies[p][0],
              crossed, (unsigned long long)n);
    free(req);
    srv_scenario_free(s);
  }
}

/* A model that no deployment serves: the run is refused before it starts, naming it. */
static void test_a_model_no_deployment_serves_is_refused(void) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/two_models.yaml", TEST_DIR);
  const char *sets[] = {"deployments.1.model=Llama-3.1-8B"}; /* nobody serves Qwen3-8B now */
  srv_scenario *s;
  CU_ASSERT_EQUAL_FATAL(srv_scenario_load(path, sets, 1, &s, err, sizeof err), 0);
  srv_options opt = {.output_path = out_path, .version = "test"};
  srv_result res;
  CU_ASSERT_NOT_EQUAL(srv_run(s, &opt, MPI_COMM_WORLD, &res, err, sizeof err), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err,
                                "requests are aimed at model 'Qwen3-8B', which no deployment "
                                "serves"));
  srv_scenario_free(s);
}

/* Synthetic sessions: each turn's prompt holds the conversation so far, so later turns find it in
 * the prefix cache; the same workload without sessions hits nothing. */
static uint64_t prefix_hits_with(const char *sessions) {
  const char *sets[] = {"workload.synthetic.rate=20/s", sessions};
  srv_scenario *s = scenario_run("saturated.yaml", sets, sessions ? 2 : 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, hits = 0;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  CU_ASSERT_EQUAL(n, 300);
  for (uint64_t i = 0; i < n; i++)
    hits += req[i].prefix_hit_tokens;
  free(req);
  srv_scenario_free(s);
  return hits;
}

static void test_session_turns_hit_the_prefix_cache(void) {
  uint64_t with = prefix_hits_with("workload.synthetic.sessions={turns: 4, think_time: 2s}");
  CU_ASSERT_EQUAL(prefix_hits_with(NULL), 0);
  /* about 225 later turns, each holding at least the 200 + 40 tokens before it */
  CU_ASSERT(with > 225 * 200);
}

/* workload.streams: two synthetic streams, each with its rate, lengths, model and tier, merged in
 * arrival order: ids follow arrivals, each request keeps its stream's attributes and reaches only
 * its model's instances, and the rates set the mix (10/s and 5/s: about 2 to 1). */
static void test_streams_keep_their_own_rates_lengths_models_and_tiers(void) {
  const char *sets[] = {
      "workload={max_requests: 300, streams: ["
      "{synthetic: {rate: 10/s, input: {kind: fixed, tokens: 100}, output: {kind: fixed, tokens: "
      "10}}, model: Llama-3.1-8B},"
      "{synthetic: {rate: 5/s, input: {kind: fixed, tokens: 2000}, output: {kind: fixed, tokens: "
      "50}}, model: qwen, tier: batch, deadline: 1h, priority: 1}]}"};
  srv_scenario *s = scenario_run("two_models.yaml", sets, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  uint64_t n, ninst;
  srv_request_row *req = timeline_rows(&srv_requests_table, &n);
  srv_instance_row *inst = timeline_rows(&srv_instances_table, &ninst);
  CU_ASSERT_EQUAL_FATAL(n, 300);
  qsort(req, n, sizeof *req, by_id);
  const char *deployment[6];
  for (uint64_t i = 0; i < ninst; i++)
    deployment[inst[i].instance] = inst[i].deployment;
  int chat = 0, batch = 0, wrong = 0;
  for (uint64_t i = 0; i < n; i++) {
    CU_ASSERT(i == 0 || req[i].arrival_ns >= req[i - 1].arrival_ns);
    const char *d = deployment[req[i].instance];
    if (req[i].input_tokens == 100) {
      chat++;
      wrong += req[i].output_tokens != 10 || req[i].service_tier != JOB_TIER_INTERACTIVE ||
               req[i].priority != 0 || req[i].deadline_ns != -1 || strcmp(d, "qwen") == 0;
    } else {
      batch++;
      wrong += req[i].input_tokens != 2000 || req[i].output_tokens != 50 ||
               req[i].service_tier != JOB_TIER_BATCH || req[i].priority != 1 ||
               req[i].deadline_ns != req[i].arrival_ns + INT64_C(3600000000000) ||
               strcmp(d, "qwen") != 0;
    }
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(chat > 160 && chat < 240 && batch == 300 - chat); /* Binomial(300, 2/3): sd 8 */
  /* The report's per-tier breakdown counts them so, and every batch request met its hour. */
  srv_summary sum;
  srv_breakdown groups;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(
      srv_report_summarise_groups(out_path, false, &sum, &groups, err, sizeof err), 0);
  CU_ASSERT_EQUAL_FATAL(groups.tier_count, 2);
  CU_ASSERT_STRING_EQUAL(groups.tiers[1].name, "batch");
  CU_ASSERT(groups.tiers[0].requests == (uint64_t)chat &&
            groups.tiers[1].requests == (uint64_t)batch);
  CU_ASSERT(groups.tiers[0].deadline_requests == 0 &&
            groups.tiers[1].deadline_met == (uint64_t)batch &&
            groups.tiers[1].deadline_requests == (uint64_t)batch);
  CU_ASSERT(groups.tiers[1].ttft_ms.count == (uint64_t)batch && groups.tiers[1].e2e_ms.p50 > 0);
  srv_report_breakdown_free(&groups);
  free(req);
  free(inst);
  srv_scenario_free(s);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  snprintf(out_path, sizeof out_path, "/tmp/wt-test-serving-%d.h5", (int)getpid());
  static const harness_test tests[] = {
      {"lone request: TTFT = dispatch latency + priced prefill",
       test_lone_request_ttft_is_dispatch_latency_plus_priced_prefill},
      {"output lag: the first token after the next iteration's host work",
       test_an_output_lag_shows_the_first_token_after_the_next_host_work},
      {"saturated instance: back-to-back iterations at priced times",
       test_saturated_instance_runs_back_to_back_at_priced_times},
      {"every request before the end is accounted for exactly once",
       test_every_request_before_the_end_is_accounted_for_exactly_once},
      {"pods add the global hop before the dispatch",
       test_pods_add_the_global_hop_before_the_dispatch},
      {"pods share the load and keep their requests",
       test_pods_share_the_load_and_keep_their_requests},
      {"pods without an instance to take requests are refused",
       test_pods_without_an_instance_to_take_requests_are_refused},
      {"KV tier: a swap lengthens its two iterations by latency + bytes / bandwidth",
       test_a_swap_lengthens_its_two_iterations_by_the_tier_transfer},
      {"output.iterations: aggregated sums, sampled rows, or nothing",
       test_iteration_output_modes_keep_sums_samples_or_nothing},
      {"no KV tier: the victim recomputes, no iteration pays a transfer",
       test_without_a_tier_the_victim_recomputes_at_no_transfer_cost},
      {"workload.mode offline: every request at the start",
       test_offline_mode_sends_every_request_at_the_start},
      {"closed loop: each next request a think time after a completion",
       test_closed_loop_sends_a_think_time_after_each_completion},
      {"closed loop: no think time, the next request at once",
       test_closed_loop_without_think_time_resends_at_once},
      {"closed loop with disaggregated deployments",
       test_closed_loop_with_disaggregated_deployments},
      {"workload priorities order admission under scheduler.policy priority",
       test_workload_priorities_order_admission_under_the_priority_policy},
      {"workload priorities do not matter under fcfs",
       test_workload_priorities_do_not_matter_under_fcfs},
      {"router.first_token prefill: the transfer's ready time",
       test_first_token_at_prefill_is_the_transfer_ready_time},
      {"router.first_token client: after the KV landed at the decode instance",
       test_first_token_at_client_comes_after_the_kv_landed},
      {"requests aimed at a model reach only its deployments",
       test_requests_aimed_at_a_model_reach_only_its_deployments},
      {"requests aimed at a model behind pods reach only its deployments",
       test_requests_aimed_at_a_model_behind_pods_reach_only_its_deployments},
      {"requests aimed at a model across regions reach only its deployments",
       test_requests_aimed_at_a_model_across_regions_reach_only_its_deployments},
      {"a model no deployment serves is refused", test_a_model_no_deployment_serves_is_refused},
      {"session turns hit the prefix cache", test_session_turns_hit_the_prefix_cache},
      {"streams keep their own rates, lengths, models and tiers",
       test_streams_keep_their_own_rates_lengths_models_and_tiers},
      {NULL, NULL},
  };
  int failed = harness_run("serving", tests, argc > 1 ? argv[1] : NULL, true);
  remove(out_path);
  MPI_Finalize();
  return failed ? 1 : 0;
}
