/* The placement strategies: each fills unit_partition for a graph on `parts` partitions. */
#include "partitions/strategies.h"

#include <metis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void part_place_block(const part_graph *g, uint32_t parts, uint32_t *unit_partition) {
  double total = 0, before = 0;
  for (uint32_t u = 0; u < g->units; u++)
    total += g->work[u];
  for (uint32_t u = 0; u < g->units; u++) {
    double middle = total > 0 ? (before + g->work[u] / 2) / total : (u + 0.5) / (double)g->units;
    uint32_t p = (uint32_t)(middle * parts);
    unit_partition[u] = p < parts ? p : parts - 1;
    before += g->work[u];
  }
}

typedef struct weighted {
  double work;
  uint32_t id;
} weighted;

static int by_work_descending(const void *a, const void *b) {
  const weighted *x = a, *y = b;
  if (x->work != y->work)
    return x->work < y->work ? 1 : -1;
  return (x->id > y->id) - (x->id < y->id); /* ties in id order: the same placement every run */
}

/* Longest processing time first: whole domains, the heaviest onto the least loaded partition. */
int part_place_topology(const part_graph *g, uint32_t parts, uint32_t *unit_partition) {
  uint32_t domains = 0;
  for (uint32_t u = 0; u < g->units; u++)
    domains = g->domain[u] + 1 > domains ? g->domain[u] + 1 : domains;
  weighted *d = calloc(domains ? domains : 1, sizeof *d);
  double *load = calloc(parts, sizeof *load);
  uint32_t *domain_partition = malloc((domains ? domains : 1) * sizeof *domain_partition);
  if (!d || !load || !domain_partition) {
    free(d), free(load), free(domain_partition);
    return -1;
  }
  for (uint32_t k = 0; k < domains; k++)
    d[k].id = k;
  for (uint32_t u = 0; u < g->units; u++)
    d[g->domain[u]].work += g->work[u];
  qsort(d, domains, sizeof *d, by_work_descending);
  for (uint32_t k = 0; k < domains; k++) {
    uint32_t best = 0;
    for (uint32_t p = 1; p < parts; p++)
      if (load[p] < load[best])
        best = p;
    load[best] += d[k].work;
    domain_partition[d[k].id] = best;
  }
  for (uint32_t u = 0; u < g->units; u++)
    unit_partition[u] = domain_partition[g->domain[u]];
  free(d), free(load), free(domain_partition);
  return 0;
}

static uint32_t find(uint32_t *parent, uint32_t x) {
  while (parent[x] != x)
    x = parent[x] = parent[parent[x]];
  return x;
}

typedef struct edge {
  uint32_t a, b;
  double weight;
} edge;

static int by_ends(const void *x, const void *y) {
  const edge *a = x, *b = y;
  if (a->a != b->a)
    return (a->a > b->a) - (a->a < b->a);
  return (a->b > b->b) - (a->b < b->b);
}

/* METIS k-way on the graph with every channel faster than below_ns contracted (its two units
 * merged, so it is never cut): vertex weights are work, edge weights traffic, both scaled to
 * integers. */
int part_place_metis(const part_graph *g, uint32_t parts, int64_t below_ns,
                     uint32_t *unit_partition, char *err, size_t err_len) {
  uint32_t n = g->units;
  uint32_t *parent = malloc((n ? n : 1) * sizeof *parent);
  uint32_t *vertex = malloc((n ? n : 1) * sizeof *vertex);
  edge *edges = malloc((g->channel_count ? g->channel_count : 1) * sizeof *edges);
  double *work = calloc(n ? n : 1, sizeof *work);
  idx_t *xadj = NULL, *adjncy = NULL, *vwgt = NULL, *adjwgt = NULL, *part = NULL;
  int rc = -1;
  if (!parent || !vertex || !edges || !work)
    goto oom;
  for (uint32_t u = 0; u < n; u++)
    parent[u] = u;
  for (size_t c = 0; c < g->channel_count; c++) {
    const part_channel *ch = &g->channels[c];
    uint32_t a = find(parent, ch->from), b = find(parent, ch->to);
    if (ch->latency_ns < below_ns && a != b)
      parent[a > b ? a : b] = a < b ? a : b;
  }
  idx_t nv = 0;
  for (uint32_t u = 0; u < n; u++)
    if (find(parent, u) == u)
      vertex[u] = (uint32_t)nv++;
  double max_work = 0, max_traffic = 0;
  for (uint32_t u = 0; u < n; u++) {
    vertex[u] = vertex[find(parent, u)];
    work[vertex[u]] += g->work[u];
  }
  for (idx_t v = 0; v < nv; v++)
    max_work = work[v] > max_work ? work[v] : max_work;
  size_t ne = 0;
  for (size_t c = 0; c < g->channel_count; c++) {
    const part_channel *ch = &g->channels[c];
    uint32_t a = vertex[ch->from], b = vertex[ch->to];
    if (a == b)
      continue;
    edges[ne++] = (edge){a < b ? a : b, a < b ? b : a, ch->events_per_s};
  }
  qsort(edges, ne, sizeof *edges, by_ends);
  size_t merged = 0;
  for (size_t i = 0; i < ne; i++) {
    if (merged && edges[merged - 1].a == edges[i].a && edges[merged - 1].b == edges[i].b)
      edges[merged - 1].weight += edges[i].weight;
    else
      edges[merged++] = edges[i];
  }
  for (size_t i = 0; i < merged; i++)
    max_traffic = edges[i].weight > max_traffic ? edges[i].weight : max_traffic;
  if (nv <= (idx_t)parts) { /* nothing to balance: one vertex a partition */
    for (uint32_t u = 0; u < n; u++)
      unit_partition[u] = vertex[u];
    rc = 0;
    goto out;
  }
  xadj = calloc((size_t)nv + 1, sizeof *xadj);
  adjncy = malloc((2 * merged + 1) * sizeof *adjncy);
  adjwgt = malloc((2 * merged + 1) * sizeof *adjwgt);
  vwgt = malloc((size_t)nv * sizeof *vwgt);
  part = malloc((size_t)nv * sizeof *part);
  if (!xadj || !adjncy || !adjwgt || !vwgt || !part)
    goto oom;
  for (size_t i = 0; i < merged; i++)
    xadj[edges[i].a + 1]++, xadj[edges[i].b + 1]++;
  for (idx_t v = 0; v < nv; v++)
    xadj[v + 1] += xadj[v];
  idx_t *fill = part; /* the next free slot of each vertex's list, reusing part for a moment */
  memcpy(fill, xadj, (size_t)nv * sizeof *fill);
  for (size_t i = 0; i < merged; i++) {
    /* Integer weights: work to 1..10^6, traffic to 1..10^4 (METIS sums them in idx_t). */
    idx_t w = (idx_t)(max_traffic > 0 ? 1 + 1e4 * edges[i].weight / max_traffic : 1);
    adjncy[fill[edges[i].a]] = (idx_t)edges[i].b, adjwgt[fill[edges[i].a]++] = w;
    adjncy[fill[edges[i].b]] = (idx_t)edges[i].a, adjwgt[fill[edges[i].b]++] = w;
  }
  for (idx_t v = 0; v < nv; v++)
    vwgt[v] = (idx_t)(max_work > 0 ? 1 + 1e6 * work[v] / max_work : 1);
  idx_t ncon = 1, nparts = (idx_t)parts, objval, options[METIS_NOPTIONS];
  METIS_SetDefaultOptions(options);
  options[METIS_OPTION_SEED] = 1;
  int status = METIS_PartGraphKway(&nv, &ncon, xadj, adjncy, vwgt, NULL, adjwgt, &nparts, NULL,
                                   NULL, options, &objval, part);
  if (status != METIS_OK) {
    snprintf(err, err_len, "METIS could not partition %d units into %u parts (status %d)", (int)nv,
             parts, status);
    goto out;
  }
  for (uint32_t u = 0; u < n; u++)
    unit_partition[u] = (uint32_t)part[vertex[u]];
  rc = 0;
  goto out;
oom:
  snprintf(err, err_len, "out of memory partitioning %u units", n);
out:
  free(parent), free(vertex), free(edges), free(work);
  free(xadj), free(adjncy), free(vwgt), free(adjwgt), free(part);
  return rc;
}
