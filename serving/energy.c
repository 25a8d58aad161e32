/* An instance's energy: what its devices drew since the last account, at their current power, into
 * its nodes' interval bins (written only by the partition that owns the node). */
#include "serving/model.h"

/* Adds what the instance's devices drew since power_since_ns, at device_w each, to their nodes,
 * and returns it. */
double srv_account_energy(srv_model *m, srv_instance *in, int64_t until_ns, int *rc) {
  const srv_cluster *c = &m->cluster;
  double joules = 0;
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t node = c->accel_node[c->accel_ids[k]], devices = 0;
    for (; k < c->accel_offsets[in->index + 1] && c->accel_node[c->accel_ids[k]] == node; k++)
      devices++;
    int64_t nj; /* W x ns */
    if (util_timebins_add(&m->node_energy[node], m->s->power.interval_ns, in->power_since_ns,
                          until_ns, in->device_w * devices, &nj) != 0)
      *rc = -1;
    joules += (double)nj * 1e-9;
  }
  in->energy_j += joules;
  in->power_since_ns = until_ns;
  return joules;
}
