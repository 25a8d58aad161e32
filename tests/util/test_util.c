/* util/: the CSV reader, time bins, growable arrays, order statistics and the error helper. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util/array.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/stats.h"
#include "util/timebins.h"

static char err[512];

static void test_csv_reader_handles_quotes_comments_and_bad_numbers(void) {
  const char *text = "# comment\na,b,c\n1,\"x, \"\"y\"\"\",2.5\n\n# another\n3,plain,oops\n";
  util_csv c;
  CU_ASSERT_EQUAL_FATAL(util_csv_open_text(&c, text, strlen(text), "t.csv", err, sizeof err), 0);
  CU_ASSERT_EQUAL(util_csv_col(&c, "c"), 2);
  CU_ASSERT_EQUAL(util_csv_next(&c, err, sizeof err), 1);
  CU_ASSERT_STRING_EQUAL(util_csv_get(&c, 1), "x, \"y\"");
  double v;
  CU_ASSERT_EQUAL(util_csv_double(&c, 2, 0, &v, err, sizeof err), 0);
  CU_ASSERT_DOUBLE_EQUAL(v, 2.5, 0.0);
  CU_ASSERT_EQUAL(util_csv_next(&c, err, sizeof err), 1);
  CU_ASSERT_EQUAL(util_csv_double(&c, 2, 0, &v, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.csv:6"));
  CU_ASSERT_EQUAL(util_csv_next(&c, err, sizeof err), 0);
  util_csv_close(&c);
}

/* A file with a line past UTIL_CSV_MAX_LINE_BYTES is refused at that line, without reading the
 * rest: /dev/zero used to be read whole. */
static void test_csv_file_with_a_line_past_the_limit_is_refused_at_its_line(void) {
  util_csv c;
  CU_ASSERT_EQUAL(util_csv_open_file(&c, "/dev/zero", err, sizeof err), -1);
  CU_ASSERT_STRING_EQUAL(err, "/dev/zero:1: a line longer than 1048576 bytes: not a CSV table");
  char path[] = "/tmp/test_util_csv_XXXXXX";
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  FILE *f = fdopen(fd, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("a,b\n1,2\n", f);
  for (int i = 0; i < UTIL_CSV_MAX_LINE_BYTES + 1; i++)
    fputc('3', f);
  fputs(",4\n", f);
  fclose(f);
  CU_ASSERT_EQUAL(util_csv_open_file(&c, path, err, sizeof err), -1);
  char want[600];
  snprintf(want, sizeof want, "%s:3: a line longer than 1048576 bytes: not a CSV table", path);
  CU_ASSERT_STRING_EQUAL(err, want);
  f = fopen(path, "w"); /* at the limit, it is read */
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("a,b\n1,2\n", f);
  for (int i = 0; i < UTIL_CSV_MAX_LINE_BYTES - 2; i++)
    fputc('3', f);
  fputs(",4\n", f);
  fclose(f);
  CU_ASSERT_EQUAL_FATAL(util_csv_open_file(&c, path, err, sizeof err), 0);
  CU_ASSERT_EQUAL(util_csv_next(&c, err, sizeof err), 1);
  CU_ASSERT_EQUAL(util_csv_next(&c, err, sizeof err), 1);
  CU_ASSERT_STRING_EQUAL(util_csv_get(&c, 1), "4");
  util_csv_close(&c);
  unlink(path);
}

/* A whole-number rate integrates exactly; a stretch across bins splits at their edges; bins grow
 * as time goes on and read 0 beyond what was added. */
static void test_time_bins_integrate_a_stretch_exactly_across_intervals(void) {
  util_timebins b = {0};
  int64_t added;
  CU_ASSERT_EQUAL(util_timebins_add(&b, 10, 5, 32, 2.0, &added), 0);
  CU_ASSERT_EQUAL(b.bin[0], 10); /* [5, 10) x 2 */
  CU_ASSERT_EQUAL(b.bin[1], 20);
  CU_ASSERT_EQUAL(b.bin[2], 20);
  CU_ASSERT_EQUAL(b.bin[3], 4); /* [30, 32) x 2 */
  CU_ASSERT_EQUAL(added, 54);
  CU_ASSERT_EQUAL(util_timebins_at(&b, 1000000), 0);
  CU_ASSERT_EQUAL(util_timebins_add(&b, 10, 40, 40, 5.0, &added), 0); /* empty stretch */
  CU_ASSERT_EQUAL(added, 0);
  CU_ASSERT_EQUAL(util_timebins_add(&b, 10, 40, 50, 0.0, NULL), 0); /* zero rate */
  CU_ASSERT_DOUBLE_EQUAL(util_timebins_sum(&b), 54.0, 0.0);
  CU_ASSERT_EQUAL(util_timebins_add(&b, 10, 995, 1005, 0.5, NULL), 0); /* grows past 16 bins */
  CU_ASSERT(b.bins > 100);
  CU_ASSERT_EQUAL(util_timebins_at(&b, 99), 2); /* 2.5 units, rounded to even */
  CU_ASSERT_EQUAL(util_timebins_at(&b, 100), 2);
  util_timebins_free(&b);
  CU_ASSERT_EQUAL(b.bins, 0);
}

/* Stretches added in any order give the same bins (what lets LPs account energy into one node's
 * bins in whatever order they run), and a bin that would pass INT64_MAX refuses, unchanged. */
static void test_time_bins_are_the_same_in_any_order_and_refuse_overflow(void) {
  enum { STRETCHES = 200 };
  int64_t start[STRETCHES], end[STRETCHES];
  double rate[STRETCHES];
  uint64_t x = 12345;
  for (int i = 0; i < STRETCHES; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    start[i] = (int64_t)(x >> 40) % 100000;
    end[i] = start[i] + (int64_t)(x >> 20) % 5000;
    rate[i] = 0.1 + (double)(x >> 11) * 0x1p-53 * 700.3;
  }
  util_timebins forward = {0}, backward = {0};
  for (int i = 0; i < STRETCHES; i++) {
    CU_ASSERT_EQUAL(util_timebins_add(&forward, 1000, start[i], end[i], rate[i], NULL), 0);
    int j = STRETCHES - 1 - i;
    CU_ASSERT_EQUAL(util_timebins_add(&backward, 1000, start[j], end[j], rate[j], NULL), 0);
  }
  CU_ASSERT_EQUAL_FATAL(forward.bins, backward.bins);
  CU_ASSERT_EQUAL(memcmp(forward.bin, backward.bin, forward.bins * sizeof *forward.bin), 0);
  int64_t before = util_timebins_at(&forward, 5);
  CU_ASSERT_EQUAL(util_timebins_add(&forward, 1000, 5000, 6000, 1e16, NULL), -1);
  CU_ASSERT_EQUAL(util_timebins_at(&forward, 5), before);
  util_timebins_free(&forward);
  util_timebins_free(&backward);
}

static void test_grow_doubles_capacity_and_keeps_contents(void) {
  size_t cap = 0;
  int *a = util_grow(NULL, &cap, 1, sizeof *a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(cap, 16);
  for (int i = 0; i < 16; i++)
    a[i] = i;
  int *b = util_grow(a, &cap, 17, sizeof *b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(cap, 32);
  CU_ASSERT_EQUAL(b[15], 15);
  CU_ASSERT_PTR_EQUAL(util_grow(b, &cap, 20, sizeof *b), b); /* large enough already */
  size_t before = cap;
  CU_ASSERT_PTR_NULL(util_grow(b, &cap, SIZE_MAX / 2, sizeof *b)); /* too large: untouched */
  CU_ASSERT_EQUAL(cap, before);
  free(b);
}

static void test_quantiles_interpolate_and_nearest_rank_picks_a_value(void) {
  double x[] = {4, 1, 3, 2, 5};
  util_sort_doubles(x, 5);
  CU_ASSERT_DOUBLE_EQUAL(x[0], 1.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(util_quantile(x, 5, 0.5), 3.0, 0.0);
  CU_ASSERT_DOUBLE_EQUAL(util_quantile(x, 5, 0.9), 4.6, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(util_quantile(x, 5, 1.0), 5.0, 0.0);
  int64_t ns[] = {40, 10, 30, 20};
  util_sort_int64(ns, 4);
  CU_ASSERT_EQUAL(util_nearest_rank(ns, 4, 0.5), 20);
  CU_ASSERT_EQUAL(util_nearest_rank(ns, 4, 0.75), 30);
  CU_ASSERT_EQUAL(util_nearest_rank(ns, 4, 0.76), 40);
  CU_ASSERT_EQUAL(util_nearest_rank(ns, 4, 0.0), 10);
  double e[] = {0.1, 0.3, 0.2};
  double med, p90;
  util_error_percentiles(e, 3, &med, &p90);
  CU_ASSERT_DOUBLE_EQUAL(med, 20.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(p90, 28.0, 1e-9);
  util_error_percentiles(e, 0, &med, &p90);
  CU_ASSERT(isnan(med) && isnan(p90));
}

static void test_error_helper_writes_the_message_and_fails(void) {
  CU_ASSERT_EQUAL(util_err(err, sizeof err, "bad %s at %d", "key", 3), -1);
  CU_ASSERT_STRING_EQUAL(err, "bad key at 3");
  char small[4];
  CU_ASSERT_EQUAL(util_err(small, sizeof small, "truncated"), -1);
  CU_ASSERT_STRING_EQUAL(small, "tru");
  CU_ASSERT_EQUAL(util_err(NULL, 0, "nowhere"), -1);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"csv reader handles quotes, comments and bad numbers",
       test_csv_reader_handles_quotes_comments_and_bad_numbers},
      {"csv file with a line past the limit is refused at its line",
       test_csv_file_with_a_line_past_the_limit_is_refused_at_its_line},
      {"time bins are the same in any order and refuse overflow",
       test_time_bins_are_the_same_in_any_order_and_refuse_overflow},
      {"time bins integrate a stretch exactly across intervals",
       test_time_bins_integrate_a_stretch_exactly_across_intervals},
      {"grow doubles capacity and keeps contents", test_grow_doubles_capacity_and_keeps_contents},
      {"quantiles interpolate and nearest rank picks a value",
       test_quantiles_interpolate_and_nearest_rank_picks_a_value},
      {"error helper writes the message and fails", test_error_helper_writes_the_message_and_fails},
      {NULL, NULL}};
  return harness_run("util", tests, argc > 1 ? argv[1] : NULL, false);
}
