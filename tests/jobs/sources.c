/* What the request-source unit tests share (tests/jobs/sources.h): fixtures, draining a source
 * with its invariants checked, and the runner of a table of named tests. */
#define _POSIX_C_SOURCE 200809L
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh file under the build tree; its name goes to path. */
void fixture(char *path, const char *text) {
  snprintf(path, PATH_BYTES, "%s/fixture_XXXXXX", WT_TEST_TMP_DIR);
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  FILE *f = fdopen(fd, "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs(text, f);
  fclose(f);
}

/* Drains a source, checking ids count up and arrivals never decrease. Closes it. */
summary drain(job_source *src) {
  summary s = {0};
  job_request r;
  while ((s.rc = job_source_next(src, &r, s.err, sizeof s.err)) == 1) {
    CU_ASSERT_EQUAL(r.id, s.rows);
    if (s.rows == 0)
      s.first_ns = r.arrival_ns;
    CU_ASSERT(r.arrival_ns >= s.last_ns);
    CU_ASSERT(r.input_tokens >= 1 && r.output_tokens >= 1);
    s.last_ns = r.arrival_ns;
    s.input_tokens += r.input_tokens;
    s.output_tokens += r.output_tokens;
    s.hash_ids += r.prefix_hash_count;
    s.rows++;
  }
  s.bad_rows = job_source_bad_rows(src);
  job_source_close(src);
  return s;
}

summary read_trace(const char *path, job_trace_format format, const job_source_opts *opts) {
  job_source *src;
  summary s = {0};
  s.rc = job_source_open_trace(&src, path, format, opts, s.err, sizeof s.err);
  if (s.rc != 0) {
    CU_ASSERT_PTR_NULL(src);
    return s;
  }
  return drain(src);
}

int run_named_tests(const char *suite_name, const named_test *tests, size_t n, int argc,
                    char **argv) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
  int added = 0;
  for (size_t i = 0; suite && i < n; i++)
    if (argc < 2 || strstr(tests[i].name, argv[1]))
      added += CU_add_test(suite, tests[i].name, tests[i].run) != NULL;
  if (added == 0) {
    fprintf(stderr, "%s: no test matches\n", suite_name);
    CU_cleanup_registry();
    return 1;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_ErrorCode rc = CU_basic_run_tests();
  unsigned failed = CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return rc != CUE_SUCCESS || failed != 0;
}
