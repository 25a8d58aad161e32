/* Unit tests of the engine in process, at any rank count, on what a model sees: creation refuses
 * bad configurations, hand-computable models handle exactly the expected events at the expected
 * times and ties in a fixed order, LP kinds get their ids, model and state, and bad sends (latency,
 * lookahead, destination, payload) fail the run with a message naming them. The windows, cuts,
 * ends and stops of a run are in test_engine_windows.c; the shared model, in engine_helpers.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_helpers.h"

/* ---- creation ---- */

static void engine_create_refuses_bad_configs_with_a_message(void) {
  uint32_t placement[4] = {0, 0, 0, 0};
  scenario s = {0};
  core_lp_map four, none;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&four, &(core_lp_kind){&scenario_lp, 4, &s, false}, 1), 0);
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&none, NULL, 0), 0);
  const core_config good = {
      .lps = &four, .lp_partition = placement, .threads = 1, .end_ns = 100, .lookahead_ns = 1};
  struct {
    core_config cfg;
    const char *why;
  } bad[] = {{good, "threads"},
             {good, "no LPs"},
             {good, "lookahead"},
             {good, "lp_partition"},
             {good, "partition"}};
  bad[0].cfg.threads = 0;
  bad[1].cfg.lps = &none;
  bad[2].cfg.lookahead_ns = 0;
  bad[3].cfg.lp_partition = NULL;
  uint32_t beyond[4] = {0, 0, partitions(1), 0}; /* one past the last partition */
  bad[4].cfg.lp_partition = beyond;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char err[ERROR_BYTES] = "";
    core_engine *e = core_engine_create(&bad[i].cfg, MPI_COMM_WORLD, err, sizeof err);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
    if (e)
      core_engine_destroy(e);
  }
  /* the good one is accepted: the refusals above are for cause */
  char err[ERROR_BYTES];
  core_engine *e = core_engine_create(&good, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL(e);
  core_engine_destroy(e);
}

/* ---- a hand-computed model: ping-pong ---- */

/* LP 0 serves to LP 1 with 7 ns of delay, LP 1 returns with 11 ns; kind and payload count hops. */
static int ping_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 1, 7, 1, 1) : 0;
}

static int ping_react(core_lp *lp, const core_event *ev, scenario *s) {
  uint32_t hop = ev->kind + 1;
  return lp->id == 0 ? send_logged(lp, s, 1, 7, hop, hop) : send_logged(lp, s, 0, 11, hop, hop);
}

static void engine_ping_pong_processes_expected_events_at_expected_times(void) {
  /* Hop h (its kind and payload) reaches LP 1 when odd, LP 0 when even: worked out by hand, at 7,
   * 18, 25, 36, ... until end_ns = 100. Fields: time, send_seq, src, dst, kind, aux, payload. */
  static const record lp1_expected[] = {{7, 0, 0, 1, 1, 1000, 1},  {25, 1, 0, 1, 3, 1000, 3},
                                        {43, 2, 0, 1, 5, 1000, 5}, {61, 3, 0, 1, 7, 1000, 7},
                                        {79, 4, 0, 1, 9, 1000, 9}, {97, 5, 0, 1, 11, 1000, 11}};
  static const record lp0_expected[] = {{18, 0, 1, 0, 2, 1001, 2},
                                        {36, 1, 1, 0, 4, 1001, 4},
                                        {54, 2, 1, 0, 6, 1001, 6},
                                        {72, 3, 1, 0, 8, 1001, 8},
                                        {90, 4, 1, 0, 10, 1001, 10}}; /* hop 12 at 108: too late */
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(2, threads, 100, 5);
    place_first_and_last(s);
    s->init = ping_init;
    s->react = ping_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT_EQUAL(s->events, 11);
    CU_ASSERT_EQUAL_FATAL(s->logs[0].count, 5);
    CU_ASSERT_EQUAL_FATAL(s->logs[1].count, 6);
    CU_ASSERT(memcmp(s->logs[0].records, lp0_expected, sizeof lp0_expected) == 0);
    CU_ASSERT(memcmp(s->logs[1].records, lp1_expected, sizeof lp1_expected) == 0);
    for (int lp = 0; lp < 2; lp++) {
      CU_ASSERT_EQUAL(s->logs[lp].inits, 1);
      CU_ASSERT_EQUAL(s->logs[lp].finishes, 1);
      CU_ASSERT_EQUAL(s->logs[lp].finish_now_ns, 100);
    }
    if (partitions(threads) == 1) { /* one partition: nothing crosses, nothing is cut */
      CU_ASSERT_EQUAL(s->sent_cross, 0);
      CU_ASSERT_EQUAL(s->lookahead_used_ns, CORE_TIME_NEVER);
    } else { /* every hop crossed partitions (the dropped 12th was never sent) */
      CU_ASSERT_EQUAL(s->sent_cross, 11);
      CU_ASSERT_EQUAL(s->lookahead_used_ns, 5);
    }
    free(s);
  }
}

/* ---- ordering of ties ---- */

enum { TIE_TIME = 50, LATER_TIME = 60, RELAY = 9 };

/* Every LP sends LP 0 one event for time 60, then three for time 50; the others also relay one more
 * to time 50 from a handler, so ties arrive both at start and across partitions mid-run. */
static int tie_init(core_lp *lp, scenario *s) {
  int rc = send_logged(lp, s, 0, LATER_TIME, 0, 0);
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = send_logged(lp, s, 0, TIE_TIME, 0, 0);
  if (rc == 0 && lp->id != 0)
    rc = send_logged(lp, s, lp->id, 20 + lp->id, RELAY, 0);
  return rc;
}

static int tie_react(core_lp *lp, const core_event *ev, scenario *s) {
  return ev->kind == RELAY ? send_logged(lp, s, 0, TIE_TIME - lp->now_ns, 0, 0) : 0;
}

static void engine_equal_times_at_one_lp_are_handled_by_source_then_sequence(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(8, threads, 1000, 20);
    place_blocks(s);
    s->init = tie_init;
    s->react = tie_react;
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    /* Expected at LP 0: time 50 from LP 0 (seq 1-3), from each LP 1..7 (seq 1-3 and the relay's
     * seq 5), then time 60 from LP 0..7 (seq 0). */
    record expected[MAX_RECORDS];
    uint32_t n = 0;
    for (uint32_t src = 0; src < 8; src++) {
      for (uint64_t seq = 1; seq <= 3; seq++)
        expected[n++] = (record){TIE_TIME, seq, src, 0, 0, 1000 + src, 0};
      if (src != 0)
        expected[n++] = (record){TIE_TIME, 5, src, 0, 0, 1000 + src, 0};
    }
    for (uint32_t src = 0; src < 8; src++)
      expected[n++] = (record){LATER_TIME, 0, src, 0, 0, 1000 + src, 0};
    CU_ASSERT_EQUAL_FATAL(s->logs[0].count, n);
    int first_wrong = -1;
    for (uint32_t i = 0; i < n && first_wrong < 0; i++)
      if (memcmp(&s->logs[0].records[i], &expected[i], sizeof expected[i]) != 0)
        first_wrong = (int)i;
    if (first_wrong >= 0) {
      const record *r = &s->logs[0].records[first_wrong];
      printf("\n  threads %d, event %d: (%" PRId64 ", src %u, seq %" PRIu64 "), expected (%" PRId64
             ", src %u, seq %" PRIu64 ")\n",
             threads, first_wrong, r->time_ns, r->src_lp, r->send_seq,
             expected[first_wrong].time_ns, expected[first_wrong].src_lp,
             expected[first_wrong].send_seq);
    }
    CU_ASSERT_EQUAL(first_wrong, -1);
    if (partitions(threads) > 1)
      CU_ASSERT(s->sent_cross > 0);
    free(s);
  }
}

enum { NOW = 7 };

/* LPs 0 and 2 send LP 1 an event for time 50. Handling the one from LP `knob`, LP 1 sends itself an
 * event for its current time. */
static int now_init(core_lp *lp, scenario *s) {
  return lp->id != 1 ? send_logged(lp, s, 1, TIE_TIME, 0, 0) : 0;
}

static int now_react(core_lp *lp, const core_event *ev, scenario *s) {
  return ev->kind != NOW && ev->src_lp == (uint32_t)s->knob ? send_logged(lp, s, 1, 0, NOW, 0) : 0;
}

static void engine_self_event_at_the_current_time_follows_the_event_being_handled(void) {
  for (int threads = 1; threads <= 2; threads++) {
    scenario *s = new_scenario(3, threads, 1000, 20);
    place_blocks(s);
    s->init = now_init;
    s->react = now_react;
    s->knob = 0; /* from LP 0: (50, LP 1) comes after (50, LP 0) and before (50, LP 2) */
    run_scenario(s);
    CU_ASSERT_EQUAL(s->rc, 0);
    CU_ASSERT_EQUAL_FATAL(s->logs[1].count, 3);
    const uint32_t sources[] = {0, 1, 2}, kinds[] = {0, NOW, 0};
    for (int i = 0; i < 3; i++) {
      CU_ASSERT_EQUAL(s->logs[1].records[i].time_ns, TIE_TIME);
      CU_ASSERT_EQUAL(s->logs[1].records[i].src_lp, sources[i]);
      CU_ASSERT_EQUAL(s->logs[1].records[i].kind, kinds[i]);
    }
    free(s);

    /* From LP 2, an event for LP 1's current time would come before the one it handles. */
    s = new_scenario(3, threads, 1000, 20);
    place_blocks(s);
    s->init = now_init;
    s->react = now_react;
    s->knob = 2;
    run_scenario(s);
    assert_failed_naming(s, 1, 1, "latency");
    CU_ASSERT(s->logs[1].last_send_rc < 0);
    free(s);
  }
}

/* ---- refused sends ---- */

/* LP 3 sends LP 5 an event with latency `knob` from a handler at time 20 and returns the code. */
static int latency_init(core_lp *lp, scenario *s) {
  return lp->id == 3 ? send_logged(lp, s, 3, 20, 0, 0) : 0;
}

static int latency_react(core_lp *lp, const core_event *ev, scenario *s) {
  (void)ev;
  return lp->id == 3 ? send_logged(lp, s, 5, s->knob, 0, 0) : 0;
}

/* LP 6 sends LP 2 an event with latency `knob` while initialising, and ignores the refusal. */
static int latency_ignored_init(core_lp *lp, scenario *s) {
  if (lp->id == 6)
    send_logged(lp, s, 2, s->knob, 0, 0);
  return 0;
}

static void engine_refuses_zero_and_negative_latency_naming_both_lps(void) {
  const int64_t latencies[] = {0, -7, INT64_MIN};
  for (int threads = 1; threads <= 2; threads++)
    for (size_t i = 0; i < sizeof latencies / sizeof *latencies; i++) {
      scenario *s = new_scenario(8, threads, 1000, 10);
      place_blocks(s);
      s->knob = latencies[i];
      s->init = latency_init;
      s->react = latency_react;
      run_scenario(s);
      assert_failed_naming(s, 3, 5, "latency");
      CU_ASSERT(s->logs[3].last_send_rc < 0);
      CU_ASSERT_EQUAL(s->logs[5].count, 0);
      CU_ASSERT_EQUAL(s->logs[5].finishes, 0); /* a failed run does not finish its LPs */
      free(s);

      s = new_scenario(8, threads, 1000, 10);
      place_blocks(s);
      s->knob = latencies[i];
      s->init = latency_ignored_init;
      run_scenario(s);
      assert_failed_naming(s, 6, 2, "latency"); /* the run fails even if the model carries on */
      CU_ASSERT(s->logs[6].last_send_rc < 0);
      CU_ASSERT_EQUAL(s->logs[2].count, 0);
      free(s);
    }
}

/* LP 0 sends LP 1 (on another partition) an event with latency `knob` from a handler at time 10, at
 * the very start of a window [10, 10 + lookahead). */
static int cross_init(core_lp *lp, scenario *s) {
  return lp->id == 0 ? send_logged(lp, s, 0, 10, 0, 0) : 0;
}

static int cross_react(core_lp *lp, const core_event *ev, scenario *s) {
  (void)ev;
  return lp->id == 0 ? send_logged(lp, s, 1, s->knob, 0, 0) : 0;
}

static void engine_refuses_cross_partition_send_below_lookahead(void) {
  scenario *s = new_scenario(2, 2, 1000, 100);
  place_first_and_last(s);
  s->knob = 99;
  s->init = cross_init;
  s->react = cross_react;
  run_scenario(s);
  assert_failed_naming(s, 0, 1, "lookahead");
  CU_ASSERT(s->logs[0].last_send_rc < 0);
  CU_ASSERT_EQUAL(s->logs[1].count, 0);
  free(s);
}

static void engine_delivers_cross_partition_send_at_exactly_the_lookahead(void) {
  scenario *s = new_scenario(2, 2, 1000, 100);
  place_first_and_last(s);
  s->knob = 100;
  s->init = cross_init;
  s->react = cross_react;
  run_scenario(s);
  CU_ASSERT_EQUAL(s->rc, 0);
  CU_ASSERT_EQUAL_FATAL(s->logs[1].count, 1);
  CU_ASSERT_EQUAL(s->logs[1].records[0].time_ns, 110);
  CU_ASSERT_EQUAL(s->sent_cross, 1);
  free(s);
}

/* LP 0 sends LP `knob` an event: with 8 bytes of payload when that LP does not exist, with 33 (one
 * too many) when it does, so that each run has one fault. */
static int address_init(core_lp *lp, scenario *s) {
  if (lp->id != 0)
    return 0;
  unsigned char payload[CORE_PAYLOAD_BYTES + 1] = {0};
  size_t bytes = (uint64_t)s->knob < s->lp_count ? sizeof payload : 8; /* one fault at a time */
  int rc = core_send(lp, (uint32_t)s->knob, 10, 0, 0, payload, bytes);
  s->logs[0].last_send_rc = rc;
  return rc;
}

static void engine_refuses_unknown_destination_and_oversized_payload(void) {
  scenario *s = new_scenario(4, 1, 1000, 10);
  place_blocks(s);
  s->knob = 4; /* LP 4 of 4 */
  s->init = address_init;
  run_scenario(s);
  assert_failed_naming(s, 0, 4, "only 4 LPs");
  free(s);

  s = new_scenario(4, 1, 1000, 10);
  place_blocks(s);
  s->knob = 2; /* a real LP, but 33 bytes of payload */
  s->init = address_init;
  run_scenario(s);
  CU_ASSERT_EQUAL(s->rc, -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(s->error, "33 bytes"));
  CU_ASSERT_EQUAL(s->logs[2].count, 0);
  free(s);
}

/* ---- LP kinds ---- */

/* A kind with engine-owned state: create sees its index among the kind and its kind's model; every
 * LP's state is destroyed once. */
typedef struct counter_model {
  int64_t tag;
  int created, destroyed, handled, wrong; /* wrong: state not as expected (CUnit is not thread-safe,
                                           * so the callbacks count and the test asserts) */
} counter_model;

typedef struct counter_state {
  int64_t tag;
  uint32_t index;
} counter_state;

static int counter_create(core_lp *lp, void *model) {
  counter_model *m = model;
  counter_state *st = lp->state;
  if (st->tag != 0 || st->index != 0) { /* zeroed by the engine */
#pragma omp atomic
    m->wrong++;
  }
  st->tag = m->tag;
  st->index = lp->index;
#pragma omp atomic
  m->created++;
  return 0;
}

static int counter_handle(core_lp *lp, const core_event *ev, void *model) {
  (void)ev;
  counter_model *m = model;
  const counter_state *st = lp->state;
  if (st->tag != m->tag) {
#pragma omp atomic
    m->wrong++;
  }
#pragma omp atomic
  m->handled++;
  return 0;
}

static int counter_init(core_lp *lp, void *model) {
  (void)model;
  return core_send(lp, lp->id, 5, 1, 0, NULL, 0);
}

static void counter_destroy(core_lp *lp, void *model) {
  counter_model *m = model;
  const counter_state *st = lp->state;
  if (st->tag != m->tag) {
#pragma omp atomic
    m->wrong++;
  }
#pragma omp atomic
  m->destroyed++;
}

static const core_lp_type counter_lp = {.name = "counter",
                                        .state_bytes = sizeof(counter_state),
                                        .create = counter_create,
                                        .init = counter_init,
                                        .handle = counter_handle,
                                        .destroy = counter_destroy};

static void engine_lp_kinds_take_consecutive_ids_with_their_own_model_and_state(void) {
  counter_model a = {.tag = 11}, b = {.tag = 22};
  const core_lp_kind kinds[] = {
      {&counter_lp, 3, &a, false}, {&counter_lp, 0, &a, false}, {&counter_lp, 5, &b, false}};
  core_lp_map map;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, kinds, 3), 0);
  CU_ASSERT_EQUAL(core_lp_map_lps(&map), 8);
  CU_ASSERT_EQUAL(core_lp_map_id(&map, 0, 2), 2);
  CU_ASSERT_EQUAL(core_lp_map_id(&map, 2, 0), 3);
  uint32_t index;
  CU_ASSERT_EQUAL(core_lp_map_kind_of(&map, 2, &index), 0);
  CU_ASSERT_EQUAL(index, 2);
  CU_ASSERT_EQUAL(core_lp_map_kind_of(&map, 3, &index), 2); /* the empty kind owns no id */
  CU_ASSERT_EQUAL(index, 0);
  CU_ASSERT_EQUAL(core_lp_map_kind_of(&map, 7, &index), 2);
  CU_ASSERT_EQUAL(index, 4);
  core_lp_kind many[CORE_MAX_KINDS + 1] = {{0}};
  CU_ASSERT_EQUAL(core_lp_map_init(&map, many, CORE_MAX_KINDS + 1), -1);
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, kinds, 3), 0);

  uint32_t placement[8];
  for (uint32_t i = 0; i < 8; i++)
    placement[i] = (uint32_t)((uint64_t)i * partitions(2) / 8);
  core_config cfg = {
      .lps = &map, .lp_partition = placement, .threads = 2, .end_ns = 100, .lookahead_ns = 5};
  char err[ERROR_BYTES];
  core_engine *e = core_engine_create(&cfg, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(core_engine_run(e), 0);
  for (size_t i = 0; i < core_engine_local_lp_count(e); i++) {
    const core_lp *lp = core_engine_local_lp(e, i);
    const counter_state *st = lp->state;
    CU_ASSERT_EQUAL(st->index, lp->index);
    CU_ASSERT_EQUAL(lp->id, core_lp_map_id(&map, lp->kind, lp->index));
    CU_ASSERT_PTR_EQUAL(lp->model, lp->id < 3 ? (void *)&a : (void *)&b);
  }
  core_engine_destroy(e);
  int counts[7] = {a.created,   a.destroyed, a.handled,        b.created,
                   b.destroyed, b.handled,   a.wrong + b.wrong};
  MPI_Allreduce(MPI_IN_PLACE, counts, 7, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  CU_ASSERT_EQUAL(counts[6], 0);
  CU_ASSERT_EQUAL(counts[0], 3);
  CU_ASSERT_EQUAL(counts[1], 3);
  CU_ASSERT_EQUAL(counts[2], 3); /* one event each, at 5 ns */
  CU_ASSERT_EQUAL(counts[3], 5);
  CU_ASSERT_EQUAL(counts[4], 5);
  CU_ASSERT_EQUAL(counts[5], 5);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"engine_create_refuses_bad_configs_with_a_message",
       engine_create_refuses_bad_configs_with_a_message},
      {"engine_ping_pong_processes_expected_events_at_expected_times",
       engine_ping_pong_processes_expected_events_at_expected_times},
      {"engine_equal_times_at_one_lp_are_handled_by_source_then_sequence",
       engine_equal_times_at_one_lp_are_handled_by_source_then_sequence},
      {"engine_self_event_at_the_current_time_follows_the_event_being_handled",
       engine_self_event_at_the_current_time_follows_the_event_being_handled},
      {"engine_refuses_zero_and_negative_latency_naming_both_lps",
       engine_refuses_zero_and_negative_latency_naming_both_lps},
      {"engine_refuses_cross_partition_send_below_lookahead",
       engine_refuses_cross_partition_send_below_lookahead},
      {"engine_delivers_cross_partition_send_at_exactly_the_lookahead",
       engine_delivers_cross_partition_send_at_exactly_the_lookahead},
      {"engine_refuses_unknown_destination_and_oversized_payload",
       engine_refuses_unknown_destination_and_oversized_payload},
      {"engine_lp_kinds_take_consecutive_ids_with_their_own_model_and_state",
       engine_lp_kinds_take_consecutive_ids_with_their_own_model_and_state},
      {NULL, NULL}};
  return run_engine_tests("engine", tests, argc, argv);
}
