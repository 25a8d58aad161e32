#include "pack.h"

#include <stdlib.h>
#include <string.h>

void core_pack_bytes(core_pack *p, const void *src, size_t n) {
  if (p->failed || n == 0)
    return;
  if (n > p->cap - p->len) {
    size_t cap = p->cap ? p->cap : 256;
    while (cap - p->len < n) {
      if (cap > SIZE_MAX / 2) {
        p->failed = true;
        return;
      }
      cap *= 2;
    }
    unsigned char *data = realloc(p->data, cap);
    if (!data) {
      p->failed = true;
      return;
    }
    p->data = data;
    p->cap = cap;
  }
  memcpy(p->data + p->len, src, n);
  p->len += n;
}

void core_pack_array(core_pack *p, const void *src, size_t count, size_t elem) {
  uint64_t n = count;
  CORE_PACK(p, n);
  if (count && elem > SIZE_MAX / count)
    p->failed = true;
  else
    core_pack_bytes(p, src, count * elem);
}

void core_pack_free(core_pack *p) {
  free(p->data);
  *p = (core_pack){0};
}

const void *core_unpack_skip(core_unpack *u, size_t n) {
  if (u->failed || n > u->len - u->pos) {
    u->failed = true;
    return NULL;
  }
  const void *at = u->data + u->pos;
  u->pos += n;
  return at;
}

void core_unpack_bytes(core_unpack *u, void *dst, size_t n) {
  const void *src = core_unpack_skip(u, n);
  if (src)
    memcpy(dst, src, n);
  else
    memset(dst, 0, n);
}

/* The length of the next array, if it is at most max and its bytes are there. */
static size_t array_length(core_unpack *u, size_t elem, size_t max) {
  uint64_t n = 0;
  CORE_UNPACK(u, n);
  if (u->failed || n > max || (elem && n > (u->len - u->pos) / elem)) {
    u->failed = true;
    return 0;
  }
  return (size_t)n;
}

void *core_unpack_array(core_unpack *u, size_t elem, size_t max, size_t *count) {
  size_t n = array_length(u, elem, max);
  *count = 0;
  if (u->failed || n == 0)
    return NULL;
  void *dst = malloc(n * elem);
  if (!dst) {
    u->failed = true;
    return NULL;
  }
  core_unpack_bytes(u, dst, n * elem);
  *count = n;
  return dst;
}

void core_unpack_array_into(core_unpack *u, void *dst, size_t elem, size_t cap, size_t *count) {
  size_t n = array_length(u, elem, cap);
  core_unpack_bytes(u, dst, n * elem);
  *count = u->failed ? 0 : n;
}
