/* Unit tests of net/: hand-computed routes for each scale-up and fabric kind, ECMP, link
 * bandwidths under oversubscription, route latencies, refused specs, presets, and collective costs
 * checked by hand against the fitted parameters read back from the embedded table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "net/collective_model.h"
#include "net/net.h"

static char err[512];

static net_node_group switch_group(uint32_t nodes, uint32_t accels, uint32_t nics,
                                   uint32_t domain) {
  net_node_group g = {
      nodes, accels, nics, 50e9, {NET_SCALEUP_SWITCH, domain, {1, 1, 1}, 450e9, 3000}};
  return g;
}

static net_fabric_spec fabric(net_fabric_kind kind, uint32_t nodes_per_leaf, uint32_t spines,
                              double oversub) {
  net_fabric_spec f = {kind, 8000, 2000, nodes_per_leaf, spines, oversub};
  return f;
}

static void name_of(const net_topology *t, uint32_t link, char *buf) {
  net_link_name(t, link, buf, 64);
}

static void test_switch_route_goes_up_and_down_within_a_node(void) {
  net_node_group g = switch_group(2, 8, 8, 0);
  net_topology *t = net_topology_create(&g, 1, NULL, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(net_accel_count(t), 16);
  CU_ASSERT_EQUAL(net_node_count(t), 2);
  CU_ASSERT_EQUAL(net_link_count(t), 32);
  uint32_t links[NET_MAX_HOPS];
  char a[64], b[64];
  CU_ASSERT_EQUAL_FATAL(net_route(t, 1, 5, 0, links), 2);
  name_of(t, links[0], a), name_of(t, links[1], b);
  CU_ASSERT_STRING_EQUAL(a, "node0.gpu1.nvlink.up");
  CU_ASSERT_STRING_EQUAL(b, "node0.gpu5.nvlink.down");
  CU_ASSERT_EQUAL(net_route_latency_ns(t, links, 2), 6000);
  CU_ASSERT_EQUAL(net_route(t, 3, 3, 0, links), 0);
  /* No fabric: the two nodes cannot talk. */
  CU_ASSERT_EQUAL(net_route(t, 0, 8, 0, links), -1);
  CU_ASSERT_EQUAL(net_link_at(t, links[0])->node, 0);
  net_topology_destroy(t);
}

static void test_nvl72_domain_spans_nodes(void) {
  net_node_group g = switch_group(18, 4, 4, 72);
  net_fabric_spec f = fabric(NET_FABRIC_RAIL, 18, 2, 1.0);
  net_topology *t = net_topology_create(&g, 1, &f, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t links[NET_MAX_HOPS];
  char a[64];
  CU_ASSERT_EQUAL_FATAL(net_route(t, 0, 71, 7, links), 2); /* node 0 to node 17: still NVLink */
  name_of(t, links[1], a);
  CU_ASSERT_STRING_EQUAL(a, "node17.gpu3.nvlink.down");
  CU_ASSERT_EQUAL(net_accel_node(t, 71), 17);
  CU_ASSERT_EQUAL(net_accel_domain(t, 71), 0);
  net_topology_destroy(t);
}

static void test_torus_routes_dimension_order_shortest_way(void) {
  net_node_group g = {4, 4, 0, 0, {NET_SCALEUP_TORUS, 16, {4, 4, 1}, 50e9, 1000}};
  net_topology *t = net_topology_create(&g, 1, NULL, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(net_link_count(t), 16 * 4);
  uint32_t links[NET_MAX_HOPS];
  char a[64], b[64], c[64];
  /* (0,0) -> (3,2): x the short way back (-1), then y +2 (a tie of 2 and 2: positive). */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 0, 3 + 2 * 4, 0, links), 3);
  name_of(t, links[0], a), name_of(t, links[1], b), name_of(t, links[2], c);
  CU_ASSERT_STRING_EQUAL(a, "node0.chip0.ici.x-");
  CU_ASSERT_STRING_EQUAL(b, "node0.chip3.ici.y+");
  CU_ASSERT_STRING_EQUAL(c, "node1.chip3.ici.y+"); /* chip 7 = (3,1), in node 1 */
  CU_ASSERT_EQUAL(net_route_latency_ns(t, links, 3), 3000);
  net_topology_destroy(t);

  /* A dimension of 2 has one neighbour; 2x2x2 has three links per chip. */
  net_node_group cube = {2, 4, 0, 0, {NET_SCALEUP_TORUS, 8, {2, 2, 2}, 100e9, 1000}};
  t = net_topology_create(&cube, 1, NULL, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(net_link_count(t), 8 * 3);
  CU_ASSERT_EQUAL_FATAL(net_route(t, 0, 7, 0, links), 3);
  name_of(t, links[2], c);
  CU_ASSERT_STRING_EQUAL(c, "node0.chip3.ici.z+");
  net_topology_destroy(t);
}

static void test_leaf_spine_routes_through_the_hashed_spine(void) {
  net_node_group g = switch_group(4, 8, 2, 0); /* 2 NICs: GPUs 0-3 use nic0, 4-7 nic1 */
  net_fabric_spec f = fabric(NET_FABRIC_LEAF_SPINE, 2, 4, 2.0);
  net_topology *t = net_topology_create(&g, 1, &f, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t links[NET_MAX_HOPS], again[NET_MAX_HOPS];
  char a[64], b[64], c[64], d[64];
  /* Same leaf (nodes 0 and 1): NIC up, NIC down. */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 5, 8 + 2, 9, links), 2);
  name_of(t, links[0], a), name_of(t, links[1], b);
  CU_ASSERT_STRING_EQUAL(a, "node0.nic1.up");
  CU_ASSERT_STRING_EQUAL(b, "node1.nic0.down");
  CU_ASSERT_EQUAL(net_route_latency_ns(t, links, 2), 16000);
  /* Across leaves: spine = hash % 4. */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 0, 24 + 7, 6, links), 4);
  name_of(t, links[0], a), name_of(t, links[1], b), name_of(t, links[2], c);
  name_of(t, links[3], d);
  CU_ASSERT_STRING_EQUAL(a, "node0.nic0.up");
  CU_ASSERT_STRING_EQUAL(b, "leaf0.spine2.up");
  CU_ASSERT_STRING_EQUAL(c, "leaf1.spine2.down");
  CU_ASSERT_STRING_EQUAL(d, "node3.nic1.down");
  CU_ASSERT_EQUAL(net_route_latency_ns(t, links, 4), 20000);
  /* Same hash, same route; another hash, another spine. */
  CU_ASSERT_EQUAL(net_route(t, 0, 31, 6, again), 4);
  CU_ASSERT_EQUAL(memcmp(links, again, 4 * sizeof *links), 0);
  CU_ASSERT_EQUAL(net_route(t, 0, 31, 7, again), 4);
  CU_ASSERT_NOT_EQUAL(links[1], again[1]);
  name_of(t, again[1], b);
  CU_ASSERT_STRING_EQUAL(b, "leaf0.spine3.up");
  /* Spine links: 2 nodes x 2 NICs x 50 GB/s under a leaf / (2 x 4 spines) = 25 GB/s. */
  CU_ASSERT_DOUBLE_EQUAL(net_link_at(t, links[1])->bytes_per_s, 25e9, 1.0);
  CU_ASSERT_EQUAL(net_link_at(t, links[1])->kind, NET_LINK_SPINE_UP);
  CU_ASSERT_EQUAL(net_link_at(t, links[2])->node, 2); /* first node under leaf 1 */
  CU_ASSERT_DOUBLE_EQUAL(net_link_at(t, links[0])->bytes_per_s, 50e9, 1.0);
  /* Inside a node the scale-up switch wins. */
  CU_ASSERT_EQUAL(net_route(t, 0, 7, 0, links), 2);
  CU_ASSERT_EQUAL(net_link_at(t, links[0])->kind, NET_LINK_SCALEUP_UP);
  net_topology_destroy(t);
}

static void test_rail_fabric_keeps_a_rail_on_its_switch(void) {
  net_node_group g = switch_group(4, 8, 8, 0);
  net_fabric_spec f = fabric(NET_FABRIC_RAIL, 2, 2, 1.0);
  net_topology *t = net_topology_create(&g, 1, &f, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t links[NET_MAX_HOPS];
  char a[64], b[64];
  /* GPU 3 of node 0 to GPU 3 of node 1: rail switch (0, 3), no spine. */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 3, 11, 0, links), 2);
  name_of(t, links[0], a), name_of(t, links[1], b);
  CU_ASSERT_STRING_EQUAL(a, "node0.nic3.up");
  CU_ASSERT_STRING_EQUAL(b, "node1.nic3.down");
  /* Another rail in the same group goes through a spine. */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 3, 12, 1, links), 4);
  name_of(t, links[1], a), name_of(t, links[2], b);
  CU_ASSERT_STRING_EQUAL(a, "leaf0.rail3.spine1.up");
  CU_ASSERT_STRING_EQUAL(b, "leaf0.rail4.spine1.down");
  /* A rail switch holds 2 NICs of 50 GB/s, over 2 spines, non-blocking: 50 GB/s each. */
  CU_ASSERT_DOUBLE_EQUAL(net_link_at(t, links[1])->bytes_per_s, 50e9, 1.0);
  /* Rail 3 of the second leaf group. */
  CU_ASSERT_EQUAL_FATAL(net_route(t, 3, 16 + 3, 0, links), 4);
  name_of(t, links[2], b);
  CU_ASSERT_STRING_EQUAL(b, "leaf1.rail3.spine0.down");
  net_topology_destroy(t);
}

static void test_bad_specs_are_refused_with_a_reason(void) {
  net_node_group g = switch_group(3, 4, 1, 8); /* 12 accelerators, domain 8 */
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 1, NULL, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not divide"));
  g = switch_group(2, 8, 1, 0);
  g.scaleup.bytes_per_s = 0;
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 1, NULL, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "bandwidth must be positive"));
  net_node_group torus = {4, 4, 0, 0, {NET_SCALEUP_TORUS, 16, {4, 2, 1}, 50e9, 1000}};
  CU_ASSERT_PTR_NULL(net_topology_create(&torus, 1, NULL, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "not the domain's 16"));
  net_node_group big = {128, 8, 0, 0, {NET_SCALEUP_TORUS, 1024, {32, 32, 1}, 50e9, 1000}};
  CU_ASSERT_PTR_NULL(net_topology_create(&big, 1, NULL, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "hops"));
  g = switch_group(2, 8, 8, 0);
  g.nic_bytes_per_s = 0;
  net_fabric_spec f = fabric(NET_FABRIC_LEAF_SPINE, 2, 1, 1.0);
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 1, &f, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "NIC bandwidth"));
  g = switch_group(2, 8, 8, 0);
  f.oversubscription = 0.5;
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 1, &f, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "oversubscription"));
  f = fabric(NET_FABRIC_LEAF_SPINE, 0, 1, 1.0);
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 1, &f, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "nodes_per_leaf"));
  CU_ASSERT_PTR_NULL(net_topology_create(&g, 0, NULL, err, sizeof err));
}

static void test_groups_number_accelerators_and_nodes_in_order(void) {
  net_node_group gs[2] = {switch_group(1, 8, 8, 0), switch_group(2, 4, 4, 0)};
  net_fabric_spec f = fabric(NET_FABRIC_LEAF_SPINE, 2, 1, 1.0);
  net_topology *t = net_topology_create(gs, 2, &f, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL(net_accel_count(t), 16);
  CU_ASSERT_EQUAL(net_node_count(t), 3);
  CU_ASSERT_EQUAL(net_accel_node(t, 12), 2);
  uint32_t links[NET_MAX_HOPS];
  char a[64];
  CU_ASSERT_EQUAL_FATAL(net_route(t, 2, 13, 0, links), 4); /* node 0 (leaf 0) to node 2 (leaf 1) */
  name_of(t, links[3], a);
  CU_ASSERT_STRING_EQUAL(a, "node2.nic1.down");
  net_topology_destroy(t);
}

static void test_presets_are_found_case_insensitively_and_build(void) {
  CU_ASSERT(net_preset_count() >= 7);
  static const char *const names[] = {"dgx-a100", "DGX-H100", "dgx-h200", "GB200-NVL72",
                                      "tpu-v5e",  "tpu-v5p",  "TPU-V6E"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    const net_preset *p = net_preset_find(names[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(p->source[0] != '\0');
    CU_ASSERT(p->accelerator[0] != '\0');
    net_node_group g = p->group;
    uint32_t domain = g.scaleup.domain_accels ? g.scaleup.domain_accels : g.accels_per_node;
    g.count = 2 * domain / g.accels_per_node;
    net_topology *t = net_topology_create(&g, 1, &p->fabric, err, sizeof err);
    if (!t)
      fprintf(stderr, "%s: %s\n", names[i], err);
    CU_ASSERT_PTR_NOT_NULL(t);
    net_topology_destroy(t);
  }
  CU_ASSERT_PTR_NULL(net_preset_find("dgx-h1000"));
  CU_ASSERT_PTR_NULL(net_preset_find(NULL));
  const net_preset *h100 = net_preset_find("dgx-h100");
  CU_ASSERT_DOUBLE_EQUAL(h100->group.scaleup.bytes_per_s, 450e9, 1.0);
  CU_ASSERT_DOUBLE_EQUAL(h100->group.nic_bytes_per_s, 50e9, 1.0);
  CU_ASSERT_EQUAL(net_preset_find("tpu-v5p")->group.scaleup.torus_dims[2], 4);
}

static const net_coll_params *params(const net_topology *t, net_collective op, net_coll_domain d) {
  return &net_topology_coll_table(t)->p[op][d];
}

/* The hand formula of one algorithm: base, then the faster of LL (steps at step_ns, link bytes at
 * link_frac of the bottleneck's bytes_per_s) and bulk (its own step and fraction, plus the staging
 * copy of the rank's buffer). */
static double by_hand(const net_coll_params *p, double steps, double link_bytes, double bytes,
                      double bytes_per_s) {
  double ll = steps * p->step_ns + link_bytes / (p->link_frac * bytes_per_s) * 1e9;
  double bulk = steps * p->bulk_step_ns + link_bytes / (p->bulk_link_frac * bytes_per_s) * 1e9 +
                bytes * p->copy_ns_per_byte;
  return p->base_ns + fmin(ll, bulk);
}

static void test_ring_all_reduce_matches_the_hand_formula(void) {
  const net_preset *p = net_preset_find("dgx-h100");
  net_node_group g = p->group;
  g.count = 2;
  net_topology *t = net_topology_create(&g, 1, &p->fabric, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t ranks[16];
  for (uint32_t i = 0; i < 16; i++)
    ranks[i] = i;
  double bytes = 64e6, n = 8;
  const net_coll_params *in = params(t, NET_ALL_REDUCE, NET_DOMAIN_INTRA);
  double expect = by_hand(in, 2 * (n - 1), 2 * (n - 1) / n * bytes, bytes, 450e9);
  double got = net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_RING, ranks, 8, bytes);
  CU_ASSERT_DOUBLE_EQUAL(got, expect, expect * 1e-12);
  /* Tree: 2 ceil(log2 8) = 6 step latencies, the bytes twice over the link. */
  double tree = by_hand(in, 6, 2 * bytes, bytes, 450e9);
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_TREE, ranks, 8, bytes), tree,
                         tree * 1e-12);
  double autop = net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_AUTO, ranks, 8, bytes);
  CU_ASSERT_DOUBLE_EQUAL(autop, fmin(got, tree), 1e-6);

  /* 16 ranks over two nodes: the inter-node parameters; 8 channels leave each node through 8
   * NICs, so a step's chunk crosses 1/8 of it per NIC at 50 GB/s, slower than 1 per NVLink. */
  const net_coll_params *x = params(t, NET_ALL_REDUCE, NET_DOMAIN_INTER);
  double nic = fmax(1.0 / 450e9, (1.0 / 8) / 50e9);
  n = 16;
  expect = by_hand(x, 2 * (n - 1), 2 * (n - 1) / n * bytes, bytes, 1.0 / nic);
  got = net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_RING, ranks, 16, bytes);
  CU_ASSERT_DOUBLE_EQUAL(got, expect, expect * 1e-12);
  /* One GPU per node: each ring edge has a NIC to itself. */
  uint32_t pair[2] = {0, 8};
  expect = by_hand(x, 2, bytes, bytes, 50e9);
  got = net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_RING, pair, 2, bytes);
  CU_ASSERT_DOUBLE_EQUAL(got, expect, expect * 1e-12);
  net_topology_destroy(t);
}

static void test_other_collectives_match_the_hand_formulas(void) {
  const net_preset *p = net_preset_find("dgx-h200");
  net_node_group g = p->group;
  g.count = 2;
  net_topology *t = net_topology_create(&g, 1, &p->fabric, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t ranks[4] = {0, 1, 2, 3};
  double bytes = 1e6, n = 4, bw = 450e9;
  const net_coll_params *ag = params(t, NET_ALL_GATHER, NET_DOMAIN_INTRA);
  double expect = by_hand(ag, n - 1, (n - 1) / n * bytes, bytes, bw);
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_ALL_GATHER, NET_ALGO_AUTO, ranks, 4, bytes),
                         expect, expect * 1e-12);
  const net_coll_params *a2a = params(t, NET_ALL_TO_ALL, NET_DOMAIN_INTRA);
  /* Each uplink carries the n-1 chunks of bytes/n its rank sends. */
  expect = by_hand(a2a, n - 1, (n - 1) * bytes / n, bytes, bw);
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_ALL_TO_ALL, NET_ALGO_AUTO, ranks, 4, bytes),
                         expect, expect * 1e-12);
  const net_coll_params *sr = params(t, NET_SEND_RECV, NET_DOMAIN_INTER);
  uint32_t pair[2] = {3, 11};
  expect = by_hand(sr, 1, bytes, bytes, 50e9);
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_SEND_RECV, NET_ALGO_AUTO, pair, 2, bytes), expect,
                         expect * 1e-12);
  /* Across the fabric is slower than inside the node for the same bytes. */
  uint32_t near[2] = {3, 4};
  CU_ASSERT(net_collective_ns(t, NET_SEND_RECV, NET_ALGO_AUTO, near, 2, 64e6) <
            net_collective_ns(t, NET_SEND_RECV, NET_ALGO_AUTO, pair, 2, 64e6));
  CU_ASSERT_EQUAL(net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_AUTO, ranks, 1, bytes), 0.0);
  uint32_t bad[2] = {0, 99};
  CU_ASSERT(isnan(net_collective_ns(t, NET_ALL_REDUCE, NET_ALGO_AUTO, bad, 2, bytes)));
  net_topology_destroy(t);

  /* Without a fabric, ranks in two domains cannot meet. */
  net_node_group lone = switch_group(2, 8, 0, 0);
  t = net_topology_create(&lone, 1, NULL, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t apart[2] = {0, 8};
  CU_ASSERT(isnan(net_collective_ns(t, NET_SEND_RECV, NET_ALGO_AUTO, apart, 2, bytes)));
  net_topology_destroy(t);
}

static void test_the_embedded_table_has_every_fitted_row(void) {
  net_coll_table table;
  CU_ASSERT_EQUAL_FATAL(net_coll_table_parse(net_data_collective_csv, net_data_collective_csv_len,
                                             "embedded", &table, err, sizeof err),
                        0);
  for (int op = 0; op < NET_COLLECTIVE_COUNT; op++)
    for (int d = 0; d < NET_DOMAIN_COUNT; d++)
      CU_ASSERT(table.p[op][d].link_frac > 0.0);
  static const char missing[] =
      "op,domain,role,base_ns,step_ns,link_frac\n"
      "all_reduce,intra,fit,1,1,0.5\n";
  CU_ASSERT_EQUAL(
      net_coll_table_parse(missing, sizeof missing - 1, "t.csv", &table, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no parameters for"));
  /* The bulk protocol's columns are optional, but when given its link fraction must be positive. */
  static const char no_bulk_frac[] =
      "op,domain,role,base_ns,step_ns,link_frac,bulk_step_ns,bulk_link_frac,copy_ns_per_byte\n"
      "all_reduce,intra,fit,1,1,0.5,1,0,0.001\n";
  CU_ASSERT_EQUAL(
      net_coll_table_parse(no_bulk_frac, sizeof no_bulk_frac - 1, "t.csv", &table, err, sizeof err),
      -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.csv:2:"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "bulk_link_frac > 0"));
}

/* Small messages take LL (steps only, so a fraction of the link), large ones the bulk protocol
 * (its link fraction and staging copy): the switch is where the two lines cross. */
static void test_small_messages_take_ll_and_large_ones_bulk(void) {
  const net_preset *p = net_preset_find("dgx-h100");
  net_node_group g = p->group;
  g.count = 1;
  net_topology *t = net_topology_create(&g, 1, &p->fabric, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  uint32_t ranks[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const net_coll_params *ag = params(t, NET_ALL_GATHER, NET_DOMAIN_INTRA);
  CU_ASSERT_FATAL(ag->bulk_link_frac > ag->link_frac && ag->bulk_step_ns > ag->step_ns);
  double n = 8, small = 4096, large = 256e6;
  double ll_small = ag->base_ns + (n - 1) * ag->step_ns +
                    (n - 1) / n * small / (ag->link_frac * 450e9) * 1e9;
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_ALL_GATHER, NET_ALGO_AUTO, ranks, 8, small),
                         ll_small, ll_small * 1e-12);
  double bulk_large = ag->base_ns + (n - 1) * ag->bulk_step_ns +
                      (n - 1) / n * large / (ag->bulk_link_frac * 450e9) * 1e9 +
                      large * ag->copy_ns_per_byte;
  CU_ASSERT_DOUBLE_EQUAL(net_collective_ns(t, NET_ALL_GATHER, NET_ALGO_AUTO, ranks, 8, large),
                         bulk_large, bulk_large * 1e-12);
  net_topology_destroy(t);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"switch route goes up and down within a node",
       test_switch_route_goes_up_and_down_within_a_node},
      {"nvl72 domain spans nodes", test_nvl72_domain_spans_nodes},
      {"torus routes dimension order the shortest way",
       test_torus_routes_dimension_order_shortest_way},
      {"leaf spine routes through the hashed spine",
       test_leaf_spine_routes_through_the_hashed_spine},
      {"rail fabric keeps a rail on its switch", test_rail_fabric_keeps_a_rail_on_its_switch},
      {"bad specs are refused with a reason", test_bad_specs_are_refused_with_a_reason},
      {"groups number accelerators and nodes in order",
       test_groups_number_accelerators_and_nodes_in_order},
      {"presets are found case-insensitively and build",
       test_presets_are_found_case_insensitively_and_build},
      {"ring all-reduce matches the hand formula", test_ring_all_reduce_matches_the_hand_formula},
      {"other collectives match the hand formulas", test_other_collectives_match_the_hand_formulas},
      {"the embedded table has every fitted row", test_the_embedded_table_has_every_fitted_row},
      {"small messages take LL and large ones bulk",
       test_small_messages_take_ll_and_large_ones_bulk},
      {NULL, NULL}};
  return harness_run("net", tests, argc > 1 ? argv[1] : NULL, true);
}
