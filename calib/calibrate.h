/* Calibration: the built-in cost model's error against every measured dataset calib/ recognises in
 * a directory laid out like ../shared/data, as rows (calib/rows.h), and those rows against the
 * committed figures (`windtunnel calibrate`). */
#ifndef CALIB_CALIBRATE_H
#define CALIB_CALIBRATE_H

#include <stddef.h>
#include <stdio.h>

#include "calib/rows.h"

/* Evaluate the built-in catalogue (shipped efficiencies, power models and collective parameters)
 * against every dataset of data_dir that calib/ recognises: AIConfigurator kernel tables, Vidur
 * operator, network and CPU profiles, LLMServingSim per-layer profiles, SplitwiseSim iteration
 * times, and the NCCL tables of the collective fit. Rows are appended to out in that fixed order.
 * A dataset that is absent, unreadable or on a device without datasheet values gives a row with
 * points 0 and a note. Returns 0, or -1 with a message (out of memory). */
int calib_calibrate(const char *data_dir, calib_rows *out, char *err, size_t err_len);

/* Print the files under data_dir that no row names (documentation aside), sorted: one line per
 * file, or one per folder holding more than three. 0, or -1 when memory runs out. */
int calib_print_unrecognised(const char *data_dir, const calib_rows *rows, FILE *out);

/* Compare the rows with the committed figures of the CSV `expected` (dataset, op, points,
 * median_abs_pct, p90_abs_pct), printing one "check dataset=.. op=.. ok|FAIL: .." line per
 * committed row. A row fails when its dataset and op have no row with points, its point count
 * differs, or its median or p90 exceeds the committed figure by more than tolerance_pct points.
 * Returns 0 when all hold, 1 (with a message) when some do not, -1 with a message when the file
 * cannot be read or holds no figures. */
int calib_check(const calib_rows *rows, const char *expected, double tolerance_pct, FILE *out,
                char *err, size_t err_len);

/* Write the rows with points as an expected-figures CSV at path (whole or not at all), its header
 * naming data_dir. 0, or -1 with a message. */
int calib_record(const calib_rows *rows, const char *path, const char *data_dir, char *err,
                 size_t err_len);

#endif
