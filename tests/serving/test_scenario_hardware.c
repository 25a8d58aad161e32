/* Unit tests of the scenario loader, the hardware side: catalogue extensions, engine profiles and
 * efficiency overrides, network presets and values, disaggregated roles and power. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "scenario_loads.h"
#include "serving/scenario.h"

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
  CU_pSuite suite = CU_add_suite("scenario hardware", scenario_suite_init, scenario_suite_cleanup);
  CU_ADD_TEST(suite, test_catalogue_extension_with_based_on_overrides_and_new_entries);
  CU_ADD_TEST(suite, test_catalogue_entry_errors_are_located);
  CU_ADD_TEST(suite, test_engine_profile_sets_host_work_kv_rule_and_scheduler_defaults);
  CU_ADD_TEST(suite, test_admission_defaults_from_the_engine_and_is_overridable);
  CU_ADD_TEST(suite, test_pipeline_stages_multiply_the_schedulers_limits);
  CU_ADD_TEST(suite, test_engine_and_efficiency_errors_are_located);
  CU_ADD_TEST(suite, test_accelerator_efficiency_overrides_keep_the_rest_of_its_fit);
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
