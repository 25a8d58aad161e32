/* Unit tests of the engine in process, at any rank count: hand-computable models handle exactly the
 * expected events at the expected times, and bad sends fail the run with a message naming them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "harness.h"

enum { MAX_LPS = 16, MAX_RECORDS = 64, ERROR_BYTES = 512 };

/* What an LP saw: the events it handled, in order, and its life cycle. */
typedef struct record {
  int64_t time_ns;
  uint64_t send_seq;
  uint32_t src_lp, dst_lp, kind, aux;
  uint64_t payload;
} record;

typedef struct lp_log {
  record records[MAX_RECORDS];
  uint32_t count; /* events handled; only the first MAX_RECORDS are kept */
  uint32_t inits, finishes;
  int64_t finish_now_ns;
  int last_send_rc;
} lp_log;

/* A model and its run. The test fills the top part; run_scenario fills the rest. */
typedef struct scenario {
  uint32_t lp_count;
  int threads;
  int64_t end_ns, lookahead_ns;
  uint32_t lp_partition[MAX_LPS];
  int (*init)(core_lp *lp, struct scenario *s);                        /* optional: first sends */
  int (*react)(core_lp *lp, const core_event *ev, struct scenario *s); /* optional: after logging */
  int64_t knob; /* a scenario's own parameter */
  core_cut
      cuts[8]; /* with cut_count > 0, the channels between partitions instead of lookahead_ns */
  size_t cut_count;

  lp_log logs[MAX_LPS]; /* merged over ranks after the run */
  int rc;
  char error[ERROR_BYTES];
  uint64_t events, sent_cross, windows; /* summed over partitions; windows: the most of any */
  int64_t lookahead_used_ns;
  /* Stops: with use_stop_flag, the engine reads stop_flag (set by a handler, as a signal handler
   * would); max_wall_s as in core_config. After the run: stopped and reached_ns, which must be the
   * same on every rank (stops_agree). */
  bool use_stop_flag;
  volatile sig_atomic_t stop_flag;
  double max_wall_s;
  bool stopped, stops_agree;
  int64_t reached_ns;
} scenario;

static int ranks(void) {
  int n;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

static uint32_t partitions(int threads) { return (uint32_t)ranks() * (uint32_t)threads; }

/* ---- the model: every LP logs what it handles, then does what the scenario says ---- */

static int scenario_init(core_lp *lp, void *model) {
  scenario *s = model;
  s->logs[lp->id].inits++;
  return s->init ? s->init(lp, s) : 0;
}

static int scenario_handle(core_lp *lp, const core_event *ev, void *model) {
  scenario *s = model;
  lp_log *log = &s->logs[lp->id];
  if (log->count < MAX_RECORDS)
    log->records[log->count] = (record){.time_ns = ev->time_ns,
                                        .send_seq = ev->send_seq,
                                        .src_lp = ev->src_lp,
                                        .dst_lp = ev->dst_lp,
                                        .kind = ev->kind,
                                        .aux = ev->aux,
                                        .payload = ev->payload.u64[0]};
  log->count++;
  return s->react ? s->react(lp, ev, s) : 0;
}

static int scenario_finish(core_lp *lp, void *model) {
  scenario *s = model;
  s->logs[lp->id].finishes++;
  s->logs[lp->id].finish_now_ns = lp->now_ns;
  return 0;
}

static const core_lp_type scenario_lp = {.name = "scenario",
                                         .init = scenario_init,
                                         .handle = scenario_handle,
                                         .finish = scenario_finish};

/* Sends and remembers core_send's answer in the sender's log. */
static int send_logged(core_lp *lp, scenario *s, uint32_t dst, int64_t delay_ns, uint32_t kind,
                       uint64_t payload) {
  int rc = core_send(lp, dst, delay_ns, kind, 1000 + lp->id, &payload, sizeof payload);
  s->logs[lp->id].last_send_rc = rc;
  return rc;
}

/* LP i on partition floor(i * partitions / lp_count), as part_block does. */
static void place_blocks(scenario *s) {
  uint32_t p = partitions(s->threads);
  for (uint32_t i = 0; i < s->lp_count; i++)
    s->lp_partition[i] = (uint32_t)((uint64_t)i * p / s->lp_count);
}

/* LP 0 on the first partition, every other LP on the last: apart whenever there are two. */
static void place_first_and_last(scenario *s) {
  for (uint32_t i = 0; i < s->lp_count; i++)
    s->lp_partition[i] = i == 0 ? 0 : partitions(s->threads) - 1;
}

static void run_scenario(scenario *s) {
  memset(s->logs, 0, sizeof s->logs);
  core_lp_map map;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, &(core_lp_kind){&scenario_lp, s->lp_count, s}, 1),
                        0);
  core_config cfg = {
      .lps = &map,
      .lp_partition = s->lp_partition,
      .threads = s->threads,
      .end_ns = s->end_ns,
      .lookahead_ns = s->lookahead_ns,
      .seed = 1,
      .cuts = s->cut_count ? s->cuts : NULL,
      .cut_count = s->cut_count,
      .stop_flag = s->use_stop_flag ? &s->stop_flag : NULL,
      .max_wall_s = s->max_wall_s,
  };
  char err[ERROR_BYTES] = "";
  core_engine *e = core_engine_create(&cfg, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL(e);
  if (!e) {
    printf("\n  create failed: %s\n", err);
    return;
  }
  s->rc = core_engine_run(e);
  snprintf(s->error, sizeof s->error, "%s", s->rc ? core_engine_error(e) : "");
  uint64_t local[3] = {0, 0, 0}, total[3];
  for (int t = 0; t < s->threads; t++) {
    const core_stats *st = core_engine_stats(e, t);
    local[0] += st->events;
    local[1] += st->sent_thread + st->sent_rank;
    local[2] = st->windows > local[2] ? st->windows : local[2];
  }
  MPI_Allreduce(local, total, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  MPI_Allreduce(&local[2], &total[2], 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  s->events = total[0];
  s->sent_cross = total[1];
  s->windows = total[2];
  s->lookahead_used_ns = core_engine_lookahead(e);
  s->reached_ns = -1;
  s->stopped = s->rc == 0 && core_engine_stopped(e, &s->reached_ns);
  int64_t mine[2] = {s->stopped, s->reached_ns}, lo[2], hi[2];
  MPI_Allreduce(mine, lo, 2, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(mine, hi, 2, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  s->stops_agree = lo[0] == hi[0] && lo[1] == hi[1];
  core_engine_destroy(e);
  /* Each LP's log was written by its owner only, the others hold zeros: OR them together. */
  MPI_Allreduce(MPI_IN_PLACE, s->logs, (int)sizeof s->logs, MPI_UINT8_T, MPI_BOR, MPI_COMM_WORLD);
}

static scenario *new_scenario(uint32_t lp_count, int threads, int64_t end_ns,
                              int64_t lookahead_ns) {
  scenario *s = calloc(1, sizeof *s);
  if (!s || lp_count > MAX_LPS)
    abort();
  *s = (scenario){
      .lp_count = lp_count, .threads = threads, .end_ns = end_ns, .lookahead_ns = lookahead_ns};
  return s;
}

/* True when msg names "LP <id>" as a whole number (so LP 3 is not found in "LP 35"). */
static int names_lp(const char *msg, uint32_t id) {
  char token[32];
  int n = snprintf(token, sizeof token, "LP %u", id);
  for (const char *at = strstr(msg, token); at; at = strstr(at + 1, token))
    if (at[n] < '0' || at[n] > '9')
      return 1;
  return 0;
}

static void assert_failed_naming(const scenario *s, uint32_t a, uint32_t b, const char *word) {
  CU_ASSERT_EQUAL(s->rc, -1);
  CU_ASSERT(names_lp(s->error, a));
  CU_ASSERT(names_lp(s->error, b));
  CU_ASSERT_PTR_NOT_NULL(strstr(s->error, word));
  if (!names_lp(s->error, a) || !names_lp(s->error, b) || !strstr(s->error, word))
    printf("\n  error was: '%s'\n", s->error);
}

/* ---- creation ---- */

static void engine_create_refuses_bad_configs_with_a_message(void) {
  uint32_t placement[4] = {0, 0, 0, 0};
  scenario s = {0};
  core_lp_map four, none;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&four, &(core_lp_kind){&scenario_lp, 4, &s}, 1), 0);
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
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, &(core_lp_kind){&scenario_lp, 2, &s}, 1), 0);
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
  const core_lp_kind kinds[] = {{&counter_lp, 3, &a}, {&counter_lp, 0, &a}, {&counter_lp, 5, &b}};
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
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  static const harness_test tests[] = {
      {"engine_create_refuses_bad_configs_with_a_message",
       engine_create_refuses_bad_configs_with_a_message},
      {"engine_ping_pong_processes_expected_events_at_expected_times",
       engine_ping_pong_processes_expected_events_at_expected_times},
      {"engine_equal_times_at_one_lp_are_handled_by_source_then_sequence",
       engine_equal_times_at_one_lp_are_handled_by_source_then_sequence},
      {"engine_self_event_at_the_current_time_follows_the_event_being_handled",
       engine_self_event_at_the_current_time_follows_the_event_being_handled},
      {"engine_stops_at_end_ns_without_handling_events_at_or_after_it",
       engine_stops_at_end_ns_without_handling_events_at_or_after_it},
      {"engine_stops_when_no_events_remain_before_end_ns",
       engine_stops_when_no_events_remain_before_end_ns},
      {"engine_refuses_zero_and_negative_latency_naming_both_lps",
       engine_refuses_zero_and_negative_latency_naming_both_lps},
      {"engine_refuses_cross_partition_send_below_lookahead",
       engine_refuses_cross_partition_send_below_lookahead},
      {"engine_delivers_cross_partition_send_at_exactly_the_lookahead",
       engine_delivers_cross_partition_send_at_exactly_the_lookahead},
      {"engine_refuses_unknown_destination_and_oversized_payload",
       engine_refuses_unknown_destination_and_oversized_payload},
      {"engine_one_way_cut_lets_the_sender_run_ahead_in_few_windows",
       engine_one_way_cut_lets_the_sender_run_ahead_in_few_windows},
      {"engine_uniform_lookahead_advances_window_by_window",
       engine_uniform_lookahead_advances_window_by_window},
      {"engine_refuses_a_send_without_a_cut_or_below_its_latency",
       engine_refuses_a_send_without_a_cut_or_below_its_latency},
      {"engine_create_refuses_cuts_between_no_partitions",
       engine_create_refuses_cuts_between_no_partitions},
      {"engine_lp_kinds_take_consecutive_ids_with_their_own_model_and_state",
       engine_lp_kinds_take_consecutive_ids_with_their_own_model_and_state},
      {"engine_model_failure_stops_every_partition_within_a_window",
       engine_model_failure_stops_every_partition_within_a_window},
      {"engine_stop_flag_on_one_rank_stops_every_partition_at_the_same_window",
       engine_stop_flag_on_one_rank_stops_every_partition_at_the_same_window},
      {"engine_max_wall_stops_every_partition_at_the_first_window",
       engine_max_wall_stops_every_partition_at_the_first_window},
      {"engine_run_that_ends_is_not_stopped", engine_run_that_ends_is_not_stopped},
      {NULL, NULL}};
  int failed = harness_run("engine", tests, argc > 1 ? argv[1] : NULL, rank == 0);
  MPI_Finalize();
  return failed;
}
