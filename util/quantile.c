/* Exact nearest-rank quantiles in bounded memory, by passes over the same values: the first counts
 * them into a log-linear histogram, each later one either keeps the values of a wanted rank's range
 * (when few enough) and picks the rank among them, or narrows the range by counting sub-ranges. */
#include "util/quantile.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  SUBRANGES = 1 << 14, /* a narrowing pass's pieces of a range */
  /* The first pass's histogram of non-negative values: exact below 2^HIST_BITS, then 2^(HIST_BITS
   * - 1) buckets an octave (a relative width of 1/4,096): 1.7 MB of counts, touched where values
   * fall. */
  HIST_BITS = 13,
  HIST_BUCKETS = (65 - HIST_BITS) << (HIST_BITS - 1),
  KEEP_MAX = 1 << 16, /* values of a range a pass keeps (512 KiB), else it narrows the range */
};

static size_t bucket_of(int64_t v) {
  if (v < (1 << HIST_BITS))
    return (size_t)v;
  int s = (63 - __builtin_clzll((uint64_t)v)) - HIST_BITS + 1;
  return ((size_t)s << (HIST_BITS - 1)) + (size_t)(v >> s);
}

/* The values bucket b holds: [*lo, *hi]. */
static void bucket_range(size_t b, int64_t *lo, int64_t *hi) {
  if (b < (1 << HIST_BITS)) {
    *lo = *hi = (int64_t)b;
    return;
  }
  int s = (int)(b >> (HIST_BITS - 1)) - 1;
  *lo = (int64_t)(b - ((size_t)s << (HIST_BITS - 1))) << s;
  *hi = *lo + (((int64_t)1 << s) - 1);
}

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
  u->hist = calloc(HIST_BUCKETS, sizeof *u->hist); /* without it, the first pass only counts */
}

void util_quantiles_add(util_quantiles *u, int64_t value) {
  if (u->pass == 0) {
    u->count++;
    u->sum = (int64_t)((uint64_t)u->sum + (uint64_t)value);
    u->min = value < u->min ? value : u->min;
    u->max = value > u->max ? value : u->max;
    if (u->hist)
      value < 0 ? u->negative++ : u->hist[bucket_of(value)]++;
    return;
  }
  for (size_t i = 0; i < u->targets; i++) {
    util_quantile_target *t = &u->target[i];
    if (value < t->lo || value > t->hi)
      continue;
    if (t->kept)
      t->kept[t->held++] = value;
    else if (t->sub)
      t->sub[((uint64_t)value - (uint64_t)t->lo) / t->width]++;
  }
}

static int cmp_int64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* After the counting pass: the range of the target's rank, from the histogram when there is one. */
static void first_range(const util_quantiles *u, util_quantile_target *t) {
  t->lo = u->count ? u->min : 0;
  t->hi = u->count ? u->max : 0;
  t->below = 0;
  t->population = u->count;
  if (t->rank >= u->count || t->rank == 1) { /* the largest or the smallest: known */
    t->lo = t->hi = t->rank == 1 ? t->lo : t->hi;
    return;
  }
  if (!u->hist)
    return;
  if (t->rank <= u->negative) {
    t->hi = -1;
    t->population = u->negative;
    return;
  }
  uint64_t below = u->negative;
  size_t b = 0;
  while (below + u->hist[b] < t->rank)
    below += u->hist[b++];
  int64_t lo, hi;
  bucket_range(b, &lo, &hi);
  t->lo = lo > t->lo ? lo : t->lo;
  t->hi = hi < t->hi ? hi : t->hi;
  t->below = below;
  t->population = u->hist[b];
}

int util_quantiles_end_pass(util_quantiles *u) {
  int more = 0;
  for (size_t i = 0; i < u->targets; i++) {
    util_quantile_target *t = &u->target[i];
    if (u->pass == 0) {
      uint64_t rank = (uint64_t)ceil(t->q * (double)u->count);
      t->rank = rank ? rank : 1;
      first_range(u, t);
    } else if (t->kept) { /* the rank among the values kept */
      assert(t->held == t->population);
      qsort(t->kept, t->held, sizeof *t->kept, cmp_int64);
      t->lo = t->hi = t->kept[t->rank - t->below - 1];
    } else if (t->sub) {
      uint64_t below = t->below, b = 0;
      while (below + t->sub[b] < t->rank) /* the counts reach rank within [lo, hi] */
        below += t->sub[b++];
      assert(b < SUBRANGES);
      t->below = below;
      t->population = t->sub[b];
      t->lo = (int64_t)((uint64_t)t->lo + b * t->width);
      uint64_t room = (uint64_t)t->hi - (uint64_t)t->lo;
      if (room > t->width - 1)
        t->hi = (int64_t)((uint64_t)t->lo + t->width - 1);
    }
    free(t->kept);
    t->kept = NULL;
    t->held = 0;
    if (t->lo == t->hi) {
      free(t->sub);
      t->sub = NULL;
      continue;
    }
    more = 1;
    if (t->population <= KEEP_MAX) {
      free(t->sub);
      t->sub = NULL;
      if (!(t->kept = malloc(t->population * sizeof *t->kept)))
        return -1;
      continue;
    }
    if (!t->sub && !(t->sub = malloc(SUBRANGES * sizeof *t->sub)))
      return -1;
    memset(t->sub, 0, SUBRANGES * sizeof *t->sub);
    t->width = width_of(t->lo, t->hi);
  }
  free(u->hist);
  u->hist = NULL;
  u->pass++;
  return more;
}

int64_t util_quantiles_value(const util_quantiles *u, size_t i) {
  assert(i < u->targets && !u->target[i].sub && !u->target[i].kept);
  return u->target[i].lo;
}

void util_quantiles_free(util_quantiles *u) {
  for (size_t i = 0; i < u->targets; i++) {
    free(u->target[i].sub);
    free(u->target[i].kept);
    u->target[i].sub = NULL;
    u->target[i].kept = NULL;
  }
  free(u->hist);
  u->hist = NULL;
}
