/* The physical limit the engine's PHOLD is measured against: nothing but a 4-ary heap of events,
 * Philox draws and the PHOLD arithmetic, on one core (no LPs, windows, dispatch or statistics).
 * Usage: phold_bare LPS START_EVENTS END_UNITS   (remote 0.25, mean 2, lookahead 1 as the bench)
 * Prints: bare events=<n> events_per_s=<rate> */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"

typedef struct item {
  int64_t time_ns;
  uint32_t dst, src;
} item;

static item *heap;
static size_t count;

static void push(item it) {
  size_t hole = count++;
  while (hole > 0 && it.time_ns < heap[(hole - 1) / 4].time_ns) {
    heap[hole] = heap[(hole - 1) / 4];
    hole = (hole - 1) / 4;
  }
  heap[hole] = it;
}

static item pop(void) {
  item top = heap[0], last = heap[--count];
  size_t hole = 0;
  for (;;) {
    size_t first = 4 * hole + 1, best = first;
    if (first >= count)
      break;
    for (size_t c = first + 1; c < first + 4 && c < count; c++)
      if (heap[c].time_ns < heap[best].time_ns)
        best = c;
    if (heap[best].time_ns >= last.time_ns)
      break;
    heap[hole] = heap[best];
    hole = best;
  }
  heap[hole] = last;
  return top;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return 2;
  uint32_t lps = (uint32_t)atol(argv[1]), start = (uint32_t)atol(argv[2]);
  int64_t end_ns = atoll(argv[3]) * 1000000, lookahead_ns = 1000000;
  double exp_mean_ns = 1e6;
  uint64_t remote = (uint64_t)(0.25 * 4294967296.0), hash = 0, events = 0;
  core_rng *rng = malloc(lps * sizeof *rng);
  uint64_t *history = calloc(lps, sizeof *history);
  heap = malloc((size_t)lps * (start + 1) * sizeof *heap);
  for (uint32_t lp = 0; lp < lps; lp++) {
    core_rng_init(&rng[lp], 1, lp);
    for (uint32_t i = 0; i < start; i++)
      push((item){lookahead_ns + (int64_t)core_rng_exponential(&rng[lp], exp_mean_ns), lp, lp});
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (count && heap[0].time_ns < end_ns) {
    item ev = pop();
    history[ev.dst] = (history[ev.dst] ^ (uint64_t)ev.time_ns) * 0x9e3779b97f4a7c15ull + ev.src;
    core_rng *r = &rng[ev.dst];
    uint32_t dst = core_rng_u32(r) < remote ? core_rng_below(r, lps) : ev.dst;
    int64_t t = ev.time_ns + lookahead_ns + (int64_t)core_rng_exponential(r, exp_mean_ns);
    if (t < end_ns)
      push((item){t, dst, ev.dst});
    events++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (uint32_t lp = 0; lp < lps; lp++)
    hash += history[lp];
  double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  printf("bare events=%llu events_per_s=%.0f hash=%llx\n", (unsigned long long)events,
         (double)events / s, (unsigned long long)hash);
  free(rng);
  free(history);
  free(heap);
  return 0;
}
