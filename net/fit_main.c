/* wt_net_fit: fits the collective cost parameters to the measured NCCL tables and writes
 * net/data/collective.csv, or with --check compares the built-in ones with the data (net_fit). */
#include <stdio.h>
#include <string.h>

#include "net/fit.h"

int main(int argc, char **argv) {
  const char *data_dir = NULL, *out_path = "net/data/collective.csv";
  int positional = 0, check = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--check")) {
      check = 1;
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf(
          "usage: wt_net_fit [--check] DATA_DIR [OUT_CSV]\n"
          "  Fits the collective parameters to the NCCL tables under DATA_DIR (laid out like\n"
          "  ../shared/data), writes OUT_CSV (default net/data/collective.csv) and prints the\n"
          "  error per dataset, op and rank count. --check evaluates the built-in parameters\n"
          "  instead, writes nothing, and fails when a dataset's median error exceeds the\n"
          "  committed figure by more than the tolerance.\n");
      return 0;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "wt_net_fit: unknown option '%s' (try --help)\n", argv[i]);
      return 2;
    } else if (positional == 0) {
      data_dir = argv[i], positional++;
    } else if (positional == 1) {
      out_path = argv[i], positional++;
    } else {
      fprintf(stderr, "wt_net_fit: too many arguments (try --help)\n");
      return 2;
    }
  }
  if (!data_dir) {
    fprintf(stderr, "wt_net_fit: DATA_DIR is required (try --help)\n");
    return 2;
  }
  char err[512];
  int rc = net_fit(data_dir, check ? NULL : out_path, stdout, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "wt_net_fit: %s\n", err);
    return 1;
  }
  if (rc > 0)
    fprintf(stderr, "wt_net_fit: %s\n", err);
  return rc;
}
