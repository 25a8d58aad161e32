/* Internal to partitions/: the strategies, each filling unit_partition[units] with partitions
 * 0..parts-1 (plan.c evaluates what they give). */
#ifndef PART_STRATEGIES_H
#define PART_STRATEGIES_H

#include "partitions/part.h"

void part_place_block(const part_graph *g, uint32_t parts, uint32_t *unit_partition);
/* Returns 0, or -1 out of memory. */
int part_place_topology(const part_graph *g, uint32_t parts, uint32_t *unit_partition);
/* Channels faster than below_ns are never cut. Returns 0, or -1 with a message. */
int part_place_metis(const part_graph *g, uint32_t parts, int64_t below_ns,
                     uint32_t *unit_partition, char *err, size_t err_len);

#endif
