/* Pending-event queue of one partition: a d-ary min-heap of (time, event pointer) ordered by the event key.
 * The time is kept beside the pointer so that almost every comparison stays inside the heap array;
 * only equal times look at the events. Arity 4 was chosen by measurement (tests/bench/queue). */
#ifndef CORE_QUEUE_H
#define CORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#ifndef CORE_QUEUE_ARITY
#define CORE_QUEUE_ARITY 4
#endif

typedef struct core_queue_entry {
  int64_t time_ns;
  core_event *event;
} core_queue_entry;

typedef struct core_queue {
  core_queue_entry *heap;
  size_t count;
  size_t capacity;
} core_queue;

/* capacity_hint: expected pending events, to avoid regrowing. Returns 0 or -1 when out of memory. */
int core_queue_init(core_queue *q, size_t capacity_hint);
void core_queue_free(core_queue *q);
/* Grows the heap array; called by core_queue_push when it is full. Returns 0 or -1. */
int core_queue_grow(core_queue *q);

static inline bool core_queue_entry_before(const core_queue_entry *a, const core_queue_entry *b) {
  if (a->time_ns != b->time_ns)
    return a->time_ns < b->time_ns;
  return core_event_before(a->event, b->event);
}

static inline int64_t core_queue_min_time(const core_queue *q) {
  return q->count ? q->heap[0].time_ns : INT64_MAX;
}

static inline int core_queue_push(core_queue *q, core_event *ev) {
  if (q->count == q->capacity && core_queue_grow(q) != 0)
    return -1;
  core_queue_entry item = {ev->time_ns, ev};
  size_t hole = q->count++;
  while (hole > 0) {
    size_t parent = (hole - 1) / CORE_QUEUE_ARITY;
    if (!core_queue_entry_before(&item, &q->heap[parent]))
      break;
    q->heap[hole] = q->heap[parent];
    hole = parent;
  }
  q->heap[hole] = item;
  return 0;
}

/* Removes and returns the earliest event; the queue must not be empty. */
static inline core_event *core_queue_pop(core_queue *q) {
  assert(q->count > 0);
  core_event *top = q->heap[0].event;
  core_queue_entry last = q->heap[--q->count];
  size_t n = q->count, hole = 0;
  for (;;) {
    size_t first = hole * CORE_QUEUE_ARITY + 1;
    if (first >= n)
      break;
    size_t best = first, end = first + CORE_QUEUE_ARITY < n ? first + CORE_QUEUE_ARITY : n;
    for (size_t c = first + 1; c < end; c++)
      if (core_queue_entry_before(&q->heap[c], &q->heap[best]))
        best = c;
    if (!core_queue_entry_before(&q->heap[best], &last))
      break;
    q->heap[hole] = q->heap[best];
    hole = best;
  }
  if (n > 0)
    q->heap[hole] = last;
  return top;
}

#endif
