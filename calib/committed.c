/* The committed calibration figures: an evaluation's rows checked against them (--check) or
 * recorded as them (--record). */
#include <math.h>
#include <string.h>

#include "calib/calibrate.h"
#include "util/csv.h"

int calib_record(const calib_rows *rows, const char *path, const char *data_dir, char *err,
                 size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Committed calibration figures: `windtunnel calibrate --data %s --record <this "
          "file>`.\n# --check fails when a median or p90 exceeds its figure by more than the "
          "tolerance, a point\n# count changes, or a row's dataset disappears. Percent; "
          "|modelled/measured - 1|.\n",
          data_dir);
  fprintf(f, "dataset,op,points,median_abs_pct,p90_abs_pct\n");
  for (size_t i = 0; i < rows->n; i++)
    if (rows->row[i].points)
      fprintf(f, "%s,%s,%zu,%.1f,%.1f\n", rows->row[i].dataset, rows->row[i].op,
              rows->row[i].points, rows->row[i].median_abs_pct, rows->row[i].p90_abs_pct);
  return util_csv_commit(f, tmp, path, err, err_len);
}

int calib_check(const calib_rows *rows, const char *expected, double tolerance_pct, FILE *out,
                char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_file(&c, expected, err, err_len) != 0)
    return -1;
  int cd = util_csv_col(&c, "dataset"), co = util_csv_col(&c, "op"),
      cn = util_csv_col(&c, "points");
  int cm = util_csv_col(&c, "median_abs_pct"), cp = util_csv_col(&c, "p90_abs_pct");
  if (cd < 0 || co < 0 || cn < 0 || cm < 0 || cp < 0) {
    snprintf(err, err_len, "%s: expected columns dataset, op, points, median_abs_pct, p90_abs_pct",
             expected);
    util_csv_close(&c);
    return -1;
  }
  int failed = 0, more;
  size_t checked = 0;
  while ((more = util_csv_next(&c, err, err_len)) == 1) {
    double n, med, p90;
    if (util_csv_double(&c, cn, NAN, &n, err, err_len) != 0 ||
        util_csv_double(&c, cm, NAN, &med, err, err_len) != 0 ||
        util_csv_double(&c, cp, NAN, &p90, err, err_len) != 0) {
      more = -1;
      break;
    }
    const char *dataset = util_csv_get(&c, cd), *op = util_csv_get(&c, co);
    const calib_row *got = NULL;
    for (size_t i = 0; i < rows->n && !got; i++)
      if (rows->row[i].points && !strcmp(rows->row[i].dataset, dataset) &&
          !strcmp(rows->row[i].op, op))
        got = &rows->row[i];
    checked++;
    if (!got) {
      fprintf(out, "check dataset=%s op=%s FAIL: missing (committed %.0f points)\n", dataset, op,
              n);
      failed = 1;
    } else if ((double)got->points != n || got->median_abs_pct > med + tolerance_pct ||
               got->p90_abs_pct > p90 + tolerance_pct) {
      fprintf(out,
              "check dataset=%s op=%s FAIL: points %zu (committed %.0f), median %.1f%% "
              "(committed %.1f%%), p90 %.1f%% (committed %.1f%%), tolerance %.1f points\n",
              dataset, op, got->points, n, got->median_abs_pct, med, got->p90_abs_pct, p90,
              tolerance_pct);
      failed = 1;
    } else {
      fprintf(out, "check dataset=%s op=%s ok: median %.1f%% <= %.1f%%, p90 %.1f%% <= %.1f%%\n",
              dataset, op, got->median_abs_pct, med + tolerance_pct, got->p90_abs_pct,
              p90 + tolerance_pct);
    }
  }
  util_csv_close(&c);
  if (more < 0)
    return -1;
  if (checked == 0) {
    snprintf(err, err_len, "%s: no committed figures", expected);
    return -1;
  }
  if (failed)
    snprintf(err, err_len, "calibration regressed against %s (see the FAIL lines)", expected);
  return failed;
}
