/* Exact nearest-rank quantiles in bounded memory, by narrowing passes over the same values. */
#include "util/quantile.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SUBRANGES = 1 << 14 };

/* Sub-range width covering [lo, hi] in SUBRANGES pieces (hi - lo may be up to 2^64 - 1). */
static uint64_t width_of(int64_t lo, int64_t hi) {
  return ((uint64_t)hi - (uint64_t)lo) / SUBRANGES + 1;
}

void util_quantiles_init(util_quantiles *u, const double *q, size_t n) {
  assert(n <= UTIL_QUANTILE_MAX);
  *u = (util_quantiles){.min = INT64_MAX, .max = INT64_MIN, .targets = n};
  for (size_t i = 0; i < n; i++) {
    assert(q[i] >= 0 && q[i] <= 1);
    u->target[i].q = q[i];
  }
}

void util_quantiles_add(util_quantiles *u, int64_t value) {
  if (u->pass == 0) {
    u->count++;
    u->sum = (int64_t)((uint64_t)u->sum + (uint64_t)value);
    u->min = value < u->min ? value : u->min;
    u->max = value > u->max ? value : u->max;
    return;
  }
  for (size_t i = 0; i < u->targets; i++) {
    util_quantile_target *t = &u->target[i];
    if (t->sub && value >= t->lo && value <= t->hi)
      t->sub[((uint64_t)value - (uint64_t)t->lo) / t->width]++;
  }
}

int util_quantiles_end_pass(util_quantiles *u) {
  int more = 0;
  for (size_t i = 0; i < u->targets; i++) {
    util_quantile_target *t = &u->target[i];
    if (u->pass == 0) {
      uint64_t rank = (uint64_t)ceil(t->q * (double)u->count);
      t->rank = rank ? rank : 1;
      t->lo = u->count ? u->min : 0;
      t->hi = u->count ? u->max : 0;
      t->below = 0;
    } else if (t->sub) {
      uint64_t below = t->below, b = 0;
      while (below + t->sub[b] < t->rank) /* the counts reach rank within [lo, hi] */
        below += t->sub[b++];
      assert(b < SUBRANGES);
      t->below = below;
      t->lo = (int64_t)((uint64_t)t->lo + b * t->width);
      uint64_t room = (uint64_t)t->hi - (uint64_t)t->lo;
      if (room > t->width - 1)
        t->hi = (int64_t)((uint64_t)t->lo + t->width - 1);
    }
    if (t->lo == t->hi) {
      free(t->sub);
      t->sub = NULL;
      continue;
    }
    if (!t->sub && !(t->sub = malloc(SUBRANGES * sizeof *t->sub)))
      return -1;
    memset(t->sub, 0, SUBRANGES * sizeof *t->sub);
    t->width = width_of(t->lo, t->hi);
    more = 1;
  }
  u->pass++;
  return more;
}

int64_t util_quantiles_value(const util_quantiles *u, size_t i) {
  assert(i < u->targets && !u->target[i].sub);
  return u->target[i].lo;
}

void util_quantiles_free(util_quantiles *u) {
  for (size_t i = 0; i < u->targets; i++) {
    free(u->target[i].sub);
    u->target[i].sub = NULL;
  }
}
