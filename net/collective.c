/* The cost of a collective on the topology: NCCL-like ring, double-binary-tree, all-to-all and
 * send/recv step counts over the bottleneck link of the ranks' routes, with a launch cost, a step
 * latency and an achieved link fraction fitted to NCCL measurements by calib/fit_collectives.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>

#include "net/collective_model.h"

/* Adds one flow's route, carrying `weight` chunks, to the per-link loads; marks the shape
 * inter-node when it leaves the scale-up domain. */
static int add_flow(const net_topology *t, uint32_t src, uint32_t dst, uint64_t hash, double weight,
                    double *load, net_coll_shape *s) {
  uint32_t links[NET_MAX_HOPS];
  int hops = net_route(t, src, dst, hash, links);
  if (hops < 0)
    return -1;
  for (int h = 0; h < hops; h++) {
    load[links[h]] += weight;
    net_link_kind k = net_link_at(t, links[h])->kind;
    if (k != NET_LINK_SCALEUP_UP && k != NET_LINK_SCALEUP_DOWN && k != NET_LINK_TORUS)
      s->domain = NET_DOMAIN_INTER;
  }
  return 0;
}

enum { MAX_CHANNELS = 32 }; /* NCCL's default channel ceiling */

/* NCCL's rings across nodes: one ring per channel, each splitting 1/channels of the data, with
 * the ranks of each scale-up domain kept together and rotated per channel so that every channel
 * leaves a domain through a different rank, and so a different NIC (up to 32 channels). Within one
 * domain every channel's ring is the same cycle, so the load is a single ring's. order: scratch of
 * `ranks`. */
static int add_rings(const net_topology *t, const uint32_t *accels, uint32_t ranks, double *load,
                     uint32_t *order, net_coll_shape *s) {
  /* Group the ranks by scale-up domain, groups in order of first appearance. */
  uint32_t groups = 0, widest = 0, placed = 0;
  uint32_t *group_of = order; /* reused: first the group index of each rank, then the ring */
  uint32_t *first = malloc(ranks * sizeof *first), *size = calloc(ranks, sizeof *size);
  if (!first || !size) {
    free(first);
    free(size);
    return -1;
  }
  for (uint32_t i = 0; i < ranks; i++) {
    uint32_t g = 0;
    for (; g < groups; g++)
      if (net_accel_domain(t, accels[first[g]]) == net_accel_domain(t, accels[i]))
        break;
    if (g == groups)
      first[groups++] = i;
    group_of[i] = g;
    if (++size[g] > widest)
      widest = size[g];
  }
  uint32_t channels = widest < MAX_CHANNELS ? widest : MAX_CHANNELS;
  uint32_t *ring = malloc(ranks * sizeof *ring), *start = malloc(groups * sizeof *start);
  int rc = ring && start ? 0 : -1;
  for (uint32_t g = 0; g < groups && rc == 0; g++)
    start[g] = placed, placed += size[g];
  /* Members of each group in rank order, packed by group. */
  for (uint32_t g = 0, k = 0; g < groups && rc == 0; g++)
    for (uint32_t i = 0; i < ranks; i++)
      if (group_of[i] == g)
        ring[k++] = i;
  for (uint32_t c = 0; c < channels && rc == 0; c++) {
    /* This channel's ring: even groups from local rank c+1 forward to c, odd ones from c
     * backward to c+1, so a ring leaves and enters consecutive domains at the same local rank,
     * and so on the same rail (NCCL's rail-aligned rings and PXN). */
    for (uint32_t g = 0, k = 0; g < groups; g++)
      for (uint32_t m = 0; m < size[g]; m++)
        order[k++] = ring[start[g] + (g % 2 == 0 ? (c + 1 + m) % size[g]
                                                 : (c + size[g] - m % size[g]) % size[g])];
    for (uint32_t i = 0; i < ranks && rc == 0; i++)
      rc = add_flow(t, accels[order[i]], accels[order[(i + 1) % ranks]], (uint64_t)c * ranks + i,
                    1.0 / channels, load, s);
  }
  free(first);
  free(size);
  free(ring);
  free(start);
  return rc;
}

int net_coll_shape_of(const net_topology *t, net_collective op, const uint32_t *accels,
                      uint32_t ranks, net_coll_shape *out) {
  *out = (net_coll_shape){ranks, NET_DOMAIN_INTRA, 0.0};
  if (!accels || ranks == 0 || (unsigned)op >= NET_COLLECTIVE_COUNT)
    return -1;
  for (uint32_t i = 0; i < ranks; i++)
    if (accels[i] >= net_accel_count(t))
      return -1;
  if (ranks == 1)
    return 0;
  /* One load per link, not per route: O(links) memory, O(flows x hops) time. */
  double *load = calloc(net_link_count(t) ? net_link_count(t) : 1, sizeof *load);
  uint32_t *order = malloc(ranks * sizeof *order);
  int rc = load && order ? 0 : -1;
  /* Flow hashes spread a collective's flows over the spines as NCCL's channels do. */
  if (rc == 0 && op == NET_ALL_TO_ALL) {
    for (uint32_t i = 0; i < ranks && rc == 0; i++)
      for (uint32_t j = 0; j < ranks && rc == 0; j++)
        if (i != j)
          rc = add_flow(t, accels[i], accels[j], (uint64_t)i * ranks + j, 1.0, load, out);
  } else if (rc == 0 && op == NET_SEND_RECV) {
    for (uint32_t i = 0; i + 1 < ranks && rc == 0; i++)
      rc = add_flow(t, accels[i], accels[i + 1], i, 1.0, load, out);
  } else if (rc == 0) {
    rc = add_rings(t, accels, ranks, load, order, out);
  }
  double worst = 0.0;
  for (uint32_t l = 0; l < net_link_count(t) && rc == 0; l++)
    if (load[l] > 0.0) {
      double s_per_byte = load[l] / net_link_at(t, l)->bytes_per_s;
      if (s_per_byte > worst)
        worst = s_per_byte;
    }
  free(load);
  free(order);
  out->s_per_byte = worst;
  return rc;
}

static double ceil_log2(uint32_t n) {
  double steps = 0.0;
  for (uint32_t v = 1; v < n; v *= 2)
    steps += 1.0;
  return steps;
}

/* One algorithm's time: `steps` step latencies and `link_bytes` over the bottleneck link, under
 * the faster protocol (net_coll_params): LL, or bulk, which also pays the staging copies of the
 * rank's `bytes` through device memory. */
static double protocols_ns(const net_coll_params *p, double steps, double link_bytes, double bytes,
                           double s_per_byte) {
  double ns_per_byte = s_per_byte * 1e9;
  double ll = steps * p->step_ns + link_bytes * ns_per_byte / p->link_frac;
  if (!(p->bulk_link_frac > 0.0))
    return p->base_ns + ll;
  double bulk = steps * p->bulk_step_ns + link_bytes * ns_per_byte / p->bulk_link_frac +
                bytes * p->copy_ns_per_byte;
  return p->base_ns + (ll < bulk ? ll : bulk);
}

/* The step structure (NCCL's, as in its tuning model and nccl-tests' byte counts):
 *   ring all-reduce      2(n-1) steps, each moving bytes/n over the bottleneck link
 *   tree all-reduce      2 ceil(log2 n) step latencies (up the tree and down again, NCCL's double
 *                        binary tree), pipelined so the bytes cross the bottleneck twice in total
 *   all-gather, reduce-scatter  (n-1) ring steps of bytes/n (nccl-tests' size is the full buffer);
 *                        NCCL has no tree for them, so TREE prices the ring
 *   all-to-all           (n-1) step latencies; bytes/n to every peer at once, so the bottleneck
 *                        carries bytes/n per flow through it
 *   send/recv            one step of all the bytes
 * each under the faster protocol (protocols_ns), and every call pays base_ns once. */
double net_coll_time_ns(const net_coll_shape *s, net_collective op, net_algorithm algo,
                        double bytes, const net_coll_params *p) {
  if (s->ranks <= 1)
    return 0.0;
  double n = s->ranks, spb = s->s_per_byte;
  switch (op) {
  case NET_ALL_REDUCE: {
    double ring = protocols_ns(p, 2.0 * (n - 1.0), 2.0 * (n - 1.0) / n * bytes, bytes, spb);
    double tree = protocols_ns(p, 2.0 * ceil_log2(s->ranks), 2.0 * bytes, bytes, spb);
    if (algo == NET_ALGO_RING)
      return ring;
    if (algo == NET_ALGO_TREE)
      return tree;
    return ring < tree ? ring : tree;
  }
  case NET_ALL_GATHER:
  case NET_REDUCE_SCATTER: return protocols_ns(p, n - 1.0, (n - 1.0) / n * bytes, bytes, spb);
  case NET_ALL_TO_ALL: return protocols_ns(p, n - 1.0, bytes / n, bytes, spb);
  case NET_SEND_RECV: return protocols_ns(p, 1.0, bytes, bytes, spb);
  }
  return NAN;
}

double net_collective_ns(const net_topology *t, net_collective op, net_algorithm algo,
                         const uint32_t *accels, uint32_t ranks, double bytes) {
  net_coll_shape s;
  if (!(bytes >= 0.0) || net_coll_shape_of(t, op, accels, ranks, &s) != 0)
    return NAN;
  return net_coll_time_ns(&s, op, algo, bytes, &net_topology_coll_table(t)->p[op][s.domain]);
}
