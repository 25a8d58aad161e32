/* Hold-model benchmark of the pending-event queue, built once per heap arity (CORE_QUEUE_ARITY) so
 * the arity is chosen by measurement. Prints one line per queue size: ns per hold (pop + push). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/queue.h"
#include "core/rng.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  static const size_t sizes[] = {10, 1000, 100000, 1000000};
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    core_queue q;
    if (core_queue_init(&q, sizes[s]) != 0)
      return 1;
    for (size_t i = 0; i < sizes[s]; i++) {
      uint32_t ev = core_queue_alloc(&q);
      *core_queue_event(&q, ev) = (core_event){.time_ns = (int64_t)core_rng_exponential(&rng, 1e6),
                                               .src_lp = (uint32_t)i};
      core_queue_push(&q, ev, 0);
    }
    size_t holds = 20000000;
    uint64_t sum = 0;
    double t0 = now_s();
    for (size_t i = 0; i < holds; i++) {
      core_queue_entry top = core_queue_pop(&q);
      core_event *ev = core_queue_event(&q, top.event);
      ev->time_ns += 1 + (int64_t)core_rng_exponential(&rng, 1e6);
      sum += (uint64_t)top.time_ns;
      core_queue_push(&q, top.event, top.lp);
    }
    double dt = now_s() - t0;
    printf("bench=queue arity=%d pending=%zu ns_per_hold=%.1f check=%llu\n", CORE_QUEUE_ARITY,
           sizes[s], 1e9 * dt / (double)holds, (unsigned long long)sum);
    core_queue_free(&q);
  }
  return 0;
}
