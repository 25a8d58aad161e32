/* Placements evaluated and chosen: the cut channels a placement makes, and what it predicts.
 *
 * The prediction, per simulated second: the busiest partition's work (its events x event_s, plus
 * the cut events it receives) plus the windows x their cost (window_rank_s across ranks,
 * window_thread_s across threads), against all the work on one partition. Windows: none when the
 * cut channels form no cycle (a partition that hears from nobody runs ahead, and the rest follow in
 * a few windows); else one per least latency of a cut that lies on a cycle, the classic window,
 * which the engine's horizons can only lengthen. Auto keeps everything on one partition unless a
 * split predicts at least min_gain. */
#include "partitions/part.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "partitions/strategies.h"

/* A split must predict this much over one partition to be chosen by auto: below it, the
 * prediction's own error (the work estimate, the measured costs) could turn a gain into a loss. */
static const double min_gain = 1.1;

static const char *const strategy_names[] = {"auto", "one", "block", "topology", "metis"};

const char *part_strategy_name(part_strategy s) { return strategy_names[s]; }

int part_strategy_parse(const char *name, part_strategy *out) {
  for (size_t i = 0; i < sizeof strategy_names / sizeof *strategy_names; i++)
    if (strcmp(name, strategy_names[i]) == 0) {
      *out = (part_strategy)i;
      return 0;
    }
  return -1;
}

void part_plan_free(part_plan *plan) {
  free(plan->unit_partition);
  free(plan->cuts);
  *plan = (part_plan){0};
}

/* Whether partition `to` reaches `from` over the cuts: then the cut from -> to lies on a cycle. */
static bool reaches(const core_cut *cuts, size_t n, uint32_t to, uint32_t from, uint32_t parts,
                    uint8_t *seen, uint32_t *stack) {
  memset(seen, 0, parts);
  size_t top = 0;
  stack[top++] = to;
  seen[to] = 1;
  while (top) {
    uint32_t p = stack[--top];
    if (p == from)
      return true;
    for (size_t c = 0; c < n; c++)
      if (cuts[c].from == p && !seen[cuts[c].to])
        seen[cuts[c].to] = 1, stack[top++] = cuts[c].to;
  }
  return false;
}

/* Fills the plan's cuts and predictions from its unit_partition. Returns 0, or -1 out of memory. */
static int evaluate(const part_graph *g, const part_costs *costs, part_plan *plan) {
  uint32_t P = plan->partitions;
  double *work = calloc(P, sizeof *work);
  int64_t *latency = malloc((size_t)P * P * sizeof *latency);
  const char **by = calloc((size_t)P * P, sizeof *by);
  uint8_t *seen = malloc(P);
  uint32_t *stack = malloc(((size_t)P + 1) * sizeof *stack);
  free(plan->cuts);
  plan->cuts = NULL;
  plan->cut_count = 0;
  int rc = -1;
  if (!work || !latency || !by || !seen || !stack)
    goto out;
  for (size_t i = 0; i < (size_t)P * P; i++)
    latency[i] = CORE_TIME_NEVER;
  for (uint32_t u = 0; u < g->units; u++)
    work[plan->unit_partition[u]] += g->work[u];
  plan->cut_events_per_s = 0;
  for (size_t c = 0; c < g->channel_count; c++) {
    const part_channel *ch = &g->channels[c];
    uint32_t a = plan->unit_partition[ch->from], b = plan->unit_partition[ch->to];
    if (a == b)
      continue;
    plan->cut_events_per_s += ch->events_per_s;
    work[b] += 0.5 * ch->events_per_s; /* receiving an event from elsewhere: a copy and a push */
    size_t k = (size_t)a * P + b;
    if (ch->latency_ns < latency[k])
      latency[k] = ch->latency_ns, by[k] = ch->name;
  }
  size_t n = 0;
  for (size_t k = 0; k < (size_t)P * P; k++)
    n += latency[k] != CORE_TIME_NEVER;
  plan->cuts = malloc((n ? n : 1) * sizeof *plan->cuts); /* never NULL: NULL means uniform cuts */
  if (!plan->cuts)
    goto out;
  plan->lookahead_ns = CORE_TIME_NEVER;
  plan->lookahead_by = "nothing is cut";
  for (size_t k = 0; k < (size_t)P * P; k++) {
    if (latency[k] == CORE_TIME_NEVER)
      continue;
    plan->cuts[plan->cut_count++] = (core_cut){(uint32_t)(k / P), (uint32_t)(k % P), latency[k]};
    if (latency[k] < plan->lookahead_ns)
      plan->lookahead_ns = latency[k], plan->lookahead_by = by[k];
  }
  int64_t cyclic_ns = CORE_TIME_NEVER;
  for (size_t c = 0; c < plan->cut_count; c++)
    if (plan->cuts[c].latency_ns < cyclic_ns &&
        reaches(plan->cuts, plan->cut_count, plan->cuts[c].to, plan->cuts[c].from, P, seen, stack))
      cyclic_ns = plan->cuts[c].latency_ns;
  double total = 0, busiest = 0;
  plan->used = 0;
  for (uint32_t p = 0; p < P; p++) {
    total += work[p];
    busiest = work[p] > busiest ? work[p] : busiest;
    plan->used += work[p] > 0;
  }
  double all_events = 0;
  for (uint32_t u = 0; u < g->units; u++)
    all_events += g->work[u];
  plan->imbalance = total > 0 ? busiest / (total / P) : 1.0;
  plan->windows_per_s = cyclic_ns == CORE_TIME_NEVER ? 0.0 : 1e9 / (double)cyclic_ns;
  plan->events_per_window = plan->windows_per_s > 0 ? all_events / plan->windows_per_s : all_events;
  double window_s = (plan->ranks > 1 ? costs->window_rank_s : 0.0) +
                    (plan->threads > 1 ? costs->window_thread_s : 0.0);
  double alone_s = all_events * costs->event_s;
  double split_s = busiest * costs->event_s + plan->windows_per_s * window_s;
  plan->speedup = split_s > 0 ? alone_s / split_s : 1.0;
  rc = 0;
out:
  free(work), free(latency), free(by), free(seen), free(stack);
  return rc;
}

/* Places by one strategy (METIS: the best of contracting below each distinct channel latency) into
 * plan, evaluated. Returns 0, or -1 with a message. */
static int place(const part_graph *g, part_strategy s, const part_costs *costs, part_plan *plan,
                 char *err, size_t err_len) {
  plan->strategy = s;
  uint32_t *best = NULL;
  int rc = 0;
  switch (s) {
  case PART_ONE: memset(plan->unit_partition, 0, g->units * sizeof *plan->unit_partition); break;
  case PART_BLOCK: part_place_block(g, plan->partitions, plan->unit_partition); break;
  case PART_TOPOLOGY: rc = part_place_topology(g, plan->partitions, plan->unit_partition); break;
  case PART_METIS: {
    /* Thresholds: 0 (nothing contracted), then just above the largest distinct channel latencies
     * (contracting that channel and every faster one), largest first. */
    enum { MAX_THRESHOLDS = 8 };
    int64_t thresholds[MAX_THRESHOLDS] = {0};
    size_t count = 1;
    for (size_t c = 0; c < g->channel_count; c++) {
      int64_t t = g->channels[c].latency_ns + 1;
      size_t k = 1;
      while (k < count && thresholds[k] > t)
        k++;
      if ((k < count && thresholds[k] == t) || k == MAX_THRESHOLDS)
        continue;
      if (count < MAX_THRESHOLDS)
        count++;
      memmove(&thresholds[k + 1], &thresholds[k], (count - 1 - k) * sizeof *thresholds);
      thresholds[k] = t;
    }
    best = malloc((g->units ? g->units : 1) * sizeof *best);
    double best_speedup = -1;
    for (size_t k = 0; k < count && rc == 0 && best; k++) {
      rc = part_place_metis(g, plan->partitions, thresholds[k], plan->unit_partition, err, err_len);
      if (rc == 0 && (rc = evaluate(g, costs, plan)) == 0 && plan->used > 1 &&
          plan->speedup > best_speedup) {
        best_speedup = plan->speedup;
        memcpy(best, plan->unit_partition, g->units * sizeof *best);
      }
    }
    if (!best)
      rc = -1;
    else if (rc == 0 && best_speedup >= 0)
      memcpy(plan->unit_partition, best, g->units * sizeof *best);
    else if (rc == 0) /* every contraction left one vertex: nothing to split */
      memset(plan->unit_partition, 0, g->units * sizeof *plan->unit_partition);
    break;
  }
  case PART_AUTO: break;
  }
  free(best);
  if (rc == 0)
    rc = evaluate(g, costs, plan);
  if (rc != 0 && !*err)
    snprintf(err, err_len, "out of memory placing %u units", g->units);
  return rc;
}

int part_plan_make(const part_graph *g, uint32_t ranks, uint32_t threads, part_strategy strategy,
                   const part_costs *costs, part_plan *plan, char *err, size_t err_len) {
  *plan = (part_plan){.ranks = ranks, .threads = threads, .partitions = ranks * threads};
  if (err_len)
    *err = '\0';
  plan->unit_partition = malloc((g->units ? g->units : 1) * sizeof *plan->unit_partition);
  if (!plan->unit_partition) {
    snprintf(err, err_len, "out of memory placing %u units", g->units);
    return -1;
  }
  if (plan->partitions == 1)
    strategy = PART_ONE;
  if (strategy != PART_AUTO) {
    int rc = place(g, strategy, costs, plan, err, err_len);
    if (rc == 0)
      snprintf(plan->why, sizeof plan->why, "%s",
               plan->partitions == 1 ? "one partition" : "as asked");
    return rc;
  }
  static const part_strategy splits[] = {PART_TOPOLOGY, PART_METIS, PART_BLOCK};
  part_strategy chosen = PART_ONE;
  double chosen_speedup = 0, chosen_events = 0, chosen_window_ms = 0;
  for (size_t i = 0; i < sizeof splits / sizeof *splits; i++) {
    if (place(g, splits[i], costs, plan, err, err_len) != 0)
      return -1;
    if (plan->used > 1 && plan->speedup > chosen_speedup) {
      chosen = splits[i], chosen_speedup = plan->speedup;
      chosen_events = plan->events_per_window;
      chosen_window_ms = plan->windows_per_s > 0 ? 1e3 / plan->windows_per_s : INFINITY;
    }
  }
  if (chosen == PART_ONE) {
    snprintf(plan->why, sizeof plan->why, "kept on one partition: nothing can be split");
  } else if (chosen_speedup < min_gain) {
    snprintf(plan->why, sizeof plan->why,
             "kept on one partition: the best split (%s) predicts %.2fx, windows of %.3g ms "
             "holding %.0f events",
             part_strategy_name(chosen), chosen_speedup, chosen_window_ms, chosen_events);
    chosen = PART_ONE;
  } else {
    snprintf(plan->why, sizeof plan->why, "the best of topology, metis and block");
  }
  return place(g, chosen, costs, plan, err, err_len);
}

void part_plan_print(const part_plan *plan, FILE *out) {
  fprintf(out, "placement: %s on %u of %u partitions (%u ranks x %u threads); %s\n",
          part_strategy_name(plan->strategy), plan->used, plan->partitions, plan->ranks,
          plan->threads, plan->why);
  if (plan->lookahead_ns == CORE_TIME_NEVER)
    fprintf(out, "placement: nothing is cut: one window; imbalance %.2f; predicted %.2fx\n",
            plan->imbalance, plan->speedup);
  else
    fprintf(out,
            "placement: lookahead %.3f us (%s), %zu cut channels, %.0f events/s cross; imbalance "
            "%.2f; %.0f windows per simulated s of %.0f events; predicted %.2fx\n",
            (double)plan->lookahead_ns * 1e-3, plan->lookahead_by, plan->cut_count,
            plan->cut_events_per_s, plan->imbalance, plan->windows_per_s, plan->events_per_window,
            plan->speedup);
}
