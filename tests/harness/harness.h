/* The shared main of the CUnit test programs: one suite per program, run with CUnit's basic runner,
 * optionally narrowed to the tests whose names contain a filter string. */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>

#include <CUnit/CUnit.h>

typedef struct harness_test {
  const char *name; /* says the behaviour the test proves */
  CU_TestFunc run;
} harness_test;

/* Runs `tests` (terminated by a {NULL, NULL} entry) as the suite `suite`, keeping those whose name
 * contains `filter` (all when NULL). Verbose prints every test; otherwise only failures and the
 * summary. Returns 0 when every test passed, 1 otherwise (also when CUnit itself fails). */
int harness_run(const char *suite, const harness_test *tests, const char *filter, bool verbose);

#endif
