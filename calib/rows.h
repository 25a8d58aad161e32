/* Calibration rows: one per dataset file and operator, with its point count and error against the
 * built-in cost model, or why it was skipped; what every evaluation in calib/ appends to. */
#ifndef CALIB_ROWS_H
#define CALIB_ROWS_H

#include <stddef.h>
#include <stdio.h>

/* One dataset file and operator: its point count and error, or (points 0) why it was skipped. */
typedef struct calib_row {
  char dataset[256]; /* path relative to the data directory */
  char op[64];
  char device[64]; /* the catalogue accelerator it was priced on; "" when none */
  size_t points;
  double median_abs_pct, p90_abs_pct; /* of |modelled / measured - 1|, percent */
  int worst_count;
  char worst[3][256]; /* "inputs measured_ns=.. modelled_ns=..", worst first */
  char note[256];     /* how it was priced (e.g. datasheet values only), or why it was skipped */
} calib_row;

/* Rows in the order they were appended; {0} is empty, calib_rows_free releases. */
typedef struct calib_rows {
  calib_row *row;
  size_t n, cap;
} calib_rows;

/* Append a copy of row; 0, or -1 when memory runs out. */
int calib_rows_add(calib_rows *rows, const calib_row *row);
/* Append a row of no points for dataset and op whose note is "skipped: <why>"; 0, or -1 when
 * memory runs out. */
int calib_rows_skip(calib_rows *rows, const char *dataset, const char *op, const char *why);
void calib_rows_free(calib_rows *rows);

/* The rows with points as a Markdown table (dataset, op, points, median %, p90 %): the README's. */
void calib_rows_markdown(const calib_rows *rows, FILE *out);

#endif
