/* Internal to net/: the collective cost model's parts, shared by net_collective_ns and the fit
 * (calib/fit_collectives.c), so that the fit evaluates exactly the formulas the simulation uses. */
#ifndef NET_COLLECTIVE_MODEL_H
#define NET_COLLECTIVE_MODEL_H

#include <stddef.h>

#include "net/coll_table.h"
#include "net/net.h"

/* What the topology contributes to a collective's time: the rank count, whether it crosses the
 * fabric, and the seconds per byte of chunk on the most loaded link when the op's flows all send
 * one chunk at once: rank i to its ring successor (all-reduce, all-gather, reduce-scatter), to
 * every other rank (all-to-all), or rank i to rank i+1 without wrapping (send/recv). Links shared
 * by several flows count once per flow. */
typedef struct net_coll_shape {
  uint32_t ranks;
  net_coll_domain domain;
  double s_per_byte;
} net_coll_shape;

/* Returns 0, or -1 when some rank cannot reach another (no fabric), a rank id is out of range, or
 * memory runs out. */
int net_coll_shape_of(const net_topology *t, net_collective op, const uint32_t *accels,
                      uint32_t ranks, net_coll_shape *out);

/* The time in ns of the collective on that shape with those parameters (formulas in
 * net/collective.c). */
double net_coll_time_ns(const net_coll_shape *s, net_collective op, net_algorithm algo,
                        double bytes, const net_coll_params *p);

#endif
