/* Whole runs in process for the serving tests (serving_runs.h). */
#include "serving_runs.h"

#include <CUnit/Basic.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

char out_path[256];

srv_scenario *scenario_run(const char *scenario, const char *const *sets, size_t nsets) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/%s", TEST_DIR, scenario);
  srv_scenario *s;
  if (srv_scenario_load(path, sets, nsets, &s, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return NULL;
  }
  srv_options opt = {.output_path = out_path, .version = "test"};
  srv_result res;
  if (srv_run(s, &opt, MPI_COMM_WORLD, &res, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    srv_scenario_free(s);
    return NULL;
  }
  return s;
}

void *timeline_rows(const io_table_def *def, uint64_t *n) {
  char err[512];
  io_timeline_reader *r = io_timeline_reader_open(out_path, false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_EQUAL_FATAL(io_timeline_reader_rows(r, def->name, n, err, sizeof err), 0);
  void *rows = calloc(*n + 1, def->row_bytes);
  CU_ASSERT_EQUAL_FATAL(io_timeline_reader_read(r, def, 0, *n, rows, err, sizeof err), 0);
  io_timeline_reader_close(r);
  return rows;
}
