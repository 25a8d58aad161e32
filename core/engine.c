/* The engine at work: failures, sending (core_send), the window loop and core_engine_run. Creating
 * and destroying the engine, the cuts' setup, statistics and the LP map are in engine_life.c.
 *
 * The conservative window loop. Partitions (rank x thread) each process their events below their
 * horizon, then exchange cross-partition events and, with one collective per window, learn every
 * partition's earliest pending event. From those and the cut channels' latencies, every rank works
 * out the earliest time any partition can act again (a shortest-path fixpoint over the partition
 * graph), and so each partition's next horizon: the earliest time a new event can reach it. A
 * partition nobody sends to, or that hears from its peers only over long channels, runs far ahead
 * in one window; with every pair of partitions cut at one lookahead L, the horizon is at least
 * T + L, T the earliest pending event anywhere, as in the classic window [T, T + L). */
#define _GNU_SOURCE /* syscall */
#include "engine_private.h"

#include <linux/futex.h>
#include <omp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static core_event *buf_append(event_buf *b) {
  if (b->count == b->capacity) {
    size_t capacity = b->capacity ? 2 * b->capacity : 64;
    core_event *events = realloc(b->events, capacity * sizeof *events);
    if (!events)
      return NULL;
    b->events = events;
    b->capacity = capacity;
  }
  return &b->events[b->count++];
}

static int buf_reserve(event_buf *b, size_t extra) {
  if (b->count + extra <= b->capacity)
    return 0;
  size_t capacity = b->capacity ? b->capacity : 64;
  while (capacity < b->count + extra)
    capacity *= 2;
  core_event *events = realloc(b->events, capacity * sizeof *events);
  if (!events)
    return -1;
  b->events = events;
  b->capacity = capacity;
  return 0;
}

/* ---- failures ---- */

static int partition_fail(core_partition *p, const char *fmt, va_list ap) {
  if (!(p->flags & FLAG_ERROR)) {
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    p->flags |= FLAG_ERROR;
  }
  return -1;
}

void core_request_boundary(core_lp *lp) { lp->part->flags |= FLAG_BOUNDARY; }
int core_lp_thread(const core_lp *lp) { return lp->part->thread; }

int core_fail(core_lp *lp, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = partition_fail(lp->part, fmt, ap);
  va_end(ap);
  return rc;
}

int engine_fail(core_partition *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = partition_fail(p, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- sending ---- */

int core_send(core_lp *lp, uint32_t dst_lp, int64_t delay_ns, uint32_t kind, uint32_t aux,
              const void *payload, size_t payload_bytes) {
  core_partition *p = lp->part;
  const core_engine *e = p->engine;
  /* (now, lp, next send_seq) follows (now, now_src, ...) in the total order when now_src <= lp. */
  bool now_to_self = delay_ns == 0 && dst_lp == lp->id && lp->now_src <= lp->id;
  if (delay_ns < 1 && !now_to_self)
    return core_fail(lp,
                     "LP %u sent LP %u an event (kind %u) with latency %lld ns: every message "
                     "needs a latency of at least 1 ns (0 only to itself, after the event it "
                     "handles)",
                     lp->id, dst_lp, kind, (long long)delay_ns);
  if (dst_lp >= e->lp_count)
    return core_fail(lp, "LP %u sent an event to LP %u, but there are only %u LPs", lp->id, dst_lp,
                     e->lp_count);
  if (payload_bytes > CORE_PAYLOAD_BYTES)
    return core_fail(lp, "LP %u: payload of %zu bytes exceeds %d", lp->id, payload_bytes,
                     CORE_PAYLOAD_BYTES);
  uint32_t part = e->place[dst_lp].part;
  if (part == PLACE_REPLICATED) {
    if (dst_lp != lp->id)
      return core_fail(lp,
                       "LP %u sent replicated LP %u an event (kind %u): a replicated LP hears only "
                       "from itself",
                       lp->id, dst_lp, kind);
    part = p->index; /* its own copy */
  } else if (lp->replicated && part != p->index) {
    lp->send_seq++; /* the copy on the receiver's partition delivers it */
    return 0;
  }
  /* Refused by the declared latency, not by where the current window happens to end, so that a
   * model breaking its lookahead fails the same way whatever the windows. It implies arriving at or
   * after the receiver's horizon, which is what conservative execution needs. */
  if (part != p->index && delay_ns < p->cut[part]) {
    if (p->cut[part] == CORE_TIME_NEVER)
      return core_fail(lp,
                       "LP %u sent LP %u (on partition %u) an event, but no channel from partition "
                       "%u to partition %u was declared",
                       lp->id, dst_lp, part, p->index, part);
    return core_fail(lp,
                     "LP %u sent LP %u (on another partition) an event with latency %lld ns, "
                     "below the lookahead of %lld ns",
                     lp->id, dst_lp, (long long)delay_ns, (long long)p->cut[part]);
  }
  uint64_t seq = lp->send_seq++;
  int64_t time_ns = delay_ns > p->end_ns - lp->now_ns ? p->end_ns : lp->now_ns + delay_ns;
  if (time_ns >= p->end_ns)
    return 0; /* would never be processed */
  core_event ev = {.time_ns = time_ns,
                   .send_seq = seq,
                   .src_lp = lp->id,
                   .dst_lp = dst_lp,
                   .kind = kind,
                   .aux = aux};
  if (payload_bytes)
    memcpy(ev.payload.bytes, payload, payload_bytes);
  if (part == p->index)
    return engine_enqueue_local(p, &ev);
  core_event *slot = buf_append(&p->outbox[part]);
  if (!slot)
    return core_fail(lp, "out of memory for outgoing events");
  *slot = ev;
  if (time_ns < p->min_sent[part])
    p->min_sent[part] = time_ns;
  if (part / (uint32_t)e->threads == (uint32_t)e->rank)
    p->stats.sent_thread++;
  else
    p->stats.sent_rank++;
  return 0;
}

/* ---- the window loop ---- */

static void maybe_progress(core_engine *e, core_partition *p, int64_t now_ns) {
  if (!e->cfg.progress || e->rank != 0 || p->thread != 0)
    return;
  double now = omp_get_wtime();
  if (now - e->last_progress < 1.0)
    return;
  e->last_progress = now;
  e->cfg.progress(now_ns, now - e->start_wall, p->stats.events, e->cfg.context);
}

/* Whether anything can be asked for between windows: a stop, a checkpoint by wall time. */
static bool watches_clock(const core_engine *e) {
  return e->cfg.stop_flag || e->cfg.max_wall_s > 0 || e->cfg.checkpoint_every_wall_s > 0;
}

/* What is asked for now: a stop, by a signal on this rank or by rank 0's wall clock, and a
 * checkpoint by rank 0's wall clock (one clock decides, so that ranks whose clocks differ still
 * agree on the window). */
static unsigned asked(const core_engine *e) {
  unsigned flags = e->cfg.stop_flag && *e->cfg.stop_flag ? FLAG_STOP : 0;
  if (e->rank != 0 || (e->cfg.max_wall_s <= 0 && e->cfg.checkpoint_every_wall_s <= 0))
    return flags;
  double now = omp_get_wtime();
  if (e->cfg.max_wall_s > 0 && now - e->start_wall >= e->cfg.max_wall_s)
    flags |= FLAG_STOP;
  if (e->cfg.checkpoint_every_wall_s > 0 &&
      now - e->last_checkpoint_wall >= e->cfg.checkpoint_every_wall_s)
    flags |= FLAG_CHECKPOINT;
  return flags;
}

/* Handles this partition's events before window_end. */
static void process_window(core_partition *p, int64_t window_end) {
  core_engine *e = p->engine;
  core_queue *q = &p->queue;
  uint64_t events = 0, copies = 0; /* copies: events of replicated LPs' copies, not counted */
  while (core_queue_min_time(q) < window_end) {
    core_queue_entry top = core_queue_pop(q);
    if (q->count) { /* most likely the next to handle: fetch it while this one runs */
      __builtin_prefetch(core_queue_event(q, q->heap[0].event));
      __builtin_prefetch(&p->lps[q->heap[0].lp]);
    }
    const core_event *ev = core_queue_event(q, top.event);
    core_lp *lp = &p->lps[top.lp];
    lp->now_ns = top.time_ns;
    lp->now_src = ev->src_lp;
    int rc = lp->type->handle(lp, ev, lp->model);
    lp->now_src = CORE_LP_NONE;
    core_queue_release(q, top.event);
    events++;
    copies += lp->copy;
    if (rc != 0) {
      if (!(p->flags & FLAG_ERROR))
        engine_fail(p, "LP %u (%s) failed with code %d", lp->id, lp->type->name, rc);
      break;
    }
    /* Ending a window early is always safe: the next one starts at the global minimum, no earlier
     * than this one's start, so no partition can receive an event before what it has processed. */
    if (p->flags & FLAG_BOUNDARY)
      break;
    unsigned now_asked;
    if ((events & 0x3ff) == 0 && watches_clock(e) && (now_asked = asked(e))) {
      p->flags |= now_asked; /* a window can be long (one partition: the whole run) */
      break;
    }
    if ((events & 0xffff) == 0)
      maybe_progress(e, p, lp->now_ns);
  }
  p->stats.events += events - copies;
}

static void drain(core_partition *p, event_buf *b) {
  for (size_t i = 0; i < b->count; i++)
    if (engine_enqueue_local(p, &b->events[i]) != 0)
      break;
  p->stats.received_remote += b->count;
  b->count = 0;
}

static int64_t add_sat(int64_t t, int64_t d) {
  return t == CORE_TIME_NEVER || d == CORE_TIME_NEVER || t > CORE_TIME_NEVER - d ? CORE_TIME_NEVER
                                                                                 : t + d;
}

/* From every partition's earliest pending event (pending[q], after delivery) and the earliest of
 * them all (T), each local partition's horizon. earliest[q], the earliest time q can handle
 * anything, is the least of its own pending event and what others can send it (earliest[r] +
 * latency(r, q)), relaxed over the cut channels until nothing changes (Bellman-Ford; the
 * partition graph is small and sparse); a partition's horizon is the earliest any of its cuts can
 * deliver. A horizon that some cut bounds is capped at T plus the least latency into the
 * partition: without the cap, two busy partitions that constrain each other leapfrog, the one
 * behind running far while the one ahead waits, window after window (measured: the busy
 * partition alternates, halving the parallelism); with it they move in step, while a partition
 * nobody can send to now runs to the end. Every pair cut at one lookahead: the classic window
 * [T, T + L). */
static void find_horizons(core_engine *e, const int64_t *pending, int64_t T) {
  if (!e->cuts) {
    for (int t = 0; t < e->threads; t++)
      e->parts[t].horizon = add_sat(T, e->lookahead_ns);
    return;
  }
  int64_t *earliest = e->earliest;
  memcpy(earliest, pending, e->partitions * sizeof *earliest);
  for (uint32_t round = 0; round < e->partitions; round++) {
    bool changed = false;
    for (size_t c = 0; c < e->cut_count; c++) {
      int64_t t = add_sat(earliest[e->cuts[c].from], e->cuts[c].latency_ns);
      if (t < earliest[e->cuts[c].to]) {
        earliest[e->cuts[c].to] = t;
        changed = true;
      }
    }
    if (!changed)
      break;
  }
  for (int t = 0; t < e->threads; t++)
    e->parts[t].horizon = CORE_TIME_NEVER;
  for (size_t c = 0; c < e->cut_count; c++) {
    uint32_t to = e->cuts[c].to;
    if (to / (uint32_t)e->threads != (uint32_t)e->rank)
      continue;
    core_partition *p = &e->parts[to % (uint32_t)e->threads];
    int64_t t = add_sat(earliest[e->cuts[c].from], e->cuts[c].latency_ns);
    p->horizon = t < p->horizon ? t : p->horizon;
  }
  for (int t = 0; t < e->threads; t++) {
    core_partition *p = &e->parts[t];
    int64_t step = add_sat(T, p->in_latency_ns);
    if (p->horizon != CORE_TIME_NEVER && step < p->horizon)
      p->horizon = step;
  }
}

/* Waits for a request: polling for spin_s (longer than a busy window's wait; yielding the
 * processor between polls when processors are shared), then polling between sleeps that grow to
 * 1 ms, so that a rank with little or nothing to do (the work kept on another partition) does not
 * busy-poll against the ranks that work. */
static void wait_quietly(MPI_Request *request, const thread_barrier *b) {
  int done = 0;
  double until = omp_get_wtime() + b->spin_s;
  long sleep_ns = 10000;
  for (unsigned polls = 0; MPI_Test(request, &done, MPI_STATUS_IGNORE), !done; polls++) {
    if (b->shared)
      sched_yield();
    if ((polls & 63) || omp_get_wtime() < until)
      continue;
    nanosleep(&(struct timespec){0, sleep_ns}, NULL);
    sleep_ns = sleep_ns < 1000000 ? 2 * sleep_ns : sleep_ns;
  }
}

/* Thread 0 only: sends this rank's cross-rank events, agrees on the window with one collective
 * (each rank learns how many messages to expect, every partition's earliest pending event and the
 * global flags), then receives. Payloads are point-to-point and sparse: only non-empty
 * (partition -> partition) buffers travel. */
static int exchange_ranks(core_engine *e) {
  int64_t *v = e->reduce_buf, *messages = v + 1 + e->partitions;
  MPI_Comm payload_comm = e->payload_comm[e->exchanges++ & 1];
  int nreq = 0;
  for (int t = 0; t < e->threads; t++) {
    const core_partition *p = &e->parts[t];
    for (uint32_t q = 0; q < e->partitions; q++) {
      const event_buf *b = &p->outbox[q];
      int dst_rank = (int)(q / (uint32_t)e->threads);
      if (b->count == 0 || dst_rank == e->rank)
        continue;
      if (b->count > INT32_MAX / sizeof(core_event)) {
        snprintf(e->error, sizeof e->error, "window exchange too large: %zu events", b->count);
        return -1;
      }
      MPI_Isend(b->events, (int)(b->count * sizeof(core_event)), MPI_BYTE, dst_rank,
                (int)(q % (uint32_t)e->threads), payload_comm, &e->requests[nreq++]);
      messages[dst_rank]++;
    }
  }
  MPI_Request agreed;
  MPI_Iallreduce(MPI_IN_PLACE, v, (int)e->reduce_len, MPI_INT64_T, e->reduce_op, e->comm, &agreed);
  wait_quietly(&agreed, &e->barrier);
  for (int64_t m = 0; m < messages[e->rank]; m++) {
    MPI_Message msg;
    MPI_Status st;
    int bytes;
    MPI_Mprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, payload_comm, &msg, &st);
    MPI_Get_count(&st, MPI_BYTE, &bytes);
    event_buf *in = &e->inbox[st.MPI_TAG];
    size_t n = (size_t)bytes / sizeof(core_event);
    if (buf_reserve(in, n) != 0) {
      snprintf(e->error, sizeof e->error, "out of memory receiving %zu events", n);
      return -1; /* the message stays unreceived; the run aborts */
    }
    MPI_Mrecv(in->events + in->count, bytes, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
    in->count += n;
  }
  MPI_Waitall(nreq, e->requests, MPI_STATUSES_IGNORE);
  return 0;
}

static void boundary_call(core_engine *e) {
  if (e->cfg.boundary(e->comm, e->cfg.context) != 0) {
    core_partition *p = &e->parts[0];
    if (!(p->flags & FLAG_ERROR))
      engine_fail(p, "the model's collective boundary call failed");
  } /* with several partitions, the error reaches every rank at the next exchange */
}

/* Whether a checkpoint is due at this boundary (with the global flags and minimum agreed): the
 * global minimum has reached the next multiple of checkpoint_every_ns, rank 0's wall clock asked,
 * or a stop ends the run and checkpoint_on_stop asks for one then. Never after the last window. */
static bool checkpoint_due(core_engine *e) {
  unsigned flags = e->global_flags;
  if (!e->cfg.checkpoint || (flags & FLAG_ERROR) || e->global_min >= e->cfg.end_ns)
    return false;
  bool due = (flags & FLAG_CHECKPOINT) || ((flags & FLAG_STOP) && e->cfg.checkpoint_on_stop);
  int64_t every = e->cfg.checkpoint_every_ns;
  if (every > 0 && e->global_min >= e->next_checkpoint_ns)
    due = true;
  if (due && every > 0) /* the next multiple after this one, whatever made this one due */
    e->next_checkpoint_ns = add_sat(e->global_min / every * every, every);
  return due;
}

/* Thread 0, the other threads waiting and every pending event in a queue: the model's checkpoint.
 * Its failure on any rank fails the run on every rank (one more collective, only when a checkpoint
 * is taken), with this rank's reason. */
static void checkpoint_call(core_engine *e) {
  e->saving = true;
  e->error[0] = '\0';
  int rc = e->cfg.checkpoint(e->comm, e, e->checkpoint_at, e->cfg.context);
  e->saving = false;
  e->last_checkpoint_wall = omp_get_wtime();
  int failed = rc != 0, any;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_LOR, e->comm);
  core_partition *p = &e->parts[0];
  if (failed && !(p->flags & FLAG_ERROR)) {
    if (e->error[0])
      engine_fail(p, "the checkpoint at %lld ns failed: %s", (long long)e->checkpoint_at, e->error);
    else
      engine_fail(p, "the checkpoint at %lld ns failed (code %d)", (long long)e->checkpoint_at, rc);
  }
  e->error[0] = '\0'; /* the run's error is agreed after the run, from the partitions' */
  if (any)
    e->global_flags |= FLAG_ERROR;
  e->checkpoint_at = CORE_TIME_NEVER;
}

/* Thread 0, the other threads waiting: every partition's earliest pending event after delivery
 * (its own queue, and the earliest event sent to it), the global flags and the payloads, then the
 * horizons. */
static void agree(core_engine *e) {
  int64_t *v = e->reduce_buf, *pending = v + 1;
  v[0] = e->partitions;
  for (uint32_t q = 0; q < e->partitions; q++)
    pending[q] = CORE_TIME_NEVER;
  memset(v + 1 + e->partitions, 0, (size_t)e->ranks * sizeof *v);
  unsigned flags = 0;
  for (int t = 0; t < e->threads; t++) {
    const core_partition *p = &e->parts[t];
    flags |= p->flags;
    pending[p->index] = p->queue_min < pending[p->index] ? p->queue_min : pending[p->index];
    for (uint32_t q = 0; q < e->partitions; q++)
      pending[q] = p->min_sent[q] < pending[q] ? p->min_sent[q] : pending[q];
  }
  flags |= asked(e);
  v[e->reduce_len - 1] = flags;
  if (e->ranks > 1 && exchange_ranks(e) != 0)
    MPI_Abort(e->comm, 1); /* peers are inside a collective we can no longer complete */
  e->global_flags = (unsigned)v[e->reduce_len - 1];
  e->global_min = CORE_TIME_NEVER;
  for (uint32_t q = 0; q < e->partitions; q++)
    e->global_min = pending[q] < e->global_min ? pending[q] : e->global_min;
  find_horizons(e, pending, e->global_min);
  for (int t = 0; t < e->threads; t++)
    e->parts[t].flags &= ~(FLAG_BOUNDARY | FLAG_CHECKPOINT);
  if ((e->global_flags & FLAG_BOUNDARY) && e->cfg.boundary) {
    boundary_call(e); /* the other threads wait at the barrier: the model's state is quiet */
    e->global_flags |= e->parts[0].flags & FLAG_ERROR;
  }
  e->checkpoint_at = checkpoint_due(e) ? e->global_min : CORE_TIME_NEVER;
}

static void futex(atomic_int *word, int op, int value) {
  syscall(SYS_futex, (int *)word, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

static void barrier_wait(thread_barrier *b, int *sense) {
  *sense = !*sense;
  if (atomic_fetch_sub(&b->waiting, 1) == 1) {
    atomic_store(&b->waiting, b->threads);
    atomic_store(&b->sense, *sense);
    if (atomic_load(&b->sleepers))
      futex(&b->sense, FUTEX_WAKE, INT32_MAX);
    return;
  }
  double until = omp_get_wtime() + b->spin_s;
  for (unsigned spins = 1; atomic_load(&b->sense) != *sense; spins++) {
    if (b->shared)
      sched_yield();
    else
      __builtin_ia32_pause();
    if ((spins & 1023) || omp_get_wtime() < until)
      continue;
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load(&b->sense) != *sense)
      futex(&b->sense, FUTEX_WAIT, !*sense); /* returns at once if sense moved on already */
    atomic_fetch_sub(&b->sleepers, 1);
  }
}

/* End of a window for partition p: deliver cross-partition events and agree on the next window. */
static void window_boundary(core_partition *p) {
  core_engine *e = p->engine;
  double t0 = omp_get_wtime();
  p->queue_min = core_queue_min_time(&p->queue);
  p->stats.windows++;
  if (e->partitions == 1) {
    agree(e);
    if (e->checkpoint_at != CORE_TIME_NEVER)
      checkpoint_call(e);
    p->stats.sync_s += omp_get_wtime() - t0;
    return;
  }
  barrier_wait(&e->barrier, &p->barrier_sense);
  for (int t = 0; t < e->threads; t++)
    if (t != p->thread)
      drain(p, &e->parts[t].outbox[p->index]);
  if (p->thread == 0)
    agree(e);
  barrier_wait(&e->barrier, &p->barrier_sense);
  drain(p, &e->inbox[p->thread]);
  for (uint32_t q = 0; q < e->partitions; q++) {
    p->outbox[q].count = 0;
    p->min_sent[q] = CORE_TIME_NEVER;
  }
  if (e->checkpoint_at != CORE_TIME_NEVER) {      /* read by all before thread 0 clears it */
    barrier_wait(&e->barrier, &p->barrier_sense); /* every thread has drained its inbox */
    if (p->thread == 0)
      checkpoint_call(e);
    barrier_wait(&e->barrier, &p->barrier_sense);
  }
  p->stats.sync_s += omp_get_wtime() - t0;
}

/* Gives each of this partition's LPs its kind's type, model and state, then lets the type set it
 * up. */
static void create_lps(core_partition *p) {
  core_engine *e = p->engine;
  const core_lp_map *map = e->cfg.lps;
  for (uint32_t id = 0; id < e->lp_count; id++) {
    uint32_t part = e->place[id].part;
    if (part != p->index && part != PLACE_REPLICATED)
      continue;
    core_lp *lp = &p->lps[e->place[id].local];
    uint32_t index;
    size_t kind = core_lp_map_kind_of(map, id, &index);
    const core_lp_type *type = map->kinds[kind].type;
    *lp = (core_lp){.id = id,
                    .kind = (uint32_t)kind,
                    .index = index,
                    .type = type,
                    .model = map->kinds[kind].model,
                    .now_src = CORE_LP_NONE,
                    .part = p,
                    .replicated = part == PLACE_REPLICATED,
                    .copy = engine_home(e, id) != p->index};
    core_rng_init(&lp->rng, e->cfg.seed, id);
    if (!type || !type->handle) {
      engine_fail(p, "LP %u (kind %zu) has no handler", id, kind);
      continue;
    }
    if (type->state_bytes && !(lp->state = calloc(1, type->state_bytes))) {
      engine_fail(p, "out of memory for LP %u (%s)", id, type->name);
      continue;
    }
    if (type->create && type->create(lp, lp->model) != 0) {
      if (!(p->flags & FLAG_ERROR))
        engine_fail(p, "could not create LP %u (%s)", id, type->name);
      continue;
    }
    if (e->restore)
      engine_restore_lp(p, lp);
  }
  if (e->restore)
    engine_restore_events(p);
}

static void run_partition(core_partition *p) {
  core_engine *e = p->engine;
  double t0 = omp_get_wtime();
  for (size_t i = 0; i < p->lp_count && !e->restore && !(p->flags & FLAG_ERROR); i++) {
    core_lp *lp = &p->lps[i];
    if (lp->type->init && lp->type->init(lp, lp->model) != 0 && !(p->flags & FLAG_ERROR))
      engine_fail(p, "LP %u (%s) failed to initialise", lp->id, lp->type->name);
  }
  p->stats.process_s += omp_get_wtime() - t0;
  window_boundary(p);
  p->stats.windows--; /* the initial exchange is not a window */
  while (!(e->global_flags & (FLAG_ERROR | FLAG_STOP)) && e->global_min < e->cfg.end_ns) {
    int64_t T = e->global_min;
    maybe_progress(e, p, T);
    int64_t window_end = p->horizon < e->cfg.end_ns ? p->horizon : e->cfg.end_ns;
    if (e->cfg.checkpoint_every_ns > 0 && e->next_checkpoint_ns < window_end)
      window_end = e->next_checkpoint_ns; /* one partition's one window would pass it */
    t0 = omp_get_wtime();
    process_window(p, window_end);
    p->stats.process_s += omp_get_wtime() - t0;
    window_boundary(p);
  }
  if (e->global_flags & FLAG_ERROR)
    return;
  /* Stopped early: all events before the global minimum are done; an LP never goes back in time. */
  bool stopped = (e->global_flags & FLAG_STOP) && e->global_min < e->cfg.end_ns;
  if (stopped && p->thread == 0) {
    e->stopped = true;
    e->reached_ns = e->global_min;
  }
  for (size_t i = 0; i < p->lp_count; i++) {
    core_lp *lp = &p->lps[i];
    if (!stopped)
      lp->now_ns = e->cfg.end_ns;
    else if (lp->now_ns < e->global_min)
      lp->now_ns = e->global_min;
    if (lp->copy)
      continue; /* its home copy finishes */
    if (lp->type->finish && lp->type->finish(lp, lp->model) != 0 && !(p->flags & FLAG_ERROR))
      engine_fail(p, "LP %u (%s) failed to finish", lp->id, lp->type->name);
  }
}

/* ---- running ---- */

void engine_agree_on_error(core_engine *e) {
  for (int t = 0; t < e->threads && !e->error[0]; t++)
    if (e->parts[t].flags & FLAG_ERROR)
      memcpy(e->error, e->parts[t].error, ERROR_BYTES);
  int mine = e->error[0] ? e->rank : e->ranks, first;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, e->comm);
  if (first < e->ranks)
    MPI_Bcast(e->error, ERROR_BYTES, MPI_CHAR, first, e->comm);
}

int core_engine_run(core_engine *e) {
  e->start_wall = e->last_progress = e->last_checkpoint_wall = omp_get_wtime();
  e->next_checkpoint_ns = e->cfg.checkpoint_every_ns;
  if (e->cfg.restore) {
    int64_t at_ns, every = e->cfg.checkpoint_every_ns;
    if (engine_restore_prepare(e, &at_ns) != 0)
      return -1;
    if (every > 0) /* not again at the checkpoint it starts from */
      e->next_checkpoint_ns = add_sat(at_ns / every * every, every);
  }
#pragma omp parallel num_threads(e->threads)
  {
    core_partition *p = &e->parts[omp_get_thread_num()];
    if (e->cfg.thread_start)
      e->cfg.thread_start(p->thread, e->threads, e->cfg.context);
    create_lps(p);
    run_partition(p);
    p->stats.queue_bytes_peak = core_queue_bytes(&p->queue);
  }
  engine_restore_free(e->restore); /* cfg.restore is borrowed only until here */
  e->restore = NULL;
  unsigned flags = 0, all;
  for (int t = 0; t < e->threads; t++)
    flags |= e->parts[t].flags;
  MPI_Allreduce(&flags, &all, 1, MPI_UNSIGNED, MPI_BOR, e->comm);
  if (all & FLAG_ERROR) {
    engine_agree_on_error(e);
    return -1;
  }
  return 0;
}
