/* Argonne's whole-run GPU power (calib/argonne.h) with the built-in catalogue: one calibration row
 * per device and framework, the error of the meter's reading each run predicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/acc.h"
#include "calib/argonne.h"
#include "calib/eval.h"
#include "util/error.h"

static const char *const catalogue[CALIB_ARGONNE_NDEV] = {"A100-SXM-80GB", "H100-SXM-80GB"};

int calib_eval_argonne_power(const char *data_dir, const hw_catalog *cat, calib_rows *out,
                             char *err, size_t err_len) {
  char why[512] = "";
  calib_reader rc = {data_dir, why, sizeof why};
  const hw_accel *devs[CALIB_ARGONNE_NDEV];
  for (int i = 0; i < CALIB_ARGONNE_NDEV; i++)
    if (!(devs[i] = hw_catalog_accel(cat, catalogue[i])))
      return util_err(err, err_len, "the catalogue lacks %s", catalogue[i]);
  calib_argonne_runs runs = {0};
  int r = calib_argonne_load(&rc, cat, devs, &runs);
  if (r == 1)
    return 0;
  if (r != 0) { /* the table's fault: a row of no points that says why */
    calib_argonne_free(&runs);
    return calib_rows_skip(out, CALIB_ARGONNE_POWER, "avg_power", why) != 0
               ? util_err(err, err_len, "out of memory")
               : 0;
  }
  calib_acc acc;
  calib_acc_init(&acc);
  acc.unit = "mW";
  for (int dev = 0; dev < CALIB_ARGONNE_NDEV && r == 0; dev++)
    for (int fw = 0; fw < CALIB_ARGONNE_NFW && r == 0; fw++) {
      for (size_t i = 0; i < runs.n && r == 0; i++) {
        const calib_argonne_run *x = &runs.r[i];
        if (x->dev != dev || x->fw != fw)
          continue;
        char inputs[160];
        snprintf(inputs, sizeof inputs, "model=%s batch=%g length=%g waves=%g", x->model, x->batch,
                 x->length, x->waves);
        r = calib_acc_add(
            &acc, 1e3 * calib_argonne_predicted_w(&runs, x, &devs[dev]->power, devs[dev]->tdp_w),
            1e3 * x->measured_w, inputs);
      }
      char op[64];
      snprintf(op, sizeof op, "avg_power.%s.%s", calib_argonne_dev_names[dev],
               calib_argonne_fw_names[fw]);
      if (r == 0 && acc.n)
        r = calib_acc_row(&acc, out, CALIB_ARGONNE_POWER, op, catalogue[dev],
                          "GPU board power over the run and the second after it "
                          "(hw/data/SOURCES.md, \"Whole-run power\")");
    }
  calib_acc_free(&acc);
  if (r == 0 && runs.unpriced)
    r = calib_rows_skip(out, CALIB_ARGONNE_POWER, "avg_power.unpriced", runs.unpriced_why);
  calib_argonne_free(&runs);
  return r != 0 ? util_err(err, err_len, "out of memory") : 0;
}
