/* Growable arrays: one routine for the grow-by-doubling that every table of the program needs. */
#ifndef UTIL_ARRAY_H
#define UTIL_ARRAY_H

#include <stddef.h>

/* Returns items (an array of *cap elements of item_bytes, or NULL with *cap 0) reallocated to hold
 * at least `need` elements, its capacity doubled from 16 as often as needed and stored in *cap;
 * items itself when it is already large enough; NULL out of memory, with items and *cap untouched
 * (the caller still owns items). The idiom:
 *     if (n == cap && !(grown = util_grow(rows, &cap, n + 1, sizeof *rows))) return -1;
 *     rows = grown; */
void *util_grow(void *items, size_t *cap, size_t need, size_t item_bytes);

#endif
