/* wt_hw_bench: the cost of one pricing call (hw_iteration_ns) over a spread of realistic batches,
 * for a few deployments; prints one machine-readable line per deployment. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hw/engine.h"
#include "hw/hw.h"

enum { NBATCHES = 4096 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Batches like a busy vLLM instance forms: up to 256 decodes over contexts of up to 4k tokens, and
 * half the time one prefill chunk of up to 2048 tokens. */
static void make_batches(hw_batch *b, int n) {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(s >> 33);
    hw_batch x = {0};
    x.decode_seqs = 1 + r % 256;
    x.decode_ctx_tokens = (uint64_t)x.decode_seqs * (64 + r % 4096);
    if (r & 1) {
      uint64_t chunk = 1 + (r >> 8) % 2048, cached = (r >> 3) % 1024;
      x.prefill_seqs = 1;
      x.prefill_tokens = (uint32_t)chunk;
      x.prefill_attn_pairs = chunk * cached + chunk * (chunk + 1) / 2;
      x.prefill_ctx_tokens = cached + chunk;
    }
    b[i] = x;
  }
}

int main(int argc, char **argv) {
  long calls = argc > 1 ? atol(argv[1]) : 20000000L;
  char err[512];
  hw_catalog *cat = hw_catalog_create(err, sizeof err);
  if (!cat) {
    fprintf(stderr, "wt_hw_bench: %s\n", err);
    return 1;
  }
  static const struct {
    const char *accel, *model;
    uint32_t tp, pp;
    const char *engine; /* NULL: none; else an engine of hw/data/engines.csv, async scheduling */
  } cases[] = {{"H100-SXM-80GB", "Llama-3.1-8B", 1, 1, NULL},
               {"H100-SXM-80GB", "Llama-3.1-70B", 4, 2, NULL},
               {"H200-SXM-141GB", "Mixtral-8x7B", 2, 1, NULL},
               {"H100-SXM-80GB", "Llama-3.1-8B", 1, 1, "vllm-v1"}};
  static hw_batch batches[NBATCHES];
  make_batches(batches, NBATCHES);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    hw_deploy d;
    hw_deploy_config cfg = {.tp = cases[c].tp, .pp = cases[c].pp};
    hw_engine engine;
    if (cases[c].engine) {
      if (hw_engine_find(cases[c].engine, NULL, -1, 1, &engine, err, sizeof err) != 0) {
        fprintf(stderr, "wt_hw_bench: %s\n", err);
        hw_catalog_destroy(cat);
        return 1;
      }
      hw_engine_apply(&engine, &cfg);
    }
    if (hw_deploy_init(&d, hw_catalog_accel(cat, cases[c].accel),
                       hw_catalog_model(cat, cases[c].model), &cfg, err, sizeof err) != 0) {
      fprintf(stderr, "wt_hw_bench: %s\n", err);
      hw_catalog_destroy(cat);
      return 1;
    }
    volatile int64_t sink = 0;
    double t0 = now_s();
    int64_t sum = 0;
    for (long i = 0; i < calls; i++)
      sum += hw_iteration_ns(&d, &batches[i & (NBATCHES - 1)], NULL);
    double t1 = now_s();
    sink = sum;
    (void)sink;
    /* As the serving loop calls it: with a breakdown (power included). */
    hw_breakdown bd;
    double power_sum = 0.0;
    double t2 = now_s();
    for (long i = 0; i < calls; i++) {
      sum += hw_iteration_ns(&d, &batches[i & (NBATCHES - 1)], &bd);
      power_sum += bd.power_w;
    }
    double t3 = now_s();
    sink = sum + (int64_t)power_sum;
    printf(
        "hw_pricing accel=%s model=%s tp=%u pp=%u engine=%s calls=%ld ns_per_call=%.1f "
        "ns_per_call_with_breakdown=%.1f\n",
        cases[c].accel, cases[c].model, cases[c].tp, cases[c].pp,
        cases[c].engine ? cases[c].engine : "none", calls, 1e9 * (t1 - t0) / (double)calls,
        1e9 * (t3 - t2) / (double)calls);
  }
  hw_catalog_destroy(cat);
  return 0;
}
