/* Internal to calib/: what the efficiency fit, the power fit and the kernel evaluation share:
 * the operator families, measured kernel points and their readers, the plan of which dataset fits
 * which device's operator, and the cost model's prediction and error over a dataset. */
#ifndef CALIB_KERNELS_H
#define CALIB_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "calib/reader.h"
#include "calib/rows.h"
#include "hw/cost_ops.h"
#include "hw/hw.h"
#include "util/csv.h"

typedef enum calib_op {
  CALIB_OP_GEMM,
  CALIB_OP_ATTN_PREFILL,
  CALIB_OP_ATTN_DECODE,
  CALIB_OP_ELEMENTWISE,
  CALIB_OP_ALLREDUCE,
  CALIB_OP_SENDRECV,
  CALIB_OP_CPU,
  CALIB_OP_GEMM_FP8,           /* W8A8 fp8, per-tensor scales: e4m3 inputs and weights, bf16 out */
  CALIB_OP_GEMM_FP8_BLOCK,     /* fp8 with 128x128 weight and 1x128 activation block scales */
  CALIB_OP_ATTN_PREFILL_FP8KV, /* attention over an fp8 KV cache */
  CALIB_OP_ATTN_DECODE_FP8KV,
  CALIB_OP_COUNT
} calib_op;

extern const char *const calib_op_names[CALIB_OP_COUNT];

/* The devices the kernel data was measured on (the catalogue's names in calib_dev_names). */
enum { CALIB_DEV_H100, CALIB_DEV_H200, CALIB_DEV_A100, CALIB_NDEV };
extern const char *const calib_dev_names[CALIB_NDEV];

/* One measurement: the operator's shape and the measured time. */
typedef struct calib_point {
  double x[7];
  double measured_ns;
  double power_w; /* measured average board power; NAN where the table has none */
} calib_point;

typedef struct calib_points {
  calib_point *p;
  size_t n, cap;
  size_t dropped; /* points of rows without a positive measured time: not fitted, but counted */
} calib_points;

/* Appends one point of nx inputs (power NaN); a zero, negative or missing time is dropped and
 * counted (it cannot be fitted in log space). 0, or -1 out of memory. */
int calib_points_push(calib_points *ps, const double *x, int nx, double measured_ns);

/* Median and p90 of |predicted / measured - 1| over n points, percent. */
typedef struct calib_stats {
  size_t n;
  double median_pct, p90_pct;
} calib_stats;

#define CALIB_AIC "aiconfigurator/kernels/"
#define CALIB_VIDUR "vidur/data/profiling/"

/* One dataset fitted to (role "fit") or checked against (role "check") one device's operator. */
typedef struct calib_kernel_job {
  int dev;
  calib_op op;
  const char *dataset; /* relative to data_dir */
  const char *role;    /* "fit" or "check" */
} calib_kernel_job;

/* The plan, fits before the checks of the same operator (calib/kernel_data.c). */
extern const calib_kernel_job calib_kernel_jobs[];
extern const size_t calib_kernel_njobs;

/* Reads a job's points into pts (appended); 0, or -1 with a message (missing file, malformed
 * number, no usable rows, out of memory). */
int calib_kernel_load(const calib_reader *rc, const calib_kernel_job *j, calib_points *pts);

/* Reads the table rel (under rc->data_dir) of op into pts (appended): in Vidur's layout (vidur:
 * operator profiles as a folder of <org>/<model>/mlp.csv, network and CPU tables) or
 * AIConfigurator's (kernels/ tables). 0, or -1 with a message (missing file or column, malformed
 * number, out of memory); 0 points is not an error here. */
int calib_kernel_read(const calib_reader *rc, calib_op op, bool vidur, const char *rel,
                      calib_points *pts);

/* Fit op's efficiency parameters of accel->eff to pts, from accel->eff as the starting point, as
 * calib_fit_hw fits each device (parameters an operator borrows from another, prefill attention's
 * HBM fraction from decode's, are copied, not fitted: fit the lender first). keep (NULL: none)
 * marks, by calib_op_param's index, parameters to keep as they are: those pts cannot place. */
void calib_fit_op(calib_op op, const calib_points *pts, hw_accel *accel, const bool *keep);

/* The name of op's i-th fitted parameter in efficiency.csv; NULL past the last. */
const char *calib_op_param(calib_op op, int i);

enum { CALIB_VIDUR_MAX_FILES = 256 };
/* The paths of every <org>/<model>/mlp.csv under data_dir/rel, sorted (so the fit is
 * reproducible), at most CALIB_VIDUR_MAX_FILES; the caller frees each. Returns 0, or -1 with a
 * message (none found, out of memory). */
int calib_vidur_mlp_list(const calib_reader *rc, const char *rel, char **files, int *nfiles_out);
/* One Vidur mlp.csv: its projections into gemm, its memory-bound kernels into elem. 0, or -1 with a
 * message. */
int calib_vidur_mlp_read(const calib_reader *rc, const char *path, calib_points *gemm,
                         calib_points *elem);

/* The model's prediction for one point of op under efficiencies e and the rates they give. */
double calib_kernel_predict_ns(calib_op op, const hw_eff *e, const hw_rates *r, const double *x);

/* Evaluate pts under accel's current efficiencies: the stats, the report lines (report may be
 * NULL: "calibration dataset=.. op=.. device=.. role=.. points=.." with the parameters and worst
 * points) and, row not NULL, the calibration row's figures and worst points. */
calib_stats calib_kernel_evaluate(calib_op op, const calib_points *pts, const hw_accel *accel,
                                  const char *dataset, const char *role, FILE *report,
                                  calib_row *row);

/* The power models (power.csv beside efficiency.csv, calib/fit_power.c): fit them from devs'
 * efficiencies and write out_path, or (out_path NULL) check that the shipped file is what the fit
 * writes; the SplitwiseSim phase checks and the cap exponent with them. devs are the catalogue's
 * CALIB_DEV_* accelerators; their power models are the shipped ones when checking. 0, or -1 with
 * a message in rc. */
int calib_fit_power(const calib_reader *rc, const hw_catalog *cat, hw_accel *devs,
                    const char *out_path, FILE *report);

#endif
