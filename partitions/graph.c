/* The graph of units and channels that a model hands to the placement. */
#include "partitions/part.h"

#include <stdlib.h>

#include "util/array.h"

int part_graph_init(part_graph *g, uint32_t units) {
  *g = (part_graph){.units = units};
  g->work = calloc(units ? units : 1, sizeof *g->work);
  g->domain = malloc((units ? units : 1) * sizeof *g->domain);
  if (!g->work || !g->domain) {
    part_graph_free(g);
    return -1;
  }
  for (uint32_t u = 0; u < units; u++)
    g->domain[u] = u;
  return 0;
}

int part_graph_add_channel(part_graph *g, uint32_t from, uint32_t to, int64_t latency_ns,
                           double events_per_s, const char *name) {
  if (g->channel_count == g->channel_cap) {
    part_channel *grown = util_grow(g->channels, &g->channel_cap, g->channel_count + 1,
                                    sizeof *grown);
    if (!grown)
      return -1;
    g->channels = grown;
  }
  g->channels[g->channel_count++] = (part_channel){from, to, latency_ns, events_per_s, name};
  return 0;
}

void part_graph_free(part_graph *g) {
  free(g->work);
  free(g->domain);
  free(g->channels);
  *g = (part_graph){0};
}
