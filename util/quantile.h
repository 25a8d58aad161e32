/* Exact nearest-rank quantiles of integers that can be read again, in bounded memory: the first
 * pass counts (count, sum, min, max) into a log-linear histogram (1/4,096 of the value wide), which
 * gives each wanted rank a range; a later pass keeps the values of a range holding at most 2^16 of
 * them and picks the rank among them, or narrows a more crowded range 2^14-fold by counting its
 * sub-ranges. Latencies take two passes (three when over 2^16 requests share a histogram bucket).
 * The values are never all kept: a summary of millions of requests costs at most 2 MiB per stream
 * and 512 KiB per quantile however long the run. */
#ifndef UTIL_QUANTILE_H
#define UTIL_QUANTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { UTIL_QUANTILE_MAX = 8 };

typedef struct util_quantile_target {
  double q;            /* in [0, 1] */
  uint64_t rank;       /* 1-based nearest rank, set after the first pass */
  int64_t lo, hi;      /* the value is in [lo, hi] */
  uint64_t below;      /* values < lo */
  uint64_t population; /* values in [lo, hi] */
  uint64_t *sub;       /* [SUBRANGES] counts during a narrowing pass */
  int64_t *kept;       /* [population] the values in [lo, hi] during a keeping pass */
  uint64_t held;
  uint64_t width; /* of a sub-range in this pass */
} util_quantile_target;

typedef struct util_quantiles {
  uint64_t count;
  int64_t sum, min, max; /* sum: wraps past INT64_MAX, as the caller's int64 sums would */
  int pass;              /* 0: counting; 1, 2, ...: narrowing or keeping */
  uint64_t *hist;        /* the counting pass's histogram of values >= 0 */
  uint64_t negative;     /* values < 0 of the counting pass */
  size_t targets;
  util_quantile_target target[UTIL_QUANTILE_MAX];
} util_quantiles;

/* Starts the first pass for the quantiles q[0..n) (n <= UTIL_QUANTILE_MAX, each in [0, 1]). */
void util_quantiles_init(util_quantiles *u, const double *q, size_t n);
/* Adds one value to the current pass. Every pass must add the same values (in any order). */
void util_quantiles_add(util_quantiles *u, int64_t value);
/* Ends a pass: returns 1 when another pass over the same values is needed, 0 when every quantile
 * is known, -1 out of memory. */
int util_quantiles_end_pass(util_quantiles *u);
/* The nearest-rank q[i]-quantile: the smallest value with at least q x count values at or below
 * it (util_nearest_rank's definition); 0 when there were no values. After end_pass returned 0. */
int64_t util_quantiles_value(const util_quantiles *u, size_t i);
/* Frees the counts of an unfinished narrowing (after an error); a finished one holds none. */
void util_quantiles_free(util_quantiles *u);

#endif
