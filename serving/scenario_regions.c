/* The scenario's regions: their names, the share of requests that originates in each, the one-way
 * latency between each pair, the global routing policy over them, and the region of every node
 * type (cluster.nodes.N.region). */
#include "serving/scenario_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Load reports travel once a second by default: the scrape interval of a metrics pipeline
 * (Prometheus' default scrape_interval is 1m; serving front ends poll their backends faster, and
 * 1 s keeps a week-long run's reports to a few per second of simulated time). */
static const int64_t default_report_interval_ns = 1000000000;
/* Spillover: more than this many outstanding requests per request-taking instance at home sends
 * the request elsewhere (vLLM's batch at the SLOs of examples/default.yaml holds tens; 8 queued
 * per instance is where its TTFT starts to climb). A scenario sets its own. */
static const double default_spillover = 8;

static int region_index(const srv_regions *r, const char *name) {
  for (uint32_t i = 0; i < r->count; i++)
    if (strcmp(r->list[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int region_names(const srv_regions *r, char *buf, size_t len) {
  size_t used = 0;
  for (uint32_t i = 0; i < r->count && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", r->list[i].name);
  return 0;
}

/* One region of regions.list: its name and share; latencies are read once every name is known. */
static int read_region(const scn_loader *ld, const io_node *e, srv_region *region, uint32_t index) {
  static const char *const keys[] = {"name", "share", "latency", NULL};
  int rc;
  if ((rc = scn_expect_kind(ld, e, IO_NODE_MAPPING, "a mapping of name, share, latency")) != 0 ||
      (rc = scn_check_keys(ld, e, keys)) != 0)
    return rc;
  if (!io_node_find(e, "name"))
    return io_node_error(e, ld->err, ld->err_len, "a region needs a name");
  region->share = 1;
  if ((rc = scn_get_text(ld, e, "name", region->name, sizeof region->name)) != 0 ||
      (rc = scn_get_f64(ld, e, "share", IO_UNIT_NUMBER, &region->share)) != 0)
    return rc;
  for (uint32_t j = 0; j < index; j++)
    if (strcmp(ld->s->regions.list[j].name, region->name) == 0)
      return io_node_error(scn_node_or(e, "name", e), ld->err, ld->err_len,
                           "region '%s' is already defined (as regions.list.%u); give each a "
                           "distinct name",
                           region->name, j);
  return 0;
}

/* regions.list.N.latency: a mapping from other regions' names to one-way latencies. A pair given
 * on one side only holds both ways; given on both, the two must agree. */
static int read_latencies(const scn_loader *ld, const io_node *list) {
  srv_regions *r = &ld->s->regions;
  char names[512];
  region_names(r, names, sizeof names);
  for (uint32_t i = 0; i < r->count; i++) {
    const io_node *lat = io_node_find(list->values[i], "latency");
    if (!lat)
      continue;
    int rc = scn_expect_kind(ld, lat, IO_NODE_MAPPING, "a mapping of region name to latency");
    if (rc != 0)
      return rc;
    for (size_t k = 0; k < lat->count; k++) {
      const char *other = lat->keys[k]->text;
      int j = region_index(r, other);
      if (j < 0)
        return io_node_error(lat->keys[k], ld->err, ld->err_len,
                             "no region is called '%s' (the regions: %s)", other, names);
      if ((uint32_t)j == i)
        return io_node_error(lat->keys[k], ld->err, ld->err_len,
                             "a region's own hop is router.pods.latency; give latencies to the "
                             "other regions only");
      int64_t ns;
      if ((rc = scn_get_ns(ld, lat, other, 1, &ns)) != 0)
        return rc;
      int64_t given = r->list[j].latency_ns[i];
      if (given && given != ns)
        return io_node_error(lat->values[k], ld->err, ld->err_len,
                             "regions.list.%d.latency.%s says %" PRId64
                             " ns; give one latency per pair, or the same on both sides",
                             j, r->list[i].name, given);
      r->list[i].latency_ns[j] = r->list[j].latency_ns[i] = ns;
    }
  }
  for (uint32_t i = 0; i < r->count; i++)
    for (uint32_t j = 0; j < r->count; j++)
      if (i != j && !r->list[i].latency_ns[j])
        return io_node_error(list->values[i], ld->err, ld->err_len,
                             "no latency between regions '%s' and '%s'; give it in either's "
                             "latency mapping",
                             r->list[i].name, r->list[j].name);
  return 0;
}

/* Each node type's region, by name; every node type needs one and every region a node type. */
static int assign_node_types(const scn_loader *ld, const io_node *m, const io_node *cluster) {
  srv_scenario *s = ld->s;
  srv_regions *r = &s->regions;
  const io_node *nodes = cluster ? io_node_find(cluster, "nodes") : NULL;
  if (!nodes)
    return io_node_error(m, ld->err, ld->err_len,
                         "regions need cluster.nodes, each node type with the region it is in");
  char names[512];
  region_names(r, names, sizeof names);
  bool used[SRV_MAX_REGIONS] = {false};
  for (size_t g = 0; g < s->node_groups; g++) {
    const io_node *e = nodes->values[g];
    int j = region_index(r, s->nodes[g].region_name);
    if (!s->nodes[g].region_name[0])
      return io_node_error(e, ld->err, ld->err_len,
                           "with regions, every node type needs a region (one of: %s)", names);
    if (j < 0)
      return io_node_error(scn_node_or(e, "region", e), ld->err, ld->err_len,
                           "no region is called '%s' (the regions: %s)", s->nodes[g].region_name,
                           names);
    s->nodes[g].region = (uint32_t)j;
    used[j] = true;
  }
  for (uint32_t i = 0; i < r->count; i++)
    if (!used[i])
      return io_node_error(io_node_find(m, "list")->values[i], ld->err, ld->err_len,
                           "region '%s' has no node type; give some cluster.nodes region: %s",
                           r->list[i].name, r->list[i].name);
  return 0;
}

int scn_read_regions(const scn_loader *ld, const io_node *m, const io_node *cluster) {
  static const char *const keys[] = {"list", "policy", "spillover", "report_interval", NULL};
  static const char *const policies[] = {"nearest", "least_loaded", "spillover", NULL};
  srv_scenario *s = ld->s;
  srv_regions *r = &s->regions;
  if (!m) {
    for (size_t g = 0; g < s->node_groups; g++)
      if (s->nodes[g].region_name[0])
        return io_node_error(io_node_find(cluster, "nodes"), ld->err, ld->err_len,
                             "cluster.nodes.%zu names region '%s', but the scenario declares no "
                             "regions",
                             g, s->nodes[g].region_name);
    return 0;
  }
  const io_node *list;
  int policy = SRV_REGION_NEAREST, rc;
  r->spillover = default_spillover;
  r->report_interval_ns = default_report_interval_ns;
  if ((rc = scn_expect_kind(ld, m, IO_NODE_MAPPING,
                            "a mapping of list, policy, spillover, report_interval")) != 0 ||
      (rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = io_node_get(m, "list", IO_NODE_SEQUENCE, &list, ld->err, ld->err_len)) != 0 ||
      (rc = scn_get_choice(ld, m, "policy", policies, &policy)) != 0 ||
      (rc = scn_get_f64(ld, m, "spillover", IO_UNIT_NUMBER, &r->spillover)) != 0 ||
      (rc = scn_get_ns(ld, m, "report_interval", 1, &r->report_interval_ns)) != 0)
    return rc;
  if (policy < 0)
    policy = SRV_REGION_NEAREST;
  r->policy = (srv_region_policy)policy;
  if (!(r->spillover > 0))
    return io_node_error(scn_node_or(m, "spillover", m), ld->err, ld->err_len,
                         "expected more than 0 outstanding requests per instance");
  if (list->count == 0 || list->count > SRV_MAX_REGIONS)
    return io_node_error(list, ld->err, ld->err_len, "expected 1 to %d regions", SRV_MAX_REGIONS);
  double shares = 0;
  for (size_t i = 0; i < list->count; i++) {
    if ((rc = read_region(ld, list->values[i], &r->list[i], (uint32_t)i)) != 0)
      return rc;
    r->count = (uint32_t)i + 1;
    shares += r->list[i].share;
  }
  if (!(shares > 0))
    return io_node_error(list, ld->err, ld->err_len,
                         "the regions' shares add up to 0: no request would originate anywhere");
  if ((rc = read_latencies(ld, list)) != 0 || (rc = assign_node_types(ld, m, cluster)) != 0)
    return rc;
  if (!s->router.pods.enabled) { /* a front door sends to pod routers: a pod per rack */
    s->router.pods.enabled = true;
    s->router.pods.policy = s->router.policy;
    s->router.pods.latency_ns = s->router.dispatch_latency_ns;
  }
  return 0;
}
