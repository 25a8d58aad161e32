/* Compares the content of two serving timelines, each table sorted by its key: exit 0 when every
 * row of every table but /engine is identical, else 1 with the first difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/schema.h"

static int cmp_request(const void *a, const void *b) {
  int64_t x = ((const srv_request_row *)a)->id, y = ((const srv_request_row *)b)->id;
  return (x > y) - (x < y);
}

static int cmp_iteration(const void *a, const void *b) {
  const srv_iteration_row *x = a, *y = b;
  if (x->instance != y->instance)
    return (x->instance > y->instance) - (x->instance < y->instance);
  return (x->index > y->index) - (x->index < y->index);
}

static int cmp_instance(const void *a, const void *b) {
  uint32_t x = ((const srv_instance_row *)a)->instance, y = ((const srv_instance_row *)b)->instance;
  return (x > y) - (x < y);
}

static int cmp_transfer(const void *a, const void *b) {
  int64_t x = ((const srv_transfer_row *)a)->id, y = ((const srv_transfer_row *)b)->id;
  return (x > y) - (x < y);
}

static int cmp_node(const void *a, const void *b) {
  uint32_t x = ((const srv_node_row *)a)->node, y = ((const srv_node_row *)b)->node;
  return (x > y) - (x < y);
}

static int cmp_power(const void *a, const void *b) {
  const srv_power_row *x = a, *y = b;
  if (x->node != y->node)
    return (x->node > y->node) - (x->node < y->node);
  return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int cmp_link(const void *a, const void *b) {
  uint32_t x = ((const srv_link_row *)a)->link, y = ((const srv_link_row *)b)->link;
  return (x > y) - (x < y);
}

static int cmp_link_util(const void *a, const void *b) {
  const srv_link_util_row *x = a, *y = b;
  if (x->link != y->link)
    return (x->link > y->link) - (x->link < y->link);
  return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int cmp_interval(const void *a, const void *b) {
  const srv_interval_row *x = a, *y = b;
  if (x->instance != y->instance)
    return (x->instance > y->instance) - (x->instance < y->instance);
  return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static void *read_sorted(const char *path, const io_table_def *def,
                         int (*cmp)(const void *, const void *), uint64_t *n) {
  char err[512];
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  void *rows = NULL;
  if (r && io_timeline_reader_rows(r, def->name, n, err, sizeof err) == 0) {
    rows = calloc(*n + 1, def->row_bytes);
    if (rows && io_timeline_reader_read(r, def, 0, *n, rows, err, sizeof err) != 0) {
      free(rows);
      rows = NULL;
    }
  }
  io_timeline_reader_close(r);
  if (!rows) {
    fprintf(stderr, "compare: %s\n", err);
    exit(2);
  }
  qsort(rows, *n, def->row_bytes, cmp);
  return rows;
}

static int compare(const char *a, const char *b, const io_table_def *def,
                   int (*cmp)(const void *, const void *)) {
  uint64_t na, nb;
  unsigned char *ra = read_sorted(a, def, cmp, &na), *rb = read_sorted(b, def, cmp, &nb);
  int differ = na != nb;
  if (differ)
    fprintf(stderr, "/%s: %llu rows in %s, %llu in %s\n", def->name, (unsigned long long)na, a,
            (unsigned long long)nb, b);
  for (uint64_t i = 0; !differ && i < na; i++)
    if (memcmp(ra + i * def->row_bytes, rb + i * def->row_bytes, def->row_bytes) != 0) {
      fprintf(stderr, "/%s: sorted row %llu differs\n", def->name, (unsigned long long)i);
      differ = 1;
    }
  free(ra);
  free(rb);
  return differ;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: compare_timelines A.h5 B.h5\n");
    return 2;
  }
  int differ = compare(argv[1], argv[2], &srv_requests_table, cmp_request);
  differ |= compare(argv[1], argv[2], &srv_iterations_table, cmp_iteration);
  differ |= compare(argv[1], argv[2], &srv_instances_table, cmp_instance);
  differ |= compare(argv[1], argv[2], &srv_transfers_table, cmp_transfer);
  differ |= compare(argv[1], argv[2], &srv_nodes_table, cmp_node);
  differ |= compare(argv[1], argv[2], &srv_power_table, cmp_power);
  differ |= compare(argv[1], argv[2], &srv_links_table, cmp_link);
  differ |= compare(argv[1], argv[2], &srv_link_util_table, cmp_link_util);
  differ |= compare(argv[1], argv[2], &srv_intervals_table, cmp_interval);
  if (!differ)
    printf("identical: %s %s\n", argv[1], argv[2]);
  return differ;
}
