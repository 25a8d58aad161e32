/* Unit tests of the scenario loader: the built-in default and the committed examples, errors that
 * name file:line:col and key path, --set, cluster and memory checks, catalogue extensions,
 * workloads, network, disaggregation and power. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "serving/scenario.h"

#define CONV_TRACE WT_EXAMPLES_DIR "/traces/AzureLLMInferenceTrace_conv.csv"
#define CODE_TRACE WT_EXAMPLES_DIR "/traces/AzureLLMInferenceTrace_code.csv"
#define CONV_REQUESTS 19366 /* examples/traces/README.md */

/* The folder the tests write scenario files into, made by the suite's init. */
static char tmp_dir[64];

static int suite_init(void) {
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/wt-scenario-XXXXXX");
  return mkdtemp(tmp_dir) ? 0 : -1;
}

static int suite_cleanup(void) {
  static const char *const files[] = {"scenario.yaml", "trace.csv", NULL};
  char path[128];
  for (const char *const *f = files; *f; f++) {
    snprintf(path, sizeof path, "%s/%s", tmp_dir, *f);
    unlink(path);
  }
  return rmdir(tmp_dir);
}

/* Writes text to name in the test folder; path receives its full path. */
static void write_file(const char *name, const char *text, char *path, size_t path_len) {
  snprintf(path, path_len, "%s/%s", tmp_dir, name);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
}

/* Loads text as the file scenario.yaml with sets; returns the loader's code. path receives the
 * file's path (for expected messages), err the message. */
static int load_text(const char *text, const char *const *sets, size_t set_count, srv_scenario **s,
                     char *path, char *err, size_t err_len) {
  char own_path[128];
  if (!path)
    path = own_path;
  write_file("scenario.yaml", text, path, 128);
  err[0] = '\0';
  return srv_scenario_load(path, sets, set_count, s, err, err_len);
}

static srv_scenario *load_ok(const char *path, const char *const *sets, size_t set_count) {
  srv_scenario *s = NULL;
  char err[1024] = "";
  int rc = srv_scenario_load(path, sets, set_count, &s, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\nload of %s failed: %s\n", path ? path : "the default", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  return s;
}

/* Checks that a load failed with exactly the message want. */
static void assert_error(int rc, const srv_scenario *s, const char *err, const char *want) {
  if (rc == 0 || strcmp(err, want) != 0)
    fprintf(stderr, "\nrc %d, message\n  '%s'\nwanted\n  '%s'\n", rc, err, want);
  CU_ASSERT(rc < 0);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_STRING_EQUAL(err, want);
}

/* Checks that a load failed with a message that starts with prefix and contains part. */
static void assert_error_has(int rc, const srv_scenario *s, const char *err, const char *prefix,
                             const char *part) {
  bool ok = rc < 0 && strncmp(err, prefix, strlen(prefix)) == 0 && (!part || strstr(err, part));
  if (!ok)
    fprintf(stderr,
            "\nrc %d, message\n  '%s'\nwanted one starting\n  '%s'\nand containing\n  '%s'\n", rc,
            err, prefix, part ? part : "");
  CU_ASSERT(ok);
  CU_ASSERT_PTR_NULL(s);
}

static bool readable(const char *path) {
  FILE *f = fopen(path, "r");
  if (f)
    fclose(f);
  return f != NULL;
}

/* A small valid scenario: the lines are counted in the tests that edit it. */
#define MINIMAL_DEPLOYMENTS                                                                        \
  "deployments:\n"                   /* 1 */                                                       \
  "  - model: Llama-3.1-8B\n"        /* 2 */                                                       \
  "    accelerator: H100-SXM-80GB\n" /* 3 */                                                       \
  "    count: 2\n"                   /* 4 */
#define CONV_WORKLOAD                                                                              \
  "workload:\n"                   /* 5 */                                                          \
  "  trace: \"" CONV_TRACE "\"\n" /* 6 */

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
      "disaggregated.yaml", "closed-loop.yaml",     "rtx-pro-6000.yaml",    NULL};
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

static void test_dtypes_and_ep_are_checked_at_their_keys(void) {
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
  srv_scenario_free(s);
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

/* ---- catalogue extensions ---- */

static void test_catalogue_extension_with_based_on_overrides_and_new_entries(void) {
  static const char *const text =
      "accelerators:\n"
      "  H100-NVL-94GB:\n"
      "    based_on: H100-SXM-80GB\n"
      "    peak_bf16_tflops: 835.5\n"
      "    hbm: 94GB\n"
      "    hbm_bandwidth: 3.9TB/s\n"
      "    tdp: 400W\n"
      "  A100-SXM-80GB:\n" /* an existing entry: only tdp changes */
      "    tdp: 500W\n"
      "models:\n"
      "  Llama-3.1-8B-16L:\n"
      "    based_on: Llama-3.1-8B\n"
      "    layers: 16\n"
      "  Toy-1L:\n" /* a new model: head_dim from hidden / q_heads */
      "    layers: 1\n"
      "    hidden: 256\n"
      "    q_heads: 4\n"
      "    kv_heads: 4\n"
      "    ffn: 1024\n"
      "    vocab: 1000\n"
      "deployments:\n"
      "  - {name: half, model: Llama-3.1-8B-16L, accelerator: H100-NVL-94GB, count: 2}\n"
      "  - {name: full, model: Llama-3.1-8B, accelerator: H100-SXM-80GB}\n"
      "  - {name: toy, model: toy 1l, accelerator: h100 nvl 94gb}\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const hw_accel *base = hw_catalog_accel(s->catalog, "H100-SXM-80GB");
  const srv_deployment *half = &s->deployments[0], *full = &s->deployments[1];
  const hw_accel *nvl = half->accel;
  CU_ASSERT_STRING_EQUAL(nvl->name, "H100-NVL-94GB");
  CU_ASSERT_PTR_EQUAL(hw_catalog_accel(s->catalog, "H100-NVL-94GB"), nvl);
  CU_ASSERT_DOUBLE_EQUAL(nvl->hbm_bytes, 94e9, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(nvl->hbm_bytes_per_s, 3.9e12, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(nvl->peak_bf16_flops, 835.5e12, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(nvl->tdp_w, 400.0, 0.0);
  /* the rest, fitted efficiencies included, comes from the base */
  CU_ASSERT_DOUBLE_EQUAL(nvl->scaleup_bytes_per_s, base->scaleup_bytes_per_s, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(nvl->peak_fp8_flops, base->peak_fp8_flops, 0.0);
  CU_ASSERT_STRING_EQUAL(nvl->eff.source, base->eff.source);
  CU_ASSERT_STRING_EQUAL(nvl->source, "based on H100-SXM-80GB");
  CU_ASSERT_DOUBLE_EQUAL(nvl->eff.gemm.compute_frac, base->eff.gemm.compute_frac, 0.0);
  const hw_accel *a100 = hw_catalog_accel(s->catalog, "A100-SXM-80GB");
  CU_ASSERT_DOUBLE_EQUAL(a100->tdp_w, 500.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a100->hbm_bytes, 80.0 * 1073741824.0, 0.0);
  /* half the layers of the base model: more memory left for KV, and each block is half as big */
  CU_ASSERT_EQUAL(half->model->layers, 16);
  CU_ASSERT_EQUAL(half->model->hidden, full->model->hidden);
  CU_ASSERT_EQUAL(full->model->layers, 32);
  CU_ASSERT(half->sched.total_kv_blocks > 2 * full->sched.total_kv_blocks);
  const hw_model *toy = s->deployments[2].model;
  CU_ASSERT_STRING_EQUAL(toy->name, "Toy-1L");
  CU_ASSERT_EQUAL(toy->head_dim, 64);
  CU_ASSERT_TRUE(toy->gated_ffn);
  CU_ASSERT_EQUAL(toy->experts, 0);
  srv_scenario_free(s);
}

static void test_catalogue_entry_errors_are_located(void) {
  static const char *const unknown_base =
      "accelerators:\n"
      "  X1:\n"
      "    based_on: H100-SXM-80BG\n" /* 3 */
      MINIMAL_DEPLOYMENTS CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(unknown_base, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:3:15: accelerators.X1.based_on: unknown value 'H100-SXM-80BG' (did you mean "
           "'H100-SXM-80GB'?)",
           path);
  assert_error(rc, s, err, want);

  static const char *const bad_model =
      "models:\n"
      "  Odd:\n" /* 2 */
      "    based_on: Llama-3.1-8B\n"
      "    kv_heads: 5\n" MINIMAL_DEPLOYMENTS CONV_WORKLOAD;
  rc = load_text(bad_model, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:3:5: models.Odd: model Odd: q_heads must be a multiple of kv_heads", path);
  assert_error(rc, s, err, want);
}

/* ---- engine profiles and efficiency overrides ---- */

static void test_engine_profile_sets_host_work_kv_rule_and_scheduler_defaults(void) {
  static const char *const sglang = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    engine: sglang\n"                            /* 5 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024];
  CU_ASSERT_EQUAL_FATAL(load_text(sglang, NULL, 0, &s, path, err, sizeof err), 0);
  const srv_deployment *d = &s->deployments[0];
  CU_ASSERT_STRING_EQUAL(d->engine, "sglang 0.4");
  CU_ASSERT_DOUBLE_EQUAL(d->gpu_memory_utilization, 0.88, 1e-12); /* mem_fraction_static, TP 1 */
  CU_ASSERT_EQUAL(d->hw.kv_rule, HW_KV_STATIC_SHARE);
  CU_ASSERT_TRUE(d->hw.host_overlap);
  CU_ASSERT_EQUAL(d->sched.max_num_batched_tokens, 8192); /* chunked_prefill_size */
  hw_deploy deploy;
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&deploy, d->accel, d->model, &d->hw, err, sizeof err), 0);
  CU_ASSERT_EQUAL(d->sched.total_kv_blocks, hw_kv_blocks(&deploy, 16, 0.88));
  CU_ASSERT_DOUBLE_EQUAL(deploy.accel.eff.cpu.fixed_ns, 1258.3e3, 1e-6); /* engines.csv */
  srv_scenario_free(s);

  /* the mode in a mapping, the host work overridden, the fraction given */
  const char *sets[] = {"deployments.0.engine={name: vllm-v1, async_scheduling: true}",
                        "deployments.0.efficiency={cpu: {fixed: 300us}}",
                        "deployments.0.gpu_memory_utilization=0.8"};
  s = load_ok(NULL, sets, 3);
  d = &s->deployments[0];
  CU_ASSERT_TRUE(d->hw.host_overlap);
  CU_ASSERT_EQUAL(d->hw.kv_rule, HW_KV_SHARE_OF_ALL);
  CU_ASSERT_DOUBLE_EQUAL(d->gpu_memory_utilization, 0.8, 1e-12);
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&deploy, d->accel, d->model, &d->hw, err, sizeof err), 0);
  CU_ASSERT_DOUBLE_EQUAL(deploy.accel.eff.cpu.fixed_ns, 300e3, 1e-6);     /* the deployment's */
  CU_ASSERT_DOUBLE_EQUAL(deploy.accel.eff.cpu.per_seq_ns, 26.87e3, 1e-6); /* the engine's */
  srv_scenario_free(s);

  /* without an engine: nothing of the above (the efficiency fit, in series, vLLM's rule) */
  s = load_ok(NULL, NULL, 0);
  d = &s->deployments[0];
  CU_ASSERT_STRING_EQUAL(d->engine, "");
  CU_ASSERT_FALSE(d->hw.host_overlap);
  CU_ASSERT_EQUAL(d->hw.eff_set_mask, 0);
  CU_ASSERT_EQUAL(d->hw.kv_rule, HW_KV_SHARE_OF_ALL);
  CU_ASSERT_EQUAL(d->sched.admission, JOB_SCHED_ADMIT_ON_PROMPT);
  srv_scenario_free(s);
}

/* A pipeline of pp stages keeps pp micro-batches in flight, each within the engine's limits (the
 * device's vLLM defaults, or the scheduler section's): the scheduler's batch is their union. */
static void test_pipeline_stages_multiply_the_schedulers_limits(void) {
  srv_scenario *one = load_ok(NULL, NULL, 0);
  const char *two[] = {"deployments.0.pp=2", "deployments.0.count=8"};
  srv_scenario *s = load_ok(NULL, two, 2);
  const srv_deployment *d1 = &one->deployments[0], *d2 = &s->deployments[0];
  CU_ASSERT_EQUAL(d2->hw.max_seqs, d1->hw.max_seqs); /* per micro-batch, as the engine's */
  CU_ASSERT_EQUAL(d2->sched.max_num_seqs, 2 * d1->sched.max_num_seqs);
  CU_ASSERT_EQUAL(d2->sched.max_num_batched_tokens, 2 * d1->sched.max_num_batched_tokens);
  srv_scenario_free(s);
  const char *set[] = {"deployments.0.pp=4", "deployments.0.count=4",
                       "deployments.0.scheduler={max_num_seqs: 100}"};
  s = load_ok(NULL, set, 3);
  CU_ASSERT_EQUAL(s->deployments[0].hw.max_seqs, 100);
  CU_ASSERT_EQUAL(s->deployments[0].sched.max_num_seqs, 400);
  srv_scenario_free(s);
  srv_scenario_free(one);
}

/* TensorRT-LLM's profile reserves each request's whole KV at admission (GUARANTEED_NO_EVICT);
 * scheduler.admission overrides the profile either way, and a bad value is refused at its line. */
static void test_admission_defaults_from_the_engine_and_is_overridable(void) {
  const char *trtllm[] = {"deployments.0.engine=trtllm"};
  srv_scenario *s = load_ok(NULL, trtllm, 1);
  CU_ASSERT_EQUAL(s->deployments[0].sched.admission, JOB_SCHED_RESERVE_FULL);
  srv_scenario_free(s);
  const char *sglang[] = {"deployments.0.engine=sglang"};
  s = load_ok(NULL, sglang, 1);
  CU_ASSERT_EQUAL(s->deployments[0].sched.admission, JOB_SCHED_ADMIT_ON_PROMPT);
  srv_scenario_free(s);
  const char *back[] = {"deployments.0.engine=trtllm",
                        "deployments.0.scheduler={admission: on_prompt}"};
  s = load_ok(NULL, back, 2);
  CU_ASSERT_EQUAL(s->deployments[0].sched.admission, JOB_SCHED_ADMIT_ON_PROMPT);
  srv_scenario_free(s);
  const char *full[] = {"deployments.0.scheduler={admission: reserve_full}"};
  s = load_ok(NULL, full, 1);
  CU_ASSERT_EQUAL(s->deployments[0].sched.admission, JOB_SCHED_RESERVE_FULL);
  srv_scenario_free(s);
  static const char *const bad = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    scheduler: {admission: lazy}\n"           /* 5 */
      CONV_WORKLOAD;
  char path[128], err[1024];
  s = NULL;
  int rc = load_text(bad, NULL, 0, &s, path, err, sizeof err);
  CU_ASSERT_NOT_EQUAL(rc, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, ":5:"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "admission"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "reserve_full"));
  if (rc == 0)
    srv_scenario_free(s);
}

static void test_engine_and_efficiency_errors_are_located(void) {
  static const char *const unknown = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    engine: vllm-v9\n"                            /* 5 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[2048], want[512];
  int rc = load_text(unknown, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:13: deployments.0.engine: no engine profile 'vllm-v9' in hw/data/engines.csv; "
           "profiles: ",
           path);
  assert_error_has(rc, s, err, want, "sglang 0.4 (cuda_graphs false, async_scheduling true)");
  static const char *const eager = MINIMAL_DEPLOYMENTS    /* 1-4 */
      "    engine: {name: vllm-v0, cuda_graphs: false}\n" /* 5 */
      CONV_WORKLOAD;
  rc = load_text(eager, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:20: deployments.0.engine.name: no engine profile 'vllm-v0' "
           "cuda_graphs false",
           path);
  assert_error_has(rc, s, err, want, NULL);
  static const char *const bad_key = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    engine: {name: sglang, overlap: true}\n"      /* 5 */
      CONV_WORKLOAD;
  rc = load_text(bad_key, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:5:", path);
  assert_error_has(rc, s, err, want, "overlap");
  static const char *const family = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    efficiency:\n"                               /* 5 */
      "      gemmm: {compute_frac: 0.5}\n"              /* 6 */
      CONV_WORKLOAD;
  rc = load_text(family, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:6:7: deployments.0.efficiency.gemmm: unknown operator family 'gemmm'; expected "
           "one of: gemm, ",
           path);
  assert_error_has(rc, s, err, want, "cpu");
  static const char *const param = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    efficiency:\n"                              /* 5 */
      "      cpu: {fixed_ns: 5}\n"                     /* 6 */
      CONV_WORKLOAD;
  rc = load_text(param, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:6:", path);
  assert_error_has(rc, s, err, want, "fixed_ns");
  static const char *const frac = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    efficiency:\n"                             /* 5 */
      "      gemm: {compute_frac: 1.5}\n"             /* 6 */
      CONV_WORKLOAD;
  rc = load_text(frac, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:6:", path);
  assert_error_has(rc, s, err, want, "compute_frac");
  static const char *const unitless = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    efficiency:\n"                                 /* 5 */
      "      cpu: {fixed: 300}\n"                         /* 6 */
      CONV_WORKLOAD;
  rc = load_text(unitless, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:6:", path);
  assert_error_has(rc, s, err, want, "cpu.fixed");
}

static void test_accelerator_efficiency_overrides_keep_the_rest_of_its_fit(void) {
  static const char *const text =
      "accelerators:\n"
      "  H100-slow-host:\n"
      "    based_on: H100-SXM-80GB\n"
      "    efficiency: {gemm: {compute_frac: 0.5}, cpu: {fixed: 2ms, per_seq: 50us}}\n"
      "deployments:\n"
      "  - model: Llama-3.1-8B\n"
      "    accelerator: H100-slow-host\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const hw_accel *a = hw_catalog_accel(s->catalog, "H100-slow-host");
  const hw_accel *base = hw_catalog_accel(s->catalog, "H100-SXM-80GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_DOUBLE_EQUAL(a->eff.gemm.compute_frac, 0.5, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a->eff.cpu.fixed_ns, 2e6, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a->eff.cpu.per_seq_ns, 50e3, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a->eff.gemm.mem_frac, base->eff.gemm.mem_frac, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(a->eff.attn_decode.mem_frac, base->eff.attn_decode.mem_frac, 0.0);
  CU_ASSERT_STRING_EQUAL(a->eff.source, "H100-SXM-80GB + scenario");
  srv_scenario_free(s);
}

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

/* ---- network, disaggregation and power ---- */

/* One H100 node type with extra lines, for the system keys; its lines are counted in the tests. */
#define H100_NODE                                                                                  \
  "cluster:\n"                         /* 1 */                                                     \
  "  nodes:\n"                         /* 2 */                                                     \
  "    - accelerator: H100-SXM-80GB\n" /* 3 */                                                     \
  "      count: 2\n"                   /* 4 */

static void test_default_yaml_documented_network_and_power_values_are_the_defaults(void) {
  /* The values examples/default.yaml shows in its comments, set explicitly, change nothing. */
  const char *sets[] = {"cluster.nodes.0.system=dgx-h100",
                        "cluster.nodes.0.nics=8",
                        "cluster.nodes.0.nic_bandwidth=50GB/s",
                        "cluster.nodes.0.scaleup={kind: switch, domain: 8, bandwidth: 450GB/s, "
                        "latency: 3us}",
                        "cluster.nodes.0.host_power=2200W",
                        "cluster.nodes.0.nodes_per_rack=1",
                        "network={fabric: rail, nic_latency: 8500ns, spine_latency: 2500ns, "
                        "nodes_per_leaf: 32, spines: 16, oversubscription: 1, chunk: 16MiB, "
                        "kv_transfer: network}",
                        "power={interval: 1s, pue: 1, rack_budget: 0W, site_budget: 0W}",
                        "router.decode_policy=least_requests"};
  srv_scenario *implicit = load_ok(NULL, NULL, 0);
  srv_scenario *explicit = load_ok(NULL, sets, sizeof sets / sizeof *sets);
  const srv_node_group *a = &implicit->nodes[0], *b = &explicit->nodes[0];
  CU_ASSERT_STRING_EQUAL(a->system, "dgx-h100");
  CU_ASSERT_STRING_EQUAL(b->system, a->system);
  CU_ASSERT_EQUAL(b->net.nics_per_node, a->net.nics_per_node);
  CU_ASSERT_DOUBLE_EQUAL(b->net.nic_bytes_per_s, a->net.nic_bytes_per_s, 0.0);
  CU_ASSERT_EQUAL(b->net.scaleup.kind, a->net.scaleup.kind);
  CU_ASSERT_EQUAL(b->net.scaleup.domain_accels, a->net.scaleup.domain_accels);
  CU_ASSERT_DOUBLE_EQUAL(b->net.scaleup.bytes_per_s, a->net.scaleup.bytes_per_s, 0.0);
  CU_ASSERT_EQUAL(b->net.scaleup.latency_ns, a->net.scaleup.latency_ns);
  CU_ASSERT_DOUBLE_EQUAL(b->host_w, a->host_w, 0.0);
  CU_ASSERT_EQUAL(b->nodes_per_rack, a->nodes_per_rack);
  const net_fabric_spec *fa = &implicit->network.fabric, *fb = &explicit->network.fabric;
  CU_ASSERT_EQUAL(fb->kind, fa->kind);
  CU_ASSERT_EQUAL(fb->nic_latency_ns, fa->nic_latency_ns);
  CU_ASSERT_EQUAL(fb->spine_latency_ns, fa->spine_latency_ns);
  CU_ASSERT_EQUAL(fb->nodes_per_leaf, fa->nodes_per_leaf);
  CU_ASSERT_EQUAL(fb->spines, fa->spines);
  CU_ASSERT_DOUBLE_EQUAL(fb->oversubscription, fa->oversubscription, 0.0);
  CU_ASSERT_EQUAL(explicit->network.chunk_bytes, implicit->network.chunk_bytes);
  CU_ASSERT_FALSE(implicit->network.instant_kv);
  CU_ASSERT_FALSE(explicit->network.instant_kv);
  CU_ASSERT_EQUAL(explicit->power.interval_ns, implicit->power.interval_ns);
  CU_ASSERT_DOUBLE_EQUAL(explicit->power.pue, implicit->power.pue, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(explicit->power.rack_budget_w, implicit->power.rack_budget_w, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(explicit->power.site_budget_w, implicit->power.site_budget_w, 0.0);
  CU_ASSERT_EQUAL(explicit->router.decode_policy, implicit->router.decode_policy);
  CU_ASSERT_FALSE(implicit->disaggregated);
  srv_scenario_free(explicit);
  srv_scenario_free(implicit);
}

static void test_h100_node_takes_the_dgx_h100_preset_and_the_host_share(void) {
  srv_scenario *s = load_ok(NULL, NULL, 0);
  const srv_node_group *g = &s->nodes[0];
  /* net/presets.c dgx-h100: 8 x 50 GB/s NICs, NVSwitch over 8 GPUs at 450 GB/s, 3 us a hop */
  CU_ASSERT_STRING_EQUAL(g->system, "dgx-h100");
  CU_ASSERT_EQUAL(g->net.nics_per_node, 8);
  CU_ASSERT_DOUBLE_EQUAL(g->net.nic_bytes_per_s, 50e9, 0.0);
  CU_ASSERT_EQUAL(g->net.scaleup.kind, NET_SCALEUP_SWITCH);
  CU_ASSERT_EQUAL(g->net.scaleup.domain_accels, 8);
  CU_ASSERT_DOUBLE_EQUAL(g->net.scaleup.bytes_per_s, 450e9, 0.0);
  CU_ASSERT_EQUAL(g->net.scaleup.latency_ns, 3000);
  CU_ASSERT_EQUAL(g->net.count, 2);
  CU_ASSERT_EQUAL(g->net.accels_per_node, 8);
  /* hw/data/power.csv host_w 275 per H100, 8 per node; one node per rack */
  CU_ASSERT_DOUBLE_EQUAL(g->host_w, 8 * 275.0, 1e-9);
  CU_ASSERT_EQUAL(g->nodes_per_rack, 1);
  /* its reference fabric: rail-optimised, 32 nodes per group, 16 spines, non-blocking */
  CU_ASSERT_EQUAL(s->network.fabric.kind, NET_FABRIC_RAIL);
  CU_ASSERT_EQUAL(s->network.fabric.nic_latency_ns, 8500);
  CU_ASSERT_EQUAL(s->network.fabric.spine_latency_ns, 2500);
  CU_ASSERT_EQUAL(s->network.fabric.nodes_per_leaf, 32);
  CU_ASSERT_EQUAL(s->network.fabric.spines, 16);
  CU_ASSERT_DOUBLE_EQUAL(s->network.fabric.oversubscription, 1.0, 0.0);
  /* serving/scenario_network.c: 4 MiB chunks, one power point per simulated second, PUE 1, no
   * budgets */
  CU_ASSERT_EQUAL(s->network.chunk_bytes, 16 << 20);
  CU_ASSERT_EQUAL(s->power.interval_ns, 1000000000);
  CU_ASSERT_DOUBLE_EQUAL(s->power.pue, 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(s->power.rack_budget_w, 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(s->power.site_budget_w, 0.0, 0.0);
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.decode_policy), "least_requests");
  srv_scenario_free(s);
}

static void test_named_preset_and_overrides_load_with_their_numbers(void) {
  static const char *const text =
      "cluster:\n"
      "  nodes:\n"
      "    - accelerator: H100-SXM-80GB\n"
      "      accelerators_per_node: 4\n" /* a preset of 8 per node, scaled to 4 */
      "      count: 4\n"
      "      system: DGX-A100\n" /* case is ignored */
      "      host_power: 1.5kW\n"
      "      nodes_per_rack: 2\n"
      "    - name: torus\n"
      "      accelerator: H100-SXM-80GB\n"
      "      count: 2\n"
      "      nics: 2\n"
      "      nic_bandwidth: 400Gbps\n"
      "      scaleup: {torus: [2, 2, 4], bandwidth: 100GB/s, latency: 2us}\n"
      "network: {fabric: leaf_spine, nic_latency: 1us, spine_latency: 2us, nodes_per_leaf: 4,\n"
      "          spines: 2, oversubscription: 3, chunk: 1MiB}\n"
      "power: {interval: 100ms, pue: 1.3, rack_budget: 10kW, site_budget: 1MW}\n"
      "deployments:\n"
      "  - {model: Llama-3.1-8B, accelerator: H100-SXM-80GB, count: 2}\n" CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_EQUAL_FATAL(s->node_groups, 2);
  const srv_node_group *a100 = &s->nodes[0], *torus = &s->nodes[1];
  /* dgx-a100's values (net/presets.c), its 8 NICs scaled to the 4-accelerator node, and its
   * switched domain, made for 8, now one node (0) */
  CU_ASSERT_STRING_EQUAL(a100->system, "dgx-a100");
  CU_ASSERT_EQUAL(a100->net.nics_per_node, 4);
  CU_ASSERT_DOUBLE_EQUAL(a100->net.nic_bytes_per_s, 25e9, 0.0);
  CU_ASSERT_EQUAL(a100->net.scaleup.kind, NET_SCALEUP_SWITCH);
  CU_ASSERT_EQUAL(a100->net.scaleup.domain_accels, 0);
  CU_ASSERT_DOUBLE_EQUAL(a100->net.scaleup.bytes_per_s, 300e9, 0.0);
  CU_ASSERT_EQUAL(a100->net.scaleup.latency_ns, 4000);
  CU_ASSERT_DOUBLE_EQUAL(a100->host_w, 1500.0, 0.0);
  CU_ASSERT_EQUAL(a100->nodes_per_rack, 2);
  /* the torus sets kind and domain: 2 x 2 x 4 = 16 accelerators, two nodes of 8 */
  CU_ASSERT_EQUAL(torus->net.scaleup.kind, NET_SCALEUP_TORUS);
  CU_ASSERT_EQUAL(torus->net.scaleup.domain_accels, 16);
  CU_ASSERT_EQUAL(torus->net.scaleup.torus_dims[0], 2);
  CU_ASSERT_EQUAL(torus->net.scaleup.torus_dims[1], 2);
  CU_ASSERT_EQUAL(torus->net.scaleup.torus_dims[2], 4);
  CU_ASSERT_DOUBLE_EQUAL(torus->net.scaleup.bytes_per_s, 100e9, 0.0);
  CU_ASSERT_EQUAL(torus->net.scaleup.latency_ns, 2000);
  CU_ASSERT_EQUAL(torus->net.nics_per_node, 2);
  CU_ASSERT_DOUBLE_EQUAL(torus->net.nic_bytes_per_s, 50e9, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(torus->host_w, 8 * 275.0, 1e-9);
  CU_ASSERT_EQUAL(s->network.fabric.kind, NET_FABRIC_LEAF_SPINE);
  CU_ASSERT_EQUAL(s->network.fabric.nic_latency_ns, 1000);
  CU_ASSERT_EQUAL(s->network.fabric.spine_latency_ns, 2000);
  CU_ASSERT_EQUAL(s->network.fabric.nodes_per_leaf, 4);
  CU_ASSERT_EQUAL(s->network.fabric.spines, 2);
  CU_ASSERT_DOUBLE_EQUAL(s->network.fabric.oversubscription, 3.0, 0.0);
  CU_ASSERT_EQUAL(s->network.chunk_bytes, 1 << 20);
  CU_ASSERT_EQUAL(s->power.interval_ns, 100000000);
  CU_ASSERT_DOUBLE_EQUAL(s->power.pue, 1.3, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(s->power.rack_budget_w, 10e3, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(s->power.site_budget_w, 1e6, 0.0);
  srv_scenario_free(s);
}

static void test_unknown_system_preset_lists_the_presets(void) {
  static const char *const text = H100_NODE /* 1-4 */
      "      system: dgx-h300\n"            /* 5 */
      MINIMAL_DEPLOYMENTS CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:15: cluster.nodes.0.system: unknown system 'dgx-h300'; the presets are: "
           "dgx-a100, dgx-h100, dgx-h200, gb200-nvl72, tpu-v5e, tpu-v5p, tpu-v6e",
           path);
  assert_error(rc, s, err, want);
}

static void test_bad_torus_is_refused_at_its_key(void) {
  static const struct {
    const char *scaleup; /* on line 5, after "      scaleup: " (column 16) */
    const char *where;   /* key path and column of the error */
    const char *message;
  } cases[] = {
      {"{torus: [2, 2, 2, 1]}", "24: cluster.nodes.0.scaleup.torus",
       "expected 1 to 3 torus dimensions, got 4"},
      {"{torus: [4, 0, 1]}", "28: cluster.nodes.0.scaleup.torus.1",
       "expected a torus size from 1 to 1024"},
      {"{torus: 16}", "24: cluster.nodes.0.scaleup.torus", "expected a list of 1 to 3 sizes"},
      {"{kind: torus}", "23: cluster.nodes.0.scaleup.kind",
       "a torus needs its sizes: add torus: [x, y, z] (their product is the domain)"},
      {"{torus: [2, 2, 2], domain: 16}", "43: cluster.nodes.0.scaleup.domain",
       "domain 16 is not the torus's 8 accelerators; omit it (the torus sets it)"},
      {"{torus: [34, 1, 1]}", "24: cluster.nodes.0.scaleup.torus",
       "a torus this size needs routes of more than 16 hops; use a smaller one"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[1024];
    snprintf(text, sizeof text, "%s      scaleup: %s\n%s%s", H100_NODE, cases[i].scaleup,
             MINIMAL_DEPLOYMENTS, CONV_WORKLOAD);
    srv_scenario *s = NULL;
    char path[128], err[1024], want[512];
    int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
    snprintf(want, sizeof want, "%s:5:%s: ", path, cases[i].where);
    assert_error_has(rc, s, err, want, cases[i].message);
  }
}

static void test_bad_network_values_are_refused_at_their_keys(void) {
  static const struct {
    const char *network; /* line 7, after "network: " (column 10) */
    const char *where;
    const char *message;
  } cases[] = {
      {"{chunk: 0B}", "18: network.chunk", "expected a chunk of at least 1 byte"},
      {"{chunk: -4MiB}", "18: network.chunk", "expected a value of at least 0B"},
      {"{fabric: torus}", "19: network.fabric",
       "unknown value 'torus' (expected one of: none, leaf_spine, rail)"},
      {"{oversubscription: 0.5}", "29: network.oversubscription",
       "expected a value from 1 to 1000000"},
      {"{fabrik: rail}", "11: network", "unknown key 'fabrik' (did you mean 'fabric'?)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%snetwork: %s\n", MINIMAL_DEPLOYMENTS, CONV_WORKLOAD,
             cases[i].network);
    srv_scenario *s = NULL;
    char path[128], err[1024], want[512];
    int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
    snprintf(want, sizeof want, "%s:7:%s: ", path, cases[i].where);
    assert_error_has(rc, s, err, want, cases[i].message);
  }
}

/* The key takes what the --threads flag takes: 4096 threads were accepted and then crawled. */
static void test_simulation_threads_above_the_flags_limit_is_refused_at_its_key(void) {
  char text[1024];
  snprintf(text, sizeof text, "%s%ssimulation: {threads: 1025}\n", MINIMAL_DEPLOYMENTS,
           CONV_WORKLOAD);
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:7:", path);
  assert_error_has(rc, s, err, want, "simulation.threads");
  assert_error_has(rc, s, err, want, "1 to 1024");
  snprintf(text, sizeof text, "%s%ssimulation: {threads: 1024}\n", MINIMAL_DEPLOYMENTS,
           CONV_WORKLOAD);
  CU_ASSERT_EQUAL(load_text(text, NULL, 0, &s, path, err, sizeof err), 0);
  if (s)
    CU_ASSERT_EQUAL(s->simulation.threads, SRV_MAX_THREADS);
  srv_scenario_free(s);
}

static void test_power_cap_at_or_below_idle_power_is_refused(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    power_cap: %s\n"                           /* 5 */
      CONV_WORKLOAD;
  char doc[1024];
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  snprintf(doc, sizeof doc, text, "75W"); /* H100's idle power, hw/data/power.csv */
  int rc = load_text(doc, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:16: deployments.0.power_cap: a power cap of 75 W is not above H100-SXM-80GB's "
           "idle power (75 W)",
           path);
  assert_error(rc, s, err, want);
  snprintf(doc, sizeof doc, text, "450W");
  rc = load_text(doc, NULL, 0, &s, path, err, sizeof err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_DOUBLE_EQUAL(s->deployments[0].hw.power_cap_w, 450.0, 0.0);
  srv_scenario_free(s);
}

/* Two deployments, p and d, with the given extra keys (the cluster sized to them): line 1 is
 * "deployments:", line 2 p (a role there is at column 70), line 3 d, then the workload (4-5). */
#define TWO_ROLES(first, second)                                                                   \
  "deployments:\n"                                                                                 \
  "  - {name: p, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, " first                          \
  "}\n"                                                                                            \
  "  - {name: d, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, " second "}\n" CONV_WORKLOAD

static void test_prefill_and_decode_roles_load_as_disaggregated(void) {
  static const char *const text = TWO_ROLES(
      "role: prefill, count: 3",
      "role: decode") "router: {policy: prefix, decode_policy: least_kv}\n";
  srv_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_TRUE(s->disaggregated);
  CU_ASSERT_EQUAL(s->deployments[0].role, SRV_ROLE_PREFILL);
  CU_ASSERT_EQUAL(s->deployments[1].role, SRV_ROLE_DECODE);
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.policy), "prefix");
  CU_ASSERT_STRING_EQUAL(job_route_policy_name(s->router.decode_policy), "least_kv");
  srv_scenario_free(s);
}

static void test_disaggregated_network_that_cannot_be_built_is_refused_at_its_node_type(void) {
  /* A switched domain of 3 does not divide the 2 x 8 accelerators: harmless colocated (no network
   * is built), refused at load when transfers need the network. */
  static const char *const text = H100_NODE
      "      scaleup: {domain: 3}\n" TWO_ROLES("role: prefill", "role: decode");
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:3:7: cluster.nodes.0: the network cannot be built: node group 0: scale-up domain of "
           "3 accelerators does not divide the group's 16",
           path);
  assert_error(rc, s, err, want);
  static const char *const colocated = H100_NODE
      "      scaleup: {domain: 3}\n" MINIMAL_DEPLOYMENTS CONV_WORKLOAD;
  rc = load_text(colocated, NULL, 0, &s, NULL, err, sizeof err);
  CU_ASSERT_EQUAL(rc, 0);
  srv_scenario_free(s);
}

static void test_prefill_without_decode_is_refused(void) {
  static const char *const text = TWO_ROLES("role: prefill", "role: prefill");
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:3:70: deployments.1.role: disaggregated serving needs a decode deployment too",
           path);
  assert_error(rc, s, err, want);

  static const char *const decode_only = TWO_ROLES("role: decode", "role: decode");
  rc = load_text(decode_only, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:3:70: deployments.1.role: disaggregated serving needs a prefill deployment too",
           path);
  assert_error(rc, s, err, want);
}

static void test_mixed_beside_prefill_and_decode_is_refused(void) {
  static const char *const text =
      "deployments:\n"
      "  - {name: p, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, role: prefill}\n"
      "  - {name: d, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, role: decode}\n"
      "  - {name: m, model: Llama-3.1-8B, accelerator: H100-SXM-80GB, role: mixed}\n" /* 4 */
      CONV_WORKLOAD;
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:4:70: deployments.2.role: a mixed deployment cannot run beside prefill and "
           "decode ones; give every deployment role prefill or decode, or none of them",
           path);
  assert_error(rc, s, err, want);
}

static void test_prefix_decode_policy_is_refused(void) {
  static const char *const text = TWO_ROLES("role: prefill", "role: decode") /* 1-5 */
      "router:\n"                                                            /* 6 */
      "  decode_policy: prefix\n";                                           /* 7 */
  srv_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:7:18: router.decode_policy: the decode instance receives the KV cache, so "
           "prefix-aware routing does not apply to it; choose another policy",
           path);
  assert_error(rc, s, err, want);
}

static void test_bad_power_values_are_refused_at_their_keys(void) {
  static const struct {
    const char *power; /* line 7, after "power: " (column 8) */
    const char *where;
    const char *message;
  } cases[] = {
      {"{pue: 0.9}", "14: power.pue", "expected a value from 1 to 10, got '0.9'"},
      {"{interval: 10ns}", "19: power.interval", "expected a value of at least 1us, got '10ns'"},
      {"{rack_budget: 10kWh}", "22: power.rack_budget", "expected a power such as '700W'"},
      {"{site_budget: -1W}", "22: power.site_budget", "expected a value of at least 0W"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%spower: %s\n", MINIMAL_DEPLOYMENTS, CONV_WORKLOAD,
             cases[i].power);
    srv_scenario *s = NULL;
    char path[128], err[1024], want[512];
    int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
    snprintf(want, sizeof want, "%s:7:%s: ", path, cases[i].where);
    assert_error_has(rc, s, err, want, cases[i].message);
  }
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite suite = CU_add_suite("scenario", suite_init, suite_cleanup);
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
  CU_ADD_TEST(suite, test_dtypes_and_ep_are_checked_at_their_keys);
  CU_ADD_TEST(suite, test_deployment_on_an_accelerator_the_cluster_lacks_errors);
  CU_ADD_TEST(suite, test_without_cluster_the_cluster_is_sized_to_the_deployments);
  CU_ADD_TEST(suite, test_model_that_does_not_fit_memory_errors);
  CU_ADD_TEST(suite, test_explicit_kv_blocks_override_the_computed_ones);
  CU_ADD_TEST(suite, test_catalogue_extension_with_based_on_overrides_and_new_entries);
  CU_ADD_TEST(suite, test_catalogue_entry_errors_are_located);
  CU_ADD_TEST(suite, test_engine_profile_sets_host_work_kv_rule_and_scheduler_defaults);
  CU_ADD_TEST(suite, test_admission_defaults_from_the_engine_and_is_overridable);
  CU_ADD_TEST(suite, test_pipeline_stages_multiply_the_schedulers_limits);
  CU_ADD_TEST(suite, test_engine_and_efficiency_errors_are_located);
  CU_ADD_TEST(suite, test_accelerator_efficiency_overrides_keep_the_rest_of_its_fit);
  CU_ADD_TEST(suite, test_synthetic_workload_parses_and_generates_requests);
  CU_ADD_TEST(suite, test_synthetic_with_empirical_lengths_and_default_seed);
  CU_ADD_TEST(suite, test_synthetic_workload_errors_are_located);
  CU_ADD_TEST(suite, test_workload_modes_and_attributes_are_read_and_checked);
  CU_ADD_TEST(suite, test_default_yaml_documented_network_and_power_values_are_the_defaults);
  CU_ADD_TEST(suite, test_h100_node_takes_the_dgx_h100_preset_and_the_host_share);
  CU_ADD_TEST(suite, test_named_preset_and_overrides_load_with_their_numbers);
  CU_ADD_TEST(suite, test_unknown_system_preset_lists_the_presets);
  CU_ADD_TEST(suite, test_bad_torus_is_refused_at_its_key);
  CU_ADD_TEST(suite, test_bad_network_values_are_refused_at_their_keys);
  CU_ADD_TEST(suite, test_power_cap_at_or_below_idle_power_is_refused);
  CU_ADD_TEST(suite, test_simulation_threads_above_the_flags_limit_is_refused_at_its_key);
  CU_ADD_TEST(suite, test_prefill_and_decode_roles_load_as_disaggregated);
  CU_ADD_TEST(suite, test_prefill_without_decode_is_refused);
  CU_ADD_TEST(suite, test_disaggregated_network_that_cannot_be_built_is_refused_at_its_node_type);
  CU_ADD_TEST(suite, test_mixed_beside_prefill_and_decode_is_refused);
  CU_ADD_TEST(suite, test_prefix_decode_policy_is_refused);
  CU_ADD_TEST(suite, test_bad_power_values_are_refused_at_their_keys);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
