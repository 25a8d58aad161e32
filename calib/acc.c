/* A calibration row's error accumulated point by point (calib/acc.h). */
#include "calib/acc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/stats.h"

void calib_acc_init(calib_acc *a) {
  memset(a, 0, sizeof *a);
  for (int w = 0; w < 3; w++)
    a->worst_err[w] = -1.0;
  a->unit = "ns";
}

int calib_acc_add(calib_acc *a, double modelled_ns, double measured_ns, const char *inputs) {
  if (!(measured_ns > 0.0) || !isfinite(modelled_ns))
    return 0;
  double *grown = util_grow(a->abs_err, &a->cap, a->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  a->abs_err = grown;
  double ae = fabs(modelled_ns / measured_ns - 1.0);
  a->abs_err[a->n++] = ae;
  for (int w = 0; w < 3; w++)
    if (ae > a->worst_err[w]) {
      for (int v = 2; v > w; v--) {
        a->worst_err[v] = a->worst_err[v - 1];
        memcpy(a->worst[v], a->worst[v - 1], sizeof a->worst[v]);
      }
      a->worst_err[w] = ae;
      snprintf(a->worst[w], sizeof a->worst[w], "%s measured_%s=%.0f modelled_%s=%.0f", inputs,
               a->unit, measured_ns, a->unit, modelled_ns);
      break;
    }
  return 0;
}

int calib_acc_row(calib_acc *a, calib_rows *out, const char *dataset, const char *op,
                  const char *device, const char *note) {
  calib_row row;
  memset(&row, 0, sizeof row);
  snprintf(row.dataset, sizeof row.dataset, "%s", dataset);
  snprintf(row.op, sizeof row.op, "%s", op);
  snprintf(row.device, sizeof row.device, "%s", device ? device : "");
  snprintf(row.note, sizeof row.note, "%s", note ? note : "");
  row.points = a->n;
  if (a->n) {
    util_error_percentiles(a->abs_err, a->n, &row.median_abs_pct, &row.p90_abs_pct);
    for (int w = 0; w < 3 && a->worst_err[w] >= 0.0; w++)
      memcpy(row.worst[row.worst_count++], a->worst[w], sizeof row.worst[0]);
  }
  calib_acc_free(a);
  return calib_rows_add(out, &row);
}

void calib_acc_free(calib_acc *a) {
  const char *unit = a->unit;
  free(a->abs_err);
  calib_acc_init(a);
  a->unit = unit;
}
