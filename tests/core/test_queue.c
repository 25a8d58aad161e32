/* Unit tests of core_queue: under random workloads with many equal timestamps, events come out in
 * exactly the order of a plainly sorted reference, by (time, src_lp, send_seq), with contents
 * intact. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/queue.h"
#include "core/rng.h"
#include "harness.h"

/* ---- the only part of this file that knows the queue's API ---- */

static int queue_push_copy(core_queue *q, const core_event *ev, uint32_t lp) {
  uint32_t slot = core_queue_alloc(q);
  if (slot == CORE_QUEUE_NONE)
    return -1;
  *core_queue_event(q, slot) = *ev;
  return core_queue_push(q, slot, lp);
}

/* Pops the earliest event into *ev and its destination LP into *lp; returns the time its heap entry
 * carried (which must be the event's). */
static int64_t queue_pop_copy(core_queue *q, core_event *ev, uint32_t *lp) {
  core_queue_entry top = core_queue_pop(q);
  *ev = *core_queue_event(q, top.event);
  *lp = top.lp;
  core_queue_release(q, top.event);
  return top.time_ns;
}

/* ---- the reference: pending keys kept sorted in a plain array ---- */

typedef struct ref_key {
  int64_t time_ns;
  uint32_t src_lp;
  uint32_t lp;
  uint64_t send_seq;
} ref_key;

/* The total order written out field by field, independently of core_event_before. */
static int ref_compare(const ref_key *a, const ref_key *b) {
  if (a->time_ns != b->time_ns)
    return a->time_ns < b->time_ns ? -1 : 1;
  if (a->src_lp != b->src_lp)
    return a->src_lp < b->src_lp ? -1 : 1;
  if (a->send_seq != b->send_seq)
    return a->send_seq < b->send_seq ? -1 : 1;
  return 0;
}

/* Sorted latest first, so that the earliest pops off the end. Keys are unique (send_seq is). */
typedef struct reference {
  ref_key *keys;
  size_t count, capacity;
} reference;

static void ref_append(reference *r, ref_key key) {
  if (r->count == r->capacity) {
    r->capacity = r->capacity ? 2 * r->capacity : 1024;
    r->keys = realloc(r->keys, r->capacity * sizeof *r->keys);
    if (!r->keys)
      abort();
  }
  r->keys[r->count++] = key;
}

static int ref_compare_latest_first(const void *a, const void *b) { return -ref_compare(a, b); }

/* After appends: sorts the whole reference at once. */
static void ref_sort(reference *r) {
  qsort(r->keys, r->count, sizeof *r->keys, ref_compare_latest_first);
}

/* Inserts in place: a binary search, then the earlier keys move along by one. */
static void ref_push(reference *r, ref_key key) {
  ref_append(r, key); /* makes room */
  r->count--;
  size_t lo = 0, hi = r->count; /* first position whose key is earlier than `key` */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ref_compare(&r->keys[mid], &key) > 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  memmove(&r->keys[lo + 1], &r->keys[lo], (r->count - lo) * sizeof *r->keys);
  r->keys[lo] = key;
  r->count++;
}

/* ---- workloads ---- */

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser: a bijection, so distinct in, out */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Builds workloads and checks pops. Send sequence numbers are a bijective scramble of a counter:
 * unique, yet not increasing in push order, so that ties on (time, src) are resolved by comparing
 * them. */
typedef struct workload {
  core_queue queue;
  reference ref;
  core_rng rng;
  uint64_t pushes;
  uint64_t pops, wrong_order, wrong_contents, wrong_min_time;
  uint32_t src_range; /* sources are drawn from [0, src_range) plus the largest ids */
  bool sort_later;    /* push appends to the reference; ref_sort() orders it */
} workload;

static void workload_init(workload *w, uint64_t seed, size_t capacity_hint, uint32_t src_range) {
  memset(w, 0, sizeof *w);
  CU_ASSERT_FATAL(core_queue_init(&w->queue, capacity_hint) == 0);
  core_rng_init(&w->rng, seed, 0);
  w->src_range = src_range;
}

static void workload_free(workload *w) {
  core_queue_free(&w->queue);
  free(w->ref.keys);
}

/* The contents that must survive the queue, derived from the key. */
static uint64_t payload_word(const ref_key *k, int i) {
  return mix64((uint64_t)k->time_ns ^ ((uint64_t)k->src_lp << 32) ^
               mix64(k->send_seq + (uint64_t)i));
}

static void push(workload *w, int64_t time_ns) {
  uint32_t pick = core_rng_below(&w->rng, w->src_range + 2);
  ref_key key = {
      .time_ns = time_ns,
      .src_lp = pick < w->src_range ? pick : UINT32_MAX - (pick - w->src_range), /* top ids too */
      .send_seq = mix64(w->pushes++),
      .lp = core_rng_u32(&w->rng),
  };
  core_event ev = {.time_ns = key.time_ns,
                   .send_seq = key.send_seq,
                   .src_lp = key.src_lp,
                   .dst_lp = key.lp ^ 0x5a5a5a5au,
                   .kind = (uint32_t)key.send_seq,
                   .aux = key.src_lp ^ key.lp};
  for (int i = 0; i < CORE_PAYLOAD_BYTES / 8; i++)
    ev.payload.u64[i] = payload_word(&key, i);
  if (queue_push_copy(&w->queue, &ev, key.lp) != 0)
    CU_FAIL_FATAL("core_queue push ran out of memory");
  (w->sort_later ? ref_append : ref_push)(&w->ref, key);
}

/* Pops one event from both and compares; returns the popped time. */
static int64_t pop(workload *w) {
  const ref_key *want = &w->ref.keys[w->ref.count - 1];
  if (core_queue_min_time(&w->queue) != want->time_ns)
    w->wrong_min_time++;
  core_event ev;
  uint32_t lp;
  int64_t entry_time = queue_pop_copy(&w->queue, &ev, &lp);
  ref_key got = {ev.time_ns, ev.src_lp, lp, ev.send_seq};
  if (ref_compare(&got, want) != 0 || got.lp != want->lp) {
    if (w->wrong_order++ == 0)
      printf("\n  pop %" PRIu64 ": got (%" PRId64 ", %u, %" PRIx64 "), expected (%" PRId64
             ", %u, %" PRIx64 ")\n",
             w->pops, got.time_ns, got.src_lp, got.send_seq, want->time_ns, want->src_lp,
             want->send_seq);
  }
  int intact = entry_time == ev.time_ns && ev.dst_lp == (want->lp ^ 0x5a5a5a5au) &&
               ev.kind == (uint32_t)want->send_seq && ev.aux == (want->src_lp ^ want->lp);
  for (int i = 0; i < CORE_PAYLOAD_BYTES / 8; i++)
    intact &= ev.payload.u64[i] == payload_word(want, i);
  w->wrong_contents += !intact;
  w->pops++;
  w->ref.count--;
  return want->time_ns;
}

static void assert_all_matched(const workload *w) {
  CU_ASSERT_EQUAL(w->wrong_order, 0);
  CU_ASSERT_EQUAL(w->wrong_contents, 0);
  CU_ASSERT_EQUAL(w->wrong_min_time, 0);
  CU_ASSERT_EQUAL(w->queue.count, w->ref.count);
}

/* ---- tests ---- */

static void queue_bulk_push_then_drain_matches_sorted_reference(void) {
  enum { EVENTS = 200000 };
  workload w;
  workload_init(&w, 1, 0, 16); /* minimal capacity: the heap and the pool grow many times */
  w.sort_later = true;
  for (int i = 0; i < EVENTS; i++)
    push(&w, (int64_t)core_rng_below(&w.rng, 1000)); /* about 200 events per timestamp */
  ref_sort(&w.ref);
  CU_ASSERT_EQUAL(w.queue.count, EVENTS);
  CU_ASSERT(core_queue_bytes(&w.queue) >= EVENTS * (sizeof(core_queue_entry) + sizeof(core_event)));
  while (w.ref.count)
    pop(&w);
  assert_all_matched(&w);
  CU_ASSERT_EQUAL(core_queue_min_time(&w.queue), INT64_MAX);
  workload_free(&w);
}

static void queue_mixed_push_pop_matches_sorted_reference(void) {
  enum { OPERATIONS = 1000000, PHASE = 20000 };
  workload w;
  workload_init(&w, 2, 64, 4);
  int64_t now_ns = 0;
  for (int op = 0; op < OPERATIONS; op++) {
    /* Phases that fill (3/4 pushes), drain (1/4) and hover (1/2), so the size swings between empty
     * and a few thousand, crossing every heap depth both ways. */
    static const uint32_t push_per_4[] = {3, 1, 2, 1};
    uint32_t pushes = push_per_4[(op / PHASE) % 4];
    if (w.ref.count == 0 || core_rng_below(&w.rng, 4) < pushes) {
      /* Times on a coarse grid from just behind the last pop to a little ahead: heavy ties, and
       * some events earlier than ones already popped (the queue must not assume monotonic time). */
      int64_t grid = (int64_t)core_rng_below(&w.rng, 64) - 8;
      push(&w, (1ll << 40) + now_ns + grid * 1000);
    } else {
      now_ns = pop(&w) - (1ll << 40);
    }
  }
  while (w.ref.count)
    pop(&w);
  assert_all_matched(&w);
  workload_free(&w);
}

/* The classic hold model: pop the earliest, push one at its time plus an increment. */
static void hold(workload *w, uint32_t pending, int steps) {
  for (uint32_t i = 0; i < pending; i++)
    push(w, (int64_t)core_rng_below(&w->rng, 4));
  for (int s = 0; s < steps; s++) {
    int64_t t = pop(w);
    /* A quarter of the increments are 0 (a tie with the event just popped), the rest small. */
    int64_t increment = core_rng_below(&w->rng, 4) == 0 ? 0 : 1 + core_rng_below(&w->rng, 3);
    push(w, t + increment);
  }
}

static void queue_hold_model_matches_sorted_reference(void) {
  workload w;
  workload_init(&w, 3, 16, 3);
  hold(&w, 1000, 50000);
  size_t bytes_warm = core_queue_bytes(&w.queue);
  hold(&w, 0, 450000);
  assert_all_matched(&w);
  /* Steady state: released events are reused, so the queue's memory stops growing. */
  CU_ASSERT_EQUAL(core_queue_bytes(&w.queue), bytes_warm);
  workload_free(&w);
}

static void queue_hold_model_with_tiny_heaps_matches_sorted_reference(void) {
  /* One to six pending events: the heap's last levels are partial, the root often alone. */
  for (uint32_t pending = 1; pending <= 6; pending++) {
    workload w;
    workload_init(&w, 4 + pending, 0, 2);
    hold(&w, pending, 20000);
    assert_all_matched(&w);
    workload_free(&w);
  }
}

static void queue_orders_equal_times_by_source_then_sequence(void) {
  /* A hand-made tie: pushed in scrambled order, all at one time. */
  static const struct {
    uint32_t src_lp;
    uint64_t send_seq;
  } pushed[] = {{3, 2}, {1, 9}, {3, 0}, {2, 5}, {1, 1}, {UINT32_MAX, 0}, {0, UINT64_MAX}, {3, 1}};
  static const int expected_order[] = {6, 4, 1, 3, 2, 7, 0, 5}; /* indices into pushed */
  enum { N = sizeof pushed / sizeof *pushed };
  core_queue q;
  CU_ASSERT_FATAL(core_queue_init(&q, 0) == 0);
  for (int i = 0; i < N; i++) {
    core_event ev = {.time_ns = 77, .src_lp = pushed[i].src_lp, .send_seq = pushed[i].send_seq};
    CU_ASSERT_FATAL(queue_push_copy(&q, &ev, (uint32_t)i) == 0);
  }
  core_event later = {.time_ns = 78, .src_lp = 0, .send_seq = 0}; /* time still decides first */
  CU_ASSERT_FATAL(queue_push_copy(&q, &later, N) == 0);
  for (int i = 0; i < N; i++) {
    core_event ev;
    uint32_t lp;
    queue_pop_copy(&q, &ev, &lp);
    CU_ASSERT_EQUAL(lp, (uint32_t)expected_order[i]);
    CU_ASSERT_EQUAL(ev.src_lp, pushed[expected_order[i]].src_lp);
    CU_ASSERT_EQUAL(ev.send_seq, pushed[expected_order[i]].send_seq);
  }
  core_event ev;
  uint32_t lp;
  CU_ASSERT_EQUAL(queue_pop_copy(&q, &ev, &lp), 78);
  CU_ASSERT_EQUAL(lp, (uint32_t)N);
  CU_ASSERT_EQUAL(q.count, 0);
  core_queue_free(&q);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"queue_orders_equal_times_by_source_then_sequence",
       queue_orders_equal_times_by_source_then_sequence},
      {"queue_bulk_push_then_drain_matches_sorted_reference",
       queue_bulk_push_then_drain_matches_sorted_reference},
      {"queue_mixed_push_pop_matches_sorted_reference",
       queue_mixed_push_pop_matches_sorted_reference},
      {"queue_hold_model_matches_sorted_reference", queue_hold_model_matches_sorted_reference},
      {"queue_hold_model_with_tiny_heaps_matches_sorted_reference",
       queue_hold_model_with_tiny_heaps_matches_sorted_reference},
      {NULL, NULL}};
  return harness_run("queue", tests, argc > 1 ? argv[1] : NULL, true);
}
