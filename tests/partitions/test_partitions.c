/* partitions/: each strategy places what its definition says, the cut channels and predictions
 * follow from a placement, and auto keeps work together when no split pays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "partitions/part.h"

static char err[512];
static const part_costs costs = {.event_s = 1e-6, .window_rank_s = 5e-6, .window_thread_s = 2e-6};

/* A hub (unit 0, light) talking both ways to `spokes` heavy units at `latency_ns`, the spokes in
 * domains of `per_domain`. */
static part_graph star(uint32_t spokes, double spoke_work, int64_t latency_ns,
                       uint32_t per_domain) {
  part_graph g;
  CU_ASSERT_EQUAL_FATAL(part_graph_init(&g, spokes + 1), 0);
  g.work[0] = 10;
  for (uint32_t u = 1; u <= spokes; u++) {
    g.work[u] = spoke_work;
    g.domain[u] = 1 + (u - 1) / per_domain;
    CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, 0, u, latency_ns, 5, "dispatch"), 0);
    CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, u, 0, latency_ns, 5, "completion"), 0);
  }
  return g;
}

static double partition_work(const part_graph *g, const part_plan *plan, uint32_t p) {
  double w = 0;
  for (uint32_t u = 0; u < g->units; u++)
    w += plan->unit_partition[u] == p ? g->work[u] : 0;
  return w;
}

static void test_block_places_contiguous_runs_of_equal_work(void) {
  part_graph g;
  CU_ASSERT_EQUAL_FATAL(part_graph_init(&g, 8), 0);
  for (uint32_t u = 0; u < 8; u++)
    g.work[u] = 100;
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 2, PART_BLOCK, &costs, &plan, err, sizeof err), 0);
  for (uint32_t u = 0; u < 8; u++)
    CU_ASSERT_EQUAL(plan.unit_partition[u], u / 2);
  CU_ASSERT_EQUAL(plan.used, 4);
  CU_ASSERT_DOUBLE_EQUAL(plan.imbalance, 1.0, 1e-12);
  CU_ASSERT_EQUAL(plan.cut_count, 0); /* no channels, nothing cut */
  CU_ASSERT_EQUAL(plan.lookahead_ns, CORE_TIME_NEVER);
  part_plan_free(&plan);
  part_graph_free(&g);
}

/* Domains stay whole; the heaviest go first to the least loaded partition. */
static void test_topology_keeps_domains_whole_and_balances_them(void) {
  part_graph g = star(12, 100, 1000000, 3); /* 4 domains of 3 spokes */
  g.work[1] = g.work[2] = g.work[3] = 300;  /* domain 1 weighs 900, the others 300 */
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 1, PART_TOPOLOGY, &costs, &plan, err, sizeof err), 0);
  for (uint32_t u = 1; u <= 12; u++)
    CU_ASSERT_EQUAL(plan.unit_partition[u], plan.unit_partition[1 + 3 * ((u - 1) / 3)]);
  uint32_t heavy = plan.unit_partition[1];
  for (uint32_t u = 4; u <= 12; u++) /* 900 against 3 x 300 */
    CU_ASSERT_NOT_EQUAL(plan.unit_partition[u], heavy);
  CU_ASSERT_DOUBLE_EQUAL(partition_work(&g, &plan, heavy), 910, 1e-9); /* and the hub, last */
  part_plan_free(&plan);
  part_graph_free(&g);
}

/* The cuts follow the placement: the least latency per pair of partitions, the channel that sets
 * the lookahead, and windows only where cuts form a cycle. */
static void test_cuts_and_windows_follow_the_placement(void) {
  part_graph g;
  CU_ASSERT_EQUAL_FATAL(part_graph_init(&g, 3), 0);
  g.work[0] = g.work[1] = g.work[2] = 1000;
  g.domain[1] = g.domain[2] = 1;
  CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, 0, 1, 2000, 10, "slow"), 0);
  CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, 0, 2, 500, 10, "fast"), 0);
  CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, 1, 2, 7, 10, "inside"), 0);
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 1, PART_TOPOLOGY, &costs, &plan, err, sizeof err), 0);
  CU_ASSERT_EQUAL(plan.unit_partition[1], plan.unit_partition[2]);
  CU_ASSERT_NOT_EQUAL(plan.unit_partition[0], plan.unit_partition[1]);
  CU_ASSERT_EQUAL_FATAL(plan.cut_count, 1);
  CU_ASSERT_EQUAL(plan.cuts[0].from, plan.unit_partition[0]);
  CU_ASSERT_EQUAL(plan.cuts[0].latency_ns, 500);
  CU_ASSERT_EQUAL(plan.lookahead_ns, 500);
  CU_ASSERT_STRING_EQUAL(plan.lookahead_by, "fast");
  CU_ASSERT_DOUBLE_EQUAL(plan.cut_events_per_s, 20, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(plan.windows_per_s, 0, 0); /* one way: no cycle, no window cadence */
  part_plan_free(&plan);
  CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, 2, 0, 3000, 10, "back"), 0);
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 1, PART_TOPOLOGY, &costs, &plan, err, sizeof err), 0);
  CU_ASSERT_EQUAL(plan.cut_count, 2);
  CU_ASSERT_DOUBLE_EQUAL(plan.windows_per_s, 1e9 / 500, 1e-6); /* the cycle's least latency */
  part_plan_free(&plan);
  part_graph_free(&g);
}

/* METIS balances work and never cuts a channel faster than the lookahead it keeps: here the
 * 10 ns channels pair the units, so only the 1 ms ones may be cut. */
static void test_metis_balances_and_keeps_fast_channels_whole(void) {
  part_graph g;
  CU_ASSERT_EQUAL_FATAL(part_graph_init(&g, 16), 0);
  for (uint32_t u = 0; u < 16; u++)
    g.work[u] = 1e6;
  for (uint32_t u = 0; u < 16; u += 2) {
    CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, u, u + 1, 10, 1e5, "pair"), 0);
    CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, u + 1, u, 10, 1e5, "pair"), 0);
    CU_ASSERT_EQUAL_FATAL(part_graph_add_channel(&g, u, (u + 2) % 16, 1000000, 10, "ring"), 0);
  }
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 4, 1, PART_METIS, &costs, &plan, err, sizeof err), 0);
  for (uint32_t u = 0; u < 16; u += 2)
    CU_ASSERT_EQUAL(plan.unit_partition[u], plan.unit_partition[u + 1]);
  CU_ASSERT_EQUAL(plan.used, 4);
  CU_ASSERT(plan.imbalance <= 1.0 + 1e-9);
  CU_ASSERT_EQUAL(plan.lookahead_ns, 1000000);
  CU_ASSERT(plan.speedup > 3.0);
  part_plan_free(&plan);
  part_graph_free(&g);
}

/* Light spokes behind a 1 ms hub: a split would spend its time in windows of a few events, so
 * auto keeps everything on partition 0 and says why; heavy spokes make the same split pay. */
static void test_auto_keeps_work_together_unless_a_split_pays(void) {
  part_graph g = star(16, 70, 1000000, 1);
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 1, PART_AUTO, &costs, &plan, err, sizeof err), 0);
  CU_ASSERT_EQUAL(plan.strategy, PART_ONE);
  CU_ASSERT_EQUAL(plan.used, 1);
  CU_ASSERT_EQUAL(plan.cut_count, 0);
  for (uint32_t u = 0; u < g.units; u++)
    CU_ASSERT_EQUAL(plan.unit_partition[u], 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(plan.why, "kept on one partition"));
  part_plan_free(&plan);
  part_graph_free(&g);

  g = star(16, 1e5, 1000000, 1); /* 1.6 M events a simulated second: 1,600 per 1 ms window */
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 2, 1, PART_AUTO, &costs, &plan, err, sizeof err), 0);
  CU_ASSERT_NOT_EQUAL(plan.strategy, PART_ONE);
  CU_ASSERT_EQUAL(plan.used, 2);
  CU_ASSERT(plan.speedup > 1.5);
  CU_ASSERT(plan.imbalance < 1.1);
  CU_ASSERT_EQUAL(plan.lookahead_ns, 1000000);
  CU_ASSERT_DOUBLE_EQUAL(plan.events_per_window, (16 * 1e5 + 10) / 1000, 1e-6);
  part_plan_free(&plan);
  part_graph_free(&g);
}

static void test_one_partition_needs_no_strategy_and_names_round_trip(void) {
  part_graph g = star(4, 1e6, 1000, 1);
  part_plan plan;
  CU_ASSERT_EQUAL_FATAL(part_plan_make(&g, 1, 1, PART_METIS, &costs, &plan, err, sizeof err), 0);
  CU_ASSERT_EQUAL(plan.strategy, PART_ONE);
  CU_ASSERT_DOUBLE_EQUAL(plan.speedup, 1.0, 1e-12);
  part_plan_free(&plan);
  part_graph_free(&g);
  for (int s = PART_AUTO; s <= PART_METIS; s++) {
    part_strategy back;
    CU_ASSERT_EQUAL(part_strategy_parse(part_strategy_name((part_strategy)s), &back), 0);
    CU_ASSERT_EQUAL(back, s);
  }
  part_strategy back;
  CU_ASSERT_EQUAL(part_strategy_parse("random", &back), -1);
  CU_ASSERT(part_cores() >= 1);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"block places contiguous runs of equal work",
       test_block_places_contiguous_runs_of_equal_work},
      {"topology keeps domains whole and balances them",
       test_topology_keeps_domains_whole_and_balances_them},
      {"cuts and windows follow the placement", test_cuts_and_windows_follow_the_placement},
      {"metis balances and keeps fast channels whole",
       test_metis_balances_and_keeps_fast_channels_whole},
      {"auto keeps work together unless a split pays",
       test_auto_keeps_work_together_unless_a_split_pays},
      {"one partition needs no strategy; names round trip",
       test_one_partition_needs_no_strategy_and_names_round_trip},
      {NULL, NULL}};
  return harness_run("partitions", tests, argc > 1 ? argv[1] : NULL, false);
}
