/* Internal to calib/: reading the measured tables under a data directory record by record, every
 * fit and evaluation alike: a reader that fails leaves its message in its calib_reader. */
#ifndef CALIB_READER_H
#define CALIB_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "util/csv.h"

/* Where the measured tables are read from, and where a reader leaves its message. */
typedef struct calib_reader {
  const char *data_dir;
  char *err;
  size_t err_len;
} calib_reader;

/* Opens data_dir/rel; 0, or -1 with a message. */
int calib_reader_open(const calib_reader *rc, util_csv *c, const char *rel);

/* Reads the numeric columns cols[0..n) of the current record into v; -1 with a message on a
 * malformed number. */
int calib_reader_nums(const calib_reader *rc, const util_csv *c, const int *cols, double *v, int n);

/* As calib_reader_nums for the columns of a shape (sizes, counts): each must be a finite number
 * above 0; -1 with "path:line: column 'name': ..." otherwise. */
int calib_reader_dims(const calib_reader *rc, const util_csv *c, const int *cols, double *v, int n);

/* What one record adds, given the columns calib_reader_each found and the caller's context: 0 to
 * go on, -1 with a message in rc to stop. */
typedef int (*calib_record_fn)(const calib_reader *rc, const util_csv *c, const int *cols,
                               void *ctx);

enum { CALIB_READER_MAX_COLS = 32 };

/* Calls each on every record of the open table c, then closes it. cols[0..nneed) are the columns
 * named by need, all required; cols[nneed..nneed + nopt) those named by opt, -1 where absent
 * (nneed + nopt <= CALIB_READER_MAX_COLS). Returns 0, or -1 with a message (a required column
 * missing, a malformed record, each's failure). */
int calib_reader_each(const calib_reader *rc, util_csv *c, const char *const *need, int nneed,
                      const char *const *opt, int nopt, calib_record_fn each, void *ctx);

/* The files under a folder, sorted, relative to it ({0} is empty; calib_files_free releases). */
typedef struct calib_files {
  char **path;
  size_t n, cap;
} calib_files;

/* Every file under root (hidden ones and folders deeper than 16 aside), sorted; 0, or -1 when
 * memory runs out. An unreadable root gives no files. */
int calib_reader_list(const char *root, calib_files *out);

/* The columns of an LLMServingSim per-layer table: v0's layers.csv (layer_name, input,
 * latency(ns)) or v1's dense.csv / per_sequence.csv (layer, tokens or sequences, time_us); a column
 * that is missing is -1. */
typedef struct calib_lss_layer_cols {
  bool v0;
  int layer, n, t;
  double unit_ns; /* ns per unit of the time column */
} calib_lss_layer_cols;
calib_lss_layer_cols calib_lss_layer_columns(const util_csv *c);
void calib_files_free(calib_files *files);

#endif
