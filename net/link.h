/* Links as LPs: every directed link of a topology serialises the chunks that cross it in FIFO
 * order, so flows sharing a link slow each other, and a flow's chunks pipeline across its hops.
 *
 * A flow's chunks are clocked by its first link: chunk k+1 enters it when chunk k has been sent,
 * so flows starting at one link interleave chunk by chunk and share it fairly. Switches forward
 * cut-through: a chunk of b bytes whose head reaches link l at t starts at s = max(t, when l
 * finished sending the chunk before it), occupies l for ceil(b / bandwidth) ns, and its tail
 * leaves at max(s + ceil(b / bandwidth), when its tail arrived); head and tail reach the next hop
 * (or the destination) the link's latency later. An isolated flow of B bytes therefore takes
 *     1 ns (the engine's smallest message latency, handing the flow to its first link)
 *   + sum of the hops' latencies + its chunks' times on the bottleneck link (B / w_min, each chunk
 *     rounded up to a whole ns),
 * whatever the chunk size. The chunk size sets how finely flows sharing a link interleave (a flow
 * may finish up to one chunk's time early or late against a fluid share) and how many events a
 * transfer costs: tests/bench/serving measures the trade-off. */
#ifndef NET_LINK_H
#define NET_LINK_H

#include <stdint.h>

#include "core/core.h"
#include "net/net.h"
#include "util/timebins.h"

/* Shared, read-only while the engine runs. */
typedef struct net_links {
  const net_topology *topo;
  uint32_t first_lp;          /* link i is LP first_lp + i: the link kind's first id */
  int64_t chunk_bytes;        /* at least 1 */
  uint32_t chunk_kind;        /* event kind of chunks between links; the model must not use it */
  uint32_t deliver_kind;      /* event kind the destination LP gets when a flow's last byte lands */
  int64_t series_interval_ns; /* width of each link's utilisation bins */
} net_links;

/* One flow: bytes from one accelerator to another. */
typedef struct net_flow {
  uint64_t id; /* the model's, handed back on delivery (payload u64[0]) */
  uint64_t bytes;
  uint32_t src_accel, dst_accel;
  uint32_t deliver_lp; /* gets deliver_kind, with payload u64[0] = id, aux = flow_hash */
  uint32_t flow_hash;  /* picks among equal-cost routes; its low 24 bits are kept */
} net_flow;

/* Starts a flow from lp, which must share a partition with the route's first link (the links of a
 * node live with its instances). A flow between accelerators with no link between them (the same
 * one) is delivered after 1 ns. Returns 0, or core_fail's code when no route exists. */
int net_flow_start(core_lp *lp, const net_links *links, const net_flow *flow);

/* A link's LP state and what it carried. */
typedef struct net_link_lp {
  const net_links *links;
  uint32_t link;
  int64_t free_ns; /* when the last accepted chunk leaves */
  uint64_t bytes, chunks;
  int64_t busy_ns;
  util_timebins busy_bins; /* busy ns per series interval */
} net_link_lp;

/* The links' LP kind: link i of links->topo is the LP of index i among its kind, whose model is
 * the net_links (core_lp_kind{&net_link_lp_type, net_link_count(topo), &links}). */
extern const core_lp_type net_link_lp_type;

#endif
