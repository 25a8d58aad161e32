/* wt_net_fit: fits the collective cost parameters to the measured NCCL tables and writes
 * net/data/collective.csv, or with --check compares the built-in ones with the data
 * (calib_fit_collectives, calib/fit.h). */
#include <stdio.h>

#include "calib/fit.h"
#include "calib/tool.h"

static const char usage[] =
    "usage: wt_net_fit [--check] DATA_DIR [OUT_CSV]\n"
    "  Fits the collective parameters to the NCCL tables under DATA_DIR (laid out like\n"
    "  ../shared/data), writes OUT_CSV (default net/data/collective.csv) and prints the\n"
    "  error per dataset, op and rank count. --check evaluates the built-in parameters\n"
    "  instead, writes nothing, and fails when a dataset's median error exceeds the\n"
    "  committed figure by more than the tolerance.\n";

int main(int argc, char **argv) {
  calib_tool_args args = {NULL, "net/data/collective.csv", false};
  int rc = calib_tool_parse(argc, argv, "wt_net_fit", usage, &args);
  if (rc != 0)
    return rc == 1 ? 0 : rc;
  if (!args.data_dir) {
    fprintf(stderr, "wt_net_fit: DATA_DIR is required (try --help)\n");
    return 2;
  }
  char err[512];
  rc = calib_fit_collectives(args.data_dir, args.check ? NULL : args.out_path, stdout, err,
                             sizeof err);
  if (rc != 0)
    fprintf(stderr, "wt_net_fit: %s\n", err);
  return rc < 0 ? 1 : rc;
}
