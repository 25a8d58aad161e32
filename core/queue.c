/* Storage of the pending-event set: heap array and event slabs; the hot operations are in queue.h.
 */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

enum { SLAB_EVENTS = 1u << CORE_QUEUE_SLAB_SHIFT, LINE = 64 };

/* Entries before index 1 in a cache line, so that children (d*i + 1 .. d*i + d) start a line when
 * d entries fill one. */
#define HEAP_OFFSET ((LINE / sizeof(core_queue_entry) - 1) % CORE_QUEUE_ARITY)

static int heap_resize(core_queue *q, size_t capacity) {
  size_t bytes = (capacity + HEAP_OFFSET) * sizeof(core_queue_entry);
  core_queue_entry *block = aligned_alloc(LINE, (bytes + LINE - 1) / LINE * LINE);
  if (!block)
    return -1;
  if (q->count)
    memcpy(block + HEAP_OFFSET, q->heap, q->count * sizeof *q->heap);
  free(q->heap_block);
  q->heap_block = block;
  q->heap = block + HEAP_OFFSET;
  q->capacity = capacity;
  return 0;
}

int core_queue_init(core_queue *q, size_t capacity_hint) {
  *q = (core_queue){.free_head = CORE_QUEUE_NONE};
  return heap_resize(q, capacity_hint > 16 ? capacity_hint : 16);
}

void core_queue_free(core_queue *q) {
  for (uint32_t s = 0; s < q->slab_count; s++)
    free(q->slabs[s]);
  free(q->slabs);
  free(q->heap_block);
  *q = (core_queue){.free_head = CORE_QUEUE_NONE};
}

int core_queue_grow_heap(core_queue *q) {
  /* 1.5x keeps the slack, and so the memory per pending event, bounded. */
  return heap_resize(q, q->capacity + q->capacity / 2);
}

int core_queue_grow_pool(core_queue *q) {
  if (q->slab_count == UINT32_MAX >> CORE_QUEUE_SLAB_SHIFT)
    return -1; /* 2^32 - 1 events: the index space is full */
  if (q->slab_count == q->slab_capacity) {
    uint32_t capacity = q->slab_capacity ? 2 * q->slab_capacity : 16;
    core_event **slabs = realloc(q->slabs, capacity * sizeof *slabs);
    if (!slabs)
      return -1;
    q->slabs = slabs;
    q->slab_capacity = capacity;
  }
  core_event *slab = aligned_alloc(64, SLAB_EVENTS * sizeof *slab);
  if (!slab)
    return -1;
  uint32_t base = q->slab_count++ << CORE_QUEUE_SLAB_SHIFT;
  q->slabs[q->slab_count - 1] = slab;
  for (uint32_t i = SLAB_EVENTS; i-- > 0;) {
    *(uint32_t *)&slab[i] = q->free_head;
    q->free_head = base + i;
  }
  return 0;
}

size_t core_queue_bytes(const core_queue *q) {
  return (q->capacity + HEAP_OFFSET) * sizeof *q->heap +
         ((size_t)q->slab_count << CORE_QUEUE_SLAB_SHIFT) * sizeof(core_event);
}
