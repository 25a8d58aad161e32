/* util/idmap: every id put is found until removed, through growth and backward-shift deletion,
 * against a plain array as the reference. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "util/idmap.h"

static void test_ids_are_found_until_removed_through_growth_and_deletion(void) {
  enum { IDS = 5000 };
  static int values[IDS];
  static bool present[IDS];
  util_idmap m = {0};
  uint64_t state = 7;
  for (int step = 0; step < 40000; step++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    uint32_t id = (uint32_t)(state >> 33) % IDS;
    if (present[id]) {
      CU_ASSERT_PTR_EQUAL(util_idmap_get(&m, id), &values[id]);
      util_idmap_remove(&m, id);
      present[id] = false;
    } else {
      CU_ASSERT_PTR_NULL(util_idmap_get(&m, id));
      CU_ASSERT_EQUAL_FATAL(util_idmap_put(&m, id, &values[id]), 0);
      present[id] = true;
    }
  }
  uint32_t count = 0;
  for (uint32_t id = 0; id < IDS; id++) {
    count += present[id];
    CU_ASSERT_PTR_EQUAL(util_idmap_get(&m, id), present[id] ? &values[id] : NULL);
  }
  CU_ASSERT_EQUAL(m.count, count);
  CU_ASSERT(2 * m.count <= m.cap); /* at most half full */
  util_idmap_free(&m);
  CU_ASSERT_PTR_NULL(util_idmap_get(&m, 1));
}

int main(void) {
  static const harness_test tests[] = {
      {"ids are found until removed, through growth and deletion",
       test_ids_are_found_until_removed_through_growth_and_deletion},
      {NULL, NULL}};
  return harness_run("idmap", tests, NULL, true);
}
