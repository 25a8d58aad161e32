/* Unit tests of the engine in process, at any rank count, on its windows and where a run ends:
 * cut channels let a partition run ahead and refuse sends they do not carry, a run ends at end_ns
 * or when no events remain, a stop flag or wall-clock limit stops every rank at the same window,
 * a model's failure stops every partition within one, and a replicated LP's copies send every
 * event once without a channel between partitions. The events a model sees and the sends it
 * may make are in test_engine.c; the shared model, in engine_helpers.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"

/* ---- the end of a run ---- */

enum { TICK = 1, FAR = 2 };

/* LP 0 ticks every 10 ns, LP 1 every 7 ns (so windows are cut at other times); LP 0's first tick
 * also sends itself an event with the largest delay, which must land at "never", not overflow. */
static int tick_init(core_lp *lp, scenario *s) {
  return send_logged(lp, s, lp->id, lp->id == 0 ? 10 : 7, TICK, 0);
}

static int tick_react(core_lp *lp, const core_event *ev, scenario *s) {
  if (ev->kind != TICK)
    return 0;
  int rc = send_logged(lp, s, lp->id, lp->id == 0 ? 10 : 7, TICK, 0);
  if (rc == 0 && lp->id == 0 && lp->now_ns == 10)
    rc = send_logged(lp, s, 0, INT64_MAX, FAR, 0);
  return rc;
}

static void engine_stops_at_end_ns_without_handling_events_at_or_after_it(void) {
  for (int threads = 1; threads <= 2; threads++)
    for (int64_t end_ns = 50; end_ns <= 51; end_ns++) {
      scenario *s = new_scenario(2, threads, end_ns, 3);
      place_first_and_last(s);
      s->init = tick_init;
      s->react = tick_react;
      run_scenario(s);
      CU_ASSERT_EQUAL(s->rc, 0);
      /* 10..40, or 10..50: an event at end_ns is not handled, one just before it is. */
      uint32_t ticks = end_ns == 50 ? 4 : 5;
      CU_ASSERT_EQUAL_FATAL(s->logs[0].count, ticks);
      for (uint32_t i = 0; i < ticks; i++) {
        CU_ASSERT_EQUAL(s->logs[0].records[i].time_ns, 10 * (int64_t)(i + 1));
        CU_ASSERT_EQUAL(s->logs[0].records[i].kind, TICK); /* the FAR event never came */
      }
      CU_ASSERT_EQUAL(s->logs[1].count, 7); /* 7, 14, ..., 49 */
      CU_ASSERT_EQUAL(s->logs[1].records[6].time_ns, 49);
      CU_ASSERT_EQUAL(s->logs[0].finish_now_ns, end_ns);
      CU_ASSERT_EQUAL(s->logs[1].finish_now_ns, end_ns);
      free(s);
    }
}

/* A countdown: kind k > 1 hands k - 1 to the other LP after 5 ns; kind 1 ends it. */
static int countdown_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 0, 5, (uint32_t)s->knob, 0) : 0;
}

static int countdown_react(core_lp *lp, const core_event *ev, scenario *s) {
  return ev->kind > 1 ? send_logged(lp, s, 1 - lp->id, 5, ev->kind - 1, 0) : 0;
}

static void engine_stops_when_no_events_remain_before_end_ns(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(2, threads, CORE_TIME_NEVER, 5); /* would run forever otherwise */
    place_first_and_last(s);
    s->knob = 3;
    s->init = countdown_init;
    s->react = countdown_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT_EQUAL(s->events, 3);
    CU_ASSERT_EQUAL(s->logs[0].count, 2); /* at 5 and 15 */
    CU_ASSERT_EQUAL(s->logs[1].count, 1); /* at 10 */
    CU_ASSERT_EQUAL(s->logs[0].records[1].time_ns, 15);
    CU_ASSERT(s->windows <= 3); /* one per event at most: no idle windows up to "never" */
    CU_ASSERT_EQUAL(s->logs[0].finishes, 1);
    CU_ASSERT_EQUAL(s->logs[1].finish_now_ns, CORE_TIME_NEVER);
    free(s);
  }
}

/* ---- stops ---- */

/* As tick_react, and LP 1 (on the last partition) raises the stop flag of its process when it
 * handles the event at 70 ns, as a signal reaching that rank alone would. */
static int tick_then_stop_react(core_lp *lp, const core_event *ev, scenario *s) {
  if (lp->id == 1 && ev->time_ns == 70)
    s->stop_flag = 15;
  return tick_react(lp, ev, s);
}

static void engine_stop_flag_on_one_rank_stops_every_partition_at_the_same_window(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(2, threads, 1000000, 3);
    place_first_and_last(s);
    s->use_stop_flag = true;
    s->init = tick_init;
    s->react = tick_then_stop_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT(s->stopped);
    CU_ASSERT(s->stops_agree);
    /* Within a window or two of 70 ns (windows of 3 ns) when the LPs are apart; on one partition
     * (one window: the whole run) within the 1024 events after which the flag is read again. */
    bool apart = partitions(threads) > 1;
    CU_ASSERT(s->reached_ns > 70 && s->reached_ns <= (apart ? 100 : 70 + 10 * 1024));
    /* Every event before reached_ns was handled: ticks at 10, 20, ... and 7, 14, ... */
    CU_ASSERT(s->logs[0].count >= (uint32_t)((s->reached_ns - 1) / 10));
    CU_ASSERT(s->logs[1].count >= (uint32_t)((s->reached_ns - 1) / 7));
    CU_ASSERT(s->logs[0].count < (apart ? 20u : 1100u));
    for (uint32_t lp = 0; lp < 2; lp++) { /* finished at the time reached, or later, never before */
      CU_ASSERT_EQUAL(s->logs[lp].finishes, 1);
      uint32_t n = s->logs[lp].count < MAX_RECORDS ? s->logs[lp].count : MAX_RECORDS;
      CU_ASSERT(s->logs[lp].finish_now_ns >= s->reached_ns);
      CU_ASSERT(n == 0 || s->logs[lp].finish_now_ns >= s->logs[lp].records[n - 1].time_ns);
    }
    free(s);
  }
}

static void engine_max_wall_stops_every_partition_at_the_first_window(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(2, threads, 1000000, 3);
    place_first_and_last(s);
    s->max_wall_s = 1e-9; /* passed before the first window: rank 0's clock decides for all */
    s->init = tick_init;
    s->react = tick_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT(s->stopped);
    CU_ASSERT(s->stops_agree);
    CU_ASSERT_EQUAL(s->reached_ns, 7); /* the first pending event: nothing handled */
    CU_ASSERT_EQUAL(s->events, 0);
    free(s);
  }
}

static void engine_run_that_ends_is_not_stopped(void) {
  scenario *s = new_scenario(2, 1, 50, 3);
  place_first_and_last(s);
  s->use_stop_flag = true; /* never raised */
  s->max_wall_s = 3600;
  s->init = tick_init;
  s->react = tick_react;
  run_scenario(s);
  CU_ASSERT_EQUAL(s->rc, 0);
  CU_ASSERT(!s->stopped);
  CU_ASSERT(s->stops_agree);
  CU_ASSERT_EQUAL(s->logs[0].finish_now_ns, 50);
  free(s);
}

/* ---- cut channels ---- */

/* LP 0 ticks every 10 ns until 1000 and sends each tick to LP 1: a one-way pipeline. */
static int pipe_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 0, 10, 0, 0) : 0;
}

static int pipe_react(core_lp *lp, const core_event *ev, scenario *s) {
  if (lp->id != 0 || ev->src_lp != 0)
    return 0;
  int rc = send_logged(lp, s, 1, s->knob, 1, (uint64_t)lp->now_ns);
  return rc ? rc : (lp->now_ns < 1000 ? send_logged(lp, s, 0, 10, 0, 0) : 0);
}

static scenario *pipeline(int64_t latency_ns) {
  scenario *s = new_scenario(2, 2, 100000, 1);
  place_first_and_last(s);
  s->init = pipe_init;
  s->react = pipe_react;
  s->knob = latency_ns;
  return s;
}

/* With a cut only from LP 0's partition to LP 1's, LP 0's side hears from nobody: it runs to its
 * end in one window, and LP 1's side follows, every event in order. */
static void engine_one_way_cut_lets_the_sender_run_ahead_in_few_windows(void) {
  scenario *s = pipeline(5);
  s->cuts[0] = (core_cut){0, partitions(2) - 1, 5};
  s->cut_count = 1;
  run_scenario(s);
  CU_ASSERT_EQUAL(s->rc, 0);
  CU_ASSERT_EQUAL(s->logs[1].count, 100);
  for (uint32_t k = 0; k < 64 && k < s->logs[1].count; k++)
    CU_ASSERT_EQUAL(s->logs[1].records[k].time_ns, 10 * (int64_t)(k + 1) + 5);
  CU_ASSERT(s->windows <= 3);
  CU_ASSERT_EQUAL(s->lookahead_used_ns, 5);
  free(s);
}

/* The same pipeline with every pair cut at 5 ns advances about 5 ns a window: the cuts are what
 * made the difference above. */
static void engine_uniform_lookahead_advances_window_by_window(void) {
  scenario *s = pipeline(5);
  s->lookahead_ns = 5;
  run_scenario(s);
  CU_ASSERT_EQUAL(s->rc, 0);
  CU_ASSERT_EQUAL(s->logs[1].count, 100);
  CU_ASSERT(s->windows >= 100);
  free(s);
}

static void engine_refuses_a_send_without_a_cut_or_below_its_latency(void) {
  scenario *s = pipeline(5);
  s->cuts[0] = (core_cut){partitions(2) - 1, 0, 5}; /* only the other way */
  s->cut_count = 1;
  run_scenario(s);
  assert_failed_naming(s, 0, 1, "no channel");
  free(s);
  s = pipeline(4);
  s->cuts[0] = (core_cut){0, partitions(2) - 1, 5};
  s->cut_count = 1;
  run_scenario(s);
  assert_failed_naming(s, 0, 1, "below the lookahead of 5 ns");
  free(s);
}

static void engine_create_refuses_cuts_between_no_partitions(void) {
  uint32_t placement[2] = {0, 0};
  scenario s = {0};
  core_lp_map map;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, &(core_lp_kind){&scenario_lp, 2, &s, false}, 1), 0);
  core_cut bad[] = {{0, 0, 5}, {0, partitions(2), 5}, {0, 1, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    core_config cfg = {.lps = &map,
                       .lp_partition = placement,
                       .threads = 2,
                       .end_ns = 100,
                       .cuts = &bad[i],
                       .cut_count = 1};
    char err[ERROR_BYTES] = "";
    core_engine *e = core_engine_create(&cfg, MPI_COMM_WORLD, err, sizeof err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not between two of the"));
    core_engine_destroy(e);
  }
}

/* ---- replicated LPs ---- */

enum { SOURCE_TICKS = 40, SINK_DELAY = 3 };

/* LP 0, replicated, ticks every 10 ns and at each tick k sends sink 1 + k mod (lp_count - 1)
 * payload k, SINK_DELAY later: a trace replayed by a front end that decides without feedback. */
static int source_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 0, 10, TICK, 0) : 0;
}

static int source_react(core_lp *lp, const core_event *ev, scenario *s) {
  if (lp->id != 0)
    return 0;
  uint64_t k = ev->payload.u64[0];
  int rc = send_logged(lp, s, 1 + (uint32_t)(k % (s->lp_count - 1)), SINK_DELAY, FAR, k);
  return rc == 0 && k + 1 < SOURCE_TICKS ? send_logged(lp, s, 0, 10, TICK, k + 1) : rc;
}

/* LP 0, replicated, a source over n - 1 sinks placed in blocks, with no channel between
 * partitions. */
static scenario *replicated_source(uint32_t n, int threads,
                                   int (*react)(core_lp *, const core_event *, scenario *)) {
  scenario *s = new_scenario(n, threads, 100000, 1);
  place_blocks(s);
  s->replicated = 1;
  s->no_cuts = true;
  s->init = source_init;
  s->react = react;
  return s;
}

/* With its sinks spread over every partition and no channel between partitions, each sink gets
 * exactly the events one LP 0 would send it, with the same keys (its send counter counts the sends
 * every copy makes), in one window; LP 0 finishes once and its events count once. */
static void engine_replicated_lp_sends_each_event_once_with_one_lps_keys(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = replicated_source(5, threads, source_react);
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT_EQUAL(s->logs[0].count, SOURCE_TICKS);
    CU_ASSERT_EQUAL(s->logs[0].inits, 1);
    CU_ASSERT_EQUAL(s->logs[0].finishes, 1);
    CU_ASSERT(s->windows <= 1);
    CU_ASSERT_EQUAL(s->events, 2 * SOURCE_TICKS); /* the ticks and the deliveries, once each */
    for (uint32_t sink = 1; sink < s->lp_count; sink++) {
      const lp_log *log = &s->logs[sink];
      CU_ASSERT_EQUAL(log->count, SOURCE_TICKS / (s->lp_count - 1));
      for (uint32_t j = 0; j < log->count; j++) {
        uint64_t k = (uint64_t)j * (s->lp_count - 1) + sink - 1; /* the tick that sent it */
        CU_ASSERT_EQUAL(log->records[j].payload, k);
        CU_ASSERT_EQUAL(log->records[j].time_ns, 10 * (int64_t)(k + 1) + SINK_DELAY);
        CU_ASSERT_EQUAL(log->records[j].src_lp, 0);
        CU_ASSERT_EQUAL(log->records[j].send_seq, 2 * k + 1); /* init's tick was send 0 */
      }
    }
    free(s);
  }
}

/* Sink 1 answering the replicated LP fails the run: its copies would part ways. */
static int answer_react(core_lp *lp, const core_event *ev, scenario *s) {
  return lp->id == 1 ? send_logged(lp, s, 0, 1, FAR, 0) : source_react(lp, ev, s);
}

static void engine_refuses_an_event_for_a_replicated_lp_from_another(void) {
  scenario *s = replicated_source(3, 1, answer_react);
  run_scenario(s);
  assert_failed_naming(s, 1, 0, "hears only from itself");
  free(s);
}

/* ---- failures from the model ---- */

/* LP 0 ticks every nanosecond; LP 1 fails at time `knob`. */
static int failing_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 0, 1, 0, 0) : send_logged(lp, s, 1, s->knob, 0, 0);
}

static int failing_react(core_lp *lp, const core_event *ev, scenario *s) {
  (void)ev;
  if (lp->id == 1)
    return core_fail(lp, "model broke at %" PRId64 " ns", lp->now_ns);
  return send_logged(lp, s, 0, 1, 0, 0);
}

static void engine_model_failure_stops_every_partition_within_a_window(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(2, threads, 1000000, 10);
    place_first_and_last(s);
    s->knob = 100;
    s->init = failing_init;
    s->react = failing_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, -1);
    CU_ASSERT_STRING_EQUAL(s->error, "model broke at 100 ns"); /* the model's, on every rank */
    /* LP 0 went on at most to the end of the failing window, [T, T + 10) with T <= 100. */
    CU_ASSERT(s->logs[0].count >= 100);
    CU_ASSERT(s->logs[0].count < 110);
    CU_ASSERT_EQUAL(s->logs[0].finishes, 0);
    free(s);
  }
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"engine_stops_at_end_ns_without_handling_events_at_or_after_it",
       engine_stops_at_end_ns_without_handling_events_at_or_after_it},
      {"engine_stops_when_no_events_remain_before_end_ns",
       engine_stops_when_no_events_remain_before_end_ns},
      {"engine_one_way_cut_lets_the_sender_run_ahead_in_few_windows",
       engine_one_way_cut_lets_the_sender_run_ahead_in_few_windows},
      {"engine_uniform_lookahead_advances_window_by_window",
       engine_uniform_lookahead_advances_window_by_window},
      {"engine_refuses_a_send_without_a_cut_or_below_its_latency",
       engine_refuses_a_send_without_a_cut_or_below_its_latency},
      {"engine_create_refuses_cuts_between_no_partitions",
       engine_create_refuses_cuts_between_no_partitions},
      {"engine_model_failure_stops_every_partition_within_a_window",
       engine_model_failure_stops_every_partition_within_a_window},
      {"engine_stop_flag_on_one_rank_stops_every_partition_at_the_same_window",
       engine_stop_flag_on_one_rank_stops_every_partition_at_the_same_window},
      {"engine_max_wall_stops_every_partition_at_the_first_window",
       engine_max_wall_stops_every_partition_at_the_first_window},
      {"engine_run_that_ends_is_not_stopped", engine_run_that_ends_is_not_stopped},
      {"engine_replicated_lp_sends_each_event_once_with_one_lps_keys",
       engine_replicated_lp_sends_each_event_once_with_one_lps_keys},
      {"engine_refuses_an_event_for_a_replicated_lp_from_another",
       engine_refuses_an_event_for_a_replicated_lp_from_another},
      {NULL, NULL}};
  return run_engine_tests("engine_windows", tests, argc, argv);
}
