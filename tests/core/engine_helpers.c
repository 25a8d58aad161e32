/* What the engine's unit tests share (tests/core/engine_helpers.h): the toy model that logs what
 * its LPs handle, placements, a run merged over ranks, the check of a run's failure, and the main
 * of a test program. */
#include "engine_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ranks(void) {
  int n;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

uint32_t partitions(int threads) { return (uint32_t)ranks() * (uint32_t)threads; }

/* ---- the model: every LP logs what it handles, then does what the scenario says ---- */

/* A replicated LP's copies away from home act but do not log: its log is its home copy's. */
static int scenario_init(core_lp *lp, void *model) {
  scenario *s = model;
  s->logs[lp->id].inits += core_lp_home(lp);
  return s->init ? s->init(lp, s) : 0;
}

static int scenario_handle(core_lp *lp, const core_event *ev, void *model) {
  scenario *s = model;
  lp_log *log = &s->logs[lp->id];
  if (!core_lp_home(lp))
    return s->react ? s->react(lp, ev, s) : 0;
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

const core_lp_type scenario_lp = {.name = "scenario",
                                  .init = scenario_init,
                                  .handle = scenario_handle,
                                  .finish = scenario_finish};

/* Sends and remembers core_send's answer in the sender's log. */
int send_logged(core_lp *lp, scenario *s, uint32_t dst, int64_t delay_ns, uint32_t kind,
                uint64_t payload) {
  int rc = core_send(lp, dst, delay_ns, kind, 1000 + lp->id, &payload, sizeof payload);
  s->logs[lp->id].last_send_rc = rc;
  return rc;
}

/* LP i on partition floor(i * partitions / lp_count), as part_block does. */
void place_blocks(scenario *s) {
  uint32_t p = partitions(s->threads);
  for (uint32_t i = 0; i < s->lp_count; i++)
    s->lp_partition[i] = (uint32_t)((uint64_t)i * p / s->lp_count);
}

/* LP 0 on the first partition, every other LP on the last: apart whenever there are two. */
void place_first_and_last(scenario *s) {
  for (uint32_t i = 0; i < s->lp_count; i++)
    s->lp_partition[i] = i == 0 ? 0 : partitions(s->threads) - 1;
}

void run_scenario(scenario *s) {
  memset(s->logs, 0, sizeof s->logs);
  core_lp_map map;
  core_lp_kind kinds[2] = {{&scenario_lp, s->replicated, s, true},
                           {&scenario_lp, s->lp_count - s->replicated, s, false}};
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, kinds, 2), 0);
  core_config cfg = {
      .lps = &map,
      .lp_partition = s->lp_partition,
      .threads = s->threads,
      .end_ns = s->end_ns,
      .lookahead_ns = s->lookahead_ns,
      .seed = 1,
      .cuts = s->cut_count || s->no_cuts ? s->cuts : NULL,
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

scenario *new_scenario(uint32_t lp_count, int threads, int64_t end_ns, int64_t lookahead_ns) {
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

void assert_failed_naming(const scenario *s, uint32_t a, uint32_t b, const char *word) {
  CU_ASSERT_EQUAL(s->rc, -1);
  CU_ASSERT(names_lp(s->error, a));
  CU_ASSERT(names_lp(s->error, b));
  CU_ASSERT_PTR_NOT_NULL(strstr(s->error, word));
  if (!names_lp(s->error, a) || !names_lp(s->error, b) || !strstr(s->error, word))
    printf("\n  error was: '%s'\n", s->error);
}

int run_engine_tests(const char *suite, const harness_test *tests, int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int failed = harness_run(suite, tests, argc > 1 ? argv[1] : NULL, rank == 0);
  MPI_Finalize();
  return failed;
}
