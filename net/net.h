/* net/: the cluster's network as data. Scale-up domains (NVLink/NVSwitch in a node or an
 * NVL72-class rack, an ICI torus for TPU-like pods) and a scale-out fabric (rail-optimised or
 * leaf-spine with an oversubscription ratio) are built into one graph of directed links, each with
 * a bandwidth and a latency; routes between accelerators are deterministic (ECMP by flow hash);
 * collectives are priced on it. No events here: jobs/ moves transfers over the links (net/link.h).
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>

typedef enum net_scaleup_kind {
  NET_SCALEUP_SWITCH, /* every accelerator has one port pair to a non-blocking switch (NVSwitch) */
  NET_SCALEUP_TORUS,  /* accelerators on a 1-3D torus, one link pair per neighbour (TPU ICI) */
} net_scaleup_kind;

/* The scale-up domain of one node type. */
typedef struct net_scaleup_spec {
  net_scaleup_kind kind;
  /* Consecutive accelerators of a node type forming one domain: 8 for a DGX, 72 for an NVL72 rack
   * (18 nodes of 4), the product of torus_dims for a torus. 0: one node. */
  uint32_t domain_accels;
  uint32_t torus_dims[3]; /* torus only; unused dimensions are 1 (or 0) */
  double bytes_per_s; /* switch: per accelerator, one direction; torus: per link, one direction */
  int64_t latency_ns; /* one hop, including the switch */
} net_scaleup_spec;

typedef enum net_fabric_kind {
  NET_FABRIC_NONE,       /* no scale-out network: only accelerators in one domain can talk */
  NET_FABRIC_LEAF_SPINE, /* all NICs of a node to its leaf; leaves to every spine */
  NET_FABRIC_RAIL, /* NIC i of every node to rail switch i of its group; rails to the spines */
} net_fabric_kind;

/* The scale-out fabric, shared by every node type. */
typedef struct net_fabric_spec {
  net_fabric_kind kind;
  int64_t nic_latency_ns;   /* NIC to its leaf (or rail) switch, including that switch */
  int64_t spine_latency_ns; /* a leaf to a spine switch, including it */
  uint32_t nodes_per_leaf; /* nodes under one leaf (one rail switch per rail for NET_FABRIC_RAIL) */
  uint32_t spines;         /* spine switches; every leaf has one uplink pair to each */
  double oversubscription; /* a leaf's downlink : uplink bandwidth, >= 1 (1: non-blocking) */
} net_fabric_spec;

/* A node type: count nodes of accels_per_node accelerators, with nics_per_node NICs of
 * nic_bytes_per_s each (one direction); accelerator a of a node uses NIC a * nics / accels. */
typedef struct net_node_group {
  uint32_t count, accels_per_node, nics_per_node;
  double nic_bytes_per_s;
  net_scaleup_spec scaleup;
} net_node_group;

/* A named preset: a system's scale-up domain and NIC complement with sourced values (net/data,
 * net/SOURCES.md): "dgx-h100", "dgx-h200", "dgx-a100", "gb200-nvl72", "tpu-v5p", "tpu-v6e", ... */
typedef struct net_preset {
  char name[32];
  char accelerator[64]; /* its accelerator, as named in hw/data/accelerators.csv */
  uint32_t accels_per_node;
  net_node_group group;   /* count 0 */
  net_fabric_spec fabric; /* the reference design's fabric */
  char source[128];
} net_preset;

size_t net_preset_count(void);
const net_preset *net_preset_at(size_t i);
const net_preset *net_preset_find(const char *name); /* NULL when unknown */

typedef enum net_link_kind {
  NET_LINK_SCALEUP_UP,   /* accelerator to its scale-up switch */
  NET_LINK_SCALEUP_DOWN, /* scale-up switch to accelerator */
  NET_LINK_TORUS,        /* accelerator to a torus neighbour */
  NET_LINK_NIC_UP,       /* NIC to its leaf */
  NET_LINK_NIC_DOWN,     /* leaf to NIC */
  NET_LINK_SPINE_UP,     /* leaf to spine */
  NET_LINK_SPINE_DOWN,   /* spine to leaf */
} net_link_kind;

typedef struct net_link {
  net_link_kind kind;
  double bytes_per_s; /* one direction */
  int64_t latency_ns; /* from the first bit leaving to it arriving at the far end */
  /* Placement hint: the node whose partition should own this link (its NIC's node; for spine
   * links, the first node under the leaf). */
  uint32_t node;
} net_link;

typedef struct net_topology net_topology;

/* Builds the graph for the node groups in order (accelerator ids count up through the groups, node
 * ids likewise). Returns NULL with a message for an impossible spec (a domain not dividing its
 * group, a torus whose size is not the domain, no fabric while nodes of different domains must
 * talk is allowed: routes between them then fail). */
net_topology *net_topology_create(const net_node_group *groups, size_t group_count,
                                  const net_fabric_spec *fabric, char *err, size_t err_len);
void net_topology_destroy(net_topology *t);

uint32_t net_accel_count(const net_topology *t);
uint32_t net_node_count(const net_topology *t);
uint32_t net_accel_node(const net_topology *t, uint32_t accel);
/* The scale-up domain an accelerator is in (domains count up through the groups like nodes):
 * accelerators of one domain talk over it, the others over the fabric. */
uint32_t net_accel_domain(const net_topology *t, uint32_t accel);
uint32_t net_link_count(const net_topology *t);
const net_link *net_link_at(const net_topology *t, uint32_t link);
/* "node3.nic1.up", "leaf0.spine2.down", "node0.gpu5.nvlink.up": for the timeline. */
void net_link_name(const net_topology *t, uint32_t link, char *buf, size_t len);

enum { NET_MAX_HOPS = 16 };

/* The links from accelerator src to dst, in order: within one scale-up domain over it, otherwise
 * out of src's NIC across the fabric (the spine chosen by flow_hash, ECMP) into dst's NIC. Same
 * inputs, same route. Returns the hop count (0 when src == dst), or -1 when no path exists. */
int net_route(const net_topology *t, uint32_t src_accel, uint32_t dst_accel, uint64_t flow_hash,
              uint32_t links[NET_MAX_HOPS]);

/* Sum of the latencies along a route: what a zero-byte message takes. */
int64_t net_route_latency_ns(const net_topology *t, const uint32_t *links, int hops);

typedef enum net_collective {
  NET_ALL_REDUCE,
  NET_ALL_GATHER,
  NET_REDUCE_SCATTER,
  NET_ALL_TO_ALL,
  NET_SEND_RECV,
} net_collective;

typedef enum net_algorithm { NET_ALGO_AUTO, NET_ALGO_RING, NET_ALGO_TREE } net_algorithm;

/* Time in ns of one collective among the `ranks` accelerators listed, on this topology, for a
 * message of `bytes` per rank as nccl-tests counts it (all-reduce: the buffer; all-gather: the
 * output buffer; send/recv: what one rank sends). AUTO takes the faster of ring and tree, as NCCL's
 * tuner does. The step latency and achieved link fraction come from net/data/collective.csv, fitted
 * to the measured NCCL tables (net/SOURCES.md), per collective and per kind of domain (all ranks in
 * one scale-up domain, or not). Send/recv: rank i sends to rank i+1 (a pipeline's stages). The
 * bandwidth is that of the most loaded link when the ranks' flows run at once (NCCL-like rings,
 * one per channel, leaving each domain through a different NIC). NAN when a rank is out of range,
 * two ranks cannot reach each other, bytes is negative, or memory runs out; 0 for one rank. */
double net_collective_ns(const net_topology *t, net_collective op, net_algorithm algo,
                         const uint32_t *accels, uint32_t ranks, double bytes);

#endif
