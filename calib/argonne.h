/* Internal to calib/: Argonne's whole-run GPU power table (LLM-Inference-Bench Fig. 16,
 * e2e/argonne_llm_inference_bench/Fig_16_a_b_power_results.csv), read and priced as the runs it
 * measured, for the power fit (calib/fit_power.c) and `windtunnel calibrate` (calib/eval_power.c).
 * What the table measured and how it is priced: hw/data/SOURCES.md, "Whole-run power". */
#ifndef CALIB_ARGONNE_H
#define CALIB_ARGONNE_H

#include <stddef.h>

#include "calib/reader.h"
#include "hw/hw.h"

#define CALIB_ARGONNE_POWER "e2e/argonne_llm_inference_bench/Fig_16_a_b_power_results.csv"

/* The systems of the table that the catalogue can price: hardware and framework. */
enum { CALIB_ARGONNE_A100, CALIB_ARGONNE_H100, CALIB_ARGONNE_NDEV };
enum { CALIB_ARGONNE_VLLM, CALIB_ARGONNE_TRTLLM, CALIB_ARGONNE_DSMII, CALIB_ARGONNE_NFW };
extern const char *const calib_argonne_dev_names[CALIB_ARGONNE_NDEV]; /* "a100", "h100" */
extern const char *const calib_argonne_fw_names[CALIB_ARGONNE_NFW];   /* "vllm", ... */

/* One iteration of a priced run: its utilisations over its GPU time (as hw_power_iteration
 * computes them), the time its kernels run and the time the device waits inside it (host). */
typedef struct calib_argonne_step {
  double u_c, u_m, busy_s, wait_s;
} calib_argonne_step;

/* One measured run, priced. The meter averaged GPU board power over the run and the second after
 * it, so the predicted reading is (busy energy + gap_w * wait_s) / (run_s + tail_s), the busy
 * energy summed over the run's steps and wait_s including the tail. */
typedef struct calib_argonne_run {
  int dev, fw;
  const char *model;        /* the catalogue's name of the model it ran */
  double batch, length;     /* requests, and tokens in = tokens out */
  double measured_w;        /* avg_power / 1000 (NVML milliwatts) */
  double measured_s;        /* Latency */
  double run_s;             /* predicted run time */
  double wait_s;            /* time the GPU waits: host time inside iterations, and the tail */
  double tail_s;            /* the meter's second after the run */
  double waves;             /* how many waves the batch ran in (KV memory) */
  size_t first_step, steps; /* its iterations in calib_argonne_runs.step */
} calib_argonne_run;

typedef struct calib_argonne_runs {
  calib_argonne_run *r;
  size_t n, cap;
  calib_argonne_step *step;
  size_t n_steps, cap_steps;
  size_t unpriced; /* rows of hardware or models the catalogue lacks (GH200) */
  char unpriced_why[160];
} calib_argonne_runs;

/* Read the table under rc->data_dir and price every row whose hardware and model the catalogue
 * has, on devs[dev] (their efficiencies and busy power models: the fit passes its own; the A100
 * with Polaris's memory, see the .c). 1 when the table is absent, 0, or -1 with a message. */
int calib_argonne_load(const calib_reader *rc, const hw_catalog *cat,
                       const hw_accel *const devs[CALIB_ARGONNE_NDEV], calib_argonne_runs *out);

/* The meter's reading the model predicts for run r of runs under the board power model p of a
 * board of tdp_w (its busy draw and gap_w). */
double calib_argonne_predicted_w(const calib_argonne_runs *runs, const calib_argonne_run *r,
                                 const hw_power *p, double tdp_w);

/* Release the runs. */
void calib_argonne_free(calib_argonne_runs *runs);

#endif
