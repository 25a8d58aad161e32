/* Unit tests of the systolic (TPU-like) model, hw/systolic.h: hand-computed tile counts and
 * padding, no loss on multiples of the array, the vector-unit price of an elementwise op, and the
 * catalogue's TPU rows. GPU pricing is covered, unchanged, by test_hw. */
#include <math.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hw/systolic.h"

static hw_catalog *cat;
static char err[512];

static int suite_init(void) { return (cat = hw_catalog_create(err, sizeof err)) ? 0 : -1; }
static int suite_clean(void) {
  hw_catalog_destroy(cat);
  return 0;
}

/* A made-up chip with round numbers: 4 units of 128 x 128, rows in 8s, 1024 lanes, at
 * 2 * 128 * 128 * 4 * 1 GHz = 131.072 TFLOP/s, so one cycle is 1 ns. */
static hw_accel chip(void) {
  hw_accel a;
  memset(&a, 0, sizeof a);
  a.peak_bf16_flops = 2.0 * 128 * 128 * 4 * 1e9;
  a.hbm_bytes_per_s = 1e12;
  a.systolic.mxu_rows = a.systolic.mxu_cols = 128;
  a.systolic.mxu_count = 4;
  a.systolic.row_tile = 8;
  a.systolic.vector_lanes = 1024;
  a.systolic.fit.mxu_frac = a.systolic.fit.mem_frac = 1.0;
  return a;
}

static void test_k_of_200_on_128_wide_arrays_uses_200_of_256(void) {
  hw_accel a = chip();
  hw_systolic_tiles t = hw_systolic_tile(&a.systolic, 128, 128, 200);
  CU_ASSERT_EQUAL(t.k_tiles, 2);
  CU_ASSERT_EQUAL(t.n_tiles, 1);
  CU_ASSERT_EQUAL(t.passes, 2);
  CU_ASSERT_DOUBLE_EQUAL(t.utilisation, 200.0 / 256.0, 1e-12);
}

static void test_tile_counts_and_row_padding(void) {
  hw_accel a = chip();
  /* 4096 x 14336 weight: 32 x 112 tiles; 100 rows pad to 104. */
  hw_systolic_tiles t = hw_systolic_tile(&a.systolic, 100, 14336, 4096);
  CU_ASSERT_EQUAL(t.k_tiles, 32);
  CU_ASSERT_EQUAL(t.n_tiles, 112);
  CU_ASSERT_EQUAL(t.passes, 32 * 112);
  CU_ASSERT_EQUAL(t.m_padded, 104);
  CU_ASSERT_DOUBLE_EQUAL(t.utilisation, 100.0 / 104.0, 1e-12);
  /* n of 300 on 128 columns: 3 tiles, 300 / 384 used. */
  t = hw_systolic_tile(&a.systolic, 8, 300, 128);
  CU_ASSERT_EQUAL(t.n_tiles, 3);
  CU_ASSERT_DOUBLE_EQUAL(t.utilisation, 300.0 / 384.0, 1e-12);
}

static void test_multiples_of_the_array_lose_nothing_to_padding(void) {
  hw_accel a = chip();
  hw_systolic_tiles t = hw_systolic_tile(&a.systolic, 1024, 4096, 2048);
  CU_ASSERT_DOUBLE_EQUAL(t.utilisation, 1.0, 1e-15);
  /* Time: 16 x 32 = 512 passes over 4 units = 128 passes of 1024 rows, plus one fill and drain
   * of 256 cycles: 131328 ns, within 0.2% of 2 m k n / peak = 131072 ns. */
  double ns = hw_systolic_mxu_ns(&a, 1024, 4096, 2048);
  CU_ASSERT_DOUBLE_EQUAL(ns, 128.0 * 1024 + 256, 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(ns / (2.0 * 1024 * 4096 * 2048 / a.peak_bf16_flops * 1e9), 1.0, 0.002);
}

static void test_padding_costs_time_in_proportion(void) {
  hw_accel a = chip();
  /* k of 200 takes as long as k of 256: 2 row tiles either way. */
  CU_ASSERT_DOUBLE_EQUAL(hw_systolic_mxu_ns(&a, 1024, 512, 200),
                         hw_systolic_mxu_ns(&a, 1024, 512, 256), 1e-9);
  /* Few rows: a pass still takes the R cycles of loading the next weight tile. 8 passes over 4
   * units = 2 each of max(8, 128) cycles, plus 256 of fill and drain. */
  CU_ASSERT_DOUBLE_EQUAL(hw_systolic_mxu_ns(&a, 3, 256, 512), 2.0 * 128 + 256, 1e-9);
}

static void test_gemm_is_the_larger_of_matrix_and_hbm_time(void) {
  hw_accel a = chip();
  a.systolic.fit.gemm_t0_ns = 1000;
  double clock = 0.0;
  /* One row against a 4096 x 4096 bf16 weight: 33.6 MB at 1 TB/s = 33.6 us of HBM, above the
   * 1024 passes / 4 units x 128 cycles + 256 = 33024 ns of matrix units: HBM wins. */
  double bytes = 2.0 * (4096.0 + 4096.0 * 4096 + 4096);
  double ns = hw_systolic_gemm_ns(&a, 1, 4096, 4096, bytes, &clock);
  CU_ASSERT_DOUBLE_EQUAL(ns, 1000 + fmax(bytes / 1e3, 256.0 * 128 + 256), 1e-6);
  CU_ASSERT_EQUAL(clock, 0.0);   /* memory-bound */
  a.systolic.fit.mxu_frac = 0.5; /* now the matrix units are the bound */
  ns = hw_systolic_gemm_ns(&a, 1, 4096, 4096, bytes, &clock);
  CU_ASSERT_DOUBLE_EQUAL(ns, 1000 + 2.0 * (256.0 * 128 + 256), 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(clock, 2.0 * (256.0 * 128 + 256), 1e-6);
}

static void test_elementwise_runs_on_the_vector_units(void) {
  hw_accel a = chip();
  a.systolic.fit.norm_cycles = 2.0;
  a.systolic.fit.vector_t0_ns = 500;
  hw_systolic_apply_fit(&a);
  hw_rates r;
  memset(&r, 0, sizeof r);
  hw_systolic_rates(&a, 128, 2.0, true, &r);
  /* RMSNorm of 64 tokens x 4096: 262144 elements x 2 cycles / 1024 lanes at 1 GHz = 512 ns,
   * plus t0; whatever the HBM bandwidth. */
  double bytes = hw_elem_norm_bytes(64, 4096, 2.0);
  CU_ASSERT_DOUBLE_EQUAL(
      hw_linear_ns(a.eff.elementwise.t0_ns, bytes, r.ns_per_byte_elem[HW_ELEM_NORM]), 500 + 512,
      1e-9);
  a.hbm_bytes_per_s *= 10;
  hw_systolic_rates(&a, 128, 2.0, true, &r);
  CU_ASSERT_DOUBLE_EQUAL(bytes * r.ns_per_byte_elem[HW_ELEM_NORM], 512, 1e-9);
}

static void test_attention_pays_for_head_dim_padding(void) {
  hw_accel a = chip();
  a.systolic.fit.attn_prefill_frac = 1.0;
  hw_rates r128, r64;
  memset(&r128, 0, sizeof r128);
  memset(&r64, 0, sizeof r64);
  hw_systolic_rates(&a, 128, 2.0, true, &r128);
  hw_systolic_rates(&a, 64, 2.0, true, &r64);
  CU_ASSERT_DOUBLE_EQUAL(r128.ns_per_flop_pf, 1e9 / a.peak_bf16_flops, 1e-18);
  CU_ASSERT_DOUBLE_EQUAL(r64.ns_per_flop_pf, 2.0 * 1e9 / a.peak_bf16_flops, 1e-18);
}

static void test_catalogue_tpus_have_matrix_units_and_fitted_values(void) {
  static const struct {
    const char *name;
    double rows, count;
  } tpus[] = {{"TPU v5e", 128, 4}, {"TPU v5p", 128, 8}, {"TPU v6e (Trillium)", 256, 2}};
  for (size_t i = 0; i < sizeof tpus / sizeof *tpus; i++) {
    const hw_accel *a = hw_catalog_accel(cat, tpus[i].name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_TRUE(hw_systolic_is(a));
    CU_ASSERT_EQUAL(a->systolic.mxu_rows, tpus[i].rows);
    CU_ASSERT_EQUAL(a->systolic.mxu_count, tpus[i].count);
    CU_ASSERT_TRUE(a->systolic.fit.mxu_frac > 0.0 && a->systolic.fit.mxu_frac <= 1.0);
    CU_ASSERT_TRUE(a->systolic.source[0] != '\0');
  }
  CU_ASSERT_FALSE(hw_systolic_is(hw_catalog_accel(cat, "H100-SXM-80GB")));
  /* v6e's datasheet peak over its arrays: 918e12 / (2 x 256 x 256 x 2) = 3.5 G passes-cycles/s. */
  CU_ASSERT_DOUBLE_EQUAL(hw_systolic_clock_hz(hw_catalog_accel(cat, "TPU v6e (Trillium)")),
                         3.5021e9, 1e6);
}

static void test_a_tpu_deployment_prices_an_iteration(void) {
  hw_deploy d;
  hw_deploy_config cfg = {.tp = 1};
  CU_ASSERT_EQUAL_FATAL(hw_deploy_init(&d, hw_catalog_accel(cat, "TPU v6e (Trillium)"),
                                       hw_catalog_model(cat, "Llama-3.1-8B"), &cfg, err,
                                       sizeof err),
                        0);
  hw_batch b = {0};
  b.decode_seqs = 1;
  b.decode_ctx_tokens = 1;
  hw_breakdown out;
  int64_t one = hw_iteration_ns(&d, &b, &out);
  /* Decode of one token reads every weight: 16 GB at 1.638 TB/s is about 9.8 ms at least. */
  CU_ASSERT_TRUE(out.gemm_ns + out.lm_head_ns > 16e9 / 1.638e12 * 1e9 * 0.9);
  b.decode_seqs = 64, b.decode_ctx_tokens = 64 * 1000;
  CU_ASSERT_TRUE(hw_iteration_ns(&d, &b, NULL) > one);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return CU_get_error();
  CU_pSuite s = CU_add_suite("systolic", suite_init, suite_clean);
  CU_add_test(s, "k of 200 on 128-wide arrays uses 200 of 256",
              test_k_of_200_on_128_wide_arrays_uses_200_of_256);
  CU_add_test(s, "tile counts and row padding", test_tile_counts_and_row_padding);
  CU_add_test(s, "multiples of the array lose nothing to padding",
              test_multiples_of_the_array_lose_nothing_to_padding);
  CU_add_test(s, "padding costs time in proportion", test_padding_costs_time_in_proportion);
  CU_add_test(s, "gemm is the larger of matrix and HBM time",
              test_gemm_is_the_larger_of_matrix_and_hbm_time);
  CU_add_test(s, "elementwise runs on the vector units", test_elementwise_runs_on_the_vector_units);
  CU_add_test(s, "attention pays for head_dim padding", test_attention_pays_for_head_dim_padding);
  CU_add_test(s, "catalogue TPUs have matrix units and fitted values",
              test_catalogue_tpus_have_matrix_units_and_fitted_values);
  CU_add_test(s, "a TPU deployment prices an iteration", test_a_tpu_deployment_prices_an_iteration);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}
