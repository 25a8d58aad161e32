/* What the readers of `windtunnel validate` share (calib/validate_read.c): dataset names onto the
 * catalogue, the request cap, CSV cells by column name, and one length for every request. The
 * readers are in validate_read.c (per-request traces and bench_serving results) and
 * validate_tables.c (published tables of whole runs). */
#ifndef CALIB_VALIDATE_READ_H
#define CALIB_VALIDATE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "calib/validate_case.h"
#include "util/csv.h"

/* The setup's model and accelerator (as the dataset names them) onto the catalogue, or a skip
 * naming what the catalogue lacks. */
void val_set_hardware(val_case *c, const char *model, const char *accel);

/* Keeps the first max_requests requests of the case, saying so. */
void val_cap_requests(val_case *c, const val_filter *f);

/* The current row's cell of `column` as a number (0, or -1 with why in err), or as text ("" when
 * the table has no such column). */
int val_csv_number(util_csv *csv, const char *column, double *out, char *err, size_t err_len);
const char *val_csv_text(util_csv *csv, const char *column);

/* The same lengths for every request: a val_case_poisson length source over a val_fixed_lengths. */
typedef struct val_fixed_lengths {
  int32_t in, out;
} val_fixed_lengths;
void val_fixed(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out);

#endif
