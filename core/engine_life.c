/* The engine's life cycle: the cuts' setup, creating and destroying the engine (with the window's
 * all-reduce operator, which creating it registers), its accessors and statistics, and the LP map.
 * Sending, the window loop and core_engine_run are in engine.c. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "engine_private.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- life cycle ---- */

/* The cut channels between partitions, from cfg or (without cuts) every pair at the lookahead:
 * the list for the fixpoint, the local partitions' rows, and the least latency. Checks that they
 * name real partitions. Returns 0, or -1 with why in err. */
static int setup_cuts(core_engine *e, const core_config *cfg, char *err, size_t err_len) {
  size_t P = e->partitions;
  e->cut_rows = malloc((size_t)e->threads * P * sizeof *e->cut_rows);
  e->earliest = malloc(P * sizeof *e->earliest);
  if (!e->cut_rows || !e->earliest)
    return snprintf(err, err_len, "engine: out of memory for %zu partitions", P), -1;
  for (size_t i = 0; i < (size_t)e->threads * P; i++)
    e->cut_rows[i] = cfg->cuts ? CORE_TIME_NEVER : cfg->lookahead_ns;
  for (int t = 0; t < e->threads; t++)
    e->parts[t].in_latency_ns = cfg->cuts ? CORE_TIME_NEVER : cfg->lookahead_ns;
  e->lookahead_ns = P > 1 && !cfg->cuts ? cfg->lookahead_ns : CORE_TIME_NEVER;
  if (!cfg->cuts)
    return 0;
  e->cuts = malloc((cfg->cut_count ? cfg->cut_count : 1) * sizeof *e->cuts);
  if (!e->cuts)
    return snprintf(err, err_len, "engine: out of memory for %zu cuts", cfg->cut_count), -1;
  for (size_t c = 0; c < cfg->cut_count; c++) {
    core_cut cut = cfg->cuts[c];
    if (cut.from >= P || cut.to >= P || cut.from == cut.to || cut.latency_ns < 1)
      return snprintf(err, err_len,
                      "engine: cut %zu (partition %u to %u, %lld ns) is not between two of the %zu "
                      "partitions with a latency of at least 1 ns",
                      c, cut.from, cut.to, (long long)cut.latency_ns, P),
             -1;
    e->cuts[e->cut_count++] = cut;
    if (cut.latency_ns < e->lookahead_ns)
      e->lookahead_ns = cut.latency_ns;
    if (cut.from / (uint32_t)e->threads == (uint32_t)e->rank) {
      int64_t *row = e->cut_rows + (size_t)(cut.from % (uint32_t)e->threads) * P;
      row[cut.to] = cut.latency_ns < row[cut.to] ? cut.latency_ns : row[cut.to];
    }
    if (cut.to / (uint32_t)e->threads == (uint32_t)e->rank) {
      core_partition *p = &e->parts[cut.to % (uint32_t)e->threads];
      p->in_latency_ns = cut.latency_ns < p->in_latency_ns ? cut.latency_ns : p->in_latency_ns;
    }
  }
  return 0;
}

/* Whether each thread of each of this node's ranks has a processor of its own. */
static bool threads_have_cores(MPI_Comm comm, int threads) {
  MPI_Comm node;
  int local_ranks = 1;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    MPI_Comm_size(node, &local_ranks);
    MPI_Comm_free(&node);
  }
  cpu_set_t mine;
  int allowed = sched_getaffinity(0, sizeof mine, &mine) == 0 ? CPU_COUNT(&mine) : 1;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return threads <= allowed && (long)local_ranks * threads <= (online > 0 ? online : 1);
}

/* The all-reduce operator over {partitions, earliest pending event of each partition (min),
 * messages bound for each rank (sum), flags (or)}: the layout is read from the vector itself. */
static void reduce_window(void *in, void *inout, int *len, MPI_Datatype *type) {
  (void)type;
  const int64_t *a = in;
  int64_t *b = inout;
  int64_t partitions = b[0], ranks = *len - 2 - partitions;
  for (int64_t i = 1; i <= partitions; i++)
    b[i] = a[i] < b[i] ? a[i] : b[i];
  for (int64_t i = 1 + partitions; i <= partitions + ranks; i++)
    b[i] += a[i];
  b[*len - 1] |= a[*len - 1];
}

core_engine *core_engine_create(const core_config *cfg, MPI_Comm comm, char *err, size_t err_len) {
  int rank, ranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const char *why = NULL;
  if (cfg->threads < 1)
    why = "threads must be at least 1";
  else if (!cfg->lps || core_lp_map_lps(cfg->lps) == 0)
    why = "there are no LPs";
  else if (!cfg->cuts && cfg->lookahead_ns < 1)
    why = "the lookahead must be at least 1 ns";
  else if (!cfg->lp_partition)
    why = "lp_partition is required";
  else if (cfg->checkpoint_every_ns < 0 || cfg->checkpoint_every_wall_s < 0)
    why = "checkpoint intervals cannot be negative";
  else if (!cfg->checkpoint && (cfg->checkpoint_every_ns > 0 || cfg->checkpoint_every_wall_s > 0 ||
                                cfg->checkpoint_on_stop))
    why = "checkpoints are asked for, but there is no checkpoint callback";
  else if (cfg->restore && cfg->restore_count == 0)
    why = "a restart needs the checkpoint's parts (restore_count is 0)";
  if (why) {
    snprintf(err, err_len, "engine: %s", why);
    return NULL;
  }
  core_engine *e = calloc(1, sizeof *e);
  if (!e) {
    snprintf(err, err_len, "engine: out of memory");
    return NULL;
  }
  e->cfg = *cfg;
  e->comm = comm;
  e->reduce_op = MPI_OP_NULL;
  e->checkpoint_at = CORE_TIME_NEVER;
  e->payload_comm[0] = e->payload_comm[1] = MPI_COMM_NULL;
  e->rank = rank;
  e->ranks = ranks;
  e->threads = cfg->threads;
  e->partitions = (uint32_t)ranks * (uint32_t)cfg->threads;
  e->lp_count = core_lp_map_lps(cfg->lps);
  e->place = malloc(e->lp_count * sizeof *e->place);
  e->parts = aligned_alloc(64, (size_t)e->threads * sizeof *e->parts);
  if (e->parts)
    memset(e->parts, 0, (size_t)e->threads * sizeof *e->parts);
  e->inbox = calloc((size_t)e->threads, sizeof *e->inbox);
  e->requests = malloc((size_t)e->threads * e->partitions * sizeof *e->requests);
  e->reduce_len = 2 + e->partitions + (size_t)ranks;
  e->reduce_buf = malloc(e->reduce_len * sizeof *e->reduce_buf);
  size_t *counts = calloc(e->partitions, sizeof *counts);
  for (size_t k = 0; k < cfg->lps->count; k++)
    e->replicas += cfg->lps->kinds[k].replicated ? cfg->lps->kinds[k].count : 0;
  e->replica_home = malloc((e->replicas ? e->replicas : 1) * sizeof *e->replica_home);
  if (!e->place || !e->parts || !e->inbox || !e->requests || !e->reduce_buf || !counts ||
      !e->replica_home) {
    free(counts);
    core_engine_destroy(e);
    snprintf(err, err_len, "engine: out of memory for %u LPs", core_lp_map_lps(cfg->lps));
    return NULL;
  }
  for (uint32_t id = 0, replica = 0; id < e->lp_count; id++) {
    uint32_t part = cfg->lp_partition[id];
    if (part >= e->partitions) {
      snprintf(err, err_len, "engine: LP %u is placed on partition %u, but there are %u", id, part,
               e->partitions);
      free(counts);
      core_engine_destroy(e);
      return NULL;
    }
    if (cfg->lps->kinds[core_lp_map_kind_of(cfg->lps, id, &(uint32_t){0})].replicated) {
      e->replica_home[replica] = part;
      e->place[id] = (lp_place){PLACE_REPLICATED, replica++};
    } else {
      e->place[id] = (lp_place){part, e->replicas + (uint32_t)counts[part]++};
    }
  }
  if (setup_cuts(e, cfg, err, err_len) != 0) {
    free(counts);
    core_engine_destroy(e);
    return NULL;
  }
  int ok = 1;
  for (int t = 0; t < e->threads; t++) {
    core_partition *p = &e->parts[t];
    p->engine = e;
    p->thread = t;
    p->index = (uint32_t)rank * (uint32_t)e->threads + (uint32_t)t;
    p->lp_count = e->replicas + counts[p->index];
    p->lps = calloc(p->lp_count ? p->lp_count : 1, sizeof *p->lps);
    p->outbox = calloc(e->partitions, sizeof *p->outbox);
    p->min_sent = malloc(e->partitions * sizeof *p->min_sent);
    p->cut = e->cut_rows + (size_t)t * e->partitions;
    p->end_ns = cfg->end_ns;
    ok &= p->lps && p->outbox && p->min_sent && core_queue_init(&p->queue, cfg->pending_hint) == 0;
    for (uint32_t q = 0; p->min_sent && q < e->partitions; q++)
      p->min_sent[q] = CORE_TIME_NEVER;
  }
  free(counts);
  atomic_init(&e->barrier.waiting, e->threads);
  atomic_init(&e->barrier.sense, 0);
  atomic_init(&e->barrier.sleepers, 0);
  e->barrier.threads = e->threads;
  /* Poll for 2 ms (yielding the processor where processors are shared): longer than the waits of
   * busy windows, which a sleep's wake-up would lengthen (PHOLD with 1 ms windows lost 10% when
   * waits over 200 us slept), shorter than what an idle partition waits. */
  e->barrier.shared = !threads_have_cores(comm, e->threads);
  e->barrier.spin_s = 2e-3;
  MPI_Op_create(reduce_window, 1, &e->reduce_op);
  MPI_Comm_dup(comm, &e->payload_comm[0]);
  MPI_Comm_dup(comm, &e->payload_comm[1]);
  int all_ok;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm); /* no rank runs alone into a hang */
  if (!all_ok) {
    core_engine_destroy(e);
    snprintf(err, err_len,
             ok ? "engine: another rank ran out of memory for its partitions"
                : "engine: out of memory for partitions");
    return NULL;
  }
  return e;
}

void core_engine_destroy(core_engine *e) {
  if (!e)
    return;
  for (int t = 0; e->parts && t < e->threads; t++) {
    core_partition *p = &e->parts[t];
    for (size_t i = 0; p->lps && i < p->lp_count; i++) {
      core_lp *lp = &p->lps[i];
      if (!lp->type || (lp->type->state_bytes && !lp->state))
        continue; /* never created */
      if (lp->type->destroy)
        lp->type->destroy(lp, lp->model);
      if (lp->type->state_bytes)
        free(lp->state);
    }
    free(p->lps);
    core_queue_free(&p->queue);
    for (uint32_t q = 0; p->outbox && q < e->partitions; q++)
      free(p->outbox[q].events);
    free(p->outbox);
    free(p->min_sent);
  }
  for (int t = 0; e->inbox && t < e->threads; t++)
    free(e->inbox[t].events);
  if (e->reduce_op != MPI_OP_NULL)
    MPI_Op_free(&e->reduce_op);
  for (int i = 0; i < 2; i++)
    if (e->payload_comm[i] != MPI_COMM_NULL)
      MPI_Comm_free(&e->payload_comm[i]);
  free(e->inbox);
  free(e->requests);
  free(e->reduce_buf);
  free(e->cuts);
  free(e->cut_rows);
  free(e->earliest);
  engine_restore_free(e->restore);
  free(e->parts);
  free(e->place);
  free(e->replica_home);
  free(e);
}

const char *core_engine_error(const core_engine *e) { return e->error; }

bool core_engine_stopped(const core_engine *e, int64_t *reached_ns) {
  if (e->stopped && reached_ns)
    *reached_ns = e->reached_ns;
  return e->stopped;
}
/* The local LPs: every partition's own, then the replicated ones whose home is here. */
size_t core_engine_local_lp_count(const core_engine *e) {
  size_t n = 0;
  for (int t = 0; t < e->threads; t++) {
    n += e->parts[t].lp_count - e->replicas;
    for (uint32_t r = 0; r < e->replicas; r++)
      n += !e->parts[t].lps[r].copy;
  }
  return n;
}

core_lp *core_engine_local_lp(core_engine *e, size_t i) {
  for (int t = 0; t < e->threads; t++) {
    core_partition *p = &e->parts[t];
    if (i < p->lp_count - e->replicas)
      return &p->lps[e->replicas + i];
    i -= p->lp_count - e->replicas;
  }
  for (int t = 0; t < e->threads; t++)
    for (uint32_t r = 0; r < e->replicas; r++)
      if (!e->parts[t].lps[r].copy && i-- == 0)
        return &e->parts[t].lps[r];
  return NULL;
}

int64_t core_engine_lookahead(const core_engine *e) { return e->lookahead_ns; }
int core_engine_partitions(const core_engine *e) { return e->threads; }
const core_stats *core_engine_stats(const core_engine *e, int thread) {
  return &e->parts[thread].stats;
}

void core_engine_print_stats(core_engine *e, FILE *out) {
  size_t n = (size_t)e->threads;
  core_stats *all = NULL;
  core_stats *mine = malloc(n * sizeof *mine);
  for (size_t t = 0; t < n; t++)
    mine[t] = e->parts[t].stats;
  if (e->rank == 0)
    all = malloc(n * (size_t)e->ranks * sizeof *all);
  MPI_Gather(mine, (int)(n * sizeof *mine), MPI_BYTE, all, (int)(n * sizeof *mine), MPI_BYTE, 0,
             e->comm);
  free(mine);
  if (e->rank != 0)
    return;
  fprintf(out, "%-5s %-6s %12s %9s %10s %11s %11s %11s %9s %9s %9s\n", "rank", "thread", "events",
          "windows", "ev/window", "sent_thr", "sent_rank", "received", "pend_max", "proc_s",
          "sync_s");
  for (size_t i = 0; i < n * (size_t)e->ranks; i++) {
    const core_stats *s = &all[i];
    fprintf(out, "%-5zu %-6zu %12llu %9llu %10.1f %11llu %11llu %11llu %9llu %9.3f %9.3f\n", i / n,
            i % n, (unsigned long long)s->events, (unsigned long long)s->windows,
            s->windows ? (double)s->events / (double)s->windows : 0.0,
            (unsigned long long)s->sent_thread, (unsigned long long)s->sent_rank,
            (unsigned long long)s->received_remote, (unsigned long long)s->pending_peak,
            s->process_s, s->sync_s);
  }
  free(all);
}

/* ---- the LP map ---- */

int core_lp_map_init(core_lp_map *map, const core_lp_kind *kinds, size_t count) {
  if (count > CORE_MAX_KINDS)
    return -1;
  *map = (core_lp_map){.count = count};
  uint64_t next = 0;
  for (size_t k = 0; k < count; k++) {
    map->kinds[k] = kinds[k];
    map->first[k] = (uint32_t)next;
    next += kinds[k].count;
    if (next >= UINT32_MAX)
      return -1;
  }
  map->first[count] = (uint32_t)next;
  return 0;
}

size_t core_lp_map_kind_of(const core_lp_map *map, uint32_t id, uint32_t *index) {
  size_t k = 0;
  while (k + 1 < map->count && id >= map->first[k + 1])
    k++;
  *index = id - map->first[k];
  return k;
}
