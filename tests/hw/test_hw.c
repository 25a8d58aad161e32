/* Unit tests of hw/: catalogue contents, sources and overrides; hand-checkable FLOP, byte and
 * memory counts; the cost model's roofline limits, TP scaling and monotonicity; precision and
 * mixture of experts. The fits of its parameters are tested in tests/calib. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hw/cost_ops.h"
#include "hw/hw.h"
#include "util/csv.h"

#ifndef WT_SOURCE_DIR
#error "WT_SOURCE_DIR must name the source tree"
#endif

static hw_catalog *cat;
static char err[512];

static int suite_init(void) { return (cat = hw_catalog_create(err, sizeof err)) ? 0 : -1; }
static int suite_clean(void) {
  hw_catalog_destroy(cat);
  return 0;
}

static hw_deploy deploy(const char *accel, const char *model, uint32_t tp, uint32_t pp) {
  hw_deploy d;
  hw_deploy_config cfg = {.tp = tp, .pp = pp};
  const hw_accel *a = hw_catalog_accel(cat, accel);
  const hw_model *m = hw_catalog_model(cat, model);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  int rc = hw_deploy_init(&d, a, m, &cfg, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "deploy: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return d;
}

static hw_batch decode_batch(uint32_t seqs, uint64_t ctx_each) {
  hw_batch b = {0};
  b.decode_seqs = seqs;
  b.decode_ctx_tokens = seqs * ctx_each;
  return b;
}

/* One prefill chunk of `chunk` tokens after `cached` tokens. */
static hw_batch prefill_batch(uint64_t chunk, uint64_t cached) {
  hw_batch b = {0};
  b.prefill_seqs = 1;
  b.prefill_tokens = (uint32_t)chunk;
  b.prefill_attn_pairs = chunk * cached + chunk * (chunk + 1) / 2;
  b.prefill_ctx_tokens = cached + chunk;
  return b;
}

static bool near(double got, double want, double rel) { return fabs(got / want - 1.0) <= rel; }

/* ---- catalogue ---- */

static void test_catalogue_has_the_required_models_and_accelerators(void) {
  static const char *const models[] = {
      "Llama-2-7B",     "Llama-2-13B",  "Llama-2-70B",  "Llama-3.1-8B", "Llama-3.1-70B",
      "Llama-3.1-405B", "Qwen2.5-0.5B", "Qwen2.5-1.5B", "Qwen2.5-3B",   "Qwen2.5-7B",
      "Qwen2.5-14B",    "Qwen2.5-32B",  "Qwen2.5-72B",  "Qwen3-0.6B",   "Qwen3-1.7B",
      "Qwen3-4B",       "Qwen3-8B",     "Qwen3-14B",    "Qwen3-32B",    "Mixtral-8x7B",
      "Llama-3.2-3B"};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    const hw_model *m = hw_catalog_model(cat, models[i]);
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m)
      CU_ASSERT_STRING_EQUAL(m->name, models[i]);
  }
  static const char *const accels[] = {"A100-SXM-80GB",  "H100-SXM-80GB", "H200-SXM-141GB",
                                       "B200-SXM-180GB", "MI300X",        "TPU v6e (Trillium)",
                                       "Gaudi 3"};
  for (size_t i = 0; i < sizeof accels / sizeof *accels; i++)
    CU_ASSERT_PTR_NOT_NULL(hw_catalog_accel(cat, accels[i]));
  CU_ASSERT_EQUAL(hw_catalog_accel_count(cat), 16);
}

static void test_lookup_ignores_case_and_punctuation_and_accepts_hf_ids(void) {
  const hw_accel *a = hw_catalog_accel(cat, "h100 sxm 80gb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_STRING_EQUAL(a->name, "H100-SXM-80GB");
  const hw_model *m = hw_catalog_model(cat, "meta-llama/Llama-3.1-70B");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_STRING_EQUAL(m->name, "Llama-3.1-70B");
  CU_ASSERT_PTR_NULL(hw_catalog_model(cat, "Llama-3.1-7B"));
  CU_ASSERT_PTR_NULL(hw_catalog_accel(cat, "H100"));
}

static void test_accelerator_values_are_the_datasheet_values_in_si_units(void) {
  const hw_accel *a = hw_catalog_accel(cat, "H100-SXM-80GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_DOUBLE_EQUAL(a->peak_bf16_flops, 989.4e12, 1e6);
  CU_ASSERT_DOUBLE_EQUAL(a->hbm_bytes_per_s, 3.35e12, 1e3);
  CU_ASSERT_DOUBLE_EQUAL(a->hbm_bytes, 80.0 * 1073741824.0, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(a->scaleup_bytes_per_s, 450e9, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(a->tdp_w, 700.0, 1e-9);
  CU_ASSERT_STRING_EQUAL(a->eff.source, "H100-SXM-80GB");
  const hw_accel *b = hw_catalog_accel(cat, "B200-SXM-180GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_STRING_EQUAL(b->eff.source, "default"); /* no fit: the default efficiencies */
  /* The 40 GB A100: its own memory, the 80 GB part's fits (same_chip_as). */
  const hw_accel *a40 = hw_catalog_accel(cat, "A100-SXM-40GB"),
                 *a80 = hw_catalog_accel(cat, "A100-SXM-80GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a40);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a80);
  CU_ASSERT_DOUBLE_EQUAL(a40->hbm_bytes, 40.0 * 1073741824.0, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(a40->hbm_bytes_per_s, 1.555e12, 1e3);
  CU_ASSERT_DOUBLE_EQUAL(a40->peak_bf16_flops, a80->peak_bf16_flops, 0.0);
  CU_ASSERT_STRING_EQUAL(a40->eff.source, "A100-SXM-80GB");
  CU_ASSERT_EQUAL(memcmp(&a40->eff, &a80->eff, sizeof a40->eff), 0);
  CU_ASSERT_EQUAL(memcmp(&a40->power, &a80->power, sizeof a40->power), 0);
}

static char *read_text(const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", WT_SOURCE_DIR, rel);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = calloc(1, 1 << 20);
  if (buf)
    fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  return buf;
}

/* Every ID in a `source` column ("S1;S3", "config.json org/model;M1") is defined in its notes. */
static bool sources_defined(const char *source, const char *notes, const char *id_prefix) {
  char copy[256];
  snprintf(copy, sizeof copy, "%s", source);
  bool any = false;
  for (char *save, *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
    any = true;
    if (!strncmp(tok, "config.json ", 12))
      continue; /* the model's own published configuration, named by its id */
    if (strncmp(tok, id_prefix, strlen(id_prefix)) != 0)
      return false;
    char defined[64];
    snprintf(defined, sizeof defined, "- %s ", tok);
    if (!strstr(notes, defined))
      return false;
  }
  return any;
}

static void test_every_catalogue_number_has_a_source(void) {
  char *acc_notes = read_text("hw/data/accelerators_SOURCE.md");
  char *model_notes = read_text("hw/data/SOURCES.md");
  CU_ASSERT_PTR_NOT_NULL_FATAL(acc_notes);
  CU_ASSERT_PTR_NOT_NULL_FATAL(model_notes);
  for (size_t i = 0; i < hw_catalog_accel_count(cat); i++) {
    const hw_accel *a = hw_catalog_accel_at(cat, i);
    bool ok = sources_defined(a->source, acc_notes, "S");
    if (!ok)
      fprintf(stderr, "accelerator %s: source '%s' not defined\n", a->name, a->source);
    CU_ASSERT(ok);
  }
  for (size_t i = 0; i < hw_catalog_model_count(cat); i++) {
    const hw_model *m = hw_catalog_model_at(cat, i);
    char own[160];
    snprintf(own, sizeof own, "config.json %s", m->hf_id);
    bool ok = strstr(m->source, own) == m->source && sources_defined(m->source, model_notes, "M");
    if (!ok)
      fprintf(stderr, "model %s: source '%s' not defined\n", m->name, m->source);
    CU_ASSERT(ok);
  }
  /* Fitted numbers: every row names the data or the transfer it came from. */
  util_csv c;
  char path[1024];
  snprintf(path, sizeof path, "%s/hw/data/efficiency.csv", WT_SOURCE_DIR);
  CU_ASSERT_EQUAL_FATAL(util_csv_open_file(&c, path, err, sizeof err), 0);
  int col = util_csv_col(&c, "fitted_from"), rows = 0;
  CU_ASSERT_FATAL(col >= 0);
  while (util_csv_next(&c, err, sizeof err) == 1) {
    rows++;
    CU_ASSERT(strlen(util_csv_get(&c, col)) > 10);
  }
  CU_ASSERT(rows > 0);
  util_csv_close(&c);
  free(acc_notes);
  free(model_notes);
}

static void test_adding_an_accelerator_overrides_by_name_and_keeps_its_fit(void) {
  hw_catalog *own = hw_catalog_create(err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(own);
  hw_accel a = *hw_catalog_accel(own, "H100-SXM-80GB");
  a.hbm_bytes_per_s *= 2.0;
  memset(&a.eff, 0, sizeof a.eff); /* unset: takes the fitted H100 efficiencies */
  CU_ASSERT_EQUAL(hw_catalog_add_accel(own, &a, err, sizeof err), 0);
  CU_ASSERT_EQUAL(hw_catalog_accel_count(own), 16);
  const hw_accel *got = hw_catalog_accel(own, "H100-SXM-80GB");
  CU_ASSERT_DOUBLE_EQUAL(got->hbm_bytes_per_s, 6.7e12, 1e3);
  CU_ASSERT_STRING_EQUAL(got->eff.source, "H100-SXM-80GB");

  hw_accel mine = a;
  snprintf(mine.name, sizeof mine.name, "MyChip");
  memset(&mine.eff, 0, sizeof mine.eff);
  CU_ASSERT_EQUAL(hw_catalog_add_accel(own, &mine, err, sizeof err), 0);
  CU_ASSERT_EQUAL(hw_catalog_accel_count(own), 17);
  CU_ASSERT_STRING_EQUAL(hw_catalog_accel(own, "mychip")->eff.source, "default");

  mine.peak_bf16_flops = -1.0;
  CU_ASSERT_EQUAL(hw_catalog_add_accel(own, &mine, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "MyChip"));
  hw_catalog_destroy(own);
}

static void test_adding_a_model_validates_and_overrides(void) {
  hw_catalog *own = hw_catalog_create(err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(own);
  size_t n = hw_catalog_model_count(own);
  hw_model m = *hw_catalog_model(own, "Llama-3.1-8B");
  snprintf(m.name, sizeof m.name, "Tiny");
  m.layers = 2;
  CU_ASSERT_EQUAL(hw_catalog_add_model(own, &m, err, sizeof err), 0);
  CU_ASSERT_EQUAL(hw_catalog_model_count(own), n + 1);
  CU_ASSERT_EQUAL(hw_catalog_model(own, "tiny")->layers, 2);
  m.layers = 3;
  CU_ASSERT_EQUAL(hw_catalog_add_model(own, &m, err, sizeof err), 0);
  CU_ASSERT_EQUAL(hw_catalog_model_count(own), n + 1);
  CU_ASSERT_EQUAL(hw_catalog_model(own, "Tiny")->layers, 3);
  m.kv_heads = 5; /* 32 query heads cannot be grouped over 5 */
  CU_ASSERT_EQUAL(hw_catalog_add_model(own, &m, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "kv_heads"));
  m.kv_heads = 8, m.experts = 8, m.active_experts = 0;
  CU_ASSERT_EQUAL(hw_catalog_add_model(own, &m, err, sizeof err), -1);
  hw_catalog_destroy(own);
}

/* ---- hand-checkable counts ---- */

static void test_parameter_counts_match_the_published_sizes(void) {
  /* Published totals: Llama-3.1-8B 8.03B, Llama-3.1-70B 70.6B, Mixtral-8x7B 46.7B,
   * Qwen2.5-7B 7.61B (model cards). */
  CU_ASSERT(near(hw_model_params(hw_catalog_model(cat, "Llama-3.1-8B")), 8.03e9, 0.01));
  CU_ASSERT(near(hw_model_params(hw_catalog_model(cat, "Llama-3.1-70B")), 70.6e9, 0.01));
  CU_ASSERT(near(hw_model_params(hw_catalog_model(cat, "Mixtral-8x7B")), 46.7e9, 0.01));
  CU_ASSERT(near(hw_model_params(hw_catalog_model(cat, "Qwen2.5-7B")), 7.61e9, 0.01));
  /* By hand for Llama-3.1-8B: 2 x 128256 x 4096 embeddings, and per layer 4096 x 6144 (QKV),
   * 4096 x 4096 (O), 3 x 4096 x 14336 (FFN), 2 x 4096 (norms); 32 layers; final norm. */
  double by_hand = 2.0 * 128256 * 4096 +
                   32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 3.0 * 4096 * 14336 + 2 * 4096) + 4096;
  CU_ASSERT_DOUBLE_EQUAL(hw_model_params(hw_catalog_model(cat, "Llama-3.1-8B")), by_hand, 0.5);
}

static void test_kv_bytes_per_token_is_gqa_aware_and_split_over_tp_and_pp(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token(&d), 131072.0, 0.0); /* 2 x 32 x 8 x 128 x 2 */
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token_device(&d), 131072.0, 0.0);
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 2, 2);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token(&d2), 131072.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token_device(&d2), 131072.0 / 4, 0.0);
  /* Llama-2-7B has no GQA: 32 KV heads, four times the bytes. */
  hw_deploy d3 = deploy("H100-SXM-80GB", "Llama-2-7B", 1, 1);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token(&d3), 524288.0, 0.0);
  /* TP beyond the KV heads replicates them: 8 KV heads over TP 16 is still one head per device. */
  hw_deploy d4 = deploy("H100-SXM-80GB", "Llama-3.1-405B", 16, 1);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token_device(&d4), 2.0 * 126 * 1 * 128 * 2, 0.0);
}

static void test_weights_per_device_are_the_parameters_split_over_tp(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  CU_ASSERT(near(hw_weights_bytes_per_device(&d), 2.0 * hw_model_params(&d.model), 1e-9));
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 2, 1);
  /* Everything but the norms is split. */
  CU_ASSERT(near(hw_weights_bytes_per_device(&d2), hw_model_params(&d.model), 1e-4));
}

static void test_kv_blocks_are_what_is_left_after_weights_and_reserve(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  double free_bytes = 0.9 * 80.0 * 1073741824.0 - hw_weights_bytes_per_device(&d) -
                      hw_activation_reserve_bytes(&d);
  uint64_t want = (uint64_t)floor(free_bytes / (16.0 * 131072.0));
  CU_ASSERT_EQUAL(hw_kv_blocks(&d, 16, 0.9), want);
  CU_ASSERT(want > 20000 && want < 40000); /* about 55 GB of KV at 2 MiB a block */
  CU_ASSERT(hw_kv_blocks(&d, 16, 0.95) > hw_kv_blocks(&d, 16, 0.9));
  CU_ASSERT_EQUAL(hw_kv_blocks(&d, 32, 0.9), (uint64_t)floor(free_bytes / (32.0 * 131072.0)));
  CU_ASSERT_EQUAL(hw_kv_blocks(&d, 16, 0.2), 0); /* the weights alone take 20% */
  CU_ASSERT_EQUAL(hw_kv_blocks(&d, 0, 0.9), 0);
  /* The reserve: vLLM's profiling pass with 8192 tokens on an H100 (MLP phase), the sampler's
   * logits for 1024 sequences, other non-torch memory; no NCCL at TP 1. */
  double reserve = 2.0 * 8192 * (2.0 * 4096 + 3.0 * 14336) + 2.0 * 4.0 * 1024 * 128256 + 551e6;
  CU_ASSERT_DOUBLE_EQUAL(hw_activation_reserve_bytes(&d), reserve, 1.0);
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 2, 1);
  CU_ASSERT(hw_kv_blocks(&d2, 16, 0.9) > 2 * want); /* half the weights and half the KV a device */
}

/* ---- the cost model ---- */

static void test_huge_prefill_gemms_run_at_the_fitted_compute_efficiency(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_breakdown br;
  hw_batch b = prefill_batch(65536, 0);
  hw_iteration_ns(&d, &b, &br);
  double per_layer_weights = 4096.0 * 6144 + 4096.0 * 4096 + 4096.0 * 28672 + 14336.0 * 4096;
  double flops = 2.0 * 65536 * per_layer_weights * 32;
  double at_efficiency_ns = flops / (d.accel.peak_bf16_flops * d.accel.eff.gemm.compute_frac) * 1e9;
  CU_ASSERT(br.gemm_ns >= at_efficiency_ns);
  CU_ASSERT(near(br.gemm_ns, at_efficiency_ns, 0.03));
}

/* Split-k: the serial reduction loop grows as per_k_ns * k for short k and saturates at
 * per_k_ns * split_k for long k; split_k 0 (no fit) keeps it linear. The committed H100 fit has
 * a split, and a deployment prices its GEMMs' loops with it. */
static void test_long_reduction_gemms_split_k_so_the_serial_loop_saturates(void) {
  hw_eff_gemm g = {.per_k_ns = 2.0, .split_k = 1000.0};
  CU_ASSERT_DOUBLE_EQUAL(hw_gemm_serial_of(&g, 1000.0), 2.0 * 500.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(hw_gemm_serial_of(&g, 10.0), 2.0 * 10.0 * 1000.0 / 1010.0, 1e-9);
  CU_ASSERT(hw_gemm_serial_of(&g, 1e9) < 2.0 * 1000.0);
  CU_ASSERT(hw_gemm_serial_of(&g, 1e9) > 0.999 * 2.0 * 1000.0);
  g.split_k = 0.0;
  CU_ASSERT_DOUBLE_EQUAL(hw_gemm_serial_of(&g, 1e6), 2.0e6, 1e-6);
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  const hw_eff_gemm *h = &d.accel.eff.gemm;
  CU_ASSERT(h->split_k > 0.0);
  CU_ASSERT_DOUBLE_EQUAL(d.serial_h_ns, h->per_k_ns * 4096.0 * h->split_k / (4096.0 + h->split_k),
                         1e-9);
  CU_ASSERT_DOUBLE_EQUAL(d.serial_ffn_ns,
                         h->per_k_ns * 14336.0 * h->split_k / (14336.0 + h->split_k), 1e-9);
}

static void test_decode_of_one_sequence_is_memory_bound_on_the_weights(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_breakdown br;
  hw_batch b = decode_batch(1, 1);
  int64_t ns = hw_iteration_ns(&d, &b, &br);
  double bw = d.accel.hbm_bytes_per_s * d.accel.eff.gemm.mem_frac;
  double weights_ns = hw_weights_bytes_per_device(&d) / bw * 1e9;
  double gpu_ns = br.total_ns - br.cpu_ns;
  /* All the weights but the embedding table are read once; the rest is fixed per-kernel time. */
  double read_ns = (hw_weights_bytes_per_device(&d) - 2.0 * 128256 * 4096) / bw * 1e9;
  CU_ASSERT(br.gemm_ns + br.lm_head_ns >= read_ns);
  CU_ASSERT(near(br.gemm_ns + br.lm_head_ns, read_ns + 129 * d.accel.eff.gemm.t0_ns, 0.02));
  CU_ASSERT(gpu_ns > weights_ns * 0.9 && gpu_ns < weights_ns * 1.4);
  CU_ASSERT_EQUAL(ns, (int64_t)(br.total_ns + 0.5));
  /* Four such sequences cost almost the same: the weights are read once for all. */
  hw_batch b4 = decode_batch(4, 1);
  CU_ASSERT(hw_iteration_ns(&d, &b4, NULL) < 1.05 * ns);
}

static void test_tp_halves_per_device_work_and_adds_allreduce_time(void) {
  hw_deploy d1 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 2, 1);
  hw_batch b = prefill_batch(8192, 0);
  hw_breakdown r1, r2;
  hw_iteration_ns(&d1, &b, &r1);
  hw_iteration_ns(&d2, &b, &r2);
  CU_ASSERT(near(r2.flops, r1.flops / 2.0, 1e-9));
  CU_ASSERT(near(r2.gemm_ns, r1.gemm_ns / 2.0, 0.10));
  CU_ASSERT_DOUBLE_EQUAL(r1.allreduce_ns, 0.0, 0.0);
  /* Two all-reduces of 8192 x 4096 bf16 per layer, plus the logits gather of one sequence. */
  double ar = hw_allreduce_ns(d2.accel.eff.allreduce.t0_ns, 8192.0 * 4096 * 2, 2,
                              d2.ns_per_byte_ar);
  double gather = hw_allgather_ns(d2.accel.eff.allreduce.t0_ns, 128256.0 * 2, 2, d2.ns_per_byte_ar);
  CU_ASSERT_DOUBLE_EQUAL(r2.allreduce_ns, 2.0 * 32 * ar + gather, 1e-6 * r2.allreduce_ns);
  CU_ASSERT(r2.total_ns < r1.total_ns); /* still faster: compute dominates */
}

/* One sequence cannot be split: it passes both stages in turn, and each device works half the
 * time. */
static void test_pipeline_stages_add_sends_and_split_the_layers(void) {
  hw_deploy d1 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 2);
  hw_batch b = decode_batch(1, 1000);
  hw_breakdown r1, r2;
  hw_iteration_ns(&d1, &b, &r1);
  hw_iteration_ns(&d2, &b, &r2);
  CU_ASSERT_DOUBLE_EQUAL(r1.sendrecv_ns, 0.0, 0.0);
  CU_ASSERT(r2.sendrecv_ns > d2.accel.eff.sendrecv.t0_ns);
  CU_ASSERT(near(r2.total_ns, r1.total_ns + r2.sendrecv_ns, 1e-9));
  CU_ASSERT(r2.stage_ns < 0.6 * (r1.total_ns - r1.cpu_ns));
}

/* A batch of 64 on two stages is a round of two micro-batches of 32: it lasts one micro-batch's
 * pass (the iteration of 32 sequences on one device, plus its send between the stages), each
 * device is busy for both micro-batches' halves, and the host prepares both. */
static void test_pipeline_stages_run_a_round_of_micro_batches(void) {
  hw_deploy d1 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_deploy d2 = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 2);
  hw_batch whole = decode_batch(64, 1000), half = decode_batch(32, 1000);
  hw_breakdown r1, r2;
  hw_iteration_ns(&d1, &half, &r1);
  hw_iteration_ns(&d2, &whole, &r2);
  double send = r2.sendrecv_ns / 2.0; /* the round's sends are both micro-batches' */
  CU_ASSERT(near(r2.total_ns, r1.total_ns + send, 1e-9));
  /* two halves of the model, the LM head on the last stage */
  CU_ASSERT(r2.stage_ns > r1.total_ns - r1.cpu_ns && r2.stage_ns < 1.1 * (r1.total_ns - r1.cpu_ns));
  CU_ASSERT(near(r2.cpu_ns, 2.0 * d2.accel.eff.cpu.fixed_ns + 64 * d2.accel.eff.cpu.per_seq_ns,
                 1e-12));
  /* Against one batch of 64 through both stages, 1.28 times the tokens a second (not twice: the
   * host works in series with the kernels, 43% of this round). */
  hw_breakdown unpipelined;
  hw_iteration_ns(&d1, &whole, &unpipelined);
  CU_ASSERT(r2.total_ns < 0.8 * (unpipelined.total_ns + r2.sendrecv_ns));
}

static void test_iteration_time_grows_with_tokens_context_and_sequences(void) {
  hw_deploy d = deploy("H200-SXM-141GB", "Qwen2.5-32B", 2, 1);
  int64_t last = 0;
  for (uint64_t chunk = 1; chunk <= 16384; chunk = chunk * 3 / 2 + 1) {
    hw_batch b = prefill_batch(chunk, 0);
    int64_t ns = hw_iteration_ns(&d, &b, NULL);
    CU_ASSERT(ns >= last);
    last = ns;
  }
  last = 0;
  for (uint64_t cached = 0; cached <= 65536; cached = cached * 2 + 64) {
    hw_batch b = prefill_batch(512, cached);
    int64_t ns = hw_iteration_ns(&d, &b, NULL);
    CU_ASSERT(ns >= last);
    last = ns;
  }
  last = 0;
  for (uint64_t ctx = 1; ctx <= 131072; ctx *= 2) {
    hw_batch b = decode_batch(32, ctx);
    int64_t ns = hw_iteration_ns(&d, &b, NULL);
    CU_ASSERT(ns >= last);
    last = ns;
  }
  last = 0;
  for (uint32_t seqs = 1; seqs <= 1024; seqs *= 2) {
    hw_batch b = decode_batch(seqs, 2048);
    int64_t ns = hw_iteration_ns(&d, &b, NULL);
    CU_ASSERT(ns > last);
    last = ns;
  }
  /* A decode added to a prefill batch never makes it cheaper. */
  hw_batch mixed = prefill_batch(1024, 0);
  int64_t alone = hw_iteration_ns(&d, &mixed, NULL);
  mixed.decode_seqs = 1, mixed.decode_ctx_tokens = 100;
  CU_ASSERT(hw_iteration_ns(&d, &mixed, NULL) > alone);
}

static void test_decode_attention_reads_gqa_kv_bytes(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_breakdown br;
  hw_batch b = decode_batch(64, 4096);
  hw_iteration_ns(&d, &b, &br);
  const hw_eff *e = &d.accel.eff;
  double kv_bytes = 64.0 * 4096 * 2 * 8 * 128 * 2; /* K and V of 8 heads, per layer */
  double q_bytes = 64.0 * 2 * 32 * 128 * 2;        /* q in, output out */
  const hw_eff_attn_decode *p = &e->attn_decode;
  double unit_ns = p->per_seq_kv_head_ns * 64 * 8;
  double memory_ns = (kv_bytes + q_bytes) / (d.accel.hbm_bytes_per_s * p->mem_frac) * 1e9 *
                     (1.0 + p->half_units / (64.0 * 8));
  double per_layer = p->t0_ns + sqrt(unit_ns * unit_ns + memory_ns * memory_ns +
                                     2.0 * p->serial_mix * unit_ns * memory_ns);
  CU_ASSERT_DOUBLE_EQUAL(br.attn_decode_ns, 32.0 * per_layer, 1e-6 * br.attn_decode_ns);
}

/* Prefill attention: few (token, head) query rows reach rows / (rows + half_rows) of the compute
 * rate, and each (sequence, KV head) unit adds its cost inside the roofline's norm; a deployment
 * prices a prefill of one sequence exactly so. */
static void test_prefill_attention_needs_query_rows_and_pays_per_sequence_and_kv_head(void) {
  hw_eff_attn_prefill p = {.half_rows = 100.0, .per_seq_kv_head_ns = 2.0};
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_prefill_ns_per_flop(&p, 10.0, 10.0, 3.0), 6.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_prefill_ns_per_flop(&p, 1000.0, 100.0, 3.0), 3.003, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_prefill_unit_ns(&p, 4.0, 8.0), 64.0, 1e-12);
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  const hw_eff_attn_prefill *e = &d.accel.eff.attn_prefill;
  CU_ASSERT(e->half_rows > 0.0 && e->per_seq_kv_head_ns > 0.0);
  CU_ASSERT_DOUBLE_EQUAL(e->mem_frac, d.accel.eff.attn_decode.mem_frac, 0.0); /* borrowed */
  hw_breakdown br;
  hw_batch b = prefill_batch(512, 0);
  hw_iteration_ns(&d, &b, &br);
  double tokens = 512.0, pairs = 512.0 * 513.0 / 2.0;
  double flops = 4.0 * 128 * 32 * (pairs + e->pad_tokens * tokens);
  double compute_ns = flops / (d.accel.peak_bf16_flops * e->compute_frac) * 1e9 *
                      (1.0 + e->half_rows / (tokens * 32));
  double memory_ns = 2.0 * 128 * (2.0 * 32 * tokens + 2.0 * 8 * tokens) /
                     (d.accel.hbm_bytes_per_s * e->mem_frac) * 1e9;
  double unit_ns = e->per_seq_kv_head_ns * 1 * 8;
  double per_layer = e->t0_ns +
                     sqrt(compute_ns * compute_ns + memory_ns * memory_ns + unit_ns * unit_ns);
  CU_ASSERT_DOUBLE_EQUAL(br.attn_prefill_ns, 32.0 * per_layer, 1e-6 * br.attn_prefill_ns);
}

/* Decode attention's per-unit and memory times combine between their sum (serial_mix 1) and
 * their Euclidean norm (0), and few (sequence, KV head) units reach a fraction units / (units +
 * half_units) of the bandwidth: one unit over a long context is slower per byte than 64. */
static void test_decode_attention_mixes_unit_and_memory_time_and_needs_units_for_bandwidth(void) {
  hw_eff_attn_decode p = {.t0_ns = 0.0, .per_seq_kv_head_ns = 3.0, .mem_frac = 1.0};
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_decode_ns_of(&p, 1.0, 1.0, 4.0, 1.0), 5.0, 1e-12);
  p.serial_mix = 1.0;
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_decode_ns_of(&p, 1.0, 1.0, 4.0, 1.0), 7.0, 1e-12);
  p.serial_mix = 0.0, p.per_seq_kv_head_ns = 0.0, p.half_units = 1.0;
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_decode_ns_of(&p, 1.0, 1.0, 4.0, 1.0), 8.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_attn_decode_ns_of(&p, 8.0, 8.0, 4.0, 1.0), 4.0 * 65.0 / 64.0, 1e-12);
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  CU_ASSERT(d.accel.eff.attn_decode.half_units > 0.0);
  CU_ASSERT(d.accel.eff.attn_decode.serial_mix < 1.0);
}

static void test_empty_batch_costs_nothing(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_batch b = {0};
  hw_breakdown br;
  CU_ASSERT_EQUAL(hw_iteration_ns(&d, &b, &br), 0);
  CU_ASSERT_DOUBLE_EQUAL(br.total_ns, 0.0, 0.0);
}

static void test_mixture_of_experts_reads_only_the_experts_it_routes_to(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Mixtral-8x7B", 2, 1);
  hw_breakdown one, many;
  hw_batch b1 = decode_batch(1, 100), b64 = decode_batch(64, 100);
  hw_iteration_ns(&d, &b1, &one);
  hw_iteration_ns(&d, &b64, &many);
  /* One token reads 2 of 8 experts, 64 tokens nearly all 8: the expert GEMMs cost 2 to 4 times more
   * (they are memory-bound), far less than 64 times. */
  CU_ASSERT(many.gemm_ns > 2.0 * one.gemm_ns && many.gemm_ns < 4.5 * one.gemm_ns);
}

static void test_copies_in_lockstep_read_the_experts_of_one_sequence(void) {
  hw_deploy uniform = deploy("H100-SXM-80GB", "Mixtral-8x7B", 2, 1), copies = uniform;
  copies.cfg.moe_copies = true;
  hw_breakdown u, c, one;
  hw_batch b1 = decode_batch(1, 100), b64 = decode_batch(64, 100);
  hw_iteration_ns(&uniform, &b64, &u);
  hw_iteration_ns(&copies, &b64, &c);
  hw_iteration_ns(&copies, &b1, &one);
  /* 64 copies pick the same 2 of the 8 experts; 64 independent tokens touch 8 (1 - (3/4)^64) of
   * them. The difference is those experts' gate, up and down weights: per layer and device
   * 3 x 4096 x (14336 / 2) bf16 values, 32 layers. */
  double touched = 8.0 * -expm1(64.0 * log1p(-2.0 / 8.0));
  CU_ASSERT_DOUBLE_EQUAL((u.hbm_bytes - c.hbm_bytes) / ((touched - 2.0) * 3.0 * 4096 * 7168 * 2 * 32),
                         1.0, 1e-9);
  CU_ASSERT(c.gemm_ns < u.gemm_ns && c.gemm_ns < 1.5 * one.gemm_ns);
  /* One sequence routes the same either way. */
  hw_breakdown one_uniform;
  hw_iteration_ns(&uniform, &b1, &one_uniform);
  CU_ASSERT_DOUBLE_EQUAL(one.total_ns, one_uniform.total_ns, 0.0);
}

static void test_deployments_that_cannot_run_are_refused_with_a_reason(void) {
  hw_deploy d;
  hw_deploy_config cfg = {.tp = 3};
  const hw_accel *h100 = hw_catalog_accel(cat, "H100-SXM-80GB");
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, h100, hw_catalog_model(cat, "Llama-3.1-8B"), &cfg, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "query heads"));
  cfg.tp = 1;
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, h100, hw_catalog_model(cat, "Llama-3.1-405B"), &cfg, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "do not fit"));
  const hw_accel *cxl = hw_catalog_accel_at(cat, hw_catalog_accel_count(cat) - 1);
  CU_ASSERT_STRING_EQUAL(cxl->kind, "cxl-mem");
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, cxl, hw_catalog_model(cat, "Llama-3.1-8B"), &cfg, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a compute device"));
  cfg.pp = 81;
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, h100, hw_catalog_model(cat, "Llama-3.1-70B"), &cfg, err, sizeof err), -1);
}

/* ---- precision and mixture of experts ---- */

static hw_deploy deploy_cfg(const char *accel, const char *model, hw_deploy_config cfg) {
  hw_deploy d;
  const hw_accel *a = hw_catalog_accel(cat, accel);
  const hw_model *m = hw_catalog_model(cat, model);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  int rc = hw_deploy_init(&d, a, m, &cfg, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "deploy: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return d;
}

static void test_moe_flops_are_router_plus_k_gated_experts_per_token(void) {
  /* Qwen3-30B-A3B (hidden 2048, 32 q / 4 KV heads of 128, 128 experts of ffn 768, top 8, 48
   * layers, vocab 151936) on one H100: 10 decodes over 100 tokens each. Per layer:
   *   qkv    2 * 10 * 2048 * (32 + 2 * 4) * 128 =   209,715,200
   *   o      2 * 10 * (32 * 128) * 2048         =   167,772,160
   *   router 2 * 10 * 2048 * 128                =     5,242,880
   *   experts 2 * 10 * 8 * 3 * 2048 * 768       =   754,974,720 (gate, up and down per pick)
   *   attn   4 * 128 * 32 * (10 * 100)          =    16,384,000
   * = 1,154,088,960; times 48 layers = 55,396,270,080; plus the LM head 2 * 10 * 151936 * 2048 =
   * 6,223,298,560: 61,619,568,640 FLOPs. */
  hw_deploy d = deploy("H100-SXM-80GB", "Qwen3-30B-A3B", 1, 1);
  hw_batch b = decode_batch(10, 100);
  hw_breakdown br;
  CU_ASSERT(hw_iteration_ns(&d, &b, &br) > 0);
  CU_ASSERT_DOUBLE_EQUAL(br.flops, 61619568640.0, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(br.alltoall_ns, 0.0, 0.0);
  /* Mixtral-8x7B (hidden 4096, ffn 14336, 8 experts, top 2): one token adds, per layer, the
   * router 2 * 4096 * 8 = 65,536 and the experts 2 * 2 * 3 * 4096 * 14336 = 704,643,072. */
  hw_deploy mx = deploy("H200-SXM-141GB", "Mixtral-8x7B", 1, 1);
  hw_breakdown one, two;
  hw_batch b1 = prefill_batch(1, 0), b2 = prefill_batch(2, 0);
  hw_iteration_ns(&mx, &b1, &one);
  hw_iteration_ns(&mx, &b2, &two);
  /* One more prompt token: projections (qkv 2*4096*6144, o 2*4096*4096) plus router and experts
   * per layer, plus attention 4 * 128 * 32 * (3 - 1 pairs + the fitted causal padding of one
   * token) per layer; 32 layers. */
  double per_layer = 2.0 * 4096 * 6144 + 2.0 * 4096 * 4096 + 65536.0 + 704643072.0 +
                     4.0 * 128 * 32 * (3.0 - 1.0 + mx.attn_pf.pad_tokens);
  CU_ASSERT_DOUBLE_EQUAL(two.flops - one.flops, 32.0 * per_layer, 1.0);
}

static void test_moe_imbalance_is_the_mean_plus_a_gaussian_max_bound(void) {
  /* No expert parallelism: every pair on the one group. */
  CU_ASSERT_DOUBLE_EQUAL(hw_moe_max_pairs(1000, 128, 8, 1), 8000.0, 1e-9);
  /* 8 groups of 16 experts: mean 1000; variance 1000 * 8 * (1/8)(7/8)(120/127) = 826.77;
   * sqrt(2 ln 8) = 2.0393; 1000 + 2.0393 * 28.754 = 1058.64. */
  CU_ASSERT_DOUBLE_EQUAL(hw_moe_max_pairs(1000, 128, 8, 8), 1058.64, 0.01);
  /* The busiest single expert: mean 62.5, variance 1000 (8/128)(1 - 8/128) = 58.594, sqrt(2 ln
   * 128) = 3.1152: 62.5 + 3.1152 * 7.6547 = 86.35. */
  CU_ASSERT_DOUBLE_EQUAL(hw_moe_max_pairs(1000, 128, 8, 128), 86.35, 0.01);
  /* Capped: one Mixtral token (top 2 of 8) puts at most one pair on a group of one expert. */
  CU_ASSERT_DOUBLE_EQUAL(hw_moe_max_pairs(1, 8, 2, 8), 1.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hw_moe_max_pairs(0, 8, 2, 8), 0.0, 0.0);
}

static void test_expert_parallelism_splits_experts_and_adds_all_to_all(void) {
  hw_deploy one = deploy_cfg("H100-SXM-80GB", "Qwen3-30B-A3B", (hw_deploy_config){.tp = 1});
  hw_deploy four = deploy_cfg("H100-SXM-80GB", "Qwen3-30B-A3B",
                              (hw_deploy_config){.tp = 1, .ep = 4});
  /* Each device holds 32 of the 128 experts: 96 experts x 3 x 2048 x 768 x 48 layers x 2 bytes
   * less. */
  double expert_bytes = 3.0 * 2048 * 768 * 48 * 2.0;
  CU_ASSERT_DOUBLE_EQUAL(hw_weights_bytes_per_device(&one) - hw_weights_bytes_per_device(&four),
                         96.0 * expert_bytes, 1.0);
  /* Four groups each hold their own sequences' KV: more than four times one device's blocks
   * (the weights freed leave more room too). */
  CU_ASSERT(hw_kv_blocks(&four, 16, 0.9) > 4 * hw_kv_blocks(&one, 16, 0.9));
  hw_batch b = prefill_batch(2048, 0);
  hw_breakdown br1, br4;
  hw_iteration_ns(&one, &b, &br1);
  hw_iteration_ns(&four, &b, &br4);
  CU_ASSERT(br4.alltoall_ns > 0.0);
  CU_ASSERT(br4.gemm_ns < br1.gemm_ns); /* a quarter of the tokens, a bit more of the rows */
  /* A measured all-to-all replaces hw's own estimate: 2 (dispatch, combine) x 48 layers x t0. */
  hw_deploy slow = deploy_cfg(
      "H100-SXM-80GB", "Qwen3-30B-A3B",
      (hw_deploy_config){.tp = 1, .ep = 4, .alltoall = {.t0_ns = 1e5, .bytes_per_s = 1e30}});
  hw_breakdown brs;
  hw_iteration_ns(&slow, &b, &brs);
  CU_ASSERT_DOUBLE_EQUAL(brs.alltoall_ns, 48.0 * 2.0 * 1e5, 1.0);
  /* ep must divide the experts, and needs experts. */
  hw_deploy d;
  const hw_accel *h100 = hw_catalog_accel(cat, "H100-SXM-80GB");
  hw_deploy_config bad = {.tp = 1, .ep = 3};
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, h100, hw_catalog_model(cat, "Qwen3-30B-A3B"), &bad, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "must divide the number of experts"));
  bad.ep = 2;
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, h100, hw_catalog_model(cat, "Llama-3.1-8B"), &bad, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "mixture-of-experts"));
}

static void test_fp8_halves_weight_bytes_and_doubles_the_tensor_peak(void) {
  hw_deploy bf = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_deploy f8 = deploy_cfg(
      "H100-SXM-80GB", "Llama-3.1-8B",
      (hw_deploy_config){.tp = 1, .weight_dtype = HW_DTYPE_FP8, .act_dtype = HW_DTYPE_FP8});
  /* The projections (4096 x 6144 qkv, 4096 x 4096 o, 3 x 4096 x 14336 FFN, 32 layers) drop from
   * two bytes to one; embeddings, LM head and norms stay bf16. */
  double projections = 32.0 * (4096.0 * 6144 + 4096.0 * 4096 + 3.0 * 4096 * 14336);
  CU_ASSERT_DOUBLE_EQUAL(hw_weights_bytes_per_device(&bf) - hw_weights_bytes_per_device(&f8),
                         projections, 1.0);
  const hw_accel *a = &f8.accel;
  CU_ASSERT_DOUBLE_EQUAL(hw_accel_peak_flops(a, HW_DTYPE_FP8), 2.0 * a->peak_bf16_flops, 1e11);
  /* fp8 GEMMs run at the fitted fraction of the fp8 peak. */
  CU_ASSERT(f8.gemm.compute_frac > 0.0);
  CU_ASSERT_DOUBLE_EQUAL(
      f8.ns_per_flop_gemm * a->peak_fp8_flops * f8.accel.eff.gemm_fp8.compute_frac, 1e9, 1e-3);
  /* A type without its own fit (int8) takes the bf16 fractions of its own peak: twice as fast. */
  hw_deploy i8 = deploy_cfg(
      "H100-SXM-80GB", "Llama-3.1-8B",
      (hw_deploy_config){.tp = 1, .weight_dtype = HW_DTYPE_INT8, .act_dtype = HW_DTYPE_INT8});
  CU_ASSERT_DOUBLE_EQUAL(i8.ns_per_flop_gemm / bf.ns_per_flop_gemm,
                         a->peak_bf16_flops / a->peak_int8_ops, 1e-12);
  /* Weight-only fp8: bf16 math, 8-bit weight reads. */
  hw_deploy wo = deploy_cfg("H100-SXM-80GB", "Llama-3.1-8B",
                            (hw_deploy_config){.tp = 1, .weight_dtype = HW_DTYPE_FP8});
  CU_ASSERT_DOUBLE_EQUAL(wo.ns_per_flop_gemm, bf.ns_per_flop_gemm, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(hw_weights_bytes_per_device(&wo), hw_weights_bytes_per_device(&f8), 0.0);
  /* One decode is bound by the weight reads: fp8 takes well under the bf16 time. */
  hw_batch one = decode_batch(1, 512);
  hw_breakdown b1, b2;
  hw_iteration_ns(&bf, &one, &b1);
  hw_iteration_ns(&f8, &one, &b2);
  CU_ASSERT(b2.gemm_ns < 0.7 * b1.gemm_ns);
}

static void test_fp8_kv_halves_kv_bytes_and_grows_kv_blocks(void) {
  hw_deploy bf = deploy("H100-SXM-80GB", "Llama-3.1-8B", 1, 1);
  hw_deploy kv8 = deploy_cfg("H100-SXM-80GB", "Llama-3.1-8B",
                             (hw_deploy_config){.tp = 1, .kv_dtype = HW_DTYPE_FP8});
  /* 2 * 32 layers * 8 KV heads * 128 * 1 byte. */
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token(&kv8), 65536.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(hw_kv_bytes_per_token(&bf), 131072.0, 0.0);
  uint64_t blocks_bf = hw_kv_blocks(&bf, 16, 0.9), blocks_8 = hw_kv_blocks(&kv8, 16, 0.9);
  CU_ASSERT(blocks_8 >= 2 * blocks_bf && blocks_8 <= 2 * blocks_bf + 1);
  /* Attention over the fp8 cache uses its own fit and reads half the KV bytes. */
  CU_ASSERT_DOUBLE_EQUAL(kv8.attn_dec.mem_frac, kv8.accel.eff.attn_decode_fp8kv.mem_frac, 0.0);
  hw_batch b = decode_batch(64, 8192);
  hw_breakdown x, y;
  hw_iteration_ns(&bf, &b, &x);
  hw_iteration_ns(&kv8, &b, &y);
  CU_ASSERT(y.attn_decode_ns < 0.75 * x.attn_decode_ns);
}

static void test_types_a_device_lacks_are_refused_with_the_column(void) {
  hw_deploy d;
  const hw_model *m = hw_catalog_model(cat, "Llama-3.1-8B");
  hw_deploy_config fp4 = {.tp = 1, .weight_dtype = HW_DTYPE_FP4, .act_dtype = HW_DTYPE_FP4};
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, hw_catalog_accel(cat, "H100-SXM-80GB"), m, &fp4, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "weights in fp4 need fp4 tensor cores"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "peak_fp4_tflops_dense"));
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, hw_catalog_accel(cat, "B200-SXM-180GB"), m, &fp4, err, sizeof err), 0);
  CU_ASSERT_DOUBLE_EQUAL(d.w_bytes, 0.5625, 0.0); /* half a byte plus an fp8 scale per 16 */
  hw_deploy_config fp8 = {.tp = 1, .weight_dtype = HW_DTYPE_FP8, .act_dtype = HW_DTYPE_FP8};
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, hw_catalog_accel(cat, "A100-SXM-80GB"), m, &fp8, err, sizeof err), -1);
  /* An fp8 KV cache is storage only: A100 holds one. */
  hw_deploy_config kv = {.tp = 1, .kv_dtype = HW_DTYPE_FP8};
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, hw_catalog_accel(cat, "A100-SXM-80GB"), m, &kv, err, sizeof err), 0);
  hw_deploy_config mixed = {.tp = 1, .weight_dtype = HW_DTYPE_FP8, .act_dtype = HW_DTYPE_INT8};
  CU_ASSERT_EQUAL(
      hw_deploy_init(&d, hw_catalog_accel(cat, "H100-SXM-80GB"), m, &mixed, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "activations must be bf16"));
  hw_dtype t;
  CU_ASSERT_EQUAL(hw_dtype_parse("fp8_block", &t), 0);
  CU_ASSERT_EQUAL(t, HW_DTYPE_FP8_BLOCK);
  CU_ASSERT_STRING_EQUAL(hw_dtype_name(t), "fp8_block");
  CU_ASSERT_EQUAL(hw_dtype_parse("fp16", &t), -1);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hw", suite_init, suite_clean);
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
#define T(f) {#f, f}
      T(test_catalogue_has_the_required_models_and_accelerators),
      T(test_lookup_ignores_case_and_punctuation_and_accepts_hf_ids),
      T(test_accelerator_values_are_the_datasheet_values_in_si_units),
      T(test_every_catalogue_number_has_a_source),
      T(test_adding_an_accelerator_overrides_by_name_and_keeps_its_fit),
      T(test_adding_a_model_validates_and_overrides),
      T(test_parameter_counts_match_the_published_sizes),
      T(test_kv_bytes_per_token_is_gqa_aware_and_split_over_tp_and_pp),
      T(test_weights_per_device_are_the_parameters_split_over_tp),
      T(test_kv_blocks_are_what_is_left_after_weights_and_reserve),
      T(test_huge_prefill_gemms_run_at_the_fitted_compute_efficiency),
      T(test_long_reduction_gemms_split_k_so_the_serial_loop_saturates),
      T(test_decode_of_one_sequence_is_memory_bound_on_the_weights),
      T(test_tp_halves_per_device_work_and_adds_allreduce_time),
      T(test_pipeline_stages_add_sends_and_split_the_layers),
      T(test_pipeline_stages_run_a_round_of_micro_batches),
      T(test_iteration_time_grows_with_tokens_context_and_sequences),
      T(test_decode_attention_reads_gqa_kv_bytes),
      T(test_prefill_attention_needs_query_rows_and_pays_per_sequence_and_kv_head),
      T(test_decode_attention_mixes_unit_and_memory_time_and_needs_units_for_bandwidth),
      T(test_empty_batch_costs_nothing),
      T(test_mixture_of_experts_reads_only_the_experts_it_routes_to),
      T(test_copies_in_lockstep_read_the_experts_of_one_sequence),
      T(test_deployments_that_cannot_run_are_refused_with_a_reason),
      T(test_moe_flops_are_router_plus_k_gated_experts_per_token),
      T(test_moe_imbalance_is_the_mean_plus_a_gaussian_max_bound),
      T(test_expert_parallelism_splits_experts_and_adds_all_to_all),
      T(test_fp8_halves_weight_bytes_and_doubles_the_tensor_peak),
      T(test_fp8_kv_halves_kv_bytes_and_grows_kv_blocks),
      T(test_types_a_device_lacks_are_refused_with_the_column),
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
