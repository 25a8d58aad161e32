/* The event: a timestamped message between two LPs, and its total-order key. */
#ifndef CORE_EVENT_H
#define CORE_EVENT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#define CORE_PAYLOAD_BYTES 32

/* One cache line. Events are ordered by (time_ns, src_lp, send_seq): unique, and independent of
 * where any LP runs, so every LP sees its events in the same order at any rank and thread count. */
typedef struct core_event {
  int64_t time_ns;   /* when the event happens at dst_lp */
  uint64_t send_seq; /* src_lp's send counter when it sent this event */
  uint32_t src_lp;
  uint32_t dst_lp;
  uint32_t kind; /* model-defined */
  uint32_t aux;  /* model-defined */
  union {
    unsigned char bytes[CORE_PAYLOAD_BYTES];
    uint64_t u64[CORE_PAYLOAD_BYTES / 8];
    int64_t i64[CORE_PAYLOAD_BYTES / 8];
    double f64[CORE_PAYLOAD_BYTES / 8];
  } payload;
} core_event;

static_assert(sizeof(core_event) == 64, "core_event is one cache line");

/* True when a comes strictly before b in the total order. */
static inline bool core_event_before(const core_event *a, const core_event *b) {
  if (a->time_ns != b->time_ns)
    return a->time_ns < b->time_ns;
  if (a->src_lp != b->src_lp)
    return a->src_lp < b->src_lp;
  return a->send_seq < b->send_seq;
}

#endif
