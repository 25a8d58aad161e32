/* The kernel, network and host tables of the efficiency fit evaluated with the shipped
 * efficiencies: one calibration row per dataset file and operator (Vidur's operator profiles one
 * per model file), fits and checks alike. */
#include <stdlib.h>
#include <string.h>

#include "calib/eval.h"
#include "calib/kernels.h"
#include "util/error.h"

/* A row for dataset/op on device: evaluated on pts, or skipped with the message in err. */
static int add_row(calib_rows *out, const char *dataset, calib_op op, const hw_accel *dev,
                   const calib_points *pts, const char *skipped) {
  calib_row row;
  memset(&row, 0, sizeof row);
  snprintf(row.dataset, sizeof row.dataset, "%s", dataset);
  snprintf(row.op, sizeof row.op, "%s", calib_op_names[op]);
  snprintf(row.device, sizeof row.device, "%s", dev ? dev->name : "");
  if (skipped)
    snprintf(row.note, sizeof row.note, "skipped: %s", skipped);
  else
    calib_kernel_evaluate(op, pts, dev, dataset, "check", NULL, &row);
  if (pts && pts->dropped) { /* said, not silently left out */
    size_t used = strlen(row.note);
    snprintf(row.note + used, sizeof row.note - used, "%s%zu rows dropped: no positive time",
             used ? "; " : "", pts->dropped);
  }
  return calib_rows_add(out, &row);
}

/* Vidur's operator profiles of devices the catalogue has no datasheet values for. */
static const struct {
  const char *dir, *device;
} vidur_unpriced[] = {{CALIB_VIDUR "compute/a40", "A40"}};

int calib_eval_kernels(const char *data_dir, const hw_catalog *cat, calib_rows *out, char *err,
                       size_t err_len) {
  const hw_accel *devs[CALIB_NDEV];
  for (int i = 0; i < CALIB_NDEV; i++)
    if (!(devs[i] = hw_catalog_accel(cat, calib_dev_names[i])))
      return util_err(err, err_len, "accelerator catalogue lacks %s", calib_dev_names[i]);
  calib_reader rc = {data_dir, err, err_len};
  size_t prefix = strlen(data_dir) + 1; /* data_dir and the slash */
  int result = 0;
  for (size_t j = 0; j < calib_kernel_njobs && result == 0; j++) {
    const calib_kernel_job *jb = &calib_kernel_jobs[j];
    calib_points pts = {0}, scratch = {0};
    if (strstr(jb->dataset, "compute/")) { /* one row per Vidur model file */
      char *files[CALIB_VIDUR_MAX_FILES];
      int nfiles = 0;
      if (calib_vidur_mlp_list(&rc, jb->dataset, files, &nfiles) != 0 && nfiles == 0) {
        result = add_row(out, jb->dataset, jb->op, devs[jb->dev], NULL, err);
        continue;
      }
      for (int i = 0; i < nfiles; i++) {
        pts.n = scratch.n = 0;
        pts.dropped = scratch.dropped = 0;
        if (result == 0) {
          const char *rel = strlen(files[i]) > prefix ? files[i] + prefix : files[i];
          int r = jb->op == CALIB_OP_GEMM ? calib_vidur_mlp_read(&rc, files[i], &pts, &scratch)
                                          : calib_vidur_mlp_read(&rc, files[i], &scratch, &pts);
          result = add_row(out, rel, jb->op, devs[jb->dev], &pts,
                           r != 0       ? err
                           : pts.n == 0 ? "no usable rows"
                                        : NULL);
        }
        free(files[i]);
      }
    } else {
      int r = calib_kernel_load(&rc, jb, &pts);
      result = add_row(out, jb->dataset, jb->op, devs[jb->dev], &pts, r != 0 ? err : NULL);
    }
    free(pts.p);
    free(scratch.p);
  }
  for (size_t u = 0; u < sizeof vidur_unpriced / sizeof *vidur_unpriced && result == 0; u++) {
    char *files[CALIB_VIDUR_MAX_FILES];
    int nfiles = 0;
    if (calib_vidur_mlp_list(&rc, vidur_unpriced[u].dir, files, &nfiles) != 0 && nfiles == 0)
      continue; /* absent: nothing to say */
    char why[160];
    snprintf(why, sizeof why, "no datasheet values for %s in the catalogue or the data directory",
             vidur_unpriced[u].device);
    for (int i = 0; i < nfiles; i++) {
      const char *rel = strlen(files[i]) > prefix ? files[i] + prefix : files[i];
      if (result == 0)
        result = add_row(out, rel, CALIB_OP_GEMM, NULL, NULL, why);
      free(files[i]);
    }
  }
  return result != 0 ? util_err(err, err_len, "out of memory") : 0;
}
