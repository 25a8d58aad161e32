/* Growable arrays. */
#include "util/array.h"

#include <stdint.h>
#include <stdlib.h>

void *util_grow(void *items, size_t *cap, size_t need, size_t item_bytes) {
  if (need <= *cap && items)
    return items;
  size_t grown = *cap ? *cap : 16;
  while (grown < need) {
    if (grown > SIZE_MAX / 2)
      return NULL;
    grown *= 2;
  }
  if (item_bytes && grown > SIZE_MAX / item_bytes)
    return NULL;
  void *p = realloc(items, grown * item_bytes);
  if (!p)
    return NULL;
  *cap = grown;
  return p;
}
