/* Nelder-Mead for every fit in calib/: small, deterministic, derivative-free. */
#include "calib/minimise.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void calib_minimise(calib_loss_fn loss, const void *fp, int n, const calib_minimise_opts *opts,
                    double *x) {
  assert(n > 0 && n <= CALIB_MINIMISE_MAX_PARAMS);
  const double tol = opts->converged;
  double simplex[CALIB_MINIMISE_MAX_PARAMS + 1][CALIB_MINIMISE_MAX_PARAMS],
      val[CALIB_MINIMISE_MAX_PARAMS + 1];
  double best = loss(fp, x);
  for (int restart = 0; restart < opts->restarts; restart++) {
    for (int i = 0; i <= n; i++) {
      memcpy(simplex[i], x, (size_t)n * sizeof *x);
      if (i > 0)
        simplex[i][i - 1] += opts->first_step;
      val[i] = loss(fp, simplex[i]);
    }
    for (int iter = 0; iter < opts->iterations_per_param * n; iter++) {
      /* Order: simplex[0] best, simplex[n] worst. */
      for (int i = 1; i <= n; i++)
        for (int j = i; j > 0 && val[j] < val[j - 1]; j--) {
          double tv = val[j];
          val[j] = val[j - 1], val[j - 1] = tv;
          for (int k = 0; k < n; k++) {
            double t = simplex[j][k];
            simplex[j][k] = simplex[j - 1][k], simplex[j - 1][k] = t;
          }
        }
      if (val[n] - val[0] <= tol * (fabs(val[0]) + tol))
        break;
      double centroid[CALIB_MINIMISE_MAX_PARAMS] = {0}, xr[CALIB_MINIMISE_MAX_PARAMS],
             xe[CALIB_MINIMISE_MAX_PARAMS], xc[CALIB_MINIMISE_MAX_PARAMS];
      for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++)
          centroid[k] += simplex[i][k] / n;
      for (int k = 0; k < n; k++)
        xr[k] = centroid[k] + (centroid[k] - simplex[n][k]);
      double fr = loss(fp, xr);
      if (fr < val[0]) {
        for (int k = 0; k < n; k++)
          xe[k] = centroid[k] + 2.0 * (centroid[k] - simplex[n][k]);
        double fe = loss(fp, xe);
        memcpy(simplex[n], fe < fr ? xe : xr, (size_t)n * sizeof *x);
        val[n] = fe < fr ? fe : fr;
      } else if (fr < val[n - 1]) {
        memcpy(simplex[n], xr, (size_t)n * sizeof *x);
        val[n] = fr;
      } else {
        for (int k = 0; k < n; k++)
          xc[k] = centroid[k] + 0.5 * (simplex[n][k] - centroid[k]);
        double fc = loss(fp, xc);
        if (fc < val[n]) {
          memcpy(simplex[n], xc, (size_t)n * sizeof *x);
          val[n] = fc;
        } else {
          for (int i = 1; i <= n; i++) {
            for (int k = 0; k < n; k++)
              simplex[i][k] = simplex[0][k] + 0.5 * (simplex[i][k] - simplex[0][k]);
            val[i] = loss(fp, simplex[i]);
          }
        }
      }
    }
    int ibest = 0;
    for (int i = 1; i <= n; i++)
      if (val[i] < val[ibest])
        ibest = i;
    bool improved = val[ibest] < best * (1.0 - 1e-9);
    if (val[ibest] < best) {
      best = val[ibest];
      memcpy(x, simplex[ibest], (size_t)n * sizeof *x);
    }
    if (!improved)
      break;
  }
}
