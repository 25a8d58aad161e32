/* The scenario's network and power: each node type's system (scale-up domain, NICs, host power,
 * racks), the scale-out fabric and transfer chunking, and the power series, PUE and budgets. */
#include "serving/scenario_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A KV transfer moves in chunks of this size by default. With cut-through links the chunk size only
 * sets how finely flows sharing a link interleave: on tests/bench/disaggregated.yaml, KV transfer
 * times at 1 MiB and 16 MiB chunks differ by 0.04% in the mean and not at all at p99, while the
 * events the network costs fall from 9.0 M to 0.58 M (README, "Disaggregated vs colocated"). */
static const int64_t default_chunk_bytes = 16 << 20;

/* Power and utilisation series: one point per simulated second. */
static const int64_t default_interval_ns = 1000000000;

/* The preset whose reference system uses this accelerator, if any. */
static const net_preset *preset_for(const hw_accel *accel) {
  for (size_t i = 0; i < net_preset_count(); i++)
    if (strcmp(net_preset_at(i)->accelerator, accel->name) == 0)
      return net_preset_at(i);
  return NULL;
}

static int preset_names(char *buf, size_t len) {
  size_t used = 0;
  for (size_t i = 0; i < net_preset_count() && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", net_preset_at(i)->name);
  return 0;
}

static int read_scaleup(const scn_loader *ld, const io_node *m, net_scaleup_spec *u) {
  static const char *const keys[] = {"kind", "domain", "bandwidth", "latency", "torus", NULL};
  static const char *const kinds[] = {"switch", "torus", NULL}; /* net_scaleup_kind order */
  int kind = (int)u->kind, rc;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_choice(ld, m, "kind", kinds, &kind)) != 0 ||
      (rc = scn_get_u32(ld, m, "domain", 1, 1u << 20, &u->domain_accels)) != 0 ||
      (rc = scn_get_f64(ld, m, "bandwidth", IO_UNIT_BYTES_PER_S, &u->bytes_per_s)) != 0 ||
      (rc = scn_get_ns(ld, m, "latency", 1, &u->latency_ns)) != 0)
    return rc;
  u->kind = (net_scaleup_kind)kind;
  const io_node *torus = io_node_find(m, "torus"), *domain = io_node_find(m, "domain");
  if (torus) {
    if ((rc = scn_expect_kind(ld, torus, IO_NODE_SEQUENCE,
                              "a list of 1 to 3 sizes, e.g. [4, 4, 4]")) != 0)
      return rc;
    if (torus->count < 1 || torus->count > 3)
      return io_node_error(torus, ld->err, ld->err_len, "expected 1 to 3 torus dimensions, got %zu",
                           torus->count);
    uint32_t product = 1;
    for (size_t d = 0; d < 3; d++) {
      int64_t size = 1;
      if (d < torus->count && (rc = io_units_parse_i64(IO_UNIT_NUMBER, torus->values[d]->text,
                                                       &size, ld->err, ld->err_len)) != 0)
        return io_node_error(torus->values[d], ld->err, ld->err_len,
                             "expected a whole number of accelerators");
      if (size < 1 || size > 1024)
        return io_node_error(torus->values[d], ld->err, ld->err_len,
                             "expected a torus size from 1 to 1024");
      u->torus_dims[d] = (uint32_t)size;
      product *= (uint32_t)size;
    }
    if (domain && u->domain_accels != product)
      return io_node_error(domain, ld->err, ld->err_len,
                           "domain %" PRIu32 " is not the torus's %" PRIu32
                           " accelerators; omit it (the torus sets it)",
                           u->domain_accels, product);
    if (u->torus_dims[0] / 2 + u->torus_dims[1] / 2 + u->torus_dims[2] / 2 > NET_MAX_HOPS)
      return io_node_error(torus, ld->err, ld->err_len,
                           "a torus this size needs routes of more than %d hops; use a smaller "
                           "one",
                           NET_MAX_HOPS);
    u->kind = NET_SCALEUP_TORUS;
    u->domain_accels = product;
  } else if (u->kind == NET_SCALEUP_TORUS) {
    /* A switch preset turned into a torus, or a torus preset's domain changed: the old sizes no
     * longer describe it (the topology would refuse it only when the run starts). */
    uint32_t product = 1;
    for (size_t d = 0; d < 3; d++)
      product *= u->torus_dims[d] ? u->torus_dims[d] : 1;
    if (product != u->domain_accels)
      return io_node_error(scn_node_or(m, "domain", scn_node_or(m, "kind", m)), ld->err,
                           ld->err_len,
                           "a torus needs its sizes: add torus: [x, y, z] (their product is the "
                           "domain)");
  }
  if (!(u->bytes_per_s > 0))
    return io_node_error(
        scn_node_or(m, "bandwidth", m), ld->err, ld->err_len,
        "the scale-up bandwidth must be above 0 (the accelerator's datasheet gives "
        "none; set it)");
  return 0;
}

/* A node type's system: `system` names a preset (default: the one of its accelerator, if any),
 * then nics, nic_bandwidth, scaleup, host_power and nodes_per_rack override. */
int scn_read_node_system(const scn_loader *ld, const io_node *e, srv_node_group *g) {
  const hw_accel *a = g->accel;
  net_node_group *n = &g->net;
  const net_preset *p = preset_for(a);
  const io_node *sys = io_node_find(e, "system");
  int rc;
  if (sys) {
    if ((rc = scn_expect_kind(ld, sys, IO_NODE_SCALAR, "a system preset name")) != 0)
      return rc;
    if (!(p = net_preset_find(sys->text))) {
      char names[512];
      preset_names(names, sizeof names);
      return io_node_error(sys, ld->err, ld->err_len, "unknown system '%s'; the presets are: %s",
                           sys->text, names);
    }
  }
  if (p) {
    *n = p->group;
    snprintf(g->system, sizeof g->system, "%s", p->name);
  } else { /* the datasheet: one switched domain per node, one NIC per accelerator */
    *n = (net_node_group){.nics_per_node = g->accels_per_node,
                          .nic_bytes_per_s = a->scaleout_bytes_per_s,
                          .scaleup = {.kind = NET_SCALEUP_SWITCH,
                                      .bytes_per_s = a->scaleup_bytes_per_s,
                                      .latency_ns = net_preset_at(0)->group.scaleup.latency_ns}};
  }
  /* A preset's domain counts accelerators; a node of another size keeps one domain per node
   * unless the domain is set. */
  if (p && p->accels_per_node != g->accels_per_node) {
    n->nics_per_node = n->nics_per_node * g->accels_per_node / p->accels_per_node;
    if (n->scaleup.kind == NET_SCALEUP_SWITCH)
      n->scaleup.domain_accels = 0;
  }
  n->count = g->count;
  n->accels_per_node = g->accels_per_node;
  g->host_w = a->power.host_w * g->accels_per_node;
  g->nodes_per_rack = 1;
  const io_node *scaleup = io_node_find(e, "scaleup");
  if ((rc = scn_get_u32(ld, e, "nics", 1, 1u << 16, &n->nics_per_node)) != 0 ||
      (rc = scn_get_f64(ld, e, "nic_bandwidth", IO_UNIT_BYTES_PER_S, &n->nic_bytes_per_s)) != 0 ||
      (scaleup && (rc = read_scaleup(ld, scaleup, &n->scaleup)) != 0) ||
      (rc = scn_get_f64(ld, e, "host_power", IO_UNIT_W, &g->host_w)) != 0 ||
      (rc = scn_get_u32(ld, e, "nodes_per_rack", 1, 1u << 20, &g->nodes_per_rack)) != 0)
    return rc;
  return 0;
}

int scn_read_network(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"fabric",         "nic_latency", "spine_latency",
                                     "nodes_per_leaf", "spines",      "oversubscription",
                                     "chunk",          "kv_transfer", NULL};
  static const char *const kinds[] = {"none", "leaf_spine", "rail", NULL}; /* net_fabric_kind */
  static const char *const transfers[] = {"network", "instant", NULL};
  srv_scenario *s = ld->s;
  /* The fabric of the first node type's reference system, else the first preset's. */
  const net_preset *p = s->node_groups && s->nodes[0].system[0]
                            ? net_preset_find(s->nodes[0].system)
                            : net_preset_at(0);
  s->network.fabric = p->fabric;
  s->network.chunk_bytes = default_chunk_bytes;
  int kind = (int)s->network.fabric.kind, transfer = 0, rc;
  double chunk = (double)s->network.chunk_bytes;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_choice(ld, m, "fabric", kinds, &kind)) != 0 ||
      (rc = scn_get_ns(ld, m, "nic_latency", 1, &s->network.fabric.nic_latency_ns)) != 0 ||
      (rc = scn_get_ns(ld, m, "spine_latency", 1, &s->network.fabric.spine_latency_ns)) != 0 ||
      (rc = scn_get_u32(ld, m, "nodes_per_leaf", 1, 1u << 20, &s->network.fabric.nodes_per_leaf)) !=
          0 ||
      (rc = scn_get_u32(ld, m, "spines", 1, 1u << 16, &s->network.fabric.spines)) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "oversubscription", IO_UNIT_NUMBER, 1.0, 1e6,
                                         &s->network.fabric.oversubscription, ld->err,
                                         ld->err_len))) != 0 ||
      (rc = scn_get_f64(ld, m, "chunk", IO_UNIT_BYTES, &chunk)) != 0 ||
      (rc = scn_get_choice(ld, m, "kv_transfer", transfers, &transfer)) != 0)
    return rc;
  s->network.fabric.kind = (net_fabric_kind)kind;
  s->network.instant_kv = transfer == 1;
  if (!(chunk >= 1))
    return io_node_error(scn_node_or(m, "chunk", m), ld->err, ld->err_len,
                         "expected a chunk of at least 1 byte");
  s->network.chunk_bytes = (int64_t)chunk;
  return 0;
}

int scn_read_power(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"interval", "pue", "rack_budget", "site_budget", NULL};
  srv_scenario *s = ld->s;
  s->power.interval_ns = default_interval_ns;
  s->power.pue = 1.0;
  s->power.rack_budget_w = s->power.site_budget_w = 0;
  int rc;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_get_ns(ld, m, "interval", 1000, &s->power.interval_ns)) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "pue", IO_UNIT_NUMBER, 1.0, 10.0, &s->power.pue,
                                         ld->err, ld->err_len))) != 0 ||
      (rc = scn_get_f64(ld, m, "rack_budget", IO_UNIT_W, &s->power.rack_budget_w)) != 0 ||
      (rc = scn_get_f64(ld, m, "site_budget", IO_UNIT_W, &s->power.site_budget_w)) != 0)
    return rc;
  return 0;
}

/* A disaggregated scenario builds its network at start: build it once here, so that a node type's
 * impossible system (a domain that does not divide its accelerators, a torus of the wrong size) is
 * reported at its key, not when the run begins. */
int scn_check_network(const scn_loader *ld, const io_node *cluster, const io_node *network) {
  srv_scenario *s = ld->s;
  if (!s->disaggregated)
    return 0;
  net_node_group *groups = malloc(s->node_groups * sizeof *groups);
  if (!groups) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  for (size_t g = 0; g < s->node_groups; g++)
    groups[g] = s->nodes[g].net;
  char why[256];
  net_topology *t = net_topology_create(groups, s->node_groups, &s->network.fabric, why,
                                        sizeof why);
  free(groups);
  if (t) {
    net_topology_destroy(t);
    return 0;
  }
  /* "node group N: ..." names a node type; anything else is the fabric's. */
  size_t group;
  const io_node *at = network;
  if (sscanf(why, "node group %zu:", &group) == 1 && cluster) {
    const io_node *nodes = io_node_find(cluster, "nodes");
    if (nodes && group < nodes->count)
      at = nodes->values[group];
  } else if (!network || !network->file[0]) {
    at = cluster;
  }
  if (!at || !at->file[0])
    return snprintf(ld->err, ld->err_len, "the network cannot be built: %s", why), -1;
  return io_node_error(at, ld->err, ld->err_len, "the network cannot be built: %s", why);
}
