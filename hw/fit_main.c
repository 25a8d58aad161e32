/* wt_hw_fit: fits the cost model's efficiency parameters to the measured data and writes
 * hw/data/efficiency.csv, printing the fit error per dataset and operator (hw_fit, hw/fit.h). */
#include <stdio.h>
#include <string.h>

#include "hw/fit.h"

int main(int argc, char **argv) {
  const char *data_dir = "../shared/data", *out_path = "hw/data/efficiency.csv";
  int positional = 0;
  int check = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--check")) {
      check = 1;
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      printf(
          "usage: wt_hw_fit [--check] [DATA_DIR [OUT_CSV]]\n"
          "  Fits efficiencies to DATA_DIR (default ../shared/data), writes OUT_CSV (default\n"
          "  hw/data/efficiency.csv) and prints the error per dataset and operator. --check\n"
          "  evaluates the built-in parameters against DATA_DIR without fitting or writing.\n");
      return 0;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "wt_hw_fit: unknown option '%s' (try --help)\n", argv[i]);
      return 2;
    } else if (positional == 0) {
      data_dir = argv[i], positional++;
    } else if (positional == 1) {
      out_path = argv[i], positional++;
    } else {
      fprintf(stderr, "wt_hw_fit: too many arguments (try --help)\n");
      return 2;
    }
  }
  char err[512];
  if (hw_fit(data_dir, check ? NULL : out_path, stdout, err, sizeof err) != 0) {
    fprintf(stderr, "wt_hw_fit: %s\n", err);
    return 1;
  }
  return 0;
}
