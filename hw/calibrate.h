/* Calibration: the cost model's error against every measured dataset hw/ recognises in a directory
 * laid out like ../shared/data, one row per dataset file and operator (`windtunnel calibrate`). */
#ifndef HW_CALIBRATE_H
#define HW_CALIBRATE_H

#include <stddef.h>

/* One dataset file and operator: its point count and error, or (points 0) why it was skipped. */
typedef struct hw_cal_row {
  char dataset[256]; /* path relative to the data directory */
  char op[64];
  char device[64]; /* the catalogue accelerator it was priced on; "" when none */
  size_t points;
  double median_abs_pct, p90_abs_pct; /* of |modelled / measured - 1|, percent */
  int worst_count;
  char worst[3][256]; /* "inputs measured_ns=.. modelled_ns=..", worst first */
  char note[256];     /* how it was priced (e.g. datasheet values only), or why it was skipped */
} hw_cal_row;

typedef struct hw_cal_rows {
  hw_cal_row *row;
  size_t n, cap;
} hw_cal_rows;

/* Append a copy of row; 0, or -1 when memory runs out. */
int hw_cal_rows_add(hw_cal_rows *rows, const hw_cal_row *row);
void hw_cal_rows_free(hw_cal_rows *rows);

/* Evaluate the built-in catalogue (shipped efficiencies and power models) against every dataset
 * of data_dir that hw/ recognises: AIConfigurator kernel tables, Vidur operator, network and CPU
 * profiles, LLMServingSim per-layer profiles, SplitwiseSim iteration times. Rows are appended to
 * out in a fixed order. A dataset that is absent, unreadable or on a device without datasheet
 * values gives a row with points 0 and a note. Returns 0, or -1 with a message (out of memory). */
int hw_calibrate(const char *data_dir, hw_cal_rows *out, char *err, size_t err_len);

#endif
