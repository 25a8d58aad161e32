/* Internal to `windtunnel sweep` (app/sweep.c runs the configurations; app/sweep_results.c keeps
 * their results): the options, the results table's layout and rows, and what both files do with
 * them. */
#ifndef APP_SWEEP_PRIVATE_H
#define APP_SWEEP_PRIVATE_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/timeline.h"
#include "serving/study.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

enum {
  SWEEP_LABEL_BYTES = 512,  /* the config column: "key=value, key=value" */
  SWEEP_ERROR_BYTES = 512,  /* the error column */
  SWEEP_STATUS_BYTES = 16,  /* "ok" or "failed" */
  SWEEP_VALUE_BYTES = 128,  /* an axis value that is not a number */
  SWEEP_NOTE_BYTES = 64,    /* a search: how the bisection ended */
  SWEEP_MAX_FIELDS = 256,   /* the results table's columns */
  SWEEP_ROW_TAG = 41,       /* a finished configuration's row, to rank 0 */
  SWEEP_SCHEMA_VERSION = 1, /* of the results file */
};

typedef struct sweep_args {
  const char *study, *output, *timelines;
  int group_ranks, threads;
  bool list, quiet, csv, no_wall;
} sweep_args;

enum { METRIC_MAX = 64 };

/* The results table, laid out from the study: 8-byte columns first, then texts. */
typedef struct sweep_layout {
  io_field fields[SWEEP_MAX_FIELDS];
  io_table_def def;
  size_t index_at, label_at, status_at, error_at, share_at, wall_at, pareto_at;
  size_t found_at, fail_at, runs_at, note_at; /* a search's: what it found, the failing bound */
  char found_name[32], fail_name[48], note_name[48];
  size_t key_at[SWEEP_MAX_FIELDS];
  size_t metric_at[METRIC_MAX];
} sweep_layout;

/* A row's 8-byte and text columns, at their offsets. */
static inline void put_f64(char *row, size_t at, double v) { memcpy(row + at, &v, sizeof v); }
static inline void put_u64(char *row, size_t at, uint64_t v) { memcpy(row + at, &v, sizeof v); }
static inline uint64_t get_u64(const char *row, size_t at) {
  uint64_t v;
  memcpy(&v, row + at, sizeof v);
  return v;
}
static inline void put_text(char *row, size_t at, size_t bytes, const char *text) {
  snprintf(row + at, bytes, "%s", text);
}

/* What a sweep shares: the study, its table, the options. */
typedef struct sweep {
  const srv_study *st;
  sweep_layout layout;
  const sweep_args *args;
  MPI_Comm world, group;
  int world_rank, group_rank;
} sweep;

/* Rank 0's rows: the kept rows of an earlier results file and those of this sweep. */
typedef struct sweep_rows {
  char *rows;
  size_t count, cap, row_bytes;
} sweep_rows;

/* Lays out the results table of study st in l. Returns 0, or -1 with err when it has too many
 * columns. */
int sweep_make_layout(const srv_study *st, sweep_layout *l, char *err, size_t err_len);
/* Appends a copy of row (r->row_bytes) to r. Returns 0, or -1 when out of memory. */
int sweep_rows_add(sweep_rows *r, const char *row);
/* Rank 0: the configurations on the front, with their objectives. */
void sweep_print_pareto(const sweep *sw, const sweep_rows *r, FILE *out);
/* Rank 0: writes every row, ordered by configuration, to a new file that then replaces the results
 * file, so that the results file is always whole. */
int sweep_write_results(const sweep *sw, sweep_rows *r, char *err, size_t err_len);
/* Rank 0: the rows of an existing results file whose configuration (by its axis values) is one of
 * this study's and that succeeded; done[c] marks them. Returns 0 (also when there is no file), or
 * -1 when the file exists but is not this study's results. */
int sweep_read_done(const sweep *sw, sweep_rows *kept, bool *done, char *err, size_t err_len);
/* One process: the results file at path, laid out as l, as CSV, its columns in the table's order
 * (without wall_s when no_wall). */
int sweep_print_csv(const sweep_layout *l, const char *path, bool no_wall, FILE *out, char *err,
                    size_t err_len);

#endif
