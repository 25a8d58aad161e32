/* Lays a serving scenario out: instances onto accelerators, nodes into racks, and everything into
 * units that placement keeps whole. */
#include "serving/cluster.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t find(uint32_t *parent, uint32_t x) {
  while (parent[x] != x)
    x = parent[x] = parent[parent[x]];
  return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b) {
  a = find(parent, a);
  b = find(parent, b);
  if (a != b)
    parent[a > b ? a : b] = a < b ? a : b; /* the smaller root: pods numbered by first node */
}

/* Instances take accelerators deployment by deployment, in node order of their accelerator's node
 * types; each pipeline stage's tp accelerators lie in one node. */
static int place_instances(srv_cluster *c, const srv_scenario *s, char *err, size_t err_len) {
  uint32_t *cursor_node = calloc(s->deployment_count, sizeof *cursor_node);
  uint32_t *cursor_accel = calloc(s->deployment_count, sizeof *cursor_accel);
  if (!cursor_node || !cursor_accel) {
    free(cursor_node);
    free(cursor_accel);
    snprintf(err, err_len, "out of memory placing instances");
    return -1;
  }
  /* One cursor per accelerator type, kept by the first deployment of that type. */
  uint32_t instance = 0, next = 0;
  int rc = 0;
  c->accel_offsets[0] = 0;
  for (size_t d = 0; d < s->deployment_count && rc == 0; d++) {
    const srv_deployment *dep = &s->deployments[d];
    size_t owner = d;
    for (size_t e = 0; e < d; e++)
      if (s->deployments[e].accel == dep->accel) {
        owner = e;
        break;
      }
    uint32_t *node = &cursor_node[owner], *used = &cursor_accel[owner];
    const uint32_t stage_devices = hw_deploy_stage_devices(&dep->hw); /* tp * ep */
    for (uint32_t k = 0; k < dep->count && rc == 0; k++, instance++) {
      for (uint32_t stage = 0; stage < dep->hw.pp && rc == 0; stage++) {
        while (*node < c->nodes &&
               (s->nodes[c->node_group[*node]].accel != dep->accel ||
                *used + stage_devices > s->nodes[c->node_group[*node]].accels_per_node)) {
          (*node)++;
          *used = 0;
        }
        if (*node == c->nodes) {
          snprintf(err, err_len,
                   "deployment %s: no room for instance %" PRIu32 " (stage %" PRIu32
                   "): its tp x ep = %" PRIu32
                   " accelerators must lie in one node, and the %s nodes have too few left",
                   dep->name, k, stage, stage_devices, dep->accel->name);
          rc = -1;
          break;
        }
        for (uint32_t a = 0; a < stage_devices; a++)
          c->accel_ids[next++] = c->node_first_accel[*node] + *used + a;
        c->node_used_accels[*node] += stage_devices;
        *used += stage_devices;
      }
      c->accel_offsets[instance + 1] = next;
    }
  }
  free(cursor_node);
  free(cursor_accel);
  return rc;
}

/* Units, the sets of LPs that placement never splits: the nodes under one leaf, in one scale-up
 * domain, serving one instance, or in one routing pod, with their instances and the links that
 * leave them. Units are numbered by their first node. */
static int group_units(srv_cluster *c, const srv_scenario *s, char *err, size_t err_len) {
  uint32_t *parent = malloc(c->nodes * sizeof *parent);
  uint32_t *unit_of_root = malloc(c->nodes * sizeof *unit_of_root);
  if (!parent || !unit_of_root) {
    free(parent), free(unit_of_root);
    snprintf(err, err_len, "out of memory grouping %u nodes", c->nodes);
    return -1;
  }
  for (uint32_t n = 0; n < c->nodes; n++)
    parent[n] = n;
  if (c->topo) {
    const net_fabric_spec *f = &s->network.fabric;
    for (uint32_t n = 1; n < c->nodes; n++)
      if (f->kind != NET_FABRIC_NONE && n / f->nodes_per_leaf == (n - 1) / f->nodes_per_leaf)
        unite(parent, n, n - 1);
    for (uint32_t n = 1; n < c->nodes; n++) {
      const srv_node_group *g = &s->nodes[c->node_group[n]];
      uint32_t domain = g->net.scaleup.domain_accels ? g->net.scaleup.domain_accels
                                                     : g->accels_per_node;
      uint32_t first = c->node_first_accel[n], prev = c->node_first_accel[n - 1];
      uint32_t group_first = c->node_first_accel[n];
      for (uint32_t m = n; m > 0 && c->node_group[m - 1] == c->node_group[n]; m--)
        group_first = c->node_first_accel[m - 1];
      if (c->node_group[n - 1] == c->node_group[n] &&
          (first - group_first) / domain == (prev - group_first) / domain)
        unite(parent, n, n - 1);
    }
  }
  for (uint32_t n = 1; c->node_pod && n < c->nodes; n++)
    if (c->node_pod[n] == c->node_pod[n - 1])
      unite(parent, n, n - 1);
  const uint32_t *node_of_accel = c->accel_node;
  for (uint32_t i = 0; i < c->instances; i++)
    for (uint32_t k = c->accel_offsets[i] + 1; k < c->accel_offsets[i + 1]; k++)
      unite(parent, node_of_accel[c->accel_ids[k]],
            node_of_accel[c->accel_ids[c->accel_offsets[i]]]);
  c->units = 0;
  for (uint32_t n = 0; n < c->nodes; n++)
    if (find(parent, n) == n)
      unit_of_root[n] = c->units++;
  for (uint32_t n = 0; n < c->nodes; n++)
    c->node_unit[n] = unit_of_root[find(parent, n)];
  for (uint32_t i = 0; i < c->instances; i++)
    c->instance_unit[i] = c->node_unit[node_of_accel[c->accel_ids[c->accel_offsets[i]]]];
  for (uint32_t l = 0; c->topo && l < net_link_count(c->topo); l++)
    c->link_unit[l] = c->node_unit[net_link_at(c->topo, l)->node];
  free(parent), free(unit_of_root);
  return 0;
}

int srv_cluster_build(srv_cluster *c, const srv_scenario *s, char *err, size_t err_len) {
  *c = (srv_cluster){.instances = srv_scenario_instances(s)};
  for (size_t g = 0; g < s->node_groups; g++) {
    c->nodes += s->nodes[g].count;
    c->accels += s->nodes[g].count * s->nodes[g].accels_per_node;
  }
  uint32_t instance_accels = 0;
  for (size_t d = 0; d < s->deployment_count; d++)
    instance_accels += s->deployments[d].count * hw_deploy_stage_devices(&s->deployments[d].hw) *
                       s->deployments[d].hw.pp;
  c->node_group = malloc(c->nodes * sizeof *c->node_group);
  c->node_rack = malloc(c->nodes * sizeof *c->node_rack);
  c->node_first_accel = malloc((c->nodes + 1) * sizeof *c->node_first_accel);
  c->node_used_accels = calloc(c->nodes, sizeof *c->node_used_accels);
  c->accel_offsets = malloc((c->instances + 1) * sizeof *c->accel_offsets);
  c->accel_ids = malloc((instance_accels ? instance_accels : 1) * sizeof *c->accel_ids);
  c->instance_unit = malloc((c->instances ? c->instances : 1) * sizeof *c->instance_unit);
  c->node_unit = malloc(c->nodes * sizeof *c->node_unit);
  if (!c->node_group || !c->node_rack || !c->node_first_accel || !c->node_used_accels ||
      !c->accel_offsets || !c->accel_ids || !c->instance_unit || !c->node_unit)
    goto oom;
  if (s->router.pods.enabled && !(c->node_pod = malloc(c->nodes * sizeof *c->node_pod)))
    goto oom;
  for (size_t g = 0, n = 0, accel = 0; g < s->node_groups; g++) {
    const srv_node_group *group = &s->nodes[g];
    uint32_t per_pod = s->router.pods.nodes ? s->router.pods.nodes : group->nodes_per_rack;
    for (uint32_t k = 0; k < group->count; k++, n++) {
      c->node_group[n] = (uint32_t)g;
      c->node_rack[n] = c->racks + k / group->nodes_per_rack;
      if (c->node_pod)
        c->node_pod[n] = c->pods + k / per_pod;
      c->node_first_accel[n] = (uint32_t)accel;
      accel += group->accels_per_node;
    }
    c->racks += (group->count + group->nodes_per_rack - 1) / group->nodes_per_rack;
    if (c->node_pod)
      c->pods += (group->count + per_pod - 1) / per_pod;
  }
  c->node_first_accel[c->nodes] = c->accels;
  if (!(c->accel_node = malloc((c->accels ? c->accels : 1) * sizeof *c->accel_node)))
    goto oom;
  for (uint32_t n = 0; n < c->nodes; n++)
    for (uint32_t a = c->node_first_accel[n]; a < c->node_first_accel[n + 1]; a++)
      c->accel_node[a] = n;
  if (place_instances(c, s, err, err_len) != 0)
    goto fail;
  if (s->disaggregated) {
    net_node_group *groups = malloc(s->node_groups * sizeof *groups);
    if (!groups)
      goto oom;
    for (size_t g = 0; g < s->node_groups; g++)
      groups[g] = s->nodes[g].net;
    c->topo = net_topology_create(groups, s->node_groups, &s->network.fabric, err, err_len);
    free(groups);
    if (!c->topo)
      goto fail;
  }
  uint32_t links = c->topo ? net_link_count(c->topo) : 0;
  if (!(c->link_unit = malloc((links ? links : 1) * sizeof *c->link_unit)))
    goto oom;
  if (group_units(c, s, err, err_len) != 0)
    goto fail;
  return 0;
oom:
  snprintf(err, err_len, "out of memory laying out %" PRIu32 " nodes", c->nodes);
fail:
  srv_cluster_free(c);
  return -1;
}

void srv_cluster_free(srv_cluster *c) {
  if (c->topo)
    net_topology_destroy(c->topo);
  free(c->node_group);
  free(c->node_rack);
  free(c->node_first_accel);
  free(c->node_used_accels);
  free(c->accel_node);
  free(c->accel_offsets);
  free(c->accel_ids);
  free(c->instance_unit);
  free(c->node_pod);
  free(c->node_unit);
  free(c->link_unit);
  *c = (srv_cluster){0};
}

/* The line t0 + bytes / rate through two sizes of one collective; false when net cannot price it.
 * `sent_share` converts nccl-tests' per-rank message size into what one device sends. */
static bool comm_line(const net_topology *t, net_collective op, const uint32_t *accels,
                      uint32_t ranks, double sent_share, hw_comm *out) {
  const double small = 1048576.0, large = 67108864.0;
  double t_small = net_collective_ns(t, op, NET_ALGO_AUTO, accels, ranks, small);
  double t_large = net_collective_ns(t, op, NET_ALGO_AUTO, accels, ranks, large);
  if (!(t_large > t_small) || !(t_small > 0.0))
    return false;
  double per_ns = sent_share * (large - small) / (t_large - t_small); /* bytes per ns */
  out->bytes_per_s = per_ns * 1e9;
  out->t0_ns = fmax(0.0, t_small - sent_share * small / per_ns);
  return true;
}

void srv_cluster_comm(const srv_cluster *c, uint32_t instance, hw_deploy_config *cfg) {
  if (!c->topo || instance >= c->instances)
    return;
  const uint32_t *accels = &c->accel_ids[c->accel_offsets[instance]];
  uint32_t stage = hw_deploy_stage_devices(cfg), pp = cfg->pp ? cfg->pp : 1;
  if (srv_cluster_instance_accels(c, instance) < stage * pp)
    return;
  hw_comm a2a = {0}, sr = {0};
  if (cfg->ep > 1 && comm_line(c->topo, NET_ALL_TO_ALL, accels, stage, (stage - 1.0) / stage, &a2a))
    cfg->alltoall = a2a;
  if (pp > 1 && net_accel_domain(c->topo, accels[0]) != net_accel_domain(c->topo, accels[stage])) {
    uint32_t pair[2] = {accels[0], accels[stage]};
    if (comm_line(c->topo, NET_SEND_RECV, pair, 2, 1.0, &sr))
      cfg->sendrecv = sr;
  }
}
