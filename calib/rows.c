/* Calibration rows (calib/rows.h): the growable list, skipped rows, and the Markdown table. */
#include "calib/rows.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"

int calib_rows_add(calib_rows *rows, const calib_row *row) {
  calib_row *grown = util_grow(rows->row, &rows->cap, rows->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  rows->row = grown;
  rows->row[rows->n++] = *row;
  return 0;
}

int calib_rows_skip(calib_rows *rows, const char *dataset, const char *op, const char *why) {
  calib_row row;
  memset(&row, 0, sizeof row);
  snprintf(row.dataset, sizeof row.dataset, "%s", dataset);
  snprintf(row.op, sizeof row.op, "%s", op);
  snprintf(row.note, sizeof row.note, "skipped: %s", why);
  return calib_rows_add(rows, &row);
}

void calib_rows_free(calib_rows *rows) {
  free(rows->row);
  rows->row = NULL, rows->n = rows->cap = 0;
}

void calib_rows_markdown(const calib_rows *rows, FILE *out) {
  fputs("| dataset | op | points | median % | p90 % |\n|---|---|---|---|---|\n", out);
  for (size_t i = 0; i < rows->n; i++) {
    const calib_row *r = &rows->row[i];
    if (r->points)
      fprintf(out, "| %s | %s | %zu | %.1f | %.1f |\n", r->dataset, r->op, r->points,
              r->median_abs_pct, r->p90_abs_pct);
  }
}
