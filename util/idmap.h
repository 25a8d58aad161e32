/* A map from 64-bit ids to pointers: open addressing with linear probing, growing by doubling,
 * deletion by backward shift (no tombstones). An instance finds its live requests by id with it. */
#ifndef UTIL_IDMAP_H
#define UTIL_IDMAP_H

#include <stdint.h>

typedef struct util_idmap {
  uint64_t *keys; /* id + 1; 0 is an empty slot */
  void **values;
  uint32_t cap, count; /* cap a power of two, or 0 */
} util_idmap;

/* Adds id (not present) -> value. Returns 0, or -1 out of memory (the map is unchanged). */
int util_idmap_put(util_idmap *m, uint64_t id, void *value);
/* The value of id, or NULL. */
void *util_idmap_get(const util_idmap *m, uint64_t id);
/* Removes id, which must be present. */
void util_idmap_remove(util_idmap *m, uint64_t id);
void util_idmap_free(util_idmap *m);

#endif
