/* Order statistics shared by the fits, the calibration and the report. */
#ifndef UTIL_STATS_H
#define UTIL_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts x[0..n) ascending in place. */
void util_sort_doubles(double *x, size_t n);
void util_sort_int64(int64_t *x, size_t n);

/* The q-quantile (0 <= q <= 1) of sorted[0..n), n > 0, linearly interpolated between order
 * statistics. */
double util_quantile(const double *sorted, size_t n, double q);

/* The q-quantile of sorted[0..n), n > 0, by nearest rank: the smallest value with at least q x n
 * values at or below it (exact: a value of the data). */
int64_t util_nearest_rank(const int64_t *sorted, size_t n, double q);

/* Sorts abs_err[0..n) (|modelled / measured - 1|) in place and gives its median and p90,
 * interpolated, in percent; NAN when n is 0. */
void util_error_percentiles(double *abs_err, size_t n, double *median_pct, double *p90_pct);

#endif
