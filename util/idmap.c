/* The id map: linear probing over a power-of-two table, kept at most half full. */
#include "util/idmap.h"

#include <assert.h>
#include <stdlib.h>

static uint32_t home_slot(const util_idmap *m, uint64_t key) {
  uint64_t h = key * 0x9e3779b97f4a7c15ull;
  return (uint32_t)(h >> 32) & (m->cap - 1);
}

static void insert(util_idmap *m, uint64_t key, void *value) {
  uint32_t i = home_slot(m, key);
  while (m->keys[i])
    i = (i + 1) & (m->cap - 1);
  m->keys[i] = key;
  m->values[i] = value;
}

int util_idmap_put(util_idmap *m, uint64_t id, void *value) {
  if (2 * (m->count + 1) > m->cap) {
    util_idmap grown = {.cap = m->cap ? 2 * m->cap : 64, .count = m->count};
    grown.keys = calloc(grown.cap, sizeof *grown.keys);
    grown.values = malloc(grown.cap * sizeof *grown.values);
    if (!grown.keys || !grown.values) {
      free(grown.keys);
      free(grown.values);
      return -1;
    }
    for (uint32_t i = 0; i < m->cap; i++)
      if (m->keys[i])
        insert(&grown, m->keys[i], m->values[i]);
    util_idmap_free(m);
    *m = grown;
  }
  insert(m, id + 1, value);
  m->count++;
  return 0;
}

void *util_idmap_get(const util_idmap *m, uint64_t id) {
  uint64_t key = id + 1;
  if (!m->cap)
    return NULL;
  for (uint32_t i = home_slot(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
    if (m->keys[i] == key)
      return m->values[i];
  return NULL;
}

/* Later entries of the probe run move back into the hole, so lookups never stop early. */
void util_idmap_remove(util_idmap *m, uint64_t id) {
  uint64_t key = id + 1;
  uint32_t mask = m->cap - 1, i = home_slot(m, key);
  while (m->keys[i] != key) {
    assert(m->keys[i]);
    i = (i + 1) & mask;
  }
  for (uint32_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
    uint32_t home = home_slot(m, m->keys[j]);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->keys[i] = m->keys[j];
      m->values[i] = m->values[j];
      i = j;
    }
  }
  m->keys[i] = 0;
  m->count--;
}

void util_idmap_free(util_idmap *m) {
  free(m->keys);
  free(m->values);
  *m = (util_idmap){0};
}
