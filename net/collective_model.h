/* Internal to net/: the collective cost model's parts, shared by net_collective_ns and the fit
 * (net/fit.c), so that the fit evaluates exactly the formulas the simulation uses. */
#ifndef NET_COLLECTIVE_MODEL_H
#define NET_COLLECTIVE_MODEL_H

#include <stddef.h>

#include "net/net.h"

enum { NET_COLLECTIVE_COUNT = NET_SEND_RECV + 1 };

/* Where a collective's ranks are: all in one scale-up domain, or spread over the fabric. */
typedef enum net_coll_domain {
  NET_DOMAIN_INTRA,
  NET_DOMAIN_INTER,
  NET_DOMAIN_COUNT
} net_coll_domain;

extern const char *const net_collective_names[NET_COLLECTIVE_COUNT]; /* "all_reduce", ... */
extern const char *const net_domain_names[NET_DOMAIN_COUNT];         /* "intra", "inter" */

/* One collective family's fitted parameters in one kind of domain: a fixed launch cost, a latency
 * per algorithm step, and the fraction of the bottleneck link's bandwidth a step achieves. */
typedef struct net_coll_params {
  double base_ns, step_ns, link_frac;
} net_coll_params;

typedef struct net_coll_table {
  net_coll_params p[NET_COLLECTIVE_COUNT][NET_DOMAIN_COUNT];
} net_coll_table;

/* Reads the rows of role "fit" or "transfer" of a collective.csv text into out; every (op, domain)
 * must be present. Returns 0, or -1 with a message. */
int net_coll_table_parse(const char *text, size_t len, const char *name, net_coll_table *out,
                         char *err, size_t err_len);

/* The embedded net/data/collective.csv. */
extern const char net_data_collective_csv[];
extern const size_t net_data_collective_csv_len;

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

/* The parameters a topology was built with (parsed from the embedded table at creation). */
const net_coll_table *net_topology_coll_table(const net_topology *t);

#endif
