/* Threads on cores (hwloc), and PHOLD's block placement. */
#include "partitions/part.h"

#include <hwloc.h>

void part_block(uint32_t lp_count, uint32_t partitions, uint32_t *lp_partition) {
  for (uint32_t i = 0; i < lp_count; i++)
    lp_partition[i] = (uint32_t)((uint64_t)i * partitions / lp_count);
}

/* The cores inside the process's binding, or -1. */
static int allowed_cores(hwloc_topology_t topo, hwloc_bitmap_t allowed) {
  if (hwloc_topology_load(topo) != 0 ||
      hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS) != 0)
    return -1;
  return hwloc_get_nbobjs_inside_cpuset_by_type(topo, allowed, HWLOC_OBJ_CORE);
}

int part_cores(void) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0)
    return 1;
  hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
  int cores = allowed ? allowed_cores(topo, allowed) : -1;
  hwloc_bitmap_free(allowed);
  hwloc_topology_destroy(topo);
  return cores > 0 ? cores : 1;
}

int part_bind_thread(int thread, int threads) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0)
    return -1;
  int rc = -1;
  hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
  int cores = allowed ? allowed_cores(topo, allowed) : -1;
  if (cores >= 0)
    rc = 0;
  if (cores >= threads) {
    hwloc_obj_t core = hwloc_get_obj_inside_cpuset_by_type(topo, allowed, HWLOC_OBJ_CORE, thread);
    if (core && hwloc_set_cpubind(topo, core->cpuset, HWLOC_CPUBIND_THREAD) == 0)
      rc = 1;
  }
  hwloc_bitmap_free(allowed);
  hwloc_topology_destroy(topo);
  return rc;
}
