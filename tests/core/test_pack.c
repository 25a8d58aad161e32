/* core/pack: what is packed unpacks to the same values; a short or damaged buffer fails without
 * reading past its end; arrays over their limit are refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pack.h"
#include "harness.h"

static void test_values_and_arrays_round_trip(void) {
  core_pack p = {0};
  int64_t t = -123456789012345;
  double w = 0.1;
  uint32_t xs[1000];
  for (uint32_t i = 0; i < 1000; i++)
    xs[i] = i * 2654435761u;
  CORE_PACK(&p, t);
  core_pack_array(&p, xs, 1000, sizeof *xs);
  CORE_PACK(&p, w);
  core_pack_array(&p, NULL, 0, sizeof *xs);
  CU_ASSERT_FALSE_FATAL(p.failed);

  core_unpack u = core_unpack_of(p.data, p.len);
  int64_t t2;
  double w2;
  size_t n, n_empty = 9;
  CORE_UNPACK(&u, t2);
  uint32_t *ys = core_unpack_array(&u, sizeof *ys, 1000, &n);
  CORE_UNPACK(&u, w2);
  void *empty = core_unpack_array(&u, sizeof *ys, 10, &n_empty);
  CU_ASSERT_TRUE(core_unpack_done(&u));
  CU_ASSERT_EQUAL(t2, t);
  CU_ASSERT_EQUAL(w2, w);
  CU_ASSERT_EQUAL_FATAL(n, 1000);
  CU_ASSERT_EQUAL(memcmp(xs, ys, sizeof xs), 0);
  CU_ASSERT_PTR_NULL(empty);
  CU_ASSERT_EQUAL(n_empty, 0);
  free(ys);

  /* Into a caller's array, and over its limit. */
  u = core_unpack_of(p.data, p.len);
  CORE_UNPACK(&u, t2);
  uint32_t into[1000];
  core_unpack_array_into(&u, into, sizeof *into, 1000, &n);
  CU_ASSERT_EQUAL(n, 1000);
  CU_ASSERT_FALSE(u.failed);
  u = core_unpack_of(p.data, p.len);
  CORE_UNPACK(&u, t2);
  CU_ASSERT_PTR_NULL(core_unpack_array(&u, sizeof *ys, 999, &n));
  CU_ASSERT_TRUE(u.failed);
  core_pack_free(&p);
}

static void test_truncated_buffers_fail_at_every_length(void) {
  core_pack p = {0};
  uint64_t v = 42;
  uint16_t xs[5] = {1, 2, 3, 4, 5};
  CORE_PACK(&p, v);
  core_pack_array(&p, xs, 5, sizeof *xs);
  for (size_t len = 0; len < p.len; len++) {
    core_unpack u = core_unpack_of(p.data, len);
    uint64_t got;
    size_t n;
    CORE_UNPACK(&u, got);
    void *a = core_unpack_array(&u, sizeof *xs, 5, &n);
    CU_ASSERT_TRUE(u.failed);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_TRUE(u.pos <= len);
  }
  /* A length field claiming more elements than the bytes left. */
  uint64_t huge = UINT64_MAX / 2;
  memcpy(p.data + sizeof v, &huge, sizeof huge);
  core_unpack u = core_unpack_of(p.data, p.len);
  uint64_t got;
  size_t n;
  CORE_UNPACK(&u, got);
  CU_ASSERT_PTR_NULL(core_unpack_array(&u, sizeof *xs, SIZE_MAX, &n));
  CU_ASSERT_TRUE(u.failed);
  core_pack_free(&p);
}

int main(void) {
  static const harness_test tests[] = {
      {"values and arrays round trip", test_values_and_arrays_round_trip},
      {"truncated buffers fail at every length", test_truncated_buffers_fail_at_every_length},
      {NULL, NULL}};
  return harness_run("pack", tests, NULL, true);
}
