/* Internal to calib/: a calibration row's error accumulated point by point (the per-layer and
 * SplitwiseSim evaluations), keeping the three worst points described. */
#ifndef CALIB_ACC_H
#define CALIB_ACC_H

#include <stddef.h>

#include "calib/rows.h"

typedef struct calib_acc {
  double *abs_err; /* |modelled / measured - 1| of each point */
  size_t n, cap;
  double worst_err[3];
  char worst[3][256];
  const char *unit; /* of the values, in the worst points' descriptions: "ns" unless set */
} calib_acc;

void calib_acc_init(calib_acc *a);
/* Add one point (skipped when measured_ns is not positive or modelled_ns not finite); inputs
 * describe it, kept only while it is among the worst three. 0, or -1 when memory runs out. */
int calib_acc_add(calib_acc *a, double modelled_ns, double measured_ns, const char *inputs);
/* Append the accumulated row (its median, p90 and worst points) to out and empty a for reuse.
 * device and note may be NULL. 0, or -1 when memory runs out. */
int calib_acc_row(calib_acc *a, calib_rows *out, const char *dataset, const char *op,
                  const char *device, const char *note);
/* Release a's points (after an error, or when a row was never taken). */
void calib_acc_free(calib_acc *a);

#endif
