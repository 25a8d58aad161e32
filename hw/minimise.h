/* Internal to hw/: the derivative-free minimiser the fits share. */
#ifndef HW_MINIMISE_H
#define HW_MINIMISE_H

#include <stddef.h>

/* The function to minimise over x[0..n), given the caller's context. */
typedef double (*hw_loss_fn)(const void *ctx, const double *x);

enum { HW_MINIMISE_MAX_PARAMS = 6 };

/* Nelder-Mead with the standard coefficients from x (n <= HW_MINIMISE_MAX_PARAMS parameters, first
 * steps of 0.3), at most iterations_per_param * n steps, restarted from its best point until a
 * restart no longer improves: deterministic. Leaves the best point found in x. */
void hw_minimise(hw_loss_fn loss, const void *ctx, int n, int iterations_per_param, double *x);

#endif
