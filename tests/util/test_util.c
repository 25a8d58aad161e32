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
#include "util/quantile.h"
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
  CU_ASSERT_EQUAL(b.total, 54);
  CU_ASSERT_EQUAL(util_timebins_add(&b, 10, 995, 1005, 0.5, NULL), 0); /* grows past 16 bins */
  CU_ASSERT(b.bins > 100);
  /* Floors from each interval's start: 5 - 2 units in [995, 1000), 2 - 0 in [1000, 1005): the
   * stretch's 0.5 x 10 whole. */
  CU_ASSERT_EQUAL(util_timebins_at(&b, 99), 3);
  CU_ASSERT_EQUAL(util_timebins_at(&b, 100), 2);
  CU_ASSERT_EQUAL(b.total, 59);
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

/* A stretch cut into pieces anywhere adds exactly what it adds whole, bin by bin; intervals can be
 * dropped (written out) as time goes on, and the bins after them are kept. */
static void test_time_bins_are_the_same_for_a_stretch_cut_anywhere_and_after_drops(void) {
  util_timebins whole = {0}, cut = {0};
  uint64_t x = 777;
  int64_t at = 0;
  for (int i = 0; i < 300; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    int64_t length = 1 + (int64_t)(x >> 33) % 4000;
    double rate = 0.1 + (double)(x >> 11) * 0x1p-53 * 700.3;
    int64_t added_whole, added_cut = 0, piece_added;
    CU_ASSERT_EQUAL(util_timebins_add(&whole, 1000, at, at + length, rate, &added_whole), 0);
    for (int64_t from = at; from < at + length;) { /* cut at pseudo-random points */
      x = x * 6364136223846793005u + 1442695040888963407u;
      int64_t until = from + 1 + (int64_t)(x >> 40) % 700;
      until = until < at + length ? until : at + length;
      CU_ASSERT_EQUAL(util_timebins_add(&cut, 1000, from, until, rate, &piece_added), 0);
      added_cut += piece_added;
      from = until;
    }
    int64_t measured;
    CU_ASSERT_EQUAL(util_timebins_measure(1000, at, at + length, rate, &measured), 0);
    CU_ASSERT_EQUAL(added_cut, added_whole);
    CU_ASSERT_EQUAL(measured, added_whole);
    at += length;
    if (i % 50 == 49) { /* write out what no stretch can reach any more */
      for (uint64_t k = cut.first; k < (uint64_t)at / 1000; k++)
        CU_ASSERT_EQUAL(util_timebins_at(&cut, k), util_timebins_at(&whole, k));
      util_timebins_drop(&cut, (uint64_t)at / 1000);
    }
  }
  CU_ASSERT(cut.first > 0);
  for (uint64_t k = cut.first; k <= (uint64_t)at / 1000; k++)
    CU_ASSERT_EQUAL(util_timebins_at(&cut, k), util_timebins_at(&whole, k));
  CU_ASSERT_EQUAL(cut.total, whole.total);
  CU_ASSERT(cut.bins < whole.bins);
  util_timebins_free(&whole);
  util_timebins_free(&cut);
}

/* Runs of stretches in a row (a leap's iterations) add what the same stretches add one by one: the
 * same units each and the same bins, whether a run stays in one interval or crosses some, with zero
 * rates and empty stretches among them, after drops; and a run that would overflow fails. */
static void test_time_bins_add_a_run_as_its_stretches_one_by_one(void) {
  util_timebins run = {0}, single = {0};
  uint64_t x = 4242;
  int64_t at = 0, ends[64], by_run[64], by_one[64];
  double rates[64];
  int in_one_interval = 0;
  for (int i = 0; i < 2000; i++) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    size_t n = 1 + (x >> 40) % 64;
    int64_t start = at, step = i % 3 ? 1 + (int64_t)(x >> 20) % 40 : 1 + (int64_t)(x >> 20) % 900;
    for (size_t j = 0; j < n; j++) {
      x = x * 6364136223846793005u + 1442695040888963407u;
      at += (x >> 60) == 0 ? 0 : 1 + (int64_t)(x >> 33) % step; /* some empty */
      ends[j] = at;
      rates[j] = (x >> 59) == 1 ? 0.0 : (double)(x >> 11) * 0x1p-53 * 1400.7;
    }
    in_one_interval += start / 1000 == (at - 1) / 1000;
    CU_ASSERT_EQUAL(util_timebins_add_run(&run, 1000, start, ends, rates, n, by_run), 0);
    for (size_t j = 0; j < n; j++)
      CU_ASSERT_EQUAL(
          util_timebins_add(&single, 1000, j ? ends[j - 1] : start, ends[j], rates[j], &by_one[j]),
          0);
    for (size_t j = 0; j < n; j++)
      CU_ASSERT_EQUAL(by_run[j], by_one[j]);
    if (i % 100 == 99) {
      for (uint64_t k = run.first; k <= (uint64_t)at / 1000; k++)
        CU_ASSERT_EQUAL(util_timebins_at(&run, k), util_timebins_at(&single, k));
      util_timebins_drop(&run, (uint64_t)at / 1000);
      util_timebins_drop(&single, (uint64_t)at / 1000);
    }
    at += (int64_t)(x >> 50) % 3000; /* a gap */
  }
  CU_ASSERT(in_one_interval > 500 && in_one_interval < 1900); /* both ways taken */
  CU_ASSERT_EQUAL(run.total, single.total);
  int64_t end = at + 10, added;
  CU_ASSERT_EQUAL(util_timebins_add_run(&run, 1000, at, &end, &(double){1e18}, 1, &added), -1);
  util_timebins_free(&run);
  util_timebins_free(&single);
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

/* Streams of several shapes (a narrow spike, latencies over hours, the whole int64 range, ties, one
 * value, none, a spike too crowded to keep in one pass): every quantile equals sorting and picking
 * by nearest rank, in a few passes. */
static void test_streamed_quantiles_equal_nearest_rank_of_the_sorted_values(void) {
  enum { N = 20000, CROWDED = 300000 };
  static const double q[] = {0, 0.5, 0.9, 0.95, 0.99, 1};
  enum { Q = sizeof q / sizeof q[0] };
  int64_t *x = malloc(CROWDED * sizeof *x), *sorted = malloc(CROWDED * sizeof *sorted);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int shape = 0; shape < 7; shape++) {
    size_t n = shape == 4 ? 1 : shape == 5 ? 0 : shape == 6 ? CROWDED : N;
    for (size_t i = 0; i < n; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t r = state ^ (state >> 29);
      x[i] = shape == 0   ? 7900000 + (int64_t)(r % 97)            /* TPOTs within 97 ns */
             : shape == 1 ? (int64_t)(r % 17280000000000ull)       /* up to 4.8 hours in ns */
             : shape == 2 ? (int64_t)r                             /* any int64 */
             : shape == 3 ? (int64_t)(r % 3) * (INT64_MAX / 2) - 5 /* three values, ties */
             : shape == 6 ? ((int64_t)1 << 40) + (int64_t)(r % (1u << 26)) /* a bucket */
                          : -42;
    }
    util_quantiles u;
    util_quantiles_init(&u, q, Q);
    int passes = 0, more;
    do {
      for (size_t i = 0; i < n; i++)
        util_quantiles_add(&u, x[i]);
      passes++;
    } while ((more = util_quantiles_end_pass(&u)) == 1);
    CU_ASSERT_EQUAL(more, 0);
    /* A counting pass into the histogram, then one keeping the values of each rank's bucket; the
     * crowded one (all 300,000 values in one bucket 2^28 wide) needs a narrowing pass before. */
    static const int exact_passes[] = {2, 2, 2, 2, 1, 1, 3};
    CU_ASSERT_EQUAL(passes, exact_passes[shape]);
    CU_ASSERT_EQUAL(u.count, n);
    memcpy(sorted, x, n * sizeof *x);
    util_sort_int64(sorted, n);
    for (size_t k = 0; k < Q; k++)
      CU_ASSERT_EQUAL(util_quantiles_value(&u, k), n ? util_nearest_rank(sorted, n, q[k]) : 0);
    if (n) {
      CU_ASSERT_EQUAL(u.min, sorted[0]);
      CU_ASSERT_EQUAL(u.max, sorted[n - 1]);
    }
    util_quantiles_free(&u);
  }
  free(x);
  free(sorted);
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
      {"time bins are the same for a stretch cut anywhere and after drops",
       test_time_bins_are_the_same_for_a_stretch_cut_anywhere_and_after_drops},
      {"time bins add a run as its stretches one by one",
       test_time_bins_add_a_run_as_its_stretches_one_by_one},
      {"grow doubles capacity and keeps contents", test_grow_doubles_capacity_and_keeps_contents},
      {"quantiles interpolate and nearest rank picks a value",
       test_quantiles_interpolate_and_nearest_rank_picks_a_value},
      {"streamed quantiles equal nearest rank of the sorted values",
       test_streamed_quantiles_equal_nearest_rank_of_the_sorted_values},
      {"error helper writes the message and fails", test_error_helper_writes_the_message_and_fails},
      {NULL, NULL}};
  return harness_run("util", tests, argc > 1 ? argv[1] : NULL, false);
}
