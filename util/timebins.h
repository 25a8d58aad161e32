/* Time bins: exact integration of a piecewise-constant rate over fixed intervals of simulated time
 * (energy from watts, a link's busy time from 1 ns per ns). Each constant stretch adds rate x scale
 * x its overlap with every interval it covers, so the bins sum to the integral. */
#ifndef UTIL_TIMEBINS_H
#define UTIL_TIMEBINS_H

#include <stddef.h>
#include <stdint.h>

typedef struct util_timebins {
  double *bin; /* the integral over [k * interval, (k + 1) * interval), [bins] */
  size_t bins; /* allocated, doubling as time goes on; bins past the last stretch hold 0 */
  double total;
} util_timebins;

/* Adds rate x scale x ns over [start_ns, end_ns) (empty or zero-rate stretches add nothing).
 * interval_ns >= 1. Returns 0, or -1 out of memory (the bins are unchanged). */
int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, double scale);
/* The value of bin k, 0 past the allocated ones. */
static inline double util_timebins_at(const util_timebins *b, uint64_t k) {
  return k < b->bins ? b->bin[k] : 0.0;
}
void util_timebins_free(util_timebins *b);

#endif
