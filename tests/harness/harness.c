/* The shared main of the CUnit test programs (see harness.h). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

int harness_run(const char *suite, const harness_test *tests, const char *filter, bool verbose) {
  if (CU_initialize_registry() != CUE_SUCCESS) {
    fprintf(stderr, "%s: CUnit: %s\n", suite, CU_get_error_msg());
    return 1;
  }
  CU_pSuite s = CU_add_suite(suite, NULL, NULL);
  unsigned added = 0;
  for (const harness_test *t = tests; s && t->name; t++) {
    if (filter && !strstr(t->name, filter))
      continue;
    if (!CU_add_test(s, t->name, t->run))
      break;
    added++;
  }
  if (CU_get_error() != CUE_SUCCESS) {
    fprintf(stderr, "%s: CUnit: %s\n", suite, CU_get_error_msg());
    CU_cleanup_registry();
    return 1;
  }
  if (added == 0) { /* a filter that matches nothing must not look like a pass */
    fprintf(stderr, "%s: no test matches '%s'\n", suite, filter ? filter : "");
    CU_cleanup_registry();
    return 1;
  }
  CU_basic_set_mode(verbose ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
  CU_ErrorCode rc = CU_basic_run_tests();
  unsigned failed = CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return rc != CUE_SUCCESS || failed != 0;
}
