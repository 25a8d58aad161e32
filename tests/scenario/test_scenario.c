/* Unit tests of the scenario loader: the built-in default and the committed examples, errors that
 * name file:line:col and key path, --set, cluster and memory checks, catalogue extensions,
 * workloads. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "io/scenario.h"

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
static int load_text(const char *text, const char *const *sets, size_t set_count, io_scenario **s,
                     char *path, char *err, size_t err_len) {
  char own_path[128];
  if (!path)
    path = own_path;
  write_file("scenario.yaml", text, path, 128);
  err[0] = '\0';
  return io_scenario_load(path, sets, set_count, s, err, err_len);
}

static io_scenario *load_ok(const char *path, const char *const *sets, size_t set_count) {
  io_scenario *s = NULL;
  char err[1024] = "";
  int rc = io_scenario_load(path, sets, set_count, &s, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\nload of %s failed: %s\n", path ? path : "the default", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  return s;
}

/* Checks that a load failed with exactly the message want. */
static void assert_error(int rc, const io_scenario *s, const char *err, const char *want) {
  if (rc == 0 || strcmp(err, want) != 0)
    fprintf(stderr, "\nrc %d, message\n  '%s'\nwanted\n  '%s'\n", rc, err, want);
  CU_ASSERT(rc < 0);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_STRING_EQUAL(err, want);
}

/* Checks that a load failed with a message that starts with prefix and contains part. */
static void assert_error_has(int rc, const io_scenario *s, const char *err, const char *prefix,
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

static void test_default_scenario_loads_16_instances_with_kv_blocks_and_its_trace(void) {
  io_scenario *s = load_ok(NULL, NULL, 0);
  CU_ASSERT_STRING_EQUAL(s->path, "(built-in default)");
  CU_ASSERT_EQUAL(io_scenario_instances(s), 16);
  CU_ASSERT_EQUAL_FATAL(s->deployment_count, 1);
  const io_deployment *d = &s->deployments[0];
  CU_ASSERT_STRING_EQUAL(d->name, "llama8b");
  CU_ASSERT_STRING_EQUAL(d->model->name, "Llama-3.1-8B");
  CU_ASSERT_STRING_EQUAL(d->accel->name, "H100-SXM-80GB");
  CU_ASSERT_EQUAL(d->hw.tp, 1);
  CU_ASSERT_EQUAL(d->hw.pp, 1);
  CU_ASSERT_EQUAL(d->role, IO_ROLE_MIXED);
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
  CU_ASSERT_EQUAL(s->router.policy, JOB_ROUTE_LEAST_REQUESTS);
  CU_ASSERT_EQUAL(s->router.dispatch_latency_ns, 1000000);
  CU_ASSERT_EQUAL(s->slo.ttft_ns, 2000000000);
  CU_ASSERT_EQUAL(s->slo.tpot_ns, 200000000);
  CU_ASSERT_EQUAL(s->simulation.end_ns, 0);
  CU_ASSERT_EQUAL(s->simulation.seed, 1);
  CU_ASSERT_EQUAL(s->simulation.threads, 1);
  CU_ASSERT_STRING_EQUAL(s->output.path, "windtunnel.h5");
  CU_ASSERT_TRUE(s->output.compress);
  /* the committed trace, found from the source tree, all of it */
  CU_ASSERT_FALSE(s->workload.synthetic);
  CU_ASSERT_STRING_EQUAL(s->workload.trace_path, CONV_TRACE);
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
  io_scenario_free(s);
}

static void test_built_in_default_is_examples_default_yaml(void) {
  io_scenario *built_in = load_ok(NULL, NULL, 0);
  io_scenario *file = load_ok(WT_EXAMPLES_DIR "/default.yaml", NULL, 0);
  CU_ASSERT_STRING_EQUAL(file->resolved_text, built_in->resolved_text);
  CU_ASSERT_STRING_EQUAL(file->workload.trace_path, built_in->workload.trace_path);
  CU_ASSERT_EQUAL(file->deployments[0].sched.total_kv_blocks,
                  built_in->deployments[0].sched.total_kv_blocks);
  io_scenario_free(file);
  io_scenario_free(built_in);
}

static void test_every_committed_example_loads(void) {
  static const char *const examples[] = {"default.yaml", "synthetic-gamma.yaml",
                                         "custom-hardware.yaml", NULL};
  for (const char *const *e = examples; *e; e++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", WT_EXAMPLES_DIR, *e);
    io_scenario *s = load_ok(path, NULL, 0);
    CU_ASSERT(io_scenario_instances(s) > 0);
    io_scenario_free(s);
  }
}

static void test_omitted_keys_take_vllm_and_documented_defaults(void) {
  static const char *const text =
      "deployments:\n"
      "  - {model: Llama-3.1-8B, accelerator: H100-SXM-80GB}\n"
      "  - {model: Qwen3-8B, accelerator: A100-SXM-80GB}\n" CONV_WORKLOAD;
  io_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const io_deployment *h100 = &s->deployments[0], *a100 = &s->deployments[1];
  CU_ASSERT_STRING_EQUAL(h100->name, "Llama-3.1-8B"); /* named after the model */
  CU_ASSERT_EQUAL(h100->count, 1);
  CU_ASSERT_EQUAL(h100->hw.tp, 1);
  CU_ASSERT_EQUAL(h100->hw.pp, 1);
  CU_ASSERT_EQUAL(h100->role, IO_ROLE_MIXED);
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
  CU_ASSERT_EQUAL(s->router.policy, JOB_ROUTE_LEAST_REQUESTS);
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
  io_scenario_free(s);
}

/* ---- errors with locations ---- */

static void test_unknown_key_deep_inside_names_location_path_and_suggestion(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    scheduler:\n"                              /* 5 */
      "      block_size: 16\n"                        /* 6 */
      "      max_num_seq: 8\n"                        /* 7 */
      CONV_WORKLOAD;
  io_scenario *s = NULL;
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
  io_scenario *s = NULL;
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
  io_scenario *s = NULL;
  char path[128], err[1024], want[512];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:2:12: deployments.0.model: unknown value 'Llama-3.1-8C' (did you mean "
           "'Llama-3.1-8B'?)",
           path);
  assert_error(rc, s, err, want);
}

static void test_missing_required_section_is_named(void) {
  io_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(MINIMAL_DEPLOYMENTS, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:1:1: missing key 'workload'", path);
  assert_error(rc, s, err, want);
}

static void test_parallel_sizes_are_checked_at_their_keys(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "    tp: 3\n"                                   /* 5 */
      CONV_WORKLOAD;
  io_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want,
           "%s:5:9: deployments.0.tp: tp 3 must divide the 32 query heads of Llama-3.1-8B", path);
  assert_error(rc, s, err, want);

  const char *sets[] = {"deployments.0.pp=33"};
  rc = io_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.pp=33: deployments.0.pp: pp 33 exceeds the 32 layers of "
               "Llama-3.1-8B (each pipeline stage holds at least one layer)");
}

static void test_slo_must_be_positive(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS CONV_WORKLOAD /* 1-6 */
      "slo: {ttft: 2s, tpot: 0s}\n";                                /* 7 */
  io_scenario *s = NULL;
  char path[128], err[1024], want[256];
  int rc = load_text(text, NULL, 0, &s, path, err, sizeof err);
  snprintf(want, sizeof want, "%s:7:23: slo.tpot: ", path);
  assert_error_has(rc, s, err, want, "at least 1ns");
}

static void test_missing_trace_file_is_reported_with_its_resolved_path(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                   /* 5 */
      "  trace: no-such-trace.csv\n";                 /* 6 */
  io_scenario *s = NULL;
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
  io_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_STRING_EQUAL(s->workload.trace_path, trace);
  io_scenario_free(s);
}

/* ---- --set ---- */

static void test_set_overrides_values_and_lands_in_resolved_text(void) {
  const char *sets[] = {"deployments.0.count=4", "slo.ttft=500ms", "router.policy=power_of_two"};
  io_scenario *s = load_ok(NULL, sets, 3);
  CU_ASSERT_EQUAL(io_scenario_instances(s), 4);
  CU_ASSERT_EQUAL(s->slo.ttft_ns, 500000000);
  CU_ASSERT_EQUAL(s->router.policy, JOB_ROUTE_POWER_OF_TWO);
  CU_ASSERT_PTR_NOT_NULL(strstr(s->resolved_text, "count: 4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(s->resolved_text, "ttft: 500ms"));
  io_scenario_free(s);
}

static void test_bad_set_value_error_names_the_set(void) {
  io_scenario *s = NULL;
  char err[1024];
  const char *bad_value[] = {"deployments.0.count=four"};
  int rc = io_scenario_load(NULL, bad_value, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.count=four: deployments.0.count: ", "expected a number");

  const char *bad_key[] = {"deployments.0.cuont=4"};
  rc = io_scenario_load(NULL, bad_key, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.cuont=4: deployments.0: unknown key 'cuont' (did you mean "
               "'count'?)");

  const char *bad_path[] = {"deployments.3.count=4"};
  rc = io_scenario_load(NULL, bad_path, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err, "--set deployments.3.count=4: ", "has no item '3'");
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
  io_scenario *s = NULL;
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
  rc = io_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.count=17: deployments.0.count: ", "need 17 accelerators");
  const char *fits[] = {"deployments.0.count=8", "deployments.0.tp=2"};
  s = load_ok(NULL, fits, 2);
  io_scenario_free(s);
}

static void test_tensor_parallel_group_must_fit_in_a_node(void) {
  const char *sets[] = {"deployments.0.tp=16", "deployments.0.count=1", "cluster.nodes.0.count=4"};
  io_scenario *s = NULL;
  char err[1024];
  int rc = io_scenario_load(NULL, sets, 3, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.tp=16: deployments.0.tp: tp 16 does not fit in one node: the "
               "cluster's H100-SXM-80GB nodes hold at most 8 (a tensor-parallel group runs "
               "within one node's scale-up domain)");
}

static void test_deployment_on_an_accelerator_the_cluster_lacks_errors(void) {
  const char *sets[] = {"deployments.0.accelerator=A100-SXM-80GB"};
  io_scenario *s = NULL;
  char err[1024];
  int rc = io_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error(rc, s, err,
               "--set deployments.0.accelerator=A100-SXM-80GB: deployments.0.accelerator: the "
               "cluster has no A100-SXM-80GB nodes (add one to cluster.nodes)");
}

static void test_without_cluster_the_cluster_is_sized_to_the_deployments(void) {
  static const char *const text =
      "deployments:\n"
      "  - {name: a, model: Llama-3.1-70B, accelerator: H100-SXM-80GB, tp: 4, pp: 2, count: 3}\n"
      "  - {name: b, model: Qwen3-8B, accelerator: H200-SXM-141GB, count: 5}\n" CONV_WORKLOAD;
  io_scenario *s = NULL;
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
  CU_ASSERT_EQUAL(io_scenario_instances(s), 8);
  io_scenario_free(s);
}

/* ---- memory ---- */

static void test_model_that_does_not_fit_memory_errors(void) {
  const char *sets[] = {"deployments.0.model=Llama-3.1-70B"};
  io_scenario *s = NULL;
  char err[1024];
  int rc = io_scenario_load(NULL, sets, 1, &s, err, sizeof err);
  assert_error_has(rc, s, err,
                   "--set deployments.0.model=Llama-3.1-70B: deployments.0.model: model does not "
                   "fit: weights 131.",
                   " GiB on a 80.0 GiB device (tp 1, pp 1); use more tensor or pipeline "
                   "parallelism or a larger device");
  /* weights that fit the device but leave no room for KV blocks at this utilization */
  const char *tight[] = {"deployments.0.model=Llama-3.1-70B", "deployments.0.tp=2",
                         "deployments.0.count=8", "deployments.0.gpu_memory_utilization=0.8"};
  int rc2 = io_scenario_load(NULL, tight, 4, &s, err, sizeof err);
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
  io_scenario_free(s);
}

static void test_explicit_kv_blocks_override_the_computed_ones(void) {
  const char *sets[] = {"deployments.0.scheduler.kv_blocks=100",
                        "deployments.0.gpu_memory_utilization=50%"};
  io_scenario *s = load_ok(NULL, sets, 2);
  CU_ASSERT_EQUAL(s->deployments[0].sched.total_kv_blocks, 100);
  CU_ASSERT_DOUBLE_EQUAL(s->deployments[0].gpu_memory_utilization, 0.5, 0.0);
  io_scenario_free(s);
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
  io_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const hw_accel *base = hw_catalog_accel(s->catalog, "H100-SXM-80GB");
  const io_deployment *half = &s->deployments[0], *full = &s->deployments[1];
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
  io_scenario_free(s);
}

static void test_catalogue_entry_errors_are_located(void) {
  static const char *const unknown_base =
      "accelerators:\n"
      "  X1:\n"
      "    based_on: H100-SXM-80BG\n" /* 3 */
      MINIMAL_DEPLOYMENTS CONV_WORKLOAD;
  io_scenario *s = NULL;
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
  io_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const io_workload *w = &s->workload;
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
  io_scenario_free(s);
}

static void test_synthetic_with_empirical_lengths_and_default_seed(void) {
  static const char *const text = MINIMAL_DEPLOYMENTS
      "workload:\n"
      "  to: 1min\n"
      "  synthetic: {rate: 5/s, empirical: {trace: \"" CODE_TRACE
      "\"}}\n"
      "simulation: {seed: 42}\n";
  io_scenario *s = NULL;
  char err[1024];
  int rc = load_text(text, NULL, 0, &s, NULL, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n%s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  const io_workload *w = &s->workload;
  CU_ASSERT_EQUAL(w->synth.arrival, JOB_ARRIVAL_POISSON);
  CU_ASSERT_EQUAL(w->synth.rate_points, 1);
  CU_ASSERT_DOUBLE_EQUAL(w->rate_curve[0].rate_per_s, 5.0, 0.0);
  CU_ASSERT_PTR_EQUAL(w->synth.empirical_path, w->empirical_path);
  CU_ASSERT_STRING_EQUAL(w->empirical_path, CODE_TRACE);
  CU_ASSERT_EQUAL(w->synth.seed, 42);
  CU_ASSERT_EQUAL(w->opts.to_ns, 60000000000);
  io_scenario_free(s);
}

static void test_synthetic_workload_errors_are_located(void) {
  static const char *const endless = MINIMAL_DEPLOYMENTS /* 1-4 */
      "workload:\n"                                      /* 5 */
      "  synthetic:\n"                                   /* 6 */
      "    rate: 5/s\n"                                  /* 7 */
      "    input: {kind: fixed, tokens: 10}\n"
      "    output: {kind: fixed, tokens: 10}\n";
  io_scenario *s = NULL;
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
  CU_pSuite suite = CU_add_suite("scenario", suite_init, suite_cleanup);
  CU_ADD_TEST(suite, test_default_scenario_loads_16_instances_with_kv_blocks_and_its_trace);
  CU_ADD_TEST(suite, test_built_in_default_is_examples_default_yaml);
  CU_ADD_TEST(suite, test_every_committed_example_loads);
  CU_ADD_TEST(suite, test_omitted_keys_take_vllm_and_documented_defaults);
  CU_ADD_TEST(suite, test_unknown_key_deep_inside_names_location_path_and_suggestion);
  CU_ADD_TEST(suite, test_wrong_unit_names_location_and_expected_kind);
  CU_ADD_TEST(suite, test_unknown_catalogue_name_suggests_the_closest);
  CU_ADD_TEST(suite, test_missing_required_section_is_named);
  CU_ADD_TEST(suite, test_parallel_sizes_are_checked_at_their_keys);
  CU_ADD_TEST(suite, test_slo_must_be_positive);
  CU_ADD_TEST(suite, test_missing_trace_file_is_reported_with_its_resolved_path);
  CU_ADD_TEST(suite, test_trace_path_is_relative_to_the_scenario_folder);
  CU_ADD_TEST(suite, test_set_overrides_values_and_lands_in_resolved_text);
  CU_ADD_TEST(suite, test_bad_set_value_error_names_the_set);
  CU_ADD_TEST(suite, test_deployments_exceeding_the_cluster_error_with_the_count);
  CU_ADD_TEST(suite, test_tensor_parallel_group_must_fit_in_a_node);
  CU_ADD_TEST(suite, test_deployment_on_an_accelerator_the_cluster_lacks_errors);
  CU_ADD_TEST(suite, test_without_cluster_the_cluster_is_sized_to_the_deployments);
  CU_ADD_TEST(suite, test_model_that_does_not_fit_memory_errors);
  CU_ADD_TEST(suite, test_explicit_kv_blocks_override_the_computed_ones);
  CU_ADD_TEST(suite, test_catalogue_extension_with_based_on_overrides_and_new_entries);
  CU_ADD_TEST(suite, test_catalogue_entry_errors_are_located);
  CU_ADD_TEST(suite, test_synthetic_workload_parses_and_generates_requests);
  CU_ADD_TEST(suite, test_synthetic_with_empirical_lengths_and_default_seed);
  CU_ADD_TEST(suite, test_synthetic_workload_errors_are_located);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failures ? 1 : 0;
}
