/* Placement of LPs on partitions (rank x thread) and of threads on cores. */
#ifndef PART_H
#define PART_H

#include <stddef.h>
#include <stdint.h>

/* Contiguous blocks: LP i goes to partition floor(i * partitions / lp_count). Writes lp_count
 * entries. */
void part_block(uint32_t lp_count, uint32_t partitions, uint32_t *lp_partition);

/* Contiguous runs of about equal weight: unit u goes to the partition holding the middle of its
 * weight on the line of all units' weights in order. Writes units entries. */
void part_weighted(const double *weights, uint32_t units, uint32_t partitions,
                   uint32_t *unit_partition);

/* Binds the calling thread to the thread-th core of the cores this process may use, when there are
 * at least `threads` of them; otherwise leaves it unbound. Returns 1 if bound, 0 if not, -1 on
 * error. */
int part_bind_thread(int thread, int threads);

#endif
