/* Packing state into bytes and back: what a checkpoint is made of. A pack is a growable byte
 * buffer written in native byte order (a checkpoint is read back by the same build on the same
 * kind of machine); an unpack reads one back with bounds checks. Both fail stickily: after the
 * first error (out of memory, a read past the end, an array longer than its limit) every call does
 * nothing, reads give zeros, and the caller checks `failed` once at the end. */
#ifndef CORE_PACK_H
#define CORE_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct core_pack {
  unsigned char *data;
  size_t len, cap;
  bool failed; /* out of memory */
} core_pack;

void core_pack_bytes(core_pack *p, const void *src, size_t n);
/* count (as a uint64) then count x elem bytes of src (src may be NULL when count is 0). */
void core_pack_array(core_pack *p, const void *src, size_t count, size_t elem);
void core_pack_free(core_pack *p);

/* A plain value (an integer, a double, a struct without pointers): PACK(p, in->iterations). */
#define CORE_PACK(p, value) core_pack_bytes((p), &(value), sizeof(value))

typedef struct core_unpack {
  const unsigned char *data;
  size_t len, pos;
  bool failed; /* a read past the end, or an array over its limit or out of memory */
} core_unpack;

static inline core_unpack core_unpack_of(const void *data, size_t len) {
  return (core_unpack){.data = data, .len = len};
}
/* Copies n bytes to dst (zeros once failed). */
void core_unpack_bytes(core_unpack *u, void *dst, size_t n);
/* An array written by core_pack_array, of at most max elements: malloc'd (NULL when empty, or on
 * failure), its length in *count. */
void *core_unpack_array(core_unpack *u, size_t elem, size_t max, size_t *count);
/* The same into dst, which holds cap elements; the length in *count (0 on failure). */
void core_unpack_array_into(core_unpack *u, void *dst, size_t elem, size_t cap, size_t *count);
/* The next n bytes in place (NULL once failed): for a nested record the caller unpacks itself. */
const void *core_unpack_skip(core_unpack *u, size_t n);
/* Whether every byte was read and nothing failed. */
static inline bool core_unpack_done(const core_unpack *u) { return !u->failed && u->pos == u->len; }

#define CORE_UNPACK(u, value) core_unpack_bytes((u), &(value), sizeof(value))

#endif
