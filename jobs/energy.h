/* Exact energy per interval from piecewise-constant power: each constant stretch adds
 * watts x its overlap with every interval it covers, so the bins sum to the integral. */
#ifndef JOB_ENERGY_H
#define JOB_ENERGY_H

#include <stdint.h>

typedef struct job_energy {
  double *bin_j; /* energy in [k * interval, (k + 1) * interval), [bins] */
  uint32_t bins;
  double total_j;
} job_energy;

/* Adds watts drawn over [start_ns, end_ns). Returns 0, or -1 out of memory. */
int job_energy_add(job_energy *e, int64_t interval_ns, int64_t start_ns, int64_t end_ns,
                   double watts);
void job_energy_free(job_energy *e);

#endif
