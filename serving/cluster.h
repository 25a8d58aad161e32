/* Where everything of a serving scenario sits: the accelerators of each instance, nodes and racks,
 * the network topology, and the units that placement keeps whole. */
#ifndef SRV_CLUSTER_H
#define SRV_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"
#include "serving/scenario.h"

typedef struct srv_cluster {
  uint32_t instances, nodes, accels, racks;
  uint32_t *node_group;       /* [nodes]: index into the scenario's node groups */
  uint32_t *node_rack;        /* [nodes] */
  uint32_t *node_first_accel; /* [nodes + 1] */
  uint32_t *node_used_accels; /* [nodes]: accelerators some instance runs on */
  uint32_t *accel_node;       /* [accels] */
  /* Instance i runs on accels[accel_offsets[i] .. accel_offsets[i + 1]), stage by stage (tp * ep
   * accelerators of one node per pipeline stage, the ep groups of tp consecutive). */
  uint32_t *accel_offsets, *accel_ids;
  uint32_t *node_pod; /* [nodes]: its routing pod (router.pods), numbered through the node types;
                       * NULL without pods */
  uint32_t pods;
  net_topology *topo; /* built when the scenario moves KV between instances; else NULL */
  /* Units, which placement (serving/placement.c) keeps whole: leaves, scale-up domains, routing
   * pods and the nodes of one instance, with their instances and the links that leave them. */
  uint32_t units;
  uint32_t *node_unit;     /* [nodes] */
  uint32_t *instance_unit; /* [instances]: its first accelerator's node's */
  uint32_t *link_unit;     /* [links of topo]: the unit of the node it leaves */
} srv_cluster;

/* Lays the scenario out. Returns 0, or -1 with a message (an instance that cannot be placed, a
 * topology error, no memory). */
int srv_cluster_build(srv_cluster *c, const srv_scenario *s, char *err, size_t err_len);
void srv_cluster_free(srv_cluster *c);

/* Communication costs of `instance`'s deployment measured on the topology by net/ and passed to
 * the cost model (hw_deploy_config's hw_comm fields): the all-to-all among the tp * ep devices of
 * its first pipeline stage (expert parallelism), and the send/recv between its first two stages
 * when they lie in different scale-up domains. Each is a line t0 + bytes / rate through two
 * message sizes (1 MiB and 64 MiB) of net_collective_ns. Fields stay 0 (hw's own estimate)
 * without a topology, when the operation does not occur, or when net cannot price it. */
void srv_cluster_comm(const srv_cluster *c, uint32_t instance, hw_deploy_config *cfg);

static inline uint32_t srv_cluster_instance_accels(const srv_cluster *c, uint32_t instance) {
  return c->accel_offsets[instance + 1] - c->accel_offsets[instance];
}

#endif
