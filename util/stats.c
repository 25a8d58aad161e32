/* Order statistics: sorting, interpolated and nearest-rank quantiles. */
#include "util/stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmp_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

void util_sort_doubles(double *x, size_t n) { qsort(x, n, sizeof *x, cmp_double); }
void util_sort_int64(int64_t *x, size_t n) { qsort(x, n, sizeof *x, cmp_int64); }

double util_quantile(const double *sorted, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  double frac = pos - (double)i;
  return i + 1 < n ? sorted[i] * (1.0 - frac) + sorted[i + 1] * frac : sorted[i];
}

int64_t util_nearest_rank(const int64_t *sorted, size_t n, double q) {
  size_t rank = (size_t)ceil(q * (double)n);
  return sorted[rank ? rank - 1 : 0];
}

void util_error_percentiles(double *abs_err, size_t n, double *median_pct, double *p90_pct) {
  if (n == 0) {
    *median_pct = *p90_pct = NAN;
    return;
  }
  util_sort_doubles(abs_err, n);
  *median_pct = 100.0 * util_quantile(abs_err, n, 0.5);
  *p90_pct = 100.0 * util_quantile(abs_err, n, 0.9);
}
