/* Compares the content of two serving timelines, each table sorted by its key: exit 0 when every
 * row of every table but /engine is identical, else 1 with the first difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serving/schema.h"

static void *read_sorted(const char *path, const io_table_def *def, uint64_t *n) {
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
  srv_sort_rows(def, rows, *n);
  return rows;
}

static int compare(const char *a, const char *b, const io_table_def *def) {
  uint64_t na, nb;
  unsigned char *ra = read_sorted(a, def, &na), *rb = read_sorted(b, def, &nb);
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
  const io_table_def *const tables[] = {
      &srv_requests_table,  &srv_iterations_table, &srv_instances_table, &srv_transfers_table,
      &srv_nodes_table,     &srv_power_table,      &srv_links_table,     &srv_link_util_table,
      &srv_intervals_table, &srv_lifecycle_table};
  int differ = 0;
  for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
    differ |= compare(argv[1], argv[2], tables[t]);
  if (!differ)
    printf("identical: %s %s\n", argv[1], argv[2]);
  return differ;
}
