/* Internal to the scenario loader (serving/scenario*.c): what
 * every section reader shares, and the small readers, in which an optional key keeps the caller's
 * default. Every reader returns 0 or negative with "file:line:col: key.path: ..." in ld->err. */
#ifndef SRV_SCENARIO_READ_H
#define SRV_SCENARIO_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/doc.h"
#include "serving/scenario.h"

/* What every reader needs: the scenario being filled, where relative input paths start, and the
 * caller's error buffer. */
typedef struct scn_loader {
  srv_scenario *s;
  const char *base_dir;
  char *err;
  size_t err_len;
} scn_loader;

/* root's mapping at key, or an empty mapping when either is absent. */
const io_node *scn_section(const io_node *root, const char *key);
int scn_optional(int rc);
int scn_get_u32(const scn_loader *ld, const io_node *m, const char *key, uint32_t min, uint32_t max,
                uint32_t *value);
int scn_get_i32(const scn_loader *ld, const io_node *m, const char *key, int32_t min,
                int32_t *value);
int scn_get_ns(const scn_loader *ld, const io_node *m, const char *key, int64_t min,
               int64_t *value);
int scn_get_f64(const scn_loader *ld, const io_node *m, const char *key, io_unit unit,
                double *value);
int scn_get_bool(const scn_loader *ld, const io_node *m, const char *key, bool *value);
int scn_get_choice(const scn_loader *ld, const io_node *m, const char *key,
                   const char *const *choices, int *index);
int scn_get_text(const scn_loader *ld, const io_node *m, const char *key, char *buf, size_t size);
const io_node *scn_node_or(const io_node *m, const char *key, const io_node *fallback);
int scn_check_keys(const scn_loader *ld, const io_node *m, const char *const *allowed);
int scn_expect_kind(const scn_loader *ld, const io_node *n, io_node_kind kind, const char *what);
int scn_resolve_path(const scn_loader *ld, const io_node *n, char *out, size_t out_len);
int scn_unknown_name(const scn_loader *ld, const io_node *n, bool accel);
int scn_find_accel(const scn_loader *ld, const io_node *m, const char *key, const hw_accel **out);
int scn_find_model(const scn_loader *ld, const io_node *m, const char *key, const hw_model **out);

/* The regions section (scenario_regions.c), after the cluster and the router: the regions, their
 * latencies, and each node type's region (cluster may be NULL; m NULL: no regions). With regions,
 * router.pods is on (by default a pod per rack). */
int scn_read_regions(const scn_loader *ld, const io_node *m, const io_node *cluster);

/* The workload section (scenario_workload.c). */
int scn_read_workload(const scn_loader *ld, const io_node *m);

/* Network and power (scenario_network.c): a node type's system keys (system, nics, nic_bandwidth,
 * scaleup, host_power, nodes_per_rack; e may be an empty mapping), the network section, the power
 * section. */
int scn_read_node_system(const scn_loader *ld, const io_node *e, srv_node_group *g);
int scn_read_network(const scn_loader *ld, const io_node *m);
int scn_read_power(const scn_loader *ld, const io_node *m);
/* The cost section (serving/cost.c), after the cluster: energy_per_kwh and accelerator_hour
 * (prices by accelerator name, over the price table's), and the fleet's hourly price. */
int scn_read_cost(const scn_loader *ld, const io_node *m);
/* After both: a disaggregated scenario's network must build (cluster, network may be NULL). */
int scn_check_network(const scn_loader *ld, const io_node *cluster, const io_node *network);

/* An HGX/DGX baseboard holds 8 accelerators: cluster.nodes' default, and the nodes of a cluster
 * sized to the deployments. */
enum { SCN_DEFAULT_ACCELS_PER_NODE = 8 };

/* `efficiency: {gemm: {compute_frac: 0.7}, cpu: {fixed: 300us}}` (serving/scenario.c): the values
 * read into *set, each with its bit in *mask (hw_deploy_config.eff_set_mask). */
int scn_read_efficiency(const scn_loader *ld, const io_node *m, hw_eff *set, uint64_t *mask);

/* The deployments section (serving/scenario_deploy.c): read after the catalogue and the cluster;
 * then either checked against the cluster (scn_check_fit) or given one sized to them
 * (scn_implicit_cluster); then their roles checked. */
int scn_read_deployments(const scn_loader *ld, const io_node *seq);
int scn_implicit_cluster(const scn_loader *ld);
int scn_check_fit(const scn_loader *ld, const io_node *deployments);
int scn_check_roles(const scn_loader *ld, const io_node *deployments);

#endif
