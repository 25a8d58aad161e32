/* Storage management of the pending-event heap; the hot operations are inline in queue.h. */
#include "queue.h"

#include <stdlib.h>

int core_queue_init(core_queue *q, size_t capacity_hint) {
  q->count = 0;
  q->capacity = capacity_hint > 16 ? capacity_hint : 16;
  q->heap = malloc(q->capacity * sizeof *q->heap);
  return q->heap ? 0 : -1;
}

void core_queue_free(core_queue *q) {
  free(q->heap);
  q->heap = NULL;
  q->count = q->capacity = 0;
}

int core_queue_grow(core_queue *q) {
  /* 1.5x keeps the slack, and so the memory per pending event, bounded. */
  size_t capacity = q->capacity + q->capacity / 2;
  core_queue_entry *heap = realloc(q->heap, capacity * sizeof *heap);
  if (!heap)
    return -1;
  q->heap = heap;
  q->capacity = capacity;
  return 0;
}
