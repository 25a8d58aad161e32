/* What the request-source unit tests share (test_trace.c, test_workload.c): fixture files under
 * the build tree, a source drained with its invariants checked, and the runner of a table of named
 * tests (all of them, or those whose names contain argv[1]). Defined in sources.c. */
#ifndef TESTS_JOBS_SOURCES_H
#define TESTS_JOBS_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

#include "jobs/trace.h"
#include "jobs/workload.h"

#define CONV_SLICE WT_SOURCE_DIR "/examples/traces/AzureLLMInferenceTrace_conv.csv"
#define CODE_SLICE WT_SOURCE_DIR "/examples/traces/AzureLLMInferenceTrace_code.csv"
enum { PATH_BYTES = 512, ERR_BYTES = 512 };

/* Writes text to a fresh file under the build tree; its name goes to path. */
void fixture(char *path, const char *text);

typedef struct summary {
  int64_t rows, first_ns, last_ns, input_tokens, output_tokens, hash_ids, bad_rows;
  int rc; /* of the last job_source_next */
  char err[ERR_BYTES];
} summary;

/* Drains a source, checking ids count up and arrivals never decrease. Closes it. */
summary drain(job_source *src);
/* Opens path as a trace and drains it; rc and err say why when it does not open. */
summary read_trace(const char *path, job_trace_format format, const job_source_opts *opts);

typedef struct named_test {
  const char *name;
  CU_TestFunc run;
} named_test;
#define TEST(f)                                                                                    \
  { #f, f }

/* Runs the tests of the table as one suite; 0 when every one passes. */
int run_named_tests(const char *suite, const named_test *tests, size_t n, int argc, char **argv);

#endif
