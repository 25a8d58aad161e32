/* util/json (escaping, non-finite numbers) and util/datadir (the environment variable wins; a
 * missing folder is refused with a message naming the variable). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/datadir.h"
#include "util/json.h"

/* What f printed, NUL-terminated, in buf. */
static const char *written(FILE *f, char *buf, size_t len) {
  fflush(f);
  rewind(f);
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_json_strings_escape_quotes_backslashes_and_controls(void) {
  char buf[128];
  FILE *f = tmpfile();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  util_json_string(f, "a\"b\\c\nd\te\x01");
  CU_ASSERT_STRING_EQUAL(written(f, buf, sizeof buf), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

static void test_json_numbers_round_trip_and_non_finite_become_null(void) {
  char buf[128];
  FILE *f = tmpfile();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  util_json_number(f, 0.1);
  fputc(' ', f);
  util_json_number(f, NAN);
  fputc(' ', f);
  util_json_number(f, -INFINITY);
  CU_ASSERT_STRING_EQUAL(written(f, buf, sizeof buf), "0.10000000000000001 null null");
}

static void test_data_dir_comes_from_the_environment_first(void) {
  char dir[256], err[512];
  CU_ASSERT_EQUAL_FATAL(setenv(UTIL_DATA_ENV, "/some/where", 1), 0);
  CU_ASSERT_EQUAL(util_data_dir("examples/default.yaml", dir, sizeof dir, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(dir, "/some/where");
  CU_ASSERT_EQUAL(util_data_dir("x", dir, 5, err, sizeof err), -1); /* too long for dir */
}

static void test_data_dir_not_next_to_the_program_names_the_variable(void) {
  char dir[256], err[1024];
  CU_ASSERT_EQUAL_FATAL(unsetenv(UTIL_DATA_ENV), 0);
  /* This test program lives in build/tests/util/: no share/windtunnel next to it. */
  CU_ASSERT_EQUAL(util_data_dir("examples/default.yaml", dir, sizeof dir, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "set WINDTUNNEL_DATA"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "../share/windtunnel/examples/default.yaml"));
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"json strings escape quotes, backslashes and controls",
       test_json_strings_escape_quotes_backslashes_and_controls},
      {"json numbers round-trip and non-finite become null",
       test_json_numbers_round_trip_and_non_finite_become_null},
      {"data dir comes from the environment first", test_data_dir_comes_from_the_environment_first},
      {"data dir not next to the program names the variable",
       test_data_dir_not_next_to_the_program_names_the_variable},
      {NULL, NULL}};
  return harness_run("json_datadir", tests, argc > 1 ? argv[1] : NULL, false);
}
