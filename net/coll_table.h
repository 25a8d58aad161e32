/* Internal to net/: the collective cost model's parameter table (net/data/collective.csv), read by
 * the topology at creation and by the collective fit (calib/); the formulas that use it are in
 * net/collective_model.h. */
#ifndef NET_COLL_TABLE_H
#define NET_COLL_TABLE_H

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

/* One collective family's fitted parameters in one kind of domain: a fixed launch cost, then the
 * faster of NCCL's two kinds of protocol. The low-latency one (LL: data and flag in one store, no
 * staging): a latency per algorithm step and the fraction of the bottleneck link's bandwidth a
 * step achieves. The bulk one (Simple: data staged through FIFO buffers in device memory, synced
 * per chunk): its own step latency and link fraction, plus a cost per byte of the rank's buffer
 * for the staging copies through device memory. bulk_link_frac 0: no bulk protocol (tables written
 * before it existed). */
typedef struct net_coll_params {
  double base_ns, step_ns, link_frac;
  double bulk_step_ns, bulk_link_frac, copy_ns_per_byte;
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

/* The parameters a topology was built with (parsed from the embedded table at creation). */
const net_coll_table *net_topology_coll_table(const net_topology *t);

#endif
