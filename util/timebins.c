/* Time bins: the integral of piecewise-constant rates over fixed intervals, in whole units. */
#include "util/timebins.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The units a stretch puts in bin k, given the stretch; false past INT64_MAX. */
static bool piece(int64_t interval_ns, int64_t start_ns, int64_t end_ns, double rate, int64_t k,
                  int64_t *units) {
  int64_t from = k * interval_ns > start_ns ? k * interval_ns : start_ns;
  int64_t until = (k + 1) * interval_ns < end_ns ? (k + 1) * interval_ns : end_ns;
  double amount = nearbyint(rate * (double)(until - from));
  if (!(amount < 0x1p63))
    return false;
  *units = (int64_t)amount;
  return true;
}

int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, int64_t *added) {
  if (added)
    *added = 0;
  if (end_ns <= start_ns || rate == 0)
    return 0;
  int64_t first = start_ns / interval_ns, last = (end_ns - 1) / interval_ns, sum = 0;
  for (int64_t k = first; k <= last; k++) { /* nothing changes unless everything fits */
    int64_t units;
    if (!piece(interval_ns, start_ns, end_ns, rate, k, &units) ||
        units > INT64_MAX - util_timebins_at(b, (uint64_t)k) || units > INT64_MAX - sum)
      return -1;
    sum += units;
  }
  if ((uint64_t)last >= b->bins) {
    size_t bins = b->bins ? b->bins : 16;
    while (bins <= (uint64_t)last) {
      if (bins > SIZE_MAX / 2 / sizeof *b->bin)
        return -1;
      bins *= 2;
    }
    int64_t *grown = realloc(b->bin, bins * sizeof *grown);
    if (!grown)
      return -1;
    memset(grown + b->bins, 0, (bins - b->bins) * sizeof *grown);
    b->bin = grown;
    b->bins = bins;
  }
  for (int64_t k = first; k <= last; k++) {
    int64_t units = 0;
    piece(interval_ns, start_ns, end_ns, rate, k, &units);
    b->bin[k] += units;
  }
  if (added)
    *added = sum;
  return 0;
}

double util_timebins_sum(const util_timebins *b) {
  double sum = 0;
  for (size_t k = 0; k < b->bins; k++)
    sum += (double)b->bin[k];
  return sum;
}

void util_timebins_free(util_timebins *b) {
  free(b->bin);
  *b = (util_timebins){0};
}
