/* wt_hw_fit: fits the cost model's efficiency parameters to the measured data and writes
 * hw/data/efficiency.csv, with power.csv and systolic.csv beside it, printing the fit error per
 * dataset and operator (calib_fit_hw, calib/fit.h). */
#include <stdio.h>

#include "calib/fit.h"
#include "calib/tool.h"

static const char usage[] =
    "usage: wt_hw_fit [--check] [DATA_DIR [OUT_CSV]]\n"
    "  Fits efficiencies to DATA_DIR (default ../shared/data), writes OUT_CSV (default\n"
    "  hw/data/efficiency.csv) and prints the error per dataset and operator. --check\n"
    "  evaluates the built-in parameters against DATA_DIR without fitting or writing.\n";

int main(int argc, char **argv) {
  calib_tool_args args = {"../shared/data", "hw/data/efficiency.csv", false};
  int rc = calib_tool_parse(argc, argv, "wt_hw_fit", usage, &args);
  if (rc != 0)
    return rc == 1 ? 0 : rc;
  char err[512];
  if (calib_fit_hw(args.data_dir, args.check ? NULL : args.out_path, stdout, err, sizeof err) !=
      0) {
    fprintf(stderr, "wt_hw_fit: %s\n", err);
    return 1;
  }
  return 0;
}
