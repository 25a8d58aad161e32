/* Time bins: the integral of a piecewise-constant rate over fixed intervals of simulated time
 * (energy in nJ from watts, a link's busy ns from 1 per ns), in whole units. A stretch at rate r
 * puts in interval k, over its part [a, b) of it, floor(r x (b - k w)) - floor(r x (a - k w)) units
 * (w the interval): integers add in any order to the same bins, and a stretch cut anywhere into
 * pieces adds exactly what it adds whole. So the stretches of several LPs may come in any order,
 * and bins can be filled up to any time and the intervals before it taken out (written) while a
 * run goes on, without changing a unit. */
#ifndef UTIL_TIMEBINS_H
#define UTIL_TIMEBINS_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

typedef struct util_timebins {
  int64_t *bin;   /* bin[i]: the integral over interval first + i, [bins] */
  size_t bins;    /* allocated, doubling as time goes on; bins past the last stretch hold 0 */
  uint64_t first; /* the intervals before it were dropped (util_timebins_drop) */
  int64_t total;  /* every unit added, dropped or not */
  uint64_t last;  /* the interval where the last stretch added ended: where the next most often
                     lies whole (a hint, checked before it is used; 0 at first) */
} util_timebins;

/* The units rate (per ns) x ns over [start_ns, end_ns) puts in bins of interval_ns, in *units,
 * without adding them. interval_ns >= 1, rate >= 0. Returns 0, or -1 past INT64_MAX. */
int util_timebins_measure(int64_t interval_ns, int64_t start_ns, int64_t end_ns, double rate,
                          int64_t *units);
/* Adds rate (units per ns) x ns over [start_ns, end_ns) (empty or zero-rate stretches add nothing);
 * *added, when not NULL, gets the units it added. interval_ns >= 1 (the same at every call on b),
 * rate >= 0, and start_ns not in a dropped interval. Returns 0, or -1 out of memory or when a bin
 * or the total would pass INT64_MAX (the bins are unchanged then). */
int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, int64_t *added);
/* Adds n stretches in a row: stretch j runs from the end of the one before (start_ns for the first)
 * to end_ns[j] at rate[j]; added[j] gets its units. The same bins, units and failures as n calls
 * of util_timebins_add, at a fraction of their cost when the stretches share an interval. */
int util_timebins_add_run(util_timebins *b, int64_t interval_ns, int64_t start_ns,
                          const int64_t *end_ns, const double *rate, size_t n, int64_t *added);
/* The value of interval k (not dropped), 0 past the allocated ones. */
static inline int64_t util_timebins_at(const util_timebins *b, uint64_t k) {
  assert(k >= b->first);
  return k - b->first < b->bins ? b->bin[k - b->first] : 0;
}
/* Drops the intervals before k: nothing may be added to them any more. */
void util_timebins_drop(util_timebins *b, uint64_t k);
void util_timebins_free(util_timebins *b);

#endif
