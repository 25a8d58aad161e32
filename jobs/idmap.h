/* A map from 64-bit ids to pointers: open addressing with linear probing, growing by doubling,
 * deletion by backward shift (no tombstones). An instance finds its live requests by id with it. */
#ifndef JOB_IDMAP_H
#define JOB_IDMAP_H

#include <stdint.h>

typedef struct job_idmap {
  uint64_t *keys; /* id + 1; 0 is an empty slot */
  void **values;
  uint32_t cap, count; /* cap a power of two, or 0 */
} job_idmap;

/* Adds id (not present) -> value. Returns 0, or -1 out of memory (the map is unchanged). */
int job_idmap_put(job_idmap *m, uint64_t id, void *value);
/* The value of id, or NULL. */
void *job_idmap_get(const job_idmap *m, uint64_t id);
/* Removes id, which must be present. */
void job_idmap_remove(job_idmap *m, uint64_t id);
void job_idmap_free(job_idmap *m);

#endif
