/* Pending events of one partition: a slab pool of events (no malloc per event) and a d-ary min-heap
 * of (time, event index, destination LP index) ordered by the event key. Time and destination sit
 * beside the index so comparisons stay inside the heap array and the next event and its LP can be
 * prefetched while the current one is handled; only equal times look at the events. With arity 4
 * and 16-byte entries, the heap is offset so that every node's four children fill exactly one cache
 * line (LaMarca and Ladner, 1996). Arity 4 was chosen by measurement (tests/bench/queue). */
#ifndef CORE_QUEUE_H
#define CORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#ifndef CORE_QUEUE_ARITY
#define CORE_QUEUE_ARITY 4
#endif
#define CORE_QUEUE_SLAB_SHIFT 10 /* 1024 events (64 KiB) per slab */
#define CORE_QUEUE_NONE UINT32_MAX

typedef struct core_queue_entry {
  int64_t time_ns;
  uint32_t event; /* index in the pool */
  uint32_t lp;    /* destination LP, as the partition's local index */
} core_queue_entry;

typedef struct core_queue {
  core_queue_entry *heap; /* offset so that each node's children share one cache line */
  core_queue_entry *heap_block;
  size_t count, capacity;
  core_event **slabs; /* pool: event i is slabs[i >> SHIFT][i & mask] */
  uint32_t slab_count, slab_capacity;
  uint32_t free_head; /* free events, linked through their first word */
} core_queue;

/* capacity_hint: expected pending events, to avoid regrowing. Returns 0 or -1 when out of memory.
 */
int core_queue_init(core_queue *q, size_t capacity_hint);
void core_queue_free(core_queue *q);
/* Slow paths of the inline functions below: grow the heap array, add a slab. Return 0 or -1. */
int core_queue_grow_heap(core_queue *q);
int core_queue_grow_pool(core_queue *q);
/* Bytes held by the heap array and the pool. */
size_t core_queue_bytes(const core_queue *q);

static inline core_event *core_queue_event(const core_queue *q, uint32_t event) {
  return &q->slabs[event >> CORE_QUEUE_SLAB_SHIFT][event & ((1u << CORE_QUEUE_SLAB_SHIFT) - 1)];
}

/* A free event slot, or CORE_QUEUE_NONE when out of memory. */
static inline uint32_t core_queue_alloc(core_queue *q) {
  if (q->free_head == CORE_QUEUE_NONE && core_queue_grow_pool(q) != 0)
    return CORE_QUEUE_NONE;
  uint32_t event = q->free_head;
  q->free_head = *(uint32_t *)core_queue_event(q, event);
  return event;
}

static inline void core_queue_release(core_queue *q, uint32_t event) {
  *(uint32_t *)core_queue_event(q, event) = q->free_head;
  q->free_head = event;
}

static inline bool core_queue_before(const core_queue *q, const core_queue_entry *a,
                                     const core_queue_entry *b) {
  if (a->time_ns != b->time_ns)
    return a->time_ns < b->time_ns;
  return core_event_before(core_queue_event(q, a->event), core_queue_event(q, b->event));
}

static inline int64_t core_queue_min_time(const core_queue *q) {
  return q->count ? q->heap[0].time_ns : INT64_MAX;
}

/* Inserts an allocated event (its time already written) bound for local LP `lp`. Returns 0 or -1.
 */
static inline int core_queue_push(core_queue *q, uint32_t event, uint32_t lp) {
  if (q->count == q->capacity && core_queue_grow_heap(q) != 0)
    return -1;
  core_queue_entry item = {core_queue_event(q, event)->time_ns, event, lp};
  size_t hole = q->count++;
  while (hole > 0) {
    size_t parent = (hole - 1) / CORE_QUEUE_ARITY;
    if (!core_queue_before(q, &item, &q->heap[parent]))
      break;
    q->heap[hole] = q->heap[parent];
    hole = parent;
  }
  q->heap[hole] = item;
  return 0;
}

/* Removes and returns the earliest entry; the queue must not be empty. The event stays allocated.
 */
static inline core_queue_entry core_queue_pop(core_queue *q) {
  assert(q->count > 0);
  core_queue_entry top = q->heap[0];
  core_queue_entry last = q->heap[--q->count];
  size_t n = q->count, hole = 0;
  for (;;) {
    size_t first = hole * CORE_QUEUE_ARITY + 1;
    if (first >= n)
      break;
    size_t best = first, end = first + CORE_QUEUE_ARITY < n ? first + CORE_QUEUE_ARITY : n;
    for (size_t c = first + 1; c < end; c++)
      if (core_queue_before(q, &q->heap[c], &q->heap[best]))
        best = c;
    if (!core_queue_before(q, &q->heap[best], &last))
      break;
    q->heap[hole] = q->heap[best];
    hole = best;
  }
  if (n > 0)
    q->heap[hole] = last;
  return top;
}

#endif
