/* Routing policies: each picks the instance its definition says, and completions release load. */
#include <CUnit/Basic.h>

#include "harness.h"

#include <string.h>

#include "jobs/router.h"

static job_router *make(const char *policy, uint32_t instances) {
  char err[128];
  CU_ASSERT_PTR_NOT_NULL_FATAL(job_route_policy_find(policy));
  job_router *r = job_router_create(job_route_policy_find(policy), instances, 1024, err,
                                    sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  return r;
}

static const job_route_request plain = {100, 10, NULL, 0};

static void test_round_robin_cycles_through_instances(void) {
  job_router *r = make("round_robin", 3);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  for (uint32_t i = 0; i < 7; i++)
    CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), i % 3);
  job_router_destroy(r);
}

/* Smooth weighted round robin: weights 5, 1, 1 pick 0 0 1 0 2 0 0 and again, each instance its
 * weight's share spread evenly; a closed instance's share goes to the others by their weights;
 * equal weights are round robin. */
static void test_weighted_round_robin_gives_each_its_weights_share_evenly(void) {
  job_router *r = make("weighted_round_robin", 3);
  CU_ASSERT(job_route_policy_oblivious(job_route_policy_find("weighted_round_robin")));
  CU_ASSERT(job_route_policy_weighted(job_route_policy_find("weighted_round_robin")));
  CU_ASSERT(!job_route_policy_weighted(job_route_policy_find("round_robin")));
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  job_router_set_weight(r, 0, 5);
  static const uint32_t expected[7] = {0, 0, 1, 0, 2, 0, 0};
  for (uint32_t i = 0; i < 21; i++)
    CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), expected[i % 7]);
  CU_ASSERT_EQUAL(job_router_set_accepting(r, 1, false), 0);
  uint32_t seen[3] = {0};
  for (uint32_t i = 0; i < 60; i++)
    seen[job_router_pick(r, &plain, &rng)]++;
  CU_ASSERT(seen[0] == 50 && seen[1] == 0 && seen[2] == 10);
  job_router_destroy(r);
  r = make("weighted_round_robin", 3);
  for (uint32_t i = 0; i < 7; i++)
    CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), i % 3);
  job_router_destroy(r);
}

static void test_least_requests_fills_the_emptiest_and_completions_release(void) {
  job_router *r = make("least_requests", 3);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), 0);
  CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), 1);
  CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), 2);
  job_router_completed(r, 1, &plain);
  CU_ASSERT_EQUAL(job_router_outstanding(r, 1), 0);
  CU_ASSERT_EQUAL(job_router_pick(r, &plain, &rng), 1);
  job_router_destroy(r);
}

static void test_least_kv_weighs_tokens_not_requests(void) {
  job_router *r = make("least_kv", 2);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  job_route_request big = {4000, 1000, NULL, 0}, small = {10, 10, NULL, 0};
  CU_ASSERT_EQUAL(job_router_pick(r, &big, &rng), 0);
  CU_ASSERT_EQUAL(job_router_pick(r, &small, &rng), 1);
  CU_ASSERT_EQUAL(job_router_pick(r, &small, &rng), 1); /* 2 requests there, but fewer tokens */
  job_router_destroy(r);
}

static void test_power_of_two_picks_the_less_loaded_of_two_distinct(void) {
  job_router *r = make("power_of_two", 2);
  core_rng rng;
  core_rng_init(&rng, 7, 0);
  /* With two instances both are always drawn, so the choice must balance them exactly. */
  for (int i = 0; i < 100; i++)
    job_router_pick(r, &plain, &rng);
  CU_ASSERT_EQUAL(job_router_outstanding(r, 0), 50);
  CU_ASSERT_EQUAL(job_router_outstanding(r, 1), 50);
  job_router_destroy(r);
}

static void test_prefix_follows_the_cached_prefix_over_load(void) {
  job_router *r = make("prefix", 4);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  uint64_t a[] = {11, 12, 13}, b[] = {21, 22};
  job_route_request ra = {1536, 10, a, 3}, rb = {1024, 10, b, 2};
  uint32_t first = job_router_pick(r, &ra, &rng);
  uint32_t other = job_router_pick(r, &rb, &rng);
  CU_ASSERT_NOT_EQUAL(first, other); /* no shared prefix: least loaded */
  for (int i = 0; i < 5; i++) /* the same prefix stays put although that instance is the busiest */
    CU_ASSERT_EQUAL(job_router_pick(r, &ra, &rng), first);
  job_router_destroy(r);
}

static void test_prefix_falls_back_to_the_shortest_queue_when_imbalanced(void) {
  job_router *r = make("prefix", 4);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  uint64_t a[] = {11, 12, 13};
  job_route_request ra = {1536, 10, a, 3};
  /* SGLang's thresholds: imbalanced once max - min > 32 (and max > 1.0001 min). */
  for (int i = 0; i < 33; i++)
    CU_ASSERT_EQUAL(job_router_pick(r, &ra, &rng), 0);
  CU_ASSERT_EQUAL(job_router_pick(r, &ra, &rng), 1);
  CU_ASSERT_EQUAL(job_router_outstanding(r, 0), 33);
  job_router_destroy(r);
}

static void test_prefix_below_the_cache_threshold_goes_to_the_smallest_cache(void) {
  job_router *r = make("prefix", 4);
  core_rng rng;
  core_rng_init(&rng, 1, 0);
  uint64_t a[] = {1, 2, 3, 4}, b[] = {1, 5, 6, 7};
  job_route_request ra = {2048, 10, a, 4}, rb = {2048, 10, b, 4};
  CU_ASSERT_EQUAL(job_router_pick(r, &ra, &rng), 0);
  job_router_completed(r, 0, &ra);
  /* One block of four matches instance 0: at most the 0.5 threshold, so the instance with the
   * fewest cached blocks takes it, whatever the load. */
  CU_ASSERT_EQUAL(job_router_pick(r, &rb, &rng), 1);
  job_router_destroy(r);
}

static void test_a_range_restricts_every_policy_to_its_instances(void) {
  const char *const policies[] = {"round_robin", "weighted_round_robin", "least_requests",
                                  "least_kv",    "power_of_two",         "prefix"};
  uint64_t hashes[4] = {11, 12, 13, 14};
  job_route_request req = {100, 10, hashes, 4};
  for (size_t p = 0; p < sizeof policies / sizeof *policies; p++) {
    job_router *r = make(policies[p], 6);
    core_rng rng;
    core_rng_init(&rng, 1, 0);
    uint32_t seen[6] = {0};
    for (int k = 0; k < 30; k++) {
      uint32_t pick = job_router_pick_range(r, &req, &rng, 2, 3);
      CU_ASSERT(pick >= 2 && pick < 5);
      seen[pick < 6 ? pick : 0]++;
    }
    if (strcmp(policies[p], "round_robin") != 0 && strcmp(policies[p], "power_of_two") != 0)
      for (uint32_t i = 2; i < 5; i++) /* load-balancing policies spread 30 requests evenly */
        CU_ASSERT_EQUAL(seen[i], 10);
    CU_ASSERT_EQUAL(job_router_outstanding(r, 0) + job_router_outstanding(r, 5), 0);
    job_router_destroy(r);
  }
}

/* A pool that is never busy ties at every pick: the load-balancing policies spread such requests
 * evenly instead of sending them all to the first instance. */
static void test_ties_spread_over_the_pool_without_index_bias(void) {
  const char *const policies[] = {"least_requests", "least_kv", "prefix"};
  for (size_t p = 0; p < sizeof policies / sizeof *policies; p++) {
    job_router *r = make(policies[p], 4);
    core_rng rng;
    core_rng_init(&rng, 1, 0);
    uint32_t seen[4] = {0};
    for (int k = 0; k < 40; k++) {
      uint32_t pick = job_router_pick(r, &plain, &rng);
      seen[pick]++;
      job_router_completed(r, pick, &plain);
    }
    for (uint32_t i = 0; i < 4; i++)
      CU_ASSERT_EQUAL(seen[i], 10);
    job_router_destroy(r);
  }
}

static void test_policy_names_round_trip(void) {
  size_t n = 0;
  for (const job_route_policy *p; (p = job_route_policy_at(n)); n++)
    CU_ASSERT_PTR_EQUAL(job_route_policy_find(job_route_policy_name(p)), p);
  CU_ASSERT_EQUAL(n, 6);
  CU_ASSERT_PTR_NULL(job_route_policy_find("random"));
  CU_ASSERT(job_route_policy_uses_prefixes(job_route_policy_find("prefix")));
  CU_ASSERT(!job_route_policy_uses_prefixes(job_route_policy_find("least_kv")));
}

/* Instance lifecycle: no policy picks an instance that accepts no work (off, starting, draining);
 * with none accepting the pick says so; reopened, it is picked again. */
static void test_no_policy_picks_an_instance_that_accepts_no_work(void) {
  const char *const policies[] = {"round_robin", "weighted_round_robin", "least_requests",
                                  "least_kv",    "power_of_two",         "prefix"};
  uint64_t hashes[4] = {11, 12, 13, 14};
  job_route_request req = {100, 10, hashes, 4};
  for (size_t p = 0; p < sizeof policies / sizeof *policies; p++) {
    job_router *r = make(policies[p], 4);
    core_rng rng;
    core_rng_init(&rng, 3, 0);
    CU_ASSERT_EQUAL(job_router_pick(r, &req, &rng) < 4, 1); /* the prefix now has an owner */
    CU_ASSERT_EQUAL(job_router_set_accepting(r, 0, false), 0);
    CU_ASSERT_EQUAL(job_router_set_accepting(r, 2, false), 0);
    CU_ASSERT(!job_router_accepting(r, 0) && job_router_accepting(r, 1));
    uint32_t seen[4] = {0};
    for (int k = 0; k < 40; k++) {
      uint32_t pick = job_router_pick(r, &req, &rng);
      CU_ASSERT_FATAL(pick < 4);
      seen[pick]++;
    }
    CU_ASSERT_EQUAL(seen[0] + seen[2], 0);
    CU_ASSERT(seen[1] + seen[3] == 40);
    CU_ASSERT_EQUAL(job_router_pick_range(r, &req, &rng, 2, 1), JOB_ROUTE_NONE);
    job_router_set_accepting(r, 1, false);
    job_router_set_accepting(r, 3, false);
    uint32_t before = job_router_outstanding(r, 1) + job_router_outstanding(r, 3);
    CU_ASSERT_EQUAL(job_router_pick(r, &req, &rng), JOB_ROUTE_NONE);
    CU_ASSERT_EQUAL(job_router_outstanding(r, 1) + job_router_outstanding(r, 3), before);
    job_router_set_accepting(r, 2, true);
    CU_ASSERT_EQUAL(job_router_pick(r, &req, &rng), 2);
    job_router_destroy(r);
  }
}

/* Checkpoints: a router saved and loaded into a fresh one continues exactly as the original, under
 * every policy, through random picks (whole pool and ranges), completions and closings. */
static void test_a_loaded_router_continues_as_the_saved_one(void) {
  enum { N = 5, CALLS = 3000 };
  static job_route_request live[CALLS];
  static uint32_t live_at[CALLS];
  static uint64_t hashes[4][6];
  for (uint32_t f = 0; f < 4; f++)
    for (uint32_t b = 0; b < 6; b++)
      hashes[f][b] = f * 100 + b; /* family 0's first block hashes to 0, stored as 1 */
  for (size_t p = 0; job_route_policy_at(p); p++) {
    const char *policy = job_route_policy_name(job_route_policy_at(p));
    job_router *a = make(policy, N), *b = make(policy, N);
    core_rng ra, rb, ops;
    core_rng_init(&ra, 7, 0);
    core_rng_init(&rb, 7, 0);
    core_rng_init(&ops, 8, p);
    uint32_t n_live = 0, loads = 0;
    for (uint32_t call = 0; call < CALLS; call++) {
      uint32_t op = core_rng_below(&ops, 10);
      if (op < 5) {
        uint32_t family = core_rng_below(&ops, 4), first = core_rng_below(&ops, 2);
        job_route_request req = {1 + core_rng_below(&ops, 500), 1 + core_rng_below(&ops, 50),
                                 hashes[family], core_rng_below(&ops, 7)};
        uint32_t count = op == 0 ? 1 + core_rng_below(&ops, N - first) : N - first;
        uint32_t pick = job_router_pick_range(a, &req, &ra, first, count);
        CU_ASSERT_EQUAL_FATAL(job_router_pick_range(b, &req, &rb, first, count), pick);
        if (pick != JOB_ROUTE_NONE)
          live[n_live] = req, live_at[n_live++] = pick;
      } else if (op < 8 && n_live > 0) {
        uint32_t k = core_rng_below(&ops, n_live);
        job_router_completed(a, live_at[k], &live[k]);
        job_router_completed(b, live_at[k], &live[k]);
        live[k] = live[--n_live], live_at[k] = live_at[n_live];
      } else if (op == 8) {
        uint32_t i = core_rng_below(&ops, N);
        bool accepting = core_rng_below(&ops, 3) > 0;
        CU_ASSERT_EQUAL(job_router_set_accepting(a, i, accepting), 0);
        CU_ASSERT_EQUAL(job_router_set_accepting(b, i, accepting), 0);
      } else { /* b is replaced by a load of its own checkpoint */
        core_pack pack = {0};
        job_router_save(b, &pack);
        job_router_destroy(b);
        b = make(policy, N);
        core_unpack u = core_unpack_of(pack.data, pack.len);
        CU_ASSERT_FATAL(!pack.failed && job_router_load(b, &u) == 0 && core_unpack_done(&u));
        for (size_t len = 0; len < pack.len; len += 1 + pack.len / 7) { /* truncated: refused */
          job_router *c = make(policy, N);
          u = core_unpack_of(pack.data, len);
          CU_ASSERT(job_router_load(c, &u) != 0);
          job_router_destroy(c);
        }
        core_pack_free(&pack);
        loads++;
      }
      for (uint32_t i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(job_router_outstanding(a, i), job_router_outstanding(b, i));
    }
    CU_ASSERT(loads > 100 && n_live > 0);
    job_router *other = make(policy, N + 1); /* another pool refuses the checkpoint */
    core_pack pack = {0};
    job_router_save(a, &pack);
    core_unpack u = core_unpack_of(pack.data, pack.len);
    CU_ASSERT(job_router_load(other, &u) != 0);
    core_pack_free(&pack);
    job_router_destroy(other);
    job_router_destroy(a);
    job_router_destroy(b);
  }
}

int main(void) {
  static const harness_test tests[] = {
      {"round robin cycles through instances", test_round_robin_cycles_through_instances},
      {"weighted round robin gives each its weight's share, evenly",
       test_weighted_round_robin_gives_each_its_weights_share_evenly},
      {"least requests fills the emptiest; completions release",
       test_least_requests_fills_the_emptiest_and_completions_release},
      {"least kv weighs tokens, not requests", test_least_kv_weighs_tokens_not_requests},
      {"power of two picks the less loaded of two distinct",
       test_power_of_two_picks_the_less_loaded_of_two_distinct},
      {"prefix follows the cached prefix over load",
       test_prefix_follows_the_cached_prefix_over_load},
      {"prefix falls back to the shortest queue when imbalanced",
       test_prefix_falls_back_to_the_shortest_queue_when_imbalanced},
      {"prefix below the cache threshold goes to the smallest cache",
       test_prefix_below_the_cache_threshold_goes_to_the_smallest_cache},
      {"a range restricts every policy to its instances",
       test_a_range_restricts_every_policy_to_its_instances},
      {"ties spread over the pool without index bias",
       test_ties_spread_over_the_pool_without_index_bias},
      {"policy names round trip", test_policy_names_round_trip},
      {"no policy picks an instance that accepts no work",
       test_no_policy_picks_an_instance_that_accepts_no_work},
      {"a loaded router continues as the saved one",
       test_a_loaded_router_continues_as_the_saved_one},
      {NULL, NULL},
  };
  return harness_run("router", tests, NULL, true);
}
