/* Unit tests of hw/engine.h and the engine's part of pricing: profile lookup and its errors,
 * every profile's sources, host work in series or overlapped (max, not sum), the three KV-memory
 * rules, and efficiency overrides. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hw/engine.h"
#include "hw/hw.h"

#ifndef WT_SOURCE_DIR
#error "WT_SOURCE_DIR must name the source tree"
#endif

static hw_catalog *cat;
static char err[1024];

static int suite_init(void) { return (cat = hw_catalog_create(err, sizeof err)) ? 0 : -1; }
static int suite_clean(void) {
  hw_catalog_destroy(cat);
  return 0;
}

static hw_deploy deploy_with(const char *model, uint32_t tp, const hw_deploy_config *extra) {
  hw_deploy d;
  hw_deploy_config cfg = extra ? *extra : (hw_deploy_config){0};
  cfg.tp = tp;
  const hw_accel *a = hw_catalog_accel(cat, "H100-SXM-80GB");
  const hw_model *m = hw_catalog_model(cat, model);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  int rc = hw_deploy_init(&d, a, m, &cfg, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "deploy: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return d;
}

static hw_engine engine(const char *name, const char *version, int graphs, int async) {
  hw_engine e;
  int rc = hw_engine_find(name, version, graphs, async, &e, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "engine: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return e;
}

static hw_batch decode_batch(uint32_t seqs, uint64_t ctx_each) {
  return (hw_batch){.decode_seqs = seqs, .decode_ctx_tokens = seqs * ctx_each};
}

static void test_profiles_are_found_by_name_version_and_mode(void) {
  hw_engine e = engine("vllm-v1", NULL, -1, -1);
  CU_ASSERT_STRING_EQUAL(e.version, "0.11"); /* the first row: the engine's default */
  CU_ASSERT_FALSE(e.async_scheduling);
  CU_ASSERT_FALSE(e.host_overlap);
  CU_ASSERT_EQUAL(e.max_num_seqs, 0); /* vLLM's per-device rule */
  e = engine("vLLM V1", "", -1, 1);   /* names ignore case and punctuation */
  CU_ASSERT_TRUE(e.async_scheduling && e.host_overlap);
  e = engine("vllm-v1", "0.8", -1, -1);
  CU_ASSERT_EQUAL(e.max_num_seqs, 256);
  CU_ASSERT_EQUAL(e.max_num_batched_tokens, 2048);
  e = engine("vllm-v0", NULL, 1, 0);
  CU_ASSERT_DOUBLE_EQUAL(e.host_fixed_ns, 3.5e6, 1e-6); /* fitted to vLLM 0.6.0 runs (E12) */
  CU_ASSERT_FALSE(e.prefix_caching);
  e = engine("sglang", NULL, 0, -1);
  CU_ASSERT_FALSE(e.cuda_graphs);
  CU_ASSERT_EQUAL(e.kv_rule, HW_KV_STATIC_SHARE);
  CU_ASSERT_DOUBLE_EQUAL(hw_engine_kv_fraction(&e, 1), 0.88, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_engine_kv_fraction(&e, 4), 0.85, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_engine_kv_fraction(&e, 8), 0.81, 1e-12);
  e = engine("trtllm", "1", -1, -1);
  CU_ASSERT_EQUAL(e.kv_rule, HW_KV_SHARE_OF_FREE);
  CU_ASSERT_TRUE(e.host_overlap); /* the PyTorch backend's overlap scheduler is on by default */
}

static void test_unknown_profiles_are_refused_with_the_list(void) {
  hw_engine e;
  CU_ASSERT_EQUAL(hw_engine_find("vllm-v2", NULL, -1, -1, &e, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no engine profile 'vllm-v2'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "trtllm 1.0"));
  /* "0.1" is not a prefix of version 0.11 */
  CU_ASSERT_EQUAL(hw_engine_find("vllm-v1", "0.1", -1, -1, &e, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 0.1"));
  /* no eager vLLM profile: no measurement of one is in the data */
  CU_ASSERT_EQUAL(hw_engine_find("vllm-v0", NULL, 0, -1, &e, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "cuda_graphs false"));
}

/* Every profile names its sources, and each source ID has its entry in hw/data/SOURCES.md. */
static void test_every_profile_source_is_documented(void) {
  FILE *f = fopen(WT_SOURCE_DIR "/hw/data/SOURCES.md", "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  const char *names[] = {"vllm-v1", "vllm-v0", "sglang", "trtllm"};
  for (size_t i = 0; i < 4; i++) {
    hw_engine e = engine(names[i], NULL, -1, -1);
    CU_ASSERT_FATAL(e.source[0] != '\0');
    char ids[64];
    snprintf(ids, sizeof ids, "%s", e.source);
    for (char *id = strtok(ids, " "); id; id = strtok(NULL, " ")) {
      char entry[32];
      snprintf(entry, sizeof entry, "\n- %s ", id);
      if (!strstr(text, entry))
        fprintf(stderr, "engine %s: source %s has no entry in SOURCES.md\n", names[i], id);
      CU_ASSERT_PTR_NOT_NULL(strstr(text, entry));
    }
  }
}

/* Only vLLM 0.6 (the v0 engine's asynchronous output processor, SOURCES.md E15) shows a step's
 * tokens one step late. */
static void test_only_vllm_v0_lags_its_output(void) {
  CU_ASSERT_TRUE(engine("vllm-v0", "0.6", -1, -1).output_lag);
  const char *others[] = {"vllm-v1", "sglang", "trtllm"};
  for (size_t i = 0; i < 3; i++)
    for (int async = 0; async < 2; async++)
      CU_ASSERT_FALSE(engine(others[i], NULL, -1, async).output_lag);
}

/* In series an iteration is kernels plus host; overlapped, the longer of the kernels and the
 * overlappable host work, plus the serial part. */
static void test_overlapped_host_work_takes_the_max_not_the_sum(void) {
  hw_deploy_config cfg = {0};
  hw_engine e = engine("vllm-v1", NULL, -1, 0);
  hw_engine_apply(&e, &cfg);
  hw_deploy serial = deploy_with("Llama-3.1-8B", 1, &cfg);
  e = engine("vllm-v1", NULL, -1, 1);
  cfg = (hw_deploy_config){0};
  hw_engine_apply(&e, &cfg);
  hw_deploy overlapped = deploy_with("Llama-3.1-8B", 1, &cfg);
  const uint32_t sizes[] = {1, 64, 512};
  for (size_t i = 0; i < 3; i++) {
    hw_batch b = decode_batch(sizes[i], 1000);
    hw_breakdown s, o;
    int64_t ns_s = hw_iteration_ns(&serial, &b, &s), ns_o = hw_iteration_ns(&overlapped, &b, &o);
    double seqs = sizes[i];
    double host = e.host_fixed_ns + e.host_per_seq_ns * seqs;
    double part = e.serial_fixed_ns + e.serial_per_seq_ns * seqs;
    double gpu = s.total_ns - s.cpu_ns;
    CU_ASSERT_DOUBLE_EQUAL(s.cpu_ns, host, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(o.cpu_ns, host, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s.total_ns, gpu + host, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(o.total_ns, fmax(gpu, host - part) + part, 1e-6);
    CU_ASSERT(ns_o < ns_s);
    /* what overlapping saved is the hidden host work, never more */
    CU_ASSERT_DOUBLE_EQUAL(s.total_ns - o.total_ns, fmin(gpu, host - part), 1e-6);
    /* the device waits (idle power) only outside its kernels */
    CU_ASSERT(o.power_w > s.power_w);
  }
  /* A slow host (20 ms an iteration) sets the pace of an overlapped engine: its iteration is the
   * host's time, the kernels hidden under it. */
  for (size_t i = 0; i < hw_eff_param_count(); i++)
    if (strcmp(hw_eff_param_op(i), "cpu") == 0 && strcmp(hw_eff_param_name(i), "fixed_ns") == 0)
      *hw_eff_param_ptr(&cfg.eff_set, i) = 20e6;
  hw_deploy slow = deploy_with("Llama-3.1-8B", 1, &cfg);
  hw_batch one = decode_batch(1, 1000);
  hw_breakdown o1;
  hw_iteration_ns(&slow, &one, &o1);
  CU_ASSERT_DOUBLE_EQUAL(o1.total_ns, o1.cpu_ns, 1e-6);
  CU_ASSERT(o1.cpu_ns > 20e6);
}

/* vLLM: f x HBM - weights - reserve; SGLang: f x HBM - weights - non-torch memory; TensorRT-LLM:
 * f x (HBM - weights - reserve). */
static void test_kv_memory_follows_the_engine_rule(void) {
  const double hbm = 80.0 * 1073741824.0, block = 16.0 * 81920.0; /* 70B at TP 4: 80 KiB a token */
  hw_deploy_config cfg = {0};
  hw_deploy vllm = deploy_with("Llama-3.1-70B", 4, &cfg);
  double w = hw_weights_bytes_per_device(&vllm), r = hw_activation_reserve_bytes(&vllm);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token_device(&vllm) * 16.0, block, 1e-6);
  CU_ASSERT_EQUAL(hw_kv_blocks(&vllm, 16, 0.9), (uint64_t)floor((0.9 * hbm - w - r) / block));
  cfg.kv_rule = HW_KV_STATIC_SHARE;
  hw_deploy sglang = deploy_with("Llama-3.1-70B", 4, &cfg);
  double nontorch = 411041792.0 + 551e6; /* NCCL at TP 4 and other memory (hw/cost.c) */
  CU_ASSERT_EQUAL(hw_kv_blocks(&sglang, 16, 0.85),
                  (uint64_t)floor((0.85 * hbm - w - nontorch) / block));
  cfg.kv_rule = HW_KV_SHARE_OF_FREE;
  hw_deploy trt = deploy_with("Llama-3.1-70B", 4, &cfg);
  CU_ASSERT_EQUAL(hw_kv_blocks(&trt, 16, 0.9), (uint64_t)floor(0.9 * (hbm - w - r) / block));
  /* the same fraction leaves more KV as a share of what is free than as a share of all */
  CU_ASSERT(hw_kv_blocks(&trt, 16, 0.9) > hw_kv_blocks(&vllm, 16, 0.9));
}

static void test_efficiency_overrides_replace_only_what_they_name(void) {
  hw_deploy base = deploy_with("Llama-3.1-8B", 1, NULL);
  hw_deploy_config cfg = {0};
  for (size_t i = 0; i < hw_eff_param_count(); i++) {
    const char *op = hw_eff_param_op(i), *param = hw_eff_param_name(i);
    double v = strcmp(op, "gemm") == 0 && strcmp(param, "compute_frac") == 0 ? 0.25
               : strcmp(op, "cpu") == 0 && strcmp(param, "fixed_ns") == 0    ? 5e6
                                                                             : NAN;
    if (isnan(v))
      continue;
    *hw_eff_param_ptr(&cfg.eff_set, i) = v;
    cfg.eff_set_mask |= (uint64_t)1 << i;
  }
  hw_deploy over = deploy_with("Llama-3.1-8B", 1, &cfg);
  CU_ASSERT_DOUBLE_EQUAL(over.accel.eff.gemm.compute_frac, 0.25, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(over.accel.eff.cpu.fixed_ns, 5e6, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(over.accel.eff.cpu.per_seq_ns, base.accel.eff.cpu.per_seq_ns, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(over.accel.eff.gemm.mem_frac, base.accel.eff.gemm.mem_frac, 0.0);
  hw_batch prefill = {.prefill_seqs = 1,
                      .prefill_tokens = 8192,
                      .prefill_attn_pairs = 8192ull * 8193 / 2,
                      .prefill_ctx_tokens = 8192};
  hw_breakdown b, o;
  hw_iteration_ns(&base, &prefill, &b);
  hw_iteration_ns(&over, &prefill, &o);
  CU_ASSERT(o.gemm_ns > 2.5 * b.gemm_ns); /* compute-bound GEMMs at a quarter of the peak */
  CU_ASSERT_DOUBLE_EQUAL(o.cpu_ns, 5e6 + base.accel.eff.cpu.per_seq_ns, 1e-6);
  /* a negative host time is refused */
  cfg.eff_set_mask = 0;
  for (size_t i = 0; i < hw_eff_param_count(); i++)
    if (strcmp(hw_eff_param_op(i), "cpu") == 0) {
      *hw_eff_param_ptr(&cfg.eff_set, i) = -1.0;
      cfg.eff_set_mask |= (uint64_t)1 << i;
    }
  hw_deploy d;
  CU_ASSERT_EQUAL(hw_deploy_init(&d, hw_catalog_accel(cat, "H100-SXM-80GB"),
                                 hw_catalog_model(cat, "Llama-3.1-8B"), &cfg, err, sizeof err),
                  -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "non-negative"));
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hw_engine", suite_init, suite_clean);
  static const struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
#define T(f) {#f, f}
      T(test_profiles_are_found_by_name_version_and_mode),
      T(test_unknown_profiles_are_refused_with_the_list),
      T(test_every_profile_source_is_documented),
      T(test_only_vllm_v0_lags_its_output),
      T(test_overlapped_host_work_takes_the_max_not_the_sum),
      T(test_kv_memory_follows_the_engine_rule),
      T(test_efficiency_overrides_replace_only_what_they_name),
#undef T
  };
  for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
    if (!s || !CU_add_test(s, tests[i].name, tests[i].fn)) {
      CU_cleanup_registry();
      return 1;
    }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
