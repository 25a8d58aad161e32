/* PHOLD: every LP, on each event, sends one new event to itself or (with probability `remote`) to a
 * uniformly chosen LP, after lookahead + Exp(mean - lookahead) time units of 1 ms. The checksum
 * folds each LP's history (timestamp and source of every event, in processing order) into one hash
 * per LP, then adds the LPs' hashes, so any change of order shows and the placement of LPs does
 * not. */
#include "app/commands.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "partitions/part.h"

enum { NS_PER_UNIT = 1000000 }; /* one ROSS time unit is 1 ms of simulated time */

typedef struct phold {
  uint32_t lp_count;
  uint32_t start_events;
  uint64_t remote_threshold; /* a 32-bit draw below this picks a remote destination */
  int64_t lookahead_ns;
  double exp_mean_ns; /* mean of the exponential part of the delay */
  uint64_t *history;  /* [lp_count]: each LP's running hash (only local entries are used) */
  bool bind;
} phold;

static inline uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int phold_send(core_lp *lp, const phold *m) {
  uint32_t dst = core_rng_u32(&lp->rng) < m->remote_threshold
                     ? core_rng_below(&lp->rng, m->lp_count)
                     : lp->id;
  int64_t delay_ns = m->lookahead_ns + (int64_t)core_rng_exponential(&lp->rng, m->exp_mean_ns);
  return core_send(lp, dst, delay_ns, 0, 0, NULL, 0);
}

static int phold_init(core_lp *lp, void *model) {
  const phold *m = model;
  /* As ROSS: start events go to the LP itself. */
  for (uint32_t i = 0; i < m->start_events; i++) {
    int64_t delay_ns = m->lookahead_ns + (int64_t)core_rng_exponential(&lp->rng, m->exp_mean_ns);
    int rc = core_send(lp, lp->id, delay_ns, 0, 0, NULL, 0);
    if (rc)
      return rc;
  }
  return 0;
}

static int phold_handle(core_lp *lp, const core_event *ev, void *model) {
  uint64_t *h = lp->state;
  *h = mix64((*h ^ (uint64_t)ev->time_ns) + ev->src_lp * 0x9e3779b97f4a7c15ull);
  return phold_send(lp, model);
}

/* An LP's state is its entry of the model's history array: one array, no allocation per LP. */
static int phold_create(core_lp *lp, void *model) {
  phold *m = model;
  lp->state = &m->history[lp->id];
  m->history[lp->id] = 0;
  return 0;
}

static const core_lp_type phold_lp = {
    .name = "phold", .create = phold_create, .init = phold_init, .handle = phold_handle};

static void phold_thread_start(int thread, int threads, void *model) {
  const phold *m = model;
  if (m->bind && threads > 1)
    part_bind_thread(thread, threads);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel phold [options]\n"
          "PHOLD benchmark of the engine, with ROSS's parameters (one time unit is 1 ms).\n"
          "  --lps N            total LPs, whatever the rank count (default 16384)\n"
          "  --start-events N   initial events per LP (default 1)\n"
          "  --remote P         probability an event goes to a uniformly chosen LP (default 0.25)\n"
          "  --lookahead X      minimum delay and window length, in units (default 1)\n"
          "  --mean X           mean delay, lookahead + Exp(mean - lookahead) (default 2)\n"
          "  --end X            end time in units (default 1000)\n"
          "  --seed N           random seed (default 1)\n"
          "  --threads N        OpenMP threads per rank (default 1)\n"
          "  --no-bind          do not bind threads to cores\n"
          "  --stats            print per-partition engine statistics\n"
          "  -h, --help         this help\n"
          "The last line is: phold events=<n> checksum=<hex> wall_s=<s> events_per_s=<rate>\n");
}

static int parse_double(const char *name, const char *s, double lo, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v) || v < lo) {
    fprintf(stderr, "windtunnel phold: --%s expects a number >= %g, got '%s'\n", name, lo, s);
    return -1;
  }
  *out = v;
  return 0;
}

int app_phold(int argc, char **argv, MPI_Comm comm) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  double lps = 16384, start_events = 1, remote = 0.25, lookahead = 1, mean = 2, end = 1000,
         seed = 1;
  double threads = 1;
  bool stats = false, bind = true;
  static const struct option options[] = {
      {"lps", required_argument, 0, 'l'},    {"start-events", required_argument, 0, 's'},
      {"remote", required_argument, 0, 'r'}, {"lookahead", required_argument, 0, 'a'},
      {"mean", required_argument, 0, 'm'},   {"end", required_argument, 0, 'e'},
      {"seed", required_argument, 0, 'S'},   {"threads", required_argument, 0, 't'},
      {"stats", no_argument, 0, 'x'},        {"no-bind", no_argument, 0, 'b'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  optind = 1;
  opterr = rank == 0;
  int c, bad = 0;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case 'l': bad |= parse_double("lps", optarg, 1, &lps); break;
    case 's': bad |= parse_double("start-events", optarg, 0, &start_events); break;
    case 'r': bad |= parse_double("remote", optarg, 0, &remote); break;
    case 'a': bad |= parse_double("lookahead", optarg, 0, &lookahead); break;
    case 'm': bad |= parse_double("mean", optarg, 0, &mean); break;
    case 'e': bad |= parse_double("end", optarg, 0, &end); break;
    case 'S': bad |= parse_double("seed", optarg, 0, &seed); break;
    case 't': bad |= parse_double("threads", optarg, 1, &threads); break;
    case 'x': stats = true; break;
    case 'b': bind = false; break;
    case 'h':
      if (rank == 0)
        usage(stdout);
      return 0;
    default: bad = 1;
    }
  }
  const char *why = NULL;
  if (optind < argc)
    why = "unexpected argument";
  else if (lps > UINT32_MAX || lps != floor(lps))
    why = "--lps must be a whole number below 2^32";
  else if (remote > 1)
    why = "--remote is a probability in [0, 1]";
  else if (mean < lookahead)
    why = "--mean must be at least --lookahead";
  else if (lookahead * NS_PER_UNIT < 1)
    why =
        "--lookahead must be at least 1 ns (1e-6 units): every message needs a latency of at "
        "least 1 ns";
  else if (end * NS_PER_UNIT > 9e18)
    why = "--end is too large for 64-bit nanoseconds";
  else if (threads > 1024 || threads != floor(threads) || start_events != floor(start_events) ||
           start_events > UINT32_MAX || seed != floor(seed))
    why = "--threads, --start-events and --seed take whole numbers";
  if (bad || why) {
    if (rank == 0) {
      if (why)
        fprintf(stderr, "windtunnel phold: %s\n", why);
      fprintf(stderr, "run 'windtunnel phold --help' for the options\n");
    }
    return 2;
  }

  phold m = {
      .lp_count = (uint32_t)lps,
      .start_events = (uint32_t)start_events,
      .remote_threshold = (uint64_t)llround(remote * 4294967296.0),
      .lookahead_ns = llround(lookahead * NS_PER_UNIT),
      .exp_mean_ns = (mean - lookahead) * NS_PER_UNIT,
      .bind = bind,
  };
  uint32_t partitions = (uint32_t)ranks * (uint32_t)threads;
  uint32_t *placement = malloc(m.lp_count * sizeof *placement);
  m.history = malloc(m.lp_count * sizeof *m.history);
  if (!placement || !m.history) {
    fprintf(stderr, "windtunnel phold: out of memory for %u LPs\n", m.lp_count);
    free(placement);
    free(m.history);
    MPI_Abort(comm, 1);
  }
  part_block(m.lp_count, partitions, placement);
  core_lp_map lp_map;
  core_lp_map_init(&lp_map, &(core_lp_kind){&phold_lp, m.lp_count, &m, false}, 1);
  core_config cfg = {
      .lps = &lp_map,
      .lp_partition = placement,
      .threads = (int)threads,
      .end_ns = llround(end * NS_PER_UNIT),
      .lookahead_ns = m.lookahead_ns,
      .seed = (uint64_t)seed,
      /* each LP holds about start_events pending events */
      .pending_hint = (size_t)((double)m.lp_count * start_events / partitions * 1.05),
      .thread_start = phold_thread_start,
      .context = &m,
  };
  char err[512];
  core_engine *engine = core_engine_create(&cfg, comm, err, sizeof err);
  int status = 0;
  if (!engine) {
    if (rank == 0)
      fprintf(stderr, "windtunnel phold: %s\n", err);
    status = 1;
    goto out;
  }
  MPI_Barrier(comm);
  double t0 = MPI_Wtime();
  int rc = core_engine_run(engine);
  double wall_s = MPI_Wtime() - t0, wall_max;
  if (rc != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel phold: %s\n", core_engine_error(engine));
    status = 1;
    goto out;
  }
  uint64_t local[2] = {0, 0}, total[2];
  for (int t = 0; t < cfg.threads; t++)
    local[0] += core_engine_stats(engine, t)->events;
  for (size_t i = 0; i < core_engine_local_lp_count(engine); i++) {
    const core_lp *lp = core_engine_local_lp(engine, i);
    local[1] += mix64(*(const uint64_t *)lp->state ^ ((uint64_t)lp->id << 32 | lp->id));
  }
  MPI_Reduce(local, total, 2, MPI_UINT64_T, MPI_SUM, 0, comm);
  MPI_Reduce(&wall_s, &wall_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
  if (stats) {
    if (rank == 0) {
      int64_t la = core_engine_lookahead(engine);
      if (la == CORE_TIME_NEVER)
        printf("lookahead: none (one partition, nothing is cut)\n");
      else
        printf("lookahead: %lld ns\n", (long long)la);
    }
    core_engine_print_stats(engine, stdout);
  }
  if (rank == 0)
    printf("phold events=%" PRIu64 " checksum=%016" PRIx64 " wall_s=%.6f events_per_s=%.0f\n",
           total[0], total[1], wall_max, wall_max > 0 ? (double)total[0] / wall_max : 0.0);
out:
  core_engine_destroy(engine);
  free(placement);
  free(m.history);
  return status;
}
