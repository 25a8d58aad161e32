/* Unit tests of the engine's checkpoints and restarts, in process, at any rank count: a PHOLD-like
 * model whose LPs draw random numbers and hash every event they handle, in order, ends in the same
 * state whether it runs straight through or restarts from a checkpoint, at any rank and thread
 * count; checkpoints fire when asked (simulated time, wall time, a stop); and damaged or mismatched
 * checkpoints are refused with a message on every rank. A second engine runs on MPI_COMM_SELF, so
 * that at two ranks a checkpoint of two ranks restarts at one, and one of one rank at two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "harness.h"

enum { LPS = 12, START_EVENTS = 4, MAX_CHECKPOINTS = 4096, ERROR_BYTES = 512 };
static const int64_t END_NS = 20000, LOOKAHEAD_NS = 100;

/* An LP's state: a hash of every event it handled, in order, and counts. */
typedef struct lp_state {
  uint64_t hash, handled, sent, rng_counter; /* rng_counter: draws, read at finish */
  int64_t finish_now_ns;
  uint32_t finished;
} lp_state;

/* One checkpoint's engine parts, every rank's, on every rank. */
typedef struct saved {
  core_pack *packs;
  size_t count;
} saved;

/* A run of the model and what it saw. The test fills the top part; run_model the rest. */
typedef struct model {
  MPI_Comm comm;
  int threads;
  uint32_t lps;
  uint64_t seed;
  int64_t end_ns;
  int64_t every_ns;
  double every_wall_s;
  bool on_stop;
  int64_t stop_at_ns; /* > 0: LP 0 raises the stop flag once it reaches this time */
  const core_lp_type *type;
  bool short_load; /* load leaves the last byte of its record unread */
  const core_unpack *restore;
  size_t restore_count;

  volatile sig_atomic_t stop_flag;
  lp_state states[LPS]; /* merged over the comm's ranks after the run */
  int rc;
  bool rc_agrees;
  char error[ERROR_BYTES];
  uint64_t events; /* summed over partitions and ranks */
  bool stopped;
  int64_t reached_ns;
  saved first; /* the first checkpoint */
  int checkpoints;
  int64_t at_ns[MAX_CHECKPOINTS];
  uint32_t finished_at_checkpoint; /* LPs of this rank finished when a checkpoint was taken */
} model;

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

/* ---- the model: PHOLD, one event onward per event, a quarter of them to a random LP ---- */

static int phold_send(core_lp *lp, const model *m) {
  lp_state *s = lp->state;
  bool away = core_rng_below(&lp->rng, 4) == 0;
  uint32_t dst = away ? core_rng_below(&lp->rng, m->lps) : lp->id;
  int64_t delay_ns = LOOKAHEAD_NS + (int64_t)core_rng_below(&lp->rng, 2 * LOOKAHEAD_NS);
  s->sent++;
  uint64_t payload = s->hash;
  return core_send(lp, dst, delay_ns, 0, (uint32_t)s->sent, &payload, sizeof payload);
}

static int phold_init(core_lp *lp, void *ctx) {
  for (int i = 0; i < START_EVENTS; i++)
    if (phold_send(lp, ctx) != 0)
      return -1;
  return 0;
}

static int phold_handle(core_lp *lp, const core_event *ev, void *ctx) {
  model *m = ctx;
  lp_state *s = lp->state;
  uint64_t fields[] = {(uint64_t)ev->time_ns, ev->src_lp, ev->send_seq, ev->aux,
                       ev->payload.u64[0]};
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    s->hash = mix(s->hash, fields[i]);
  s->handled++;
  if (m->stop_at_ns > 0 && lp->id == 0 && lp->now_ns >= m->stop_at_ns)
    m->stop_flag = 1;
  return phold_send(lp, m);
}

static int phold_finish(core_lp *lp, void *ctx) {
  (void)ctx;
  lp_state *s = lp->state;
  s->finished++;
  s->finish_now_ns = lp->now_ns;
  s->rng_counter = lp->rng.counter;
  return 0;
}

static int phold_save(const core_lp *lp, void *ctx, core_pack *out) {
  (void)ctx;
  const lp_state *s = lp->state;
  CORE_PACK(out, s->hash);
  CORE_PACK(out, s->handled);
  CORE_PACK(out, s->sent);
  return 0;
}

static int phold_load(core_lp *lp, void *ctx, core_unpack *in) {
  const model *m = ctx;
  lp_state *s = lp->state;
  CORE_UNPACK(in, s->hash);
  CORE_UNPACK(in, s->handled);
  if (m->short_load) {
    uint32_t part;
    CORE_UNPACK(in, part);
    s->sent = part;
    return 0;
  }
  CORE_UNPACK(in, s->sent);
  return in->failed ? -1 : 0;
}

static const core_lp_type phold_lp = {.name = "phold",
                                      .state_bytes = sizeof(lp_state),
                                      .init = phold_init,
                                      .handle = phold_handle,
                                      .finish = phold_finish,
                                      .save = phold_save,
                                      .load = phold_load};
static const core_lp_type phold_unloadable_lp = {.name = "phold_unloadable",
                                                 .state_bytes = sizeof(lp_state),
                                                 .init = phold_init,
                                                 .handle = phold_handle,
                                                 .save = phold_save};
static const core_lp_type phold_unsavable_lp = {.name = "phold_unsavable",
                                                .state_bytes = sizeof(lp_state),
                                                .init = phold_init,
                                                .handle = phold_handle,
                                                .load = phold_load};

/* ---- checkpoints kept in memory ---- */

static void saved_free(saved *s) {
  for (size_t i = 0; i < s->count; i++)
    core_pack_free(&s->packs[i]);
  free(s->packs);
  *s = (saved){0};
}

/* Every rank's pack, on every rank. */
static void gather(MPI_Comm comm, const core_pack *mine, saved *out) {
  int ranks;
  MPI_Comm_size(comm, &ranks);
  uint64_t len = mine->len, *lens = calloc((size_t)ranks, sizeof *lens);
  MPI_Allgather(&len, 1, MPI_UINT64_T, lens, 1, MPI_UINT64_T, comm);
  out->count = (size_t)ranks;
  out->packs = calloc((size_t)ranks, sizeof *out->packs);
  for (int r = 0; r < ranks; r++) {
    core_pack *p = &out->packs[r];
    p->len = p->cap = lens[r];
    p->data = malloc(lens[r] ? lens[r] : 1);
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (r == rank && mine->len) /* an empty pack (a failed save) has no data */
      memcpy(p->data, mine->data, mine->len);
    MPI_Bcast(p->data, (int)lens[r], MPI_BYTE, r, comm);
  }
  free(lens);
}

static int keep_checkpoint(MPI_Comm comm, core_engine *e, int64_t at_ns, void *ctx) {
  model *m = ctx;
  core_pack mine = {0};
  int rc = core_engine_save(e, &mine);
  if (m->checkpoints == 0)
    gather(comm, &mine, &m->first);
  if (m->checkpoints < MAX_CHECKPOINTS)
    m->at_ns[m->checkpoints] = at_ns;
  m->checkpoints++;
  for (size_t i = 0; i < core_engine_local_lp_count(e); i++)
    m->finished_at_checkpoint += ((lp_state *)core_engine_local_lp(e, i)->state)->finished;
  core_pack_free(&mine);
  return rc;
}

/* Unpacks of a saved checkpoint's parts, to restart from (free the array). */
static core_unpack *unpacks(const saved *s) {
  core_unpack *u = calloc(s->count, sizeof *u);
  for (size_t i = 0; i < s->count; i++)
    u[i] = core_unpack_of(s->packs[i].data, s->packs[i].len);
  return u;
}

/* ---- runs ---- */

static model *new_model(MPI_Comm comm, int threads) {
  model *m = calloc(1, sizeof *m);
  if (!m)
    abort();
  *m = (model){
      .comm = comm, .threads = threads, .lps = LPS, .seed = 7, .end_ns = END_NS, .type = &phold_lp};
  return m;
}

static void free_model(model *m) {
  saved_free(&m->first);
  free(m);
}

static void run_model(model *m) {
  int ranks;
  MPI_Comm_size(m->comm, &ranks);
  uint32_t partitions = (uint32_t)ranks * (uint32_t)m->threads, placement[LPS];
  for (uint32_t i = 0; i < m->lps; i++)
    placement[i] = (uint32_t)((uint64_t)i * partitions / m->lps);
  core_lp_map map;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, &(core_lp_kind){m->type, m->lps, m, false}, 1), 0);
  bool checkpoints = m->every_ns > 0 || m->every_wall_s > 0 || m->on_stop;
  core_config cfg = {.lps = &map,
                     .lp_partition = placement,
                     .threads = m->threads,
                     .end_ns = m->end_ns,
                     .lookahead_ns = LOOKAHEAD_NS,
                     .seed = m->seed,
                     .context = m,
                     .stop_flag = m->stop_at_ns > 0 ? &m->stop_flag : NULL,
                     .checkpoint_every_ns = m->every_ns,
                     .checkpoint_every_wall_s = m->every_wall_s,
                     .checkpoint_on_stop = m->on_stop,
                     .checkpoint = checkpoints ? keep_checkpoint : NULL,
                     .restore = m->restore,
                     .restore_count = m->restore_count};
  char err[ERROR_BYTES] = "";
  core_engine *e = core_engine_create(&cfg, m->comm, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  m->rc = core_engine_run(e);
  snprintf(m->error, sizeof m->error, "%s", m->rc ? core_engine_error(e) : "");
  int lo, hi;
  MPI_Allreduce(&m->rc, &lo, 1, MPI_INT, MPI_MIN, m->comm);
  MPI_Allreduce(&m->rc, &hi, 1, MPI_INT, MPI_MAX, m->comm);
  m->rc_agrees = lo == hi;
  uint64_t events = 0;
  for (int t = 0; t < m->threads; t++)
    events += core_engine_stats(e, t)->events;
  MPI_Allreduce(&events, &m->events, 1, MPI_UINT64_T, MPI_SUM, m->comm);
  m->stopped = m->rc == 0 && core_engine_stopped(e, &m->reached_ns);
  memset(m->states, 0, sizeof m->states);
  for (size_t i = 0; m->rc == 0 && i < core_engine_local_lp_count(e); i++) {
    core_lp *lp = core_engine_local_lp(e, i);
    m->states[lp->id] = *(lp_state *)lp->state;
  }
  core_engine_destroy(e);
  /* Each LP's state was copied by its owner only, the others hold zeros: OR them together. */
  MPI_Allreduce(MPI_IN_PLACE, m->states, (int)sizeof m->states, MPI_UINT8_T, MPI_BOR, m->comm);
}

/* A run restarted from `from` (borrowed for the call). */
static model *restarted(MPI_Comm comm, int threads, const saved *from) {
  model *m = new_model(comm, threads);
  core_unpack *u = unpacks(from);
  m->restore = u;
  m->restore_count = from->count;
  run_model(m);
  free(u);
  return m;
}

static model *uninterrupted(void) {
  model *m = new_model(MPI_COMM_WORLD, 1);
  run_model(m);
  CU_ASSERT_EQUAL(m->rc, 0);
  return m;
}

static bool same_states(const model *a, const model *b) {
  bool same = memcmp(a->states, b->states, sizeof a->states) == 0;
  if (!same)
    printf("\n  final states differ (rc %d '%s' vs rc %d '%s')\n", a->rc, a->error, b->rc,
           b->error);
  return same;
}

static void assert_refused(const model *m, const char *word) {
  CU_ASSERT_EQUAL(m->rc, -1);
  CU_ASSERT(m->rc_agrees);
  CU_ASSERT_PTR_NOT_NULL(strstr(m->error, word));
  if (!strstr(m->error, word))
    printf("\n  expected '%s' in: '%s'\n", word, m->error);
}

/* ---- tests ---- */

static void checkpoint_and_restart_at_any_rank_and_thread_count_end_as_the_uninterrupted_run(void) {
  model *ref = uninterrupted();
  uint64_t handled = 0;
  for (int i = 0; i < LPS; i++)
    handled += ref->states[i].handled;
  CU_ASSERT(handled > 1000); /* the model does real work */
  CU_ASSERT_EQUAL(ref->events, handled);

  model *alone = new_model(MPI_COMM_SELF, 2);
  run_model(alone);
  CU_ASSERT(same_states(ref, alone));

  /* Checkpointing does not change the run: one every 7 us, the first kept. */
  model *ck = new_model(MPI_COMM_WORLD, 2);
  ck->every_ns = 7000;
  run_model(ck);
  CU_ASSERT_EQUAL(ck->rc, 0);
  CU_ASSERT(same_states(ref, ck));
  CU_ASSERT_EQUAL(ck->checkpoints, 2);
  CU_ASSERT(ck->at_ns[0] >= 7000 && ck->at_ns[0] < 14000);
  CU_ASSERT(ck->at_ns[1] >= 14000 && ck->at_ns[1] < END_NS);
  CU_ASSERT_EQUAL(ck->finished_at_checkpoint, 0);

  /* Restarts at 1 rank (1 and 2 threads) and at the test's ranks (1 and 2 threads). */
  const MPI_Comm comms[] = {MPI_COMM_SELF, MPI_COMM_WORLD};
  for (int c = 0; c < 2; c++)
    for (int threads = 1; threads <= 2; threads++) {
      model *r = restarted(comms[c], threads, &ck->first);
      CU_ASSERT_EQUAL(r->rc, 0);
      CU_ASSERT(same_states(ref, r));
      /* It started from the checkpoint: fewer events than the whole run, but some. */
      CU_ASSERT(r->events > 0 && r->events < ref->events);
      free_model(r);
    }

  /* A checkpoint of one rank, two threads, restarted at the test's ranks. */
  model *ck1 = new_model(MPI_COMM_SELF, 2);
  ck1->every_ns = 7000;
  run_model(ck1);
  CU_ASSERT(same_states(ref, ck1));
  CU_ASSERT_EQUAL(ck1->first.count, 1);
  model *r1 = restarted(MPI_COMM_WORLD, 2, &ck1->first);
  CU_ASSERT_EQUAL(r1->rc, 0);
  CU_ASSERT(same_states(ref, r1));
  free_model(r1);
  free_model(ck1);
  free_model(ck);
  free_model(alone);
  free_model(ref);
}

static void checkpoint_by_wall_time_fires_on_every_rank_and_changes_nothing(void) {
  model *ref = uninterrupted();
  model *ck = new_model(MPI_COMM_WORLD, 1);
  ck->every_wall_s = 1e-9; /* due at every chance: also inside one partition's one long window */
  run_model(ck);
  CU_ASSERT_EQUAL(ck->rc, 0);
  CU_ASSERT(same_states(ref, ck));
  CU_ASSERT(ck->checkpoints >= 2);
  int lo, hi;
  MPI_Allreduce(&ck->checkpoints, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&ck->checkpoints, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  CU_ASSERT_EQUAL(lo, hi);
  for (int i = 1; i < ck->checkpoints && i < MAX_CHECKPOINTS; i++)
    CU_ASSERT(ck->at_ns[i] > ck->at_ns[i - 1]);
  model *r = restarted(MPI_COMM_WORLD, 2, &ck->first);
  CU_ASSERT(same_states(ref, r));
  free_model(r);
  free_model(ck);
  free_model(ref);
}

static void checkpoint_on_stop_fires_before_the_lps_finish_and_restarts(void) {
  model *ref = uninterrupted();
  model *ck = new_model(MPI_COMM_WORLD, 2);
  ck->stop_at_ns = END_NS / 2;
  ck->on_stop = true;
  run_model(ck);
  CU_ASSERT_EQUAL(ck->rc, 0);
  CU_ASSERT(ck->stopped);
  CU_ASSERT_EQUAL(ck->checkpoints, 1);
  CU_ASSERT_EQUAL(ck->at_ns[0], ck->reached_ns);
  CU_ASSERT(ck->reached_ns >= END_NS / 2 && ck->reached_ns < END_NS);
  CU_ASSERT_EQUAL(ck->finished_at_checkpoint, 0);
  CU_ASSERT_EQUAL(ck->states[0].finished, 1); /* and they finish after it */
  model *r = restarted(MPI_COMM_SELF, 1, &ck->first);
  CU_ASSERT_EQUAL(r->rc, 0);
  CU_ASSERT(same_states(ref, r));
  free_model(r);
  free_model(ck);
  free_model(ref);
}

/* A restart of `m` (its settings changed by the caller) from parts `u`. */
static void restart_with(model *m, const core_unpack *u, size_t count) {
  m->restore = u;
  m->restore_count = count;
  run_model(m);
}

static void restart_refuses_damaged_or_mismatched_checkpoints_on_every_rank(void) {
  model *ck = new_model(MPI_COMM_WORLD, 1);
  ck->every_ns = 7000;
  run_model(ck);
  CU_ASSERT_EQUAL_FATAL(ck->checkpoints, 2);
  const saved *s = &ck->first;
  core_unpack *u = unpacks(s);

  model *m = new_model(MPI_COMM_WORLD, 1);
  m->seed = 8;
  restart_with(m, u, s->count);
  assert_refused(m, "seed");
  free_model(m);

  m = new_model(MPI_COMM_WORLD, 1);
  m->end_ns = END_NS + 1;
  restart_with(m, u, s->count);
  assert_refused(m, "end");
  free_model(m);

  m = new_model(MPI_COMM_WORLD, 1);
  m->lps = LPS - 1;
  restart_with(m, u, s->count);
  assert_refused(m, "LPs");
  free_model(m);

  m = new_model(MPI_COMM_WORLD, 1);
  m->type = &phold_unloadable_lp;
  restart_with(m, u, s->count);
  assert_refused(m, "phold_unloadable");
  assert_refused(m, "no load");
  free_model(m);

  m = new_model(MPI_COMM_WORLD, 2);
  m->short_load = true; /* reads 4 of the last 8 bytes of each record */
  restart_with(m, u, s->count);
  assert_refused(m, "load read");
  free_model(m);

  /* Every part cut short by one byte, then to the header's first field. */
  core_unpack *cut = unpacks(s);
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < s->count; i++)
      cut[i].len = k == 0 ? s->packs[i].len - 1 : 4;
    m = new_model(MPI_COMM_WORLD, 1);
    restart_with(m, cut, s->count);
    assert_refused(m, k == 0 ? "truncated" : "not an engine checkpoint");
    free_model(m);
  }
  free(cut);

  /* Not a checkpoint: its first byte changed. */
  s->packs[0].data[0] ^= 0xff;
  m = new_model(MPI_COMM_WORLD, 1);
  restart_with(m, u, s->count);
  assert_refused(m, "not an engine checkpoint");
  free_model(m);
  s->packs[0].data[0] ^= 0xff;

  /* The first part twice: its LPs are held twice. */
  core_unpack *twice = calloc(s->count + 1, sizeof *twice);
  twice[0] = u[0];
  memcpy(twice + 1, u, s->count * sizeof *u);
  m = new_model(MPI_COMM_WORLD, 1);
  restart_with(m, twice, s->count + 1);
  assert_refused(m, "both hold LP");
  free_model(m);
  free(twice);

  /* The last part left out (with two ranks' parts): its LPs are missing. */
  if (s->count > 1) {
    m = new_model(MPI_COMM_WORLD, 1);
    restart_with(m, u, s->count - 1);
    assert_refused(m, "no record of LP");
    free_model(m);
  }

  /* A model whose LP type cannot save: the checkpoint fails the run, naming it. */
  m = new_model(MPI_COMM_WORLD, 2);
  m->type = &phold_unsavable_lp;
  m->every_ns = 7000;
  run_model(m);
  assert_refused(m, "phold_unsavable");
  assert_refused(m, "no save");
  free_model(m);

  free(u);
  free_model(ck);
}

static void create_refuses_checkpoints_without_a_callback(void) {
  core_lp_map map;
  CU_ASSERT_EQUAL_FATAL(core_lp_map_init(&map, &(core_lp_kind){&phold_lp, 1, NULL, false}, 1), 0);
  uint32_t placement[1] = {0};
  core_config cfg = {.lps = &map,
                     .lp_partition = placement,
                     .threads = 1,
                     .end_ns = 10,
                     .lookahead_ns = 1,
                     .checkpoint_every_ns = 5};
  char err[ERROR_BYTES] = "";
  CU_ASSERT_PTR_NULL(core_engine_create(&cfg, MPI_COMM_SELF, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no checkpoint callback"));
  cfg.checkpoint_every_ns = -1;
  cfg.checkpoint = keep_checkpoint;
  CU_ASSERT_PTR_NULL(core_engine_create(&cfg, MPI_COMM_SELF, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "negative"));
}

int main(int argc, char **argv) {
  int provided, rank;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  static const harness_test tests[] = {
      {"checkpoint_and_restart_at_any_rank_and_thread_count_end_as_the_uninterrupted_run",
       checkpoint_and_restart_at_any_rank_and_thread_count_end_as_the_uninterrupted_run},
      {"checkpoint_by_wall_time_fires_on_every_rank_and_changes_nothing",
       checkpoint_by_wall_time_fires_on_every_rank_and_changes_nothing},
      {"checkpoint_on_stop_fires_before_the_lps_finish_and_restarts",
       checkpoint_on_stop_fires_before_the_lps_finish_and_restarts},
      {"restart_refuses_damaged_or_mismatched_checkpoints_on_every_rank",
       restart_refuses_damaged_or_mismatched_checkpoints_on_every_rank},
      {"create_refuses_checkpoints_without_a_callback",
       create_refuses_checkpoints_without_a_callback},
      {NULL, NULL}};
  int failed = harness_run("checkpoint", tests, argc > 1 ? argv[1] : NULL, rank == 0);
  MPI_Finalize();
  return failed;
}
