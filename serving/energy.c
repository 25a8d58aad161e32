/* An instance's energy: what its devices drew since the last account, at their current power, into
 * its nodes' interval bins (written only by the partition that owns the node). */
#include <math.h>

#include "serving/model.h"

/* The node of the instance's accelerator *k (they are grouped by node) and how many of the
 * instance's accelerators it holds; advances *k past them. */
static uint32_t next_node(const srv_cluster *c, const srv_instance *in, uint32_t *k,
                          uint32_t *devices) {
  uint32_t end = c->accel_offsets[in->index + 1], node = c->accel_node[c->accel_ids[*k]];
  for (*devices = 0; *k < end && c->accel_node[c->accel_ids[*k]] == node; (*k)++)
    (*devices)++;
  return node;
}

double srv_account_energy(srv_model *m, srv_instance *in, int64_t until_ns, int *rc) {
  const srv_cluster *c = &m->cluster;
  int64_t interval_ns = m->s->power.interval_ns;
  double joules = 0;
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t devices, node = next_node(c, in, &k, &devices);
    util_timebins *bins = &m->node_acc[node].energy;
    double node_w = in->device_w * devices;
    int64_t nj; /* W x ns: the whole stretch, binned in part already or not */
    if (in->binned_ns <= in->power_since_ns
            ? util_timebins_add(bins, interval_ns, in->power_since_ns, until_ns, node_w, &nj) != 0
            : util_timebins_measure(interval_ns, in->power_since_ns, until_ns, node_w, &nj) != 0 ||
                  util_timebins_add(bins, interval_ns, in->binned_ns, until_ns, node_w, NULL) != 0)
      *rc = -1;
    joules += (double)nj * 1e-9;
  }
  in->energy_j += joules;
  in->power_since_ns = until_ns;
  in->binned_ns = until_ns > in->binned_ns ? until_ns : in->binned_ns;
  int64_t *accounted = &m->appended[in->thread].energy_ns;
  *accounted = until_ns > *accounted ? until_ns : *accounted;
  return joules;
}

int srv_bin_energy(srv_model *m, srv_instance *in, int64_t until_ns, int64_t *node_binned_ns) {
  const srv_cluster *c = &m->cluster;
  int64_t from_ns = in->binned_ns > in->power_since_ns ? in->binned_ns : in->power_since_ns;
  int rc = 0;
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t devices, node = next_node(c, in, &k, &devices);
    if (until_ns > from_ns &&
        util_timebins_add(&m->node_acc[node].energy, m->s->power.interval_ns, from_ns, until_ns,
                          in->device_w * devices, NULL) != 0)
      rc = -1;
    int64_t binned_ns = until_ns > from_ns ? until_ns : in->binned_ns;
    node_binned_ns[node] = binned_ns < node_binned_ns[node] ? binned_ns : node_binned_ns[node];
  }
  in->binned_ns = until_ns > from_ns ? until_ns : in->binned_ns;
  return rc;
}

void srv_account_host_cpu(srv_model *m, const srv_instance *in, int64_t start_ns, int64_t end_ns) {
  const srv_cluster *c = &m->cluster;
  if (!(in->host_cpu_w > 0.0) || end_ns <= start_ns)
    return;
  /* whole nanojoules per device, so that the sum is the same in any order */
  int64_t nj = llround(in->host_cpu_w * (double)(end_ns - start_ns));
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t devices, node = next_node(c, in, &k, &devices);
    m->node_acc[node].host_cpu_nj += nj * devices;
  }
}
