/* Where the fitted parameter files go, and the early check that they can be written. */
#include "calib/output.h"

#include <stdio.h>
#include <string.h>

#include "util/csv.h"

int calib_output_writable(const char *path, char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f)
    return -1;
  fclose(f);
  remove(tmp);
  return 0;
}

void calib_output_beside(const char *path, const char *name, char *out, size_t out_len) {
  const char *slash = strrchr(path, '/');
  int dir_len = slash ? (int)(slash - path + 1) : 0;
  snprintf(out, out_len, "%.*s%s", dir_len, path, name);
}
