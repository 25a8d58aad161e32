/* Link LPs: FIFO chunk serialisation, pipelining across hops, and per-interval busy time. */
#include "net/link.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A chunk on its way: the flow, and where along its route it is (event aux: hop | hash << 8). The
 * event's time is when the chunk's head arrives; its tail follows tail_lag_ns later. */
typedef struct chunk_msg {
  uint64_t id;
  uint64_t remaining_bytes; /* of the flow, this one included: the last has <= chunk_bytes */
  uint32_t src_accel, dst_accel;
  uint32_t deliver_lp, tail_lag_ns;
} chunk_msg;

enum { HOP_BITS = 8, HASH_MASK = (1u << (32 - HOP_BITS)) - 1 };
_Static_assert(sizeof(chunk_msg) <= CORE_PAYLOAD_BYTES, "a chunk fits an event's payload");

static int deliver(core_lp *lp, const net_links *links, const chunk_msg *c, uint32_t hash,
                   int64_t delay_ns) {
  uint64_t id = c->id;
  return core_send(lp, c->deliver_lp, delay_ns, links->deliver_kind, hash, &id, sizeof id);
}

int net_flow_start(core_lp *lp, const net_links *links, const net_flow *flow) {
  uint32_t hash = flow->flow_hash & HASH_MASK, route[NET_MAX_HOPS];
  int hops = net_route(links->topo, flow->src_accel, flow->dst_accel, hash, route);
  if (hops < 0)
    return core_fail(lp, "no network path from accelerator %u to accelerator %u", flow->src_accel,
                     flow->dst_accel);
  chunk_msg c = {flow->id,         flow->bytes ? flow->bytes : 1,
                 flow->src_accel,  flow->dst_accel,
                 flow->deliver_lp, 0};
  if (hops == 0)
    return deliver(lp, links, &c, hash, 1);
  return core_send(lp, links->first_lp + route[0], 1, links->chunk_kind, hash << HOP_BITS, &c,
                   sizeof c);
}

/* Adds [start, end) to the busy time and its bins. */
static int add_busy(net_link_lp *l, int64_t start_ns, int64_t end_ns) {
  if (util_timebins_add(&l->busy_bins, l->links->series_interval_ns, start_ns, end_ns, 1.0, NULL) !=
      0)
    return -1;
  l->busy_ns += end_ns - start_ns;
  return 0;
}

static int link_handle(core_lp *lp, const core_event *ev, void *model) {
  (void)model;
  net_link_lp *l = lp->state;
  const net_links *links = l->links;
  const net_link *link = net_link_at(links->topo, l->link);
  chunk_msg c;
  memcpy(&c, ev->payload.bytes, sizeof c);
  uint32_t hop = ev->aux & ((1u << HOP_BITS) - 1), hash = ev->aux >> HOP_BITS;
  uint64_t bytes = c.remaining_bytes < (uint64_t)links->chunk_bytes ? c.remaining_bytes
                                                                    : (uint64_t)links->chunk_bytes;
  int64_t start_ns = lp->now_ns > l->free_ns ? lp->now_ns : l->free_ns;
  int64_t serial_ns = (int64_t)ceil((double)bytes * 1e9 / link->bytes_per_s);
  l->free_ns = start_ns + (serial_ns > 0 ? serial_ns : 1);
  l->bytes += bytes;
  l->chunks++;
  if (add_busy(l, start_ns, l->free_ns) != 0)
    return core_fail(lp, "out of memory for link utilisation bins");
  /* The tail cannot leave before it has arrived from a slower hop upstream. */
  int64_t tail_in_ns = lp->now_ns + c.tail_lag_ns;
  int64_t tail_out_ns = l->free_ns > tail_in_ns ? l->free_ns : tail_in_ns;
  if (hop == 0 && c.remaining_bytes > bytes) { /* the next chunk enters once this one is sent */
    chunk_msg next = c;
    next.remaining_bytes -= bytes;
    if (core_send(lp, lp->id, l->free_ns - lp->now_ns, links->chunk_kind, ev->aux, &next,
                  sizeof next) != 0)
      return -1;
  }
  uint32_t route[NET_MAX_HOPS];
  int hops = net_route(links->topo, c.src_accel, c.dst_accel, hash, route);
  assert(hops > (int)hop && route[hop] == l->link);
  int64_t latency_ns = link->latency_ns > 0 ? link->latency_ns : 1;
  if ((int)hop + 1 < hops) {
    if (tail_out_ns - start_ns > UINT32_MAX)
      return core_fail(lp, "a %llu-byte chunk takes over 4 s on a link; choose a smaller chunk",
                       (unsigned long long)bytes);
    c.tail_lag_ns = (uint32_t)(tail_out_ns - start_ns);
    return core_send(lp, links->first_lp + route[hop + 1], start_ns - lp->now_ns + latency_ns,
                     links->chunk_kind, (hop + 1) | hash << HOP_BITS, &c, sizeof c);
  }
  /* Chunks of a flow stay in order along its route: only the last one needs to tell. */
  return c.remaining_bytes == bytes
             ? deliver(lp, links, &c, hash, tail_out_ns - lp->now_ns + latency_ns)
             : 0;
}

/* Link lp->index of the topology; `model` is the net_links. */
static int link_create(core_lp *lp, void *model) {
  net_link_lp *l = lp->state;
  l->links = model;
  l->link = lp->index;
  return 0;
}

static void link_destroy(core_lp *lp, void *model) {
  (void)model;
  net_link_lp *l = lp->state;
  util_timebins_free(&l->busy_bins);
}

/* What the link carried and when it is free; its busy bins up to the last non-zero one. */
static int link_save(const core_lp *lp, void *model, core_pack *out) {
  (void)model;
  const net_link_lp *l = lp->state;
  const util_timebins *b = &l->busy_bins;
  size_t bins = b->bins;
  while (bins > 0 && b->bin[bins - 1] == 0)
    bins--;
  CORE_PACK(out, l->link);
  CORE_PACK(out, l->free_ns);
  CORE_PACK(out, l->bytes);
  CORE_PACK(out, l->chunks);
  CORE_PACK(out, l->busy_ns);
  CORE_PACK(out, b->first);
  CORE_PACK(out, b->total);
  core_pack_array(out, b->bin, bins, sizeof *b->bin);
  return out->failed ? -1 : 0;
}

static int link_load(core_lp *lp, void *model, core_unpack *in) {
  (void)model;
  net_link_lp *l = lp->state;
  util_timebins *b = &l->busy_bins;
  uint32_t link;
  util_timebins_free(b);
  CORE_UNPACK(in, link);
  CORE_UNPACK(in, l->free_ns);
  CORE_UNPACK(in, l->bytes);
  CORE_UNPACK(in, l->chunks);
  CORE_UNPACK(in, l->busy_ns);
  CORE_UNPACK(in, b->first);
  CORE_UNPACK(in, b->total);
  b->bin = core_unpack_array(in, sizeof *b->bin, SIZE_MAX / sizeof *b->bin, &b->bins);
  /* another link's record, or a damaged one (the engine says which LP failed) */
  return in->failed || link != l->link || l->free_ns < 0 || l->busy_ns < 0 || b->total < 0 ? -1 : 0;
}

const core_lp_type net_link_lp_type = {.name = "link",
                                       .state_bytes = sizeof(net_link_lp),
                                       .create = link_create,
                                       .handle = link_handle,
                                       .destroy = link_destroy,
                                       .save = link_save,
                                       .load = link_load};
