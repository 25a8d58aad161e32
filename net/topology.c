/* The network graph: scale-up domains (switch or torus) and the scale-out fabric (leaf-spine or
 * rail) built as arrays of directed links, and deterministic routes over them. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/coll_table.h"
#include "net/net.h"

#define NONE UINT32_MAX

/* What a link connects, for its name: the accelerator and direction, the NIC, or the switch and
 * spine it joins. */
typedef struct link_tag {
  uint32_t a, b; /* accel and torus direction; node and nic index; switch and spine */
} link_tag;

/* A node group as built: where its accelerators, nodes and domains start, and the torus
 * directions each accelerator has (dir_link[dim][0] for +, [1] for -, NONE when absent). */
typedef struct group_info {
  uint32_t first_accel, first_node, accels, domain_accels, first_domain;
  uint32_t accels_per_node, nics_per_node, first_nic;
  net_scaleup_kind kind;
  uint32_t dims[3];
  uint32_t dir_link[3][2]; /* offset from the accelerator's first link */
} group_info;

struct net_topology {
  uint32_t accels, nodes, nics, switches, spines;
  uint32_t nlinks, links_cap;
  net_link *links;
  link_tag *tags;
  size_t ngroups;
  group_info *groups;
  uint32_t *accel_group, *accel_first_link; /* switch: up, then down; torus: one per direction */
  uint32_t *node_group;
  uint32_t *nic_node, *nic_switch, *nic_link; /* nic_link: up, then down */
  uint32_t *switch_spine_link;                /* up to spine s at +2s, down at +2s+1; NONE */
  uint32_t *switch_first_node;
  net_fabric_kind fabric_kind;
  uint32_t rails;
  net_coll_table coll;
};

static const char *const dim_names = "xyz";

uint32_t net_accel_count(const net_topology *t) { return t->accels; }
uint32_t net_node_count(const net_topology *t) { return t->nodes; }
uint32_t net_link_count(const net_topology *t) { return t->nlinks; }
const net_link *net_link_at(const net_topology *t, uint32_t link) {
  return link < t->nlinks ? &t->links[link] : NULL;
}
const net_coll_table *net_topology_coll_table(const net_topology *t) { return &t->coll; }

uint32_t net_accel_node(const net_topology *t, uint32_t accel) {
  assert(accel < t->accels);
  const group_info *g = &t->groups[t->accel_group[accel]];
  return g->first_node + (accel - g->first_accel) / g->accels_per_node;
}

uint32_t net_accel_domain(const net_topology *t, uint32_t accel) {
  assert(accel < t->accels);
  const group_info *g = &t->groups[t->accel_group[accel]];
  return g->first_domain + (accel - g->first_accel) / g->domain_accels;
}

/* The NIC an accelerator uses, NONE without one: accelerator a of a node uses NIC
 * a * nics / accels, so NICs are shared evenly. */
static uint32_t accel_nic(const net_topology *t, uint32_t accel) {
  const group_info *g = &t->groups[t->accel_group[accel]];
  if (g->nics_per_node == 0 || t->fabric_kind == NET_FABRIC_NONE)
    return NONE;
  uint32_t local = accel - g->first_accel;
  uint32_t node_in_group = local / g->accels_per_node, in_node = local % g->accels_per_node;
  return g->first_nic + node_in_group * g->nics_per_node +
         (uint32_t)((uint64_t)in_node * g->nics_per_node / g->accels_per_node);
}

void net_topology_destroy(net_topology *t) {
  if (!t)
    return;
  free(t->links);
  free(t->tags);
  free(t->groups);
  free(t->accel_group);
  free(t->accel_first_link);
  free(t->node_group);
  free(t->nic_node);
  free(t->nic_switch);
  free(t->nic_link);
  free(t->switch_spine_link);
  free(t->switch_first_node);
  free(t);
}

static uint32_t add_link(net_topology *t, net_link_kind kind, double bytes_per_s,
                         int64_t latency_ns, uint32_t node, uint32_t a, uint32_t b) {
  assert(t->nlinks < t->links_cap);
  uint32_t id = t->nlinks++;
  t->links[id] = (net_link){kind, bytes_per_s, latency_ns, node};
  t->tags[id] = (link_tag){a, b};
  return id;
}

static uint32_t dims_of(const net_scaleup_spec *s, uint32_t out[3]) {
  uint32_t product = 1;
  for (int d = 0; d < 3; d++) {
    out[d] = s->torus_dims[d] ? s->torus_dims[d] : 1;
    product *= out[d];
  }
  return product;
}

#define FAIL(...) (snprintf(err, err_len, __VA_ARGS__), -1)

/* Checks one group; fills its domain size and torus shape. */
static int check_group(const net_node_group *g, size_t i, const net_fabric_spec *fabric,
                       uint32_t *domain_accels, uint32_t dims[3], char *err, size_t err_len) {
  if (g->count == 0 || g->accels_per_node == 0)
    return FAIL("node group %zu: count and accels_per_node must be at least 1", i);
  uint64_t accels = (uint64_t)g->count * g->accels_per_node;
  if (accels > UINT32_MAX / 4)
    return FAIL("node group %zu: %llu accelerators is too many", i, (unsigned long long)accels);
  const net_scaleup_spec *s = &g->scaleup;
  uint32_t domain = s->domain_accels ? s->domain_accels : g->accels_per_node;
  if (accels % domain != 0)
    return FAIL(
        "node group %zu: scale-up domain of %u accelerators does not divide the group's "
        "%llu",
        i, domain, (unsigned long long)accels);
  if (s->kind != NET_SCALEUP_SWITCH && s->kind != NET_SCALEUP_TORUS)
    return FAIL("node group %zu: unknown scale-up kind %d", i, (int)s->kind);
  if (domain > 1 && !(s->bytes_per_s > 0.0))
    return FAIL("node group %zu: scale-up bandwidth must be positive (got %g B/s)", i,
                s->bytes_per_s);
  if (s->latency_ns < 0)
    return FAIL("node group %zu: scale-up latency must not be negative", i);
  uint32_t product = dims_of(s, dims);
  if (s->kind == NET_SCALEUP_TORUS) {
    if (product != domain)
      return FAIL("node group %zu: torus %ux%ux%u has %u accelerators, not the domain's %u", i,
                  dims[0], dims[1], dims[2], product, domain);
    uint32_t worst_hops = dims[0] / 2 + dims[1] / 2 + dims[2] / 2;
    if (worst_hops > NET_MAX_HOPS)
      return FAIL("node group %zu: torus %ux%ux%u needs routes of %u hops, more than %d", i,
                  dims[0], dims[1], dims[2], worst_hops, NET_MAX_HOPS);
  }
  if (fabric->kind != NET_FABRIC_NONE && g->nics_per_node > 0 && !(g->nic_bytes_per_s > 0.0))
    return FAIL("node group %zu: NIC bandwidth must be positive (got %g B/s)", i,
                g->nic_bytes_per_s);
  *domain_accels = domain;
  return 0;
}

static int check_fabric(const net_fabric_spec *f, char *err, size_t err_len) {
  if (f->kind == NET_FABRIC_NONE)
    return 0;
  if (f->kind != NET_FABRIC_LEAF_SPINE && f->kind != NET_FABRIC_RAIL)
    return FAIL("fabric: unknown kind %d", (int)f->kind);
  if (f->nodes_per_leaf == 0)
    return FAIL("fabric: nodes_per_leaf must be at least 1");
  if (!(f->oversubscription >= 1.0))
    return FAIL("fabric: oversubscription must be at least 1 (got %g)", f->oversubscription);
  if (f->nic_latency_ns < 0 || f->spine_latency_ns < 0)
    return FAIL("fabric: latencies must not be negative");
  return 0;
}

static bool alloc_arrays(net_topology *t) {
  t->links = calloc(t->links_cap ? t->links_cap : 1, sizeof *t->links);
  t->tags = calloc(t->links_cap ? t->links_cap : 1, sizeof *t->tags);
  t->accel_group = calloc(t->accels, sizeof *t->accel_group);
  t->accel_first_link = calloc(t->accels, sizeof *t->accel_first_link);
  t->node_group = calloc(t->nodes, sizeof *t->node_group);
  t->nic_node = calloc(t->nics ? t->nics : 1, sizeof *t->nic_node);
  t->nic_switch = calloc(t->nics ? t->nics : 1, sizeof *t->nic_switch);
  t->nic_link = calloc(t->nics ? t->nics : 1, sizeof *t->nic_link);
  t->switch_spine_link = calloc(t->switches ? t->switches : 1, sizeof *t->switch_spine_link);
  t->switch_first_node = calloc(t->switches ? t->switches : 1, sizeof *t->switch_first_node);
  return t->links && t->tags && t->accel_group && t->accel_first_link && t->node_group &&
         t->nic_node && t->nic_switch && t->nic_link && t->switch_spine_link &&
         t->switch_first_node;
}

/* Torus directions of a group: + and - per dimension longer than 2, one for a dimension of 2. */
static uint32_t torus_directions(group_info *g) {
  uint32_t n = 0;
  for (int d = 0; d < 3; d++) {
    g->dir_link[d][0] = g->dir_link[d][1] = NONE;
    if (g->dims[d] >= 2)
      g->dir_link[d][0] = n++;
    if (g->dims[d] >= 3)
      g->dir_link[d][1] = n++;
  }
  return n;
}

net_topology *net_topology_create(const net_node_group *groups, size_t group_count,
                                  const net_fabric_spec *fabric, char *err, size_t err_len) {
  static const net_fabric_spec no_fabric = {.kind = NET_FABRIC_NONE};
  if (!fabric)
    fabric = &no_fabric;
  if (!groups || group_count == 0) {
    snprintf(err, err_len, "no node groups");
    return NULL;
  }
  if (check_fabric(fabric, err, err_len) != 0)
    return NULL;
  net_topology *t = calloc(1, sizeof *t);
  if (!t || !(t->groups = calloc(group_count, sizeof *t->groups))) {
    free(t);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  t->ngroups = group_count;
  t->fabric_kind = fabric->kind;
  t->spines = fabric->kind == NET_FABRIC_NONE ? 0 : fabric->spines;
  if (net_coll_table_parse(net_data_collective_csv, net_data_collective_csv_len,
                           "net/data/collective.csv (embedded)", &t->coll, err, err_len) != 0) {
    net_topology_destroy(t);
    return NULL;
  }

  /* Count everything first, so each array is allocated once. */
  uint64_t accels = 0, nodes = 0, nics = 0, links = 0, domains = 0;
  uint32_t rails = 0;
  for (size_t i = 0; i < group_count; i++) {
    const net_node_group *g = &groups[i];
    group_info *gi = &t->groups[i];
    if (check_group(g, i, fabric, &gi->domain_accels, gi->dims, err, err_len) != 0) {
      net_topology_destroy(t);
      return NULL;
    }
    gi->first_accel = (uint32_t)accels, gi->first_node = (uint32_t)nodes;
    gi->first_domain = (uint32_t)domains, gi->first_nic = (uint32_t)nics;
    gi->accels = g->count * g->accels_per_node, gi->accels_per_node = g->accels_per_node;
    gi->kind = g->scaleup.kind;
    gi->nics_per_node = fabric->kind == NET_FABRIC_NONE ? 0 : g->nics_per_node;
    uint32_t per_accel = gi->kind == NET_SCALEUP_TORUS ? torus_directions(gi) : 2;
    if (gi->domain_accels == 1)
      per_accel = 0; /* a domain of one has nothing to talk to */
    accels += gi->accels, nodes += g->count, domains += gi->accels / gi->domain_accels;
    nics += (uint64_t)g->count * gi->nics_per_node;
    links += (uint64_t)gi->accels * per_accel;
    if (gi->nics_per_node > rails)
      rails = gi->nics_per_node;
  }
  uint64_t switches = 0;
  if (fabric->kind != NET_FABRIC_NONE && nics > 0) {
    uint64_t leaf_groups = (nodes + fabric->nodes_per_leaf - 1) / fabric->nodes_per_leaf;
    switches = leaf_groups * (fabric->kind == NET_FABRIC_RAIL ? rails : 1);
    links += 2 * nics + 2 * switches * t->spines;
  }
  if (accels + links + 2 * nics > UINT32_MAX / 2) {
    snprintf(err, err_len, "the network has too many links (%llu)", (unsigned long long)links);
    net_topology_destroy(t);
    return NULL;
  }
  t->accels = (uint32_t)accels, t->nodes = (uint32_t)nodes, t->nics = (uint32_t)nics;
  t->switches = (uint32_t)switches, t->rails = rails, t->links_cap = (uint32_t)links;
  if (!alloc_arrays(t)) {
    snprintf(err, err_len, "out of memory");
    net_topology_destroy(t);
    return NULL;
  }

  /* Scale-up links, accelerator by accelerator. */
  for (size_t i = 0; i < group_count; i++) {
    const net_node_group *g = &groups[i];
    group_info *gi = &t->groups[i];
    for (uint32_t n = 0; n < g->count; n++)
      t->node_group[gi->first_node + n] = (uint32_t)i;
    for (uint32_t a = gi->first_accel; a < gi->first_accel + gi->accels; a++) {
      t->accel_group[a] = (uint32_t)i;
      t->accel_first_link[a] = t->nlinks;
      if (gi->domain_accels == 1)
        continue;
      uint32_t node = gi->first_node + (a - gi->first_accel) / gi->accels_per_node;
      const net_scaleup_spec *s = &g->scaleup;
      if (gi->kind == NET_SCALEUP_SWITCH) {
        add_link(t, NET_LINK_SCALEUP_UP, s->bytes_per_s, s->latency_ns, node, a, 0);
        add_link(t, NET_LINK_SCALEUP_DOWN, s->bytes_per_s, s->latency_ns, node, a, 0);
        continue;
      }
      for (uint32_t d = 0; d < 3; d++)
        for (uint32_t sign = 0; sign < 2; sign++)
          if (gi->dir_link[d][sign] != NONE)
            add_link(t, NET_LINK_TORUS, s->bytes_per_s, s->latency_ns, node, a, d * 2 + sign);
    }
  }

  /* NIC links, then each leaf (or rail) switch's spine links, sized for the switch as designed
   * (nodes_per_leaf nodes' NICs, divided by the oversubscription), however many nodes populate
   * it: a leaf's uplinks are ports as fast as its downlinks, so one flow is never slower on them
   * than on its NIC, as long as spines <= the designed NICs per switch / oversubscription. */
  if (switches > 0) {
    double *switch_bytes = calloc(t->switches, sizeof *switch_bytes);
    if (!switch_bytes) {
      snprintf(err, err_len, "out of memory");
      net_topology_destroy(t);
      return NULL;
    }
    for (uint32_t s = 0; s < t->switches; s++)
      t->switch_first_node[s] = NONE;
    for (size_t i = 0; i < group_count; i++) {
      const group_info *gi = &t->groups[i];
      for (uint32_t n = 0; n < groups[i].count; n++)
        for (uint32_t k = 0; k < gi->nics_per_node; k++) {
          uint32_t node = gi->first_node + n, nic = gi->first_nic + n * gi->nics_per_node + k;
          uint32_t leaf = node / fabric->nodes_per_leaf;
          uint32_t sw = fabric->kind == NET_FABRIC_RAIL ? leaf * rails + k : leaf;
          t->nic_node[nic] = node, t->nic_switch[nic] = sw;
          t->nic_link[nic] = add_link(t, NET_LINK_NIC_UP, groups[i].nic_bytes_per_s,
                                      fabric->nic_latency_ns, node, node, k);
          add_link(t, NET_LINK_NIC_DOWN, groups[i].nic_bytes_per_s, fabric->nic_latency_ns, node,
                   node, k);
          if (t->switch_first_node[sw] == NONE)
            t->switch_first_node[sw] = node;
          if (t->switch_first_node[sw] == node)
            switch_bytes[sw] += groups[i].nic_bytes_per_s * fabric->nodes_per_leaf;
        }
    }
    for (uint32_t s = 0; s < t->switches; s++) {
      t->switch_spine_link[s] = NONE;
      if (switch_bytes[s] <= 0.0 || t->spines == 0)
        continue; /* a rail no node of this leaf group has */
      double up = switch_bytes[s] / (fabric->oversubscription * t->spines);
      t->switch_spine_link[s] = t->nlinks;
      for (uint32_t sp = 0; sp < t->spines; sp++) {
        add_link(t, NET_LINK_SPINE_UP, up, fabric->spine_latency_ns, t->switch_first_node[s], s,
                 sp);
        add_link(t, NET_LINK_SPINE_DOWN, up, fabric->spine_latency_ns, t->switch_first_node[s], s,
                 sp);
      }
    }
    free(switch_bytes);
  }
  return t;
}

void net_link_name(const net_topology *t, uint32_t link, char *buf, size_t len) {
  if (link >= t->nlinks) {
    snprintf(buf, len, "link%u?", link);
    return;
  }
  const net_link *l = &t->links[link];
  const link_tag *tag = &t->tags[link];
  switch (l->kind) {
  case NET_LINK_SCALEUP_UP:
  case NET_LINK_SCALEUP_DOWN: {
    const group_info *g = &t->groups[t->accel_group[tag->a]];
    snprintf(buf, len, "node%u.gpu%u.nvlink.%s", l->node,
             (tag->a - g->first_accel) % g->accels_per_node,
             l->kind == NET_LINK_SCALEUP_UP ? "up" : "down");
    return;
  }
  case NET_LINK_TORUS: {
    const group_info *g = &t->groups[t->accel_group[tag->a]];
    snprintf(buf, len, "node%u.chip%u.ici.%c%c", l->node,
             (tag->a - g->first_accel) % g->accels_per_node, dim_names[tag->b / 2],
             tag->b % 2 ? '-' : '+');
    return;
  }
  case NET_LINK_NIC_UP:
  case NET_LINK_NIC_DOWN:
    snprintf(buf, len, "node%u.nic%u.%s", tag->a, tag->b,
             l->kind == NET_LINK_NIC_UP ? "up" : "down");
    return;
  case NET_LINK_SPINE_UP:
  case NET_LINK_SPINE_DOWN: {
    const char *dir = l->kind == NET_LINK_SPINE_UP ? "up" : "down";
    if (t->fabric_kind == NET_FABRIC_RAIL)
      snprintf(buf, len, "leaf%u.rail%u.spine%u.%s", tag->a / t->rails, tag->a % t->rails, tag->b,
               dir);
    else
      snprintf(buf, len, "leaf%u.spine%u.%s", tag->a, tag->b, dir);
    return;
  }
  }
  snprintf(buf, len, "link%u", link);
}

/* Dimension-order routing on the torus: x, then y, then z, each the shorter way round (ties:
 * the positive way). */
static int torus_route(const net_topology *t, const group_info *g, uint32_t src, uint32_t dst,
                       uint32_t *links) {
  uint32_t base = src - (src - g->first_accel) % g->domain_accels; /* the domain's first accel */
  uint32_t s = src - base, d = dst - base, stride = 1;
  int hops = 0;
  for (int dim = 0; dim < 3; dim++) {
    uint32_t size = g->dims[dim];
    uint32_t sc = s / stride % size, dc = d / stride % size;
    if (sc != dc) {
      uint32_t forward = (dc + size - sc) % size, backward = size - forward;
      bool positive = forward <= backward;
      uint32_t steps = positive ? forward : backward;
      uint32_t dir = g->dir_link[dim][positive ? 0 : 1];
      for (uint32_t k = 0; k < steps; k++) {
        assert(hops < NET_MAX_HOPS);
        links[hops++] = t->accel_first_link[base + s] + dir;
        uint32_t c = s / stride % size;
        uint32_t next = positive ? (c + 1) % size : (c + size - 1) % size;
        s = s - c * stride + next * stride;
      }
    }
    stride *= size;
  }
  assert(s == d);
  return hops;
}

int net_route(const net_topology *t, uint32_t src_accel, uint32_t dst_accel, uint64_t flow_hash,
              uint32_t links[NET_MAX_HOPS]) {
  if (src_accel >= t->accels || dst_accel >= t->accels)
    return -1;
  if (src_accel == dst_accel)
    return 0;
  if (net_accel_domain(t, src_accel) == net_accel_domain(t, dst_accel)) {
    const group_info *g = &t->groups[t->accel_group[src_accel]];
    if (g->kind == NET_SCALEUP_TORUS)
      return torus_route(t, g, src_accel, dst_accel, links);
    links[0] = t->accel_first_link[src_accel];     /* up */
    links[1] = t->accel_first_link[dst_accel] + 1; /* down */
    return 2;
  }
  uint32_t src_nic = accel_nic(t, src_accel), dst_nic = accel_nic(t, dst_accel);
  if (src_nic == NONE || dst_nic == NONE)
    return -1;
  uint32_t src_sw = t->nic_switch[src_nic], dst_sw = t->nic_switch[dst_nic];
  links[0] = t->nic_link[src_nic];
  if (src_sw == dst_sw) {
    links[1] = t->nic_link[dst_nic] + 1;
    return 2;
  }
  if (t->switch_spine_link[src_sw] == NONE || t->switch_spine_link[dst_sw] == NONE)
    return -1; /* no spines */
  uint32_t spine = (uint32_t)(flow_hash % t->spines);
  links[1] = t->switch_spine_link[src_sw] + 2 * spine;
  links[2] = t->switch_spine_link[dst_sw] + 2 * spine + 1;
  links[3] = t->nic_link[dst_nic] + 1;
  return 4;
}

int64_t net_route_latency_ns(const net_topology *t, const uint32_t *links, int hops) {
  int64_t sum = 0;
  for (int i = 0; i < hops; i++) {
    assert(links[i] < t->nlinks);
    sum += t->links[links[i]].latency_ns;
  }
  return sum;
}
