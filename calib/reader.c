/* Reading measured tables record by record (calib/reader.h). */
#include "calib/reader.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

int calib_reader_open(const calib_reader *rc, util_csv *c, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", rc->data_dir, rel);
  return util_csv_open_file(c, path, rc->err, rc->err_len);
}

int calib_reader_nums(const calib_reader *rc, const util_csv *c, const int *cols, double *v,
                      int n) {
  for (int i = 0; i < n; i++)
    if (util_csv_double(c, cols[i], NAN, &v[i], rc->err, rc->err_len) != 0)
      return -1;
  return 0;
}

int calib_reader_dims(const calib_reader *rc, const util_csv *c, const int *cols, double *v,
                      int n) {
  if (calib_reader_nums(rc, c, cols, v, n) != 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (!(v[i] > 0) || !isfinite(v[i])) {
      snprintf(rc->err, rc->err_len, "%s:%ld: column '%s': '%s' is not a size above 0", c->name,
               c->line, cols[i] >= 0 && cols[i] < c->nheader ? c->header[cols[i]] : "?",
               util_csv_get(c, cols[i]));
      return -1;
    }
  return 0;
}

int calib_reader_each(const calib_reader *rc, util_csv *c, const char *const *need, int nneed,
                      const char *const *opt, int nopt, calib_record_fn each, void *ctx) {
  assert(nneed >= 0 && nopt >= 0 && nneed + nopt <= CALIB_READER_MAX_COLS);
  int cols[CALIB_READER_MAX_COLS], r = -1;
  if (util_csv_need_cols(c, need, cols, nneed, rc->err, rc->err_len) == 0) {
    for (int i = 0; i < nopt; i++)
      cols[nneed + i] = util_csv_col(c, opt[i]);
    while ((r = util_csv_next(c, rc->err, rc->err_len)) == 1)
      if (each(rc, c, cols, ctx) != 0) {
        r = -1;
        break;
      }
  }
  util_csv_close(c);
  return r < 0 ? -1 : 0;
}
