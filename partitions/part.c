/* Block placement and hwloc thread binding. */
#include "part.h"

#include <hwloc.h>

void part_block(uint32_t lp_count, uint32_t partitions, uint32_t *lp_partition) {
  for (uint32_t i = 0; i < lp_count; i++)
    lp_partition[i] = (uint32_t)((uint64_t)i * partitions / lp_count);
}

void part_weighted(const double *weights, uint32_t units, uint32_t partitions,
                   uint32_t *unit_partition) {
  double total = 0, before = 0;
  for (uint32_t u = 0; u < units; u++)
    total += weights[u];
  for (uint32_t u = 0; u < units; u++) {
    double middle = total > 0 ? (before + weights[u] / 2) / total : (u + 0.5) / units;
    uint32_t p = (uint32_t)(middle * partitions);
    unit_partition[u] = p < partitions ? p : partitions - 1;
    before += weights[u];
  }
}

int part_bind_thread(int thread, int threads) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0)
    return -1;
  int rc = -1;
  hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
  if (hwloc_topology_load(topo) != 0 || !allowed ||
      hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS) != 0)
    goto done;
  int cores = hwloc_get_nbobjs_inside_cpuset_by_type(topo, allowed, HWLOC_OBJ_CORE);
  rc = 0;
  if (cores < threads)
    goto done;
  hwloc_obj_t core = hwloc_get_obj_inside_cpuset_by_type(topo, allowed, HWLOC_OBJ_CORE, thread);
  if (core && hwloc_set_cpubind(topo, core->cpuset, HWLOC_CPUBIND_THREAD) == 0)
    rc = 1;
done:
  hwloc_bitmap_free(allowed);
  hwloc_topology_destroy(topo);
  return rc;
}
