/* Time bins: the integral of piecewise-constant rates over fixed intervals, in whole units. */
#include "util/timebins.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* floor(rate x ns) for 0 <= ns <= an interval; false past INT64_MAX. rate >= 0: the conversion's
 * truncation is the floor (and costs no call). */
static bool units_to(double rate, int64_t ns, int64_t *units) {
  assert(rate >= 0 && ns >= 0);
  double amount = rate * (double)ns;
  if (!(amount < 0x1p63))
    return false;
  *units = (int64_t)amount;
  return true;
}

/* The units a stretch puts in interval k, given the stretch; false past INT64_MAX. Measured from
 * the interval's start, so that the pieces of a cut stretch telescope to the whole. */
static bool piece(int64_t interval_ns, int64_t start_ns, int64_t end_ns, double rate, int64_t k,
                  int64_t *units) {
  int64_t origin = k * interval_ns;
  int64_t from = origin > start_ns ? origin : start_ns;
  int64_t until = origin + interval_ns < end_ns ? origin + interval_ns : end_ns;
  int64_t to_from, to_until;
  if (!units_to(rate, from - origin, &to_from) || !units_to(rate, until - origin, &to_until))
    return false;
  *units = to_until - to_from;
  return true;
}

int util_timebins_measure(int64_t interval_ns, int64_t start_ns, int64_t end_ns, double rate,
                          int64_t *units) {
  *units = 0;
  if (end_ns <= start_ns || rate == 0)
    return 0;
  int64_t sum = 0;
  for (int64_t k = start_ns / interval_ns, last = (end_ns - 1) / interval_ns; k <= last; k++) {
    int64_t u;
    if (!piece(interval_ns, start_ns, end_ns, rate, k, &u) || u > INT64_MAX - sum)
      return -1;
    sum += u;
  }
  *units = sum;
  return 0;
}

/* Room for interval last: the dropped bins' space reused first, then doubling. */
static int reserve(util_timebins *b, uint64_t last) {
  uint64_t need = last - b->first + 1;
  if (need <= b->bins)
    return 0;
  size_t bins = b->bins ? b->bins : 16;
  while (bins < need) {
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
  return 0;
}

int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, int64_t *added) {
  if (added)
    *added = 0;
  if (end_ns <= start_ns || rate == 0)
    return 0;
  int64_t first, last, sum = 0, hint = (int64_t)b->last * interval_ns;
  if (start_ns >= hint && end_ns - hint <= interval_ns) /* no division then */
    first = last = (int64_t)b->last;
  else
    first = start_ns / interval_ns, last = (end_ns - 1) / interval_ns;
  assert((uint64_t)first >= b->first);
  if ((uint64_t)first < b->first) /* into a dropped interval: a caller's mistake */
    return -1;
  if (first == last) { /* most stretches (an iteration, a short idle gap) stay in one interval */
    int64_t units;
    if (!piece(interval_ns, start_ns, end_ns, rate, first, &units) ||
        units > INT64_MAX - util_timebins_at(b, (uint64_t)first) || units > INT64_MAX - b->total ||
        reserve(b, (uint64_t)last) != 0)
      return -1;
    b->bin[(uint64_t)first - b->first] += units;
    b->total += units;
    b->last = (uint64_t)last;
    if (added)
      *added = units;
    return 0;
  }
  for (int64_t k = first; k <= last; k++) { /* nothing changes unless everything fits */
    int64_t units;
    if (!piece(interval_ns, start_ns, end_ns, rate, k, &units) ||
        units > INT64_MAX - util_timebins_at(b, (uint64_t)k) || units > INT64_MAX - sum)
      return -1;
    sum += units;
  }
  if (sum > INT64_MAX - b->total || reserve(b, (uint64_t)last) != 0)
    return -1;
  for (int64_t k = first; k <= last; k++) {
    int64_t units = 0;
    piece(interval_ns, start_ns, end_ns, rate, k, &units);
    b->bin[(uint64_t)k - b->first] += units;
  }
  b->total += sum;
  b->last = (uint64_t)last;
  if (added)
    *added = sum;
  return 0;
}

int util_timebins_add_run(util_timebins *b, int64_t interval_ns, int64_t start_ns,
                          const int64_t *end_ns, const double *rate, size_t n, int64_t *added) {
  int64_t from = start_ns;
  for (size_t j = 0; j < n;) {
    /* The stretches that end inside the interval where `from` lies add there, each its units
     * floor(r x (end - origin)) - floor(r x (from - origin)) as piece() counts them. */
    int64_t k = (int64_t)b->last, origin = k * interval_ns;
    if (from < origin || from - origin >= interval_ns) {
      k = from / interval_ns;
      origin = k * interval_ns;
    }
    int64_t sum = 0;
    if (from >= 0 && (uint64_t)k >= b->first && reserve(b, (uint64_t)k) == 0) {
      for (; j < n && end_ns[j] >= from && end_ns[j] - origin <= interval_ns; from = end_ns[j++]) {
        int64_t to_from, to_until;
        added[j] = 0;
        if (end_ns[j] == from || rate[j] == 0)
          continue;
        if (!units_to(rate[j], from - origin, &to_from) ||
            !units_to(rate[j], end_ns[j] - origin, &to_until) ||
            to_until - to_from > INT64_MAX - sum)
          return -1;
        added[j] = to_until - to_from;
        sum += added[j];
      }
      int64_t *bin = &b->bin[(uint64_t)k - b->first];
      if (sum > INT64_MAX - *bin || sum > INT64_MAX - b->total)
        return -1;
      *bin += sum;
      b->total += sum;
      b->last = (uint64_t)k;
    }
    if (j < n) { /* one that crosses into the next interval (or goes back): the general way */
      if (util_timebins_add(b, interval_ns, from, end_ns[j], rate[j], &added[j]) != 0)
        return -1;
      from = end_ns[j++];
    }
  }
  return 0;
}

void util_timebins_drop(util_timebins *b, uint64_t k) {
  if (k <= b->first)
    return;
  uint64_t gone = k - b->first;
  if (gone < b->bins) {
    memmove(b->bin, b->bin + gone, (b->bins - gone) * sizeof *b->bin);
    memset(b->bin + (b->bins - gone), 0, gone * sizeof *b->bin);
  } else if (b->bins) {
    memset(b->bin, 0, b->bins * sizeof *b->bin);
  }
  b->first = k;
}

void util_timebins_free(util_timebins *b) {
  free(b->bin);
  *b = (util_timebins){0};
}
