/* Time bins: exact integration of piecewise-constant rates over fixed intervals. */
#include "util/timebins.h"

#include <stdlib.h>
#include <string.h>

int util_timebins_add(util_timebins *b, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                      double rate, double scale) {
  if (end_ns <= start_ns || rate == 0)
    return 0;
  uint64_t last = (uint64_t)((end_ns - 1) / interval_ns);
  if (last >= b->bins) {
    size_t bins = b->bins ? b->bins : 16;
    while (bins <= last) {
      if (bins > SIZE_MAX / 2 / sizeof *b->bin)
        return -1;
      bins *= 2;
    }
    double *grown = realloc(b->bin, bins * sizeof *grown);
    if (!grown)
      return -1;
    memset(grown + b->bins, 0, (bins - b->bins) * sizeof *grown);
    b->bin = grown;
    b->bins = bins;
  }
  for (int64_t t = start_ns; t < end_ns;) {
    int64_t k = t / interval_ns, until = (k + 1) * interval_ns;
    if (until > end_ns)
      until = end_ns;
    double amount = rate * (double)(until - t) * scale;
    b->bin[k] += amount;
    b->total += amount;
    t = until;
  }
  return 0;
}

void util_timebins_free(util_timebins *b) {
  free(b->bin);
  *b = (util_timebins){0};
}
