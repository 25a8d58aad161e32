/* Unit tests of the hw/ power model: board power from the work done (compute-bound, memory-bound,
 * idle, saturating at the TDP), power caps (no effect under them; the clock and time they cost over
 * them), and the catalogue's default power model for accelerators without a fitted row. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hw/host.h"
#include "hw/hw.h"
#include "hw/power_ops.h"

static hw_catalog *cat;
static char err[512];

static int suite_init(void) { return (cat = hw_catalog_create(err, sizeof err)) ? 0 : -1; }
static int suite_clean(void) {
  hw_catalog_destroy(cat);
  return 0;
}

static int deploy_capped(hw_deploy *d, const char *accel, const char *model, double cap_w) {
  hw_deploy_config cfg = {.tp = 1, .pp = 1, .power_cap_w = cap_w};
  const hw_accel *a = hw_catalog_accel(cat, accel);
  const hw_model *m = hw_catalog_model(cat, model);
  if (!a || !m)
    return -1;
  return hw_deploy_init(d, a, m, &cfg, err, sizeof err);
}

static hw_deploy deploy(const char *accel, const char *model, double cap_w) {
  hw_deploy d;
  int rc = deploy_capped(&d, accel, model, cap_w);
  if (rc != 0)
    fprintf(stderr, "deploy: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return d;
}

static hw_batch prefill_batch(uint64_t tokens) {
  hw_batch b = {0};
  b.prefill_seqs = 1;
  b.prefill_tokens = (uint32_t)tokens;
  b.prefill_attn_pairs = tokens * (tokens + 1) / 2;
  b.prefill_ctx_tokens = tokens;
  return b;
}

static hw_batch decode_batch(uint32_t seqs, uint64_t ctx_each) {
  hw_batch b = {0};
  b.decode_seqs = seqs;
  b.decode_ctx_tokens = seqs * ctx_each;
  return b;
}

/* Power of 1 ms of GPU time at utilisations u_c and u_m, with no host time. */
static double power_at(const hw_deploy *d, double u_c, double u_m, double *stretch) {
  const double gpu_ns = 1e6;
  double power_w, unused;
  hw_power_iteration(d, gpu_ns, gpu_ns * (u_c >= u_m), gpu_ns, 0.0, 0.0, 0.0,
                     u_c * d->accel.peak_bf16_flops * 1e-3, u_m * d->accel.hbm_bytes_per_s * 1e-3,
                     1.0, &power_w, stretch ? stretch : &unused);
  return power_w;
}

static void test_power_rises_from_idle_with_compute_and_memory_rates(void) {
  hw_deploy d = deploy("H200-SXM-141GB", "Llama-3.1-8B", 0.0);
  const hw_power *p = &d.accel.power;
  CU_ASSERT_STRING_EQUAL(p->source, "H200-SXM-141GB");
  CU_ASSERT_TRUE(p->idle_w > 0.0 && p->base_w > p->idle_w && p->base_w < d.accel.tdp_w &&
                 p->compute_k > 0.0 && p->memory_k > 0.0 && p->launch_gap_ns > 0.0);
  CU_ASSERT_DOUBLE_EQUAL(hw_idle_power_w(&d), p->idle_w, 1e-12);
  /* Hand-computed from the committed row: tdp - (tdp - base) exp(-(k_c u_c + k_m u_m^2)). */
  const double tdp = d.accel.tdp_w;
  double compute_bound = power_at(&d, 0.6, 0.05, NULL);
  double memory_bound = power_at(&d, 0.02, 0.8, NULL);
  double no_work = power_at(&d, 0.0, 0.0, NULL);
  CU_ASSERT_DOUBLE_EQUAL(
      compute_bound,
      tdp - (tdp - p->base_w) * exp(-(0.6 * p->compute_k + p->memory_k * 0.05 * 0.05)), 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(
      memory_bound, tdp - (tdp - p->base_w) * exp(-(0.02 * p->compute_k + p->memory_k * 0.8 * 0.8)),
      1e-9);
  CU_ASSERT_DOUBLE_EQUAL(no_work, p->base_w, 1e-9);
  CU_ASSERT_TRUE(compute_bound > memory_bound && memory_bound > no_work &&
                 no_work > hw_idle_power_w(&d));
  /* Memory power is convex in u_m: the second half of the bandwidth costs more than the first. */
  double half = power_at(&d, 0.0, 0.5, NULL), full = power_at(&d, 0.0, 1.0, NULL);
  CU_ASSERT_TRUE(full - half > half - no_work);
}

static void test_a_replayed_kernel_reads_between_idle_and_its_busy_draw(void) {
  const hw_accel *a = hw_catalog_accel(cat, "H200-SXM-141GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  const hw_power *p = &a->power;
  double busy_w = hw_power_busy_w(p, a->tdp_w, 0.7, 0.1);
  /* A kernel as long as the launch gap reads halfway; a long one its busy draw; a short one
   * little more than idle. */
  CU_ASSERT_DOUBLE_EQUAL(hw_power_replayed_w(p, a->tdp_w, 0.7, 0.1, p->launch_gap_ns),
                         0.5 * (p->idle_w + busy_w), 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(hw_power_replayed_w(p, a->tdp_w, 0.7, 0.1, 1e9), busy_w, 1e-2); /* 1 s */
  CU_ASSERT_TRUE(hw_power_replayed_w(p, a->tdp_w, 0.7, 0.1, 1e-3 * p->launch_gap_ns) <
                 p->idle_w + 0.01 * (busy_w - p->idle_w));
}

static void test_power_saturates_at_the_tdp(void) {
  hw_deploy d = deploy("H200-SXM-141GB", "Llama-3.1-8B", 0.0);
  double full = power_at(&d, 1.0, 1.0, NULL);
  CU_ASSERT_TRUE(full < d.accel.tdp_w && full > 0.95 * d.accel.tdp_w);
  CU_ASSERT_TRUE(power_at(&d, 3.0, 0.0, NULL) <= d.accel.tdp_w);
  CU_ASSERT_DOUBLE_EQUAL(power_at(&d, 50.0, 50.0, NULL), d.accel.tdp_w, 1e-9);
}

static void test_host_overhead_counts_at_the_gap_power_in_the_average(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 0.0);
  hw_batch b = decode_batch(1, 128);
  hw_breakdown bd;
  hw_iteration_ns(&d, &b, &bd);
  double gpu_ns = bd.total_ns - bd.cpu_ns;
  double busy_w = hw_power_busy_w(&d.accel.power, d.accel.tdp_w,
                                  bd.flops / (gpu_ns * 1e-9) / d.accel.peak_bf16_flops,
                                  bd.hbm_bytes / (gpu_ns * 1e-9) / d.accel.hbm_bytes_per_s);
  /* and the host's CPUs add their busy draw over the host time (hw/host.h) */
  double want = (busy_w * gpu_ns +
                 (d.accel.power.gap_w + d.accel.power.host_cpu_busy_w) * bd.cpu_ns) /
                bd.total_ns;
  CU_ASSERT_TRUE(d.accel.power.host_cpu_busy_w > 0.0);
  /* the clocks stay up while the host works: between idle and the busy draw */
  CU_ASSERT_TRUE(d.accel.power.gap_w > d.accel.power.idle_w && d.accel.power.gap_w < busy_w);
  CU_ASSERT_TRUE(bd.cpu_ns > 0.0 && bd.power_w < busy_w);
  CU_ASSERT_DOUBLE_EQUAL(bd.power_w, want, 1e-9 * want);
  CU_ASSERT_DOUBLE_EQUAL(bd.cap_stretch, 1.0, 0.0);
}

static void test_a_cap_above_the_draw_changes_nothing(void) {
  hw_deploy free_run = deploy("H100-SXM-80GB", "Llama-3.1-8B", 0.0);
  hw_deploy capped = deploy("H100-SXM-80GB", "Llama-3.1-8B", 690.0);
  hw_batch b = decode_batch(8, 512);
  hw_breakdown x, y;
  int64_t t_free = hw_iteration_ns(&free_run, &b, &x), t_cap = hw_iteration_ns(&capped, &b, &y);
  CU_ASSERT_TRUE(x.power_w < 690.0);
  CU_ASSERT_EQUAL(t_free, t_cap);
  CU_ASSERT_DOUBLE_EQUAL(y.cap_stretch, 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(x.power_w, y.power_w, 1e-12);
}

static void test_a_cap_below_the_draw_slows_the_clock_to_meet_it(void) {
  hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", 300.0);
  double stretch;
  CU_ASSERT_DOUBLE_EQUAL(power_at(&d, 0.7, 0.1, &stretch), 300.0, 1e-9);
  /* Clock f from (cap - idle) = (P - idle) f^exponent; clock-bound time stretches by 1 / f. */
  const hw_power *p = &d.accel.power;
  double busy_w = d.accel.tdp_w - (d.accel.tdp_w - p->base_w) *
                                      exp(-(0.7 * p->compute_k + p->memory_k * 0.1 * 0.1));
  double f = pow((300.0 - p->idle_w) / (busy_w - p->idle_w), 1.0 / p->cap_exponent);
  CU_ASSERT_DOUBLE_EQUAL(stretch, 1.0 / f, 1e-9);
  CU_ASSERT_TRUE(stretch > 1.0);

  hw_deploy free_run = deploy("H100-SXM-80GB", "Llama-3.1-8B", 0.0);
  hw_batch b = prefill_batch(8192);
  hw_breakdown x, y;
  int64_t t_free = hw_iteration_ns(&free_run, &b, &x), t_cap = hw_iteration_ns(&d, &b, &y);
  CU_ASSERT_TRUE(x.power_w > 300.0);
  CU_ASSERT_TRUE(y.cap_stretch > 1.1);
  CU_ASSERT_TRUE(t_cap > t_free);
  CU_ASSERT_DOUBLE_EQUAL(y.total_ns - y.cpu_ns, (x.total_ns - x.cpu_ns) * y.cap_stretch,
                         1e-6 * y.total_ns);
  CU_ASSERT_TRUE(y.power_w <= 300.0 + 1e-9 && y.power_w > p->idle_w);
}

static void test_a_cap_barely_slows_memory_bound_decode(void) {
  hw_deploy free_run = deploy("H100-SXM-80GB", "Llama-3.1-8B", 0.0);
  hw_deploy capped = deploy("H100-SXM-80GB", "Llama-3.1-8B", 250.0);
  hw_batch dec = decode_batch(4, 2048), pf = prefill_batch(8192);
  hw_breakdown x, y, px, py;
  double t_free = (double)hw_iteration_ns(&free_run, &dec, &x);
  double t_cap = (double)hw_iteration_ns(&capped, &dec, &y);
  hw_iteration_ns(&free_run, &pf, &px);
  hw_iteration_ns(&capped, &pf, &py);
  CU_ASSERT_TRUE(x.power_w > 250.0); /* the cap binds for decode too ... */
  CU_ASSERT_TRUE(y.cap_stretch > 1.0 && y.cap_stretch < 1.05); /* ... but costs it little */
  CU_ASSERT_TRUE(t_cap / t_free < 1.05);
  CU_ASSERT_TRUE(py.cap_stretch > 1.3); /* where compute-bound prefill pays */
}

static void test_time_falls_and_power_rises_as_the_cap_rises(void) {
  hw_batch b = prefill_batch(4096);
  int64_t last_ns = INT64_MAX;
  double last_w = 0.0;
  for (double cap = 250.0; cap <= 700.0; cap += 50.0) {
    hw_deploy d = deploy("H100-SXM-80GB", "Llama-3.1-8B", cap);
    hw_breakdown bd;
    int64_t t = hw_iteration_ns(&d, &b, &bd);
    CU_ASSERT_TRUE(t <= last_ns);
    CU_ASSERT_TRUE(bd.power_w >= last_w);
    last_ns = t, last_w = bd.power_w;
  }
}

static void test_caps_at_idle_power_or_without_a_power_model_are_refused(void) {
  hw_deploy d;
  CU_ASSERT_EQUAL(deploy_capped(&d, "H100-SXM-80GB", "Llama-3.1-8B", 75.0), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "power cap"));
  CU_ASSERT_EQUAL(deploy_capped(&d, "H100-SXM-80GB", "Llama-3.1-8B", 76.0), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "power cap"));
  CU_ASSERT_EQUAL(deploy_capped(&d, "H100-SXM-80GB", "Llama-3.1-8B", -5.0), -1);
  CU_ASSERT_EQUAL(deploy_capped(&d, "TPU v5e", "Qwen2.5-0.5B", 150.0), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "power model"));
  CU_ASSERT_EQUAL(deploy_capped(&d, "TPU v5e", "Qwen2.5-0.5B", 0.0), 0);
}

static void test_an_accelerator_without_a_power_row_gets_the_scaled_default(void) {
  const hw_accel *b200 = hw_catalog_accel(cat, "B200-SXM-180GB");
  const hw_accel *h200 = hw_catalog_accel(cat, "H200-SXM-141GB");
  CU_ASSERT_PTR_NOT_NULL_FATAL(b200);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h200);
  const hw_power *p = &b200->power, *ref = &h200->power; /* default = H200's fit */
  CU_ASSERT_STRING_EQUAL(p->source, "default");
  /* No idle power in the catalogue: the default's share of its TDP (700 W), times 1000 W. */
  double idle = ref->idle_w / 700.0 * 1000.0, k = (1000.0 - idle) / (700.0 - ref->idle_w);
  CU_ASSERT_DOUBLE_EQUAL(p->idle_w, idle, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(p->base_w, idle + (ref->base_w - ref->idle_w) * k, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(p->gap_w, idle + (ref->gap_w - ref->idle_w) * k, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(p->compute_k, ref->compute_k, 0.0); /* saturation is relative to TDP */
  CU_ASSERT_DOUBLE_EQUAL(p->memory_k, ref->memory_k, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(p->cap_exponent, ref->cap_exponent, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(p->host_w, ref->host_w, 0.0);
  /* A100 has its own row (its host share from the DGX A100). */
  CU_ASSERT_STRING_EQUAL(hw_catalog_accel(cat, "A100-SXM-80GB")->power.source, "A100-SXM-80GB");
  /* No TDP: no power model. */
  const hw_accel *tpu = hw_catalog_accel(cat, "TPU v5e");
  CU_ASSERT_PTR_NOT_NULL_FATAL(tpu);
  CU_ASSERT_DOUBLE_EQUAL(tpu->power.base_w, 0.0, 0.0);
  CU_ASSERT_STRING_EQUAL(tpu->power.source, "");
}

/* The host's parts (hw/host.h): the sourced ones and the rest of the measured idle host power add
 * up to the node's host power, idle or busy, on every node type with a host row. */
static void test_host_parts_add_up_to_the_nodes_host_power(void) {
  const char *const devices[] = {"H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB"};
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
    hw_host h;
    CU_ASSERT_EQUAL_FATAL(hw_host_find(devices[i], &h, err, sizeof err), 1);
    const hw_accel *a = hw_catalog_accel(cat, devices[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    double idle_host_w = a->power.host_w * h.accels; /* power.csv's measured idle share */
    double all_cores = (double)h.cpu_sockets * h.cpu_cores;
    for (double busy = 0.0; busy <= all_cores; busy += all_cores / 4) {
      hw_host_parts p = hw_host_parts_at(&h, idle_host_w, busy);
      CU_ASSERT_DOUBLE_EQUAL(p.cpu_busy_w + p.nic_optics_w + p.rest_w, p.total_w, 1e-9);
      CU_ASSERT_DOUBLE_EQUAL(p.total_w, idle_host_w + hw_host_cpu_busy_w(&h, busy), 1e-9);
      CU_ASSERT_DOUBLE_EQUAL(p.nic_optics_w, h.nics * h.nic_optics_w, 0.0);
      CU_ASSERT_TRUE(p.rest_w > 0.0); /* the sourced parts never exceed the measured whole */
    }
    CU_ASSERT_DOUBLE_EQUAL(hw_host_parts_at(&h, idle_host_w, 0.0).total_w, idle_host_w, 0.0);
  }
}

/* The CPUs' draw rises with the cores running host work, from nothing above idle to the sockets'
 * TDP, and no further; each accelerator's engine worker keeps one core busy. */
static void test_host_cpu_power_rises_with_utilisation_within_its_bounds(void) {
  hw_host h;
  CU_ASSERT_EQUAL_FATAL(hw_host_find("H100-SXM-80GB", &h, err, sizeof err), 1);
  CU_ASSERT_EQUAL(h.cpu_sockets, 2); /* DGX H100: 2x Xeon Platinum 8480C, 56 cores, 350 W */
  CU_ASSERT_EQUAL(h.cpu_cores, 56);
  double all_cores = (double)h.cpu_sockets * h.cpu_cores, max_w = h.cpu_sockets * h.cpu_tdp_w;
  double last_w = -1.0;
  for (double busy = 0.0; busy <= all_cores; busy += 1.0) {
    double w = hw_host_cpu_busy_w(&h, busy);
    CU_ASSERT_TRUE(w > last_w && w >= 0.0 && w <= max_w);
    last_w = w;
  }
  CU_ASSERT_DOUBLE_EQUAL(hw_host_cpu_busy_w(&h, 0.0), 0.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(hw_host_cpu_busy_w(&h, all_cores), max_w, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(hw_host_cpu_busy_w(&h, 10 * all_cores), max_w, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(hw_host_cpu_busy_w(&h, -3.0), 0.0, 0.0);
  const hw_accel *a = hw_catalog_accel(cat, "H100-SXM-80GB");
  CU_ASSERT_DOUBLE_EQUAL(a->power.host_cpu_busy_w, hw_host_cpu_busy_w(&h, 1.0), 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(a->power.host_cpu_busy_w, 350.0 / 56.0, 1e-12);
}

/* A node type without a host row keeps today's constant host power: no CPU term. */
static void test_node_types_without_a_host_row_keep_the_constant(void) {
  hw_host h;
  CU_ASSERT_EQUAL(hw_host_find("MI300X", &h, err, sizeof err), 0);
  const hw_accel *a = hw_catalog_accel(cat, "MI300X");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_DOUBLE_EQUAL(a->power.host_cpu_busy_w, 0.0, 0.0);
  CU_ASSERT_TRUE(a->power.host_w > 0.0);
}

int main(void) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite s = CU_add_suite("hw_power", suite_init, suite_clean);
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {
#define T(f) {#f, f}
      T(test_power_rises_from_idle_with_compute_and_memory_rates),
      T(test_a_replayed_kernel_reads_between_idle_and_its_busy_draw),
      T(test_power_saturates_at_the_tdp),
      T(test_host_overhead_counts_at_the_gap_power_in_the_average),
      T(test_a_cap_above_the_draw_changes_nothing),
      T(test_a_cap_below_the_draw_slows_the_clock_to_meet_it),
      T(test_a_cap_barely_slows_memory_bound_decode),
      T(test_time_falls_and_power_rises_as_the_cap_rises),
      T(test_caps_at_idle_power_or_without_a_power_model_are_refused),
      T(test_an_accelerator_without_a_power_row_gets_the_scaled_default),
      T(test_host_parts_add_up_to_the_nodes_host_power),
      T(test_host_cpu_power_rises_with_utilisation_within_its_bounds),
      T(test_node_types_without_a_host_row_keep_the_constant),
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
