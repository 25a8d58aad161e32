/* Time bins: the integral of a piecewise-constant rate over fixed intervals of simulated time
 * (energy in nJ from watts, a link's busy ns from 1 per ns), in whole units: each constant stretch
 * adds to every interval it covers rate x their overlap, rounded to a unit. Integers add in any
 * order to the same bins, so the stretches of several LPs may come in any order. */
#ifndef UTIL_TIMEBINS_H
#define UTIL_TIMEBINS_H

#include <stddef.h>
#include <stdint.h>

typedef struct util_timebins {
  int64_t *bin; /* the integral over [k * interval, (k + 1) * interval), [bins] */
  size_t bins;  /* allocated, doubling as time goes on; bins past the last stretch hold 0 */
} util_timebins;

/* Adds rate (units per ns) x ns over [start_ns, end_ns) (empty or zero-rate stretches add nothing);
 * *added, when not NULL, gets the units it added. interval_ns >= 1, rate >= 0. Returns 0, or -1
 * out of memory or when a bin would pass INT64_MAX units (the bins are unchanged then). */
int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, int64_t *added);
/* The value of bin k, 0 past the allocated ones. */
static inline int64_t util_timebins_at(const util_timebins *b, uint64_t k) {
  return k < b->bins ? b->bin[k] : 0;
}
/* The sum of every bin, in bin order. */
double util_timebins_sum(const util_timebins *b);
void util_timebins_free(util_timebins *b);

#endif
