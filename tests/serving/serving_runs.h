/* Whole runs in process for the serving tests (test_serving, test_batch): a scenario of this
 * folder run to a timeline at out_path, and a table of it read back. */
#ifndef WT_TESTS_SERVING_RUNS_H
#define WT_TESTS_SERVING_RUNS_H

#include <stdint.h>

#include "io/timeline.h"
#include "serving/serving.h"

/* The timeline every run writes (the test program names it, and removes it at the end). */
extern char out_path[256];

/* Runs scenario (relative to this folder) with the given overrides; returns its loaded scenario
 * (NULL, with the error on stderr, when it cannot load or run). */
srv_scenario *scenario_run(const char *scenario, const char *const *sets, size_t nsets);

/* Every row of table def in the last run's timeline (*n of them; free() the result); fails the
 * running test when the table cannot be read. */
void *timeline_rows(const io_table_def *def, uint64_t *n);

#endif
