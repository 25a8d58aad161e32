/* An instance's energy: what its devices drew since the last account, at their current power, into
 * its nodes' interval bins (written only by the partition that owns the node). */
#include <assert.h>

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

double srv_account_energy_run(srv_model *m, srv_instance *in, const srv_leap_step *steps,
                              uint32_t n, double *joules, int *rc) {
  assert(n >= 1 && n <= SRV_LEAP_MAX);
  const srv_cluster *c = &m->cluster;
  int64_t interval_ns = m->s->power.interval_ns;
  int64_t ends[SRV_LEAP_MAX], nj[SRV_LEAP_MAX]; /* nj: W x ns, each stretch whole */
  for (uint32_t j = 0; j < n; j++) {
    joules[j] = 0;
    ends[j] = steps[j].end_ns;
  }
  for (uint32_t k = c->accel_offsets[in->index]; k < c->accel_offsets[in->index + 1];) {
    uint32_t devices, node = next_node(c, in, &k, &devices);
    util_timebins *bins = &m->node_acc[node].energy;
    double node_w[SRV_LEAP_MAX];
    for (uint32_t j = 0; j < n; j++)
      node_w[j] = (j ? steps[j].power_w : in->device_w) * devices;
    /* Stretches binned in part already (up to binned_ns, by the power rows' writer): measured
     * whole, binned from binned_ns. The rest in one run. */
    uint32_t j = 0;
    int64_t since = in->power_since_ns;
    for (; j < n && in->binned_ns > since; since = ends[j++])
      if (util_timebins_measure(interval_ns, since, ends[j], node_w[j], &nj[j]) != 0 ||
          util_timebins_add(bins, interval_ns, in->binned_ns, ends[j], node_w[j], NULL) != 0)
        *rc = -1;
    if (util_timebins_add_run(bins, interval_ns, since, ends + j, node_w + j, n - j, nj + j) != 0)
      *rc = -1;
    for (j = 0; j < n; j++)
      joules[j] += (double)nj[j] * 1e-9;
  }
  for (uint32_t j = 0; j < n; j++)
    in->energy_j += joules[j];
  int64_t until_ns = steps[n - 1].end_ns;
  in->power_since_ns = until_ns;
  in->binned_ns = until_ns > in->binned_ns ? until_ns : in->binned_ns;
  int64_t *accounted = &m->appended[in->thread].energy_ns;
  *accounted = until_ns > *accounted ? until_ns : *accounted;
  return joules[n - 1];
}

double srv_account_energy(srv_model *m, srv_instance *in, int64_t until_ns, int *rc) {
  double joules;
  return srv_account_energy_run(m, in, &(srv_leap_step){until_ns, in->device_w}, 1, &joules, rc);
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

void srv_account_host_cpu(srv_model *m, const srv_instance *in, int64_t nj) {
  const srv_cluster *c = &m->cluster;
  for (uint32_t k = c->accel_offsets[in->index]; nj && k < c->accel_offsets[in->index + 1];) {
    uint32_t devices, node = next_node(c, in, &k, &devices);
    m->node_acc[node].host_cpu_nj += nj * devices;
  }
}
