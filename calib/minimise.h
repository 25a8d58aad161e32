/* Internal to calib/: the derivative-free minimiser every fit shares. */
#ifndef CALIB_MINIMISE_H
#define CALIB_MINIMISE_H

#include <stddef.h>

/* The function to minimise over x[0..n), given the caller's context. */
typedef double (*calib_loss_fn)(const void *ctx, const double *x);

enum { CALIB_MINIMISE_MAX_PARAMS = 6 };

/* How one fit runs the search; each fit keeps its own, so its results do not move when another's
 * change. */
typedef struct calib_minimise_opts {
  double first_step;        /* added to one parameter per vertex of the starting simplex */
  int restarts;             /* at most this many runs, each from the best point so far */
  int iterations_per_param; /* at most this many steps per parameter in one run */
  double converged;         /* a run ends when worst - best <= converged * (|best| + converged) */
} calib_minimise_opts;

/* Nelder-Mead with the standard coefficients from x (n <= CALIB_MINIMISE_MAX_PARAMS parameters),
 * restarted from its best point until a restart no longer improves or opts->restarts runs are
 * done: deterministic. Leaves the best point found in x. */
void calib_minimise(calib_loss_fn loss, const void *ctx, int n, const calib_minimise_opts *opts,
                    double *x);

#endif
