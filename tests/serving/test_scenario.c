/* Unit tests of the scenario loader: the built-in default and the committed examples, errors that
 * name file:line:col and key path, --set, pods, regions and scaling, cluster and memory checks.
 * The catalogue, engines, network, disaggregation and power are in test_scenario_hardware.c, the
 * workloads in test_scenario_workload.c; the helpers all three use in scenario_loads.c. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "scenario_loads.h"
#include "serving/scenario.h"

/* ---- the default scenario and the examples ---- */

/* Whether two paths name the same file once links and ".." are resolved. */
static bool same_file(const char *a, const char *b) {
  char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
  bool same = ra && rb && strcmp(ra, rb) == 0;
  free(ra);
  free(rb);
  return same;
}

static void test_default_scenario_loads_16_instances_with_kv_blocks_and_its_trace(void) {
  srv_scenario *s = load_ok(NULL, NULL, 0);
  CU_ASSERT_STRING_EQUAL(s->path, "(built-in default)");
  CU_ASSERT_EQUAL(srv_scenario_instances(s), 16);
  CU_ASSERT_EQUAL_FATAL(s->deployment_count, 1);
  const srv_deployment *d = &s->deployments[0];
  CU_ASSERT_STRING_EQUAL(d->name, "llama8b");
  CU_ASSERT_STRING_EQUAL(d->model->name, "Llama-3.1-8B");
  CU_ASSERT_STRING_EQUAL(d->accel->name, "H100-SXM-80GB");
  CU_ASSERT_EQUAL(d->hw.tp, 1);
  CU_ASSERT_EQUAL(d->hw.pp, 1);
  CU_ASSERT_EQUAL(d->role, SRV_ROLE_MIXED);
  CU_ASSERT_DOUBLE_EQUAL(d->gpu_memory_utilization, 0.9, 0.0);
  /* vLLM's defaults: the device's batch limits (as hw/cost.c), block 16, chunked prefill, prefix
   * caching on (v1) */
  CU_ASSERT_EQUAL(d->sched.max_num_batched_tokens, 8192);
  CU_ASSERT_EQUAL(d->sched.max_num_seqs, 1024);
  CU_ASSERT_EQUAL(d->hw.max_batched_tokens, 8192);
  CU_ASSERT_EQUAL(d->hw.max_seqs, 1024);
  CU_ASSERT_EQUAL(d->sched.block_size_tokens, 16);
  CU_ASSERT_EQUAL(d->sched.long_prefill_tokens, 0);
  CU_ASSERT_EQUAL(d->sched.policy, JOB_SCHED_FCFS);
  CU_ASSERT_TRUE(d->sched.chunked_prefill);
  CU_ASSERT_TRUE(d->sched.prefix_caching);
  /* KV blocks are what the cost model's memory sizing gives */
  hw_deploy deploy;
  char err[512];
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&deploy, d->accel, d->model, &d->hw, err, sizeof err), 0);
  uint64_t blocks = hw_kv_blocks(&deploy, 16, 0.9);
  CU_ASSERT(blocks > 0);
  CU_ASSERT_EQUAL(d->sched.total_kv_blocks, blocks);
  /* two DGX H100 nodes */
  CU_ASSERT_EQUAL_FATAL(s->node_groups, 1);
  CU_ASSERT_STRING_EQUAL(s->nodes[0].name, "dgx-h100");
  CU_ASSERT_PTR_EQUAL(s->nodes[0].accel, d->accel);
  CU_ASSERT_EQUAL(s->nodes[0].accels_per_node, 8);
  CU_ASSERT_EQUAL(s->nodes[0].count, 2);
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.policy), "least_requests");
  CU_ASSERT_EQUAL(s->router.dispatch_latency_ns, 1000000);
  CU_ASSERT_EQUAL(s->slo.ttft_ns, 2000000000);
  CU_ASSERT_EQUAL(s->slo.tpot_ns, 200000000);
  CU_ASSERT_EQUAL(s->simulation.end_ns, 0);
  CU_ASSERT_EQUAL(s->simulation.seed, 1);
  CU_ASSERT_EQUAL(s->simulation.threads, 1);
  CU_ASSERT_STRING_EQUAL(s->output.path, "windtunnel.h5");
  CU_ASSERT_TRUE(s->output.compress);
  /* the committed trace, found from the data folder (the build tree's links to the source's
   * examples/), all of it */
  CU_ASSERT_FALSE(s->workload.synthetic);
  CU_ASSERT_TRUE(same_file(s->workload.trace_path, CONV_TRACE));
  CU_ASSERT_TRUE(readable(s->workload.trace_path));
  CU_ASSERT_EQUAL(s->workload.format, JOB_TRACE_AUTO);
  job_source *src = NULL;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, s->workload.trace_path, s->workload.format,
                                              &s->workload.opts, err, sizeof err),
                        0);
  job_request req;
  int64_t requests = 0;
  while (job_source_next(src, &req, err, sizeof err) == 1)
    requests++;
  job_source_close(src);
  CU_ASSERT_EQUAL(requests, CONV_REQUESTS);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s->resolved_text);
  CU_ASSERT_PTR_NOT_NULL(strstr(s->resolved_text, "AzureLLMInferenceTrace_conv.csv"));
  srv_scenario_free(s);
}

static void test_built_in_default_is_examples_default_yaml(void) {
  srv_scenario *built_in = load_ok(NULL, NULL, 0);
  srv_scenario *file = load_ok(WT_EXAMPLES_DIR "/default.yaml", NULL, 0);
  CU_ASSERT_STRING_EQUAL(file->resolved_text, built_in->resolved_text);
  CU_ASSERT_TRUE(same_file(file->workload.trace_path, built_in->workload.trace_path));
  CU_ASSERT_EQUAL(file->deployments[0].sched.total_kv_blocks,
                  built_in->deployments[0].sched.total_kv_blocks);
  srv_scenario_free(file);
  srv_scenario_free(built_in);
}

static void test_every_committed_example_loads(void) {
  static const char *const examples[] = {
      "default.yaml",       "synthetic-gamma.yaml", "custom-hardware.yaml", "colocated.yaml",
      "disaggregated.yaml", "closed-loop.yaml",     "rtx-pro-6000.yaml",    "fleet-pods.yaml",
      NULL};
  for (const char *const *e = examples; *e; e++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", WT_EXAMPLES_DIR, *e);
    srv_scenario *s = load_ok(path, NULL, 0);
    CU_ASSERT(srv_scenario_instances(s) > 0);
    srv_scenario_free(s);
  }
}

/* examples/rtx-pro-6000.yaml prices its accelerator with the efficiencies of its
 * efficiency_file, not the default (H100-fitted) ones the catalogue gives the device. */
static void test_efficiency_file_replaces_the_accelerators_efficiencies(void) {
  srv_scenario *s = load_ok(WT_EXAMPLES_DIR "/rtx-pro-6000.yaml", NULL, 0);
  char err[256];
  hw_catalog *cat = hw_catalog_create(err, sizeof err);
  const hw_accel *built_in = hw_catalog_accel(cat, "RTX PRO 6000 Blackwell Server");
  const hw_accel *used = s->deployments[0].accel;
  CU_ASSERT_STRING_EQUAL(built_in->eff.source, "default");
  CU_ASSERT_STRING_EQUAL(used->eff.source, "rtx-pro-6000-efficiency.csv");
  CU_ASSERT(used->eff.elementwise.norm_frac != built_in->eff.elementwise.norm_frac);
  CU_ASSERT(used->eff.attn_decode.t0_ns != built_in->eff.attn_decode.t0_ns);
  /* Operators the profile has no data for keep the default efficiencies. */
  CU_ASSERT_EQUAL(used->eff.allreduce.link_frac, built_in->eff.allreduce.link_frac);
  CU_ASSERT_EQUAL(used->peak_bf16_flops, built_in->peak_bf16_flops);
  hw_catalog_destroy(cat);
  srv_scenario_free(s);
}

static void test_omitted_keys_take_vllm_and_documented_defaults(void) {
  static const char *const text =
      "deployments:\n"
      "  - {model: Llama-3.1-8B, accelerator: H100-SXM-80GB}\n"
      "  - {model: Qwen3-8B, accelerator: A100-SXM-80GB}\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const srv_deployment *h100 = &s->deployments[0], *a100 = &s->deployments[1];
  CU_ASSERT_STRING_EQUAL(h100->name, "Llama-3.1-8B"); /* named after the model */
  CU_ASSERT_EQUAL(h100->count, 1);
  CU_ASSERT_EQUAL(h100->hw.tp, 1);
  CU_ASSERT_EQUAL(h100->hw.pp, 1);
  CU_ASSERT_EQUAL(h100->role, SRV_ROLE_MIXED);
  CU_ASSERT_DOUBLE_EQUAL(h100->gpu_memory_utilization, 0.9, 0.0);
  CU_ASSERT_EQUAL(h100->sched.block_size_tokens, 16);
  CU_ASSERT_EQUAL(h100->sched.long_prefill_tokens, 0);
  CU_ASSERT_EQUAL(h100->sched.policy, JOB_SCHED_FCFS);
  CU_ASSERT_TRUE(h100->sched.chunked_prefill);
  CU_ASSERT_TRUE(h100->sched.prefix_caching);
  CU_ASSERT(h100->sched.total_kv_blocks > 0);
  /* vLLM's batch limits depend on the device: A100 keeps the small ones */
  CU_ASSERT_EQUAL(h100->sched.max_num_batched_tokens, 8192);
  CU_ASSERT_EQUAL(h100->sched.max_num_seqs, 1024);
  CU_ASSERT_EQUAL(a100->sched.max_num_batched_tokens, 2048);
  CU_ASSERT_EQUAL(a100->sched.max_num_seqs, 256);
  CU_ASSERT_EQUAL(a100->hw.max_batched_tokens, 2048);
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.policy), "least_requests");
  CU_ASSERT_EQUAL(s->router.dispatch_latency_ns, 1000000);
  CU_ASSERT_EQUAL(s->slo.ttft_ns, 2000000000);
  CU_ASSERT_EQUAL(s->slo.tpot_ns, 200000000);
  CU_ASSERT_EQUAL(s->simulation.end_ns, 0);
  CU_ASSERT_EQUAL(s->simulation.seed, 1);
  CU_ASSERT_EQUAL(s->simulation.threads, 1);
  CU_ASSERT_STRING_EQUAL(s->output.path, "windtunnel.h5");
  CU_ASSERT_TRUE(s->output.compress);
  CU_ASSERT_EQUAL(s->workload.format, JOB_TRACE_AUTO);
  CU_ASSERT_DOUBLE_EQUAL(s->workload.opts.rate_scale, 1.0, 0.0);
  CU_ASSERT_EQUAL(s->workload.opts.max_requests, 0);
  CU_ASSERT_FALSE(s->workload.opts.skip_bad_rows);
  srv_scenario_free(s);
}

/* ---- errors with locations ---- */

static void test_unknown_key_deep_inside_names_location_path_and_suggestion(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    scheduler:\n"                              /* 5 */
      "      block_size: 16\n"                        /* 6 */
      "      max_num_seq: 8\n"                        /* 7 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[1024];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:7:7: deployments.0.scheduler: unknown key 'max_num_seq' (did you mean "
           "'max_num_seqs'?)",
           path);
  assert_error(rc, s, err, want);

  static const char *const top = MINIMAL_DEPLOYMENTS "workloads:\n  trace: x.csv\n";
  rc = load_text(top, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:5:1: unknown key 'workloads' (did you mean 'workload'?)", path);
  assert_error(rc, s, err, want);
}

static void test_wrong_unit_names_location_and_expected_kind(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS CONV_WORKLOAD /* 1-6 */
      "slo:\n"                                                      /* 7 */
      "  ttft: 2GB\n";                                              /* 8 */
  srv_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:8:9: slo.ttft: ", path);
  assert_error_has(rc, s, err, want, "duration");

  static const char *const bare = MINIMAL_DEPLOYMENTS CONV_WORKLOAD /* 1-6 */
      "router:\n"                                                   /* 7 */
      "  dispatch_latency: 5\n";                                    /* 8 */
  rc = load_text(bare, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:8:21: router.dispatch_latency: ", path);
  assert_error_has(rc, s, err, want, "duration");
}

static void test_unknown_catalogue_name_suggests_the_closest(void) {
  static const char *const text =
      "deployments:\n"
      "  - model: Llama-3.1-8C\n" /* 2 */
      "    accelerator: H100-SXM-80GB\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:2:12: deployments.0.model: unknown value 'Llama-3.1-8C' (did you mean "
           "'Llama-3.1-8B'?)",
           path);
  assert_error(rc, s, err, want);
}

static void test_missing_required_section_is_named(void) {
  srv_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(MINIMAL_DEPLOYMENTS, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:1:1: missing key 'workload'", path);
  assert_error(rc, s, err, want);
}

static void test_parallel_sizes_are_checked_at_their_keys(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    tp: 3\n"                                   /* 5 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:9: deployments.0.tp: tp 3 must divide the 32 query heads of Llama-3.1-8B", path);
  assert_error(rc, s, err, want);

  const char *sets[] = {"deployments.0.pp=33"};
  rc = srv_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.pp=33: deployments.0.pp: pp 33 exceeds the 32 layers of "
               "Llama-3.1-8B (each pipeline stage holds at least one layer)");
}

static void test_slo_must_be_positive(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS CONV_WORKLOAD /* 1-6 */
      "slo: {ttft: 2s, tpot: 0s}\n";                                /* 7 */
  srv_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:7:23: slo.tpot: ", path);
  assert_error_has(rc, s, err, want, "at least 1ns");
}

static void test_missing_trace_file_is_reported_with_its_resolved_path(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                   /* 5 */
      "  trace: no-such-trace.csv\n";                 /* 6 */
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:6:10: workload.trace: cannot read the file '%s/no-such-trace.csv': No such file or "
           "directory",
           path, tmp_dir);
  assert_error(rc, s, err, want);
}

static void test_trace_path_is_relative_to_the_scenario_folder(void) {
  char trace[128];
  write_file("trace.csv",
             "TIMESTAMP,ContextTokens,GeneratedTokens\n"
             "2023-11-16 18:15:46.6805900,374,44\n"
             "2023-11-16 18:15:50.9951690,396,109\n",
             trace, sizeof trace);
  static const char *const text = MINIMAL_DEPLOYMENTS "workload:\n  trace: trace.csv\n";
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_STRING_EQUAL(s->workload.trace_path, trace);
  srv_scenario_free(s);
}

/* ---- --set ---- */

static void test_set_overrides_values_and_lands_in_resolved_text(void) {
  const char *sets[] = {"deployments.0.count=4", "slo.ttft=500ms", "router.policy=power_of_two"};
  srv_scenario *s = load_ok(NULL, sets, 3);
  CU_ASSERT_EQUAL(srv_scenario_instances(s), 4);
  CU_ASSERT_EQUAL(s->slo.ttft_ns, 500000000);
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.policy), "power_of_two");
  CU_ASSERT_PTR_NOT_NULL(strstr(s->resolved_text, "count: 4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(s->resolved_text, "ttft: 500ms"));
  srv_scenario_free(s);
}

static void test_price_cache_is_on_by_default_and_set_turns_it_off(void) {
  srv_scenario *s = load_ok(NULL, NULL, 0);
  CU_ASSERT_TRUE(s->simulation.price_cache);
  srv_scenario_free(s);
  const char *off[] = {"simulation.price_cache=false"};
  s = load_ok(NULL, off, 1);
  CU_ASSERT_FALSE(s->simulation.price_cache);
  srv_scenario_free(s);
  char err[1024];
  const char *bad[] = {"simulation.price_cache=maybe"};
  int rc = srv_scenario_load(NULL, bad, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set simulation.price_cache=maybe: simulation.price_cache: ", "false");
}

static void test_bad_set_value_error_names_the_set(void) {
  srv_scenario *s = NULL;
  char err[1024];
  const char *bad_value[] = {"deployments.0.count=four"};
  int rc = srv_scenario_load(NULL, bad_value, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.count=four: deployments.0.count: ", "expected a number");

  const char *bad_key[] = {"deployments.0.cuont=4"};
  rc = srv_scenario_load(NULL, bad_key, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.cuont=4: deployments.0: unknown key 'cuont' (did you mean "
               "'count'?)");

  const char *bad_path[] = {"deployments.3.count=4"};
  rc = srv_scenario_load(NULL, bad_path, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set deployments.3.count=4: ", "has no item '3'");
}

/* router.pods: hierarchical routing, its defaults and its refusals. */
static void test_pods_load_with_defaults_and_refuse_bad_values(void) {
  srv_scenario *s = load_ok(NULL, (const char *[]){"router.pods={nodes: 2}"}, 1);
  CU_ASSERT(s->router.pods.enabled);
  CU_ASSERT_EQUAL(s->router.pods.nodes, 2);
  CU_ASSERT_EQUAL(s->router.pods.latency_ns, s->router.dispatch_latency_ns); /* the same hop */
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.pods.policy), "least_requests");
  srv_scenario_free(s);
  s = load_ok(NULL, NULL, 0);
  CU_ASSERT(!s->router.pods.enabled);
  srv_scenario_free(s);
  char err[1024];
  const char *zero[] = {"router.pods={latency: 0s}"};
  int rc = srv_scenario_load(NULL, zero, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set router.pods={latency: 0s}: router.pods.latency: ", "at least 1ns");
  const char *typo[] = {"router.pods={node: 2}"};
  rc = srv_scenario_load(NULL, typo, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set router.pods={node: 2}: router.pods: unknown key 'node'",
                   "did you mean 'nodes'?");
  const char *scalar[] = {"router.pods=yes"};
  rc = srv_scenario_load(NULL, scalar, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set router.pods=yes: router.pods: ", "expected a mapping");
}

/* ---- regions ---- */

#define REGIONS_YAML WT_EXAMPLES_DIR "/../tests/serving/regions.yaml"

/* Regions load with their latencies both ways (a pair given on one side holds for both), the node
 * types' regions, and router.pods switched on for the front doors to send to. */
static void test_regions_load_with_symmetric_latencies_and_pods_on(void) {
  srv_scenario *s = load_ok(REGIONS_YAML, NULL, 0);
  const srv_regions *r = &s->regions;
  CU_ASSERT_EQUAL(r->count, 3);
  CU_ASSERT_STRING_EQUAL(r->list[1].name, "centralus");
  CU_ASSERT_EQUAL(r->list[0].latency_ns[2], 36000000);
  CU_ASSERT_EQUAL(r->list[2].latency_ns[0], 36000000);
  CU_ASSERT_EQUAL(r->list[2].latency_ns[1], 12000000);
  CU_ASSERT_EQUAL(r->list[1].latency_ns[1], 0);
  CU_ASSERT_DOUBLE_EQUAL(r->list[2].share, 0.2, 1e-12);
  CU_ASSERT_EQUAL(r->policy, SRV_REGION_NEAREST);
  CU_ASSERT_EQUAL(r->report_interval_ns, 100000000);
  CU_ASSERT_EQUAL(s->nodes[2].region, 2);
  CU_ASSERT(s->router.pods.enabled);
  /* origins follow the shares: of 10,000 ids, each region's count within 3% of its share */
  uint32_t count[3] = {0};
  for (int64_t id = 0; id < 10000; id++)
    count[srv_request_origin(s, id)]++;
  CU_ASSERT(count[0] > 4700 && count[0] < 5300);
  CU_ASSERT(count[1] > 2700 && count[1] < 3300);
  CU_ASSERT(count[2] > 1700 && count[2] < 2300);
  srv_scenario_free(s);
}

/* Bad region definitions are refused at the key that is wrong, saying what is. */
static void test_bad_regions_are_refused_at_their_keys(void) {
  static const struct {
    const char *set, *prefix, *part;
  } cases[] = {
      {"cluster.nodes.2.region=southus",
       "--set cluster.nodes.2.region=southus: cluster.nodes.2.region: ",
       "no region is called 'southus' (the regions: westus, centralus, eastus)"},
      {"regions.list.1={name: centralus, share: 0.3}",
       "--set regions.list.1={name: centralus, share: 0.3}: regions.list.1: ",
       "no latency between regions 'centralus' and 'eastus'"},
      {"regions.list.2.latency={westus: 30ms}", "--set regions.list.2.latency={westus: 30ms}: ",
       "regions.list.0.latency.eastus says 36000000 ns; give one latency per pair"},
      {"regions.list.2.name=westus", "--set regions.list.2.name=westus: regions.list.2.name: ",
       "region 'westus' is already defined (as regions.list.0)"},
      {"regions.list.0.latency={westus: 1ms}",
       "--set regions.list.0.latency={westus: 1ms}: ", "a region's own hop is router.pods.latency"},
      {"cluster.nodes.2.region=centralus", REGIONS_YAML,
       "region 'eastus' has no node type; give some cluster.nodes region: eastus"},
      {"regions.policy=closest", "--set regions.policy=closest: regions.policy: ", "nearest"},
      {"regions.spillover=0", "--set regions.spillover=0: regions.spillover: ",
       "expected more than 0 outstanding requests per instance"},
      {"regions.list.0.share=-1",
       "--set regions.list.0.share=-1: regions.list.0.share: ", "expected a value of at least 0"},
      /* the kill crosses from the first region's front door to eastus: 1 + 1 + 36 ms */
      {"deployments.0.scaling={spot: 1, spot_notice: 37ms}",
       "--set deployments.0.scaling={spot: 1, spot_notice: 37ms}: "
       "deployments.0.scaling.spot_notice: ",
       "cannot reach the instance in time"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    srv_scenario *s = NULL;
    char err[1024] = "";
    int rc = srv_scenario_load(REGIONS_YAML, &cases[i].set, 1, &s, err, sizeof err);
    assert_error_has(rc, s, err, cases[i].prefix, cases[i].part);
  }
  srv_scenario *s = NULL;
  char err[1024] = "";
  const char *zero[] = {"regions.list.0.share=0", "regions.list.1.share=0",
                        "regions.list.2.share=0"};
  int rc = srv_scenario_load(REGIONS_YAML, zero, 3, &s, err, sizeof err);
  assert_error_has(rc, s, err, REGIONS_YAML, "the regions' shares add up to 0");
  const char *closed[] = {"workload.mode=closed", "workload.clients=4"};
  rc = srv_scenario_load(REGIONS_YAML, closed, 2, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set workload.mode=closed: workload.mode: ",
                   "a closed loop does not take regions yet");
  const char *stray[] = {"cluster.nodes.0.region=westus"};
  rc = srv_scenario_load(NULL, stray, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "(built-in default)",
                   "cluster.nodes.0 names region 'westus', but the scenario declares no regions");
}

/* deployments.N.scaling: absent, every instance serves throughout; present, its defaults (all
 * serving at t=0, at least one kept, a local NVMe read rate, Kubernetes HPA's tolerance and
 * windows); values that cannot hold are refused at their keys. */
static void test_scaling_loads_with_defaults_and_refuses_bad_values(void) {
  srv_scenario *s = load_ok(NULL, NULL, 0);
  CU_ASSERT(!s->scaling && !s->deployments[0].scaling.enabled);
  srv_scenario_free(s);
  s = load_ok(NULL, (const char *[]){"deployments.0.scaling={controller: {kind: reactive}}"}, 1);
  const srv_scaling *sc = &s->deployments[0].scaling;
  CU_ASSERT(s->scaling && sc->enabled);
  CU_ASSERT_EQUAL(sc->initial, s->deployments[0].count);
  CU_ASSERT_EQUAL(sc->max, s->deployments[0].count);
  CU_ASSERT_EQUAL(sc->min, 1);
  CU_ASSERT_DOUBLE_EQUAL(sc->storage_bytes_per_s, 7e9, 1);
  CU_ASSERT_EQUAL(sc->controller, SRV_CONTROLLER_REACTIVE);
  CU_ASSERT_EQUAL(sc->interval_ns, 15000000000LL);
  CU_ASSERT_DOUBLE_EQUAL(sc->hpa.tolerance, 0.1, 1e-12);
  CU_ASSERT_EQUAL(sc->hpa.down_window_ns, 300000000000LL);
  CU_ASSERT_EQUAL(sc->hpa.up_window_ns, 0);
  CU_ASSERT_EQUAL(sc->spot_notice_ns, 120000000000LL); /* AWS's two-minute warning */
  srv_scenario_free(s);
  s = load_ok(NULL,
              (const char *[]){"deployments.0.scaling={initial: 2, max: 8, controller: "
                               "{kind: forecast, capacity: 3/s}}"},
              1);
  sc = &s->deployments[0].scaling;
  CU_ASSERT_EQUAL(sc->interval_ns, 3600000000000LL); /* hourly */
  CU_ASSERT_EQUAL(sc->bin_ns, 60000000000LL);
  CU_ASSERT_EQUAL(sc->season_ns, 86400000000000LL);
  CU_ASSERT_DOUBLE_EQUAL(sc->capacity_per_s, 3, 1e-12);
  srv_scenario_free(s);
  static const struct {
    const char *set, *where, *what;
  } bad[] = {
      {"deployments.0.scaling={max: 17}", "deployments.0.scaling.max: ", "from 0 to 16"},
      {"deployments.0.scaling={initial: 1, min: 2}",
       "deployments.0.scaling.initial: ", "initial (1) is below min (2)"},
      {"deployments.0.scaling={controller: {kind: forecast}}",
       "deployments.0.scaling.controller: ", "needs capacity"},
      {"deployments.0.scaling={controller: {kind: forecast, capacity: 1/s, bin: 7min}}",
       "deployments.0.scaling.controller.bin: ", "whole numbers of bins"},
      {"deployments.0.scaling={warm: 1}", "deployments.0.scaling.warm: ", "from 0 to 0"},
      {"deployments.0.scaling={initial: 2, provison: 1s}",
       "deployments.0.scaling: ", "did you mean 'provision'?"},
      {"deployments.0.scaling={spot: 2, spot_notice: 1us}",
       "deployments.0.scaling.spot_notice: ", "cannot reach the instance in time"},
      {"deployments.0.scaling={spot: 17}", "deployments.0.scaling.spot: ", "from 0 to 16"},
  };
  char err[1024], prefix[256];
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = srv_scenario_load(NULL, &bad[i].set, 1, &s, err, sizeof err);
    snprintf(prefix, sizeof prefix, "--set %s: %s", bad[i].set, bad[i].where);
    assert_error_has(rc, s, err, prefix, bad[i].what);
  }
  /* With pods the kill goes a pod hop further: a notice of the dispatch latency is too short. */
  const char *pods[] = {"router.pods={nodes: 2}",
                        "deployments.0.scaling={initial: 2, spot: 1, spot_notice: 1ms}"};
  int rc = srv_scenario_load(NULL, pods, 2, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.scaling={initial: 2, spot: 1, spot_notice: 1ms}: "
                   "deployments.0.scaling.spot_notice: ",
                   "cannot reach the instance in time");
}

/* ---- the cluster ---- */

static void test_deployments_exceeding_the_cluster_error_with_the_count(void) {
  static const char *const text =
      "cluster:\n"                                                                     /* 1 */
      "  nodes:\n"                                                                     /* 2 */
      "    - {accelerator: H100-SXM-80GB, accelerators_per_node: 8, count: 2}\n"       /* 3 */
      "deployments:\n"                                                                 /* 4 */
      "  - {name: small, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 8}\n" /* 5 */
      "  - name: big\n"                                                                /* 6 */
      "    model: Llama-3.1-8B\n"                                                      /* 7 */
      "    accelerator: H100-SXM-80GB\n"                                               /* 8 */
      "    tp: 2\n"                                                                    /* 9 */
      "    count: 5\n"                                                                 /* 10 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:10:12: deployments.1.count: the deployments on H100-SXM-80GB need 18 accelerators "
           "(tp x pp x count: small 1x1x8 + big 2x1x5), the cluster has 16 (H100-SXM-80GB-node: "
           "2 x 8)",
           path);
  assert_error(rc, s, err, want);

  /* the same through --set on the default: 17 instances on 16 GPUs */
  const char *sets[] = {"deployments.0.count=17"};
  rc = srv_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.count=17: deployments.0.count: ", "need 17 accelerators");
  const char *fits[] = {"deployments.0.count=8", "deployments.0.tp=2"};
  s = load_ok(NULL, fits, 2);
  srv_scenario_free(s);
}

static void test_dtypes_ep_and_moe_routing_are_checked_at_their_keys(void) {
  static const char *const fp4 = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    dtype: {weights: fp4, kv: fp8}\n"         /* 5 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(fp4, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:22: deployments.0.dtype.weights: weights in fp4 need fp4 tensor cores, and "
           "H100-SXM-80GB has none (its catalogue entry gives no fp4 peak)",
           path);
  assert_error(rc, s, err, want);
  const char *sets[] = {"deployments.0.dtype=fp16"};
  rc = srv_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set deployments.0.dtype=fp16: deployments.0.dtype:", "bf16");
  const char *ep[] = {"deployments.0.ep=2"};
  rc = srv_scenario_load(NULL, ep, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.ep=2: deployments.0.ep: ep 2 must divide the 0 experts of "
               "Llama-3.1-8B");
  const char *kv[] = {"deployments.0.dtype.kv=fp8"};
  s = load_ok(NULL, kv, 1);
  CU_ASSERT_EQUAL(s->deployments[0].hw.kv_dtype, HW_DTYPE_FP8);
  CU_ASSERT_EQUAL(s->deployments[0].hw.weight_dtype, HW_DTYPE_BF16);
  CU_ASSERT_FALSE(s->deployments[0].hw.moe_copies); /* uniform routing by default */
  srv_scenario_free(s);
  const char *copies[] = {"deployments.0.moe_routing=copies"};
  s = load_ok(NULL, copies, 1);
  CU_ASSERT_TRUE(s->deployments[0].hw.moe_copies);
  srv_scenario_free(s);
  const char *routing[] = {"deployments.0.moe_routing=same"};
  rc = srv_scenario_load(NULL, routing, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set deployments.0.moe_routing=same: deployments.0.moe_routing:",
                   "copies");
}

static void test_tensor_parallel_group_must_fit_in_a_node(void) {
  const char *sets[] = {"deployments.0.tp=16", "deployments.0.count=1", "cluster.nodes.0.count=4"};
  srv_scenario *s = NULL;
  char err[1024];
  int rc = srv_scenario_load(NULL, sets, 3, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.tp=16: deployments.0.tp: tp 16 does not fit in one node: the "
               "cluster's H100-SXM-80GB nodes hold at most 8 (a tensor-parallel group runs "
               "within one node's scale-up domain)");
}

static void test_deployment_on_an_accelerator_the_cluster_lacks_errors(void) {
  const char *sets[] = {"deployments.0.accelerator=A100-SXM-80GB"};
  srv_scenario *s = NULL;
  char err[1024];
  int rc = srv_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.accelerator=A100-SXM-80GB: deployments.0.accelerator: the "
               "cluster has no A100-SXM-80GB nodes (add one to cluster.nodes)");
}

static void test_without_cluster_the_cluster_is_sized_to_the_deployments(void) {
  static const char *const text =
      "deployments:\n"
      "  - {name: a, model: Llama-3.1-70B, accelerator: H100-SXM-80GB, tp: 4, pp: 2, count: 3}\n"
      "  - {name: b, model: Qwen3-8B, accelerator: H200-SXM-141GB, count: 5}\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_EQUAL_FATAL(s->node_groups, 2);
  CU_ASSERT_STRING_EQUAL(s->nodes[0].name, "a");
  CU_ASSERT_STRING_EQUAL(s->nodes[0].accel->name, "H100-SXM-80GB");
  CU_ASSERT_EQUAL(s->nodes[0].accels_per_node, 4);
  CU_ASSERT_EQUAL(s->nodes[0].count, 6);
  CU_ASSERT_STRING_EQUAL(s->nodes[1].accel->name, "H200-SXM-141GB");
  CU_ASSERT_EQUAL(s->nodes[1].accels_per_node, 1);
  CU_ASSERT_EQUAL(s->nodes[1].count, 5);
  CU_ASSERT_EQUAL(srv_scenario_instances(s), 8);
  srv_scenario_free(s);
}

/* ---- memory ---- */

static void test_model_that_does_not_fit_memory_errors(void) {
  const char *sets[] = {"deployments.0.model=Llama-3.1-70B"};
  srv_scenario *s = NULL;
  char err[1024];
  int rc = srv_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.model=Llama-3.1-70B: deployments.0.model: model does not "
                   "fit: weights 131.",
                   " GiB on a 80.0 GiB device (tp 1, pp 1); use more tensor or pipeline "
                   "parallelism or a larger device");
  /* weights that fit the device but leave no room for KV blocks at this utilization */
  const char *tight[] = {"deployments.0.model=Llama-3.1-70B", "deployments.0.tp=2",
                         "deployments.0.count=8", "deployments.0.gpu_memory_utilization=0.8"};
  int rc2 = srv_scenario_load(NULL, tight, 4, &s, err, sizeof err);
  assert_error_has(rc2, s, err,
                   "--set deployments.0.model=Llama-3.1-70B: deployments.0.model: "
                   "model does not fit: weights 65.",
                   " GiB on a 80.0 GiB device (tp 2, pp 1; 64.0 GiB usable at "
                   "gpu_memory_utilization 0.8, ");
  /* with tp 2 the weights are halved and it fits */
  const char *tp2[] = {"deployments.0.model=Llama-3.1-70B", "deployments.0.tp=2",
                       "deployments.0.count=8"};
  s = load_ok(NULL, tp2, 3);
  CU_ASSERT(s->deployments[0].sched.total_kv_blocks > 0);
  srv_scenario_free(s);
}

static void test_explicit_kv_blocks_override_the_computed_ones(void) {
  const char *sets[] = {"deployments.0.scheduler.kv_blocks=100",
                        "deployments.0.gpu_memory_utilization=50%"};
  srv_scenario *s = load_ok(NULL, sets, 2);
  CU_ASSERT_EQUAL(s->deployments[0].sched.total_kv_blocks, 100);
  CU_ASSERT_DOUBLE_EQUAL(s->deployments[0].gpu_memory_utilization, 0.5, 0.0);
  srv_scenario_free(s);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite suite = CU_add_suite("scenario", scenario_suite_init, scenario_suite_cleanup);
  CU_ADD_TEST(suite, test_default_scenario_loads_16_instances_with_kv_blocks_and_its_trace);
  CU_ADD_TEST(suite, test_built_in_default_is_examples_default_yaml);
  CU_ADD_TEST(suite, test_every_committed_example_loads);
  CU_ADD_TEST(suite, test_efficiency_file_replaces_the_accelerators_efficiencies);
  CU_ADD_TEST(suite, test_omitted_keys_take_vllm_and_documented_defaults);
  CU_ADD_TEST(suite, test_unknown_key_deep_inside_names_location_path_and_suggestion);
  CU_ADD_TEST(suite, test_wrong_unit_names_location_and_expected_kind);
  CU_ADD_TEST(suite, test_unknown_catalogue_name_suggests_the_closest);
  CU_ADD_TEST(suite, test_missing_required_section_is_named);
  CU_ADD_TEST(suite, test_parallel_sizes_are_checked_at_their_keys);
  CU_ADD_TEST(suite, test_regions_load_with_symmetric_latencies_and_pods_on);
  CU_ADD_TEST(suite, test_bad_regions_are_refused_at_their_keys);
  CU_ADD_TEST(suite, test_slo_must_be_positive);
  CU_ADD_TEST(suite, test_missing_trace_file_is_reported_with_its_resolved_path);
  CU_ADD_TEST(suite, test_trace_path_is_relative_to_the_scenario_folder);
  CU_ADD_TEST(suite, test_set_overrides_values_and_lands_in_resolved_text);
  CU_ADD_TEST(suite, test_price_cache_is_on_by_default_and_set_turns_it_off);
  CU_ADD_TEST(suite, test_bad_set_value_error_names_the_set);
  CU_ADD_TEST(suite, test_pods_load_with_defaults_and_refuse_bad_values);
  CU_ADD_TEST(suite, test_scaling_loads_with_defaults_and_refuses_bad_values);
  CU_ADD_TEST(suite, test_deployments_exceeding_the_cluster_error_with_the_count);
  CU_ADD_TEST(suite, test_tensor_parallel_group_must_fit_in_a_node);
  CU_ADD_TEST(suite, test_dtypes_ep_and_moe_routing_are_checked_at_their_keys);
  CU_ADD_TEST(suite, test_deployment_on_an_accelerator_the_cluster_lacks_errors);
  CU_ADD_TEST(suite, test_without_cluster_the_cluster_is_sized_to_the_deployments);
  CU_ADD_TEST(suite, test_model_that_does_not_fit_memory_errors);
  CU_ADD_TEST(suite, test_explicit_kv_blocks_override_the_computed_ones);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
