/* Energy bins: exact integration of piecewise-constant power over fixed intervals. */
#include "jobs/energy.h"

#include <stdlib.h>
#include <string.h>

int job_energy_add(job_energy *e, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                   double watts) {
  if (end_ns <= start_ns || watts == 0)
    return 0;
  uint64_t last = (uint64_t)((end_ns - 1) / interval_ns);
  if (last >= e->bins) {
    uint32_t bins = e->bins ? e->bins : 16;
    while (bins <= last)
      bins *= 2;
    double *grown = realloc(e->bin_j, bins * sizeof *grown);
    if (!grown)
      return -1;
    memset(grown + e->bins, 0, (bins - e->bins) * sizeof *grown);
    e->bin_j = grown;
    e->bins = bins;
  }
  for (int64_t t = start_ns; t < end_ns;) {
    int64_t bin = t / interval_ns, until = (bin + 1) * interval_ns;
    if (until > end_ns)
      until = end_ns;
    double joules = watts * (double)(until - t) * 1e-9;
    e->bin_j[bin] += joules;
    e->total_j += joules;
    t = until;
  }
  return 0;
}

void job_energy_free(job_energy *e) {
  free(e->bin_j);
  *e = (job_energy){0};
}
