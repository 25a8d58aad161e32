/* Validation (`windtunnel validate`): measured serving runs replayed through the serving
 * simulation, their figures predicted and compared, summarised per dataset and checked against
 * committed bounds. */
#ifndef CALIB_VALIDATE_H
#define CALIB_VALIDATE_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct calib_validate_opts {
  const char *data_dir;     /* laid out like ../shared/data/e2e */
  const char *dataset;      /* only this dataset folder; NULL for all */
  const char *case_pattern; /* fnmatch pattern on case names; NULL for all */
  const char *scenario;     /* with bench_file: the setup of the user's run */
  const char *bench_file;   /* a bench_serving result (vLLM JSON, SGLang JSON lines) */
  size_t max_requests;      /* replay at most this many requests per case; 0: all */
  const char *tmp_dir;      /* scratch folder for each replay's scenario, trace and timeline */
} calib_validate_opts;

/* One compared figure: dataset, case, metric, measured and predicted, err_pct =
 * (predicted / measured - 1) x 100. */
typedef struct calib_validation {
  char dataset[64], case_name[192], metric[32];
  double measured, predicted, err_pct;
} calib_validation;

/* A case that was not replayed, and why. */
typedef struct calib_skipped {
  char dataset[64], case_name[192], reason[256];
} calib_skipped;

typedef struct calib_validations {
  calib_validation *v;
  size_t n, cap;
  calib_skipped *skipped;
  size_t n_skipped, cap_skipped;
  char (*datasets)[64]; /* every dataset read, in order */
  size_t n_datasets, cap_datasets;
  const char *case_pattern; /* the run's --case (borrowed): --check looks only at those cases */
} calib_validations;

/* Collective over comm (every rank reads the same data): reads every dataset of opts->data_dir
 * that validate recognises (or opts->bench_file with opts->scenario), replays each case and, on
 * rank 0, appends the comparisons to out and prints them to log as they come (NULL: silent):
 * "validation dataset=.. case=.. metric=.. measured=.. predicted=.. err_pct=..", and
 * "validation dataset=.. case=.. skipped: <why>". Returns 0, or -1 with a message on every rank. */
int calib_validate(const calib_validate_opts *opts, MPI_Comm comm, calib_validations *out,
                   FILE *log, char *err, size_t err_len);
void calib_validations_free(calib_validations *v);

/* Per dataset and metric: cases, median and p90 of |err_pct|; one "summary dataset=.. metric=..
 * cases=.. median_abs_err_pct=.. p90_abs_err_pct=.." line each, and the skipped count. */
void calib_validate_summary(const calib_validations *v, FILE *out);
/* The comparisons as one JSON object {"validations": [...], "skipped": [...]}. */
void calib_validate_json(const calib_validations *v, FILE *out);

/* Write the comparisons as committed figures (dataset, case, metric, measured, predicted,
 * err_pct), whole or not at all, the header naming the data and the cap on requests per run (0:
 * none) they came from. 0, or -1 with a message. */
int calib_validate_record(const calib_validations *v, const char *path, const char *data_dir,
                          size_t max_requests, char *err, size_t err_len);
/* Compare with the committed figures at path: a committed row fails when its case and metric
 * are missing, its measured value changed, or its |err_pct| grew beyond the committed one by more
 * than tolerance_pct points; one "check ..." line per row. Returns 0 when all hold, 1 when some do
 * not (message in err), -1 with a message when the file cannot be read or holds nothing. */
int calib_validate_check(const calib_validations *v, const char *path, double tolerance_pct,
                         FILE *out, char *err, size_t err_len);

#endif
